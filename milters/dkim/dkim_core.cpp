// inkan-dkim core: decision, Authentication-Results, actions (see dkim_core.h).
#include "dkim/dkim_core.h"

#include <algorithm>
#include <cctype>

#include "auth/mail/address.h"

namespace inkan::dkim {

namespace {

using auth::config::DkimAction;
using auth::dkim::DkimResult;
using auth::dkim::FailureKind;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& e : v) {
    if (!out.empty()) out.push_back('\n');
    out += e;
  }
  return out;
}

auth::Result<auth::net::HostList> parse_hosts(const auth::config::HostSource& h, std::string_view what) {
  auth::net::HostListOptions o;
  o.syntax = h.refile ? auth::net::HostListSyntax::Refile : auth::net::HostListSyntax::Lines;
  auto r = auth::net::HostList::parse(join(h.entries), o);
  if (!r) return auth::fail(r.error().code, std::string(what) + ": " + r.error().reason);
  return r;
}

bool suffix_match(std::string_view entry, std::string_view domain) {
  if (entry == domain) return true;
  if (!entry.empty() && entry.front() == '.') {
    return domain.size() > entry.size() && domain.substr(domain.size() - entry.size()) == entry;
  }
  return false;
}

}  // namespace

auth::Result<HostLists> build_host_lists(const auth::config::DkimSettings& s) {
  HostLists h;
  auto in = parse_hosts(s.internal_hosts, "InternalHosts");
  if (!in) return auth::fail(in.error());
  auto ex = parse_hosts(s.external_ignore, "ExternalIgnoreList");
  if (!ex) return auth::fail(ex.error());
  auto pe = parse_hosts(s.peer_list, "PeerList");
  if (!pe) return auth::fail(pe.error());
  h.internal = std::move(*in);
  h.external_ignore = std::move(*ex);
  h.peers = std::move(*pe);
  return h;
}

OriginDecision decide_origin(const auth::config::DkimSettings& s, const HostLists& hosts,
                             const Origin& o) {
  OriginDecision d;
  // §2.4: MTA dataset, MacroList, InternalHosts, {auth_type}; any one suffices.
  for (const auto& m : s.mta) {
    if (!o.daemon_name.empty() && m == o.daemon_name) {
      d.internal = true;
      d.why = "MTA '" + o.daemon_name + "'";
      return d;
    }
  }
  for (const auto& mm : s.macro_list) {
    for (const auto& [name, value] : o.macros) {
      if (name != mm.name || value.empty()) continue;
      bool ok = mm.values.empty() || std::find(mm.values.begin(), mm.values.end(), value) != mm.values.end();
      if (ok) {
        d.internal = true;
        d.why = "macro " + name + "=" + value;
        return d;
      }
    }
  }
  const auth::net::IpAddress* ip = o.ip ? &*o.ip : nullptr;
  if (hosts.internal.match(ip, o.hostname)) {
    d.internal = true;
    d.why = "internal host";
    return d;
  }
  if (!o.auth_type.empty() || !o.auth_authen.empty()) {
    d.internal = true;
    d.why = "authenticated (" + (o.auth_type.empty() ? o.auth_authen : o.auth_type) + ")";
    return d;
  }
  d.why = o.hostname + " [" + (o.ip ? o.ip->to_string() : std::string()) + "] not internal; not authenticated";
  return d;
}

bool domain_listed(const std::vector<std::string>& list, std::string_view domain) {
  std::string d = lower(domain);
  for (const auto& e : list) {
    if (suffix_match(e, d)) return true;
  }
  return false;
}

bool dont_sign_to(const std::vector<std::string>& list, const std::vector<std::string>& rcpts) {
  if (list.empty()) return false;
  for (const auto& raw : rcpts) {
    std::string r = lower(raw);
    if (r.size() >= 2 && r.front() == '<' && r.back() == '>') r = r.substr(1, r.size() - 2);
    auto at = r.rfind('@');
    std::string dom = at == std::string::npos ? r : r.substr(at + 1);
    for (const auto& e : list) {
      if (e == r || suffix_match(e, dom)) return true;
    }
  }
  return false;
}

Sender find_sender(const auth::config::DkimSettings& s, const std::optional<std::string>& macro_value,
                   const std::vector<auth::mail::Field>& headers) {
  Sender out;
  auto take = [&](const std::string& value) {
    out.raw = value;
    auto boxes = auth::mail::parse_address_list(value);
    if (boxes && !boxes->empty() && !(*boxes)[0].domain.empty()) {
      out.local = (*boxes)[0].local_part;
      out.domain = lower((*boxes)[0].domain);
    } else {
      out.unparsable = true;
    }
  };
  // mlfi_eoh: the macro wins when it is set and non-empty; the headers are not looked at.
  if (macro_value && !macro_value->empty()) {
    out.source = Sender::Source::Macro;
    take(*macro_value);
    return out;
  }
  for (const auto& hn : s.sender_headers) {
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auth::mail::Field& f) { return f.is(hn); });
    if (it == headers.end()) continue;
    out.source = Sender::Source::Header;
    take(it->value);
    break;
  }
  return out;
}

std::vector<std::string> body_length_keys(std::string_view rcpt) {
  std::vector<std::string> keys;
  std::string r = lower(rcpt);
  if (r.size() >= 2 && r.front() == '<' && r.back() == '>') r = r.substr(1, r.size() - 2);
  auto at = r.rfind('@');
  if (at == std::string::npos || at + 1 >= r.size()) return keys;
  const std::string user = r.substr(0, at);
  const std::string domain = r.substr(at + 1);
  // dkimf_checkbldb: p = domain, then each ".parent" (strchr from p + 1), then "*".
  std::size_t p = 0;
  for (std::size_t level = 0; level <= kMaxBodyLengthLabels; ++level) {
    std::string host = domain.substr(p);
    keys.push_back(user + "@" + host);
    keys.push_back("*@" + host);
    auto dot = domain.find('.', p + 1);
    if (dot == std::string::npos) break;
    p = dot;
  }
  keys.push_back(user + "@*");
  keys.push_back("*");
  return keys;
}

std::optional<std::string> body_length_recipient(const std::vector<std::string>& list,
                                                 const std::vector<std::string>& rcpts) {
  if (list.empty()) return std::nullopt;
  for (const auto& rcpt : rcpts) {
    for (const auto& k : body_length_keys(rcpt)) {
      if (std::find(list.begin(), list.end(), k) != list.end()) return rcpt;
    }
  }
  return std::nullopt;
}

namespace {

std::string_view trim_blanks(std::string_view v) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  return v;
}

/// dkimf_lookup_strtoint(…, dkimf_canon): strcasecmp against "relaxed" and "simple".
std::optional<auth::dkim::Canon> canon_word(std::string_view w) {
  w = trim_blanks(w);
  if (auth::config::iequals(w, "relaxed")) return auth::dkim::Canon::Relaxed;
  if (auth::config::iequals(w, "simple")) return auth::dkim::Canon::Simple;
  return std::nullopt;
}

}  // namespace

auth::dkim::Canonicalization select_canonicalization(auth::dkim::Canonicalization base, std::string_view name,
                                                     const std::vector<auth::mail::Field>& headers,
                                                     std::vector<std::string>* ignored) {
  if (name.empty()) return base;
  for (const auto& f : headers) {
    if (!f.is(name)) continue;
    std::string_view v = f.value;
    auto slash = v.find('/');
    bool ok = true;
    if (auto h = canon_word(v.substr(0, slash))) base.header = *h;
    else ok = false;
    if (slash != std::string_view::npos) {
      if (auto b = canon_word(v.substr(slash + 1))) base.body = *b;
      else ok = false;
    }
    if (!ok && ignored) ignored->push_back(f.value);
  }
  return base;
}

Outcome classify(const std::vector<auth::dkim::SignatureResult>& results) {
  if (results.empty()) return Outcome::NoSignature;
  for (const auto& r : results) {
    if (r.result == DkimResult::Pass) return Outcome::Pass;
  }
  for (const auto& r : results) {
    if (r.failure == FailureKind::NotChecked) continue;
    switch (r.failure) {
      case FailureKind::NoKey: return Outcome::KeyNotFound;
      case FailureKind::KeyDns: return Outcome::DnsError;
      case FailureKind::Syntax: return Outcome::SyntaxError;
      case FailureKind::KeyRecord:
        return r.reason.find("revoked") != std::string::npos ? Outcome::KeyRevoked : Outcome::BadSignature;
      default: return Outcome::BadSignature;
    }
  }
  return Outcome::BadSignature;
}

DkimAction action_for(const auth::config::DkimActions& a, Outcome o) {
  switch (o) {
    case Outcome::Pass: return DkimAction::Accept;
    case Outcome::NoSignature: return a.no_signature;
    case Outcome::BadSignature:
    case Outcome::SyntaxError:
    case Outcome::KeyRevoked: return a.bad_signature;
    case Outcome::KeyNotFound: return a.key_not_found;
    case Outcome::DnsError: return a.dns_error;
    case Outcome::Security: return a.security;
    case Outcome::Internal: return a.internal_error;
    case Outcome::SignatureError: return a.signature_error;
  }
  return DkimAction::Accept;
}

std::string_view reply_text(Outcome o) noexcept {
  switch (o) {
    case Outcome::Pass: return "";
    case Outcome::NoSignature: return "no DKIM signature data";
    case Outcome::BadSignature:
    case Outcome::KeyRevoked: return "bad DKIM signature data";
    case Outcome::SyntaxError: return "DKIM signature syntax error";
    case Outcome::KeyNotFound:
    case Outcome::DnsError: return "DKIM key retrieval failed";
    case Outcome::Security: return "DKIM signature processing failed";
    case Outcome::Internal: return "resource unavailable";
    case Outcome::SignatureError: return "DKIM signing error";
  }
  return "";
}

milter::Action milter_action(DkimAction a, Outcome o) {
  const std::string text(reply_text(o));
  switch (a) {
    case DkimAction::Accept: return milter::Action::accept();
    case DkimAction::Discard: return milter::Action::discard();
    case DkimAction::Quarantine: return milter::Action::quarantine(text.empty() ? "DKIM" : text);
    case DkimAction::Reject:
      // §2.7: a revoked key is rejected with no reply text (the MTA's default applies).
      if (o == Outcome::KeyRevoked) return milter::Action::reject();
      return milter::Action::reject("550", "5.7.0", text);
    case DkimAction::TempFail: {
      bool key = o == Outcome::KeyNotFound || o == Outcome::DnsError;
      return milter::Action::tempfail("451", key ? "4.7.5" : "4.7.0", text);
    }
  }
  return milter::Action::accept();
}

std::string format_ar_clause(const auth::dkim::SignatureResult& r, const ArOptions& o) {
  if (r.failure == FailureKind::NotChecked) return {};
  std::string word = auth::dkim::to_string(r.result);
  std::string reason;
  bool key_comment = r.key_bits > 0 && r.algorithm.rfind("rsa-", 0) == 0;
  switch (r.failure) {
    case FailureKind::None:
      // A pass demoted by a local policy (MustBeSigned) keeps its reason.
      if (r.result != DkimResult::Pass) reason = r.reason;
      break;
    case FailureKind::BodyHash:
    case FailureKind::Signature:
      word = "fail";
      reason = "signature verification failed";
      break;
    case FailureKind::NoKey:
      word = "fail";
      reason = "key not found in DNS";
      key_comment = false;
      break;
    case FailureKind::KeyRecord:
      if (r.reason.find("revoked") != std::string::npos) {
        word = "fail";
        reason = "key revoked";
        key_comment = false;
      } else {
        reason = r.reason;
      }
      break;
    case FailureKind::KeyDns:
      word = "temperror";
      reason = "key query failed";
      key_comment = false;
      break;
    case FailureKind::WeakKey:
      word = "policy";
      reason = "key too small";
      break;
    default: reason = r.reason; break;
  }
  if (word == "pass" && o.unprotected && o.unprotected_key != auth::config::KeyTrustAction::None) {
    // UnprotectedKey: no DNSSEC here, so every key is unprotected.
    word = o.unprotected_key == auth::config::KeyTrustAction::Fail ? "policy" : "neutral";
    reason = "unprotected key";
  }
  std::string c = "dkim=" + word;
  if (!reason.empty()) {
    std::string q;
    for (char ch : reason) {
      if (ch == '"' || ch == '\\') q.push_back('\\');
      if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) q.push_back(ch);
    }
    c += " reason=\"" + q + "\"";
  }
  if (key_comment) {
    c += " (" + std::to_string(r.key_bits) + "-bit key" + (o.unprotected ? "; unprotected" : "") + ")";
  }
  if (!r.domain.empty()) c += " header.d=" + r.domain;
  if (!r.identity.empty()) c += " header.i=" + r.identity;
  if (!r.algorithm.empty()) c += " header.a=" + r.algorithm;
  if (!r.selector.empty()) c += " header.s=" + r.selector;
  if (o.header_b && !r.b_prefix.empty()) c += " header.b=" + r.b_prefix;
  return c;
}

std::string format_ar_value(const std::vector<auth::dkim::SignatureResult>& results,
                            const ArOptions& o) {
  std::vector<std::string> clauses;
  for (const auto& r : results) {
    auto c = format_ar_clause(r, o);
    if (!c.empty()) clauses.push_back(std::move(c));
  }
  if (clauses.empty()) clauses.push_back("dkim=none");
  std::string out = o.authserv_id + ";";
  // Running line length: "Name: " + what is on the current line.
  std::size_t line = o.name_length + 2 + out.size();
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    std::string tok = clauses[i] + (i + 1 < clauses.size() ? ";" : "");
    if (line + 1 + tok.size() > kHeaderMargin) {
      out += "\n\t" + tok;
      line = 8 + tok.size();
    } else {
      out += " " + tok;
      line += 1 + tok.size();
    }
  }
  return out;
}

std::string ar_authserv_id(std::string_view v) {
  // Skip CFWS (comments with a depth counter, no recursion).
  std::size_t i = 0;
  auto skip_cfws = [&] {
    int depth = 0;
    while (i < v.size()) {
      char c = v[i];
      if (depth > 0) {
        if (c == '\\') {
          ++i;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')') {
          --depth;
        }
        ++i;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i;
      } else if (c == '(') {
        ++depth;
        ++i;
      } else {
        break;
      }
    }
  };
  skip_cfws();
  std::size_t start = i;
  while (i < v.size() && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(' && v[i] != '\r' &&
         v[i] != '\n') {
    ++i;
  }
  return lower(v.substr(start, i - start));
}

bool should_remove_ar(std::string_view value, std::string_view our_id,
                      const auth::config::DkimSettings& s) {
  if (s.keep_auth_results) return false;
  std::string id = ar_authserv_id(value);
  if (id.empty()) return false;
  std::string ours = lower(our_id);
  if (auto slash = ours.find('/'); slash != std::string::npos) ours = ours.substr(0, slash);
  if (auto slash = id.find('/'); slash != std::string::npos) id = id.substr(0, slash);
  bool listed = id == ours;
  for (const auto& e : s.remove_ar_from) {
    if (suffix_match(e, id)) listed = true;
  }
  if (!listed) return false;
  if (s.remove_ar_all) return true;
  std::string lv = lower(value);
  return lv.find("dkim=") != std::string::npos;
}

std::optional<std::pair<std::string, std::string>> split_field(std::string_view field) {
  auto colon = field.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string name(field.substr(0, colon));
  std::string_view rest = field.substr(colon + 1);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string value;
  value.reserve(rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '\r' && i + 1 < rest.size() && rest[i + 1] == '\n') continue;
    value.push_back(rest[i]);
  }
  return std::make_pair(std::move(name), std::move(value));
}

std::string format_ar_bad_format(const ArOptions& o) {
  return o.authserv_id + "; dkim=permerror (bad message/signature format)";
}

/* ---------------- verification policies ---------------- */

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::size_t count_named(const std::vector<auth::mail::Field>& headers, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auth::mail::Field& f) { return iequal(f.name, name); }));
}

}  // namespace

std::optional<std::string> check_required_headers(const std::vector<auth::mail::Field>& headers) {
  // RFC 5322 §3.6 table: orig-date and from exactly once; the rest at most once. OpenDKIM
  // checks this subset (not Sender) and in this order (opendkim.c dkimf_checkfields).
  for (std::string_view name : {"From", "Date"}) {
    if (count_named(headers, name) != 1) return "message does not have exactly one " + std::string(name) + " field";
  }
  for (std::string_view name : {"Reply-To", "To", "Cc", "Bcc", "Message-Id", "In-Reply-To", "References", "Subject"}) {
    if (count_named(headers, name) > 1) return "message has multiple " + std::string(name) + " fields";
  }
  return std::nullopt;
}

bool minimum_satisfied(const auth::config::BodyMinimum& m, std::uint64_t signed_bytes,
                       std::uint64_t body_bytes) noexcept {
  using Kind = auth::config::BodyMinimum::Kind;
  if (m.value == 0) return true;  // conf_sigmin 0: no check
  switch (m.kind) {
    case Kind::Percent:
      // OpenDKIM divides by the body length unguarded; an empty body is fully signed.
      if (body_bytes == 0) return true;
      if (signed_bytes >= body_bytes) return true;
      // signed < body here, so 100·signed fits as long as body < 2^57 (bodies are far smaller).
      return (100 * signed_bytes) / body_bytes >= m.value;
    case Kind::MaxAppended:
      return signed_bytes + m.value >= body_bytes;
    case Kind::Bytes:
      return signed_bytes >= std::min<std::uint64_t>(m.value, body_bytes);
  }
  return true;
}

std::optional<std::string> unsigned_required_header(const std::vector<std::string>& must_be_signed,
                                                    const std::vector<std::string>& signed_headers,
                                                    const std::vector<auth::mail::Field>& headers) {
  for (const auto& name : must_be_signed) {
    if (count_named(headers, name) == 0) continue;
    bool covered = std::any_of(signed_headers.begin(), signed_headers.end(),
                               [&](const std::string& h) { return iequal(h, name); });
    if (!covered) return name;
  }
  return std::nullopt;
}

std::size_t apply_verify_policies(std::vector<auth::dkim::SignatureResult>& results,
                                  const auth::config::DkimSettings& s,
                                  const std::vector<auth::mail::Field>& headers) {
  if (s.must_be_signed.empty() && s.minimum.value == 0) return 0;
  // The DKIM-Signature fields, top first (SignatureResult::field_index counts these).
  std::vector<const auth::mail::Field*> sigs;
  for (const auto& f : headers) {
    if (iequal(f.name, "DKIM-Signature")) sigs.push_back(&f);
  }
  std::size_t changed = 0;
  for (auto& r : results) {
    if (r.result != DkimResult::Pass || r.field_index >= sigs.size()) continue;
    auto sig = auth::dkim::parse_signature(sigs[r.field_index]->value);
    if (!sig) continue;  // it passed, so it parsed; be safe anyway
    if (!s.must_be_signed.empty() && unsigned_required_header(s.must_be_signed, sig->signed_headers, headers)) {
      r.result = DkimResult::Fail;
      r.failure = FailureKind::None;
      r.reason = std::string(kReasonUnprotectedField);
      ++changed;
      continue;
    }
    if (s.minimum.value > 0) {
      // Without l= the whole body is signed. With l=, l bytes were hashed and
      // unsigned_body_bytes follow them (l beyond the body already failed verification).
      std::uint64_t signed_bytes = sig->body_length.value_or(0);
      std::uint64_t body_bytes = signed_bytes + r.unsigned_body_bytes;
      if (sig->body_length && !minimum_satisfied(s.minimum, signed_bytes, body_bytes)) {
        r.result = DkimResult::PermError;
        r.failure = FailureKind::BodyLength;
        r.reason = std::string(kReasonPartial);
        ++changed;
      }
    }
  }
  return changed;
}

/* ---------------- test modes ---------------- */

std::string verification_error_text(const auth::dkim::SignatureResult& r) {
  switch (r.failure) {
    case FailureKind::BodyHash:
    case FailureKind::Signature: return "signature verification failed";
    case FailureKind::NoKey: return "key not found in DNS";
    case FailureKind::KeyDns: return "key DNS query failed";
    case FailureKind::Expired: return "signature expired";
    case FailureKind::WeakKey: return "signing key too small";
    case FailureKind::KeyRecord:
      if (r.reason.find("revoked") != std::string::npos) return "key revoked";
      break;
    default: break;
  }
  return r.reason.empty() ? std::string("unknown error") : r.reason;
}

std::string format_test_verification(std::string_view prog, std::string_view file,
                                     const std::vector<auth::dkim::SignatureResult>& results) {
  std::string head = std::string(prog) + ": " + std::string(file) + ": ";
  const auth::dkim::SignatureResult* primary = nullptr;
  for (const auto& r : results) {
    if (r.result == DkimResult::Pass) {
      primary = &r;
      break;
    }
  }
  if (!primary) {
    for (const auto& r : results) {
      if (r.failure != FailureKind::NotChecked) {
        primary = &r;
        break;
      }
    }
  }
  if (!primary) return head + "message not signed";
  const auto& r = *primary;
  if (r.result == DkimResult::Pass) {
    return head + "verification (s=" + r.selector + ", d=" + r.domain + ", " + std::to_string(r.key_bits) +
           "-bit key) succeeded";
  }
  if (r.selector.empty() && r.domain.empty()) return head + "verification failed: " + verification_error_text(r);
  return head + "verification (s=" + r.selector + " d=" + r.domain + ", " + std::to_string(r.key_bits) +
         "-bit key, unknown) failed: " + verification_error_text(r);
}

QueryAnswer answer_dataset_query(const auth::config::Dataset& d, std::string_view query,
                                 std::string_view prog) {
  QueryAnswer a;
  const std::string p(prog);
  auto slash = query.rfind('/');
  long n = 0;
  bool bad = slash == std::string_view::npos;
  if (!bad) {
    // atoi(): optional sign, digits, anything after ignored; a negative count is refused.
    std::string_view num = query.substr(slash + 1);
    std::size_t i = 0;
    while (i < num.size() && (num[i] == ' ' || num[i] == '\t')) ++i;
    bool neg = i < num.size() && num[i] == '-';
    if (i < num.size() && (num[i] == '-' || num[i] == '+')) ++i;
    while (i < num.size() && num[i] >= '0' && num[i] <= '9' && n < 1000000) n = n * 10 + (num[i++] - '0');
    if (neg && n > 0) bad = true;
  }
  if (bad) {
    a.err = p + ": invalid query '" + std::string(query) + "'\n";
    a.exit_code = 64;  // EX_USAGE
    return a;
  }
  const auth::config::DatasetEntry* e = d.find(query.substr(0, slash));
  if (!e) {
    a.out = p + ": dkimf_db_get(): record not found\n\n";
    return a;
  }
  if (n == 0) {
    a.out = "\n";
    return a;
  }
  // dkimf_db_datasplit: fields at ':', the last takes the remainder.
  std::vector<std::string> fields;
  std::string_view rest = e->value;
  bool short_value = false;
  for (long i = 0; i < n; ++i) {
    if (i > 0 && rest.empty()) {
      short_value = true;
      break;
    }
    if (i == n - 1) {
      fields.emplace_back(rest);
      break;
    }
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
      fields.emplace_back(rest);
      rest = {};
      continue;
    }
    fields.emplace_back(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  }
  if (short_value || static_cast<long>(fields.size()) < n) {
    a.err = p + ": dkimf_db_get() returned -1: \"Success\"\n";
    a.out = "\n";
    return a;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty() && i + 1 < fields.size()) {
      a.out += "<empty>\n";
    } else {
      a.out += "'" + fields[i] + "'\n";
    }
  }
  a.out += "\n";
  return a;
}

}  // namespace inkan::dkim
