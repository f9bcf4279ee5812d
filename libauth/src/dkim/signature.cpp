// DKIM-Signature parsing and validation (RFC 6376 §3.5, RFC 8301, RFC 8463).
#include "auth/dkim/signature.h"

#include "auth/crypto/base64.h"
#include "auth/mail/ascii.h"
#include "auth/mail/domain.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

using internal::lower;

// RFC 6376 §3.5: t= and x= are 1*12DIGIT.
constexpr std::size_t kMaxTimeDigits = 12;

// RFC 5322 §3.6.8 ftext: printable ASCII except ':'.
bool is_field_name(std::string_view n) noexcept {
  if (n.empty()) return false;
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<std::string> check_domain(std::string_view value, std::string_view tag) {
  // No FWS inside a domain name (the tag-list already trimmed FWS around the value).
  std::string v(value);
  if (v.empty()) return fail(ErrorCode::Missing, std::string(tag) + "= is empty");
  // d= and s= are ASCII domain names (RFC 6376 §3.5, sub-domain syntax; selectors may hold
  // '_'). A stray byte such as '(' makes the signature unusable (dkimpy test.message.baddomain).
  auto ok = mail::validate_domain(lower(v), mail::DomainSyntax::AllowUnderscore);
  if (!ok) return fail(ErrorCode::Syntax, std::string(tag) + "= is not a valid domain name: " +
                                              ok.error().reason);
  return v;
}

}  // namespace

const char* to_string(Canon c) noexcept { return c == Canon::Simple ? "simple" : "relaxed"; }

std::string to_string(const Canonicalization& c) {
  return std::string(to_string(c.header)) + "/" + to_string(c.body);
}

Result<Canonicalization> parse_canonicalization(std::string_view c) {
  auto one = [](std::string_view s) -> Result<Canon> {
    if (s == "simple") return Canon::Simple;
    if (s == "relaxed") return Canon::Relaxed;
    if (s.empty()) return fail(ErrorCode::Syntax, "empty canonicalization name in c=");
    return fail(ErrorCode::Unsupported, "unknown canonicalization \"" + std::string(s) + "\"");
  };
  const std::string v = strip_fws(c);
  Canonicalization out;
  const auto slash = v.find('/');
  if (slash == std::string::npos) {
    auto h = one(v);
    if (!h) return fail(h.error());
    out.header = *h;
    return out;
  }
  if (v.find('/', slash + 1) != std::string::npos) {
    return fail(ErrorCode::Syntax, "c= has more than one '/'");
  }
  auto h = one(std::string_view(v).substr(0, slash));
  if (!h) return fail(h.error());
  auto b = one(std::string_view(v).substr(slash + 1));
  if (!b) return fail(b.error());
  out.header = *h;
  out.body = *b;
  return out;
}

Result<std::string> decode_dkim_quoted_printable(std::string_view text) {
  // RFC 6376 §2.11: dkim-quoted-printable = *(FWS / hex-octet / dkim-safe-char);
  // dkim-safe-char = %x21-3A / %x3C / %x3E-7E (no ';', no '=').
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (text.size() - i < 3) return fail(ErrorCode::Syntax, "truncated =XX escape");
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return fail(ErrorCode::Syntax, "bad =XX escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == ';') {
      return fail(ErrorCode::Syntax, "byte not allowed in dkim-quoted-printable");
    }
    out.push_back(c);
  }
  return out;
}

bool is_same_or_subdomain(std::string_view sub, std::string_view parent) noexcept {
  auto trim_dot = [](std::string_view s) {
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
  };
  sub = trim_dot(sub);
  parent = trim_dot(parent);
  if (parent.empty()) return false;
  if (sub.size() < parent.size()) return false;
  const std::string_view tail = sub.substr(sub.size() - parent.size());
  if (!mail::equals_ignore_case(tail, parent)) return false;
  return sub.size() == parent.size() || sub[sub.size() - parent.size() - 1] == '.';
}

std::string_view Signature::identity_domain() const noexcept {
  const auto at = identity.rfind('@');
  if (at == std::string::npos) return identity;
  return std::string_view(identity).substr(at + 1);
}

Result<Signature> parse_signature(std::string_view value, const ParseOptions& options) {
  auto parsed = parse_tag_list(value);
  if (!parsed) return fail(parsed.error());
  Signature sig;
  sig.tags = std::move(*parsed);
  const TagList& t = sig.tags;

  /* Required tags (RFC 6376 §3.5). */
  for (const char* req : {"a", "b", "bh", "d", "h", "s"}) {
    if (t.find(req) == nullptr) {
      return fail(ErrorCode::Missing, std::string("required tag ") + req + "= is missing");
    }
  }

  /* v= (must be "1"). */
  if (auto v = t.get("v")) {
    if (*v != "1") {
      if (!(options.accept_draft_versions && *v == "0.5")) {
        return fail(ErrorCode::Unsupported, "unsupported signature version v=" + std::string(*v));
      }
    }
  } else if (!options.accept_draft_versions) {
    return fail(ErrorCode::Missing, "required tag v= is missing");
  }

  /* a= */
  sig.algorithm_text = strip_fws(*t.get("a"));
  auto alg = crypto::parse_sign_alg(sig.algorithm_text);
  if (!alg) {
    return fail(ErrorCode::Unsupported, "unsupported algorithm a=" + sig.algorithm_text);
  }
  sig.algorithm = *alg;

  /* b= and bh= (base64, FWS ignored, RFC 6376 §3.5). */
  sig.b_text = strip_fws(*t.get("b"));
  if (sig.b_text.empty()) return fail(ErrorCode::Missing, "b= is empty");
  auto b = crypto::base64_decode(sig.b_text);
  if (!b) return fail(ErrorCode::Syntax, "b= is not valid base64: " + b.error().reason);
  sig.signature = std::move(*b);
  const std::string bh_text = strip_fws(*t.get("bh"));
  if (bh_text.empty()) return fail(ErrorCode::Missing, "bh= is empty");
  auto bh = crypto::base64_decode(bh_text);
  if (!bh) return fail(ErrorCode::Syntax, "bh= is not valid base64: " + bh.error().reason);
  sig.body_hash = std::move(*bh);

  /* c= (default simple/simple). */
  if (auto c = t.get("c")) {
    auto canon = parse_canonicalization(*c);
    if (!canon) return fail(canon.error().code, "c=: " + canon.error().reason);
    sig.canon = *canon;
  }

  /* d= and s=. */
  auto d = check_domain(*t.get("d"), "d");
  if (!d) return fail(d.error());
  sig.domain = std::move(*d);
  auto s = check_domain(*t.get("s"), "s");
  if (!s) return fail(s.error());
  sig.selector = std::move(*s);

  /* h= must name From (RFC 6376 §5.4; verifiers reject signatures without it, §6.1.1). */
  bool has_from = false;
  if (strip_fws(*t.get("h")).empty()) return fail(ErrorCode::Missing, "h= is empty");
  for (auto& name : internal::split_colon_list(*t.get("h"))) {
    if (!is_field_name(name)) {
      return fail(ErrorCode::Syntax, name.empty() ? std::string("empty header name in h=")
                                                  : "invalid header name in h=: " + name);
    }
    if (sig.signed_headers.size() >= kMaxSignedHeaders) {
      return fail(ErrorCode::LimitExceeded,
                  "more than " + std::to_string(kMaxSignedHeaders) + " names in h=");
    }
    if (mail::equals_ignore_case(name, "from")) has_from = true;
    sig.signed_headers.push_back(std::move(name));
  }
  if (!has_from) return fail(ErrorCode::Invalid, "From is not in h=");

  /* i= (dkim-quoted-printable; domain must be d= or a subdomain, §3.5). */
  if (auto i = t.get("i")) {
    auto id = decode_dkim_quoted_printable(*i);
    if (!id) return fail(ErrorCode::Syntax, "i=: " + id.error().reason);
    const auto at = id->rfind('@');
    if (at == std::string::npos) return fail(ErrorCode::Syntax, "i= has no '@'");
    if (!is_same_or_subdomain(std::string_view(*id).substr(at + 1), sig.domain)) {
      return fail(ErrorCode::Invalid, "i= domain is not d= or a subdomain of it");
    }
    sig.identity = std::move(*id);
    sig.identity_given = true;
  } else {
    sig.identity = "@" + sig.domain;
  }

  /* l= */
  if (auto l = t.get("l")) {
    auto n = internal::parse_decimal(strip_fws(*l), kMaxDecimalDigits, "l");
    if (!n) return fail(n.error());
    sig.body_length = static_cast<std::uint64_t>(*n);
  }

  /* q= must offer dns/txt (the only method defined, §3.5). */
  if (auto q = t.get("q")) {
    bool ok = false;
    for (const auto& m : internal::split_colon_list(*q)) {
      if (m == "dns/txt" || (options.accept_draft_versions && m == "dns")) ok = true;
    }
    if (!ok) return fail(ErrorCode::Unsupported, "q= offers no dns/txt query method");
  }

  /* t= and x= (1*12DIGIT; x ≥ t). */
  if (auto ts = t.get("t")) {
    auto n = internal::parse_decimal(strip_fws(*ts), kMaxTimeDigits, "t");
    if (!n) return fail(n.error());
    sig.timestamp = *n;
  }
  if (auto xs = t.get("x")) {
    auto n = internal::parse_decimal(strip_fws(*xs), kMaxTimeDigits, "x");
    if (!n) return fail(n.error());
    sig.expiration = *n;
  }
  if (sig.timestamp && sig.expiration && *sig.expiration < *sig.timestamp) {
    return fail(ErrorCode::Invalid, "x= is earlier than t=");
  }

  /* z= (copied header fields): kept for diagnostics only. */
  if (auto z = t.get("z")) sig.copied_headers = std::string(*z);

  return sig;
}

}  // namespace auth::dkim
