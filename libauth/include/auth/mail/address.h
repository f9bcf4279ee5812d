// auth::mail addresses — RFC 5322 address lists and the author domain(s) of a message.
//
// Owns: address-list / mailbox-list parsing (RFC 5322 §3.4: name-addr, angle-addr, addr-spec,
// group; §3.2.2 CFWS with nested comments; §3.2.4 quoted strings with quoted-pairs; §3.4.1
// domain literals), the obsolete forms real mail still carries (§4.4: obs-route
// `<@a,@b:user@c>`, obs-local-part with CFWS around dots, obs-phrase with dots in unquoted
// display names, empty list elements `a@b,,c@d`), and From-domain extraction for DMARC
// (RFC 7489 §3.1.1, §6.6.1) and DKIM.
//
// The parser is iterative: comments nest with a depth counter (Postfix tok822_comment), never
// recursion, and every count is bounded by a named constant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::mail {

/// Most mailboxes accepted in one address list (local policy, not RFC; cf. Postfix
/// header_address_token_limit = 10240 tokens). More fails with ErrorCode::LimitExceeded.
inline constexpr std::size_t kMaxMailboxes = 1000;
/// Deepest comment nesting accepted, RFC 5322 §3.2.2 allows any (local policy; Postfix
/// tok822 counts depth the same way). Deeper fails with ErrorCode::LimitExceeded.
inline constexpr std::size_t kMaxCommentDepth = 64;
/// Largest address-list input accepted in bytes (same hard cap as one header field).
inline constexpr std::size_t kMaxAddressListBytes = 64 * 1024;

/// One mailbox from an address list.
struct Mailbox {
  /// Display name as text: quotes removed, quoted-pairs resolved, comments dropped, runs of
  /// whitespace collapsed to one SP. 8-bit bytes are kept as-is; RFC 2047 encoded-words are not
  /// decoded. Empty for a bare addr-spec.
  std::string display_name;
  /// Local part as it would be written in an addr-spec: CFWS removed, dot-atoms joined with
  /// '.', quoted strings kept with their quotes and escapes (RFC 5322 §3.4.1, §4.4).
  std::string local_part;
  /// Domain as written (case preserved, CFWS removed); a domain literal keeps its brackets,
  /// e.g. "[192.0.2.1]".
  std::string domain;
  /// Display name of the group this mailbox belongs to, empty outside a group (§3.4).
  std::string group;

  /// "local_part@domain".
  std::string addr_spec() const { return local_part + "@" + domain; }
  /// True for a domain literal ("[...]").
  bool domain_is_literal() const noexcept { return !domain.empty() && domain.front() == '['; }
  friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

/// Parses an address-list (RFC 5322 §3.4, with §4.4 obsolete forms) such as the unfolded value
/// of To/Cc/From/Reply-To. Groups contribute their members (an empty group contributes none).
/// Errors: Syntax (unbalanced quotes, comments or angle brackets, missing '@', missing
/// separator between addresses, stray bytes), LimitExceeded (kMaxMailboxes,
/// kMaxCommentDepth, kMaxAddressListBytes). An empty or CFWS-only list yields an empty vector.
Result<std::vector<Mailbox>> parse_address_list(std::string_view value);

/// All distinct author domains of a From field value, lower-cased (ASCII), in order of first
/// appearance; for DMARC (RFC 7489 §3.1.1) and DKIM (RFC 6376 §5.4 From is required).
/// Errors: Missing (no mailbox at all: empty value, empty group), Syntax (unparsable value),
/// LimitExceeded (a bound of parse_address_list), Invalid (an empty domain).
Result<std::vector<std::string>> author_domains(std::string_view from_value);

/// The one author domain of a From field value (lower-cased). Several mailboxes in one domain
/// are fine; several distinct domains are ambiguous (RFC 7489 §6.6.1) and fail with
/// ErrorCode::Duplicate. Other errors as author_domains.
Result<std::string> single_author_domain(std::string_view from_value);

}  // namespace auth::mail
