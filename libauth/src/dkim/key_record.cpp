// DKIM key record parsing (RFC 6376 §3.6.1, RFC 8463 §4) and formatting.
#include "auth/dkim/key_record.h"

#include "auth/crypto/base64.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {

bool KeyRecord::allows_hash(crypto::SignAlg alg) const {
  if (hash_algs.empty()) return true;
  const std::string_view want = crypto::to_string(crypto::hash_alg_of(alg));
  for (const auto& h : hash_algs) {
    if (h == want) return true;
  }
  return false;
}

bool KeyRecord::allows_email() const {
  for (const auto& s : service_types) {
    if (s == "*" || s == "email") return true;
  }
  return false;
}

Result<KeyRecord> parse_key_record(std::string_view txt) {
  if (txt.size() > kMaxKeyRecordBytes) {
    return fail(ErrorCode::LimitExceeded,
                "key record longer than " + std::to_string(kMaxKeyRecordBytes) + " bytes");
  }
  auto parsed = parse_tag_list(txt);
  if (!parsed) return fail(parsed.error().code, "key record: " + parsed.error().reason);
  KeyRecord key;
  key.tags = std::move(*parsed);
  const TagList& t = key.tags;

  /* v= : if present, first and exactly "DKIM1" (§3.6.1). */
  if (const Tag* v = t.find("v")) {
    if (&t.tags.front() != v) return fail(ErrorCode::Syntax, "key record: v= is not the first tag");
    if (v->value != "DKIM1") {
      return fail(ErrorCode::Unsupported, "key record: unsupported version v=" + v->value);
    }
  }

  /* k= (default rsa). */
  if (auto k = t.get("k")) {
    key.key_type_text = strip_fws(*k);
    auto type = crypto::parse_key_type(key.key_type_text);
    if (!type) {
      return fail(ErrorCode::Unsupported, "key record: unknown key type k=" + key.key_type_text);
    }
    key.key_type = *type;
  }

  /* p= (required; empty = revoked). */
  auto p = t.get("p");
  if (!p) return fail(ErrorCode::Missing, "key record: no p= tag");
  auto decoded = crypto::base64_decode(*p);
  if (!decoded) {
    return fail(ErrorCode::Syntax, "key record: p= is not valid base64: " + decoded.error().reason);
  }
  key.public_key = std::move(*decoded);

  /* h= acceptable hash algorithms (unknown ones ignored, §3.6.1). */
  if (auto h = t.get("h")) {
    for (auto& a : internal::split_colon_list(*h)) {
      if (!a.empty()) key.hash_algs.push_back(std::move(a));
    }
  }

  /* s= service types. */
  if (auto s = t.get("s")) {
    key.service_types.clear();
    for (auto& a : internal::split_colon_list(*s)) {
      if (!a.empty()) key.service_types.push_back(std::move(a));
    }
  }

  /* t= flags: y (testing), s (strict identity); unknown flags ignored. */
  if (auto flags = t.get("t")) {
    for (const auto& f : internal::split_colon_list(*flags)) {
      if (f == "y") key.testing = true;
      if (f == "s") key.strict_identity = true;
    }
  }

  if (auto n = t.get("n")) key.notes = std::string(*n);
  return key;
}

Result<std::string> format_key_record(const crypto::PublicKey& key, bool testing) {
  auto p = key.dkim_p();
  if (!p) return fail(p.error());
  std::string out = "v=DKIM1; k=";
  out += crypto::to_string(key.type());
  out += "; p=";
  out += crypto::base64_encode(*p);
  if (testing) out += "; t=y";
  return out;
}

}  // namespace auth::dkim
