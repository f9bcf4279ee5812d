// auth::dkim::KeyCache: parsed key records shared across messages, keyed by the record's text.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "auth/crypto/key.h"
#include "auth/dkim/key_cache.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"

namespace auth::dkim {
namespace {

constexpr std::int64_t kNow = 1700000000;

const crypto::PrivateKey& ed_key(char seed) {
  static const crypto::PrivateKey a = *crypto::PrivateKey::from_ed25519_seed(std::string(32, 'a'));
  static const crypto::PrivateKey b = *crypto::PrivateKey::from_ed25519_seed(std::string(32, 'b'));
  return seed == 'a' ? a : b;
}

std::string record_of(const crypto::PrivateKey& k) {
  return *format_key_record(crypto::PublicKey::from_private(k));
}

std::shared_ptr<const KeyCache::Entry> entry_of(const std::string& txt) {
  auto r = parse_key_record(txt);
  EXPECT_TRUE(r) << txt;
  return KeyCache::make_entry(std::move(*r));
}

TEST(KeyCache, MakeEntryParsesTheKeyOrSaysWhy) {
  auto good = entry_of(record_of(ed_key('a')));
  ASSERT_TRUE(good->key.has_value());
  EXPECT_EQ(good->key->type(), crypto::KeyType::Ed25519);
  EXPECT_TRUE(good->key_error.empty());

  auto revoked = entry_of("v=DKIM1; k=rsa; p=");
  EXPECT_TRUE(revoked->record.revoked());
  EXPECT_FALSE(revoked->key.has_value());
  EXPECT_TRUE(revoked->key_error.empty());

  auto bad = entry_of("v=DKIM1; k=rsa; p=AAAA");  // base64 fine, not DER
  EXPECT_FALSE(bad->key.has_value());
  EXPECT_FALSE(bad->key_error.empty());
}

TEST(KeyCache, FindsExactlyTheInsertedText) {
  KeyCache c;
  const std::string txt = record_of(ed_key('a'));
  EXPECT_EQ(c.find(txt), nullptr);
  auto e = entry_of(txt);
  c.insert(txt, e);
  EXPECT_EQ(c.find(txt), e);
  EXPECT_EQ(c.find(txt + " "), nullptr);  // another text is another record
  EXPECT_EQ(c.find(""), nullptr);
  EXPECT_EQ(c.size(), 1u);
  c.insert(txt, e);  // again: still one entry
  EXPECT_EQ(c.size(), 1u);
}

TEST(KeyCache, BoundedOldestGoesFirst) {
  KeyCache c(3);
  auto e = entry_of(record_of(ed_key('a')));
  for (int i = 0; i < 10000; ++i) c.insert("v=DKIM1; n=" + std::to_string(i) + "; p=", e);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.find("v=DKIM1; n=9996; p="), nullptr);
  EXPECT_NE(c.find("v=DKIM1; n=9997; p="), nullptr);
  EXPECT_NE(c.find("v=DKIM1; n=9999; p="), nullptr);
}

TEST(KeyCache, OversizedRecordsAndZeroCapacityKeepNothing) {
  auto e = entry_of(record_of(ed_key('a')));
  KeyCache c;
  c.insert(std::string(kMaxKeyRecordBytes + 1, 'x'), e);
  EXPECT_EQ(c.size(), 0u);
  KeyCache none(0);
  none.insert("v=DKIM1; p=", e);
  EXPECT_EQ(none.size(), 0u);
  c.insert("k", nullptr);
  EXPECT_EQ(c.size(), 0u);
}

TEST(KeyCache, ConcurrentUseIsSafe) {
  KeyCache c(64);
  auto e = entry_of(record_of(ed_key('a')));
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string k = std::to_string((i * 7 + t) % 100);
        if (auto f = c.find(k)) {
          EXPECT_EQ(f, e);
        }
        c.insert(k, e);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_LE(c.size(), 64u);
}

/* Through the verifier: same results with and without the cache, and a changed record is
   seen at once (the cache is keyed by text, so it never outlives the DNS answer). */
class VerifierKeyCache : public ::testing::Test {
 protected:
  std::string signed_message(const crypto::PrivateKey& k) {
    SignOptions so;
    so.clock = fixed_clock(kNow);
    SignatureSpec s;
    s.domain = "example.com";
    s.selector = "sel";
    s.key = std::make_shared<crypto::LocalSigner>(k);
    so.signatures = {s};
    const std::string msg = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
    auto f = sign_message(msg, so);
    EXPECT_TRUE(f);
    return (*f)[0] + "\r\n" + msg;
  }
  DkimResult verify(const std::string& m, std::shared_ptr<KeyCache> cache) {
    VerifyOptions o;
    o.clock = fixed_clock(kNow);
    o.key_cache = std::move(cache);
    auto r = verify_message(m, zone_, o);
    return r.size() == 1 ? r[0].result : DkimResult::None;
  }
  dns::ZoneResolver zone_;
};

TEST_F(VerifierKeyCache, SameVerdictsAndRecordChangesSeenAtOnce) {
  auto cache = std::make_shared<KeyCache>();
  const std::string by_a = signed_message(ed_key('a'));
  const std::string by_b = signed_message(ed_key('b'));
  zone_.add_txt("sel._domainkey.example.com", record_of(ed_key('a')));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(verify(by_a, cache), DkimResult::Pass);
    EXPECT_EQ(verify(by_b, cache), DkimResult::Fail);
    EXPECT_EQ(verify(by_b, nullptr), DkimResult::Fail);
  }
  EXPECT_EQ(cache->size(), 1u);
  // Key rotated in DNS: the new text is parsed, the old entry is not used for it.
  zone_.clear();
  zone_.add_txt("sel._domainkey.example.com", record_of(ed_key('b')));
  EXPECT_EQ(verify(by_b, cache), DkimResult::Pass);
  EXPECT_EQ(verify(by_a, cache), DkimResult::Fail);
  EXPECT_EQ(cache->size(), 2u);
  // Revoked and broken records give the same verdicts from the cache as without it.
  zone_.clear();
  zone_.add_txt("sel._domainkey.example.com", "v=DKIM1; k=ed25519; p=");
  EXPECT_EQ(verify(by_a, cache), DkimResult::PermError);
  EXPECT_EQ(verify(by_a, cache), DkimResult::PermError);
  zone_.clear();
  zone_.add_txt("sel._domainkey.example.com", "v=DKIM1; k=ed25519; p=AAAA");
  EXPECT_EQ(verify(by_a, cache), DkimResult::PermError);
  EXPECT_EQ(verify(by_a, nullptr), DkimResult::PermError);
}

}  // namespace
}  // namespace auth::dkim
