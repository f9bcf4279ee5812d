#include "auth/crypto/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "unit/crypto/test_util.h"

namespace auth::crypto {
namespace {

using test::hex;

struct Known {
  std::string_view name;
  HashAlg alg;
  std::string input;
  std::string_view want_hex;
};
void PrintTo(const Known& c, std::ostream* os) { *os << c.name; }

// FIPS 180-2 / RFC 3174 / RFC 6234 known answers.
const Known kKnown[] = {
    {"sha1_empty", HashAlg::Sha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"sha1_abc", HashAlg::Sha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"sha1_448bits", HashAlg::Sha1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {"sha1_million_a", HashAlg::Sha1, std::string(1000000, 'a'),
     "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {"sha256_empty", HashAlg::Sha256, "",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"sha256_abc", HashAlg::Sha256, "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"sha256_448bits", HashAlg::Sha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"sha256_million_a", HashAlg::Sha256, std::string(1000000, 'a'),
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    // RFC 6376 §3.4.3/§3.4.4: the body hash of an empty body, simple ("\r\n") and relaxed ("").
    {"sha256_simple_empty_body", HashAlg::Sha256, "\r\n",
     "7eb70257593da06f682a3ddda54a9d260d4fc514f645237f5ca74b08f8da61a6"},
    {"sha1_nul_bytes", HashAlg::Sha1, std::string(3, '\0'),
     "29e2dcfbb16f63bb0254df7585a15bb6fb5e927d"},
};

class KnownAnswer : public testing::TestWithParam<Known> {};

TEST_P(KnownAnswer, OneShot) {
  EXPECT_EQ(hex(hash(GetParam().alg, GetParam().input)), GetParam().want_hex);
}

TEST_P(KnownAnswer, Streaming) {
  Hasher h(GetParam().alg);
  const std::string& in = GetParam().input;
  for (std::size_t i = 0; i < in.size(); i += 997) h.update(std::string_view(in).substr(i, 997));
  EXPECT_EQ(h.bytes_hashed(), in.size());
  const std::string d = h.finish();
  EXPECT_EQ(d.size(), digest_size(GetParam().alg));
  EXPECT_EQ(hex(d), GetParam().want_hex);
}

INSTANTIATE_TEST_SUITE_P(CryptoHash, KnownAnswer, testing::ValuesIn(kKnown),
                         [](const auto& info) { return std::string(info.param.name); });

class EverySplit : public testing::TestWithParam<HashAlg> {};

// 200 bytes cross three 64-byte compression blocks; every split must give the one-shot digest.
TEST_P(EverySplit, TwoPiecesAndFixedChunks) {
  std::string data;
  for (int i = 0; i < 200; ++i) data += static_cast<char>((i * 37 + 11) & 0xFF);
  const std::string want = hash(GetParam(), data);
  const std::string_view v(data);
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    Hasher h(GetParam());
    h.update(v.substr(0, cut));
    h.update(v.substr(cut));
    EXPECT_EQ(hex(h.finish()), hex(want)) << "split at " << cut;
  }
  for (std::size_t chunk = 1; chunk <= data.size(); ++chunk) {
    Hasher h(GetParam());
    for (std::size_t i = 0; i < data.size(); i += chunk) h.update(v.substr(i, chunk));
    EXPECT_EQ(hex(h.finish()), hex(want)) << "chunk size " << chunk;
  }
}

// DKIM forks the header hash: a copy continues independently from the same state.
TEST_P(EverySplit, CopyForksTheState) {
  Hasher common(GetParam());
  common.update("From: a@example.org\r\n");
  Hasher fork1 = common;
  Hasher fork2(GetParam());
  fork2 = common;
  fork1.update("dkim-signature:one");
  fork2.update("dkim-signature:two");
  EXPECT_EQ(fork1.finish(), hash(GetParam(), "From: a@example.org\r\ndkim-signature:one"));
  EXPECT_EQ(fork2.finish(), hash(GetParam(), "From: a@example.org\r\ndkim-signature:two"));
  // The original was not disturbed by its copies.
  EXPECT_EQ(common.bytes_hashed(), 21u);
  EXPECT_EQ(common.finish(), hash(GetParam(), "From: a@example.org\r\n"));
}

TEST_P(EverySplit, FinishResetsAndMoveKeepsState) {
  Hasher h(GetParam());
  h.update("abc");
  Hasher moved = std::move(h);
  EXPECT_EQ(moved.finish(), hash(GetParam(), "abc"));
  EXPECT_EQ(moved.bytes_hashed(), 0u);
  EXPECT_EQ(moved.finish(), hash(GetParam(), ""));  // fresh state after finish()
  moved.update("x");
  moved.reset();
  moved.update("abc");
  EXPECT_EQ(moved.finish(), hash(GetParam(), "abc"));
  Hasher assigned(HashAlg::Sha1);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.alg(), GetParam());
  assigned.update("");  // empty update is a no-op
  EXPECT_EQ(assigned.finish(), hash(GetParam(), ""));
}

INSTANTIATE_TEST_SUITE_P(CryptoHash, EverySplit, testing::Values(HashAlg::Sha1, HashAlg::Sha256),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// RFC 8463 Appendix A: bh= is the SHA-256 of the relaxed canonical body.
TEST(CryptoHash, Rfc8463BodyHash) {
  const std::string body = test::read_conformance("rfc8463/canonical-body-relaxed.txt");
  EXPECT_EQ(base64_encode(sha256(body)), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  Hasher h(HashAlg::Sha256);
  for (char c : body) h.update(std::string_view(&c, 1));
  EXPECT_EQ(base64_encode(h.finish()), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
}

TEST(CryptoHash, Names) {
  EXPECT_STREQ(to_string(HashAlg::Sha1), "sha1");
  EXPECT_STREQ(to_string(HashAlg::Sha256), "sha256");
  EXPECT_EQ(digest_size(HashAlg::Sha1), 20u);
  EXPECT_EQ(digest_size(HashAlg::Sha256), 32u);
}

TEST(CryptoHash, TenThousandUpdatesStayBounded) {
  Hasher h(HashAlg::Sha256);
  std::string all;
  for (int i = 0; i < 10000; ++i) {
    h.update("line\r\n");
    all += "line\r\n";
  }
  EXPECT_EQ(h.bytes_hashed(), all.size());
  EXPECT_EQ(h.finish(), sha256(all));
}

}  // namespace
}  // namespace auth::crypto
