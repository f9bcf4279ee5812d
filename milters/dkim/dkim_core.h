// inkan-dkim core — the pure half of the DKIM milter (no libmilter): the sign-or-verify
// decision (anchor-features.md §2.4), the Authentication-Results value in OpenDKIM's exact
// form (§2.6; RFC 8601 §2.2, §2.7.1, RFC 6008 header.b), the forged-AR test (RFC 8601 §5),
// and the On-* action table with OpenDKIM's reply texts (§2.7, dkimf_libstatus); the local
// verification policies RequiredHeaders (RFC 5322 §3.6 counts), Minimum and MustBeSigned
// (man:opendkim.conf(5)); Quarantine and CaptureUnknownErrors; the SendReports failure
// report (RFC 6651 record and request, RFC 6591 / RFC 5965 report format, as opendkim.c
// dkimf_sigreport writes it); the output of opendkim's test modes `-t` and `-Q` (§2.2); and the
// per-message lookups of live data sets (dsn:, ldap:) in OpenDKIM's key order (dkimf_checkhost,
// dkimf_checkip, dkimf_checkbldb; HostSet for InternalHosts / ExternalIgnoreList / PeerList).
// Unit-tested without a daemon (milters/dkim/tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
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

/// OpenDKIM's probe keys for a host name in a host list (util.c dkimf_checkhost): for the
/// name and then each ".suffix" of it ("a.b.c", ".b.c", ".c"), the negative key "!<probe>"
/// then "<probe>". The name is lower-cased (mlfi_connect lowers it) and one trailing dot
/// dropped; an empty or overlong (> 253) name has no probes.
std::vector<std::string> host_name_probes(std::string_view hostname);
/// dkimf_checkip's probe keys: "!ip", "ip", "![ip]", "[ip]", then for each prefix length from
/// 32 (IPv6: 128) down to 0 with the host bits cleared: "!net/len", "net/len", "![net]/len",
/// "[net]/len" (IPv4 dotted quad, IPv6 as inet_ntop writes it, lower case).
std::vector<std::string> host_ip_probes(const auth::net::IpAddress& ip);

/// The outcome of walking probe keys through a live data set.
struct LiveHostWalk {
  bool member = false;   ///< a positive key was found first
  bool decided = false;  ///< a key (positive or negative) was found, or a lookup failed
  std::string key;       ///< the key that decided, e.g. "!.example.com"
  std::string error;     ///< the failed lookup's reason (then member is false)
};
/// Asks `ds` for `probes` (pairs: negative, positive) in order, as dkimf_checkhost /
/// dkimf_checkip do: a negative hit ends the walk as not a member, a positive hit as a member,
/// and a failed lookup as not a member (opendkim returns FALSE without a log line).
LiveHostWalk walk_host_probes(auth::config::LiveDataset& ds, const std::vector<std::string>& probes);

/// One dkimf_db_get against a live per-message list (MTA, DontSignMailTo, ExemptDomains,
/// BodyLengthDB, ReplaceHeaders).
struct LiveListAnswer {
  bool found = false;
  std::string key;    ///< the key that was found (or whose lookup failed)
  std::string error;  ///< set when a lookup failed: dkimf_db_error's line, `error looking up
                      ///< "<key>" in database: <server's message>`
};
/// Asks `ds` for `key` exactly.
LiveListAnswer live_lookup(auth::config::LiveDataset& ds, std::string_view key);
/// DontSignMailTo as a live data set (opendkim.c mlfi_eoh): each envelope recipient, one pair
/// of angle brackets stripped and its case kept (mlfi_envrcpt), the last one first (opendkim
/// prepends to its list), asked exactly; stops at the first recipient found or lookup failed.
LiveListAnswer live_dont_sign_to(auth::config::LiveDataset& ds, const std::vector<std::string>& rcpts);
/// dkimf_checkbldb's keys for one recipient, case kept: user@host, *@host, user@.parent,
/// *@.parent, ..., user@*, *. None when the address has no '@' or an empty side.
std::vector<std::string> body_length_probes(std::string_view rcpt);
/// BodyLengthDB as a live data set: the recipients last first, each through
/// body_length_probes; a failed lookup is logged (`errors`) and the walk goes on, as
/// dkimf_checkbldb does. `found` with `key` = the recipient (brackets stripped) that matched.
LiveListAnswer live_body_length_recipient(auth::config::LiveDataset& ds, const std::vector<std::string>& rcpts,
                                          std::vector<std::string>* errors);

/// One host list (InternalHosts, ExternalIgnoreList, PeerList): the parsed entries of a
/// file:/refile:/csl: value, or a live data set (dsn:, ldap:) asked per connection with
/// OpenDKIM's probe keys. File-based lists are matched by auth::net::HostList alone.
class HostSet {
 public:
  HostSet() = default;
  HostSet(auth::net::HostList list) : list_(std::move(list)) {}  // NOLINT(google-explicit-constructor)
  explicit HostSet(std::shared_ptr<auth::config::LiveDataset> live) : live_(std::move(live)) {}
  bool empty() const noexcept { return !live_ && list_.empty(); }
  bool live() const noexcept { return live_ != nullptr; }
  /// Membership as HostList::match (checkhost(name) || checkip(ip); a "[a.b.c.d]" or
  /// "unknown" name is not probed as a name, a bracketed literal stands in for a missing
  /// address, an IPv4-mapped address no key decided is probed again as IPv4). A live lookup
  /// that fails counts as "not listed", as in opendkim; its reason goes to `*error` when given.
  bool match(const auth::net::IpAddress* ip, std::string_view hostname, std::string* error = nullptr) const;

 private:
  auth::net::HostList list_;
  std::shared_ptr<auth::config::LiveDataset> live_;
};

/// The parsed host lists of a configuration (built once per load).
struct HostLists {
  HostSet internal;
  HostSet external_ignore;
  HostSet peers;
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
  /// A live MTA or InternalHosts lookup failed (counted as "no match", as opendkim does): the
  /// dkimf_db_error line(s) to log, "; "-separated.
  std::string lookup_error;
  std::string why;  ///< "internal host", "authenticated (PLAIN)", "MTA 'ORIGINATING'", or
                    ///< "<host> [<ip>] not internal; not authenticated"
};
OriginDecision decide_origin(const auth::config::DkimSettings& s, const HostLists& hosts,
                             const Origin& o);

/// DontSignMailTo from a file or csl (lower-cased entries): the first recipient, last RCPT
/// first, whose address (<> pairs stripped) is an entry, compared without regard to case;
/// exact keys only, as opendkim's dkimf_db_get and live_dont_sign_to. nullopt: none.
std::optional<std::string> dont_sign_to(const std::vector<std::string>& list,
                                        const std::vector<std::string>& rcpts);
/// ExemptDomains from a file or csl (lower-cased entries): the lower-cased domain is an entry
/// (exact key only, as opendkim's dkimf_db_get and live_lookup).
bool domain_listed(const std::vector<std::string>& list, std::string_view domain);

/* ---------------- signing options (OpenDKIM keywords) ---------------- */

/// The sender the signing decision uses (opendkim.c mlfi_eoh): the SenderMacro value when
/// the MTA sent that macro non-empty, else the first SenderHeaders field present (default
/// From; when the list does not name From and none is present, From), its first mailbox.
struct Sender {
  enum class Source { None, Macro, Header };
  Source source = Source::None;
  std::string local;   ///< local part as written
  std::string domain;  ///< lower-cased; empty when nothing (parsable) was found
  std::string raw;     ///< the macro or field value it came from (for logs)
  std::string field_name;  ///< the header field's name as spelled in the message (Source::Header)
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
/// VerifyError: the deciding signature could not be verified at all (libopendkim DKIM_STAT_CANTVRFY,
/// e.g. t= in the future or x= expired beyond ClockDrift): accepted whatever On-* says, with its
/// "dkim=permerror" clause (opendkim.c mlfi_eom: DKIMF_STATUS_VERIFYERR takes no On-* action).
enum class Outcome { Pass, NoSignature, BadSignature, SyntaxError, KeyNotFound, KeyRevoked,
                     DnsError, Security, Internal, SignatureError, VerifyError };

/// The outcome that decides the message: pass if any checked signature passed, else the
/// first checked signature's problem, top down (OpenDKIM reports the first).
Outcome classify(const std::vector<auth::dkim::SignatureResult>& results);

/// UnprotectedKey's effect on the message (opendkim.c dkimf_ar_all_sigs sets the message
/// status while it writes the Authentication-Results clauses, and mlfi_eom acts on that status
/// afterwards): for each signature in order whose key answer was insecure, Fail makes the
/// status BAD (→ BadSignature, On-BadSignature; lab: 550 with On-BadSignature reject) and
/// Neutral makes it VERIFYERR (→ VerifyError: accepted; lab: with On-Default reject, and a bad
/// signature under On-BadSignature reject is accepted too). Returns nullopt when nothing
/// changes: None, no insecure key, or `report_dnssec` false (test keys).
std::optional<Outcome> unprotected_key_outcome(const std::vector<auth::dkim::SignatureResult>& results,
                                               auth::config::KeyTrustAction unprotected_key,
                                               bool report_dnssec);

/// The configured On-* action for an outcome.
auth::config::DkimAction action_for(const auth::config::DkimActions& a, Outcome o);

/// The reason an On-* "quarantine" gives smfi_quarantine: opendkim.c dkimf_miltercode passes
/// its program name (lab: opendkim 2.11 -t -vv prints "### QUARANTINE: reason='opendkim'").
/// opendkim's daemon asks the MTA for the quarantine action only when CaptureUnknownErrors is
/// set (mlfi_negotiate), so without it an On-* quarantine silently does nothing there (lab,
/// milter protocol); inkan-dkim always asks for it and quarantines, as opendkim.conf(5) says.
inline constexpr std::string_view kQuarantineReason = "inkan-dkim";

/// The milter Action for a DkimAction and outcome, with OpenDKIM's replies (§2.7):
/// reject → 550 5.7.0 <text>; tempfail → 451 4.7.5 <text> for key failures, 451 4.7.0
/// otherwise; a revoked key rejected without text. Accept → Action::accept(); Quarantine →
/// Action::quarantine(kQuarantineReason) (the caller still adds its headers).
milter::Action milter_action(auth::config::DkimAction a, Outcome o);

/// Quarantine (man:opendkim.conf(5): "messages which fail verification [are] quarantined"):
/// an outcome of the On-BadSignature class (bad signature, syntax error, revoked key) whose
/// configured action is accept becomes quarantine; a stronger action (reject, tempfail,
/// discard) and every other outcome are kept. opendkim 2.11 accepts the keyword and ignores
/// it (lab: no QUARANTINE with `Quarantine yes`); the documented behaviour is done here.
auth::config::DkimAction apply_quarantine_option(auth::config::DkimAction a, Outcome o, bool quarantine) noexcept;

/// opendkim's DKIMF_STATUS_BAD, the outcome SendReports reports on (opendkim.c mlfi_eom:
/// "send an ARF message for DKIM?"): no signature passed and the first checked one failed
/// (not for a missing key, a DNS error or a revoked key).
bool is_bad_signature(Outcome o) noexcept;

/// The reason CaptureUnknownErrors gives smfi_quarantine (opendkim.c mlfi_eom).
inline constexpr std::string_view kCaptureReason = "capture requested";

/// CaptureUnknownErrors for one message. OpenDKIM sets a capture flag when libopendkim
/// reports an internal error or resource exhaustion (dkimf_libstatus, DKIM_STAT_INTERNAL /
/// DKIM_STAT_NORESOURCE) and then quarantines with "capture requested" and accepts. Here an
/// internal error is an exception escaping the message's DKIM work (std::bad_alloc for
/// resource exhaustion). Disabled, exceptions pass through to the runtime (which answers the
/// default action); enabled, an exception before end of message is recorded and the message
/// continues inert, and end of message answers quarantine(kCaptureReason) — as
/// man:opendkim.conf(5) promises for any such message (opendkim itself acts on it only when
/// the error comes from the verifier's end of message).
class ErrorCapture {
 public:
  /// Starts a message; `enabled` = CaptureUnknownErrors.
  void reset(bool enabled) noexcept {
    enabled_ = enabled;
    captured_ = false;
    what_.clear();
  }
  bool captured() const noexcept { return captured_; }
  /// What the first captured error said (for the log).
  const std::string& what() const noexcept { return what_; }

  /// Runs a stage before end of message (header, end of headers, body): its action, or
  /// continue once an error was captured (the stage is not run again).
  template <class F>
  milter::Action stage(F&& f) {
    if (captured_) return milter::Action::cont();
    if (!enabled_) return f();
    try {
      return f();
    } catch (const std::exception& e) {
      capture(e.what());
    }
    return milter::Action::cont();
  }

  /// Runs end of message: its action, or quarantine(kCaptureReason) when an error was
  /// captured earlier (`f` is not run) or escapes `f` now.
  template <class F>
  milter::Action eom(F&& f) {
    if (captured_) return milter::Action::quarantine(std::string(kCaptureReason));
    if (!enabled_) return f();
    try {
      return f();
    } catch (const std::exception& e) {
      capture(e.what());
    }
    return milter::Action::quarantine(std::string(kCaptureReason));
  }

 private:
  void capture(const char* what) {
    captured_ = true;
    what_ = what ? what : "unknown error";
  }
  bool enabled_ = false;
  bool captured_ = false;
  std::string what_;
};

/// The reply text for an outcome ("bad DKIM signature data", "DKIM key retrieval failed" ...).
std::string_view reply_text(Outcome o) noexcept;

/// Options for the Authentication-Results value.
struct ArOptions {
  std::string authserv_id;  ///< already with "/jobid" when AuthservIDWithJobID
  bool header_b = true;     ///< !NoHeaderB
  /// Report each key's DNSSEC status (SignatureResult::key_dnssec): "; unprotected" or
  /// "; secure" in the key-size comment, and UnprotectedKey on insecure keys. False when keys
  /// come from TestPublicKeys/TestDNSData rather than DNS (libopendkim leaves those
  /// DKIM_DNSSEC_UNKNOWN: no annotation).
  bool unprotected = true;
  /// UnprotectedKey: the result word of a signature whose key answer was insecure becomes
  /// "policy" (Fail) or "neutral" (Neutral); see unprotected_key_outcome for the action.
  auth::config::KeyTrustAction unprotected_key = auth::config::KeyTrustAction::None;
  std::size_t name_length = 22;  ///< "Authentication-Results" (for the folding margin)
  /// A last "dkim-atps=neutral" clause (DkimSettings::atps_neutral), folded like the others.
  bool atps_neutral = false;
};

/// One "dkim=..." clause for a signature, as OpenDKIM writes it; empty for signatures that
/// were not checked (beyond MaximumSignaturesToVerify).
std::string format_ar_clause(const auth::dkim::SignatureResult& r, const ArOptions& o);

/// The header value (without the leading space) "id;\n\tdkim=pass (...) ...": clauses joined
/// by ';', each clause on its own "\n\t" line when the running line would pass the margin.
/// No results → "id; dkim=none". ArOptions::atps_neutral adds "; dkim-atps=neutral" last.
std::string format_ar_value(const std::vector<auth::dkim::SignatureResult>& results,
                            const ArOptions& o);

/* ---------------- damaged signatures (libopendkim 2.11's view) ---------------- */

/// How libopendkim 2.11 judges one DKIM-Signature field before any key or hash work.
///   BadTagList: dkim_process_set refuses the tag-list (a byte that is neither printable
///     ASCII nor white space, a tag name not starting with a letter or digit or holding
///     blanks or ';', a name without '=' at the end, s= h= d= b= v= or a= missing, t=/x= not
///     an unsigned decimal): dkim_header() fails and opendkim.c mlfi_eoh gives up on the
///     whole message at end of headers, with On-BadSignature's action (reply "DKIM signature
///     syntax error") and no Authentication-Results, whatever the other signatures say
///     (lab: opendkim 2.11 -t, WeakSyntaxChecks on or off).
///   SigError: dkim_siglist_setup keeps the signature with a DKIM_SIGERROR_* code; it is
///     written "dkim=permerror" with no reason and no key comment, header.a=rsa-sha1 when
///     the error comes before a= is read (sig_signalg keeps its zero value), and the message
///     is accepted whatever On-* says (DKIMF_STATUS_VERIFYERR). `error` is the
///     dkim_sig_geterrorstr() text `opendkim -t` prints.
///   Usable: neither (the signature goes on to key and hash checks in libopendkim).
struct OpendkimSigCheck {
  enum class Kind { Usable, BadTagList, SigError };
  Kind kind = Kind::Usable;
  /// SigError: dkim_sig_geterrorstr()'s text; BadTagList: dkim_error()'s text, offsets
  /// counted in `value` (opendkim logs it as "<id>: syntax error: <text>").
  std::string error;
  bool algorithm_read = false;  ///< SigError: a= was parsed before the error
};

/// Runs libopendkim 2.11's dkim_process_set and dkim_siglist_setup checks, in their order,
/// on `value` (the field value after the colon, folding included). `now` and `drift`
/// (ClockDrift) decide the x= / t= checks as the verifier does (VerifyOptions::clock_drift).
OpendkimSigCheck opendkim_signature_check(std::string_view value, std::int64_t now, std::int64_t drift);

/// The first DKIM-Signature field of `headers` whose tag-list libopendkim refuses
/// (OpendkimSigCheck::Kind::BadTagList), as its error text; nullopt when there is none.
std::optional<std::string> opendkim_bad_tag_list(const std::vector<auth::mail::Field>& headers);

/// True when `r` is a signature libopendkim keeps with a DKIM_SIGERROR_* code, as
/// apply_opendkim_sig_errors marks it: FailureKind::Syntax with one of libopendkim's error
/// texts as its reason. Such a result decides Outcome::VerifyError and is written
/// "dkim=permerror" without reason (see OpendkimSigCheck).
bool is_opendkim_sig_error(const auth::dkim::SignatureResult& r);

/// True when `r` failed because its l= is larger than the canonical body (the verifier's
/// BodyHash reason "body hash mismatch: body shorter than l=N"): libopendkim's
/// DKIM_SIGERROR_TOOLARGE_L, written "dkim=fail reason=\"length tag value exceeds body
/// size\"" with the key comment, accepted whatever On-* says (Outcome::VerifyError) and
/// logged without opendkim's "bad signature data" line (lab: opendkim 2.11 -t and milter).
bool is_length_beyond_body(const auth::dkim::SignatureResult& r);

/// For each result with FailureKind::Syntax whose field (found by field_index among the
/// DKIM-Signature fields of `headers`) libopendkim keeps as a SigError, replaces the reason
/// with libopendkim's text (the `opendkim -t` line and the clause then match opendkim 2.11).
/// Syntax failures libopendkim does not see (a duplicate tag, which RFC 6376 §3.2 makes
/// invalid and opendkim 2.11 verifies with the last value) keep inkan's permerror and reason:
/// matching opendkim there would report a pass for an ambiguous signature. Returns how many
/// results were changed.
std::size_t apply_opendkim_sig_errors(std::vector<auth::dkim::SignatureResult>& results,
                                      const std::vector<auth::mail::Field>& headers, std::int64_t now,
                                      std::int64_t drift);

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
/// "<prog>: <file>: verification (s=S d=D, N-bit key, <dnssec>) failed: <why>" (<dnssec> is
/// the key's KeyDnssec word: unknown, insecure, secure) or
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
/// `opendkim -Q` against a live data set (dsn:, ldap:; lab: opendkim 2.11): value i is field
/// i (no ':' splitting); n fields are printed, a missing, NULL or empty one as <empty>, the
/// others as 'value', then an empty line. Not found: "<prog>: dkimf_db_get(): record not
/// found" and an empty line on stdout; a failed lookup: `<prog>: dkimf_db_get() returned <status>:
/// "<server's message>"` on stderr and an empty line on stdout (exit 0); a malformed query
/// as answer_dataset_query.
QueryAnswer answer_live_query(auth::config::LiveDataset& d, std::string_view query, std::string_view prog);


/// The Authentication-Results value OpenDKIM writes when verification cannot start because
/// the From field is missing or unparsable (libopendkim DKIM_STAT_SYNTAX → BADFORMAT; lab:
/// opendkim 2.11 -t): "id; dkim=permerror (bad message/signature format)".
std::string format_ar_bad_format(const ArOptions& o);

/// The authserv-id of an Authentication-Results value (RFC 8601 §2.2): the first token,
/// CFWS and a version number skipped; empty if none.
std::string ar_authserv_id(std::string_view value);
/// True when an existing AR field must be deleted before ours (RFC 8601 §5; OpenDKIM: ours
/// with a dkim result; RemoveARAll: ours whatever the method; RemoveARFrom: listed hosts or
/// ".domain" suffixes; a live RemoveARFrom is asked for the authserv-id (mlfi_eom dkimf_db_get),
/// a failed lookup counting as "not listed" with dkimf_db_error's line in `*lookup_error`).
bool should_remove_ar(std::string_view value, std::string_view our_id,
                      const auth::config::DkimSettings& s, std::string* lookup_error = nullptr);

/// A generated field ("DKIM-Signature: v=1; ...", CRLF folding) → (name, milter value with
/// LF folding, without the leading space). nullopt when it is not "Name: value".
std::optional<std::pair<std::string, std::string>> split_field(std::string_view field);

/* ---------------- failure reports (SendReports; RFC 6651, RFC 6591, RFC 5965) ---------------- */

/// Largest report handed to MTACommand (local bound; the rfc822-headers part is cut short
/// at a field boundary, the canonical body left out, when a report would exceed it).
inline constexpr std::size_t kMaxReportBytes = 256 * 1024;
/// Canonical body bytes kept per message for DKIM-Canonicalized-Body (RFC 6591 §3.1); a
/// longer body is reported without that field.
inline constexpr std::size_t kMaxReportBodyBytes = 64 * 1024;
/// Longest ra= local part accepted (RFC 5321 §4.5.3.1.1: 64 octets).
inline constexpr std::size_t kMaxReportLocalPart = 64;

/// True when a DKIM-Signature field value carries r=y (RFC 6651 §3.1; libopendkim
/// dkim_sig_getreportinfo: the value must be exactly "y").
bool signature_requests_reports(std::string_view signature_value);

/// A _report._domainkey.<d> TXT record (RFC 6651 §3.3).
struct ReportRecord {
  std::string ra;      ///< the local part reports go to (at the signing domain)
  unsigned rp = 100;   ///< percentage of failures to report
  std::string rr;      ///< requested report types ("all", "s:x:v" ...); empty = all
};
/// Parses the record as libopendkim does: a tag-list; ra= dkim-quoted-printable decoded and
/// cut at '@' (the domain is always d=); rp= a decimal (anything else keeps 100); the report
/// types from rr= (RFC 6651 §3.3) or, when absent, ro= (the name libopendkim reads). nullopt
/// when the tag-list is malformed or ra= is absent, empty, longer than kMaxReportLocalPart
/// or not a dot-atom-text local part (the address goes into a To: field read by
/// `sendmail -t`, so nothing else may pass).
std::optional<ReportRecord> parse_report_record(std::string_view txt);

/// Longest rs= text put before a reply (local bound; SMTP reply lines stay short).
inline constexpr std::size_t kMaxReportSmtpText = 200;
/// The rs= text of a _report._domainkey record (RFC 6651 §3.3), dkim-quoted-printable
/// decoded: opendkim puts it before its reply when it rejects or tempfails a message whose
/// failed signature has r=y ("<rs>: bad DKIM signature data"; opendkim.c dkimf_libstatus,
/// lab: opendkim 2.11 -t). nullopt when the record is malformed, has no rs=, or the text is
/// empty, longer than kMaxReportSmtpText or not printable ASCII.
std::optional<std::string> report_smtp_text(std::string_view txt);

/// Whether the record's report types ask for this failure (opendkim.c dkimf_sigreport):
/// none listed or "all" → yes; "s" syntax errors; "x" expired; "v" body hash or signature
/// mismatch; "d" key record absent, unusable or its query failed; "p" a local policy
/// (MustBeSigned) failure; "o" other key record problems, weak keys or algorithms.
/// Types are separated by ':' and compared case-insensitively.
bool report_requested(std::string_view types, const auth::dkim::SignatureResult& r);

/// What a failure report says (the fields of opendkim.c dkimf_sigreport).
struct FailureReport {
  std::string from;            ///< From: (ReportAddress as configured)
  std::string to;              ///< ra@d
  std::string bcc;             ///< ReportBccAddress; empty = no Bcc:
  std::string date;            ///< Date: and Arrival-Date:, "%a, %e %b %Y %H:%M:%S %z (%Z)"
  std::string job_id;          ///< queue id
  std::string hostname;        ///< the MTA's j macro (Reporting-MTA, boundary)
  std::string envelope_from;   ///< MAIL FROM without angle brackets
  std::string source_ip;       ///< connecting client's address
  std::string message_id;      ///< the Message-ID value, "(none)" when absent
  std::string user_agent;      ///< "inkan-dkim/<version>"
  auth::dkim::SignatureResult result;  ///< the failed signature
  std::string canonical_header;        ///< signed header fields as hashed; empty = left out
  std::optional<std::string> canonical_body;  ///< canonical body as hashed; nullopt = left out
  /// The message's header fields as received ("Name: value", LF folding), top first.
  std::vector<std::string> header_fields;
};

/// The report as handed to `MTACommand -t`: an RFC 6591 auth-failure report (RFC 5965 ARF,
/// multipart/report; report-type=feedback-report) with opendkim's fields and texts, LF line
/// ends, at most kMaxReportBytes. One difference from opendkim on purpose: opendkim omits the
/// empty line between the top header block and the first boundary, which makes the whole
/// MIME structure unreadable; it is written here (RFC 2046 §5.1.1).
std::string format_failure_report(const FailureReport& r);

/// Base64 of `data` folded as opendkim's dkimf_base64_encode_file(lm, rm, initial): 4-byte
/// groups, a new line ("\n" + lm spaces) whenever the next group would reach column rm;
/// the first line starts at column `initial`.
std::string base64_folded(std::string_view data, std::size_t lm, std::size_t rm, std::size_t initial);

/// The signed header fields of the DKIM-Signature at `sig_index` among `headers` as its
/// header hash sees them (RFC 6376 §3.7, §5.4.2): each name of h= picks the last unused
/// instance from the bottom, canonicalized with `canon`, then the signature field itself
/// with the b= value emptied and no final CRLF. Empty when the field does not parse.
std::string canonical_signed_headers(const std::vector<auth::mail::Field>& headers, std::size_t sig_index,
                                     auth::dkim::Canon canon);

}  // namespace inkan::dkim
