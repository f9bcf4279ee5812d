// auth::dkim verifier — checks every DKIM-Signature of a message (RFC 6376 §6, RFC 8301,
// RFC 8463), streaming, in the order a milter sees the message:
//
//   dkim::Verifier v(options, resolver);
//   for each header field: v.add_header(field);      // mail::Field (raw bytes kept)
//   v.end_headers();                                 // parses signatures, starts key lookups
//   for each body chunk:   v.body_chunk(bytes);      // hashed at once, never buffered whole
//   std::vector<dkim::SignatureResult> r = v.finish();
//
// Header fields are kept (they are needed for the header hash, which can only be computed once
// the signatures are known); the body is canonicalized and hashed chunk by chunk, one hash per
// distinct (body canonicalization, hash algorithm, l=) among the signatures.
// Key lookups: TXT <s>._domainkey.<d> through dns::Resolver, the character-strings of one
// record concatenated (RFC 6376 §3.6.2.2). With KeyLookup::Blocking (default) finish() calls
// the blocking query(); with KeyLookup::Async they start at end_headers() via query_async and
// finish() waits for the answers (at most `dns_wait`). Identical key names are asked once.
// Time for x= and t= comes from options.clock only (checked with options.clock_drift).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/crypto/key.h"
#include "auth/dkim/clock.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "auth/dns/resolver.h"
#include "auth/dkim/key_cache.h"
#include "auth/mail/header.h"

namespace auth::dkim {

/// Default number of DKIM-Signature fields checked per message (local policy, not RFC;
/// RFC 6376 §6.1 lets verifiers limit the number of signatures they check; OpenDKIM checks
/// all, rspamd 5). Further ones get DkimResult::Neutral, FailureKind::NotChecked.
inline constexpr std::size_t kDefaultMaxSignatures = 5;

/// Default tolerance for the t=/x= checks, in seconds (libopendkim DEFCLOCKDRIFT, OpenDKIM
/// ClockDrift default; RFC 6376 §3.5 leaves the tolerance to the verifier).
inline constexpr std::int64_t kDefaultClockDrift = 300;

/// What to do with a signature carrying l= (RFC 6376 §3.5 l=, §8.2 security considerations).
enum class BodyLengthPolicy {
  /// Honour l=: verify the first l bytes, ignore appended content (result pass); the result
  /// flags body_length_limited and counts unsigned_body_bytes. The RFC 6376 behaviour.
  Accept,
  /// Honour l=, but a passing signature whose body has canonical content past l= gets
  /// DkimResult::Policy ("content appended after l=").
  RejectAppended,
  /// Any signature with l= gets DkimResult::Policy, verified or not (treat l= as a failure).
  Reject,
};

/// How keys are fetched.
enum class KeyLookup {
  /// resolver.query() from finish(), one distinct key name after another. Works with every
  /// resolver; the natural choice on a milter thread (DESIGN.md). The default.
  Blocking,
  /// query_async() for every key at end_headers(), so lookups overlap the body; finish() waits
  /// up to dns_wait for the answers. Only for resolvers that make progress without the caller:
  /// ZoneResolver (answers inline) or a CaresResolver driven by another thread. With a
  /// resolver nobody drives, every key ends as temperror after dns_wait.
  Async,
};

/// Verifier settings; the defaults are RFC 6376 + RFC 8301 strict, with OpenDKIM's clock tolerance.
struct VerifyOptions {
  /// Signatures checked per message (the first ones, top to bottom).
  std::size_t max_signatures = kDefaultMaxSignatures;
  /// RFC 8301 §3.1: rsa-sha1 never passes unless this legacy opt-in is set.
  bool allow_rsa_sha1 = false;
  /// RFC 8301 §3.2: RSA keys below this many bits never pass. Lower it only for legacy tests.
  unsigned min_rsa_bits = crypto::kMinRsaBits;
  /// Relaxations of the signature syntax (see ParseOptions); strict by default.
  ParseOptions parse;
  BodyLengthPolicy body_length = BodyLengthPolicy::Accept;
  KeyLookup key_lookup = KeyLookup::Blocking;
  /// Async lookups: how long finish() waits for answers still outstanding; a key not in by
  /// then is temperror ("DNS timeout").
  std::chrono::milliseconds dns_wait{10000};
  /// Tolerance in seconds for the t= and x= checks (OpenDKIM ClockDrift, libopendkim
  /// dkim_sig_expired/dkim_sig_future). RFC 6376 §3.5 x=: "Signatures MAY be considered
  /// invalid if the verification time at the Verifier is past the expiration date"; t=:
  /// "Verifiers MAY ignore signatures with a timestamp in the future". With drift D:
  ///   expired (FailureKind::Expired) when now >= x + D,
  ///   future  (FailureKind::Future)  when t > now + D,
  /// both permerror, decided before any key lookup. Negative values count as 0.
  std::int64_t clock_drift = kDefaultClockDrift;
  /// Time source for x= and t=. Never empty.
  Clock clock = system_clock();
  /// Parsed key records shared across messages (key_cache.h); null: parse every time.
  std::shared_ptr<KeyCache> key_cache;
};

/// Streaming DKIM verifier for one message. Not thread-safe (one per message); answers of
/// async key lookups may arrive on any thread. May be destroyed with lookups outstanding.
class Verifier {
 public:
  /// `resolver` must outlive the Verifier's last key lookup (i.e. finish()).
  Verifier(VerifyOptions options, dns::Resolver& resolver);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;

  /// Adds one header field in the order received (top first).
  /// Errors: LimitExceeded beyond mail::kMaxHeaderFields fields or mail::kMaxHeaderBytes
  /// bytes (the field is dropped; signatures over dropped fields will fail). Fields added
  /// after end_headers() are ignored.
  Result<void> add_header(const mail::Field& field);
  /// Same from raw bytes "Name: value" (folding kept; CRLF or LF line ends).
  /// Errors: those of mail::Field::parse, plus the limits above.
  Result<void> add_header(std::string_view raw_field);

  /// Ends the header section: parses the DKIM-Signature fields (up to max_signatures) and,
  /// with KeyLookup::Async, starts their key lookups. Called implicitly by the first
  /// body_chunk() or by finish(). Idempotent.
  void end_headers();

  /// Number of DKIM-Signature fields seen (valid or not, checked or not); valid after
  /// end_headers().
  std::size_t signature_count() const noexcept;

  /// True when no async key lookup is outstanding (an event-loop caller can drive its
  /// resolver until this holds, so finish() does not wait).
  bool keys_ready() const;

  /// Feeds a body chunk (CRLF line ends; chunks may split lines anywhere). Ignored after
  /// finish().
  void body_chunk(std::string_view bytes);

  /// Ends the message and returns one result per DKIM-Signature field, in header order
  /// (empty vector = no signature = DkimResult::None overall). Call once.
  std::vector<SignatureResult> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Verifies a whole message held in memory (for the CLI and tests). LF-only line ends are
/// converted to CRLF first (mail::to_crlf). Header fields that cannot be parsed make every
/// signature that would cover them fail naturally; they are otherwise skipped.
std::vector<SignatureResult> verify_message(std::string_view message, dns::Resolver& resolver,
                                            const VerifyOptions& options = {});

}  // namespace auth::dkim
