// SPF macro expansion (RFC 7208 §7).
#include "auth/spf/macro.h"

#include <string>
#include <vector>

#include "auth/net/ip.h"
#include "spf/spf_internal.h"

namespace auth::spf {

namespace {

using internal::is_alpha;
using internal::is_delimiter;
using internal::is_digit;
using internal::is_macro_literal;
using internal::printable;
using internal::to_lower;

/// Transformer digits above this are treated as "all labels" (a name has at most 127 labels).
constexpr std::size_t kMaxTransformerDigits = 1000;

/// One parsed %{...} macro.
struct Macro {
  char letter = 0;       // as written (upper case = URL-escape, §7.3)
  std::size_t keep = 0;  // 0 = all parts
  bool reverse = false;
  std::string delimiters;
};

bool letter_allowed(char lower_letter, MacroMode mode) noexcept {
  switch (lower_letter) {
    case 's': case 'l': case 'o': case 'd': case 'i': case 'p': case 'h': case 'v':
      return true;
    case 'c': case 'r': case 't':
      // §7.1: "c", "r" and "t" are only allowed in "exp" text.
      return mode == MacroMode::Explanation;
    default:
      return false;
  }
}

// Parses "%{" macro-letter transformers *delimiter "}" starting at input[pos] == '%', with
// input[pos+1] == '{'. On success sets `end` to the index after '}'.
Result<Macro> parse_macro(std::string_view input, std::size_t pos, MacroMode mode,
                          std::size_t& end) {
  std::size_t i = pos + 2;
  if (i >= input.size()) return fail(ErrorCode::Syntax, "unterminated macro");
  Macro m;
  m.letter = input[i];
  char lower_letter = to_lower(m.letter);
  if (!is_alpha(m.letter) || !letter_allowed(lower_letter, mode)) {
    std::string why = is_alpha(m.letter) && (lower_letter == 'c' || lower_letter == 'r' ||
                                             lower_letter == 't')
                          ? "macro letter only allowed in exp text: %{"
                          : "unknown macro letter: %{";
    return fail(ErrorCode::Syntax, why + printable(std::string_view(&input[i], 1)) + "}");
  }
  ++i;
  // transformers = *DIGIT [ "r" ]  (§7.1; a DIGIT MUST be nonzero, §7.3)
  std::size_t digits_start = i;
  std::size_t value = 0;
  while (i < input.size() && is_digit(input[i])) {
    if (value <= kMaxTransformerDigits) value = value * 10 + static_cast<std::size_t>(input[i] - '0');
    ++i;
  }
  if (i > digits_start) {
    if (value == 0) return fail(ErrorCode::Syntax, "macro transformer digit must be nonzero");
    m.keep = value > kMaxTransformerDigits ? kMaxTransformerDigits : value;
  }
  if (i < input.size() && (input[i] == 'r' || input[i] == 'R')) {
    m.reverse = true;
    ++i;
  }
  while (i < input.size() && is_delimiter(input[i])) {
    m.delimiters += input[i];
    ++i;
  }
  if (i >= input.size() || input[i] != '}') {
    return fail(ErrorCode::Syntax, "malformed macro: " +
                                       printable(input.substr(pos, i - pos + 1), 40));
  }
  end = i + 1;
  return m;
}

bool is_unreserved(char c) noexcept {
  // RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
  return internal::is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void url_escape_into(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
}

// §7.3: split on the delimiters (default "."), reverse if asked, keep the right-most N parts,
// join with ".".
std::string transform(std::string_view value, const Macro& m) {
  if (m.keep == 0 && !m.reverse && m.delimiters.empty()) return std::string(value);
  std::string_view delims = m.delimiters.empty() ? std::string_view(".") : m.delimiters;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delims.find(value[i]) != std::string_view::npos) {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (m.reverse) {
    for (std::size_t a = 0, b = parts.size() - 1; a < b; ++a, --b) std::swap(parts[a], parts[b]);
  }
  std::size_t first = 0;
  if (m.keep > 0 && m.keep < parts.size()) first = parts.size() - m.keep;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

Result<net::IpAddress> client_address(const MacroContext& ctx) {
  auto ip = net::parse_ip(ctx.client_ip);
  if (!ip) return fail(ErrorCode::Syntax, "client IP is not an address: " + printable(ctx.client_ip, 60));
  return ip->unmapped();
}

Result<std::string> letter_value(char lower_letter, const MacroContext& ctx) {
  switch (lower_letter) {
    case 's': return ctx.sender;
    case 'l': return ctx.local_part;
    case 'o': return ctx.sender_domain;
    case 'd': return ctx.domain;
    case 'h': return ctx.helo;
    case 'p': return ctx.validated_domain;
    case 'r': return ctx.receiver;
    case 't': return std::to_string(ctx.timestamp);
    case 'i': {
      std::string form = macro_ip_form(ctx.client_ip);
      if (form.empty()) return fail(ErrorCode::Syntax, "client IP is not an address");
      return form;
    }
    case 'c': {
      auto ip = client_address(ctx);
      if (!ip) return fail(ip.error());
      return ip->to_string();
    }
    case 'v': {
      auto ip = client_address(ctx);
      if (!ip) return fail(ip.error());
      return std::string(net::spf_macro_v(*ip));
    }
    default:
      return fail(ErrorCode::Syntax, "unknown macro letter");
  }
}

}  // namespace

Result<void> check_macro_string(std::string_view input, MacroMode mode) {
  std::size_t i = 0;
  while (i < input.size()) {
    char c = input[i];
    if (c == '%') {
      if (i + 1 >= input.size()) return fail(ErrorCode::Syntax, "'%' at end of macro-string");
      char n = input[i + 1];
      if (n == '%' || n == '_' || n == '-') {
        i += 2;
        continue;
      }
      if (n != '{') {
        return fail(ErrorCode::Syntax,
                    "invalid macro: " + printable(input.substr(i, 2), 8));
      }
      std::size_t end = 0;
      auto m = parse_macro(input, i, mode, end);
      if (!m) return fail(m.error());
      i = end;
      continue;
    }
    // macro-literal (§7.1); explain-string also allows SP (§6.2).
    if (!is_macro_literal(c) && !(mode == MacroMode::Explanation && c == ' ')) {
      return fail(ErrorCode::Syntax, "invalid character in macro-string: " +
                                         printable(input.substr(i, 1), 4));
    }
    ++i;
  }
  return ok();
}

bool uses_validated_domain(std::string_view input) noexcept {
  for (std::size_t i = 0; i + 2 < input.size(); ++i) {
    if (input[i] == '%') {
      if (input[i + 1] == '{' && to_lower(input[i + 2]) == 'p') return true;
      ++i;  // skip the escaped character of %%, %_, %- (and the '{' of other macros)
    }
  }
  return false;
}

Result<std::string> expand_macros(std::string_view input, const MacroContext& ctx,
                                  MacroMode mode) {
  std::string out;
  std::size_t i = 0;
  auto check_size = [&out]() { return out.size() <= kMaxMacroOutput; };
  while (i < input.size()) {
    char c = input[i];
    if (c != '%') {
      if (!is_macro_literal(c) && !(mode == MacroMode::Explanation && c == ' ')) {
        return fail(ErrorCode::Syntax, "invalid character in macro-string: " +
                                           printable(input.substr(i, 1), 4));
      }
      out += c;
      ++i;
      if (!check_size()) break;
      continue;
    }
    if (i + 1 >= input.size()) return fail(ErrorCode::Syntax, "'%' at end of macro-string");
    char n = input[i + 1];
    // §7.3: "%%" → "%", "%_" → SP, "%-" → "%20".
    if (n == '%') {
      out += '%';
      i += 2;
    } else if (n == '_') {
      out += ' ';
      i += 2;
    } else if (n == '-') {
      out += "%20";
      i += 2;
    } else if (n == '{') {
      std::size_t end = 0;
      auto m = parse_macro(input, i, mode, end);
      if (!m) return fail(m.error());
      auto value = letter_value(to_lower(m->letter), ctx);
      if (!value) return fail(value.error());
      std::string expanded = transform(*value, *m);
      // §7.3: upper-case macro letters are URL-escaped (RFC 3986).
      if (m->letter >= 'A' && m->letter <= 'Z') {
        url_escape_into(expanded, out);
      } else {
        out += expanded;
      }
      i = end;
    } else {
      return fail(ErrorCode::Syntax, "invalid macro: " + printable(input.substr(i, 2), 8));
    }
    if (!check_size()) break;
  }
  if (!check_size()) {
    return fail(ErrorCode::LimitExceeded,
                "macro expansion longer than " + std::to_string(kMaxMacroOutput) + " octets");
  }
  return out;
}

std::string truncate_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  // §7.3: remove whole labels from the left until at most 253 characters remain.
  while (domain.size() > 253) {
    std::size_t dot = domain.find('.');
    if (dot == std::string_view::npos) break;  // one overlong label: left for the label check
    domain.remove_prefix(dot + 1);
  }
  return std::string(domain);
}

std::string macro_ip_form(std::string_view ip_text) {
  auto ip = net::parse_ip(ip_text);
  if (!ip) return {};
  net::IpAddress a = ip->unmapped();
  if (a.is_v4()) return a.to_string();
  // §7.3: IPv6 as dot-separated nibbles. Upper-case hex, as pyspf (the reference
  // implementation of the OpenSPF suite, test v-macro-ip6) writes it; DNS names are
  // case-insensitive, so queries are unaffected.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(63);
  for (std::uint8_t b : a.bytes()) {
    if (!out.empty()) out += '.';
    out += kHex[b >> 4];
    out += '.';
    out += kHex[b & 0x0F];
  }
  return out;
}

}  // namespace auth::spf
