#include "common/action.h"

#include <cstdio>

namespace inkan::milter {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 3463 §2: status-code = class "." subject "." detail; class 1 digit, subject and
// detail 1..3 digits.
bool valid_xcode(std::string_view x) {
  std::size_t i = 0;
  auto digits = [&](std::size_t min, std::size_t max) {
    std::size_t n = 0;
    while (i < x.size() && is_digit(x[i]) && n < max) {
      ++i;
      ++n;
    }
    return n >= min && (i >= x.size() || !is_digit(x[i]));
  };
  if (!digits(1, 1)) return false;
  if (i >= x.size() || x[i++] != '.') return false;
  if (!digits(1, 3)) return false;
  if (i >= x.size() || x[i++] != '.') return false;
  if (!digits(1, 3)) return false;
  return i == x.size();
}

std::string byte_name(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

}  // namespace

Action Action::reject(std::string rcode, std::string xcode, std::string text) {
  Action a{Verdict::Reject, std::nullopt, {}};
  if (!rcode.empty() || !xcode.empty() || !text.empty()) {
    a.reply = Reply{std::move(rcode), std::move(xcode), std::move(text)};
  }
  return a;
}

Action Action::tempfail(std::string rcode, std::string xcode, std::string text) {
  Action a{Verdict::TempFail, std::nullopt, {}};
  if (!rcode.empty() || !xcode.empty() || !text.empty()) {
    a.reply = Reply{std::move(rcode), std::move(xcode), std::move(text)};
  }
  return a;
}

Action Action::from_default(DefaultAction d) {
  return d == DefaultAction::Accept ? Action::accept() : Action::tempfail();
}

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::Continue: return "continue";
    case Verdict::Accept: return "accept";
    case Verdict::Reject: return "reject";
    case Verdict::TempFail: return "tempfail";
    case Verdict::Discard: return "discard";
    case Verdict::Quarantine: return "quarantine";
    case Verdict::Skip: return "skip";
  }
  return "unknown";
}

std::string_view to_string(DefaultAction d) noexcept {
  return d == DefaultAction::Accept ? "accept" : "tempfail";
}

std::optional<DefaultAction> parse_default_action(std::string_view text) noexcept {
  if (iequals(text, "accept") || iequals(text, "a")) return DefaultAction::Accept;
  if (iequals(text, "tempfail") || iequals(text, "t")) return DefaultAction::TempFail;
  return std::nullopt;
}

auth::Result<Reply> sanitize_reply(Verdict verdict, const Reply& reply) {
  char cls = 0;
  if (verdict == Verdict::Reject) {
    cls = '5';
  } else if (verdict == Verdict::TempFail) {
    cls = '4';
  } else {
    return auth::fail(auth::ErrorCode::Invalid,
                      "verdict " + std::string(to_string(verdict)) + " takes no SMTP reply");
  }

  Reply out;
  /* The reply code. */
  out.rcode = reply.rcode.empty() ? (cls == '5' ? "550" : "451") : reply.rcode;
  if (out.rcode.size() != 3 || !is_digit(out.rcode[0]) || !is_digit(out.rcode[1]) ||
      !is_digit(out.rcode[2])) {
    return auth::fail(auth::ErrorCode::Invalid, "reply code is not three digits");
  }
  if (out.rcode[0] != cls) {
    return auth::fail(auth::ErrorCode::Invalid,
                      "reply code " + out.rcode + " does not match verdict " +
                          std::string(to_string(verdict)));
  }
  /* The enhanced status code (RFC 3463 §2). */
  if (!reply.xcode.empty()) {
    if (!valid_xcode(reply.xcode)) {
      return auth::fail(auth::ErrorCode::Invalid, "malformed enhanced status code");
    }
    if (reply.xcode[0] != cls) {
      return auth::fail(auth::ErrorCode::Invalid,
                        "enhanced status code class does not match reply code");
    }
    out.xcode = reply.xcode;
  }
  /* The text: no controls, '%' escaped, bounded. */
  out.text.reserve(reply.text.size());
  for (char c : reply.text) {
    auto u = static_cast<unsigned char>(c);
    std::size_t add = (c == '%') ? 2 : 1;
    if (out.text.size() + add > kMaxReplyText) break;
    if (u < 0x20 || u == 0x7f) {
      out.text.push_back(' ');
    } else if (c == '%') {
      out.text.append("%%");
    } else {
      out.text.push_back(c);
    }
  }
  return out;
}

auth::Result<void> validate_header_name(std::string_view name) {
  if (name.empty()) return auth::fail(auth::ErrorCode::Syntax, "empty header field name");
  if (name.size() > kMaxHeaderNameLength) {
    return auth::fail(auth::ErrorCode::LimitExceeded, "header field name longer than 998");
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    // RFC 5322 §2.2: ftext = %d33-57 / %d59-126
    if (u < 33 || u > 126 || c == ':') {
      return auth::fail(auth::ErrorCode::Syntax,
                        "header field name contains byte " + byte_name(u));
    }
  }
  return auth::ok();
}

auth::Result<std::string> normalize_header_value(std::string_view value) {
  if (value.size() > kMaxHeaderValueLength) {
    return auth::fail(auth::ErrorCode::LimitExceeded, "header value too long");
  }
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\0') return auth::fail(auth::ErrorCode::Syntax, "NUL in header value");
    if (c == '\r') {
      if (i + 1 < value.size() && value[i + 1] == '\n') continue;  // CRLF → LF
      return auth::fail(auth::ErrorCode::Syntax, "bare CR in header value");
    }
    if (c == '\n') {
      // RFC 5322 §2.2.3: a fold is CRLF followed by WSP; anything else would start a new field.
      if (i + 1 >= value.size() || (value[i + 1] != ' ' && value[i + 1] != '\t')) {
        return auth::fail(auth::ErrorCode::Syntax, "line break not followed by white space");
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace inkan::milter
