// inkan::milter — what a milter session answers, and the checks on everything it sends back.
//
// Pure: no libmilter here. The glue (runtime.cpp) maps a Verdict onto SMFIS_* and calls
// smfi_setreply / smfi_*header with values that passed the checks below, so nothing a daemon
// builds from attacker text can inject CR/LF into an SMTP reply or a new header line
// (STYLE.md "Output is sanitised too").
//   - SMTP reply codes: RFC 5321 §4.2 (3-digit code), RFC 3463 §2 (enhanced status code).
//   - Header fields: RFC 5322 §2.2 (field name = printable US-ASCII except ':'), §2.1.1 (998).
//   - Milter header values use LF-only folding ("\n\t"), as Postfix and sendmail send them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace inkan::milter {

/// libmilter refuses reply text longer than this (smfi.c MAXREPLYLEN).
inline constexpr std::size_t kMaxReplyText = 980;
/// RFC 5322 §2.1.1: a line must not exceed 998 characters; a field name is on one line.
inline constexpr std::size_t kMaxHeaderNameLength = 998;
/// Longest header value we hand to the MTA (local policy; folded values are longer than 998).
inline constexpr std::size_t kMaxHeaderValueLength = 64 * 1024;

/// What the MTA is told at a protocol step.
enum class Verdict {
  Continue,    ///< go on with the next step
  Accept,      ///< accept; the milter sees nothing more of this message (at connect: of the session)
  Reject,      ///< 5xx
  TempFail,    ///< 4xx
  Discard,     ///< accept and silently drop (message steps only)
  Quarantine,  ///< hold the message in the MTA's queue (EOM only), then continue as Accept
  Skip,        ///< skip the rest of the body (body step only, if the MTA supports SMFIP_SKIP)
};

/// The configurable answer when a daemon fails internally (anchor §1.4 milter_default_action).
enum class DefaultAction { Accept, TempFail };

/// An explicit SMTP reply; omitted fields let the MTA choose.
struct Reply {
  std::string rcode;  ///< "550", "451": must agree with the verdict (5xx reject, 4xx tempfail)
  std::string xcode;  ///< RFC 3463 enhanced code "5.7.1", or empty
  std::string text;   ///< human text, or empty

  friend bool operator==(const Reply&, const Reply&) = default;
};

/// A session's answer at one step.
struct Action {
  Verdict verdict = Verdict::Continue;
  std::optional<Reply> reply;    ///< only for Reject / TempFail
  std::string quarantine_reason; ///< only for Quarantine

  static Action cont() { return {}; }
  static Action accept() { return {Verdict::Accept, std::nullopt, {}}; }
  static Action discard() { return {Verdict::Discard, std::nullopt, {}}; }
  static Action skip() { return {Verdict::Skip, std::nullopt, {}}; }
  static Action quarantine(std::string reason) {
    return {Verdict::Quarantine, std::nullopt, std::move(reason)};
  }
  static Action reject(std::string rcode = {}, std::string xcode = {}, std::string text = {});
  static Action tempfail(std::string rcode = {}, std::string xcode = {}, std::string text = {});
  /// The action a DefaultAction stands for (TempFail carries no reply: the MTA's 4xx text).
  static Action from_default(DefaultAction d);

  bool operator==(const Action&) const = default;
};

/// "continue", "accept", "reject", "tempfail", "discard", "quarantine", "skip".
std::string_view to_string(Verdict v) noexcept;
/// "accept" / "tempfail".
std::string_view to_string(DefaultAction d) noexcept;
/// Parses "accept" / "tempfail" (case-insensitive; "a"/"t" as opendkim's On-* first letter).
std::optional<DefaultAction> parse_default_action(std::string_view text) noexcept;

/// Makes a reply safe for smfi_setreply, consistent with `verdict`:
///  - rcode must be 3 digits, first digit 5 for Reject and 4 for TempFail (RFC 5321 §4.2);
///    empty rcode with non-empty xcode/text gets "550"/"451";
///  - xcode, if given, must be class.subject.detail with class equal to rcode's first digit
///    (RFC 3463 §2: class 1 digit, subject and detail 1..3 digits);
///  - text: CR, LF, NUL and other controls become SP, '%' is doubled (libmilter/Postfix treat
///    it as an escape), truncated to kMaxReplyText bytes.
/// Errors: Invalid for a malformed or inconsistent rcode/xcode, or a verdict that takes no reply.
auth::Result<Reply> sanitize_reply(Verdict verdict, const Reply& reply);

/// Checks a header field name: 1..998 printable US-ASCII characters except ':' (RFC 5322 §2.2).
/// Errors: Syntax naming the offending byte, LimitExceeded.
auth::Result<void> validate_header_name(std::string_view name);

/// Turns a header value into milter form: CRLF → LF; every LF must start a folded line
/// (followed by SP or HTAB), so the value cannot start a new header; no NUL, no bare CR.
/// Errors: Syntax (bare CR, NUL, LF not followed by WSP, trailing LF), LimitExceeded.
auth::Result<std::string> normalize_header_value(std::string_view value);

}  // namespace inkan::milter
