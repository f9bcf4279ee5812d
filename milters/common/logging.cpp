#include "common/logging.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace inkan::milter {

int to_syslog_priority(Severity s) noexcept {
  switch (s) {
    case Severity::Debug: return LOG_DEBUG;
    case Severity::Info: return LOG_INFO;
    case Severity::Notice: return LOG_NOTICE;
    case Severity::Warning: return LOG_WARNING;
    case Severity::Error: return LOG_ERR;
    case Severity::Critical: return LOG_CRIT;
  }
  return LOG_ERR;
}

std::string_view to_string(Severity s) noexcept {
  switch (s) {
    case Severity::Debug: return "debug";
    case Severity::Info: return "info";
    case Severity::Notice: return "notice";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
    case Severity::Critical: return "fatal";
  }
  return "error";
}

std::string printable(std::string_view text, std::size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t n = text.size() < limit ? text.size() : limit;
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u > 0x7e) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(static_cast<char>(u));
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

std::string quote_log_value(std::string_view value, std::size_t limit) {
  std::string p = printable(value, limit);
  bool quote = p.empty() || p.find_first_of(" \"=") != std::string::npos;
  if (!quote) return p;
  std::string out = "\"";
  for (char c : p) {
    if (c == '"') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

LogLine& LogLine::add(std::string_view key, std::string_view value, std::size_t limit) {
  if (!text_.empty()) text_.push_back(' ');
  text_.append(key);
  text_.push_back('=');
  text_ += quote_log_value(value, limit);
  return *this;
}

LogLine& LogLine::add(std::string_view key, long long value) {
  return add(key, std::to_string(value));
}

LogLine& LogLine::add_raw(std::string_view text) {
  if (text.empty()) return *this;
  if (!text_.empty()) text_.push_back(' ');
  text_.append(text);
  return *this;
}

bool stderr_is_journal() noexcept {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (js == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

Logger::~Logger() {
  if (syslog_open_) closelog();
}

void Logger::configure(const Options& o) {
  std::lock_guard lock(mu_);
  bool reopen = !syslog_open_ || o.ident != opts_.ident || o.facility != opts_.facility;
  if (syslog_open_ && (reopen || !o.to_syslog)) {
    closelog();
    syslog_open_ = false;
  }
  opts_ = o;
  if (opts_.to_syslog && !syslog_open_) {
    syslog_ident_ = opts_.ident;
    openlog(syslog_ident_.c_str(), LOG_PID | LOG_NDELAY, opts_.facility < 0 ? LOG_MAIL : opts_.facility);
    syslog_open_ = true;
  }
  journal_stderr_ = opts_.to_stderr && stderr_is_journal();
  verbose_.store(opts_.verbose, std::memory_order_relaxed);
}

void Logger::log(Severity s, std::string_view message) noexcept {
  if (s == Severity::Debug && !debug_enabled()) return;
  try {
    std::string_view m = message.substr(0, kMaxLogLine);
    std::lock_guard lock(mu_);
    if (opts_.to_syslog && syslog_open_) {
      syslog(to_syslog_priority(s), "%.*s", static_cast<int>(m.size()), m.data());
    }
    if (opts_.to_stderr) {
      std::string line;
      if (journal_stderr_) {
        // sd-daemon(3): "<N>" sets the priority; journald adds ident and pid itself.
        line = "<" + std::to_string(to_syslog_priority(s)) + ">";
      } else {
        line = opts_.ident + "[" + std::to_string(getpid()) + "]: ";
        if (s != Severity::Info) line += std::string(to_string(s)) + ": ";
      }
      line.append(m);
      line.push_back('\n');
      (void)!write(STDERR_FILENO, line.data(), line.size());
    }
  } catch (...) {
    // Out of memory while logging: nothing sensible left to do.
  }
}

}  // namespace inkan::milter
