// DKIM canonicalization (RFC 6376 §3.4) — header fields and streaming bodies.
#include "auth/dkim/canonicalize.h"

#include <functional>

#include "auth/mail/ascii.h"

namespace auth::dkim {
namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

// Output is gathered in a bounded buffer and handed to the sink in blocks, so a flood of held
// back empty lines never materialises in memory at once.
constexpr std::size_t kOutBlock = 16 * 1024;

}  // namespace

std::string canonicalize_header_no_crlf(Canon c, std::string_view raw) {
  if (c == Canon::Simple) return std::string(raw);

  /* Relaxed (RFC 6376 §3.4.2). */
  const auto colon = raw.find(':');
  std::string_view name = raw.substr(0, colon == std::string_view::npos ? raw.size() : colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : raw.substr(colon + 1);
  // Delete WSP before the colon; lower-case the name.
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out = mail::to_lower_ascii(name);
  out.push_back(':');
  // Unfold (drop CR/LF), reduce WSP runs to one SP, drop WSP at both ends of the value.
  bool pending_space = false;
  bool any = false;
  for (char ch : value) {
    if (ch == '\r' || ch == '\n') continue;
    if (is_wsp(ch)) {
      pending_space = true;
      continue;
    }
    if (pending_space && any) out.push_back(' ');
    pending_space = false;
    out.push_back(ch);
    any = true;
  }
  return out;
}

std::string canonicalize_header(Canon c, std::string_view raw_field) {
  std::string out = canonicalize_header_no_crlf(c, raw_field);
  out.append("\r\n", 2);
  return out;
}

/* ---- body ------------------------------------------------------------------------------ */

void BodyCanonicalizer::emit_pending(std::string& buf, const Sink& sink) {
  // Held-back empty lines turn out not to be trailing: emit them, in bounded blocks.
  while (empty_lines_ > 0) {
    buf.append("\r\n", 2);
    --empty_lines_;
    if (buf.size() >= kOutBlock) {
      sink(buf);
      buf.clear();
    }
  }
}

void BodyCanonicalizer::feed(std::string_view chunk, const Sink& sink) {
  const bool relaxed = canon_ == Canon::Relaxed;
  std::string buf;
  buf.reserve(chunk.size() < kOutBlock ? chunk.size() + 2 : kOutBlock + 2);
  auto content = [&](char ch) {
    if (empty_lines_ > 0) emit_pending(buf, sink);
    if (pending_wsp_) {  // RFC 6376 §3.4.4: a WSP run inside a line becomes one SP
      buf.push_back(' ');
      pending_wsp_ = false;
    }
    buf.push_back(ch);
    line_has_content_ = true;
    emitted_any_ = true;
  };
  auto end_line = [&] {
    pending_wsp_ = false;  // §3.4.4: WSP at the end of a line is ignored
    if (line_has_content_) {
      buf.append("\r\n", 2);
      line_has_content_ = false;
    } else {
      ++empty_lines_;  // §3.4.3/§3.4.4: maybe a trailing empty line; hold it back
    }
  };
  for (char ch : chunk) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (ch == '\n') {
        end_line();
        continue;
      }
      content('\r');  // a lone CR is an ordinary byte
    }
    if (ch == '\r') {
      pending_cr_ = true;
    } else if (relaxed && is_wsp(ch)) {
      pending_wsp_ = true;
    } else {
      content(ch);
    }
    if (buf.size() >= kOutBlock) {
      sink(buf);
      buf.clear();
    }
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
