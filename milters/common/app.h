// inkan::milter — the interface a milter daemon implements, and what the runtime offers it.
//
// A daemon is a MilterApp (configuration, reload, sessions) plus a Session per SMTP
// connection (the per-connection/per-message state machine). The runtime (runtime.h) owns
// everything libmilter: registration, the xxfi_* callbacks (all noexcept), the smfi_getpriv
// session pointer, macros, replies and header changes, and turns any exception a session
// throws into the configured default action and one log line (DESIGN.md "Behaviour under
// faults": never a crash, never a dropped message).
//
// Threads: libmilter serves connections from worker threads (Debian builds it with a worker
// pool), one callback of a connection at a time: a Session is never used by two threads at
// once, but consecutive callbacks may run on different threads (no thread_local state).
// MilterApp::new_session() and reload() may run concurrently. Apps keep their
// configuration in a Snapshot<Config> (below): new_session() takes the current snapshot,
// reload() builds a new one and swaps it in, and sessions in flight keep the old one.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "common/action.h"
#include "common/cmdline.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/protocol.h"
#include "common/settings.h"

namespace inkan::milter {

/// Atomically swappable immutable configuration (the reload thread writes, sessions read).
template <typename Config>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<const Config> c) : cur_(std::move(c)) {}
  std::shared_ptr<const Config> get() const noexcept { return cur_.load(std::memory_order_acquire); }
  void set(std::shared_ptr<const Config> c) noexcept { cur_.store(std::move(c), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const Config>> cur_;
};

/// What the MTA told us at connect.
struct ConnInfo {
  std::string hostname;  ///< the client's verified name, or "[192.0.2.1]" (Postfix)
  PeerAddress peer;
  bool header_leading_space = false;  ///< negotiated SMFIP_HDR_LEADSPC
};

/// Per-callback services: macros, the message's summary line, logging and counters.
class Context {
 public:
  virtual ~Context() = default;
  /// A macro's value, "i" or "{auth_authen}" alike; nullopt when the MTA did not send it.
  virtual std::optional<std::string> macro(std::string_view name) const = 0;
  /// The queue id (`i` macro) of the current message, or kNoQueueId.
  virtual std::string queue_id() const = 0;
  /// The current message's summary line (key=value). The runtime logs it at info, queue id
  /// first, when the message ends (EOM or abort), if it is not empty.
  virtual LogLine& summary() = 0;
  virtual Logger& log() = 0;
  virtual Metrics& metrics() = 0;
};

/// Changes a session may make at end of message. Values use LF-only folding ("\n\t"); they
/// are checked (action.h) and a bad one is an internal error, not a header injection.
/// Header indexes follow libmilter: insert_header index 0 = before the first header;
/// change_header/delete_header index = 1-based occurrence of that name; on the wire a change
/// to an empty value is a deletion (libmilter smfi_chgheader), so use delete_header for that.
class MessageOps {
 public:
  virtual ~MessageOps() = default;
  virtual auth::Result<void> add_header(std::string_view name, std::string_view value) = 0;
  virtual auth::Result<void> insert_header(int index, std::string_view name,
                                           std::string_view value) = 0;
  virtual auth::Result<void> change_header(std::string_view name, int index,
                                           std::string_view value) = 0;
  virtual auth::Result<void> delete_header(std::string_view name, int index) = 0;
  /// Replaces the body (may be called repeatedly, each call appends). Needs change_body.
  virtual auth::Result<void> replace_body(std::span<const unsigned char> chunk) = 0;
  /// Adds an envelope recipient (SMFIR_ADDRCPT; libmilter smfi_addrcpt), sent as given
  /// ("a@example.org" or "<a@example.org>"). Needs Needs::add_rcpt granted by the MTA.
  /// Errors: Invalid for an empty address or one with CR, LF or NUL; Internal when the
  /// action was not negotiated (or the connection is lost).
  virtual auth::Result<void> add_recipient(std::string_view rcpt) = 0;
  /// Removes an envelope recipient (SMFIR_DELRCPT; smfi_delrcpt): `rcpt` as the MTA sent it
  /// in RCPT TO, brackets optional. Needs Needs::delete_rcpt granted. Errors as add_recipient.
  virtual auth::Result<void> delete_recipient(std::string_view rcpt) = 0;
  /// Tells the MTA we are still working (resets its timeout) during a long EOM.
  virtual void progress() = 0;
};

/// One SMTP connection's state machine. Every callback may throw: the runtime answers the
/// default action. Each message ends with on_eom or on_abort; reset per-message state there.
class Session {
 public:
  virtual ~Session() = default;
  virtual Action on_connect(Context&, const ConnInfo&) { return Action::cont(); }
  virtual Action on_helo(Context&, std::string_view /*helo*/) { return Action::cont(); }
  /// args[0] is the address ("<a@b>"), the rest ESMTP parameters.
  virtual Action on_envfrom(Context&, std::span<const std::string> /*args*/) { return Action::cont(); }
  virtual Action on_envrcpt(Context&, std::span<const std::string> /*args*/) { return Action::cont(); }
  virtual Action on_data(Context&) { return Action::cont(); }
  /// The value as the MTA sent it: LF-only folding; leading space only if negotiated.
  virtual Action on_header(Context&, std::string_view /*name*/, std::string_view /*value*/) {
    return Action::cont();
  }
  virtual Action on_eoh(Context&) { return Action::cont(); }
  /// Body chunks (CRLF line ends, up to 65535 bytes each).
  virtual Action on_body(Context&, std::span<const unsigned char> /*chunk*/) { return Action::cont(); }
  virtual Action on_eom(Context&, MessageOps&) { return Action::accept(); }
  virtual void on_abort(Context&) {}
  virtual void on_close(Context&) {}
};

/// Static facts about a daemon.
struct AppInfo {
  std::string name;            ///< "inkan-dkim": syslog ident, milter name, program name
  std::string version;         ///< printed by -V
  std::string default_socket;  ///< "inet:8891@localhost"
  /// Configuration files tried in order when none is given (the first that exists wins);
  /// none existing means built-in defaults (load_config gets an empty path).
  std::vector<std::string> default_config_paths;
  CommandLineSpec command_line;  ///< program, config letters, extra letters
  Needs needs;                 ///< flags and steps to negotiate
  std::string metrics_prefix;  ///< "inkan_dkim"
};

/// The daemon. Lifecycle: info() → load_config() (may throw) → [fork, bind, drop privileges]
/// → start() → new_session()* / reload()* → stop().
class MilterApp {
 public:
  virtual ~MilterApp() = default;
  virtual const AppInfo& info() const = 0;

  /// Parses the daemon's extra command-line letters (after the common ones are applied).
  /// Throw ConfigError for bad values. Default: nothing.
  virtual void apply_command_line(const CommandLine&) {}

  /// Loads configuration, tables and keys (runs as root, before privileges are dropped, and
  /// before the fork: start no threads here). `path` is empty when no file exists.
  /// Throws ConfigError (or std::exception) with file, line and option; -n stops after this.
  virtual void load_config(const std::string& path, ConfigFormat format) = 0;

  /// The process settings from the loaded configuration (socket, UMask, UserID, PidFile ...).
  /// Command-line values are applied on top by the runtime.
  virtual RuntimeSettings runtime_settings() const = 0;

  /// After daemonising and dropping privileges, before the first connection: start worker
  /// threads (resolver, report writer). Throwing here aborts start-up (exit 71).
  virtual void start(Logger&, Metrics&) {}

  /// Re-reads configuration, tables and keys; on failure throw and keep the current ones.
  /// Runs on the reload thread while sessions are active. Default: load_config again.
  virtual void reload(const std::string& path, ConfigFormat format) { load_config(path, format); }

  /// A new session for a connection, bound to the current configuration snapshot.
  virtual std::unique_ptr<Session> new_session(const ConnInfo&) = 0;

  /// Whether on_connect may answer something other than Continue under the current
  /// configuration (inkan-dkim: a PeerList is set). While it may, Needs::no_reply_connect is
  /// not honoured: a connection-level Accept or Reject must reach the MTA at connect, not be
  /// held into the first message. Asked at every negotiation, from any thread.
  virtual bool connect_may_decide() const noexcept { return true; }

  /// Graceful stop: the listener is closed and in-flight messages finished (or timed out).
  virtual void stop() {}
};

}  // namespace inkan::milter
