// Private: the OpenSSL key behind PrivateKey/PublicKey.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

#include "auth/crypto/key.h"
#include "crypto/openssl_internal.h"

namespace auth::crypto::internal {

/// Owns one EVP_PKEY. The key is never modified after construction, so it can be shared
/// between threads: OpenSSL 3 allows concurrent read-only use of an EVP_PKEY when every
/// operation has its own EVP_PKEY_CTX / EVP_MD_CTX.
struct KeyHandle {
  explicit KeyHandle(PkeyPtr k) : pkey(std::move(k)) {}
  PkeyPtr pkey;

  /// RSASSA-PKCS1-v1_5 contexts set up once per use (sign/verify × SHA-1/SHA-256) and
  /// duplicated for every operation: EVP_PKEY_CTX_dup costs ~7k instructions, a fresh
  /// context with its provider fetches and init ~35k (callgrind), a third of what the rest of
  /// a DKIM verification costs besides the RSA arithmetic. A template is created once under
  /// `mu` and only read afterwards (EVP_PKEY_CTX_dup takes a const source), so threads may
  /// duplicate it concurrently. Index: rsa_template_index().
  mutable std::mutex mu;
  mutable PkeyCtxPtr rsa_templates[4];
};

inline constexpr std::size_t rsa_template_index(bool for_sign, bool sha256) noexcept {
  return (for_sign ? 2U : 0U) + (sha256 ? 1U : 0U);
}

struct KeyAccess {
  static EVP_PKEY* pkey(const PrivateKey& k) noexcept { return k.handle_->pkey.get(); }
  static EVP_PKEY* pkey(const PublicKey& k) noexcept { return k.handle_->pkey.get(); }
  static const KeyHandle& handle(const PrivateKey& k) noexcept { return *k.handle_; }
  static const KeyHandle& handle(const PublicKey& k) noexcept { return *k.handle_; }
  static PrivateKey make_private(PkeyPtr k, KeyType t, unsigned bits) {
    return PrivateKey(std::make_shared<const KeyHandle>(std::move(k)), t, bits);
  }
  static PublicKey make_public(PkeyPtr k, KeyType t, unsigned bits) {
    return PublicKey(std::make_shared<const KeyHandle>(std::move(k)), t, bits);
  }
  static PublicKey public_of(const PrivateKey& k) {
    return PublicKey(k.handle_, k.type_, k.bits_);
  }
};

}  // namespace auth::crypto::internal
