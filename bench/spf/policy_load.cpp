// policy_load — a Postfix policy-protocol load generator for SPF policy servers.
//
// Opens C concurrent "smtpd" connections and, on each, sends policy requests one at a time
// (as smtpd does: request, wait for the reply, next request), for a fixed number of requests.
// Reports requests/s and the latency distribution (p50/p90/p99/max, from request written to the
// empty line of the reply read).
//
//   policy_load --connect unix:/path | inet:HOST:PORT   a running server (inkan-spf -p ...)
//   policy_load --spawn 'COMMAND ARGS'                   one child per connection on stdin/stdout,
//                                                        as Postfix spawn(8) runs policyd-spf
//   -c CONNECTIONS (default 16)  -n REQUESTS (default 20000)  -w WARMUP (default 200)
//   --client IP (default 192.0.2.5)  --sender ADDR (default user@example.com; "%n" in it is
//                 replaced by the request number, e.g. u@d%n.example.com: a DNS miss each time)
//   --helo NAME (default client.example.com)  --expect PREFIX (checked on every reply)
//   --rate R      open loop: requests start at a fixed R per second in total (on whichever
//                 connection is free), latency counted from the scheduled start, so a server
//                 that falls behind is charged its queueing delay (no coordinated omission);
//                 default: closed loop, each connection sends its next request on the reply
//   --idle N      N more connections that stay open and never send (smtpd processes with a
//                 cached policy connection but no mail at the moment)
//
// Every request has a distinct instance= (one message per request, so nothing is answered from
// the per-message cache); the DNS answers are the same each time (a warm resolver cache).
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <ctime>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Opts {
  std::string connect;
  std::string spawn;
  int connections = 16;
  long requests = 20000;
  long warmup = 200;
  std::string client = "192.0.2.5";
  std::string sender = "user@example.com";
  std::string helo = "client.example.com";
  std::string expect;
  double rate = 0;  // requests/s in total; 0 = closed loop
  int idle = 0;
};

struct Conn {
  int rfd = -1;
  int wfd = -1;
  pid_t pid = -1;
  std::string in;
  Clock::time_point sent;
  long index = -1;  // request number in flight
  bool waiting = false;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "policy_load: %s\n", why.c_str());
  std::exit(2);
}

int connect_to(const std::string& spec) {
  if (spec.rfind("unix:", 0) == 0) {
    std::string path = spec.substr(5);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path) die("socket path too long");
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
      die("connect " + path + ": " + std::strerror(errno));
    }
    return fd;
  }
  if (spec.rfind("inet:", 0) == 0) {
    std::string hp = spec.substr(5);
    auto colon = hp.rfind(':');
    if (colon == std::string::npos) die("inet:HOST:PORT expected");
    std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) die("bad host " + host);
    int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
    if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
      die("connect " + hp + ": " + std::strerror(errno));
    }
    ::freeaddrinfo(res);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
    return fd;
  }
  die("--connect takes unix:/path or inet:HOST:PORT");
}

Conn spawn_child(const std::string& cmd) {
  int sv[2];
  // CLOEXEC: later children must not inherit earlier connections (they would never see EOF).
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    // spawn(8): stdin, stdout and stderr are the connection.
    ::dup2(sv[1], 0);
    ::dup2(sv[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    ::close(sv[0]);
    ::close(sv[1]);
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(sv[1]);
  Conn c;
  c.rfd = c.wfd = sv[0];
  c.pid = pid;
  return c;
}

std::string make_request(const Opts& o, long n) {
  // "%n" in --sender becomes the request number: a new domain per request (DNS cache misses).
  std::string sender = o.sender;
  if (auto p = sender.find("%n"); p != std::string::npos) sender.replace(p, 2, std::to_string(n));
  char buf[1024];
  int len = std::snprintf(
      buf, sizeof buf,
      "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
      "client_address=%s\nclient_name=unknown\nreverse_client_name=unknown\nhelo_name=%s\n"
      "sender=%s\nrecipient=rcpt@dest.example.net\nrecipient_count=0\nqueue_id=\n"
      "instance=%lx.bench.%ld\nsize=0\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\n"
      "sasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nencryption_protocol=\n"
      "encryption_cipher=\nencryption_keysize=0\n\n",
      o.client.c_str(), o.helo.c_str(), sender.c_str(), static_cast<long>(::getpid()), n);
  return std::string(buf, static_cast<std::size_t>(len));
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("write: ") + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Opts o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--connect") o.connect = next();
    else if (a == "--spawn") o.spawn = next();
    else if (a == "-c") o.connections = std::atoi(next().c_str());
    else if (a == "-n") o.requests = std::atol(next().c_str());
    else if (a == "-w") o.warmup = std::atol(next().c_str());
    else if (a == "--client") o.client = next();
    else if (a == "--sender") o.sender = next();
    else if (a == "--helo") o.helo = next();
    else if (a == "--expect") o.expect = next();
    else if (a == "--rate") o.rate = std::atof(next().c_str());
    else if (a == "--idle") o.idle = std::atoi(next().c_str());
    else die("unknown option " + a);
  }
  if (o.connect.empty() == o.spawn.empty()) die("give exactly one of --connect / --spawn");
  if (o.connections < 1) die("-c must be >= 1");
  if (o.rate < 0 || o.idle < 0) die("--rate and --idle must be >= 0");
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<Conn> conns;
  auto t_open = Clock::now();
  for (int i = 0; i < o.connections; ++i) {
    if (!o.spawn.empty()) {
      conns.push_back(spawn_child(o.spawn));
    } else {
      Conn c;
      c.rfd = c.wfd = connect_to(o.connect);
      conns.push_back(std::move(c));
    }
  }

  std::vector<Conn> idle_conns;
  for (int i = 0; i < o.idle; ++i) {
    if (!o.spawn.empty()) {
      idle_conns.push_back(spawn_child(o.spawn));
    } else {
      Conn c;
      c.rfd = c.wfd = connect_to(o.connect);
      idle_conns.push_back(std::move(c));
    }
  }

  long total = o.warmup + o.requests;
  long issued = 0, completed = 0, bad = 0;
  std::vector<double> lat_us;
  lat_us.reserve(static_cast<std::size_t>(o.requests));
  Clock::time_point t_start{};
  bool timing = o.warmup == 0;
  if (timing) t_start = Clock::now();
  std::string first_reply;

  const bool paced = o.rate > 0;
  auto issue = [&](Conn& c, Clock::time_point when) {
    if (issued >= total) return;
    c.sent = when;
    c.index = issued;
    c.waiting = true;
    write_all(c.wfd, make_request(o, issued++));
  };
  // Open loop: request k is due at t_begin + k / rate.
  Clock::time_point t_begin = Clock::now();
  auto due = [&](long k) {
    return t_begin + std::chrono::nanoseconds(
                         static_cast<long long>(static_cast<double>(k) * 1e9 / o.rate));
  };
  std::vector<std::size_t> free_conns;
  if (paced) {
    for (std::size_t i = conns.size(); i > 0; --i) free_conns.push_back(i - 1);
  } else {
    for (auto& c : conns) issue(c, Clock::now());
  }

  std::vector<pollfd> pfds(conns.size());
  char buf[8192];
  while (completed < total) {
    if (paced) {
      auto now = Clock::now();
      while (issued < total && !free_conns.empty() && due(issued) <= now) {
        issue(conns[free_conns.back()], due(issued));
        free_conns.pop_back();
      }
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
      pfds[i] = {conns[i].rfd, static_cast<short>(conns[i].waiting ? POLLIN : 0), 0};
    }
    timespec ts{120, 0};
    if (paced && issued < total && !free_conns.empty()) {
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(due(issued) - Clock::now())
                      .count();
      if (wait < 0) wait = 0;
      ts.tv_sec = static_cast<time_t>(wait / 1000000000);
      ts.tv_nsec = static_cast<long>(wait % 1000000000);
    }
    int n = ::ppoll(pfds.data(), pfds.size(), &ts, nullptr);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(std::string("poll: ") + std::strerror(errno));
    if (n == 0 && !(paced && issued < total)) die("no reply within 120 s");
    for (std::size_t i = 0; i < conns.size() && n > 0; ++i) {
      if (pfds[i].revents == 0) continue;
      Conn& c = conns[i];
      ssize_t r = ::read(c.rfd, buf, sizeof buf);
      if (r <= 0) die("server closed a connection");
      c.in.append(buf, static_cast<std::size_t>(r));
      auto end = c.in.find("\n\n");
      if (end == std::string::npos) continue;
      std::string reply = c.in.substr(0, end);
      c.in.erase(0, end + 2);
      auto now = Clock::now();
      c.waiting = false;
      if (first_reply.empty()) first_reply = reply;
      if (!o.expect.empty() && reply.rfind(o.expect, 0) != 0) ++bad;
      ++completed;
      if (paced) {
        if (c.index >= o.warmup) {
          if (!timing) {
            timing = true;
            t_start = due(o.warmup);
          }
          lat_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
        }
        free_conns.push_back(i);
        continue;
      }
      if (timing) {
        lat_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
      } else if (completed >= o.warmup) {
        timing = true;
        t_start = Clock::now();
      }
      issue(c, Clock::now());
    }
  }
  auto t_end = Clock::now();
  double secs = std::chrono::duration<double>(t_end - t_start).count();
  double open_ms = std::chrono::duration<double, std::milli>(t_start - t_open).count();
  for (auto* set : {&conns, &idle_conns}) {
    for (auto& c : *set) {
      ::close(c.rfd);
      if (c.pid > 0) ::waitpid(c.pid, nullptr, 0);
    }
  }
  std::sort(lat_us.begin(), lat_us.end());
  std::printf("target: %s\n", o.connect.empty() ? ("spawn " + o.spawn).c_str() : o.connect.c_str());
  std::printf("connections: %d (+%d idle)  requests: %zu (+%ld warm-up)  %s  first reply: %.120s\n",
              o.connections, o.idle, lat_us.size(), o.warmup,
              paced ? ("open loop at " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str()
                    : "closed loop",
              first_reply.c_str());
  std::printf("requests/s: %.0f\n", static_cast<double>(lat_us.size()) / secs);
  std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", pct(lat_us, 50) / 1000,
              pct(lat_us, 90) / 1000, pct(lat_us, 99) / 1000,
              lat_us.empty() ? 0.0 : lat_us.back() / 1000);
  std::printf("setup+warm-up ms: %.1f\n", open_ms);
  if (bad > 0) {
    std::printf("UNEXPECTED replies: %ld (want prefix \"%s\")\n", bad, o.expect.c_str());
    return 1;
  }
  return 0;
}
