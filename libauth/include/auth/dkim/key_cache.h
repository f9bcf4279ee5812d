// auth::dkim::KeyCache — parsed key records shared by the verifiers of many messages.
//
// A verifier turns the TXT record at <s>._domainkey.<d> into a KeyRecord (RFC 6376 §3.6.1)
// and its p= into a crypto::PublicKey for every signature it checks. The DNS answer itself
// comes from the resolver's cache, but decoding the key (base64, DER, OpenSSL's provider
// import) costs more than the RSA-2048 verification that follows (~10 µs vs ~20 µs). This
// cache keeps the parsed result keyed by the record's exact text, so it never outlives what
// DNS says: a changed or expired record has another text (or none) and is parsed afresh.
//
// Thread-safe; bounded by entry count and record size (kMaxKeyRecordBytes). The owner (a
// daemon) creates one and hands it to every VerifyOptions; libauth keeps no global one.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/crypto/key.h"
#include "auth/dkim/key_record.h"

namespace auth::dkim {

/// Default number of distinct key records kept (each ~0.5–3 KB with its OpenSSL key).
inline constexpr std::size_t kDefaultKeyCacheEntries = 1024;

class KeyCache {
 public:
  /// One parsed record: the record and, unless it is revoked (empty p=), the public key or
  /// why p= is unusable.
  struct Entry {
    KeyRecord record;
    std::optional<crypto::PublicKey> key;
    std::string key_error;  ///< set when !record.revoked() and !key
  };

  explicit KeyCache(std::size_t max_entries = kDefaultKeyCacheEntries) : max_entries_(max_entries) {}

  /// Parses `record` (no cache involved): the Entry a verifier needs.
  static std::shared_ptr<const Entry> make_entry(KeyRecord record);

  /// The entry for exactly this record text, or nullptr.
  std::shared_ptr<const Entry> find(std::string_view txt) const;

  /// Remembers `entry` for `txt`; the oldest entry goes when the cache is full. Records over
  /// kMaxKeyRecordBytes are not kept (parse_key_record refuses them anyway).
  void insert(std::string txt, std::shared_ptr<const Entry> entry);

  std::size_t size() const;

 private:
  std::size_t max_entries_;
  mutable std::mutex mu_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const Entry>, Hash, std::equal_to<>> map_;
  std::deque<std::string> order_;  ///< insertion order, for eviction
};

}  // namespace auth::dkim
