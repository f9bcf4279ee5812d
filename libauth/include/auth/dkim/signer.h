// auth::dkim signer — creates DKIM-Signature fields (RFC 6376 §5, RFC 8463, RFC 8301),
// streaming, several signatures in one pass (e.g. dual RSA + Ed25519):
//
//   dkim::Signer s(sign_options);
//   for each header field: s.add_header(field);
//   s.end_headers();
//   for each body chunk:   s.body_chunk(bytes);
//   auto fields = s.finish();   // Result<std::vector<std::string>>, one per SignatureSpec
//
// Each returned string is a complete field "DKIM-Signature: v=1; a=...; b=..." (name + folded
// value, CRLF between lines, no trailing CRLF), to be prepended to the message in the order
// returned. SignatureStyle::Rfc (the default): tag order is fixed, v a c d i q s t x r l h z bh b
// (optional tags only when enabled). Lines are folded at 78 columns (RFC 5322 §2.1.1) at existing spaces, after ':' in h=, and
// inside b=; the signature is computed over exactly the folded text emitted (b= empty).
// Never l= unless asked (RFC 6376 §8.2). Signs with rsa-sha256 or ed25519-sha256 only
// (RFC 8301 §3.1 forbids signing with rsa-sha1).
//
// SignatureStyle::OpenDkim instead reproduces, byte for byte, the field OpenDKIM 2.11
// (libopendkim dkim.c dkim_gensighdr + dkim_getsighdr_d) writes, so a drop-in replacement
// emits the same header bytes (and, RSA PKCS#1 v1.5 and Ed25519 being deterministic, the same
// b= for the same key, message and t=):
//   - tag order v a c d s t [q] [x] [i] [r] bh [l] h [z] b; c= always explicit (r= and z= as
//     measured with Debian's opendkim 2.11 RequestReports / Diagnostics);
//   - h= lists, top to bottom, every header field of the message whose name is in the signed
//     set (or is From), spelled as in the message, then each `oversign` name once, spelled as
//     configured (OpenDKIM OversignHeaders); the default signed set is
//     opendkim_default_signed_headers(); header_separator is not used (always ':');
//   - folding with margin kOpenDkimHeaderMargin: the first line starts at column 16 (after
//     "DKIM-Signature: "), a tag is preceded by one space, or by CRLF TAB (counted as 8
//     columns) when it would pass the margin; a wrapped h= breaks after ':' with CRLF TAB SP
//     (9 columns); a wrapped bh= or b= is cut at the margin with CRLF TAB SP continuation
//     lines; b= always wraps for RSA ("force wrap"), and for Ed25519 whenever it does not fit.
// The signature is computed over exactly the emitted text. Two deliberate differences from
// OpenDKIM, where OpenDKIM's own signature does not verify: (1) it hashes the header with
// " b=" where the emitted one has CRLF TAB "b=" (Ed25519), so with simple header
// canonicalization its Ed25519 signatures are invalid — we hash what we emit, identical bytes
// except b=; (2) an oversigned name present in the message but outside the signed set is not
// hashed by OpenDKIM although h= names it — we hash it as verifiers do (same h=, other b=).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/clock.h"
#include "auth/dkim/signature.h"
#include "auth/mail/header.h"

namespace auth::dkim {

/// Generated field lines are folded to at most this many characters (RFC 5322 §2.1.1 SHOULD;
/// filter-dkimsign DKIM_SIGNATURE_LINELEN). A single token longer than this (never produced
/// by us except inside b=, which is cut) may exceed it.
inline constexpr std::size_t kSignatureLineLength = 78;

/// OpenDKIM's header margin: folded DKIM-Signature lines stay within this many columns,
/// TAB counted as 8 (libopendkim dkim-internal.h DKIM_HDRMARGIN; used by dkim_getsighdr_d).
inline constexpr std::size_t kOpenDkimHeaderMargin = 75;
/// Column after "DKIM-Signature: " where OpenDKIM starts laying out the value (the `initial`
/// width dkim_eom_sign and opendkim's mlfi_eom pass to dkim_getsighdr_d).
inline constexpr std::size_t kOpenDkimInitialColumn = 16;
/// OpenDKIM dkim_getsighdr_d counts a folding TAB as this many columns.
inline constexpr std::size_t kOpenDkimTabWidth = 8;

/// How the DKIM-Signature field is laid out (see the file comment).
enum class SignatureStyle {
  Rfc,       ///< inkan's layout: v a c d i q s t x l h bh b, 78 columns, lower-case h= names
  OpenDkim,  ///< byte-identical to OpenDKIM 2.11's field
};

/// The header fields OpenDKIM signs by default (libopendkim dkim.c dkim_should_signhdrs, from
/// RFC 6376 §5.4.1; note: no Message-ID, MIME-Version or Content-*): from, reply-to, subject,
/// date, to, cc, resent-date, resent-from, resent-sender, resent-to, resent-cc, in-reply-to,
/// references, list-id, list-help, list-unsubscribe, list-subscribe, list-post, list-owner,
/// list-archive.
const std::vector<std::string>& opendkim_default_signed_headers();

/// The header fields RFC 6376 §5.4.1 recommends signing (lower-case), in this order:
/// from, reply-to, subject, date, to, cc, resent-date, resent-from, resent-sender, resent-to,
/// resent-cc, in-reply-to, references, list-id, list-help, list-unsubscribe, list-subscribe,
/// list-post, list-owner, list-archive, message-id, sender, mime-version, content-type,
/// content-transfer-encoding, content-id, content-description.
const std::vector<std::string>& recommended_signed_headers();

/// One signature to make.
struct SignatureSpec {
  std::string domain;    ///< d=
  std::string selector;  ///< s=
  /// The key, behind the crypto::Signer interface (crypto::LocalSigner for an in-process key).
  std::shared_ptr<const crypto::Signer> key;
  /// a=; by default rsa-sha256 for an RSA key, ed25519-sha256 for an Ed25519 key.
  std::optional<crypto::SignAlg> algorithm;
  /// c=; default relaxed/relaxed.
  Canonicalization canon{Canon::Relaxed, Canon::Relaxed};
  /// Header names to sign (case-insensitive); empty = recommended_signed_headers() (Rfc
  /// style) or opendkim_default_signed_headers() (OpenDkim style).
  /// Each name is listed in h= once per occurrence in the message (absent ones are left out):
  /// Rfc style in this list's order, lower-cased; OpenDkim style in message order, spelled as
  /// in the message. "from" is always signed (RFC 6376 §5.4): signing fails without From.
  std::vector<std::string> headers;
  /// Names listed once more at the end of h= (after the occurrences) so that a field of that
  /// name added later breaks the signature (oversigning, RFC 6376 §8.15). Default: from.
  /// Rfc style: lower-cased; OpenDkim style: spelled as given, empty names skipped.
  std::vector<std::string> oversign{"from"};
  /// i=; empty = omitted. Must be "local@domain" with the domain d= or a subdomain of it, in
  /// printable ASCII without ';' or '=' (no quoted-printable encoding is done); Invalid otherwise.
  std::string identity;
  /// x= = t= + this many seconds; nullopt = no x=. Must be > 0.
  std::optional<std::int64_t> expire_after;
  bool timestamp = true;       ///< emit t= (from options.clock)
  bool body_length = false;    ///< emit l= (the canonical body length); off by default
  /// Hash at most this many canonical body bytes and write l= with the number hashed
  /// (opendkim's MaximumSignedBytes; RFC 6376 §3.5 l=, §8.2 on its risks). Implies l=.
  /// nullopt = the whole body.
  std::optional<std::uint64_t> max_body_bytes;
  bool query_method = false;   ///< emit q=dns/txt (the default value, optional)
  /// Separator written between h= names: ":" (default) or e.g. " : " (RFC 8463 A.3 style).
  /// Rfc style only (OpenDkim style always writes ':').
  std::string header_separator = ":";
  /// Field layout; OpenDkim = the bytes OpenDKIM 2.11 writes (keep `timestamp` on: OpenDKIM
  /// always writes t=).
  SignatureStyle style = SignatureStyle::Rfc;
  /// r=y: ask verifiers for failure reports (RFC 6651 §3; OpenDKIM RequestReports). OpenDkim
  /// style writes it after i= (before bh=), as opendkim 2.11 does; Rfc style after x=.
  bool request_reports = false;
  /// z=: copies of the signed header fields of the message, top to bottom, each as received
  /// ("Name: value", folding kept) in DKIM-Quoted-Printable (encode_dkim_qp), separated by '|'
  /// (RFC 6376 §3.5; OpenDKIM Diagnostics). Only fields listed in h= because they are in the
  /// message (not the oversigned extras). OpenDkim style: after h= (before b=), cut at the
  /// margin like b=; a field whose encoding does not fit kOpenDkimZCopyBuffer leaves an empty
  /// copy between its '|' separators, as OpenDKIM's dkim_qp_encode does. Rfc style: after h=.
  bool diagnostics = false;
};

/// OpenDKIM encodes each z= copy into a buffer of this many bytes (libopendkim dkim.c
/// dkim_gensighdr `u_char tmp[DKIM_MAXHEADER + 1]`, DKIM_MAXHEADER 4096); a copy that does not
/// fit is left empty, and an escaped byte that no longer fits in the last 5 bytes is dropped.
inline constexpr std::size_t kOpenDkimZCopyBuffer = 4096 + 1;

/// DKIM-Quoted-Printable as libopendkim's dkim_qp_encode writes it (RFC 6376 §2.11): bytes
/// 0x21-0x3A, 0x3C and 0x3E-0x7E are copied, every other byte becomes "=XX" (upper-case hex;
/// so SP, HTAB, CR, LF, ';', '=' and 8-bit bytes are escaped, '|' is not). Encoding stops at
/// the first NUL byte (OpenDKIM works on C strings). No size limit (see kOpenDkimZCopyBuffer).
std::string encode_dkim_qp(std::string_view text);

/// Signer settings.
struct SignOptions {
  std::vector<SignatureSpec> signatures;
  /// Time source for t= and x=.
  Clock clock = system_clock();
};

/// Streaming DKIM signer for one message. Not thread-safe (one per message).
class Signer {
 public:
  explicit Signer(SignOptions options);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;
  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;

  /// Adds one header field in the order received (top first).
  /// Errors: LimitExceeded beyond mail::kMaxHeaderFields / mail::kMaxHeaderBytes.
  Result<void> add_header(const mail::Field& field);
  /// Same, taking the field over instead of copying it.
  Result<void> add_header(mail::Field&& field);
  /// Same from raw bytes. Errors: those of mail::Field::parse, plus the limits above.
  Result<void> add_header(std::string_view raw_field);
  /// Ends the header section. Implicit on the first body_chunk() / finish(). Idempotent.
  void end_headers();
  /// Feeds a body chunk (CRLF line ends; any split). Ignored after finish().
  void body_chunk(std::string_view bytes);
  /// Computes the signatures; one field text per SignatureSpec, in spec order.
  /// Errors: Missing (no signatures configured, no key, empty d=/s=, no From field —
  /// RFC 6376 §5.4), Invalid (i= outside d=, bad d=/s=, key type does not fit a=, expire_after
  /// ≤ 0, bad header name), Unsupported (a=rsa-sha1), Crypto (the key failed to sign).
  /// Call once.
  Result<std::vector<std::string>> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Signs a whole message held in memory (LF-only line ends are converted to CRLF first) and
/// returns the DKIM-Signature fields as Signer::finish() does. Errors as Signer::finish(),
/// plus Syntax when the header section cannot be parsed.
Result<std::vector<std::string>> sign_message(std::string_view message, const SignOptions& options);

}  // namespace auth::dkim
