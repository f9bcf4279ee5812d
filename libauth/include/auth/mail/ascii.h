// auth::mail ASCII helpers — locale-independent case folding and comparison.
//
// Header field names (RFC 5322 §1.2.2, §3.6.8), domain names (RFC 1035 §2.3.3) and DKIM tag
// names compare case-insensitively in US-ASCII only; <cctype> depends on the C locale, so
// these helpers never call it.
#pragma once

#include <string>
#include <string_view>

namespace auth::mail {

/// Lower-cases A–Z; every other byte (including 8-bit UTF-8) is left unchanged.
constexpr char to_lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Copy of `s` with A–Z lower-cased.
std::string to_lower_ascii(std::string_view s);

/// True when `a` and `b` are equal ignoring US-ASCII case.
bool equals_ignore_case(std::string_view a, std::string_view b) noexcept;

}  // namespace auth::mail
