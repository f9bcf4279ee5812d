// CachingResolver: TTL expiry with a fake clock, RFC 2308 negative caching, no caching of
// transient failures, clamps, the entry bound and concurrent use.
#include "auth/dns/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "auth/dns/zone.h"

namespace auth::dns {
namespace {

using namespace std::chrono_literals;

class DnsCacheTest : public testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{std::chrono::steady_clock::time_point{} + 1000h};
  ZoneResolver zone_;

  CachingResolver::Options options() {
    CachingResolver::Options o;
    o.clock = [this] { return now_; };
    return o;
  }
};

TEST_F(DnsCacheTest, PositiveAnswerLivesForItsTtl) {
  zone_.add_txt("k.test", "v=DKIM1; p=AA", 60);
  CachingResolver cache(zone_, options());
  Answer a = cache.query("k.test", RType::TXT);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.ttl, 60u);
  now_ += 59s;
  a = cache.query("K.TEST.", RType::TXT);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.txt.at(0).joined(), "v=DKIM1; p=AA");
  EXPECT_EQ(a.ttl, 1u) << "remaining TTL reported";
  EXPECT_EQ(zone_.query_count("k.test", RType::TXT), 1u);
  now_ += 1s;
  EXPECT_TRUE(cache.query("k.test", RType::TXT).ok());
  EXPECT_EQ(zone_.query_count("k.test", RType::TXT), 2u) << "expired at exactly TTL";
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
}

TEST_F(DnsCacheTest, TypesAreCachedSeparately) {
  zone_.add_txt("t.test", "x", 100);
  zone_.add_a("t.test", "192.0.2.1", 100);
  CachingResolver cache(zone_, options());
  EXPECT_TRUE(cache.query("t.test", RType::TXT).ok());
  EXPECT_EQ(cache.query("t.test", RType::A).addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(zone_.total_queries(), 2u);
}

TEST_F(DnsCacheTest, NegativeAnswersUseTheNegativeTtl) {
  zone_.add_a("nodata.test", "192.0.2.1");
  zone_.set_negative_ttl(30);
  CachingResolver cache(zone_, options());
  EXPECT_EQ(cache.query("nx.test", RType::TXT).status, Status::NxDomain);
  EXPECT_EQ(cache.query("nodata.test", RType::TXT).status, Status::NoData);
  now_ += 29s;
  Answer a = cache.query("nx.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_EQ(a.ttl, 1u);
  EXPECT_EQ(cache.query("nodata.test", RType::TXT).status, Status::NoData);
  EXPECT_EQ(zone_.total_queries(), 2u);
  now_ += 1s;
  // The name appears: after the negative TTL the new record is seen.
  zone_.add_txt("nx.test", "now here");
  EXPECT_TRUE(cache.query("nx.test", RType::TXT).ok());
}

TEST_F(DnsCacheTest, TransientFailuresAreNeverCached) {
  for (Status s : {Status::Timeout, Status::ServFail, Status::Malformed}) {
    ZoneResolver z;
    z.set_failure("f.test", s);
    CachingResolver cache(z, options());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.query("f.test", RType::TXT).status, s);
    EXPECT_EQ(z.query_count("f.test", RType::TXT), 3u) << to_string(s);
    EXPECT_EQ(cache.stats().entries, 0u);
    z.set_failure("f.test", Status::Ok);
    z.add_txt("f.test", "back");
    EXPECT_TRUE(cache.query("f.test", RType::TXT).ok()) << "recovers at once";
  }
}

TEST_F(DnsCacheTest, TtlClamps) {
  zone_.add_txt("long.test", "x", 86400 * 30);
  zone_.add_txt("short.test", "y", 5);
  zone_.add_txt("zero.test", "z", 0);
  zone_.set_negative_ttl(86400);
  auto o = options();
  o.min_ttl = 60;
  o.max_ttl = 3600;
  o.max_negative_ttl = 100;
  CachingResolver cache(zone_, o);
  EXPECT_EQ(cache.query("long.test", RType::TXT).ttl, 86400u * 30) << "first answer unchanged";
  cache.query("short.test", RType::TXT);
  cache.query("zero.test", RType::TXT);
  cache.query("nx.test", RType::TXT);
  now_ += 30s;
  EXPECT_EQ(cache.query("short.test", RType::TXT).ttl, 30u) << "raised to min_ttl";
  EXPECT_EQ(cache.query("zero.test", RType::TXT).ttl, 30u) << "min_ttl applies to 0 too";
  now_ += 71s;
  cache.query("nx.test", RType::TXT);
  EXPECT_EQ(zone_.query_count("nx.test", RType::TXT), 2u) << "negative TTL capped at 100";
  now_ += 3600s;
  cache.query("long.test", RType::TXT);
  EXPECT_EQ(zone_.query_count("long.test", RType::TXT), 2u) << "capped at max_ttl";
}

TEST_F(DnsCacheTest, TtlZeroIsNotCachedByDefault) {
  zone_.add_txt("zero.test", "z", 0);
  CachingResolver cache(zone_, options());
  cache.query("zero.test", RType::TXT);
  cache.query("zero.test", RType::TXT);
  EXPECT_EQ(zone_.query_count("zero.test", RType::TXT), 2u);
}

TEST_F(DnsCacheTest, EntryCountIsBoundedWithLruEviction) {
  for (int i = 0; i < 10000; ++i) zone_.add_a("h" + std::to_string(i) + ".test", "192.0.2.1", 600);
  auto o = options();
  o.max_entries = 100;
  CachingResolver cache(zone_, o);
  for (int i = 0; i < 10000; ++i) {
    cache.query("h" + std::to_string(i) + ".test", RType::A);
    // Keep h0 hot: LRU must never evict it.
    cache.query("h0.test", RType::A);
    ASSERT_LE(cache.stats().entries, 100u);
  }
  EXPECT_EQ(cache.stats().entries, 100u);
  EXPECT_EQ(cache.stats().evictions, 9900u);
  EXPECT_EQ(zone_.query_count("h0.test", RType::A), 1u) << "hot entry survived";
  cache.query("h1.test", RType::A);
  EXPECT_EQ(zone_.query_count("h1.test", RType::A), 2u) << "cold entry was evicted";
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(DnsCacheTest, AsyncPathStoresAnswers) {
  zone_.add_txt("a.test", "async", 100);
  CachingResolver cache(zone_, options());
  int calls = 0;
  cache.query_async("a.test", RType::TXT, [&](Answer a) {
    ++calls;
    EXPECT_EQ(a.txt.at(0).joined(), "async");
  });
  cache.query_async("a.test", RType::TXT, [&](Answer a) {
    ++calls;
    EXPECT_EQ(a.ttl, 100u);
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(zone_.query_count("a.test", RType::TXT), 1u);
}

TEST_F(DnsCacheTest, RejectsBadOptions) {
  auto o = options();
  o.max_entries = 0;
  EXPECT_THROW(CachingResolver(zone_, o), std::invalid_argument);
  o = options();
  o.min_ttl = 10;
  o.max_ttl = 5;
  EXPECT_THROW(CachingResolver(zone_, o), std::invalid_argument);
  o = options();
  o.min_negative_ttl = 10;
  o.max_negative_ttl = 5;
  EXPECT_THROW(CachingResolver(zone_, o), std::invalid_argument);
}

TEST(DnsCacheConcurrency, ManyThreadsSmallCache) {
  ZoneResolver zone;
  for (int i = 0; i < 64; ++i) zone.add_txt("n" + std::to_string(i) + ".test", "v" + std::to_string(i), 300);
  zone.set_failure("n13.test", Status::Timeout);
  CachingResolver::Options o;
  o.max_entries = 16;
  CachingResolver cache(zone, o);  // real steady clock
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  constexpr int kThreads = 8, kQueries = 5000;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kQueries; ++i) {
        const int k = (i * 31 + t * 7) % 64;
        Answer a = cache.query("n" + std::to_string(k) + ".test", RType::TXT);
        if (k == 13) {
          if (a.status != Status::Timeout) ++wrong;
        } else if (!a.ok() || a.txt.at(0).joined() != "v" + std::to_string(k)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const auto s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, std::size_t{kThreads} * kQueries);
  EXPECT_LE(s.entries, 16u);
  EXPECT_EQ(zone.total_queries(), s.misses);
}

}  // namespace
}  // namespace auth::dns
