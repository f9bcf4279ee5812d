// auth::dns::CachingResolver — a bounded, thread-safe TTL cache in front of any Resolver.
//
// Owns: positive answers kept for their TTL (RFC 1035 §3.2.1 / RFC 2181 §8), NXDOMAIN and
// NODATA kept for their negative TTL (RFC 2308 §5, the SOA-derived TTL the inner resolver
// reports), never Timeout/ServFail/Malformed (RFC 2308 §7 allows caching SERVFAIL for at most
// 5 minutes; we do not, so a transient failure is retried at once). TTLs are clamped to
// [min_ttl, max_ttl] (RFC 8767 §4 / unbound cache-min-ttl/cache-max-ttl), the number of entries
// is bounded with LRU eviction, and the clock is injectable for tests.
// Answers served from the cache carry the remaining TTL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "auth/dns/resolver.h"

namespace auth::dns {

/// Default bound on cached (name,type) entries (local policy: a few MB of TXT keys at most).
inline constexpr std::size_t kCacheDefaultMaxEntries = 10'000;
/// Default TTL ceiling: one day (RFC 8767 §4 suggests capping at 7 days; a mail filter
/// wants key rotations seen sooner).
inline constexpr std::uint32_t kCacheDefaultMaxTtl = 86'400;
/// Default ceiling for negative answers: 3 hours (RFC 2308 §5 recommends 1–3 hours max).
inline constexpr std::uint32_t kCacheDefaultMaxNegativeTtl = 10'800;

class CachingResolver final : public Resolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  struct Options {
    std::size_t max_entries = kCacheDefaultMaxEntries;  ///< >= 1; LRU eviction beyond
    std::uint32_t min_ttl = 0;                        ///< positive answers kept at least this
    std::uint32_t max_ttl = kCacheDefaultMaxTtl;      ///< ... and at most this
    std::uint32_t min_negative_ttl = 0;               ///< same clamps for NXDOMAIN/NODATA
    std::uint32_t max_negative_ttl = kCacheDefaultMaxNegativeTtl;
    Clock clock;  ///< empty = std::chrono::steady_clock::now
  };

  /// `inner` must outlive the cache. Throws std::invalid_argument if max_entries is 0 or a
  /// min exceeds its max (start-up configuration errors).
  CachingResolver(Resolver& inner, Options options);
  explicit CachingResolver(Resolver& inner);
  ~CachingResolver() override;
  CachingResolver(const CachingResolver&) = delete;
  CachingResolver& operator=(const CachingResolver&) = delete;

  /// Cache hit: `cb` runs inline with the cached answer (TTL = time left). Miss: the inner
  /// resolver's query_async is called and its answer stored before `cb` runs (in whichever
  /// thread the inner resolver calls back). Concurrent misses for the same key are not
  /// merged: each goes to the inner resolver.
  void query_async(std::string_view name, RType type, Callback cb) override;
  /// Blocking form; thread-safe.
  Answer query(std::string_view name, RType type) override;

  struct Stats {
    std::size_t hits = 0;
    std::size_t misses = 0;
    std::size_t evictions = 0;  ///< entries dropped to respect max_entries
    std::size_t entries = 0;    ///< currently held (expired ones included until touched)
  };
  Stats stats() const;
  /// Drops every entry (stats counters kept).
  void clear();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with in-flight async callbacks
};

}  // namespace auth::dns
