// inkan::milter — logging for the daemons: syslog with the configured facility and ident,
// plus stderr in the foreground (journald-friendly), and the escaping of attacker text.
//
// Severity ladder (STYLE.md "Logging", like Postfix msg_*): info = verdicts, notice = a
// noteworthy but normal event, warning = the peer did something wrong or a limit was hit,
// error = our trouble, handled, critical = start-up only. One summary line per message,
// queue id first, key=value (LogLine). Everything that came from the network goes through
// printable(): non-printable bytes become \xHH, and the text is truncated.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace inkan::milter {

/// Longest piece of attacker-controlled text copied into a log line (STYLE.md "%.100s").
inline constexpr std::size_t kMaxLoggedText = 100;
/// Longest log line we emit; syslog(3) and journald keep longer lines but they help nobody.
inline constexpr std::size_t kMaxLogLine = 4096;

enum class Severity { Debug, Info, Notice, Warning, Error, Critical };

/// syslog priority for a severity (LOG_DEBUG ... LOG_CRIT).
int to_syslog_priority(Severity s) noexcept;
std::string_view to_string(Severity s) noexcept;

/// Escapes text for a log line: bytes outside 0x20..0x7e and '\' become "\xHH" / "\\";
/// the result holds at most `limit` input bytes, and "..." marks a truncation.
std::string printable(std::string_view text, std::size_t limit = kMaxLoggedText);

/// Builds "key=value key2=\"two words\"" lines. Values are passed through printable(); a value
/// that is empty or holds SP, '"' or '=' is quoted, with '"' escaped as \". Keys are trusted
/// (program constants).
class LogLine {
 public:
  LogLine& add(std::string_view key, std::string_view value, std::size_t limit = kMaxLoggedText);
  LogLine& add(std::string_view key, long long value);
  /// Appends pre-formatted trusted text (separated by one space).
  LogLine& add_raw(std::string_view text);
  bool empty() const noexcept { return text_.empty(); }
  const std::string& str() const noexcept { return text_; }
  void clear() noexcept { text_.clear(); }

 private:
  std::string text_;
};

/// Quotes a value as LogLine does.
std::string quote_log_value(std::string_view value, std::size_t limit = kMaxLoggedText);

/// The process logger. configure() may be called again at reload; log() is thread-safe and
/// never throws.
class Logger {
 public:
  struct Options {
    std::string ident = "inkan";  ///< syslog ident / stderr prefix
    int facility = -1;            ///< LOG_MAIL etc.; -1 = LOG_MAIL
    bool to_syslog = true;
    bool to_stderr = false;
    int verbose = 0;  ///< > 0 lets Debug through
  };

  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  ~Logger();

  void configure(const Options& o);
  void log(Severity s, std::string_view message) noexcept;
  void debug(std::string_view m) noexcept { log(Severity::Debug, m); }
  void info(std::string_view m) noexcept { log(Severity::Info, m); }
  void notice(std::string_view m) noexcept { log(Severity::Notice, m); }
  void warning(std::string_view m) noexcept { log(Severity::Warning, m); }
  void error(std::string_view m) noexcept { log(Severity::Error, m); }
  void critical(std::string_view m) noexcept { log(Severity::Critical, m); }
  bool debug_enabled() const noexcept { return verbose_.load(std::memory_order_relaxed) > 0; }

 private:
  std::mutex mu_;
  Options opts_;
  std::string syslog_ident_;  // openlog keeps the pointer: must outlive the log
  bool syslog_open_ = false;
  bool journal_stderr_ = false;
  std::atomic<int> verbose_{0};
};

/// True when stderr is connected to journald (JOURNAL_STREAM names its device:inode), in which
/// case "<N>" priority prefixes are understood (sd-daemon(3)).
bool stderr_is_journal() noexcept;

}  // namespace inkan::milter
