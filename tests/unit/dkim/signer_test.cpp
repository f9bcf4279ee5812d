// Signer: tag order, folding, h= construction with oversigning, options, errors, and
// sign-then-verify over every canonicalization and chunking.
#include <gtest/gtest.h>

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
    "Received: from a by b; Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    "From: Joe <joe@example.com>\r\n"
    "To: Suzie <suzie@example.net>\r\n"
    "To: Other <other@example.net>\r\n"
    "Subject: dinner\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    "X-Custom: not signed\r\n"
    "Message-ID: <1@example.com>\r\n"
    "\r\n"
    "Hi.\r\n";

const crypto::PrivateKey& rsa_key() {
  static const crypto::PrivateKey k = [] {
    auto r = crypto::PrivateKey::load(dkim_test::conformance("dkimpy/test.private"));
    if (!r) std::abort();
    return *r;
  }();
  return k;
}
const crypto::PrivateKey& ed_key() {
  static const crypto::PrivateKey k = *crypto::PrivateKey::from_ed25519_seed(std::string(32, 'k'));
  return k;
}

SignatureSpec spec(const crypto::PrivateKey& k, std::string selector = "sel") {
  SignatureSpec s;
  s.domain = "example.com";
  s.selector = std::move(selector);
  s.key = std::make_shared<crypto::LocalSigner>(k);
  return s;
}

Result<std::vector<std::string>> sign(std::vector<SignatureSpec> specs,
                                      const std::string& msg = kMessage) {
  SignOptions o;
  o.clock = fixed_clock(kNow);
  o.signatures = std::move(specs);
  return sign_message(msg, o);
}

std::string one(const SignatureSpec& s, const std::string& msg = kMessage) {
  auto r = sign({s}, msg);
  EXPECT_TRUE(r) << r.error().reason;
  return r && !r->empty() ? (*r)[0] : std::string();
}

Signature parsed(const std::string& field) {
  auto s = parse_signature(std::string_view(field).substr(field.find(':') + 1));
  EXPECT_TRUE(s) << s.error().reason;
  return s ? *s : Signature{};
}

std::vector<std::string> tag_names(const Signature& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tags.tags) out.push_back(t.name);
  return out;
}

TEST(Signer, DefaultsAndTagOrder) {
  const std::string f = one(spec(rsa_key()));
  EXPECT_EQ(f.rfind("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;", 0), 0u) << f;
  const Signature s = parsed(f);
  EXPECT_EQ(tag_names(s), (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "h", "bh", "b"}));
  EXPECT_EQ(s.timestamp, kNow);
  EXPECT_FALSE(s.body_length);  // never l= unless asked
  EXPECT_FALSE(s.expiration);
  // Recommended set in §5.4.1 order, each present field once per occurrence, From oversigned.
  EXPECT_EQ(s.signed_headers, (std::vector<std::string>{"from", "subject", "date", "to", "to",
                                                        "message-id", "from"}));
}

TEST(Signer, AllOptionalTagsInOrder) {
  auto sp = spec(ed_key());
  sp.identity = "joe@mail.example.com";
  sp.query_method = true;
  sp.expire_after = 86400;
  sp.body_length = true;
  sp.canon = {Canon::Simple, Canon::Relaxed};
  const Signature s = parsed(one(sp));
  EXPECT_EQ(tag_names(s), (std::vector<std::string>{"v", "a", "c", "d", "i", "q", "s", "t", "x",
                                                    "l", "h", "bh", "b"}));
  EXPECT_EQ(s.algorithm, crypto::SignAlg::Ed25519Sha256);
  EXPECT_EQ(s.canon, (Canonicalization{Canon::Simple, Canon::Relaxed}));
  EXPECT_EQ(s.identity, "joe@mail.example.com");
  EXPECT_EQ(s.expiration, kNow + 86400);
  EXPECT_EQ(s.body_length, 5u);  // "Hi.\r\n"
}

TEST(Signer, FoldedAt78Columns) {
  auto sp = spec(rsa_key());
  sp.headers = {"from", "to", "subject", "date", "message-id", "received", "x-custom",
                "reply-to", "cc", "in-reply-to", "references", "list-id"};
  sp.oversign = {"from", "to", "subject", "date", "message-id", "reply-to", "cc"};
  for (const std::string& f : {one(sp), one(spec(ed_key()))}) {
    std::size_t start = 0;
    std::size_t lines = 0;
    while (start <= f.size()) {
      std::size_t end = f.find("\r\n", start);
      if (end == std::string::npos) end = f.size();
      const std::string line = f.substr(start, end - start);
      EXPECT_LE(line.size(), kSignatureLineLength) << line;
      if (lines > 0) {
        EXPECT_EQ(line[0], '\t') << line;
      }
      EXPECT_EQ(line.find('\n'), std::string::npos);
      ++lines;
      start = end + 2;
    }
    EXPECT_GT(lines, 2u);
    EXPECT_NE(f.substr(f.size() - 2), "\r\n");  // no trailing CRLF
  }
}

TEST(Signer, HeaderListHonoursOccurrencesAndOversign) {
  auto sp = spec(rsa_key());
  sp.headers = {"To", "Subject", "X-Missing"};
  sp.oversign = {"subject", "x-missing"};
  const Signature s = parsed(one(sp));
  // From added in front (always signed), absent names left out, oversigned names appended.
  EXPECT_EQ(s.signed_headers,
            (std::vector<std::string>{"from", "to", "to", "subject", "subject", "x-missing"}));
}

TEST(Signer, SpacedSeparator) {
  auto sp = spec(rsa_key());
  sp.headers = {"from", "to"};
  sp.header_separator = " : ";
  const std::string f = one(sp);
  EXPECT_NE(f.find("h=from : to : to : from;"), std::string::npos) << f;
}

struct ErrCase {
  std::string_view name;
  std::function<void(SignatureSpec&)> change;
  ErrorCode code;
};

class SignerErrors : public ::testing::TestWithParam<ErrCase> {};
TEST_P(SignerErrors, Refused) {
  auto sp = spec(rsa_key());
  GetParam().change(sp);
  auto r = sign({sp});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, GetParam().code) << r.error().reason;
}
const ErrCase kErrs[] = {
    {"no_key", [](SignatureSpec& s) { s.key.reset(); }, ErrorCode::Missing},
    {"empty_domain", [](SignatureSpec& s) { s.domain.clear(); }, ErrorCode::Missing},
    {"empty_selector", [](SignatureSpec& s) { s.selector.clear(); }, ErrorCode::Missing},
    {"bad_domain", [](SignatureSpec& s) { s.domain = "exa mple.com"; }, ErrorCode::Invalid},
    {"identity_outside", [](SignatureSpec& s) { s.identity = "a@example.org"; }, ErrorCode::Invalid},
    {"identity_no_at", [](SignatureSpec& s) { s.identity = "example.com"; }, ErrorCode::Invalid},
    {"rsa_sha1", [](SignatureSpec& s) { s.algorithm = crypto::SignAlg::RsaSha1; }, ErrorCode::Unsupported},
    {"alg_key_mismatch", [](SignatureSpec& s) { s.algorithm = crypto::SignAlg::Ed25519Sha256; },
     ErrorCode::Invalid},
    {"expire_zero", [](SignatureSpec& s) { s.expire_after = 0; }, ErrorCode::Invalid},
    {"bad_header_name", [](SignatureSpec& s) { s.headers = {"from", "bad name"}; }, ErrorCode::Invalid},
    {"bad_separator", [](SignatureSpec& s) { s.header_separator = ";"; }, ErrorCode::Invalid},
};
INSTANTIATE_TEST_SUITE_P(Spec, SignerErrors, ::testing::ValuesIn(kErrs),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(Signer, NoFromIsRefused) {
  auto r = sign({spec(rsa_key())}, "To: a@example.com\r\n\r\nbody\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Missing);
  // dkimpy's test_nofrom.message too (RFC 6376 §5.4).
  auto r2 = sign({spec(rsa_key())}, dkim_test::conformance("dkimpy/test_nofrom.message"));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::Missing);
}

TEST(Signer, NoSignaturesConfigured) {
  auto r = sign({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Missing);
}

TEST(Signer, FinishTwiceIsAnError) {
  SignOptions o;
  o.clock = fixed_clock(kNow);
  o.signatures = {spec(ed_key())};
  Signer s(o);
  ASSERT_TRUE(s.add_header("From: a@example.com"));
  EXPECT_TRUE(s.finish());
  EXPECT_FALSE(s.finish());
}

/* ---- sign then verify: every canonicalization, dual signing, any chunking ---------------- */

class SignVerify : public ::testing::TestWithParam<std::tuple<Canon, Canon>> {};
TEST_P(SignVerify, RoundTrip) {
  dns::ZoneResolver zone;
  zone.add_txt("rsa._domainkey.example.com",
               *format_key_record(crypto::PublicKey::from_private(rsa_key())));
  zone.add_txt("ed._domainkey.example.com",
               *format_key_record(crypto::PublicKey::from_private(ed_key())));
  const std::string msg =
      "From: Joe <joe@example.com>\r\n"
      "Subject:   folded\r\n\t subject  \r\n"
      "To: x@example.net\r\n"
      "\r\n"
      "line  with   spaces  \r\n\r\n\ttabbed\r\n\r\n\r\n";
  SignOptions o;
  o.clock = fixed_clock(kNow);
  auto a = spec(rsa_key(), "rsa");
  auto b = spec(ed_key(), "ed");
  a.canon = b.canon = {std::get<0>(GetParam()), std::get<1>(GetParam())};
  o.signatures = {a, b};
  // Stream the body in odd chunks through the Signer itself.
  for (std::size_t chunk : {1u, 3u, 1000u}) {
    Signer s(o);
    const auto parts = mail::split_message(msg);
    auto block = mail::parse_header_block(parts.header);
    ASSERT_TRUE(block);
    for (const auto& f : block->fields) ASSERT_TRUE(s.add_header(f));
    s.end_headers();
    for (std::size_t i = 0; i < parts.body.size(); i += chunk) s.body_chunk(parts.body.substr(i, chunk));
    auto fields = s.finish();
    ASSERT_TRUE(fields) << fields.error().reason;
    ASSERT_EQ(fields->size(), 2u);
    const std::string signed_msg = (*fields)[0] + "\r\n" + (*fields)[1] + "\r\n" + msg;
    VerifyOptions vo;
    vo.clock = fixed_clock(kNow);
    auto r = verify_message(signed_msg, zone, vo);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason;
    EXPECT_EQ(r[1].result, DkimResult::Pass) << r[1].reason;
  }
}
INSTANTIATE_TEST_SUITE_P(Canons, SignVerify,
                         ::testing::Combine(::testing::Values(Canon::Simple, Canon::Relaxed),
                                            ::testing::Values(Canon::Simple, Canon::Relaxed)),
                         [](const auto& i) {
                           return std::string(to_string(std::get<0>(i.param))) + "_" +
                                  to_string(std::get<1>(i.param));
                         });

TEST(Signer, RecommendedHeadersList) {
  const auto& h = recommended_signed_headers();
  EXPECT_EQ(h.front(), "from");
  EXPECT_EQ(h.size(), 27u);
  EXPECT_NE(std::find(h.begin(), h.end(), "list-unsubscribe"), h.end());
}

}  // namespace
}  // namespace auth::dkim
