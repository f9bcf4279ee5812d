// auth::crypto base64 — RFC 4648 §4 base64 (standard alphabet, '=' padding) for DKIM/ARC
// b=, bh= and p= values.
//
// Decoding skips FWS (space, tab, CR, LF) anywhere, because RFC 6376 §3.5 allows folding
// whitespace inside b=/bh= and §3.6.1 inside p=. Everything else that is not the RFC 4648
// alphabet is rejected (RFC 4648 §3.3: implementations MUST reject data with characters
// outside the alphabet), as are bad padding, data after padding, impossible lengths and
// non-zero pad bits (RFC 4648 §3.5, so every byte string has exactly one accepted encoding
// modulo whitespace).
#pragma once

#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace auth::crypto {

/// Encodes `bytes` as base64 with '=' padding and no line breaks. Never fails.
std::string base64_encode(std::string_view bytes);

/// Decodes base64 text, ignoring space, tab, CR and LF anywhere in it.
/// The empty string (or only whitespace) decodes to the empty string.
/// Errors (all ErrorCode::Syntax, reason names the offset in `text`):
///  - a character outside the alphabet, whitespace excepted (NUL and non-ASCII included);
///  - '=' anywhere but at the end, more than two '=' , or padding that does not complete a
///    4-character quantum ("data after padding" / "bad padding");
///  - a length that cannot be base64 (a final quantum of 1 character, or a missing '=');
///  - non-zero bits in the unused part of the last character (non-canonical encoding).
Result<std::string> base64_decode(std::string_view text);

}  // namespace auth::crypto
