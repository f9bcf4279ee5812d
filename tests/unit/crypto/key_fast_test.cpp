// PublicKey::from_dkim_p's fast path for RSA SubjectPublicKeyInfo (a bounded DER walk, then
// d2i_PublicKey on the inner RSAPublicKey) against the general OpenSSL decoding it bypasses:
// same acceptance, same error code, same key, for valid keys of several sizes and for every
// single-byte corruption, truncation and extension of them.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "auth/crypto/key.h"
#include "unit/crypto/test_util.h"

namespace auth::crypto {
namespace {

struct Outcome {
  bool ok = false;
  ErrorCode code = ErrorCode::Internal;
  unsigned bits = 0;
  std::string spki;  // the key re-exported as SubjectPublicKeyInfo (ok only)
};

std::string export_spki(EVP_PKEY* pkey) {
  const int n = i2d_PUBKEY(pkey, nullptr);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_PUBKEY(pkey, &p);
  return out;
}

// The general path, as from_dkim_p decoded every RSA p= before the fast path existed.
Outcome reference(std::string_view bytes) {
  Outcome o;
  o.code = ErrorCode::Syntax;
  if (bytes.empty()) {
    o.code = ErrorCode::Missing;
    return o;
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = begin + bytes.size();
  const long len = static_cast<long>(bytes.size());
  const unsigned char* p = begin;
  EVP_PKEY* pkey = d2i_PUBKEY_ex(nullptr, &p, len, nullptr, nullptr);
  if (pkey != nullptr && p != end) {
    EVP_PKEY_free(pkey);
    return o;
  }
  if (pkey == nullptr) {
    ERR_clear_error();
    p = begin;
    pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len);
    if (pkey != nullptr && p != end) {
      EVP_PKEY_free(pkey);
      return o;
    }
  }
  ERR_clear_error();
  if (pkey == nullptr) return o;
  const int bits = EVP_PKEY_get_bits(pkey);
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || bits <= 0) {
    o.code = ErrorCode::Invalid;
  } else if (static_cast<unsigned>(bits) > kMaxRsaBits) {
    o.code = ErrorCode::LimitExceeded;
  } else {
    o.ok = true;
    o.bits = static_cast<unsigned>(bits);
    o.spki = export_spki(pkey);
  }
  EVP_PKEY_free(pkey);
  return o;
}

Outcome fast(std::string_view bytes) {
  Outcome o;
  auto r = PublicKey::from_dkim_p(KeyType::Rsa, bytes);
  if (!r) {
    o.code = r.error().code;
    return o;
  }
  o.ok = true;
  o.bits = r->bits();
  auto p = r->dkim_p();
  if (p) o.spki = *p;
  return o;
}

void expect_same(std::string_view bytes, const std::string& what) {
  const Outcome want = reference(bytes);
  const Outcome got = fast(bytes);
  ASSERT_EQ(got.ok, want.ok) << what;
  if (want.ok) {
    EXPECT_EQ(got.bits, want.bits) << what;
    EXPECT_EQ(got.spki, want.spki) << what;
  } else {
    EXPECT_EQ(got.code, want.code) << what;
  }
}

std::vector<std::string> make_valid_spkis() {
  std::vector<std::string> out;
  for (unsigned bits : {1024u, 2048u, 3072u}) {
    auto k = PrivateKey::generate_rsa(bits);
    EXPECT_TRUE(k) << k.error().reason;
    if (!k) continue;
    auto p = PublicKey::from_private(*k).dkim_p();
    EXPECT_TRUE(p);
    if (p) out.push_back(*p);
  }
  // The 512-bit key of Mail::DKIM's corpus (1-byte DER lengths throughout).
  out.push_back(test::b64(
      "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmfcIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/"
      "AVJ+dYfY+hXqMsT7l+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ=="));
  return out;
}

// Generated once for all tests (RSA key generation is the slow part).
const std::vector<std::string>& valid_spkis() {
  static const std::vector<std::string> kSpkis = make_valid_spkis();
  return kSpkis;
}

TEST(FastRsaSpki, ValidKeysDecodeToTheSameKey) {
  for (const auto& spki : valid_spkis()) {
    expect_same(spki, "valid");
    auto r = PublicKey::from_dkim_p(KeyType::Rsa, spki);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->dkim_p(), spki);  // round trip
  }
}

TEST(FastRsaSpki, EveryCorruptionDecidesLikeTheGeneralPath) {
  const auto& spkis = valid_spkis();
  for (std::size_t k = 0; k < spkis.size(); ++k) {
    const std::string& spki = spkis[k];
    // Byte flips: only the first 64 bytes (all the DER headers, the start of n) for the big
    // keys, every byte for the small one.
    const std::size_t flips =
        k + 1 == spkis.size() ? spki.size() : std::min<std::size_t>(64, spki.size());
    for (std::size_t i = 0; i < flips; ++i) {
      for (unsigned x : {0x01u, 0x80u, 0xffu}) {
        std::string bad = spki;
        bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ x);
        expect_same(bad, "key " + std::to_string(k) + " byte " + std::to_string(i) + " ^ " +
                             std::to_string(x));
      }
    }
    for (std::size_t n = 0; n < spki.size(); n += (n < 40 ? 1 : 17)) {
      expect_same(std::string_view(spki).substr(0, n), "truncated to " + std::to_string(n));
    }
    expect_same(spki + std::string(1, '\0'), "one trailing byte");
    expect_same(spki + spki, "doubled");
  }
}

TEST(FastRsaSpki, NonCanonicalFormsStillGoTheGeneralWay) {
  // Long-form lengths where the short form would do, and an absent NULL parameter: not the
  // fast path's shape, decided by OpenSSL exactly as before.
  const std::string small = valid_spkis().back();  // 30 5c 30 0d ... 03 4b 00 30 48 ...
  std::string long_outer = std::string("\x30\x81", 2) + small.substr(1);
  expect_same(long_outer, "outer length in long form");
  std::string no_null = small;
  no_null.erase(15, 2);  // drop 05 00
  no_null[1] = static_cast<char>(no_null[1] - 2);
  no_null[3] = static_cast<char>(no_null[3] - 2);
  expect_same(no_null, "AlgorithmIdentifier without NULL");
  std::string unused_bits = small;
  unused_bits[19] = '\x01';  // BIT STRING with one unused bit
  expect_same(unused_bits, "BIT STRING with unused bits");
}

}  // namespace
}  // namespace auth::crypto
