// milter-loadgen — a milter-protocol load generator: it plays the MTA (no Postfix) against one
// running milter daemon over N concurrent connections, sends M copies of a fixed corpus, checks
// every reply, and measures the daemon from outside through /proc/PID (CPU time, RSS).
//
//   milter-loadgen --socket inet:PORT@127.0.0.1|unix:/path --connections N --messages M
//                  --message FILE [--message FILE ...] [--macro [STAGE:]NAME=VALUE ...]
//                  [--expect-header NAME[:SUBSTRING] ...] [--pid PID] [options]
//
// Each connection is a thread running many transactions on one milter session (run_on()),
// reconnecting every --per-connection messages (so session set-up and tear-down are part of the
// load, and a per-session leak shows in RSS). Macros are sent like Postfix's defaults:
// connect `j`, `{daemon_name}`, `{client_addr}`, `_`, `v`; a fresh queue id `i` for every
// message at MAIL, DATA and end of message. --macro adds or overrides (stage connect unless a
// STAGE: prefix is given). The connecting client is 127.0.0.1 ("localhost"), so it counts as
// internal (signing) under opendkim's default InternalHosts.
//
// A message counts as ok when the final reply is accept or continue and every --expect-header
// was added (ADDHEADER/INSHEADER/CHGHEADER of that name, whose value contains SUBSTRING if
// given, e.g. `Authentication-Results:dkim=pass`). --save-result FILE writes the first ok
// message as the daemon changed it (a signed copy for a verify corpus). A first phase of --warmup messages is sent
// and checked but not measured. With --pid the daemon's utime+stime (/proc/PID/stat) is read
// before and after the measured phase and VmRSS/VmHWM (/proc/PID/status) sampled every
// --sample-ms, to show whether RSS stays flat.
//
// Output: one JSON object on stdout (or --json FILE) and one human line on stderr. Exit status:
// 0 every message ok, 1 some message failed or errors occurred, 2 usage or setup error.
// Bounded: at most --messages + --warmup transactions and --max-seconds of wall time.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "milterclient/milter_client.h"

namespace mc = inkan::milterclient;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxConnections = 1024;        // local bound: one thread per connection
constexpr long kMaxMessages = 100'000'000;           // local bound on --messages/--warmup
constexpr int kMaxConsecutiveErrors = 20;            // per connection thread, then it gives up
constexpr std::size_t kMaxRssSamplesInJson = 40;     // the series is decimated to this

struct ExpectHeader {
  std::string name;
  std::string contains;  // empty: presence is enough
};

struct Options {
  std::string socket;
  std::size_t connections = 4;
  long messages = 1000;
  long warmup = -1;  // -1: 2 per connection
  long per_connection = 100;  // 0: never reconnect
  std::vector<std::string> message_files;
  std::vector<mc::Macro> macros;
  std::vector<ExpectHeader> expect;
  long pid = 0;
  std::string label;
  std::string json_file;
  long timeout_ms = 30000;
  long sample_ms = 200;
  double max_seconds = 1800;
  std::string mail_from = "<sender@example.com>";
  std::string rcpt = "<rcpt@example.org>";
  std::string client_addr = "127.0.0.1";
  std::string client_host = "localhost";
  std::string save_result;  // file for the first ok message as modified by the daemon
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: milter-loadgen --socket SPEC --message FILE [--message FILE ...]\n"
      "         [--connections N] [--messages M] [--warmup W] [--per-connection K]\n"
      "         [--macro [STAGE:]NAME=VALUE ...] [--expect-header NAME[:SUBSTRING] ...]\n"
      "         [--pid PID] [--label NAME] [--json FILE] [--timeout-ms MS] [--sample-ms MS]\n"
      "         [--max-seconds S] [--from ADDR] [--rcpt ADDR] [--client-addr IP] [--client-host NAME]\n"
      "         [--save-result FILE]\n"
      "  SPEC: inet:PORT@HOST | inet:HOST:PORT | unix:/path\n"
      "  defaults: 4 connections, 1000 messages, warm-up 2 per connection, reconnect every 100\n"
      "  messages (0: never), client 127.0.0.1 (internal), timeout 30000 ms, sample every 200 ms\n",
      out);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::optional<long> parse_long(std::string_view s, long lo, long hi) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

/// "[STAGE:]NAME=VALUE": the stage prefix is optional (connect when absent).
std::optional<mc::Macro> parse_macro(std::string_view arg) {
  auto eq = arg.find('=');
  auto colon = arg.find(':');
  if (colon != arg.npos && colon < eq && mc::parse_macro_stage(arg.substr(0, colon))) {
    auto m = mc::parse_macro_arg(arg);
    if (!m) return std::nullopt;
    return *m;
  }
  if (eq == arg.npos || eq == 0) return std::nullopt;
  return mc::Macro{mc::MacroStage::Connect, std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/* ---------------- /proc ---------------- */

/// utime+stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, all threads).
std::optional<double> proc_cpu_seconds(long pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!s) return std::nullopt;
  auto rp = s->rfind(')');  // comm may contain spaces and parentheses
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream in(s->substr(rp + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ") ": field 3 (state) is the first; utime is field 14, stime 15.
  for (int f = 3; f <= 15 && in >> field; ++f) {
    if (f == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (f == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  long tck = ::sysconf(_SC_CLK_TCK);
  if (tck <= 0) tck = 100;
  return static_cast<double>(utime + stime) / static_cast<double>(tck);
}

struct MemSample {
  double t = 0;         // seconds since the measured phase started (negative: warm-up)
  long done = 0;        // measured messages completed at that time
  long rss_kib = 0;     // VmRSS
  long hwm_kib = 0;     // VmHWM
};

/// VmRSS and VmHWM in KiB.
std::optional<std::pair<long, long>> proc_memory(long pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!s) return std::nullopt;
  long rss = -1, hwm = -1;
  std::istringstream in(*s);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::strtol(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::strtol(line.c_str() + 6, nullptr, 10);
  }
  if (rss < 0 || hwm < 0) return std::nullopt;
  return std::make_pair(rss, hwm);
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/* ---------------- the load ---------------- */

struct Counts {
  long accept = 0, cont = 0, tempfail = 0, reject = 0, discard = 0, other = 0;
  long missing_header = 0, errors = 0;
  void add(const Counts& o) {
    accept += o.accept, cont += o.cont, tempfail += o.tempfail, reject += o.reject, discard += o.discard;
    other += o.other, missing_header += o.missing_header, errors += o.errors;
  }
  long ok() const { return accept + cont - missing_header; }
};

struct Shared {
  const Options* opt = nullptr;
  std::vector<mc::Transaction> corpus;
  std::atomic<long> next{0};      // next message index to claim in the current phase
  std::atomic<long> done{0};      // measured messages completed
  std::atomic<bool> stop{false};  // deadline passed or every thread gave up
  Clock::time_point deadline;
  std::mutex mu;
  std::string first_error;        // the first failure, for the report
  std::string first_bad_reply;
  bool want_result = false;       // --save-result: keep the first ok message
  std::optional<mc::Message> result;
};

/// A queue id unique in the run: like Postfix's short ids, hex.
std::string queue_id(std::size_t thread, long n) {
  char b[32];
  std::snprintf(b, sizeof b, "%02zX%08lX", thread & 0xFF, static_cast<unsigned long>(n));
  return b;
}

bool has_expected(const std::vector<mc::Modification>& mods, const ExpectHeader& e) {
  for (const auto& m : mods) {
    if (m.kind != mc::Modification::Kind::AddHeader && m.kind != mc::Modification::Kind::InsertHeader &&
        m.kind != mc::Modification::Kind::ChangeHeader) {
      continue;
    }
    if (!iequals(m.name, e.name)) continue;
    if (e.contains.empty() || m.value.find(e.contains) != std::string::npos) return true;
  }
  return false;
}

/// One connection's thread state, kept across the warm-up and measured phases.
struct Worker {
  std::size_t id = 0;
  std::optional<mc::Client> client;
  long on_connection = 0;
  long serial = 0;
  int consecutive_errors = 0;
  bool gave_up = false;
  Counts counts;
  std::vector<float> latency_ms;  // measured phase only
};

void run_phase(Shared& sh, Worker& w, long total, bool measured) {
  const Options& o = *sh.opt;
  std::vector<mc::Transaction> corpus = sh.corpus;  // a private copy: queue ids change per message
  while (!sh.stop.load(std::memory_order_relaxed) && !w.gave_up) {
    long n = sh.next.fetch_add(1, std::memory_order_relaxed);
    if (n >= total) break;
    if (Clock::now() > sh.deadline) {
      sh.stop = true;
      break;
    }
    mc::Transaction& t = corpus[static_cast<std::size_t>(n) % corpus.size()];
    std::string qid = queue_id(w.id, ++w.serial);
    for (auto& m : t.macros) {
      if (m.name == "i") m.value = qid;
    }
    auto t0 = Clock::now();
    bool connect_phase = false;
    if (!w.client || !w.client->is_open() || (o.per_connection > 0 && w.on_connection >= o.per_connection)) {
      if (w.client && w.client->is_open()) (void)w.client->quit();
      w.client.reset();
      auto c = mc::Client::connect(o.socket, std::chrono::milliseconds(o.timeout_ms));
      if (c) {
        if (auto neg = c->negotiate(); neg) {
          w.client.emplace(std::move(*c));
        } else {
          c = auth::fail(neg.error());
        }
      }
      if (!c) {
        ++w.counts.errors;
        {
          std::lock_guard lock(sh.mu);
          if (sh.first_error.empty()) sh.first_error = "connect: " + c.error().reason;
        }
        if (++w.consecutive_errors >= kMaxConsecutiveErrors) w.gave_up = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      w.on_connection = 0;
      connect_phase = true;
    }
    auto r = mc::run_on(*w.client, t, connect_phase);
    ++w.on_connection;
    if (!r) {
      ++w.counts.errors;
      {
        std::lock_guard lock(sh.mu);
        if (sh.first_error.empty()) sh.first_error = "transaction: " + r.error().reason;
      }
      w.client->close();
      w.client.reset();
      if (++w.consecutive_errors >= kMaxConsecutiveErrors) w.gave_up = true;
      continue;
    }
    w.consecutive_errors = 0;
    const mc::Response& f = r->final;
    char code = f.code;
    if (code == 'y' && !f.reply.empty()) code = f.reply[0] == '4' ? 't' : f.reply[0] == '5' ? 'r' : 'y';
    bool ok = false;
    switch (code) {
      case 'a': ++w.counts.accept; ok = true; break;
      case 'c': case 0: case 's': ++w.counts.cont; ok = true; break;
      case 't': ++w.counts.tempfail; break;
      case 'r': ++w.counts.reject; break;
      case 'd': ++w.counts.discard; break;
      default: ++w.counts.other; break;
    }
    if (ok) {
      for (const auto& e : o.expect) {
        if (!has_expected(r->modifications, e)) {
          ++w.counts.missing_header;
          ok = false;
          break;
        }
      }
    }
    if (ok && sh.want_result) {
      std::lock_guard lock(sh.mu);
      if (!sh.result) sh.result = r->result;
    }
    if (!ok) {
      std::lock_guard lock(sh.mu);
      if (sh.first_bad_reply.empty()) {
        sh.first_bad_reply = r->ended_at + ": " + f.describe();
        for (const auto& m : r->modifications) {
          sh.first_bad_reply += "; " + std::string(mc::to_string(m.kind)) + " " + m.name + ": " + m.value;
        }
      }
    }
    if (measured) {
      w.latency_ms.push_back(std::chrono::duration<float, std::milli>(Clock::now() - t0).count());
      sh.done.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

/* ---------------- output ---------------- */

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", u);
      out += b;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string num(double v, int prec = 3) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

double percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(std::min(static_cast<double>(v.size() - 1), std::floor(p * static_cast<double>(v.size()))));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool have_macro_overrides = false;
  std::vector<mc::Macro> user_macros;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    auto bad = [&](std::string_view what) {
      std::fprintf(stderr, "milter-loadgen: %.*s\n", static_cast<int>(what.size()), what.data());
      usage(stderr);
      return 2;
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    }
    static constexpr std::string_view kKnown[] = {
        "--socket", "-s", "--connections", "-c", "--messages", "-n", "--warmup", "--per-connection",
        "--message", "-m", "--macro", "-D", "--expect-header", "--pid", "-p", "--label", "--json",
        "--timeout-ms", "--sample-ms", "--max-seconds", "--from", "--rcpt", "--client-addr",
        "--client-host", "--save-result"};
    if (std::find(std::begin(kKnown), std::end(kKnown), a) == std::end(kKnown)) {
      return bad("unknown option " + std::string(a));
    }
    auto v = value();
    if (!v) return bad("missing value for " + std::string(a));
    if (a == "--socket" || a == "-s") {
      o.socket = *v;
    } else if (a == "--connections" || a == "-c") {
      auto n = parse_long(*v, 1, static_cast<long>(kMaxConnections));
      if (!n) return bad("--connections: 1.." + std::to_string(kMaxConnections));
      o.connections = static_cast<std::size_t>(*n);
    } else if (a == "--messages" || a == "-n") {
      auto n = parse_long(*v, 1, kMaxMessages);
      if (!n) return bad("--messages: a positive count");
      o.messages = *n;
    } else if (a == "--warmup") {
      auto n = parse_long(*v, 0, kMaxMessages);
      if (!n) return bad("--warmup: a count");
      o.warmup = *n;
    } else if (a == "--per-connection") {
      auto n = parse_long(*v, 0, kMaxMessages);
      if (!n) return bad("--per-connection: a count (0: never reconnect)");
      o.per_connection = *n;
    } else if (a == "--message" || a == "-m") {
      o.message_files.emplace_back(*v);
    } else if (a == "--macro" || a == "-D") {
      auto m = parse_macro(*v);
      if (!m) return bad("--macro: expected [STAGE:]NAME=VALUE");
      user_macros.push_back(*m);
      have_macro_overrides = true;
    } else if (a == "--expect-header") {
      ExpectHeader e;
      auto c = v->find(':');
      e.name = std::string(v->substr(0, c));
      if (c != std::string_view::npos) e.contains = std::string(v->substr(c + 1));
      if (e.name.empty()) return bad("--expect-header: NAME[:SUBSTRING]");
      o.expect.push_back(e);
    } else if (a == "--pid" || a == "-p") {
      auto n = parse_long(*v, 1, 1L << 30);
      if (!n) return bad("--pid: a process id");
      o.pid = *n;
    } else if (a == "--label") {
      o.label = *v;
    } else if (a == "--json") {
      o.json_file = *v;
    } else if (a == "--timeout-ms") {
      auto n = parse_long(*v, 1, 3'600'000);
      if (!n) return bad("--timeout-ms: 1..3600000");
      o.timeout_ms = *n;
    } else if (a == "--sample-ms") {
      auto n = parse_long(*v, 10, 60'000);
      if (!n) return bad("--sample-ms: 10..60000");
      o.sample_ms = *n;
    } else if (a == "--max-seconds") {
      auto n = parse_long(*v, 1, 86'400);
      if (!n) return bad("--max-seconds: 1..86400");
      o.max_seconds = static_cast<double>(*n);
    } else if (a == "--from") {
      o.mail_from = *v;
    } else if (a == "--rcpt") {
      o.rcpt = *v;
    } else if (a == "--client-addr") {
      o.client_addr = *v;
    } else if (a == "--client-host") {
      o.client_host = *v;
    } else if (a == "--save-result") {
      o.save_result = *v;
    } else {
      return bad("unknown option " + std::string(a));
    }
  }
  if (o.socket.empty() || o.message_files.empty()) {
    usage(stderr);
    return 2;
  }
  if (o.warmup < 0) o.warmup = static_cast<long>(2 * o.connections);
  if (o.label.empty()) o.label = o.socket;

  // Postfix-like default macros; user macros with the same stage and name replace them.
  std::vector<mc::Macro> macros = {
      {mc::MacroStage::Connect, "j", "mx.example.com"},
      {mc::MacroStage::Connect, "{daemon_name}", "milter-loadgen"},
      {mc::MacroStage::Connect, "{client_addr}", o.client_addr},
      {mc::MacroStage::Connect, "_", o.client_host + " [" + o.client_addr + "]"},
      {mc::MacroStage::Connect, "v", "Postfix 3.7 (milter-loadgen)"},
      {mc::MacroStage::Mail, "i", ""},
      {mc::MacroStage::Mail, "{mail_addr}", o.mail_from},
      {mc::MacroStage::Data, "i", ""},
      {mc::MacroStage::Eom, "i", ""},
  };
  if (have_macro_overrides) {
    for (const auto& u : user_macros) {
      auto it = std::find_if(macros.begin(), macros.end(),
                             [&](const mc::Macro& m) { return m.stage == u.stage && m.name == u.name; });
      if (it != macros.end()) {
        *it = u;
      } else {
        macros.push_back(u);
      }
    }
  }

  Shared sh;
  sh.opt = &o;
  sh.want_result = !o.save_result.empty();
  std::size_t corpus_bytes = 0;
  for (const auto& f : o.message_files) {
    auto text = read_file(f);
    if (!text) {
      std::fprintf(stderr, "milter-loadgen: cannot read %s\n", f.c_str());
      return 2;
    }
    auto msg = mc::parse_message(*text);
    if (!msg) {
      std::fprintf(stderr, "milter-loadgen: %s: %s\n", f.c_str(), msg.error().reason.c_str());
      return 2;
    }
    corpus_bytes += text->size();
    mc::Transaction t;
    t.client_host = o.client_host;
    t.client_addr = o.client_addr;
    t.mail_from = o.mail_from;
    t.rcpts = {o.rcpt};
    t.macros = macros;
    t.message = std::move(*msg);
    sh.corpus.push_back(std::move(t));
  }
  if (o.pid > 0 && !proc_cpu_seconds(o.pid)) {
    std::fprintf(stderr, "milter-loadgen: cannot read /proc/%ld/stat\n", o.pid);
    return 2;
  }

  auto started = Clock::now();
  sh.deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.max_seconds));
  std::vector<Worker> workers(o.connections);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    workers[i].id = i;
    workers[i].latency_ms.reserve(static_cast<std::size_t>(o.messages / static_cast<long>(o.connections) + 16));
  }
  auto phase = [&](long total, bool measured) {
    sh.next = 0;
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (auto& w : workers) threads.emplace_back([&sh, &w, total, measured] { run_phase(sh, w, total, measured); });
    for (auto& t : threads) t.join();
  };

  // Warm-up: connections opened, keys loaded, caches filled; checked but not measured.
  Counts warm;
  if (o.warmup > 0) {
    phase(o.warmup, false);
    for (auto& w : workers) {
      warm.add(w.counts);
      w.counts = Counts{};
    }
  }

  // Measured phase, with the memory sampler beside it.
  std::vector<MemSample> samples;
  std::optional<std::pair<long, long>> mem_before;
  std::optional<double> cpu_before;
  if (o.pid > 0) {
    mem_before = proc_memory(o.pid);
    cpu_before = proc_cpu_seconds(o.pid);
  }
  double self_before = self_cpu_seconds();
  auto t0 = Clock::now();
  std::atomic<bool> sampling{true};
  std::thread sampler;
  if (o.pid > 0) {
    sampler = std::thread([&] {
      while (sampling.load()) {
        if (auto m = proc_memory(o.pid)) {
          samples.push_back({std::chrono::duration<double>(Clock::now() - t0).count(), sh.done.load(), m->first,
                             m->second});
        }
        for (long slept = 0; slept < o.sample_ms && sampling.load(); slept += 10) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  phase(o.messages, true);
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  double self_cpu = self_cpu_seconds() - self_before;
  std::optional<double> cpu_after;
  std::optional<std::pair<long, long>> mem_after;
  if (o.pid > 0) {
    cpu_after = proc_cpu_seconds(o.pid);
    mem_after = proc_memory(o.pid);
    sampling = false;
    sampler.join();
    if (mem_after) samples.push_back({elapsed, sh.done.load(), mem_after->first, mem_after->second});
  }
  for (auto& w : workers) {
    if (w.client && w.client->is_open()) (void)w.client->quit();
  }

  Counts c;
  std::vector<float> lat;
  bool gave_up = false;
  for (auto& w : workers) {
    c.add(w.counts);
    lat.insert(lat.end(), w.latency_ms.begin(), w.latency_ms.end());
    gave_up = gave_up || w.gave_up;
  }
  long completed = sh.done.load();
  bool timed_out = sh.stop.load();
  double rate = elapsed > 0 ? static_cast<double>(completed) / elapsed : 0;
  std::optional<double> daemon_cpu;
  if (cpu_before && cpu_after) daemon_cpu = *cpu_after - *cpu_before;
  long rss_min = 0, rss_max = 0, hwm = 0;
  if (!samples.empty()) {
    rss_min = rss_max = samples.front().rss_kib;
    for (const auto& s : samples) {
      rss_min = std::min(rss_min, s.rss_kib);
      rss_max = std::max(rss_max, s.rss_kib);
      hwm = std::max(hwm, s.hwm_kib);
    }
  }
  bool all_ok = c.ok() == o.messages && c.errors == 0 && warm.errors == 0 && warm.ok() == o.warmup && !timed_out;

  if (!o.save_result.empty()) {
    // The message with the daemon's header changes applied (e.g. a signed message to verify).
    std::ofstream out(o.save_result, std::ios::binary | std::ios::trunc);
    if (sh.result) out << mc::render_message(*sh.result);
    if (!sh.result || !out) {
      std::fprintf(stderr, "milter-loadgen: no ok message to save in %s\n", o.save_result.c_str());
      all_ok = false;
    }
  }

  std::ostringstream js;
  js << "{\"label\":" << json_string(o.label) << ",\"socket\":" << json_string(o.socket)
     << ",\"connections\":" << o.connections << ",\"messages\":" << o.messages << ",\"warmup\":" << o.warmup
     << ",\"per_connection\":" << o.per_connection << ",\"corpus_files\":" << o.message_files.size()
     << ",\"corpus_bytes\":" << corpus_bytes << ",\"completed\":" << completed
     << ",\"elapsed_s\":" << num(elapsed) << ",\"msgs_per_s\":" << num(rate, 1)
     << ",\"replies\":{\"accept\":" << c.accept << ",\"continue\":" << c.cont << ",\"tempfail\":" << c.tempfail
     << ",\"reject\":" << c.reject << ",\"discard\":" << c.discard << ",\"other\":" << c.other
     << "},\"missing_header\":" << c.missing_header << ",\"errors\":" << c.errors
     << ",\"warmup_ok\":" << warm.ok() << ",\"warmup_errors\":" << warm.errors
     << ",\"timed_out\":" << (timed_out ? "true" : "false") << ",\"gave_up\":" << (gave_up ? "true" : "false")
     << ",\"ok\":" << (all_ok ? "true" : "false");
  js << ",\"latency_ms\":{\"p50\":" << num(percentile(lat, 0.50)) << ",\"p90\":" << num(percentile(lat, 0.90))
     << ",\"p99\":" << num(percentile(lat, 0.99)) << ",\"max\":"
     << num(lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end())) << "}";
  js << ",\"loadgen_cpu_s\":" << num(self_cpu);
  if (o.pid > 0) {
    js << ",\"daemon\":{\"pid\":" << o.pid;
    if (daemon_cpu) {
      js << ",\"cpu_s\":" << num(*daemon_cpu) << ",\"cpu_s_per_1000\":"
         << num(completed > 0 ? *daemon_cpu * 1000.0 / static_cast<double>(completed) : NAN, 4)
         << ",\"cpu_cores_busy\":" << num(elapsed > 0 ? *daemon_cpu / elapsed : NAN, 2);
    }
    if (mem_before) js << ",\"rss_kib_before\":" << mem_before->first;
    if (mem_after) js << ",\"rss_kib_after\":" << mem_after->first << ",\"vmhwm_kib\":" << std::max(hwm, mem_after->second);
    js << ",\"rss_kib_min\":" << rss_min << ",\"rss_kib_max\":" << rss_max << ",\"rss_samples\":[";
    // Decimated series of [seconds, messages done, VmRSS KiB]; always keeps the last sample.
    std::size_t step = std::max<std::size_t>(1, (samples.size() + kMaxRssSamplesInJson - 1) / kMaxRssSamplesInJson);
    bool first = true;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (i % step != 0 && i + 1 != samples.size()) continue;
      js << (first ? "" : ",") << "[" << num(samples[i].t, 2) << "," << samples[i].done << "," << samples[i].rss_kib
         << "]";
      first = false;
    }
    js << "]}";
  }
  if (!sh.first_error.empty()) js << ",\"first_error\":" << json_string(sh.first_error);
  if (!sh.first_bad_reply.empty()) js << ",\"first_bad_reply\":" << json_string(sh.first_bad_reply);
  js << "}\n";

  if (o.json_file.empty()) {
    std::fputs(js.str().c_str(), stdout);
  } else {
    std::ofstream out(o.json_file, std::ios::binary | std::ios::trunc);
    out << js.str();
    if (!out) {
      std::fprintf(stderr, "milter-loadgen: cannot write %s\n", o.json_file.c_str());
      return 2;
    }
  }

  std::ostringstream h;
  h << o.label << ": " << num(rate, 1) << " msgs/s (" << completed << " msgs, " << o.connections << " conns, "
    << num(elapsed, 2) << " s)";
  if (daemon_cpu && completed > 0) {
    h << ", " << num(*daemon_cpu * 1000.0 / static_cast<double>(completed), 3) << " CPU-s/1000 msgs";
  }
  if (o.pid > 0 && mem_after) {
    h << ", peak RSS " << num(static_cast<double>(std::max(hwm, mem_after->second)) / 1024.0, 1) << " MiB, RSS "
      << num(static_cast<double>(mem_before ? mem_before->first : 0) / 1024.0, 1) << " -> "
      << num(static_cast<double>(mem_after->first) / 1024.0, 1) << " MiB";
  }
  h << "; ok " << c.ok() << "/" << o.messages << ", tempfail " << c.tempfail << ", reject " << c.reject
    << ", missing header " << c.missing_header << ", errors " << c.errors;
  if (timed_out) h << ", STOPPED at --max-seconds";
  if (!sh.first_error.empty()) h << "; first error: " << sh.first_error;
  if (!sh.first_bad_reply.empty()) h << "; first bad reply: " << sh.first_bad_reply;
  std::fprintf(stderr, "%s\n", h.str().c_str());
  return all_ok ? 0 : 1;
}
