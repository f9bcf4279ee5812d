// Key loading, generation and export over OpenSSL 3 EVP_PKEY (RSA and Ed25519 only).
#include "auth/crypto/key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "auth/crypto/base64.h"
#include "crypto/key_internal.h"

namespace auth::crypto {

using internal::BioPtr;
using internal::crypto_fail;
using internal::drain_openssl_errors;
using internal::KeyAccess;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

namespace {

/// Largest p= value accepted: a kMaxRsaBits SubjectPublicKeyInfo is about 2 KiB; DNS TXT
/// records are bounded far below this anyway. Local policy, checked before any parsing.
constexpr std::size_t kMaxPublicKeyBytes = 8 * 1024;

/// Zeroes a buffer that held private key material before it is released.
struct Wipe {
  std::string& s;
  ~Wipe() {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  }
};

const unsigned char* uchars(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

/// The PEM password callback: refuse, so OpenSSL never prompts on a terminal.
int refuse_password(char*, int, int, void*) { return -1; }

struct Classified {
  KeyType type;
  unsigned bits;
};

/// Accepts RSA and Ed25519 keys only and applies the size bounds.
Result<Classified> classify(EVP_PKEY* pkey, std::string_view what) {
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits <= 0) return fail(ErrorCode::Invalid, std::string(what) + ": RSA key without a modulus");
    if (static_cast<unsigned>(bits) > kMaxRsaBits) {
      return fail(ErrorCode::LimitExceeded, std::string(what) + ": RSA key of " +
                                                std::to_string(bits) + " bits exceeds the " +
                                                std::to_string(kMaxRsaBits) + "-bit limit");
    }
    return Classified{KeyType::Rsa, static_cast<unsigned>(bits)};
  }
  if (id == EVP_PKEY_ED25519) return Classified{KeyType::Ed25519, kEd25519Bits};
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return fail(ErrorCode::Unsupported, std::string(what) + ": unsupported key type " +
                                          (name != nullptr ? name : "(unknown)") +
                                          " (only RSA and Ed25519 are used by DKIM)");
}

Result<PrivateKey> finish_private(PkeyPtr pkey, std::string_view what) {
  auto c = classify(pkey.get(), what);
  if (!c) return fail(std::move(c).error());
  if (c->type == KeyType::Rsa) {
    // Catch corrupted key files before they produce bad signatures: n = p*q, d*e = 1 mod
    // lambda(n). Cheap (no primality tests).
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx) return crypto_fail(std::string(what) + ": cannot check the key");
    if (EVP_PKEY_pairwise_check(ctx.get()) != 1) {
      const std::string ssl = drain_openssl_errors();
      return fail(ErrorCode::Invalid, std::string(what) + ": inconsistent RSA private key" +
                                          (ssl.empty() ? "" : ": " + ssl));
    }
  }
  return KeyAccess::make_private(std::move(pkey), c->type, c->bits);
}

// The DER prefix of an RSA SubjectPublicKeyInfo's AlgorithmIdentifier as every DKIM key
// generator writes it: SEQUENCE { OID rsaEncryption (1.2.840.113549.1.1.1), NULL }.
constexpr unsigned char kRsaEncryptionAlgId[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

/// Reads one DER tag and definite length at `p` (short form or 1-2 length octets, enough for
/// kMaxPublicKeyBytes) and returns the start of the contents, or nullptr if the header is not
/// `tag` or the contents would run past `end`. A bounded, non-recursive walk.
const unsigned char* der_enter(const unsigned char* p, const unsigned char* end, unsigned char tag,
                               std::size_t& len) noexcept {
  if (end - p < 2 || p[0] != tag) return nullptr;
  std::size_t n = p[1];
  p += 2;
  if (n >= 0x80) {
    const std::size_t octets = n & 0x7f;
    if (octets == 0 || octets > 2 || static_cast<std::size_t>(end - p) < octets) return nullptr;
    n = 0;
    for (std::size_t i = 0; i < octets; ++i) n = (n << 8) | *p++;
    if (n < 0x80 || (octets == 2 && n < 0x100)) return nullptr;  // not the minimal (DER) form
  }
  if (static_cast<std::size_t>(end - p) < n) return nullptr;
  len = n;
  return p;
}

/// Fast path for the usual RSA p=: a DER SubjectPublicKeyInfo with the rsaEncryption
/// AlgorithmIdentifier above, filling the whole input, whose BIT STRING (no unused bits)
/// holds exactly one RSAPublicKey. Decoded with d2i_PublicKey on the inner RSAPublicKey,
/// which skips OpenSSL 3's generic decoder search (the bulk of a whole DKIM verification).
/// Anything else returns null and goes the general way, so results and messages are the same.
PkeyPtr rsa_spki_fast(const unsigned char* begin, const unsigned char* end) {
  std::size_t len = 0;
  const unsigned char* p = der_enter(begin, end, 0x30, len);
  if (p == nullptr || p + len != end) return nullptr;
  if (static_cast<std::size_t>(end - p) < sizeof kRsaEncryptionAlgId ||
      std::memcmp(p, kRsaEncryptionAlgId, sizeof kRsaEncryptionAlgId) != 0) {
    return nullptr;
  }
  p += sizeof kRsaEncryptionAlgId;
  p = der_enter(p, end, 0x03, len);
  if (p == nullptr || p + len != end || len < 2 || p[0] != 0x00) return nullptr;
  ++p;  // no unused bits
  const unsigned char* q = p;
  PkeyPtr pkey(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &q, static_cast<long>(end - p)));
  if (!pkey || q != end) {
    drain_openssl_errors();
    return nullptr;
  }
  return pkey;
}

bool only_space(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace

const char* to_string(KeyType type) noexcept {
  switch (type) {
    case KeyType::Rsa: return "rsa";
    case KeyType::Ed25519: return "ed25519";
  }
  return "unknown";
}

Result<KeyType> parse_key_type(std::string_view k) {
  if (k == "rsa") return KeyType::Rsa;
  if (k == "ed25519") return KeyType::Ed25519;
  return fail(ErrorCode::Unsupported, "unknown key type k=" + std::string(k.substr(0, 32)));
}

// ---------------------------------------------------------------------------------------
// PrivateKey

Result<PrivateKey> PrivateKey::load_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileBytes) {
    return fail(ErrorCode::LimitExceeded, "private key: PEM text larger than " +
                                              std::to_string(kMaxKeyFileBytes) + " bytes");
  }
  const auto begin = pem.find("-----BEGIN ");
  if (begin == std::string_view::npos) {
    return fail(ErrorCode::Syntax, "private key: no \"-----BEGIN\" PEM line");
  }
  // Say clearly why an encrypted key is refused (PKCS#8 "ENCRYPTED PRIVATE KEY", or the
  // legacy "Proc-Type: 4,ENCRYPTED" header of PKCS#1 PEM).
  const std::string_view body = pem.substr(begin);
  if (body.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
      body.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
    return fail(ErrorCode::Unsupported,
                "private key: encrypted keys are not supported (store it unencrypted, mode 0600)");
  }
  drain_openssl_errors();
  BioPtr bio = internal::memory_bio(pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, refuse_password, nullptr, nullptr,
                                          nullptr));
  if (!pkey) {
    const std::string ssl = drain_openssl_errors();
    return fail(ErrorCode::Syntax, "private key: not a PEM RSA/PKCS#8 private key" +
                                       (ssl.empty() ? std::string() : ": " + ssl));
  }
  return finish_private(std::move(pkey), "private key");
}

Result<PrivateKey> PrivateKey::load_der(std::string_view der) {
  if (der.empty()) return fail(ErrorCode::Syntax, "private key: empty DER");
  if (der.size() > kMaxKeyFileBytes) {
    return fail(ErrorCode::LimitExceeded, "private key: DER larger than " +
                                              std::to_string(kMaxKeyFileBytes) + " bytes");
  }
  drain_openssl_errors();
  const unsigned char* p = uchars(der);
  PkeyPtr pkey(d2i_AutoPrivateKey_ex(nullptr, &p, static_cast<long>(der.size()), nullptr, nullptr));
  if (!pkey) {
    const std::string ssl = drain_openssl_errors();
    return fail(ErrorCode::Syntax, "private key: not a DER PKCS#1/PKCS#8 private key" +
                                       (ssl.empty() ? std::string() : ": " + ssl));
  }
  if (p != uchars(der) + der.size()) {
    return fail(ErrorCode::Syntax, "private key: " +
                                       std::to_string(uchars(der) + der.size() - p) +
                                       " trailing byte(s) after the DER key");
  }
  return finish_private(std::move(pkey), "private key");
}

Result<PrivateKey> PrivateKey::from_ed25519_seed(std::string_view seed) {
  if (seed.size() != kEd25519KeyBytes) {
    return fail(ErrorCode::Invalid, "Ed25519 seed must be 32 bytes (RFC 8032 §5.1.5), got " +
                                        std::to_string(seed.size()));
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, uchars(seed), seed.size()));
  if (!pkey) return crypto_fail("Ed25519 seed");
  return KeyAccess::make_private(std::move(pkey), KeyType::Ed25519, kEd25519Bits);
}

Result<PrivateKey> PrivateKey::load(std::string_view data) {
  if (data.find("-----BEGIN") != std::string_view::npos) return load_pem(data);
  if (!data.empty() && static_cast<unsigned char>(data[0]) == 0x30) return load_der(data);
  // dkimpy stores Ed25519 private keys as the base64 of the 32-byte seed.
  if (!only_space(data) && data.size() <= 4 * kEd25519KeyBytes) {
    auto seed = base64_decode(data);
    if (seed) {
      Wipe wipe{*seed};
      if (seed->size() == kEd25519KeyBytes) return from_ed25519_seed(*seed);
    }
  }
  return fail(ErrorCode::Syntax,
              "private key: neither PEM, DER nor a base64 Ed25519 seed");
}

Result<PrivateKey> PrivateKey::load_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return fail(ErrorCode::Io, "cannot open private key " + path + ": " + std::strerror(errno));
  }
  std::string data;
  Wipe wipe{data};
  data.resize(kMaxKeyFileBytes + 1);
  std::size_t got = 0;
  int err = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (err != 0) {
    return fail(ErrorCode::Io, "cannot read private key " + path + ": " + std::strerror(err));
  }
  if (got > kMaxKeyFileBytes) {
    return fail(ErrorCode::LimitExceeded, "private key " + path + " is larger than " +
                                              std::to_string(kMaxKeyFileBytes) + " bytes");
  }
  auto key = load(std::string_view(data.data(), got));
  if (!key) {
    Error e = std::move(key).error();
    e.reason = path + ": " + e.reason;
    return fail(std::move(e));
  }
  return key;
}

Result<PrivateKey> PrivateKey::generate_rsa(unsigned bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return fail(ErrorCode::LimitExceeded,
                "RSA key size must be between " + std::to_string(kMinRsaBits) + " and " +
                    std::to_string(kMaxRsaBits) + " bits (RFC 8301 §3.2), got " +
                    std::to_string(bits));
  }
  drain_openssl_errors();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits)) != 1) {
    return crypto_fail("RSA key generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return crypto_fail("RSA key generation");
  PkeyPtr pkey(raw);
  return finish_private(std::move(pkey), "generated RSA key");
}

Result<PrivateKey> PrivateKey::generate_ed25519() {
  drain_openssl_errors();
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return crypto_fail("Ed25519 key generation");
  return KeyAccess::make_private(std::move(pkey), KeyType::Ed25519, kEd25519Bits);
}

Result<std::string> PrivateKey::to_pem() const {
  drain_openssl_errors();
  EVP_PKEY* pkey = KeyAccess::pkey(*this);
  // RSA: PKCS#1 ("type-specific" structure) as opendkim-genkey writes; Ed25519: PKCS#8.
  const char* structure = type_ == KeyType::Rsa ? "type-specific" : "PrivateKeyInfo";
  OSSL_ENCODER_CTX* ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "PEM",
                                                         structure, nullptr);
  if (ectx == nullptr) return crypto_fail("private key to PEM");
  // A secure-memory BIO is cleansed when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  const bool ok = bio && OSSL_ENCODER_CTX_get_num_encoders(ectx) > 0 &&
                  OSSL_ENCODER_to_bio(ectx, bio.get()) == 1;
  OSSL_ENCODER_CTX_free(ectx);
  if (!ok) return crypto_fail("private key to PEM");
  return internal::bio_contents(bio.get());
}

// ---------------------------------------------------------------------------------------
// PublicKey

Result<PublicKey> PublicKey::from_dkim_p(KeyType type, std::string_view bytes) {
  if (bytes.empty()) {
    return fail(ErrorCode::Missing, "empty p= (the key has been revoked, RFC 6376 §3.6.1)");
  }
  if (bytes.size() > kMaxPublicKeyBytes) {
    return fail(ErrorCode::LimitExceeded, "p= of " + std::to_string(bytes.size()) +
                                              " bytes exceeds the " +
                                              std::to_string(kMaxPublicKeyBytes) + "-byte limit");
  }
  drain_openssl_errors();
  const unsigned char* const begin = uchars(bytes);
  const unsigned char* const end = begin + bytes.size();
  const long len = static_cast<long>(bytes.size());

  if (type == KeyType::Ed25519) {
    // RFC 8463 §4: the raw key, not SubjectPublicKeyInfo.
    if (bytes.size() != kEd25519KeyBytes) {
      std::string why = "Ed25519 p= must be 32 raw bytes (RFC 8463 §4), got " +
                        std::to_string(bytes.size());
      if (bytes.size() == 44 && begin[0] == 0x30) why += " (looks like SubjectPublicKeyInfo)";
      return fail(ErrorCode::Syntax, std::move(why));
    }
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, begin, bytes.size()));
    if (!pkey) return crypto_fail("Ed25519 p=");
    return KeyAccess::make_public(std::move(pkey), KeyType::Ed25519, kEd25519Bits);
  }

  // RSA, first as SubjectPublicKeyInfo (RFC 6376 §3.6.1 "k=rsa ... DER-encoded
  // SubjectPublicKeyInfo"), then as a bare PKCS#1 RSAPublicKey.
  PkeyPtr pkey;
  const char* form = "SubjectPublicKeyInfo";
  pkey = rsa_spki_fast(begin, end);
  if (!pkey) {
    const unsigned char* p = begin;
    pkey.reset(d2i_PUBKEY_ex(nullptr, &p, len, nullptr, nullptr));
    if (pkey && p != end) {
      return fail(ErrorCode::Syntax, "RSA p=: " + std::to_string(end - p) +
                                         " trailing byte(s) after the SubjectPublicKeyInfo");
    }
  }
  if (!pkey) {
    drain_openssl_errors();
    const unsigned char* p = begin;
    pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
    form = "RSAPublicKey";
    if (pkey && p != end) {
      return fail(ErrorCode::Syntax, "RSA p=: " + std::to_string(end - p) +
                                         " trailing byte(s) after the RSAPublicKey");
    }
  }
  if (!pkey) {
    drain_openssl_errors();
    return fail(ErrorCode::Syntax,
                "RSA p= is neither a DER SubjectPublicKeyInfo nor a DER RSAPublicKey");
  }
  if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    const char* name = EVP_PKEY_get0_type_name(pkey.get());
    return fail(ErrorCode::Invalid, std::string("k=rsa but p= holds a ") +
                                        (name != nullptr ? name : "non-RSA") + " " + form);
  }
  auto c = classify(pkey.get(), "RSA p=");
  if (!c) return fail(std::move(c).error());
  return KeyAccess::make_public(std::move(pkey), KeyType::Rsa, c->bits);
}

PublicKey PublicKey::from_private(const PrivateKey& key) {
  // Copy only the public half, so a PublicKey never carries private material.
  const PublicKey shared = KeyAccess::public_of(key);
  auto p = shared.dkim_p();
  if (!p) std::abort();  // only on out of memory: the key was validated when loaded
  auto pub = from_dkim_p(key.type(), *p);
  if (!pub) std::abort();
  return std::move(pub).value();
}

Result<std::string> PublicKey::dkim_p() const {
  drain_openssl_errors();
  EVP_PKEY* pkey = KeyAccess::pkey(*this);
  if (type_ == KeyType::Ed25519) {
    std::string out(kEd25519KeyBytes, '\0');
    std::size_t n = out.size();
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(out.data()), &n) != 1 ||
        n != kEd25519KeyBytes) {
      return crypto_fail("Ed25519 public key export");
    }
    return out;
  }
  const int n = i2d_PUBKEY(pkey, nullptr);
  if (n <= 0) return crypto_fail("RSA public key export");
  std::string out(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_PUBKEY(pkey, &p) != n) return crypto_fail("RSA public key export");
  return out;
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  if (a.type_ != b.type_ || a.bits_ != b.bits_) return false;
  const int r = EVP_PKEY_eq(KeyAccess::pkey(a), KeyAccess::pkey(b));
  drain_openssl_errors();
  return r == 1;
}

// ---------------------------------------------------------------------------------------
// File mode

Result<void> check_private_key_mode(unsigned mode, std::string_view path_for_message) {
  constexpr unsigned kOthersAccess = S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;
  if ((mode & kOthersAccess) == 0) return ok();
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode & 07777U);
  return fail(ErrorCode::Invalid,
              "private key " + std::string(path_for_message) + " has mode " + octal +
                  ": group or other users can " +
                  ((mode & (S_IRGRP | S_IROTH)) != 0 ? "read" : "write") +
                  " it; chmod 600 it (or allow unsafe key permissions explicitly)");
}

Result<void> check_private_key_file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(ErrorCode::Io, "cannot stat private key " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorCode::Invalid, "private key " + path + " is not a regular file");
  }
  return check_private_key_mode(static_cast<unsigned>(st.st_mode), path);
}

}  // namespace auth::crypto
