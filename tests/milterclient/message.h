// inkan::milterclient — a mail message as an MTA hands it to a milter, and the result of
// applying a milter's modifications to it. Pure (no sockets): used by the client, the tests
// and the benchmark load generator.
//
// An MTA sends header values with LF-only folding and without the space after the colon
// (unless SMFIP_HDR_LEADSPC was negotiated), and the body with CRLF line ends
// (Postfix milter8.c / sendmail). Modifications are applied in the order received:
// ADDHEADER appends, INSHEADER inserts at a 0-based position, CHGHEADER replaces (empty
// value: deletes) the N-th occurrence (1-based) of a name and appends when there is none
// (libmilter smfi_chgheader(3)), REPLBODY chunks replace the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace inkan::milterclient {

/// Most header fields read from one message (local policy; RFC 5322 sets no limit).
inline constexpr std::size_t kMaxHeaderFields = 10000;

struct HeaderField {
  std::string name;
  /// The value after the colon, LF-folded ("a\n\tb"), with the original leading white space.
  std::string raw_value;
  friend bool operator==(const HeaderField&, const HeaderField&) = default;
};

struct Message {
  std::vector<HeaderField> headers;
  std::string body;  ///< CRLF line ends

  /// The value as the MTA sends it: without leading space unless `leading_space`.
  static std::string wire_value(const HeaderField& h, bool leading_space);
};

/// Parses an RFC 5322 message (CRLF or LF line ends; a missing blank line means "no body").
/// Errors: Syntax for a header line without a colon or a first line that is a continuation,
/// LimitExceeded beyond kMaxHeaderFields.
auth::Result<Message> parse_message(std::string_view text);

/// One modification a milter asked for.
struct Modification {
  enum class Kind {
    AddHeader, InsertHeader, ChangeHeader, ReplaceBody, AddRcpt, DeleteRcpt, ChangeFrom, Quarantine,
  };
  Kind kind = Kind::AddHeader;
  std::uint32_t index = 0;  ///< InsertHeader position / ChangeHeader occurrence
  std::string name;         ///< header name, recipient, sender, quarantine reason
  std::string value;        ///< header value as sent (LF folding), body chunk, ESMTP args
  friend bool operator==(const Modification&, const Modification&) = default;
};

std::string_view to_string(Modification::Kind k) noexcept;

/// Applies header and body modifications in order (envelope ones are ignored here).
/// `leading_space`: whether SMFIP_HDR_LEADSPC was negotiated, i.e. values carry their own
/// leading space; otherwise one SP is added after the colon, as Postfix does.
Message apply_modifications(const Message& m, const std::vector<Modification>& mods, bool leading_space);

/// Renders a message with CRLF line ends (folds become CRLF + the folding white space).
std::string render_message(const Message& m);

/// Splits a body into BODY chunks of at most `chunk` bytes (65535 for Postfix).
std::vector<std::string_view> body_chunks(std::string_view body, std::size_t chunk = 65535);

}  // namespace inkan::milterclient
