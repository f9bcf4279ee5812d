// Tests of inkan-dkim's pure core: the sign-or-verify decision (anchor-features.md §2.4 lab
// table), Authentication-Results bytes against the lab captures (§2.6,
// anchor-lab-captures.txt), the On-* replies (§2.7) and forged-AR removal (RFC 8601 §5).
#include "dkim/dkim_core.h"

#include <gtest/gtest.h>

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
INSTANTIATE_TEST_SUITE_P(Captures, DkimArClause, testing::ValuesIn(kClauses),
                         [](const auto& i) { return std::string(i.param.name); });

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

TEST(DkimOrigin, DontSignMailToAndExempt) {
  EXPECT_TRUE(dont_sign_to({"list.example.org"}, {"<a@b.example>", "<News@LIST.example.org>"}));
  EXPECT_TRUE(dont_sign_to({".example.org"}, {"<x@sub.example.org>"}));
  EXPECT_FALSE(dont_sign_to({".example.org"}, {"<x@example.org.evil>"}));
  EXPECT_TRUE(dont_sign_to({"boss@example.com"}, {"<boss@example.com>"}));
  EXPECT_FALSE(dont_sign_to({}, {"<boss@example.com>"}));
  EXPECT_TRUE(domain_listed({"example.net"}, "EXAMPLE.net"));
  EXPECT_FALSE(domain_listed({"example.net"}, "sub.example.net"));
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

TEST(DkimFields, SplitGeneratedField) {
  auto f = split_field("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\r\n\ts=sel; b=abc");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first, "DKIM-Signature");
  EXPECT_EQ(f->second, "v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\n\ts=sel; b=abc");
  EXPECT_TRUE(milter::normalize_header_value(f->second));
  EXPECT_FALSE(split_field("no colon"));
  EXPECT_FALSE(split_field(": empty name"));
}

}  // namespace
}  // namespace inkan::dkim
