#include "auth/crypto/sign.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "unit/crypto/test_util.h"

namespace auth::crypto {
namespace {

using test::b64;
using test::read_conformance;
using test::tag_value;

PrivateKey load_key(std::string_view rel) {
  auto k = PrivateKey::load_file(test::conformance_path(rel));
  if (!k) ADD_FAILURE() << rel << ": " << k.error().reason;
  return std::move(k).value();
}

PublicKey zone_key(KeyType type, std::string_view owner) {
  auto k = PublicKey::from_dkim_p(type, b64(tag_value(test::zone_record(owner), "p")));
  if (!k) ADD_FAILURE() << owner << ": " << k.error().reason;
  return std::move(k).value();
}

// ---------------------------------------------------------------------------------------
// RFC 8463 Appendix A: the published signatures verify over SHA-256(signed data), and signing
// the same digest with the same keys reproduces them byte-for-byte (both are deterministic).

struct Rfc8463Case {
  std::string_view name;
  SignAlg alg;
  KeyType type;
  std::string_view owner, signed_data, private_key, b;
};
void PrintTo(const Rfc8463Case& c, std::ostream* os) { *os << c.name; }

const Rfc8463Case kRfc8463[] = {
    {"ed25519_seed", SignAlg::Ed25519Sha256, KeyType::Ed25519,
     "brisbane._domainkey.football.example.com", "rfc8463/signed-data-ed25519.txt",
     "rfc8463/ed25519-private-seed.b64",
     "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="},
    {"ed25519_pkcs8", SignAlg::Ed25519Sha256, KeyType::Ed25519,
     "brisbane._domainkey.football.example.com", "rfc8463/signed-data-ed25519.txt",
     "rfc8463/ed25519-private-pkcs8.pem",
     "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="},
    {"ed25519_dkimpy_seed", SignAlg::Ed25519Sha256, KeyType::Ed25519,
     "brisbane._domainkey.football.example.com", "rfc8463/signed-data-ed25519.txt",
     "dkimpy/rfc8032_7_1.key",
     "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="},
    {"rsa", SignAlg::RsaSha256, KeyType::Rsa, "test._domainkey.football.example.com",
     "rfc8463/signed-data-rsa.txt", "rfc8463/rsa-private.pem",
     "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGs"
     "geefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8="},
};

class Rfc8463 : public testing::TestWithParam<Rfc8463Case> {};

TEST_P(Rfc8463, PublishedSignatureVerifies) {
  const PublicKey pub = zone_key(GetParam().type, GetParam().owner);
  const std::string digest = sha256(read_conformance(GetParam().signed_data));
  auto ok = verify(pub, GetParam().alg, digest, b64(GetParam().b));
  ASSERT_TRUE(ok) << ok.error().reason;
  EXPECT_TRUE(*ok);
}

TEST_P(Rfc8463, SigningReproducesTheRfcSignature) {
  const PrivateKey key = load_key(GetParam().private_key);
  const std::string digest = sha256(read_conformance(GetParam().signed_data));
  auto sig = sign(key, GetParam().alg, digest);
  ASSERT_TRUE(sig) << sig.error().reason;
  EXPECT_EQ(base64_encode(*sig), GetParam().b);
  // And through the Signer interface.
  const LocalSigner signer(key);
  const Signer& s = signer;
  auto sig2 = s.sign_digest(GetParam().alg, digest);
  ASSERT_TRUE(sig2);
  EXPECT_EQ(*sig2, *sig);
  EXPECT_EQ(s.key_type(), GetParam().type);
}

TEST_P(Rfc8463, TamperingFails) {
  const PublicKey pub = zone_key(GetParam().type, GetParam().owner);
  const std::string data = read_conformance(GetParam().signed_data);
  const std::string sig = b64(GetParam().b);

  // Ed25519 signs the digest, not the data: the signature is over SHA-256(data) only.
  std::string digest = sha256(data);
  digest[0] = static_cast<char>(digest[0] ^ 1);
  EXPECT_FALSE(*verify(pub, GetParam().alg, digest, sig)) << "tampered digest verified";
  EXPECT_FALSE(*verify(pub, GetParam().alg, sha256(data + " "), sig)) << "tampered data verified";

  const std::string good = sha256(data);
  for (std::size_t i : {std::size_t{0}, sig.size() / 2, sig.size() - 1}) {
    std::string bad = sig;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    EXPECT_FALSE(*verify(pub, GetParam().alg, good, bad)) << "flipped byte " << i;
  }
  EXPECT_FALSE(*verify(pub, GetParam().alg, good, sig.substr(1))) << "short signature";
  EXPECT_FALSE(*verify(pub, GetParam().alg, good, sig + "x")) << "long signature";
  EXPECT_FALSE(*verify(pub, GetParam().alg, good, "")) << "empty signature";
  EXPECT_FALSE(*verify(pub, GetParam().alg, good, std::string(10000, '\xff'))) << "huge signature";
}

INSTANTIATE_TEST_SUITE_P(CryptoSign, Rfc8463, testing::ValuesIn(kRfc8463),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// rsa-sha1: verify-only (RFC 8301 §3.1).

TEST(CryptoSign, RsaSha1VerifiesAKnownAnswerButNeverSigns) {
  // Made with: printf 'inkan rsa-sha1 known answer\r\n' | openssl dgst -sha1 -sign 1024_testkey.key
  const std::string data = "inkan rsa-sha1 known answer\r\n";
  const std::string sig = b64(
      "t8TvkaBJnc1oktgz2EmIqY4wZXIJXVjYSM3kjrvTtwzrY/k8OyKJYHIZucy3pLlWNnzMVc3px6F2vMWmZvAYu3iLJ7JlHAu1"
      "G10nDuiX+LIM6FQ+kAk3lEBh1HcqvHthyMeZ6QsA4bh279uvyDTHpO3svm1LrnUf8k6yMmjck3A=");
  const PublicKey pub = PublicKey::from_private(load_key("dkimpy/1024_testkey.key"));
  auto ok = verify(pub, SignAlg::RsaSha1, sha1(data), sig);
  ASSERT_TRUE(ok) << ok.error().reason;
  EXPECT_TRUE(*ok);
  EXPECT_FALSE(*verify(pub, SignAlg::RsaSha1, sha1(data + "x"), sig));
  // The same bytes are not an rsa-sha256 signature (the DigestInfo names the hash).
  EXPECT_FALSE(*verify(pub, SignAlg::RsaSha256, sha256(data), sig));

  auto refused = sign(load_key("dkimpy/1024_testkey.key"), SignAlg::RsaSha1, sha1(data));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Unsupported);
  EXPECT_NE(refused.error().reason.find("RFC 8301"), std::string::npos);
}

TEST(CryptoSign, RsaSha256KnownAnswerFromOpenSslCli) {
  // Made with: printf 'inkan rsa-sha1 known answer\r\n' | openssl dgst -sha256 -sign 2048_testkey_PKCS8.key
  const std::string data = "inkan rsa-sha1 known answer\r\n";
  const std::string want =
      "ygkZcKl8SoWTGI7A70RGilA5xtQsl5htKYMQCD1YnNRAaeWmw3wirbmq67D+XxDHQcIA3dumuK6QcFNMy5A0SNhakvtC11Ixujc7"
      "WZSFA72o51RPLTSERblzk2qJhorgomTp2ZJIvUeo/chIeEb6RO5qi/kl+tv1OL2X6TbLZt2J7YqZ+WiL8shrMuJiStGwEREBvDF5"
      "5vq91JB5IMn7jQ+Zr9HfePt38qwQTG+rFgbo1vg3IVQPTd7C9VP1bm/RxWh70GLGZDbbyXO+TqIS04ddM6fwIO6apvvJufXjPhmU"
      "rd+vJo6HxVw1q4YQk+NZf7jFSRQk+i6UZDozxGQ1cw==";
  const PrivateKey key = load_key("dkimpy/2048_testkey_PKCS8.key");
  auto sig = sign(key, SignAlg::RsaSha256, sha256(data));
  ASSERT_TRUE(sig) << sig.error().reason;
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_EQ(base64_encode(*sig), want);
  auto pub = PublicKey::from_dkim_p(
      KeyType::Rsa, b64(tag_value(read_conformance("dkimpy/2048_testkey_PKCS8.key.pub.txt"), "p")));
  ASSERT_TRUE(pub);
  EXPECT_TRUE(*verify(*pub, SignAlg::RsaSha256, sha256(data), b64(want)));
}

// ---------------------------------------------------------------------------------------
// Round trips for every key and algorithm, and the errors that mean "unusable".

struct RoundTrip {
  std::string_view name, private_key;
  SignAlg alg;
  std::size_t sig_bytes;
};
void PrintTo(const RoundTrip& c, std::ostream* os) { *os << c.name; }

const RoundTrip kRoundTrips[] = {
    {"rsa1024", "dkimpy/1024_testkey.key", SignAlg::RsaSha256, 128},
    {"rsa2048", "dkimpy/2048_testkey.key", SignAlg::RsaSha256, 256},
    {"rsa2048_pkcs8", "dkimpy/2048_testkey_PKCS8.key", SignAlg::RsaSha256, 256},
    {"ed25519_dkimpy", "dkimpy/ed25519test.key", SignAlg::Ed25519Sha256, 64},
    {"ed25519_maildkim", "mail-dkim/test.ed.key", SignAlg::Ed25519Sha256, 64},
};

class SignVerify : public testing::TestWithParam<RoundTrip> {};

TEST_P(SignVerify, RoundTripAndTamper) {
  const PrivateKey key = load_key(GetParam().private_key);
  const PublicKey pub = PublicKey::from_private(key);
  std::mt19937 rng(8463);
  for (int i = 0; i < 5; ++i) {
    std::string data(static_cast<std::size_t>(rng() % 500), '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::string digest = sha256(data);
    auto sig = sign(key, GetParam().alg, digest);
    ASSERT_TRUE(sig) << sig.error().reason;
    EXPECT_EQ(sig->size(), GetParam().sig_bytes);
    EXPECT_TRUE(*verify(pub, GetParam().alg, digest, *sig));
    std::string tampered = digest;
    tampered[31] = static_cast<char>(tampered[31] ^ 0x01);
    EXPECT_FALSE(*verify(pub, GetParam().alg, tampered, *sig));
  }
  // Another key of the same type does not verify it.
  auto other = key.type() == KeyType::Rsa ? PrivateKey::generate_rsa(key.bits())
                                          : PrivateKey::generate_ed25519();
  ASSERT_TRUE(other);
  const std::string digest = sha256("x");
  EXPECT_FALSE(*verify(PublicKey::from_private(*other), GetParam().alg, digest,
                       *sign(key, GetParam().alg, digest)));
}

TEST_P(SignVerify, UnusableRequestsAreErrorsNotFailures) {
  const PrivateKey key = load_key(GetParam().private_key);
  const PublicKey pub = PublicKey::from_private(key);
  const SignAlg wrong = GetParam().alg == SignAlg::Ed25519Sha256 ? SignAlg::RsaSha256
                                                                 : SignAlg::Ed25519Sha256;
  const std::string digest = sha256("data");

  auto mismatch = verify(pub, wrong, digest, std::string(64, 'x'));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::Invalid);
  EXPECT_NE(mismatch.error().reason.find("key type mismatch"), std::string::npos);
  auto sign_mismatch = sign(key, wrong, digest);
  ASSERT_FALSE(sign_mismatch);
  EXPECT_EQ(sign_mismatch.error().code, ErrorCode::Invalid);

  for (std::size_t len : {0, 20, 31, 33, 64}) {
    const std::string d(len, 'd');
    auto v = verify(pub, GetParam().alg, d, std::string(GetParam().sig_bytes, 's'));
    ASSERT_FALSE(v) << "digest length " << len;
    EXPECT_EQ(v.error().code, ErrorCode::Invalid);
    EXPECT_NE(v.error().reason.find("digest must be 32 bytes"), std::string::npos);
    EXPECT_FALSE(sign(key, GetParam().alg, d));
  }
}

INSTANTIATE_TEST_SUITE_P(CryptoSign, SignVerify, testing::ValuesIn(kRoundTrips),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CryptoSign, RsaSha1WantsASha1Digest) {
  const PublicKey pub = PublicKey::from_private(load_key("dkimpy/1024_testkey.key"));
  auto v = verify(pub, SignAlg::RsaSha1, sha256("x"), std::string(128, 's'));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().reason.find("digest must be 20 bytes"), std::string::npos);
  // A well-formed sha1 digest with a garbage signature is a plain "does not verify".
  auto f = verify(pub, SignAlg::RsaSha1, sha1("x"), std::string(128, 's'));
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
}

TEST(CryptoSign, RefusesRsaKeysBelowTheMinimum) {
  // A 512-bit key (made with openssl): RFC 8301 §3.2 forbids signing with it.
  auto small = PrivateKey::load_pem(
      "-----BEGIN RSA PRIVATE KEY-----\n"
      "MIIBPAIBAAJBALsqZ9MhCHYWrnM0+VBlYoE39uii8HKEJaGnPcBie8vEItm9yHwS\n"
      "cxt/7C5WEXpI5djC65qPUL8spMDj8Vuv9M8CAwEAAQJBAJxctfZlb2swUbd/txVa\n"
      "TewENCtwDI6vJb0iOe2imSfGGnXlr/s/oKXJeEa1fu/oZLOrmnbsjiKl3MukTsgO\n"
      "yDECIQDqjLEiT4AuXS/Hsxmh8MpwTt+EPj75kS2AoTXVRSo6BwIhAMxIWrONNywN\n"
      "v4qExo2h/Q5QBmChOXKuZ+Ez3CncZVz5AiA8QRBwRAQl5QKVRsla9MTMvTZmfqcm\n"
      "7cjGtqNhunbymQIhAIHbTKzui6/ZXXT0SjMmUfKTNDqgwiAAddBWYxHJJDYhAiEA\n"
      "xmXpJPesDQkPKZOMB4VMXaT/fEhrZQbgbs4HC+2Dmco=\n"
      "-----END RSA PRIVATE KEY-----\n");
  ASSERT_TRUE(small) << small.error().reason;
  EXPECT_EQ(small->bits(), 512u);
  auto r = sign(*small, SignAlg::RsaSha256, sha256("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  EXPECT_NE(r.error().reason.find("RFC 8301"), std::string::npos);
}

TEST(CryptoSign, AlgorithmNames) {
  for (SignAlg a : {SignAlg::RsaSha1, SignAlg::RsaSha256, SignAlg::Ed25519Sha256}) {
    auto parsed = parse_sign_alg(to_string(a));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(key_type_of(SignAlg::RsaSha1), KeyType::Rsa);
  EXPECT_EQ(key_type_of(SignAlg::RsaSha256), KeyType::Rsa);
  EXPECT_EQ(key_type_of(SignAlg::Ed25519Sha256), KeyType::Ed25519);
  EXPECT_EQ(hash_alg_of(SignAlg::RsaSha1), HashAlg::Sha1);
  EXPECT_EQ(hash_alg_of(SignAlg::RsaSha256), HashAlg::Sha256);
  EXPECT_EQ(hash_alg_of(SignAlg::Ed25519Sha256), HashAlg::Sha256);
  for (std::string_view bad : {std::string_view(""), std::string_view("RSA-SHA256"),
                               std::string_view("rsa-sha512"), std::string_view("ed25519"),
                               std::string_view("rsa-sha256 "),
                               std::string_view("ed25519-sha256\0", 15)}) {
    auto r = parse_sign_alg(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  }
  EXPECT_FALSE(parse_sign_alg(std::string(10000, 'a')));
}

// ---------------------------------------------------------------------------------------
// One loaded key, many milter threads.

TEST(CryptoSign, ConcurrentUseOfOneKey) {
  const PrivateKey rsa = load_key("dkimpy/2048_testkey.key");
  const PrivateKey ed = load_key("rfc8463/ed25519-private-pkcs8.pem");
  const PublicKey rsa_pub = PublicKey::from_private(rsa);
  const PublicKey ed_pub = PublicKey::from_private(ed);
  const auto signer = std::make_shared<const LocalSigner>(ed);
  const std::string ed_digest = sha256(read_conformance("rfc8463/signed-data-ed25519.txt"));
  const std::string ed_want = b64(
      "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string digest = sha256("thread " + std::to_string(t) + " message " + std::to_string(i));
        auto rs = sign(rsa, SignAlg::RsaSha256, digest);
        if (!rs || !*verify(rsa_pub, SignAlg::RsaSha256, digest, *rs)) ++failures;
        auto es = signer->sign_digest(SignAlg::Ed25519Sha256, ed_digest);
        if (!es || *es != ed_want || !*verify(ed_pub, SignAlg::Ed25519Sha256, ed_digest, *es)) ++failures;
        // Copies of a key made in a thread are fine too.
        const PublicKey copy = rsa_pub;
        if (*verify(copy, SignAlg::RsaSha256, sha256("other"), *rs)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Contexts come from per-key templates (key_internal.h): the first use may race, later
// ones duplicate. PKCS#1 v1.5 is deterministic, so every thread must produce the reference
// signature of a fresh key, and both hash templates stay apart.
TEST(CryptoSign, TemplatesGiveTheSameSignaturesFromEveryThread) {
  const PrivateKey rsa = load_key("dkimpy/2048_testkey.key");
  const PrivateKey fresh = load_key("dkimpy/2048_testkey.key");  // its own, untouched templates
  const PublicKey pub = PublicKey::from_private(rsa);
  const std::string digest = sha256("reference message");
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto s = sign(rsa, SignAlg::RsaSha256, digest);
        if (!s || (!got[t].empty() && got[t] != *s)) {
          got[t] = "mismatch";
          return;
        }
        got[t] = *s;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto want = sign(fresh, SignAlg::RsaSha256, digest);
  ASSERT_TRUE(want);
  for (const auto& g : got) EXPECT_EQ(g, *want);
  EXPECT_TRUE(*verify(pub, SignAlg::RsaSha256, digest, *want));
  // A SHA-1 verification of the same key uses its own template: a SHA-256 signature over the
  // first 20 bytes as a SHA-1 digest does not verify, and the SHA-256 one still does.
  EXPECT_FALSE(*verify(pub, SignAlg::RsaSha1, digest.substr(0, 20), *want));
  EXPECT_TRUE(*verify(pub, SignAlg::RsaSha256, digest, *want));
}

}  // namespace
}  // namespace auth::crypto
