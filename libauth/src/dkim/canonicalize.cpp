// DKIM canonicalization (RFC 6376 §3.4) — header fields and streaming bodies.
#include "auth/dkim/canonicalize.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "auth/mail/ascii.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

// Output is gathered in a bounded buffer and handed to the sink in blocks, so a flood of held
// back empty lines never materialises in memory at once.
constexpr std::size_t kOutBlock = 16 * 1024;

// Relaxed header canonicalization (§3.4.2) treats CR, LF, SP and HTAB specially.
constexpr auto kHeaderSpecial = [] {
  std::array<bool, 256> t{};
  t['\r'] = t['\n'] = t[' '] = t['\t'] = true;
  return t;
}();

}  // namespace

namespace internal {

void append_canonical_header(Canon c, std::string_view raw, std::string& out) {
  if (c == Canon::Simple) {
    out.append(raw);
    return;
  }

  /* Relaxed (RFC 6376 §3.4.2). */
  const auto colon = raw.find(':');
  std::string_view name = raw.substr(0, colon == std::string_view::npos ? raw.size() : colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : raw.substr(colon + 1);
  // Delete WSP before the colon; lower-case the name.
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  for (char ch : name) out.push_back(mail::to_lower_ascii(ch));
  out.push_back(':');
  // Unfold (drop CR/LF), reduce WSP runs to one SP, drop WSP at both ends of the value.
  bool pending_space = false;
  bool any = false;
  const char* p = value.data();
  const char* const e = p + value.size();
  while (p < e) {
    const char ch = *p;
    if (ch == '\r' || ch == '\n') {
      ++p;
      continue;
    }
    if (is_wsp(ch)) {
      pending_space = true;
      ++p;
      continue;
    }
    // A run of bytes copied as they are, up to the next CR, LF or WSP.
    const char* q = p + 1;
    while (q < e && !kHeaderSpecial[static_cast<unsigned char>(*q)]) ++q;
    if (pending_space && any) out.push_back(' ');
    pending_space = false;
    out.append(p, static_cast<std::size_t>(q - p));
    any = true;
    p = q;
  }
}

}  // namespace internal

std::string canonicalize_header_no_crlf(Canon c, std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 2);  // relaxed output is never longer; +2 for canonicalize_header
  internal::append_canonical_header(c, raw, out);
  return out;
}

std::string canonicalize_header(Canon c, std::string_view raw_field) {
  std::string out = canonicalize_header_no_crlf(c, raw_field);
  out.append("\r\n", 2);
  return out;
}

/* ---- body ------------------------------------------------------------------------------ */

namespace {

// Appends to the output buffer and hands it to the sink whenever it reaches kOutBlock, so no
// block is larger than kOutBlock. A long run that arrives while the buffer is empty goes to
// the sink straight from the input, without a copy.
void put(std::string& buf, const BodyCanonicalizer::Sink& sink, const char* data,
         std::size_t len) {
  while (len > 0) {
    if (buf.empty() && len >= kOutBlock) {
      sink(std::string_view(data, kOutBlock));
      data += kOutBlock;
      len -= kOutBlock;
      continue;
    }
    const std::size_t take = std::min(len, kOutBlock - buf.size());
    buf.append(data, take);
    data += take;
    len -= take;
    if (buf.size() >= kOutBlock) {
      sink(buf);
      buf.clear();
    }
  }
}

// 256 CRLFs, to release held-back empty lines in bulk.
constexpr std::size_t kCrlfBatch = 256;
constexpr auto kCrlfs = [] {
  std::array<char, 2 * kCrlfBatch> a{};
  for (std::size_t i = 0; i < a.size(); i += 2) {
    a[i] = '\r';
    a[i + 1] = '\n';
  }
  return a;
}();

constexpr bool is_relaxed_special(char c) noexcept { return c == '\r' || is_wsp(c); }

// Relaxed (§3.4.4): the end of the run starting at `p` (a byte that is neither CR nor WSP)
// that canonicalizes to itself: the first byte that is CR or HTAB, or a SP followed by CR,
// WSP or the end of the chunk (such a SP may be trailing or part of a longer run, so it is
// left to the caller). Single SPs between words stay inside the run.
const char* relaxed_run(const char* p, const char* e) noexcept {
#if defined(__SSE2__)
  // 16 bytes at a time; the second load looks one byte ahead for the SP rule.
  const __m128i sp = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i cr = _mm_set1_epi8('\r');
  while (e - p >= 17) {
    const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const __m128i next_special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v1, sp), _mm_cmpeq_epi8(v1, tab)), _mm_cmpeq_epi8(v1, cr));
    const __m128i stop =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v0, cr), _mm_cmpeq_epi8(v0, tab)),
                     _mm_and_si128(_mm_cmpeq_epi8(v0, sp), next_special));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < e) {
    const char c = *p;
    if (c == ' ') {
      if (p + 1 < e && !is_relaxed_special(p[1])) {
        p += 2;
        continue;
      }
      break;
    }
    if (c == '\r' || c == '\t') break;
    ++p;
  }
  return p;
}

}  // namespace

void BodyCanonicalizer::emit_pending(std::string& buf, const Sink& sink) {
  // Held-back empty lines turn out not to be trailing: emit them, in bounded blocks.
  while (empty_lines_ > 0) {
    const std::size_t n =
        empty_lines_ < kCrlfBatch ? static_cast<std::size_t>(empty_lines_) : kCrlfBatch;
    put(buf, sink, kCrlfs.data(), 2 * n);
    empty_lines_ -= n;
  }
}

// Scans runs rather than bytes: a run of bytes that canonicalize to themselves (found with
// memchr for simple, a tight loop for relaxed) is appended in one go. The state between
// chunks is the same as the byte-at-a-time definition's, so every split gives the same output.
void BodyCanonicalizer::feed(std::string_view chunk, const Sink& sink) {
  if (chunk.empty()) return;
  const bool relaxed = canon_ == Canon::Relaxed;
  std::string buf;
  buf.reserve(chunk.size() < kOutBlock ? chunk.size() : kOutBlock);
  // Bytes that are content of the current line (a lone CR included).
  auto content = [&](const char* data, std::size_t len) {
    if (empty_lines_ > 0) emit_pending(buf, sink);
    if (pending_wsp_) {  // RFC 6376 §3.4.4: a WSP run inside a line becomes one SP
      put(buf, sink, " ", 1);
      pending_wsp_ = false;
    }
    put(buf, sink, data, len);
    line_has_content_ = true;
    emitted_any_ = true;
  };
  auto end_line = [&] {
    pending_wsp_ = false;  // §3.4.4: WSP at the end of a line is ignored
    if (line_has_content_) {
      put(buf, sink, "\r\n", 2);
      line_has_content_ = false;
    } else {
      ++empty_lines_;  // §3.4.3/§3.4.4: maybe a trailing empty line; hold it back
    }
  };
  const char* p = chunk.data();
  const char* const e = p + chunk.size();
  if (pending_cr_) {  // the previous chunk ended in CR
    pending_cr_ = false;
    if (*p == '\n') {
      end_line();
      ++p;
    } else {
      content("\r", 1);  // a lone CR is an ordinary byte
    }
  }
  while (p < e) {
    const char ch = *p;
    if (ch == '\r') {
      if (p + 1 == e) {
        pending_cr_ = true;
        break;
      }
      if (p[1] == '\n') {
        end_line();
        p += 2;
      } else {
        content(p, 1);  // a lone CR is an ordinary byte
        ++p;
      }
      continue;
    }
    if (relaxed && is_wsp(ch)) {
      pending_wsp_ = true;
      do {
        ++p;
      } while (p < e && is_wsp(*p));
      continue;
    }
    const char* q;
    if (relaxed) {
      q = relaxed_run(p, e);
    } else {
      const void* cr = std::memchr(p, '\r', static_cast<std::size_t>(e - p));
      q = cr != nullptr ? static_cast<const char*>(cr) : e;
    }
    content(p, static_cast<std::size_t>(q - p));
    p = q;
  }
  if (!buf.empty()) sink(buf);
}

void BodyCanonicalizer::feed(std::string_view chunk, std::string& out) {
  feed(chunk, [&out](std::string_view s) { out.append(s); });
}

void BodyCanonicalizer::finish(const Sink& sink) {
  std::string buf;
  if (pending_cr_) {  // the body ended in a lone CR: an ordinary byte
    pending_cr_ = false;
    if (empty_lines_ > 0) emit_pending(buf, sink);
    if (pending_wsp_) buf.push_back(' ');
    buf.push_back('\r');
    line_has_content_ = true;
    emitted_any_ = true;
  }
  pending_wsp_ = false;
  empty_lines_ = 0;  // trailing empty lines are dropped
  if (line_has_content_) {
    buf.append("\r\n", 2);  // a body not ending in CRLF gets one (§3.4.3, errata 3192 for relaxed)
    line_has_content_ = false;
  } else if (canon_ == Canon::Simple && !emitted_any_) {
    buf.append("\r\n", 2);  // §3.4.3: an empty body canonicalizes to one CRLF
  }
  if (!buf.empty()) sink(buf);
}

void BodyCanonicalizer::finish(std::string& out) {
  finish([&out](std::string_view s) { out.append(s); });
}

std::string canonicalize_body(Canon c, std::string_view body) {
  BodyCanonicalizer canon(c);
  std::string out;
  canon.feed(body, out);
  canon.finish(out);
  return out;
}

/* ---- body hash ------------------------------------------------------------------------- */

BodyHasher::BodyHasher(Canon c, crypto::HashAlg alg, std::optional<std::uint64_t> limit)
    : canon_(c), hasher_(alg), limit_(limit) {}

void BodyHasher::consume(std::string_view canonical) {
  canonical_length_ += canonical.size();
  if (limit_) {
    if (hashed_length_ >= *limit_) return;
    const std::uint64_t room = *limit_ - hashed_length_;
    if (canonical.size() > room) canonical = canonical.substr(0, static_cast<std::size_t>(room));
  }
  hasher_.update(canonical);
  hashed_length_ += canonical.size();
}

void BodyHasher::update(std::string_view chunk) {
  canon_.feed(chunk, [this](std::string_view s) { consume(s); });
}

std::string BodyHasher::finish() {
  canon_.finish([this](std::string_view s) { consume(s); });
  return hasher_.finish();
}

}  // namespace auth::dkim
