// auth::mail domains (see auth/mail/domain.h).
#include "auth/mail/domain.h"

#include <idn2.h>

#include <string>
#include <vector>

#include "auth/mail/ascii.h"

namespace auth::mail {
namespace {

constexpr bool is_ascii_ws(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_ascii(std::string_view s) noexcept {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// RFC 3490 §3.1 / UTS #46: U+3002, U+FF0E and U+FF61 also separate labels.
std::string map_label_separators(std::string_view s) {
  static constexpr std::string_view kDots[] = {"\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1"};
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    bool mapped = false;
    for (std::string_view d : kDots) {
      if (s.substr(i, d.size()) == d) {
        out.push_back('.');
        i += d.size();
        mapped = true;
        break;
      }
    }
    if (!mapped) out.push_back(s[i++]);
  }
  return out;
}

// One U-label → A-label. UTS #46 non-transitional first (IDNA2008, "faß" stays "faß"),
// then transitional (IDNA2003 compatible) as browsers fall back.
Result<std::string> label_to_ascii(const std::string& label) {
  int rc = IDN2_OK;
  for (int flags : {IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL, IDN2_NFC_INPUT | IDN2_TRANSITIONAL}) {
    char* out = nullptr;
    rc = idn2_to_ascii_8z(label.c_str(), &out, flags);
    if (rc == IDN2_OK && out != nullptr) {
      std::string result(out);
      idn2_free(out);
      return result;
    }
    if (out != nullptr) idn2_free(out);
  }
  // Size errors keep their own code so callers can tell a limit from bad syntax.
  const bool too_big = rc == IDN2_PUNYCODE_BIG_OUTPUT || rc == IDN2_PUNYCODE_OVERFLOW ||
                       rc == IDN2_TOO_BIG_DOMAIN || rc == IDN2_TOO_BIG_LABEL;
  return fail(too_big ? ErrorCode::LimitExceeded : ErrorCode::Syntax,
              std::string("IDNA conversion failed: ") + idn2_strerror(rc));
}

}  // namespace

Result<void> validate_domain(std::string_view name, DomainSyntax syntax) {
  if (name.empty()) return fail(ErrorCode::Syntax, "empty domain name");
  if (name.size() > kMaxDomainLength) {
    return fail(ErrorCode::LimitExceeded, "domain name of " + std::to_string(name.size()) +
                                              " octets exceeds " + std::to_string(kMaxDomainLength));
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return fail(ErrorCode::Syntax, "empty label in domain name");
    if (label.size() > kMaxLabelLength) {
      return fail(ErrorCode::LimitExceeded, "label of " + std::to_string(label.size()) +
                                                " octets exceeds " + std::to_string(kMaxLabelLength));
    }
    for (char c : label) {
      const bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-';
      if (ldh || (c == '_' && syntax == DomainSyntax::AllowUnderscore)) continue;
      const auto u = static_cast<unsigned char>(c);
      return fail(ErrorCode::Syntax,
                  (u >= 33 && u <= 126 ? std::string("'") + c + "'" : "byte " + std::to_string(u)) +
                      " not allowed in a domain label");
    }
    // RFC 1123 §2.1 / RFC 952: no hyphen at either end of a label.
    if (label.front() == '-' || label.back() == '-') {
      return fail(ErrorCode::Syntax, "label '" + std::string(label) + "' starts or ends with '-'");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return ok();
}

Result<std::string> normalize_domain(std::string_view name, DomainSyntax syntax) {
  /* Trim, bound, strip one root dot. */
  while (!name.empty() && is_ascii_ws(name.front())) name.remove_prefix(1);
  while (!name.empty() && is_ascii_ws(name.back())) name.remove_suffix(1);
  if (name.empty()) return fail(ErrorCode::Syntax, "empty domain name");
  // Pre-bound before any copy: a UTF-8 code point takes at most 4 bytes, so a longer input
  // cannot become a name of kMaxDomainLength octets or less.
  if (name.size() > 4 * kMaxDomainLength) {
    return fail(ErrorCode::LimitExceeded, "domain name of " + std::to_string(name.size()) +
                                              " bytes is far too long");
  }
  if (name.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::Syntax, "NUL byte in domain name");
  }
  std::string mapped = map_label_separators(name);
  if (!mapped.empty() && mapped.back() == '.') mapped.pop_back();
  if (mapped.empty()) return fail(ErrorCode::Syntax, "empty domain name");

  /* Label by label: ASCII labels are lower-cased, others go through IDNA. */
  std::string out;
  out.reserve(mapped.size());
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = mapped.find('.', start);
    const std::string label =
        mapped.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) return fail(ErrorCode::Syntax, "empty label in domain name");
    if (is_ascii(label)) {
      out += to_lower_ascii(label);
    } else {
      auto a = label_to_ascii(label);
      if (!a) return fail(std::move(a).error());
      out += to_lower_ascii(*a);
    }
    if (dot == std::string::npos) break;
    out.push_back('.');
    start = dot + 1;
  }
  if (auto v = validate_domain(out, syntax); !v) return fail(v.error());
  return out;
}

}  // namespace auth::mail
