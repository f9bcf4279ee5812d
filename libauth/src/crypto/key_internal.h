// Private: the OpenSSL key behind PrivateKey/PublicKey.
#pragma once

#include <memory>

#include "auth/crypto/key.h"
#include "crypto/openssl_internal.h"

namespace auth::crypto::internal {

/// Owns one EVP_PKEY. Never modified after construction, so it can be shared between
/// threads: OpenSSL 3 allows concurrent read-only use of an EVP_PKEY when every operation
/// has its own EVP_PKEY_CTX / EVP_MD_CTX.
struct KeyHandle {
  explicit KeyHandle(PkeyPtr k) : pkey(std::move(k)) {}
  PkeyPtr pkey;
};

struct KeyAccess {
  static EVP_PKEY* pkey(const PrivateKey& k) noexcept { return k.handle_->pkey.get(); }
  static EVP_PKEY* pkey(const PublicKey& k) noexcept { return k.handle_->pkey.get(); }
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
