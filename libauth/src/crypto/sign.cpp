// DKIM signature algorithms over a precomputed digest (RFC 6376 §3.3, RFC 8301, RFC 8463 §3).
#include "auth/crypto/sign.h"

#include <openssl/rsa.h>

#include <mutex>

#include "crypto/key_internal.h"

namespace auth::crypto {

using internal::crypto_fail;
using internal::drain_openssl_errors;
using internal::KeyAccess;
using internal::MdCtxPtr;
using internal::PkeyCtxPtr;

namespace {

const unsigned char* uchars(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

const EVP_MD* md_of(SignAlg alg) noexcept {
  return hash_alg_of(alg) == HashAlg::Sha1 ? EVP_sha1() : EVP_sha256();
}

/// The checks shared by sign() and verify(): key type and digest length.
Result<void> check_request(KeyType have, SignAlg alg, std::string_view digest) {
  const KeyType want = key_type_of(alg);
  if (have != want) {
    return fail(ErrorCode::Invalid, std::string("key type mismatch: a=") + to_string(alg) +
                                        " needs a " + to_string(want) + " key, got " +
                                        to_string(have));
  }
  const std::size_t need = digest_size(hash_alg_of(alg));
  if (digest.size() != need) {
    return fail(ErrorCode::Invalid, std::string(to_string(alg)) + ": digest must be " +
                                        std::to_string(need) + " bytes, got " +
                                        std::to_string(digest.size()));
  }
  return ok();
}

/// An RSA sign/verify context for RSASSA-PKCS1-v1_5 over an already computed digest:
/// with the signature md set, EVP_PKEY_sign/verify wrap the digest in a DigestInfo
/// (RFC 8017 §9.2) instead of hashing it again.
Result<PkeyCtxPtr> new_rsa_ctx(EVP_PKEY* pkey, SignAlg alg, bool for_sign) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx) return crypto_fail("RSA context");
  const int init = for_sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get());
  if (init != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md_of(alg)) != 1) {
    return crypto_fail(std::string(to_string(alg)) + (for_sign ? " sign" : " verify") +
                       " setup");
  }
  return ctx;
}

/// The same context, duplicated from the key's template (KeyHandle::rsa_templates), which
/// is set up on first use.
Result<PkeyCtxPtr> rsa_ctx(const internal::KeyHandle& key, SignAlg alg, bool for_sign) {
  EVP_PKEY_CTX* tmpl = nullptr;
  {
    std::lock_guard lock(key.mu);
    PkeyCtxPtr& slot = key.rsa_templates[internal::rsa_template_index(for_sign, alg != SignAlg::RsaSha1)];
    if (!slot) {
      auto fresh = new_rsa_ctx(key.pkey.get(), alg, for_sign);
      if (!fresh) return fail(std::move(fresh).error());
      slot = std::move(*fresh);
    }
    tmpl = slot.get();  // never replaced or freed while the key lives
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_dup(tmpl));
  if (!ctx) return crypto_fail(std::string(to_string(alg)) + (for_sign ? " sign" : " verify") + " setup");
  return ctx;
}

}  // namespace

const char* to_string(SignAlg alg) noexcept {
  switch (alg) {
    case SignAlg::RsaSha1: return "rsa-sha1";
    case SignAlg::RsaSha256: return "rsa-sha256";
    case SignAlg::Ed25519Sha256: return "ed25519-sha256";
  }
  return "unknown";
}

Result<SignAlg> parse_sign_alg(std::string_view a) {
  if (a == "rsa-sha256") return SignAlg::RsaSha256;
  if (a == "ed25519-sha256") return SignAlg::Ed25519Sha256;
  if (a == "rsa-sha1") return SignAlg::RsaSha1;
  return fail(ErrorCode::Unsupported, "unknown signing algorithm a=" + std::string(a.substr(0, 32)));
}

KeyType key_type_of(SignAlg alg) noexcept {
  return alg == SignAlg::Ed25519Sha256 ? KeyType::Ed25519 : KeyType::Rsa;
}

HashAlg hash_alg_of(SignAlg alg) noexcept {
  return alg == SignAlg::RsaSha1 ? HashAlg::Sha1 : HashAlg::Sha256;
}

Result<std::string> sign(const PrivateKey& key, SignAlg alg, std::string_view digest) {
  // RFC 8301 §3.1: "Signers MUST sign using rsa-sha256."
  if (alg == SignAlg::RsaSha1) {
    return fail(ErrorCode::Unsupported, "rsa-sha1 is verify-only (RFC 8301 §3.1)");
  }
  if (auto r = check_request(key.type(), alg, digest); !r) return fail(r.error());
  // RFC 8301 §3.2: "Signers MUST use RSA keys of at least 1024 bits."
  if (key.type() == KeyType::Rsa && key.bits() < kMinRsaBits) {
    return fail(ErrorCode::Invalid, "RSA key of " + std::to_string(key.bits()) +
                                        " bits is below the " + std::to_string(kMinRsaBits) +
                                        "-bit minimum (RFC 8301 §3.2)");
  }
  drain_openssl_errors();
  EVP_PKEY* pkey = KeyAccess::pkey(key);

  if (alg == SignAlg::Ed25519Sha256) {
    // RFC 8463 §3: PureEd25519 whose message is the SHA-256 digest (no prehash: NULL md).
    MdCtxPtr md(EVP_MD_CTX_new());
    if (!md || EVP_DigestSignInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, pkey,
                                     nullptr) != 1) {
      return crypto_fail("ed25519-sha256 sign setup");
    }
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       uchars(digest), digest.size()) != 1) {
      return crypto_fail("ed25519-sha256 sign");
    }
    sig.resize(len);
    return sig;
  }

  auto ctx = rsa_ctx(KeyAccess::handle(key), alg, true);
  if (!ctx) return fail(std::move(ctx).error());
  std::size_t len = 0;
  if (EVP_PKEY_sign(ctx->get(), nullptr, &len, uchars(digest), digest.size()) != 1) {
    return crypto_fail("rsa-sha256 sign");
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx->get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                    uchars(digest), digest.size()) != 1) {
    return crypto_fail("rsa-sha256 sign");
  }
  sig.resize(len);
  return sig;
}

Result<bool> verify(const PublicKey& key, SignAlg alg, std::string_view digest,
                    std::string_view signature) {
  if (auto r = check_request(key.type(), alg, digest); !r) return fail(r.error());
  drain_openssl_errors();
  EVP_PKEY* pkey = KeyAccess::pkey(key);

  if (alg == SignAlg::Ed25519Sha256) {
    MdCtxPtr md(EVP_MD_CTX_new());
    if (!md || EVP_DigestVerifyInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, pkey,
                                       nullptr) != 1) {
      return crypto_fail("ed25519-sha256 verify setup");
    }
    // The signature is attacker data: any refusal (wrong length, bad point) is "does not
    // verify", not an error of ours.
    const int rc = EVP_DigestVerify(md.get(), uchars(signature), signature.size(),
                                    uchars(digest), digest.size());
    drain_openssl_errors();
    return rc == 1;
  }

  auto ctx = rsa_ctx(KeyAccess::handle(key), alg, false);
  if (!ctx) return fail(std::move(ctx).error());
  const int rc = EVP_PKEY_verify(ctx->get(), uchars(signature), signature.size(),
                                 uchars(digest), digest.size());
  drain_openssl_errors();
  return rc == 1;
}

Result<std::string> LocalSigner::sign_digest(SignAlg alg, std::string_view digest) const {
  return sign(key_, alg, digest);
}

}  // namespace auth::crypto
