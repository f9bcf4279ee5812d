// inkan-dkim core — the pure half of the DKIM milter (no libmilter): the sign-or-verify
// decision (anchor-features.md §2.4), the Authentication-Results value in OpenDKIM's exact
// form (§2.6; RFC 8601 §2.2, §2.7.1, RFC 6008 header.b), the forged-AR test (RFC 8601 §5),
// and the On-* action table with OpenDKIM's reply texts (§2.7, dkimf_libstatus); the local
// verification policies RequiredHeaders (RFC 5322 §3.6 counts), Minimum and MustBeSigned
// (man:opendkim.conf(5)); and the output of opendkim's test modes `-t` and `-Q` (§2.2).
// Unit-tested without a daemon (milters/dkim/tests).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/dataset.h"
#include "auth/config/dkim.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "auth/mail/header.h"
#include "auth/net/hostlist.h"
#include "auth/net/ip.h"
#include "common/action.h"

namespace inkan::dkim {

/// OpenDKIM's header folding margin (libopendkim DKIM_HDRMARGIN).
inline constexpr std::size_t kHeaderMargin = 75;

/// The parsed host lists of a configuration (built once per load).
struct HostLists {
  auth::net::HostList internal;
  auth::net::HostList external_ignore;
  auth::net::HostList peers;
};
/// Parses the three host lists. Errors name the list: "InternalHosts: line 3: ...".
auth::Result<HostLists> build_host_lists(const auth::config::DkimSettings& s);

/// What the MTA told us about the client and the transaction.
struct Origin {
  std::optional<auth::net::IpAddress> ip;
  std::string hostname;     ///< verified name or "[192.0.2.1]"
  std::string auth_type;    ///< {auth_type} (empty: not authenticated)
  std::string auth_authen;  ///< {auth_authen}
  std::string daemon_name;  ///< {daemon_name}
  /// Values of MacroList macros, name as configured → value (absent = not sent).
  std::vector<std::pair<std::string, std::string>> macros;
};

/// originok of §2.4, with the reason for LogWhy.
struct OriginDecision {
  bool internal = false;
  std::string why;  ///< "internal host", "authenticated (PLAIN)", "MTA 'ORIGINATING'", or
                    ///< "<host> [<ip>] not internal; not authenticated"
};
OriginDecision decide_origin(const auth::config::DkimSettings& s, const HostLists& hosts,
                             const Origin& o);

/// DontSignMailTo: true when any recipient (lower-cased "user@domain", angle brackets
/// stripped) matches an entry: the address, its domain, or a ".parent" suffix of the domain.
bool dont_sign_to(const std::vector<std::string>& list, const std::vector<std::string>& rcpts);
/// ExemptDomains: the domain, or a ".parent" entry covering it.
bool domain_listed(const std::vector<std::string>& list, std::string_view domain);

/* ---------------- signing options (OpenDKIM keywords) ---------------- */

/// The sender the signing decision uses (opendkim.c mlfi_eoh): the SenderMacro value when
/// the MTA sent that macro non-empty, else the first SenderHeaders field present (default
/// From), its first mailbox.
struct Sender {
  enum class Source { None, Macro, Header };
  Source source = Source::None;
  std::string local;   ///< local part as written
  std::string domain;  ///< lower-cased; empty when nothing (parsable) was found
  std::string raw;     ///< the macro or field value it came from (for logs)
  /// The value was there but is no address with a domain. For the macro OpenDKIM then
  /// neither signs nor verifies: "dkim=permerror (bad message/signature format)".
  bool unparsable = false;
};
/// `macro_value`: the SenderMacro's value as the MTA sent it (nullopt when the macro is not
/// configured or not sent); an empty value falls back to the headers, as OpenDKIM does.
Sender find_sender(const auth::config::DkimSettings& s, const std::optional<std::string>& macro_value,
                   const std::vector<auth::mail::Field>& headers);

/// BodyLengthDB: the keys opendkim.c dkimf_checkbldb looks up, in order, for one envelope
/// recipient ("<user@a.b.c>", brackets optional), lower-cased: user@a.b.c, *@a.b.c,
/// user@.b.c, *@.b.c, user@.c, *@.c, user@*, *. Empty for a recipient without '@' or with
/// an empty domain (dkim_mail_parse fails: never matches). The domain part is taken after
/// the last '@'; at most kMaxBodyLengthLabels parent levels are tried.
std::vector<std::string> body_length_keys(std::string_view rcpt);
/// Parent domains tried per recipient (local bound; a DNS name has at most 127 labels).
inline constexpr std::size_t kMaxBodyLengthLabels = 127;
/// The first recipient (as given) any of whose body_length_keys() is in `list`
/// (lower-case entries); nullopt when none or the list is empty.
std::optional<std::string> body_length_recipient(const std::vector<std::string>& list,
                                                 const std::vector<std::string>& rcpts);

/// SelectCanonicalizationHeader (OpenDKIM develop mlfi_header): `base` adjusted by every
/// field called `name` (case-insensitive), top to bottom. A value "h/b" sets the header and
/// body canonicalization, "h" the header one only; each part is "relaxed" or "simple" in any
/// case, surrounding blanks ignored, an unknown part is ignored (the other part still
/// applies). `name` empty = `base` unchanged. `ignored` (optional) receives each value with
/// an unknown part, for the log.
auth::dkim::Canonicalization select_canonicalization(auth::dkim::Canonicalization base, std::string_view name,
                                                     const std::vector<auth::mail::Field>& headers,
                                                     std::vector<std::string>* ignored = nullptr);

/// How a verification outcome is classified for the On-* table.
enum class Outcome { Pass, NoSignature, BadSignature, SyntaxError, KeyNotFound, KeyRevoked,
                     DnsError, Security, Internal, SignatureError };

/// The outcome that decides the message: pass if any checked signature passed, else the
/// first checked signature's problem, top down (OpenDKIM reports the first).
Outcome classify(const std::vector<auth::dkim::SignatureResult>& results);

/// The configured On-* action for an outcome.
auth::config::DkimAction action_for(const auth::config::DkimActions& a, Outcome o);

/// The milter Action for a DkimAction and outcome, with OpenDKIM's replies (§2.7):
/// reject → 550 5.7.0 <text>; tempfail → 451 4.7.5 <text> for key failures, 451 4.7.0
/// otherwise; a revoked key rejected without text. Accept/Quarantine → Action::accept() /
/// Action::quarantine(text) (the caller still adds its headers).
milter::Action milter_action(auth::config::DkimAction a, Outcome o);

/// The reply text for an outcome ("bad DKIM signature data", "DKIM key retrieval failed" ...).
std::string_view reply_text(Outcome o) noexcept;

/// Options for the Authentication-Results value.
struct ArOptions {
  std::string authserv_id;  ///< already with "/jobid" when AuthservIDWithJobID
  bool header_b = true;     ///< !NoHeaderB
  /// Add "; unprotected" to the key-size comment (OpenDKIM with libunbound and no DNSSEC).
  bool unprotected = true;
  auth::config::KeyTrustAction unprotected_key = auth::config::KeyTrustAction::None;
  std::size_t name_length = 22;  ///< "Authentication-Results" (for the folding margin)
};

/// One "dkim=..." clause for a signature, as OpenDKIM writes it; empty for signatures that
/// were not checked (beyond MaximumSignaturesToVerify).
std::string format_ar_clause(const auth::dkim::SignatureResult& r, const ArOptions& o);

/// The header value (without the leading space) "id;\n\tdkim=pass (...) ...": clauses joined
/// by ';', each clause on its own "\n\t" line when the running line would pass the margin.
/// No results → "id; dkim=none".
std::string format_ar_value(const std::vector<auth::dkim::SignatureResult>& results,
                            const ArOptions& o);

/* ---------------- verification policies (OpenDKIM options) ---------------- */

/// RequiredHeaders (-r): the RFC 5322 §3.6 field-count rules OpenDKIM checks, in its order:
/// exactly one From and one Date; at most one Reply-To, To, Cc, Bcc, Message-Id, In-Reply-To,
/// References and Subject. Returns OpenDKIM's text for the first rule broken
/// ("message does not have exactly one From field", "message has multiple To fields"), or
/// nullopt when the header block conforms. OpenDKIM rejects such a message at end of headers
/// with 550 5.0.0 and that text (lab: opendkim 2.11 -t -vv), whatever the On-* settings.
std::optional<std::string> check_required_headers(const std::vector<auth::mail::Field>& headers);

/// Minimum (-L): true when a signature that covers `signed_bytes` of a canonical body of
/// `body_bytes` is acceptable (opendkim.c mlfi_eom: Bytes → signed ≥ min(value, body);
/// Percent → 100·signed/body ≥ value; MaxAppended → signed + value ≥ body). value 0 always
/// passes. An empty body counts as fully signed.
bool minimum_satisfied(const auth::config::BodyMinimum& m, std::uint64_t signed_bytes,
                       std::uint64_t body_bytes) noexcept;

/// MustBeSigned: the first name of `must_be_signed` (lower-case) present in `headers` but
/// not listed in the signature's h= (`signed_headers`); nullopt when all are covered.
std::optional<std::string> unsigned_required_header(const std::vector<std::string>& must_be_signed,
                                                    const std::vector<std::string>& signed_headers,
                                                    const std::vector<auth::mail::Field>& headers);

/// The reason texts of the two post-verification policies (OpenDKIM's words).
inline constexpr std::string_view kReasonUnprotectedField = "unprotected header field";
inline constexpr std::string_view kReasonPartial = "partial verification";

/// Applies MustBeSigned and Minimum to the passing results of a message whose header block
/// is `headers` (the DKIM-Signature fields are found by SignatureResult::field_index):
/// a pass that leaves a MustBeSigned field unsigned becomes fail "unprotected header field"
/// (libopendkim DKIM_SIGERROR_MBSFAILED, lab-verified), a pass whose l= covers too little
/// becomes permerror "partial verification" (OpenDKIM DKIMF_STATUS_PARTIAL). Returns how
/// many results were changed.
std::size_t apply_verify_policies(std::vector<auth::dkim::SignatureResult>& results,
                                  const auth::config::DkimSettings& s,
                                  const std::vector<auth::mail::Field>& headers);

/* ---------------- test modes (opendkim -t / -Q) ---------------- */

/// libopendkim's dkim_sig_geterrorstr() text for a failed signature, as `opendkim -t` prints
/// it: "signature verification failed", "key not found in DNS", "key DNS query failed",
/// "signature expired", "signing key too small", "key revoked", or the result's own reason.
std::string verification_error_text(const auth::dkim::SignatureResult& r);

/// The line `opendkim -t` prints on stdout for a verified message (test.c dkimf_testfile),
/// without the newline: "<prog>: <file>: verification (s=S, d=D, N-bit key) succeeded",
/// "<prog>: <file>: verification (s=S d=D, N-bit key, unknown) failed: <why>" or
/// "<prog>: <file>: message not signed". The primary signature is the first that passed,
/// else the first checked one (libopendkim dkim_getsignature).
std::string format_test_verification(std::string_view prog, std::string_view file,
                                     const std::vector<auth::dkim::SignatureResult>& results);

/// What `opendkim -Q` answers for one query line "key/n" against a dataset.
struct QueryAnswer {
  std::string out;    ///< stdout
  std::string err;    ///< stderr
  int exit_code = 0;  ///< 0, or 64 (EX_USAGE) for a malformed query
};
/// opendkim -Q (lab-verified against opendkim 2.11): "key/n" looks `key` up (case as the
/// dataset is opened) and prints the first `n` colon-separated fields of its value, the last
/// taking the rest, each as 'field' on its own line (an empty field before the last as
/// <empty>), then an empty line. Not found: "<prog>: dkimf_db_get(): record not found" and an
/// empty line on stdout. Fewer fields than `n`: `<prog>: dkimf_db_get() returned -1: "Success"`
/// on stderr, an empty line on stdout. No '/' or a negative n: "<prog>: invalid query 'q'"
/// on stderr, exit 64. A non-numeric n counts as 0 (atoi).
QueryAnswer answer_dataset_query(const auth::config::Dataset& d, std::string_view query,
                                 std::string_view prog);

/// The Authentication-Results value OpenDKIM writes when verification cannot start because
/// the From field is missing or unparsable (libopendkim DKIM_STAT_SYNTAX → BADFORMAT; lab:
/// opendkim 2.11 -t): "id; dkim=permerror (bad message/signature format)".
std::string format_ar_bad_format(const ArOptions& o);

/// The authserv-id of an Authentication-Results value (RFC 8601 §2.2): the first token,
/// CFWS and a version number skipped; empty if none.
std::string ar_authserv_id(std::string_view value);
/// True when an existing AR field must be deleted before ours (RFC 8601 §5; OpenDKIM: ours
/// with a dkim result; RemoveARAll: ours whatever the method; RemoveARFrom: listed hosts or
/// ".domain" suffixes).
bool should_remove_ar(std::string_view value, std::string_view our_id,
                      const auth::config::DkimSettings& s);

/// A generated field ("DKIM-Signature: v=1; ...", CRLF folding) → (name, milter value with
/// LF folding, without the leading space). nullopt when it is not "Name: value".
std::optional<std::pair<std::string, std::string>> split_field(std::string_view field);

}  // namespace inkan::dkim
