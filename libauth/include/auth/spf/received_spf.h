// auth::spf Received-SPF — the trace header of RFC 7208 §9.1, in the exact form
// postfix-policyd-spf(-python) writes it (shared/reference/anchor-features.md §5.4), and the
// comment/explanation words pyspf uses.
//
//   Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; helo=mail.example.com;
//   envelope-from=user@example.com; receiver=example.org    <- one line, with a trailing space
//
// Pure formatting; values are sanitised (no CR, LF, NUL or other control characters).
#pragma once

#include <string>
#include <string_view>

#include "auth/spf/evaluator.h"

namespace auth::spf {

/// Result word capitalised as policyd-spf writes it: "Pass", "Fail", "Softfail", "Neutral",
/// "None", "Permerror", "Temperror".
const char* capitalized(SpfResult r) noexcept;

/// pyspf's explanation word for a result, used by policyd-spf as the comment of HELO headers
/// and of Authentication-Results: pass "sender SPF authorized", fail "SPF fail - not
/// authorized", softfail "domain owner discourages use of this host", neutral "access neither
/// permitted nor denied", none "no SPF record", permerror "permanent error in processing",
/// temperror "temporary DNS error in processing".
const char* result_comment(SpfResult r) noexcept;

/// What goes into one Received-SPF field.
struct ReceivedSpf {
  SpfResult result = SpfResult::None;
  Identity identity = Identity::MailFrom;
  std::string comment;        ///< without parentheses; see policyd_comment()
  std::string client_ip;
  std::string helo;
  std::string envelope_from;  ///< "" → written as "<>" (the null sender)
  std::string receiver;       ///< policyd-spf: the recipient domain, or "<UNKNOWN>" if hidden
  std::string mechanism;      ///< RFC 7208 style only: `mechanism=` (omitted if empty)
  std::string problem;        ///< RFC 7208 style only: `problem=` (omitted if empty)
};

/// Layout of the field.
enum class ReceivedSpfStyle {
  /// postfix-policyd-spf-python, byte for byte: `Result (comment) identity=..; client-ip=..;
  /// helo=..; envelope-from=..; receiver=.. ` (trailing space; no mechanism/problem).
  PolicydSpf,
  /// RFC 7208 §9.1 with every key: `result (comment) client-ip=..; envelope-from=..; helo=..;
  /// receiver=..; mechanism=..; problem=..; identity=..` (lower-case result, no trailing space;
  /// values that are not dot-atoms are quoted).
  Rfc7208,
};

/// The comment policyd-spf writes: "mailfrom" for MAIL FROM results, result_comment() for
/// HELO results.
std::string policyd_comment(SpfResult r, Identity identity);

/// Builds a ReceivedSpf from a check result: comment = policyd_comment(), except for HELO
/// results where policyd-spf shows pyspf's explanation (the explanation on fail,
/// "SPF Permanent Error: <problem>" / "SPF Temporary Error: <problem>" on errors);
/// envelope_from = `mail_from` ("" and "<>" both mean the null sender); mechanism and problem
/// copied for the RFC 7208 layout.
ReceivedSpf make_received_spf(const CheckResult& result, std::string_view mail_from,
                              std::string_view receiver);

/// The field value (after "Received-SPF: ").
std::string format_received_spf_value(const ReceivedSpf& f,
                                      ReceivedSpfStyle style = ReceivedSpfStyle::PolicydSpf);

/// The whole field "Received-SPF: <value>", unfolded, as policyd-spf prepends it.
std::string format_received_spf(const ReceivedSpf& f,
                                ReceivedSpfStyle style = ReceivedSpfStyle::PolicydSpf);

}  // namespace auth::spf
