// inkan-spf event loop (see server.h).
#include "spf/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "auth/dns/cache.h"
#include "auth/dns/cares_resolver.h"
#include "auth/policy/protocol.h"
#include "auth/policy/spf_policy.h"
#include "auth/spf/evaluator.h"

namespace inkan::spf {

namespace {

using Clock = std::chrono::steady_clock;
namespace policy = auth::policy;

/// Bytes read per read(2) call.
constexpr std::size_t kReadChunk = 16 * 1024;
/// Most client connections served at once (Postfix opens one per smtpd process; local policy).
constexpr std::size_t kMaxConnections = 4096;
/// Unsent reply bytes after which a connection that does not read is dropped (local policy).
constexpr std::size_t kMaxPendingOutput = 256 * 1024;

std::atomic<int> g_signal_pipe{-1};
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGHUP || sig == SIGUSR1) {
    g_reload.store(true);
  } else {
    g_stop.store(true);
  }
  int fd = g_signal_pipe.load();
  if (fd >= 0) {
    char b = 1;
    [[maybe_unused]] auto n = ::write(fd, &b, 1);
  }
  errno = saved;
}

void set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct Conn {
  std::uint64_t id = 0;
  int in_fd = -1;
  int out_fd = -1;
  policy::RequestReader reader;
  policy::InstanceCache cache;
  std::string out;
  std::shared_ptr<policy::SpfPolicyCheck> pending;
  bool busy = false;
  bool eof = false;
  bool broken = false;
  bool in_pump = false;
  // Input arrived while a request was in progress (a pipelining client, or EOF): stop watching
  // the input until the connection is idle again. Input stays registered while a check waits
  // for DNS otherwise, so a cache miss costs no epoll_ctl.
  bool in_paused = false;
  // epoll interest currently registered: for in_fd (EPOLLIN, plus EPOLLOUT when out_fd is the
  // same fd) and, in spawn mode, for a separate out_fd (EPOLLOUT).
  std::uint32_t in_events = 0;
  std::uint32_t out_events = 0;
  // epoll refuses regular files and /dev/null (EPERM): such an fd is always ready.
  bool in_always_ready = false;
  bool out_always_ready = false;
};

// epoll_data.u64 = kind << kKindShift | value (conn id, or fd for the listen/DNS sockets).
// Conn ids are never reused, so a stale event for a closed connection finds nothing.
constexpr int kKindShift = 56;
constexpr std::uint64_t kValueMask = (std::uint64_t{1} << kKindShift) - 1;
enum class Kind : std::uint64_t { Signal = 1, Listen = 2, Conn = 3, Dns = 4 };
constexpr std::uint64_t tag(Kind k, std::uint64_t value) {
  return (static_cast<std::uint64_t>(k) << kKindShift) | (value & kValueMask);
}
/// epoll_wait batch size (more ready fds are returned by the next call).
constexpr int kMaxEvents = 64;
constexpr std::uint32_t kIn = EPOLLIN;
constexpr std::uint32_t kOut = EPOLLOUT;

class Server {
 public:
  Server(ServerOptions o, milter::Logger& log, auth::dns::Resolver& resolver,
         auth::dns::CaresResolver& cares)
      : opts_(std::move(o)), log_(log), resolver_(resolver), cares_(cares) {}
  ~Server() {
    if (ep_ >= 0) ::close(ep_);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int run();

 private:
  void add_conn(int in_fd, int out_fd);
  void close_conn(std::uint64_t id);
  void pump(Conn& c);
  void on_verdict(std::uint64_t id, const policy::SpfPolicyInput& in, Clock::time_point t0,
                  policy::SpfVerdict v);
  void flush(Conn& c);
  void read_conn(Conn& c);
  void accept_on(int fd);
  void reload();
  void log_verdict(const policy::SpfPolicyInput& in, const policy::SpfVerdict& v,
                   Clock::time_point t0);
  // epoll bookkeeping
  bool ep_set(int fd, std::uint32_t& registered, std::uint32_t want, std::uint64_t data);
  void settle(std::uint64_t id);
  void settle_dirty();
  void set_listening(bool on);
  void sync_dns_fds();
  int next_timeout_ms();
  void run_deadlines();

  ServerOptions opts_;
  milter::Logger& log_;
  auth::dns::Resolver& resolver_;
  auth::dns::CaresResolver& cares_;
  std::unordered_map<std::uint64_t, Conn> conns_;
  std::uint64_t next_id_ = 1;
  int ep_ = -1;
  bool listening_ = false;
  // Connections whose state changed since their epoll interest was last brought up to date.
  std::vector<std::uint64_t> dirty_;
  // Connections with a check waiting for DNS (deadline-driven); usually empty with a warm cache.
  std::unordered_set<std::uint64_t> waiting_;
  // Connections with an fd epoll refuses (spawn mode with a file on stdin/stdout).
  std::vector<std::uint64_t> always_ready_;
  // c-ares sockets registered with epoll. c-ares may close a socket and open another that gets
  // the same number within one iteration (epoll forgot the old one at close): the inode tells.
  struct DnsFd {
    std::uint32_t events = 0;
    ino_t ino = 0;
  };
  std::unordered_map<int, DnsFd> dns_fds_;
  // Completions may still arrive while the resolvers are torn down after run(): they check it.
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);
};

void Server::add_conn(int in_fd, int out_fd) {
  Conn c;
  c.id = next_id_++;
  c.in_fd = in_fd;
  c.out_fd = out_fd;
  // A fresh client fd may reuse the number of a c-ares socket closed meanwhile (epoll dropped
  // that registration at close): forget it so the DNS sync does not unregister the client.
  dns_fds_.erase(in_fd);
  dns_fds_.erase(out_fd);
  dirty_.push_back(c.id);
  conns_.emplace(c.id, std::move(c));
}

void Server::close_conn(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (!opts_.spawn) {
    ::close(c.in_fd);  // drops its epoll registration too
  } else {
    if (c.in_events != 0) ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.in_fd, nullptr);
    if (c.out_fd != c.in_fd && c.out_events != 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.out_fd, nullptr);
    }
  }
  waiting_.erase(id);
  conns_.erase(it);
}

void Server::log_verdict(const policy::SpfPolicyInput& in, const policy::SpfVerdict& v,
                         Clock::time_point t0) {
  const auto& s = *opts_.settings;
  int level = s.debug_level;
  if (level < 1 || (v.from_cache && level < 2)) return;
  // policyd-spf's line ("QID: prepend Received-SPF: ...", "QID: 550 5.7.23 ...") so existing
  // logwatch/fail2ban rules keep matching, then inkan's key=value summary.
  std::string line;
  if (s.queue_id) line = (in.queue_id.empty() ? std::string("NOQUEUE") : in.queue_id) + ": ";
  line += milter::printable(v.action, 2000);
  milter::LogLine kv;
  kv.add("client", in.client_address.value_or(""));
  kv.add("helo", in.helo_name.value_or(""));
  kv.add("sender", in.sender.value_or(""));
  kv.add("receiver", in.recipient);
  if (v.helo_result) kv.add("spf_helo", auth::spf::to_string(*v.helo_result));
  if (v.mail_from_result) kv.add("spf_mailfrom", auth::spf::to_string(*v.mail_from_result));
  if (!v.bypass.empty()) kv.add("bypass", v.bypass);
  if (v.per_user_line != 0) kv.add("per_user_line", static_cast<long long>(v.per_user_line));
  if (v.from_cache) kv.add("cached", "yes");
  if (v.timed_out) kv.add("timeout", "yes");
  kv.add("decision", policy::to_string(v.decision));
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  kv.add("ms", static_cast<long long>(us / 1000));
  if (level >= 2 && !v.detail.empty()) kv.add("detail", v.detail, 300);
  log_.info(line + "; " + kv.str());
}

void Server::on_verdict(std::uint64_t id, const policy::SpfPolicyInput& in, Clock::time_point t0,
                        policy::SpfVerdict v) {
  log_verdict(in, v, t0);
  auto it = conns_.find(id);
  if (it == conns_.end()) return;  // the client went away meanwhile
  Conn& c = it->second;
  if (v.store && !in.instance.empty()) c.cache.put(in.instance, *v.store);
  c.out += policy::format_response(v.action);
  c.busy = false;
  c.pending.reset();
  waiting_.erase(id);
  dirty_.push_back(id);
  if (c.in_pump) return;  // pump() goes on with the next request and writes all replies at once
  flush(c);
  pump(c);
}

void Server::pump(Conn& c) {
  c.in_pump = true;
  std::uint64_t id = c.id;
  while (!c.busy && !c.broken) {
    auto req = c.reader.next();
    if (!req) break;
    const auto& s = opts_.settings;
    if (s->debug_level >= 4) {
      for (const auto& [n, val] : req->attributes) {
        log_.debug("Read line: \"" + milter::printable(n + "=" + val, 300) + "\"");
      }
    }
    if (req->malformed_lines > 0 && s->debug_level >= 0) {
      log_.warning("ERROR: Could not match " + std::to_string(req->malformed_lines) +
                   " request line(s); skipped");
    }
    auto in = policy::SpfPolicyInput::from_request(*req, *s);
    const policy::CachedDecision* cached =
        in.instance.empty() ? nullptr : c.cache.find(in.instance);
    c.busy = true;
    auto t0 = Clock::now();
    policy::SpfPolicyEnv env{opts_.hostname, {}};
    auto check = policy::SpfPolicyCheck::start(
        s, env, resolver_, in, cached,
        [this, alive = std::weak_ptr<char>(alive_), id, in, t0](policy::SpfVerdict v) {
          if (alive.expired()) return;
          on_verdict(id, in, t0, std::move(v));
        });
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    if (!check->done()) {
      it->second.pending = std::move(check);
      waiting_.insert(id);
    }
  }
  c.in_pump = false;
  flush(c);
  dirty_.push_back(id);
}

void Server::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::write(c.out_fd, c.out.data(), c.out.size());
    if (n > 0) {
      c.out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.broken = true;  // EPIPE etc.
    c.out.clear();
    break;
  }
  if (c.out.size() > kMaxPendingOutput) {
    c.broken = true;
    c.out.clear();
  }
}

void Server::read_conn(Conn& c) {
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = ::read(c.in_fd, buf, sizeof buf);
    if (n > 0) {
      c.reader.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (c.reader.failed()) {
        if (opts_.settings->debug_level >= 0) {
          log_.warning("policy client sent a bad stream (" + c.reader.error()->reason +
                       "); closing the connection");
        }
        c.broken = true;
        return;
      }
      if (static_cast<std::size_t>(n) < sizeof buf) return;
      continue;
    }
    if (n == 0) {
      c.eof = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c.eof = true;
    return;
  }
}

void Server::accept_on(int fd) {
  for (;;) {
    int cfd = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN or a transient error (EMFILE: retried at the next wakeup)
    }
    if (conns_.size() >= kMaxConnections) {
      log_.warning("too many policy connections (" + std::to_string(kMaxConnections) +
                   "); refusing one");
      ::close(cfd);
      continue;
    }
    add_conn(cfd, cfd);
  }
}

void Server::reload() {
  if (opts_.config_path.empty()) return;
  try {
    auto loaded = auth::config::load_spf_settings(opts_.config_path);
    for (const auto& w : loaded.warnings) log_.warning(w);
    opts_.settings =
        std::make_shared<const auth::config::SpfSettings>(std::move(loaded.settings));
    log_.notice("configuration reloaded from " + opts_.config_path +
                " (DNS servers are not reloadable)");
  } catch (const std::exception& e) {
    log_.error(std::string("reload failed, keeping the running configuration: ") + e.what());
  }
}

// Brings one fd's registration from `registered` to `want` (0 = not registered). Returns
// false if epoll refuses the fd (EPERM: regular file, /dev/null): the caller treats it as
// always ready, as poll(2) does.
bool Server::ep_set(int fd, std::uint32_t& registered, std::uint32_t want, std::uint64_t data) {
  if (want == registered) return true;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = data;
  int op = registered == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  int r = ::epoll_ctl(ep_, op, fd, &ev);
  if (r != 0 && op == EPOLL_CTL_ADD && errno == EEXIST) {
    r = ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }
  if (r != 0 && errno == EPERM) return false;
  registered = want;
  return true;
}

// After a connection changed: close it if it is finished, else register exactly the events it
// waits for. Level-triggered, and nothing changes on the fast path (request in, reply out), so
// a warm-cache request costs epoll_wait + read + write and no epoll_ctl.
void Server::settle(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  bool idle = !c.busy && c.reader.ready() == 0;
  if (c.broken || (c.eof && idle && c.out.empty())) {
    if (c.eof && c.reader.mid_request() && opts_.settings->debug_level >= 2) {
      log_.debug("policy client closed in the middle of a request");
    }
    close_conn(id);
    return;
  }
  // Input is read only when idle (Postfix never pipelines; a client that does waits in its
  // socket buffer), output watched only while a reply is unsent.
  if (idle) c.in_paused = false;
  std::uint32_t want_in = (!c.eof && !c.in_paused) ? kIn : 0u;
  std::uint32_t want_out = c.out.empty() ? 0u : kOut;
  if (c.in_fd == c.out_fd) {
    if (!c.in_always_ready &&
        !ep_set(c.in_fd, c.in_events, want_in | want_out, tag(Kind::Conn, id))) {
      c.in_always_ready = c.out_always_ready = true;
    }
  } else {
    if (!c.in_always_ready && !ep_set(c.in_fd, c.in_events, want_in, tag(Kind::Conn, id))) {
      c.in_always_ready = true;
    }
    if (!c.out_always_ready && !ep_set(c.out_fd, c.out_events, want_out, tag(Kind::Conn, id))) {
      c.out_always_ready = true;
    }
  }
  if ((c.in_always_ready && !c.eof && idle) || (c.out_always_ready && want_out != 0)) {
    always_ready_.push_back(id);
  }
}

void Server::settle_dirty() {
  // settle() may close connections but never dirties others, so one pass empties the list.
  std::vector<std::uint64_t> ids;
  ids.swap(dirty_);
  for (std::uint64_t id : ids) settle(id);
  std::sort(always_ready_.begin(), always_ready_.end());
  always_ready_.erase(std::unique(always_ready_.begin(), always_ready_.end()),
                      always_ready_.end());
}

void Server::set_listening(bool on) {
  if (on == listening_) return;
  for (int fd : opts_.listen_fds) {
    std::uint32_t reg = on ? 0u : kIn;
    ep_set(fd, reg, on ? kIn : 0u, tag(Kind::Listen, static_cast<std::uint64_t>(fd)));
  }
  listening_ = on;
}

// c-ares opens and closes its sockets inside query_async()/process_fd(): mirror its current
// set. Only while queries are pending or sockets are registered; an idle server skips it.
void Server::sync_dns_fds() {
  if (cares_.pending() == 0 && dns_fds_.empty()) return;
  auto inode = [](int fd) -> ino_t {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
  };
  auto now = cares_.fds();
  for (auto it = dns_fds_.begin(); it != dns_fds_.end();) {
    bool still = false;
    for (const auto& w : now) still = still || w.fd == it->first;
    if (!still) {
      // Unregister only the socket we registered (closed: epoll dropped it already).
      if (inode(it->first) == it->second.ino) ::epoll_ctl(ep_, EPOLL_CTL_DEL, it->first, nullptr);
      it = dns_fds_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& w : now) {
    std::uint32_t want = (w.readable ? kIn : 0u) | (w.writable ? kOut : 0u);
    ino_t ino = inode(w.fd);
    DnsFd& d = dns_fds_[w.fd];
    if (d.ino != ino) d = DnsFd{0, ino};  // a new socket behind this number
    ep_set(w.fd, d.events, want, tag(Kind::Dns, static_cast<std::uint64_t>(w.fd)));
  }
}

// The nearest c-ares timeout or Lookup_Time deadline; -1 (sleep until an fd is ready) when
// nothing waits for DNS.
int Server::next_timeout_ms() {
  if (!always_ready_.empty()) return 0;
  long timeout_ms = -1;
  if (cares_.pending() > 0) {
    auto dns_ms = cares_.next_timeout();
    if (dns_ms.count() >= 0) timeout_ms = static_cast<long>(dns_ms.count());
  }
  if (waiting_.empty()) return static_cast<int>(timeout_ms);
  auto now = Clock::now();
  for (std::uint64_t id : waiting_) {
    auto it = conns_.find(id);
    if (it == conns_.end() || !it->second.pending) continue;
    if (auto d = it->second.pending->deadline()) {
      long ms = static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count()) + 1;
      if (ms < 0) ms = 0;
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
    }
  }
  return static_cast<int>(timeout_ms);
}

// Lookup_Time / Whitelist_Lookup_Time.
void Server::run_deadlines() {
  if (waiting_.empty()) return;
  std::vector<std::shared_ptr<policy::SpfPolicyCheck>> due;
  auto now = Clock::now();
  for (std::uint64_t id : waiting_) {
    auto it = conns_.find(id);
    if (it == conns_.end() || !it->second.pending) continue;
    if (auto d = it->second.pending->deadline(); d && *d <= now) due.push_back(it->second.pending);
  }
  for (auto& check : due) check->check_deadline();
}

int Server::run() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) {
    log_.critical(std::string("epoll_create1: ") + std::strerror(errno));
    return 71;
  }
  int sp[2];
  if (::pipe2(sp, O_NONBLOCK | O_CLOEXEC) != 0) {
    log_.critical(std::string("pipe: ") + std::strerror(errno));
    return 71;
  }
  g_signal_pipe.store(sp[1]);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  {
    std::uint32_t reg = 0;
    ep_set(sp[0], reg, kIn, tag(Kind::Signal, 0));
  }

  if (opts_.spawn) {
    set_nonblocking(0);
    set_nonblocking(1);
    add_conn(0, 1);
  } else {
    for (int fd : opts_.listen_fds) set_nonblocking(fd);
  }

  std::array<epoll_event, kMaxEvents> events{};
  int rc = 0;
  while (true) {
    if (g_stop.load()) break;
    if (g_reload.exchange(false)) reload();

    always_ready_.clear();
    settle_dirty();
    if (opts_.spawn && conns_.empty()) break;  // stdin closed: policyd-spf exits normally
    if (!opts_.spawn) set_listening(conns_.size() < kMaxConnections);
    sync_dns_fds();

    int n = ::epoll_wait(ep_, events.data(), kMaxEvents, next_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      log_.critical(std::string("epoll_wait: ") + std::strerror(errno));
      rc = 71;
      break;
    }

    // DNS first, so answers are consumed before new work starts.
    bool dns_activity = false;
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      if (static_cast<Kind>(ev.data.u64 >> kKindShift) != Kind::Dns) continue;
      dns_activity = true;
      int fd = static_cast<int>(ev.data.u64 & kValueMask);
      bool r = (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
      bool w = (ev.events & EPOLLOUT) != 0;
      cares_.process_fd(r ? fd : -1, w ? fd : -1);
    }
    if (!dns_activity && cares_.pending() > 0) cares_.process_fd(-1, -1);  // timeouts

    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      auto kind = static_cast<Kind>(ev.data.u64 >> kKindShift);
      std::uint64_t value = ev.data.u64 & kValueMask;
      if (kind == Kind::Signal) {
        char b[64];
        while (::read(sp[0], b, sizeof b) > 0) {
        }
      } else if (kind == Kind::Listen) {
        accept_on(static_cast<int>(value));
      } else if (kind == Kind::Conn) {
        auto it = conns_.find(value);
        if (it == conns_.end()) continue;
        Conn& c = it->second;
        dirty_.push_back(value);
        // EPOLLHUP/EPOLLERR: write() or read() reports the error or the EOF.
        if ((ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && !c.out.empty()) flush(c);
        if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !c.eof && !c.broken) {
          if (c.busy || c.reader.ready() != 0) {
            c.in_paused = true;  // settle() unregisters the input until the reply is out
          } else {
            read_conn(c);
            if (!c.broken) pump(c);
          }
        }
      }
    }
    for (std::uint64_t id : always_ready_) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Conn& c = it->second;
      dirty_.push_back(id);
      if (c.out_always_ready && !c.out.empty()) flush(c);
      if (c.in_always_ready && !c.eof && !c.broken && !c.busy && c.reader.ready() == 0) {
        read_conn(c);
        if (!c.broken) pump(c);
      }
    }
    run_deadlines();
  }
  g_signal_pipe.store(-1);
  ::close(sp[0]);
  ::close(sp[1]);
  for (auto& [id, c] : conns_) {
    if (!opts_.spawn) ::close(c.in_fd);
  }
  conns_.clear();
  return rc;
}

}  // namespace

std::vector<std::string> effective_nameservers(const auth::config::SpfSettings& s,
                                               const std::vector<std::string>& override_list) {
  return override_list.empty() ? s.nameservers : override_list;
}

int run_server(ServerOptions options, milter::Logger& log) {
  auth::dns::CaresResolver::Options ro;
  ro.nameservers = effective_nameservers(*options.settings, options.nameserver_override);
  ro.timeout = options.settings->dns_timeout;
  auto cares = auth::dns::CaresResolver::create(ro);
  if (!cares) {
    log.critical("DNS resolver: " + cares.error().reason);
    return 71;
  }
  auth::dns::CachingResolver cache(**cares);
  Server server(std::move(options), log, cache, **cares);
  return server.run();
}

}  // namespace inkan::spf
