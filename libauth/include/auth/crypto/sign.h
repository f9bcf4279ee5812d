// auth::crypto sign — the DKIM signature algorithms (RFC 6376 §3.3, RFC 8301, RFC 8463 §3)
// over a digest the caller has already computed (the header hash of RFC 6376 §3.7).
//
//  - rsa-sha256 / rsa-sha1: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) over the SHA-256/SHA-1 digest:
//    the DigestInfo is built here, the caller passes only the digest bytes.
//  - ed25519-sha256: RFC 8463 §3 — PureEd25519 (RFC 8032 §5.1) whose *message* is the
//    32-byte SHA-256 digest of the canonicalized header data.
// So every function here takes the digest, never the data. rsa-sha1 is verify-only
// (RFC 8301 §3.1: signers MUST NOT sign using rsa-sha1).
//
// Thread-safety: sign()/verify() and Signer::sign_digest() are safe to call concurrently on
// the same key objects; each call uses its own OpenSSL context.
#pragma once

#include <string>
#include <string_view>

#include "auth/core/result.h"
#include "auth/crypto/hash.h"
#include "auth/crypto/key.h"

namespace auth::crypto {

/// DKIM a= values (RFC 6376 §3.3, RFC 8463 §3).
enum class SignAlg { RsaSha1, RsaSha256, Ed25519Sha256 };

/// "rsa-sha1", "rsa-sha256", "ed25519-sha256".
const char* to_string(SignAlg alg) noexcept;
/// Parses an a= value (exact, case-sensitive: RFC 6376 §3.2). Unsupported for anything else.
Result<SignAlg> parse_sign_alg(std::string_view a);
/// The key type an algorithm needs (the k= of the key record must match, RFC 6376 §3.6.1).
KeyType key_type_of(SignAlg alg) noexcept;
/// The hash an algorithm uses; hash the header data with it and pass the digest below.
HashAlg hash_alg_of(SignAlg alg) noexcept;

/// Signs `digest` (digest_size(hash_alg_of(alg)) bytes) and returns the raw signature
/// (modulus-sized for RSA, 64 bytes for Ed25519); base64 it for b=.
/// Errors: Unsupported (rsa-sha1: verify-only, RFC 8301 §3.1), Invalid (key type does not fit
/// the algorithm, wrong digest length, RSA key below kMinRsaBits — RFC 8301 §3.2),
/// Crypto (OpenSSL failed).
Result<std::string> sign(const PrivateKey& key, SignAlg alg, std::string_view digest);

/// Verifies `signature` (raw bytes, the decoded b=) over `digest`.
/// Returns true if it verifies, false if it does not (wrong signature, tampered data, a
/// signature of the wrong length — all "fail" in DKIM terms, RFC 6376 §6.1.3).
/// Errors — the key or the request is unusable ("permerror", not "fail"): Invalid (key type
/// does not fit the algorithm, e.g. k=rsa with a=ed25519-sha256; wrong digest length),
/// Crypto (OpenSSL refused to set up the operation with this key).
/// The RFC 8301 §3.2 minimum RSA size is NOT applied here: the caller checks key.bits()
/// against kMinRsaBits, so it can report that reason (or verify legacy mail on purpose).
Result<bool> verify(const PublicKey& key, SignAlg alg, std::string_view digest,
                    std::string_view signature);

/// Where signatures come from. The daemons sign through this interface so private-key use
/// can move into a separate process (OpenSMTPD ca.c) without touching libauth (STYLE.md).
/// Implementations must be safe to call from many threads at once.
class Signer {
 public:
  virtual ~Signer() = default;
  /// Signs a digest; same contract and errors as crypto::sign().
  virtual Result<std::string> sign_digest(SignAlg alg, std::string_view digest) const = 0;
  /// The type and size of the key behind this signer (for a= and for logging).
  virtual KeyType key_type() const noexcept = 0;
  virtual unsigned bits() const noexcept = 0;
};

/// The in-process Signer: holds the PrivateKey in this process's memory.
class LocalSigner final : public Signer {
 public:
  explicit LocalSigner(PrivateKey key) : key_(std::move(key)) {}
  Result<std::string> sign_digest(SignAlg alg, std::string_view digest) const override;
  KeyType key_type() const noexcept override { return key_.type(); }
  unsigned bits() const noexcept override { return key_.bits(); }
  const PrivateKey& key() const noexcept { return key_; }

 private:
  PrivateKey key_;
};

}  // namespace auth::crypto
