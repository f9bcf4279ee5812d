#include "common/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/logging.h"

namespace inkan::milter {

/* ---------------- Histogram ---------------- */

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) noexcept {
  if (std::isnan(value)) return;
  std::size_t i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::uint64_t Histogram::bucket(std::size_t i) const noexcept {
  return i <= bounds_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

/* ---------------- Text format helpers ---------------- */

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += k + "=\"" + escape_label_value(v) + "\"";
  }
  out.push_back('}');
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest representation that reads back exactly.
  for (int prec = 1; prec <= 17; ++prec) {
    char tmp[32];
    std::snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (std::strtod(tmp, nullptr) == v) return tmp;
  }
  return buf;
}

namespace {

// Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':'). Program constants,
// but a bad one would corrupt the whole exposition, so replace offending characters.
std::string sanitize_name(std::string_view n, bool label) {
  std::string out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "_";
  return out;
}

Labels sanitize_labels(const Labels& in) {
  Labels out;
  out.reserve(in.size());
  for (const auto& [k, v] : in) out.emplace_back(sanitize_name(k, true), v);
  return out;
}

}  // namespace

/* ---------------- Registry ---------------- */

Metrics::Metrics(std::string prefix) : prefix_(sanitize_name(prefix, false)) {}

Metrics::Series& Metrics::series(std::string_view name, std::string_view help, Type type,
                                 const Labels& labels_in, const std::vector<double>* bounds) {
  std::string full = prefix_.empty() ? sanitize_name(name, false)
                                     : prefix_ + "_" + sanitize_name(name, false);
  Labels labels = sanitize_labels(labels_in);
  std::lock_guard lock(mu_);
  auto it = families_.find(full);
  if (it == families_.end()) {
    Family f;
    f.type = type;
    f.help = std::string(help);
    it = families_.emplace(full, std::move(f)).first;
  }
  Family& fam = it->second;
  auto make = [&](Series& s) {
    switch (type) {
      case Type::Counter: s.counter = std::make_unique<Counter>(); break;
      case Type::Gauge: s.gauge = std::make_unique<Gauge>(); break;
      case Type::Histogram:
        s.histogram = std::make_unique<Histogram>(bounds ? *bounds : default_latency_buckets());
        break;
    }
  };
  if (fam.type != type) {
    // Programmer error: keep it harmless, never rendered.
    orphans_.push_back(std::make_unique<Series>());
    make(*orphans_.back());
    return *orphans_.back();
  }
  std::string key = format_labels(labels);
  auto sit = fam.series.find(key);
  if (sit != fam.series.end()) return sit->second;
  if (fam.series.size() >= kMaxSeriesPerFamily) {
    // Bound the cardinality: fold every new label set into one "other" series.
    Labels other;
    for (const auto& [k, v] : labels) other.emplace_back(k, "other");
    key = format_labels(other);
    sit = fam.series.find(key);
    if (sit != fam.series.end()) return sit->second;
    labels = std::move(other);
  }
  Series& s = fam.series[key];
  s.labels = std::move(labels);
  make(s);
  return s;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, const Labels& labels) {
  return *series(name, help, Type::Counter, labels, nullptr).counter;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *series(name, help, Type::Gauge, labels, nullptr).gauge;
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help,
                              const std::vector<double>& bounds, const Labels& labels) {
  return *series(name, help, Type::Histogram, labels, &bounds).histogram;
}

void Metrics::count_verdict(std::string_view verdict) {
  counter("messages_total", "Messages finished, by verdict.", {{"verdict", std::string(verdict)}})
      .inc();
}

void Metrics::count_error(std::string_view kind) {
  counter("errors_total", "Errors, by kind.", {{"kind", std::string(kind)}}).inc();
}

void Metrics::observe_dns_latency(std::chrono::duration<double> d) {
  histogram("dns_latency_seconds", "DNS lookup latency.", default_latency_buckets())
      .observe(d.count());
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + escape_help(fam.help) + "\n";
    out += "# TYPE " + name + " ";
    out += fam.type == Type::Counter ? "counter" : fam.type == Type::Gauge ? "gauge" : "histogram";
    out += "\n";
    for (const auto& [key, s] : fam.series) {
      switch (fam.type) {
        case Type::Counter:
          out += name + key + " " + std::to_string(s.counter->value()) + "\n";
          break;
        case Type::Gauge:
          out += name + key + " " + std::to_string(s.gauge->value()) + "\n";
          break;
        case Type::Histogram: {
          const Histogram& h = *s.histogram;
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
            cumulative += h.bucket(i);
            Labels l = s.labels;
            l.emplace_back("le", i < h.bounds().size() ? format_sample_value(h.bounds()[i])
                                                       : std::string("+Inf"));
            out += name + "_bucket" + format_labels(l) + " " + std::to_string(cumulative) + "\n";
          }
          out += name + "_sum" + key + " " + format_sample_value(h.sum()) + "\n";
          out += name + "_count" + key + " " + std::to_string(h.count()) + "\n";
          break;
        }
      }
    }
  }
  return out;
}

/* ---------------- HTTP ---------------- */

auth::Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == text.npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return auth::fail(auth::ErrorCode::Syntax, "expected [IPv6]:PORT");
    }
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == text.npos) return auth::fail(auth::ErrorCode::Syntax, "expected ADDR:PORT");
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return auth::fail(auth::ErrorCode::Syntax, "an IPv6 address must be written [ADDR]:PORT");
    }
    port = text.substr(colon + 1);
  }
  if (hp.host.empty()) return auth::fail(auth::ErrorCode::Syntax, "empty address");
  for (char c : hp.host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return auth::fail(auth::ErrorCode::Syntax, "bad address");
  }
  if (port.empty() || port.size() > 5) return auth::fail(auth::ErrorCode::Syntax, "bad port");
  unsigned long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return auth::fail(auth::ErrorCode::Syntax, "bad port");
    p = p * 10 + static_cast<unsigned long>(c - '0');
  }
  if (p > 65535) return auth::fail(auth::ErrorCode::Syntax, "port out of range");
  hp.port = static_cast<std::uint16_t>(p);
  return hp;
}

std::string http_response(std::string_view head, const std::function<std::string()>& body) {
  auto reply = [](std::string_view status, std::string_view ctype, const std::string& b,
                  bool with_body) {
    std::string r = "HTTP/1.0 ";
    r += status;
    r += "\r\nContent-Type: ";
    r += ctype;
    r += "\r\nContent-Length: " + std::to_string(b.size()) + "\r\nConnection: close\r\n\r\n";
    if (with_body) r += b;
    return r;
  };
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Request-Line = Method SP Request-URI SP HTTP-Version (RFC 1945 §5.1)
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == line.npos ? line.npos : line.find(' ', sp1 + 1);
  if (sp1 == line.npos || sp2 == line.npos || line.substr(sp2 + 1).rfind("HTTP/", 0) != 0) {
    return reply("400 Bad Request", "text/plain", "bad request\n", true);
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != target.npos) target = target.substr(0, q);
  bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    return reply("405 Method Not Allowed", "text/plain", "method not allowed\n", true);
  }
  if (target != "/metrics") {
    return reply("404 Not Found", "text/plain", "not found; try /metrics\n", !head_only);
  }
  return reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", body(), !head_only);
}

/* ---------------- Server ---------------- */

auth::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(
    std::string_view address, std::function<std::string()> body, Logger* log) {
  auto hp = parse_host_port(address);
  if (!hp) return auth::fail(hp.error());

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp->port);
  if (int rc = getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return auth::fail(auth::ErrorCode::Io,
                      "cannot resolve " + hp->host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<MetricsServer> srv(new MetricsServer());
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
      last_error = std::strerror(errno);
      close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (ss.ss_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
      srv->port_ = ntohs(sin->sin_port);
      srv->loopback_ = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
      srv->port_ = ntohs(sin6->sin6_port);
      srv->loopback_ = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    srv->listen_fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (srv->listen_fd_ < 0) {
    return auth::fail(auth::ErrorCode::Io, "cannot listen on " + std::string(address) + ": " +
                                               last_error);
  }
  if (pipe2(srv->stop_pipe_, O_CLOEXEC) != 0) {
    return auth::fail(auth::ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  }
  srv->body_ = std::move(body);
  srv->log_ = log;
  srv->thread_ = std::thread([s = srv.get()] { s->serve(); });
  return srv;
}

MetricsServer::~MetricsServer() {
  if (stop_pipe_[1] >= 0) {
    char c = 'x';
    (void)!write(stop_pipe_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int fd : stop_pipe_) {
    if (fd >= 0) close(fd);
  }
}

void MetricsServer::serve() noexcept {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (log_) log_->error(std::string("metrics endpoint: poll: ") + std::strerror(errno));
      return;
    }
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    try {
      timeval tv{2, 0};  // a client gets 2 s to send its request and take the answer
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      std::string head;
      char buf[1024];
      while (head.size() < kMaxHttpRequest && head.find("\r\n\r\n") == std::string::npos &&
             head.find("\n\n") == std::string::npos) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) break;
        head.append(buf, static_cast<std::size_t>(r));
      }
      std::string resp = http_response(head, body_);
      std::size_t off = 0;
      while (off < resp.size()) {
        ssize_t w = send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
      }
    } catch (const std::exception& e) {
      if (log_) log_->error(std::string("metrics endpoint: ") + e.what());
    } catch (...) {
    }
    close(fd);
  }
}

}  // namespace inkan::milter
