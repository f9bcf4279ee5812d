// auth::dkim results — the per-signature verdict of the verifier and everything an
// Authentication-Results field needs for it (RFC 8601 §2.7.1, RFC 6008 header.b, RFC 6376 §6.1).
//
// Verdict words (RFC 8601 §2.7.1, RFC 6376 §6.1, RFC 8301):
//   none      the message carries no DKIM-Signature
//   pass      the signature verified
//   fail      a usable signature did not verify: body hash or header signature mismatch
//   neutral   the signature was not checked (beyond the per-message cap)
//   policy    verified or verifiable, but rejected by local policy (l= knob)
//   temperror the key could not be fetched for a temporary reason (DNS timeout/SERVFAIL)
//   permerror the signature cannot be used: syntax, missing/duplicate tags, unknown v=/a=/c=,
//             From not signed, i= outside d=, expired, t= in the future, no key, revoked/unusable key,
//             key type mismatch, rsa-sha1 (RFC 8301 §3.1), RSA key < 1024 bits (RFC 8301 §3.2)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace auth::dkim {

enum class DkimResult { None, Pass, Fail, Neutral, Policy, TempError, PermError };

/// The RFC 8601 word: "none", "pass", "fail", "neutral", "policy", "temperror", "permerror".
const char* to_string(DkimResult r) noexcept;

/// Why a signature failed, in machine form (the `reason` text says it for people).
enum class FailureKind {
  None,            ///< no failure (pass, or none)
  Syntax,          ///< signature field unusable (tags, values)
  Expired,         ///< x= in the past (beyond VerifyOptions::clock_drift)
  Future,          ///< t= in the future (beyond VerifyOptions::clock_drift)
  NoKey,           ///< key record absent (NXDOMAIN / no TXT)
  KeyDns,          ///< temporary DNS failure
  KeyRecord,       ///< key record unusable (syntax, revoked, type, h=, s=, t=s, bad p=)
  WeakKey,         ///< RSA below the minimum size (RFC 8301 §3.2)
  WeakAlgorithm,   ///< rsa-sha1 refused (RFC 8301 §3.1)
  BodyHash,        ///< bh= does not match the body
  Signature,       ///< the header signature does not verify
  BodyLength,      ///< rejected because of l= (policy)
  NotChecked,      ///< beyond the cap of signatures checked per message
};

/// What DNS said about the key record's DNSSEC status (OpenDKIM's DKIM_DNSSEC_*, as the
/// AD bit of a validating resolver tells it: RFC 4035 §3.2.3, RFC 6840 §5.7). No Bogus: a
/// validating resolver answers a bogus record with SERVFAIL, which is a temporary key failure.
enum class KeyDnssec {
  Unknown,   ///< no DNS answer came (key not looked up, timeout, SERVFAIL, malformed)
  Insecure,  ///< an answer (record, NXDOMAIN or NODATA) without the AD bit
  Secure,    ///< an answer with the AD bit (Answer::authenticated)
};

/// OpenDKIM's words: "unknown", "insecure", "secure" (opendkim -t, dnssec_name()).
const char* to_string(KeyDnssec d) noexcept;

/// The outcome for one DKIM-Signature field.
struct SignatureResult {
  DkimResult result = DkimResult::None;
  FailureKind failure = FailureKind::None;
  std::string reason;        ///< human text, e.g. "body hash mismatch", "key revoked"
  std::string domain;        ///< d= (header.d), lower-cased; may be empty if unparsable
  std::string identity;      ///< i= decoded, or "@" + d= (header.i)
  std::string selector;      ///< s= (header.s)
  std::string algorithm;     ///< a= text, e.g. "rsa-sha256" (header.a)
  unsigned key_bits = 0;     ///< size of the public key, 0 if not fetched
  KeyDnssec key_dnssec = KeyDnssec::Unknown;  ///< DNSSEC status of the key lookup's answer
  std::string b_prefix;      ///< first 8 characters of b= with FWS removed (header.b, RFC 6008)
  std::string b_text;        ///< the whole b= value with FWS removed (for header_b())
  bool testing = false;      ///< key record has t=y
  bool body_length_limited = false;  ///< the signature carries l=
  /// Canonical body bytes past l= (content appended after signing); 0 without l=.
  std::uint64_t unsigned_body_bytes = 0;
  std::size_t field_index = 0;  ///< 0-based position among the DKIM-Signature fields (top first)
};

/// Minimum length of header.b (RFC 6008 §4: at least 8 characters).
inline constexpr std::size_t kMinHeaderBLength = 8;

/// The header.b value of `r` among all the results of its message (RFC 6008 §4): the first
/// kMinHeaderBLength characters of b=, extended until no other signature of the message with a
/// different b= shares the prefix (as OpenDKIM's dkim_get_sigsubstring). Falls back to
/// r.b_prefix when b_text is unknown.
std::string header_b(const SignatureResult& r, const std::vector<SignatureResult>& all);

/// The verdict for a whole message: pass if any signature passed; otherwise the first of
/// fail, temperror, permerror, policy, neutral found in that order; none if no signatures.
DkimResult overall_result(const std::vector<SignatureResult>& results) noexcept;

}  // namespace auth::dkim
