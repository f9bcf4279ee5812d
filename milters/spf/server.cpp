// inkan-spf event loop (see server.h).
#include "spf/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <optional>

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
};

class Server {
 public:
  Server(ServerOptions o, milter::Logger& log, auth::dns::Resolver& resolver,
         auth::dns::CaresResolver& cares)
      : opts_(std::move(o)), log_(log), resolver_(resolver), cares_(cares) {}

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

  ServerOptions opts_;
  milter::Logger& log_;
  auth::dns::Resolver& resolver_;
  auth::dns::CaresResolver& cares_;
  std::map<std::uint64_t, Conn> conns_;
  std::uint64_t next_id_ = 1;
  // Completions may still arrive while the resolvers are torn down after run(): they check it.
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);
};

void Server::add_conn(int in_fd, int out_fd) {
  Conn c;
  c.id = next_id_++;
  c.in_fd = in_fd;
  c.out_fd = out_fd;
  conns_.emplace(c.id, std::move(c));
}

void Server::close_conn(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (!opts_.spawn) {
    ::close(it->second.in_fd);
  }
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
  flush(c);
  if (!c.in_pump) pump(c);
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
    if (!check->done()) it->second.pending = std::move(check);
  }
  c.in_pump = false;
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
      return;  // EAGAIN or a transient error (EMFILE: retried at the next poll)
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

int Server::run() {
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

  if (opts_.spawn) {
    set_nonblocking(0);
    set_nonblocking(1);
    add_conn(0, 1);
  } else {
    for (int fd : opts_.listen_fds) set_nonblocking(fd);
  }

  std::vector<pollfd> pfds;
  enum class Kind { Signal, Listen, Conn, Dns };
  struct Slot {
    Kind kind;
    std::uint64_t id;  // conn id, or listen fd
    bool dns_write;
  };
  std::vector<Slot> slots;
  int rc = 0;
  while (true) {
    if (g_stop.load()) break;
    if (g_reload.exchange(false)) reload();

    // Drop finished connections.
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn& c = it->second;
      bool idle = !c.busy && c.reader.ready() == 0;
      if (c.broken || (c.eof && idle && c.out.empty())) {
        if (c.eof && c.reader.mid_request() && opts_.settings->debug_level >= 2) {
          log_.debug("policy client closed in the middle of a request");
        }
        std::uint64_t id = it->first;
        ++it;
        close_conn(id);
      } else {
        ++it;
      }
    }
    if (opts_.spawn && conns_.empty()) break;  // stdin closed: policyd-spf exits normally

    // Build the poll set.
    pfds.clear();
    slots.clear();
    pfds.push_back({sp[0], POLLIN, 0});
    slots.push_back({Kind::Signal, 0, false});
    if (conns_.size() < kMaxConnections) {
      for (int fd : opts_.listen_fds) {
        pfds.push_back({fd, POLLIN, 0});
        slots.push_back({Kind::Listen, static_cast<std::uint64_t>(fd), false});
      }
    }
    for (auto& [id, c] : conns_) {
      if (!c.eof && !c.busy && c.reader.ready() == 0) {
        pfds.push_back({c.in_fd, POLLIN, 0});
        slots.push_back({Kind::Conn, id, false});
      }
      if (!c.out.empty()) {
        pfds.push_back({c.out_fd, POLLOUT, 0});
        slots.push_back({Kind::Conn, id, true});
      }
    }
    for (const auto& w : cares_.fds()) {
      short ev = static_cast<short>((w.readable ? POLLIN : 0) | (w.writable ? POLLOUT : 0));
      pfds.push_back({w.fd, ev, 0});
      slots.push_back({Kind::Dns, static_cast<std::uint64_t>(w.fd), false});
    }

    // Timeout: the nearest c-ares timeout or check deadline.
    auto now = Clock::now();
    long timeout_ms = -1;
    auto dns_ms = cares_.next_timeout();
    if (dns_ms.count() >= 0) timeout_ms = static_cast<long>(dns_ms.count());
    for (auto& [id, c] : conns_) {
      if (!c.pending) continue;
      if (auto d = c.pending->deadline()) {
        long ms = static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count()) + 1;
        if (ms < 0) ms = 0;
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
      }
    }
    int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(timeout_ms));
    if (n < 0) {
      if (errno == EINTR) continue;
      log_.critical(std::string("poll: ") + std::strerror(errno));
      rc = 71;
      break;
    }

    // DNS first, so answers are consumed before new work starts.
    bool dns_activity = false;
    for (std::size_t i = 0; i < pfds.size(); ++i) {
      if (slots[i].kind != Kind::Dns || pfds[i].revents == 0) continue;
      dns_activity = true;
      int fd = pfds[i].fd;
      bool r = (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      bool w = (pfds[i].revents & POLLOUT) != 0;
      cares_.process_fd(r ? fd : -1, w ? fd : -1);
    }
    if (!dns_activity) cares_.process_fd(-1, -1);  // timeouts

    for (std::size_t i = 0; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      const Slot& sl = slots[i];
      if (sl.kind == Kind::Signal) {
        char b[64];
        while (::read(sp[0], b, sizeof b) > 0) {
        }
      } else if (sl.kind == Kind::Listen) {
        accept_on(static_cast<int>(sl.id));
      } else if (sl.kind == Kind::Conn) {
        auto it = conns_.find(sl.id);
        if (it == conns_.end()) continue;
        Conn& c = it->second;
        if (sl.dns_write) {
          flush(c);
        } else {
          read_conn(c);
          if (!c.broken) pump(c);
        }
      }
    }
    // Lookup_Time / Whitelist_Lookup_Time.
    std::vector<std::shared_ptr<policy::SpfPolicyCheck>> due;
    now = Clock::now();
    for (auto& [id, c] : conns_) {
      if (c.pending) {
        if (auto d = c.pending->deadline(); d && *d <= now) due.push_back(c.pending);
      }
    }
    for (auto& check : due) check->check_deadline();
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
