// DKIM signer (RFC 6376 §5, RFC 8463, RFC 8301): streaming body hash, several signatures.
#include "auth/dkim/signer.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "auth/crypto/base64.h"
#include "auth/crypto/hash.h"
#include "auth/dkim/canonicalize.h"
#include "auth/mail/ascii.h"
#include "auth/mail/domain.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

using internal::lower;

// RFC 5322 §3.6.8 ftext.
bool is_field_name(std::string_view n) noexcept {
  if (n.empty()) return false;
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') return false;
  }
  return true;
}

// One tag's text split where folding whitespace may go. `joiner` is what stands between this
// piece and the previous one when the line is not broken there ("" or " "); a break replaces
// the joiner with CRLF HTAB.
struct Piece {
  std::string text;
  std::string joiner;
};

// Lays out pieces on lines of at most kSignatureLineLength characters. `col` is the column
// after the text already in `out`.
void lay_out(std::string& out, std::size_t& col, const std::vector<Piece>& pieces) {
  for (const auto& p : pieces) {
    const std::size_t need = p.joiner.size() + p.text.size();
    if (col + need > kSignatureLineLength && col > 1) {
      out += "\r\n\t";
      col = 1;
    } else {
      out += p.joiner;
      col += p.joiner.size();
    }
    out += p.text;
    col += p.text.size();
  }
}

// An Ed25519 signature is 64 bytes (RFC 8032 §5.1.6).
constexpr std::size_t kEd25519SignatureBytes = 64;

// ---- OpenDKIM layout: libopendkim dkim.c dkim_getsighdr_d, margin DKIM_HDRMARGIN. ----

// Base64 length OpenDKIM assumes for an RSA signature in its "force wrap" test
// (dkim-internal.h BASE64SIZE applied to sig_keybits / 8).
std::size_t opendkim_base64_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

// RFC 6376 §2.11 dkim-safe-char as libopendkim's dkim_qp_encode tests it.
bool is_qp_literal(unsigned char c) noexcept {
  return (c >= 0x21 && c <= 0x3A) || c == 0x3C || (c >= 0x3E && c <= 0x7E);
}

// One z= copy as dkim_gensighdr makes it: dkim_qp_encode into a kOpenDkimZCopyBuffer-byte
// buffer; -1 (does not fit) leaves the copy empty, an escape that would need the last 5
// bytes is skipped (dkim_qp_encode's `else if (q < end - 4)`).
std::string opendkim_z_copy(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const std::size_t end = kOpenDkimZCopyBuffer;
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    if (out.size() >= end) return {};
    if (is_qp_literal(c)) {
      out += ch;
    } else if (out.size() + 4 < end) {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

// The z= value: the copies of `fields`, '|'-separated (RFC 6376 §3.5).
template <class Fields, class Encode>
std::string z_value(const Fields& fields, Encode encode) {
  std::string z;
  bool first = true;
  for (const mail::Field* f : fields) {
    if (!first) z += '|';
    first = false;
    z += encode(f->raw);
  }
  return z;
}

// Lays out "tag=value;" tokens as dkim_getsighdr_d does. `len` is OpenDKIM's column count:
// it starts after "DKIM-Signature: ", a folding TAB counts kOpenDkimTabWidth columns.
struct OpenDkimLayout {
  std::string out;
  std::size_t len = kOpenDkimInitialColumn;
  bool first = true;

  void wrap() {
    out += "\r\n\t";
    len = kOpenDkimTabWidth;
  }
  void continuation() {
    out += "\r\n\t ";
    len = kOpenDkimTabWidth + 1;
  }
  // The bh=/b=/z= branch after the first value byte: chunks up to the margin, continuation
  // lines when the margin is reached exactly.
  void cut(std::string_view rest) {
    std::size_t i = 0;
    while (i < rest.size()) {
      if (len == kOpenDkimHeaderMargin) continuation();
      const std::size_t left = rest.size() - i;
      const std::size_t n = len < kOpenDkimHeaderMargin
                                ? std::min(kOpenDkimHeaderMargin - len, left)
                                : left;
      out.append(rest.substr(i, n));
      len += n;
      i += n;
    }
  }
  // Whether a token of `size` bytes goes on a new line.
  bool wraps(std::size_t size, bool force) const {
    return !first && (force || len + size > kOpenDkimHeaderMargin);
  }
  // One token "name=value;" (b= has no ';').
  void tag(std::string_view pv, bool force_wrap) {
    const std::size_t eq = pv.find('=');
    const std::string_view which = pv.substr(0, eq);
    if (first) {
      out.append(pv);
      len += pv.size();
      first = false;
      return;
    }
    if (!wraps(pv.size(), force_wrap)) {
      out += ' ';
      out.append(pv);
      len += 1 + pv.size();
      return;
    }
    wrap();
    if (which == "h") {
      // Break after ':' (strtok on ':': empty names are skipped).
      bool ifirst = true;
      std::size_t start = 0;
      while (start <= pv.size()) {
        std::size_t colon = pv.find(':', start);
        if (colon == std::string_view::npos) colon = pv.size();
        const std::string_view piece = pv.substr(start, colon - start);
        start = colon + 1;
        if (piece.empty()) continue;
        if (ifirst) {
          ifirst = false;
        } else if (len + piece.size() + 1 > kOpenDkimHeaderMargin) {
          out += ':';
          continuation();
        } else {
          out += ':';
          len += 1;
        }
        out.append(piece);
        len += piece.size();
      }
    } else if (which == "b" || which == "bh" || which == "z") {
      out.append(pv.substr(0, eq + 1));
      len += eq + 1;
      // OpenDKIM copies (and counts) the first value byte before cutting at the margin.
      if (eq + 1 < pv.size()) out += pv[eq + 1];
      len += 1;
      if (eq + 2 < pv.size()) cut(pv.substr(eq + 2));
    } else {
      out.append(pv);
      len += pv.size();
    }
  }
};

}  // namespace

const std::vector<std::string>& opendkim_default_signed_headers() {
  static const std::vector<std::string> kHeaders = {
      "from",        "reply-to",      "subject",        "date",         "to",
      "cc",          "resent-date",   "resent-from",    "resent-sender", "resent-to",
      "resent-cc",   "in-reply-to",   "references",     "list-id",      "list-help",
      "list-unsubscribe", "list-subscribe", "list-post", "list-owner",  "list-archive"};
  return kHeaders;
}

const std::vector<std::string>& recommended_signed_headers() {
  static const std::vector<std::string> kHeaders = {
      "from",        "reply-to",         "subject",          "date",
      "to",          "cc",               "resent-date",      "resent-from",
      "resent-sender", "resent-to",      "resent-cc",        "in-reply-to",
      "references",  "list-id",          "list-help",        "list-unsubscribe",
      "list-subscribe", "list-post",     "list-owner",       "list-archive",
      "message-id",  "sender",           "mime-version",     "content-type",
      "content-transfer-encoding", "content-id", "content-description"};
  return kHeaders;
}

std::string encode_dkim_qp(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    if (is_qp_literal(c)) {
      out += ch;
    } else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

struct Signer::Impl {
  SignOptions opt;
  std::vector<mail::Field> headers;
  std::size_t header_bytes = 0;
  bool ended = false;
  bool finished = false;
  // One body hash per distinct body canonicalization and length limit (both a= use SHA-256),
  // so dual RSA + Ed25519 signing hashes the body once.
  std::vector<BodyHasher> hashers;
  std::vector<std::pair<Canon, std::optional<std::uint64_t>>> hasher_canon;
  std::vector<std::size_t> hasher_of;  // per spec
  std::vector<std::optional<std::string>> body_hash;  // per hasher, once finished

  explicit Impl(SignOptions o) : opt(std::move(o)) {
    if (!opt.clock) opt.clock = system_clock();
    for (const auto& spec : opt.signatures) {
      std::size_t i = 0;
      const std::pair<Canon, std::optional<std::uint64_t>> key{spec.canon.body, spec.max_body_bytes};
      while (i < hasher_canon.size() && hasher_canon[i] != key) ++i;
      if (i == hasher_canon.size()) {
        hasher_canon.push_back(key);
        hashers.emplace_back(spec.canon.body, crypto::HashAlg::Sha256, spec.max_body_bytes);
      }
      hasher_of.push_back(i);
    }
    body_hash.resize(hashers.size());
  }

  Result<void> add(mail::Field f) {
    if (ended) return ok();
    return internal::append_header_bounded(headers, header_bytes, std::move(f));
  }

  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& f : headers) n += f.is(name) ? 1 : 0;
    return n;
  }

  /// The signature over the header hash (RFC 6376 §3.7, §5.5): the fields named in h= as
  /// selected bottom-up, canonicalized, each with CRLF, then `field` (this DKIM-Signature
  /// with b= empty) without one; one buffer, one hash update. Shared by both layouts.
  Result<std::string> sign_header_hash(const SignatureSpec& spec, crypto::SignAlg alg,
                                       const std::vector<std::string>& names, std::string_view field) const {
    crypto::Hasher hash(crypto::HashAlg::Sha256);
    std::string input;
    input.reserve(header_bytes + field.size() + 2 * names.size());
    for (const mail::Field* f : internal::select_headers(headers, names)) {
      internal::append_canonical_header(spec.canon.header, f->raw, input);
      input.append("\r\n", 2);
    }
    internal::append_canonical_header(spec.canon.header, field, input);
    hash.update(input);
    return spec.key->sign_digest(alg, hash.finish());
  }

  Result<std::string> sign_one(const SignatureSpec& spec, std::size_t hasher, std::int64_t now) {
    /* Validate the spec. */
    if (!spec.key) return fail(ErrorCode::Missing, "no key for d=" + spec.domain);
    const crypto::SignAlg alg = spec.algorithm.value_or(
        spec.key->key_type() == crypto::KeyType::Ed25519 ? crypto::SignAlg::Ed25519Sha256
                                                         : crypto::SignAlg::RsaSha256);
    if (alg == crypto::SignAlg::RsaSha1) {
      return fail(ErrorCode::Unsupported, "signing with rsa-sha1 is forbidden (RFC 8301 section 3.1)");
    }
    if (crypto::key_type_of(alg) != spec.key->key_type()) {
      return fail(ErrorCode::Invalid, std::string("key type ") +
                                          crypto::to_string(spec.key->key_type()) +
                                          " does not fit a=" + crypto::to_string(alg));
    }
    if (spec.domain.empty()) return fail(ErrorCode::Missing, "empty d=");
    if (spec.selector.empty()) return fail(ErrorCode::Missing, "empty s=");
    if (auto v = mail::validate_domain(lower(spec.domain), mail::DomainSyntax::AllowUnderscore); !v) {
      return fail(ErrorCode::Invalid, "d=" + spec.domain + ": " + v.error().reason);
    }
    if (auto v = mail::validate_domain(lower(spec.selector), mail::DomainSyntax::AllowUnderscore); !v) {
      return fail(ErrorCode::Invalid, "s=" + spec.selector + ": " + v.error().reason);
    }
    if (!spec.identity.empty()) {
      const auto at = spec.identity.rfind('@');
      if (at == std::string::npos ||
          !is_same_or_subdomain(std::string_view(spec.identity).substr(at + 1), spec.domain)) {
        return fail(ErrorCode::Invalid, "i=" + spec.identity + " is not within d=" + spec.domain);
      }
      for (char c : spec.identity) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7E || c == ';' || c == '=') {
          return fail(ErrorCode::Invalid, "i= holds a byte that would need quoted-printable");
        }
      }
    }
    if (spec.expire_after && *spec.expire_after <= 0) {
      return fail(ErrorCode::Invalid, "expire_after must be positive");
    }
    if (spec.style == SignatureStyle::OpenDkim) return sign_opendkim(spec, alg, hasher, now);
    if (spec.header_separator.find(':') == std::string::npos ||
        strip_fws(spec.header_separator) != ":" ||
        spec.header_separator.find_first_of("\r\n") != std::string::npos) {
      return fail(ErrorCode::Invalid, "header_separator must be ':' with optional spaces");
    }

    /* h= : each name once per occurrence, then the oversigned names once more (§5.4.2). */
    if (count("from") == 0) {
      return fail(ErrorCode::Missing, "message has no From field (RFC 6376 section 5.4)");
    }
    std::vector<std::string> names;
    // The message's field names lower-cased once, so counting occurrences is plain compares.
    std::vector<std::string> present;
    present.reserve(headers.size());
    for (const auto& f : headers) present.push_back(lower(f.name));
    const auto& wanted = spec.headers.empty() ? recommended_signed_headers() : spec.headers;
    std::vector<std::string> seen;
    seen.reserve(wanted.size() + 1);
    names.reserve(headers.size() + spec.oversign.size());
    auto add_name = [&](const std::string& n) -> Result<void> {
      if (!is_field_name(n)) return fail(ErrorCode::Invalid, "bad header name \"" + n + "\"");
      std::size_t k = 0;
      for (const auto& p : present) {
        if (p.size() == n.size() && mail::equals_ignore_case(p, n)) ++k;
      }
      // A name absent from the message adds nothing, now or when listed again.
      if (k == 0) return ok();
      std::string l = lower(n);
      for (const auto& s : seen) {
        if (s == l) return ok();
      }
      for (std::size_t i = 0; i < k; ++i) names.push_back(l);
      seen.push_back(std::move(l));
      return ok();
    };
    bool from_listed = false;
    for (const auto& n : wanted) from_listed = from_listed || mail::equals_ignore_case(n, "from");
    if (!from_listed) (void)add_name("from");  // From is always signed (§5.4)
    for (const auto& n : wanted) {
      if (auto r = add_name(n); !r) return fail(r.error());
    }
    for (const auto& n : spec.oversign) {
      if (!is_field_name(n)) return fail(ErrorCode::Invalid, "bad header name \"" + n + "\"");
      names.push_back(lower(n));
    }

    /* Body hash. */
    if (!body_hash[hasher]) body_hash[hasher] = hashers[hasher].finish();
    const std::string& bh = *body_hash[hasher];
    // l= is what was hashed: the whole canonical body, or MaximumSignedBytes of it.
    const std::uint64_t canonical_len = hashers[hasher].hashed_length();
    const bool write_l = spec.body_length || spec.max_body_bytes.has_value();

    /* Tags in fixed order: v a c d i q s t x l h bh b. */
    std::vector<std::vector<Piece>> tags;
    auto simple_tag = [&](const std::string& text) { tags.push_back({Piece{text, " "}}); };
    simple_tag("v=1;");
    simple_tag(std::string("a=") + crypto::to_string(alg) + ";");
    simple_tag("c=" + to_string(spec.canon) + ";");
    simple_tag("d=" + spec.domain + ";");
    if (!spec.identity.empty()) simple_tag("i=" + spec.identity + ";");
    if (spec.query_method) simple_tag("q=dns/txt;");
    simple_tag("s=" + spec.selector + ";");
    if (spec.timestamp) simple_tag("t=" + std::to_string(now) + ";");
    if (spec.expire_after) simple_tag("x=" + std::to_string(now + *spec.expire_after) + ";");
    if (spec.request_reports) simple_tag("r=y;");  // RFC 6651 §3
    if (write_l) simple_tag("l=" + std::to_string(canonical_len) + ";");
    {
      // h= pieces: break points at the separator's spaces, or after ':' when it has none.
      std::vector<Piece> h;
      const bool spaced_before = spec.header_separator.front() == ' ';
      const bool spaced_after = spec.header_separator.back() == ' ';
      for (std::size_t i = 0; i < names.size(); ++i) {
        std::string text = (i == 0 ? "h=" : "") + names[i];
        std::string joiner = i == 0 ? " " : (spaced_after ? " " : "");
        if (i + 1 < names.size() && !spaced_before) text += ":";
        h.push_back(Piece{std::move(text), std::move(joiner)});
        if (i + 1 < names.size() && spaced_before) h.push_back(Piece{":", " "});
      }
      h.back().text += ";";
      tags.push_back(std::move(h));
    }
    if (spec.diagnostics) {
      // z= (RFC 6376 §3.5): the message's signed fields, top to bottom. Folding may go after
      // each '|' and between encoded characters (dkim-quoted-printable allows FWS), so the
      // value is cut into pieces of at most kZPiece characters at character boundaries.
      constexpr std::size_t kZPiece = 40;
      std::vector<const mail::Field*> copied;
      for (const auto& f : headers) {
        const std::string l = lower(f.name);
        if (std::find(seen.begin(), seen.end(), l) != seen.end()) copied.push_back(&f);
      }
      std::vector<Piece> z;
      std::string cur = "z=";
      auto flush = [&] {
        if (!cur.empty()) z.push_back(Piece{std::move(cur), z.empty() ? " " : ""});
        cur.clear();
      };
      for (std::size_t i = 0; i < copied.size(); ++i) {
        if (i > 0) {
          cur += '|';
          flush();
        }
        const std::string qp = encode_dkim_qp(copied[i]->raw);
        for (std::size_t j = 0; j < qp.size();) {
          const std::size_t n = qp[j] == '=' ? 3 : 1;  // keep "=XX" together
          if (cur.size() + n > kZPiece) flush();
          cur.append(qp, j, n);
          j += n;
        }
      }
      cur += ';';
      flush();
      tags.push_back(std::move(z));
    }
    simple_tag("bh=" + crypto::base64_encode(bh) + ";");

    /* Lay out everything up to "b=", which must share its line with some b= data. */
    std::string field = std::string(kSignatureFieldName) + ":";
    std::size_t col = field.size();
    for (const auto& t : tags) lay_out(field, col, t);
    if (col + 1 + 2 + 1 > kSignatureLineLength) {
      field += "\r\n\tb=";
      col = 3;
    } else {
      field += " b=";
      col += 3;
    }

    /* Header hash over exactly what is emitted with b= empty (§3.7, §5.5). */
    auto sig = sign_header_hash(spec, alg, names, field);
    if (!sig) return fail(sig.error());

    /* b= value, cut to the line length (FWS inside b= is ignored by verifiers, §3.5). */
    const std::string b = crypto::base64_encode(*sig);
    std::size_t i = 0;
    while (i < b.size()) {
      std::size_t room = kSignatureLineLength > col ? kSignatureLineLength - col : 0;
      if (room == 0) {
        field += "\r\n\t";
        col = 1;
        continue;
      }
      const std::size_t n = std::min(room, b.size() - i);
      field.append(b, i, n);
      col += n;
      i += n;
    }
    return field;
  }

  // OpenDkim style (see signer.h): OpenDKIM's tag order, h= and folding; `spec` is validated
  // up to the style-specific parts.
  Result<std::string> sign_opendkim(const SignatureSpec& spec, crypto::SignAlg alg,
                                    std::size_t hasher, std::int64_t now) {
    if (count("from") == 0) {
      return fail(ErrorCode::Missing, "message has no From field (RFC 6376 section 5.4)");
    }
    /* h= : the message's fields in the signed set, top to bottom, spelled as received
       (dkim_canon_runheaders + dkim_gensighdr), then the oversigned names as configured. */
    const auto& wanted = spec.headers.empty() ? opendkim_default_signed_headers() : spec.headers;
    std::unordered_set<std::string> signed_set;
    signed_set.reserve(wanted.size() + 1);
    signed_set.insert("from");  // libopendkim's required header list
    for (const auto& n : wanted) {
      if (!is_field_name(n)) return fail(ErrorCode::Invalid, "bad header name \"" + n + "\"");
      signed_set.insert(lower(n));
    }
    std::vector<std::string> names;
    names.reserve(headers.size() + spec.oversign.size());
    for (const auto& f : headers) {
      if (signed_set.count(lower(f.name)) != 0) names.push_back(f.name);
    }
    for (const auto& n : spec.oversign) {
      if (n.empty()) continue;  // dkim_gensighdr skips empty OversignHeaders entries
      if (!is_field_name(n)) return fail(ErrorCode::Invalid, "bad header name \"" + n + "\"");
      names.push_back(n);
    }

    /* Body hash. */
    if (!body_hash[hasher]) body_hash[hasher] = hashers[hasher].finish();
    const std::string& bh = *body_hash[hasher];
    // l= is what was hashed: the whole canonical body, or MaximumSignedBytes of it.
    const std::uint64_t canonical_len = hashers[hasher].hashed_length();
    const bool write_l = spec.body_length || spec.max_body_bytes.has_value();

    /* Tokens in dkim_gensighdr's order: v a c d s t [q] [x] [i] bh [l] h, then b. */
    std::vector<std::string> tokens;
    tokens.push_back("v=1;");
    tokens.push_back(std::string("a=") + crypto::to_string(alg) + ";");
    tokens.push_back("c=" + to_string(spec.canon) + ";");
    tokens.push_back("d=" + spec.domain + ";");
    tokens.push_back("s=" + spec.selector + ";");
    if (spec.timestamp) tokens.push_back("t=" + std::to_string(now) + ";");
    if (spec.query_method) tokens.push_back("q=dns/txt;");
    if (spec.expire_after) tokens.push_back("x=" + std::to_string(now + *spec.expire_after) + ";");
    if (!spec.identity.empty()) tokens.push_back("i=" + spec.identity + ";");
    if (spec.request_reports) tokens.push_back("r=y;");  // opendkim 2.11: after i=, before bh=
    tokens.push_back("bh=" + crypto::base64_encode(bh) + ";");
    if (write_l) tokens.push_back("l=" + std::to_string(canonical_len) + ";");
    {
      std::string h = "h=";
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) h += ':';
        h += names[i];
      }
      tokens.push_back(h + ";");
    }
    if (spec.diagnostics) {
      // z= after h= (opendkim 2.11, DKIM_LIBFLAGS_ZTAGS): every field of the message whose
      // name is in the signed set (libopendkim's sign/skip regexes, which are what chose h=).
      std::vector<const mail::Field*> copied;
      for (const auto& f : headers) {
        if (signed_set.count(lower(f.name)) != 0) copied.push_back(&f);
      }
      tokens.push_back("z=" + z_value(copied, opendkim_z_copy) + ";");
    }
    OpenDkimLayout layout;
    for (const auto& t : tokens) layout.tag(t, false);

    /* b= : its line break is decided before signing, from the signature's length (fixed by
       the key), so the hashed text is exactly the emitted one. RSA always "force wraps". */
    const bool rsa = spec.key->key_type() == crypto::KeyType::Rsa;
    const std::size_t sig_bytes = rsa ? (spec.key->bits() + 7) / 8 : kEd25519SignatureBytes;
    const std::size_t b64_len = opendkim_base64_size(sig_bytes);
    const bool force = rsa && layout.len + 1 + opendkim_base64_size(spec.key->bits() / 8) + 1 >=
                                  kOpenDkimHeaderMargin;
    const bool wrap_b = layout.wraps(2 + b64_len, force);
    if (wrap_b) {
      layout.wrap();
      layout.out += "b=";
      layout.len += 2;
    } else {
      layout.out += " b=";
      layout.len += 3;
    }
    std::string field = std::string(kSignatureFieldName) + ": " + layout.out;

    /* Header hash over exactly what is emitted with b= empty (§3.7, §5.5). */
    auto sig = sign_header_hash(spec, alg, names, field);
    if (!sig) return fail(sig.error());
    const std::string b = crypto::base64_encode(*sig);
    if (wrap_b) {
      // As the b= branch of OpenDkimLayout::tag: first byte, then cut at the margin.
      if (!b.empty()) {
        layout.out += b[0];
        layout.len += 1;
        layout.cut(std::string_view(b).substr(1));
      }
    } else {
      layout.out += b;
    }
    return std::string(kSignatureFieldName) + ": " + layout.out;
  }

  Result<std::vector<std::string>> finish() {
    ended = true;
    if (finished) return fail(ErrorCode::Internal, "Signer::finish called twice");
    finished = true;
    if (opt.signatures.empty()) return fail(ErrorCode::Missing, "no signatures configured");
    const std::int64_t now = opt.clock();
    std::vector<std::string> out;
    for (std::size_t i = 0; i < opt.signatures.size(); ++i) {
      auto f = sign_one(opt.signatures[i], hasher_of[i], now);
      if (!f) {
        const auto& spec = opt.signatures[i];
        return fail(f.error().code,
                    "d=" + spec.domain + " s=" + spec.selector + ": " + f.error().reason);
      }
      out.push_back(std::move(*f));
    }
    return out;
  }
};

Signer::Signer(SignOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Signer::~Signer() = default;
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;

Result<void> Signer::add_header(const mail::Field& field) { return impl_->add(field); }

Result<void> Signer::add_header(mail::Field&& field) {
  return impl_->add(std::move(field));
}

Result<void> Signer::add_header(std::string_view raw_field) {
  auto f = mail::Field::parse(raw_field);
  if (!f) return fail(f.error());
  return impl_->add(std::move(*f));
}

void Signer::end_headers() { impl_->ended = true; }

void Signer::body_chunk(std::string_view bytes) {
  impl_->ended = true;
  if (impl_->finished) return;  // the hashes are final
  for (auto& h : impl_->hashers) h.update(bytes);
}

Result<std::vector<std::string>> Signer::finish() { return impl_->finish(); }

Result<std::vector<std::string>> sign_message(std::string_view message, const SignOptions& options) {
  // LF-only input is converted first; CRLF input (the usual case) is used in place.
  std::string converted;
  std::string_view crlf = message;
  if (mail::has_bare_lf(message)) {
    converted = mail::to_crlf(message);
    crlf = converted;
  }
  const mail::MessageParts parts = mail::split_message(crlf);
  auto block = mail::parse_header_block(parts.header);
  if (!block) return fail(ErrorCode::Syntax, "header section: " + block.error().reason);
  Signer s(options);
  for (auto& f : block->fields) {
    if (auto r = s.add_header(std::move(f)); !r) return fail(r.error());
  }
  s.end_headers();
  s.body_chunk(parts.body);
  return s.finish();
}

}  // namespace auth::dkim
