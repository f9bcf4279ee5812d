// inkan-dkim core: decision, Authentication-Results, actions (see dkim_core.h).
#include "dkim/dkim_core.h"

#include <algorithm>
#include <cctype>

#include <ctime>

#include "auth/crypto/base64.h"
#include "auth/dkim/canonicalize.h"
#include "auth/dkim/tag_list.h"
#include "auth/mail/address.h"

namespace inkan::dkim {

namespace {

using auth::config::DkimAction;
using auth::dkim::DkimResult;
using auth::dkim::FailureKind;

/// dkim_sig_geterrorstr() texts of the DKIM_SIGERROR_* codes dkim_siglist_setup sets, and
/// whether the code comes after a= is read (libopendkim's order; the rest leave
/// sig_signalg at DKIM_SIGN_RSASHA1).
struct SigErrorText {
  std::string_view text;
  bool algorithm_read;
};
constexpr SigErrorText kSigErrors[] = {
    {"domain tag empty", false},                      // DKIM_SIGERROR_EMPTY_D
    {"selector tag empty", false},                    // DKIM_SIGERROR_EMPTY_S
    {"version empty", false},                         // DKIM_SIGERROR_EMPTY_V
    {"unsupported signature version", false},         // DKIM_SIGERROR_VERSION
    {"invalid domain coverage", false},               // DKIM_SIGERROR_DOMAIN
    {"signature expired", false},                     // DKIM_SIGERROR_EXPIRED
    {"signature timestamp in the future", false},     // DKIM_SIGERROR_FUTURE
    {"signature timestamp order error", false},       // DKIM_SIGERROR_TIMESTAMPS
    {"invalid header canonicalization", false},       // DKIM_SIGERROR_INVALID_HC
    {"invalid body canonicalization", false},         // DKIM_SIGERROR_INVALID_BC
    {"signature algorithm invalid", false},           // DKIM_SIGERROR_INVALID_A
    {"header list tag empty", true},                  // DKIM_SIGERROR_EMPTY_H
    {"header list missing required entries", true},   // DKIM_SIGERROR_INVALID_H
    {"body length value invalid", true},              // DKIM_SIGERROR_INVALID_L
    {"query method invalid", true},                   // DKIM_SIGERROR_INVALID_Q
    {"query option invalid", true},                   // DKIM_SIGERROR_INVALID_QO
    {"body hash missing", true},                      // DKIM_SIGERROR_MISSING_BH
    {"body hash empty", true},                        // DKIM_SIGERROR_EMPTY_BH
    {"signature data empty", true},                   // DKIM_SIGERROR_EMPTY_B
    {"signature data corrupt", true},                 // DKIM_SIGERROR_CORRUPT_B
};

/// The verifier's reason for an l= larger than the canonical body (verifier.cpp
/// verify_one), which libopendkim reports as DKIM_SIGERROR_TOOLARGE_L.
constexpr std::string_view kBodyShorterThanL = "body hash mismatch: body shorter than l=";
/// DKIM_SIGERROR_TOOLARGE_L's dkim_sig_geterrorstr() text.
constexpr std::string_view kTooLargeL = "length tag value exceeds body size";

bool l_beyond_body(const auth::dkim::SignatureResult& r) {
  return r.failure == FailureKind::BodyHash && r.reason.rfind(kBodyShorterThanL, 0) == 0;
}

const SigErrorText* find_sig_error(std::string_view text) {
  for (const auto& e : kSigErrors) {
    if (e.text == text) return &e;
  }
  return nullptr;
}

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
  struct One {
    const auth::config::HostSource& source;
    const char* name;
    HostSet& target;
  };
  for (const One& one : {One{s.internal_hosts, "InternalHosts", h.internal},
                         One{s.external_ignore, "ExternalIgnoreList", h.external_ignore},
                         One{s.peer_list, "PeerList", h.peers}}) {
    if (one.source.live) {
      one.target = HostSet(one.source.live);
      continue;
    }
    auto parsed = parse_hosts(one.source, one.name);
    if (!parsed) return auth::fail(parsed.error());
    one.target = HostSet(std::move(*parsed));
  }
  return h;
}

std::vector<std::string> host_name_probes(std::string_view hostname) {
  std::vector<std::string> out;
  std::string name = lower(hostname);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > auth::net::kMaxHostNameLength) return out;
  // dkimf_checkhost: for (p = host; p != NULL; p = strchr(p + 1, '.')).
  for (std::size_t pos = 0; pos != std::string::npos; pos = name.find('.', pos + 1)) {
    std::string probe = name.substr(pos);
    out.push_back("!" + probe);
    out.push_back(std::move(probe));
  }
  return out;
}

std::vector<std::string> host_ip_probes(const auth::net::IpAddress& ip) {
  std::vector<std::string> out;
  const std::string text = ip.to_string();
  out.push_back("!" + text);
  out.push_back(text);
  out.push_back("![" + text + "]");
  out.push_back("[" + text + "]");
  // dkimf_checkip: IPv4 bits 32 → 0 with the mask applied; IPv6 "128 - bits" for bits 0 → 128
  // with one more low bit cleared each step: the same sequence of prefixes.
  for (unsigned len = ip.bit_length() + 1; len-- > 0;) {
    const std::string net = auth::net::apply_prefix(ip, len).to_string();
    const std::string tail = "/" + std::to_string(len);
    out.push_back("!" + net + tail);
    out.push_back(net + tail);
    out.push_back("![" + net + "]" + tail);
    out.push_back("[" + net + "]" + tail);
  }
  return out;
}

namespace {

/// dkimf_db_error's line: `error looking up "<key>" in database: <dkimf_db_strerror>`, the
/// back end's text without the data set's "<origin>: " prefix.
std::string db_error_line(const auth::config::LiveDataset& ds, std::string_view key, const std::string& reason) {
  std::string why = reason;
  const std::string& o = ds.origin();
  if (why.size() > o.size() + 2 && why.compare(0, o.size(), o) == 0 && why.compare(o.size(), 2, ": ") == 0) {
    why = why.substr(o.size() + 2);
  }
  return "error looking up \"" + std::string(key) + "\" in database: " + why;
}

/// dkimf_stripbrackets: matching '<' '>' pairs removed from both ends.
std::string strip_angle(std::string_view a) {
  while (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return std::string(a);
}

}  // namespace

LiveListAnswer live_lookup(auth::config::LiveDataset& ds, std::string_view key) {
  LiveListAnswer a;
  a.key = std::string(key);
  auto r = ds.lookup(key);
  if (!r) {
    a.error = db_error_line(ds, key, r.error().reason);
    return a;
  }
  a.found = r->has_value();
  return a;
}

LiveListAnswer live_dont_sign_to(auth::config::LiveDataset& ds, const std::vector<std::string>& rcpts) {
  for (auto it = rcpts.rbegin(); it != rcpts.rend(); ++it) {
    LiveListAnswer a = live_lookup(ds, strip_angle(*it));
    if (a.found || !a.error.empty()) return a;
  }
  return {};
}

std::vector<std::string> body_length_probes(std::string_view rcpt) {
  std::vector<std::string> keys;
  const std::string r = strip_angle(rcpt);
  auto at = r.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= r.size()) return keys;
  const std::string user = r.substr(0, at);
  const std::string domain = r.substr(at + 1);
  // dkimf_checkbldb: for (p = domain; ; p = strchr(p + 1, '.')): user@p, *@p; at the end
  // (p == NULL) user@*, then "*".
  std::size_t p = 0;
  for (std::size_t level = 0; level <= kMaxBodyLengthLabels; ++level) {
    const std::string host = domain.substr(p);
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

LiveListAnswer live_body_length_recipient(auth::config::LiveDataset& ds, const std::vector<std::string>& rcpts,
                                          std::vector<std::string>* errors) {
  for (auto it = rcpts.rbegin(); it != rcpts.rend(); ++it) {
    for (const auto& key : body_length_probes(*it)) {
      LiveListAnswer a = live_lookup(ds, key);
      if (!a.error.empty()) {
        if (errors != nullptr) errors->push_back(a.error);
        continue;
      }
      if (a.found) {
        a.key = strip_angle(*it);
        return a;
      }
    }
  }
  return {};
}

LiveHostWalk walk_host_probes(auth::config::LiveDataset& ds, const std::vector<std::string>& probes) {
  LiveHostWalk w;
  for (const auto& key : probes) {
    auto r = ds.lookup(key);
    if (!r) {
      w.decided = true;
      w.key = key;
      w.error = db_error_line(ds, key, r.error().reason);
      return w;
    }
    if (!r->has_value()) continue;
    w.decided = true;
    w.key = key;
    w.member = key.empty() || key.front() != '!';
    return w;
  }
  return w;
}

bool HostSet::match(const auth::net::IpAddress* ip, std::string_view hostname, std::string* error) const {
  if (!live_) return list_.match(ip, hostname);
  auto note = [&](const LiveHostWalk& w) {
    if (error != nullptr && !w.error.empty()) {
      if (!error->empty()) error->append("; ");
      error->append(w.error);
    }
  };
  std::optional<auth::net::IpAddress> from_name;
  if (!hostname.empty() && hostname.front() == '[') {
    if (ip == nullptr) {
      if (auto parsed = auth::net::parse_ip(hostname, auth::net::Brackets::Require)) from_name = *parsed;
    }
  } else if (!hostname.empty() && lower(hostname) != "unknown") {
    LiveHostWalk by_name = walk_host_probes(*live_, host_name_probes(hostname));
    note(by_name);
    if (by_name.member) return true;
  }
  const auth::net::IpAddress* addr = ip != nullptr ? ip : (from_name ? &*from_name : nullptr);
  if (addr == nullptr) return false;
  LiveHostWalk by_addr = walk_host_probes(*live_, host_ip_probes(*addr));
  note(by_addr);
  if (!by_addr.decided && addr->is_v4_mapped()) {
    by_addr = walk_host_probes(*live_, host_ip_probes(addr->unmapped()));
    note(by_addr);
  }
  return by_addr.member;
}

OriginDecision decide_origin(const auth::config::DkimSettings& s, const HostLists& hosts,
                             const Origin& o) {
  OriginDecision d;
  // §2.4: MTA dataset, MacroList, InternalHosts, {auth_type}; any one suffices.
  if (s.live_lists.mta && !o.daemon_name.empty()) {
    // mlfi_eoh: dkimf_db_get(conf_mtasdb, {daemon_name}); a failure is logged, not internal.
    LiveListAnswer a = live_lookup(*s.live_lists.mta, o.daemon_name);
    if (!a.error.empty()) d.lookup_error = a.error;
    if (a.found) {
      d.internal = true;
      d.why = "MTA '" + o.daemon_name + "'";
      return d;
    }
  }
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
  std::string host_error;
  const bool internal = hosts.internal.match(ip, o.hostname, &host_error);
  if (!host_error.empty()) d.lookup_error += (d.lookup_error.empty() ? "" : "; ") + host_error;
  if (internal) {
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
  // opendkim.c mlfi_eoh: dkimf_db_get(conf_exemptdb, mctx_domain): the whole (lower-cased)
  // domain as one key, no parent or ".suffix" probing; the list is lower-cased when loaded.
  std::string d = lower(domain);
  return !d.empty() && std::find(list.begin(), list.end(), d) != list.end();
}

std::optional<std::string> dont_sign_to(const std::vector<std::string>& list,
                                        const std::vector<std::string>& rcpts) {
  if (list.empty()) return std::nullopt;
  // opendkim.c mlfi_eoh: dkimf_db_get(conf_dontsigntodb, a_addr) for each recipient of
  // mctx_rcptlist (last RCPT first: mlfi_envrcpt prepends), a_addr being the RCPT argument
  // with its <> pairs stripped (dkimf_stripbrackets). One exact key, compared without regard
  // to case; a bare domain or ".domain" entry matches nothing (opendkim 2.11 -t, lab).
  for (auto it = rcpts.rbegin(); it != rcpts.rend(); ++it) {
    std::string addr = strip_angle(*it);
    if (addr.empty()) continue;
    if (std::find(list.begin(), list.end(), lower(addr)) != list.end()) return addr;
  }
  return std::nullopt;
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
  auto use = [&](std::string_view hn) {
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auth::mail::Field& f) { return f.is(hn); });
    if (it == headers.end()) return false;
    out.source = Sender::Source::Header;
    out.field_name = it->name;
    take(it->value);
    return true;
  };
  bool did_from = false;
  for (const auto& hn : s.sender_headers) {
    if (auth::config::iequals(hn, "from")) did_from = true;
    if (use(hn)) return out;
  }
  // mlfi_eoh: "if (from == NULL && !didfrom) from = dkimf_findheader(dfc, "from", 0)".
  if (!did_from) use("from");
  return out;
}

std::vector<std::string> body_length_keys(std::string_view rcpt) {
  // A file BodyLengthDB is case-insensitive (DKIMF_DB_FLAG_ICASE): the keys are lower-cased
  // here and the list when loaded. A live one gets the address as given (the server decides).
  return body_length_probes(lower(rcpt));
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
      // A signature libopendkim keeps with a DKIM_SIGERROR_* code: dkim_eom answers
      // DKIM_STAT_CANTVRFY, no On-* action (lab: On-BadSignature reject accepts a=rsa-md5).
      case FailureKind::Syntax: return is_opendkim_sig_error(r) ? Outcome::VerifyError : Outcome::SyntaxError;
      case FailureKind::KeyRecord:
        return r.reason.find("revoked") != std::string::npos ? Outcome::KeyRevoked : Outcome::BadSignature;
      // libopendkim marks these in dkim_siglist_setup (DKIM_SIGERROR_EXPIRED / _FUTURE) and
      // dkim_eom answers DKIM_STAT_CANTVRFY: no On-* action (lab: opendkim 2.11 -t with
      // On-Default reject accepts).
      case FailureKind::Expired:
      case FailureKind::Future: return Outcome::VerifyError;
      // l= beyond the body: libopendkim's DKIM_SIGERROR_TOOLARGE_L, "fail" in the clause but
      // no On-* action (lab: opendkim 2.11 -t with On-BadSignature reject accepts).
      case FailureKind::BodyHash: return l_beyond_body(r) ? Outcome::VerifyError : Outcome::BadSignature;
      default: return Outcome::BadSignature;
    }
  }
  return Outcome::BadSignature;
}

std::optional<Outcome> unprotected_key_outcome(const std::vector<auth::dkim::SignatureResult>& results,
                                               auth::config::KeyTrustAction unprotected_key,
                                               bool report_dnssec) {
  if (!report_dnssec || unprotected_key == auth::config::KeyTrustAction::None) return std::nullopt;
  std::optional<Outcome> out;
  for (const auto& r : results) {
    if (r.failure == FailureKind::NotChecked || r.key_dnssec != auth::dkim::KeyDnssec::Insecure) continue;
    out = unprotected_key == auth::config::KeyTrustAction::Fail ? Outcome::BadSignature : Outcome::VerifyError;
  }
  return out;
}

DkimAction action_for(const auth::config::DkimActions& a, Outcome o) {
  switch (o) {
    case Outcome::Pass:
    case Outcome::VerifyError: return DkimAction::Accept;
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
    case Outcome::Pass:
    case Outcome::VerifyError: return "";
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
    case DkimAction::Quarantine: return milter::Action::quarantine(std::string(kQuarantineReason));
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

DkimAction apply_quarantine_option(DkimAction a, Outcome o, bool quarantine) noexcept {
  if (!quarantine || a != DkimAction::Accept) return a;
  bool failed = o == Outcome::BadSignature || o == Outcome::SyntaxError || o == Outcome::KeyRevoked;
  return failed ? DkimAction::Quarantine : a;
}

bool is_bad_signature(Outcome o) noexcept { return o == Outcome::BadSignature; }

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
      reason = l_beyond_body(r) ? kTooLargeL : "signature verification failed";
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
    case FailureKind::Expired:
    case FailureKind::Future:
      // DKIMF_STATUS_VERIFYERR: opendkim 2.11 writes "dkim=permerror" with no reason and no
      // key comment (lab: opendkim -t, ClockDrift 0/300/large).
      word = "permerror";
      key_comment = false;
      break;
    case FailureKind::Syntax:
      // A DKIM_SIGERROR_* signature (apply_opendkim_sig_errors): the same bare permerror
      // (lab: opendkim 2.11 -t, bad_signature_test.sh); inkan's own syntax verdicts (a
      // duplicate tag) keep their reason.
      if (is_opendkim_sig_error(r)) {
        word = "permerror";
        key_comment = false;
      } else {
        reason = r.reason;
      }
      break;
    default: reason = r.reason; break;
  }
  // libopendkim rejects an expired or future signature in dkim_siglist_setup before it reads
  // a=, so sig_signalg keeps its zero value, DKIM_SIGN_RSASHA1, and opendkim 2.11 reports
  // "header.a=rsa-sha1" whatever a= says (lab: an rsa-sha256 signature). Reproduced byte for
  // byte for drop-in compatibility; SignatureResult::algorithm keeps the real a= for logs.
  const bool sig_error = is_opendkim_sig_error(r);
  const bool algorithm_unread = r.failure == FailureKind::Expired || r.failure == FailureKind::Future ||
                                (sig_error && !find_sig_error(r.reason)->algorithm_read);
  // The key's DNSSEC status, as opendkim.c dkimf_ar_all_sigs (USE_UNBOUND) reads
  // dkim_sig_getdnssec(): UNKNOWN adds nothing; INSECURE adds "unprotected" and UnprotectedKey
  // replaces the result word (fail → "policy", neutral → "neutral") whatever it was, reason
  // and key comment kept (lab: opendkim 2.11 -t on pass, bad signature and NXDOMAIN keys);
  // SECURE adds "secure" and UnprotectedKey does not apply. BOGUS ("bogus", BogusKey) cannot
  // occur: with the AD bit of a validating resolver a bogus key record comes back as SERVFAIL,
  // a DNS error (KeyDns, status unknown), which is what opendkim 2.11 reports too, since its
  // libunbound callback never completes a bogus query and the lookup times out.
  const auth::dkim::KeyDnssec dnssec = o.unprotected ? r.key_dnssec : auth::dkim::KeyDnssec::Unknown;
  const char* dnssec_word = nullptr;
  if (dnssec == auth::dkim::KeyDnssec::Insecure) {
    dnssec_word = "unprotected";
    if (o.unprotected_key == auth::config::KeyTrustAction::Fail) word = "policy";
    else if (o.unprotected_key == auth::config::KeyTrustAction::Neutral) word = "neutral";
  } else if (dnssec == auth::dkim::KeyDnssec::Secure) {
    dnssec_word = "secure";
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
    c += " (" + std::to_string(r.key_bits) + "-bit key" + (dnssec_word ? std::string("; ") + dnssec_word : "") + ")";
  }
  if (!r.domain.empty()) c += " header.d=" + r.domain;
  if (!r.identity.empty()) c += " header.i=" + r.identity;
  if (algorithm_unread) {
    c += " header.a=rsa-sha1";
  } else if (!r.algorithm.empty()) {
    c += " header.a=" + r.algorithm;
  }
  if (!r.selector.empty()) c += " header.s=" + r.selector;
  // libopendkim keeps an empty b= as DKIM_SIGERROR_EMPTY_B and opendkim writes "header.b=".
  if (o.header_b && (!r.b_prefix.empty() || sig_error)) c += " header.b=" + r.b_prefix;
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
  // opendkim.c mlfi_eom (_FFR_ATPS): ";" DELIMITER "dkim-atps=" after the dkim clauses, then
  // the same re-folding, so the clause moves to its own line when the last one is long.
  if (o.atps_neutral) clauses.push_back("dkim-atps=neutral");
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

/* ---------------- damaged signatures (libopendkim 2.11's view) ---------------- */

namespace {

// C-locale <ctype.h> classes as libopendkim uses them (isascii/isprint/isspace/isalnum).
bool c_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool c_print(unsigned char c) { return c >= 0x20 && c < 0x7f; }
bool c_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool c_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/// dkim_collapse(): the string without its white space.
std::string collapse(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!c_space(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

/// strtoull(s, &end, 10) on a collapsed value (no leading blanks): the value, and whether
/// the whole string was one in-range number (optional '+', at least one digit; the maximum
/// value itself, strtoull's overflow answer, is refused as libopendkim does).
bool whole_unsigned(std::string_view s, std::uint64_t& v) {
  v = 0;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '+') ++i;
  const std::size_t start = i;
  bool overflow = false;
  for (; i < s.size() && c_digit(static_cast<unsigned char>(s[i])); ++i) {
    const auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    else v = v * 10 + d;
  }
  if (i == start) return false;  // no digits: end points at the start
  if (overflow || v == UINT64_MAX) return false;
  return i == s.size();
}

/// strtoull(s, NULL, 10) as dkim_sig_expired / _future / _timestampsok read t= and x=
/// (already checked by whole_unsigned).
std::uint64_t leading_unsigned(std::string_view s) {
  std::uint64_t v = 0;
  whole_unsigned(s, v);
  return v;
}

/// dkim_qp_decode() of i=, enough for the '@' and domain comparison of dkim_sig_domainok.
std::string qp_decode(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool ci_equal(std::string_view a, std::string_view b) { return auth::config::iequals(a, b); }

/// libopendkim 2.11's base64 decoder (base64.c): characters outside the alphabet are
/// skipped, '=' ends the data; corrupt when one character is left over or the output would
/// not fit the buffer (as long as the input).
bool base64_corrupt(std::string_view s) {
  std::size_t n = 0, count = 0;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '=') break;
    if (!(c_alnum(c) || c == '+' || c == '/')) continue;
    if (n + 3 > s.size()) return true;
    if (++count == 4) {
      n += 3;
      count = 0;
    }
  }
  return count == 1;
}

}  // namespace

OpendkimSigCheck opendkim_signature_check(std::string_view value, std::int64_t now, std::int64_t drift) {
  using Kind = OpendkimSigCheck::Kind;
  OpendkimSigCheck out;
  auto bad = [&](std::string why) {
    out.kind = Kind::BadTagList;
    out.error = std::move(why);
    return out;
  };
  // dkim_process_set: the tag-list state machine (strlcpy stops at a NUL).
  if (auto nul = value.find('\0'); nul != std::string_view::npos) value = value.substr(0, nul);
  std::vector<std::pair<std::string, std::string>> tags;  // collapsed, last value wins
  auto put = [&](std::string_view name, std::string_view v) {
    std::string n = collapse(name);
    std::string val = collapse(v);
    for (auto& t : tags) {
      if (t.first == n) {
        t.second = std::move(val);
        return;
      }
    }
    tags.emplace_back(std::move(n), std::move(val));
  };
  // dkim_error() texts, offsets into the value as libopendkim numbers them.
  auto located = [](const char* what, unsigned char c, std::size_t i) {
    static const char kHex[] = "0123456789abcdef";
    std::string s = std::string(what) + " (ASCII 0x";
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
    return s + " at offset " + std::to_string(i);
  };
  int state = 0;
  bool spaced = false;
  std::size_t pstart = 0, pend = 0, vstart = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80 || (!c_print(c) && !c_space(c))) return bad(located("invalid character", c, i) + ") in signature data");
    switch (state) {
      case 0:
        if (c_space(c)) continue;
        if (!c_alnum(c)) return bad(located("syntax error in signature data", c, i) + ")");
        pstart = i;
        state = 1;
        break;
      case 1:
        if (c_space(c)) {
          spaced = true;
        } else if (c == '=') {
          pend = i;
          state = 2;
          spaced = false;
        } else if (c == ';' || spaced) {
          return bad(located("syntax error in signature data", c, i) + ")");
        }
        break;
      case 2:
        if (c_space(c)) continue;
        if (c == ';') {
          put(value.substr(pstart, pend - pstart), "");
          state = 0;
        } else {
          vstart = i;
          state = 3;
        }
        break;
      default:
        if (c == ';') {
          put(value.substr(pstart, pend - pstart), value.substr(vstart, i - vstart));
          state = 0;
        }
        break;
    }
  }
  if (state == 1) return bad("tag without value at end of signature data");
  if (state == 2) put(value.substr(pstart, pend - pstart), "");
  if (state == 3) put(value.substr(pstart, pend - pstart), value.substr(vstart));
  auto get = [&](std::string_view n) -> const std::string* {
    for (const auto& t : tags) {
      if (t.first == n) return &t.second;
    }
    return nullptr;
  };
  for (std::string_view req : {"s", "h", "d", "b", "v", "a"}) {
    if (!get(req)) return bad("missing parameter(s) in signature data");
  }
  for (std::string_view tx : {"t", "x"}) {
    std::uint64_t v = 0;
    const std::string* p = get(tx);
    if (p && (p->empty() || p->front() == '-' || !whole_unsigned(*p, v))) {
      return bad("invalid \"" + std::string(tx) + "\" value in signature data");
    }
  }

  // dkim_siglist_setup, in its order.
  auto sigerr = [&](std::string_view text) {
    out.kind = Kind::SigError;
    out.error = std::string(text);
    out.algorithm_read = find_sig_error(text)->algorithm_read;
    return out;
  };
  const std::string& d = *get("d");
  if (d.empty()) return sigerr("domain tag empty");
  if (get("s")->empty()) return sigerr("selector tag empty");
  const std::string& v = *get("v");
  if (v.empty()) return sigerr("version empty");
  if (v != "1") return sigerr("unsupported signature version");
  {
    const std::string* i = get("i");
    const std::string addr = i ? qp_decode(*i) : "@" + d;
    auto at = addr.find('@');
    bool ok = false;
    if (at != std::string::npos) {
      std::string_view dom = std::string_view(addr).substr(at + 1);
      ok = ci_equal(dom, d);
      for (auto dot = addr.find('.', at); !ok && dot != std::string::npos; dot = addr.find('.', dot + 1)) {
        ok = ci_equal(std::string_view(addr).substr(dot + 1), d);
      }
    }
    if (!ok) return sigerr("invalid domain coverage");
  }
  const std::string* t = get("t");
  const std::string* x = get("x");
  const std::int64_t dr = drift < 0 ? 0 : drift;
  if (x) {
    // As the verifier: expired once now >= x + drift (libopendkim dkim_sig_expired).
    const std::uint64_t xv = leading_unsigned(*x);
    const auto n = static_cast<std::uint64_t>(now);
    if (n >= xv && n - xv >= static_cast<std::uint64_t>(dr)) return sigerr("signature expired");
  }
  if (t) {
    // As the verifier's in_future (opendkim.conf(5) meaning; libopendkim's unsigned
    // t - drift wraps for old timestamps, see verifier.cpp).
    const std::uint64_t tv = leading_unsigned(*t);
    const auto n = static_cast<std::uint64_t>(now);
    if (tv > n && tv - n > static_cast<std::uint64_t>(dr)) return sigerr("signature timestamp in the future");
  }
  if (t && x && !(leading_unsigned(*t) < leading_unsigned(*x))) return sigerr("signature timestamp order error");
  if (const std::string* c = get("c")) {
    std::string_view cv = *c;
    auto slash = cv.find('/');
    auto canon_ok = [](std::string_view w) { return ci_equal(w, "simple") || ci_equal(w, "relaxed"); };
    if (!canon_ok(cv.substr(0, slash))) return sigerr("invalid header canonicalization");
    if (slash != std::string_view::npos && !canon_ok(cv.substr(slash + 1))) {
      return sigerr("invalid body canonicalization");
    }
  }
  {
    const std::string& a = *get("a");
    if (!ci_equal(a, "rsa-sha1") && !ci_equal(a, "rsa-sha256") && !ci_equal(a, "ed25519-sha256")) {
      return sigerr("signature algorithm invalid");
    }
  }
  {
    const std::string& h = *get("h");
    if (h.empty()) return sigerr("header list tag empty");
    bool from = false;
    std::size_t start = 0;
    while (start <= h.size() && !from) {
      auto colon = h.find(':', start);
      std::string_view name = std::string_view(h).substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      from = ci_equal(name, "from");
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (!from) return sigerr("header list missing required entries");
  }
  if (const std::string* l = get("l")) {
    // strtoul: an empty l= reads as 0 and is accepted.
    std::uint64_t lv = 0;
    const bool ok = l->empty() || (l->front() != '-' && whole_unsigned(*l, lv));
    if (!ok) return sigerr("body length value invalid");
  }
  if (const std::string* q = get("q")) {
    // Methods separated by ':' (empty ones skipped); the first known one ends the scan, a
    // "dns" without the "txt" option is remembered as bad and the scan goes on.
    int found = -1;  // -1 unknown / none, 1 dns
    bool bad_qo = false;
    std::size_t start = 0;
    const std::string& qs = *q;
    while (start < qs.size()) {
      auto colon = qs.find(':', start);
      std::string_view m = std::string_view(qs).substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      start = colon == std::string::npos ? qs.size() : colon + 1;
      if (m.empty()) continue;
      auto slash = m.find('/');
      std::string_view type = m.substr(0, slash);
      if (!ci_equal(type, "dns")) {
        found = -1;
        continue;
      }
      found = 1;
      if (slash == std::string_view::npos || m.substr(slash + 1) != "txt") {
        bad_qo = true;
        continue;
      }
      break;
    }
    if (found < 0) return sigerr("query method invalid");
    if (bad_qo) return sigerr("query option invalid");
  }
  const std::string* bh = get("bh");
  if (!bh) return sigerr("body hash missing");
  if (bh->empty()) return sigerr("body hash empty");
  const std::string& b = *get("b");
  if (b.empty()) return sigerr("signature data empty");
  if (base64_corrupt(b)) return sigerr("signature data corrupt");
  return out;
}

std::optional<std::string> opendkim_bad_tag_list(const std::vector<auth::mail::Field>& headers) {
  for (const auto& f : headers) {
    if (!f.is("DKIM-Signature")) continue;
    auto c = opendkim_signature_check(f.raw_value(), 0, 0);
    if (c.kind == OpendkimSigCheck::Kind::BadTagList) return c.error;
  }
  return std::nullopt;
}

bool is_length_beyond_body(const auth::dkim::SignatureResult& r) { return l_beyond_body(r); }

bool is_opendkim_sig_error(const auth::dkim::SignatureResult& r) {
  return r.failure == FailureKind::Syntax && find_sig_error(r.reason) != nullptr;
}

std::size_t apply_opendkim_sig_errors(std::vector<auth::dkim::SignatureResult>& results,
                                      const std::vector<auth::mail::Field>& headers, std::int64_t now,
                                      std::int64_t drift) {
  std::size_t changed = 0;
  for (auto& r : results) {
    if (r.failure != FailureKind::Syntax) continue;
    std::size_t n = 0;
    for (const auto& f : headers) {
      if (!f.is("DKIM-Signature")) continue;
      if (n++ != r.field_index) continue;
      auto c = opendkim_signature_check(f.raw_value(), now, drift);
      if (c.kind == OpendkimSigCheck::Kind::SigError) {
        r.reason = c.error;
        ++changed;
      }
      break;
    }
  }
  return changed;
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
          if (i + 1 < v.size()) ++i;  // quoted-pair; a trailing '\' must not step past the end
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
                      const auth::config::DkimSettings& s, std::string* lookup_error) {
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
  if (!listed && s.live_lists.remove_ar_from) {
    LiveListAnswer a = live_lookup(*s.live_lists.remove_ar_from, id);
    if (!a.error.empty() && lookup_error != nullptr) *lookup_error = a.error;
    listed = a.found;
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
  if (l_beyond_body(r)) return std::string(kTooLargeL);
  switch (r.failure) {
    case FailureKind::BodyHash:
    case FailureKind::Signature: return "signature verification failed";
    case FailureKind::NoKey: return "key not found in DNS";
    case FailureKind::KeyDns: return "key DNS query failed";
    case FailureKind::Expired: return "signature expired";
    case FailureKind::Future: return "signature timestamp in the future";  // DKIM_SIGERROR_FUTURE
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
         "-bit key, " + auth::dkim::to_string(r.key_dnssec) + ") failed: " + verification_error_text(r);
}

namespace {

/// opendkim -Q's query "key/n": the key before the last '/', and n read as atoi() does
/// (optional blanks and sign, digits, anything after ignored). nullopt for a query without '/'
/// or with a negative n; `a` then holds opendkim's usage error and EX_USAGE.
std::optional<std::pair<std::string_view, long>> parse_dataset_query(std::string_view query, const std::string& p,
                                                                     QueryAnswer& a) {
  auto slash = query.rfind('/');
  long n = 0;
  bool bad = slash == std::string_view::npos;
  if (!bad) {
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
    return std::nullopt;
  }
  return std::pair{query.substr(0, slash), n};
}

}  // namespace

QueryAnswer answer_dataset_query(const auth::config::Dataset& d, std::string_view query,
                                 std::string_view prog) {
  QueryAnswer a;
  const std::string p(prog);
  auto q = parse_dataset_query(query, p, a);
  if (!q) return a;
  const long n = q->second;
  const auth::config::DatasetEntry* e = d.find(q->first);
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

QueryAnswer answer_live_query(auth::config::LiveDataset& d, std::string_view query, std::string_view prog) {
  QueryAnswer a;
  const std::string p(prog);
  auto q = parse_dataset_query(query, p, a);
  if (!q) return a;
  long n = q->second;
  // Local bound: opendkim allocates n dkimf_db_data structures; more fields than any data set
  // has print as <empty>, so a huge n is capped rather than filling the terminal.
  constexpr long kMaxQueryFields = 1024;
  n = std::min(n, kMaxQueryFields);
  auto r = d.lookup(q->first);
  if (!r) {
    std::string why = r.error().reason;
    const std::string& o = d.origin();
    if (why.size() > o.size() + 2 && why.compare(0, o.size(), o) == 0 && why.compare(o.size(), 2, ": ") == 0) {
      why = why.substr(o.size() + 2);  // dkimf_db_strerror: the back end's text alone
    }
    a.err = p + ": dkimf_db_get() returned " + std::to_string(d.lookup_status(r.error())) + ": \"" + why + "\"\n";
    a.out = "\n";
    return a;
  }
  if (!r->has_value()) {
    a.out = p + ": dkimf_db_get(): record not found\n\n";
    return a;
  }
  const auth::config::LiveValues& v = **r;
  for (long i = 0; i < n; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    if (idx >= v.size() || v[idx].empty()) {
      a.out += "<empty>\n";
    } else {
      a.out += "'" + v[idx] + "'\n";
    }
  }
  a.out += "\n";
  return a;
}

/* ---------------- failure reports ---------------- */

namespace {

/// RFC 5322 §3.2.3 atext.
bool is_atext(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

/// dot-atom-text: atext runs separated by single dots, no dot at either end.
bool is_dot_atom_text(std::string_view s) noexcept {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

bool has_type(std::string_view types, std::string_view want) {
  std::size_t p = 0;
  while (p <= types.size()) {
    auto q = types.find(':', p);
    if (q == std::string_view::npos) q = types.size();
    if (iequal(trim_blanks(types.substr(p, q - p)), want)) return true;
    p = q + 1;
  }
  return false;
}

}  // namespace

bool signature_requests_reports(std::string_view signature_value) {
  auto tags = auth::dkim::parse_tag_list(signature_value);
  if (!tags) return false;
  auto r = tags->get("r");
  return r && *r == "y";
}

std::optional<ReportRecord> parse_report_record(std::string_view txt) {
  auto tags = auth::dkim::parse_tag_list(txt);
  if (!tags) return std::nullopt;
  auto ra = tags->get("ra");
  if (!ra) return std::nullopt;
  auto decoded = auth::dkim::decode_dkim_quoted_printable(*ra);
  if (!decoded) return std::nullopt;
  ReportRecord rec;
  rec.ra = *decoded;
  if (auto at = rec.ra.find('@'); at != std::string::npos) rec.ra.resize(at);
  if (rec.ra.size() > kMaxReportLocalPart || !is_dot_atom_text(rec.ra)) return std::nullopt;
  if (auto rp = tags->get("rp")) {
    // strtoul with the whole value consumed; anything else keeps 100 (libopendkim).
    unsigned long v = 0;
    bool ok = !rp->empty();
    for (char c : *rp) {
      if (c < '0' || c > '9' || v > 1000) {
        ok = false;
        break;
      }
      v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (ok) rec.rp = static_cast<unsigned>(std::min<unsigned long>(v, 100));
  }
  if (auto rr = tags->get("rr")) {
    rec.rr = std::string(*rr);
  } else if (auto ro = tags->get("ro")) {
    rec.rr = std::string(*ro);
  }
  return rec;
}

std::optional<std::string> report_smtp_text(std::string_view txt) {
  auto tags = auth::dkim::parse_tag_list(txt);
  if (!tags) return std::nullopt;
  auto rs = tags->get("rs");
  if (!rs) return std::nullopt;
  auto decoded = auth::dkim::decode_dkim_quoted_printable(*rs);
  if (!decoded || decoded->empty() || decoded->size() > kMaxReportSmtpText) return std::nullopt;
  for (char c : *decoded) {
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  }
  return *decoded;
}

bool report_requested(std::string_view types, const auth::dkim::SignatureResult& r) {
  if (trim_blanks(types).empty() || has_type(types, "all")) return true;
  switch (r.failure) {
    case FailureKind::Syntax: return has_type(types, "s");
    case FailureKind::Expired: return has_type(types, "x");
    case FailureKind::BodyHash:
    case FailureKind::Signature: return has_type(types, "v");
    case FailureKind::NoKey:
    case FailureKind::KeyDns: return has_type(types, "d");
    case FailureKind::KeyRecord: return has_type(types, "d") || has_type(types, "o");
    case FailureKind::None:
      // A pass demoted by MustBeSigned (libopendkim DKIM_SIGERROR_MBSFAILED).
      return r.result != DkimResult::Pass && has_type(types, "p");
    case FailureKind::WeakKey:
    case FailureKind::WeakAlgorithm:
    case FailureKind::BodyLength: return has_type(types, "o");
    case FailureKind::NotChecked:
    case FailureKind::Future: return false;  // in none of opendkim's lists: "all" only
    default: return has_type(types, "o");
  }
}

std::string base64_folded(std::string_view data, std::size_t lm, std::size_t rm, std::size_t initial) {
  std::string b64 = auth::crypto::base64_encode(data);
  std::string out;
  out.reserve(b64.size() + b64.size() / 16 + 8);
  std::size_t col = initial;
  for (std::size_t i = 0; i < b64.size(); i += 4) {
    if (i > 0 && col + 4 >= rm) {
      out += '\n';
      out.append(lm, ' ');
      col = lm;
    }
    out.append(b64, i, 4);
    col += 4;
  }
  return out;
}

std::string canonical_signed_headers(const std::vector<auth::mail::Field>& headers, std::size_t sig_index,
                                     auth::dkim::Canon canon) {
  const auth::mail::Field* sig = nullptr;
  std::size_t n = 0;
  for (const auto& f : headers) {
    if (!iequal(f.name, "DKIM-Signature")) continue;
    if (n++ == sig_index) {
      sig = &f;
      break;
    }
  }
  if (!sig) return {};
  std::string_view rv = sig->raw_value();
  auto tags = auth::dkim::parse_tag_list(rv);
  if (!tags) return {};
  const auth::dkim::Tag* h = tags->find("h");
  const auth::dkim::Tag* b = tags->find("b");
  if (!h || !b) return {};
  std::vector<bool> used(headers.size(), false);
  std::string out;
  std::string_view names = h->value;
  std::size_t p = 0;
  while (p <= names.size()) {
    auto q = names.find(':', p);
    if (q == std::string_view::npos) q = names.size();
    std::string name(trim_blanks(names.substr(p, q - p)));
    p = q + 1;
    for (std::size_t i = headers.size(); i-- > 0;) {
      if (used[i] || &headers[i] == sig || !iequal(headers[i].name, name)) continue;
      used[i] = true;
      out += auth::dkim::canonicalize_header(canon, headers[i].raw);
      break;
    }
  }
  std::size_t head = sig->colon + 1;
  std::string blanked = sig->raw.substr(0, head + b->value_begin) + sig->raw.substr(head + b->value_end);
  out += auth::dkim::canonicalize_header_no_crlf(canon, blanked);
  return out;
}

std::string format_failure_report(const FailureReport& r) {
  const std::string boundary = "dkimreport/" + r.hostname + "/" + r.job_id;
  std::string head;
  head += "From: " + r.from + "\n";
  head += "To: " + r.to + "\n";
  if (!r.bcc.empty()) head += "Bcc: " + r.bcc + "\n";
  head += "Date: " + r.date + "\n";
  head += "Subject: DKIM failure report for " + r.job_id + "\n";
  head += "MIME-Version: 1.0\n";
  head += "Content-Type: multipart/report; report-type=feedback-report;\n\tboundary=\"" + boundary + "\"\n";
  head += "\n";  // opendkim leaves this line out (see the header comment)
  head += "--" + boundary + "\n";
  head += "Content-Type: text/plain\n\n";
  head += "DKIM failure report for job " + r.job_id + " on " + r.hostname + "\n\n";
  head += "The canonicalized form of the failed message's header and body are\nattached.\n\n";
  head += "--" + boundary + "\n";
  head += "Content-Type: message/feedback-report\n\n";
  head += "User-Agent: " + r.user_agent + "\n";
  head += "Version: 0.1\n";  // ARF_VERSION
  head += "Original-Envelope-Id: " + r.job_id + "\n";
  head += "Original-Mail-From: " + r.envelope_from + "\n";
  head += "Reporting-MTA: " + r.hostname + "\n";
  head += "Source-IP: " + r.source_ip + "\n";
  head += "Message-ID: " + r.message_id + "\n";
  head += "Arrival-Date: " + r.date + "\n";
  head += "Reported-Domain: " + r.result.domain + "\n";
  head += "Delivery-Result: other\n";
  head += "Feedback-Type: auth-failure\n";
  // opendkim.c dkimf_sigreport / dkimf_arfdkim.
  std::string dkim_failure = "other";
  if (r.result.failure == FailureKind::BodyHash) {
    head += "Auth-Failure: bodyhash\n";
    dkim_failure = "bodyhash";
  } else {
    head += "Auth-Failure: signature (" + verification_error_text(r.result) + ")\n";
    if (r.result.failure == FailureKind::Signature) dkim_failure = "signature";
    if (r.result.failure == FailureKind::Syntax) dkim_failure = "syntax";
  }
  head += "DKIM-Failure: " + dkim_failure + "\n";
  head += "DKIM-Domain: " + r.result.domain + "\n";
  head += "DKIM-Selector: " + r.result.selector + "\n";
  head += "DKIM-Identity: " + r.result.identity + "\n";
  std::string canon;
  if (!r.canonical_header.empty()) {
    canon += "DKIM-Canonicalized-Header: " + base64_folded(r.canonical_header, 4, 75, 27) + "\n";
  }
  if (r.canonical_body) canon += "DKIM-Canonicalized-Body: " + base64_folded(*r.canonical_body, 4, 75, 25) + "\n";
  std::string tail = "\n--" + boundary + "\n" + "Content-Type: text/rfc822-headers\n\n";
  const std::string end = "\n--" + boundary + "--\n";
  // Bounded: drop the canonical forms first, then cut the header copy at a field boundary.
  if (head.size() + canon.size() + tail.size() + end.size() > kMaxReportBytes) canon.clear();
  std::string out = head + canon + tail;
  for (const auto& f : r.header_fields) {
    if (out.size() + f.size() + 1 + end.size() > kMaxReportBytes) break;
    out += f;
    out += '\n';
  }
  out += end;
  return out;
}

}  // namespace inkan::dkim
