// The libmilter glue and the process around it. See runtime.h for the sequence.
//
// Signals. libmilter's smfi_main() blocks SIGHUP, SIGTERM and SIGINT in its own thread and
// starts a signal thread that sigwait()s for them and *stops* the milter on SIGHUP. inkan
// wants SIGHUP to reload, so:
//   - the main thread blocks SIGHUP/SIGUSR1/SIGTERM/SIGINT before any thread exists (every
//     thread inherits the mask) and runs smfi_main() on a second thread;
//   - the main thread, which is the thread-group leader, sits in sigwait(). Linux's
//     complete_signal() hands a process-directed signal to the thread it was sent to — the
//     leader — when that thread is waiting for it, so kill(pid, SIGHUP) wakes us, not
//     libmilter. The main thread only hands the work to the reload thread and goes straight
//     back to sigwait(), so the window in which it is not waiting stays tiny.
//   - should libmilter's thread win anyway (SIGTERM/SIGINT, or a SIGHUP in that window), it
//     stops the listener; the milter thread then wakes the main thread, which stops
//     gracefully — the same outcome as the predecessors' SIGHUP behaviour.
// TCP. Accepted TCP connections get TCP_NODELAY from the accept() interposer in
// tcp_nodelay.cpp (libmilter has no hook for them); run_milter() logs the state at start-up.
// Callbacks. Every xxfi_* function below is noexcept and goes through guard(): an exception
// from the daemon's Session becomes the configured default action, one error line and a
// counter; the session is marked poisoned and replaced at the next message.
#include "common/runtime.h"

#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "auth/net/socketspec.h"
#include "common/engine.h"
#include "common/link.h"
#include "common/process.h"
#include "common/read_buffer.h"
#include "common/tcp_nodelay.h"

namespace inkan::milter {

static_assert(flags::kAddHeaders == SMFIF_ADDHDRS);
static_assert(flags::kChangeBody == SMFIF_CHGBODY);
static_assert(flags::kChangeHeaders == SMFIF_CHGHDRS);
static_assert(flags::kQuarantine == SMFIF_QUARANTINE);
static_assert(flags::kAddRcpt == SMFIF_ADDRCPT);
static_assert(flags::kDeleteRcpt == SMFIF_DELRCPT);
static_assert(flags::kSetSymList == SMFIF_SETSYMLIST);
static_assert(steps::kNoConnect == SMFIP_NOCONNECT);
static_assert(steps::kNoHelo == SMFIP_NOHELO);
static_assert(steps::kNoMail == SMFIP_NOMAIL);
static_assert(steps::kNoRcpt == SMFIP_NORCPT);
static_assert(steps::kNoBody == SMFIP_NOBODY);
static_assert(steps::kNoHeaders == SMFIP_NOHDRS);
static_assert(steps::kNoEoh == SMFIP_NOEOH);
static_assert(steps::kNoUnknown == SMFIP_NOUNKNOWN);
static_assert(steps::kNoData == SMFIP_NODATA);
static_assert(steps::kSkip == SMFIP_SKIP);
static_assert(steps::kHeaderLeadingSpace == SMFIP_HDR_LEADSPC);
static_assert(steps::kNoReplyHeader == SMFIP_NR_HDR);
static_assert(steps::kNoReplyConnect == SMFIP_NR_CONN);
static_assert(steps::kNoReplyHelo == SMFIP_NR_HELO);
static_assert(steps::kNoReplyMail == SMFIP_NR_MAIL);
static_assert(steps::kNoReplyRcpt == SMFIP_NR_RCPT);
static_assert(steps::kNoReplyData == SMFIP_NR_DATA);
static_assert(steps::kNoReplyUnknown == SMFIP_NR_UNKN);
static_assert(steps::kNoReplyEoh == SMFIP_NR_EOH);
static_assert(steps::kNoReplyBody == SMFIP_NR_BODY);

namespace {

/// Longest configuration prefix read for format detection (the daemon reads the whole file).
constexpr std::size_t kFormatSniffBytes = 64 * 1024;
/// Time given to libmilter to write the last replies before the process exits.
constexpr std::chrono::milliseconds kReplyFlushDelay{200};

enum class Stage { Negotiate, Connect, Helo, EnvFrom, EnvRcpt, Data, Header, Eoh, Body, Eom, Abort, Close, Unknown };

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::Negotiate: return "negotiate";
    case Stage::Connect: return "connect";
    case Stage::Helo: return "helo";
    case Stage::EnvFrom: return "envfrom";
    case Stage::EnvRcpt: return "envrcpt";
    case Stage::Data: return "data";
    case Stage::Header: return "header";
    case Stage::Eoh: return "eoh";
    case Stage::Body: return "body";
    case Stage::Eom: return "eom";
    case Stage::Abort: return "abort";
    case Stage::Close: return "close";
    case Stage::Unknown: return "unknown";
  }
  return "?";
}

bool is_message_stage(Stage s) {
  return s == Stage::EnvFrom || s == Stage::EnvRcpt || s == Stage::Data || s == Stage::Header ||
         s == Stage::Eoh || s == Stage::Body || s == Stage::Eom;
}

/// The SMFIP_NR_* bit of a stage (0: the stage always has a reply).
unsigned long no_reply_bit(Stage s) {
  switch (s) {
    case Stage::Connect: return steps::kNoReplyConnect;
    case Stage::Helo: return steps::kNoReplyHelo;
    case Stage::EnvFrom: return steps::kNoReplyMail;
    case Stage::EnvRcpt: return steps::kNoReplyRcpt;
    case Stage::Data: return steps::kNoReplyData;
    case Stage::Header: return steps::kNoReplyHeader;
    case Stage::Eoh: return steps::kNoReplyEoh;
    case Stage::Body: return steps::kNoReplyBody;
    case Stage::Unknown: return steps::kNoReplyUnknown;
    default: return 0;
  }
}

/// Whether a verdict at this stage ends the message for the MTA (RFC-less milter semantics:
/// reject/tempfail at RCPT concern that recipient only).
bool ends_message(Stage s, Verdict v) {
  if (v == Verdict::Continue || v == Verdict::Skip || v == Verdict::Quarantine) return s == Stage::Eom;
  if (s == Stage::EnvRcpt) return v == Verdict::Accept || v == Verdict::Discard;
  return is_message_stage(s);
}

/* ---------------- Process-wide state (libmilter is process-global) ---------------- */

struct Runtime {
  MilterApp* app = nullptr;
  Logger log;
  std::unique_ptr<Metrics> metrics;
  std::atomic<DefaultAction> on_error{DefaultAction::TempFail};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  long inflight = 0;  // messages between envfrom and eom/abort (guarded by mu)
  std::atomic<long> active_callbacks{0};  // xxfi_* bodies running right now
  Counter* connections_total = nullptr;
  Gauge* connections_active = nullptr;
  Gauge* messages_inflight = nullptr;
};

Runtime* g_rt = nullptr;

/* ---------------- Per connection ---------------- */

class Conn final : public Context {
 public:
  MtaLink* link = nullptr;  ///< the connection's engine handle, refreshed at every callback
  Negotiated neg;
  ConnInfo info;
  bool connected = false;
  std::unique_ptr<Session> session;
  bool poisoned = false;
  std::string helo;
  bool have_helo = false;
  bool in_message = false;
  LogLine line;
  std::string qid;
  std::string pending_quarantine;
  /// An answer other than CONTINUE given at a no-reply step (SMFIP_NR_*): held until the
  /// next step the MTA waits for (runtime of Needs::no_reply_*), with the action's name for
  /// the message's log line. The session is not called in between.
  std::optional<sfsistat> held;
  std::string held_action;
  /// A connection-level answer (Accept, Reject, TempFail) from on_connect when connect is a
  /// no-reply step (Needs::no_reply_connect): it stands for every message of the connection
  /// and is given at each message's first step with a reply, as the MTA would have applied
  /// it at connect.
  std::optional<sfsistat> connect_held;
  std::string connect_held_action;

  bool no_reply(Stage st) const { return (neg.no_reply & no_reply_bit(st)) != 0; }

  std::optional<std::string> macro(std::string_view name) const override {
    if (link == nullptr) return std::nullopt;
    const char* v = link->symval(macro_lookup_name(name));
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  }
  std::string queue_id() const override {
    if (!qid.empty()) return qid;
    auto v = macro("i");
    return v && !v->empty() ? printable(*v, 64) : std::string(kNoQueueId);
  }
  LogLine& summary() override { return line; }
  Logger& log() override { return g_rt->log; }
  Metrics& metrics() override { return *g_rt->metrics; }

  void refresh_qid() {
    if (!qid.empty()) return;
    if (auto v = macro("i"); v && !v->empty()) qid = printable(*v, 64);
  }
};

Conn* conn_of(MtaLink& link, bool create) {
  auto* c = static_cast<Conn*>(link.priv());
  if (c == nullptr && create) {
    c = new Conn();
    link.set_priv(c);
    if (link.priv() != c) {
      delete c;
      return nullptr;
    }
  }
  if (c != nullptr) c->link = &link;
  return c;
}

void end_message(Conn& c, std::string_view action) noexcept {
  if (!c.in_message) return;
  try {
    c.refresh_qid();
    if (!c.line.empty()) g_rt->log.info(c.queue_id() + ": " + c.line.str());
    g_rt->metrics->counter("actions_total", "Final milter actions per message.",
                           {{"action", std::string(action)}})
        .inc();
  } catch (...) {
  }
  c.in_message = false;
  c.line.clear();
  c.qid.clear();
  c.pending_quarantine.clear();
  c.held.reset();
  c.held_action.clear();
  {
    std::lock_guard lock(g_rt->mu);
    --g_rt->inflight;
    g_rt->messages_inflight->set(g_rt->inflight);
  }
  g_rt->cv.notify_all();
}

sfsistat default_status() noexcept {
  return g_rt->on_error.load() == DefaultAction::Accept ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

/// Replaces a poisoned session and replays connect/helo so it has the connection's state.
/// Returns false when that fails too (the connection stays poisoned).
bool revive(Conn& c) {
  c.session.reset();
  c.session = g_rt->app->new_session(c.info);
  Action a = c.session->on_connect(c, c.info);
  if (a.verdict == Verdict::Continue && c.have_helo) a = c.session->on_helo(c, c.helo);
  if (a.verdict != Verdict::Continue) return false;
  c.poisoned = false;
  g_rt->log.notice(c.queue_id() + ": session replaced after an internal error");
  return true;
}

void begin_message(Conn& c) {
  if (c.in_message) end_message(c, "unfinished");
  c.in_message = true;
  c.line.clear();
  c.qid.clear();
  c.pending_quarantine.clear();
  c.held.reset();
  c.held_action.clear();
  {
    std::lock_guard lock(g_rt->mu);
    ++g_rt->inflight;
    g_rt->messages_inflight->set(g_rt->inflight);
  }
}

void set_reply(Conn& c, const Action& a) {
  if (!a.reply) return;
  auto r = sanitize_reply(a.verdict, *a.reply);
  if (!r) {
    g_rt->log.error(c.queue_id() + ": bad SMTP reply from the daemon, MTA default used: " + r.error().reason);
    g_rt->metrics->count_error("bad_reply");
    return;
  }
  if (!c.link->setreply(r->rcode, r->xcode, r->text)) {
    g_rt->log.error(c.queue_id() + ": the reply was refused; MTA default used");
    g_rt->metrics->count_error("bad_reply");
  }
}

sfsistat apply(Conn& c, Stage st, const Action& a) {
  switch (a.verdict) {
    case Verdict::Continue: return SMFIS_CONTINUE;
    case Verdict::Accept: return SMFIS_ACCEPT;
    case Verdict::Reject: set_reply(c, a); return SMFIS_REJECT;
    case Verdict::TempFail: set_reply(c, a); return SMFIS_TEMPFAIL;
    case Verdict::Discard:
      if (is_message_stage(st)) return SMFIS_DISCARD;
      g_rt->log.error(c.queue_id() + ": discard requested at " + stage_name(st) + "; ignored");
      return SMFIS_CONTINUE;
    case Verdict::Quarantine:
      if (st == Stage::Eom) {
        std::string reason = a.quarantine_reason.empty() ? "quarantined" : a.quarantine_reason;
        for (char& ch : reason) {
          if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
        }
        if (!c.link->quarantine(reason)) {
          g_rt->log.error(c.queue_id() + ": quarantine failed");
          g_rt->metrics->count_error("quarantine");
        }
        return SMFIS_ACCEPT;
      }
      if (is_message_stage(st)) {
        c.pending_quarantine = a.quarantine_reason.empty() ? "quarantined" : a.quarantine_reason;
      }
      return SMFIS_CONTINUE;
    case Verdict::Skip:
      return (st == Stage::Body && c.neg.skip) ? SMFIS_SKIP : SMFIS_CONTINUE;
  }
  return SMFIS_CONTINUE;
}

/// Handles an exception escaping a session: default action, log, counter, poison.
sfsistat on_exception(Conn* c, Stage st, const char* what) noexcept {
  sfsistat status = default_status();
  try {
    DefaultAction d = g_rt->on_error.load();
    std::string qid = c ? c->queue_id() : std::string(kNoQueueId);
    g_rt->log.error(qid + ": internal error at " + stage_name(st) + ": " + printable(what, 200) +
                    "; answering " + std::string(to_string(d)));
    g_rt->metrics->count_error("internal");
    if (c != nullptr) {
      c->poisoned = true;
      Verdict v = d == DefaultAction::Accept ? Verdict::Accept : Verdict::TempFail;
      if (c->in_message) {
        c->line.add("error", "internal").add("action", to_string(d));
        if (c->no_reply(st)) {
          // No reply allowed here: the default action waits for the next reply.
          if (!c->held) {
            c->held = status;
            c->held_action = to_string(d);
          }
          return SMFIS_NOREPLY;
        }
        if (ends_message(st, v)) end_message(*c, to_string(d));
      }
    }
  } catch (...) {
  }
  if (st == Stage::Abort || st == Stage::Close) return SMFIS_CONTINUE;
  if (c != nullptr && c->no_reply(st)) return SMFIS_NOREPLY;
  return status;
}

/// Runs a callback body with the exception barrier.
struct CallbackScope {
  CallbackScope() noexcept { g_rt->active_callbacks.fetch_add(1); }
  ~CallbackScope() { g_rt->active_callbacks.fetch_sub(1); }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
};

template <typename F>
sfsistat guard(MtaLink& link, Stage st, F&& body) noexcept {
  CallbackScope scope;
  Conn* c = nullptr;
  try {
    c = conn_of(link, st == Stage::Negotiate || st == Stage::Connect);
    if (c == nullptr) {
      g_rt->log.error(std::string("no session state at ") + stage_name(st));
      return (st == Stage::Abort || st == Stage::Close) ? SMFIS_CONTINUE : default_status();
    }
    return body(*c);
  } catch (const std::exception& e) {
    return on_exception(c, st, e.what());
  } catch (...) {
    return on_exception(c, st, "unknown exception");
  }
}

/// The answer of a message stage, through the no-reply rules: at a no-reply step a CONTINUE
/// becomes NOREPLY and anything else is held (the first one wins); at a step with a reply a
/// held answer is given now instead. `ends` says whether `s` ends the message.
sfsistat answer(Conn& c, Stage st, sfsistat s, std::string_view action, bool ends) {
  if (c.no_reply(st)) {
    if (s != SMFIS_CONTINUE && s != SMFIS_NOREPLY && s != SMFIS_SKIP && !c.held) {
      c.held = s;
      c.held_action = std::string(action);
    }
    return SMFIS_NOREPLY;
  }
  if (ends && c.in_message) end_message(c, action);
  return s;
}

/// Common path of the message-stage callbacks.
template <typename F>
sfsistat message_step(MtaLink& link, Stage st, F&& call) noexcept {
  return guard(link, st, [&](Conn& c) -> sfsistat {
    // A new MAIL FROM: whatever came before is over (the MTA may skip ABORT after ACCEPT).
    if (st == Stage::EnvFrom && c.in_message) end_message(c, "unfinished");
    const DefaultAction d = g_rt->on_error.load();
    const bool d_ends = ends_message(st, d == DefaultAction::Accept ? Verdict::Accept : Verdict::TempFail);
    if (!c.in_message) {
      begin_message(c);
      if (g_rt->stopping.load()) {
        // Shutting down: new messages get what the MTA would get with the daemon gone.
        c.line.add("action", to_string(d)).add("reason", "shutting down");
        return answer(c, st, default_status(), to_string(d), d_ends);
      }
      if (c.poisoned && !revive(c)) {
        c.line.add("error", "session unavailable");
        return answer(c, st, default_status(), to_string(d), d_ends);
      }
    }
    if (c.connect_held) {
      if (c.no_reply(st)) return SMFIS_NOREPLY;
      if (c.in_message) end_message(c, c.connect_held_action);
      return *c.connect_held;
    }
    if (c.held) {
      // Decided at an earlier no-reply step: give that answer at the first step with a reply.
      if (c.no_reply(st)) return SMFIS_NOREPLY;
      sfsistat h = *c.held;
      std::string name = c.held_action;
      c.held.reset();
      if (c.in_message) end_message(c, name);
      return h;
    }
    if (c.poisoned || !c.session) {
      // The session failed earlier in this message: the rest of it gets the default action.
      return answer(c, st, default_status(), to_string(d), d_ends);
    }
    c.refresh_qid();
    Action a = call(c);
    sfsistat s = apply(c, st, a);
    return answer(c, st, s, to_string(a.verdict), ends_message(st, a.verdict));
  });
}

/* ---------------- MessageOps over the engine ---------------- */

class LinkMessageOps final : public MessageOps {
 public:
  explicit LinkMessageOps(MtaLink& link) : link_(link) {}

  auth::Result<void> add_header(std::string_view name, std::string_view value) override {
    auto checked = check(name, value);
    if (!checked) return auth::fail(checked.error());
    if (!link_.addheader(std::string(name), *checked)) return refused("addheader");
    return auth::ok();
  }
  auth::Result<void> insert_header(int index, std::string_view name, std::string_view value) override {
    auto checked = check(name, value);
    if (!checked) return auth::fail(checked.error());
    if (!link_.insheader(index < 0 ? 0 : index, std::string(name), *checked)) return refused("insheader");
    return auth::ok();
  }
  auth::Result<void> change_header(std::string_view name, int index, std::string_view value) override {
    auto checked = check(name, value);
    if (!checked) return auth::fail(checked.error());
    if (!link_.chgheader(std::string(name), index, &*checked)) return refused("chgheader");
    return auth::ok();
  }
  auth::Result<void> delete_header(std::string_view name, int index) override {
    if (auto r = validate_header_name(name); !r) return r;
    if (!link_.chgheader(std::string(name), index, nullptr)) return refused("chgheader");
    return auth::ok();
  }
  auth::Result<void> replace_body(std::span<const unsigned char> chunk) override {
    std::size_t off = 0;
    do {
      std::size_t n = std::min<std::size_t>(chunk.size() - off, 65535);
      if (!link_.replacebody(chunk.data() + off, n)) return refused("replacebody");
      off += n;
    } while (off < chunk.size());
    return auth::ok();
  }
  auth::Result<void> add_recipient(std::string_view rcpt) override {
    if (auto r = check_rcpt(rcpt); !r) return r;
    if (!link_.addrcpt(std::string(rcpt))) return refused("addrcpt");
    return auth::ok();
  }
  auth::Result<void> delete_recipient(std::string_view rcpt) override {
    if (auto r = check_rcpt(rcpt); !r) return r;
    if (!link_.delrcpt(std::string(rcpt))) return refused("delrcpt");
    return auth::ok();
  }
  void progress() override { link_.progress(); }

 private:
  /// An address goes out as one NUL-terminated string: no NUL, and no line breaks that a
  /// queue file or a log could take for a record boundary.
  static auth::Result<void> check_rcpt(std::string_view rcpt) {
    if (rcpt.empty()) return auth::fail(auth::ErrorCode::Invalid, "empty recipient address");
    if (rcpt.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return auth::fail(auth::ErrorCode::Invalid, "recipient address contains CR, LF or NUL");
    }
    return auth::ok();
  }
  static auth::Result<std::string> check(std::string_view name, std::string_view value) {
    if (auto r = validate_header_name(name); !r) return auth::fail(r.error());
    return normalize_header_value(value);
  }
  static auth::Unexpected refused(const char* what) {
    return auth::fail(auth::ErrorCode::Internal,
                      std::string(what) + " failed (action not negotiated, or connection lost)");
  }
  MtaLink& link_;
};

/* ---------------- libmilter as an MtaLink ---------------- */

class SmfiLink final : public MtaLink {
 public:
  explicit SmfiLink(SMFICTX* ctx) : ctx_(ctx) {}
  void* priv() override { return smfi_getpriv(ctx_); }
  void set_priv(void* p) override { smfi_setpriv(ctx_, p); }
  const char* symval(const std::string& name) override {
    std::string n = name;
    return smfi_getsymval(ctx_, n.data());
  }
  bool setreply(const std::string& rcode, const std::string& xcode, const std::string& text) override {
    std::string r = rcode, x = xcode, t = text;
    return smfi_setreply(ctx_, r.data(), x.empty() ? nullptr : x.data(), t.empty() ? nullptr : t.data()) ==
           MI_SUCCESS;
  }
  bool quarantine(const std::string& reason) override {
    std::string r = reason;
    return smfi_quarantine(ctx_, r.data()) == MI_SUCCESS;
  }
  bool addheader(const std::string& name, const std::string& value) override {
    std::string n = name, v = value;
    return smfi_addheader(ctx_, n.data(), v.data()) == MI_SUCCESS;
  }
  bool insheader(int index, const std::string& name, const std::string& value) override {
    std::string n = name, v = value;
    return smfi_insheader(ctx_, index, n.data(), v.data()) == MI_SUCCESS;
  }
  bool chgheader(const std::string& name, int index, const std::string* value) override {
    std::string n = name;
    std::string v = value ? *value : std::string();
    return smfi_chgheader(ctx_, n.data(), index, value ? v.data() : nullptr) == MI_SUCCESS;
  }
  bool replacebody(const unsigned char* p, std::size_t n) override {
    // libmilter takes a non-const pointer but only reads it.
    return smfi_replacebody(ctx_, const_cast<unsigned char*>(p), static_cast<int>(n)) == MI_SUCCESS;
  }
  bool addrcpt(const std::string& rcpt) override {
    std::string r = rcpt;
    return smfi_addrcpt(ctx_, r.data()) == MI_SUCCESS;
  }
  bool delrcpt(const std::string& rcpt) override {
    std::string r = rcpt;
    return smfi_delrcpt(ctx_, r.data()) == MI_SUCCESS;
  }
  void progress() override { smfi_progress(ctx_); }

 private:
  SMFICTX* ctx_;
};

/* ---------------- The protocol steps (link.h), for any engine ---------------- */

std::vector<std::string> collect_args(char** argv) {
  std::vector<std::string> v;
  for (std::size_t i = 0; argv != nullptr && argv[i] != nullptr && i < 1024; ++i) v.emplace_back(argv[i]);
  return v;
}

}  // namespace

namespace step {

int negotiate(MtaLink& link, unsigned long f0, unsigned long f1, unsigned long* pf0,
              unsigned long* pf1) noexcept {
  return guard(link, Stage::Negotiate, [&](Conn& c) -> sfsistat {
    Needs needs = g_rt->app->info().needs;
    if (needs.no_reply_connect && g_rt->app->connect_may_decide()) needs.no_reply_connect = false;
    c.neg = inkan::milter::negotiate(f0, f1, needs);
    *pf0 = c.neg.actions;
    *pf1 = c.neg.protocol;  // includes the SMFIP_NR_* steps (c.neg.no_reply)
    if (!c.neg.ok) {
      g_rt->log.error("the MTA does not offer required milter actions (" + c.neg.missing +
                      "); every message gets the default action");
      g_rt->metrics->count_error("negotiation");
      c.poisoned = true;
    }
    return SMFIS_CONTINUE;
  });
}

int connect(MtaLink& link, const char* hostname, const sockaddr* addr) noexcept {
  return guard(link, Stage::Connect, [&](Conn& c) -> sfsistat {
    g_rt->connections_total->inc();
    if (!c.connected) g_rt->connections_active->add(1);
    c.connected = true;
    c.info.hostname = hostname ? hostname : "";
    c.info.peer = peer_from_sockaddr(addr);
    c.info.header_leading_space = c.neg.header_leading_space;
    sfsistat s = default_status();  // negotiation failed
    if (!c.poisoned) {
      c.session = g_rt->app->new_session(c.info);
      s = apply(c, Stage::Connect, c.session->on_connect(c, c.info));
    }
    if (!c.no_reply(Stage::Connect)) return s;
    if (s != SMFIS_CONTINUE && s != SMFIS_NOREPLY) {
      c.connect_held = s;
      c.connect_held_action = s == SMFIS_ACCEPT ? "accept" : s == SMFIS_REJECT ? "reject" : "tempfail";
    }
    return SMFIS_NOREPLY;
  });
}

int helo(MtaLink& link, const char* helo) noexcept {
  return guard(link, Stage::Helo, [&](Conn& c) -> sfsistat {
    c.helo = helo ? helo : "";
    c.have_helo = true;
    if (c.poisoned || !c.session) return default_status();
    return apply(c, Stage::Helo, c.session->on_helo(c, c.helo));
  });
}

int envfrom(MtaLink& link, const std::vector<std::string>& args) noexcept {
  return message_step(link, Stage::EnvFrom, [&](Conn& c) { return c.session->on_envfrom(c, args); });
}

int envrcpt(MtaLink& link, const std::vector<std::string>& args) noexcept {
  return message_step(link, Stage::EnvRcpt, [&](Conn& c) { return c.session->on_envrcpt(c, args); });
}

int data(MtaLink& link) noexcept {
  return message_step(link, Stage::Data, [&](Conn& c) { return c.session->on_data(c); });
}

int header(MtaLink& link, const char* name, const char* value) noexcept {
  return message_step(link, Stage::Header, [&](Conn& c) {
    return c.session->on_header(c, name ? name : "", value ? value : "");
  });
}

int eoh(MtaLink& link) noexcept {
  return message_step(link, Stage::Eoh, [&](Conn& c) { return c.session->on_eoh(c); });
}

int body(MtaLink& link, const unsigned char* p, std::size_t len) noexcept {
  return message_step(link, Stage::Body, [&](Conn& c) {
    return c.session->on_body(c, std::span<const unsigned char>(p, p ? len : 0));
  });
}

int eom(MtaLink& link) noexcept {
  return message_step(link, Stage::Eom, [&](Conn& c) {
    if (!c.pending_quarantine.empty()) {
      if (!link.quarantine(c.pending_quarantine)) g_rt->log.error(c.queue_id() + ": quarantine failed");
      c.pending_quarantine.clear();
    }
    LinkMessageOps ops(link);
    return c.session->on_eom(c, ops);
  });
}

int abort(MtaLink& link) noexcept {
  return guard(link, Stage::Abort, [&](Conn& c) -> sfsistat {
    if (c.session && !c.poisoned && c.in_message) c.session->on_abort(c);
    end_message(c, "aborted");
    return SMFIS_CONTINUE;
  });
}

int close(MtaLink& link) noexcept {
  Conn* c = static_cast<Conn*>(link.priv());
  if (c == nullptr) return SMFIS_CONTINUE;
  c->link = &link;
  try {
    if (c->session && !c->poisoned) c->session->on_close(*c);
  } catch (const std::exception& e) {
    on_exception(c, Stage::Close, e.what());
  } catch (...) {
    on_exception(c, Stage::Close, "unknown exception");
  }
  end_message(*c, "disconnected");
  if (c->connected) g_rt->connections_active->add(-1);
  link.set_priv(nullptr);
  try {
    delete c;  // destroys the session: its destructor must not throw (it is noexcept)
  } catch (...) {
  }
  return SMFIS_CONTINUE;
}

int unknown(MtaLink& link, const char*) noexcept {
  return guard(link, Stage::Unknown, [&](Conn&) -> sfsistat { return SMFIS_CONTINUE; });
}

}  // namespace step

namespace {

/* ---------------- The xxfi_* callbacks (libmilter engine) ---------------- */

sfsistat cb_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) noexcept {
  SmfiLink l(ctx);
  *pf2 = 0;
  *pf3 = 0;
  return step::negotiate(l, f0, f1, pf0, pf1);
}
sfsistat cb_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) noexcept {
  SmfiLink l(ctx);
  return step::connect(l, hostname, addr);
}
sfsistat cb_helo(SMFICTX* ctx, char* helo) noexcept {
  SmfiLink l(ctx);
  return step::helo(l, helo);
}
sfsistat cb_envfrom(SMFICTX* ctx, char** argv) noexcept {
  SmfiLink l(ctx);
  std::vector<std::string> args;
  try {
    args = collect_args(argv);
  } catch (...) {
  }
  return step::envfrom(l, args);
}
sfsistat cb_envrcpt(SMFICTX* ctx, char** argv) noexcept {
  SmfiLink l(ctx);
  std::vector<std::string> args;
  try {
    args = collect_args(argv);
  } catch (...) {
  }
  return step::envrcpt(l, args);
}
sfsistat cb_data(SMFICTX* ctx) noexcept {
  SmfiLink l(ctx);
  return step::data(l);
}
sfsistat cb_header(SMFICTX* ctx, char* name, char* value) noexcept {
  SmfiLink l(ctx);
  return step::header(l, name, value);
}
sfsistat cb_eoh(SMFICTX* ctx) noexcept {
  SmfiLink l(ctx);
  return step::eoh(l);
}
sfsistat cb_body(SMFICTX* ctx, unsigned char* p, size_t len) noexcept {
  SmfiLink l(ctx);
  return step::body(l, p, len);
}
sfsistat cb_eom(SMFICTX* ctx) noexcept {
  SmfiLink l(ctx);
  return step::eom(l);
}
sfsistat cb_abort(SMFICTX* ctx) noexcept {
  SmfiLink l(ctx);
  return step::abort(l);
}
sfsistat cb_close(SMFICTX* ctx) noexcept {
  SmfiLink l(ctx);
  return step::close(l);
}
sfsistat cb_unknown(SMFICTX* ctx, const char* cmd) noexcept {
  SmfiLink l(ctx);
  return step::unknown(l, cmd);
}

/* ---------------- Start-up helpers ---------------- */

[[noreturn]] void die(const std::string& prog, int code, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", prog.c_str(), msg.c_str());
  std::exit(code);
}

ConfigFormat sniff_format(const std::string& path) {
  if (path.empty() || path == "-") return ConfigFormat::Legacy;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
  std::string head(kFormatSniffBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return detect_config_format(path, head);
}

void apply_command_line_overrides(RuntimeSettings& s, const CommandLine& cl) {
  if (cl.socket) s.socket = *cl.socket;
  if (cl.user) s.user = *cl.user;
  if (cl.pidfile) s.pidfile = *cl.pidfile;
  if (cl.metrics) s.metrics = *cl.metrics;
  if (cl.syslog) s.syslog = true;
}

Logger::Options logger_options(const AppInfo& info, const RuntimeSettings& s, bool to_stderr, int verbose) {
  Logger::Options o;
  o.ident = s.syslog_name.empty() ? info.name : s.syslog_name;
  o.facility = parse_syslog_facility(s.syslog_facility).value_or(LOG_MAIL);
  o.to_syslog = s.syslog;
  o.to_stderr = to_stderr;
  o.verbose = verbose;
  return o;
}

/// Called by the accept() interposer when TCP_NODELAY cannot be set on an MTA connection:
/// one error line, counted every time (tcp_nodelay.cpp). The connection is served anyway.
void on_tcp_nodelay_failure(int err) noexcept {
  static std::atomic<bool> warned{false};
  if (g_rt == nullptr) return;
  try {
    if (g_rt->metrics) g_rt->metrics->count_error("tcp_nodelay");
    if (!warned.exchange(true)) {
      g_rt->log.error(std::string("cannot set TCP_NODELAY on an MTA connection (") + std::strerror(err) +
                        "): each message may wait ~40 ms for a delayed ACK");
    }
  } catch (...) {
  }
}

/// One line at start-up on the TCP small-write stall and its cure (tcp_nodelay.h): debug
/// when handled, an error when the executable was linked without the accept() interposer.
void log_tcp_nodelay(Logger& log, const auth::net::SocketSpec& sock) {
  if (!read_buffer_interposed()) {
    log.warning("read()/poll()/close() are not interposed: libmilter reads every command with four "
                "system calls instead of one buffered read per batch");
  }
  if (sock.is_local()) {
    log.debug("unix socket: TCP_NODELAY not needed");
  } else if (accept_interposed()) {
    log.debug("TCP_NODELAY set on every accepted TCP connection (accept() interposed): libmilter writes "
              "the end-of-message changes and the reply separately, which Nagle and the MTA's delayed ACK "
              "would stall ~40 ms per message");
    if (!writev_interposed()) {
      log.warning("writev() is not interposed: TCP_QUICKACK is not re-armed after replies, so the MTA's "
                  "split writes may wait for our delayed ACK (~40 ms); a unix socket avoids it");
    }
  } else {
    log.error("accept() is not interposed (executable linked without exporting it): TCP connections "
                "keep Nagle's algorithm and each message may wait ~40 ms; a unix socket avoids it");
  }
}

struct Reloader {
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;
  bool quit = false;
};

}  // namespace

int run_milter(MilterApp& app, int argc, char** argv) {
  static Runtime rt;  // lives until _exit: libmilter threads may still hold pointers into it
  g_rt = &rt;
  rt.app = &app;
  const AppInfo& info = app.info();
  const std::string prog = info.name;

  /* Command line. */
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  CommandLineSpec spec = info.command_line;
  if (spec.program.empty()) spec.program = info.name;
  auto parsed = parse_command_line(spec, args);
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n%s", prog.c_str(), parsed.error().reason.c_str(), usage_text(spec).c_str());
    return kExitUsage;
  }
  const CommandLine cl = std::move(*parsed);
  if (cl.help) {
    std::fputs(usage_text(spec).c_str(), stdout);
    return kExitOk;
  }
  if (cl.version) {
    unsigned major = 0, minor = 0, patch = 0;
    smfi_version(&major, &minor, &patch);
    std::printf("%s %s\n  libmilter %u.%u.%u (SMFI_VERSION 0x%x), milter protocol %d\n", prog.c_str(),
                info.version.c_str(), major, minor, patch, SMFI_VERSION, SMFI_PROT_VERSION);
    return kExitOk;
  }

  /* Configuration. */
  std::string config_path;
  if (cl.config) {
    config_path = *cl.config;
  } else {
    for (const auto& p : info.default_config_paths) {
      if (access(p.c_str(), F_OK) == 0) {
        config_path = p;
        break;
      }
    }
  }
  RuntimeSettings settings;
  try {
    app.apply_command_line(cl);
    ConfigFormat format = sniff_format(config_path);
    app.load_config(config_path, format);
    settings = app.runtime_settings();
  } catch (const std::exception& e) {
    die(prog, kExitConfig, e.what());
  }
  apply_command_line_overrides(settings, cl);
  if (settings.socket.empty()) settings.socket = info.default_socket;
  auto sock = auth::net::parse_socket_spec(settings.socket);
  if (!sock) {
    die(prog, kExitConfig,
        ConfigError(cl.socket ? "" : config_path, 0, "Socket",
                    "bad socket '" + printable(settings.socket) + "': " + sock.error().reason)
            .what());
  }
  std::optional<Credentials> creds;
  if (!settings.user.empty()) {
    auto us = parse_user_spec(settings.user);
    auto c = us ? resolve_user(*us) : auth::Result<Credentials>(auth::fail(us.error()));
    if (!c) die(prog, kExitConfig, ConfigError(cl.user ? "" : config_path, 0, "UserID", c.error().reason).what());
    creds = *c;
  }
  if (!settings.metrics.empty()) {
    if (auto hp = parse_host_port(settings.metrics); !hp) {
      die(prog, kExitConfig, ConfigError(cl.metrics ? "" : config_path, 0, "metrics", hp.error().reason).what());
    }
  }
  if (cl.check_only) return kExitOk;

  const bool foreground = cl.foreground || !settings.background;
  rt.log.configure(logger_options(info, settings, cl.foreground, cl.verbose));
  rt.on_error.store(settings.on_internal_error);
  rt.metrics = std::make_unique<Metrics>(info.metrics_prefix.empty() ? "inkan" : info.metrics_prefix);
  rt.connections_total = &rt.metrics->counter("connections_total", "MTA connections accepted.");
  rt.connections_active = &rt.metrics->gauge("connections_active", "MTA connections open.");
  rt.messages_inflight = &rt.metrics->gauge("messages_in_flight", "Messages being processed.");

  /* Bind the socket (as root, before the fork): the native engine (engine.h), or libmilter
     when INKAN_MILTER_ENGINE=libmilter. */
  const char* engine_env = std::getenv("INKAN_MILTER_ENGINE");
  const bool use_libmilter = engine_env != nullptr && std::string_view(engine_env) == "libmilter";
  static std::string conn_spec = sock->to_string();
  static std::unique_ptr<NativeEngine> native;
  if (!use_libmilter) {
    EngineOptions eo;
    if (settings.milter_timeout > 0) eo.timeout_seconds = static_cast<int>(settings.milter_timeout);
    if (settings.umask) umask(*settings.umask);
    auto e = NativeEngine::listen(*sock, eo);
    if (!e) die(prog, kExitOsErr, "cannot listen on " + conn_spec + ": " + e.error().reason);
    native = std::move(*e);
  }
  static std::string milter_name = info.name;
  smfiDesc desc{};
  desc.xxfi_name = milter_name.data();
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = (info.needs.add_headers ? SMFIF_ADDHDRS : 0) | (info.needs.change_headers ? SMFIF_CHGHDRS : 0) |
                    (info.needs.quarantine ? SMFIF_QUARANTINE : 0) | (info.needs.change_body ? SMFIF_CHGBODY : 0) |
                    (info.needs.add_rcpt ? SMFIF_ADDRCPT : 0) | (info.needs.delete_rcpt ? SMFIF_DELRCPT : 0);
  desc.xxfi_connect = cb_connect;
  desc.xxfi_helo = cb_helo;
  desc.xxfi_envfrom = cb_envfrom;
  desc.xxfi_envrcpt = cb_envrcpt;
  desc.xxfi_header = cb_header;
  desc.xxfi_eoh = cb_eoh;
  desc.xxfi_body = cb_body;
  desc.xxfi_eom = cb_eom;
  desc.xxfi_abort = cb_abort;
  desc.xxfi_close = cb_close;
  desc.xxfi_unknown = cb_unknown;
  desc.xxfi_data = cb_data;
  desc.xxfi_negotiate = cb_negotiate;
  if (use_libmilter) {
    if (smfi_register(desc) != MI_SUCCESS) die(prog, kExitSoftware, "smfi_register failed");
    if (smfi_setconn(conn_spec.data()) != MI_SUCCESS) die(prog, kExitConfig, "smfi_setconn refused " + conn_spec);
    if (settings.milter_timeout > 0) smfi_settimeout(static_cast<int>(settings.milter_timeout));
    if (settings.umask) umask(*settings.umask);
    errno = 0;
    if (smfi_opensocket(true) != MI_SUCCESS) {
      die(prog, kExitOsErr,
          "cannot listen on " + conn_spec + (errno ? std::string(": ") + std::strerror(errno) : std::string()));
    }
  }
  if (sock->is_local() && creds && geteuid() == 0) {
    if (chown(sock->path.c_str(), creds->uid, creds->gid) != 0) {
      rt.log.warning("cannot chown " + sock->path + ": " + std::strerror(errno));
    }
  }

  set_tcp_nodelay_failure_hook(on_tcp_nodelay_failure);

  /* Signals are blocked in every thread from here on; the main thread sigwait()s. */
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  /* Background. */
  ReadyNotifier notifier;
  if (!foreground) {
    auto d = daemonize();
    if (!d) die(prog, kExitOsErr, d.error().reason);
    notifier = *d;
  }
  auto fail_start = [&](int code, const std::string& msg) -> int {
    rt.log.critical(msg);
    notifier.failed(code, prog + ": " + msg);
    if (!notifier.active() && foreground && !cl.foreground) std::fprintf(stderr, "%s: %s\n", prog.c_str(), msg.c_str());
    std::fflush(nullptr);
    _exit(code);
  };
  if (cl.autorestart) rt.log.notice("-A ignored: let the service manager restart the daemon");

  /* PidFile, metrics endpoint, privileges. */
  if (!settings.pidfile.empty()) {
    if (auto r = write_pidfile(settings.pidfile); !r) fail_start(kExitOsErr, r.error().reason);
  }
  std::unique_ptr<MetricsServer> metrics_server;
  if (!settings.metrics.empty()) {
    auto srv = MetricsServer::start(settings.metrics, [] { return g_rt->metrics->render(); }, &rt.log);
    if (!srv) fail_start(kExitOsErr, "metrics endpoint: " + srv.error().reason);
    metrics_server = std::move(*srv);
    if (!metrics_server->loopback()) {
      rt.log.warning("metrics endpoint " + settings.metrics + " is not on a loopback address");
    }
    rt.log.info("metrics at http://" + settings.metrics.substr(0, settings.metrics.rfind(':')) + ":" +
                std::to_string(metrics_server->port()) + "/metrics");
  }
  if (!settings.chroot_dir.empty()) {
    // ChangeRootDirectory, as opendkim: after binding, before giving up root.
    if (!creds && ::geteuid() == 0) rt.log.warning("ChangeRootDirectory without UserID: still running as root");
    if (auto r = change_root(settings.chroot_dir); !r) fail_start(kExitOsErr, r.error().reason);
    rt.log.info("changed root directory to " + settings.chroot_dir);
  }
  if (creds) {
    if (auto r = drop_privileges(*creds); !r) fail_start(kExitOsErr, "cannot drop privileges: " + r.error().reason);
  }
  try {
    app.start(rt.log, *rt.metrics);
  } catch (const std::exception& e) {
    fail_start(kExitOsErr, std::string("start-up failed: ") + e.what());
  }

  /* Serve. */
  const pthread_t main_thread = pthread_self();
  static std::atomic<int> milter_status{MI_SUCCESS};
  static std::atomic<bool> milter_done{false};
  std::thread milter_thread([main_thread, use_libmilter] {
    if (use_libmilter) {
      milter_status.store(smfi_main());
    } else {
      milter_status.store(native->serve() ? MI_SUCCESS : MI_FAILURE);
    }
    milter_done.store(true);
    if (!g_rt->stopping.load()) pthread_kill(main_thread, SIGTERM);  // wake the main thread
  });
  Reloader reloader;
  std::thread reload_thread([&] {
    for (;;) {
      {
        std::unique_lock lock(reloader.mu);
        reloader.cv.wait(lock, [&] { return reloader.requested || reloader.quit; });
        if (reloader.quit) return;
        reloader.requested = false;
      }
      try {
        app.reload(config_path, sniff_format(config_path));
        RuntimeSettings ns = app.runtime_settings();
        apply_command_line_overrides(ns, cl);
        if (ns.socket.empty()) ns.socket = info.default_socket;
        rt.on_error.store(ns.on_internal_error);
        rt.log.configure(logger_options(info, ns, cl.foreground, cl.verbose));
        auto fixed = [&](bool changed, const char* what) {
          if (changed) rt.log.notice(std::string(what) + " changed; it takes effect after a restart");
        };
        fixed(ns.socket != settings.socket, "Socket");
        fixed(ns.user != settings.user, "UserID");
        fixed(ns.pidfile != settings.pidfile, "PidFile");
        fixed(ns.chroot_dir != settings.chroot_dir, "ChangeRootDirectory");
        fixed(ns.umask != settings.umask, "UMask");
        fixed(ns.metrics != settings.metrics, "metrics");
        rt.log.info("configuration reloaded" + (config_path.empty() ? std::string() : " from " + config_path));
        rt.metrics->counter("reloads_total", "Configuration reloads.", {{"result", "ok"}}).inc();
      } catch (const std::exception& e) {
        rt.log.error(std::string("reload failed, keeping the current configuration: ") + e.what());
        rt.metrics->counter("reloads_total", "Configuration reloads.", {{"result", "failed"}}).inc();
      }
    }
  });
  notifier.ready();
  log_tcp_nodelay(rt.log, *sock);
  rt.log.info(prog + " " + info.version + " starting (" + conn_spec + ")");
  rt.log.debug(std::string("milter protocol engine: ") + (use_libmilter ? "libmilter" : "native"));

  int stop_signal = 0;
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP || sig == SIGUSR1) {
      {
        std::lock_guard lock(reloader.mu);
        reloader.requested = true;
      }
      reloader.cv.notify_one();
      continue;
    }
    stop_signal = sig;
    break;
  }

  /* Graceful stop. Debian's libmilter serves sessions from a worker pool that stops polling
     them as soon as smfi_stop() is called, so messages in flight are drained first: new
     messages get the default action meanwhile, and only then is the listener stopped. */
  rt.stopping.store(true);
  {
    std::unique_lock lock(rt.mu);
    rt.log.info(std::string("stopping on ") + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + "; finishing " +
                std::to_string(rt.inflight) + " message(s) in flight");
    bool drained = rt.cv.wait_for(lock, std::chrono::seconds(settings.graceful_stop_seconds),
                                  [&] { return rt.inflight == 0; });
    if (!drained) {
      rt.log.warning(std::to_string(rt.inflight) + " message(s) still in flight after " +
                     std::to_string(settings.graceful_stop_seconds) + "s; the MTA applies its default action");
    }
  }
  // libmilter writes a callback's reply after the callback returns: let the last EOM answer
  // reach the MTA before leaving (XXX: a settle delay, as libmilter offers no hook after the
  // write; the write follows the return immediately).
  const auto settle_until = std::chrono::steady_clock::now() + std::chrono::seconds(settings.graceful_stop_seconds);
  while (rt.active_callbacks.load() > 0 && std::chrono::steady_clock::now() < settle_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(kReplyFlushDelay);
  // No smfi_stop(): it blocks on the listener's mutex for up to MI_CHK_TIME (5 s) while the
  // listener sits in select(), and nothing is left for libmilter to do; _exit below closes
  // the listening socket (the UNIX socket file stays, as with the predecessors, §1.2).
  bool listener_failed = milter_done.load() && milter_status.load() != MI_SUCCESS;
  if (native) native->stop();
  milter_thread.detach();
  {
    std::lock_guard lock(reloader.mu);
    reloader.quit = true;
  }
  reloader.cv.notify_one();
  reload_thread.join();
  try {
    app.stop();
  } catch (const std::exception& e) {
    rt.log.error(std::string("stop: ") + e.what());
  }
  metrics_server.reset();
  if (!settings.pidfile.empty()) {
    if (auto r = remove_pidfile(settings.pidfile); !r) rt.log.warning(r.error().reason);
  }
  int code = listener_failed ? kExitOsErr : kExitOk;
  if (listener_failed) rt.log.error("the milter listener failed");
  rt.log.info(prog + " terminating with status " + std::to_string(code));
  std::fflush(nullptr);
  // libmilter's connection threads may still be parked on idle MTA connections: leave without
  // running static destructors under them.
  _exit(code);
}

}  // namespace inkan::milter
