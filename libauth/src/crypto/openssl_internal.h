// Private OpenSSL helpers for auth::crypto: owning pointers and error text.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace auth::crypto::internal {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

/// Drains this thread's OpenSSL error queue into one line ("" if it was empty). Every
/// failing OpenSSL call is followed by this, so stale errors never leak into a later call.
std::string drain_openssl_errors();

/// An ErrorCode::Crypto error: "what: <openssl errors>".
Unexpected crypto_fail(std::string_view what);

/// A read-only memory BIO over `data` (no copy; `data` must outlive the BIO).
BioPtr memory_bio(std::string_view data);

/// The contents of a memory BIO.
std::string bio_contents(BIO* bio);

}  // namespace auth::crypto::internal
