// auth::config DKIM settings — the one typed model of inkan-dkim's configuration, whatever the
// source: an unchanged OpenDKIM `opendkim.conf` (+ KeyTable, SigningTable, host lists;
// anchor-features.md §2.1–§2.4) or the `dkim:` section of inkan.yaml with the shared
// `authserv_id`, `dns:`, `hosts:`, `keys:` and `signing:` sections (examples/inkan.yaml).
//
// Every keyword of opendkim.conf(5) (and the compile-gated ones of opendkim-config.h) is
// classified here (dkim_keywords()): implemented, accepted without effect (with a warning
// when it matters to the admin), or refused at start with an error naming it, because
// silently ignoring it would change a verdict. Tables are read at load time, keys are not
// (the daemon loads them per message with a cache, as OpenDKIM re-reads them).
// Pure apart from reading the configured files through the injectable FileReader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/config/legacy.h"
#include "auth/config/live_dataset.h"
#include "auth/config/replace_rules.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/signature.h"

namespace auth::config {

/// OpenDKIM defaults (opendkim.h / man:opendkim.conf(5)); one place, Postfix DEF_ style.
inline constexpr unsigned kDkimDefaultDnsTimeout = 5;            // DEFTIMEOUT
inline constexpr unsigned kDkimDefaultMinimumKeyBits = 1024;     // DEFMINKEYBITS
inline constexpr std::size_t kDkimDefaultMaxVerify = 3;          // MaximumSignaturesToVerify
inline constexpr std::size_t kDkimDefaultMaxHeaderBytes = 65536;  // MaximumHeaders
inline constexpr std::int64_t kDkimDefaultClockDrift = 300;      // ClockDrift
/// Largest value accepted for counts and sizes in the configuration (local policy).
inline constexpr long kDkimMaxConfigNumber = 1L << 30;
/// SelectCanonicalizationHeader's documented default name (opendkim.h SELECTCANONHDR).
inline constexpr std::string_view kDefaultSelectCanonicalizationHeader = "X-Canonicalization";
/// Longest SenderMacro name accepted (local policy; libmilter macro names are short).
inline constexpr std::size_t kMaxMacroNameBytes = 255;
/// Longest header field name accepted: a field line is at most 998 octets (RFC 5322 §2.1.1).
inline constexpr std::size_t kMaxFieldNameBytes = 997;

/// What the MTA is told for one class of outcome (On-* options, anchor-features.md §2.1).
enum class DkimAction { Accept, Reject, TempFail, Discard, Quarantine };
/// "accept", "reject", "tempfail", "discard", "quarantine".
const char* to_string(DkimAction a) noexcept;
/// OpenDKIM's dkimf_parsehandler: only the first letter counts (a d q r t, any case).
std::optional<DkimAction> parse_dkim_action(std::string_view text) noexcept;

/// The On-* table with OpenDKIM's defaults (§2.1).
struct DkimActions {
  DkimAction bad_signature = DkimAction::Accept;
  DkimAction dns_error = DkimAction::TempFail;
  DkimAction internal_error = DkimAction::TempFail;
  DkimAction key_not_found = DkimAction::Accept;
  DkimAction no_signature = DkimAction::Accept;
  DkimAction security = DkimAction::TempFail;
  DkimAction signature_error = DkimAction::Reject;
  friend bool operator==(const DkimActions&, const DkimActions&) = default;
};

/// Minimum / `-L min[%+]` (man:opendkim.conf(5)): how much of the body a passing signature
/// must cover. `Bytes`: at least `value` canonical body bytes signed (all of the body when it
/// is shorter); `Percent`: at least `value` percent of the canonical body signed;
/// `MaxAppended`: no more than `value` unsigned bytes after the l= limit. value 0 = no check
/// (OpenDKIM's default, conf_sigmin 0).
struct BodyMinimum {
  enum class Kind { Bytes, Percent, MaxAppended };
  Kind kind = Kind::Bytes;
  std::uint64_t value = 0;
  friend bool operator==(const BodyMinimum&, const BodyMinimum&) = default;
};

/// Parses a Minimum value as opendkim's dkimf_config_load does: a decimal count (strtoul,
/// at most UINT_MAX) optionally followed by '%' (then at most 100) or '+'; anything else after
/// the number, or a leading '-', is an error. Errors: ErrorCode::Syntax with OpenDKIM's text
/// `illegal value for "Minimum"`.
Result<BodyMinimum> parse_body_minimum(std::string_view text);

/// How an unprotected (no DNSSEC) or bogus key record is treated (UnprotectedKey, BogusKey;
/// BogusKey never acts: a validating resolver answers a bogus record with SERVFAIL).
enum class KeyTrustAction { None, Neutral, Fail };

/// One signing key (a KeyTable line, a `keys:` entry, or Domain+Selector+KeyFile).
struct DkimKey {
  std::string name;      ///< key name (KeyTable key); "default" in single-key mode
  std::string domain;    ///< d=; "%" = the sender's domain
  std::string selector;  ///< s=
  /// A path (starts with '/' or '.'; every '%' becomes the signing domain) or inline key data
  /// (PEM, or base64 DER / Ed25519 seed).
  std::string key;
  /// a=, from the KeyTable's optional 4th field / `algorithm:`; nullopt = SignatureAlgorithm,
  /// or ed25519-sha256 when the key is an Ed25519 key (OpenDKIM develop PR #370).
  std::optional<crypto::SignAlg> algorithm;
  friend bool operator==(const DkimKey&, const DkimKey&) = default;
};

/// One SigningTable line / `signing:` entry.
struct SigningRule {
  std::string match;              ///< exact key (Exact tables) or glob (Glob tables)
  std::vector<std::string> keys;  ///< key names; "%" = the sender's domain
  std::string signer;             ///< i= template ('%' = sender domain); empty = none
  friend bool operator==(const SigningRule&, const SigningRule&) = default;
};

/// How the SigningTable is searched (§2.3).
enum class SigningTableKind {
  Exact,  ///< file:/csl: — user@host, host, user@.parent, .parent, ..., user@*, *
  Glob,   ///< refile: / YAML — patterns against "user@domain" in order
};

/// A host list before parsing (InternalHosts, ExternalIgnoreList, PeerList).
struct HostSource {
  bool refile = false;               ///< entries are refile: globs
  std::vector<std::string> entries;  ///< one entry (or pattern) each, in order
  /// The list is a live data set (dsn:, ldap:, ldaps:, ldapi:): `entries` stay empty and the
  /// daemon asks it for OpenDKIM's probe keys per connection (dkimf_checkhost /
  /// dkimf_checkip, inkan::dkim::host_name_probes / host_ip_probes). Compared by origin().
  std::shared_ptr<LiveDataset> live;
  friend bool operator==(const HostSource& a, const HostSource& b) {
    bool same_live = a.live == b.live || (a.live && b.live && a.live->origin() == b.live->origin());
    return a.refile == b.refile && a.entries == b.entries && same_live;
  }
};

/// A MacroList element: `name` or `name=v1|v2` (§2.4; case-sensitive).
struct MacroMatch {
  std::string name;                 ///< as written, braces kept ("{daemon_name}" or "daemon_name")
  std::vector<std::string> values;  ///< empty = any non-empty value
  friend bool operator==(const MacroMatch&, const MacroMatch&) = default;
};

/// The whole inkan-dkim configuration.
struct DkimSettings {
  /* Process (handed to the milter runtime). */
  std::string socket;  ///< empty = the daemon default inet:8891@localhost
  std::string user;    ///< UserID
  std::string pidfile;
  /// ChangeRootDirectory: chroot after binding, before dropping privileges; empty = none.
  std::string chroot_dir;
  std::optional<unsigned> umask;
  bool background = true;
  bool syslog = false;  ///< opendkim's code default is false (§1.3)
  std::string syslog_facility = "mail";
  std::string syslog_name;
  std::string base_directory;  ///< chdir target; relative paths were resolved against it
  std::string metrics;         ///< YAML only: ADDR:PORT

  /* Modes. */
  bool sign = true;
  bool verify = true;
  /// Mode was configured (`Mode`, `mode:` or -b); without it test mode (-t) only verifies.
  bool mode_set = false;

  /* Signing. */
  dkim::Canonicalization canonicalization{dkim::Canon::Simple, dkim::Canon::Simple};
  std::optional<crypto::SignAlg> signature_algorithm;  ///< nullopt = rsa-sha256 / by key type
  /// Header names to sign (compare case-insensitively); empty with sign_all_but_omitted =
  /// every header except omit_headers. Default: OpenDKIM's dkim_should_signhdrs list (opendkim_default_sign_headers).
  std::vector<std::string> sign_headers;
  bool sign_all_but_omitted = false;
  std::vector<std::string> omit_headers;
  std::vector<std::string> oversign_headers;
  std::vector<std::string> domains;  ///< Domain (single-key mode; "*" = any)
  bool subdomains = false;
  bool multiple_signatures = false;
  bool remove_old_signatures = false;
  std::vector<DkimKey> keys;
  SigningTableKind signing_kind = SigningTableKind::Glob;
  std::vector<SigningRule> signing;
  bool key_table = false;  ///< keys came from a KeyTable / keys: (else single-key mode)
  /// KeyTable / SigningTable given as a live data set (dsn:, ldap:, ldaps:, ldapi:;
  /// live_dataset.h): asked per message as opendkim does (`keys` / `signing` stay empty for
  /// that table). nullptr = the table is a snapshot (or absent). Compared by origin().
  std::shared_ptr<LiveDataset> key_table_live;
  std::shared_ptr<LiveDataset> signing_table_live;
  /// The other data sets opendkim asks per message with dkimf_db_get, when given as dsn: or
  /// ldap: (live_dataset.h): the matching snapshot field (mta, dont_sign_mail_to, ...) stays
  /// empty. nullptr = not live. Compared by origin().
  struct LiveLists {
    std::shared_ptr<LiveDataset> mta;                ///< MTA: asked for the {daemon_name} value
    std::shared_ptr<LiveDataset> dont_sign_mail_to;  ///< DontSignMailTo: each recipient as given
    std::shared_ptr<LiveDataset> exempt_domains;     ///< ExemptDomains: the sender's domain
    std::shared_ptr<LiveDataset> body_length_db;     ///< BodyLengthDB: dkimf_checkbldb's keys
    std::shared_ptr<LiveDataset> replace_headers;    ///< ReplaceHeaders: each field name as written
    std::shared_ptr<LiveDataset> remove_ar_from;     ///< RemoveARFrom: each A-R field's authserv-id
    /// Domain (single-key mode only; opendkim opens it only without a KeyTable): the sender's
    /// domain, then "*", then with SubDomains each parent domain (lookup_signing_keys).
    std::shared_ptr<LiveDataset> domains;
  };
  LiveLists live_lists;
  /// SoftStart (YAML `soft_start`) and the LDAP* keywords the live data sets are opened with
  /// (YAML `ldap: {bind_user, bind_password, auth_mechanism, auth_name, auth_realm, auth_user,
  /// use_tls, disable_cache, timeout, keepalive_idle, keepalive_interval, keepalive_probes}`).
  LiveDatasetOptions live_options;
  std::vector<std::string> sender_headers{"from"};
  std::vector<std::string> dont_sign_mail_to;  ///< lower-case addresses, exact keys (no domains)
  std::vector<std::string> exempt_domains;     ///< lower-case domains, exact keys (no parents)
  std::int64_t signature_ttl = 0;  ///< x= = t= + ttl (0 = none)
  /// MaximumSignedBytes: sign at most this many canonical body bytes, with l= (0 = whole body).
  std::uint64_t maximum_signed_bytes = 0;
  /// BodyLengthDB: lower-case keys; when any envelope recipient matches (opendkim.c
  /// dkimf_checkbldb: user@host, *@host, user@.parent, *@.parent, ..., user@*, *) every
  /// signature gets l= with the canonical body length it covers.
  std::vector<std::string> body_length_db;
  /// SenderMacro: a milter macro ("{auth_authen}", braces optional) whose non-empty value is
  /// the sender address used for the signing decision instead of SenderHeaders; empty = off.
  std::string sender_macro;
  /// SelectCanonicalizationHeader: a header field whose value ("relaxed/simple", "relaxed",
  /// as Canonicalization) overrides canonicalization for the message's signatures; empty =
  /// off (opendkim 2.11.0 has no such header; its develop branch always honours
  /// X-Canonicalization).
  std::string select_canonicalization_header;
  bool require_safe_keys = true;
  /// Diagnostics: signatures carry z= with copies of the signed header fields (OpenDKIM
  /// DKIM_LIBFLAGS_ZTAGS; dkim::SignatureSpec::diagnostics). Signing only: OpenDKIM's verifier
  /// reads z= only for DiagnosticDirectory reports.
  bool diagnostics = false;
  /// RequestReports: signatures carry r=y (RFC 6651 §3; dkim::SignatureSpec::request_reports).
  bool request_reports = false;
  /// ReplaceRules: the rules of the file, in file order (replace_rules.h; empty = none).
  std::vector<ReplaceRule> replace_rules;
  /// ReplaceHeaders: lower-case names of the fields the rules apply to; nullopt = every field
  /// (OpenDKIM's default). Compared case-insensitively, as opendkim's data set lookup does.
  std::optional<std::vector<std::string>> replace_headers;

  /* Who is inside. */
  HostSource internal_hosts{false, {"127.0.0.1", "::1"}, nullptr};
  HostSource external_ignore;
  HostSource peer_list;
  std::vector<std::string> mta;  ///< {daemon_name} values (case-sensitive)
  std::vector<MacroMatch> macro_list;

  /* Verifying. */
  unsigned minimum_key_bits = kDkimDefaultMinimumKeyBits;
  std::size_t max_signatures = kDkimDefaultMaxVerify;
  std::size_t maximum_headers = kDkimDefaultMaxHeaderBytes;  ///< 0 = unlimited
  /// ClockDrift: seconds of tolerance for the t= (future) and x= (expired) checks
  /// (dkim::VerifyOptions::clock_drift). 0 means no tolerance, as opendkim.conf(5) says;
  /// opendkim 2.11 itself quietly uses its default 300 for "ClockDrift 0".
  std::int64_t clock_drift = kDkimDefaultClockDrift;
  /// StrictHeaders: messages breaking the RFC 5322 §3.6 field counts libopendkim checks
  /// (dkim::check_strict_headers) are neither signed nor verified: "dkim=permerror (bad
  /// message/signature format)", as opendkim 2.11 (DKIM_LIBFLAGS_STRICTHDRS).
  bool strict_headers = false;
  /// WeakSyntaxChecks: a From field that is present but does not parse no longer stops
  /// verification (DKIM_LIBFLAGS_BADSIGHANDLES: dkim_eoh ignores the dkim_getsender failure).
  bool weak_syntax_checks = false;
  bool allow_sha1 = true;  ///< OpenDKIM verifies rsa-sha1; RFC 8301 says it must not pass
  KeyTrustAction unprotected_key = KeyTrustAction::None;
  KeyTrustAction bogus_key = KeyTrustAction::Fail;
  DkimActions actions;
  BodyMinimum minimum;  ///< Minimum / -L
  /// MustBeSigned: header names (lower-case) that, when present, a passing signature's h=
  /// must cover; otherwise the signature fails with "unprotected header field".
  std::vector<std::string> must_be_signed;
  /// RequiredHeaders / -r: reject messages breaking the RFC 5322 §3.6 field counts.
  bool required_headers = false;
  /// IgnoreMalformedMail: a message whose From is missing or unparsable is passed without
  /// the "dkim=permerror (bad message/signature format)" Authentication-Results.
  bool ignore_malformed = false;
  /// Quarantine: messages that fail verification (the On-BadSignature class) are quarantined
  /// when On-BadSignature says accept (man:opendkim.conf(5); opendkim 2.11 reads and ignores it).
  bool quarantine = false;
  /// CaptureUnknownErrors: a message hit by an internal error (an exception, resource
  /// exhaustion) is quarantined with "capture requested" and accepted.
  bool capture_unknown_errors = false;

  /* Failure reports (RFC 6651; SendReports, ReportAddress, ReportBccAddress, MTACommand). */
  /// SendReports: send an RFC 6591 auth-failure report when a signature with r=y fails and
  /// its domain publishes _report._domainkey.<d> with ra=.
  bool send_reports = false;
  /// ReportAddress: From: of reports and the envelope sender (-f); empty = user@hostname.
  std::string report_address;
  /// ReportBccAddress: Bcc: of reports (comma-separated addresses, as written); empty = none.
  std::string report_bcc_address;
  /// MTACommand: the sendmail-compatible program run as "<cmd> -t -f <ReportAddress>".
  std::string mta_command = "/usr/sbin/sendmail";

  /* Lua policy scripts (opendkim-lua(3)): paths, compiled and run by the daemon. */
  std::string setup_script;   ///< SetupPolicyScript: after the header block, chooses sign/verify
  std::string screen_script;  ///< ScreenPolicyScript: before verification, may ignore signatures
  std::string final_script;   ///< FinalPolicyScript: after verification, may reject/add headers
  /// LuaOnlySigning: the SigningTable is never applied; only odkim.sign / odkim.signfor in
  /// the setup script ask for signatures (opendkim's _FFR_LUA_ONLY_SIGNING; Debian's opendkim
  /// 2.11 is built without it and rejects the keyword).
  bool lua_only_signing = false;

  /* Test hooks (OpenDKIM TestPublicKeys / TestDNSData; -t StrictTestMode). */
  /// TXT records served instead of DNS when not empty: (owner name, TXT value).
  std::vector<std::pair<std::string, std::string>> test_dns;
  bool strict_test_mode = false;  ///< -t: lines not CRLF-terminated are an error

  /* Headers. */
  std::string authserv_id;  ///< empty = the MTA's `j` macro; "HOSTNAME" = gethostname()
  bool authserv_id_with_jobid = false;
  bool always_add_ar = false;
  bool no_header_b = false;
  bool keep_auth_results = false;
  bool remove_ar_all = false;
  std::vector<std::string> remove_ar_from;
  bool software_header = false;
  /// Close the DKIM Authentication-Results with "dkim-atps=neutral", as Debian's opendkim
  /// (built with _FFR_ATPS) does on every one it writes (anchor-features §2.6; opendkim.c
  /// mlfi_eom). inkan does no ATPS (RFC 6541) check, so the word is always "neutral". On by
  /// default in both forms (the drop-in writes the same bytes, and an opendkim.conf and its
  /// inkan.yaml translation stay equal); YAML `atps_neutral: false` leaves it out.
  bool atps_neutral = true;
  /// Where new headers go: 0 = top (RFC 8601 §4, OpenDKIM develop), 1 = after the MTA's
  /// Received (OpenDKIM 2.11 releases). YAML `header_index`.
  int header_index = 0;

  /* DNS. */
  std::vector<std::string> nameservers;  ///< "IP" or "IP:PORT"; empty = resolv.conf
  unsigned dns_timeout = kDkimDefaultDnsTimeout;  ///< seconds; 0 = the resolver default
  /// Key records get their DNSSEC status from the resolver's AD bit (RFC 4035 §3.2.3, RFC 6840
  /// §5.7), as Postfix trusts it: "secure" with AD, "unprotected" without. Set by the legacy
  /// TrustAnchorFile (Debian's default) and YAML `dns.dnssec: resolver` (or
  /// dns.trust_anchor_file). Off: AD is neither asked for nor read, every key from DNS is
  /// "unprotected" (opendkim with no trust anchor).
  bool dnssec_resolver = false;

  /* Logging. */
  bool syslog_success = false;
  bool log_why = false;
  bool log_results = false;

  /// Notes for the start-up log: options accepted without effect, deliberate differences.
  std::vector<std::string> warnings;

  /// Compares everything but `warnings` (and the source-only `base_directory`).
  bool same_as(const DkimSettings& o) const;
};

/// How inkan treats one opendkim.conf keyword.
enum class KeywordSupport {
  Implemented,  ///< same meaning as in OpenDKIM
  Ignored,      ///< accepted, no effect on any verdict (a warning is logged when set)
  Refused,      ///< start-up error naming it: ignoring it would change a verdict
  RefusedIfOn,  ///< booleans: accepted when false, refused when true
};
struct KeywordInfo {
  std::string_view name;
  KeywordSupport support;
  std::string_view note;  ///< why ignored / refused
};
/// Every keyword opendkim 2.11 (Debian build and compile-gated features) and the man page
/// know, plus the keywords removed in 2.10 (accepted with a warning).
const std::vector<KeywordInfo>& dkim_keywords();

/// OpenDKIM's default SignHeaders (libopendkim dkim.c dkim_should_signhdrs), lower-case.
const std::vector<std::string>& opendkim_default_sign_headers();
/// OpenDKIM's default OmitHeaders (dkim_default_senderhdrs … DKIM_DEFAULT_OMIT), lower-case.
const std::vector<std::string>& opendkim_default_omit_headers();

/// Reads an opendkim.conf (already parsed by LegacyConfig) into settings, opening the
/// datasets it names through `reader`. Throws ConfigError naming file, line and option for an
/// unknown keyword ("unrecognized parameter"), an illegal value, a refused keyword, an
/// unreadable or malformed table (a KeyTable line with fewer than 3 fields, a SigningTable
/// naming an unknown key), and the cross-option rules OpenDKIM checks (KeyFile+Selector,
/// SigningTable needs KeyTable, ...).
DkimSettings load_dkim_legacy(const LegacyConfig& cfg, const FileReader& reader = read_file);

/// Reads inkan.yaml text (`file` names it in errors). Throws ConfigError with the YAML line.
/// Unknown keys in the sections read here are errors; other daemons' sections are ignored.
DkimSettings load_dkim_yaml(std::string_view text, const std::string& file,
                            const FileReader& reader = read_file);

/// Loads either format from a file (YAML when the name ends .yaml/.yml or the text looks
/// like YAML, else the OpenDKIM grammar). Throws ConfigError.
DkimSettings load_dkim_settings(const std::string& path, bool yaml,
                                const FileReader& reader = read_file);

/// Splits an OpenDKIM header-list dataset value ("*,+Message-ID,-Bcc") against `defaults`:
/// "*" stands for the defaults, "+x" adds, "-x" removes, "." means none; names keep their
/// spelling and compare case-insensitively; duplicates dropped.
std::vector<std::string> resolve_header_list(const std::vector<std::string>& items,
                                             const std::vector<std::string>& defaults);

/// A SigningTable/ExemptDomains glob match (refile semantics: `*` any run, `.` and `+`
/// literal, other ERE metacharacters pass through), anchored, case-insensitive.
bool glob_match(std::string_view pattern, std::string_view text);

/// One signature the signing decision asks for.
struct SignRequest {
  const DkimKey* key = nullptr;  ///< into the settings' keys (or the single key)
  std::string domain;            ///< d= after '%' substitution
  std::string key_path_or_data;  ///< key after '%' substitution
  std::string signer;            ///< i= after '%' substitution; empty when none or outside d=
  /// Owns *key when it came from a live KeyTable (per message); empty otherwise.
  std::shared_ptr<const DkimKey> owned_key;
  friend bool operator==(const SignRequest&, const SignRequest&) = default;
};

/// The keys to sign a message from `local@domain` with (domainok of §2.4): the SigningTable
/// (first match, or all with MultipleSignatures) or Domain matching in single-key mode.
/// `error` is set (and the result empty) when the table names a key that does not exist
/// ("signing table references unknown key 'x'"), which OpenDKIM answers with tempfail.
std::vector<SignRequest> select_signing_keys(const DkimSettings& s, std::string_view local,
                                             std::string_view domain, std::string* error);

/// Why the signing decision failed (opendkim.c dkimf_apply_signtable / dkimf_add_signrequest);
/// OpenDKIM answers every kind with SMFIS_TEMPFAIL and no reply text.
struct SigningLookupError {
  enum class Kind {
    SigningTable,  ///< lookup failed, or the entry has no key name: "error reading signing table"
    UnknownKey,    ///< "signing table references unknown key '<key>'"
    KeyTable,      ///< KeyTable lookup failed or entry corrupt: "error loading key '<key>'"
  };
  Kind kind = Kind::SigningTable;
  std::string key;  ///< the key name (UnknownKey, KeyTable) or the SigningTable key looked up
  /// The line opendkim logs first, without the queue id: `error looking up "<key>" in
  /// database: <why>` (dkimf_db_error) or `KeyTable entry for '<key>' corrupt`; may be empty.
  std::string detail;
  friend bool operator==(const SigningLookupError&, const SigningLookupError&) = default;
};
/// The line opendkim logs after the queue id for `e` ("error reading signing table", ...).
std::string to_string(const SigningLookupError& e);

struct SigningLookup {
  std::vector<SignRequest> requests;
  std::optional<SigningLookupError> error;  ///< set → requests is empty
  /// Lookups that failed without failing the message (a live Domain: opendkim logs
  /// dkimf_db_error's line and goes on): `error looking up "<key>" in database: <why>`.
  std::vector<std::string> log;
};
/// select_signing_keys, also for live tables: a live SigningTable is asked for each candidate
/// of signing_table_candidates (first hit, or every hit with MultipleSignatures) for the
/// fields keyname[,signer] (a non-ASCII key is not found: DKIMF_DB_FLAG_ASCIIONLY); a live
/// KeyTable is asked for each key name for domain, selector, key (value i = field i; a missing
/// or empty field makes the entry corrupt). '%' rules as for file tables.
SigningLookup lookup_signing_keys(const DkimSettings& s, std::string_view local, std::string_view domain);

/// A KeyTable entry by name (live or in memory), as dkimf_add_signrequest reads it: nullopt
/// when absent; an error (SigningLookupError::Kind::KeyTable text) when the lookup fails or
/// the entry is corrupt.
Result<std::optional<DkimKey>> lookup_key(const DkimSettings& s, std::string_view name);

}  // namespace auth::config
