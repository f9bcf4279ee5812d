// auth::crypto keys — private keys for signing (DKIM/ARC, RFC 6376 §3.3, RFC 8463) and
// public keys from DKIM key records (p=, RFC 6376 §3.6.1), RSA and Ed25519 only.
//
// Private keys load from PEM (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY"), DER (PKCS#1 or
// PKCS#8) and, for Ed25519, the base64 of the 32-byte RFC 8032 seed (dkimpy's key format).
// Encrypted keys are refused (a daemon cannot prompt). Public keys come from the
// base64-decoded p= data: RSA as SubjectPublicKeyInfo DER (what opendkim-genkey publishes) or
// bare PKCS#1 RSAPublicKey DER (seen in the wild and in dkimpy's data); Ed25519 as exactly
// 32 raw bytes (RFC 8463 §4).
//
// Thread-safety: keys are immutable after creation and cheap to copy (copies share one
// reference-counted OpenSSL key). A key may be used from many threads at once by the
// const functions here and in sign.h: each operation creates its own OpenSSL context.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "auth/core/result.h"

namespace auth::crypto {

namespace internal {
struct KeyHandle;  // owns the EVP_PKEY; defined in libauth/src/crypto/key_internal.h
struct KeyAccess;  // lets the crypto sources reach the handle
}  // namespace internal

/// DKIM key types (k= tag, RFC 6376 §3.6.1; RFC 8463 §4).
enum class KeyType { Rsa, Ed25519 };

/// "rsa" or "ed25519", the k= spelling.
const char* to_string(KeyType type) noexcept;

/// Parses a k= value ("rsa", "ed25519"); ErrorCode::Unsupported otherwise. Exact match:
/// RFC 6376 §3.2 makes tag values case-sensitive unless the tag says otherwise.
Result<KeyType> parse_key_type(std::string_view k);

/// RFC 8463 §4: an Ed25519 public key in p= is 32 raw bytes; so is the private seed
/// (RFC 8032 §5.1.5).
inline constexpr std::size_t kEd25519KeyBytes = 32;
/// What bits() reports for Ed25519 (the key size, not the 253-bit group order).
inline constexpr unsigned kEd25519Bits = 256;
/// RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits; verifiers MUST NOT
/// consider signatures with smaller keys valid (the verifier applies this, via bits()).
inline constexpr unsigned kMinRsaBits = 1024;
/// Largest RSA modulus accepted anywhere: bounds the cost of one verification an attacker
/// can make us do (OpenSSL's own OPENSSL_RSA_MAX_MODULUS_BITS is also 16384). Local policy.
inline constexpr unsigned kMaxRsaBits = 16384;
/// Largest key file load_file() reads (a 16384-bit PKCS#1 PEM is about 12 KiB). Local policy.
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

/// A private key (RSA or Ed25519). Always holds a usable key; copies share it.
class PrivateKey {
 public:
  /// Auto-detects the format: PEM if the text holds "-----BEGIN", else DER if it starts with
  /// an ASN.1 SEQUENCE, else the base64 form of a 32-byte Ed25519 seed (dkimpy's format;
  /// surrounding whitespace allowed).
  /// Errors: Syntax (not a key in any accepted format), Unsupported (another key type, or an
  /// encrypted key), LimitExceeded (RSA modulus above kMaxRsaBits).
  static Result<PrivateKey> load(std::string_view data);
  /// PEM only: "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8). Text around the PEM
  /// block is ignored; the first block is used. Errors as load().
  static Result<PrivateKey> load_pem(std::string_view pem);
  /// DER only: PKCS#1 RSAPrivateKey or PKCS#8 PrivateKeyInfo; trailing bytes are an error.
  static Result<PrivateKey> load_der(std::string_view der);
  /// Reads at most kMaxKeyFileBytes from `path` and calls load(). Does not check the file
  /// mode: call check_private_key_file_mode() first (DESIGN.md). Io errors name the path.
  static Result<PrivateKey> load_file(const std::string& path);
  /// Ed25519 key from the 32-byte RFC 8032 seed; Invalid if the length is not 32.
  static Result<PrivateKey> from_ed25519_seed(std::string_view seed);
  /// A new RSA key, public exponent 65537. `bits` must be within [kMinRsaBits, kMaxRsaBits]
  /// (LimitExceeded otherwise); Crypto if OpenSSL fails.
  static Result<PrivateKey> generate_rsa(unsigned bits);
  /// A new Ed25519 key from the system CSPRNG.
  static Result<PrivateKey> generate_ed25519();

  KeyType type() const noexcept { return type_; }
  /// RSA modulus size in bits; kEd25519Bits for Ed25519.
  unsigned bits() const noexcept { return bits_; }

  /// PEM text: PKCS#1 "BEGIN RSA PRIVATE KEY" for RSA (as opendkim-genkey writes), PKCS#8
  /// "BEGIN PRIVATE KEY" for Ed25519. Crypto on an OpenSSL failure.
  Result<std::string> to_pem() const;

 private:
  friend struct internal::KeyAccess;
  PrivateKey(std::shared_ptr<const internal::KeyHandle> h, KeyType t, unsigned bits)
      : handle_(std::move(h)), type_(t), bits_(bits) {}
  std::shared_ptr<const internal::KeyHandle> handle_;
  KeyType type_;
  unsigned bits_;
};

/// A public key (RSA or Ed25519). Always holds a usable key; copies share it.
class PublicKey {
 public:
  /// From the base64-decoded p= data of a DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4).
  ///  - KeyType::Rsa: SubjectPublicKeyInfo DER (rsaEncryption) or PKCS#1 RSAPublicKey DER;
  ///    trailing bytes after the DER are an error.
  ///  - KeyType::Ed25519: exactly kEd25519KeyBytes raw bytes.
  /// Errors: Missing (empty p=, i.e. a revoked key — RFC 6376 §3.6.1), Syntax (not DER, wrong
  /// length), Invalid (a key of another type, e.g. an EC SPKI under k=rsa), LimitExceeded
  /// (RSA modulus above kMaxRsaBits). The RFC 8301 minimum is not applied here: check bits().
  static Result<PublicKey> from_dkim_p(KeyType type, std::string_view bytes);
  /// The public half of a private key (for keygen/testkey).
  static PublicKey from_private(const PrivateKey& key);

  KeyType type() const noexcept { return type_; }
  /// RSA modulus size in bits; kEd25519Bits for Ed25519.
  unsigned bits() const noexcept { return bits_; }

  /// The bytes to base64 into p=: SubjectPublicKeyInfo DER for RSA (what opendkim-genkey
  /// publishes), the raw 32 bytes for Ed25519 (RFC 8463 §4). Crypto on an OpenSSL failure.
  Result<std::string> dkim_p() const;

  /// True if both are the same key (type and key material). E.g. "does the key published in
  /// DNS match our private key" in testkey.
  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  friend struct internal::KeyAccess;
  PublicKey(std::shared_ptr<const internal::KeyHandle> h, KeyType t, unsigned bits)
      : handle_(std::move(h)), type_(t), bits_(bits) {}
  std::shared_ptr<const internal::KeyHandle> handle_;
  KeyType type_;
  unsigned bits_;
};

/// Refuses a private key file that other users could read or write (DESIGN.md: "Private
/// keys that other users can read are refused unless explicitly allowed"; OpenDKIM refuses
/// them too). Call it only when the configuration does not allow such files.
/// Errors: Io (stat failed; reason names the path), Invalid (not a regular file, or any of
/// the group/other read/write bits set — the reason gives the octal mode and the fix).
Result<void> check_private_key_file_mode(const std::string& path);

/// The pure half of check_private_key_file_mode(): `mode` is st_mode's permission bits.
Result<void> check_private_key_mode(unsigned mode, std::string_view path_for_message);

}  // namespace auth::crypto
