// inkan-dkim core: decision, Authentication-Results, actions (see dkim_core.h).
#include "dkim/dkim_core.h"

#include <algorithm>
#include <cctype>

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
    case FailureKind::None: break;
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

}  // namespace inkan::dkim
