// Verifier: every result word and reason, key record rules, RFC 8301, l= policy, the cap, the
// injected clock and both key lookup paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <chrono>
#include <thread>

#include "auth/crypto/base64.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"
#include "unit/dkim/test_util.h"

namespace auth::dkim {
namespace {

constexpr std::int64_t kNow = 1700000000;

const std::string kMessage =
    "From: Joe <joe@example.com>\r\n"
    "To: Suzie <suzie@example.net>\r\n"
    "Subject: dinner\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    "Message-ID: <1@example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n";

struct Keys {
  crypto::PrivateKey rsa;
  crypto::PrivateKey ed;
};

const Keys& keys() {
  static const Keys k = [] {
    auto rsa = crypto::PrivateKey::load(dkim_test::conformance("dkimpy/test.private"));
    auto ed = crypto::PrivateKey::from_ed25519_seed(std::string(32, '\x07'));
    if (!rsa || !ed) std::abort();
    return Keys{*rsa, *ed};
  }();
  return k;
}

std::string record_for(const crypto::PrivateKey& k, std::string_view extra = "") {
  auto r = format_key_record(crypto::PublicKey::from_private(k));
  EXPECT_TRUE(r);
  return *r + std::string(extra);
}

SignatureSpec spec_for(const crypto::PrivateKey& k, std::string selector) {
  SignatureSpec s;
  s.domain = "example.com";
  s.selector = std::move(selector);
  s.key = std::make_shared<crypto::LocalSigner>(k);
  return s;
}

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zone_.add_txt("rsa._domainkey.example.com", record_for(keys().rsa));
    zone_.add_txt("ed._domainkey.example.com", record_for(keys().ed));
    opt_.clock = fixed_clock(kNow);
  }

  std::string sign(std::vector<SignatureSpec> specs, const std::string& msg = kMessage) {
    SignOptions so;
    so.clock = fixed_clock(kNow);
    so.signatures = std::move(specs);
    auto f = sign_message(msg, so);
    EXPECT_TRUE(f) << f.error().reason;
    std::string out;
    if (f) for (const auto& x : *f) out += x + "\r\n";
    return out + msg;
  }
  std::string sign_rsa(std::string selector = "rsa", const std::string& msg = kMessage) {
    return sign({spec_for(keys().rsa, std::move(selector))}, msg);
  }

  std::vector<SignatureResult> verify(const std::string& msg) {
    return verify_message(msg, zone_, opt_);
  }
  SignatureResult verify_one(const std::string& msg) {
    auto r = verify(msg);
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? SignatureResult{} : r[0];
  }

  dns::ZoneResolver zone_;
  VerifyOptions opt_;
};

TEST_F(VerifierTest, NoSignatureIsNone) {
  auto r = verify(kMessage);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(overall_result(r), DkimResult::None);
  EXPECT_STREQ(to_string(overall_result(r)), "none");
}

TEST_F(VerifierTest, RsaPassCarriesReportData) {
  auto r = verify_one(sign_rsa());
  EXPECT_EQ(r.result, DkimResult::Pass) << r.reason;
  EXPECT_EQ(r.failure, FailureKind::None);
  EXPECT_EQ(r.domain, "example.com");
  EXPECT_EQ(r.identity, "@example.com");
  EXPECT_EQ(r.selector, "rsa");
  EXPECT_EQ(r.algorithm, "rsa-sha256");
  EXPECT_EQ(r.key_bits, 1024u);
  EXPECT_EQ(r.b_prefix.size(), 8u);
  EXPECT_EQ(r.b_text.substr(0, 8), r.b_prefix);
  EXPECT_GT(r.b_text.size(), 100u);
  EXPECT_FALSE(r.testing);
  EXPECT_FALSE(r.body_length_limited);
}

TEST_F(VerifierTest, Ed25519Pass) {
  auto r = verify_one(sign({spec_for(keys().ed, "ed")}));
  EXPECT_EQ(r.result, DkimResult::Pass) << r.reason;
  EXPECT_EQ(r.algorithm, "ed25519-sha256");
  EXPECT_EQ(r.key_bits, 256u);
}

TEST_F(VerifierTest, BodyTamperedIsFailBodyHash) {
  std::string msg = sign_rsa();
  msg.replace(msg.find("lost"), 4, "won!");
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Fail);
  EXPECT_EQ(r.failure, FailureKind::BodyHash);
  EXPECT_NE(r.reason.find("body hash"), std::string::npos) << r.reason;
}

TEST_F(VerifierTest, HeaderTamperedIsFailSignature) {
  std::string msg = sign_rsa();
  msg.replace(msg.find("dinner"), 6, "lunch!");
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Fail);
  EXPECT_EQ(r.failure, FailureKind::Signature);
  EXPECT_NE(r.reason.find("signature"), std::string::npos);
}

TEST_F(VerifierTest, AddedFromBreaksOversignedSignature) {
  std::string msg = sign_rsa();
  msg.insert(msg.find("\r\n\r\n") + 2, "From: evil@example.org\r\n");
  EXPECT_EQ(verify_one(msg).result, DkimResult::Fail);
}

TEST_F(VerifierTest, RelaxedSurvivesRefolding) {
  std::string msg = sign_rsa();
  msg.replace(msg.find("Subject: dinner"), 15, "SUBJECT:   dinner \r\n ");
  msg.replace(msg.find("We lost"), 7, "We   lost");
  EXPECT_EQ(verify_one(msg).result, DkimResult::Pass);
}

struct DnsCase {
  std::string_view name;
  dns::Status status;
  DkimResult want;
  FailureKind kind;
};
const DnsCase kDnsCases[] = {
    {"nxdomain", dns::Status::NxDomain, DkimResult::PermError, FailureKind::NoKey},
    {"nodata", dns::Status::NoData, DkimResult::PermError, FailureKind::NoKey},
    {"timeout", dns::Status::Timeout, DkimResult::TempError, FailureKind::KeyDns},
    {"servfail", dns::Status::ServFail, DkimResult::TempError, FailureKind::KeyDns},
    {"malformed", dns::Status::Malformed, DkimResult::TempError, FailureKind::KeyDns},
};
class VerifierDns : public VerifierTest, public ::testing::WithParamInterface<DnsCase> {};
TEST_P(VerifierDns, MapsDnsOutcome) {
  const std::string msg = sign_rsa();
  zone_.set_failure("rsa._domainkey.example.com", GetParam().status);
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, GetParam().want) << r.reason;
  EXPECT_EQ(r.failure, GetParam().kind);
  EXPECT_EQ(r.domain, "example.com");
}
INSTANTIATE_TEST_SUITE_P(Outcomes, VerifierDns, ::testing::ValuesIn(kDnsCases),
                         [](const auto& i) { return std::string(i.param.name); });

struct KeyCase {
  std::string_view name;
  std::string record;  // "" = use the right key with `extra`
  std::string extra;
  DkimResult want;
  FailureKind kind;
};
class VerifierKey : public VerifierTest, public ::testing::WithParamInterface<KeyCase> {};
TEST_P(VerifierKey, KeyRecordRules) {
  const auto& c = GetParam();
  std::string rec = c.record;
  if (rec == "RSA") rec = record_for(keys().rsa, c.extra);
  if (rec == "ED") rec = record_for(keys().ed, c.extra);
  zone_.clear();
  zone_.add_txt("rsa._domainkey.example.com", rec);
  auto r = verify_one(sign_rsa());
  EXPECT_EQ(r.result, c.want) << r.reason;
  EXPECT_EQ(r.failure, c.kind) << r.reason;
}
const KeyCase kKeyCases[] = {
    {"good", "RSA", "", DkimResult::Pass, FailureKind::None},
    {"revoked", "v=DKIM1; k=rsa; p=", "", DkimResult::PermError, FailureKind::KeyRecord},
    {"syntax", "v=DKIM1: k=rsa; p=abc", "", DkimResult::PermError, FailureKind::KeyRecord},
    {"type_mismatch", "ED", "", DkimResult::PermError, FailureKind::KeyRecord},
    {"hash_not_allowed", "RSA", "; h=sha1", DkimResult::PermError, FailureKind::KeyRecord},
    {"hash_allowed", "RSA", "; h=sha1:sha256", DkimResult::Pass, FailureKind::None},
    {"service_not_email", "RSA", "; s=other", DkimResult::PermError, FailureKind::KeyRecord},
    {"garbage_p", "k=rsa; p=AAAAAAAA", "", DkimResult::PermError, FailureKind::KeyRecord},
    {"unknown_k", "k=dsa; p=AAAA", "", DkimResult::PermError, FailureKind::KeyRecord},
    {"strict_ok_same_domain", "RSA", "; t=s", DkimResult::Pass, FailureKind::None},
    {"not_dkim", "some unrelated text", "", DkimResult::PermError, FailureKind::KeyRecord},
};
INSTANTIATE_TEST_SUITE_P(Records, VerifierKey, ::testing::ValuesIn(kKeyCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST_F(VerifierTest, TestingFlagReported) {
  zone_.clear();
  zone_.add_txt("rsa._domainkey.example.com", record_for(keys().rsa, "; t=y"));
  auto r = verify_one(sign_rsa());
  EXPECT_EQ(r.result, DkimResult::Pass);
  EXPECT_TRUE(r.testing);
}

TEST_F(VerifierTest, StrictKeyRefusesSubdomainIdentity) {
  zone_.clear();
  zone_.add_txt("rsa._domainkey.example.com", record_for(keys().rsa, "; t=s"));
  auto spec = spec_for(keys().rsa, "rsa");
  spec.identity = "joe@mail.example.com";
  auto r = verify_one(sign({spec}));
  EXPECT_EQ(r.result, DkimResult::PermError);
  EXPECT_EQ(r.identity, "joe@mail.example.com");
}

TEST_F(VerifierTest, SeveralTxtRecordsFirstUsableWins) {
  zone_.clear();
  dns::TxtRecord junk;
  junk.strings = {"v=spf1 -all"};
  zone_.add_txt("rsa._domainkey.example.com", junk);
  // The key split into several character-strings: they are concatenated (§3.6.2.2).
  const std::string rec = record_for(keys().rsa);
  dns::TxtRecord split;
  split.strings = {rec.substr(0, 10), rec.substr(10, 100), rec.substr(110)};
  zone_.add_txt("rsa._domainkey.example.com", split);
  EXPECT_EQ(verify_one(sign_rsa()).result, DkimResult::Pass);
}

TEST_F(VerifierTest, WeakRsaKeyRefused) {
  opt_.min_rsa_bits = 2048;  // our 1024-bit test key is "weak" against this floor
  auto r = verify_one(sign_rsa());
  EXPECT_EQ(r.result, DkimResult::PermError);
  EXPECT_EQ(r.failure, FailureKind::WeakKey);
  EXPECT_EQ(r.key_bits, 1024u);
}

TEST_F(VerifierTest, RsaSha1NeverPassesWithoutOptIn) {
  // Re-label a valid rsa-sha256 signature as rsa-sha1: refused before any DNS lookup.
  std::string msg = sign_rsa();
  msg.replace(msg.find("a=rsa-sha256"), 12, "a=rsa-sha1");
  zone_.reset_counts();
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::PermError);
  EXPECT_EQ(r.failure, FailureKind::WeakAlgorithm);
  EXPECT_EQ(r.algorithm, "rsa-sha1");
  EXPECT_EQ(zone_.total_queries(), 0u);
  // With the legacy opt-in the signature is checked (and fails: it was made with SHA-256).
  opt_.allow_rsa_sha1 = true;
  auto legacy = verify_one(msg);
  EXPECT_EQ(legacy.result, DkimResult::Fail) << legacy.reason;
}

TEST_F(VerifierTest, ExpiredSignature) {
  auto spec = spec_for(keys().rsa, "rsa");
  spec.expire_after = 3600;
  const std::string msg = sign({spec});
  opt_.clock_drift = 0;
  opt_.clock = fixed_clock(kNow + 3599);
  EXPECT_EQ(verify_one(msg).result, DkimResult::Pass);
  opt_.clock = fixed_clock(kNow + 3600);  // libopendkim: now >= x + drift
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::PermError);
  EXPECT_EQ(r.failure, FailureKind::Expired);
  EXPECT_EQ(r.reason, "signature expired (x=" + std::to_string(kNow + 3600) + ")");
  EXPECT_EQ(r.algorithm, "rsa-sha256");  // the report data is the signature's own
}

TEST_F(VerifierTest, ClockIsTheOnlyTimeSource) {
  std::atomic<int> calls{0};
  opt_.clock = [&calls] {
    ++calls;
    return kNow;
  };
  EXPECT_EQ(verify_one(sign_rsa()).result, DkimResult::Pass);
  EXPECT_GE(calls.load(), 1);
}

/* ---- ClockDrift: RFC 6376 §3.5 t= and x= with OpenDKIM's tolerance ---- */

TEST_F(VerifierTest, DefaultClockDriftIsOpenDkims) {
  EXPECT_EQ(VerifyOptions{}.clock_drift, 300);
  const std::string msg = sign_rsa();  // t=kNow
  opt_.clock = fixed_clock(kNow - 300);
  EXPECT_EQ(verify_one(msg).result, DkimResult::Pass);
  opt_.clock = fixed_clock(kNow - 301);
  EXPECT_EQ(verify_one(msg).failure, FailureKind::Future);
}

struct DriftCase {
  std::string_view name;
  std::int64_t drift;
  std::optional<std::int64_t> expire_after;  // x = kNow + this
  std::int64_t now_offset;                   // the verifier's clock = kNow + this
  FailureKind want;
};
const DriftCase kDriftCases[] = {
    // t= in the future: failed when t > now + drift (libopendkim dkim_sig_future).
    {"FutureNoDriftSameSecond", 0, std::nullopt, 0, FailureKind::None},
    {"FutureNoDriftOneSecond", 0, std::nullopt, -1, FailureKind::Future},
    {"FutureWithinDrift", 300, std::nullopt, -300, FailureKind::None},
    {"FutureBeyondDrift", 300, std::nullopt, -301, FailureKind::Future},
    {"FutureLargeDrift", 100000, std::nullopt, -99999, FailureKind::None},
    {"FutureFarBeyondLargeDrift", 100000, std::nullopt, -100001, FailureKind::Future},
    {"NegativeDriftIsZero", -5, std::nullopt, -1, FailureKind::Future},
    // x= expired: failed when now >= x + drift (libopendkim dkim_sig_expired).
    {"ExpiredNoDriftBefore", 0, 60, 59, FailureKind::None},
    {"ExpiredNoDriftAt", 0, 60, 60, FailureKind::Expired},
    {"ExpiredWithinDrift", 300, 60, 359, FailureKind::None},
    {"ExpiredAtDrift", 300, 60, 360, FailureKind::Expired},
    {"ExpiredLargeDrift", 86400, 60, 86459, FailureKind::None},
    {"ExpiredBeyondLargeDrift", 86400, 60, 86460, FailureKind::Expired},
    // A signature with both in range passes; x= is checked before t= (libopendkim's order).
    {"BothInRange", 300, 3600, 10, FailureKind::None},
};

class ClockDrift : public VerifierTest, public testing::WithParamInterface<DriftCase> {};

TEST_P(ClockDrift, AsLibOpenDkim) {
  const DriftCase& c = GetParam();
  auto spec = spec_for(keys().rsa, "rsa");
  spec.expire_after = c.expire_after;
  const std::string msg = sign({spec});
  opt_.clock_drift = c.drift;
  opt_.clock = fixed_clock(kNow + c.now_offset);
  zone_.reset_counts();
  auto r = verify_one(msg);
  EXPECT_EQ(r.failure, c.want) << "got " << r.reason;
  if (c.want == FailureKind::None) {
    EXPECT_EQ(r.result, DkimResult::Pass) << r.reason;
  } else {
    EXPECT_EQ(r.result, DkimResult::PermError);
    EXPECT_EQ(zone_.total_queries(), 0u) << "decided before any key lookup";
    EXPECT_EQ(r.domain, "example.com");
    EXPECT_EQ(r.selector, "rsa");
  }
  if (c.want == FailureKind::Future) {
    EXPECT_EQ(r.reason, "signature timestamp in the future (t=" + std::to_string(kNow) + ")");
  }
}

INSTANTIATE_TEST_SUITE_P(Dkim, ClockDrift, testing::ValuesIn(kDriftCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST_F(VerifierTest, OldTimestampBelowDriftIsNotInTheFuture) {
  // libopendkim computes t - drift in uint64_t, so t=100 with drift 300 wraps around and
  // opendkim 2.11 reports "signature timestamp in the future" (seen with opendkim -t);
  // opendkim.conf(5) promises a check for signatures generated in the future, which t=100 is not.
  SignOptions so;
  so.clock = fixed_clock(100);
  so.signatures = {spec_for(keys().rsa, "rsa")};
  auto f = sign_message(kMessage, so);
  ASSERT_TRUE(f) << f.error().reason;
  opt_.clock_drift = 300;
  auto r = verify_one((*f)[0] + "\r\n" + kMessage);
  EXPECT_EQ(r.result, DkimResult::Pass) << r.reason;
}

TEST_F(VerifierTest, ExtremeClocksDoNotOverflow) {
  auto spec = spec_for(keys().rsa, "rsa");
  spec.expire_after = 60;
  const std::string msg = sign({spec});
  opt_.clock_drift = std::numeric_limits<std::int64_t>::max();
  opt_.clock = fixed_clock(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(verify_one(msg).failure, FailureKind::None) << "x + drift beyond the clock";
  opt_.clock = fixed_clock(std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(verify_one(msg).failure, FailureKind::Future) << "t > min + max = -1";
  opt_.clock_drift = 0;
  EXPECT_EQ(verify_one(msg).failure, FailureKind::Future);
  opt_.clock = fixed_clock(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(verify_one(msg).failure, FailureKind::Expired);
}

TEST_F(VerifierTest, ClockDriftAppliesToEverySignature) {
  // As many signatures as the header bounds allow (mail::kMaxHeaderFields / kMaxHeaderBytes),
  // 10 000 offered: one clock read per message, each checked signature judged on its own t=.
  const std::string msg = sign_rsa();
  std::string field = msg.substr(0, msg.find("\r\nFrom:") + 2);
  std::string many;
  for (int i = 0; i < 10000; ++i) many += field;
  opt_.max_signatures = 10000;
  opt_.clock_drift = 0;
  int reads = 0;
  opt_.clock = [&reads] {
    ++reads;
    return kNow - 1;
  };
  auto r = verify(many + kMessage);
  ASSERT_GT(r.size(), 100u);
  EXPECT_LE(r.size(), mail::kMaxHeaderFields);
  EXPECT_EQ(reads, 1);
  EXPECT_TRUE(std::all_of(r.begin(), r.end(), [](const SignatureResult& x) { return x.failure == FailureKind::Future; }));
}

class BodyLength : public VerifierTest {
 protected:
  std::string signed_with_l() {
    auto spec = spec_for(keys().rsa, "rsa");
    spec.body_length = true;
    return sign({spec});
  }
};

TEST_F(BodyLength, AcceptHonoursLAndCountsAppended) {
  std::string msg = signed_with_l();
  EXPECT_NE(msg.find(" l="), std::string::npos);
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Pass);
  EXPECT_TRUE(r.body_length_limited);
  EXPECT_EQ(r.unsigned_body_bytes, 0u);
  msg += "Appended advertising\r\n";
  r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Pass) << r.reason;
  EXPECT_EQ(r.unsigned_body_bytes, 22u);
}

TEST_F(BodyLength, RejectAppended) {
  opt_.body_length = BodyLengthPolicy::RejectAppended;
  std::string msg = signed_with_l();
  EXPECT_EQ(verify_one(msg).result, DkimResult::Pass);
  msg += "Appended\r\n";
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Policy);
  EXPECT_EQ(r.failure, FailureKind::BodyLength);
  EXPECT_STREQ(to_string(r.result), "policy");
}

TEST_F(BodyLength, RejectAnyL) {
  opt_.body_length = BodyLengthPolicy::Reject;
  auto r = verify_one(signed_with_l());
  EXPECT_EQ(r.result, DkimResult::Policy);
  EXPECT_EQ(verify_one(sign_rsa()).result, DkimResult::Pass);  // no l=: unaffected
}

TEST_F(BodyLength, BodyShorterThanLFails) {
  std::string msg = signed_with_l();
  msg.erase(msg.find("We lost"));
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::Fail);
  EXPECT_EQ(r.failure, FailureKind::BodyHash);
}

TEST_F(VerifierTest, UnusableSignatureIsPermErrorWithReportData) {
  std::string msg = sign_rsa();
  msg.replace(msg.find("v=1;"), 4, "v=9;");
  auto r = verify_one(msg);
  EXPECT_EQ(r.result, DkimResult::PermError);
  EXPECT_EQ(r.failure, FailureKind::Syntax);
  EXPECT_EQ(r.domain, "example.com");
  EXPECT_EQ(r.selector, "rsa");
  EXPECT_EQ(r.b_prefix.size(), 8u);
  EXPECT_NE(r.reason.find("v="), std::string::npos) << r.reason;
}

// A bh= that is not base64 fails as a body hash mismatch after the key lookup, as libopendkim
// 2.11 reports it (its decoder skips foreign bytes), and never passes: not even when the
// foreign bytes surround the right hash, which libopendkim would accept.
TEST_F(VerifierTest, BodyHashNotBase64IsBodyHashFailure) {
  const std::string good = sign_rsa();
  const auto at = good.find("bh=") + 3;
  const auto end = good.find(';', at);
  const std::string bh = good.substr(at, end - at);
  for (const std::string& bad : {std::string("!!notbase64!!"), "!" + bh, bh + "!", bh.substr(0, 4) + "!" + bh.substr(4),
                                 std::string("!AB!CD"), std::string("!ABCDE"), std::string("A!A\r\n BC")}) {
    std::string msg = good;
    msg.replace(at, end - at, bad);
    auto r = verify_one(msg);
    EXPECT_EQ(r.result, DkimResult::Fail) << bad;
    EXPECT_EQ(r.failure, FailureKind::BodyHash) << bad << ": " << r.reason;
    EXPECT_GT(r.key_bits, 0u) << bad;
  }
  // Fewer than 4 base64 bytes: still unusable (permerror).
  std::string msg = good;
  msg.replace(at, end - at, "!A!");
  EXPECT_EQ(verify_one(msg).failure, FailureKind::Syntax);
}

TEST_F(VerifierTest, FromNotSignedIsPermError) {
  auto spec = spec_for(keys().rsa, "rsa");
  std::string msg = sign({spec});
  const auto h = msg.find("h=from:");
  ASSERT_NE(h, std::string::npos) << msg;
  msg.replace(h, msg.find(';', h) - h, "h=date:to");
  EXPECT_EQ(verify_one(msg).result, DkimResult::PermError);
}

TEST_F(VerifierTest, DualSignatureAndPerSignatureResults) {
  std::string msg = sign({spec_for(keys().rsa, "rsa"), spec_for(keys().ed, "ed")});
  zone_.set_failure("ed._domainkey.example.com", dns::Status::ServFail);
  auto r = verify(msg);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].result, DkimResult::Pass);
  EXPECT_EQ(r[0].field_index, 0u);
  EXPECT_EQ(r[1].result, DkimResult::TempError);
  EXPECT_EQ(r[1].field_index, 1u);
  EXPECT_EQ(overall_result(r), DkimResult::Pass);
}

TEST_F(VerifierTest, CapOnSignaturesChecked) {
  std::vector<SignatureSpec> specs;
  for (int i = 0; i < 7; ++i) specs.push_back(spec_for(keys().ed, "ed"));
  const std::string msg = sign(specs);
  zone_.reset_counts();
  auto r = verify(msg);
  ASSERT_EQ(r.size(), 7u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(r[i].result, DkimResult::Pass) << i;
  for (std::size_t i = 5; i < 7; ++i) {
    EXPECT_EQ(r[i].result, DkimResult::Neutral);
    EXPECT_EQ(r[i].failure, FailureKind::NotChecked);
    EXPECT_EQ(r[i].domain, "example.com");
  }
  EXPECT_EQ(zone_.query_count("ed._domainkey.example.com", dns::RType::TXT), 1u);  // shared
  opt_.max_signatures = 1;
  r = verify(msg);
  EXPECT_EQ(r[1].result, DkimResult::Neutral);
}

TEST_F(VerifierTest, ManySignaturesStayBounded) {
  std::string sig = sign_rsa();
  const std::string field = sig.substr(0, sig.find("From:"));
  std::string msg;
  for (int i = 0; i < 500; ++i) msg += field;  // 500 signature fields
  msg += kMessage;
  zone_.reset_counts();
  auto r = verify(msg);
  ASSERT_EQ(r.size(), 500u);
  EXPECT_EQ(r[0].result, DkimResult::Pass);
  EXPECT_EQ(r[499].result, DkimResult::Neutral);
  EXPECT_EQ(zone_.total_queries(), 1u);
}

/* ---- streaming API and key lookup paths --------------------------------------------------- */

// Answers asynchronously from another thread after a delay (like a real resolver would).
class DelayedResolver : public dns::Resolver {
 public:
  DelayedResolver(dns::Resolver& inner, std::chrono::milliseconds delay, bool never = false)
      : inner_(inner), delay_(delay), never_(never) {}
  ~DelayedResolver() override {
    for (auto& t : threads_) t.join();
  }
  void query_async(std::string_view name, dns::RType type, dns::Callback cb) override {
    if (never_) {
      pending_.push_back(std::move(cb));
      return;
    }
    dns::Answer a = inner_.query(name, type);
    threads_.emplace_back([a, cb = std::move(cb), d = delay_]() mutable {
      std::this_thread::sleep_for(d);
      cb(std::move(a));
    });
  }
  dns::Answer query(std::string_view name, dns::RType type) override {
    return inner_.query(name, type);
  }
  void answer_pending_late() {
    for (auto& cb : pending_) cb(dns::Answer::with_status(dns::Status::NxDomain));
    pending_.clear();
  }

 private:
  dns::Resolver& inner_;
  std::chrono::milliseconds delay_;
  bool never_;
  std::vector<std::thread> threads_;
  std::vector<dns::Callback> pending_;
};

void feed(Verifier& v, const std::string& msg, std::size_t chunk) {
  const auto parts = mail::split_message(msg);
  auto block = mail::parse_header_block(parts.header);
  ASSERT_TRUE(block);
  for (const auto& f : block->fields) ASSERT_TRUE(v.add_header(f));
  v.end_headers();
  for (std::size_t i = 0; i < parts.body.size(); i += chunk) v.body_chunk(parts.body.substr(i, chunk));
}

TEST_F(VerifierTest, AsyncAnswersFromAnotherThread) {
  DelayedResolver slow(zone_, std::chrono::milliseconds(30));
  opt_.key_lookup = KeyLookup::Async;
  Verifier v(opt_, slow);
  feed(v, sign({spec_for(keys().rsa, "rsa"), spec_for(keys().ed, "ed")}), 7);
  EXPECT_EQ(v.signature_count(), 2u);
  auto r = v.finish();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason;
  EXPECT_EQ(r[1].result, DkimResult::Pass) << r[1].reason;
}

TEST_F(VerifierTest, AsyncLookupThatNeverAnswersIsTempError) {
  DelayedResolver dead(zone_, std::chrono::milliseconds(0), /*never=*/true);
  opt_.key_lookup = KeyLookup::Async;
  opt_.dns_wait = std::chrono::milliseconds(20);
  {
    Verifier v(opt_, dead);
    feed(v, sign_rsa(), 1000);
    EXPECT_FALSE(v.keys_ready());
    auto r = v.finish();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result, DkimResult::TempError);
    EXPECT_EQ(r[0].failure, FailureKind::KeyDns);
  }
  dead.answer_pending_late();  // the Verifier is gone: the late answer must be harmless
}

TEST_F(VerifierTest, AsyncLookupsStartAtEndOfHeaders) {
  opt_.key_lookup = KeyLookup::Async;
  Verifier v(opt_, zone_);
  zone_.reset_counts();
  feed(v, sign({spec_for(keys().rsa, "rsa"), spec_for(keys().ed, "ed")}), 5);
  EXPECT_EQ(zone_.total_queries(), 2u);  // asked before the body ended
  EXPECT_TRUE(v.keys_ready());           // ZoneResolver answers inline
  auto r = v.finish();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].result, DkimResult::Pass);
  EXPECT_EQ(r[1].result, DkimResult::Pass);
}

TEST_F(VerifierTest, BlockingLookupPath) {
  EXPECT_EQ(VerifyOptions{}.key_lookup, KeyLookup::Blocking);  // the default
  Verifier v(opt_, zone_);
  zone_.reset_counts();
  feed(v, sign_rsa(), 3);
  EXPECT_EQ(zone_.total_queries(), 0u);  // nothing asked before finish()
  EXPECT_TRUE(v.keys_ready());
  auto r = v.finish();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].result, DkimResult::Pass);
}

TEST_F(VerifierTest, MilterStyleFields) {
  const std::string msg = sign_rsa();
  const auto parts = mail::split_message(msg);
  auto block = mail::parse_header_block(parts.header);
  ASSERT_TRUE(block);
  Verifier v(opt_, zone_);
  for (const auto& f : block->fields) {
    // Postfix hands the value without the leading space and with LF-only folding.
    std::string value = f.value.empty() ? std::string() : std::string(f.raw.substr(f.colon + 2));
    std::string lf;
    for (char c : value) if (c != '\r') lf.push_back(c);
    auto mf = mail::Field::from_milter(f.name, lf);
    ASSERT_TRUE(mf) << mf.error().reason;
    ASSERT_TRUE(v.add_header(*mf));
  }
  v.body_chunk(parts.body);  // end_headers() implicit
  auto r = v.finish();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason;
}

TEST_F(VerifierTest, HeaderLimits) {
  Verifier v(opt_, zone_);
  Result<void> last = ok();
  for (std::size_t i = 0; i <= mail::kMaxHeaderFields + 5 && last; ++i) last = v.add_header("X-A: b");
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, ErrorCode::LimitExceeded);
  EXPECT_FALSE(v.add_header(std::string_view("no colon here")));
}

TEST_F(VerifierTest, LfOnlyMessage) {
  std::string msg = sign_rsa();
  std::string lf;
  for (char c : msg) if (c != '\r') lf.push_back(c);
  EXPECT_EQ(verify_one(lf).result, DkimResult::Pass);
}

TEST(DkimResultWords, Rfc8601) {
  EXPECT_STREQ(to_string(DkimResult::None), "none");
  EXPECT_STREQ(to_string(DkimResult::Pass), "pass");
  EXPECT_STREQ(to_string(DkimResult::Fail), "fail");
  EXPECT_STREQ(to_string(DkimResult::Neutral), "neutral");
  EXPECT_STREQ(to_string(DkimResult::Policy), "policy");
  EXPECT_STREQ(to_string(DkimResult::TempError), "temperror");
  EXPECT_STREQ(to_string(DkimResult::PermError), "permerror");
}

TEST(HeaderB, ExtendedUntilUnique) {
  SignatureResult a, b, c, same;
  a.b_text = "ABCDEFGHIJKL";
  b.b_text = "ABCDEFGHIXYZ";
  c.b_text = "ZZZZZZZZZZZZ";
  same.b_text = a.b_text;  // an identical b= (the same signature twice) does not extend
  a.b_prefix = "ABCDEFGH";
  std::vector<SignatureResult> all{a, b, c, same};
  EXPECT_EQ(header_b(all[0], all), "ABCDEFGHIJ");
  EXPECT_EQ(header_b(all[1], all), "ABCDEFGHIX");
  EXPECT_EQ(header_b(all[2], all), "ZZZZZZZZ");
  SignatureResult unknown;
  unknown.b_prefix = "xyz";
  EXPECT_EQ(header_b(unknown, all), "xyz");
}

TEST(DkimResultWords, Overall) {
  SignatureResult p, f, t;
  p.result = DkimResult::Pass;
  f.result = DkimResult::Fail;
  t.result = DkimResult::TempError;
  EXPECT_EQ(overall_result({f, p}), DkimResult::Pass);
  EXPECT_EQ(overall_result({t, f}), DkimResult::Fail);
  EXPECT_EQ(overall_result({t}), DkimResult::TempError);
}

/* ---- DNSSEC status of the key answer (Answer::authenticated → SignatureResult::key_dnssec) ---- */

struct DnssecCase {
  const char* name;
  const char* selector;  // signs with the RSA key under this selector
  bool secure_zone;      // example.com marked DNSSEC-secure in the zone
  dns::Status failure;   // scripted for the key name (Ok = none)
  DkimResult want_result;
  KeyDnssec want;
};

class VerifierDnssec : public VerifierTest, public ::testing::WithParamInterface<DnssecCase> {};

TEST_P(VerifierDnssec, KeyStatusFollowsTheAdBit) {
  const DnssecCase& c = GetParam();
  if (c.secure_zone) zone_.set_authenticated("example.com");
  if (c.failure != dns::Status::Ok) zone_.set_failure(std::string(c.selector) + "._domainkey.example.com", c.failure);
  auto r = verify_one(sign_rsa(c.selector));
  EXPECT_EQ(r.result, c.want_result) << r.reason;
  EXPECT_EQ(r.key_dnssec, c.want);
}

const DnssecCase kDnssecCases[] = {
    {"secure_pass", "rsa", true, dns::Status::Ok, DkimResult::Pass, KeyDnssec::Secure},
    {"insecure_pass", "rsa", false, dns::Status::Ok, DkimResult::Pass, KeyDnssec::Insecure},
    {"secure_nxdomain", "none", true, dns::Status::Ok, DkimResult::PermError, KeyDnssec::Secure},
    {"insecure_nxdomain", "none", false, dns::Status::Ok, DkimResult::PermError, KeyDnssec::Insecure},
    {"secure_nodata", "rsa", true, dns::Status::NoData, DkimResult::PermError, KeyDnssec::Secure},
    {"bogus_is_servfail", "rsa", true, dns::Status::ServFail, DkimResult::TempError, KeyDnssec::Unknown},
    {"timeout", "rsa", true, dns::Status::Timeout, DkimResult::TempError, KeyDnssec::Unknown},
};
INSTANTIATE_TEST_SUITE_P(Ad, VerifierDnssec, ::testing::ValuesIn(kDnssecCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST_F(VerifierTest, KeyDnssecUnknownWithoutLookupAndPerSignature) {
  // A signature that fails before its key is fetched has no DNSSEC status.
  std::string msg = sign_rsa();
  auto at = msg.find("d=example.com");
  ASSERT_NE(at, std::string::npos);
  msg.replace(at, 13, "d=");  // empty d=: syntax error, no lookup
  auto r = verify_one(msg);
  EXPECT_EQ(r.failure, FailureKind::Syntax);
  EXPECT_EQ(r.key_dnssec, KeyDnssec::Unknown);
  // Two signatures, one key in a signed zone and one not: each keeps its own status.
  zone_.add_txt("rsa._domainkey.signed.example", record_for(keys().rsa));
  zone_.set_authenticated("signed.example");
  SignatureSpec a = spec_for(keys().rsa, "rsa");
  SignatureSpec b = spec_for(keys().rsa, "rsa");
  b.domain = "signed.example";
  opt_.max_signatures = 5;
  auto both = verify(sign({a, b}));
  ASSERT_EQ(both.size(), 2u);
  for (const auto& x : both) {
    EXPECT_EQ(x.result, DkimResult::Pass) << x.reason;
    EXPECT_EQ(x.key_dnssec, x.domain == "signed.example" ? KeyDnssec::Secure : KeyDnssec::Insecure) << x.domain;
  }
  EXPECT_STREQ(to_string(KeyDnssec::Unknown), "unknown");
  EXPECT_STREQ(to_string(KeyDnssec::Insecure), "insecure");
  EXPECT_STREQ(to_string(KeyDnssec::Secure), "secure");
}

}  // namespace
}  // namespace auth::dkim
