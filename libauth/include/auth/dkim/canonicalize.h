// auth::dkim canonicalization — simple and relaxed, for header fields and bodies
// (RFC 6376 §3.4.1–§3.4.4, errata 3192 for an empty relaxed body), plus the body hash with l=
// (§3.4.5, §3.7).
//
// Bodies stream: BodyCanonicalizer consumes chunks split anywhere (even between CR and LF) and
// emits canonical bytes as soon as they are certain. Its state is a few counters — trailing
// empty lines are counted, never buffered — so memory stays constant whatever the body size,
// and the output is identical for every split of the same input.
// ARC (RFC 8617 §5.1) reuses these functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/crypto/hash.h"
#include "auth/dkim/signature.h"

namespace auth::dkim {

/// Canonicalizes one header field given as its raw bytes "Name: value" (with folding CRLFs,
/// without the terminating CRLF, i.e. mail::Field::raw) and returns the canonical form
/// followed by CRLF, ready to hash.
///  - simple (§3.4.1): unchanged.
///  - relaxed (§3.4.2): name lower-cased; value unfolded (CRLF removed); WSP runs → one SP;
///    WSP at the end of the value and around the colon removed.
/// Input without a colon is treated as a name with an empty value.
std::string canonicalize_header(Canon c, std::string_view raw_field);

/// Same without the trailing CRLF (the DKIM-Signature field itself is hashed so, §3.7).
std::string canonicalize_header_no_crlf(Canon c, std::string_view raw_field);

/// Streaming body canonicalizer (RFC 6376 §3.4.3 simple, §3.4.4 relaxed).
/// Line ends are CRLF; a lone CR or LF is an ordinary byte (convert LF-only input with
/// mail::to_crlf first — or split it on lines yourself).
class BodyCanonicalizer {
 public:
  /// Receives canonical bytes, in blocks of at most ~16 KiB.
  using Sink = std::function<void(std::string_view)>;

  explicit BodyCanonicalizer(Canon c) : canon_(c) {}

  /// Consumes `chunk` and passes the canonical bytes that are certain so far to `sink`.
  /// Held-back empty lines are released in bounded blocks, so memory stays constant.
  void feed(std::string_view chunk, const Sink& sink);
  /// Same, appending to `out` (tests, small bodies).
  void feed(std::string_view chunk, std::string& out);
  /// Ends the body: emits the final line end if needed (simple: an empty body becomes CRLF;
  /// relaxed: an empty body stays empty). The canonicalizer can then only be destroyed.
  void finish(const Sink& sink);
  void finish(std::string& out);

 private:
  void emit_pending(std::string& buf, const Sink& sink);
  Canon canon_;
  bool pending_cr_ = false;        // a CR was the last byte of the previous chunk
  bool pending_wsp_ = false;       // relaxed: WSP seen, emit one SP before the next content
  bool line_has_content_ = false;  // current line has emitted bytes
  bool emitted_any_ = false;       // any byte emitted at all
  std::uint64_t empty_lines_ = 0;  // CRLFs held back (trailing empty lines, §3.4.3/§3.4.4)
};

/// Canonicalizes a whole body in one go (for tests and the CLI; the verifier streams).
std::string canonicalize_body(Canon c, std::string_view body);

/// Streaming body hash: canonicalize, keep at most `limit` canonical bytes (l=, §3.4.5), hash.
/// Copyable (the Hasher forks).
class BodyHasher {
 public:
  BodyHasher(Canon c, crypto::HashAlg alg, std::optional<std::uint64_t> limit = std::nullopt);
  /// Feeds one chunk of the raw body.
  void update(std::string_view chunk);
  /// Ends the body and returns the raw digest (the bh= bytes). Call once.
  std::string finish();
  /// Canonical body bytes produced so far (all of them, also past the l= limit).
  std::uint64_t canonical_length() const noexcept { return canonical_length_; }
  /// Canonical bytes actually hashed (≤ limit).
  std::uint64_t hashed_length() const noexcept { return hashed_length_; }

 private:
  void consume(std::string_view canonical);
  BodyCanonicalizer canon_;
  crypto::Hasher hasher_;
  std::optional<std::uint64_t> limit_;
  std::uint64_t canonical_length_ = 0;
  std::uint64_t hashed_length_ = 0;
};

}  // namespace auth::dkim
