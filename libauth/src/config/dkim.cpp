// auth::config DKIM settings: opendkim.conf and inkan.yaml into one DkimSettings.
#include "auth/config/dkim.h"
#include "auth/config/unbound_conf.h"

#include <regex.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "auth/config/dataset.h"

namespace auth::config {

namespace {

using KS = KeywordSupport;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// Start-up note for TrustAnchorFile / dns.trust_anchor_file (a deliberate difference).
constexpr const char* kTrustAnchorNote =
    "TrustAnchorFile: keys get their DNSSEC status from the AD bit of the resolver, which must "
    "validate (e.g. unbound on 127.0.0.1 with this trust anchor); inkan-dkim does not read the file";

}  // namespace

const char* to_string(DkimAction a) noexcept {
  switch (a) {
    case DkimAction::Accept: return "accept";
    case DkimAction::Reject: return "reject";
    case DkimAction::TempFail: return "tempfail";
    case DkimAction::Discard: return "discard";
    case DkimAction::Quarantine: return "quarantine";
  }
  return "accept";
}

std::optional<DkimAction> parse_dkim_action(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  // opendkim.c dkimf_parsehandler: the first character decides.
  switch (std::tolower(static_cast<unsigned char>(text.front()))) {
    case 'a': return DkimAction::Accept;
    case 'r': return DkimAction::Reject;
    case 't': return DkimAction::TempFail;
    case 'd': return DkimAction::Discard;
    case 'q': return DkimAction::Quarantine;
    default: return std::nullopt;
  }
}

Result<BodyMinimum> parse_body_minimum(std::string_view text) {
  // dkimf_config_load: strtoul(str, &p, 10) (leading blanks skipped), '-' refused,
  // > UINT_MAX refused, then only *p is looked at: '%' (≤ 100), '+' or the end.
  constexpr std::uint64_t kUintMax = 0xFFFFFFFFu;  // conf_sigmin is an unsigned int
  const auto illegal = [] { return fail(ErrorCode::Syntax, "illegal value for \"Minimum\""); };
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i < text.size() && text[i] == '-') return illegal();
  if (i < text.size() && text[i] == '+') ++i;  // strtoul accepts a sign
  BodyMinimum m;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    m.value = m.value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (m.value > kUintMax) return illegal();
    ++i;
  }
  if (i == text.size()) return m;
  if (text[i] == '%') {
    if (m.value > 100) return illegal();
    m.kind = BodyMinimum::Kind::Percent;
  } else if (text[i] == '+') {
    m.kind = BodyMinimum::Kind::MaxAppended;
  } else {
    return illegal();
  }
  return m;
}

const std::vector<std::string>& opendkim_default_sign_headers() {
  static const std::vector<std::string> k{
      "from",          "reply-to",      "subject",         "date",          "to",
      "cc",            "resent-date",   "resent-from",     "resent-sender", "resent-to",
      "resent-cc",     "in-reply-to",   "references",      "list-id",       "list-help",
      "list-unsubscribe", "list-subscribe", "list-post",   "list-owner",    "list-archive"};
  return k;
}

const std::vector<std::string>& opendkim_default_omit_headers() {
  static const std::vector<std::string> k{"return-path", "received", "comments", "keywords",
                                          "bcc",         "resent-bcc", "dkim-signature"};
  return k;
}

const std::vector<KeywordInfo>& dkim_keywords() {
  static const std::vector<KeywordInfo> k{
      // Implemented.
      {"AlwaysAddARHeader", KS::Implemented, ""},
      {"AuthservID", KS::Implemented, ""},
      {"AuthservIDWithJobID", KS::Implemented, ""},
      {"Background", KS::Implemented, ""},
      {"BaseDirectory", KS::Implemented, ""},
      {"IgnoreMalformedMail", KS::Implemented, ""},
      {"Minimum", KS::Implemented, ""},
      {"MustBeSigned", KS::Implemented, ""},
      {"RequiredHeaders", KS::Implemented, ""},
      {"StrictTestMode", KS::Implemented, ""},
      {"TestDNSData", KS::Implemented, ""},
      {"TestPublicKeys", KS::Implemented, ""},
      // A validating resolver answers a bogus key record with SERVFAIL: a DNS error
      // (On-DNSError, dkim=temperror), which is also what opendkim 2.11 gives (its libunbound
      // callback never completes a bogus query, so the lookup times out). BogusKey never acts.
      {"BogusKey", KS::Ignored, "a bogus key record comes back from the validating resolver as SERVFAIL, a DNS error"},
      {"Canonicalization", KS::Implemented, ""},
      {"DNSTimeout", KS::Implemented, ""},
      {"Domain", KS::Implemented, ""},
      {"DontSignMailTo", KS::Implemented, ""},
      {"ExemptDomains", KS::Implemented, ""},
      {"ExternalIgnoreList", KS::Implemented, ""},
      {"InternalHosts", KS::Implemented, ""},
      {"KeepAuthResults", KS::Implemented, ""},
      {"KeyFile", KS::Implemented, ""},
      {"KeyTable", KS::Implemented, ""},
      {"LogResults", KS::Implemented, ""},
      {"LogWhy", KS::Implemented, ""},
      {"MacroList", KS::Implemented, ""},
      {"MaximumHeaders", KS::Implemented, ""},
      {"MaximumSignaturesToVerify", KS::Implemented, ""},
      {"MinimumKeyBits", KS::Implemented, ""},
      {"ClockDrift", KS::Implemented, "0 = no tolerance (opendkim 2.11 uses 300 for 0)"},
      {"StrictHeaders", KS::Implemented, ""},
      {"WeakSyntaxChecks", KS::Implemented, "only an unparsable From changes a verdict"},
      {"Mode", KS::Implemented, ""},
      {"MTA", KS::Implemented, ""},
      {"MultipleSignatures", KS::Implemented, ""},
      {"Nameservers", KS::Implemented, ""},
      {"ResolverConfiguration", KS::Implemented,
       "libunbound file: forward-zone \".\" forwarders become name servers; what changes answers is refused"},
      {"NoHeaderB", KS::Implemented, ""},
      {"OmitHeaders", KS::Implemented, ""},
      {"On-BadSignature", KS::Implemented, ""},
      {"On-Default", KS::Implemented, ""},
      {"On-DNSError", KS::Implemented, "honoured, unlike opendkim 2.11 (#176)"},
      {"On-InternalError", KS::Implemented, ""},
      {"On-KeyNotFound", KS::Implemented, ""},
      {"On-NoSignature", KS::Implemented, ""},
      {"On-Security", KS::Implemented, ""},
      {"On-SignatureError", KS::Implemented, ""},
      {"OversignHeaders", KS::Implemented, ""},
      {"PeerList", KS::Implemented, ""},
      {"PidFile", KS::Implemented, ""},
      {"ChangeRootDirectory", KS::Implemented, ""},
      {"RemoveARAll", KS::Implemented, ""},
      {"RemoveARFrom", KS::Implemented, ""},
      {"RemoveOldSignatures", KS::Implemented, ""},
      {"RequireSafeKeys", KS::Implemented, ""},
      {"Selector", KS::Implemented, ""},
      {"SenderHeaders", KS::Implemented, ""},
      {"SignatureAlgorithm", KS::Implemented, ""},
      {"SignatureTTL", KS::Implemented, ""},
      {"SignHeaders", KS::Implemented, ""},
      {"SigningTable", KS::Implemented, ""},
      {"Socket", KS::Implemented, ""},
      {"SoftwareHeader", KS::Implemented, ""},
      {"SubDomains", KS::Implemented, ""},
      {"Syslog", KS::Implemented, ""},
      {"SyslogFacility", KS::Implemented, ""},
      {"SyslogName", KS::Implemented, ""},
      {"SyslogSuccess", KS::Implemented, ""},
      {"UMask", KS::Implemented, ""},
      {"UnprotectedKey", KS::Implemented, ""},
      {"UserID", KS::Implemented, ""},
      {"X-Header", KS::Implemented, "old name of SoftwareHeader"},
      {"Include", KS::Implemented, ""},
      {"MTACommand", KS::Implemented, ""},
      {"ReportAddress", KS::Implemented, ""},
      {"ReportBccAddress", KS::Implemented, ""},
      {"CaptureUnknownErrors", KS::Implemented, ""},
      {"Quarantine", KS::Implemented, ""},
      {"SendReports", KS::Implemented, ""},
      // Accepted without effect on any verdict.
      {"AllowSHA1Only", KS::Ignored, "SHA-256 is always available"},
      {"AutoRestart", KS::Ignored, "the service manager restarts inkan-dkim (Restart=on-failure)"},
      {"AutoRestartCount", KS::Ignored, "the service manager restarts inkan-dkim"},
      {"AutoRestartRate", KS::Ignored, "the service manager restarts inkan-dkim"},
      {"DiagnosticDirectory", KS::Ignored, "no diagnostic files are written"},
      {"DisableCryptoInit", KS::Ignored, "debugging knob"},
      {"DNSConnect", KS::Ignored, "UDP first, TCP on truncation"},
      {"EnableCoredumps", KS::Ignored, "debugging knob"},
      {"FixCRLF", KS::Ignored, "Postfix hands the milter CRLF line ends"},
      {"KeepTemporaryFiles", KS::Ignored, "no temporary files are written"},
      {"MilterDebug", KS::Ignored, "debugging knob"},
      {"QueryCache", KS::Ignored, "keys are always cached (TTL-bounded)"},
      {"ResolverTracing", KS::Ignored, "debugging knob"},
      {"SoftStart", KS::Implemented, ""},
      {"TemporaryDirectory", KS::Ignored, "no temporary files are written"},
      // DNSSEC as Postfix does it: the resolver validates, inkan-dkim asks for and trusts its
      // AD bit (DkimSettings::dnssec_resolver); the file itself is not read.
      {"TrustAnchorFile", KS::Implemented, "DNSSEC status from the resolver's AD bit; the file is not read"},
      {"ATPSDomains", KS::Ignored, "ATPS (RFC 6541, experimental) is not implemented: dkim-atps stays neutral"},
      {"ATPSHashAlgorithm", KS::Ignored, "ATPS (RFC 6541, experimental) is not implemented: dkim-atps stays neutral"},
      {"VBR-Certifiers", KS::Ignored, "VBR (RFC 5518) is not implemented"},
      {"VBR-PurgeFields", KS::Ignored, "VBR (RFC 5518) is not implemented"},
      {"VBR-TrustedCertifiers", KS::Ignored, "VBR (RFC 5518) is not implemented"},
      {"VBR-TrustedCertifiersOnly", KS::Ignored, "VBR (RFC 5518) is not implemented"},
      {"VBR-Type", KS::Ignored, "VBR (RFC 5518) is not implemented"},
      {"Statistics", KS::Ignored, "statistics reporting is not implemented"},
      {"StatisticsName", KS::Ignored, "statistics reporting is not implemented"},
      {"StatisticsPrefix", KS::Ignored, "statistics reporting is not implemented"},
      {"LDAPAuthMechanism", KS::Implemented, ""},
      {"LDAPAuthName", KS::Implemented, ""},
      {"LDAPAuthRealm", KS::Implemented, ""},
      {"LDAPAuthUser", KS::Implemented, ""},
      {"LDAPBindPassword", KS::Implemented, ""},
      {"LDAPBindUser", KS::Implemented, ""},
      {"LDAPDisableCache", KS::Implemented, "Debian's opendkim has no LDAP cache (_FFR_LDAP_CACHING) to disable; neither has inkan-dkim"},
      {"LDAPKeepaliveIdle", KS::Implemented, ""},
      {"LDAPKeepaliveInterval", KS::Implemented, ""},
      {"LDAPKeepaliveProbes", KS::Implemented, ""},
      {"LDAPTimeout", KS::Implemented, ""},
      {"LDAPUseTLS", KS::Implemented, ""},
      {"SMTPURI", KS::Ignored, "failure reports are handed to MTACommand"},
      // Removed in OpenDKIM 2.10 (fatal there); accepted so old files load.
      {"AddAllSignatureResults", KS::Ignored, "removed in OpenDKIM 2.10"},
      {"ADSPAction", KS::Ignored, "ADSP was removed in OpenDKIM 2.10 (RFC 5617 is historic)"},
      {"ADSPNoSuchDomain", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"BogusPolicy", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"DisableADSP", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"LDAPSoftStart", KS::Ignored, "removed in OpenDKIM 2.10"},
      {"LocalADSP", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"NoDiscardableMailTo", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"On-PolicyError", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"SendADSPReports", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"UnprotectedPolicy", KS::Ignored, "ADSP was removed in OpenDKIM 2.10"},
      {"BodyLengths", KS::Ignored, "removed in OpenDKIM 2.5"},
      {"SingleAuthResult", KS::Ignored, "never implemented by OpenDKIM"},
      {"UnboundConfigFile", KS::Ignored, "never implemented by OpenDKIM"},
      {"TrustSignaturesFrom", KS::Ignored,
       "opendkim 2.11 reads it only for Lua policy scripts (odkim.get_dbhandle), which inkan does not run"},
      {"RedirectFailuresTo", KS::Ignored,
       "Debian's opendkim 2.11 is built without _FFR_REDIRECT and ignores it as well"},
      // Booleans that change verdicts or output when true.
      {"Diagnostics", KS::Implemented, "z= copies of the signed header fields"},
      {"DomainKeysCompat", KS::RefusedIfOn, "DomainKeys (RFC 4870, historic) is not implemented"},
      {"RequestReports", KS::Implemented, "r=y in signatures (RFC 6651)"},
      // Refused: ignoring them would change verdicts or signatures.
      {"ConditionalSignatures", KS::Refused, "not implemented"},
      {"DefaultSender", KS::Refused, "not implemented"},
      {"FinalPolicyScript", KS::Implemented, ""},
      {"FlowData", KS::Refused, "reputation flow data is not supported"},
      {"FlowDataFactor", KS::Refused, "reputation flow data is not supported"},
      {"FlowDataTTL", KS::Refused, "reputation flow data is not supported"},
      {"IdentityHeader", KS::Refused, "not implemented"},
      {"IdentityHeaderRemove", KS::Refused, "not implemented"},
      {"LuaOnlySigning", KS::Implemented, ""},
      {"MaximumSignedBytes", KS::Implemented, ""},
      {"BodyLengthDB", KS::Implemented, "file:, csl:, db:, dsn: and ldap: data sets (refile: is refused)"},
      {"SenderMacro", KS::Implemented, "macro name with or without braces"},
      {"SelectCanonicalizationHeader", KS::Implemented,
       "active only when set (opendkim 2.11.0 ignores it; develop always reads X-Canonicalization)"},
      {"On-ReputationError", KS::Refused, "reputation is not supported"},
      {"POPDBFile", KS::Refused, "POP-before-SMTP is not supported; use SASL or InternalHosts"},
      {"RateLimits", KS::Refused, "reputation rate limits are not supported"},
      {"ReplaceHeaders", KS::Implemented, "file:, csl:, db:, dsn: and ldap: data sets (refile: is refused)"},
      {"ReplaceRules", KS::Implemented, "see auth/config/replace_rules.h for the deliberate differences"},
      {"ReputationCache", KS::Refused, "reputation is not supported"},
      {"ReputationCacheTTL", KS::Refused, "reputation is not supported"},
      {"ReputationDuplicates", KS::Refused, "reputation is not supported"},
      {"ReputationLimitModifiers", KS::Refused, "reputation is not supported"},
      {"ReputationLimits", KS::Refused, "reputation is not supported"},
      {"ReputationMinimum", KS::Refused, "reputation is not supported"},
      {"ReputationRatios", KS::Refused, "reputation is not supported"},
      {"ReputationSpamCheck", KS::Refused, "reputation is not supported"},
      {"ReputationTimeFactor", KS::Refused, "reputation is not supported"},
      {"ReputationTimeout", KS::Refused, "reputation is not supported"},
      {"ReputationVerbose", KS::Refused, "reputation is not supported"},
      {"ResignAll", KS::Refused, "not implemented"},
      {"ResignMailTo", KS::Refused, "not implemented"},
      {"ScreenPolicyScript", KS::Implemented, ""},
      {"SetupPolicyScript", KS::Implemented, ""},
      {"StatisticsPolicyScript", KS::Refused,
       "statistics are not implemented (opendkim 2.11 as built by Debian rejects it too: no _FFR_STATSEXT)"},
  };
  return k;
}

std::vector<std::string> resolve_header_list(const std::vector<std::string>& items,
                                             const std::vector<std::string>& defaults) {
  // Names keep their spelling (OpenDKIM writes oversigned names as configured) and compare
  // case-insensitively (RFC 5322 §1.2.2).
  std::vector<std::string> out;
  auto find = [&](std::string_view n) {
    return std::find_if(out.begin(), out.end(), [&](const std::string& x) { return iequals(x, n); });
  };
  for (const auto& raw : items) {
    std::string item(trim(raw));
    if (item.empty() || item == ".") continue;
    if (item == "*") {
      for (const auto& d : defaults) {
        if (find(d) == out.end()) out.push_back(d);
      }
    } else if (item.front() == '+') {
      if (item.size() > 1 && find(item.substr(1)) == out.end()) out.push_back(item.substr(1));
    } else if (item.front() == '-') {
      if (auto it = find(item.substr(1)); it != out.end()) out.erase(it);
    } else if (find(item) == out.end()) {
      out.push_back(item);
    }
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // A small per-thread cache of compiled patterns (the SigningTable is matched per message).
  struct Compiled {
    regex_t re{};
    bool ok = false;
    ~Compiled() {
      if (ok) regfree(&re);
    }
  };
  constexpr std::size_t kMaxCachedPatterns = 512;  // local policy
  thread_local std::unordered_map<std::string, std::unique_ptr<Compiled>> cache;
  // regcomp/regexec stop at a NUL: a pattern or text holding one would be cut short and
  // could match too much, so it never matches.
  if (pattern.find('\0') != std::string_view::npos || text.find('\0') != std::string_view::npos) return false;
  std::string key(pattern);
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= kMaxCachedPatterns) cache.clear();
    auto c = std::make_unique<Compiled>();
    std::string ere = refile_pattern_to_ere(pattern);
    c->ok = regcomp(&c->re, ere.c_str(), REG_EXTENDED | REG_NOSUB | REG_ICASE) == 0;
    it = cache.emplace(std::move(key), std::move(c)).first;
  }
  if (!it->second->ok) return false;
  std::string t(text);
  return regexec(&it->second->re, t.c_str(), 0, nullptr, 0) == 0;
}

namespace {
/// Live data sets are equal when they were opened from the same value (origin()).
bool same_live(const std::shared_ptr<LiveDataset>& a, const std::shared_ptr<LiveDataset>& b) {
  if (!a || !b) return !a && !b;
  return a->origin() == b->origin();
}
}  // namespace

bool DkimSettings::same_as(const DkimSettings& o) const {
  return socket == o.socket && user == o.user && pidfile == o.pidfile && chroot_dir == o.chroot_dir &&
         umask == o.umask &&
         background == o.background && syslog == o.syslog && syslog_facility == o.syslog_facility &&
         syslog_name == o.syslog_name && metrics == o.metrics && sign == o.sign &&
         verify == o.verify && canonicalization == o.canonicalization &&
         signature_algorithm == o.signature_algorithm && sign_headers == o.sign_headers &&
         sign_all_but_omitted == o.sign_all_but_omitted && omit_headers == o.omit_headers &&
         oversign_headers == o.oversign_headers && domains == o.domains &&
         subdomains == o.subdomains && multiple_signatures == o.multiple_signatures &&
         remove_old_signatures == o.remove_old_signatures && keys == o.keys &&
         signing_kind == o.signing_kind && signing == o.signing && key_table == o.key_table &&
         same_live(key_table_live, o.key_table_live) && same_live(signing_table_live, o.signing_table_live) &&
         same_live(live_lists.mta, o.live_lists.mta) &&
         same_live(live_lists.dont_sign_mail_to, o.live_lists.dont_sign_mail_to) &&
         same_live(live_lists.exempt_domains, o.live_lists.exempt_domains) &&
         same_live(live_lists.body_length_db, o.live_lists.body_length_db) &&
         same_live(live_lists.replace_headers, o.live_lists.replace_headers) &&
         same_live(live_lists.remove_ar_from, o.live_lists.remove_ar_from) &&
         same_live(live_lists.domains, o.live_lists.domains) &&
         live_options == o.live_options &&
         sender_headers == o.sender_headers && dont_sign_mail_to == o.dont_sign_mail_to &&
         exempt_domains == o.exempt_domains && signature_ttl == o.signature_ttl &&
         maximum_signed_bytes == o.maximum_signed_bytes && body_length_db == o.body_length_db &&
         sender_macro == o.sender_macro &&
         select_canonicalization_header == o.select_canonicalization_header &&
         diagnostics == o.diagnostics && request_reports == o.request_reports &&
         replace_rules == o.replace_rules && replace_headers == o.replace_headers &&
         require_safe_keys == o.require_safe_keys && internal_hosts == o.internal_hosts &&
         external_ignore == o.external_ignore && peer_list == o.peer_list && mta == o.mta &&
         macro_list == o.macro_list && minimum_key_bits == o.minimum_key_bits &&
         max_signatures == o.max_signatures && maximum_headers == o.maximum_headers &&
         clock_drift == o.clock_drift && strict_headers == o.strict_headers &&
         weak_syntax_checks == o.weak_syntax_checks && allow_sha1 == o.allow_sha1 &&
         unprotected_key == o.unprotected_key && bogus_key == o.bogus_key &&
         actions == o.actions && authserv_id == o.authserv_id &&
         authserv_id_with_jobid == o.authserv_id_with_jobid && always_add_ar == o.always_add_ar &&
         no_header_b == o.no_header_b && keep_auth_results == o.keep_auth_results &&
         remove_ar_all == o.remove_ar_all && remove_ar_from == o.remove_ar_from &&
         software_header == o.software_header && atps_neutral == o.atps_neutral &&
         header_index == o.header_index &&
         nameservers == o.nameservers && dns_timeout == o.dns_timeout && dnssec_resolver == o.dnssec_resolver &&
         mode_set == o.mode_set && minimum == o.minimum && must_be_signed == o.must_be_signed &&
         required_headers == o.required_headers && ignore_malformed == o.ignore_malformed &&
         setup_script == o.setup_script && screen_script == o.screen_script &&
         final_script == o.final_script && lua_only_signing == o.lua_only_signing &&
         quarantine == o.quarantine && capture_unknown_errors == o.capture_unknown_errors &&
         send_reports == o.send_reports && report_address == o.report_address &&
         report_bcc_address == o.report_bcc_address && mta_command == o.mta_command &&
         test_dns == o.test_dns &&
         strict_test_mode == o.strict_test_mode &&
         syslog_success == o.syslog_success && log_why == o.log_why && log_results == o.log_results;
}

namespace {

/* ---------------- value parsers shared by both sources ---------------- */

struct Where {
  std::string file;
  std::size_t line = 0;
  std::string option;
  [[noreturn]] void fail(const std::string& why) const { throw ConfigError(file, line, option, why); }
};

dkim::Canonicalization parse_canon(const Where& w, std::string_view v) {
  auto c = dkim::parse_canonicalization(trim(v));
  if (!c) w.fail("unknown canonicalization algorithm \"" + std::string(v) + "\"");
  return *c;
}

crypto::SignAlg parse_alg(const Where& w, std::string_view v) {
  auto a = crypto::parse_sign_alg(lower(trim(v)));
  if (!a || *a == crypto::SignAlg::RsaSha1) {
    // RFC 8301 §3.1: signers MUST NOT use rsa-sha1.
    w.fail("unknown signing algorithm \"" + std::string(v) + "\"" +
           (a ? " (rsa-sha1 signing is forbidden by RFC 8301 §3.1)" : ""));
  }
  return *a;
}

DkimAction parse_action(const Where& w, std::string_view v) {
  auto a = parse_dkim_action(v);
  // opendkim silently accepts a bad value (dkimf_parsehandler quirk, §1.1); we name it.
  if (!a) w.fail("illegal value '" + std::string(v) + "' (accept, reject, tempfail, discard, quarantine)");
  return *a;
}

KeyTrustAction parse_trust(const Where& w, std::string_view v) {
  std::string s = lower(trim(v));
  if (s == "none") return KeyTrustAction::None;
  if (s == "neutral") return KeyTrustAction::Neutral;
  if (s == "fail") return KeyTrustAction::Fail;
  w.fail("unknown key action '" + std::string(v) + "'");
}

void parse_mode(DkimSettings& s, const Where& w, std::string_view v) {
  std::string m = lower(trim(v));
  if (m.empty()) w.fail("unknown mode \"\"");
  s.sign = s.verify = false;
  s.mode_set = true;
  for (char c : m) {
    if (c == 's') {
      s.sign = true;
    } else if (c == 'v') {
      s.verify = true;
    } else {
      w.fail("unknown mode \"" + std::string(v) + "\"");
    }
  }
}

long parse_number(const Where& w, std::string_view v, long min, long max) {
  auto n = parse_legacy_int(trim(v));
  if (!n || *n < min || *n > max) w.fail("illegal value '" + std::string(v) + "'");
  return *n;
}

bool parse_bool(const Where& w, std::string_view v) {
  auto b = parse_legacy_bool(trim(v));
  if (!b) w.fail("illegal value '" + std::string(v) + "'");
  return *b;
}

/// LDAPTimeout / LDAPKeepalive*: seconds (probes: a count). OpenDKIM keeps them as strings and
/// reads them with strtoul at each connection, so "abc" silently becomes 0 there; opendkim.conf(5)
/// calls them integers and inkan refuses anything else at start-up.
int parse_ldap_seconds(const Where& w, std::string_view v) {
  return static_cast<int>(parse_number(w, v, 0, kDkimMaxConfigNumber));
}

/// The integer LDAP* keywords and their YAML names under dkim: ldap:.
struct LdapNumber {
  const char* keyword;
  const char* yaml;
  int LiveDatasetOptions::*field;
};
constexpr LdapNumber kLdapNumbers[] = {
    {"LDAPTimeout", "timeout", &LiveDatasetOptions::ldap_timeout},
    {"LDAPKeepaliveIdle", "keepalive_idle", &LiveDatasetOptions::ldap_keepalive_idle},
    {"LDAPKeepaliveInterval", "keepalive_interval", &LiveDatasetOptions::ldap_keepalive_interval},
    {"LDAPKeepaliveProbes", "keepalive_probes", &LiveDatasetOptions::ldap_keepalive_probes},
};

/// YAML `dkim: ldap:` — the LDAP* keywords: bind_user, bind_password, auth_mechanism,
/// auth_name, auth_realm, auth_user, use_tls, disable_cache, timeout, keepalive_idle,
/// keepalive_interval, keepalive_probes.
void parse_yaml_ldap(LiveDatasetOptions& o, const YAML::Node& n, const std::string& file) {
  if (!n.IsMap()) Where{file, static_cast<std::size_t>(n.Mark().line + 1), "dkim.ldap"}.fail("expected a mapping");
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    const std::string opt = "dkim.ldap." + k;
    const Where w{file, static_cast<std::size_t>(kv.second.Mark().line + 1), opt};
    if (!kv.second.IsScalar()) w.fail("expected a single value");
    const std::string v = kv.second.Scalar();
    if (k == "bind_user") o.ldap_bind_user = v;
    else if (k == "bind_password") o.ldap_bind_password = v;
    else if (k == "auth_mechanism") o.ldap_auth_mechanism = v;
    else if (k == "auth_name") o.ldap_auth_name = v;
    else if (k == "auth_realm") o.ldap_auth_realm = v;
    else if (k == "auth_user") o.ldap_auth_user = v;
    else if (k == "use_tls") o.ldap_use_tls = parse_bool(w, v);
    else if (k == "disable_cache") o.ldap_disable_cache = parse_bool(w, v);
    else {
      const LdapNumber* num = nullptr;
      for (const LdapNumber& x : kLdapNumbers) {
        if (k == x.yaml) num = &x;
      }
      if (num == nullptr) Where{file, static_cast<std::size_t>(kv.first.Mark().line + 1), opt}.fail("unrecognized parameter");
      o.*num->field = parse_ldap_seconds(w, v);
    }
  }
}

/// ChangeRootDirectory: an absolute directory (chroot(2) needs no relative path games).
std::string parse_chroot_dir(const Where& w, std::string_view v) {
  std::string_view d = trim(v);
  if (d.empty() || d.front() != '/') w.fail("expected an absolute directory");
  return std::string(d);
}

/// SenderMacro: a macro name as libmilter knows it: "x", "{name}" or "name" (the runtime
/// adds the braces), printable ASCII without blanks; braces only around the whole name.
std::string parse_macro_name(const Where& w, std::string_view v) {
  std::string_view n = trim(v);
  std::string_view inner = n;
  if (!inner.empty() && inner.front() == '{') {
    if (inner.size() < 3 || inner.back() != '}') w.fail("illegal macro name '" + std::string(v) + "'");
    inner = inner.substr(1, inner.size() - 2);
  }
  bool ok = !inner.empty() && inner.size() <= kMaxMacroNameBytes;
  for (char c : inner) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '{' || c == '}') ok = false;
  }
  if (!ok) w.fail("illegal macro name '" + std::string(v) + "'");
  return std::string(n);
}

/// SelectCanonicalizationHeader: a field name (RFC 5322 §3.6.8 ftext: printable ASCII but
/// ':'); an empty value means OpenDKIM's documented default, X-Canonicalization.
std::string parse_field_name(const Where& w, std::string_view v) {
  std::string_view n = trim(v);
  if (n.empty()) return std::string(kDefaultSelectCanonicalizationHeader);
  bool ok = n.size() <= kMaxFieldNameBytes;
  for (char c : n) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') ok = false;
  }
  if (!ok) w.fail("illegal header field name '" + std::string(v) + "'");
  return std::string(n);
}

/// Nameservers: "a,b" with opendkim's libunbound "ip@port" form turned into "ip:port".
std::vector<std::string> parse_nameservers(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string item(trim(v.substr(0, comma)));
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    if (item.empty()) continue;
    if (auto at = item.find('@'); at != std::string::npos) {
      std::string host = item.substr(0, at), port = item.substr(at + 1);
      item = host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
    }
    out.push_back(item);
  }
  return out;
}

MacroMatch parse_macro_match(std::string_view item) {
  MacroMatch m;
  auto eq = item.find('=');
  m.name = std::string(trim(item.substr(0, eq)));
  if (eq != std::string_view::npos) {
    std::string_view vals = item.substr(eq + 1);
    while (true) {
      auto bar = vals.find('|');
      std::string one(trim(vals.substr(0, bar)));
      if (!one.empty()) m.values.push_back(one);
      if (bar == std::string_view::npos) break;
      vals = vals.substr(bar + 1);
    }
  }
  return m;
}

/// A host-list line's entry: '#' comment, trimmed, first blank ends it.
std::vector<std::string> host_entries_from_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto p = line.find_first_of("#\r"); p != std::string_view::npos) line = line.substr(0, p);
    line = trim(line);
    auto sp = line.find_first_of(" \t");
    if (sp != std::string_view::npos) line = line.substr(0, sp);
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

std::string with_base(const std::string& base, const std::string& path) {
  if (base.empty() || path.empty() || path.front() == '/') return path;
  return base + "/" + path;
}

/// A Berkeley DB data set (dkimf_db_open): `db:path`, or a value whose first ':' (if any)
/// follows a ',' and whose last ".db" ends it. Returns "db:<path resolved against base>" or
/// nullopt for every other type.
std::optional<std::string> berkeley_db_spec(std::string_view spec, const std::string& base) {
  spec = trim(spec);
  if (istarts_with(spec, "db:")) return "db:" + with_base(base, std::string(spec.substr(3)));
  auto colon = spec.find(':');
  auto comma = spec.find(',');
  bool typed = colon != std::string_view::npos && (comma == std::string_view::npos || colon < comma);
  if (!typed && spec.size() >= 3 && spec.substr(spec.size() - 3) == ".db") {
    return "db:" + with_base(base, std::string(spec));
  }
  return std::nullopt;
}

/// KeyTable / SigningTable as a live data set (dsn:, ldap:, ldaps:, ldapi:), opened through the
/// reader's LiveDatasetOpener. nullptr when `spec` is not live or no opener was injected (then
/// Dataset::open refuses it with the usual "not supported" error naming the option).
std::shared_ptr<LiveDataset> open_live_table(const Where& w, std::string_view spec, const LiveDatasetOptions& options,
                                             const FileReader& reader) {
  spec = trim(spec);
  if (!is_live_dataset_spec(spec)) return nullptr;
  const LiveDatasetOpener* open = live_opener_of(reader);
  if (open == nullptr) return nullptr;
  auto ds = (*open)(spec, options);
  // opendkim: "<spec>: dkimf_db_open(): <why>"; the reason names the data set (password masked).
  if (!ds) w.fail(ds.error().reason);
  if (!*ds) w.fail("the data set opener returned nothing");
  return std::move(*ds);
}

/// An option opendkim reads once, whole, with dkimf_db_mkarray (SignHeaders, OmitHeaders,
/// OversignHeaders, SenderHeaders, MustBeSigned). For a dsn: or ldap: data set that
/// yields nothing: opendkim-db.c (2.11, USE_DB) returns 0 for every type but db: whose record
/// count is 0, which a live data set's always is, and leaves the array NULL, so the option
/// behaves as unset (SignHeaders: every field but the omitted ones; lab: opendkim 2.11 -t).
/// inkan does the same, `effect` saying what that means, with a start-up warning since that is
/// surely not what the admin meant. The data set is still opened, as dkimf_db_open does: a
/// malformed value, or a server that cannot be reached without SoftStart, stops the start.
/// False when `spec` is not live or no opener was injected (the caller's loader refuses it).
bool live_array_option(const Where& w, std::string_view spec, DkimSettings& s, const FileReader& reader,
                       std::string_view effect) {
  auto ds = open_live_table(w, spec, s.live_options, reader);
  if (!ds) return false;
  s.warnings.push_back(w.option + " " + ds->origin() +
                       ": opendkim reads this option once as a list (dkimf_db_mkarray), which a dsn:/ldap: data "
                       "set leaves empty; so does inkan: " + std::string(effect));
  return true;
}

/// A host-list dataset value: file:/path, /path, refile:/path, csl:a,b or a bare list; a
/// dsn:/ldap: data set (with an opener in `reader`) becomes HostSource::live.
HostSource load_host_source(const Where& w, std::string_view spec, const std::string& base,
                            const FileReader& reader, const LiveDatasetOptions& live_options = {}) {
  spec = trim(spec);
  HostSource h;
  if (auto live = open_live_table(w, spec, live_options, reader)) {
    h.live = std::move(live);
    return h;
  }
  auto read = [&](std::string path) {
    path = with_base(base, path);
    auto text = reader(path);
    if (!text) w.fail("cannot read " + path + ": " + text.error().reason);
    return *text;
  };
  if (auto db = berkeley_db_spec(spec, base)) {
    // dkimf_checkhost/dkimf_checkip look each candidate up as a key: the keys are the entries.
    try {
      Dataset d = Dataset::open(*db, true, w.option, reader);
      for (const auto& e : d.entries()) h.entries.push_back(e.key);
    } catch (const ConfigError& e) {
      if (e.file().empty()) w.fail(e.message());
      throw;
    }
  } else if (istarts_with(spec, "refile:")) {
    h.refile = true;
    h.entries = host_entries_from_lines(read(std::string(spec.substr(7))));
  } else if (istarts_with(spec, "file:")) {
    h.entries = host_entries_from_lines(read(std::string(spec.substr(5))));
  } else if (!spec.empty() && (spec.front() == '/' || spec.substr(0, 2) == "./")) {
    h.entries = host_entries_from_lines(read(std::string(spec)));
  } else {
    if (istarts_with(spec, "csl:")) spec.remove_prefix(4);
    for (const char* p : {"dsn:", "ldap:", "ldaps:", "ldapi:", "lua:", "memcache:",
                          "erlang:", "mdb:", "socket:", "redis:"}) {
      if (istarts_with(spec, p)) {
        w.fail(std::string("dataset type '") + p + "' is not supported by inkan; use file:, refile: or csl:");
      }
    }
    // Inline: commas and/or blanks separate entries (IPv6 works inline, unlike #155).
    std::string cur;
    for (char c : spec) {
      if (c == ',' || c == ' ' || c == '\t') {
        if (!cur.empty()) h.entries.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) h.entries.push_back(cur);
  }
  return h;
}

/// A plain list dataset (header names, domains, addresses): file or csl. `keys_only`: the
/// keys alone, for the lists opendkim asks one key at a time (dkimf_db_get: Domain,
/// DontSignMailTo, ExemptDomains), where "example.org  x" (file) or "example.org=x" (csl)
/// matches "example.org" (opendkim 2.11 -t, lab); otherwise "key=value" as written.
std::vector<std::string> load_list(const Where& w, std::string_view spec, const std::string& base,
                                   const FileReader& reader, bool lowercase, bool keys_only = false) {
  spec = trim(spec);
  if (istarts_with(spec, "refile:")) w.fail("failed to generate DB array: refile: is not allowed here");
  std::string s(spec);
  if (istarts_with(s, "file:")) s = "file:" + with_base(base, s.substr(5));
  auto db = berkeley_db_spec(s, base);
  if (db) {
    s = *db;
    // opendkim.c: "MacroList ... must be of type file or csl" (opendkim.conf(5)).
    if (iequals(w.option, "MacroList")) w.fail(s + ": invalid data set type for MacroList");
  }
  try {
    Dataset d = Dataset::open(s, true, w.option, reader);
    std::vector<std::string> out;
    for (const auto& e : d.entries()) {
      // A db: list is its keys (dkimf_db_mkarray walks keys only, as C strings). OpenDKIM
      // also appends one empty element after the last key (its walk loop stores the buffer
      // of the final, failed step); an empty header name, domain or address matches nothing,
      // so it is left out.
      std::string item = db ? std::string(e.key.c_str())
                            : (e.value.empty() || keys_only ? e.key : e.key + "=" + e.value);
      out.push_back(lowercase ? lower(item) : item);
    }
    return out;
  } catch (const ConfigError& e) {
    if (e.file().empty()) w.fail(e.message());
    throw;
  }
}

/// A KeyTable value "domain:selector:key[:alg]" (the last field takes the rest; the optional
/// 4th field of OpenDKIM develop PR #269 is recognised when it is an algorithm name).
DkimKey parse_key_entry(const Where& w, const std::string& name, std::string_view value,
                        const std::string& base) {
  auto f = split_fields(value, 3);
  if (!f || (*f)[0].empty() || (*f)[1].empty() || (*f)[2].empty()) {
    w.fail("KeyTable entry for '" + name + "' corrupt");
  }
  DkimKey k;
  k.name = name;
  k.domain = lower((*f)[0]);
  k.selector = (*f)[1];
  std::string keydata = (*f)[2];
  if (auto colon = keydata.rfind(':'); colon != std::string::npos) {
    std::string tail = lower(keydata.substr(colon + 1));
    if (tail == "rsa-sha256" || tail == "ed25519-sha256") {
      k.algorithm = parse_alg(w, tail);
      keydata = keydata.substr(0, colon);
    }
  }
  if (!keydata.empty() && keydata.front() != '/' && keydata.substr(0, 2) != "./" &&
      keydata.substr(0, 3) != "../") {
    k.key = keydata;  // inline key data
  } else {
    k.key = with_base(base, keydata);
  }
  return k;
}

/// TestPublicKeys lines: "<name><whitespace><TXT value>"; blank and '#' lines skipped.
std::vector<std::pair<std::string, std::string>> parse_test_key_lines(const Where& w, std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t lineno = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (out.size() >= kMaxDatasetEntries) w.fail("too many entries");
    auto sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) w.fail("line " + std::to_string(lineno) + ": no record after the name");
    out.emplace_back(lower(line.substr(0, sp)), std::string(trim(line.substr(sp))));
  }
  return out;
}

/// ReplaceRules: the rules file at `path` (replace_rules.h), read through `reader`.
std::vector<ReplaceRule> load_replace_rules(const Where& w, const std::string& path, const FileReader& reader) {
  if (path.empty()) w.fail("illegal value (a file name)");
  auto text = reader(path);
  if (!text) w.fail("cannot read " + path + ": " + text.error().reason);
  auto rules = parse_replace_rules(*text);
  // opendkim: "failed to load ReplaceRules from <file>"; we add the line and the reason.
  if (!rules) w.fail("failed to load ReplaceRules from " + path + ": " + rules.error().reason);
  return std::move(*rules);
}

void finish_checks(const DkimSettings& s, const std::string& file) {
  // Every key name the SigningTable refers to must exist (OpenDKIM checks per message and
  // tempfails; a literal name is checked here, '%' only per message).
  if (s.key_table) {
    // A live KeyTable is asked (dkimf_db_get). opendkim counts a failed lookup as "not found";
    // with SoftStart ("start even if the server is down", opendkim.conf(5)) it is no error.
    std::string why;
    auto key_exists = [&](const std::string& kn) -> bool {
      why.clear();
      if (!s.key_table_live) {
        return std::any_of(s.keys.begin(), s.keys.end(), [&](const DkimKey& k) { return k.name == kn; });
      }
      auto r = s.key_table_live->lookup(kn);
      if (!r) {
        why = " (" + r.error().reason + ")";
        return s.live_options.soft_start;
      }
      return r->has_value();
    };
    if (s.signing_table_live) {
      // opendkim walks the SigningTable at start-up (dkimf_db_walk: SELECT keycol,datacol)
      // and refuses to start when a key name is not in the KeyTable. It checks "%" literally
      // too; "%" means the sender's domain (opendkim.conf(5)), so it is skipped here.
      // A walk that fails (table missing, server down) skips the check, as in opendkim: the
      // lookups per message then fail with "error reading signing table".
      auto rows = s.signing_table_live->walk(kMaxDatasetEntries);
      if (rows) {
        for (const auto& row : *rows) {
          std::string kn = row.second.empty() ? std::string() : row.second.front();
          if (kn == "%") continue;
          if (!key_exists(kn)) {
            throw ConfigError(file, 0, "SigningTable", "could not find valid key record \"" + kn + "\" in KeyTable" + why);
          }
        }
      }
    }
    for (const auto& r : s.signing) {
      for (const auto& kn : r.keys) {
        if (kn == "%") continue;
        if (!key_exists(kn)) {
          throw ConfigError(file, 0, "SigningTable", "signing table references unknown key '" + kn + "'" + why);
        }
      }
    }
  }
}

}  // namespace

/* ---------------- opendkim.conf ---------------- */

DkimSettings load_dkim_legacy(const LegacyConfig& cfg, const FileReader& reader) {
  DkimSettings s;
  const auto& kw = dkim_keywords();

  // Unknown names first, in file order, as opendkim does.
  for (const auto& st : cfg.settings()) {
    bool known = std::any_of(kw.begin(), kw.end(), [&](const KeywordInfo& k) { return iequals(k.name, st.name); });
    if (!known) throw ConfigError(st.file, st.line, st.name, "unrecognized parameter");
  }
  auto where = [&](const Setting* st) { return Where{st->file, st->line, st->name}; };
  auto get = [&](std::string_view name) -> const Setting* { return cfg.find(name); };

  // Refused / ignored keywords.
  for (const auto& k : kw) {
    const Setting* st = get(k.name);
    if (!st) continue;
    switch (k.support) {
      case KS::Implemented: break;
      case KS::Ignored:
        s.warnings.push_back(std::string(k.name) + " is accepted but has no effect: " + std::string(k.note));
        break;
      case KS::RefusedIfOn:
        if (parse_bool(where(st), st->value)) {
          where(st).fail("not supported by inkan-dkim when enabled: " + std::string(k.note));
        }
        break;
      case KS::Refused:
        where(st).fail("not supported by inkan-dkim: " + std::string(k.note));
    }
  }

  std::string base;
  if (const Setting* st = get("BaseDirectory")) {
    base = st->value;
    s.base_directory = base;
  }
  auto str = [&](std::string_view name, std::string& out) {
    if (const Setting* st = get(name)) out = st->value;
  };
  auto flag = [&](std::string_view name, bool& out) {
    if (const Setting* st = get(name)) out = parse_bool(where(st), st->value);
  };

  /* Process. */
  str("Socket", s.socket);
  str("UserID", s.user);
  if (const Setting* st = get("PidFile")) s.pidfile = with_base(base, st->value);
  if (const Setting* st = get("ChangeRootDirectory")) s.chroot_dir = parse_chroot_dir(where(st), st->value);
  if (const Setting* st = get("UMask")) s.umask = static_cast<unsigned>(parse_number(where(st), st->value, 0, 0777));
  flag("Background", s.background);
  flag("Syslog", s.syslog);
  str("SyslogFacility", s.syslog_facility);
  str("SyslogName", s.syslog_name);

  /* Mode and algorithms. */
  if (const Setting* st = get("Mode")) parse_mode(s, where(st), st->value);
  if (const Setting* st = get("Canonicalization")) s.canonicalization = parse_canon(where(st), st->value);
  if (const Setting* st = get("SignatureAlgorithm")) s.signature_algorithm = parse_alg(where(st), st->value);

  flag("SoftStart", s.live_options.soft_start);  // before every live data set it applies to
  // LDAP* (opendkim.conf(5)), used by ldap:/ldaps:/ldapi: live tables (dataset_ldap.h).
  str("LDAPAuthMechanism", s.live_options.ldap_auth_mechanism);
  str("LDAPAuthName", s.live_options.ldap_auth_name);
  str("LDAPAuthRealm", s.live_options.ldap_auth_realm);
  str("LDAPAuthUser", s.live_options.ldap_auth_user);
  str("LDAPBindUser", s.live_options.ldap_bind_user);
  str("LDAPBindPassword", s.live_options.ldap_bind_password);
  flag("LDAPUseTLS", s.live_options.ldap_use_tls);
  flag("LDAPDisableCache", s.live_options.ldap_disable_cache);
  for (const LdapNumber& n : kLdapNumbers) {
    if (const Setting* st = get(n.keyword)) s.live_options.*n.field = parse_ldap_seconds(where(st), st->value);
  }

  /* Header lists. */
  s.sign_headers = opendkim_default_sign_headers();
  if (const Setting* st = get("SignHeaders")) {
    if (live_array_option(where(st), st->value, s, reader,
                          "every header field except the omitted ones is signed (DKIM_OPTS_SIGNHDRS NULL)")) {
      s.sign_all_but_omitted = true;
      s.sign_headers.clear();
    } else {
      s.sign_headers = resolve_header_list(load_list(where(st), st->value, base, reader, false),
                                           opendkim_default_sign_headers());
    }
  }
  s.omit_headers = opendkim_default_omit_headers();
  const Setting* omit_st = get("OmitHeaders");
  if (omit_st && live_array_option(where(omit_st), omit_st->value, s, reader,
                                   "no header field is omitted (DKIM_OPTS_SKIPHDRS NULL)")) {
    s.omit_headers.clear();
  } else if (const Setting* st = omit_st) {
    s.omit_headers = resolve_header_list(load_list(where(st), st->value, base, reader, false),
                                         opendkim_default_omit_headers());
    // OpenDKIM: OmitHeaders without SignHeaders signs every header except those omitted.
    if (!get("SignHeaders")) {
      s.sign_all_but_omitted = true;
      s.sign_headers.clear();
    }
  }
  if (const Setting* st = get("OversignHeaders");
      st && live_array_option(where(st), st->value, s, reader, "no header field is oversigned")) {
    s.oversign_headers.clear();
  } else if (st) {
    s.oversign_headers = resolve_header_list(load_list(where(st), st->value, base, reader, false), {});
  }
  if (const Setting* st = get("SenderHeaders");
      st && live_array_option(where(st), st->value, s, reader, "the default sender header (From) is used")) {
  } else if (st) {
    s.sender_headers = resolve_header_list(load_list(where(st), st->value, base, reader, false), {"from"});
  }

  /* Keys and tables. */
  const Setting* kt = get("KeyTable");
  const Setting* st_table = get("SigningTable");
  const Setting* keyfile = get("KeyFile");
  const Setting* selector = get("Selector");
  if (st_table && !kt) where(st_table).fail("use of SigningTable requires KeyTable");
  if (kt && !st_table && !get("SetupPolicyScript")) {
    where(kt).fail("KeyTable requires either SigningTable or SetupPolicyScript");
  }
  if (static_cast<bool>(keyfile) != static_cast<bool>(selector)) {
    where(keyfile ? keyfile : selector).fail("KeyFile and Selector must both be defined or both be undefined");
  }
  if (const Setting* st = get("Domain")) {
    // opendkim asks Domain per message (mlfi_eoh dkimf_db_get) and opens it only without a
    // KeyTable: a dsn:/ldap: value stays live then, and is not even opened next to a KeyTable.
    if (is_live_dataset_spec(trim(st->value)) && live_opener_of(reader) != nullptr) {
      if (!kt) s.live_lists.domains = open_live_table(where(st), st->value, s.live_options, reader);
    } else {
      s.domains = load_list(where(st), st->value, base, reader, true, true);
    }
    if (!kt && !keyfile) where(st).fail("Domain requires KeyFile and Selector");
  }
  flag("SubDomains", s.subdomains);
  flag("MultipleSignatures", s.multiple_signatures);
  flag("RemoveOldSignatures", s.remove_old_signatures);
  flag("RequireSafeKeys", s.require_safe_keys);
  if (kt) {
    s.key_table = true;
    s.key_table_live = open_live_table(where(kt), kt->value, s.live_options, reader);
  }
  if (kt && !s.key_table_live) {
    // KeyTable overrides KeyFile/Domain/Selector (§2.1).
    std::string spec = kt->value;
    if (istarts_with(spec, "file:")) spec = "file:" + with_base(base, spec.substr(5));
    if (auto db = berkeley_db_spec(spec, base)) spec = *db;
    Dataset d = [&] {
      try {
        return Dataset::open(spec, false, "KeyTable", reader);
      } catch (const ConfigError& e) {
        if (e.file().empty()) where(kt).fail(e.message());
        throw;
      }
    }();
    for (const auto& e : d.entries()) {
      Where w{d.origin(), e.line, "KeyTable"};
      s.keys.push_back(parse_key_entry(w, e.key, e.value, base));
    }
  }
  if (kt && st_table) s.signing_table_live = open_live_table(where(st_table), st_table->value, s.live_options, reader);
  if (s.signing_table_live) {
    // Asked per message for the candidates of signing_table_candidates (non-refile order).
    s.signing_kind = SigningTableKind::Exact;
  } else if (kt && st_table) {  // a KeyTable may come without a SigningTable when a SetupPolicyScript signs
    std::string tspec = st_table->value;
    bool refile = istarts_with(tspec, "refile:");
    if (istarts_with(tspec, "refile:")) tspec = "refile:" + with_base(base, tspec.substr(7));
    if (istarts_with(tspec, "file:")) tspec = "file:" + with_base(base, tspec.substr(5));
    if (auto db = berkeley_db_spec(tspec, base)) tspec = *db;
    Dataset t = [&] {
      try {
        return Dataset::open(tspec, true, "SigningTable", reader);
      } catch (const ConfigError& e) {
        if (e.file().empty()) where(st_table).fail(e.message());
        throw;
      }
    }();
    s.signing_kind = refile ? SigningTableKind::Glob : SigningTableKind::Exact;
    for (const auto& e : t.entries()) {
      SigningRule r;
      r.match = refile ? e.key : lower(e.key);
      std::string v = e.value;
      auto colon = v.find(':');
      std::string keyname = v.substr(0, colon);
      if (keyname.empty()) {
        throw ConfigError(t.origin(), e.line, "SigningTable", "SigningTable entry for '" + e.key + "' has no key name");
      }
      r.keys.push_back(keyname);
      if (colon != std::string::npos) r.signer = v.substr(colon + 1);
      s.signing.push_back(std::move(r));
    }
  } else if (!kt && keyfile) {
    DkimKey k;
    k.name = "default";
    k.domain = "%";
    k.selector = selector->value;
    k.key = with_base(base, keyfile->value);
    // KeyFile is always a path (never inline data): a relative one resolves from the working
    // directory, i.e. BaseDirectory after the daemon's chdir.
    if (!k.key.empty() && k.key.front() != '/' && k.key.rfind("./", 0) != 0 && k.key.rfind("../", 0) != 0) {
      k.key = "./" + k.key;
    }
    s.keys.push_back(std::move(k));
  }

  /* Hosts and origin. */
  if (const Setting* st = get("InternalHosts")) {
    s.internal_hosts = load_host_source(where(st), st->value, base, reader, s.live_options);
  }
  if (const Setting* st = get("ExternalIgnoreList")) {
    s.external_ignore = load_host_source(where(st), st->value, base, reader, s.live_options);
  }
  if (const Setting* st = get("PeerList")) {
    s.peer_list = load_host_source(where(st), st->value, base, reader, s.live_options);
  }
  // MTA, DontSignMailTo, ExemptDomains, BodyLengthDB, ReplaceHeaders: opendkim asks these per
  // message (dkimf_db_get in mlfi_eoh / mlfi_header), so a dsn:/ldap: value stays live.
  auto live_list = [&](const Setting* st, std::shared_ptr<LiveDataset>& target) {
    target = open_live_table(where(st), st->value, s.live_options, reader);
    return target != nullptr;
  };
  if (const Setting* st = get("MTA"); st && !live_list(st, s.live_lists.mta)) {
    s.mta = load_list(where(st), st->value, base, reader, false);
  }
  if (const Setting* st = get("MacroList")) {
    // opendkim.c: "<value>: invalid data set type for MacroList" (only file: and csl:).
    if (is_live_dataset_spec(trim(st->value)) && live_opener_of(reader) != nullptr) {
      where(st).fail(std::string(trim(st->value)) + ": invalid data set type for MacroList");
    }
    for (const auto& item : load_list(where(st), st->value, base, reader, false)) {
      s.macro_list.push_back(parse_macro_match(item));
    }
  }
  if (const Setting* st = get("DontSignMailTo"); st && !live_list(st, s.live_lists.dont_sign_mail_to)) {
    s.dont_sign_mail_to = load_list(where(st), st->value, base, reader, true, true);
  }
  if (const Setting* st = get("ExemptDomains"); st && !live_list(st, s.live_lists.exempt_domains)) {
    s.exempt_domains = load_list(where(st), st->value, base, reader, true, true);
  }
  if (const Setting* st = get("SignatureTTL")) s.signature_ttl = parse_number(where(st), st->value, 0, kDkimMaxConfigNumber);
  if (const Setting* st = get("MaximumSignedBytes")) {
    s.maximum_signed_bytes = static_cast<std::uint64_t>(parse_number(where(st), st->value, 0, kDkimMaxConfigNumber));
  }
  if (const Setting* st = get("BodyLengthDB"); st && !live_list(st, s.live_lists.body_length_db)) {
    s.body_length_db = load_list(where(st), st->value, base, reader, true);
  }
  if (const Setting* st = get("SenderMacro")) s.sender_macro = parse_macro_name(where(st), st->value);
  if (const Setting* st = get("SelectCanonicalizationHeader")) {
    s.select_canonicalization_header = parse_field_name(where(st), st->value);
  }
  flag("Diagnostics", s.diagnostics);
  flag("RequestReports", s.request_reports);
  if (const Setting* st = get("ReplaceRules")) {
    s.replace_rules = load_replace_rules(where(st), with_base(base, std::string(trim(st->value))), reader);
  }
  if (const Setting* st = get("ReplaceHeaders"); st && !live_list(st, s.live_lists.replace_headers)) {
    s.replace_headers = load_list(where(st), st->value, base, reader, true);
  }

  /* Verifying. */
  if (const Setting* st = get("MinimumKeyBits")) {
    s.minimum_key_bits = static_cast<unsigned>(parse_number(where(st), st->value, 0, 16384));
  }
  if (const Setting* st = get("ClockDrift")) s.clock_drift = parse_number(where(st), st->value, 0, kDkimMaxConfigNumber);
  flag("StrictHeaders", s.strict_headers);
  flag("WeakSyntaxChecks", s.weak_syntax_checks);
  if (const Setting* st = get("MaximumSignaturesToVerify")) {
    s.max_signatures = static_cast<std::size_t>(parse_number(where(st), st->value, 0, 1000));
  }
  if (const Setting* st = get("MaximumHeaders")) {
    s.maximum_headers = static_cast<std::size_t>(parse_number(where(st), st->value, 0, kDkimMaxConfigNumber));
  }
  if (const Setting* st = get("UnprotectedKey")) s.unprotected_key = parse_trust(where(st), st->value);
  if (const Setting* st = get("BogusKey")) s.bogus_key = parse_trust(where(st), st->value);
  // On-Default first, then the specific ones (§2.1).
  if (const Setting* st = get("On-Default")) {
    DkimAction a = parse_action(where(st), st->value);
    s.actions = DkimActions{a, a, a, a, a, a, a};
  }
  struct OnOpt {
    const char* name;
    DkimAction DkimActions::*field;
  };
  for (const OnOpt& o : {OnOpt{"On-BadSignature", &DkimActions::bad_signature},
                         OnOpt{"On-DNSError", &DkimActions::dns_error},
                         OnOpt{"On-InternalError", &DkimActions::internal_error},
                         OnOpt{"On-KeyNotFound", &DkimActions::key_not_found},
                         OnOpt{"On-NoSignature", &DkimActions::no_signature},
                         OnOpt{"On-Security", &DkimActions::security},
                         OnOpt{"On-SignatureError", &DkimActions::signature_error}}) {
    if (const Setting* st = get(o.name)) s.actions.*o.field = parse_action(where(st), st->value);
  }

  if (const Setting* st = get("Minimum")) {
    auto m = parse_body_minimum(st->value);
    if (!m) where(st).fail(m.error().reason);
    s.minimum = *m;
  }
  if (const Setting* st = get("MustBeSigned");
      st && !live_array_option(where(st), st->value, s, reader, "no header field must be signed")) {
    s.must_be_signed = load_list(where(st), st->value, base, reader, true);
  }
  flag("RequiredHeaders", s.required_headers);
  flag("IgnoreMalformedMail", s.ignore_malformed);
  flag("Quarantine", s.quarantine);
  flag("CaptureUnknownErrors", s.capture_unknown_errors);
  flag("SendReports", s.send_reports);
  str("ReportAddress", s.report_address);
  str("ReportBccAddress", s.report_bcc_address);
  if (const Setting* st = get("MTACommand")) {
    if (trim(st->value).empty()) where(st).fail("illegal value (a program path)");
    s.mta_command = std::string(trim(st->value));
  }

  /* Test hooks. */
  if (const Setting* st = get("TestPublicKeys")) {
    // libopendkim DKIM_QUERY_FILE: "<name><whitespace><TXT record>" per line.
    std::string path = with_base(base, std::string(trim(st->value)));
    auto text = reader(path);
    if (!text) where(st).fail("cannot read " + path + ": " + text.error().reason);
    s.test_dns = parse_test_key_lines(where(st), *text);
  }
  if (const Setting* st = get("TestDNSData")) {
    std::string spec = st->value;
    if (istarts_with(spec, "file:")) spec = "file:" + with_base(base, spec.substr(5));
    if (auto db = berkeley_db_spec(spec, base)) spec = *db;
    try {
      Dataset d = Dataset::open(spec, true, "TestDNSData", reader);
      for (const auto& e : d.entries()) s.test_dns.emplace_back(lower(e.key), e.value);
    } catch (const ConfigError& e) {
      if (e.file().empty()) where(st).fail(e.message());
      throw;
    }
  }
  flag("StrictTestMode", s.strict_test_mode);

  /* Lua policy scripts (read and compiled by inkan-dkim, opendkim-lua(3)). */
  if (const Setting* st = get("SetupPolicyScript")) s.setup_script = with_base(base, st->value);
  if (const Setting* st = get("ScreenPolicyScript")) s.screen_script = with_base(base, st->value);
  if (const Setting* st = get("FinalPolicyScript")) s.final_script = with_base(base, st->value);
  flag("LuaOnlySigning", s.lua_only_signing);

  /* Headers. */
  str("AuthservID", s.authserv_id);
  flag("AuthservIDWithJobID", s.authserv_id_with_jobid);
  flag("AlwaysAddARHeader", s.always_add_ar);
  flag("NoHeaderB", s.no_header_b);
  flag("KeepAuthResults", s.keep_auth_results);
  flag("RemoveARAll", s.remove_ar_all);
  // RemoveARFrom: opendkim asks it per A-R field (mlfi_eom, dkimf_db_get), so dsn:/ldap: stay live.
  if (const Setting* st = get("RemoveARFrom")) {
    s.live_lists.remove_ar_from = open_live_table(where(st), st->value, s.live_options, reader);
    if (!s.live_lists.remove_ar_from) s.remove_ar_from = load_list(where(st), st->value, base, reader, true);
  }
  flag("X-Header", s.software_header);
  flag("SoftwareHeader", s.software_header);

  /* DNS, logging. */
  if (const Setting* st = get("Nameservers")) s.nameservers = parse_nameservers(st->value);
  if (const Setting* st = get("ResolverConfiguration")) {
    // opendkim hands the file to libunbound after Nameservers (ub_ctx_set_fwd, then
    // ub_ctx_config): the forwarders of both are used.
    std::string path = with_base(base, std::string(trim(st->value)));
    UnboundConf u = load_unbound_conf(path, reader);
    s.nameservers.insert(s.nameservers.end(), u.forwarders.begin(), u.forwarders.end());
    if (u.forwarders.empty()) {
      s.warnings.push_back("ResolverConfiguration " + path +
                           " has no forward-zone for \".\": queries go to the resolver of /etc/resolv.conf"
                           " (or Nameservers), where libunbound would recurse from the root itself");
    }
    // A trust anchor there makes opendkim's libunbound validate, as TrustAnchorFile does:
    // here it makes inkan-dkim trust the resolver's AD bit (so it is not "without effect").
    const auto is_anchor = [](const std::string& entry) {  // "file:line: attribute"
      const auto colon = entry.rfind(": ");
      const std::string_view a = colon == std::string::npos ? std::string_view(entry)
                                                            : std::string_view(entry).substr(colon + 2);
      return a == "trust-anchor-file" || a == "auto-trust-anchor-file" || a == "trust-anchor" ||
             a == "trusted-keys-file";
    };
    if (std::any_of(u.ignored.begin(), u.ignored.end(), is_anchor)) {
      if (!s.dnssec_resolver) s.warnings.push_back(kTrustAnchorNote);
      s.dnssec_resolver = true;
      u.ignored.erase(std::remove_if(u.ignored.begin(), u.ignored.end(), is_anchor), u.ignored.end());
    }
    if (!u.ignored.empty()) {
      std::string names;
      for (std::size_t i = 0; i < u.ignored.size() && i < 5; ++i) names += (i ? ", " : "") + u.ignored[i];
      if (u.ignored.size() > 5) names += ", ...";
      s.warnings.push_back("ResolverConfiguration " + path + ": " + std::to_string(u.ignored.size()) +
                           " attribute(s) of a recursive resolver have no effect in inkan-dkim (" + names + ")");
    }
  }
  if (get("TrustAnchorFile")) {
    if (!s.dnssec_resolver) s.warnings.push_back(kTrustAnchorNote);
    s.dnssec_resolver = true;
  }
  if (const Setting* st = get("DNSTimeout")) s.dns_timeout = static_cast<unsigned>(parse_number(where(st), st->value, 0, 3600));
  flag("SyslogSuccess", s.syslog_success);
  flag("LogWhy", s.log_why);
  flag("LogResults", s.log_results);

  std::string file = cfg.settings().empty() ? std::string() : cfg.settings().front().file;
  finish_checks(s, file);
  return s;
}

/* ---------------- inkan.yaml ---------------- */

namespace {

struct Yaml {
  std::string file;
  Where at(const YAML::Node& n, const std::string& option) const {
    return Where{file, static_cast<std::size_t>(n.Mark().line + 1), option};
  }
  std::string scalar(const YAML::Node& n, const std::string& option) const {
    if (!n.IsScalar()) at(n, option).fail("expected a single value");
    return n.Scalar();
  }
  std::vector<std::string> list(const YAML::Node& n, const std::string& option) const {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) at(n, option).fail("expected a list");
    for (const auto& e : n) out.push_back(scalar(e, option));
    return out;
  }
  void map_only(const YAML::Node& n, const std::string& option) const {
    if (!n.IsMap()) at(n, option).fail("expected a mapping");
  }
};

}  // namespace

DkimSettings load_dkim_yaml(std::string_view text, const std::string& file, const FileReader& reader) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, static_cast<std::size_t>(e.mark.line + 1), "", e.msg);
  }
  DkimSettings s;
  Yaml y{file};
  s.sign_headers = opendkim_default_sign_headers();
  s.omit_headers = opendkim_default_omit_headers();
  s.key_table = false;
  if (root.IsNull()) return s;
  y.map_only(root, "");

  try {
    /* Shared sections. */
    if (auto n = root["authserv_id"]) s.authserv_id = y.scalar(n, "authserv_id");
    if (auto dns = root["dns"]) {
      y.map_only(dns, "dns");
      for (const auto& kv : dns) {
        std::string k = kv.first.as<std::string>();
        if (k == "nameservers") {
          for (const auto& ns : y.list(kv.second, "dns.nameservers")) {
            auto v = parse_nameservers(ns);
            s.nameservers.insert(s.nameservers.end(), v.begin(), v.end());
          }
        } else if (k == "timeout") {
          s.dns_timeout = static_cast<unsigned>(parse_number(y.at(kv.second, "dns.timeout"), y.scalar(kv.second, "dns.timeout"), 0, 3600));
        } else if (k == "dnssec") {
          // How keys get a DNSSEC status: "resolver" = trust the AD bit of the (validating,
          // loopback) resolver, as Postfix does; "none" = every key from DNS is "unprotected".
          const std::string v = y.scalar(kv.second, "dns.dnssec");
          if (v == "resolver") s.dnssec_resolver = true;
          else if (v == "none") s.dnssec_resolver = false;
          else y.at(kv.second, "dns.dnssec").fail("expected \"resolver\" or \"none\"");
        } else if (k == "trust_anchor_file") {
          // opendkim's TrustAnchorFile, kept for converted configurations: same as dnssec: resolver.
          (void)y.scalar(kv.second, "dns.trust_anchor_file");
          s.dnssec_resolver = true;
          s.warnings.push_back(kTrustAnchorNote);
        } else {
          y.at(kv.first, "dns." + k).fail("unrecognized parameter");
        }
      }
    }
    // hosts: given as dsn:/ldap: data sets are opened after dkim: (soft_start, ldap:).
    std::vector<std::pair<HostSource*, std::pair<std::string, Where>>> live_hosts;
    if (auto hosts = root["hosts"]) {
      y.map_only(hosts, "hosts");
      for (const auto& kv : hosts) {
        std::string k = kv.first.as<std::string>();
        HostSource* target = nullptr;
        if (k == "internal") target = &s.internal_hosts;
        else if (k == "external_ignore") target = &s.external_ignore;
        else if (k == "peers") target = &s.peer_list;
        else y.at(kv.first, "hosts." + k).fail("unrecognized parameter");
        Where w = y.at(kv.second, "hosts." + k);
        if (kv.second.IsScalar()) {
          // A dataset spec as in opendkim.conf: "file:/etc/inkan/internal", "refile:...".
          if (is_live_dataset_spec(kv.second.Scalar())) {
            live_hosts.push_back({target, {kv.second.Scalar(), w}});
          } else {
            *target = load_host_source(w, kv.second.Scalar(), "", reader);
          }
        } else {
          target->refile = false;
          target->entries = y.list(kv.second, "hosts." + k);
        }
      }
    }
    if (auto keys = root["keys"]) {
      if (!keys.IsSequence()) y.at(keys, "keys").fail("expected a list");
      s.key_table = true;
      for (const auto& e : keys) {
        y.map_only(e, "keys");
        DkimKey k;
        for (const auto& kv : e) {
          std::string n = kv.first.as<std::string>();
          std::string v = y.scalar(kv.second, "keys." + n);
          if (n == "name") k.name = v;
          else if (n == "domain") k.domain = lower(v);
          else if (n == "selector") k.selector = v;
          else if (n == "file") k.key = v;
          else if (n == "data") k.key = v;
          else if (n == "algorithm") k.algorithm = parse_alg(y.at(kv.second, "keys.algorithm"), v);
          else y.at(kv.first, "keys." + n).fail("unrecognized parameter");
        }
        if (k.name.empty() || k.domain.empty() || k.selector.empty() || k.key.empty()) {
          y.at(e, "keys").fail("a key needs name, domain, selector and file");
        }
        s.keys.push_back(std::move(k));
      }
    }
    if (auto signing = root["signing"]) {
      if (!signing.IsSequence()) y.at(signing, "signing").fail("expected a list");
      s.signing_kind = SigningTableKind::Glob;
      for (const auto& e : signing) {
        y.map_only(e, "signing");
        SigningRule r;
        for (const auto& kv : e) {
          std::string n = kv.first.as<std::string>();
          if (n == "match") r.match = y.scalar(kv.second, "signing.match");
          else if (n == "keys" || n == "key") r.keys = y.list(kv.second, "signing.keys");
          else if (n == "signer") r.signer = y.scalar(kv.second, "signing.signer");
          else y.at(kv.first, "signing." + n).fail("unrecognized parameter");
        }
        if (r.match.empty() || r.keys.empty()) y.at(e, "signing").fail("a signing rule needs match and keys");
        s.signing.push_back(std::move(r));
      }
    }

    /* The dkim: section. */
    if (auto d = root["dkim"]) {
      y.map_only(d, "dkim");
      bool sign_headers_set = false, omit_set = false;
      // key_table / signing_table: live data sets (dsn:, ldap:...), opened after the loop so
      // that soft_start applies whatever the key order.
      std::optional<std::pair<std::string, Where>> key_table_spec, signing_table_spec;
      for (const auto& kv : d) {
        const std::string k = kv.first.as<std::string>();
        const std::string opt = "dkim." + k;
        Where w = y.at(kv.second, opt);
        auto sv = [&] { return y.scalar(kv.second, opt); };
        auto b = [&] { return parse_bool(w, sv()); };
        auto lst = [&] { return y.list(kv.second, opt); };
        auto lowlist = [&] {
          auto v = lst();
          for (auto& x : v) x = lower(x);
          return v;
        };
        if (k == "socket") s.socket = sv();
        else if (k == "user") s.user = sv();
        else if (k == "pidfile") s.pidfile = sv();
        else if (k == "chroot") s.chroot_dir = parse_chroot_dir(w, sv());
        else if (k == "umask") s.umask = static_cast<unsigned>(parse_number(w, sv(), 0, 0777));
        else if (k == "background") s.background = b();
        else if (k == "syslog") s.syslog = b();
        else if (k == "syslog_facility") s.syslog_facility = sv();
        else if (k == "syslog_name") s.syslog_name = sv();
        else if (k == "syslog_success") s.syslog_success = b();
        else if (k == "log_why") s.log_why = b();
        else if (k == "log_results") s.log_results = b();
        else if (k == "setup_script") s.setup_script = sv();
        else if (k == "screen_script") s.screen_script = sv();
        else if (k == "final_script") s.final_script = sv();
        else if (k == "lua_only_signing") s.lua_only_signing = b();
        else if (k == "key_table") key_table_spec.emplace(sv(), w);
        else if (k == "signing_table") signing_table_spec.emplace(sv(), w);
        else if (k == "soft_start") s.live_options.soft_start = b();
        else if (k == "ldap") parse_yaml_ldap(s.live_options, kv.second, file);
        else if (k == "metrics") s.metrics = sv();
        else if (k == "mode") parse_mode(s, w, sv());
        else if (k == "canonicalization") s.canonicalization = parse_canon(w, sv());
        else if (k == "signature_algorithm") s.signature_algorithm = parse_alg(w, sv());
        else if (k == "sign_headers") {
          s.sign_headers = resolve_header_list(lst(), opendkim_default_sign_headers());
          sign_headers_set = true;
        } else if (k == "omit_headers") {
          s.omit_headers = resolve_header_list(lst(), opendkim_default_omit_headers());
          omit_set = true;
        } else if (k == "oversign_headers") s.oversign_headers = resolve_header_list(lst(), {});
        else if (k == "sender_headers") s.sender_headers = resolve_header_list(lst(), {"from"});
        else if (k == "domains") s.domains = lowlist();
        else if (k == "subdomains") s.subdomains = b();
        else if (k == "multiple_signatures") s.multiple_signatures = b();
        else if (k == "remove_old_signatures") s.remove_old_signatures = b();
        else if (k == "require_safe_keys") s.require_safe_keys = b();
        else if (k == "signature_ttl") s.signature_ttl = parse_number(w, sv(), 0, kDkimMaxConfigNumber);
        else if (k == "maximum_signed_bytes") s.maximum_signed_bytes = static_cast<std::uint64_t>(parse_number(w, sv(), 0, kDkimMaxConfigNumber));
        else if (k == "dont_sign_mail_to") s.dont_sign_mail_to = lowlist();
        else if (k == "body_length_db") s.body_length_db = lowlist();
        else if (k == "sender_macro") s.sender_macro = parse_macro_name(w, sv());
        else if (k == "select_canonicalization_header") s.select_canonicalization_header = parse_field_name(w, sv());
        else if (k == "diagnostics") s.diagnostics = b();
        else if (k == "request_reports") s.request_reports = b();
        else if (k == "replace_rules") s.replace_rules = load_replace_rules(w, std::string(trim(sv())), reader);
        else if (k == "replace_headers") s.replace_headers = lowlist();
        else if (k == "exempt_domains") s.exempt_domains = lowlist();
        else if (k == "mta") s.mta = lst();
        else if (k == "macro_list") {
          for (const auto& item : lst()) s.macro_list.push_back(parse_macro_match(item));
        } else if (k == "minimum_key_bits") s.minimum_key_bits = static_cast<unsigned>(parse_number(w, sv(), 0, 16384));
        else if (k == "clock_drift") s.clock_drift = parse_number(w, sv(), 0, kDkimMaxConfigNumber);
        else if (k == "strict_headers") s.strict_headers = b();
        else if (k == "weak_syntax_checks") s.weak_syntax_checks = b();
        else if (k == "maximum_signatures_to_verify") s.max_signatures = static_cast<std::size_t>(parse_number(w, sv(), 0, 1000));
        else if (k == "minimum") {
          auto m = parse_body_minimum(sv());
          if (!m) w.fail(m.error().reason);
          s.minimum = *m;
        } else if (k == "must_be_signed") s.must_be_signed = lowlist();
        else if (k == "required_headers") s.required_headers = b();
        else if (k == "ignore_malformed_mail") s.ignore_malformed = b();
        else if (k == "quarantine") s.quarantine = b();
        else if (k == "capture_unknown_errors") s.capture_unknown_errors = b();
        else if (k == "send_reports") s.send_reports = b();
        else if (k == "report_address") s.report_address = sv();
        else if (k == "report_bcc_address") s.report_bcc_address = sv();
        else if (k == "mta_command") {
          s.mta_command = sv();
          if (trim(s.mta_command).empty()) w.fail("illegal value (a program path)");
        }
        else if (k == "maximum_headers") s.maximum_headers = static_cast<std::size_t>(parse_number(w, sv(), 0, kDkimMaxConfigNumber));
        else if (k == "unprotected_key") s.unprotected_key = parse_trust(w, sv());
        else if (k == "bogus_key") s.bogus_key = parse_trust(w, sv());
        else if (k == "authserv_id") s.authserv_id = sv();
        else if (k == "authserv_id_with_jobid") s.authserv_id_with_jobid = b();
        else if (k == "always_add_ar_header") s.always_add_ar = b();
        else if (k == "no_header_b") s.no_header_b = b();
        else if (k == "keep_auth_results") s.keep_auth_results = b();
        else if (k == "remove_ar_all") s.remove_ar_all = b();
        else if (k == "remove_ar_from") s.remove_ar_from = lowlist();
        else if (k == "software_header") s.software_header = b();
        else if (k == "atps_neutral") s.atps_neutral = b();
        else if (k == "header_index") s.header_index = static_cast<int>(parse_number(w, sv(), 0, 1));
        else if (k == "on_default") {
          DkimAction a = parse_action(w, sv());
          // Specific on_* keys (applied below) win whatever their order, as On-Default.
          s.actions = DkimActions{a, a, a, a, a, a, a};
        } else if (k.rfind("on_", 0) == 0) {
          // handled below, after on_default
        } else {
          y.at(kv.first, opt).fail("unrecognized parameter");
        }
      }
      struct OnKey {
        const char* name;
        DkimAction DkimActions::*field;
      };
      for (const OnKey& o : {OnKey{"on_bad_signature", &DkimActions::bad_signature},
                             OnKey{"on_dns_error", &DkimActions::dns_error},
                             OnKey{"on_internal_error", &DkimActions::internal_error},
                             OnKey{"on_key_not_found", &DkimActions::key_not_found},
                             OnKey{"on_no_signature", &DkimActions::no_signature},
                             OnKey{"on_security", &DkimActions::security},
                             OnKey{"on_signature_error", &DkimActions::signature_error}}) {
        if (auto n = d[o.name]) s.actions.*o.field = parse_action(y.at(n, std::string("dkim.") + o.name), y.scalar(n, o.name));
      }
      for (const auto& kv : d) {
        std::string k = kv.first.as<std::string>();
        if (k.rfind("on_", 0) != 0 || k == "on_default") continue;
        static const char* known[] = {"on_bad_signature", "on_dns_error", "on_internal_error", "on_key_not_found",
                                      "on_no_signature", "on_security", "on_signature_error"};
        if (std::none_of(std::begin(known), std::end(known), [&](const char* x) { return k == x; })) {
          y.at(kv.first, "dkim." + k).fail("unrecognized parameter");
        }
      }
      if (omit_set && !sign_headers_set) {
        s.sign_all_but_omitted = true;
        s.sign_headers.clear();
      }
      // The same values as opendkim.conf's KeyTable / SigningTable, for the live back ends
      // (in-memory tables are the keys: and signing: sections).
      auto open_yaml_table = [&](const std::pair<std::string, Where>& spec) {
        const Where& tw = spec.second;
        if (!is_live_dataset_spec(spec.first)) {
          tw.fail("expected a dsn: or ldap: data set (list in-memory tables under keys: / signing:)");
        }
        auto live = open_live_table(tw, spec.first, s.live_options, reader);
        if (!live) {
          try {
            (void)Dataset::open(spec.first, false, tw.option, reader);
          } catch (const ConfigError& e) {
            tw.fail(e.message());
          }
          tw.fail("dataset type is not supported by this build");
        }
        return live;
      };
      if (key_table_spec) {
        if (root["keys"]) key_table_spec->second.fail("dkim.key_table and keys: cannot both be given");
        s.key_table = true;
        s.key_table_live = open_yaml_table(*key_table_spec);
      }
      if (signing_table_spec) {
        if (root["signing"]) signing_table_spec->second.fail("dkim.signing_table and signing: cannot both be given");
        if (!s.key_table) signing_table_spec->second.fail("use of SigningTable requires KeyTable");
        s.signing_table_live = open_yaml_table(*signing_table_spec);
        s.signing_kind = SigningTableKind::Exact;
      }
    }
    for (auto& [target, spec] : live_hosts) {
      *target = load_host_source(spec.second, spec.first, "", reader, s.live_options);
      if (!target->live) spec.second.fail("dataset type is not supported by this build");
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, static_cast<std::size_t>(e.mark.line + 1), "", e.msg);
  }
  if ((!s.keys.empty() || s.key_table_live) && s.signing.empty() && !s.signing_table_live && s.setup_script.empty()) {
    throw ConfigError(file, 0, "signing", "keys: needs a signing: list (or a setup_script) naming which senders use them");
  }
  finish_checks(s, file);
  return s;
}

DkimSettings load_dkim_settings(const std::string& path, bool yaml, const FileReader& reader) {
  if (yaml) {
    auto text = reader(path);
    if (!text) throw ConfigError(path, 0, "", text.error().reason);
    return load_dkim_yaml(*text, path, reader);
  }
  return load_dkim_legacy(LegacyConfig::load(path, reader), reader);
}

/* ---------------- the signing decision ---------------- */

namespace {

std::string substitute(std::string_view tmpl, std::string_view domain) {
  std::string out;
  for (char c : tmpl) {
    if (c == '%') {
      out.append(domain);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const DkimKey* find_key(const DkimSettings& s, std::string_view name) {
  for (const auto& k : s.keys) {
    if (k.name == name) return &k;  // KeyTable names are case-sensitive (§2.3)
  }
  return nullptr;
}

bool add_request(const DkimSettings& s, const SigningRule& r, std::string_view domain,
                 std::vector<SignRequest>& out, std::string* error) {
  for (const auto& kn : r.keys) {
    std::string name = kn == "%" ? std::string(domain) : kn;
    const DkimKey* k = find_key(s, name);
    if (!k) {
      if (error) *error = "signing table references unknown key '" + name + "'";
      return false;
    }
    SignRequest q;
    q.key = k;
    q.domain = k->domain == "%" ? std::string(domain) : k->domain;
    bool is_path = !k->key.empty() && (k->key.front() == '/' || k->key.substr(0, 2) == "./" ||
                                       k->key.substr(0, 3) == "../");
    q.key_path_or_data = is_path ? substitute(k->key, q.domain) : k->key;
    if (!r.signer.empty()) {
      std::string signer = substitute(r.signer, domain);
      auto at = signer.rfind('@');
      std::string_view sd = at == std::string::npos ? std::string_view(signer) : std::string_view(signer).substr(at + 1);
      // §2.3: i= is dropped when its domain is not d= or a subdomain of it.
      if (dkim::is_same_or_subdomain(sd, q.domain)) q.signer = signer;
    }
    out.push_back(std::move(q));
  }
  return true;
}

}  // namespace

std::vector<SignRequest> select_signing_keys(const DkimSettings& s, std::string_view local,
                                             std::string_view domain, std::string* error) {
  if (s.key_table_live || s.signing_table_live || (!s.key_table && s.live_lists.domains)) {
    auto r = lookup_signing_keys(s, local, domain);
    if (error) *error = r.error ? to_string(*r.error) : std::string();
    return std::move(r.requests);
  }
  std::vector<SignRequest> out;
  std::string d = lower(domain);
  if (error) error->clear();
  if (!s.key_table) {
    // Single-key mode, as opendkim.c mlfi_eoh (and the live Domain of lookup_signing_keys):
    // the sender's domain, then "*"; only then, with SubDomains, each parent from the closest
    // ("a.b.c": "b.c", then "c"). A parent that is listed becomes the signing domain, d=<parent>
    // with i=@<parent> (strlcpy(mctx_domain, p); setidentity): opendkim 2.11 -t signs mail from
    // sub.example.org with "d=example.org; i=@example.org" (domain_lists_test.sh).
    if (s.keys.empty() || d.empty()) return out;
    auto listed = [&](std::string_view key) {
      return std::find(s.domains.begin(), s.domains.end(), key) != s.domains.end();
    };
    std::string sign_domain = d;
    std::string signer;
    bool ok = listed(d) || listed("*");
    if (!ok && s.subdomains) {
      for (auto dot = d.find('.'); dot != std::string::npos && !ok; dot = d.find('.', dot + 1)) {
        std::string parent = d.substr(dot + 1);
        if (parent.empty()) break;
        if (listed(parent)) {
          ok = true;
          sign_domain = parent;
          signer = "@" + parent;
        }
      }
    }
    if (!ok) return out;
    SigningRule r{"", {s.keys.front().name}, signer};
    add_request(s, r, sign_domain, out, error);
    return out;
  }
  if (s.signing_kind == SigningTableKind::Glob) {
    std::string addr = std::string(local) + "@" + d;
    for (const auto& r : s.signing) {
      if (!glob_match(r.match, addr)) continue;
      if (!add_request(s, r, d, out, error)) return {};
      if (!s.multiple_signatures) break;
    }
    return out;
  }
  for (const auto& cand : signing_table_candidates(lower(local), d)) {
    for (const auto& r : s.signing) {
      if (r.match != cand) continue;
      if (!add_request(s, r, d, out, error)) return {};
      if (!s.multiple_signatures) return out;
    }
  }
  return out;
}

/* ---------------- live KeyTable / SigningTable (live_dataset.h) ---------------- */

namespace {

/// The server's message in a live data set's error: opendkim's dkimf_db_strerror gives the
/// back end's text alone, so the "<origin>: " prefix of the reason is dropped.
std::string server_message(const LiveDataset& ds, const std::string& reason) {
  const std::string& o = ds.origin();
  if (reason.size() > o.size() + 2 && reason.compare(0, o.size(), o) == 0 && reason.compare(o.size(), 2, ": ") == 0) {
    return reason.substr(o.size() + 2);
  }
  return reason;
}

bool all_ascii(std::string_view v) noexcept {
  return std::all_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

/// dkimf_add_signrequest's KeyTable read from a live data set: fields domain, selector, key
/// (value i = field i, no ':' splitting; dkimf_db_get for DSN/LDAP), each required.
Result<std::optional<DkimKey>> live_key(const DkimSettings& s, std::string_view name) {
  auto r = s.key_table_live->lookup(name);
  if (!r) {
    // dkimf_db_error's line.
    return fail(r.error().code, "error looking up \"" + std::string(name) + "\" in database: " +
                                    server_message(*s.key_table_live, r.error().reason));
  }
  if (!r->has_value()) return std::optional<DkimKey>{};
  const LiveValues& v = **r;
  auto field = [&](std::size_t i) { return i < v.size() ? v[i] : std::string(); };
  DkimKey k;
  k.name = std::string(name);
  k.domain = lower(field(0));
  k.selector = field(1);
  std::string keydata = field(2);
  if (k.domain.empty() || k.selector.empty() || keydata.empty()) {
    return fail(ErrorCode::Invalid, "KeyTable entry for '" + k.name + "' corrupt");
  }
  // A 4th column names the algorithm (OpenDKIM develop PR #269, as a file's 4th field).
  std::string alg = lower(trim(field(3)));
  if (alg == "rsa-sha256" || alg == "ed25519-sha256") {
    if (auto a = crypto::parse_sign_alg(alg)) k.algorithm = *a;
  }
  bool is_path = keydata.front() == '/' || keydata.rfind("./", 0) == 0 || keydata.rfind("../", 0) == 0;
  k.key = is_path ? with_base(s.base_directory, keydata) : keydata;
  return std::optional<DkimKey>(std::move(k));
}

/// One signature request for key `name` (after '%' → domain) with signer template `signer`.
bool add_live_request(const DkimSettings& s, const std::string& name, std::string_view signer,
                      std::string_view domain, std::vector<SignRequest>& out, std::optional<SigningLookupError>& err) {
  using K = SigningLookupError::Kind;
  const DkimKey* k = nullptr;
  std::shared_ptr<const DkimKey> owned;
  if (s.key_table_live) {
    auto r = live_key(s, name);
    if (!r) {
      err = SigningLookupError{K::KeyTable, name, r.error().reason};
      return false;
    }
    if (!r->has_value()) {
      err = SigningLookupError{K::UnknownKey, name, ""};
      return false;
    }
    owned = std::make_shared<const DkimKey>(std::move(**r));
    k = owned.get();
  } else {
    k = find_key(s, name);
    if (k == nullptr) {
      err = SigningLookupError{K::UnknownKey, name, ""};
      return false;
    }
  }
  SignRequest q;
  q.key = k;
  q.owned_key = owned;
  q.domain = k->domain == "%" ? std::string(domain) : k->domain;
  bool is_path = !k->key.empty() && (k->key.front() == '/' || k->key.substr(0, 2) == "./" ||
                                     k->key.substr(0, 3) == "../");
  q.key_path_or_data = is_path ? substitute(k->key, q.domain) : k->key;
  if (!signer.empty()) {
    std::string sg = substitute(signer, domain);
    auto at = sg.rfind('@');
    std::string_view sd = at == std::string::npos ? std::string_view(sg) : std::string_view(sg).substr(at + 1);
    if (dkim::is_same_or_subdomain(sd, q.domain)) q.signer = sg;
  }
  out.push_back(std::move(q));
  return true;
}

}  // namespace

std::string to_string(const SigningLookupError& e) {
  switch (e.kind) {
    case SigningLookupError::Kind::SigningTable: return "error reading signing table";
    case SigningLookupError::Kind::UnknownKey: return "signing table references unknown key '" + e.key + "'";
    case SigningLookupError::Kind::KeyTable: return "error loading key '" + e.key + "'";
  }
  return "error reading signing table";
}

SigningLookup lookup_signing_keys(const DkimSettings& s, std::string_view local, std::string_view domain) {
  SigningLookup out;
  std::string d = lower(domain);
  if (!s.key_table && s.live_lists.domains) {
    // Single-key mode, live Domain (opendkim.c mlfi_eoh): the sender's domain, then "*"; with
    // SubDomains each parent ("b.c", then "c"), and a parent that is found becomes the signing
    // domain with i=@<parent> (strlcpy(mctx_domain, p); setidentity). A failed lookup is logged
    // and counts as not found.
    if (s.keys.empty() || d.empty()) return out;
    LiveDataset& ds = *s.live_lists.domains;
    auto ask = [&](const std::string& key) {
      auto r = ds.lookup(key);
      if (!r) {
        out.log.push_back("error looking up \"" + key + "\" in database: " + server_message(ds, r.error().reason));
        return false;
      }
      return r->has_value();
    };
    std::string sign_domain = d;
    std::string signer;
    bool ok = ask(d) || ask("*");
    if (!ok && s.subdomains) {
      for (auto dot = d.find('.'); dot != std::string::npos && !ok; dot = d.find('.', dot + 1)) {
        std::string parent = d.substr(dot + 1);
        if (parent.empty()) break;
        if (ask(parent)) {
          ok = true;
          sign_domain = parent;
          signer = "@" + parent;
        }
      }
    }
    if (!ok) return out;
    SigningRule rule{"", {s.keys.front().name}, signer};
    add_request(s, rule, sign_domain, out.requests, nullptr);
    return out;
  }
  if (!s.key_table_live && !s.signing_table_live) {
    std::string err;
    out.requests = select_signing_keys(s, local, domain, &err);
    if (!err.empty()) {
      // The only error of in-memory tables: "signing table references unknown key '<k>'".
      auto a = err.find('\''), b = err.rfind('\'');
      out.error = SigningLookupError{SigningLookupError::Kind::UnknownKey,
                                     a != std::string::npos && b > a ? err.substr(a + 1, b - a - 1) : err, ""};
      out.requests.clear();
    }
    return out;
  }
  if (!s.key_table) return out;
  auto failed = [&]() {
    out.requests.clear();
    return out;
  };
  if (!s.signing_table_live) {
    // In-memory SigningTable, live KeyTable: the rules as select_signing_keys walks them.
    std::string addr = std::string(local) + "@" + d;
    auto apply = [&](const SigningRule& r) {
      for (const auto& kn : r.keys) {
        if (!add_live_request(s, kn == "%" ? d : kn, r.signer, d, out.requests, out.error)) return false;
      }
      return true;
    };
    if (s.signing_kind == SigningTableKind::Glob) {
      for (const auto& r : s.signing) {
        if (!glob_match(r.match, addr)) continue;
        if (!apply(r)) return failed();
        if (!s.multiple_signatures) break;
      }
      return out;
    }
    for (const auto& cand : signing_table_candidates(lower(local), d)) {
      for (const auto& r : s.signing) {
        if (r.match != cand) continue;
        if (!apply(r)) return failed();
        if (!s.multiple_signatures) return out;
      }
    }
    return out;
  }
  // Live SigningTable (dkimf_apply_signtable, non-refile): each candidate is a query for
  // keyname[,signer]; the first hit wins unless MultipleSignatures. The local-part is used as
  // written and the domain lower-cased (mctx_domain is); a key with non-ASCII characters is
  // not found (DKIMF_DB_FLAG_ASCIIONLY).
  for (const auto& cand : signing_table_candidates(local, d)) {
    if (!all_ascii(cand)) continue;
    auto r = s.signing_table_live->lookup(cand);
    if (!r) {
      out.error = SigningLookupError{SigningLookupError::Kind::SigningTable, cand,
                                     "error looking up \"" + cand + "\" in database: " +
                                         server_message(*s.signing_table_live, r.error().reason)};
      return failed();
    }
    if (!r->has_value()) continue;
    const LiveValues& v = **r;
    std::string keyname = v.empty() ? std::string() : v[0];
    std::string signer = v.size() > 1 ? v[1] : std::string();
    if (keyname.empty()) {
      // A found entry without a key name: "error reading signing table" with no other line.
      out.error = SigningLookupError{SigningLookupError::Kind::SigningTable, cand, ""};
      return failed();
    }
    if (keyname == "%") keyname = d;
    if (!add_live_request(s, keyname, signer, d, out.requests, out.error)) return failed();
    if (!s.multiple_signatures) return out;
  }
  return out;
}

Result<std::optional<DkimKey>> lookup_key(const DkimSettings& s, std::string_view name) {
  if (s.key_table_live) return live_key(s, name);
  if (const DkimKey* k = find_key(s, name)) return std::optional<DkimKey>(*k);
  return std::optional<DkimKey>{};
}

}  // namespace auth::config
