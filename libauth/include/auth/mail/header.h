// auth::mail header fields — the header section of an RFC 5322 message as raw bytes and meaning.
//
// Owns: splitting a message into header section and body (RFC 5322 §2.1), splitting the header
// section into fields (§2.2, §3.6.8 field-name, §4.5 obs-fields with WSP before the colon),
// unfolding (§2.2.3), LF → CRLF repair for LF-only input (RFC 5322 §2.1 requires CRLF), and
// case-insensitive lookup (§1.2.2).
//
// Each Field keeps its exact bytes (`raw`: name, colon, value and folding CRLFs, without the
// terminating CRLF), which DKIM "simple" canonicalization hashes unchanged (RFC 6376 §3.4.1),
// next to the unfolded value used for meaning. A milter receives name/value pairs one at a time
// with LF-only folding and without the space after the colon; Field::from_milter rebuilds the
// raw form the way OpenDKIM/Postfix do (`Name: value`, CRLF folding).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::mail {

/// RFC 5322 §2.1.1: lines SHOULD NOT exceed 78 and MUST NOT exceed 998 characters (excl. CRLF).
/// Longer lines are tolerated (real mail has them) and counted in HeaderBlock::overlong_lines.
inline constexpr std::size_t kMaxLineLength = 998;
/// Hard cap on one field including folding (local policy, not RFC; cf. OpenSMTPD val.bufmax,
/// Postfix header_size_limit = 102400). A larger field fails with ErrorCode::LimitExceeded.
inline constexpr std::size_t kMaxFieldBytes = 64 * 1024;
/// Hard cap on the number of fields in one header section (local policy, not RFC; cf. rspamd
/// headers_limit_reached and OpenDKIM's MaximumHeaders bound on the header block).
inline constexpr std::size_t kMaxHeaderFields = 1000;
/// Hard cap on the whole header section in bytes (local policy, not RFC; OpenDKIM
/// MaximumHeaders defaults to 65536 and is usually raised; 1 MiB covers long ARC chains).
inline constexpr std::size_t kMaxHeaderBytes = 1024 * 1024;

/// How a milter delivered a header value (see shared/reference/anchor-features.md §1.4).
enum class LeadingSpace {
  Stripped,  ///< SMFIP_HDR_LEADSPC not negotiated: the MTA removed the space after the colon
  Included,  ///< SMFIP_HDR_LEADSPC negotiated: the value holds the bytes after the colon as-is
};

/// One header field: exact bytes for cryptography plus the parsed view for meaning.
struct Field {
  /// Exact bytes "Name: value" including folding CRLFs, WITHOUT the terminating CRLF.
  /// DKIM simple canonicalization = raw + "\r\n" (RFC 6376 §3.4.1).
  std::string raw;
  /// Field name with case preserved and obsolete WSP before the colon removed (RFC 5322 §4.5.8).
  std::string name;
  /// Unfolded value (RFC 5322 §2.2.3: every CRLF followed by WSP removed), leading and trailing
  /// WSP trimmed. Encoded-words (RFC 2047) are not decoded.
  std::string value;
  /// Offset of the ':' in `raw`.
  std::size_t colon = 0;

  /// The bytes after the colon exactly as received (folding kept, leading space kept);
  /// what DKIM relaxed canonicalization works on (RFC 6376 §3.4.2).
  std::string_view raw_value() const noexcept {
    return std::string_view(raw).substr(colon + 1);
  }

  /// True when the field name equals `n` ignoring ASCII case (RFC 5322 §1.2.2).
  bool is(std::string_view n) const noexcept;

  /// Parses one field from its raw bytes (folding lines included, terminating CRLF optional).
  /// Bare LF is turned into CRLF first.
  /// Errors: Syntax (no colon, empty name, name byte outside %d33-126 / a line after the first
  /// that does not start with WSP), LimitExceeded (more than kMaxFieldBytes).
  static Result<Field> parse(std::string_view raw);

  /// Rebuilds a field from a milter header callback (xxfi_header name/value). Postfix
  /// (milter8.c milter8_header) drops WSP before the colon and, without SMFIP_HDR_LEADSPC,
  /// eats exactly one SP (not a tab) after it. With LeadingSpace::Stripped this inserts exactly
  /// one SP after the colon as OpenDKIM does, which is exact for the usual `Name: value`; a field
  /// sent as `Name:value` comes back as `Name: value` (the anchors share this limitation);
  /// with LeadingSpace::Included the value is appended unchanged. Bare LF in the value (Postfix
  /// sends LF-only folding) becomes CRLF.
  /// Errors as Field::parse (Syntax for a bad name, LimitExceeded for oversize).
  static Result<Field> from_milter(std::string_view name, std::string_view value,
                                   LeadingSpace lead = LeadingSpace::Stripped);
};

/// The header section of one message, fields in the order received.
struct HeaderBlock {
  std::vector<Field> fields;
  /// Lines longer than kMaxLineLength (accepted, but worth a warning).
  std::size_t overlong_lines = 0;
  /// True when bare LF line ends were converted to CRLF while parsing.
  bool repaired_line_ends = false;

  /// Every field named `name` (ASCII case-insensitive), in order of appearance (top first).
  std::vector<const Field*> find_all(std::string_view name) const;
  /// The first (topmost) field named `name`, or nullptr.
  const Field* find_first(std::string_view name) const;
  /// Number of fields named `name`.
  std::size_t count(std::string_view name) const;
};

/// A message cut at the first empty line (RFC 5322 §2.1).
struct MessageParts {
  /// The header section including the line break that ends its last field, without the empty
  /// line. Empty when the message starts with an empty line.
  std::string_view header;
  /// Everything after the empty line; empty when there is no empty line.
  std::string_view body;
  /// Offset of `body` in the message (== message size when there is no body separator).
  std::size_t body_offset = 0;
  /// False when the message has no empty line at all (header-only message).
  bool has_separator = false;
};

/// Converts every bare LF (not preceded by CR) into CRLF; existing CRLF and lone CR are kept.
/// Works on single values, header sections and whole messages alike.
std::string to_crlf(std::string_view text);

/// True when `text` holds an LF not preceded by CR, i.e. when to_crlf(text) would differ from
/// `text` (callers skip the copy otherwise).
bool has_bare_lf(std::string_view text) noexcept;

/// Splits a message at the first empty line. Accepts CRLF and LF-only line ends (the empty
/// line may be "\r\n" or "\n"). Never fails: no separator means header-only.
MessageParts split_message(std::string_view message);

/// Unfolds a raw field value: removes every CRLF (or bare LF) that is followed by WSP
/// (RFC 5322 §2.2.3) and trims leading/trailing WSP. Other bytes are kept unchanged.
std::string unfold(std::string_view raw_value);

/// Parses a header section (or a whole message: parsing stops at the first empty line) into
/// fields. LF-only input is converted to CRLF first, so Field::raw is always CRLF-folded.
/// Errors: Syntax (continuation line before the first field, line without a colon, bad
/// field-name byte), LimitExceeded (kMaxHeaderFields, kMaxFieldBytes, kMaxHeaderBytes).
Result<HeaderBlock> parse_header_block(std::string_view header);

}  // namespace auth::mail
