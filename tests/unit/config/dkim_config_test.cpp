// Tests of auth::config DKIM settings: opendkim.conf and inkan.yaml give one DkimSettings;
// every opendkim.conf(5) keyword is accepted or refused by name; the signing decision
// (SigningTable exact and refile, KeyTable '%', MultipleSignatures, single-key mode).
#include "auth/config/dkim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

namespace auth::config {
namespace {

/// In-memory files for the FileReader.
struct Files {
  std::map<std::string, std::string> files;
  FileReader reader() const {
    return [this](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return auth::fail(ErrorCode::Io, p + ": No such file or directory");
      return it->second;
    };
  }
};

DkimSettings legacy(const std::string& text, const Files& f) {
  return load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", f.reader()), f.reader());
}

std::string error_of(const std::string& text, const Files& f) {
  try {
    legacy(text, f);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The seed deployment "three virtual domains with one key each, forwarded mail re-signed".
Files three_domains() {
  Files f;
  f.files["/etc/opendkim/KeyTable"] =
      "# keyname  domain:selector:key\n"
      "sel._domainkey.example.net  example.net:sel:/etc/dkimkeys/example.net.private\n"
      "sel._domainkey.example.org  example.org:sel:/etc/dkimkeys/example.org.private\n"
      "sel._domainkey.example.com  example.com:sel:/etc/dkimkeys/example.com.private\n"
      "relay  relay.example.com:fwd:/etc/dkimkeys/relay.private\n";
  f.files["/etc/opendkim/SigningTable"] =
      "*@example.net sel._domainkey.example.net\n"
      "*@example.org sel._domainkey.example.org\n"
      "*@example.com sel._domainkey.example.com\n"
      "* relay\n";
  f.files["/etc/opendkim/TrustedHosts"] = "127.0.0.1\n::1\n192.168.0.0/16  # office\n.corp.example.com\n";
  return f;
}

const char* kThreeDomainsConf =
    "Syslog yes\n"
    "SyslogSuccess yes\n"
    "Canonicalization relaxed/simple\n"
    "OversignHeaders From\n"
    "UserID opendkim\n"
    "UMask 007\n"
    "Socket local:/run/opendkim/opendkim.sock\n"
    "PidFile /run/opendkim/opendkim.pid\n"
    "TrustAnchorFile /usr/share/dns/root.key\n"
    "Mode sv\n"
    "KeyTable refile:/etc/opendkim/KeyTable\n"
    "SigningTable refile:/etc/opendkim/SigningTable\n"
    "InternalHosts refile:/etc/opendkim/TrustedHosts\n"
    "ExternalIgnoreList refile:/etc/opendkim/TrustedHosts\n"
    "Nameservers 127.0.0.1@5300\n"
    "AutoRestart yes\n"
    "AutoRestartRate 10/1h\n";

TEST(DkimLegacy, SeedThreeDomainsLoads) {
  Files f = three_domains();
  // KeyTable as refile: is what some how-tos write; keys are looked up by name anyway.
  std::string conf = kThreeDomainsConf;
  conf.replace(conf.find("KeyTable refile:"), 16, "KeyTable file:");
  DkimSettings s = legacy(conf, f);
  EXPECT_TRUE(s.sign);
  EXPECT_TRUE(s.verify);
  EXPECT_EQ(s.canonicalization, (dkim::Canonicalization{dkim::Canon::Relaxed, dkim::Canon::Simple}));
  EXPECT_EQ(s.oversign_headers, std::vector<std::string>{"From"});
  EXPECT_EQ(s.user, "opendkim");
  EXPECT_EQ(s.umask, 7u);
  EXPECT_EQ(s.socket, "local:/run/opendkim/opendkim.sock");
  EXPECT_EQ(s.pidfile, "/run/opendkim/opendkim.pid");
  ASSERT_EQ(s.keys.size(), 4u);
  EXPECT_EQ(s.keys[0].domain, "example.net");
  EXPECT_EQ(s.keys[0].selector, "sel");
  EXPECT_EQ(s.keys[0].key, "/etc/dkimkeys/example.net.private");
  EXPECT_EQ(s.signing_kind, SigningTableKind::Glob);
  ASSERT_EQ(s.signing.size(), 4u);
  EXPECT_TRUE(s.internal_hosts.refile);
  EXPECT_EQ(s.internal_hosts.entries.size(), 4u);
  EXPECT_EQ(s.nameservers, std::vector<std::string>{"127.0.0.1:5300"});
  // TrustAnchorFile and AutoRestart* are accepted with a warning each.
  EXPECT_GE(s.warnings.size(), 3u);
}

TEST(DkimLegacy, RefileSigningTableFirstMatchAndCatchAll) {
  Files f = three_domains();
  DkimSettings s = legacy(kThreeDomainsConf, f);
  std::string err;
  auto r = select_signing_keys(s, "alice", "Example.ORG", &err);
  ASSERT_EQ(r.size(), 1u) << err;
  EXPECT_EQ(r[0].domain, "example.org");
  EXPECT_EQ(r[0].key->selector, "sel");
  // Forwarded mail from a foreign domain: the catch-all "*" re-signs with the relay key.
  r = select_signing_keys(s, "bob", "gmail.example", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "relay.example.com");
  EXPECT_EQ(r[0].key->selector, "fwd");
  // MultipleSignatures: every matching line adds one.
  s.multiple_signatures = true;
  r = select_signing_keys(s, "carol", "example.com", &err);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].domain, "example.com");
  EXPECT_EQ(r[1].domain, "relay.example.com");
}

TEST(DkimLegacy, ExactSigningTableLookupOrderPercentAndSigner) {
  Files f;
  f.files["/kt"] = "rsa-any %:sel2024:/keys/%.private\nexample.com example.com:s1:/keys/ex.private\n";
  f.files["/st"] =
      "boss@example.net rsa-any:chief@%\n"
      ".example.org rsa-any:x@other.example\n"
      "example.com %\n";
  DkimSettings s = legacy("KeyTable /kt\nSigningTable file:/st\n", f);
  EXPECT_EQ(s.signing_kind, SigningTableKind::Exact);
  std::string err;
  auto r = select_signing_keys(s, "boss", "example.net", &err);
  ASSERT_EQ(r.size(), 1u) << err;
  EXPECT_EQ(r[0].domain, "example.net");
  EXPECT_EQ(r[0].key_path_or_data, "/keys/example.net.private");
  EXPECT_EQ(r[0].signer, "chief@example.net");
  // Not boss: no line for user@example.net, example.net, .net ...
  EXPECT_TRUE(select_signing_keys(s, "other", "example.net", &err).empty());
  // ".example.org" covers sub.example.org; the signer outside d= is dropped (§2.3).
  r = select_signing_keys(s, "u", "sub.example.org", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "sub.example.org");
  EXPECT_EQ(r[0].signer, "");
  // A '%' keyname is the sender domain.
  r = select_signing_keys(s, "u", "example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].key->selector, "s1");
}

TEST(DkimLegacy, UnknownKeyInTableIsAnError) {
  Files f;
  f.files["/kt"] = "k1 example.com:s:/k1\n";
  f.files["/st"] = "*@example.com nosuchkey\n";
  EXPECT_NE(error_of("KeyTable /kt\nSigningTable refile:/st\n", f).find("unknown key 'nosuchkey'"), std::string::npos);
  // '%' is only known per message: the request reports it.
  f.files["/st"] = "*@example.com %\n";
  DkimSettings s = legacy("KeyTable /kt\nSigningTable refile:/st\n", f);
  std::string err;
  EXPECT_TRUE(select_signing_keys(s, "a", "example.com", &err).empty());
  EXPECT_EQ(err, "signing table references unknown key 'example.com'");
}

TEST(DkimLegacy, SingleKeyModeDomainAndSubDomains) {
  Files f;
  DkimSettings s = legacy("Domain example.com\nSelector mail\nKeyFile /k.private\n", f);
  EXPECT_FALSE(s.key_table);
  std::string err;
  ASSERT_EQ(select_signing_keys(s, "a", "example.com", &err).size(), 1u);
  EXPECT_TRUE(select_signing_keys(s, "a", "sub.example.com", &err).empty());
  s.subdomains = true;
  // opendkim 2.11 (mlfi_eoh; domain_lists_test.sh): the listed parent signs, d=<parent> with
  // i=@<parent>; the closest listed parent wins; an exact match or "*" comes first, without i=.
  auto r = select_signing_keys(s, "a", "sub.example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "example.com");
  EXPECT_EQ(r[0].signer, "@example.com");
  r = select_signing_keys(s, "a", "a.b.example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "example.com");
  EXPECT_EQ(r[0].signer, "@example.com");
  r = select_signing_keys(s, "a", "example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "example.com");
  EXPECT_EQ(r[0].signer, "");
  EXPECT_TRUE(select_signing_keys(s, "a", "example.net", &err).empty());
  EXPECT_TRUE(select_signing_keys(s, "a", "notexample.com", &err).empty());
  EXPECT_TRUE(select_signing_keys(s, "a", "", &err).empty());
  DkimSettings two = legacy("Domain example.com,B.example.com\nSubDomains yes\nSelector mail\nKeyFile /k.private\n", f);
  r = select_signing_keys(two, "a", "a.b.example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "b.example.com");
  EXPECT_EQ(r[0].signer, "@b.example.com");
  r = select_signing_keys(two, "a", "b.example.com", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "b.example.com");
  EXPECT_EQ(r[0].signer, "");
  DkimSettings any = legacy("Domain *\nSubDomains yes\nSelector mail\nKeyFile /k.private\n", f);
  r = select_signing_keys(any, "a", "Sub.Example.NET", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "sub.example.net");
  EXPECT_EQ(r[0].signer, "");
  // Domain, DontSignMailTo, ExemptDomains keep the keys alone (opendkim's dkimf_db_get asks
  // the key): a file's value column and a csl's "=value" are dropped; entries lower-cased.
  f.files["/doms"] = "# signing domains\nExample.ORG  some value\n";
  f.files["/rcpts"] = "Boss@Example.COM yes\n";
  DkimSettings kv = legacy("Domain /doms\nSelector mail\nKeyFile /k.private\nDontSignMailTo file:/rcpts\n"
                           "ExemptDomains a.example=1,B.example\n", f);
  EXPECT_EQ(kv.domains, std::vector<std::string>{"example.org"});
  EXPECT_EQ(kv.dont_sign_mail_to, std::vector<std::string>{"boss@example.com"});
  EXPECT_EQ(kv.exempt_domains, (std::vector<std::string>{"a.example", "b.example"}));
  // A hostile, deep domain: one probe per label, no recursion.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "a.";
  deep += "example.com";
  r = select_signing_keys(s, "a", deep, &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "example.com");
}

TEST(DkimLegacy, CrossOptionRulesAsOpenDkim) {
  Files f;
  EXPECT_NE(error_of("SigningTable /st\n", f).find("requires KeyTable"), std::string::npos);
  EXPECT_NE(error_of("Selector s\n", f).find("KeyFile and Selector"), std::string::npos);
  EXPECT_NE(error_of("Domain example.com\n", f).find("Domain requires KeyFile and Selector"), std::string::npos);
  f.files["/kt"] = "k example.com:sel\n";
  f.files["/st"] = "* k\n";
  EXPECT_NE(error_of("KeyTable /kt\nSigningTable /st\n", f).find("KeyTable entry for 'k' corrupt"), std::string::npos);
}

TEST(DkimLegacy, ActionsDefaultThenSpecific) {
  Files f;
  DkimSettings d = legacy("Mode v\n", f);
  EXPECT_EQ(d.actions, DkimActions{});
  DkimSettings s = legacy("On-BadSignature reject\nOn-Default tempfail\nOn-NoSignature a\n", f);
  EXPECT_EQ(s.actions.bad_signature, DkimAction::Reject);
  EXPECT_EQ(s.actions.no_signature, DkimAction::Accept);
  EXPECT_EQ(s.actions.key_not_found, DkimAction::TempFail);
  EXPECT_EQ(s.actions.signature_error, DkimAction::TempFail);
  // opendkim silently accepts "maybe" (§1.1 quirk); inkan names it.
  std::string e = error_of("On-BadSignature maybe\n", f);
  EXPECT_NE(e.find("On-BadSignature"), std::string::npos) << e;
  EXPECT_NE(e.find("line 1"), std::string::npos) << e;
}

TEST(DkimLegacy, GrammarQuirks) {
  Files f;
  // Case-insensitive names, octal UMask, last occurrence wins, '#' comments, CR tolerated.
  DkimSettings s = legacy("umask 022\r\nMODE v # verify only\nUMask 007\nmode s\n", f);
  EXPECT_EQ(s.umask, 7u);
  EXPECT_TRUE(s.sign);
  EXPECT_FALSE(s.verify);
  EXPECT_NE(error_of("Mode x\n", f).find("unknown mode"), std::string::npos);
  EXPECT_NE(error_of("Canonicalization foo\n", f).find("unknown canonicalization algorithm \"foo\""), std::string::npos);
  EXPECT_NE(error_of("SignatureAlgorithm rsa-sha1\n", f).find("RFC 8301"), std::string::npos);
  EXPECT_NE(error_of("Syslog maybe\n", f).find("illegal value"), std::string::npos);
  EXPECT_NE(error_of("DNSTimeout 5x\n", f).find("illegal value"), std::string::npos);
}

TEST(DkimLegacy, HeaderLists) {
  Files f;
  DkimSettings s = legacy("SignHeaders *,+Message-ID,-date\nOversignHeaders From,Subject\n", f);
  EXPECT_EQ(s.sign_headers.front(), "from");
  EXPECT_NE(std::find(s.sign_headers.begin(), s.sign_headers.end(), "Message-ID"), s.sign_headers.end());
  EXPECT_EQ(std::find(s.sign_headers.begin(), s.sign_headers.end(), "date"), s.sign_headers.end());
  EXPECT_EQ(s.oversign_headers, (std::vector<std::string>{"From", "Subject"}));  // spelling kept
  DkimSettings o = legacy("OmitHeaders *,-Bcc\n", f);
  EXPECT_TRUE(o.sign_all_but_omitted);
  EXPECT_EQ(std::find(o.omit_headers.begin(), o.omit_headers.end(), "bcc"), o.omit_headers.end());
  EXPECT_EQ(resolve_header_list({"*", "-BCC", "+X-Custom", "x-custom"}, {"bcc", "received"}),
            (std::vector<std::string>{"received", "X-Custom"}));
  EXPECT_NE(error_of("SignHeaders refile:/x\n", f).find("refile"), std::string::npos);
  EXPECT_EQ(resolve_header_list({"."}, opendkim_default_sign_headers()), std::vector<std::string>{});
}

TEST(DkimLegacy, HostListsInlineFileAndDefault) {
  Files f;
  f.files["/hosts"] = "# comment\n10.0.0.0/8\n  2001:db8::/32 trailing\n";
  EXPECT_EQ(legacy("Mode sv\n", f).internal_hosts.entries, (std::vector<std::string>{"127.0.0.1", "::1"}));
  DkimSettings s = legacy("InternalHosts 192.168.0.0/16, 10.0.0.0/8 ::1\nPeerList file:/hosts\n", f);
  EXPECT_EQ(s.internal_hosts.entries, (std::vector<std::string>{"192.168.0.0/16", "10.0.0.0/8", "::1"}));
  EXPECT_EQ(s.peer_list.entries, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_NE(error_of("InternalHosts ldap://x/y\n", f).find("not supported"), std::string::npos);
  EXPECT_NE(error_of("InternalHosts /missing\n", f).find("/missing"), std::string::npos);
}

TEST(DkimLegacy, MacroListAndMta) {
  Files f;
  DkimSettings s = legacy("MacroList daemon_name=ORIGINATING|submission,{auth_type}\nMTA MSA\n", f);
  ASSERT_EQ(s.macro_list.size(), 2u);
  EXPECT_EQ(s.macro_list[0].name, "daemon_name");
  EXPECT_EQ(s.macro_list[0].values, (std::vector<std::string>{"ORIGINATING", "submission"}));
  EXPECT_TRUE(s.macro_list[1].values.empty());
  EXPECT_EQ(s.mta, std::vector<std::string>{"MSA"});  // case-sensitive (§2.3)
}

/* ---- every keyword is accepted or refused by name ---- */

// The options documented in man:opendkim.conf(5) (Debian 2.11.0~beta2), as listed there.
const char* const kManPageKeywords[] = {
    "AllowSHA1Only", "AlwaysAddARHeader", "AuthservID", "AuthservIDWithJobID", "AutoRestart",
    "AutoRestartCount", "AutoRestartRate", "Background", "BaseDirectory", "BodyLengthDB", "BogusKey",
    "CaptureUnknownErrors", "Canonicalization", "ChangeRootDirectory", "ClockDrift", "Diagnostics",
    "DiagnosticDirectory", "DisableCryptoInit", "DNSConnect", "DNSTimeout", "Domain", "DomainKeysCompat",
    "DontSignMailTo", "EnableCoredumps", "ExemptDomains", "ExternalIgnoreList", "FinalPolicyScript",
    "FixCRLF", "IdentityHeader", "IdentityHeaderRemove", "IgnoreMalformedMail", "Include", "InternalHosts",
    "KeepAuthResults", "KeepTemporaryFiles", "KeyFile", "KeyTable", "LDAPAuthMechanism", "LDAPAuthName",
    "LDAPAuthRealm", "LDAPAuthUser", "LDAPBindPassword", "LDAPBindUser", "LDAPDisableCache",
    "LDAPKeepaliveIdle", "LDAPKeepaliveInterval", "LDAPKeepaliveProbes", "LDAPTimeout", "LDAPUseTLS",
    "LogResults", "LogWhy", "MacroList", "MaximumHeaders", "MaximumSignaturesToVerify",
    "MaximumSignedBytes", "MilterDebug", "Minimum", "MinimumKeyBits", "Mode", "MTA", "MTACommand",
    "MultipleSignatures", "MustBeSigned", "Nameservers", "NoHeaderB", "OmitHeaders", "On-BadSignature",
    "On-Default", "On-DNSError", "On-InternalError", "On-KeyNotFound", "On-NoSignature", "On-Security",
    "On-SignatureError", "OversignHeaders", "PeerList", "PidFile", "POPDBFile", "Quarantine", "QueryCache",
    "RedirectFailuresTo", "RemoveARAll", "RemoveARFrom", "RemoveOldSignatures", "ReplaceHeaders",
    "ReplaceRules", "ReportAddress", "ReportBccAddress", "RequestReports", "RequiredHeaders",
    "RequireSafeKeys", "ResignAll", "ResignMailTo", "ResolverConfiguration", "ResolverTracing",
    "ScreenPolicyScript", "SelectCanonicalizationHeader", "Selector", "SenderHeaders", "SenderMacro",
    "SendReports", "SetupPolicyScript", "SignatureAlgorithm", "SignatureTTL", "SignHeaders",
    "SigningTable", "SMTPURI", "Socket", "SoftStart", "SoftwareHeader", "Statistics", "StatisticsName",
    "StatisticsPolicyScript", "StatisticsPrefix", "StrictHeaders", "StrictTestMode", "SubDomains", "Syslog",
    "SyslogFacility", "SyslogName", "SyslogSuccess", "TemporaryDirectory", "TestDNSData", "TestPublicKeys",
    "TrustAnchorFile", "TrustSignaturesFrom", "UMask", "UnprotectedKey", "UserID", "VBR-Certifiers",
    "VBR-PurgeFields", "VBR-TrustedCertifiers", "VBR-TrustedCertifiersOnly", "VBR-Type", "WeakSyntaxChecks",
    // Not in the man page but in the Debian binary's keyword table.
    "ATPSDomains", "ATPSHashAlgorithm", "X-Header"};

TEST(DkimKeywords, EveryManPageKeywordIsClassified) {
  const auto& kw = dkim_keywords();
  for (const char* name : kManPageKeywords) {
    bool found = std::any_of(kw.begin(), kw.end(), [&](const KeywordInfo& k) { return iequals(k.name, name); });
    EXPECT_TRUE(found) << name << " is not classified";
  }
}

/// A value that is legal for the keyword (so only support, not syntax, decides).
std::string legal_value(const KeywordInfo& k) {
  std::string n(k.name);
  static const std::map<std::string, std::string, std::less<>> special = {
      {"Canonicalization", "relaxed/relaxed"}, {"SignatureAlgorithm", "rsa-sha256"}, {"Mode", "sv"},
      {"BogusKey", "fail"}, {"UnprotectedKey", "none"}, {"Domain", "example.com"}, {"KeyFile", "/k"},
      {"Selector", "s"}, {"KeyTable", "/kt"}, {"SigningTable", "/st"}, {"Include", "/inc"},
      {"AuthservID", "mx.example"}, {"Socket", "inet:8891@localhost"}, {"UserID", "opendkim"},
      {"PidFile", "/run/x.pid"}, {"SyslogFacility", "mail"}, {"SyslogName", "opendkim"},
      {"ChangeRootDirectory", "/var/lib/opendkim"},
      {"Nameservers", "127.0.0.1"}, {"BaseDirectory", "/var/lib/x"}, {"AutoRestartRate", "10/1h"},
      {"InternalHosts", "127.0.0.1"}, {"ExternalIgnoreList", "127.0.0.1"}, {"PeerList", "10.0.0.1"},
      {"TestPublicKeys", "/inc"}, {"ReplaceRules", "/inc"}, {"ResolverConfiguration", "/inc"}, {"TestDNSData", "csl:a=b"}, {"Minimum", "0"},
  };
  if (auto it = special.find(n); it != special.end()) return it->second;
  if (n.rfind("On-", 0) == 0) return "accept";
  return "0";  // booleans (false), integers; string options take "0" as well
}

TEST(DkimKeywords, EachKeywordIsAcceptedOrRefusedByName) {
  Files f;
  f.files["/inc"] = "";
  f.files["/kt"] = "k example.com:s:/k\n";
  f.files["/st"] = "* k\n";
  for (const auto& k : dkim_keywords()) {
    std::string text = std::string(k.name) + " " + legal_value(k) + "\n";
    if (k.name == "Domain" || k.name == "KeyFile" || k.name == "Selector") {
      text = "Domain example.com\nKeyFile /k\nSelector s\n";
    } else if (k.name == "KeyTable" || k.name == "SigningTable") {
      text = "KeyTable /kt\nSigningTable /st\n";
    }
    std::string err = error_of(text, f);
    switch (k.support) {
      case KeywordSupport::Implemented:
      case KeywordSupport::Ignored:
      case KeywordSupport::RefusedIfOn:
        EXPECT_EQ(err, "") << k.name;
        break;
      case KeywordSupport::Refused:
        EXPECT_NE(err.find(std::string(k.name)), std::string::npos) << k.name << ": " << err;
        EXPECT_NE(err.find("not supported"), std::string::npos) << k.name << ": " << err;
        break;
    }
    if (k.support == KeywordSupport::RefusedIfOn) {
      std::string on = error_of(std::string(k.name) + " yes\n", f);
      EXPECT_NE(on.find(std::string(k.name)), std::string::npos) << k.name << ": " << on;
    }
  }
}

TEST(DkimKeywords, UnknownKeywordIsFatalWithLine) {
  Files f;
  std::string e = error_of("Mode sv\nNoSuchOption 1\n", f);
  EXPECT_NE(e.find("/etc/opendkim.conf"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("unrecognized parameter"), std::string::npos) << e;
}

/* ---- YAML gives the same model ---- */

const char* kThreeDomainsYaml = R"(
authserv_id: mx.example.com
dns:
  nameservers: [127.0.0.1@5300]
  dnssec: resolver   # TrustAnchorFile
  timeout: 5
hosts:
  internal: refile:/etc/opendkim/TrustedHosts
  external_ignore: refile:/etc/opendkim/TrustedHosts
keys:
  - {name: sel._domainkey.example.net, domain: example.net, selector: sel, file: /etc/dkimkeys/example.net.private}
  - {name: sel._domainkey.example.org, domain: example.org, selector: sel, file: /etc/dkimkeys/example.org.private}
  - {name: sel._domainkey.example.com, domain: example.com, selector: sel, file: /etc/dkimkeys/example.com.private}
  - {name: relay, domain: relay.example.com, selector: fwd, file: /etc/dkimkeys/relay.private}
signing:
  - {match: "*@example.net", keys: [sel._domainkey.example.net]}
  - {match: "*@example.org", keys: [sel._domainkey.example.org]}
  - {match: "*@example.com", keys: [sel._domainkey.example.com]}
  - {match: "*", keys: [relay]}
dkim:
  socket: local:/run/opendkim/opendkim.sock
  mode: sv
  canonicalization: relaxed/simple
  oversign_headers: [From]
  user: opendkim
  umask: "007"
  pidfile: /run/opendkim/opendkim.pid
  syslog: true
  syslog_success: true
)";

TEST(DkimYaml, SameSettingsAsLegacy) {
  Files f = three_domains();
  std::string conf = kThreeDomainsConf;
  conf.replace(conf.find("KeyTable refile:"), 16, "KeyTable file:");
  conf += "AuthservID mx.example.com\nDNSTimeout 5\n";
  DkimSettings a = legacy(conf, f);
  DkimSettings b = load_dkim_yaml(kThreeDomainsYaml, "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_TRUE(a.same_as(b));
  // Field by field, so a difference is visible.
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.signing, b.signing);
  EXPECT_EQ(a.internal_hosts, b.internal_hosts);
  EXPECT_EQ(a.nameservers, b.nameservers);
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_EQ(a.sign_headers, b.sign_headers);
}

// "dkim-atps=neutral" (Debian's opendkim, _FFR_ATPS): written by default, as the drop-in must;
// inkan.yaml can leave it out.
TEST(DkimYaml, AtpsNeutralDefaults) {
  Files f;
  EXPECT_TRUE(legacy("", f).atps_neutral);
  EXPECT_TRUE(legacy("ATPSDomains example.com\n", f).atps_neutral);
  EXPECT_TRUE(load_dkim_yaml("dkim: {}\n", "x.yaml", f.reader()).atps_neutral);
  EXPECT_TRUE(load_dkim_yaml("dkim:\n  atps_neutral: true\n", "x.yaml", f.reader()).atps_neutral);
  EXPECT_FALSE(load_dkim_yaml("dkim:\n  atps_neutral: no\n", "x.yaml", f.reader()).atps_neutral);
}

TEST(DkimProcess, ChangeRootDirectoryLegacyAndYaml) {
  Files f;
  EXPECT_EQ(legacy("ChangeRootDirectory /var/spool/opendkim\n", f).chroot_dir, "/var/spool/opendkim");
  EXPECT_EQ(legacy("Mode v\n", f).chroot_dir, "");
  for (const char* bad : {"ChangeRootDirectory var/spool\n", "ChangeRootDirectory ./x\n"}) {
    std::string err = error_of(bad, f);
    EXPECT_NE(err.find("ChangeRootDirectory"), std::string::npos) << bad << ": " << err;
    EXPECT_NE(err.find("absolute"), std::string::npos) << err;
  }
  EXPECT_EQ(load_dkim_yaml("dkim:\n  chroot: /srv/inkan\n", "x.yaml", f.reader()).chroot_dir, "/srv/inkan");
}

TEST(DkimYaml, OnActionsAndErrors) {
  Files f;
  DkimSettings s = load_dkim_yaml("dkim:\n  on_bad_signature: reject\n  on_default: tempfail\n", "x.yaml", f.reader());
  EXPECT_EQ(s.actions.bad_signature, DkimAction::Reject);
  EXPECT_EQ(s.actions.no_signature, DkimAction::TempFail);
  auto err = [&](const std::string& text) {
    try {
      load_dkim_yaml(text, "x.yaml", f.reader());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err("dkim:\n  mode: sv\n  bogus_option: 1\n").find("line 3"), std::string::npos);
  EXPECT_NE(err("dkim:\n  on_bad_signature: maybe\n").find("illegal value"), std::string::npos);
  EXPECT_NE(err("dkim: [1, 2\n").find("x.yaml"), std::string::npos);
  EXPECT_NE(err("keys:\n  - {name: k, domain: d}\n").find("needs name, domain, selector and file"), std::string::npos);
  EXPECT_NE(err("keys:\n  - {name: k, domain: d, selector: s, file: /k}\nsigning:\n  - {match: '*', keys: [nope]}\n")
                .find("unknown key 'nope'"),
            std::string::npos);
  // Other daemons' sections are not ours to judge.
  EXPECT_EQ(err("spf:\n  anything: 1\ndmarc:\n  x: y\n"), "");
}

/* ---- the shipped examples load, and both forms agree ---- */

Result<std::string> example_reader(const std::string& path) {
  static const std::string kDir = std::string(INKAN_SOURCE_DIR) + "/examples/opendkim/virtual-domains/";
  std::string p = path;
  if (p.rfind("/etc/opendkim/", 0) == 0) p = kDir + p.substr(14);
  return read_file(p);
}

TEST(DkimExamples, VirtualDomainsLegacyEqualsYaml) {
  std::string dir = std::string(INKAN_SOURCE_DIR) + "/examples/";
  DkimSettings a = load_dkim_legacy(LegacyConfig::load(dir + "opendkim/virtual-domains/opendkim.conf"), example_reader);
  DkimSettings b = load_dkim_settings(dir + "inkan.yaml", true, example_reader);
  // The legacy file reads TrustedHosts as refile: globs; the YAML lists the same entries.
  EXPECT_TRUE(a.internal_hosts.refile);
  EXPECT_EQ(a.internal_hosts.entries, b.internal_hosts.entries);
  a.internal_hosts.refile = a.external_ignore.refile = false;
  EXPECT_TRUE(a.same_as(b));
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.signing, b.signing);
  EXPECT_EQ(a.actions, b.actions);
  std::string err;
  auto r = select_signing_keys(b, "news", "lists.foreign.example", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].domain, "relay.example.net");
}

TEST(DkimExamples, SingleDomainBothFormsSign) {
  std::string dir = std::string(INKAN_SOURCE_DIR) + "/examples/";
  DkimSettings a = load_dkim_legacy(LegacyConfig::load(dir + "opendkim/single-domain/opendkim.conf"));
  DkimSettings b = load_dkim_settings(dir + "inkan-single-domain.yaml", true);
  std::string err;
  for (const DkimSettings* s : {&a, &b}) {
    auto r = select_signing_keys(*s, "alice", "example.com", &err);
    ASSERT_EQ(r.size(), 1u) << err;
    EXPECT_EQ(r[0].domain, "example.com");
    EXPECT_EQ(r[0].key->selector, "mail");
    EXPECT_EQ(r[0].key_path_or_data, "/etc/dkimkeys/mail.private");
    EXPECT_TRUE(select_signing_keys(*s, "bob", "example.org", &err).empty());
    EXPECT_EQ(s->internal_hosts.entries, (std::vector<std::string>{"127.0.0.1", "::1"}));
    EXPECT_EQ(s->canonicalization, (dkim::Canonicalization{dkim::Canon::Relaxed, dkim::Canon::Simple}));
  }
}

/* ---- Minimum, MustBeSigned, RequiredHeaders, test hooks, BaseDirectory ---- */

struct MinimumCase {
  std::string_view name, input;
  bool ok;
  BodyMinimum::Kind kind;
  std::uint64_t value;
};
const MinimumCase kMinimumCases[] = {
    {"Bytes", "1024", true, BodyMinimum::Kind::Bytes, 1024},
    {"Zero", "0", true, BodyMinimum::Kind::Bytes, 0},
    {"Empty", "", true, BodyMinimum::Kind::Bytes, 0},  // strtoul("") = 0, *p = '\0'
    {"Percent", "75%", true, BodyMinimum::Kind::Percent, 75},
    {"PercentMax", "100%", true, BodyMinimum::Kind::Percent, 100},
    {"PercentOver", "101%", false, BodyMinimum::Kind::Bytes, 0},
    {"MaxAppended", "200+", true, BodyMinimum::Kind::MaxAppended, 200},
    {"TrailingIgnoredAfterSuffix", "50%x", true, BodyMinimum::Kind::Percent, 50},
    {"Negative", "-5", false, BodyMinimum::Kind::Bytes, 0},
    {"Garbage", "12k", false, BodyMinimum::Kind::Bytes, 0},
    {"Letters", "abc", false, BodyMinimum::Kind::Bytes, 0},
    {"UintMax", "4294967295", true, BodyMinimum::Kind::Bytes, 4294967295u},
    {"OverUintMax", "4294967296", false, BodyMinimum::Kind::Bytes, 0},
    {"Huge", "99999999999999999999999999999", false, BodyMinimum::Kind::Bytes, 0},
    {"LeadingBlank", " 7+", true, BodyMinimum::Kind::MaxAppended, 7},
};
class MinimumParse : public testing::TestWithParam<MinimumCase> {};
TEST_P(MinimumParse, AsDkimfConfigLoad) {
  const auto& c = GetParam();
  auto m = parse_body_minimum(c.input);
  ASSERT_EQ(static_cast<bool>(m), c.ok) << "input '" << c.input << "'";
  if (!c.ok) {
    EXPECT_EQ(m.error().reason, "illegal value for \"Minimum\"");
    return;
  }
  EXPECT_EQ(m->kind, c.kind) << c.input;
  EXPECT_EQ(m->value, c.value) << c.input;
}
INSTANTIATE_TEST_SUITE_P(Dkim, MinimumParse, testing::ValuesIn(kMinimumCases),
                         [](const testing::TestParamInfo<MinimumCase>& i) { return std::string(i.param.name); });

TEST(DkimLegacy, VerificationPolicies) {
  Files f;
  f.files["/etc/opendkim/mbs"] = "Message-ID\nReply-To  # comment\n";
  DkimSettings s = legacy("Minimum 50%\nMustBeSigned file:/etc/opendkim/mbs\nRequiredHeaders yes\n", f);
  EXPECT_EQ(s.minimum, (BodyMinimum{BodyMinimum::Kind::Percent, 50}));
  EXPECT_EQ(s.must_be_signed, (std::vector<std::string>{"message-id", "reply-to"}));
  EXPECT_TRUE(s.required_headers);
  EXPECT_FALSE(s.ignore_malformed);
  EXPECT_TRUE(legacy("IgnoreMalformedMail yes\n", f).ignore_malformed);
  s = legacy("MustBeSigned Subject,X-Foo\nRequiredHeaders no\n", f);
  EXPECT_EQ(s.must_be_signed, (std::vector<std::string>{"subject", "x-foo"}));
  EXPECT_FALSE(s.required_headers);
  EXPECT_EQ(s.minimum.value, 0u);
  EXPECT_FALSE(s.mode_set);
  EXPECT_TRUE(legacy("Mode v\n", f).mode_set);

  std::string e = error_of("Mode sv\nMinimum 120%\n", f);
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("illegal value for \"Minimum\""), std::string::npos) << e;
  e = error_of("MustBeSigned refile:/x\n", f);
  EXPECT_NE(e.find("MustBeSigned"), std::string::npos) << e;
}

TEST(DkimLegacy, TestPublicKeysAndTestDnsData) {
  Files f;
  f.files["/keys"] =
      "# test keys\n"
      "sel._domainkey.Example.ORG v=DKIM1; k=rsa; p=MIGf\r\n"
      "\n"
      "other._domainkey.example.net\tv=DKIM1; p=\n";
  f.files["/base/dns"] = "s2._domainkey.example.com v=DKIM1; k=ed25519; p=abc\n";
  DkimSettings s = legacy("TestPublicKeys /keys\nBaseDirectory /base\nTestDNSData file:dns\nStrictTestMode yes\n", f);
  ASSERT_EQ(s.test_dns.size(), 3u);
  EXPECT_EQ(s.test_dns[0], (std::pair<std::string, std::string>{"sel._domainkey.example.org", "v=DKIM1; k=rsa; p=MIGf"}));
  EXPECT_EQ(s.test_dns[1], (std::pair<std::string, std::string>{"other._domainkey.example.net", "v=DKIM1; p="}));
  EXPECT_EQ(s.test_dns[2], (std::pair<std::string, std::string>{"s2._domainkey.example.com", "v=DKIM1; k=ed25519; p=abc"}));
  EXPECT_TRUE(s.strict_test_mode);

  std::string e = error_of("TestPublicKeys /missing\n", f);
  EXPECT_NE(e.find("TestPublicKeys"), std::string::npos) << e;
  f.files["/bad"] = "nameonly\n";
  e = error_of("TestPublicKeys /bad\n", f);
  EXPECT_NE(e.find("no record"), std::string::npos) << e;
}

TEST(DkimLegacy, RelativeKeyFileIsAPathFromTheWorkingDirectory) {
  Files f;
  // Without BaseDirectory: "./keys/a.private" (a path, never inline key data).
  DkimSettings s = legacy("Domain example.com\nSelector s\nKeyFile keys/a.private\n", f);
  ASSERT_EQ(s.keys.size(), 1u);
  EXPECT_EQ(s.keys[0].key, "./keys/a.private");
  // With BaseDirectory: resolved against it (the daemon also chdir()s there at start).
  s = legacy("BaseDirectory /var/lib/dkim\nDomain example.com\nSelector s\nKeyFile keys/a.private\n", f);
  EXPECT_EQ(s.keys[0].key, "/var/lib/dkim/keys/a.private");
  EXPECT_EQ(s.base_directory, "/var/lib/dkim");
  s = legacy("Domain example.com\nSelector s\nKeyFile /etc/dkimkeys/a.private\n", f);
  EXPECT_EQ(s.keys[0].key, "/etc/dkimkeys/a.private");
}

TEST(DkimKeywords, StillRefusedNameTheirReason) {
  Files f;
  for (const char* k : {"ConditionalSignatures yes", "POPDBFile /etc/mail/popip.db",
                        "StatisticsPolicyScript /x.lua"}) {
    std::string e = error_of(std::string(k) + "\n", f);
    std::string name(k, std::string_view(k).find(' '));
    EXPECT_NE(e.find(name), std::string::npos) << e;
    EXPECT_NE(e.find("not supported by inkan-dkim"), std::string::npos) << e;
  }
}

TEST(DkimLegacy, ResolverConfigurationAddsForwardersAfterNameservers) {
  Files f;
  f.files["/etc/unbound/opendkim.conf"] =
      "server:\n  trust-anchor-file: /usr/share/dns/root.key\n"
      "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@5300\n  forward-addr: ::1\n";
  DkimSettings s = legacy("Nameservers 192.0.2.1\nResolverConfiguration /etc/unbound/opendkim.conf\n", f);
  EXPECT_EQ(s.nameservers, (std::vector<std::string>{"192.0.2.1", "127.0.0.1:5300", "::1"}));
  // The trust anchor is not "without effect": like TrustAnchorFile, it makes inkan-dkim trust
  // the resolver's AD bit (opendkim's libunbound would validate with it).
  EXPECT_TRUE(s.dnssec_resolver);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("AD bit"), std::string::npos) << s.warnings[0];
  f.files["/u1"] = "server:\n  auto-trust-anchor-file: /var/lib/unbound/root.key\n  verbosity: 1\n"
                   "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1\n";
  s = legacy("ResolverConfiguration /u1\nTrustAnchorFile /usr/share/dns/root.key\n", f);
  EXPECT_TRUE(s.dnssec_resolver);
  ASSERT_EQ(s.warnings.size(), 2u);  // one TrustAnchorFile note, one for verbosity
  EXPECT_NE(s.warnings[1].find("1 attribute(s) of a recursive resolver have no effect"), std::string::npos)
      << s.warnings[1];
  EXPECT_NE(s.warnings[1].find(":3: verbosity)"), std::string::npos) << s.warnings[1];

  f.files["/u2"] = "server:\n  verbosity: 1\n";
  s = legacy("ResolverConfiguration /u2\n", f);
  EXPECT_TRUE(s.nameservers.empty());
  ASSERT_EQ(s.warnings.size(), 2u);
  EXPECT_NE(s.warnings[0].find("no forward-zone"), std::string::npos) << s.warnings[0];

  f.files["/u3"] = "server:\n  local-data: \"x. TXT y\"\n";
  std::string e = error_of("ResolverConfiguration /u3\n", f);
  EXPECT_NE(e.find("/u3"), std::string::npos) << e;
  EXPECT_NE(e.find("local-data"), std::string::npos) << e;
  EXPECT_NE(error_of("ResolverConfiguration /missing\n", f).find("cannot read"), std::string::npos);
}

TEST(DkimKeywords, TrustSignaturesFromIgnoredWithoutLuaAsOpendkim) {
  Files f;
  DkimSettings s = legacy("TrustSignaturesFrom example.com,example.net\n", f);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("TrustSignaturesFrom is accepted but has no effect"), std::string::npos) << s.warnings[0];
  EXPECT_NE(s.warnings[0].find("Lua"), std::string::npos) << s.warnings[0];
}

TEST(DkimKeywords, RedirectFailuresToIgnoredAsDebiansOpendkimDoes) {
  // Debian's opendkim 2.11 accepts the keyword but is built without _FFR_REDIRECT, so it has
  // no effect there either (opendkim -V lists no _FFR_REDIRECT); refusing it would break
  // configurations that work today.
  Files f;
  DkimSettings s = legacy("RedirectFailuresTo postmaster@example.com\n", f);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("RedirectFailuresTo is accepted but has no effect"), std::string::npos) << s.warnings[0];
  EXPECT_NE(s.warnings[0].find("_FFR_REDIRECT"), std::string::npos) << s.warnings[0];
}

TEST(DkimKeywords, MaximumSignedBytesInBothForms) {
  Files f;
  DkimSettings s = legacy("MaximumSignedBytes 1000\n", f);
  EXPECT_EQ(s.maximum_signed_bytes, 1000u);
  EXPECT_EQ(legacy("", f).maximum_signed_bytes, 0u) << "default: the whole body";
  EXPECT_NE(error_of("MaximumSignedBytes -5\n", f).find("MaximumSignedBytes"), std::string::npos);
  EXPECT_NE(error_of("MaximumSignedBytes lots\n", f).find("MaximumSignedBytes"), std::string::npos);
  s = load_dkim_yaml("dkim:\n  maximum_signed_bytes: 4096\n", "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_EQ(s.maximum_signed_bytes, 4096u);
}

// ClockDrift, StrictHeaders, WeakSyntaxChecks: verdict-changing verifier options, legacy and
// YAML giving the same settings (milters/dkim/tests/verify_options_test.sh compares them with
// opendkim 2.11 itself).
struct VerifyOptionCase {
  std::string_view name;
  std::string legacy;  // opendkim.conf lines
  std::string yaml;    // the dkim: section
  std::int64_t drift;
  bool strict;
  bool weak;
};
const VerifyOptionCase kVerifyOptionCases[] = {
    {"Defaults", "", "dkim: {}\n", kDkimDefaultClockDrift, false, false},
    {"DriftZero", "ClockDrift 0\n", "dkim:\n  clock_drift: 0\n", 0, false, false},
    {"DriftLarge", "ClockDrift 86400\n", "dkim:\n  clock_drift: 86400\n", 86400, false, false},
    {"StrictOn", "StrictHeaders yes\n", "dkim:\n  strict_headers: true\n", 300, true, false},
    {"StrictOff", "StrictHeaders no\n", "dkim:\n  strict_headers: false\n", 300, false, false},
    {"WeakOn", "WeakSyntaxChecks true\n", "dkim:\n  weak_syntax_checks: yes\n", 300, false, true},
    {"All", "ClockDrift 5\nStrictHeaders 1\nWeakSyntaxChecks yes\n",
     "dkim:\n  clock_drift: 5\n  strict_headers: true\n  weak_syntax_checks: true\n", 5, true, true},
};
class VerifyOptions : public testing::TestWithParam<VerifyOptionCase> {};
TEST_P(VerifyOptions, LegacyEqualsYaml) {
  const auto& c = GetParam();
  Files f;
  DkimSettings a = legacy(c.legacy, f);
  DkimSettings b = load_dkim_yaml(c.yaml, "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_EQ(a.clock_drift, c.drift) << "got " << a.clock_drift << " want " << c.drift;
  EXPECT_EQ(a.strict_headers, c.strict);
  EXPECT_EQ(a.weak_syntax_checks, c.weak);
  EXPECT_EQ(b.clock_drift, c.drift);
  EXPECT_EQ(b.strict_headers, c.strict);
  EXPECT_EQ(b.weak_syntax_checks, c.weak);
  EXPECT_TRUE(a.same_as(b));
  EXPECT_TRUE(a.warnings.empty()) << a.warnings.front();  // implemented: no "has no effect"
}
INSTANTIATE_TEST_SUITE_P(Dkim, VerifyOptions, testing::ValuesIn(kVerifyOptionCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DkimKeywords, VerifyOptionsImplementedAndValuesChecked) {
  for (const auto& k : dkim_keywords()) {
    if (k.name == "ClockDrift" || k.name == "StrictHeaders" || k.name == "WeakSyntaxChecks") {
      EXPECT_EQ(k.support, KeywordSupport::Implemented) << k.name;
    }
  }
  Files f;
  for (const char* bad : {"ClockDrift -1\n", "ClockDrift soon\n", "ClockDrift 99999999999999999999\n",
                          "StrictHeaders maybe\n", "WeakSyntaxChecks 2\n"}) {
    std::string e = error_of(bad, f);
    std::string name(bad, std::string_view(bad).find(' '));
    EXPECT_NE(e.find(name), std::string::npos) << bad << " -> " << e;
  }
  try {
    (void)load_dkim_yaml("dkim:\n  clock_drift: -5\n", "/etc/inkan/inkan.yaml", f.reader());
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 2u) << e.what();
  }
}

TEST(DkimYaml, VerificationPolicies) {
  Files f;
  DkimSettings s = load_dkim_yaml(
      "dkim:\n  minimum: 200+\n  must_be_signed: [Message-ID, List-Id]\n  required_headers: true\n"
      "  ignore_malformed_mail: true\n",
      "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_EQ(s.minimum, (BodyMinimum{BodyMinimum::Kind::MaxAppended, 200}));
  EXPECT_EQ(s.must_be_signed, (std::vector<std::string>{"message-id", "list-id"}));
  EXPECT_TRUE(s.required_headers);
  EXPECT_TRUE(s.ignore_malformed);
  try {
    (void)load_dkim_yaml("dkim:\n  minimum: lots\n", "/etc/inkan/inkan.yaml", f.reader());
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("illegal value for \"Minimum\""), std::string::npos) << e.what();
    EXPECT_EQ(e.line(), 2u);
  }
}

/* ---- hostile input stays bounded ---- */

TEST(DkimLegacy, LargeTablesStayBounded) {
  Files f;
  std::string kt, st;
  for (int i = 0; i < 10000; ++i) {
    kt += "k" + std::to_string(i) + " d" + std::to_string(i) + ".example:s:/keys/k" + std::to_string(i) + "\n";
    st += "*@d" + std::to_string(i) + ".example k" + std::to_string(i) + "\n";
  }
  f.files["/kt"] = kt;
  f.files["/st"] = st;
  DkimSettings s = legacy("KeyTable /kt\nSigningTable refile:/st\n", f);
  EXPECT_EQ(s.keys.size(), 10000u);
  std::string err;
  auto r = select_signing_keys(s, "a", "d9999.example", &err);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].key->name, "k9999");
  EXPECT_TRUE(select_signing_keys(s, "a", "nowhere.example", &err).empty());
}

TEST(DkimLegacy, HostileBytes) {
  Files f;
  f.files["/st"] = std::string("*@ex\0ample.com k\n", 17);
  f.files["/kt"] = "k example.com:s:/k\n";
  // A NUL inside a pattern cannot match a real address; nothing crashes.
  DkimSettings s = legacy("KeyTable /kt\nSigningTable refile:/st\n", f);
  std::string err;
  EXPECT_TRUE(select_signing_keys(s, "a", "example.com", &err).empty());
  EXPECT_FALSE(glob_match(std::string(5000, '*') + "x", std::string(5000, 'a')));
  EXPECT_TRUE(glob_match("*@[ab]*.example", "u@a1.example"));  // ERE classes pass through
  EXPECT_TRUE(glob_match("user+tag@x.example", "USER+TAG@X.example"));
  EXPECT_FALSE(glob_match("a.b", "axb"));  // '.' is literal
}

/* ---- BodyLengthDB, SenderMacro, SelectCanonicalizationHeader ---- */

struct SigningOptCase {
  const char* conf;  ///< opendkim.conf text
  std::vector<std::string> body_length_db;
  const char* sender_macro;
  const char* select_header;
};
class SigningOptions : public testing::TestWithParam<SigningOptCase> {};
TEST_P(SigningOptions, Accepted) {
  Files f;
  f.files["/etc/opendkim/bldb"] = "# lists\nList@Lists.Example\n*@.Mailman.Example   # footers\n\n";
  f.files["/var/lib/dkim/bldb"] = "x@y.example\n";
  const auto& c = GetParam();
  DkimSettings s = legacy(c.conf, f);
  EXPECT_EQ(s.body_length_db, c.body_length_db) << c.conf;
  EXPECT_EQ(s.sender_macro, c.sender_macro) << c.conf;
  EXPECT_EQ(s.select_canonicalization_header, c.select_header) << c.conf;
  EXPECT_TRUE(s.warnings.empty()) << c.conf;
}
const SigningOptCase kSigningOptCases[] = {
    {"", {}, "", ""},  // all off by default
    {"BodyLengthDB csl:A@B.example,*@.lists.example\n", {"a@b.example", "*@.lists.example"}, "", ""},
    {"BodyLengthDB *\n", {"*"}, "", ""},
    {"BodyLengthDB file:/etc/opendkim/bldb\n", {"list@lists.example", "*@.mailman.example"}, "", ""},
    {"BodyLengthDB /etc/opendkim/bldb\n", {"list@lists.example", "*@.mailman.example"}, "", ""},
    {"BaseDirectory /var/lib/dkim\nBodyLengthDB file:bldb\n", {"x@y.example"}, "", ""},
    {"SenderMacro {auth_authen}\n", {}, "{auth_authen}", ""},
    {"SenderMacro auth_authen\n", {}, "auth_authen", ""},
    {"SenderMacro i\n", {}, "i", ""},
    {"SenderMacro {mail_addr}   # comment\n", {}, "{mail_addr}", ""},
    {"SelectCanonicalizationHeader X-Canonicalization\n", {}, "", "X-Canonicalization"},
    {"SelectCanonicalizationHeader X-Sign-Canon\n", {}, "", "X-Sign-Canon"},
};
INSTANTIATE_TEST_SUITE_P(Dkim, SigningOptions, testing::ValuesIn(kSigningOptCases));

struct BadOptCase {
  const char* conf;
  const char* option;  ///< must be named in the error
  const char* why;     ///< and this text
};
class SigningOptionsBad : public testing::TestWithParam<BadOptCase> {};
TEST_P(SigningOptionsBad, ConfigErrorNamesTheOption) {
  Files f;
  const auto& c = GetParam();
  std::string e = error_of(c.conf, f);
  EXPECT_NE(e.find(c.option), std::string::npos) << c.conf << " -> " << e;
  EXPECT_NE(e.find(c.why), std::string::npos) << c.conf << " -> " << e;
}
const BadOptCase kBadOptCases[] = {
    {"BodyLengthDB refile:/etc/opendkim/bldb\n", "BodyLengthDB", "refile: is not allowed here"},
    {"BodyLengthDB db:/etc/opendkim/bldb.db\n", "BodyLengthDB", "db:"},
    {"BodyLengthDB ldap://ldap.example/dc=x\n", "BodyLengthDB", "ldap"},
    {"BodyLengthDB file:/nonexistent\n", "BodyLengthDB", "/nonexistent"},
    {"SenderMacro {auth_authen\n", "SenderMacro", "illegal macro name"},
    {"SenderMacro auth}\n", "SenderMacro", "illegal macro name"},
    {"SenderMacro {}\n", "SenderMacro", "illegal macro name"},
    {"SenderMacro {{x}}\n", "SenderMacro", "illegal macro name"},
    {"SenderMacro {auth authen}\n", "SenderMacro", "illegal macro name"},
    {"SenderMacro caf\xc3\xa9\n", "SenderMacro", "illegal macro name"},
    {"SelectCanonicalizationHeader X:Canon\n", "SelectCanonicalizationHeader", "illegal header field name"},
    {"SelectCanonicalizationHeader X Canon\n", "SelectCanonicalizationHeader", "illegal header field name"},
    {"SelectCanonicalizationHeader X-Canon\xc3\xa9\n", "SelectCanonicalizationHeader", "illegal header field name"},
};
INSTANTIATE_TEST_SUITE_P(Dkim, SigningOptionsBad, testing::ValuesIn(kBadOptCases));

TEST(DkimKeywords, SigningOptionsAreImplemented) {
  for (const char* name : {"BodyLengthDB", "SenderMacro", "SelectCanonicalizationHeader"}) {
    const auto& kw = dkim_keywords();
    auto it = std::find_if(kw.begin(), kw.end(), [&](const KeywordInfo& k) { return k.name == name; });
    ASSERT_NE(it, kw.end()) << name;
    EXPECT_EQ(it->support, KeywordSupport::Implemented) << name;
  }
}

TEST(DkimLegacy, SigningOptionsHostileValuesStayBounded) {
  Files f;
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "u" + std::to_string(i) + "@l.example\n";
  f.files["/bldb"] = many;
  EXPECT_EQ(legacy("BodyLengthDB file:/bldb\n", f).body_length_db.size(), 10000u);
  std::string longname(kMaxMacroNameBytes + 1, 'm');
  EXPECT_NE(error_of("SenderMacro " + longname + "\n", f).find("SenderMacro"), std::string::npos);
  EXPECT_EQ(legacy("SenderMacro " + longname.substr(1) + "\n", f).sender_macro.size(), kMaxMacroNameBytes);
  std::string longfield(kMaxFieldNameBytes + 1, 'X');
  EXPECT_NE(error_of("SelectCanonicalizationHeader " + longfield + "\n", f).find("SelectCanonicalizationHeader"),
            std::string::npos);
}

TEST(DkimYaml, SigningOptionsSameAsLegacy) {
  Files f;
  DkimSettings y = load_dkim_yaml(
      "dkim:\n  body_length_db: [List@Lists.Example, \"*@.mailman.example\"]\n"
      "  sender_macro: \"{auth_authen}\"\n  select_canonicalization_header: X-Canonicalization\n",
      "/etc/inkan/inkan.yaml", f.reader());
  DkimSettings l = legacy(
      "BodyLengthDB csl:List@Lists.Example,*@.mailman.example\nSenderMacro {auth_authen}\n"
      "SelectCanonicalizationHeader X-Canonicalization\n",
      f);
  EXPECT_EQ(y.body_length_db, (std::vector<std::string>{"list@lists.example", "*@.mailman.example"}));
  EXPECT_EQ(y.sender_macro, "{auth_authen}");
  EXPECT_EQ(y.select_canonicalization_header, "X-Canonicalization");
  EXPECT_EQ(y.body_length_db, l.body_length_db);
  EXPECT_EQ(y.sender_macro, l.sender_macro);
  EXPECT_EQ(y.select_canonicalization_header, l.select_canonicalization_header);
  EXPECT_FALSE(y.same_as(legacy("", f)));
  for (const char* bad : {"dkim:\n  sender_macro: \"{x\"\n", "dkim:\n  select_canonicalization_header: \"a:b\"\n",
                          "dkim:\n  sender_macro: [a, b]\n"}) {
    try {
      (void)load_dkim_yaml(bad, "/etc/inkan/inkan.yaml", f.reader());
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("dkim."), std::string::npos) << e.what();
      EXPECT_EQ(e.line(), 2u) << e.what();
    }
  }
}

/* ---- Quarantine, CaptureUnknownErrors, failure reports ---- */

TEST(DkimKeywords, MilterOptionsAreImplemented) {
  for (const char* name : {"Quarantine", "CaptureUnknownErrors", "SendReports", "ReportAddress", "ReportBccAddress",
                           "MTACommand"}) {
    const auto& kw = dkim_keywords();
    auto it = std::find_if(kw.begin(), kw.end(), [&](const KeywordInfo& k) { return k.name == name; });
    ASSERT_NE(it, kw.end()) << name;
    EXPECT_EQ(it->support, KeywordSupport::Implemented) << name;
  }
}

TEST(DkimLegacy, MilterOptionsDefaultsAndValues) {
  Files f;
  DkimSettings d = legacy("", f);
  EXPECT_FALSE(d.quarantine);
  EXPECT_FALSE(d.capture_unknown_errors);
  EXPECT_FALSE(d.send_reports);
  EXPECT_EQ(d.report_address, "");
  EXPECT_EQ(d.report_bcc_address, "");
  EXPECT_EQ(d.mta_command, "/usr/sbin/sendmail");  // man:opendkim.conf(5) default
  DkimSettings s = legacy(
      "Quarantine yes\nCaptureUnknownErrors true\nSendReports 1\nReportAddress DKIM Reports <dkim@example.com>\n"
      "ReportBccAddress a@example.com,b@example.com\nMTACommand /usr/local/bin/mailer -oi\n",
      f);
  EXPECT_TRUE(s.quarantine);
  EXPECT_TRUE(s.capture_unknown_errors);
  EXPECT_TRUE(s.send_reports);
  EXPECT_EQ(s.report_address, "DKIM Reports <dkim@example.com>");
  EXPECT_EQ(s.report_bcc_address, "a@example.com,b@example.com");
  EXPECT_EQ(s.mta_command, "/usr/local/bin/mailer -oi");
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_FALSE(s.same_as(d));
}

struct MilterBadCase {
  const char* conf;
  const char* option;
};
class MilterOptionsBad : public testing::TestWithParam<MilterBadCase> {};
TEST_P(MilterOptionsBad, ErrorNamesTheOptionAndLine) {
  Files f;
  const auto& c = GetParam();
  std::string e = error_of(std::string("Mode sv\n") + c.conf, f);
  EXPECT_NE(e.find(c.option), std::string::npos) << c.conf << " -> " << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << c.conf << " -> " << e;
}
const MilterBadCase kMilterBadCases[] = {
    {"Quarantine maybe\n", "Quarantine"},
    {"CaptureUnknownErrors 2\n", "CaptureUnknownErrors"},
    {"SendReports perhaps\n", "SendReports"},
    {"MTACommand \n", "MTACommand"},
};
INSTANTIATE_TEST_SUITE_P(Dkim, MilterOptionsBad, testing::ValuesIn(kMilterBadCases));

// Lua policy scripts (opendkim-lua(3)): the paths (BaseDirectory applies), LuaOnlySigning,
// a KeyTable without SigningTable when a setup script signs; the same from YAML.
TEST(DkimLua, ScriptKeywordsSameAsYaml) {
  Files f;
  f.files["/etc/dkim/keytable"] = "k1 example.org:sel:/etc/dkim/k1.private\n";
  DkimSettings l = legacy(
      "BaseDirectory /etc/dkim\nKeyTable /etc/dkim/keytable\nSetupPolicyScript setup.lua\n"
      "ScreenPolicyScript /etc/dkim/screen.lua\nFinalPolicyScript /etc/dkim/final.lua\nLuaOnlySigning yes\n",
      f);
  EXPECT_EQ(l.setup_script, "/etc/dkim/setup.lua");
  EXPECT_EQ(l.screen_script, "/etc/dkim/screen.lua");
  EXPECT_EQ(l.final_script, "/etc/dkim/final.lua");
  EXPECT_TRUE(l.lua_only_signing);
  ASSERT_EQ(l.keys.size(), 1u);
  EXPECT_TRUE(l.signing.empty());
  DkimSettings y = load_dkim_yaml(
      "keys:\n  - {name: k1, domain: example.org, selector: sel, file: /etc/dkim/k1.private}\n"
      "dkim:\n  setup_script: /etc/dkim/setup.lua\n  screen_script: /etc/dkim/screen.lua\n"
      "  final_script: /etc/dkim/final.lua\n  lua_only_signing: true\n",
      "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_TRUE(y.same_as(l));
  EXPECT_EQ(y.setup_script, l.setup_script);
  EXPECT_EQ(y.final_script, l.final_script);
  EXPECT_TRUE(y.lua_only_signing);
  EXPECT_FALSE(legacy("FinalPolicyScript /a.lua\n", f).same_as(legacy("FinalPolicyScript /b.lua\n", f)));
  // Without a setup script a KeyTable still needs a SigningTable.
  EXPECT_NE(error_of("KeyTable /etc/dkim/keytable\n", f).find("KeyTable requires either SigningTable or SetupPolicyScript"),
            std::string::npos);
  EXPECT_NE(error_of("StatisticsPolicyScript /x.lua\n", f).find("statistics are not implemented"), std::string::npos);
}

TEST(DkimYaml, MilterOptionsSameAsLegacy) {
  Files f;
  DkimSettings y = load_dkim_yaml(
      "dkim:\n  quarantine: true\n  capture_unknown_errors: true\n  send_reports: true\n"
      "  report_address: \"DKIM Reports <dkim@example.com>\"\n  report_bcc_address: a@example.com\n"
      "  mta_command: /usr/local/bin/mailer\n",
      "/etc/inkan/inkan.yaml", f.reader());
  DkimSettings l = legacy(
      "Quarantine yes\nCaptureUnknownErrors yes\nSendReports yes\nReportAddress DKIM Reports <dkim@example.com>\n"
      "ReportBccAddress a@example.com\nMTACommand /usr/local/bin/mailer\n",
      f);
  EXPECT_TRUE(y.same_as(l));
  EXPECT_EQ(y.report_address, l.report_address);
  EXPECT_EQ(y.mta_command, l.mta_command);
  EXPECT_TRUE(load_dkim_yaml("dkim:\n  mode: sv\n", "/etc/inkan/inkan.yaml", f.reader()).same_as(legacy("Mode sv\n", f)));
  for (const char* bad : {"dkim:\n  quarantine: maybe\n", "dkim:\n  send_reports: [a]\n", "dkim:\n  mta_command: \"\"\n",
                          "dkim:\n  capture_unknown_errors: {a: b}\n"}) {
    try {
      (void)load_dkim_yaml(bad, "/etc/inkan/inkan.yaml", f.reader());
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("dkim."), std::string::npos) << e.what();
      EXPECT_EQ(e.line(), 2u) << e.what();
    }
  }
}

/* ---- Diagnostics, RequestReports, ReplaceRules, ReplaceHeaders ---- */

struct SignOutputCase {
  const char* name;
  std::string legacy;  // opendkim.conf lines
  std::string yaml;    // the dkim: section
  bool diagnostics;
  bool request_reports;
  std::vector<ReplaceRule> rules;
  std::optional<std::vector<std::string>> replace_headers;
};
const char* const kRulesText =
    "# masquerade\n@host\\.example\\.org\t@example.org\n\n[Uu]rgent!*\tnote  # comment\n";
const std::vector<ReplaceRule> kRules = {{"@host\\.example\\.org", "@example.org"}, {"[Uu]rgent!*", "note  "}};
const SignOutputCase kSignOutputCases[] = {
    {"Defaults", "", "dkim: {}\n", false, false, {}, std::nullopt},
    {"DiagnosticsOn", "Diagnostics yes\n", "dkim:\n  diagnostics: true\n", true, false, {}, std::nullopt},
    {"DiagnosticsOff", "Diagnostics no\n", "dkim:\n  diagnostics: false\n", false, false, {}, std::nullopt},
    {"ReportsOn", "RequestReports 1\n", "dkim:\n  request_reports: yes\n", false, true, {}, std::nullopt},
    {"Rules", "ReplaceRules /etc/opendkim/rules\n", "dkim:\n  replace_rules: /etc/opendkim/rules\n", false, false,
     kRules, std::nullopt},
    {"RulesRelative", "BaseDirectory /etc/opendkim\nReplaceRules rules\n",
     "dkim:\n  replace_rules: /etc/opendkim/rules\n", false, false, kRules,
     std::nullopt},
    {"Headers", "ReplaceRules /etc/opendkim/rules\nReplaceHeaders csl:From,Sender\n",
     "dkim:\n  replace_rules: /etc/opendkim/rules\n  replace_headers: [From, sender]\n", false, false, kRules,
     std::vector<std::string>{"from", "sender"}},
    {"HeadersFile", "ReplaceRules /etc/opendkim/rules\nReplaceHeaders file:/etc/opendkim/rephdrs\n",
     "dkim:\n  replace_rules: /etc/opendkim/rules\n  replace_headers: [from, reply-to]\n", false, false, kRules,
     std::vector<std::string>{"from", "reply-to"}},
    {"All", "Diagnostics true\nRequestReports yes\nReplaceRules /etc/opendkim/rules\n",
     "dkim:\n  diagnostics: yes\n  request_reports: true\n  replace_rules: /etc/opendkim/rules\n", true, true,
     kRules, std::nullopt},
};
class SignOutputOptions : public testing::TestWithParam<SignOutputCase> {};
TEST_P(SignOutputOptions, LegacyEqualsYaml) {
  const auto& c = GetParam();
  Files f;
  f.files["/etc/opendkim/rules"] = kRulesText;
  f.files["/etc/opendkim/rephdrs"] = "From\nReply-To  # lists\n";
  DkimSettings a = legacy(c.legacy, f);
  DkimSettings b = load_dkim_yaml(c.yaml, "/etc/inkan/inkan.yaml", f.reader());
  for (const DkimSettings* s : {&a, &b}) {
    EXPECT_EQ(s->diagnostics, c.diagnostics);
    EXPECT_EQ(s->request_reports, c.request_reports);
    EXPECT_EQ(s->replace_rules, c.rules);
    EXPECT_EQ(s->replace_headers, c.replace_headers);
  }
  EXPECT_TRUE(a.same_as(b));
  EXPECT_TRUE(a.warnings.empty()) << a.warnings.front();  // implemented: no "has no effect"
}
INSTANTIATE_TEST_SUITE_P(Dkim, SignOutputOptions, testing::ValuesIn(kSignOutputCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DkimKeywords, SignOutputOptionsAreImplemented) {
  for (const char* name : {"Diagnostics", "RequestReports", "ReplaceRules", "ReplaceHeaders"}) {
    const auto& kw = dkim_keywords();
    auto it = std::find_if(kw.begin(), kw.end(), [&](const KeywordInfo& k) { return k.name == name; });
    ASSERT_NE(it, kw.end()) << name;
    EXPECT_EQ(it->support, KeywordSupport::Implemented) << name;
  }
}

const BadOptCase kBadSignOutputCases[] = {
    {"Diagnostics maybe\n", "Diagnostics", ""},
    {"RequestReports 2\n", "RequestReports", ""},
    {"ReplaceRules /nonexistent\n", "ReplaceRules", "cannot read /nonexistent"},
    {"ReplaceRules\n", "ReplaceRules", ""},
    {"ReplaceRules /r/notab\n", "ReplaceRules", "failed to load ReplaceRules from /r/notab: line 2: no TAB"},
    {"ReplaceRules /r/badre\n", "ReplaceRules", "line 1: bad regular expression \"a\\{1\""},
    {"ReplaceRules /r/empty\n", "ReplaceRules", "matches the empty string"},
    {"ReplaceRules /r/nul\n", "ReplaceRules", "line 1: NUL byte"},
    {"ReplaceRules /r/long\n", "ReplaceRules", "line 1: longer than 1023 bytes"},
    {"ReplaceRules /r/many\n", "ReplaceRules", "more than 1000 rules"},
    {"ReplaceHeaders refile:/r/notab\n", "ReplaceHeaders", "refile: is not allowed here"},
    {"ReplaceHeaders file:/nonexistent\n", "ReplaceHeaders", "/nonexistent"},
};
class SignOutputBad : public testing::TestWithParam<BadOptCase> {};
TEST_P(SignOutputBad, ConfigErrorNamesTheOption) {
  Files f;
  f.files["/r/notab"] = "ok\tfine\nno tab here\n";
  f.files["/r/badre"] = "a\\{1\tb\n";
  f.files["/r/empty"] = "x*\ty\n";
  f.files["/r/nul"] = std::string("a\0b\tc\n", 6);
  f.files["/r/long"] = std::string(kMaxReplaceRuleLine, 'a') + "\tb\n";
  std::string many;
  for (std::size_t i = 0; i <= kMaxReplaceRules; ++i) many += "r" + std::to_string(i) + "\tx\n";
  f.files["/r/many"] = many;
  const auto& c = GetParam();
  std::string e = error_of(c.conf, f);
  EXPECT_NE(e.find(c.option), std::string::npos) << c.conf << " -> " << e;
  EXPECT_NE(e.find(c.why), std::string::npos) << c.conf << " -> " << e;
}
INSTANTIATE_TEST_SUITE_P(Dkim, SignOutputBad, testing::ValuesIn(kBadSignOutputCases));

TEST(DkimYaml, SignOutputOptionsBadValuesNameTheKey) {
  Files f;
  f.files["/r/notab"] = "no tab\n";
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"dkim:\n  diagnostics: maybe\n", "diagnostics"},
           {"dkim:\n  request_reports: 3\n", "request_reports"},
           {"dkim:\n  replace_rules: /r/notab\n", "replace_rules"},
           {"dkim:\n  replace_rules: /nonexistent\n", "replace_rules"}}) {
    try {
      (void)load_dkim_yaml(text, "/etc/inkan/inkan.yaml", f.reader());
      ADD_FAILURE() << text << ": no error";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << text << " -> " << e.what();
    }
  }
}

TEST(DkimLegacy, ReplaceRulesHostileFilesStayBounded) {
  Files f;
  // The longest accepted line, exactly kMaxReplaceRules rules, comment-only and blank lines.
  std::string text = std::string(kMaxReplaceRuleLine - 2, 'a') + "\tb\n";
  for (std::size_t i = 1; i < kMaxReplaceRules; ++i) text += "x" + std::to_string(i) + "\ty # c\n\n   \t \n#\n";
  f.files["/r"] = text;
  DkimSettings s = legacy("ReplaceRules /r\n", f);
  EXPECT_EQ(s.replace_rules.size(), kMaxReplaceRules);
  EXPECT_EQ(s.replace_rules[1].replacement, "y ");
  // Non-ASCII bytes pass through as bytes; a CR before LF stays in the replacement.
  f.files["/r2"] = "caf\xc3\xa9\tcoffee\r\n";
  s = legacy("ReplaceRules /r2\n", f);
  ASSERT_EQ(s.replace_rules.size(), 1u);
  EXPECT_EQ(s.replace_rules[0], (ReplaceRule{"caf\xc3\xa9", "coffee\r"}));
}

/* ---- DNSSEC: TrustAnchorFile / dns.dnssec / dns.trust_anchor_file (AD bit of the resolver) ---- */

TEST(DkimDnssec, LegacyAndYamlSpellings) {
  Files f;
  DkimSettings off = legacy("Mode v\n", f);
  EXPECT_FALSE(off.dnssec_resolver);
  DkimSettings on = legacy("Mode v\nTrustAnchorFile /usr/share/dns/root.key\n", f);
  EXPECT_TRUE(on.dnssec_resolver);
  EXPECT_FALSE(on.same_as(off));
  bool noted = false;
  for (const auto& w : on.warnings) noted = noted || w.find("AD bit") != std::string::npos;
  EXPECT_TRUE(noted);
  // The file is not read: a missing one is no error (the resolver holds the trust anchor).
  EXPECT_TRUE(legacy("TrustAnchorFile /nonexistent/root.key\n", f).dnssec_resolver);
  DkimSettings y = load_dkim_yaml("dns:\n  dnssec: resolver\ndkim:\n  mode: v\n", "x.yaml", f.reader());
  EXPECT_TRUE(y.dnssec_resolver);
  EXPECT_TRUE(y.same_as(on));
  EXPECT_TRUE(load_dkim_yaml("dns:\n  trust_anchor_file: /usr/share/dns/root.key\n", "x.yaml", f.reader()).dnssec_resolver);
  EXPECT_FALSE(load_dkim_yaml("dns:\n  dnssec: none\n", "x.yaml", f.reader()).dnssec_resolver);
  for (const char* bad : {"dns:\n  dnssec: yes\n", "dns:\n  dnssec: [resolver]\n", "dns:\n  dnssec: Resolver\n"}) {
    try {
      (void)load_dkim_yaml(bad, "x.yaml", f.reader());
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("dns.dnssec"), std::string::npos) << e.what();
    }
  }
}

TEST(DkimDnssec, KeywordTableIsTruthful) {
  for (const auto& k : dkim_keywords()) {
    if (k.name == "TrustAnchorFile") {
      EXPECT_EQ(k.support, KeywordSupport::Implemented);
    }
    if (k.name == "UnprotectedKey") {
      EXPECT_EQ(k.support, KeywordSupport::Implemented);
    }
    if (k.name == "BogusKey") {  // a bogus record is a SERVFAIL from the validating resolver
      EXPECT_EQ(k.support, KeywordSupport::Ignored);
      EXPECT_NE(std::string(k.note).find("SERVFAIL"), std::string::npos);
    }
  }
  Files f;
  // BogusKey values are still checked as opendkim does.
  EXPECT_EQ(legacy("BogusKey neutral\n", f).bogus_key, KeyTrustAction::Neutral);
  EXPECT_NE(error_of("BogusKey maybe\n", f), "");
}

}  // namespace
}  // namespace auth::config

// LDAP* keywords (opendkim.conf(5)): parsed into DkimSettings::live_options for the ldap:
// live tables (auth/config/dataset_ldap.h); YAML dkim: ldap: gives the same settings.
namespace auth::config {
namespace {

TEST(DkimLdapOptions, LegacyAndYamlEqual) {
  Files f;
  for (const char* k : {"LDAPAuthMechanism", "LDAPAuthName", "LDAPAuthRealm", "LDAPAuthUser", "LDAPBindPassword",
                        "LDAPBindUser", "LDAPDisableCache", "LDAPKeepaliveIdle", "LDAPKeepaliveInterval",
                        "LDAPKeepaliveProbes", "LDAPTimeout", "LDAPUseTLS"}) {
    auto it = std::find_if(dkim_keywords().begin(), dkim_keywords().end(),
                           [&](const KeywordInfo& i) { return iequals(i.name, k); });
    ASSERT_NE(it, dkim_keywords().end()) << k;
    EXPECT_EQ(it->support, KeywordSupport::Implemented) << k;
  }
  DkimSettings a = legacy(
      "LDAPAuthMechanism DIGEST-MD5\nLDAPAuthName dkim\nLDAPAuthRealm EXAMPLE.ORG\nLDAPAuthUser u:dkim\n"
      "LDAPBindUser cn=dkim,dc=example,dc=org\nLDAPBindPassword p@ss word\nLDAPUseTLS yes\n"
      "LDAPDisableCache true\nLDAPTimeout 7\nLDAPKeepaliveIdle 60\nLDAPKeepaliveInterval 10\n"
      "LDAPKeepaliveProbes 3\nSoftStart yes\n",
      f);
  EXPECT_TRUE(a.warnings.empty()) << a.warnings.front();
  const LiveDatasetOptions& o = a.live_options;
  EXPECT_EQ(o.ldap_auth_mechanism, "DIGEST-MD5");
  EXPECT_EQ(o.ldap_auth_name, "dkim");
  EXPECT_EQ(o.ldap_auth_realm, "EXAMPLE.ORG");
  EXPECT_EQ(o.ldap_auth_user, "u:dkim");
  EXPECT_EQ(o.ldap_bind_user, "cn=dkim,dc=example,dc=org");
  EXPECT_EQ(o.ldap_bind_password, "p@ss word");
  EXPECT_TRUE(o.ldap_use_tls);
  EXPECT_TRUE(o.ldap_disable_cache);
  EXPECT_EQ(o.ldap_timeout, 7);
  EXPECT_EQ(o.ldap_keepalive_idle, 60);
  EXPECT_EQ(o.ldap_keepalive_interval, 10);
  EXPECT_EQ(o.ldap_keepalive_probes, 3);
  EXPECT_TRUE(o.soft_start);
  DkimSettings b = load_dkim_yaml(
      "dkim:\n  soft_start: yes\n  ldap:\n    auth_mechanism: DIGEST-MD5\n    auth_name: dkim\n"
      "    auth_realm: EXAMPLE.ORG\n    auth_user: \"u:dkim\"\n    bind_user: cn=dkim,dc=example,dc=org\n"
      "    bind_password: p@ss word\n    use_tls: yes\n    disable_cache: true\n    timeout: 7\n"
      "    keepalive_idle: 60\n    keepalive_interval: 10\n    keepalive_probes: 3\n",
      "/etc/inkan/inkan.yaml", f.reader());
  EXPECT_EQ(b.live_options, a.live_options);
  EXPECT_TRUE(b.same_as(a));
}

TEST(DkimLdapOptions, DefaultsAndBadValues) {
  Files f;
  const LiveDatasetOptions d = legacy("", f).live_options;
  EXPECT_EQ(d, LiveDatasetOptions{});
  EXPECT_EQ(d.ldap_timeout, 5) << "opendkim-db.c DKIMF_LDAP_DEFTIMEOUT";
  EXPECT_EQ(d.ldap_keepalive_idle, -1) << "not set: libldap's default";
  EXPECT_FALSE(d.ldap_use_tls);
  for (const char* bad : {"LDAPTimeout abc\n", "LDAPTimeout -1\n", "LDAPKeepaliveIdle 1e9\n",
                          "LDAPKeepaliveProbes 99999999999999999999\n", "LDAPUseTLS maybe\n",
                          "LDAPDisableCache 2\n"}) {
    const std::string err = error_of(bad, f);
    const std::string name = std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_NE(err.find(name), std::string::npos) << bad << " -> " << err;
  }
  for (const char* bad : {"dkim:\n  ldap: yes\n", "dkim:\n  ldap:\n    timeout: soon\n",
                          "dkim:\n  ldap:\n    bind_dn: x\n", "dkim:\n  ldap:\n    use_tls: [a]\n"}) {
    try {
      (void)load_dkim_yaml(bad, "/etc/inkan/inkan.yaml", f.reader());
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("dkim.ldap"), std::string::npos) << e.what();
    }
  }
  // Long values are kept whole (they are credentials); 10 000 repetitions stay one value.
  const std::string pw(10000, 'p');
  EXPECT_EQ(legacy("LDAPBindPassword " + pw + "\n", f).live_options.ldap_bind_password, pw);
}

}  // namespace
}  // namespace auth::config
