// auth::crypto hash — streaming SHA-1 and SHA-256 (FIPS 180-4) for the DKIM body and header
// hashes (RFC 6376 §3.7) and ARC (RFC 8617), over OpenSSL 3 EVP_MD, with no OpenSSL type in
// this header.
//
// A Hasher is copyable: the copy continues from the same state (EVP_MD_CTX_copy_ex), which
// lets a verifier or signer hash the common header fields once and fork the state per
// signature. A Hasher is not thread-safe; use one per message (copies are independent).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace auth::crypto {

/// Hash algorithms used by DKIM (RFC 6376 §3.3; rsa-sha1 is verify-only, RFC 8301 §3.1).
enum class HashAlg { Sha1, Sha256 };

/// "sha1" or "sha256" (the DKIM h= tag spelling of the key record, RFC 6376 §3.6.1).
const char* to_string(HashAlg alg) noexcept;

/// Digest length in bytes: 20 for SHA-1, 32 for SHA-256.
std::size_t digest_size(HashAlg alg) noexcept;

/// Incremental hash: update() any number of times, finish() once per digest.
class Hasher {
 public:
  /// A fresh hash state. Aborts only if OpenSSL cannot allocate or lacks SHA-1/SHA-256
  /// (a broken installation, not an input error).
  explicit Hasher(HashAlg alg);
  ~Hasher();
  Hasher(const Hasher& other);             ///< forks the state (cheap: one EVP_MD_CTX copy)
  Hasher& operator=(const Hasher& other);
  Hasher(Hasher&& other) noexcept;         ///< the moved-from Hasher may only be destroyed or assigned
  Hasher& operator=(Hasher&& other) noexcept;

  HashAlg alg() const noexcept { return alg_; }

  /// Feeds bytes (any length, including empty and NUL bytes).
  void update(std::string_view data);

  /// Number of bytes fed since construction or the last finish()/reset().
  std::size_t bytes_hashed() const noexcept { return bytes_; }

  /// Returns the raw digest (digest_size(alg()) bytes) and resets the Hasher to a fresh
  /// state, so it can be reused. Use a copy to take an intermediate digest and go on.
  std::string finish();

  /// Discards everything fed so far.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HashAlg alg_;
  std::size_t bytes_ = 0;
};

/// One-shot digest of `data`.
std::string hash(HashAlg alg, std::string_view data);
inline std::string sha1(std::string_view data) { return hash(HashAlg::Sha1, data); }
inline std::string sha256(std::string_view data) { return hash(HashAlg::Sha256, data); }

}  // namespace auth::crypto
