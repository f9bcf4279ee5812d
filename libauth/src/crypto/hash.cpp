// Streaming SHA-1/SHA-256 over OpenSSL 3 EVP_MD (RFC 6376 §3.7 body and header hashes).
#include "auth/crypto/hash.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "crypto/openssl_internal.h"

namespace auth::crypto {

struct Hasher::Impl {
  internal::MdCtxPtr ctx;
};

namespace {

const EVP_MD* md_of(HashAlg alg) noexcept {
  // EVP_sha1()/EVP_sha256() are static method tables: no fetch, no per-call allocation.
  switch (alg) {
    case HashAlg::Sha1: return EVP_sha1();
    case HashAlg::Sha256: return EVP_sha256();
  }
  return nullptr;
}

internal::MdCtxPtr new_ctx(HashAlg alg) {
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = md_of(alg);
  // Failure here means no memory or an OpenSSL without SHA-1/SHA-256 (e.g. a FIPS provider
  // refusing SHA-1 for this use): a broken environment, not an input error.
  if (!ctx || md == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) std::abort();
  return ctx;
}

}  // namespace

const char* to_string(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::Sha1: return "sha1";
    case HashAlg::Sha256: return "sha256";
  }
  return "unknown";
}

std::size_t digest_size(HashAlg alg) noexcept {
  switch (alg) {
    case HashAlg::Sha1: return 20;
    case HashAlg::Sha256: return 32;
  }
  return 0;
}

Hasher::Hasher(HashAlg alg) : impl_(std::make_unique<Impl>(Impl{new_ctx(alg)})), alg_(alg) {}

Hasher::~Hasher() = default;

Hasher::Hasher(const Hasher& other) : alg_(other.alg_), bytes_(other.bytes_) {
  if (!other.impl_) std::abort();  // copying a moved-from Hasher: programmer error
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), other.impl_->ctx.get()) != 1) std::abort();
  impl_ = std::make_unique<Impl>(Impl{std::move(ctx)});
}

Hasher& Hasher::operator=(const Hasher& other) {
  if (this != &other) {
    Hasher copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Hasher::Hasher(Hasher&& other) noexcept = default;
Hasher& Hasher::operator=(Hasher&& other) noexcept = default;

void Hasher::update(std::string_view data) {
  if (!impl_) std::abort();  // use after move: programmer error
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) std::abort();
  bytes_ += data.size();
}

std::string Hasher::finish() {
  if (!impl_) std::abort();
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), buf, &len) != 1) std::abort();
  reset();
  return std::string(reinterpret_cast<const char*>(buf), len);
}

void Hasher::reset() {
  if (!impl_) std::abort();
  if (EVP_DigestInit_ex(impl_->ctx.get(), md_of(alg_), nullptr) != 1) std::abort();
  bytes_ = 0;
}

std::string hash(HashAlg alg, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), buf, &len, md_of(alg), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(buf), len);
}

}  // namespace auth::crypto
