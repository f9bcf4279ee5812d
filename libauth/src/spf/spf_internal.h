// Private helpers of auth::spf shared by the record parser, the macro expander and the
// evaluator. Not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace auth::spf::internal {

constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
/// RFC 7208 §7.1 macro-literal: %x21-24 / %x26-7E (visible ASCII except '%').
constexpr bool is_macro_literal(char c) noexcept {
  return (c >= 0x21 && c <= 0x24) || (c >= 0x26 && c <= 0x7E);
}
/// RFC 7208 §7.1 delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
constexpr bool is_delimiter(char c) noexcept {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string lower(std::string_view s);

/// RFC 7208 §4.6.1 toplabel = ( *alphanum ALPHA *alphanum ) /
///                             ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) noexcept;

/// Printable form of hostile text for reasons and traces: control and non-ASCII bytes as
/// \xHH, at most `max` bytes of input shown (then "...").
std::string printable(std::string_view s, std::size_t max = 100);

}  // namespace auth::spf::internal
