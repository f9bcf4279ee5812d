// auth::dns::CachingResolver — LRU + TTL cache (cache.h).
#include "auth/dns/cache.h"

#include <algorithm>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "dns/dns_internal.h"

namespace auth::dns {

struct CachingResolver::Impl {
  struct Entry {
    std::string key;
    Answer answer;
    std::chrono::steady_clock::time_point expires;
  };

  Resolver& inner;
  Options opt;
  mutable std::mutex mu;
  // Most recently used at the front; the map points into the list (LRU, O(1) touch/evict).
  std::list<Entry> lru;
  std::unordered_map<std::string, std::list<Entry>::iterator> index;
  std::size_t hits = 0;
  std::size_t misses = 0;
  std::size_t evictions = 0;

  Impl(Resolver& r, Options o) : inner(r), opt(std::move(o)) {}

  std::chrono::steady_clock::time_point now() const {
    return opt.clock ? opt.clock() : std::chrono::steady_clock::now();
  }

  static std::string make_key(std::string_view name, RType type) {
    std::string k = internal::canonical_name(name);
    k.push_back('\0');  // names may hold any octet but the type suffix is after a NUL
    k += std::to_string(static_cast<unsigned>(type));
    return k;
  }

  /// Cached answer with its remaining TTL, or nullopt (expired entries are dropped).
  std::optional<Answer> lookup(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = index.find(key);
    if (it == index.end()) {
      ++misses;
      return std::nullopt;
    }
    const auto t = now();
    if (t >= it->second->expires) {
      lru.erase(it->second);
      index.erase(it);
      ++misses;
      return std::nullopt;
    }
    lru.splice(lru.begin(), lru, it->second);
    ++hits;
    Answer a = it->second->answer;
    const auto left = std::chrono::ceil<std::chrono::seconds>(it->second->expires - t).count();
    a.ttl = static_cast<std::uint32_t>(std::max<std::int64_t>(left, 0));
    return a;
  }

  void store(const std::string& key, const Answer& a) {
    std::uint32_t ttl = 0;
    switch (a.status) {
      case Status::Ok:
        ttl = std::clamp(a.ttl, opt.min_ttl, opt.max_ttl);
        break;
      case Status::NxDomain:
      case Status::NoData:
        // RFC 2308 §5: negative answers are cached for the SOA-derived TTL.
        ttl = std::clamp(a.ttl, opt.min_negative_ttl, opt.max_negative_ttl);
        break;
      case Status::ServFail:
      case Status::Timeout:
      case Status::Malformed:
        return;  // transient: the next query must ask again
    }
    if (ttl == 0) return;  // RFC 1035 §3.2.1: TTL 0 means use once, do not cache
    std::lock_guard lock(mu);
    const auto expires = now() + std::chrono::seconds(ttl);
    if (auto it = index.find(key); it != index.end()) {
      it->second->answer = a;
      it->second->expires = expires;
      lru.splice(lru.begin(), lru, it->second);
      return;
    }
    // Evict before adding so the bound holds at every moment.
    while (index.size() >= opt.max_entries && !lru.empty()) {
      index.erase(lru.back().key);
      lru.pop_back();
      ++evictions;
    }
    lru.push_front(Entry{key, a, expires});
    index.emplace(key, lru.begin());
  }
};

namespace {
CachingResolver::Options checked(CachingResolver::Options o) {
  if (o.max_entries == 0) throw std::invalid_argument("CachingResolver: max_entries must be >= 1");
  if (o.min_ttl > o.max_ttl) throw std::invalid_argument("CachingResolver: min_ttl > max_ttl");
  if (o.min_negative_ttl > o.max_negative_ttl) {
    throw std::invalid_argument("CachingResolver: min_negative_ttl > max_negative_ttl");
  }
  return o;
}
}  // namespace

CachingResolver::CachingResolver(Resolver& inner, Options options)
    : impl_(std::make_shared<Impl>(inner, checked(std::move(options)))) {}
CachingResolver::CachingResolver(Resolver& inner) : CachingResolver(inner, Options{}) {}
CachingResolver::~CachingResolver() = default;

void CachingResolver::query_async(std::string_view name, RType type, Callback cb) {
  std::string key = Impl::make_key(name, type);
  if (auto hit = impl_->lookup(key)) {
    if (cb) cb(std::move(*hit));
    return;
  }
  // The callback may run after this CachingResolver is gone (the inner resolver outlives
  // it); the shared Impl keeps the cache alive until then.
  std::shared_ptr<Impl> impl = impl_;
  impl->inner.query_async(name, type,
                          [impl, key = std::move(key), cb = std::move(cb)](Answer a) {
                            impl->store(key, a);
                            if (cb) cb(std::move(a));
                          });
}

Answer CachingResolver::query(std::string_view name, RType type) {
  const std::string key = Impl::make_key(name, type);
  if (auto hit = impl_->lookup(key)) return std::move(*hit);
  Answer a = impl_->inner.query(name, type);
  impl_->store(key, a);
  return a;
}

CachingResolver::Stats CachingResolver::stats() const {
  std::lock_guard lock(impl_->mu);
  return Stats{impl_->hits, impl_->misses, impl_->evictions, impl_->index.size()};
}

void CachingResolver::clear() {
  std::lock_guard lock(impl_->mu);
  impl_->lru.clear();
  impl_->index.clear();
}

}  // namespace auth::dns
