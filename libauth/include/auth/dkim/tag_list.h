// auth::dkim tag lists — the `tag=value; tag=value` syntax shared by DKIM-Signature fields and
// DKIM key records (RFC 6376 §3.2), also used by ARC (RFC 8617 §4.1).
//
// Rules (RFC 6376 §3.2): FWS is allowed around tag names, '=' and ';'; a trailing ';' is
// allowed; tag names are ALPHA *(ALPHA / DIGIT / "_") and case-sensitive; a tag that appears
// twice makes the whole list invalid; unknown tags are kept here and ignored by the callers;
// values are *tval separated by FWS (tval = 1*VALCHAR, VALCHAR = %x21-3A / %x3C-7E), so values
// hold no ';' and no bytes outside printable ASCII. Offsets are kept so a verifier can blank
// the b= value in the raw field bytes (RFC 6376 §3.7).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::dkim {

/// Most tags accepted in one tag-list (local policy, not RFC: DKIM-Signature defines 15 tags;
/// 64 leaves room for extensions while bounding hostile input). More → LimitExceeded.
inline constexpr std::size_t kMaxTags = 64;
/// Largest tag-list accepted in bytes (same bound as one header field, mail::kMaxFieldBytes).
inline constexpr std::size_t kMaxTagListBytes = 64 * 1024;

/// One tag of a tag-list.
struct Tag {
  std::string name;   ///< tag name as written (case-sensitive, RFC 6376 §3.2)
  std::string value;  ///< value with leading/trailing FWS removed; inner FWS kept as written
  /// Offset in the parsed input of the first byte after '=' and end offset (exclusive) of the
  /// value's last non-FWS byte. `value_begin..value_end` thus covers leading FWS + value
  /// (the span a verifier blanks for b=, RFC 6376 §3.7; same as dkimpy).
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
  friend bool operator==(const Tag&, const Tag&) = default;
};

/// A parsed tag-list in input order.
struct TagList {
  std::vector<Tag> tags;
  /// The tag called `name` (exact, case-sensitive), or nullptr.
  const Tag* find(std::string_view name) const noexcept;
  /// Its value, or nullopt if the tag is absent.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
};

/// Parses a tag-list (RFC 6376 §3.2). FWS may be SP, HTAB or CRLF followed by WSP; bare LF
/// followed by WSP is accepted too (milter and LF-only files).
/// Errors: Syntax (bad tag name, missing '=', byte outside VALCHAR in a value, FWS not
/// followed by WSP, empty element between two ';'), Duplicate (a tag name twice),
/// LimitExceeded (kMaxTags, kMaxTagListBytes). An empty or FWS-only input gives an empty list.
Result<TagList> parse_tag_list(std::string_view input);

/// Removes every FWS byte (SP, HTAB, CR, LF) from `value` — for base64 values such as b=, bh=
/// and p= (RFC 6376 §3.5, §3.6.1).
std::string strip_fws(std::string_view value);

}  // namespace auth::dkim
