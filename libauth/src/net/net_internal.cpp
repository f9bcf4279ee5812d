#include "net/net_internal.h"

#include "auth/net/hostlist.h"

namespace auth::net::internal {

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t n = text.size() < kMaxQuotedInput ? text.size() : kMaxQuotedInput;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '\'';
  if (n < text.size()) out += "...";
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool parse_decimal(std::string_view text, unsigned max_value, bool allow_leading_zero,
                   unsigned& out) noexcept {
  if (text.empty()) return false;
  if (!allow_leading_zero && text.size() > 1 && text[0] == '0') return false;
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    const auto digit = static_cast<unsigned>(c - '0');
    // Overflow check before the add (STYLE.md): value * 10 + digit <= max_value.
    if (value > (max_value - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

std::string check_host_name(std::string_view name) {
  if (name.empty()) return "empty host name";
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return "host name is only a dot";
  if (name.size() > kMaxHostNameLength) return "host name longer than 253 characters";
  std::size_t label = 0;
  bool all_numeric = true;
  char prev = '.';
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return "empty label in host name " + quote(name);
      if (prev == '-') return "label ends with '-' in host name " + quote(name);
      label = 0;
    } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
      if (label == 0 && c == '-') return "label starts with '-' in host name " + quote(name);
      if (++label > kMaxLabelLength) return "label longer than 63 characters in host name";
      if (!is_digit(c)) all_numeric = false;
    } else {
      return "invalid character in host name " + quote(name);
    }
    prev = c;
  }
  if (prev == '.') return "empty label in host name " + quote(name);
  if (prev == '-') return "label ends with '-' in host name " + quote(name);
  if (all_numeric) return "numeric name " + quote(name) + " is neither an address nor a host name";
  return {};
}

}  // namespace auth::net::internal
