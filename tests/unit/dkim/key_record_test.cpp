// RFC 6376 §3.6.1 key records (and RFC 8463 §4 for k=ed25519).
#include <gtest/gtest.h>

#include "auth/crypto/key.h"
#include "auth/dkim/key_record.h"

namespace auth::dkim {
namespace {

constexpr std::string_view kEdP = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

TEST(KeyRecord, Defaults) {
  auto r = parse_key_record("p=" + std::string(kEdP));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->key_type, crypto::KeyType::Rsa);  // k= default
  EXPECT_EQ(r->public_key.size(), 32u);
  EXPECT_FALSE(r->revoked());
  EXPECT_TRUE(r->hash_algs.empty());
  EXPECT_TRUE(r->allows_hash(crypto::SignAlg::RsaSha1));
  EXPECT_TRUE(r->allows_hash(crypto::SignAlg::RsaSha256));
  EXPECT_TRUE(r->allows_email());
  EXPECT_FALSE(r->testing);
  EXPECT_FALSE(r->strict_identity);
}

TEST(KeyRecord, AllTags) {
  auto r = parse_key_record("v=DKIM1; k=ed25519; h=sha256 : future; s=email:other; t=y:s:zz; "
                            "n=some=20notes; g=*; p=" + std::string(kEdP) + "; unknown=1");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->key_type, crypto::KeyType::Ed25519);
  EXPECT_EQ(r->hash_algs, (std::vector<std::string>{"sha256", "future"}));
  EXPECT_TRUE(r->allows_hash(crypto::SignAlg::Ed25519Sha256));
  EXPECT_FALSE(r->allows_hash(crypto::SignAlg::RsaSha1));
  EXPECT_TRUE(r->allows_email());
  EXPECT_TRUE(r->testing);
  EXPECT_TRUE(r->strict_identity);
  EXPECT_EQ(r->notes, "some=20notes");
}

TEST(KeyRecord, RevokedKey) {
  auto r = parse_key_record("v=DKIM1; k=rsa; p=");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->revoked());
}

TEST(KeyRecord, PWithFws) {
  auto r = parse_key_record("p=11qYAYKxCrfVS/7TyWQHOg7h \r\n cvPapiMlrwIaaPcHURo=");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->public_key.size(), 32u);
}

TEST(KeyRecord, ServiceTypeNotEmail) {
  auto r = parse_key_record("s=other; p=" + std::string(kEdP));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->allows_email());
  auto star = parse_key_record("s=*; p=" + std::string(kEdP));
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->allows_email());
}

struct BadCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
};

const BadCase kBad[] = {
    {"no_p", "v=DKIM1; k=rsa", ErrorCode::Missing},
    {"empty_record", "", ErrorCode::Missing},
    // "v=DKIM1:" (dkimpy badversion.txt): v= swallows the rest, so v is not "DKIM1".
    {"v_colon_syntax", "v=DKIM1: p=" + std::string(kEdP), ErrorCode::Unsupported},
    {"v_not_first", "k=rsa; v=DKIM1; p=" + std::string(kEdP), ErrorCode::Syntax},
    {"v_other", "v=DKIM2; p=" + std::string(kEdP), ErrorCode::Unsupported},
    {"v_lowercase", "v=dkim1; p=" + std::string(kEdP), ErrorCode::Unsupported},
    {"k_unknown", "k=ed25519-sha256; p=" + std::string(kEdP), ErrorCode::Unsupported},
    {"k_dsa", "k=dsa; p=" + std::string(kEdP), ErrorCode::Unsupported},
    {"p_bad_base64", "p=abc*", ErrorCode::Syntax},
    {"duplicate_p", "p=; p=" + std::string(kEdP), ErrorCode::Duplicate},
    {"too_long", "p=" + std::string(kMaxKeyRecordBytes, 'A'), ErrorCode::LimitExceeded},
};

class KeyRecordBad : public ::testing::TestWithParam<BadCase> {};
TEST_P(KeyRecordBad, Rejected) {
  auto r = parse_key_record(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, GetParam().code) << r.error().reason;
}
INSTANTIATE_TEST_SUITE_P(Rfc6376, KeyRecordBad, ::testing::ValuesIn(kBad),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(KeyRecord, FormatRoundTrips) {
  auto priv = crypto::PrivateKey::generate_ed25519();
  ASSERT_TRUE(priv);
  const auto pub = crypto::PublicKey::from_private(*priv);
  auto txt = format_key_record(pub, true);
  ASSERT_TRUE(txt);
  EXPECT_EQ(txt->rfind("v=DKIM1; k=ed25519; p=", 0), 0u) << *txt;
  auto back = parse_key_record(*txt);
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_TRUE(back->testing);
  auto key = crypto::PublicKey::from_dkim_p(back->key_type, back->public_key);
  ASSERT_TRUE(key);
  EXPECT_TRUE(*key == pub);
}

TEST(KeyRecord, ManyFlagsBounded) {
  std::string t = "t=y";
  for (int i = 0; i < 5000; ++i) t += ":q";
  auto r = parse_key_record(t + "; p=" + std::string(kEdP));
  ASSERT_TRUE(r) << r.error().reason;  // unknown flags ignored, size within the bound
  EXPECT_TRUE(r->testing);
  for (int i = 0; i < 5000; ++i) t += ":q";  // 10 000 repetitions: over kMaxKeyRecordBytes
  auto big = parse_key_record(t + "; p=" + std::string(kEdP));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::LimitExceeded);
}

}  // namespace
}  // namespace auth::dkim
