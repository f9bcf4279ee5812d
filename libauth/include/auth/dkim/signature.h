// auth::dkim signatures — the DKIM-Signature header field (RFC 6376 §3.5) parsed and validated.
//
// Owns: the tag rules of §3.5 (required v= a= b= bh= d= h= s=; v=1; a= rsa-sha256 /
// rsa-sha1 (RFC 8301: verify-only, refused unless legacy is enabled by the verifier) /
// ed25519-sha256 (RFC 8463); c= with the simple/simple default and the "x" = "x/simple" form;
// h= must contain From (§5.4); i= decoded from dkim-quoted-printable (§2.11) and equal to or a
// subdomain of d= (§3.5); l= and t=/x= as bounded decimals with x ≥ t; q= must offer dns/txt;
// z= tolerated and kept), and the canonicalization names (§3.4).
// Checks that need the clock (x= expiry) or DNS (the key) belong to the verifier.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/tag_list.h"

namespace auth::dkim {

/// Most digits accepted in l= (RFC 6376 §3.5 allows 1*76DIGIT; local policy: 18 digits keep
/// the value in 63 bits, and no real body is 10^18 bytes long). More → Syntax.
/// (t= and x= are 1*12DIGIT by the RFC's own grammar.)
inline constexpr std::size_t kMaxDecimalDigits = 18;
/// Most header names accepted in h= (local policy, not RFC; OpenDKIM caps at 1024 too).
inline constexpr std::size_t kMaxSignedHeaders = 1024;
/// The DKIM-Signature field name (RFC 6376 §3.5), compared case-insensitively.
inline constexpr std::string_view kSignatureFieldName = "DKIM-Signature";

/// Canonicalization algorithms (RFC 6376 §3.4).
enum class Canon { Simple, Relaxed };
/// "simple" / "relaxed".
const char* to_string(Canon c) noexcept;

/// The c= pair. Default simple/simple (RFC 6376 §3.5 c=).
struct Canonicalization {
  Canon header = Canon::Simple;
  Canon body = Canon::Simple;
  friend bool operator==(const Canonicalization&, const Canonicalization&) = default;
};
/// "relaxed/simple" etc.
std::string to_string(const Canonicalization& c);
/// Parses a c= value: "h" or "h/b" with h, b in {simple, relaxed}; a lone "h" means "h/simple".
/// Errors: Unsupported (an unknown algorithm name), Syntax (empty part, several '/').
Result<Canonicalization> parse_canonicalization(std::string_view c);

/// A syntactically valid DKIM-Signature (every RFC 6376 §3.5 rule that does not need the
/// clock or DNS holds).
struct Signature {
  crypto::SignAlg algorithm = crypto::SignAlg::RsaSha256;  ///< a=
  std::string algorithm_text;     ///< a= as written ("rsa-sha256")
  Canonicalization canon;         ///< c=
  std::string domain;             ///< d= as written (case kept; compare case-insensitively)
  std::string selector;           ///< s= as written
  /// i= decoded from dkim-quoted-printable; "@" + d= when i= is absent (§3.5 default).
  std::string identity;
  bool identity_given = false;    ///< true if i= was present
  /// h= field names in order, FWS removed, case kept (compared case-insensitively).
  std::vector<std::string> signed_headers;
  std::optional<std::uint64_t> body_length;  ///< l=
  std::optional<std::int64_t> timestamp;     ///< t= (seconds since the Unix epoch)
  std::optional<std::int64_t> expiration;    ///< x=
  std::string body_hash;          ///< bh= decoded (raw digest bytes)
  std::string signature;          ///< b= decoded (raw signature bytes)
  std::string b_text;             ///< b= base64 text with FWS removed
  std::string copied_headers;     ///< z= as written (diagnostic only, never used to verify)
  TagList tags;                   ///< every tag as parsed, unknown tags included

  /// First 8 characters of b_text (RFC 6008 header.b, used in Authentication-Results).
  std::string b_prefix() const { return b_text.substr(0, 8); }
  /// Domain part of `identity` (after the last '@').
  std::string_view identity_domain() const noexcept;
};

/// Relaxations of parse_signature() for old corpora; all off by default (RFC 6376 strict).
struct ParseOptions {
  /// Accept an absent v= or "v=0.5" (pre-RFC 4871 drafts, e.g. the Mail::DKIM corpus) as if
  /// v=1 had been given, and "q=dns" as dns/txt. Never enable it for real mail.
  bool accept_draft_versions = false;
};

/// Parses and validates the value of a DKIM-Signature field (the bytes after the colon,
/// folded or not). Errors (all make the signature unusable → RFC 8601 permerror):
///  - Syntax: tag-list syntax, bad base64 in b=/bh=, bad number, bad quoted-printable in i=,
///    bad d=/s= domain syntax (e.g. "legitimate.com(.attacker.com"), more than
///    12 digits in t=/x= or kMaxDecimalDigits in l=;
///  - Missing: a required tag (v a b bh d h s) absent or b=/bh=/d=/s=/h= empty;
///  - Duplicate: a tag twice (RFC 6376 §3.2);
///  - Unsupported: v= other than "1", unknown a=, unknown c=, q= without dns/txt;
///  - Invalid: h= without From (§5.4), i= domain not d= or a subdomain of it (§3.5),
///    x= earlier than t=;
///  - LimitExceeded: more than kMaxSignedHeaders names in h=, more than kMaxTags tags.
/// A bh= of the wrong length parses (it simply cannot match: the verifier says fail).
/// The reason names the tag. rsa-sha1 parses fine here (the verifier decides, RFC 8301).
Result<Signature> parse_signature(std::string_view value, const ParseOptions& options = {});

/// Decodes dkim-quoted-printable (RFC 6376 §2.11): "=XX" hex escapes (upper or lower case),
/// FWS removed. Errors: Syntax (a bad escape, a byte outside the allowed set).
Result<std::string> decode_dkim_quoted_printable(std::string_view text);

/// True when `sub` equals `parent` or is a subdomain of it, ignoring ASCII case and a trailing
/// dot (RFC 6376 §3.5 i=/d= rule).
bool is_same_or_subdomain(std::string_view sub, std::string_view parent) noexcept;

}  // namespace auth::dkim
