// Tests of inkan-dkim's pure core: the sign-or-verify decision (anchor-features.md §2.4 lab
// table), Authentication-Results bytes against the lab captures (§2.6,
// anchor-lab-captures.txt), the On-* replies (§2.7) and forged-AR removal (RFC 8601 §5).
#include "dkim/dkim_core.h"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "auth/mail/header.h"

namespace inkan::dkim {
namespace {

using auth::config::DkimAction;
using auth::config::DkimSettings;
using auth::dkim::DkimResult;
using auth::dkim::FailureKind;
using auth::dkim::SignatureResult;

SignatureResult rsa(DkimResult res, FailureKind f, std::string s, std::string b, unsigned bits = 2048,
                    std::string reason = {}) {
  SignatureResult r;
  r.result = res;
  r.failure = f;
  r.reason = std::move(reason);
  r.domain = "example.com";
  r.identity = "@example.com";
  r.selector = std::move(s);
  r.algorithm = "rsa-sha256";
  r.key_bits = bits;
  // The lab captures come from DNS without DNSSEC (libunbound, no trust anchor): a key answer
  // arrived for every failure kind but a DNS error.
  if (f != FailureKind::KeyDns) r.key_dnssec = auth::dkim::KeyDnssec::Insecure;
  r.b_prefix = std::move(b);
  return r;
}

ArOptions ar(std::string id) {
  ArOptions o;
  o.authserv_id = std::move(id);
  return o;
}

/* ---- Authentication-Results, byte for byte (anchor-lab-captures.txt lines 189-206) ---- */

TEST(DkimAr, PassUnprotectedCapture) {
  auto v = format_ar_value({rsa(DkimResult::Pass, FailureKind::None, "sel2024", "tCeE2hw/")}, ar("mx.verify.example"));
  EXPECT_EQ(v,
            "mx.verify.example;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
            "header.i=@example.com header.a=rsa-sha256 header.s=sel2024 header.b=tCeE2hw/");
}

TEST(DkimAr, TwoSignaturesRsaAndEd25519Capture) {
  SignatureResult ed = rsa(DkimResult::Pass, FailureKind::None, "ed2024", "WRYzCGqT", 256);
  ed.algorithm = "ed25519-sha256";
  auto v = format_ar_value({rsa(DkimResult::Pass, FailureKind::None, "sel2024", "tCeE2hw/"), ed}, ar("mx.verify.example"));
  EXPECT_EQ(v,
            "mx.verify.example;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
            "header.i=@example.com header.a=rsa-sha256 header.s=sel2024 header.b=tCeE2hw/;\n\tdkim=pass "
            "header.d=example.com header.i=@example.com header.a=ed25519-sha256 header.s=ed2024 header.b=WRYzCGqT");
}

struct ClauseCase {
  const char* name;
  SignatureResult r;
  const char* want;
};

class DkimArClause : public testing::TestWithParam<ClauseCase> {};

TEST_P(DkimArClause, MatchesCapture) {
  EXPECT_EQ(format_ar_clause(GetParam().r, ar("mx.verify.example")), GetParam().want);
}

const ClauseCase kClauses[] = {
    {"body_tampered", rsa(DkimResult::Fail, FailureKind::BodyHash, "sel2024", "tCeE2hw/"),
     "dkim=fail reason=\"signature verification failed\" (2048-bit key; unprotected) header.d=example.com "
     "header.i=@example.com header.a=rsa-sha256 header.s=sel2024 header.b=tCeE2hw/"},
    {"header_tampered", rsa(DkimResult::Fail, FailureKind::Signature, "sel2024", "tCeE2hw/"),
     "dkim=fail reason=\"signature verification failed\" (2048-bit key; unprotected) header.d=example.com "
     "header.i=@example.com header.a=rsa-sha256 header.s=sel2024 header.b=tCeE2hw/"},
    {"key_nxdomain", rsa(DkimResult::PermError, FailureKind::NoKey, "nokey", "dGVzdA==", 0),
     "dkim=fail reason=\"key not found in DNS\" header.d=example.com header.i=@example.com header.a=rsa-sha256 "
     "header.s=nokey header.b=dGVzdA=="},
    {"key_revoked", rsa(DkimResult::PermError, FailureKind::KeyRecord, "revoked", "dGVzdA==", 0, "key revoked"),
     "dkim=fail reason=\"key revoked\" header.d=example.com header.i=@example.com header.a=rsa-sha256 "
     "header.s=revoked header.b=dGVzdA=="},
    {"dns_timeout", rsa(DkimResult::TempError, FailureKind::KeyDns, "t", "dGVzdA==", 0, "DNS timeout"),
     "dkim=temperror reason=\"key query failed\" header.d=example.com header.i=@example.com header.a=rsa-sha256 "
     "header.s=t header.b=dGVzdA=="},
    {"small_key", rsa(DkimResult::PermError, FailureKind::WeakKey, "s", "abcdefgh", 512),
     "dkim=policy reason=\"key too small\" (512-bit key; unprotected) header.d=example.com header.i=@example.com "
     "header.a=rsa-sha256 header.s=s header.b=abcdefgh"},
    {"quote_in_reason", rsa(DkimResult::PermError, FailureKind::Syntax, "s", "", 0, "bad \"tag\"\n"),
     "dkim=permerror reason=\"bad \\\"tag\\\"\" header.d=example.com header.i=@example.com header.a=rsa-sha256 "
     "header.s=s"},
};
// ClockDrift verdicts as opendkim 2.11 writes them (lab: opendkim -t, verify_options_test.sh):
// permerror, no reason, no key comment, header.a=rsa-sha1 whatever a= said.
const ClauseCase kDriftClauses[] = {
    {"expired", rsa(DkimResult::PermError, FailureKind::Expired, "sel", "YMob5DLz", 0, "signature expired (x=1)"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha1 header.s=sel header.b=YMob5DLz"},
    {"future", rsa(DkimResult::PermError, FailureKind::Future, "sel", "0J7x4Wcf", 0, "t= in the future"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha1 header.s=sel header.b=0J7x4Wcf"},
};
INSTANTIATE_TEST_SUITE_P(ClockDrift, DkimArClause, testing::ValuesIn(kDriftClauses),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DkimActions, ExpiredOrFutureFirstIsAcceptedWhateverOnSays) {
  auth::config::DkimActions all_reject{DkimAction::Reject, DkimAction::Reject, DkimAction::Reject, DkimAction::Reject,
                                       DkimAction::Reject, DkimAction::Reject, DkimAction::Reject};
  auto expired = rsa(DkimResult::PermError, FailureKind::Expired, "s", "b", 0);
  auto future = rsa(DkimResult::PermError, FailureKind::Future, "s", "b", 0);
  auto bad = rsa(DkimResult::Fail, FailureKind::BodyHash, "s", "b");
  auto good = rsa(DkimResult::Pass, FailureKind::None, "s", "b");
  EXPECT_EQ(classify({expired}), Outcome::VerifyError);
  EXPECT_EQ(classify({future, bad}), Outcome::VerifyError);  // the first one decides
  EXPECT_EQ(classify({bad, future}), Outcome::BadSignature);
  EXPECT_EQ(classify({expired, good}), Outcome::Pass);
  EXPECT_EQ(action_for(all_reject, Outcome::VerifyError), DkimAction::Accept);
  EXPECT_EQ(milter_action(DkimAction::Accept, Outcome::VerifyError).verdict, milter::Verdict::Accept);
  EXPECT_EQ(verification_error_text(future), "signature timestamp in the future");
  EXPECT_EQ(verification_error_text(expired), "signature expired");
}

INSTANTIATE_TEST_SUITE_P(Captures, DkimArClause, testing::ValuesIn(kClauses),
                         [](const auto& i) { return std::string(i.param.name); });

// Debian's opendkim (_FFR_ATPS) ends each DKIM A-R with "dkim-atps=neutral", folded as the
// other clauses (anchor-lab-captures.txt lines 102-120, 189-206).
TEST(DkimAr, AtpsNeutralClauseCaptures) {
  ArOptions o = ar("mx.test.example");
  o.atps_neutral = true;
  EXPECT_EQ(format_ar_value({}, o), "mx.test.example; dkim=none; dkim-atps=neutral");
  o.authserv_id = "mx.verify.example";
  EXPECT_EQ(format_ar_value({rsa(DkimResult::Pass, FailureKind::None, "sel2024", "tCeE2hw/")}, o),
            "mx.verify.example;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
            "header.i=@example.com header.a=rsa-sha256 header.s=sel2024 header.b=tCeE2hw/;\n\t"
            "dkim-atps=neutral");
}

TEST(DkimAr, NoneShortOnOneLineAndNotCheckedLeftOut) {
  EXPECT_EQ(format_ar_value({}, ar("mx.test.example")), "mx.test.example; dkim=none");
  SignatureResult nc = rsa(DkimResult::Neutral, FailureKind::NotChecked, "x", "y");
  EXPECT_EQ(format_ar_clause(nc, ar("mx")), "");
  ArOptions o = ar("mx");
  o.header_b = false;  // NoHeaderB
  EXPECT_EQ(format_ar_clause(rsa(DkimResult::Pass, FailureKind::None, "s", "b"), o).find("header.b"), std::string::npos);
  o.unprotected_key = auth::config::KeyTrustAction::Fail;  // UnprotectedKey fail
  EXPECT_EQ(format_ar_clause(rsa(DkimResult::Pass, FailureKind::None, "s", "b"), o).rfind("dkim=policy", 0), 0u);
}

/* ---- DNSSEC status of the key (TrustAnchorFile / dns.dnssec: resolver) and UnprotectedKey.
        Insecure rows: lab, opendkim 2.11 -t with Nameservers on a fake DNS server and
        UnprotectedKey none/neutral/fail (the same runs dnssec_test.sh repeats). Secure rows:
        opendkim.c dkimf_ar_all_sigs (DKIM_DNSSEC_SECURE: "secure", no UnprotectedKey). ---- */

struct DnssecClauseCase {
  const char* name;
  SignatureResult r;
  auth::dkim::KeyDnssec dnssec;
  auth::config::KeyTrustAction unprotected_key;
  const char* want;
};

class DkimArDnssec : public testing::TestWithParam<DnssecClauseCase> {};

TEST_P(DkimArDnssec, MatchesOpendkim) {
  const auto& c = GetParam();
  SignatureResult r = c.r;
  r.key_dnssec = c.dnssec;
  ArOptions o = ar("test.host");
  o.unprotected_key = c.unprotected_key;
  EXPECT_EQ(format_ar_clause(r, o), c.want);
}

using auth::config::KeyTrustAction;
using auth::dkim::KeyDnssec;
const SignatureResult kPass = rsa(DkimResult::Pass, FailureKind::None, "sel", "XS/EPfY/");
const SignatureResult kBad = rsa(DkimResult::Fail, FailureKind::Signature, "sel", "XS/EPfY/");
const SignatureResult kNoKey = rsa(DkimResult::PermError, FailureKind::NoKey, "nokey", "XS/EPfY/", 0);
const SignatureResult kTimeout = rsa(DkimResult::TempError, FailureKind::KeyDns, "sel", "XS/EPfY/", 0, "x");
#define TAIL(sel) " header.d=example.com header.i=@example.com header.a=rsa-sha256 header.s=" sel " header.b=XS/EPfY/"
const DnssecClauseCase kDnssecClauses[] = {
    {"pass_insecure", kPass, KeyDnssec::Insecure, KeyTrustAction::None, "dkim=pass (2048-bit key; unprotected)" TAIL("sel")},
    {"pass_insecure_neutral", kPass, KeyDnssec::Insecure, KeyTrustAction::Neutral,
     "dkim=neutral (2048-bit key; unprotected)" TAIL("sel")},
    {"pass_insecure_fail", kPass, KeyDnssec::Insecure, KeyTrustAction::Fail, "dkim=policy (2048-bit key; unprotected)" TAIL("sel")},
    {"bad_insecure_neutral", kBad, KeyDnssec::Insecure, KeyTrustAction::Neutral,
     "dkim=neutral reason=\"signature verification failed\" (2048-bit key; unprotected)" TAIL("sel")},
    {"bad_insecure_fail", kBad, KeyDnssec::Insecure, KeyTrustAction::Fail,
     "dkim=policy reason=\"signature verification failed\" (2048-bit key; unprotected)" TAIL("sel")},
    {"nokey_insecure_neutral", kNoKey, KeyDnssec::Insecure, KeyTrustAction::Neutral,
     "dkim=neutral reason=\"key not found in DNS\"" TAIL("nokey")},
    {"nokey_insecure_fail", kNoKey, KeyDnssec::Insecure, KeyTrustAction::Fail,
     "dkim=policy reason=\"key not found in DNS\"" TAIL("nokey")},
    {"pass_secure", kPass, KeyDnssec::Secure, KeyTrustAction::None, "dkim=pass (2048-bit key; secure)" TAIL("sel")},
    {"pass_secure_fail", kPass, KeyDnssec::Secure, KeyTrustAction::Fail, "dkim=pass (2048-bit key; secure)" TAIL("sel")},
    {"bad_secure_neutral", kBad, KeyDnssec::Secure, KeyTrustAction::Neutral,
     "dkim=fail reason=\"signature verification failed\" (2048-bit key; secure)" TAIL("sel")},
    {"nokey_secure_fail", kNoKey, KeyDnssec::Secure, KeyTrustAction::Fail, "dkim=fail reason=\"key not found in DNS\"" TAIL("nokey")},
    // Unknown (test keys, or no answer: timeout, or a bogus record's SERVFAIL): nothing added,
    // UnprotectedKey does not apply; BogusKey cannot either.
    {"pass_unknown_fail", kPass, KeyDnssec::Unknown, KeyTrustAction::Fail, "dkim=pass (2048-bit key)" TAIL("sel")},
    {"dns_error_fail", kTimeout, KeyDnssec::Unknown, KeyTrustAction::Fail,
     "dkim=temperror reason=\"key query failed\"" TAIL("sel")},
};
#undef TAIL
INSTANTIATE_TEST_SUITE_P(Lab, DkimArDnssec, testing::ValuesIn(kDnssecClauses),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DkimArDnssecTest, TestKeysReportNothingAndEd25519KeepsNoComment) {
  ArOptions o = ar("mx");
  o.unprotected = false;  // TestPublicKeys: libopendkim leaves the status unknown
  o.unprotected_key = KeyTrustAction::Fail;
  SignatureResult p = kPass;
  p.key_dnssec = KeyDnssec::Secure;
  EXPECT_EQ(format_ar_clause(p, o).rfind("dkim=pass (2048-bit key) ", 0), 0u);
  SignatureResult ed = rsa(DkimResult::Pass, FailureKind::None, "ed", "WRYzCGqT", 256);
  ed.algorithm = "ed25519-sha256";
  ed.key_dnssec = KeyDnssec::Secure;
  EXPECT_EQ(format_ar_clause(ed, ar("mx")),
            "dkim=pass header.d=example.com header.i=@example.com header.a=ed25519-sha256 header.s=ed header.b=WRYzCGqT");
}

TEST(DkimArDnssecTest, UnprotectedKeyOutcome) {
  SignatureResult ins = kPass, sec = kPass, unk = kPass;
  ins.key_dnssec = KeyDnssec::Insecure;
  sec.key_dnssec = KeyDnssec::Secure;
  unk.key_dnssec = KeyDnssec::Unknown;
  EXPECT_EQ(unprotected_key_outcome({ins}, KeyTrustAction::Fail, true), Outcome::BadSignature);
  EXPECT_EQ(unprotected_key_outcome({sec, ins}, KeyTrustAction::Neutral, true), Outcome::VerifyError);
  EXPECT_EQ(unprotected_key_outcome({ins}, KeyTrustAction::None, true), std::nullopt);
  EXPECT_EQ(unprotected_key_outcome({sec, unk}, KeyTrustAction::Fail, true), std::nullopt);
  EXPECT_EQ(unprotected_key_outcome({ins}, KeyTrustAction::Fail, false), std::nullopt);  // test keys
  EXPECT_EQ(unprotected_key_outcome({}, KeyTrustAction::Fail, true), std::nullopt);
  SignatureResult skipped = kPass;
  skipped.failure = FailureKind::NotChecked;
  skipped.key_dnssec = KeyDnssec::Insecure;
  EXPECT_EQ(unprotected_key_outcome({skipped}, KeyTrustAction::Fail, true), std::nullopt);
  // 10 000 signatures stay linear and give the same answer.
  std::vector<SignatureResult> many(10000, sec);
  many.back() = ins;
  EXPECT_EQ(unprotected_key_outcome(many, KeyTrustAction::Fail, true), Outcome::BadSignature);
  // On-BadSignature applies to the fail case (lab: 550 5.7.0 with On-BadSignature reject);
  // the neutral case is accepted even with On-Default reject (lab).
  auth::config::DkimActions a;
  a.bad_signature = DkimAction::Reject;
  EXPECT_EQ(action_for(a, Outcome::BadSignature), DkimAction::Reject);
  EXPECT_EQ(action_for(a, Outcome::VerifyError), DkimAction::Accept);
}

TEST(DkimTestModeLine, DnssecWordOfTheKey) {
  SignatureResult b = kBad;
  b.key_dnssec = KeyDnssec::Insecure;
  EXPECT_EQ(format_test_verification("opendkim", "bad.eml", {b}),
            "opendkim: bad.eml: verification (s=sel d=example.com, 2048-bit key, insecure) failed: signature verification failed");
  b.key_dnssec = KeyDnssec::Secure;
  EXPECT_EQ(format_test_verification("opendkim", "bad.eml", {b}),
            "opendkim: bad.eml: verification (s=sel d=example.com, 2048-bit key, secure) failed: signature verification failed");
  SignatureResult n = kNoKey;
  n.key_dnssec = KeyDnssec::Insecure;
  EXPECT_EQ(format_test_verification("opendkim", "nokey.eml", {n}),
            "opendkim: nokey.eml: verification (s=nokey d=example.com, 0-bit key, insecure) failed: key not found in DNS");
}

/* ---- the sign-or-verify decision (§2.4 lab table) ---- */

struct OriginCase {
  const char* name;
  const char* ip;
  const char* host;
  const char* auth_type;
  bool internal;
};

class DkimOrigin : public testing::TestWithParam<OriginCase> {};

TEST_P(DkimOrigin, LabTable) {
  DkimSettings s;
  s.internal_hosts.entries = {"127.0.0.1", "::1", "localhost", "192.168.0.0/16", "!192.168.5.5", ".corp.example.com"};
  auto hosts = build_host_lists(s);
  ASSERT_TRUE(hosts) << hosts.error().reason;
  Origin o;
  auto ip = auth::net::parse_ip(GetParam().ip);
  ASSERT_TRUE(ip);
  o.ip = *ip;
  o.hostname = GetParam().host;
  o.auth_type = GetParam().auth_type;
  auto d = decide_origin(s, *hosts, o);
  EXPECT_EQ(d.internal, GetParam().internal) << d.why;
}

const OriginCase kOrigins[] = {
    {"loopback", "127.0.0.1", "localhost", "", true},
    {"lan", "192.168.9.9", "[192.168.9.9]", "", true},
    {"negated", "192.168.5.5", "[192.168.5.5]", "", false},
    {"sasl", "198.51.100.7", "client.example", "PLAIN", true},
    {"external", "203.0.113.5", "mx.other.example", "", false},
    {"corp_name", "203.0.113.6", "a.corp.example.com", "", true},
    {"ipv6_loopback", "::1", "localhost", "", true},
};
INSTANTIATE_TEST_SUITE_P(Lab, DkimOrigin, testing::ValuesIn(kOrigins),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DkimOrigin, MtaAndMacroList) {
  DkimSettings s;
  s.internal_hosts.entries.clear();
  s.mta = {"ORIGINATING"};
  s.macro_list = {{"{daemon_addr}", {"10.0.0.1", "10.0.0.2"}}, {"{client_connections}", {}}};
  auto hosts = build_host_lists(s);
  ASSERT_TRUE(hosts);
  Origin o;
  o.daemon_name = "ORIGINATING";
  EXPECT_TRUE(decide_origin(s, *hosts, o).internal);
  o.daemon_name = "originating";  // MTA is case-sensitive (§2.3)
  EXPECT_FALSE(decide_origin(s, *hosts, o).internal);
  o.macros = {{"{daemon_addr}", "10.0.0.2"}};
  EXPECT_TRUE(decide_origin(s, *hosts, o).internal);
  o.macros = {{"{daemon_addr}", "10.0.0.3"}};
  EXPECT_FALSE(decide_origin(s, *hosts, o).internal);
  o.macros = {{"{client_connections}", "4"}};
  EXPECT_TRUE(decide_origin(s, *hosts, o).internal);
  EXPECT_NE(decide_origin(s, *hosts, Origin{}).why.find("not internal"), std::string::npos);
}

// File/csl DontSignMailTo and ExemptDomains: exact keys, case folded (opendkim's
// dkimf_db_get; compared with opendkim -t and daemons in domain_lists_test.sh).
TEST(DkimOrigin, DontSignMailToAndExempt) {
  EXPECT_EQ(dont_sign_to({"news@list.example.org"}, {"<a@b.example>", "<News@LIST.example.org>"}),
            std::optional<std::string>("News@LIST.example.org"));
  EXPECT_EQ(dont_sign_to({"boss@example.com"}, {"<boss@example.com>"}), std::optional<std::string>("boss@example.com"));
  EXPECT_EQ(dont_sign_to({"boss@example.com"}, {"<<boss@example.com>>"}), std::optional<std::string>("boss@example.com"));
  // Last RCPT first, as opendkim's prepended recipient list.
  EXPECT_EQ(dont_sign_to({"a@x.example", "b@x.example"}, {"<a@x.example>", "<b@x.example>"}),
            std::optional<std::string>("b@x.example"));
  // A domain, ".domain" or bare local part is no wildcard.
  EXPECT_FALSE(dont_sign_to({"list.example.org"}, {"<news@list.example.org>"}));
  EXPECT_FALSE(dont_sign_to({".example.org"}, {"<x@sub.example.org>"}));
  EXPECT_FALSE(dont_sign_to({"example.org"}, {"<x@sub.example.org>"}));
  EXPECT_FALSE(dont_sign_to({"boss"}, {"<boss@example.com>"}));
  EXPECT_FALSE(dont_sign_to({"*@example.com"}, {"<boss@example.com>"}));
  EXPECT_FALSE(dont_sign_to({}, {"<boss@example.com>"}));
  EXPECT_FALSE(dont_sign_to({""}, {"<>"}));
  EXPECT_TRUE(domain_listed({"example.net"}, "EXAMPLE.net"));
  EXPECT_FALSE(domain_listed({"example.net"}, "sub.example.net"));
  EXPECT_FALSE(domain_listed({".example.net"}, "sub.example.net"));
  EXPECT_FALSE(domain_listed({"net"}, "example.net"));
  EXPECT_FALSE(domain_listed({""}, ""));
  // 10 000 recipients against 10 000 entries: one pass each, bounded.
  std::vector<std::string> list, rcpts;
  for (int i = 0; i < 10000; ++i) {
    list.push_back("u" + std::to_string(i) + "@example.org");
    rcpts.push_back("<v" + std::to_string(i) + "@example.org>");
  }
  EXPECT_FALSE(dont_sign_to(list, rcpts));
}

/* ---- actions and replies (§2.7) ---- */

TEST(DkimActions, Replies) {
  using milter::Verdict;
  auto a = milter_action(DkimAction::Reject, Outcome::BadSignature);
  EXPECT_EQ(a.verdict, Verdict::Reject);
  EXPECT_EQ(a.reply, (milter::Reply{"550", "5.7.0", "bad DKIM signature data"}));
  a = milter_action(DkimAction::TempFail, Outcome::KeyNotFound);
  EXPECT_EQ(a.reply, (milter::Reply{"451", "4.7.5", "DKIM key retrieval failed"}));
  a = milter_action(DkimAction::TempFail, Outcome::DnsError);
  EXPECT_EQ(a.reply, (milter::Reply{"451", "4.7.5", "DKIM key retrieval failed"}));
  a = milter_action(DkimAction::TempFail, Outcome::Internal);
  EXPECT_EQ(a.reply, (milter::Reply{"451", "4.7.0", "resource unavailable"}));
  a = milter_action(DkimAction::Reject, Outcome::SignatureError);
  EXPECT_EQ(a.reply, (milter::Reply{"550", "5.7.0", "DKIM signing error"}));
  a = milter_action(DkimAction::Reject, Outcome::SyntaxError);
  EXPECT_EQ(a.reply, (milter::Reply{"550", "5.7.0", "DKIM signature syntax error"}));
  a = milter_action(DkimAction::Reject, Outcome::KeyRevoked);
  EXPECT_EQ(a.verdict, Verdict::Reject);
  EXPECT_FALSE(a.reply.has_value());
  EXPECT_EQ(milter_action(DkimAction::Discard, Outcome::NoSignature).verdict, Verdict::Discard);
  EXPECT_EQ(milter_action(DkimAction::Quarantine, Outcome::BadSignature).verdict, Verdict::Quarantine);
  EXPECT_EQ(milter_action(DkimAction::Accept, Outcome::BadSignature).verdict, Verdict::Accept);
  // Every reply passes the runtime's sanitiser.
  for (auto o : {Outcome::NoSignature, Outcome::BadSignature, Outcome::SyntaxError, Outcome::KeyNotFound,
                 Outcome::DnsError, Outcome::Security, Outcome::Internal, Outcome::SignatureError}) {
    for (auto act : {DkimAction::Reject, DkimAction::TempFail}) {
      auto m = milter_action(act, o);
      ASSERT_TRUE(m.reply);
      EXPECT_TRUE(milter::sanitize_reply(m.verdict, *m.reply));
    }
  }
}

TEST(DkimActions, ClassifyAndDefaults) {
  auth::config::DkimActions d;
  EXPECT_EQ(classify({}), Outcome::NoSignature);
  EXPECT_EQ(action_for(d, Outcome::NoSignature), DkimAction::Accept);
  EXPECT_EQ(action_for(d, Outcome::DnsError), DkimAction::TempFail);  // On-DNSError honoured (#176)
  EXPECT_EQ(action_for(d, Outcome::SignatureError), DkimAction::Reject);
  auto bad = rsa(DkimResult::Fail, FailureKind::BodyHash, "s", "b");
  auto good = rsa(DkimResult::Pass, FailureKind::None, "s", "b");
  auto dns = rsa(DkimResult::TempError, FailureKind::KeyDns, "s", "b");
  EXPECT_EQ(classify({bad, good}), Outcome::Pass);
  EXPECT_EQ(classify({dns, bad}), Outcome::DnsError);
  EXPECT_EQ(classify({bad, dns}), Outcome::BadSignature);
}

/* ---- forged Authentication-Results (RFC 8601 §5) ---- */

TEST(DkimAr, ForgedRemoval) {
  DkimSettings s;
  EXPECT_EQ(ar_authserv_id(" (comment (nested)) MX.Example.COM 1; dkim=pass"), "mx.example.com");
  EXPECT_EQ(ar_authserv_id("mx.example.com;dkim=pass"), "mx.example.com");
  EXPECT_EQ(ar_authserv_id("((((("), "");
  EXPECT_TRUE(should_remove_ar("mx.example.com; dkim=pass header.d=bank.example", "mx.example.com", s));
  EXPECT_TRUE(should_remove_ar("mx.example.com/12345; dkim=pass", "MX.example.com/ABC", s));
  EXPECT_FALSE(should_remove_ar("mx.example.com; spf=pass", "mx.example.com", s));
  EXPECT_FALSE(should_remove_ar("other.example; dkim=pass", "mx.example.com", s));
  s.remove_ar_all = true;
  EXPECT_TRUE(should_remove_ar("mx.example.com; spf=pass", "mx.example.com", s));
  s.remove_ar_from = {".example.net"};
  EXPECT_TRUE(should_remove_ar("relay.example.net; spf=pass", "mx.example.com", s));
  s.keep_auth_results = true;
  EXPECT_FALSE(should_remove_ar("mx.example.com; dkim=pass", "mx.example.com", s));
  std::string deep(10000, '(');
  EXPECT_EQ(ar_authserv_id(deep + "x"), "");  // bounded, no recursion
}

TEST(DkimAr, AuthservIdTrailingBackslashInComment) {
  // Fuzz find (dkim_config_fuzz): a quoted-pair '\' as the last byte of an unterminated
  // comment stepped past the end and made substr() throw std::out_of_range.
  EXPECT_EQ(ar_authserv_id("(:((((\\"), "");
  EXPECT_EQ(ar_authserv_id("(\\"), "");
  EXPECT_EQ(ar_authserv_id(std::string("(a\\", 3)), "");
  EXPECT_EQ(ar_authserv_id("(x\\) y) mx.example; dkim=pass"), "mx.example");
  DkimSettings s;
  EXPECT_FALSE(should_remove_ar("(\\", "mx.example.com", s));
}

TEST(DkimFields, SplitGeneratedField) {
  auto f = split_field("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\r\n\ts=sel; b=abc");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first, "DKIM-Signature");
  EXPECT_EQ(f->second, "v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\n\ts=sel; b=abc");
  EXPECT_TRUE(milter::normalize_header_value(f->second));
  EXPECT_FALSE(split_field("no colon"));
  EXPECT_FALSE(split_field(": empty name"));
}

/* ---- Quarantine, CaptureUnknownErrors (opendkim.conf(5); opendkim.c dkimf_miltercode) ---- */

TEST(DkimQuarantine, OnActionQuarantineUsesTheProgramNameAsOpendkim) {
  // opendkim 2.11 -t -vv with On-BadSignature quarantine: "### QUARANTINE: reason='opendkim'".
  auto a = milter_action(DkimAction::Quarantine, Outcome::BadSignature);
  EXPECT_EQ(a.verdict, milter::Verdict::Quarantine);
  EXPECT_EQ(a.quarantine_reason, "inkan-dkim");
  EXPECT_EQ(milter_action(DkimAction::Quarantine, Outcome::NoSignature).quarantine_reason, "inkan-dkim");
}

struct QuarantineCase {
  DkimAction configured;
  Outcome outcome;
  bool quarantine;
  DkimAction want;
};
class QuarantineOption : public testing::TestWithParam<QuarantineCase> {};
TEST_P(QuarantineOption, OnlyFailedVerificationsThatWouldBeAccepted) {
  const auto& c = GetParam();
  EXPECT_EQ(apply_quarantine_option(c.configured, c.outcome, c.quarantine), c.want);
}
const QuarantineCase kQuarantineCases[] = {
    {DkimAction::Accept, Outcome::BadSignature, true, DkimAction::Quarantine},
    {DkimAction::Accept, Outcome::SyntaxError, true, DkimAction::Quarantine},
    {DkimAction::Accept, Outcome::KeyRevoked, true, DkimAction::Quarantine},
    {DkimAction::Accept, Outcome::BadSignature, false, DkimAction::Accept},
    {DkimAction::Reject, Outcome::BadSignature, true, DkimAction::Reject},  // stronger action kept
    {DkimAction::TempFail, Outcome::BadSignature, true, DkimAction::TempFail},
    {DkimAction::Discard, Outcome::BadSignature, true, DkimAction::Discard},
    {DkimAction::Accept, Outcome::Pass, true, DkimAction::Accept},
    {DkimAction::Accept, Outcome::NoSignature, true, DkimAction::Accept},
    {DkimAction::Accept, Outcome::KeyNotFound, true, DkimAction::Accept},
    {DkimAction::TempFail, Outcome::DnsError, true, DkimAction::TempFail},
    {DkimAction::TempFail, Outcome::Internal, true, DkimAction::TempFail},
};
INSTANTIATE_TEST_SUITE_P(Dkim, QuarantineOption, testing::ValuesIn(kQuarantineCases));

TEST(DkimCapture, DisabledLetsTheErrorReachTheRuntime) {
  ErrorCapture c;
  c.reset(false);
  EXPECT_THROW(c.stage([]() -> milter::Action { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_THROW(c.eom([]() -> milter::Action { throw std::bad_alloc(); }), std::bad_alloc);
  EXPECT_FALSE(c.captured());
  EXPECT_EQ(c.eom([] { return milter::Action::accept(); }).verdict, milter::Verdict::Accept);
}

TEST(DkimCapture, ErrorBeforeEomQuarantinesWithOpendkimsReason) {
  ErrorCapture c;
  c.reset(true);
  EXPECT_EQ(c.stage([] { return milter::Action::cont(); }).verdict, milter::Verdict::Continue);
  auto a = c.stage([]() -> milter::Action { throw std::runtime_error("header store failed"); });
  EXPECT_EQ(a.verdict, milter::Verdict::Continue);  // the message goes on, inert
  EXPECT_TRUE(c.captured());
  EXPECT_EQ(c.what(), "header store failed");
  int ran = 0;
  EXPECT_EQ(c.stage([&] { ++ran; return milter::Action::reject(); }).verdict, milter::Verdict::Continue);
  a = c.eom([&] { ++ran; return milter::Action::accept(); });
  EXPECT_EQ(ran, 0) << "no stage runs after a captured error";
  EXPECT_EQ(a.verdict, milter::Verdict::Quarantine);
  EXPECT_EQ(a.quarantine_reason, "capture requested");
  c.reset(true);  // next message
  EXPECT_FALSE(c.captured());
  EXPECT_EQ(c.eom([] { return milter::Action::accept(); }).verdict, milter::Verdict::Accept);
}

TEST(DkimCapture, ResourceExhaustionAtEomQuarantines) {
  ErrorCapture c;
  c.reset(true);
  auto a = c.eom([]() -> milter::Action { throw std::bad_alloc(); });
  EXPECT_EQ(a.verdict, milter::Verdict::Quarantine);
  EXPECT_EQ(a.quarantine_reason, std::string(kCaptureReason));
  EXPECT_TRUE(c.captured());
  EXPECT_FALSE(c.what().empty());
}

/* ---- the sender of a malformed message (opendkim.c mlfi_eoh) ---- */

std::vector<auth::mail::Field> fields(const std::string& block) {
  auto hb = auth::mail::parse_header_block(block);
  EXPECT_TRUE(hb) << block;
  return hb ? hb->fields : std::vector<auth::mail::Field>{};
}

TEST(DkimSender, FieldNameEmptyValueAndFromFallback) {
  DkimSettings s;
  auto sd = find_sender(s, std::nullopt, fields("FROM: a@Example.org\r\nTo: b@example.com\r\n"));
  EXPECT_EQ(sd.field_name, "FROM");
  EXPECT_EQ(sd.domain, "example.org");
  sd = find_sender(s, std::nullopt, fields("To: b@example.com\r\n"));
  EXPECT_EQ(sd.source, Sender::Source::None);
  EXPECT_TRUE(sd.raw.empty());
  sd = find_sender(s, std::nullopt, fields("From: not an address\r\n"));
  EXPECT_TRUE(sd.unparsable);
  EXPECT_EQ(sd.raw, "not an address");
  // SenderHeaders without From: From is still looked at when none is present (didfrom).
  s.sender_headers = {"sender"};
  sd = find_sender(s, std::nullopt, fields("From: a@example.org\r\n"));
  EXPECT_EQ(sd.field_name, "From");
  EXPECT_EQ(sd.domain, "example.org");
  sd = find_sender(s, std::nullopt, fields("From: a@example.org\r\nSender: b@example.net\r\n"));
  EXPECT_EQ(sd.field_name, "Sender");
  EXPECT_EQ(sd.domain, "example.net");
  // 10 000 headers without a sender stay bounded.
  std::vector<auth::mail::Field> many;
  for (int i = 0; i < 10000; ++i) many.push_back(*auth::mail::Field::parse("X-N" + std::to_string(i) + ": v"));
  EXPECT_TRUE(find_sender(s, std::nullopt, many).raw.empty());
}

/* ---- failure reports (RFC 6651; opendkim.c dkimf_sigreport) ---- */

TEST(DkimReport, SignatureRequestsReportsOnlyWithExactlyY) {
  EXPECT_TRUE(signature_requests_reports("v=1; a=rsa-sha256; d=example.org; r=y; b=abc"));
  EXPECT_TRUE(signature_requests_reports(" v=1;\r\n\tr=y ;b=x"));
  EXPECT_FALSE(signature_requests_reports("v=1; r=Y; b=x"));
  EXPECT_FALSE(signature_requests_reports("v=1; r=yes; b=x"));
  EXPECT_FALSE(signature_requests_reports("v=1; b=x"));
  EXPECT_FALSE(signature_requests_reports("v=1; r=y; r=y"));  // duplicate tag: malformed
  EXPECT_FALSE(signature_requests_reports(std::string("v=1; r=y\0; b=x", 15)));
}

struct RecordCase {
  const char* txt;
  bool ok;
  const char* ra;
  unsigned rp;
  const char* rr;
};
class ReportRecordParse : public testing::TestWithParam<RecordCase> {};
TEST_P(ReportRecordParse, AsLibopendkimWithASafeAddress) {
  const auto& c = GetParam();
  auto r = parse_report_record(c.txt);
  ASSERT_EQ(r.has_value(), c.ok) << c.txt;
  if (!r) return;
  EXPECT_EQ(r->ra, c.ra) << c.txt;
  EXPECT_EQ(r->rp, c.rp) << c.txt;
  EXPECT_EQ(r->rr, c.rr) << c.txt;
}
const RecordCase kRecordCases[] = {
    {"ra=dkim-failures", true, "dkim-failures", 100, ""},
    {"ra=dkim-failures; rp=25; rr=v:s", true, "dkim-failures", 25, "v:s"},
    {"ra=ops@elsewhere.example", true, "ops", 100, ""},  // the domain is always d=
    {"ra=dkim=2Efail", true, "dkim.fail", 100, ""},      // dkim-quoted-printable
    {"ra=x; ro=all", true, "x", 100, "all"},             // libopendkim's tag name
    {"ra=x; rr=d; ro=all", true, "x", 100, "d"},         // RFC 6651's wins
    {"ra=x; rp=abc", true, "x", 100, ""},                // not a number: default kept
    {"ra=x; rp=250", true, "x", 100, ""},
    {"ra=x; rp=0", true, "x", 0, ""},
    {"rp=50", false, "", 0, ""},
    {"ra=", false, "", 0, ""},
    {"ra=a,b", false, "", 0, ""},                 // would add a recipient to To:
    {"ra=a=0D=0ABcc:evil", false, "", 0, ""},     // CRLF injection into the report header
    {"ra=.a", false, "", 0, ""},
    {"ra=a..b", false, "", 0, ""},
    {"ra=x; ra=y", false, "", 0, ""},
    {"not a tag list", false, "", 0, ""},
};
INSTANTIATE_TEST_SUITE_P(Dkim, ReportRecordParse, testing::ValuesIn(kRecordCases));

TEST(DkimReport, SmtpTextFromRs) {
  EXPECT_EQ(report_smtp_text("ra=x; rs=Contact=20the=20postmaster"), "Contact the postmaster");
  EXPECT_EQ(report_smtp_text("rs=see=20https://example.org/dkim"), "see https://example.org/dkim");  // no ra= needed
  EXPECT_FALSE(report_smtp_text("ra=x"));
  EXPECT_FALSE(report_smtp_text("ra=x; rs="));
  EXPECT_FALSE(report_smtp_text("rs=a=0D=0A250=20ok"));  // no line breaks into the reply
  EXPECT_FALSE(report_smtp_text("rs=caf=C3=A9"));
  EXPECT_FALSE(report_smtp_text("rs=" + std::string(kMaxReportSmtpText + 1, 'a')));
  EXPECT_TRUE(report_smtp_text("rs=" + std::string(kMaxReportSmtpText, 'a')));
  EXPECT_FALSE(report_smtp_text("rs=x; rs=y"));
}

TEST(DkimReport, OverlongAddressRefused) {
  EXPECT_TRUE(parse_report_record("ra=" + std::string(kMaxReportLocalPart, 'a')));
  EXPECT_FALSE(parse_report_record("ra=" + std::string(kMaxReportLocalPart + 1, 'a')));
  EXPECT_FALSE(parse_report_record("ra=" + std::string(100000, 'a')));
}

struct RequestedCase {
  const char* types;
  FailureKind failure;
  DkimResult result;
  bool want;
};
class ReportRequested : public testing::TestWithParam<RequestedCase> {};
TEST_P(ReportRequested, AsDkimfSigreport) {
  const auto& c = GetParam();
  SignatureResult r;
  r.failure = c.failure;
  r.result = c.result;
  EXPECT_EQ(report_requested(c.types, r), c.want) << c.types;
}
const RequestedCase kRequestedCases[] = {
    {"", FailureKind::BodyHash, DkimResult::Fail, true},
    {"all", FailureKind::Expired, DkimResult::Fail, true},
    {"ALL", FailureKind::Syntax, DkimResult::PermError, true},
    {"v", FailureKind::BodyHash, DkimResult::Fail, true},
    {"v", FailureKind::Signature, DkimResult::Fail, true},
    {"v", FailureKind::Expired, DkimResult::Fail, false},
    {"s:x", FailureKind::Expired, DkimResult::Fail, true},
    {"s:x", FailureKind::Syntax, DkimResult::PermError, true},
    {"s:x", FailureKind::Signature, DkimResult::Fail, false},
    {"d", FailureKind::NoKey, DkimResult::PermError, true},
    {"d", FailureKind::KeyRecord, DkimResult::PermError, true},
    {"o", FailureKind::KeyRecord, DkimResult::PermError, true},
    {"o", FailureKind::WeakKey, DkimResult::Policy, true},
    {"p", FailureKind::None, DkimResult::Fail, true},  // MustBeSigned
    {"p", FailureKind::None, DkimResult::Pass, false},
    {"x", FailureKind::Future, DkimResult::PermError, false},
    {"v", FailureKind::NotChecked, DkimResult::None, false},
    {"q:z", FailureKind::Signature, DkimResult::Fail, false},
};
INSTANTIATE_TEST_SUITE_P(Dkim, ReportRequested, testing::ValuesIn(kRequestedCases));

// opendkim 2.11's report for the lab message (a relaxed/relaxed r=y signature, body changed):
// the canonical header it hashed and its DKIM-Canonicalized-Header folding.
const char* kLabSigned =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;\r\n"
    "\tt=1700000000; r=y; bh=GVz/CG5ZsAtKynLk6yzbqFfB4F5h3X5ZmXt9rc6jZRI=;\r\n"
    "\th=From:To:Date:Subject;\r\n"
    "\tb=l2kx4sogFb+rrjZK4CgbXJpYGGRzT5wr+KBt5RRs70/wS8iI/4TOf27nOs82kwIqV\r\n"
    "\t 23dJF0wuGs8GSxQrVHnYtHgfDxeCFSh4nEM5oIIexhCzyuDbwfNsw9LxOOJkTG5zSC\r\n"
    "\t 7YgVKyTdhp/0g==\r\n"
    "From: a@example.org\r\nTo: b@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "Subject: hello\r\nMessage-ID: <abc@example.org>\r\n";
const char* kLabCanonicalHeader =
    "from:a@example.org\r\nto:b@example.com\r\ndate:Mon, 1 Jan 2024 00:00:00 +0000\r\nsubject:hello\r\n"
    "dkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; t=1700000000; r=y; "
    "bh=GVz/CG5ZsAtKynLk6yzbqFfB4F5h3X5ZmXt9rc6jZRI=; h=From:To:Date:Subject; b=";
const char* kLabCanonicalHeaderB64 =
    "ZnJvbTphQGV4YW1wbGUub3JnDQp0bzpiQGV4YW1wbGUu\n"
    "    Y29tDQpkYXRlOk1vbiwgMSBKYW4gMjAyNCAwMDowMDowMCArMDAwMA0Kc3ViamVjdDpo\n"
    "    ZWxsbw0KZGtpbS1zaWduYXR1cmU6dj0xOyBhPXJzYS1zaGEyNTY7IGM9cmVsYXhlZC9y\n"
    "    ZWxheGVkOyBkPWV4YW1wbGUub3JnOyBzPXNlbDsgdD0xNzAwMDAwMDAwOyByPXk7IGJo\n"
    "    PUdWei9DRzVac0F0S3luTGs2eXpicUZmQjRGNWgzWDVabVh0OXJjNmpaUkk9OyBoPUZy\n"
    "    b206VG86RGF0ZTpTdWJqZWN0OyBiPQ==";

TEST(DkimReport, CanonicalHeaderAndFoldingAsOpendkim) {
  auto hs = fields(kLabSigned);
  EXPECT_EQ(canonical_signed_headers(hs, 0, auth::dkim::Canon::Relaxed), kLabCanonicalHeader);
  EXPECT_EQ(base64_folded(kLabCanonicalHeader, 4, 75, 27), kLabCanonicalHeaderB64);
  EXPECT_EQ(base64_folded("body lime\r\n", 4, 75, 25), "Ym9keSBsaW1lDQo=");
  EXPECT_EQ(base64_folded("", 4, 75, 25), "");
  EXPECT_TRUE(canonical_signed_headers(hs, 1, auth::dkim::Canon::Relaxed).empty());  // no such field
  // h= names a field twice: bottom-up instances (RFC 6376 §5.4.2); a missing one is skipped.
  auto two = fields(
      "DKIM-Signature: v=1; h=x:x:x:missing; b=QUJD\r\nX: top\r\nX: bottom\r\n");
  EXPECT_EQ(canonical_signed_headers(two, 0, auth::dkim::Canon::Relaxed),
            "x:bottom\r\nx:top\r\ndkim-signature:v=1; h=x:x:x:missing; b=");
  EXPECT_EQ(canonical_signed_headers(two, 0, auth::dkim::Canon::Simple),
            "X: bottom\r\nX: top\r\nDKIM-Signature: v=1; h=x:x:x:missing; b=");
}

FailureReport lab_report() {
  FailureReport r;
  r.from = "reporter@test.host";
  r.to = "dkim-failures@example.org";
  r.date = "Sun, 22 Nov 2026 20:59:59 +0000 (UTC)";
  r.job_id = "QID123";
  r.hostname = "mx.test.host";
  r.envelope_from = "bounce@example.org";
  r.source_ip = "192.0.2.7";
  r.message_id = "<abc@example.org>";
  r.user_agent = "inkan-dkim/1.0";
  r.result.domain = "example.org";
  r.result.selector = "sel";
  r.result.identity = "@example.org";
  r.result.result = DkimResult::Fail;
  r.result.failure = FailureKind::BodyHash;
  r.canonical_header = kLabCanonicalHeader;
  r.canonical_body = "body lime\r\n";
  r.header_fields = {"From: a@example.org", "Subject: hello"};
  return r;
}

TEST(DkimReport, FormatHasOpendkimsPartsAndFields) {
  std::string t = format_failure_report(lab_report());
  const std::string expected_start =
      "From: reporter@test.host\nTo: dkim-failures@example.org\nDate: Sun, 22 Nov 2026 20:59:59 +0000 (UTC)\n"
      "Subject: DKIM failure report for QID123\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=feedback-report;\n\tboundary=\"dkimreport/mx.test.host/QID123\"\n"
      "\n--dkimreport/mx.test.host/QID123\nContent-Type: text/plain\n\n"
      "DKIM failure report for job QID123 on mx.test.host\n\n";
  EXPECT_EQ(t.substr(0, expected_start.size()), expected_start);
  for (const char* line :
       {"Content-Type: message/feedback-report\n\nUser-Agent: inkan-dkim/1.0\nVersion: 0.1\n",
        "Original-Envelope-Id: QID123\nOriginal-Mail-From: bounce@example.org\nReporting-MTA: mx.test.host\n"
        "Source-IP: 192.0.2.7\nMessage-ID: <abc@example.org>\n"
        "Arrival-Date: Sun, 22 Nov 2026 20:59:59 +0000 (UTC)\nReported-Domain: example.org\n"
        "Delivery-Result: other\nFeedback-Type: auth-failure\nAuth-Failure: bodyhash\nDKIM-Failure: bodyhash\n"
        "DKIM-Domain: example.org\nDKIM-Selector: sel\nDKIM-Identity: @example.org\n",
        "DKIM-Canonicalized-Body: Ym9keSBsaW1lDQo=\n\n--dkimreport/mx.test.host/QID123\n"
        "Content-Type: text/rfc822-headers\n\nFrom: a@example.org\nSubject: hello\n\n"
        "--dkimreport/mx.test.host/QID123--\n"}) {
    EXPECT_NE(t.find(line), std::string::npos) << line << "\nin:\n" << t;
  }
  EXPECT_NE(t.find(std::string("DKIM-Canonicalized-Header: ") + kLabCanonicalHeaderB64 + "\n"), std::string::npos);
  EXPECT_EQ(t.find("Bcc:"), std::string::npos);
  auto r = lab_report();
  r.bcc = "a@x.example, b@y.example";
  r.result.failure = FailureKind::Signature;
  r.canonical_body.reset();
  t = format_failure_report(r);
  EXPECT_NE(t.find("To: dkim-failures@example.org\nBcc: a@x.example, b@y.example\nDate: "), std::string::npos);
  EXPECT_NE(t.find("Auth-Failure: signature (signature verification failed)\nDKIM-Failure: signature\n"),
            std::string::npos);
  EXPECT_EQ(t.find("DKIM-Canonicalized-Body"), std::string::npos);
  r.result.failure = FailureKind::Expired;
  t = format_failure_report(r);
  EXPECT_NE(t.find("Auth-Failure: signature (signature expired)\nDKIM-Failure: other\n"), std::string::npos);
}

TEST(DkimReport, SizeStaysBounded) {
  auto r = lab_report();
  r.canonical_body = std::string(kMaxReportBytes, 'b');  // too big: left out
  r.header_fields.assign(10000, "X-Filler: " + std::string(100, 'f'));
  std::string t = format_failure_report(r);
  EXPECT_LE(t.size(), kMaxReportBytes);
  EXPECT_EQ(t.find("DKIM-Canonicalized-Body"), std::string::npos);
  const std::string end = "\n--dkimreport/mx.test.host/QID123--\n";
  EXPECT_EQ(t.substr(t.size() - end.size()), end);
  EXPECT_NE(t.find("Content-Type: text/rfc822-headers\n\nX-Filler: fff"), std::string::npos);
  EXPECT_GT(t.size(), kMaxReportBytes - 200);  // filled up to the bound, cut at a field boundary
}

/* ---- damaged signatures as libopendkim 2.11 sees them (bad_signature_test.sh lab) ---- */

// A signature libopendkim keeps with a DKIM_SIGERROR_* code: permerror, no reason, no key
// comment, header.a=rsa-sha1 when the error comes before a= is read, "header.b=" even empty.
const ClauseCase kSigErrorClauses[] = {
    {"algorithm_unread", rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "sM1at8ck", 0, "signature algorithm invalid"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha1 header.s=sel header.b=sM1at8ck"},
    {"version", rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "d4E1J2Zj", 0, "unsupported signature version"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha1 header.s=sel header.b=d4E1J2Zj"},
    {"algorithm_read", rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "fc8rqeYi", 2048, "header list tag empty"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha256 header.s=sel header.b=fc8rqeYi"},
    {"empty_b", rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "", 0, "signature data empty"),
     "dkim=permerror header.d=example.com header.i=@example.com header.a=rsa-sha256 header.s=sel header.b="},
    {"l_beyond_body",
     rsa(DkimResult::Fail, FailureKind::BodyHash, "sel", "yuYfb08D", 2048, "body hash mismatch: body shorter than l=1000"),
     "dkim=fail reason=\"length tag value exceeds body size\" (2048-bit key; unprotected) header.d=example.com "
     "header.i=@example.com header.a=rsa-sha256 header.s=sel header.b=yuYfb08D"},
    {"inkan_own_syntax_keeps_reason",
     rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "L0LBbYfb", 0, "signature unusable: duplicate tag \"d\""),
     "dkim=permerror reason=\"signature unusable: duplicate tag \\\"d\\\"\" header.d=example.com "
     "header.i=@example.com header.a=rsa-sha256 header.s=sel header.b=L0LBbYfb"},
};
INSTANTIATE_TEST_SUITE_P(SigError, DkimArClause, testing::ValuesIn(kSigErrorClauses),
                         [](const auto& i) { return std::string(i.param.name); });

struct SigCheckCase {
  const char* name;
  std::string value;
  OpendkimSigCheck::Kind kind;
  std::string error;
  bool algorithm_read;
};
constexpr std::int64_t kNow = 1700000000;
const std::string kGoodTags = " v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;\r\n\th=from:to; bh=AAAA; b=AAAA";
using K = OpendkimSigCheck::Kind;
const SigCheckCase kSigChecks[] = {
    {"usable", kGoodTags, K::Usable, "", false},
    {"folded_and_spaced", " v = 1 ;a=rsa-sha256;d=exa mple.org;s=sel;h=From;bh=A AAA;b=AA\r\n AA;", K::Usable, "", false},
    {"duplicate_last_wins", kGoodTags + "; d=example.org", K::Usable, "", false},
    {"missing_s", " v=1; a=rsa-sha256; d=example.org; h=from; bh=AAAA; b=AAAA", K::BadTagList,
     "missing parameter(s) in signature data", false},
    {"missing_a", " v=1; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::BadTagList,
     "missing parameter(s) in signature data", false},
    {"no_equals", kGoodTags + "; junk; z=1", K::BadTagList,
     "syntax error in signature data (ASCII 0x3b at offset 95)", false},
    {"name_with_blank", kGoodTags + "; z z=1", K::BadTagList,
     "syntax error in signature data (ASCII 0x7a at offset 93)", false},
    {"name_not_alnum", kGoodTags + "; -z=1", K::BadTagList,
     "syntax error in signature data (ASCII 0x2d at offset 91)", false},
    {"double_semicolon", kGoodTags + ";; z=1", K::BadTagList,
     "syntax error in signature data (ASCII 0x3b at offset 90)", false},
    {"name_at_end", kGoodTags + "; zz", K::BadTagList, "tag without value at end of signature data", false},
    {"non_ascii", kGoodTags + "; z=caf\xc3\xa9", K::BadTagList,
     "invalid character (ASCII 0xc3 at offset 96) in signature data", false},
    {"control_byte", kGoodTags + "; z=\x01", K::BadTagList,
     "invalid character (ASCII 0x01 at offset 93) in signature data", false},
    {"t_word", kGoodTags + "; t=soon", K::BadTagList, "invalid \"t\" value in signature data", false},
    {"x_negative", kGoodTags + "; x=-5", K::BadTagList, "invalid \"x\" value in signature data", false},
    {"t_empty", kGoodTags + "; t=", K::BadTagList, "invalid \"t\" value in signature data", false},
    {"t_overflow", kGoodTags + "; t=99999999999999999999", K::BadTagList, "invalid \"t\" value in signature data",
     false},
    {"nul_ends_value", std::string(" v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA\0 junk", 69),
     K::Usable, "", false},
    {"empty_d", " v=1; a=rsa-sha256; d=; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError, "domain tag empty", false},
    {"empty_s", " v=1; a=rsa-sha256; d=example.org; s=; h=from; bh=AAAA; b=AAAA", K::SigError, "selector tag empty",
     false},
    {"v_empty", " v=; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError, "version empty", false},
    {"v2", " v=2; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError,
     "unsupported signature version", false},
    {"i_outside", kGoodTags + "; i=a@other.example", K::SigError, "invalid domain coverage", false},
    {"i_no_at", kGoodTags + "; i=example.org", K::SigError, "invalid domain coverage", false},
    {"i_subdomain_qp", kGoodTags + "; i=a=40b@Sub.Example.ORG", K::Usable, "", false},
    {"expired", kGoodTags + "; x=1699999000", K::SigError, "signature expired", false},
    {"expired_within_drift", kGoodTags + "; x=1699999800", K::Usable, "", false},
    {"future", kGoodTags + "; t=1700001000", K::SigError, "signature timestamp in the future", false},
    {"x_before_t", kGoodTags + "; t=1700000200; x=1700000100", K::SigError, "signature timestamp order error", false},
    {"x_equals_t", kGoodTags + "; t=1700000100; x=1700000100", K::SigError, "signature timestamp order error", false},
    {"c_header", " v=1; a=rsa-sha256; c=fancy; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError,
     "invalid header canonicalization", false},
    {"c_body", " v=1; a=rsa-sha256; c=Relaxed/; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError,
     "invalid body canonicalization", false},
    {"a_md5", " v=1; a=rsa-md5; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError,
     "signature algorithm invalid", false},
    {"a_empty", " v=1; a=; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::SigError, "signature algorithm invalid",
     false},
    {"a_ed25519", " v=1; a=ed25519-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AAAA", K::Usable, "", false},
    {"h_empty", " v=1; a=rsa-sha256; d=example.org; s=sel; h=; bh=AAAA; b=AAAA", K::SigError, "header list tag empty",
     true},
    {"h_no_from", " v=1; a=rsa-sha256; d=example.org; s=sel; h=to:xfrom:from-x; bh=AAAA; b=AAAA", K::SigError,
     "header list missing required entries", true},
    {"l_word", kGoodTags + "; l=ten", K::SigError, "body length value invalid", true},
    {"l_negative", kGoodTags + "; l=-1", K::SigError, "body length value invalid", true},
    {"l_empty_is_zero", kGoodTags + "; l=", K::Usable, "", false},
    {"q_unknown", kGoodTags + "; q=http/well-known", K::SigError, "query method invalid", true},
    {"q_empty", kGoodTags + "; q=", K::SigError, "query method invalid", true},
    {"q_dns_no_txt", kGoodTags + "; q=dns", K::SigError, "query option invalid", true},
    {"q_bad_then_good", kGoodTags + "; q=dns:dns/txt", K::SigError, "query option invalid", true},
    {"q_unknown_then_dns", kGoodTags + "; q=foo:dns/txt", K::Usable, "", false},
    {"bh_missing", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; b=AAAA", K::SigError, "body hash missing", true},
    {"bh_empty", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=; b=AAAA", K::SigError, "body hash empty", true},
    {"bh_not_base64", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=!!; b=AAAA", K::Usable, "", false},
    {"b_empty", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=", K::SigError, "signature data empty",
     true},
    {"b_one_left_over", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=!!notbase64!!", K::SigError,
     "signature data corrupt", true},
    {"b_too_short", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AA", K::SigError,
     "signature data corrupt", true},
    {"b_skips_foreign_bytes", " v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=AAAA; b=AA.AA==", K::Usable, "",
     false},
};
class OpendkimSigCheckTable : public testing::TestWithParam<SigCheckCase> {};
TEST_P(OpendkimSigCheckTable, AsLibopendkim) {
  const auto& c = GetParam();
  auto got = opendkim_signature_check(c.value, kNow, 300);
  EXPECT_EQ(got.kind, c.kind);
  EXPECT_EQ(got.error, c.error);
  EXPECT_EQ(got.algorithm_read, c.algorithm_read);
}
INSTANTIATE_TEST_SUITE_P(Lab, OpendkimSigCheckTable, testing::ValuesIn(kSigChecks),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(OpendkimSigCheckTest, HostileInputStaysBounded) {
  std::string many = kGoodTags;
  for (int i = 0; i < 10000; ++i) many += "; z" + std::to_string(i) + "=v";
  EXPECT_EQ(opendkim_signature_check(many, kNow, 300).kind, OpendkimSigCheck::Kind::Usable);
  std::string same = kGoodTags;
  for (int i = 0; i < 10000; ++i) same += "; z=v";  // one tag, replaced 10 000 times
  EXPECT_EQ(opendkim_signature_check(same, kNow, 300).kind, OpendkimSigCheck::Kind::Usable);
  EXPECT_EQ(opendkim_signature_check(kGoodTags + "; z=" + std::string(100000, 'A'), kNow, 300).kind,
            OpendkimSigCheck::Kind::Usable);
  EXPECT_EQ(opendkim_signature_check("", kNow, 300).kind, OpendkimSigCheck::Kind::BadTagList);
  EXPECT_EQ(opendkim_signature_check(std::string(5000, ';'), kNow, 300).kind, OpendkimSigCheck::Kind::BadTagList);
  // Truncated anywhere: never a crash, always a verdict.
  for (std::size_t n = 0; n <= kGoodTags.size(); ++n) (void)opendkim_signature_check(kGoodTags.substr(0, n), kNow, 300);
}

TEST(OpendkimSigCheckTest, MessageLevelEffects) {
  auto hs = fields("DKIM-Signature:" + kGoodTags + "\r\nDKIM-Signature: v=2; a=rsa-sha256; d=example.org; s=sel;"
                   " h=from; bh=AAAA; b=AAAA\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.org; d=example.org;"
                   " s=sel; h=from; bh=AAAA; b=AAAA\r\nFrom: a@example.org\r\n");
  EXPECT_EQ(opendkim_bad_tag_list(hs), std::nullopt);
  auto first = rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "AAAA", 0, "signature unusable: x");
  first.field_index = 1;
  auto dup = rsa(DkimResult::PermError, FailureKind::Syntax, "sel", "AAAA", 0, "signature unusable: duplicate tag \"d\"");
  dup.field_index = 2;
  std::vector<SignatureResult> rs{first, dup};
  EXPECT_EQ(apply_opendkim_sig_errors(rs, hs, kNow, 300), 1u);
  EXPECT_EQ(rs[0].reason, "unsupported signature version");
  EXPECT_TRUE(is_opendkim_sig_error(rs[0]));
  EXPECT_FALSE(is_opendkim_sig_error(rs[1]));
  EXPECT_EQ(verification_error_text(rs[0]), "unsupported signature version");
  // The first decides: a DKIM_SIGERROR_* signature is accepted whatever On-* says, inkan's own
  // syntax verdict goes to On-BadSignature.
  EXPECT_EQ(classify(rs), Outcome::VerifyError);
  EXPECT_EQ(classify({rs[1], rs[0]}), Outcome::SyntaxError);
  // A refused tag-list anywhere stops the message, even after a good signature.
  auto bad = fields("DKIM-Signature:" + kGoodTags + "\r\nDKIM-Signature: v=1; d=example.org; s=sel; h=from;"
                    " bh=AAAA; b=AAAA\r\nFrom: a@example.org\r\n");
  EXPECT_EQ(opendkim_bad_tag_list(bad), "missing parameter(s) in signature data");
  EXPECT_EQ(reply_text(Outcome::SyntaxError), "DKIM signature syntax error");
}

TEST(OpendkimSigCheckTest, LengthBeyondTheBodyIsAcceptedFail) {
  auto l = rsa(DkimResult::Fail, FailureKind::BodyHash, "sel", "b", 2048, "body hash mismatch: body shorter than l=9");
  auto bh = rsa(DkimResult::Fail, FailureKind::BodyHash, "sel", "b", 2048, "body hash mismatch (bh= did not verify)");
  EXPECT_EQ(classify({l}), Outcome::VerifyError);  // DKIM_SIGERROR_TOOLARGE_L: no On-* action
  EXPECT_EQ(classify({bh}), Outcome::BadSignature);
  EXPECT_TRUE(is_length_beyond_body(l));
  EXPECT_FALSE(is_length_beyond_body(bh));
  EXPECT_EQ(verification_error_text(l), "length tag value exceeds body size");
  EXPECT_EQ(verification_error_text(bh), "signature verification failed");
}

}  // namespace
}  // namespace inkan::dkim
