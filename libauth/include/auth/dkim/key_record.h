// auth::dkim key records — the TXT record at <s>._domainkey.<d> (RFC 6376 §3.6.1, §3.6.2).
//
// Owns: v= (must be "DKIM1" and the first tag when present), k= (rsa, the default, or ed25519,
// RFC 8463 §4), p= (base64, FWS ignored; empty = revoked key), h= (acceptable hashes),
// s= (service types, "email" or "*"), t= flags (y = testing, s = strict: i= domain must equal
// d=, RFC 6376 §3.10), n= notes. Unknown tags and unknown flags/hashes are ignored (§3.6.1).
// The public key bytes are decoded here; turning them into a crypto::PublicKey is the
// verifier's job (so a revoked key stays distinguishable from a bad one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/tag_list.h"

namespace auth::dkim {

/// Largest key record accepted in bytes (local policy; a 16384-bit RSA key record is ~2.8 KB).
inline constexpr std::size_t kMaxKeyRecordBytes = 16 * 1024;

/// A syntactically valid DKIM key record.
struct KeyRecord {
  crypto::KeyType key_type = crypto::KeyType::Rsa;  ///< k= (default rsa)
  std::string key_type_text = "rsa";  ///< k= as written
  std::string public_key;             ///< p= decoded; empty = revoked (§3.6.1)
  /// h= entries as written; empty when h= is absent (= every hash allowed).
  std::vector<std::string> hash_algs;
  /// s= entries; {"*"} when s= is absent (§3.6.1 default).
  std::vector<std::string> service_types{"*"};
  bool testing = false;        ///< t=y (§3.6.1: the domain is testing DKIM)
  bool strict_identity = false;  ///< t=s (i= domain must equal d=, no subdomains)
  std::string notes;           ///< n= as written
  TagList tags;

  /// True for an empty p= (RFC 6376 §3.6.1: "An empty value means that this public key has
  /// been revoked").
  bool revoked() const noexcept { return public_key.empty(); }
  /// True when h= is absent or lists the hash of `alg` ("sha1"/"sha256").
  bool allows_hash(crypto::SignAlg alg) const;
  /// True when s= is absent or lists "*" or "email".
  bool allows_email() const;
};

/// Parses a key record (the TXT strings already concatenated, RFC 6376 §3.6.2.2).
/// Errors (all → permerror for the signature that needs it):
///  - Syntax: tag-list syntax (e.g. "v=DKIM1:"), v= not first, bad base64 in p=;
///  - Missing: no p= tag;
///  - Duplicate: a tag twice;
///  - Unsupported: v= other than "DKIM1", k= other than rsa/ed25519;
///  - LimitExceeded: larger than kMaxKeyRecordBytes.
Result<KeyRecord> parse_key_record(std::string_view txt);

/// Formats the TXT value to publish for `key` at <selector>._domainkey.<domain>:
/// "v=DKIM1; k=rsa; p=<base64>" (k=ed25519 for Ed25519; "; t=y" appended when `testing`).
/// No folding or string splitting (a zone-file writer cuts it into 255-octet strings).
/// Errors: Crypto (the key could not be exported).
Result<std::string> format_key_record(const crypto::PublicKey& key, bool testing = false);

}  // namespace auth::dkim
