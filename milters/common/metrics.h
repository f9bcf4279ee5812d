// inkan::milter — counters for watching a daemon (STYLE.md: "counters beat log lines"), and
// the optional Prometheus endpoint (`--metrics ADDR:PORT`, text exposition format 0.0.4).
//
// Every daemon counts messages per verdict, errors per kind, and DNS latency; the runtime adds
// connections, reloads and internal errors. Label values may come from program constants or
// from results; they are escaped, and each family holds at most kMaxSeriesPerFamily series
// (further label sets are folded into one series labelled "other"), so a label fed from
// input cannot grow memory without bound.
// The HTTP responder is a single thread that answers GET/HEAD /metrics with HTTP/1.0 and
// closes; requests are bounded in size and time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "auth/core/result.h"

namespace inkan::milter {

class Logger;

/// Most series (label sets) per metric family; the rest count under {…="other"}.
inline constexpr std::size_t kMaxSeriesPerFamily = 256;
/// Largest HTTP request head the metrics endpoint reads (local policy).
inline constexpr std::size_t kMaxHttpRequest = 8 * 1024;

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

class Histogram {
 public:
  /// `bounds`: strictly increasing upper bounds (the +Inf bucket is implicit).
  explicit Histogram(std::vector<double> bounds);
  void observe(double value) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  std::uint64_t bucket(std::size_t i) const noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

/// DNS latency buckets in seconds (a lookup above 30 s is past Postfix's milter timeouts).
std::vector<double> default_latency_buckets();

/// A registry of metric families with a common name prefix ("inkan_dkim").
class Metrics {
 public:
  explicit Metrics(std::string prefix);

  /// Get-or-create. `name` without the prefix ("messages_total"). The reference stays valid
  /// for the registry's lifetime. A name registered with another type yields a throwaway
  /// metric that is never rendered (a programmer error, kept harmless).
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       const std::vector<double>& bounds, const Labels& labels = {});

  /// <prefix>_messages_total{verdict="…"}
  void count_verdict(std::string_view verdict);
  /// <prefix>_errors_total{kind="…"}
  void count_error(std::string_view kind);
  /// <prefix>_dns_latency_seconds histogram
  void observe_dns_latency(std::chrono::duration<double> d);

  /// The registry in Prometheus text format 0.0.4, families sorted by name.
  std::string render() const;
  const std::string& prefix() const noexcept { return prefix_; }

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type = Type::Counter;
    std::string help;
    std::map<std::string, Series> series;  // key: rendered label set
  };
  Series& series(std::string_view name, std::string_view help, Type type, const Labels& labels,
                 const std::vector<double>* bounds);

  std::string prefix_;
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::unique_ptr<Series>> orphans_;  // type clashes (programmer errors)
};

/// Escapes a label value for the text format: \ → \\, " → \", LF → \n.
std::string escape_label_value(std::string_view v);
/// Escapes HELP text: \ → \\, LF → \n.
std::string escape_help(std::string_view v);
/// Renders {k="v",...}; empty labels render as "".
std::string format_labels(const Labels& labels);
/// A sample value as the text format writes it (integers without exponent, +Inf, NaN).
std::string format_sample_value(double v);

/// ADDR:PORT for the endpoint: "127.0.0.1:9101", "[::1]:9101", "localhost:9101".
/// Port 0 asks for any free port. Errors: Syntax.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};
auth::Result<HostPort> parse_host_port(std::string_view text);

/// The whole HTTP/1.0 response to one request head. GET/HEAD /metrics → 200 with `body()`,
/// another path → 404, another method → 405, a malformed request line → 400.
std::string http_response(std::string_view request_head, const std::function<std::string()>& body);

/// The endpoint: binds at construction, serves on its own thread until destroyed.
class MetricsServer {
 public:
  /// Binds `address` and starts the responder thread. Errors: Syntax for the address, Io for
  /// resolving or binding.
  static auth::Result<std::unique_ptr<MetricsServer>> start(std::string_view address,
                                                            std::function<std::string()> body,
                                                            Logger* log);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The bound port (useful with port 0).
  std::uint16_t port() const noexcept { return port_; }
  /// True when bound to a loopback address.
  bool loopback() const noexcept { return loopback_; }

 private:
  MetricsServer() = default;
  void serve() noexcept;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  bool loopback_ = false;
  std::function<std::string()> body_;
  Logger* log_ = nullptr;
  std::thread thread_;
};

}  // namespace inkan::milter
