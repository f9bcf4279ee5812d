// DKIM verifier (RFC 6376 §6, RFC 8301, RFC 8463): streaming body hash, keys via dns::Resolver.
#include "auth/dkim/verifier.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "auth/crypto/hash.h"
#include "auth/dkim/canonicalize.h"
#include "auth/dkim/key_record.h"
#include "auth/mail/ascii.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

using internal::lower;

// Answers of async key lookups; shared with the callbacks so a Verifier destroyed while a
// lookup is outstanding leaves them writing into memory they co-own.
struct LookupState {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<dns::Answer>> answers;
  std::size_t outstanding = 0;
};

struct SigState {
  SignatureResult result;
  bool decided = false;                 // result final before the body ended
  std::optional<Signature> sig;
  std::size_t field = 0;                // index into headers
  std::size_t hasher = 0;               // index into hashers
  std::size_t lookup = 0;               // index into lookup answers / names
  std::string blanked;                  // the field's raw bytes with b= emptied (§3.7)
};

void decide(SigState& s, DkimResult r, FailureKind k, std::string why) {
  s.result.result = r;
  s.result.failure = k;
  s.result.reason = std::move(why);
  s.decided = true;
}

// Best-effort report data for a signature that does not parse (d, s, a, i, b prefix), from
// a lenient look at its tag-list.
void fill_report_from_tags(SignatureResult& r, std::string_view value) {
  auto tags = parse_tag_list(value);
  if (!tags) return;
  if (auto d = tags->get("d")) r.domain = lower(strip_fws(*d));
  if (auto s = tags->get("s")) r.selector = strip_fws(*s);
  if (auto a = tags->get("a")) r.algorithm = strip_fws(*a);
  if (auto b = tags->get("b")) {
    r.b_text = strip_fws(*b);
    r.b_prefix = r.b_text.substr(0, kMinHeaderBLength);
  }
  if (auto i = tags->get("i")) {
    auto id = decode_dkim_quoted_printable(*i);
    if (id) r.identity = *id;
  } else if (!r.domain.empty()) {
    r.identity = "@" + r.domain;
  }
  if (tags->find("l") != nullptr) r.body_length_limited = true;
}

// RFC 6376 §3.5 x=: "Signatures MAY be considered invalid if the verification time at the
// Verifier is past the expiration date." With the OpenDKIM ClockDrift tolerance, as libopendkim
// dkim_sig_expired(): expired when now >= x + drift. Computed as an unsigned difference so no
// value of the (injected) clock can overflow; x= has at most 12 digits (§3.5), drift >= 0.
bool expired(std::int64_t x, std::int64_t now, std::int64_t drift) {
  if (now < x) return false;
  return static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(x) >= static_cast<std::uint64_t>(drift);
}

// RFC 6376 §3.5 t=: "Verifiers MAY ignore signatures with a timestamp in the future." As
// libopendkim dkim_sig_future(): in the future when now < t - drift, i.e. t > now + drift.
// libopendkim computes t - drift in uint64_t, so a t= smaller than the drift (a 1970 date)
// wraps around and is reported "in the future" as well; opendkim.conf(5) promises a check for
// signatures "generated in the future", so such old timestamps are not flagged here.
bool in_future(std::int64_t t, std::int64_t now, std::int64_t drift) {
  if (t <= now) return false;
  return static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(now) > static_cast<std::uint64_t>(drift);
}

// A bh= that is not base64 (RFC 6376 §3.5: a syntax error, PERMFAIL). libopendkim 2.11 does
// not check it when it sets the signature up; its decoder skips foreign bytes, and the body
// hash then fails: "fail" after the key lookup (lab: opendkim -t, bad_signature_test.sh). To
// report the same without ever passing such a field, its non-FWS bytes are replaced in place
// (same length, so every tag offset stays valid for the header hash) by 'A's, base64 of zero
// bytes, which no body hash equals; the last count % 4 of them become spaces (FWS) so that
// the rest is whole quanta. False (nothing usable) with fewer than 4 such bytes: the
// signature then stays unusable.
bool placeholder_body_hash(std::string& value, std::size_t begin, std::size_t end) {
  auto fws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::size_t count = 0;
  for (std::size_t i = begin; i < end; ++i) {
    if (fws(value[i])) continue;
    value[i] = 'A';
    ++count;
  }
  if (count < 4) return false;
  for (std::size_t i = end, extra = count % 4; extra > 0 && i > begin; --i) {
    if (fws(value[i - 1])) continue;
    value[i - 1] = ' ';
    --extra;
  }
  return true;
}

}  // namespace

struct Verifier::Impl {
  VerifyOptions opt;
  dns::Resolver* resolver;
  std::vector<mail::Field> headers;
  std::size_t header_bytes = 0;
  bool ended = false;
  bool finished = false;
  std::size_t signature_fields = 0;
  std::vector<SigState> sigs;
  std::vector<BodyHasher> hashers;
  std::vector<std::tuple<Canon, crypto::HashAlg, std::optional<std::uint64_t>>> hasher_keys;
  std::vector<std::string> lookup_names;
  std::shared_ptr<LookupState> lookups = std::make_shared<LookupState>();

  Impl(VerifyOptions o, dns::Resolver& r) : opt(std::move(o)), resolver(&r) {
    if (!opt.clock) opt.clock = system_clock();
  }

  Result<void> add(mail::Field f) {
    if (ended) return ok();
    return internal::append_header_bounded(headers, header_bytes, std::move(f));
  }

  std::size_t hasher_for(const Signature& sig) {
    const auto key = std::make_tuple(sig.canon.body, crypto::hash_alg_of(sig.algorithm),
                                     sig.body_length);
    for (std::size_t i = 0; i < hasher_keys.size(); ++i) {
      if (hasher_keys[i] == key) return i;
    }
    hasher_keys.push_back(key);
    hashers.emplace_back(std::get<0>(key), std::get<1>(key), std::get<2>(key));
    return hashers.size() - 1;
  }

  std::size_t lookup_for(const Signature& sig) {
    const std::string name = lower(sig.selector) + "._domainkey." + lower(sig.domain);
    for (std::size_t i = 0; i < lookup_names.size(); ++i) {
      if (lookup_names[i] == name) return i;
    }
    lookup_names.push_back(name);
    return lookup_names.size() - 1;
  }

  void end_headers() {
    if (ended) return;
    ended = true;
    const std::int64_t now = opt.clock();
    const std::int64_t drift = opt.clock_drift < 0 ? 0 : opt.clock_drift;
    for (std::size_t fi = 0; fi < headers.size(); ++fi) {
      const mail::Field& f = headers[fi];
      if (!f.is(kSignatureFieldName)) continue;
      SigState s;
      s.field = fi;
      s.result.field_index = signature_fields++;
      const std::string_view value = f.raw_value();
      fill_report_from_tags(s.result, value);
      if (s.result.field_index >= opt.max_signatures) {
        decide(s, DkimResult::Neutral, FailureKind::NotChecked,
               "not checked: more than " + std::to_string(opt.max_signatures) +
                   " signatures on the message");
        sigs.push_back(std::move(s));
        continue;
      }
      auto parsed = parse_signature(value, opt.parse);
      if (!parsed && parsed.error().reason.rfind("bh= is not valid base64", 0) == 0) {
        // As libopendkim: a body hash mismatch rather than an unusable signature (see
        // placeholder_body_hash).
        if (auto tl = parse_tag_list(value)) {
          if (const Tag* bh = tl->find("bh")) {
            std::string patched(value);
            if (placeholder_body_hash(patched, bh->value_begin, bh->value_end)) {
              parsed = parse_signature(patched, opt.parse);
            }
          }
        }
      }
      if (!parsed) {
        decide(s, DkimResult::PermError, FailureKind::Syntax,
               "signature unusable: " + parsed.error().reason);
        sigs.push_back(std::move(s));
        continue;
      }
      Signature& sig = *parsed;
      SignatureResult& r = s.result;
      r.domain = lower(sig.domain);
      r.selector = sig.selector;
      r.identity = sig.identity;
      r.algorithm = sig.algorithm_text;
      r.b_prefix = sig.b_prefix();
      r.b_text = sig.b_text;
      r.body_length_limited = sig.body_length.has_value();

      /* Checks that need neither DNS nor the body. */
      if (sig.algorithm == crypto::SignAlg::RsaSha1 && !opt.allow_rsa_sha1) {
        decide(s, DkimResult::PermError, FailureKind::WeakAlgorithm,
               "rsa-sha1 is not acceptable (RFC 8301 section 3.1)");
      } else if (sig.expiration && expired(*sig.expiration, now, drift)) {
        decide(s, DkimResult::PermError, FailureKind::Expired,
               "signature expired (x=" + std::to_string(*sig.expiration) + ")");
      } else if (sig.timestamp && in_future(*sig.timestamp, now, drift)) {
        decide(s, DkimResult::PermError, FailureKind::Future,
               "signature timestamp in the future (t=" + std::to_string(*sig.timestamp) + ")");
      } else if (opt.body_length == BodyLengthPolicy::Reject && sig.body_length) {
        decide(s, DkimResult::Policy, FailureKind::BodyLength,
               "signature with l= rejected by local policy");
      }
      if (!s.decided) {
        /* The header-hash input of the signature field itself: b= value emptied (§3.7). */
        const Tag* b = sig.tags.find("b");
        const std::size_t base = f.colon + 1;
        s.blanked = f.raw.substr(0, base + b->value_begin) + f.raw.substr(base + b->value_end);
        s.hasher = hasher_for(sig);
        s.lookup = lookup_for(sig);
        s.sig = std::move(sig);
      }
      sigs.push_back(std::move(s));
    }

    /* Start the key lookups (one per distinct name). */
    {
      std::lock_guard<std::mutex> lock(lookups->mu);
      lookups->answers.assign(lookup_names.size(), std::nullopt);
      lookups->outstanding = opt.key_lookup == KeyLookup::Async ? lookup_names.size() : 0;
    }
    if (opt.key_lookup == KeyLookup::Async) {
      for (std::size_t i = 0; i < lookup_names.size(); ++i) {
        std::shared_ptr<LookupState> st = lookups;
        resolver->query_async(lookup_names[i], dns::RType::TXT, [st, i](dns::Answer a) {
          std::lock_guard<std::mutex> lock(st->mu);
          if (st->answers[i]) return;  // answered twice: keep the first
          st->answers[i] = std::move(a);
          --st->outstanding;
          st->cv.notify_all();
        });
      }
    }
  }

  void collect_answers() {
    if (opt.key_lookup == KeyLookup::Blocking) {
      for (std::size_t i = 0; i < lookup_names.size(); ++i) {
        dns::Answer a = resolver->query(lookup_names[i], dns::RType::TXT);
        std::lock_guard<std::mutex> lock(lookups->mu);
        lookups->answers[i] = std::move(a);
      }
      return;
    }
    std::unique_lock<std::mutex> lock(lookups->mu);
    lookups->cv.wait_for(lock, opt.dns_wait, [this] { return lookups->outstanding == 0; });
  }

  void check_key(SigState& s, const dns::Answer& answer, const std::string& name,
                 std::optional<crypto::PublicKey>& pub) {
    const Signature& sig = *s.sig;
    SignatureResult& r = s.result;
    // As libopendkim stores sig_dnssec_key: known once an answer (record, NXDOMAIN or NODATA)
    // came, whatever follows; a temporary failure leaves it unknown (a bogus record is one:
    // the validating resolver answers SERVFAIL).
    if (!dns::is_temporary(answer.status)) {
      r.key_dnssec = answer.authenticated ? KeyDnssec::Secure : KeyDnssec::Insecure;
    }
    if (dns::is_temporary(answer.status)) {
      decide(s, DkimResult::TempError, FailureKind::KeyDns,
             "key lookup for " + name + " failed: " + dns::to_string(answer.status));
      return;
    }
    if (answer.status != dns::Status::Ok || answer.txt.empty()) {
      // RFC 6376 §6.1.2: a key record that does not exist is PERMFAIL (no key for signature).
      decide(s, DkimResult::PermError, FailureKind::NoKey,
             "no key for signature (" + name + ": " +
                 (answer.status == dns::Status::Ok ? "no TXT record" : dns::to_string(answer.status)) +
                 ")");
      return;
    }
    // Several records: use the first one that parses (§6.1.2 lets the verifier choose).
    std::shared_ptr<const KeyCache::Entry> entry;
    std::string first_error;
    for (const auto& txt : answer.txt) {
      std::string joined = txt.joined();
      if (opt.key_cache) entry = opt.key_cache->find(joined);
      if (!entry) {
        auto k = parse_key_record(joined);
        if (!k) {
          if (first_error.empty()) first_error = k.error().reason;
          continue;
        }
        entry = KeyCache::make_entry(std::move(*k));
        if (opt.key_cache) opt.key_cache->insert(std::move(joined), entry);
      }
      break;
    }
    if (!entry) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord, "unusable " + first_error);
      return;
    }
    const KeyRecord* key = &entry->record;
    r.testing = key->testing;
    if (key->revoked()) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord, "key revoked (empty p=)");
      return;
    }
    if (key->key_type != crypto::key_type_of(sig.algorithm)) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord,
             "key type k=" + key->key_type_text + " does not match a=" + sig.algorithm_text);
      return;
    }
    if (!key->allows_hash(sig.algorithm)) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord,
             "hash algorithm of a=" + sig.algorithm_text + " not allowed by the key's h=");
      return;
    }
    if (!key->allows_email()) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord,
             "key service type s= does not include email");
      return;
    }
    if (key->strict_identity && !mail::equals_ignore_case(sig.identity_domain(), sig.domain)) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord,
             "key has t=s but the i= domain differs from d=");
      return;
    }
    if (!entry->key) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord, "unusable public key: " + entry->key_error);
      return;
    }
    const crypto::PublicKey* pk = &*entry->key;
    r.key_bits = pk->bits();
    if (pk->type() == crypto::KeyType::Rsa && pk->bits() < opt.min_rsa_bits) {
      decide(s, DkimResult::PermError, FailureKind::WeakKey,
             "RSA key of " + std::to_string(pk->bits()) + " bits is too small (minimum " +
                 std::to_string(opt.min_rsa_bits) + ", RFC 8301 section 3.2)");
      return;
    }
    pub = *pk;  // shares the OpenSSL key (refcounted)
  }

  void verify_one(SigState& s, const std::vector<std::string>& body_hashes,
                  const std::vector<std::uint64_t>& body_lengths) {
    const Signature& sig = *s.sig;
    SignatureResult& r = s.result;
    const std::string& name = lookup_names[s.lookup];
    std::optional<dns::Answer> answer;
    {
      std::lock_guard<std::mutex> lock(lookups->mu);
      answer = lookups->answers[s.lookup];
    }
    if (!answer) {
      decide(s, DkimResult::TempError, FailureKind::KeyDns,
             "key lookup for " + name + " did not complete in time");
      return;
    }
    std::optional<crypto::PublicKey> pub;
    check_key(s, *answer, name, pub);
    if (s.decided) return;

    /* Body hash (§6.1.3 step 1-2). */
    const std::uint64_t canon_len = body_lengths[s.hasher];
    if (sig.body_length) {
      if (*sig.body_length > canon_len) {
        decide(s, DkimResult::Fail, FailureKind::BodyHash,
               "body hash mismatch: body shorter than l=" + std::to_string(*sig.body_length));
        return;
      }
      r.unsigned_body_bytes = canon_len - *sig.body_length;
    }
    if (body_hashes[s.hasher] != sig.body_hash) {
      decide(s, DkimResult::Fail, FailureKind::BodyHash, "body hash mismatch (bh= did not verify)");
      return;
    }

    /* Header hash (§3.7): the h= fields, then this field with b= empty and no CRLF. */
    crypto::Hasher h(crypto::hash_alg_of(sig.algorithm));
    // One buffer, one hash update: the selected fields with CRLF, then this field without.
    std::string input;
    for (const mail::Field* f : internal::select_headers(headers, sig.signed_headers)) {
      internal::append_canonical_header(sig.canon.header, f->raw, input);
      input.append("\r\n", 2);
    }
    internal::append_canonical_header(sig.canon.header, s.blanked, input);
    h.update(input);
    const std::string digest = h.finish();
    auto good = crypto::verify(*pub, sig.algorithm, digest, sig.signature);
    if (!good) {
      decide(s, DkimResult::PermError, FailureKind::KeyRecord,
             "key cannot verify this signature: " + good.error().reason);
      return;
    }
    if (!*good) {
      decide(s, DkimResult::Fail, FailureKind::Signature,
             "signature did not verify (header hash or b= mismatch)");
      return;
    }
    if (opt.body_length == BodyLengthPolicy::RejectAppended && r.unsigned_body_bytes > 0) {
      decide(s, DkimResult::Policy, FailureKind::BodyLength,
             "content appended after l= (" + std::to_string(r.unsigned_body_bytes) +
                 " unsigned bytes) rejected by local policy");
      return;
    }
    decide(s, DkimResult::Pass, FailureKind::None,
           r.unsigned_body_bytes > 0
               ? "signature verified (" + std::to_string(r.unsigned_body_bytes) +
                     " body bytes after l= not covered)"
               : "signature verified");
  }

  std::vector<SignatureResult> finish() {
    end_headers();
    std::vector<SignatureResult> out;
    if (finished) return out;
    finished = true;
    std::vector<std::string> body_hashes;
    std::vector<std::uint64_t> body_lengths;
    for (auto& bh : hashers) {
      body_hashes.push_back(bh.finish());
      body_lengths.push_back(bh.canonical_length());
    }
    bool need_keys = false;
    for (const auto& s : sigs) need_keys = need_keys || !s.decided;
    if (need_keys) collect_answers();
    out.reserve(sigs.size());
    for (auto& s : sigs) {
      if (!s.decided) verify_one(s, body_hashes, body_lengths);
      out.push_back(std::move(s.result));
    }
    return out;
  }
};

Verifier::Verifier(VerifyOptions options, dns::Resolver& resolver)
    : impl_(std::make_unique<Impl>(std::move(options), resolver)) {}
Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;

Result<void> Verifier::add_header(const mail::Field& field) { return impl_->add(field); }

Result<void> Verifier::add_header(std::string_view raw_field) {
  auto f = mail::Field::parse(raw_field);
  if (!f) return fail(f.error());
  return impl_->add(std::move(*f));
}

void Verifier::end_headers() { impl_->end_headers(); }

std::size_t Verifier::signature_count() const noexcept { return impl_->signature_fields; }

bool Verifier::keys_ready() const {
  std::lock_guard<std::mutex> lock(impl_->lookups->mu);
  return impl_->lookups->outstanding == 0;
}

void Verifier::body_chunk(std::string_view bytes) {
  impl_->end_headers();
  if (impl_->finished) return;  // the hashes are final
  for (auto& h : impl_->hashers) h.update(bytes);
}

std::vector<SignatureResult> Verifier::finish() { return impl_->finish(); }

/* ---- whole-message convenience ----------------------------------------------------------- */

namespace internal {

std::vector<std::string_view> split_header_fields(std::string_view header) {
  // A field starts at a line that does not begin with WSP (RFC 5322 §2.2.3).
  std::vector<std::string_view> out;
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t eol = header.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? header.size() : eol + 1;
    if (next < header.size() && header[next] != ' ' && header[next] != '\t') {
      out.push_back(header.substr(start, next - start));
      start = next;
    }
    pos = next;
  }
  if (start < header.size()) out.push_back(header.substr(start));
  return out;
}

}  // namespace internal

std::vector<SignatureResult> verify_message(std::string_view message, dns::Resolver& resolver,
                                            const VerifyOptions& options) {
  // LF-only input is converted first; CRLF input (the usual case) is used in place.
  std::string converted;
  std::string_view crlf = message;
  if (mail::has_bare_lf(message)) {
    converted = mail::to_crlf(message);
    crlf = converted;
  }
  const mail::MessageParts parts = mail::split_message(crlf);
  Verifier v(options, resolver);
  for (std::string_view raw : internal::split_header_fields(parts.header)) {
    (void)v.add_header(raw);  // unparsable fields are skipped (see verifier.h)
  }
  v.end_headers();
  v.body_chunk(parts.body);
  return v.finish();
}

}  // namespace auth::dkim
