// Private helpers shared by the net module's parsers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace auth::net::internal {

/// Longest excerpt of hostile input quoted in an error reason (STYLE.md: truncate attacker text).
inline constexpr std::size_t kMaxQuotedInput = 64;

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

/// 'text' quoted for an error message: at most kMaxQuotedInput bytes, non-printable bytes
/// written as \xNN, "..." appended when truncated.
std::string quote(std::string_view text);

/// ASCII lower-case copy.
std::string lower(std::string_view text);

/// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Parses a decimal number without sign, at most `max_value`; false on empty input,
/// a non-digit, or overflow. Leading zeros are allowed only if `allow_leading_zero`.
bool parse_decimal(std::string_view text, unsigned max_value, bool allow_leading_zero,
                   unsigned& out) noexcept;

/// A DNS-style host name: LDH labels (underscore tolerated) of 1..63 characters separated by
/// single dots, total at most 253 characters, one optional trailing dot. Not all-numeric
/// (a dotted quad that failed address parsing is not a name). Returns an error reason or
/// an empty string when valid.
std::string check_host_name(std::string_view name);

}  // namespace auth::net::internal
