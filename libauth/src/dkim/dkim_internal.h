// Private helpers of auth::dkim shared by the verifier and the signer (and later ARC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/dkim/signature.h"
#include "auth/mail/header.h"

namespace auth::dkim::internal {

/// Parses 1*max_digits DIGIT into a non-negative integer. Errors: Syntax.
Result<std::int64_t> parse_decimal(std::string_view text, std::size_t max_digits,
                                   std::string_view tag);

/// Splits a colon-separated list (h=, q=, s=, t=, key h=) and removes FWS from each element.
/// Empty elements are kept as empty strings (callers decide).
std::vector<std::string> split_colon_list(std::string_view value);

/// The fields that h= selects, in h= order (RFC 6376 §5.4.2): each name takes the next unused
/// instance counting from the bottom; a name with no instance left contributes nothing.
std::vector<const mail::Field*> select_headers(const std::vector<mail::Field>& fields,
                                               const std::vector<std::string>& names);

/// Splits a header section (CRLF or LF) into the raw bytes of each field, folding kept, line
/// end of the last line of each field included. Never fails.
std::vector<std::string_view> split_header_fields(std::string_view header);

/// Appends the canonical form of one header field (as canonicalize_header_no_crlf, without
/// the CRLF) to `out`, so the header hash input is built in one buffer.
void append_canonical_header(Canon c, std::string_view raw_field, std::string& out);

/// Lower-cased copy (ASCII).
std::string lower(std::string_view s);

/// Appends one received header field to `headers`, keeping the header section within
/// mail::kMaxHeaderFields fields and mail::kMaxHeaderBytes bytes (shared by Signer and Verifier).
Result<void> append_header_bounded(std::vector<mail::Field>& headers, std::size_t& header_bytes,
                                   mail::Field f);

}  // namespace auth::dkim::internal
