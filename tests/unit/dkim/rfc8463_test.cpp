// RFC 8463 Appendix A: canonical body, signed header data, verification of both signatures and
// deterministic re-signing (b= reproduced byte for byte).
#include <gtest/gtest.h>

#include "auth/crypto/base64.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/canonicalize.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"
#include "auth/mail/header.h"
#include "dkim/dkim_internal.h"
#include "unit/dkim/test_util.h"

namespace auth::dkim {
namespace {

using dkim_test::conformance;

constexpr std::int64_t kRfcTime = 1528637909;
constexpr const char* kEdB =
    "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
constexpr const char* kRsaB =
    "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOe"
    "S9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";

class Rfc8463 : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(zone_.load_txt_lines(conformance("rfc8463/zone.txt")));
    signed_ = mail::to_crlf(conformance("rfc8463/signed.eml"));
    unsigned_ = mail::to_crlf(conformance("rfc8463/unsigned.eml"));
  }
  dns::ZoneResolver zone_;
  std::string signed_;
  std::string unsigned_;
};

TEST_F(Rfc8463, CanonicalBodyAndBodyHash) {
  const auto parts = mail::split_message(unsigned_);
  const std::string want = conformance("rfc8463/canonical-body-relaxed.txt");
  EXPECT_EQ(canonicalize_body(Canon::Relaxed, parts.body), want);
  BodyHasher h(Canon::Relaxed, crypto::HashAlg::Sha256);
  h.update(parts.body);
  EXPECT_EQ(crypto::base64_encode(h.finish()), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
}

TEST_F(Rfc8463, SignedHeaderDataOfBothSignatures) {
  const auto parts = mail::split_message(signed_);
  auto block = mail::parse_header_block(parts.header);
  ASSERT_TRUE(block) << block.error().reason;
  auto sigs = block->find_all("DKIM-Signature");
  ASSERT_EQ(sigs.size(), 2u);
  const char* files[] = {"rfc8463/signed-data-ed25519.txt", "rfc8463/signed-data-rsa.txt"};
  for (std::size_t i = 0; i < 2; ++i) {
    auto sig = parse_signature(sigs[i]->raw_value());
    ASSERT_TRUE(sig) << sig.error().reason;
    std::string data;
    for (const mail::Field* f : internal::select_headers(block->fields, sig->signed_headers)) {
      data += canonicalize_header(sig->canon.header, f->raw);
    }
    const Tag* b = sig->tags.find("b");
    const std::size_t base = sigs[i]->colon + 1;
    const std::string blanked =
        sigs[i]->raw.substr(0, base + b->value_begin) + sigs[i]->raw.substr(base + b->value_end);
    data += canonicalize_header_no_crlf(sig->canon.header, blanked);
    EXPECT_EQ(data, conformance(files[i])) << "signature " << i;
  }
}

TEST_F(Rfc8463, BothSignaturesVerify) {
  VerifyOptions opt;
  opt.clock = fixed_clock(kRfcTime + 60);
  auto results = verify_message(signed_, zone_, opt);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result, DkimResult::Pass) << results[0].reason;
  EXPECT_EQ(results[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(results[0].key_bits, 256u);
  EXPECT_EQ(results[0].selector, "brisbane");
  EXPECT_EQ(results[0].b_prefix, "/gCrinpc");
  EXPECT_EQ(results[1].result, DkimResult::Pass) << results[1].reason;
  EXPECT_EQ(results[1].algorithm, "rsa-sha256");
  EXPECT_EQ(results[1].key_bits, 1024u);
  EXPECT_EQ(results[1].domain, "football.example.com");
  EXPECT_EQ(results[1].identity, "@football.example.com");
  EXPECT_EQ(results[1].b_prefix, "F45dVWDf");
}

TEST_F(Rfc8463, EveryBodyChunkingVerifies) {
  const auto parts = mail::split_message(signed_);
  auto block = mail::parse_header_block(parts.header);
  ASSERT_TRUE(block);
  for (std::size_t step = 1; step <= parts.body.size(); ++step) {
    VerifyOptions opt;
    opt.clock = fixed_clock(kRfcTime);
    opt.key_lookup = step % 2 ? KeyLookup::Async : KeyLookup::Blocking;
    Verifier v(opt, zone_);
    for (const auto& f : block->fields) ASSERT_TRUE(v.add_header(f));
    v.end_headers();
    for (std::size_t i = 0; i < parts.body.size(); i += step) v.body_chunk(parts.body.substr(i, step));
    auto r = v.finish();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].result, DkimResult::Pass) << "step " << step << ": " << r[0].reason;
    EXPECT_EQ(r[1].result, DkimResult::Pass) << "step " << step << ": " << r[1].reason;
  }
}

SignatureSpec rfc_spec(std::shared_ptr<const crypto::Signer> key, std::string selector) {
  SignatureSpec s;
  s.domain = "football.example.com";
  s.selector = std::move(selector);
  s.key = std::move(key);
  s.canon = {Canon::Relaxed, Canon::Relaxed};
  s.headers = {"from", "to", "subject", "date", "message-id"};
  s.oversign = {"from", "subject", "date"};
  s.identity = "@football.example.com";
  s.query_method = true;
  s.header_separator = " : ";
  return s;
}

std::string b_of(const std::string& field) {
  auto colon = field.find(':');
  auto sig = parse_signature(std::string_view(field).substr(colon + 1));
  EXPECT_TRUE(sig) << sig.error().reason;
  return sig ? sig->b_text : std::string();
}

TEST_F(Rfc8463, DeterministicSigningReproducesB) {
  auto seed = crypto::base64_decode(dkim_test::trim(conformance("rfc8463/ed25519-private-seed.b64")));
  ASSERT_TRUE(seed);
  auto ed = crypto::PrivateKey::from_ed25519_seed(*seed);
  ASSERT_TRUE(ed) << ed.error().reason;
  auto rsa = crypto::PrivateKey::load(conformance("rfc8463/rsa-private.pem"));
  ASSERT_TRUE(rsa) << rsa.error().reason;

  SignOptions opt;
  opt.clock = fixed_clock(kRfcTime);
  opt.signatures.push_back(rfc_spec(std::make_shared<crypto::LocalSigner>(*ed), "brisbane"));
  opt.signatures.push_back(rfc_spec(std::make_shared<crypto::LocalSigner>(*rsa), "test"));
  auto fields = sign_message(unsigned_, opt);
  ASSERT_TRUE(fields) << fields.error().reason;
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ(b_of((*fields)[0]), kEdB);
  EXPECT_EQ(b_of((*fields)[1]), kRsaB);

  // And the signed message verifies.
  std::string msg = (*fields)[0] + "\r\n" + (*fields)[1] + "\r\n" + unsigned_;
  VerifyOptions vo;
  vo.clock = fixed_clock(kRfcTime);
  auto r = verify_message(msg, zone_, vo);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason;
  EXPECT_EQ(r[1].result, DkimResult::Pass) << r[1].reason;
}

// Golden output: the exact field the signer emits for the RFC 8463 Ed25519 signature (tag
// order, folding at 78 columns, b= cut). Ed25519 is deterministic, so this is byte-stable.
TEST_F(Rfc8463, GoldenEd25519FieldText) {
  auto seed = crypto::base64_decode(dkim_test::trim(conformance("rfc8463/ed25519-private-seed.b64")));
  ASSERT_TRUE(seed);
  auto ed = crypto::PrivateKey::from_ed25519_seed(*seed);
  ASSERT_TRUE(ed);
  SignOptions opt;
  opt.clock = fixed_clock(kRfcTime);
  opt.signatures.push_back(rfc_spec(std::make_shared<crypto::LocalSigner>(*ed), "brisbane"));
  auto fields = sign_message(unsigned_, opt);
  ASSERT_TRUE(fields) << fields.error().reason;
  const std::string golden =
      "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
      "\td=football.example.com; i=@football.example.com; q=dns/txt; s=brisbane;\r\n"
      "\tt=1528637909; h=from : to : subject : date : message-id : from : subject :\r\n"
      "\tdate; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=/gCrinpcQOoIfuHNQIbq\r\n"
      "\t4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
  EXPECT_EQ((*fields)[0], golden);
}

}  // namespace
}  // namespace auth::dkim
