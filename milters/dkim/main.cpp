// inkan-dkim — the DKIM signing and verifying milter, a drop-in for OpenDKIM
// (anchor-features.md §2): same /etc/opendkim.conf, KeyTable, SigningTable and host lists,
// same sign-or-verify decision, On-* actions and reply texts, headers in OpenDKIM's forms; or
// the `dkim:` section of /etc/inkan/inkan.yaml. The per-message state machine is DkimSession;
// the pure parts (decision, AR formatting, actions) are in dkim_core.h; all libmilter work is
// done by the common runtime (milters/common/runtime.h). opendkim's test modes run here too,
// after the configuration is loaded and before anything is forked or bound: `-t files` feeds
// RFC 5322 files through a DkimSession exactly as test.c does (fake connection from
// localhost [127.0.0.1], macros "DEBUG-<name>", Mode defaulting to verify), `-F` fixes the
// signing clock, `-v`/`-vv` print the callback verdicts and header changes, and `-Q`
// answers a dataset query read from stdin.
//
// Memory per message: the header block (bounded by MaximumHeaders) and the signer/verifier
// hash states; the body is hashed as it streams and never kept.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
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
#include "auth/dns/zone.h"
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
  /// Parsed DNS key records, shared by every message's verifier (kept across reloads).
  std::shared_ptr<auth::dkim::KeyCache> key_records;
  std::optional<std::int64_t> fixed_time;  ///< -F with -t: the signing (and x=) clock
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

    /* RequiredHeaders (-r): RFC 5322 §3.6 field counts; OpenDKIM rejects with 550 5.0.0. */
    if (s.required_headers) {
      if (auto why = inkan::dkim::check_required_headers(headers_)) {
        ctx.log().notice(qid_ + ": RFC5322 header requirement error: " + *why);
        ctx.summary().add("result", "reject").add("why", *why);
        ctx.metrics().count_verdict("reject");
        return Action::reject("550", "5.0.0", *why);
      }
    }

    /* Sender: the SenderMacro when the MTA sent it non-empty, else SenderHeaders (From). */
    std::optional<std::string> macro_sender;
    if (!s.sender_macro.empty()) macro_sender = ctx.macro(s.sender_macro);
    const inkan::dkim::Sender sender = inkan::dkim::find_sender(s, macro_sender, headers_);
    const bool from_macro = sender.source == inkan::dkim::Sender::Source::Macro;
    if (from_macro && sender.unparsable && s.sign) {
      // mlfi_eoh: "can't parse macro %s header value '%s'" → BADFORMAT: neither signed nor
      // verified, "dkim=permerror (bad message/signature format)" at EOM.
      ctx.log().info(qid_ + ": can't parse macro " + printable(s.sender_macro) + " header value '" +
                     printable(sender.raw, 200) + "'");
      bad_format_ = true;
      return Action::cont();
    }
    const std::string& local = sender.local;
    const std::string& domain = sender.domain;
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
      if (!requests_.empty()) {
        if (auto r = inkan::dkim::body_length_recipient(s.body_length_db, rcpts_)) {
          body_length_ = true;
          ctx.log().info(qid_ + ": BodyLengthDB matched " + printable(*r) + ", signing with l= requested");
        }
      }
      if (!requests_.empty()) {
        signing_ = true;
        return start_signing(ctx);
      }
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
    // With signing off (Mode v) there is no signing path: everything is verified.
    if (!s.verify || (origin.internal && s.sign)) {
      ctx.summary().add("result", origin.internal ? "not-signed" : "skipped");
      return Action::accept();
    }
    // No From, or one that does not parse: OpenDKIM cannot verify (dkim_eoh → syntax) and
    // answers "dkim=permerror (bad message/signature format)" at EOM (lab, opendkim 2.11).
    auto from = std::find_if(headers_.begin(), headers_.end(), [](const auth::mail::Field& f) { return f.is("From"); });
    if (from == headers_.end() || domain.empty() || from_macro) {
      bool parsed = false;
      if (from != headers_.end()) {
        auto boxes = auth::mail::parse_address_list(from->value);
        parsed = boxes && !boxes->empty() && !(*boxes)[0].domain.empty();
      }
      if (!parsed) {
        bad_format_ = true;
        verified_ = from != headers_.end();  // test mode: "message not signed" (as opendkim)
        if (s.log_why) ctx.log().info(qid_ + ": " + (from == headers_.end() ? "no From field" : "From field unparsable"));
        return Action::cont();
      }
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
    if (bad_format_) return finish_bad_format(ctx, ops);
    return Action::accept();
  }

  void on_abort(Context&) override { reset(); }

  /* For test mode (-t): what the last message produced. */
  bool verified() const noexcept { return verified_; }
  const std::vector<auth::dkim::SignatureResult>& last_results() const noexcept { return last_results_; }
  const std::string& sign_error() const noexcept { return sign_error_; }
  bool signing() const noexcept { return signing_; }

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
    body_length_ = false;
    qid_.clear();
    verified_ = signing_ = bad_format_ = false;
    last_results_.clear();
    sign_error_.clear();
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
      // SelectCanonicalizationHeader: a field of that name overrides Canonicalization.
      std::vector<std::string> ignored;
      spec.canon = inkan::dkim::select_canonicalization(s.canonicalization, s.select_canonicalization_header, headers_,
                                                        &ignored);
      if (s.log_why && !ignored.empty()) {
        ctx.log().info(qid_ + ": " + printable(s.select_canonicalization_header) + ": unknown canonicalization in '" +
                       printable(ignored.front(), 100) + "' ignored");
      }
      spec.body_length = body_length_;  // BodyLengthDB: l= with the canonical body length
      spec.style = auth::dkim::SignatureStyle::OpenDkim;  // OpenDKIM's exact field layout (anchor-features.md §2.6)
      if (s.maximum_signed_bytes > 0) spec.max_body_bytes = s.maximum_signed_bytes;  // MaximumSignedBytes: l=
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
    if (cfg_->fixed_time) opt.clock = auth::dkim::fixed_clock(*cfg_->fixed_time);  // -F (test mode)
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
      sign_error_ = fields.error().reason;
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

  /// A message OpenDKIM cannot verify (no or unparsable From): accepted whatever the On-*
  /// settings, with "dkim=permerror (bad message/signature format)" unless IgnoreMalformedMail.
  Action finish_bad_format(Context& ctx, MessageOps& ops) {
    const auto& s = cfg_->s;
    ctx.summary().add("result", "permerror").add("why", "bad message format");
    ctx.metrics().count_verdict("malformed");
    if (s.ignore_malformed) return Action::accept();
    std::string id = our_authserv_id(ctx);
    remove_forged_ar(ctx, ops, id);
    inkan::dkim::ArOptions ao;
    ao.authserv_id = id;
    if (auto r = ops.insert_header(s.header_index, "Authentication-Results", lead(inkan::dkim::format_ar_bad_format(ao))); !r) {
      throw std::runtime_error(r.error().reason);
    }
    if (s.software_header) add_software_header(ctx, ops);
    return Action::accept();
  }

  /// Deletes existing AR fields carrying our authserv-id (RFC 8601 §5), bottom up so the
  /// indexes stay valid (#185).
  void remove_forged_ar(Context& ctx, MessageOps& ops, const std::string& id) {
    for (auto it = ar_.rbegin(); it != ar_.rend(); ++it) {
      if (inkan::dkim::should_remove_ar(it->second, id, cfg_->s)) {
        if (auto r = ops.delete_header("Authentication-Results", static_cast<int>(it->first)); !r) {
          throw std::runtime_error(r.error().reason);
        }
        ctx.log().notice(qid_ + ": removed Authentication-Results carrying our authserv-id");
      }
    }
  }

  Action start_verifying(Context& ctx) {
    const auto& s = cfg_->s;
    auth::dkim::VerifyOptions opt;
    opt.max_signatures = s.max_signatures == 0 ? 1 : s.max_signatures;
    opt.allow_rsa_sha1 = s.allow_sha1;
    opt.min_rsa_bits = s.minimum_key_bits;
    opt.key_lookup = auth::dkim::KeyLookup::Blocking;
    opt.dns_wait = std::chrono::seconds(s.dns_timeout == 0 ? 30 : s.dns_timeout);
    if (cfg_->fixed_time) opt.clock = auth::dkim::fixed_clock(*cfg_->fixed_time);  // -F (test mode)
    if (!cfg_->resolver) throw std::runtime_error("resolver not started");
    opt.key_cache = cfg_->key_records;
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
    // MustBeSigned and Minimum demote passing signatures (OpenDKIM's local policies).
    inkan::dkim::apply_verify_policies(results, s, headers_);
    verified_ = true;
    last_results_ = results;
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
    remove_forged_ar(ctx, ops, id);
    if (o != Outcome::NoSignature || s.always_add_ar) {
      inkan::dkim::ArOptions ao;
      ao.authserv_id = id;
      ao.header_b = !s.no_header_b;
      ao.unprotected_key = s.unprotected_key;
      // Keys from TestPublicKeys/TestDNSData did not come from DNS: no "; unprotected" (lab).
      ao.unprotected = s.test_dns.empty();
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
  bool body_length_ = false;  ///< a recipient is in BodyLengthDB
  std::string qid_;
  bool verified_ = false, signing_ = false, bad_format_ = false;
  std::vector<auth::dkim::SignatureResult> last_results_;
  std::string sign_error_;
};

/* ---------------- test mode (opendkim -t) ---------------- */

// sysexits.h values opendkim's test mode returns.
constexpr int kExOk = 0;
constexpr int kExDataErr = 65;
constexpr int kExUnavailable = 69;
constexpr int kExSoftware = 70;
constexpr int kExOsErr = 71;

/// Longest input line read at once (test.c reads with fgets into MAXBUFRSZ = 65536 bytes).
constexpr std::size_t kTestLineBytes = 65535;
/// Largest header field in test mode (test.c: "header '...' too large" past MAXBUFRSZ).
constexpr std::size_t kTestFieldBytes = 65535;
/// Body bytes handed to the session at once (test.c flushes its 64 KiB buffer).
constexpr std::size_t kTestBodyChunk = 65536 - 3;

const char* smfis_name(Verdict v) {
  switch (v) {
    case Verdict::Continue: return "SMFIS_CONTINUE";
    case Verdict::Accept: return "SMFIS_ACCEPT";
    case Verdict::Reject: return "SMFIS_REJECT";
    case Verdict::TempFail: return "SMFIS_TEMPFAIL";
    case Verdict::Discard: return "SMFIS_DISCARD";
    case Verdict::Quarantine: return "SMFIS_ACCEPT";
    case Verdict::Skip: return "SMFIS_SKIP";
  }
  return "SMFIS_CONTINUE";
}

/// The fake milter context of test mode: macros answer "DEBUG-<name>" as test.c's
/// dkimf_test_getsymval does (so {auth_type} is set and the client counts as authenticated,
/// and the queue id is "DEBUG-i"); header changes are printed with -vv.
class TestContext final : public Context, public MessageOps {
 public:
  TestContext(Logger& log, Metrics& m, int verbose) : log_(log), metrics_(m), verbose_(verbose) {}

  std::optional<std::string> macro(std::string_view name) const override { return "DEBUG-" + std::string(name); }
  std::string queue_id() const override { return "DEBUG-i"; }
  LogLine& summary() override { return line_; }
  Logger& log() override { return log_; }
  Metrics& metrics() override { return metrics_; }

  auth::Result<void> add_header(std::string_view name, std::string_view value) override {
    if (verbose_ > 1) std::printf("### ADDHEADER: hname='%.*s' hvalue='%.*s'\n", int(name.size()), name.data(), int(value.size()), value.data());
    added.emplace_back(name, value);
    return {};
  }
  auth::Result<void> insert_header(int index, std::string_view name, std::string_view value) override {
    if (verbose_ > 1) {
      std::printf("### INSHEADER: idx=%d hname='%.*s' hvalue='%.*s'\n", index, int(name.size()), name.data(), int(value.size()),
                  value.data());
    }
    added.emplace_back(name, value);
    return {};
  }
  auth::Result<void> change_header(std::string_view name, int index, std::string_view value) override {
    if (verbose_ > 1) {
      std::printf("### CHGHEADER: hname='%.*s' idx=%d hvalue='%.*s'\n", int(name.size()), name.data(), index, int(value.size()),
                  value.data());
    }
    return {};
  }
  auth::Result<void> delete_header(std::string_view name, int index) override {
    if (verbose_ > 1) std::printf("### CHGHEADER: hname='%.*s' idx=%d hvalue='(null)'\n", int(name.size()), name.data(), index);
    return {};
  }
  auth::Result<void> replace_body(std::span<const unsigned char>) override { return {}; }
  void progress() override {
    if (verbose_ > 1) std::printf("### PROGRESS\n");
  }

  /// Ends a message: logs the summary line as the runtime would.
  void end_message() {
    if (!line_.empty()) log_.info("DEBUG-i: " + line_.str());
    line_.clear();
    added.clear();
  }

  std::vector<std::pair<std::string, std::string>> added;  ///< headers added to this message

 private:
  Logger& log_;
  Metrics& metrics_;
  int verbose_;
  LogLine line_;
};

/// Reads one line of at most kTestLineBytes (fgets semantics): `newline` tells whether it
/// ended with '\n' (which is not stored). False at end of input with nothing read.
bool read_test_line(std::istream& in, std::string& line, bool& newline) {
  line.clear();
  newline = false;
  auto* buf = in.rdbuf();
  while (line.size() < kTestLineBytes) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return !line.empty();
    if (c == '\n') {
      newline = true;
      return true;
    }
    line.push_back(static_cast<char>(c));
  }
  return true;
}

/// Feeds one RFC 5322 file through a session as test.c's dkimf_testfile does and prints the
/// outcome. Returns an EX_* code.
int test_one_file(DkimSession& session, TestContext& ctx, std::istream& in, const std::string& file,
                  const std::string& prog, bool strict, int verbose) {
  auto report = [&](const std::string& where, const Action& a) {
    if (verbose > 1 && a.reply) {
      std::printf("### SETREPLY: rcode='%s' xcode='%s' replytxt='%s'\n", a.reply->rcode.c_str(), a.reply->xcode.c_str(),
                  a.reply->text.c_str());
    }
    if (verbose > 1 && a.verdict == Verdict::Quarantine) std::printf("### QUARANTINE: reason='%s'\n", a.quarantine_reason.c_str());
    if (verbose > 1 || (verbose == 1 && a.verdict != Verdict::Continue)) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s: %s: %s returned %s\n", prog.c_str(), file.c_str(), where.c_str(), smfis_name(a.verdict));
    }
  };
  auto stops = [](const Action& a) { return a.verdict != Verdict::Continue && a.verdict != Verdict::Skip; };

  const std::string envfrom[] = {"<sender@example.org>"};
  const std::string envrcpt[] = {"<recipient@example.com>"};
  Action a = session.on_envfrom(ctx, envfrom);
  report("mlfi_envfrom()", a);
  if (stops(a)) return kExSoftware;
  a = session.on_envrcpt(ctx, envrcpt);
  report("mlfi_envrcpt()", a);
  if (stops(a)) return kExSoftware;

  bool inheaders = true;
  std::string field;  // the header being assembled (continuations joined with "\n")
  std::size_t lineno = 0, field_line = 0;
  std::string body;
  auto flush_field = [&](std::size_t at) -> int {
    auto colon = field.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "%s: %s: line %zu: header malformed\n", prog.c_str(), file.c_str(), at);
      return kExDataErr;
    }
    std::string_view value = std::string_view(field).substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    Action h = session.on_header(ctx, std::string_view(field).substr(0, colon), value);
    report("line " + std::to_string(field_line) + ": mlfi_header()", h);
    if (stops(h)) return kExSoftware;
    field.clear();
    return kExOk;
  };
  auto end_headers = [&]() -> int {
    Action e = session.on_eoh(ctx);
    report("mlfi_eoh()", e);
    return stops(e) ? kExSoftware : kExOk;
  };
  auto flush_body = [&]() -> int {
    if (body.empty()) return kExOk;
    std::span<const unsigned char> chunk(reinterpret_cast<const unsigned char*>(body.data()), body.size());
    Action b = session.on_body(ctx, chunk);
    body.clear();
    report("mlfi_body()", b);
    return stops(b) ? kExSoftware : kExOk;
  };

  std::string line;
  bool newline = false;
  while (read_test_line(in, line, newline)) {
    ++lineno;
    bool cr = !line.empty() && line.back() == '\r';
    if (!cr && strict) {
      std::fprintf(stderr, "%s: %s: line %zu: not CRLF-terminated\n", prog.c_str(), file.c_str(), lineno);
      return kExDataErr;
    }
    if (cr) line.pop_back();
    if (inheaders) {
      if (line.empty()) {
        if (!field.empty()) {
          if (int rc = flush_field(lineno); rc != kExOk) return rc;
        }
        inheaders = false;
        if (int rc = end_headers(); rc != kExOk) return rc;
        continue;
      }
      if (line.front() == ' ' || line.front() == '\t') {
        if (field.size() + 1 + line.size() > kTestFieldBytes) {
          std::fprintf(stderr, "%s: %s: line %zu: header '%.20s...' too large\n", prog.c_str(), file.c_str(), lineno,
                       field.c_str());
          return kExDataErr;
        }
        field += "\n" + line;
      } else {
        if (!field.empty()) {
          if (int rc = flush_field(lineno); rc != kExOk) return rc;
        }
        field = line;
        field_line = lineno;
      }
    } else {
      if (body.size() + line.size() + 2 > kTestBodyChunk) {
        if (int rc = flush_body(); rc != kExOk) return rc;
      }
      body += line;
      if (newline) body += "\r\n";
    }
  }
  if (inheaders && !field.empty()) {  // unprocessed partial header
    if (int rc = flush_field(lineno); rc != kExOk) return rc;
    if (int rc = end_headers(); rc != kExOk) return rc;
    inheaders = false;
  }
  if (inheaders) {
    std::fprintf(stderr, "%s: %s: warning: no headers on input\n", prog.c_str(), file.c_str());
    if (int rc = end_headers(); rc != kExOk) return rc;
  }
  if (int rc = flush_body(); rc != kExOk) return rc;
  Action eom = session.on_eom(ctx, ctx);
  report("mlfi_eom()", eom);

  /* The outcome, as test.c prints it. */
  if (session.verified()) {
    std::printf("%s\n", inkan::dkim::format_test_verification(prog, file, session.last_results()).c_str());
  }
  if (session.signing()) {
    bool any = false;
    for (const auto& [name, value] : ctx.added) {
      if (!auth::config::iequals(name, "DKIM-Signature")) continue;
      any = true;
      if (verbose < 2) std::printf("%s: %s:\n%s: %s\n", prog.c_str(), file.c_str(), name.c_str(), value.c_str());
    }
    if (!any) {
      std::printf("%s: %s: no signature added: %s\n", prog.c_str(), file.c_str(),
                  session.sign_error().empty() ? "unknown error" : session.sign_error().c_str());
    }
  }
  ctx.end_message();
  return kExOk;
}

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
        {'L', true, "min[%+]", "Minimum: body coverage required of l= signatures"},
        {'o', true, "omit", "headers to omit from signing"},
        {'r', false, "", "RequiredHeaders: reject mail breaking RFC 5322 header counts"},
        {'t', true, "files", "test mode: process RFC 5322 files (comma-separated, - = stdin) and exit"},
        {'F', true, "time", "fixed signing time (seconds since the epoch; with -t)"},
        {'Q', false, "", "dataset query test: reads a dataset and 'query/n' from stdin"},
        {'e', true, "name", "print one configuration value and exit"},
        {'X', false, "", "accepted (deprecated keywords are always tolerated)"},
    };
    info_.needs.add_headers = true;
    info_.needs.change_headers = true;
    info_.needs.quarantine = true;
    info_.needs.envrcpt = true;
    // on_envfrom and on_envrcpt only record, and on_connect too unless a PeerList can accept
    // the connection there (connect_may_decide): Postfix need not wait (protocol.h).
    info_.needs.no_reply_connect = true;
    info_.needs.no_reply_mail = true;
    info_.needs.no_reply_rcpt = true;
    info_.needs.header_leading_space = true;
    info_.metrics_prefix = "inkan_dkim";
  }

  const AppInfo& info() const override { return info_; }

  void apply_command_line(const CommandLine& cl) override { cl_ = cl; }

  void load_config(const std::string& path, ConfigFormat format) override {
    if (cl_.extra('Q')) std::exit(run_query_mode());
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
    r.chroot_dir = c->s.chroot_dir;
    r.background = c->s.background;
    r.syslog = c->s.syslog || cl_.syslog;
    r.syslog_facility = c->s.syslog_facility;
    r.syslog_name = c->s.syslog_name;
    r.metrics = c->s.metrics;
    // Preload fixed key paths (as root, before the privilege drop and ChangeRootDirectory)
    // so a bad key shows at start-up and a key outside the chroot stays usable; a failure
    // here is a warning, the signing request will fail the same way. Only a path with '%'
    // depends on the message (KeyFile's domain "%" does not make the path vary).
    for (const auto& k : c->s.keys) {
      if (k.key.find('%') != std::string::npos) continue;
      if (auto key = keys_.get(k.key, c->s.require_safe_keys, nullptr); !key) {
        c->s.warnings.push_back("key '" + k.name + "': " + key.error().reason);
      }
    }
    if (resolver_) c->resolver = resolver_;
    c->key_records = key_records_;
    if (cl_.extra('e')) {
      print_value(*cl_.extra('e'), c->s);
      std::exit(0);
    }
    if (cl_.extra('t')) {
      std::fflush(stdout);
      std::exit(run_test_mode(std::move(c), *cl_.extra('t')));
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
    c->key_records = key_records_;
    for (const auto& w : c->s.warnings) log.warning(w);
    cfg_.set(std::move(c));
  }

  void reload(const std::string& path, ConfigFormat format) override {
    auto old = cfg_.get();
    load_config(path, format);
    auto c = std::make_shared<DkimConfig>(*cfg_.get());
    if (c->s.nameservers != old->s.nameservers || c->s.dns_timeout != old->s.dns_timeout ||
        c->s.test_dns != old->s.test_dns) {
      make_resolver(c->s);
    }
    c->resolver = resolver_;
    c->key_records = key_records_;
    if (log_) {
      for (const auto& w : c->s.warnings) log_->warning(w);
    }
    cfg_.set(std::move(c));
  }

  std::unique_ptr<Session> new_session(const ConnInfo& conn) override {
    return std::make_unique<DkimSession>(cfg_.get(), keys_, conn);
  }

  bool connect_may_decide() const noexcept override {
    try {
      auto c = cfg_.get();
      return !c || !c->hosts.peers.empty();
    } catch (...) {
      return true;
    }
  }

 private:
  void make_resolver(const DkimSettings& s) {
    if (!s.test_dns.empty()) {
      // TestPublicKeys / TestDNSData: keys come from the configured records, not DNS.
      auto z = std::make_shared<auth::dns::ZoneResolver>();
      for (const auto& [name, txt] : s.test_dns) z->add_txt(name, std::string_view(txt));
      resolver_ = z;
      return;
    }
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
          s.mode_set = true;
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
        case 'L': {
          auto m = auth::config::parse_body_minimum(value);
          if (!m) bad("-L", m.error().reason);
          s.minimum = *m;
          break;
        }
        case 'r': s.required_headers = true; break;
        case 'F': {
          auto n = parse_unsigned(value);
          if (!n) bad("-F", "illegal value");
          break;
        }
        default: break;
      }
    }
    if (!s.keys.empty() && !s.key_table && (s.keys.front().key.empty() || s.keys.front().selector.empty())) {
      bad("KeyFile", "KeyFile and Selector must both be defined or both be undefined");
    }
  }

  /// opendkim -t: the files through a session of the loaded configuration (Mode defaults to
  /// verify only), from "localhost" [127.0.0.1]. Returns an EX_* code.
  int run_test_mode(std::shared_ptr<DkimConfig> c, const std::string& files) {
    const std::string prog = info_.name;
    if (!c->s.mode_set) {  // dkimf_config_load: testmode ? DKIMF_MODE_VERIFIER : default
      c->s.sign = false;
      c->s.verify = true;
    }
    if (auto f = cl_.extra('F')) c->fixed_time = static_cast<std::int64_t>(*parse_unsigned(*f));
    try {
      make_resolver(c->s);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), e.what());
      return kExOsErr;
    }
    c->resolver = resolver_;
    c->key_records = key_records_;
    Logger log;
    Logger::Options lo;
    lo.ident = c->s.syslog_name.empty() ? prog : c->s.syslog_name;
    lo.to_syslog = c->s.syslog;
    lo.to_stderr = false;
    lo.verbose = c->s.log_why ? 1 : 0;
    log.configure(lo);
    Metrics metrics(info_.metrics_prefix);
    TestContext ctx(log, metrics, cl_.verbose);

    ConnInfo conn;
    conn.hostname = "localhost";
    conn.peer.family = PeerAddress::Family::Inet;
    conn.peer.address = "127.0.0.1";
    std::shared_ptr<const DkimConfig> cfg = std::move(c);
    DkimSession session(cfg, keys_, conn);
    Action a = session.on_connect(ctx, conn);
    if (cl_.verbose > 1 || (cl_.verbose == 1 && a.verdict != Verdict::Continue)) {
      std::fprintf(stderr, "%s: mlfi_connect() returned %s\n", prog.c_str(), smfis_name(a.verdict));
    }
    if (a.verdict != Verdict::Continue) return kExSoftware;

    for (std::size_t p = 0; p <= files.size();) {
      auto q = files.find(',', p);
      if (q == std::string::npos) q = files.size();
      std::string file = files.substr(p, q - p);
      p = q + 1;
      if (file.empty()) continue;  // strtok_r skips empty items
      int rc;
      if (file == "-") {
        rc = test_one_file(session, ctx, std::cin, "(stdin)", prog, cfg->s.strict_test_mode, cl_.verbose);
      } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
          std::fprintf(stderr, "%s: %s: fopen(): %s\n", prog.c_str(), file.c_str(), std::strerror(errno));
          return kExUnavailable;
        }
        rc = test_one_file(session, ctx, in, file, prog, cfg->s.strict_test_mode, cl_.verbose);
      }
      std::fflush(stdout);
      if (rc != kExOk) return rc;
    }
    session.on_close(ctx);
    if (cl_.verbose > 1) std::fprintf(stderr, "%s: mlfi_close() returned SMFIS_CONTINUE\n", prog.c_str());
    return kExOk;
  }

  /// opendkim -Q: a dataset spec and a "query/n" line from stdin; prints the answer.
  int run_query_mode() {
    const std::string prog = info_.name;
    const bool tty = isatty(0) != 0;
    auto read_line = [](std::string& out) {
      out.clear();
      int ch;
      while ((ch = std::getchar()) != EOF && ch != '\n') {
        if (out.size() < kTestLineBytes) out.push_back(static_cast<char>(ch));
      }
      if (!out.empty() && out.back() == '\r') out.pop_back();
      return !(ch == EOF && out.empty());
    };
    if (tty) {
      std::printf("%s: enter data set description\n\tcsl:entry1[,entry2[,...]]\n\tfile:path\n\trefile:path\n", prog.c_str());
    }
    std::string spec, query;
    if (!read_line(spec)) {
      std::fprintf(stderr, "%s: fgets(): end of input\n", prog.c_str());
      return kExOsErr;
    }
    std::optional<auth::config::Dataset> d;
    try {
      d.emplace(auth::config::Dataset::open(spec, false, "-Q"));
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "%s: %s: dkimf_db_open(): %s\n", prog.c_str(), spec.c_str(), e.message().c_str());
      return kExSoftware;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: dkimf_db_open(): %s\n", prog.c_str(), spec.c_str(), e.what());
      return kExSoftware;
    }
    if (tty) std::printf("%s: enter 'query/n' where 'n' is number of fields to request\n", prog.c_str());
    if (!read_line(query)) {
      std::fprintf(stderr, "%s: fgets(): end of input\n", prog.c_str());
      return kExOsErr;
    }
    auto ans = inkan::dkim::answer_dataset_query(*d, query, prog);
    std::fputs(ans.err.c_str(), stderr);
    std::fputs(ans.out.c_str(), stdout);
    std::fflush(stdout);
    return ans.exit_code;
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
  std::shared_ptr<auth::dkim::KeyCache> key_records_ = std::make_shared<auth::dkim::KeyCache>();
  Logger* log_ = nullptr;
  bool loaded_once_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  DkimApp app;
  return inkan::milter::run_milter(app, argc, argv);
}
