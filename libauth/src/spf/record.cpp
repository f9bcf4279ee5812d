// SPF record parsing (RFC 7208 §4.5, §4.6, §5, §6, §12).
#include "auth/spf/record.h"

#include <cstdio>

#include "auth/net/ip.h"
#include "auth/spf/macro.h"
#include "spf/spf_internal.h"

namespace auth::spf {

namespace internal {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool is_toplabel(std::string_view label) noexcept {
  if (label.empty()) return false;
  bool has_alpha = false;
  bool has_hyphen = false;
  for (char c : label) {
    if (is_alpha(c)) {
      has_alpha = true;
    } else if (c == '-') {
      has_hyphen = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  if (!has_hyphen) return has_alpha;
  // 1*alphanum "-" *( alphanum / "-" ) alphanum
  return label.front() != '-' && label.back() != '-';
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  std::size_t n = s.size() < max ? s.size() : max;
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace internal

using internal::iequals;
using internal::is_alnum;
using internal::is_alpha;
using internal::is_digit;
using internal::printable;

const char* to_string(MechanismKind kind) noexcept {
  switch (kind) {
    case MechanismKind::All: return "all";
    case MechanismKind::Include: return "include";
    case MechanismKind::A: return "a";
    case MechanismKind::Mx: return "mx";
    case MechanismKind::Ptr: return "ptr";
    case MechanismKind::Ip4: return "ip4";
    case MechanismKind::Ip6: return "ip6";
    case MechanismKind::Exists: return "exists";
  }
  return "?";
}

bool Mechanism::queries_dns() const noexcept {
  switch (kind) {
    case MechanismKind::Include:
    case MechanismKind::A:
    case MechanismKind::Mx:
    case MechanismKind::Ptr:
    case MechanismKind::Exists:
      return true;
    case MechanismKind::All:
    case MechanismKind::Ip4:
    case MechanismKind::Ip6:
      return false;
  }
  return false;
}

bool is_spf_record(std::string_view txt) noexcept {
  // RFC 7208 §4.5: "v=spf1" exactly, then SP or the end (so "v=spf10" is not SPF).
  constexpr std::string_view kVersion = "v=spf1";
  if (txt.size() < kVersion.size()) return false;
  if (!iequals(txt.substr(0, kVersion.size()), kVersion)) return false;
  return txt.size() == kVersion.size() || txt[kVersion.size()] == ' ';
}

namespace {

// The last token of a macro-string is a macro-expand (§7.1), given that the string already
// passed check_macro_string(). Scans left to right so "%%}" and "%{d}" are told apart.
bool ends_with_macro_expand(std::string_view s) noexcept {
  bool last_is_macro = false;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '%' && i + 1 < s.size()) {
      if (s[i + 1] == '{') {
        std::size_t close = s.find('}', i + 2);
        if (close == std::string_view::npos) return false;
        i = close + 1;
      } else {
        i += 2;
      }
      last_is_macro = true;
    } else {
      ++i;
      last_is_macro = false;
    }
  }
  return last_is_macro;
}

// Decimal CIDR length as the ABNF writes it: "0" / %x31-39 0*DIGIT, at most 3 digits.
// Returns -1 when `s` is not such a number.
int parse_cidr_number(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3) return -1;
  if (s.size() > 1 && s[0] == '0') return -1;
  int v = 0;
  for (char c : s) {
    if (!is_digit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Splits a trailing dual-cidr-length ("/N", "//M", "/N//M") off `s`, pyspf-compatible:
// first "//M" at the very end, then "/N". Sets the lengths found (-1 when absent).
std::string_view strip_dual_cidr(std::string_view s, int& cidr4, int& cidr6) noexcept {
  cidr4 = -1;
  cidr6 = -1;
  auto take = [](std::string_view& str, bool dual) -> int {
    std::size_t slash = str.rfind('/');
    if (slash == std::string_view::npos) return -1;
    int v = parse_cidr_number(str.substr(slash + 1));
    if (v < 0) return -1;
    if (dual) {
      if (slash == 0 || str[slash - 1] != '/') return -1;
      str = str.substr(0, slash - 1);
    } else {
      if (slash > 0 && str[slash - 1] == '/') return -1;  // "//N" is not "/N"
      str = str.substr(0, slash);
    }
    return v;
  };
  cidr6 = take(s, true);
  cidr4 = take(s, false);
  return s;
}

Unexpected term_error(ErrorCode code, std::string_view what, std::string_view term) {
  return fail(code, std::string(what) + ": " + printable(term));
}

Result<Mechanism> parse_mechanism(std::string_view term) {
  Mechanism m;
  m.text = std::string(term);
  std::string_view rest = term;

  // Qualifier (§4.6.2); "+" is the default.
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-' || rest[0] == '~' || rest[0] == '?')) {
    m.qualifier = static_cast<Qualifier>(rest[0]);
    rest.remove_prefix(1);
  }
  std::size_t n = 0;
  while (n < rest.size() && is_alnum(rest[n])) ++n;
  std::string_view name = rest.substr(0, n);
  rest.remove_prefix(n);
  if (!rest.empty() && rest[0] != ':' && rest[0] != '/') {
    return term_error(ErrorCode::Syntax, "unknown mechanism", term);
  }

  // Mechanism names are case-insensitive (§4.6.1).
  if (iequals(name, "all")) {
    m.kind = MechanismKind::All;
  } else if (iequals(name, "include")) {
    m.kind = MechanismKind::Include;
  } else if (iequals(name, "a")) {
    m.kind = MechanismKind::A;
  } else if (iequals(name, "mx")) {
    m.kind = MechanismKind::Mx;
  } else if (iequals(name, "ptr")) {
    m.kind = MechanismKind::Ptr;
  } else if (iequals(name, "ip4")) {
    m.kind = MechanismKind::Ip4;
  } else if (iequals(name, "ip6")) {
    m.kind = MechanismKind::Ip6;
  } else if (iequals(name, "exists")) {
    m.kind = MechanismKind::Exists;
  } else {
    return term_error(ErrorCode::Syntax, "unknown mechanism", term);
  }

  switch (m.kind) {
    case MechanismKind::All:
      // §5.1: all = "all" — nothing may follow.
      if (!rest.empty()) return term_error(ErrorCode::Syntax, "'all' takes no argument", term);
      return m;

    case MechanismKind::Include:
    case MechanismKind::Exists: {
      // §5.2, §5.7: include = "include" ":" domain-spec; exists = "exists" ":" domain-spec
      if (rest.empty() || rest[0] != ':') {
        return term_error(ErrorCode::Syntax, "missing ':' domain-spec", term);
      }
      rest.remove_prefix(1);
      auto ok = check_domain_spec(rest);
      if (!ok) return term_error(ErrorCode::Syntax, ok.error().reason, term);
      m.domain_spec = std::string(rest);
      return m;
    }

    case MechanismKind::A:
    case MechanismKind::Mx:
    case MechanismKind::Ptr: {
      // §5.3 a = "a" [ ":" domain-spec ] [ dual-cidr-length ]; §5.4 mx likewise;
      // §5.5 ptr = "ptr" [ ":" domain-spec ] (no CIDR).
      int c4 = -1;
      int c6 = -1;
      std::string_view spec;
      bool has_spec = false;
      if (m.kind == MechanismKind::Ptr) {
        if (!rest.empty()) {
          if (rest[0] != ':') return term_error(ErrorCode::Syntax, "ptr takes no CIDR", term);
          has_spec = true;
          spec = rest.substr(1);
        }
      } else {
        std::string_view left = strip_dual_cidr(rest, c4, c6);
        if (!left.empty()) {
          if (left[0] != ':') return term_error(ErrorCode::Syntax, "malformed CIDR length", term);
          has_spec = true;
          spec = left.substr(1);
        }
        if (c4 > 32) return term_error(ErrorCode::Syntax, "IPv4 CIDR length over 32", term);
        if (c6 > 128) return term_error(ErrorCode::Syntax, "IPv6 CIDR length over 128", term);
        if (c4 >= 0) m.cidr4 = static_cast<std::uint8_t>(c4);
        if (c6 >= 0) m.cidr6 = static_cast<std::uint8_t>(c6);
      }
      if (has_spec) {
        auto ok = check_domain_spec(spec);
        if (!ok) return term_error(ErrorCode::Syntax, ok.error().reason, term);
        m.domain_spec = std::string(spec);
      }
      return m;
    }

    case MechanismKind::Ip4:
    case MechanismKind::Ip6: {
      // §5.6 ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ]; ip6 likewise.
      if (rest.empty() || rest[0] != ':') {
        return term_error(ErrorCode::Syntax, "missing ':' address", term);
      }
      rest.remove_prefix(1);
      std::string_view addr = rest;
      int len = -1;
      std::size_t slash = rest.find('/');
      if (slash != std::string_view::npos) {
        addr = rest.substr(0, slash);
        len = parse_cidr_number(rest.substr(slash + 1));
        if (len < 0) return term_error(ErrorCode::Syntax, "malformed CIDR length", term);
      }
      bool v4 = m.kind == MechanismKind::Ip4;
      auto ip = v4 ? net::parse_ipv4(addr) : net::parse_ipv6(addr);
      if (!ip) {
        return term_error(ErrorCode::Syntax, v4 ? "invalid IPv4 address" : "invalid IPv6 address",
                          term);
      }
      if (v4) {
        if (len > 32) return term_error(ErrorCode::Syntax, "IPv4 CIDR length over 32", term);
        if (len >= 0) m.cidr4 = static_cast<std::uint8_t>(len);
      } else {
        if (len > 128) return term_error(ErrorCode::Syntax, "IPv6 CIDR length over 128", term);
        if (len >= 0) m.cidr6 = static_cast<std::uint8_t>(len);
      }
      m.address = std::string(addr);
      return m;
    }
  }
  return term_error(ErrorCode::Syntax, "unknown mechanism", term);
}

// §12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) followed by "=".
std::size_t modifier_name_length(std::string_view term) noexcept {
  if (term.empty() || !is_alpha(term[0])) return 0;
  std::size_t i = 1;
  while (i < term.size() && (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' ||
                             term[i] == '.')) {
    ++i;
  }
  return (i < term.size() && term[i] == '=') ? i : 0;
}

}  // namespace

Result<void> check_domain_spec(std::string_view spec) {
  if (spec.empty()) return fail(ErrorCode::Syntax, "empty domain-spec");
  auto macro_ok = check_macro_string(spec, MacroMode::Domain);
  if (!macro_ok) return macro_ok;
  // §7.1 domain-end = ( "." toplabel [ "." ] ) / macro-expand
  if (ends_with_macro_expand(spec)) return ok();
  std::string_view s = spec;
  if (s.back() == '.') s.remove_suffix(1);
  std::size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) {
    return fail(ErrorCode::Syntax, "domain-spec is not a multi-label name");
  }
  std::string_view top = s.substr(dot + 1);
  // The toplabel must be literal text: a '%' or '}' inside it means a macro precedes it.
  if (!internal::is_toplabel(top)) {
    return fail(ErrorCode::Syntax, "invalid top label '" + printable(top, 64) + "'");
  }
  return ok();
}

Result<Record> parse_record(std::string_view txt) {
  if (txt.size() > kMaxRecordLength) {
    return fail(ErrorCode::LimitExceeded, "record longer than " +
                                              std::to_string(kMaxRecordLength) + " octets");
  }
  if (!is_spf_record(txt)) return fail(ErrorCode::Syntax, "not a v=spf1 record");
  // §3.1 / §4.6: the record is 7-bit ASCII; terms are separated by SP only.
  for (char c : txt) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) {
      return fail(ErrorCode::Syntax, "non-ASCII or control character in record: " +
                                         printable(txt, 200));
    }
  }

  Record rec;
  std::size_t terms = 0;
  std::size_t pos = 6;  // after "v=spf1"
  while (pos < txt.size()) {
    if (txt[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = txt.find(' ', pos);
    if (end == std::string_view::npos) end = txt.size();
    std::string_view term = txt.substr(pos, end - pos);
    pos = end;
    if (++terms > kMaxTerms) {
      return fail(ErrorCode::LimitExceeded,
                  "more than " + std::to_string(kMaxTerms) + " terms in record");
    }

    if (std::size_t nlen = modifier_name_length(term); nlen > 0) {
      std::string_view name = term.substr(0, nlen);
      std::string_view value = term.substr(nlen + 1);
      if (iequals(name, "redirect") || iequals(name, "exp")) {
        bool is_redirect = iequals(name, "redirect");
        auto& slot = is_redirect ? rec.redirect : rec.exp;
        // §6: these modifiers MUST NOT appear more than once each.
        if (slot) return term_error(ErrorCode::Duplicate, "modifier given twice", term);
        auto ok = check_domain_spec(value);
        if (!ok) return term_error(ErrorCode::Syntax, ok.error().reason, term);
        slot = std::string(value);
      } else {
        // §6: unknown modifiers are ignored, but must still be syntactically valid (§12).
        auto ok = check_macro_string(value, MacroMode::Domain);
        if (!ok) return term_error(ErrorCode::Syntax, ok.error().reason, term);
        rec.unknown_modifiers.push_back(Modifier{std::string(name), std::string(value)});
      }
      continue;
    }
    auto mech = parse_mechanism(term);
    if (!mech) return fail(std::move(mech).error());
    rec.mechanisms.push_back(std::move(*mech));
  }
  return rec;
}

}  // namespace auth::spf
