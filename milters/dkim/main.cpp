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
// Lua policy scripts (SetupPolicyScript / ScreenPolicyScript / FinalPolicyScript,
// opendkim-lua(3)) run at the points opendkim runs them: setup at the end of the header block
// after the SigningTable, screen once the verifier has the headers, final at EOM after the
// Authentication-Results and before the signatures (lua_policy.h; failures → On-InternalError).
//
// Memory per message: the header block (bounded by MaximumHeaders) and the signer/verifier
// hash states; the body is hashed as it streams and never kept.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "auth/config/dkim.h"
#if INKAN_HAVE_BDB
#include "auth/config/dataset_bdb.h"
#endif
#if INKAN_HAVE_ODBX
#include "auth/config/dataset_odbx.h"
#endif
#if INKAN_HAVE_LDAP
#include "auth/config/dataset_ldap.h"
#endif
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/header_check.h"
#include "auth/dkim/canonicalize.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/cache.h"
#include "auth/dns/cares_resolver.h"
#include "auth/dns/zone.h"
#include "auth/mail/address.h"
#include "auth/mail/header.h"
#include "common/runtime.h"
#include "dkim/dkim_core.h"
#include "dkim/lua_policy.h"

#ifndef INKAN_VERSION
#define INKAN_VERSION "0.0.0"
#endif

namespace {

using namespace inkan::milter;
using auth::config::DkimAction;
using auth::config::DkimSettings;
using inkan::dkim::Outcome;

/// How data sets are read: text files, Berkeley DB files for `db:` when libdb was found at
/// build time (auth::config_bdb), and live KeyTable/SigningTable data sets: `dsn:` through
/// OpenDBX (auth::config_odbx, dlopen'ed at the first dsn: open) and `ldap:`/`ldaps:`/`ldapi:`
/// (auth::config_ldap). A type this build lacks is refused at start-up. Every (re)load opens
/// fresh connections; a reload that fails keeps the running configuration and its connections.
auth::config::FileReader dataset_reader() {
  auth::config::DatasetReaders r;
#if INKAN_HAVE_BDB
  r.databases = auth::config::read_berkeley_db;
#endif
#if INKAN_HAVE_ODBX || INKAN_HAVE_LDAP
  r.live = [](std::string_view spec, const auth::config::LiveDatasetOptions& options)
      -> auth::Result<std::shared_ptr<auth::config::LiveDataset>> {
    std::string_view v = spec;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    auto colon = v.find(':');
    std::string type(colon == std::string_view::npos ? std::string_view{} : v.substr(0, colon));
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
#if INKAN_HAVE_ODBX
    if (type == "dsn") return auth::config::open_odbx_dataset(v, options);
#endif
#if INKAN_HAVE_LDAP
    if (type == "ldap" || type == "ldaps" || type == "ldapi") return auth::config::open_ldap_dataset(v, options);
#endif
    return auth::fail(auth::ErrorCode::Unsupported,
                      "dataset type '" + type + ":' is not supported by this build of inkan-dkim");
  };
#endif
  return r;
}

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
  /// Lua policy scripts compiled at load (SetupPolicyScript, ScreenPolicyScript,
  /// FinalPolicyScript; null when not configured).
  std::shared_ptr<const inkan::dkim::lua::Script> lua_setup, lua_screen, lua_final;
  /// -t: opendkim's test mode sends no failure reports (lab: opendkim 2.11 -t with
  /// SendReports never runs MTACommand; its daemon does).
  bool test_mode = false;
  /// ReplaceRules compiled once per configuration (null when there are none).
  std::shared_ptr<const auth::config::HeaderRewriter> rewriter;
};

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

/* ---------------- failure reports (SendReports) ---------------- */

/// Reports being handed to MTACommand at once; more are dropped (and logged) so a slow or
/// hanging MTA cannot pile up threads.
constexpr int kMaxReportsInFlight = 8;
/// How long MTACommand may take to read a report and exit before it is killed.
constexpr auto kReportCommandTimeout = std::chrono::seconds(60);
/// MAIL FROM bytes kept for Original-Mail-From (RFC 5321 §4.5.3.1.3 path: 256).
constexpr std::size_t kMaxEnvelopeBytes = 256;

/// The canonical body of the reported signature, kept up to kMaxReportBodyBytes and l=.
class ReportBody {
 public:
  ReportBody(auth::dkim::Canon canon, std::optional<std::uint64_t> limit) : canon_(canon), limit_(limit) {}
  void feed(std::string_view chunk) {
    if (overflow_) return;
    canon_.feed(chunk, [this](std::string_view out) { keep(out); });
  }
  /// The canonical body, or nullopt when it was longer than kept.
  std::optional<std::string> finish() {
    if (!overflow_) canon_.finish([this](std::string_view out) { keep(out); });
    if (overflow_) return std::nullopt;
    return std::move(bytes_);
  }

 private:
  void keep(std::string_view out) {
    if (limit_ && bytes_.size() + out.size() > *limit_) out = out.substr(0, static_cast<std::size_t>(*limit_) - bytes_.size());
    if (bytes_.size() + out.size() > inkan::dkim::kMaxReportBodyBytes) {
      overflow_ = true;
      bytes_.clear();
      return;
    }
    bytes_.append(out);
  }
  auth::dkim::BodyCanonicalizer canon_;
  std::optional<std::uint64_t> limit_;
  std::string bytes_;
  bool overflow_ = false;
};

/// A report waiting for its DNS lookup and MTACommand (everything copied out of the session).
struct PendingReport {
  inkan::dkim::FailureReport report;
  std::string envelope_sender;  ///< for -f
  std::string mta_command;
  std::shared_ptr<auth::dns::Resolver> resolver;
  Logger* log = nullptr;
};

/// The envelope address for `-f`: the address of ReportAddress ("Name <a@b>" → a@b); the
/// value itself when it does not parse.
std::string report_envelope(const std::string& report_address) {
  auto boxes = auth::mail::parse_address_list(report_address);
  if (boxes && !boxes->empty() && !(*boxes)[0].domain.empty()) {
    return (*boxes)[0].local_part + "@" + (*boxes)[0].domain;
  }
  return report_address;
}

/// dkimf_reportaddr's default: the executing user at this host.
std::string default_report_address() {
  std::string user = "inkan-dkim";
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) user = pw->pw_name;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return user + "@" + host;
}

/// Single-quotes `s` for /bin/sh.
std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

/// Runs "<cmd> -t -f<sender>" through /bin/sh (opendkim's popen) with `text` on its
/// standard input; bounded by kReportCommandTimeout. Returns "" or what went wrong.
std::string run_mta_command(const std::string& cmd, const std::string& sender, const std::string& text) {
  std::string line = cmd + " -t -f" + shell_quote(sender);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe(): ") + std::strerror(errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::string sh = "/bin/sh", dash_c = "-c";
  char* argv[] = {sh.data(), dash_c.data(), line.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return std::string("posix_spawn(): ") + std::strerror(rc);
  }
  const auto deadline = std::chrono::steady_clock::now() + kReportCommandTimeout;
  auto left_ms = [&] {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::max<long long>(0, std::min<long long>(d, 1000)));
  };
  std::string err;
  std::size_t off = 0;
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  while (off < text.size() && err.empty()) {
    pollfd p{fds[1], POLLOUT, 0};
    int n = ::poll(&p, 1, left_ms());
    if (std::chrono::steady_clock::now() >= deadline) err = "MTACommand timed out";
    if (n <= 0) continue;
    ssize_t w = ::write(fds[1], text.data() + off, text.size() - off);
    if (w > 0) off += static_cast<std::size_t>(w);
    else if (w < 0 && errno != EAGAIN && errno != EINTR) err = std::string("write(): ") + std::strerror(errno);
  }
  ::close(fds[1]);
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return "waitpid(): " + std::string(std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "MTACommand timed out; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!err.empty()) return err;
  // opendkim: "pclose(): returned status %d".
  if (status != 0) return "MTACommand returned status " + std::to_string(status);
  return {};
}

/// Looks the record up, applies rp= and rr=, formats and sends; logs every outcome. Never
/// throws. Runs on its own thread, off the milter's path: the message's verdict is already given.
void deliver_report(PendingReport p) noexcept {
  Logger* log = p.log;
  const std::string qid = p.report.job_id;
  try {
    const std::string name = "_report._domainkey." + p.report.result.domain;
    auth::dns::Answer a = p.resolver->query(name, auth::dns::RType::TXT);
    if (!a.ok() || a.txt.empty()) {
      if (log && a.status != auth::dns::Status::NxDomain && a.status != auth::dns::Status::NoData) {
        log->warning(qid + ": " + printable(name) + ": report record lookup failed: " + auth::dns::to_string(a.status));
      }
      return;
    }
    auto rec = inkan::dkim::parse_report_record(a.txt.front().joined());
    if (!rec) {
      if (log) log->info(qid + ": " + printable(name) + ": no usable report address (ra=)");
      return;
    }
    if (rec->rp < 100) {
      thread_local std::mt19937 rng{std::random_device{}()};
      if (std::uniform_int_distribution<unsigned>(0, 99)(rng) >= rec->rp) return;
    }
    if (!inkan::dkim::report_requested(rec->rr, p.report.result)) return;
    p.report.to = rec->ra + "@" + p.report.result.domain;
    std::string text = inkan::dkim::format_failure_report(p.report);
    std::string err = run_mta_command(p.mta_command, p.envelope_sender, text);
    if (log) {
      if (err.empty()) log->info(qid + ": DKIM failure report sent to " + printable(p.report.to));
      else log->error(qid + ": failure report to " + printable(p.report.to) + " not sent: " + printable(err, 200));
    }
  } catch (const std::exception& e) {
    if (log) log->error(qid + ": failure report not sent: " + printable(e.what(), 200));
  }
}

/// Hands reports to background threads, at most kMaxReportsInFlight at once.
class ReportSender {
 public:
  void send(PendingReport p) {
    if (in_flight_->fetch_add(1) >= kMaxReportsInFlight) {
      in_flight_->fetch_sub(1);
      if (p.log) p.log->warning(p.report.job_id + ": failure report dropped: too many reports in flight");
      return;
    }
    try {
      std::thread([p = std::move(p), n = in_flight_]() mutable {
        deliver_report(std::move(p));
        n->fetch_sub(1);
      }).detach();
    } catch (const std::exception& e) {
      in_flight_->fetch_sub(1);
      if (p.log) p.log->error(p.report.job_id + ": failure report not sent: " + printable(e.what(), 200));
    }
  }

 private:
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
};

/* ---------------- the session ---------------- */

class DkimApp;

class DkimSession final : public Session {
 public:
  DkimSession(std::shared_ptr<const DkimConfig> cfg, KeyCache& keys, ReportSender& reports, const ConnInfo& conn)
      : cfg_(std::move(cfg)), keys_(keys), conn_(conn), reports_(reports) {}

  Action on_connect(Context& ctx, const ConnInfo& info) override {
    conn_ = info;
    const auto& s = cfg_->s;
    auto ip = auth::net::parse_ip(info.peer.address);
    if (ip) ip_ = *ip;
    std::string peer_error;  // a live PeerList lookup that failed counts as "not a peer" (opendkim)
    const bool peer = !cfg_->hosts.peers.empty() && cfg_->hosts.peers.match(ip_ ? &*ip_ : nullptr, info.hostname, &peer_error);
    if (!peer_error.empty()) ctx.log().warning(std::string(kNoQueueId) + ": PeerList: " + printable(peer_error));
    if (peer) {
      if (s.log_why) ctx.log().info(std::string(kNoQueueId) + ": " + printable(info.hostname) + " [" + printable(info.peer.address) + "] is a peer; accepted");
      return Action::accept();  // PeerList: Postfix skips us for the session (§2.4)
    }
    return Action::cont();
  }

  Action on_envfrom(Context&, std::span<const std::string> args) override {
    reset();
    if (!args.empty()) envfrom_ = args[0].substr(0, kMaxEnvelopeBytes);
    return Action::cont();
  }

  Action on_envrcpt(Context&, std::span<const std::string> args) override {
    if (!args.empty() && rcpts_.size() < kMaxRecipients) rcpts_.push_back(args[0]);
    return Action::cont();
  }

  Action on_header(Context& ctx, std::string_view name, std::string_view value) override {
    if (const auto& live = cfg_->s.live_lists.replace_headers) {
      // mlfi_header: dkimf_db_get(conf_rephdrsdb, field name as written) for every field;
      // a failed lookup tempfails the message ("dkimf_db_get() failed").
      auto a = inkan::dkim::live_lookup(*live, name);
      if (!a.error.empty()) {
        ctx.log().error(printable(a.error, 400));
        ctx.log().error("dkimf_db_get() failed");
        return Action::tempfail();
      }
      replace_live_hit_ = a.found;
    }
    return capture_.stage([&] { return header(name, value); });
  }

  Action header(std::string_view name, std::string_view value) {
    header_bytes_ += name.size() + value.size() + 2;
    if (cfg_->s.maximum_headers > 0 && header_bytes_ > cfg_->s.maximum_headers) {
      too_big_ = true;
      return Action::cont();
    }
    // ReplaceRules (opendkim.c mlfi_header): the value as stored for signing, verifying and
    // the sender decision; without SMFIP_HDR_LEADSPC OpenDKIM strips the leading white space
    // before applying the rules (and puts one SP back when it rebuilds the field).
    std::string replaced;
    if (cfg_->rewriter && replace_applies(name)) {
      std::string_view v = value;
      if (!conn_.header_leading_space) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n' ||
                              v.front() == '\v' || v.front() == '\f')) {
          v.remove_prefix(1);
        }
      }
      auto r = cfg_->rewriter->apply(v);
      if (!r) {
        if (replace_error_.empty()) replace_error_ = r.error().reason;  // logged at end of headers; field kept
      } else if (*r) {
        replaced = std::move(**r);
        value = replaced;
      }
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
    return capture_.stage([&] { return eoh(ctx); });
  }

  Action eoh(Context& ctx) {
    const auto& s = cfg_->s;
    qid_ = ctx.queue_id();
    if (!replace_error_.empty()) ctx.log().warning(qid_ + ": ReplaceRules not applied: " + replace_error_);
    if (too_big_) return finish_early(ctx, Outcome::Security, "header block larger than MaximumHeaders");

    /* Sender: the SenderMacro when the MTA sent it non-empty, else SenderHeaders (From).
       opendkim.c mlfi_eoh looks for it first, before any other check (RequiredHeaders
       included): without one, or in a signing mode with one that does not parse, the
       message is neither signed nor verified and gets "dkim=permerror (bad
       message/signature format)" at EOM (lab: opendkim 2.11 -t, Mode s and v, with -r). */
    std::optional<std::string> macro_sender;
    if (!s.sender_macro.empty()) macro_sender = ctx.macro(s.sender_macro);
    const inkan::dkim::Sender sender = inkan::dkim::find_sender(s, macro_sender, headers_);
    const bool from_macro = sender.source == inkan::dkim::Sender::Source::Macro;
    if (sender.raw.empty()) {
      ctx.log().info(qid_ + ": can't determine message sender; accepting");
      bad_format_ = true;
      verified_ = false;  // test mode: nothing printed (as opendkim)
      return Action::cont();
    }
    if (s.sign && (sender.unparsable || sender.local.empty())) {
      if (from_macro) {
        ctx.log().info(qid_ + ": can't parse macro " + printable(s.sender_macro) + " header value '" +
                       printable(sender.raw, 200) + "'");
      } else {
        // opendkim logs the value as the MTA sent it: with its leading space under
        // SMFIP_HDR_LEADSPC (Postfix), stripped otherwise (lab: opendkim 2.11 daemon).
        std::string shown = sender.raw;
        if (conn_.header_leading_space) {
          auto it = std::find_if(headers_.begin(), headers_.end(),
                                 [&](const auth::mail::Field& f) { return f.name == sender.field_name; });
          if (it != headers_.end()) {
            shown.clear();
            std::string_view rv = it->raw_value();
            for (std::size_t i = 0; i < rv.size(); ++i) {
              if (rv[i] == '\r' && i + 1 < rv.size() && rv[i + 1] == '\n') continue;
              shown.push_back(rv[i]);
            }
          }
        }
        ctx.log().info(qid_ + ": can't parse " + printable(sender.field_name) + ": header value '" +
                       printable(shown, 200) + "'");
      }
      bad_format_ = true;
      return Action::cont();
    }

    /* RequiredHeaders (-r): RFC 5322 §3.6 field counts; OpenDKIM rejects with 550 5.0.0. */
    if (s.required_headers) {
      if (auto why = inkan::dkim::check_required_headers(headers_)) {
        ctx.log().notice(qid_ + ": RFC5322 header requirement error: " + *why);
        ctx.summary().add("result", "reject").add("why", *why);
        ctx.metrics().count_verdict("reject");
        return Action::reject("550", "5.0.0", *why);
      }
    }
    const std::string& local = sender.local;
    const std::string& domain = sender.domain;
    if (!domain.empty() && s.live_lists.exempt_domains) {
      // mlfi_eoh: dkimf_db_get(conf_exemptdb, domain); a failed lookup is logged and tempfails.
      auto a = inkan::dkim::live_lookup(*s.live_lists.exempt_domains, domain);
      if (!a.error.empty()) {
        ctx.log().error(printable(a.error, 400));
        ctx.summary().add("result", "tempfail").add("why", "ExemptDomains lookup failed");
        return Action::tempfail();
      }
      if (a.found) {
        if (s.log_why) ctx.log().info(qid_ + ": domain '" + printable(domain) + "' exempted, accepting");
        ctx.summary().add("result", "exempt").add("domain", domain);
        return Action::accept();
      }
    }
    if (!domain.empty() && inkan::dkim::domain_listed(s.exempt_domains, domain)) {
      // The same exact-key lookup and line as the live data set above (mlfi_eoh).
      if (s.log_why) ctx.log().info(qid_ + ": domain '" + printable(domain) + "' exempted, accepting");
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
    // A failed live MTA / InternalHosts lookup counts as no match; opendkim logs dkimf_db_error's
    // line for MTA (and nothing for InternalHosts: inkan logs that too).
    if (!origin.lookup_error.empty()) ctx.log().error(printable(origin.lookup_error, 400));
    lua_domain_ = domain;
    lua_local_ = local;
    const bool lua_setup = cfg_->lua_setup != nullptr;
    // LuaOnlySigning (opendkim's _FFR_LUA_ONLY_SIGNING): the SigningTable is never applied;
    // only odkim.sign / odkim.signfor in the setup script ask for signatures.
    if (s.sign && origin.internal && !domain.empty() && !s.lua_only_signing) {
      auto found = auth::config::lookup_signing_keys(s, local, domain);
      for (const auto& line : found.log) ctx.log().error(printable(line, 400));  // live Domain
      if (found.error) {
        // §2.3: signing table read error, unknown key, key table error → SMFIS_TEMPFAIL with
        // no custom reply text, after opendkim's lines (dkimf_db_error's has no queue id).
        using K = auth::config::SigningLookupError::Kind;
        const auto& e = *found.error;
        std::string err = auth::config::to_string(e);
        if (!e.detail.empty()) ctx.log().error(printable(e.detail, 400));
        ctx.log().error(qid_ + ": " + printable(err, 400));
        ctx.summary().add("result", "tempfail").add("why", err);
        ctx.metrics().count_error(e.kind == K::UnknownKey ? "unknown_key"
                                  : e.kind == K::KeyTable ? "key_table" : "signing_table");
        return Action::tempfail();
      }
      requests_ = std::move(found.requests);
      if (!requests_.empty() && s.live_lists.dont_sign_mail_to) {
        if (auto stop = live_dont_sign(ctx)) return *stop;
      }
      if (!requests_.empty()) {
        if (auto stop = file_dont_sign(ctx)) return *stop;
      }
      if (!requests_.empty()) {
        if (auto r = body_length_match(ctx)) {
          body_length_ = true;
          ctx.log().info(qid_ + ": BodyLengthDB matched " + printable(*r) + ", signing with l= requested");
        }
      }
      if (!requests_.empty() && !lua_setup) {
        signing_ = true;
        if (strict_headers_refuse(ctx)) return Action::cont();
        Action a = start_signing(ctx);
        if (a.verdict == Verdict::Continue) {
          if (auto stop = run_screen_script(ctx)) return *stop;  // runs for signed mail too (no signatures)
        }
        return a;
      }
      if (s.log_why && requests_.empty()) {
        ctx.log().info(qid_ + ": no signing table match for '" + printable(local + "@" + domain) + "'");
      }
    } else if (s.log_why && s.sign) {
      ctx.log().info(qid_ + ": " + printable(origin.why, 200));
    }
    /* SetupPolicyScript (opendkim.c mlfi_eoh: after the SigningTable, before the sign/verify
       handles): its odkim.sign requests join the table's, odkim.verify asks for verification
       (of internal mail too, and next to signing), odkim.set_result ends the message. */
    if (lua_setup) {
      if (auto stop = run_setup_script(ctx)) return *stop;
      if (!requests_.empty() && s.live_lists.dont_sign_mail_to) {
        if (auto stop = live_dont_sign(ctx)) return *stop;
      }
      if (!requests_.empty()) {
        if (auto stop = file_dont_sign(ctx)) return *stop;
      }
      if (!requests_.empty() && !body_length_) {
        if (auto r = body_length_match(ctx)) {
          body_length_ = true;
          ctx.log().info(qid_ + ": BodyLengthDB matched " + printable(*r) + ", signing with l= requested");
        }
      }
      if (!requests_.empty() && !s.sign) return Action::accept();  // opendkim: signing mode disabled
      if (!requests_.empty()) {
        signing_ = true;
        if (strict_headers_refuse(ctx)) return Action::cont();
        Action a = start_signing(ctx);
        if (a.verdict != Verdict::Continue || !lua_verify_ || !s.verify) {
          if (a.verdict == Verdict::Continue) {
            if (auto stop = run_screen_script(ctx)) return *stop;
          }
          return a;
        }
        // odkim.verify next to signing: the message is verified too (sign and verify).
      }
    }
    if (!origin.internal && !domain.empty() && !s.key_table && !s.keys.empty() &&
        !auth::config::select_signing_keys(s, local, domain, nullptr).empty()) {
      const auth::net::IpAddress* ip = ip_ ? &*ip_ : nullptr;
      std::string ignore_error;
      const bool ignored = cfg_->hosts.external_ignore.match(ip, conn_.hostname, &ignore_error);
      if (!ignore_error.empty()) ctx.log().warning(qid_ + ": ExternalIgnoreList: " + printable(ignore_error));
      if (!ignored) {
        ctx.log().notice(qid_ + ": external host " + printable(conn_.hostname) + " attempted to send as " + printable(domain));
      }
    }
    // Every message that is not signed is verified, from internal hosts too: opendkim.c's
    // mlfi_eoh sets up verification whenever no signing request was made (lab: opendkim 2.11 -t,
    // client 127.0.0.1, From a domain in no Domain/SigningTable entry, Mode sv → "message not
    // signed" and AlwaysAddARHeader's dkim=none; a signed one gets its dkim=pass). anchor-features
    // §2.4's "internal mail is not verified" holds for the mail that is signed (returned above).
    if (!s.verify) {
      ctx.summary().add("result", "skipped");
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
      // WeakSyntaxChecks (DKIM_LIBFLAGS_BADSIGHANDLES): libopendkim's dkim_eoh_verify ignores
      // the dkim_getsender failure, so a From that is there but does not parse is verified
      // anyway (opendkim.conf(5): "a signed message with a mangled From: field will still
      // proceed to verification"); a missing From still stops opendkim.c's own mlfi_eoh.
      // Its other effect, handles for signatures whose tag-list is malformed, changes no
      // verdict: opendkim.c gives up at EOH on the dkim_header() syntax error first (lab:
      // identical opendkim -t output with it on and off, verify_options_test.sh).
      if (!parsed && !(s.weak_syntax_checks && from != headers_.end())) {
        bad_format_ = true;
        verified_ = from != headers_.end();  // test mode: "message not signed" (as opendkim)
        if (s.log_why) ctx.log().info(qid_ + ": " + (from == headers_.end() ? "no From field" : "From field unparsable"));
        return Action::cont();
      }
    }
    // StrictHeaders: libopendkim's dkim_eoh_verify checks the RFC 5322 §3.6 field counts after
    // the sender; a failure makes the message unverifiable: "dkim=permerror (bad
    // message/signature format)" whatever the signatures and On-* say (lab: opendkim 2.11 -t).
    if (s.strict_headers) {
      if (auto ok = auth::dkim::check_strict_headers(headers_); !ok) {
        if (s.log_why) ctx.log().info(qid_ + ": StrictHeaders: " + printable(ok.error().reason, 200));
        bad_format_ = true;
        verified_ = true;  // test mode: "message not signed" (as opendkim)
        return Action::cont();
      }
    }
    return start_verifying(ctx);
  }

  Action on_body(Context&, std::span<const unsigned char> chunk) override {
    return capture_.stage([&] {
      std::string_view b(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      if (signer_) signer_->body_chunk(b);
      if (verifier_) {
        verifier_->body_chunk(b);
        if (report_body_) report_body_->feed(b);
        if (lua_body_) lua_body_->feed(b);
      }
      return Action::cont();
    });
  }

  Action on_eom(Context& ctx, MessageOps& ops) override {
    Action a = capture_.eom([&] {
      if (signer_ && verifier_) {
        // odkim.verify next to signing: results and AR first, then the signatures.
        Action v = finish_verifying(ctx, ops);
        if (v.verdict == Verdict::Reject || v.verdict == Verdict::TempFail || v.verdict == Verdict::Discard) return v;
        Action sgn = finish_signing(ctx, ops);
        return sgn.verdict == Verdict::Accept && v.verdict == Verdict::Quarantine ? v : sgn;
      }
      if (signer_) return finish_signing(ctx, ops);
      if (verifier_) return finish_verifying(ctx, ops);
      if (bad_format_) return finish_bad_format(ctx, ops);
      return Action::accept();
    });
    if (capture_.captured()) {
      // CaptureUnknownErrors: the message is held in the MTA's queue for inspection.
      if (qid_.empty()) qid_ = ctx.queue_id();
      ctx.log().error(qid_ + ": internal error: " + printable(capture_.what(), 200) + "; quarantined (" +
                      std::string(inkan::dkim::kCaptureReason) + ")");
      ctx.summary().add("result", "internal-error").add("action", "quarantine");
      ctx.metrics().count_error("internal");
      ctx.metrics().count_verdict("quarantine");
    }
    send_report(ctx);  // after the verdict; a report never changes it
    return a;
  }

  void on_abort(Context&) override { reset(); }

  /* For test mode (-t): what the last message produced. */
  bool verified() const noexcept { return verified_; }
  const std::vector<auth::dkim::SignatureResult>& last_results() const noexcept { return last_results_; }
  const std::string& sign_error() const noexcept { return sign_error_; }
  bool signing() const noexcept { return signing_; }

 private:
  static constexpr std::size_t kMaxRecipients = 10000;  // local policy (Postfix's default limit is 1000)
  bool replace_live_hit_ = false;  ///< live ReplaceHeaders: the current field's name is listed

  /// DontSignMailTo as a live data set (opendkim.c mlfi_eoh): a listed recipient accepts the
  /// message unsigned ("skipping signing of mail to '<addr>'"), a failed lookup tempfails
  /// ("dkimf_db_get() failed"). nullopt: go on.
  std::optional<Action> live_dont_sign(Context& ctx) {
    auto a = inkan::dkim::live_dont_sign_to(*cfg_->s.live_lists.dont_sign_mail_to, rcpts_);
    if (!a.error.empty()) {
      ctx.log().error(printable(a.error, 400));
      ctx.log().error(qid_ + ": dkimf_db_get() failed");
      ctx.summary().add("result", "tempfail").add("why", "DontSignMailTo lookup failed");
      return Action::tempfail();
    }
    if (!a.found) return std::nullopt;
    ctx.log().info(qid_ + ": skipping signing of mail to '" + printable(a.key) + "'");
    ctx.summary().add("result", "accept").add("why", "DontSignMailTo");
    requests_.clear();
    return Action::accept();
  }

  /// DontSignMailTo from a file or csl: as live_dont_sign (one exact key per recipient, last
  /// RCPT first): a listed recipient accepts the message unsigned, with opendkim's line
  /// ("skipping signing of mail to '<addr>'", logged whenever logging is on). nullopt: go on.
  std::optional<Action> file_dont_sign(Context& ctx) {
    auto hit = inkan::dkim::dont_sign_to(cfg_->s.dont_sign_mail_to, rcpts_);
    if (!hit) return std::nullopt;
    ctx.log().info(qid_ + ": skipping signing of mail to '" + printable(*hit) + "'");
    ctx.summary().add("result", "accept").add("why", "DontSignMailTo");
    requests_.clear();
    return Action::accept();
  }

  /// BodyLengthDB: the recipient that asks for l=, from the file list or the live data set
  /// (whose failed lookups are logged and skipped, as dkimf_checkbldb does).
  std::optional<std::string> body_length_match(Context& ctx) {
    const auto& s = cfg_->s;
    if (s.live_lists.body_length_db) {
      std::vector<std::string> errors;
      auto a = inkan::dkim::live_body_length_recipient(*s.live_lists.body_length_db, rcpts_, &errors);
      for (const auto& e : errors) ctx.log().error(printable(e, 400));
      if (a.found) return a.key;
      return std::nullopt;
    }
    return inkan::dkim::body_length_recipient(s.body_length_db, rcpts_);
  }

  /// ReplaceHeaders: whether the rules apply to a field of this name (all when unset).
  bool replace_applies(std::string_view name) const {
    if (cfg_->s.live_lists.replace_headers) return replace_live_hit_;  // asked in on_header
    const auto& list = cfg_->s.replace_headers;
    if (!list) return true;
    return std::any_of(list->begin(), list->end(), [&](const std::string& n) { return auth::config::iequals(n, name); });
  }

  void reset() {
    replace_error_.clear();
    capture_.reset(cfg_->s.capture_unknown_errors);
    report_.reset();
    report_body_.reset();
    envfrom_.clear();
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
    lua_exports_.clear();
    lua_verify_ = lua_final_done_ = software_added_ = false;
    lua_ignored_.clear();
    lua_lengths_.clear();
    lua_body_.reset();
    lua_quarantine_.reset();
    lua_results_.clear();
    lua_results_ignored_.clear();
    lua_domain_.clear();
    lua_local_.clear();
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
      spec.diagnostics = s.diagnostics;                   // Diagnostics: z=
      spec.request_reports = s.request_reports;           // RequestReports: r=y
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
      // odkim.sign(ctx, key, signer, signlen): l= covering at most signlen bytes.
      if (auto i = static_cast<std::size_t>(&rq - requests_.data()); i < lua_lengths_.size() && lua_lengths_[i] &&
                                                                    *lua_lengths_[i] >= 0) {
        spec.max_body_bytes = static_cast<std::uint64_t>(*lua_lengths_[i]);
      }
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
    // FinalPolicyScript runs before the signatures are added (opendkim.c mlfi_eom).
    if (auto stop = run_final_script(ctx, ops)) {
      signer_.reset();
      return *stop;
    }
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
    return with_lua_quarantine(Action::accept());
  }

  void add_software_header(Context& ctx, MessageOps& ops) {
    if (software_added_) return;  // once, also when a message is both verified and signed
    software_added_ = true;
    std::string v = std::string("inkan-dkim v") + INKAN_VERSION + " " + ctx.macro("j").value_or("unknown-host") + " " +
                    ctx.queue_id();
    if (auto r = ops.insert_header(cfg_->s.header_index, "DKIM-Filter", lead(v)); !r) throw std::runtime_error(r.error().reason);
  }

  /* ---- verifying ---- */

  /// A message OpenDKIM cannot sign or verify (no sender, or an unparsable From): accepted
  /// whatever the On-* settings, with "dkim=permerror (bad message/signature format)" unless
  /// IgnoreMalformedMail. As opendkim.c mlfi_eom's "headeronly" path (lab: opendkim 2.11 -t
  /// -vv): the authserv-id without "/jobid" even with AuthservIDWithJobID, and no
  /// SoftwareHeader field. Two deliberate differences: forged Authentication-Results carrying
  /// our authserv-id are still removed (RFC 8601 §5: a message must not leave here with
  /// them), and the value keeps its leading space under SMFIP_HDR_LEADSPC like every other
  /// field we add (opendkim writes "Authentication-Results:id; ..." on this path only).
  Action finish_bad_format(Context& ctx, MessageOps& ops) {
    const auto& s = cfg_->s;
    ctx.summary().add("result", "permerror").add("why", "bad message format");
    ctx.metrics().count_verdict("malformed");
    if (s.ignore_malformed) return Action::accept();
    std::string id = cfg_->authserv_id;
    if (id.empty()) id = ctx.macro("j").value_or("unknown-host");
    remove_forged_ar(ctx, ops, our_authserv_id(ctx));
    inkan::dkim::ArOptions ao;
    ao.authserv_id = id;
    if (auto r = ops.insert_header(s.header_index, "Authentication-Results", lead(inkan::dkim::format_ar_bad_format(ao))); !r) {
      throw std::runtime_error(r.error().reason);
    }
    return Action::accept();
  }

  /// Deletes existing AR fields carrying our authserv-id (RFC 8601 §5), bottom up so the
  /// indexes stay valid (#185).
  void remove_forged_ar(Context& ctx, MessageOps& ops, const std::string& id) {
    for (auto it = ar_.rbegin(); it != ar_.rend(); ++it) {
      std::string lookup_error;  // a failed live RemoveARFrom lookup: logged, field kept (opendkim)
      const bool remove = inkan::dkim::should_remove_ar(it->second, id, cfg_->s, &lookup_error);
      if (!lookup_error.empty()) ctx.log().error(printable(lookup_error, 400));
      if (remove) {
        if (auto r = ops.delete_header("Authentication-Results", static_cast<int>(it->first)); !r) {
          throw std::runtime_error(r.error().reason);
        }
        ctx.log().notice(qid_ + ": removed Authentication-Results carrying our authserv-id");
      }
    }
  }

  Action start_verifying(Context& ctx) {
    const auto& s = cfg_->s;
    // A DKIM-Signature whose tag-list libopendkim refuses (OpendkimSigCheck::BadTagList):
    // opendkim.c mlfi_eoh stops on the dkim_header() failure (dkimf_libstatus, DKIM_STAT_SYNTAX
    // → On-BadSignature, "DKIM signature syntax error") before verifying anything, so the
    // message gets no Authentication-Results, even next to a good signature (lab: opendkim
    // 2.11 -t, bad_signature_test.sh). RFC 6376 §6.1 would only set that signature aside;
    // matching opendkim here never turns a damaged signature into a pass.
    if (auto bad = inkan::dkim::opendkim_bad_tag_list(headers_)) {
      ctx.log().error(qid_ + ": syntax error: " + printable(*bad, 200));  // opendkim's words (lab)
      DkimAction a = inkan::dkim::action_for(s.actions, Outcome::SyntaxError);
      ctx.summary().add("result", "permerror").add("why", *bad).add("action", auth::config::to_string(a));
      return inkan::dkim::milter_action(a, Outcome::SyntaxError);
    }
    auth::dkim::VerifyOptions opt;
    opt.max_signatures = s.max_signatures == 0 ? 1 : s.max_signatures;
    opt.allow_rsa_sha1 = s.allow_sha1;
    opt.min_rsa_bits = s.minimum_key_bits;
    opt.key_lookup = auth::dkim::KeyLookup::Blocking;
    opt.dns_wait = std::chrono::seconds(s.dns_timeout == 0 ? 30 : s.dns_timeout);
    if (cfg_->fixed_time) opt.clock = auth::dkim::fixed_clock(*cfg_->fixed_time);  // -F (test mode)
    if (!cfg_->resolver) throw std::runtime_error("resolver not started");
    opt.key_cache = cfg_->key_records;
    opt.clock_drift = s.clock_drift;  // ClockDrift: the t=/x= tolerance (RFC 6376 §3.5)
    verifier_ = std::make_unique<auth::dkim::Verifier>(std::move(opt), *cfg_->resolver);
    for (const auto& f : headers_) (void)verifier_->add_header(f);
    verifier_->end_headers();
    if (s.send_reports) start_report_capture();
    if (cfg_->lua_final) lua_body_.emplace();
    if (auto stop = run_screen_script(ctx)) return *stop;
    return Action::cont();
  }

  Action finish_verifying(Context& ctx, MessageOps& ops) {
    const auto& s = cfg_->s;
    auto results = verifier_->finish();
    verifier_.reset();
    // Damaged signatures libopendkim keeps with a DKIM_SIGERROR_* code: its error text, so
    // the clause and the test-mode line read as opendkim 2.11's (dkim_core.h OpendkimSigCheck).
    inkan::dkim::apply_opendkim_sig_errors(results, headers_,
                                           cfg_->fixed_time ? *cfg_->fixed_time : std::int64_t{std::time(nullptr)},
                                           s.clock_drift);
    // TestPublicKeys/TestDNSData keys did not come from DNS: libopendkim leaves their DNSSEC
    // status DKIM_DNSSEC_UNKNOWN (no "; unprotected" in the AR, "unknown" in opendkim -t; lab).
    if (!s.test_dns.empty()) {
      for (auto& r : results) r.key_dnssec = auth::dkim::KeyDnssec::Unknown;
    }
    // odkim.sig_ignore (screen script): the signature counts as absent, as opendkim-lua(3)
    // promises ("as if that signature was not present"); opendkim 2.11 itself still lists
    // it as dkim=fail in Authentication-Results when other signatures remain (lab).
    std::vector<auth::dkim::SignatureResult> ignored;
    if (!lua_ignored_.empty()) {
      for (auto it = results.begin(); it != results.end();) {
        if (lua_ignored_.count(it->field_index)) {
          ignored.push_back(std::move(*it));
          it = results.erase(it);
        } else {
          ++it;
        }
      }
    }
    // MustBeSigned and Minimum demote passing signatures (OpenDKIM's local policies).
    inkan::dkim::apply_verify_policies(results, s, headers_);
    lua_results_ = results;
    lua_results_ignored_ = std::move(ignored);
    verified_ = true;
    last_results_ = results;
    Outcome o = inkan::dkim::classify(results);
    // UnprotectedKey: opendkim changes the message status while it writes the AR clauses and
    // acts on the changed status (fail → On-BadSignature, neutral → accepted, even a bad
    // signature under On-BadSignature reject; lab: opendkim 2.11 -t). It writes them for the
    // statuses GOOD, BAD, REVOKED, PARTIAL, NOKEY and VERIFYERR only.
    if (o == Outcome::Pass || o == Outcome::BadSignature || o == Outcome::KeyRevoked ||
        o == Outcome::KeyNotFound || o == Outcome::VerifyError) {
      if (auto d = inkan::dkim::unprotected_key_outcome(results, s.unprotected_key, s.test_dns.empty())) {
        if (*d == Outcome::BadSignature) ctx.log().notice(qid_ + ": key not protected by DNSSEC (UnprotectedKey fail)");
        o = *d;
      }
    }
    DkimAction a = inkan::dkim::apply_quarantine_option(inkan::dkim::action_for(s.actions, o), o, s.quarantine);
    if (s.send_reports && inkan::dkim::is_bad_signature(o)) prepare_report(ctx, results);

    /* Log lines in OpenDKIM's words (logwatch/fail2ban rules keep working). */
    for (const auto& r : results) {
      if (r.failure == auth::dkim::FailureKind::NotChecked) continue;
      if (r.failure == auth::dkim::FailureKind::NoKey || r.failure == auth::dkim::FailureKind::KeyDns) {
        ctx.log().error(qid_ + ": key retrieval failed (s=" + printable(r.selector) + ", d=" + printable(r.domain) + "): " + printable(r.reason, 200));
      } else if (r.result == auth::dkim::DkimResult::Fail && !inkan::dkim::is_length_beyond_body(r)) {
        ctx.log().notice(qid_ + ": bad signature data");
      } else if (r.failure == auth::dkim::FailureKind::Syntax && !inkan::dkim::is_opendkim_sig_error(r)) {
        // A DKIM_SIGERROR_* signature gets no line from opendkim 2.11 (lab, LogWhy yes).
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
    if (o == Outcome::BadSignature && act.reply && !act.reply->text.empty()) add_report_prefix(act, results);
    if (act.verdict == Verdict::Reject || act.verdict == Verdict::TempFail || act.verdict == Verdict::Discard) {
      // FinalPolicyScript still runs (opendkim.c: before the On-* translation); only a
      // reject, tempfail or discard it asks for replaces the action.
      if (auto stop = run_final_script(ctx, ops, false)) return *stop;
      return act;  // no AR on a rejected message (§2.7)
    }

    /* Headers: remove forged AR with our authserv-id (RFC 8601 §5), then add ours. */
    std::string id = our_authserv_id(ctx);
    remove_forged_ar(ctx, ops, id);
    // Verified and signed (odkim.verify next to odkim.sign): opendkim's signing decision has
    // set mctx_addheader, so an unsigned message gets "dkim=none" (lab: opendkim 2.11 -t).
    if (o != Outcome::NoSignature || s.always_add_ar || signer_) {
      inkan::dkim::ArOptions ao;
      ao.authserv_id = id;
      ao.header_b = !s.no_header_b;
      ao.unprotected_key = s.unprotected_key;
      // Keys from TestPublicKeys/TestDNSData did not come from DNS: no "; unprotected" (lab).
      ao.unprotected = s.test_dns.empty();
      ao.atps_neutral = s.atps_neutral;
      std::string v = inkan::dkim::format_ar_value(results, ao);
      if (auto r = ops.insert_header(s.header_index, "Authentication-Results", lead(v)); !r) {
        throw std::runtime_error(r.error().reason);
      }
    }
    // FinalPolicyScript: after the AR, before signatures and the software header.
    if (auto stop = run_final_script(ctx, ops)) return *stop;
    if (s.software_header && !signer_) add_software_header(ctx, ops);
    return act.verdict == Verdict::Accept ? with_lua_quarantine(act) : act;
  }

  /* ---- Lua policy scripts (opendkim-lua(3); lua_policy.h) ---- */

  /// The message as the scripts see it.
  inkan::dkim::lua::Message lua_message(Context& ctx) {
    inkan::dkim::lua::Message m;
    m.headers = &headers_;
    m.from_domain = lua_domain_;
    m.client_host = conn_.hostname;
    if (ip_) m.client_ip = conn_.peer.address;
    // opendkim keeps the envelope addresses without their angle brackets (dkimf_stripbrackets).
    auto strip = [](std::string a) {
      if (!a.empty() && a.front() == '<') a.erase(0, 1);
      if (!a.empty() && a.back() == '>') a.pop_back();
      return a;
    };
    m.envfrom = strip(envfrom_);
    for (const auto& r : rcpts_) m.rcpts.push_back(strip(r));
    const auth::net::IpAddress* ip = ip_ ? &*ip_ : nullptr;
    m.internal_ip = !cfg_->hosts.internal.empty() && cfg_->hosts.internal.match(ip, conn_.hostname);
    m.key_table = cfg_->s.key_table;
    m.sign_requests = [this] { return requests_.size(); };  // odkim.xtag
    // odkim.rbl_check: the resolver keys come from (TestPublicKeys/TestDNSData: those records
    // only, so tests stay off the network; opendkim's rbl_check always asks real DNS).
    m.resolver = cfg_->resolver;
    m.macro = [&ctx](std::string_view n) { return ctx.macro(n); };
    m.log = [&ctx](std::string_view t) { ctx.log().info(std::string(t)); };
    m.db_entries = [this](int code) -> std::optional<std::vector<std::string>> {
      const auto& s = cfg_->s;
      switch (code) {
        case inkan::dkim::lua::kDbDomains:
          if (s.domains.empty()) return std::nullopt;
          return s.domains;
        case inkan::dkim::lua::kDbDontSignTo:
          if (s.dont_sign_mail_to.empty()) return std::nullopt;
          return s.dont_sign_mail_to;
        case inkan::dkim::lua::kDbMtas:
          if (s.mta.empty()) return std::nullopt;
          return s.mta;
        case inkan::dkim::lua::kDbMacros: {
          if (s.macro_list.empty()) return std::nullopt;
          std::vector<std::string> v;
          for (const auto& mm : s.macro_list) v.push_back(mm.name);
          return v;
        }
        case inkan::dkim::lua::kDbSigningTable: {
          if (s.signing.empty()) return std::nullopt;
          std::vector<std::string> v;
          for (const auto& r : s.signing) v.push_back(r.match);
          return v;
        }
        default: return std::nullopt;
      }
    };
    m.exports = lua_exports_;
    return m;
  }

  /// Runs a hook. A failure (script error, instruction or memory limit) is logged in
  /// opendkim's words with the queue id and answers On-InternalError (opendkim 2.11 answers
  /// SMFIS_TEMPFAIL, On-InternalError's default); quarantine is only possible at EOM.
  std::optional<Action> run_lua(Context& ctx, const inkan::dkim::lua::Script& script, inkan::dkim::lua::Hook hook,
                                inkan::dkim::lua::Message& m, bool at_eom) {
    auto r = inkan::dkim::lua::run(script, hook, m);
    lua_exports_ = m.exports;
    if (r.ok) return std::nullopt;
    if (qid_.empty()) qid_ = ctx.queue_id();
    ctx.log().error(qid_ + ": " + inkan::dkim::lua::hook_function_name(hook) + "() failed: " + printable(r.error, 300));
    DkimAction a = inkan::dkim::action_for(cfg_->s.actions, Outcome::Internal);
    ctx.summary().add("result", "script-error").add("action", auth::config::to_string(a));
    ctx.metrics().count_error("lua_script");
    Action act = inkan::dkim::milter_action(a, Outcome::Internal);
    if (act.verdict == Verdict::Quarantine && !at_eom) return Action::accept();
    return act;
  }

  /// odkim.set_result's value as an Action, with odkim.set_reply's reply when its code
  /// class fits (5xx with reject, 4xx with tempfail).
  static Action lua_result_action(int result, const std::optional<inkan::dkim::lua::Reply>& reply) {
    namespace lua = inkan::dkim::lua;
    switch (result) {
      case lua::kSmfisReject:
        if (reply && reply->rcode[0] == '5') return Action::reject(reply->rcode, reply->xcode, reply->text);
        return Action::reject();
      case lua::kSmfisTempfail:
        if (reply && reply->rcode[0] == '4') return Action::tempfail(reply->rcode, reply->xcode, reply->text);
        return Action::tempfail();
      case lua::kSmfisDiscard: return Action::discard();
      default: return Action::accept();
    }
  }

  Action with_lua_quarantine(Action a) const {
    if (a.verdict == Verdict::Accept && lua_quarantine_) return Action::quarantine(*lua_quarantine_);
    return a;
  }

  /// SetupPolicyScript at the end of the header block: sign requests, verify, l=, result.
  std::optional<Action> run_setup_script(Context& ctx) {
    namespace lua = inkan::dkim::lua;
    const auto& s = cfg_->s;
    lua::Message m = lua_message(ctx);
    m.sign = [&](const lua::SignCall& call) -> int {
      const auth::config::DkimKey* key = nullptr;
      std::shared_ptr<const auth::config::DkimKey> owned;
      if (call.key && s.key_table_live) {
        // A live KeyTable is asked for the key (dkimf_add_signrequest).
        auto k = auth::config::lookup_key(s, *call.key);
        if (!k) {
          ctx.log().error(printable(k.error().reason, 400));
          return 0;
        }
        if (!k->has_value()) {
          ctx.log().error("key '" + printable(*call.key) + "' not found");
          return 0;
        }
        owned = std::make_shared<const auth::config::DkimKey>(std::move(**k));
        key = owned.get();
      } else if (call.key) {
        for (const auto& k : s.keys) {
          if (k.name == *call.key) key = &k;
        }
        if (!key) {
          ctx.log().error("key '" + printable(*call.key) + "' not found");
          return 0;
        }
      } else if (!s.key_table && !s.keys.empty()) {
        key = &s.keys.front();
      } else {
        ctx.log().error("failed to load/apply default key");
        return 0;
      }
      auth::config::SignRequest rq;
      rq.key = key;
      rq.owned_key = owned;
      rq.domain = key->domain == "%" ? lua_domain_ : key->domain;
      if (rq.domain.empty()) {
        ctx.log().error("KeyTable entry for '" + printable(key->name) + "' cannot be resolved");
        return 0;
      }
      rq.key_path_or_data = key->key;
      for (std::size_t p = 0; (p = rq.key_path_or_data.find('%', p)) != std::string::npos; p += rq.domain.size()) {
        rq.key_path_or_data.replace(p, 1, rq.domain);
      }
      if (auto loaded = keys_.get(rq.key_path_or_data, s.require_safe_keys, &ctx.log()); !loaded) {
        ctx.log().error("key '" + printable(key->name) + "' could not be loaded: " + printable(loaded.error().reason, 200));
        return 0;
      }
      rq.signer = call.signer;
      requests_.push_back(std::move(rq));
      lua_lengths_.resize(requests_.size());
      lua_lengths_.back() = call.length;
      return 1;
    };
    // odkim.signfor needs a KeyTable and a SigningTable (nil otherwise, as opendkim).
    if (s.key_table && (!s.signing.empty() || s.signing_table_live)) m.signfor = [&](std::string_view address, bool multi) -> std::size_t {
      auto boxes = auth::mail::parse_address_list(address);
      if (!boxes || boxes->empty() || (*boxes)[0].domain.empty() || (*boxes)[0].local_part.empty()) {
        throw inkan::dkim::lua::ScriptError("odkim.signfor(): can't parse address");
      }
      auth::config::DkimSettings one = s;
      one.multiple_signatures = multi;
      std::string err;
      auto add = auth::config::select_signing_keys(one, (*boxes)[0].local_part, lower((*boxes)[0].domain), &err);
      if (!err.empty()) throw inkan::dkim::lua::ScriptError("odkim.signfor(): " + err);
      for (auto& rq : add) {
        // The key pointers must point into the live settings, not the copy.
        for (const auto& k : s.keys) {
          if (rq.key && k.name == rq.key->name) rq.key = &k;
        }
        requests_.push_back(std::move(rq));
      }
      lua_lengths_.resize(requests_.size());
      return add.size();
    };
    lua_lengths_.resize(requests_.size());
    if (auto stop = run_lua(ctx, *cfg_->lua_setup, lua::Hook::Setup, m, false)) return stop;
    lua_verify_ = m.verify;
    if (m.ltag && !requests_.empty()) body_length_ = true;  // odkim.use_ltag: l= on every signature
    if (m.result && *m.result != lua::kSmfisContinue) {
      ctx.summary().add("result", "script").add("smfis", std::to_string(*m.result));
      return lua_result_action(*m.result, std::nullopt);
    }
    return std::nullopt;
  }

  /// ScreenPolicyScript after the header block: the signatures found; odkim.sig_ignore.
  std::optional<Action> run_screen_script(Context& ctx) {
    namespace lua = inkan::dkim::lua;
    if (!cfg_->lua_screen) return std::nullopt;
    lua::Message m = lua_message(ctx);
    std::vector<std::size_t> index;  // SigView → field_index
    if (verifier_) {
      std::size_t n = 0;
      for (const auto& f : headers_) {
        if (!f.is("DKIM-Signature")) continue;
        lua::SigView v;
        if (auto sig = auth::dkim::parse_signature(f.value)) {
          v.domain = sig->domain;
          v.identity = sig->identity;
        }
        m.signatures.push_back(std::move(v));
        index.push_back(n++);
      }
    }
    if (auto stop = run_lua(ctx, *cfg_->lua_screen, lua::Hook::Screen, m, false)) return stop;
    for (std::size_t i = 0; i < m.signatures.size(); ++i) {
      if (m.signatures[i].ignored) lua_ignored_.insert(index[i]);
    }
    return std::nullopt;
  }

  /// libopendkim's DKIM_SIGERROR_* for a result (odkim.sig_result).
  static int lua_sig_error(const auth::dkim::SignatureResult& r) {
    namespace lua = inkan::dkim::lua;
    using FK = auth::dkim::FailureKind;
    if (r.reason == inkan::dkim::kReasonUnprotectedField) return lua::kSigErrorMbsFailed;
    switch (r.failure) {
      case FK::None: return lua::kSigErrorOk;
      case FK::BodyHash:
      case FK::Signature: return lua::kSigErrorBadSig;
      case FK::Expired: return lua::kSigErrorExpired;
      case FK::Future: return lua::kSigErrorFuture;
      case FK::NoKey: return lua::kSigErrorNoKey;
      case FK::KeyDns: return lua::kSigErrorKeyFail;
      case FK::KeyRecord:
        return r.reason.find("revoked") != std::string::npos ? lua::kSigErrorKeyRevoked : lua::kSigErrorKeyDecode;
      case FK::WeakKey: return lua::kSigErrorKeyTooSmall;
      case FK::WeakAlgorithm: return lua::kSigErrorInvalidA;
      case FK::BodyLength: return lua::kSigErrorTooLargeL;
      case FK::Syntax: return lua::kSigErrorUnknown;
      case FK::NotChecked: return lua::kSigErrorUnknown;
    }
    return lua::kSigErrorUnknown;
  }

  /// FinalPolicyScript at EOM: results, then header/quarantine/reply/result effects. Runs once
  /// per message. `apply` false (a message already being rejected): only the result counts.
  std::optional<Action> run_final_script(Context& ctx, MessageOps& ops, bool apply = true) {
    namespace lua = inkan::dkim::lua;
    if (!cfg_->lua_final || lua_final_done_) return std::nullopt;
    lua_final_done_ = true;
    if (lua_body_) lua_body_->finish();
    lua::Message m = lua_message(ctx);
    if (verified_) {
      // Signature handles in header order, ignored ones included (result "unknown").
      std::vector<const auth::dkim::SignatureResult*> all;
      for (const auto& r : lua_results_) all.push_back(&r);
      for (const auto& r : lua_results_ignored_) all.push_back(&r);
      std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->field_index < b->field_index; });
      for (const auto* r : all) {
        lua::SigView v;
        if (!r->domain.empty()) v.domain = r->domain;
        if (!r->identity.empty()) v.identity = r->identity;
        bool ign = lua_ignored_.count(r->field_index) > 0;
        bool checked = !ign && r->failure != auth::dkim::FailureKind::NotChecked;
        v.error = checked ? lua_sig_error(*r) : lua::kSigErrorUnknown;
        v.bh = !checked || r->failure == auth::dkim::FailureKind::Syntax ? lua::kSigBhUntested
               : r->failure == auth::dkim::FailureKind::BodyHash         ? lua::kSigBhMismatch
               : r->result == auth::dkim::DkimResult::Pass || r->failure == auth::dkim::FailureKind::Signature ||
                       r->failure == auth::dkim::FailureKind::BodyLength
                   ? lua::kSigBhMatch
                   : lua::kSigBhUntested;
        if (lua_body_) {
          auto sig = auth::dkim::parse_signature(nth_signature_value(r->field_index));
          auto total = sig && sig->canon.body == auth::dkim::Canon::Relaxed ? lua_body_->relaxed : lua_body_->simple;
          v.body_length = static_cast<std::int64_t>(total);
          std::uint64_t covered = total;
          if (sig && sig->body_length) covered = std::min<std::uint64_t>(total, *sig->body_length);
          v.canon_length = static_cast<std::int64_t>(covered);
        }
        m.signatures.push_back(std::move(v));
      }
    }
    // odkim.add_rcpt / del_rcpt act at once, as opendkim's smfi_addrcpt / smfi_delrcpt calls.
    m.add_rcpt = [&](std::string_view a) {
      auto r = ops.add_recipient(a);
      if (!r) ctx.log().error(qid_ + ": smfi_addrcpt() failed: " + r.error().reason);
      return r.has_value();
    };
    m.del_rcpt = [&](std::string_view a) {
      auto r = ops.delete_recipient(a);
      if (!r) {
        ctx.log().error(qid_ + ": smfi_delrcpt() failed: " + r.error().reason);
        return false;
      }
      std::string hdr(lua::kOriginalRecipientHeader);
      if (auto h = ops.add_header(hdr, lead("rfc822;" + std::string(a))); !h) {
        ctx.log().error(qid_ + ": smfi_addheader() failed: " + h.error().reason);
      }
      return true;
    };
    if (auto stop = run_lua(ctx, *cfg_->lua_final, lua::Hook::Final, m, true)) return stop;
    if (apply) {
      for (const auto& [name, value] : m.add_headers) {
        if (auto r = ops.insert_header(cfg_->s.header_index, name, lead(value)); !r) {
          ctx.log().error(qid_ + ": " + printable(name) + " header add failed: " + r.error().reason);
        }
      }
      for (const auto& [name, idx] : m.del_headers) {
        if (auto r = ops.delete_header(name, idx); !r) {
          ctx.log().error(qid_ + ": " + printable(name) + " header delete failed: " + r.error().reason);
        }
      }
      if (m.quarantine) lua_quarantine_ = *m.quarantine;
    }
    if (m.result && *m.result != lua::kSmfisContinue && *m.result != lua::kSmfisAccept) {
      ctx.summary().add("result", "script").add("smfis", std::to_string(*m.result));
      return lua_result_action(*m.result, m.reply);
    }
    return std::nullopt;
  }

  /// The value of the n-th DKIM-Signature field (0 = top).
  std::string nth_signature_value(std::size_t n) const {
    for (const auto& f : headers_) {
      if (f.is("DKIM-Signature") && n-- == 0) return f.value;
    }
    return {};
  }

  /// Canonical body lengths for odkim.sig_bodylength / sig_canonlength (final script only).
  struct LuaBodyLength {
    auth::dkim::BodyCanonicalizer simple_canon{auth::dkim::Canon::Simple};
    auth::dkim::BodyCanonicalizer relaxed_canon{auth::dkim::Canon::Relaxed};
    std::uint64_t simple = 0, relaxed = 0;
    bool finished = false;
    void feed(std::string_view b) {
      simple_canon.feed(b, [this](std::string_view out) { simple += out.size(); });
      relaxed_canon.feed(b, [this](std::string_view out) { relaxed += out.size(); });
    }
    void finish() {
      if (finished) return;
      finished = true;
      simple_canon.finish([this](std::string_view out) { simple += out.size(); });
      relaxed_canon.finish([this](std::string_view out) { relaxed += out.size(); });
    }
  };

  std::vector<inkan::dkim::lua::Exported> lua_exports_;  ///< odkim.export values of this message
  bool lua_verify_ = false;      ///< the setup script called odkim.verify
  bool lua_final_done_ = false;  ///< the final script ran for this message
  bool software_added_ = false;  ///< DKIM-Filter added for this message
  std::set<std::size_t> lua_ignored_;  ///< DKIM-Signature indexes odkim.sig_ignore'd
  std::vector<std::optional<std::int64_t>> lua_lengths_;  ///< odkim.sign signlen per request
  std::optional<LuaBodyLength> lua_body_;
  std::optional<std::string> lua_quarantine_;  ///< odkim.quarantine reason
  std::vector<auth::dkim::SignatureResult> lua_results_, lua_results_ignored_;
  std::string lua_domain_, lua_local_;  ///< the sender's domain / local part (get_fromdomain)

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
  std::string replace_error_;  ///< ReplaceRules hit a limit on this message (first reason)
  bool body_length_ = false;  ///< a recipient is in BodyLengthDB
  std::string qid_;
  bool verified_ = false, signing_ = false, bad_format_ = false;
  std::vector<auth::dkim::SignatureResult> last_results_;
  std::string sign_error_;
  inkan::dkim::ErrorCapture capture_;
  ReportSender& reports_;
  std::string envfrom_;                    ///< MAIL FROM (Original-Mail-From)
  std::optional<ReportBody> report_body_;  ///< canonical body of the top signature (r=y)
  std::optional<PendingReport> report_;    ///< a failure report to hand to MTACommand at EOM

  /* ---- failure reports ---- */

  /// End of headers, SendReports on: the top signature (the one a failed message is
  /// usually reported on) gets its canonical body kept when it asks for reports (r=y).
  void start_report_capture() {
    for (const auto& f : headers_) {
      if (!f.is("DKIM-Signature")) continue;
      if (!inkan::dkim::signature_requests_reports(f.raw_value())) return;
      auto sig = auth::dkim::parse_signature(f.value);
      if (!sig) return;
      report_body_.emplace(sig->canon.body, sig->body_length);
      return;
    }
  }

  /// The signature a failure report or an rs= reply prefix is about, with its field.
  struct ReportTarget {
    const auth::dkim::SignatureResult* result;  ///< never null
    const auth::mail::Field* field;             ///< its DKIM-Signature field in headers_, never null
  };

  /// The reported signature: the first checked one (libopendkim's dkim_getsignature), when it
  /// names a domain, a resolver can look up its _report record and its DKIM-Signature field
  /// asks for reports (r=y); nullopt otherwise.
  std::optional<ReportTarget> primary_report_target(const std::vector<auth::dkim::SignatureResult>& results) const {
    const auth::dkim::SignatureResult* primary = nullptr;
    for (const auto& r : results) {
      if (r.failure != auth::dkim::FailureKind::NotChecked) {
        primary = &r;
        break;
      }
    }
    if (!primary || primary->domain.empty() || !cfg_->resolver) return std::nullopt;
    std::size_t n = 0;
    for (const auto& f : headers_) {
      if (!f.is("DKIM-Signature") || n++ != primary->field_index) continue;
      if (!inkan::dkim::signature_requests_reports(f.raw_value())) return std::nullopt;
      return ReportTarget{primary, &f};
    }
    return std::nullopt;
  }

  /// StrictHeaders: libopendkim's dkim_eoh_sign refuses the header block (DKIM_STAT_SYNTAX):
  /// no signature, "dkim=permerror (bad message/signature format)" (lab: opendkim 2.11 -t,
  /// "no signature added: multiple Date: header fields present"). True when it refused.
  bool strict_headers_refuse(Context& ctx) {
    if (!cfg_->s.strict_headers) return false;
    auto ok = auth::dkim::check_strict_headers(headers_);
    if (ok) return false;
    sign_error_ = ok.error().reason;
    ctx.log().info(qid_ + ": StrictHeaders: " + printable(sign_error_, 200));
    bad_format_ = true;
    return true;
  }

  /// End of message, the message failed (DKIMF_STATUS_BAD): collects what a report needs
  /// when the reported signature (the first checked one, libopendkim's dkim_getsignature)
  /// asked for one (r=y). Sent by send_report() after the verdict.
  void prepare_report(Context& ctx, const std::vector<auth::dkim::SignatureResult>& results) {
    auto target = primary_report_target(results);
    if (!target) return;
    const auth::dkim::SignatureResult* primary = target->result;
    const auth::mail::Field* sigf = target->field;
    const auto& s = cfg_->s;
    PendingReport p;
    auto& r = p.report;
    r.from = s.report_address.empty() ? default_report_address() : s.report_address;
    p.envelope_sender = report_envelope(r.from);
    r.bcc = s.report_bcc_address;
    char date[128] = {};
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
    r.date = date;
    r.job_id = qid_.empty() ? ctx.queue_id() : qid_;
    r.hostname = ctx.macro("j").value_or("unknown-host");
    r.envelope_from = envfrom_;
    if (r.envelope_from.size() >= 2 && r.envelope_from.front() == '<' && r.envelope_from.back() == '>') {
      r.envelope_from = r.envelope_from.substr(1, r.envelope_from.size() - 2);
    }
    r.source_ip = ip_ ? ip_->to_string() : std::string();
    r.message_id = "(none)";
    for (const auto& f : headers_) {
      if (f.is("Message-ID")) {
        r.message_id = f.value;
        break;
      }
    }
    r.user_agent = std::string("inkan-dkim/") + INKAN_VERSION;
    r.result = *primary;
    if (auto sig = auth::dkim::parse_signature(sigf->value)) {
      r.canonical_header = inkan::dkim::canonical_signed_headers(headers_, primary->field_index, sig->canon.header);
    }
    // The kept body is the top signature's: it is used when that one is reported.
    if (report_body_ && primary->field_index == 0) r.canonical_body = report_body_->finish();
    for (const auto& f : headers_) {
      std::string v(f.raw_value());
      std::string line = f.name + ":" + ((v.empty() || v.front() == ' ' || v.front() == '\t') ? "" : " ");
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') continue;
        line.push_back(v[i]);
      }
      r.header_fields.push_back(std::move(line));
    }
    p.mta_command = s.mta_command;
    p.resolver = cfg_->resolver;
    p.log = &ctx.log();
    report_ = std::move(p);
  }

  /// A rejected or tempfailed bad signature with r=y: the reply starts with the signing
  /// domain's rs= text, "<rs>: bad DKIM signature data" (opendkim.c dkimf_libstatus; lab:
  /// opendkim 2.11 -t). Whatever SendReports says; the _report record is looked up here.
  void add_report_prefix(Action& act, const std::vector<auth::dkim::SignatureResult>& results) {
    auto target = primary_report_target(results);
    if (!target) return;
    auth::dns::Answer ans = cfg_->resolver->query("_report._domainkey." + target->result->domain, auth::dns::RType::TXT);
    if (!ans.ok() || ans.txt.empty()) return;
    if (auto rs = inkan::dkim::report_smtp_text(ans.txt.front().joined())) act.reply->text = *rs + ": " + act.reply->text;
  }

  /// After the verdict: hands a prepared report to the background sender (never in -t).
  void send_report(Context&) {
    if (!report_) return;
    if (!cfg_->test_mode) reports_.send(std::move(*report_));
    report_.reset();
  }
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
  // test.c's dkimf_test_addrcpt / dkimf_test_delrcpt: printed with -vv, always granted.
  auth::Result<void> add_recipient(std::string_view rcpt) override {
    if (verbose_ > 1) std::printf("### ADDRCPT: '%.*s'\n", int(rcpt.size()), rcpt.data());
    return {};
  }
  auth::Result<void> delete_recipient(std::string_view rcpt) override {
    if (verbose_ > 1) std::printf("### DELRCPT: '%.*s'\n", int(rcpt.size()), rcpt.data());
    return {};
  }
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
      if (verbose >= 2) continue;
      // test.c prints through dkim_getsighdr() into `u_char hdr[DKIM_MAXHEADER + 1]` after
      // "DKIM-Signature: " (room 4097 - 14 - 2 bytes with the NUL): a longer value (CRLF line
      // ends; a huge z= can make one) is not printed. Values of 4080-4083 bytes cannot occur
      // (the layout jumps from 4079 to 4084 there), so the exact boundary is not observable.
      constexpr std::size_t kTestSigHeaderRoom = 4096 + 1 - 14 - 2;
      const std::size_t crlf_len = value.size() + static_cast<std::size_t>(std::count(value.begin(), value.end(), '\n'));
      if (crlf_len >= kTestSigHeaderRoom) {
        std::fprintf(stderr, "%s: %s: dkim_getsighdr(): Resource unavailable\n", prog.c_str(), file.c_str());
        continue;
      }
      std::printf("%s: %s:\n%s: %s\n", prog.c_str(), file.c_str(), name.c_str(), value.c_str());
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

/// The name inkan-dkim answers to when started as `opendkim` (a symlink in opendkim's place,
/// anchor-features §8 "same binary names and paths, or symlinks").
constexpr std::string_view kOpendkimName = "opendkim";

class DkimApp final : public MilterApp {
 public:
  /// `program`: "inkan-dkim", or "opendkim" when started under that name: then messages, -t
  /// output and the syslog ident carry it as opendkim's do (it uses basename(argv[0])), so
  /// log rules written for opendkim keep matching, and /etc/opendkim.conf is read first.
  explicit DkimApp(std::string program) {
    const bool as_opendkim = program == kOpendkimName;
    info_.name = as_opendkim ? std::string(kOpendkimName) : "inkan-dkim";
    // -V and the start-up line say what runs: "opendkim 0.1.0 (inkan-dkim)".
    info_.version = as_opendkim ? std::string(INKAN_VERSION) + " (inkan-dkim)" : std::string(INKAN_VERSION);
    info_.default_socket = "inet:8891@localhost";
    info_.default_config_paths = {"/etc/inkan/inkan.yaml", "/etc/opendkim.conf"};
    if (as_opendkim) info_.default_config_paths = {"/etc/opendkim.conf", "/etc/inkan/inkan.yaml"};
    info_.command_line.program = info_.name;
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
    // odkim.add_rcpt / odkim.del_rcpt (FinalPolicyScript): asked for when offered, whatever the
    // configuration, so a reload that adds a script finds them (opendkim 2.11 never asks; lab).
    info_.needs.add_rcpt = info_.needs.delete_rcpt = true;
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
      c->s = auth::config::load_dkim_settings(path, yaml, dataset_reader());
    } else {
      c->s.sign_headers = auth::config::opendkim_default_sign_headers();
      c->s.omit_headers = auth::config::opendkim_default_omit_headers();
    }
    apply_overrides(c->s, path);
    auto h = inkan::dkim::build_host_lists(c->s);
    if (!h) throw ConfigError(path, 0, "", h.error().reason);
    c->hosts = std::move(*h);
    // Lua policy scripts: read and compiled once per load; a syntax error is a start-up error
    // (opendkim 2.11 crashes on one).
    auto script = [&](const std::string& file, const char* option) -> std::shared_ptr<const inkan::dkim::lua::Script> {
      if (file.empty()) return nullptr;
      auto sc = inkan::dkim::lua::Script::load_file(file);
      if (!sc) throw ConfigError(path, 0, option, sc.error().reason);
      return *sc;
    };
    c->lua_setup = script(c->s.setup_script, "SetupPolicyScript");
    c->lua_screen = script(c->s.screen_script, "ScreenPolicyScript");
    c->lua_final = script(c->s.final_script, "FinalPolicyScript");
    if (!c->s.replace_rules.empty()) {
      auto rw = auth::config::HeaderRewriter::compile(c->s.replace_rules);
      if (!rw) throw ConfigError(path, 0, "ReplaceRules", rw.error().reason);
      c->rewriter = std::make_shared<const auth::config::HeaderRewriter>(std::move(*rw));
    }
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
    for (const auto& w : resolver_notes_) log.warning(w);
    cfg_.set(std::move(c));
  }

  void reload(const std::string& path, ConfigFormat format) override {
    auto old = cfg_.get();
    load_config(path, format);
    auto c = std::make_shared<DkimConfig>(*cfg_.get());
    if (c->s.nameservers != old->s.nameservers || c->s.dns_timeout != old->s.dns_timeout ||
        c->s.test_dns != old->s.test_dns || c->s.dnssec_resolver != old->s.dnssec_resolver) {
      make_resolver(c->s);
      if (log_) {
        for (const auto& w : resolver_notes_) log_->warning(w);
      }
    }
    c->resolver = resolver_;
    c->key_records = key_records_;
    if (log_) {
      for (const auto& w : c->s.warnings) log_->warning(w);
    }
    cfg_.set(std::move(c));
  }

  std::unique_ptr<Session> new_session(const ConnInfo& conn) override {
    return std::make_unique<DkimSession>(cfg_.get(), keys_, reports_, conn);
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
    resolver_notes_.clear();
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
    // TrustAnchorFile / dns.dnssec: resolver: ask for the AD bit and trust it (Postfix's model).
    o.request_ad = s.dnssec_resolver;
    auto r = auth::dns::CaresResolver::create(o);
    if (!r) throw std::runtime_error("DNS resolver: " + r.error().reason);
    if (s.dnssec_resolver) {
      // Postfix's caveat (DNSSEC_README, smtp_dns_support_level): the AD bit is only as
      // trustworthy as the path to the resolver (RFC 4035 §4.9.3, RFC 6840 §5.8).
      for (const auto& ns : (*r)->servers()) {
        if (!auth::dns::CaresResolver::nameserver_is_loopback(ns)) {
          resolver_notes_.push_back("DNSSEC: resolver " + ns +
                                    " is not on loopback: keys it marks authenticated (AD bit) are reported"
                                    " 'secure' although nothing protects the path to it; use a validating"
                                    " resolver on 127.0.0.1 or ::1");
        }
      }
    }
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
    c->test_mode = true;
    // dkimf_config_load opens PeerList only when not in test mode: the test "client"
    // (127.0.0.1) is never a peer, so `-t` runs even when PeerList names localhost.
    c->hosts.peers = auth::net::HostList{};
    // ExternalIgnoreList and ExemptDomains are not opened in test mode either ("str != NULL &&
    // !testmode"): -t signs mail from an exempt domain, as opendkim -t does.
    c->hosts.external_ignore = auth::net::HostList{};
    c->s.exempt_domains.clear();
    c->s.live_lists.exempt_domains.reset();
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
    DkimSession session(cfg, keys_, reports_, conn);
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
    // dsn: / ldap: (opendkim's DKIMF_DB_TYPE_DSN / _LDAP): asked once, as opendkim -Q does.
    const auth::config::FileReader reader = dataset_reader();
    if (const auto* open = auth::config::live_opener_of(reader); open && auth::config::is_live_dataset_spec(spec)) {
      auth::config::LiveDatasetOptions lo;
      auto live = (*open)(spec, lo);
      if (!live || !*live) {
        std::fprintf(stderr, "%s: %s: dkimf_db_open(): %s\n", prog.c_str(), spec.c_str(),
                     live ? "no data set" : live.error().reason.c_str());
        return kExSoftware;
      }
      if (tty) std::printf("%s: enter 'query/n' where 'n' is number of fields to request\n", prog.c_str());
      if (!read_line(query)) {
        std::fprintf(stderr, "%s: fgets(): end of input\n", prog.c_str());
        return kExOsErr;
      }
      auto ans = inkan::dkim::answer_live_query(**live, query, prog);
      std::fputs(ans.err.c_str(), stderr);
      std::fputs(ans.out.c_str(), stdout);
      std::fflush(stdout);
      return ans.exit_code;
    }
    std::optional<auth::config::Dataset> d;
    try {
      d.emplace(auth::config::Dataset::open(spec, false, "-Q", reader));
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
    else std::fprintf(stderr, "%s: -e %s: value not printable\n", info_.name.c_str(), name.c_str());
  }

  AppInfo info_;
  CommandLine cl_;
  Snapshot<DkimConfig> cfg_;
  KeyCache keys_;
  ReportSender reports_;
  std::shared_ptr<auth::dns::Resolver> resolver_;
  std::vector<std::string> resolver_notes_;  ///< start-up warnings of make_resolver (DNSSEC path)
  std::shared_ptr<auth::dkim::KeyCache> key_records_ = std::make_shared<auth::dkim::KeyCache>();
  Logger* log_ = nullptr;
  bool loaded_once_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::string_view argv0 = argc > 0 && argv[0] ? argv[0] : "";
  if (auto slash = argv0.rfind('/'); slash != std::string_view::npos) argv0.remove_prefix(slash + 1);
  DkimApp app{std::string(argv0)};
  return inkan::milter::run_milter(app, argc, argv);
}
