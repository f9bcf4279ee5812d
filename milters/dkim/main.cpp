// inkan-dkim — the DKIM signing and verifying milter, a drop-in for OpenDKIM
// (anchor-features.md §2): same /etc/opendkim.conf, KeyTable, SigningTable and host lists,
// same sign-or-verify decision, On-* actions and reply texts, headers in OpenDKIM's forms; or
// the `dkim:` section of /etc/inkan/inkan.yaml. The per-message state machine is DkimSession;
// the pure parts (decision, AR formatting, actions) are in dkim_core.h; all libmilter work is
// done by the common runtime (milters/common/runtime.h).
//
// Memory per message: the header block (bounded by MaximumHeaders) and the signer/verifier
// hash states; the body is hashed as it streams and never kept.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <filesystem>
#include <map>
#include <mutex>

#include "auth/config/dkim.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/cache.h"
#include "auth/dns/cares_resolver.h"
#include "auth/mail/address.h"
#include "auth/mail/header.h"
#include "common/runtime.h"
#include "dkim/dkim_core.h"

#ifndef INKAN_VERSION
#define INKAN_VERSION "0.0.0"
#endif

namespace {

using namespace inkan::milter;
using auth::config::DkimAction;
using auth::config::DkimSettings;
using inkan::dkim::Outcome;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/* ---------------- keys ---------------- */

/// Private keys by path (or inline data), re-read when the file changes (OpenDKIM reads key
/// files for every signing request, §2.3; a stat per message gives the same key rotation
/// without a reload). A key cached before the privilege drop stays usable if the file
/// becomes unreadable to UserID.
class KeyCache {
 public:
  auth::Result<std::shared_ptr<const auth::crypto::Signer>> get(const std::string& key, bool require_safe,
                                                                Logger* log) {
    bool is_path = !key.empty() && (key.front() == '/' || key.rfind("./", 0) == 0 || key.rfind("../", 0) == 0);
    struct stat st{};
    bool have_stat = is_path && ::stat(key.c_str(), &st) == 0;
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (!is_path || !have_stat || (it->second.mtime == st.st_mtime && it->second.size == st.st_size &&
                                     it->second.ino == st.st_ino)) {
        return it->second.signer;
      }
    }
    if (is_path) {
      if (require_safe) {
        if (auto m = auth::crypto::check_private_key_file_mode(key); !m) {
          return auth::fail(m.error().code, "key data is not secure: " + m.error().reason);
        }
      } else if (auto m = auth::crypto::check_private_key_file_mode(key); !m && log && warned_.insert(key).second) {
        // Logged once per key, not per message (OpenDKIM #124).
        log->warning("key data is not secure: " + m.error().reason + " (RequireSafeKeys is off)");
      }
    }
    auto k = is_path ? auth::crypto::PrivateKey::load_file(key) : auth::crypto::PrivateKey::load(key);
    if (!k) return auth::fail(k.error().code, "can't load key from " + (is_path ? key : std::string("inline data")) + ": " + k.error().reason);
    Entry e;
    e.signer = std::make_shared<auth::crypto::LocalSigner>(std::move(*k));
    if (have_stat) {
      e.mtime = st.st_mtime;
      e.size = st.st_size;
      e.ino = st.st_ino;
    }
    cache_[key] = e;
    return e.signer;
  }

 private:
  struct Entry {
    std::shared_ptr<const auth::crypto::Signer> signer;
    time_t mtime = 0;
    off_t size = 0;
    ino_t ino = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> cache_;
  std::set<std::string> warned_;
};

/* ---------------- configuration snapshot ---------------- */

struct DkimConfig {
  DkimSettings s;
  inkan::dkim::HostLists hosts;
  RuntimeSettings runtime;
  std::string authserv_id;  ///< resolved HOSTNAME; empty = macro j
  std::shared_ptr<auth::dns::Resolver> resolver;  ///< set by start()
};

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

/* ---------------- the session ---------------- */

class DkimApp;

class DkimSession final : public Session {
 public:
  DkimSession(std::shared_ptr<const DkimConfig> cfg, KeyCache& keys, const ConnInfo& conn)
      : cfg_(std::move(cfg)), keys_(keys), conn_(conn) {}

  Action on_connect(Context& ctx, const ConnInfo& info) override {
    conn_ = info;
    const auto& s = cfg_->s;
    auto ip = auth::net::parse_ip(info.peer.address);
    if (ip) ip_ = *ip;
    if (!cfg_->hosts.peers.empty() && cfg_->hosts.peers.match(ip_ ? &*ip_ : nullptr, info.hostname)) {
      if (s.log_why) ctx.log().info(std::string(kNoQueueId) + ": " + printable(info.hostname) + " [" + printable(info.peer.address) + "] is a peer; accepted");
      return Action::accept();  // PeerList: Postfix skips us for the session (§2.4)
    }
    return Action::cont();
  }

  Action on_envfrom(Context&, std::span<const std::string>) override {
    reset();
    return Action::cont();
  }

  Action on_envrcpt(Context&, std::span<const std::string> args) override {
    if (!args.empty() && rcpts_.size() < kMaxRecipients) rcpts_.push_back(args[0]);
    return Action::cont();
  }

  Action on_header(Context&, std::string_view name, std::string_view value) override {
    header_bytes_ += name.size() + value.size() + 2;
    if (cfg_->s.maximum_headers > 0 && header_bytes_ > cfg_->s.maximum_headers) {
      too_big_ = true;
      return Action::cont();
    }
    auto f = auth::mail::Field::from_milter(
        name, value, conn_.header_leading_space ? auth::mail::LeadingSpace::Included : auth::mail::LeadingSpace::Stripped);
    if (!f) {
      malformed_ = true;
      return Action::cont();
    }
    if (f->is("Authentication-Results")) {
      ++ar_count_;
      ar_.push_back({ar_count_, f->value});
    }
    if (f->is("DKIM-Signature")) ++sig_count_;
    headers_.push_back(std::move(*f));
    return Action::cont();
  }

  Action on_eoh(Context& ctx) override {
    const auto& s = cfg_->s;
    qid_ = ctx.queue_id();
    if (too_big_) return finish_early(ctx, Outcome::Security, "header block larger than MaximumHeaders");

    /* Sender (SenderHeaders, default From). */
    std::string local, domain;
    for (const auto& hn : s.sender_headers) {
      auto it = std::find_if(headers_.begin(), headers_.end(), [&](const auth::mail::Field& f) { return f.is(hn); });
      if (it == headers_.end()) continue;
      auto boxes = auth::mail::parse_address_list(it->value);
      if (boxes && !boxes->empty()) {
        local = (*boxes)[0].local_part;
        domain = lower((*boxes)[0].domain);
      }
      break;
    }
    if (!domain.empty() && inkan::dkim::domain_listed(s.exempt_domains, domain)) {
      if (s.log_why) ctx.log().info(qid_ + ": domain '" + printable(domain) + "' exempted");
      ctx.summary().add("result", "exempt").add("domain", domain);
      return Action::accept();
    }

    /* Sign or verify (§2.4). */
    inkan::dkim::Origin o;
    o.ip = ip_;
    o.hostname = conn_.hostname;
    o.auth_type = ctx.macro("{auth_type}").value_or("");
    o.auth_authen = ctx.macro("{auth_authen}").value_or("");
    o.daemon_name = ctx.macro("{daemon_name}").value_or("");
    for (const auto& mm : s.macro_list) {
      if (auto v = ctx.macro(mm.name)) o.macros.emplace_back(mm.name, *v);
    }
    auto origin = inkan::dkim::decide_origin(s, cfg_->hosts, o);
    if (s.sign && origin.internal && !domain.empty()) {
      std::string err;
      requests_ = auth::config::select_signing_keys(s, local, domain, &err);
      if (!err.empty()) {
        // §2.3: unknown key → SMFIS_TEMPFAIL with no custom reply text.
        ctx.log().error(qid_ + ": " + err);
        ctx.summary().add("result", "tempfail").add("why", err);
        ctx.metrics().count_error("unknown_key");
        return Action::tempfail();
      }
      if (!requests_.empty() && inkan::dkim::dont_sign_to(s.dont_sign_mail_to, rcpts_)) {
        if (s.log_why) ctx.log().info(qid_ + ": skipping signing: a recipient is in DontSignMailTo");
        requests_.clear();
      }
      if (!requests_.empty()) return start_signing(ctx);
      if (s.log_why) ctx.log().info(qid_ + ": no signing table match for '" + printable(local + "@" + domain) + "'");
    } else if (s.log_why && s.sign) {
      ctx.log().info(qid_ + ": " + printable(origin.why, 200));
    }
    if (!origin.internal && !domain.empty() && !s.key_table && !s.keys.empty() &&
        !auth::config::select_signing_keys(s, local, domain, nullptr).empty()) {
      const auth::net::IpAddress* ip = ip_ ? &*ip_ : nullptr;
      if (!cfg_->hosts.external_ignore.match(ip, conn_.hostname)) {
        ctx.log().notice(qid_ + ": external host " + printable(conn_.hostname) + " attempted to send as " + printable(domain));
      }
    }
    // Mail from internal hosts is not verified (it goes down the signing path, §2.4).
    if (!s.verify || origin.internal) {
      ctx.summary().add("result", origin.internal ? "not-signed" : "skipped");
      return Action::accept();
    }
    return start_verifying(ctx);
  }

  Action on_body(Context&, std::span<const unsigned char> chunk) override {
    std::string_view b(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    if (signer_) {
      signer_->body_chunk(b);
    } else if (verifier_) {
      verifier_->body_chunk(b);
    }
    return Action::cont();
  }

  Action on_eom(Context& ctx, MessageOps& ops) override {
    if (signer_) return finish_signing(ctx, ops);
    if (verifier_) return finish_verifying(ctx, ops);
    return Action::accept();
  }

  void on_abort(Context&) override { reset(); }

 private:
  static constexpr std::size_t kMaxRecipients = 10000;  // local policy (Postfix's default limit is 1000)

  void reset() {
    headers_.clear();
    ar_.clear();
    rcpts_.clear();
    requests_.clear();
    signer_.reset();
    verifier_.reset();
    header_bytes_ = 0;
    ar_count_ = sig_count_ = 0;
    too_big_ = malformed_ = false;
    qid_.clear();
  }

  std::string our_authserv_id(Context& ctx) const {
    std::string id = cfg_->authserv_id;
    if (id.empty()) id = ctx.macro("j").value_or("unknown-host");
    if (cfg_->s.authserv_id_with_jobid) id += "/" + ctx.queue_id();
    return id;
  }

  std::string lead(std::string v) const { return conn_.header_leading_space ? " " + v : v; }

  Action finish_early(Context& ctx, Outcome o, const std::string& why) {
    DkimAction a = inkan::dkim::action_for(cfg_->s.actions, o);
    ctx.log().warning(qid_ + ": " + why);
    ctx.summary().add("result", std::string(inkan::dkim::reply_text(o))).add("action", auth::config::to_string(a));
    ctx.metrics().count_verdict(auth::config::to_string(a));
    Action act = inkan::dkim::milter_action(a, o);
    if (act.verdict == Verdict::Quarantine) return Action::accept();  // quarantine only at EOM
    return act;
  }

  /* ---- signing ---- */

  Action start_signing(Context& ctx) {
    const auto& s = cfg_->s;
    auth::dkim::SignOptions opt;
    for (const auto& rq : requests_) {
      auto key = keys_.get(rq.key_path_or_data, s.require_safe_keys, &ctx.log());
      if (!key) {
        // §2.3/§2.7: error loading key → tempfail with the MTA's text.
        ctx.log().error(qid_ + ": error loading key '" + rq.key->name + "': " + key.error().reason);
        ctx.summary().add("result", "tempfail").add("why", "error loading key " + rq.key->name);
        ctx.metrics().count_error("key_load");
        requests_.clear();
        return Action::tempfail();
      }
      auth::dkim::SignatureSpec spec;
      spec.domain = rq.domain;
      spec.selector = rq.key->selector;
      spec.key = *key;
      auto kt = (*key)->key_type();
      if (rq.key->algorithm) {
        spec.algorithm = rq.key->algorithm;
      } else if (s.signature_algorithm && auth::crypto::key_type_of(*s.signature_algorithm) == kt) {
        spec.algorithm = s.signature_algorithm;
      } else {
        // The algorithm follows the key type (OpenDKIM develop PR #370, issue #107).
        spec.algorithm = kt == auth::crypto::KeyType::Ed25519 ? auth::crypto::SignAlg::Ed25519Sha256
                                                              : auth::crypto::SignAlg::RsaSha256;
      }
      spec.canon = s.canonicalization;
      // h= lists the names as spelled in the message, in message order (OpenDKIM); the
      // signer lists each name once per occurrence.
      auto listed = [](const std::vector<std::string>& v, std::string_view n) {
        return std::any_of(v.begin(), v.end(), [&](const std::string& x) { return auth::config::iequals(x, n); });
      };
      for (const auto& f : headers_) {
        bool want = s.sign_all_but_omitted ? !listed(s.omit_headers, f.name)
                                           : listed(s.sign_headers, f.name) &&
                                                 (!listed(s.omit_headers, f.name) || f.is("From"));
        if (want && !listed(spec.headers, f.name)) spec.headers.push_back(f.name);
      }
      if (!listed(spec.headers, "From")) spec.headers.push_back("From");
      spec.oversign = s.oversign_headers;
      spec.identity = rq.signer;
      if (s.signature_ttl > 0) spec.expire_after = s.signature_ttl;
      opt.signatures.push_back(std::move(spec));
    }
    signer_ = std::make_unique<auth::dkim::Signer>(std::move(opt));
    for (const auto& f : headers_) {
      // RemoveOldSignatures: old signatures are deleted, so they are not part of what we sign.
      if (s.remove_old_signatures && f.is("DKIM-Signature")) continue;
      if (auto r = signer_->add_header(f); !r) {
        ctx.log().warning(qid_ + ": header not signable: " + r.error().reason);
      }
    }
    signer_->end_headers();
    return Action::cont();
  }

  Action finish_signing(Context& ctx, MessageOps& ops) {
    const auto& s = cfg_->s;
    auto fields = signer_->finish();
    signer_.reset();
    if (!fields) {
      ctx.log().error(qid_ + ": signature generation error: " + fields.error().reason);
      DkimAction a = s.actions.signature_error;
      ctx.summary().add("result", "sign-error").add("action", auth::config::to_string(a));
      ctx.metrics().count_error("sign");
      Action act = inkan::dkim::milter_action(a, Outcome::SignatureError);
      return act.verdict == Verdict::Quarantine ? Action::quarantine(act.quarantine_reason) : act;
    }
    if (s.remove_old_signatures) {
      for (int i = static_cast<int>(sig_count_); i >= 1; --i) {
        if (auto r = ops.delete_header("DKIM-Signature", i); !r) throw std::runtime_error(r.error().reason);
      }
    }
    // Insert in reverse so the first signature ends on top.
    for (auto it = fields->rbegin(); it != fields->rend(); ++it) {
      auto nv = inkan::dkim::split_field(*it);
      if (!nv) throw std::runtime_error("signer produced a malformed field");
      if (auto r = ops.insert_header(0, nv->first, lead(nv->second)); !r) throw std::runtime_error(r.error().reason);
    }
    if (s.software_header) add_software_header(ctx, ops);
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      ctx.log().info(qid_ + ": DKIM-Signature field added (s=" + requests_[i].key->selector + ", d=" + requests_[i].domain + ")");
      ctx.summary().add("signed", requests_[i].domain).add("s", requests_[i].key->selector);
    }
    ctx.summary().add("result", "signed");
    ctx.metrics().count_verdict("signed");
    requests_.clear();
    return Action::accept();
  }

  void add_software_header(Context& ctx, MessageOps& ops) {
    std::string v = std::string("inkan-dkim v") + INKAN_VERSION + " " + ctx.macro("j").value_or("unknown-host") + " " +
                    ctx.queue_id();
    if (auto r = ops.insert_header(cfg_->s.header_index, "DKIM-Filter", lead(v)); !r) throw std::runtime_error(r.error().reason);
  }

  /* ---- verifying ---- */

  Action start_verifying(Context& ctx) {
    const auto& s = cfg_->s;
    auth::dkim::VerifyOptions opt;
    opt.max_signatures = s.max_signatures == 0 ? 1 : s.max_signatures;
    opt.allow_rsa_sha1 = s.allow_sha1;
    opt.min_rsa_bits = s.minimum_key_bits;
    opt.key_lookup = auth::dkim::KeyLookup::Blocking;
    opt.dns_wait = std::chrono::seconds(s.dns_timeout == 0 ? 30 : s.dns_timeout);
    if (!cfg_->resolver) throw std::runtime_error("resolver not started");
    verifier_ = std::make_unique<auth::dkim::Verifier>(std::move(opt), *cfg_->resolver);
    for (const auto& f : headers_) (void)verifier_->add_header(f);
    verifier_->end_headers();
    (void)ctx;
    return Action::cont();
  }

  Action finish_verifying(Context& ctx, MessageOps& ops) {
    const auto& s = cfg_->s;
    auto results = verifier_->finish();
    verifier_.reset();
    Outcome o = inkan::dkim::classify(results);
    DkimAction a = inkan::dkim::action_for(s.actions, o);

    /* Log lines in OpenDKIM's words (logwatch/fail2ban rules keep working). */
    for (const auto& r : results) {
      if (r.failure == auth::dkim::FailureKind::NotChecked) continue;
      if (r.failure == auth::dkim::FailureKind::NoKey || r.failure == auth::dkim::FailureKind::KeyDns) {
        ctx.log().error(qid_ + ": key retrieval failed (s=" + printable(r.selector) + ", d=" + printable(r.domain) + "): " + printable(r.reason, 200));
      } else if (r.result == auth::dkim::DkimResult::Fail) {
        ctx.log().notice(qid_ + ": bad signature data");
      } else if (r.failure == auth::dkim::FailureKind::Syntax) {
        ctx.log().error(qid_ + ": syntax error: " + printable(r.reason, 200));
      }
      if (s.log_results) {
        ctx.log().info(qid_ + ": signature=" + printable(r.b_prefix) + " domain=" + printable(r.domain) + " selector=" +
                       printable(r.selector) + " result=\"" + printable(r.reason.empty() ? "no signature error" : r.reason) + "\"");
      }
      ctx.summary().add("d", r.domain).add("s", r.selector).add("result", auth::dkim::to_string(r.result));
    }
    if (o == Outcome::Pass && s.syslog_success) ctx.log().info(qid_ + ": DKIM verification successful");
    if (o == Outcome::NoSignature) {
      ctx.summary().add("result", "none");
      if (a != DkimAction::Accept) ctx.log().notice(qid_ + ": no signature data");
      else if (s.log_why) ctx.log().debug(qid_ + ": no signature data");
    }
    ctx.summary().add("action", auth::config::to_string(a));
    ctx.metrics().count_verdict(o == Outcome::Pass ? "pass" : std::string(auth::config::to_string(a)));

    Action act = inkan::dkim::milter_action(a, o);
    if (act.verdict == Verdict::Reject || act.verdict == Verdict::TempFail || act.verdict == Verdict::Discard) {
      return act;  // no AR on a rejected message (§2.7)
    }

    /* Headers: remove forged AR with our authserv-id (RFC 8601 §5), then add ours. */
    std::string id = our_authserv_id(ctx);
    for (auto it = ar_.rbegin(); it != ar_.rend(); ++it) {  // bottom up: indexes stay valid (#185)
      if (inkan::dkim::should_remove_ar(it->second, id, s)) {
        if (auto r = ops.delete_header("Authentication-Results", static_cast<int>(it->first)); !r) {
          throw std::runtime_error(r.error().reason);
        }
        ctx.log().notice(qid_ + ": removed Authentication-Results carrying our authserv-id");
      }
    }
    if (o != Outcome::NoSignature || s.always_add_ar) {
      inkan::dkim::ArOptions ao;
      ao.authserv_id = id;
      ao.header_b = !s.no_header_b;
      ao.unprotected_key = s.unprotected_key;
      std::string v = inkan::dkim::format_ar_value(results, ao);
      if (auto r = ops.insert_header(s.header_index, "Authentication-Results", lead(v)); !r) {
        throw std::runtime_error(r.error().reason);
      }
    }
    if (s.software_header) add_software_header(ctx, ops);
    return act;
  }

  std::shared_ptr<const DkimConfig> cfg_;
  KeyCache& keys_;
  ConnInfo conn_;
  std::optional<auth::net::IpAddress> ip_;
  std::vector<auth::mail::Field> headers_;
  std::vector<std::pair<std::size_t, std::string>> ar_;  // (1-based index among AR fields, value)
  std::vector<std::string> rcpts_;
  std::vector<auth::config::SignRequest> requests_;
  std::unique_ptr<auth::dkim::Signer> signer_;
  std::unique_ptr<auth::dkim::Verifier> verifier_;
  std::size_t header_bytes_ = 0;
  std::size_t ar_count_ = 0, sig_count_ = 0;
  bool too_big_ = false, malformed_ = false;
  std::string qid_;
};

/* ---------------- the app ---------------- */

class DkimApp final : public MilterApp {
 public:
  DkimApp() {
    info_.name = "inkan-dkim";
    info_.version = INKAN_VERSION;
    info_.default_socket = "inet:8891@localhost";
    info_.default_config_paths = {"/etc/inkan/inkan.yaml", "/etc/opendkim.conf"};
    info_.command_line.program = "inkan-dkim";
    // -c is opendkim's canonicalization: the configuration letter is -x only.
    info_.command_line.config_letters = "x";
    info_.command_line.extras = {
        {'b', true, "modes", "sign/verify modes (s, v, sv)"},
        {'c', true, "canon", "canonicalization (relaxed/simple ...)"},
        {'d', true, "domains", "domains to sign (comma-separated)"},
        {'D', false, "", "also sign subdomains"},
        {'k', true, "keyfile", "private key file (with -s and -d)"},
        {'s', true, "selector", "selector"},
        {'S', true, "alg", "signature algorithm"},
        {'T', true, "secs", "DNS timeout"},
        {'W', false, "", "LogWhy"},
        {'L', true, "min", "(not supported: partial signatures)"},
        {'o', true, "omit", "headers to omit from signing"},
        {'r', false, "", "(not supported: RequiredHeaders)"},
        {'e', true, "name", "print one configuration value and exit"},
        {'X', false, "", "accepted (deprecated keywords are always tolerated)"},
    };
    info_.needs.add_headers = true;
    info_.needs.change_headers = true;
    info_.needs.quarantine = true;
    info_.needs.envrcpt = true;
    info_.needs.header_leading_space = true;
    info_.metrics_prefix = "inkan_dkim";
  }

  const AppInfo& info() const override { return info_; }

  void apply_command_line(const CommandLine& cl) override { cl_ = cl; }

  void load_config(const std::string& path, ConfigFormat format) override {
    auto c = std::make_shared<DkimConfig>();
    if (!path.empty()) {
      bool yaml = format == ConfigFormat::Yaml;
      c->s = auth::config::load_dkim_settings(path, yaml);
    } else {
      c->s.sign_headers = auth::config::opendkim_default_sign_headers();
      c->s.omit_headers = auth::config::opendkim_default_omit_headers();
    }
    apply_overrides(c->s, path);
    auto h = inkan::dkim::build_host_lists(c->s);
    if (!h) throw ConfigError(path, 0, "", h.error().reason);
    c->hosts = std::move(*h);
    if (c->s.authserv_id == "HOSTNAME") c->authserv_id = hostname();
    else c->authserv_id = c->s.authserv_id;
    if (!c->s.base_directory.empty() && !loaded_once_) {
      if (chdir(c->s.base_directory.c_str()) != 0) {
        throw ConfigError(path, 0, "BaseDirectory", c->s.base_directory + ": chdir(): " + std::strerror(errno));
      }
    }
    // The process settings.
    RuntimeSettings& r = c->runtime;
    r.socket = c->s.socket;
    r.umask = c->s.umask.has_value() ? std::optional<mode_t>(static_cast<mode_t>(*c->s.umask)) : std::nullopt;
    r.user = c->s.user;
    r.pidfile = c->s.pidfile;
    r.background = c->s.background;
    r.syslog = c->s.syslog || cl_.syslog;
    r.syslog_facility = c->s.syslog_facility;
    r.syslog_name = c->s.syslog_name;
    r.metrics = c->s.metrics;
    // Preload fixed key paths (as root, before the privilege drop) so a bad key shows at
    // start-up; a failure here is a warning, the signing request will fail the same way.
    for (const auto& k : c->s.keys) {
      if (k.key.find('%') != std::string::npos || k.domain == "%") continue;
      if (auto key = keys_.get(k.key, c->s.require_safe_keys, nullptr); !key) {
        c->s.warnings.push_back("key '" + k.name + "': " + key.error().reason);
      }
    }
    if (resolver_) c->resolver = resolver_;
    if (cl_.extra('e')) {
      print_value(*cl_.extra('e'), c->s);
      std::exit(0);
    }
    cfg_.set(std::move(c));
    loaded_once_ = true;
  }

  RuntimeSettings runtime_settings() const override { return cfg_.get()->runtime; }

  void start(Logger& log, Metrics&) override {
    log_ = &log;
    auto c = std::make_shared<DkimConfig>(*cfg_.get());
    make_resolver(c->s);
    c->resolver = resolver_;
    for (const auto& w : c->s.warnings) log.warning(w);
    cfg_.set(std::move(c));
  }

  void reload(const std::string& path, ConfigFormat format) override {
    auto old = cfg_.get();
    load_config(path, format);
    auto c = std::make_shared<DkimConfig>(*cfg_.get());
    if (c->s.nameservers != old->s.nameservers || c->s.dns_timeout != old->s.dns_timeout) make_resolver(c->s);
    c->resolver = resolver_;
    if (log_) {
      for (const auto& w : c->s.warnings) log_->warning(w);
    }
    cfg_.set(std::move(c));
  }

  std::unique_ptr<Session> new_session(const ConnInfo& conn) override {
    return std::make_unique<DkimSession>(cfg_.get(), keys_, conn);
  }

 private:
  void make_resolver(const DkimSettings& s) {
    auth::dns::CaresResolver::Options o;
    o.nameservers = s.nameservers;
    if (s.dns_timeout > 0) {
      o.tries = 2;
      o.timeout = std::chrono::milliseconds(s.dns_timeout * 1000 / 2);
    }
    auto r = auth::dns::CaresResolver::create(o);
    if (!r) throw std::runtime_error("DNS resolver: " + r.error().reason);
    struct Stack final : auth::dns::Resolver {
      std::unique_ptr<auth::dns::CaresResolver> inner;
      std::unique_ptr<auth::dns::CachingResolver> cache;
      void query_async(std::string_view n, auth::dns::RType t, auth::dns::Callback cb) override {
        cache->query_async(n, t, std::move(cb));
      }
      auth::dns::Answer query(std::string_view n, auth::dns::RType t) override { return cache->query(n, t); }
    };
    auto st = std::make_shared<Stack>();
    st->inner = std::move(*r);
    st->cache = std::make_unique<auth::dns::CachingResolver>(*st->inner);
    resolver_ = st;
  }

  /// opendkim's command-line options override the file until the next reload (§2.2).
  void apply_overrides(DkimSettings& s, const std::string& path) {
    auto bad = [&](const char* opt, const std::string& why) { throw ConfigError(path, 0, opt, why); };
    for (const auto& [letter, value] : cl_.extras) {
      switch (letter) {
        case 'b':
          s.sign = value.find('s') != std::string::npos;
          s.verify = value.find('v') != std::string::npos;
          if (!s.sign && !s.verify) bad("-b", "unknown mode \"" + value + "\"");
          break;
        case 'c': {
          auto c = auth::dkim::parse_canonicalization(value);
          if (!c) bad("-c", "unknown canonicalization algorithm \"" + value + "\"");
          s.canonicalization = *c;
          break;
        }
        case 'd': {
          s.domains.clear();
          std::string v = value;
          for (std::size_t p = 0; p <= v.size();) {
            auto q = v.find(',', p);
            if (q == std::string::npos) q = v.size();
            if (q > p) s.domains.push_back(lower(v.substr(p, q - p)));
            p = q + 1;
          }
          break;
        }
        case 'D': s.subdomains = true; break;
        case 'k':
        case 's': {
          if (s.key_table) bad(letter == 'k' ? "-k" : "-s", "KeyTable is set; -k/-s apply to single-key mode");
          if (s.keys.empty()) s.keys.push_back(auth::config::DkimKey{"default", "%", "", "", std::nullopt});
          if (letter == 'k') s.keys.front().key = value;
          else s.keys.front().selector = value;
          break;
        }
        case 'S': {
          auto a = auth::crypto::parse_sign_alg(value);
          if (!a || *a == auth::crypto::SignAlg::RsaSha1) bad("-S", "unknown signing algorithm \"" + value + "\"");
          s.signature_algorithm = *a;
          break;
        }
        case 'T': {
          auto n = parse_unsigned(value);
          if (!n || *n > 3600) bad("-T", "illegal value");
          s.dns_timeout = static_cast<unsigned>(*n);
          break;
        }
        case 'W': s.log_why = true; break;
        case 'o': {
          std::vector<std::string> items;
          std::string v = value;
          for (std::size_t p = 0; p <= v.size();) {
            auto q = v.find(',', p);
            if (q == std::string::npos) q = v.size();
            items.push_back(v.substr(p, q - p));
            p = q + 1;
          }
          s.omit_headers = auth::config::resolve_header_list(items, auth::config::opendkim_default_omit_headers());
          break;
        }
        case 'L': bad("-L", "partial-signature acceptance (Minimum) is not supported"); break;
        case 'r': bad("-r", "RequiredHeaders is not supported"); break;
        default: break;
      }
    }
    if (!s.keys.empty() && !s.key_table && (s.keys.front().key.empty() || s.keys.front().selector.empty())) {
      bad("KeyFile", "KeyFile and Selector must both be defined or both be undefined");
    }
  }

  void print_value(const std::string& name, const DkimSettings& s) {
    std::string n = lower(name);
    if (n == "socket") std::puts(s.socket.empty() ? info_.default_socket.c_str() : s.socket.c_str());
    else if (n == "mode") std::printf("%s%s\n", s.sign ? "s" : "", s.verify ? "v" : "");
    else if (n == "canonicalization") std::puts(auth::dkim::to_string(s.canonicalization).c_str());
    else if (n == "authservid") std::puts(s.authserv_id.c_str());
    else if (n == "pidfile") std::puts(s.pidfile.c_str());
    else if (n == "userid") std::puts(s.user.c_str());
    else std::fprintf(stderr, "inkan-dkim: -e %s: value not printable\n", name.c_str());
  }

  AppInfo info_;
  CommandLine cl_;
  Snapshot<DkimConfig> cfg_;
  KeyCache keys_;
  std::shared_ptr<auth::dns::Resolver> resolver_;
  Logger* log_ = nullptr;
  bool loaded_once_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  DkimApp app;
  return inkan::milter::run_milter(app, argc, argv);
}
