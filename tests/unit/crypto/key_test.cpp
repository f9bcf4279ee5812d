#include "auth/crypto/key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "unit/crypto/test_util.h"

namespace auth::crypto {
namespace {

using test::b64;
using test::read_conformance;
using test::tag_value;

// ---------------------------------------------------------------------------------------
// Every private key in the conformance data loads, with the right type and size.

struct KeyFile {
  std::string_view name, path;
  KeyType type;
  unsigned bits;
  std::string_view format;
};
void PrintTo(const KeyFile& c, std::ostream* os) { *os << c.name; }

const KeyFile kKeyFiles[] = {
    {"dkimpy_1024_pkcs1", "dkimpy/1024_testkey.key", KeyType::Rsa, 1024, "PKCS#1 PEM"},
    {"dkimpy_2048_pkcs1", "dkimpy/2048_testkey.key", KeyType::Rsa, 2048, "PKCS#1 PEM"},
    {"dkimpy_2048_pkcs8", "dkimpy/2048_testkey_PKCS8.key", KeyType::Rsa, 2048, "PKCS#8 PEM"},
    {"dkimpy_test_private", "dkimpy/test.private", KeyType::Rsa, 1024, "PKCS#1 PEM"},
    {"dkimpy_ed25519_seed", "dkimpy/ed25519test.key", KeyType::Ed25519, 256, "base64 seed"},
    {"dkimpy_rfc8032_seed", "dkimpy/rfc8032_7_1.key", KeyType::Ed25519, 256, "base64 seed"},
    {"rfc8463_rsa", "rfc8463/rsa-private.pem", KeyType::Rsa, 1024, "PKCS#1 PEM"},
    {"rfc8463_ed25519_pkcs8", "rfc8463/ed25519-private-pkcs8.pem", KeyType::Ed25519, 256,
     "PKCS#8 PEM"},
    {"rfc8463_ed25519_seed", "rfc8463/ed25519-private-seed.b64", KeyType::Ed25519, 256,
     "base64 seed"},
    {"maildkim_rsa", "mail-dkim/test.key", KeyType::Rsa, 1024, "PKCS#1 PEM"},
    {"maildkim_ed25519", "mail-dkim/test.ed.key", KeyType::Ed25519, 256, "PKCS#8 PEM"},
};

class ConformanceKey : public testing::TestWithParam<KeyFile> {};

TEST_P(ConformanceKey, LoadsFromFile) {
  auto k = PrivateKey::load_file(test::conformance_path(GetParam().path));
  ASSERT_TRUE(k) << k.error().reason;
  EXPECT_EQ(k->type(), GetParam().type);
  EXPECT_EQ(k->bits(), GetParam().bits);
  const PublicKey pub = PublicKey::from_private(*k);
  EXPECT_EQ(pub.type(), GetParam().type);
  EXPECT_EQ(pub.bits(), GetParam().bits);
}

TEST_P(ConformanceKey, SameKeyInEveryEncoding) {
  const std::string text = read_conformance(GetParam().path);
  if (text.find("-----BEGIN") == std::string::npos) {
    // dkimpy's format: base64 of the RFC 8032 seed; the raw seed gives the same key.
    ASSERT_EQ(GetParam().format, "base64 seed");
    auto seed = PrivateKey::from_ed25519_seed(b64(text));
    auto loaded = PrivateKey::load(text);
    ASSERT_TRUE(seed);
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(PublicKey::from_private(*seed) == PublicKey::from_private(*loaded));
    EXPECT_FALSE(PrivateKey::load_pem(text));  // not PEM
    return;
  }
  auto pem = PrivateKey::load_pem(text);
  ASSERT_TRUE(pem) << pem.error().reason;
  const std::string der = test::pem_body(text);
  auto k = PrivateKey::load_der(der);
  ASSERT_TRUE(k) << k.error().reason;
  EXPECT_EQ(k->type(), GetParam().type);
  EXPECT_EQ(k->bits(), GetParam().bits);
  EXPECT_TRUE(PublicKey::from_private(*k) == PublicKey::from_private(*pem));
  // load() detects DER by its leading SEQUENCE.
  EXPECT_TRUE(PrivateKey::load(der));
  // Trailing garbage after the DER is refused.
  auto trailing = PrivateKey::load_der(der + "x");
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code, ErrorCode::Syntax);
  EXPECT_NE(trailing.error().reason.find("1 trailing byte"), std::string::npos) << trailing.error().reason;
  // Truncated DER is refused.
  EXPECT_FALSE(PrivateKey::load_der(der.substr(0, der.size() - 1)));
}

INSTANTIATE_TEST_SUITE_P(CryptoKey, ConformanceKey, testing::ValuesIn(kKeyFiles),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Published public keys: p= as SubjectPublicKeyInfo and as bare RSAPublicKey, and Ed25519 raw.

struct Published {
  std::string_view name, private_path, record_path;
  KeyType type;
  unsigned bits;
  bool spki;  // p= is what dkim_p() exports (SPKI for RSA, raw for Ed25519)
};
void PrintTo(const Published& c, std::ostream* os) { *os << c.name; }

const Published kPublished[] = {
    {"1024_spki", "dkimpy/1024_testkey.key", "dkimpy/1024_testkey_wo_markers.pub.txt", KeyType::Rsa,
     1024, true},
    {"1024_rsapublickey", "dkimpy/1024_testkey.key", "dkimpy/1024_testkey_wo_markers.pub.rsa.txt",
     KeyType::Rsa, 1024, false},
    {"2048_spki", "dkimpy/2048_testkey.key", "dkimpy/2048_testkey_wo_markers.pub.txt", KeyType::Rsa,
     2048, true},
    {"2048_rsapublickey", "dkimpy/2048_testkey.key", "dkimpy/2048_testkey_wo_markers.pub.rsa.txt",
     KeyType::Rsa, 2048, false},
    {"2048_pkcs8", "dkimpy/2048_testkey_PKCS8.key", "dkimpy/2048_testkey_PKCS8.key.pub.txt",
     KeyType::Rsa, 2048, true},
    {"test_private", "dkimpy/test.private", "dkimpy/test.txt", KeyType::Rsa, 1024, true},
    {"ed25519", "dkimpy/ed25519test.key", "dkimpy/ed25519test.dns", KeyType::Ed25519, 256, true},
};

class PublishedKey : public testing::TestWithParam<Published> {};

TEST_P(PublishedKey, MatchesThePrivateKey) {
  const std::string p = b64(tag_value(read_conformance(GetParam().record_path), "p"));
  auto pub = PublicKey::from_dkim_p(GetParam().type, p);
  ASSERT_TRUE(pub) << pub.error().reason;
  EXPECT_EQ(pub->type(), GetParam().type);
  EXPECT_EQ(pub->bits(), GetParam().bits);

  auto priv = PrivateKey::load_file(test::conformance_path(GetParam().private_path));
  ASSERT_TRUE(priv) << priv.error().reason;
  const PublicKey mine = PublicKey::from_private(*priv);
  EXPECT_TRUE(mine == *pub);

  auto exported = mine.dkim_p();
  ASSERT_TRUE(exported);
  if (GetParam().spki) {
    EXPECT_EQ(base64_encode(*exported), base64_encode(p));
  } else {
    EXPECT_NE(*exported, p);  // we publish SPKI, the record holds bare RSAPublicKey
  }
  // What we export reads back as the same key.
  auto back = PublicKey::from_dkim_p(GetParam().type, *exported);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == *pub);
}

INSTANTIATE_TEST_SUITE_P(CryptoKey, PublishedKey, testing::ValuesIn(kPublished),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CryptoKey, Rfc8463ZoneKeysMatchTheirPrivateKeys) {
  const std::string ed_p =
      b64(tag_value(test::zone_record("brisbane._domainkey.football.example.com"), "p"));
  const std::string rsa_p =
      b64(tag_value(test::zone_record("test._domainkey.football.example.com"), "p"));
  auto ed = PublicKey::from_dkim_p(KeyType::Ed25519, ed_p);
  auto rsa = PublicKey::from_dkim_p(KeyType::Rsa, rsa_p);
  ASSERT_TRUE(ed) << ed.error().reason;
  ASSERT_TRUE(rsa) << rsa.error().reason;
  EXPECT_EQ(ed->bits(), 256u);
  EXPECT_EQ(rsa->bits(), 1024u);

  auto seed = PrivateKey::from_ed25519_seed(b64(read_conformance("rfc8463/ed25519-private-seed.b64")));
  ASSERT_TRUE(seed);
  EXPECT_TRUE(PublicKey::from_private(*seed) == *ed);
  auto pkcs8 = PrivateKey::load_file(test::conformance_path("rfc8463/ed25519-private-pkcs8.pem"));
  ASSERT_TRUE(pkcs8);
  EXPECT_TRUE(PublicKey::from_private(*pkcs8) == *ed);
  auto rsa_priv = PrivateKey::load_file(test::conformance_path("rfc8463/rsa-private.pem"));
  ASSERT_TRUE(rsa_priv);
  EXPECT_TRUE(PublicKey::from_private(*rsa_priv) == *rsa);
  EXPECT_FALSE(PublicKey::from_private(*rsa_priv) == *ed);
  // RFC 8032 §7.1 test 1: the public key of that seed.
  EXPECT_EQ(test::hex(*PublicKey::from_private(*seed).dkim_p()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
}

TEST(CryptoKey, LegacySmallKeysReportTheirSize) {
  // Mail::DKIM's corpus publishes 512-bit keys: they parse, bits() lets the verifier apply
  // the RFC 8301 §3.2 minimum.
  auto pub = PublicKey::from_dkim_p(
      KeyType::Rsa, b64("MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmfcIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/"
                        "AVJ+dYfY+hXqMsT7l+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ=="));
  ASSERT_TRUE(pub) << pub.error().reason;
  EXPECT_EQ(pub->bits(), 512u);
  EXPECT_LT(pub->bits(), kMinRsaBits);
}

// ---------------------------------------------------------------------------------------
// Hostile p= values.

struct BadP {
  std::string_view name;
  KeyType type;
  std::string bytes;
  ErrorCode code;
  std::string_view reason_contains;
};
void PrintTo(const BadP& c, std::ostream* os) { *os << c.name; }

// An EC P-256 SubjectPublicKeyInfo, an Ed25519 SPKI and an RSA-PSS SPKI (made with openssl).
const std::string kEcSpki = b64(
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEF3cw3B1GsLhZkpQsjnbqoJRh9vHFWQZVRJs6uh/ueUiiVE0JszXLvGgONFLhVNqM"
    "dZiumPpTBS4bQLoa21qe4Q==");
const std::string kEd25519Spki = b64("MCowBQYDK2VwAyEAUdxi2zSdheXxy/tH6vOJBwIHo4Etyz+efXJhCsFPQTY=");
const std::string kRsaPssSpki = b64(
    "MIGdMAsGCSqGSIb3DQEBCgOBjQAwgYkCgYEAsZo1QnXUA/dcn3WDUKI//6pJ5WThfTpviDFfiNK3/AfT9atPNcA+ueK9Pii0UFEz"
    "gjPtZtzRRcvZg8QMRRD7afNdfpHqc9mTcSCy6T+0pLypXgRkvGe6g9pKdD1cOVJcsTbcfRqKHdlsNw5dTchOKJhxu1RxlTbfvg8U"
    "YLd6Y4UCAwEAAQ==");
const std::string kRsa1024Spki = b64(
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/"
    "byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+"
    "l/K4w3QIDAQAB");

std::vector<BadP> bad_p_cases() {
  return {
      {"empty_rsa", KeyType::Rsa, "", ErrorCode::Missing, "revoked"},
      {"empty_ed25519", KeyType::Ed25519, "", ErrorCode::Missing, "revoked"},
      {"garbage", KeyType::Rsa, "not a key at all", ErrorCode::Syntax, "neither"},
      {"nul_bytes", KeyType::Rsa, std::string(64, '\0'), ErrorCode::Syntax, "neither"},
      {"non_ascii", KeyType::Rsa, "\xc3\xa9\xff\xfe", ErrorCode::Syntax, "neither"},
      {"dkimpy_test_bad", KeyType::Rsa,
       b64(tag_value(read_conformance("dkimpy/test_bad.txt"), "p")), ErrorCode::Syntax, "neither"},
      {"truncated_spki", KeyType::Rsa, kRsa1024Spki.substr(0, kRsa1024Spki.size() - 5),
       ErrorCode::Syntax, "neither"},
      {"spki_trailing", KeyType::Rsa, kRsa1024Spki + std::string(1, '\0'), ErrorCode::Syntax, "trailing"},
      {"ec_under_rsa", KeyType::Rsa, kEcSpki, ErrorCode::Invalid, "EC"},
      {"ed25519_spki_under_rsa", KeyType::Rsa, kEd25519Spki, ErrorCode::Invalid, "ED25519"},
      {"rsa_pss_under_rsa", KeyType::Rsa, kRsaPssSpki, ErrorCode::Invalid, "RSA-PSS"},
      {"ed25519_spki", KeyType::Ed25519, kEd25519Spki, ErrorCode::Syntax, "SubjectPublicKeyInfo"},
      {"ed25519_31_bytes", KeyType::Ed25519, std::string(31, 'k'), ErrorCode::Syntax, "got 31"},
      {"ed25519_33_bytes", KeyType::Ed25519, std::string(33, 'k'), ErrorCode::Syntax, "got 33"},
      {"rsa_key_under_ed25519", KeyType::Ed25519, kRsa1024Spki, ErrorCode::Syntax, "32 raw bytes"},
      {"ten_thousand_bytes", KeyType::Rsa, std::string(10000, 'A'), ErrorCode::LimitExceeded, "limit"},
      {"ten_thousand_sequences", KeyType::Rsa, std::string(8000, '\x30'), ErrorCode::Syntax, "neither"},
  };
}

class HostilePublicKey : public testing::TestWithParam<BadP> {};

TEST_P(HostilePublicKey, Rejected) {
  auto r = PublicKey::from_dkim_p(GetParam().type, GetParam().bytes);
  ASSERT_FALSE(r) << "accepted, bits " << r->bits();
  EXPECT_EQ(r.error().code, GetParam().code) << "got " << to_string(r.error().code) << ": " << r.error().reason;
  EXPECT_NE(r.error().reason.find(GetParam().reason_contains), std::string::npos)
      << "got reason '" << r.error().reason << "' want it to contain '" << GetParam().reason_contains << "'";
}

INSTANTIATE_TEST_SUITE_P(CryptoKey, HostilePublicKey, testing::ValuesIn(bad_p_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CryptoKey, DkimPByteFlipsNeverCrash) {
  // Every single-byte corruption of a valid SPKI either fails cleanly or yields an RSA key.
  for (std::size_t i = 0; i < kRsa1024Spki.size(); ++i) {
    std::string bad = kRsa1024Spki;
    bad[i] = static_cast<char>(bad[i] ^ 0x55);
    auto r = PublicKey::from_dkim_p(KeyType::Rsa, bad);
    if (r) {
      EXPECT_EQ(r->type(), KeyType::Rsa);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Hostile private keys.

// An EC P-256 private key (made with openssl): well-formed, but DKIM has no EC algorithm.
constexpr std::string_view kEcPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZVrY1Qrk0U2w+j3G\n"
    "O1LKEEO+FMm5eh37UQpS8P2vQ1ihRANCAATyXPvaGFSyDcXfT1kOQQWI94SUgZ9F\n"
    "Z6VURaoV21xRhZcOwJhXl3uFughkSUhySvShVdObFe6X9x+46EqJ/uRg\n"
    "-----END PRIVATE KEY-----\n";

TEST(CryptoKey, PrivateKeyRejections) {
  auto ec = PrivateKey::load_pem(kEcPem);
  ASSERT_FALSE(ec);
  EXPECT_EQ(ec.error().code, ErrorCode::Unsupported);
  EXPECT_NE(ec.error().reason.find("EC"), std::string::npos) << ec.error().reason;

  auto enc = PrivateKey::load(
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQww\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_FALSE(enc);
  EXPECT_EQ(enc.error().code, ErrorCode::Unsupported);
  EXPECT_NE(enc.error().reason.find("encrypted"), std::string::npos);

  auto legacy_enc = PrivateKey::load_pem(
      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
      "-----END RSA PRIVATE KEY-----\n");
  ASSERT_FALSE(legacy_enc);
  EXPECT_EQ(legacy_enc.error().code, ErrorCode::Unsupported);

  // A public key is not a private key.
  auto pub = PrivateKey::load_pem(
      "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAUdxi2zSdheXxy/tH6vOJBwIHo4Etyz+efXJhCsFPQTY=\n"
      "-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code, ErrorCode::Syntax);

  // Truncated PEM: cut in the middle of the base64 body.
  const std::string rsa = read_conformance("dkimpy/1024_testkey.key");
  auto cut = PrivateKey::load_pem(rsa.substr(0, rsa.size() / 2));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::Syntax);
  // A corrupted body (one base64 character changed inside the modulus) is caught.
  std::string corrupt = rsa;
  corrupt[100] = corrupt[100] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(PrivateKey::load_pem(corrupt));

  EXPECT_EQ(PrivateKey::load("").error().code, ErrorCode::Syntax);
  EXPECT_EQ(PrivateKey::load("   \n").error().code, ErrorCode::Syntax);
  EXPECT_EQ(PrivateKey::load("hello").error().code, ErrorCode::Syntax);
  EXPECT_EQ(PrivateKey::load(std::string(10000, 'A')).error().code, ErrorCode::Syntax);
  EXPECT_EQ(PrivateKey::load(std::string(10000, '\x30')).error().code, ErrorCode::Syntax);
  EXPECT_EQ(PrivateKey::load_pem(std::string(kMaxKeyFileBytes + 1, 'A')).error().code,
            ErrorCode::LimitExceeded);
  // base64 of 31 or 33 bytes is not a seed.
  EXPECT_FALSE(PrivateKey::load(base64_encode(std::string(31, 'x'))));
  EXPECT_FALSE(PrivateKey::load(base64_encode(std::string(33, 'x'))));
  EXPECT_EQ(PrivateKey::from_ed25519_seed(std::string(31, 'x')).error().code, ErrorCode::Invalid);

  // Text before the PEM block (as in "key + comment" files) is ignored.
  auto with_text = PrivateKey::load("# test key\n" + rsa);
  ASSERT_TRUE(with_text) << with_text.error().reason;
  EXPECT_EQ(with_text->bits(), 1024u);

  // PEM with CRLF line endings.
  std::string crlf;
  for (char c : rsa) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_TRUE(PrivateKey::load(crlf));
}

// ---------------------------------------------------------------------------------------
// Generation, PEM export, reload.

TEST(CryptoKey, GenerateRsaToPemReload) {
  auto k = PrivateKey::generate_rsa(1024);
  ASSERT_TRUE(k) << k.error().reason;
  EXPECT_EQ(k->type(), KeyType::Rsa);
  EXPECT_EQ(k->bits(), 1024u);
  auto pem = k->to_pem();
  ASSERT_TRUE(pem) << pem.error().reason;
  EXPECT_TRUE(pem->starts_with("-----BEGIN RSA PRIVATE KEY-----\n")) << *pem;
  EXPECT_NE(pem->find("-----END RSA PRIVATE KEY-----"), std::string::npos);
  auto back = PrivateKey::load_pem(*pem);
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_EQ(back->bits(), 1024u);
  EXPECT_TRUE(PublicKey::from_private(*back) == PublicKey::from_private(*k));
  // The exported p= is SPKI, as opendkim-genkey publishes it.
  auto p = PublicKey::from_private(*k).dkim_p();
  ASSERT_TRUE(p);
  EXPECT_TRUE(base64_encode(*p).starts_with("MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ"));

  auto k2048 = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(k2048);
  EXPECT_EQ(k2048->bits(), 2048u);
  EXPECT_FALSE(PublicKey::from_private(*k2048) == PublicKey::from_private(*k));
}

TEST(CryptoKey, GenerateEd25519ToPemReload) {
  auto k = PrivateKey::generate_ed25519();
  ASSERT_TRUE(k) << k.error().reason;
  EXPECT_EQ(k->type(), KeyType::Ed25519);
  EXPECT_EQ(k->bits(), 256u);
  auto pem = k->to_pem();
  ASSERT_TRUE(pem) << pem.error().reason;
  EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----\n")) << *pem;
  auto back = PrivateKey::load(*pem);
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_TRUE(PublicKey::from_private(*back) == PublicKey::from_private(*k));
  auto p = PublicKey::from_private(*k).dkim_p();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 32u);
  auto other = PrivateKey::generate_ed25519();
  ASSERT_TRUE(other);
  EXPECT_FALSE(PublicKey::from_private(*other) == PublicKey::from_private(*k));
}

TEST(CryptoKey, Rfc8463Ed25519PemMatchesTheSeed) {
  // to_pem() of the seed key is exactly the PKCS#8 file in the conformance data.
  auto seed = PrivateKey::load(read_conformance("rfc8463/ed25519-private-seed.b64"));
  ASSERT_TRUE(seed) << seed.error().reason;
  EXPECT_EQ(*seed->to_pem(), read_conformance("rfc8463/ed25519-private-pkcs8.pem"));
  // And the PKCS#1 export of the RFC 8463 RSA key is the PKCS#1 file.
  auto rsa = PrivateKey::load_file(test::conformance_path("rfc8463/rsa-private.pem"));
  ASSERT_TRUE(rsa);
  EXPECT_EQ(*rsa->to_pem(), read_conformance("rfc8463/rsa-private.pem"));
}

TEST(CryptoKey, GenerateRsaBounds) {
  EXPECT_EQ(PrivateKey::generate_rsa(512).error().code, ErrorCode::LimitExceeded);
  EXPECT_EQ(PrivateKey::generate_rsa(1023).error().code, ErrorCode::LimitExceeded);
  EXPECT_EQ(PrivateKey::generate_rsa(kMaxRsaBits + 1).error().code, ErrorCode::LimitExceeded);
}

TEST(CryptoKey, TypeNames) {
  EXPECT_STREQ(to_string(KeyType::Rsa), "rsa");
  EXPECT_STREQ(to_string(KeyType::Ed25519), "ed25519");
  EXPECT_EQ(*parse_key_type("rsa"), KeyType::Rsa);
  EXPECT_EQ(*parse_key_type("ed25519"), KeyType::Ed25519);
  EXPECT_EQ(parse_key_type("RSA").error().code, ErrorCode::Unsupported);  // RFC 6376 §3.2
  EXPECT_FALSE(parse_key_type("ed25519-sha256"));                         // dkimpy badk.txt
  EXPECT_FALSE(parse_key_type(""));
}

// ---------------------------------------------------------------------------------------
// Key files on disk: mode check and load_file limits.

class CryptoKeyFileOnDisk : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TempDir() + "inkan_crypto_key_" + std::to_string(::getpid()) + ".pem";
    std::ofstream(path_) << read_conformance("dkimpy/1024_testkey.key");
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(CryptoKeyFileOnDisk, ModeCheck) {
  struct ModeCase {
    unsigned mode;
    bool ok;
  };
  const ModeCase cases[] = {{0600, true},  {0400, true},  {0700, true},  {0640, false},
                            {0644, false}, {0604, false}, {0620, false}, {0602, false},
                            {0660, false}, {0666, false}, {0610, true}};  // x bits are harmless
  for (const auto& c : cases) {
    ASSERT_EQ(::chmod(path_.c_str(), c.mode), 0);
    auto r = check_private_key_file_mode(path_);
    EXPECT_EQ(r.has_value(), c.ok) << "mode " << std::oct << c.mode;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::Invalid);
      EXPECT_NE(r.error().reason.find(path_), std::string::npos);
      EXPECT_NE(r.error().reason.find("chmod 600"), std::string::npos);
    }
  }
  ::chmod(path_.c_str(), 0644);
  EXPECT_NE(check_private_key_file_mode(path_).error().reason.find("mode 0644"), std::string::npos);

  EXPECT_EQ(check_private_key_file_mode(path_ + ".missing").error().code, ErrorCode::Io);
  EXPECT_EQ(check_private_key_file_mode(testing::TempDir()).error().code, ErrorCode::Invalid);
  // The pure half.
  EXPECT_TRUE(check_private_key_mode(0100600, "k"));
  EXPECT_FALSE(check_private_key_mode(0100640, "k"));
}

TEST_F(CryptoKeyFileOnDisk, LoadFile) {
  ::chmod(path_.c_str(), 0600);
  auto k = PrivateKey::load_file(path_);
  ASSERT_TRUE(k) << k.error().reason;
  EXPECT_EQ(k->bits(), 1024u);

  auto missing = PrivateKey::load_file(path_ + ".missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::Io);
  EXPECT_NE(missing.error().reason.find(path_), std::string::npos);

  std::ofstream(path_) << std::string(kMaxKeyFileBytes + 1, '\n');
  EXPECT_EQ(PrivateKey::load_file(path_).error().code, ErrorCode::LimitExceeded);

  std::ofstream(path_) << "garbage";
  auto bad = PrivateKey::load_file(path_);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Syntax);
  EXPECT_TRUE(bad.error().reason.starts_with(path_ + ": ")) << bad.error().reason;

  EXPECT_EQ(PrivateKey::load_file(testing::TempDir()).error().code, ErrorCode::Io);  // a directory
}

}  // namespace
}  // namespace auth::crypto
