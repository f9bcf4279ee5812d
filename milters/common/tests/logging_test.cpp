#include "common/logging.h"

#include <gtest/gtest.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace inkan::milter {
namespace {

TEST(Printable, EscapesAttackerText) {
  EXPECT_EQ(printable("plain text"), "plain text");
  EXPECT_EQ(printable("a\r\nb"), "a\\x0d\\x0ab");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("back\\slash"), "back\\\\slash");
  EXPECT_EQ(printable("\xc3\xa9t\xc3\xa9"), "\\xc3\\xa9t\\xc3\\xa9");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
}

TEST(Printable, Truncates) {
  EXPECT_EQ(printable(std::string(150, 'a')), std::string(100, 'a') + "...");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
  auto huge = printable(std::string(1 << 20, '\n'));
  EXPECT_EQ(huge.size(), 100u * 4 + 3);
}

TEST(LogLine, KeyValue) {
  LogLine l;
  l.add("d", "example.org").add("s", "sel1").add("result", "pass");
  EXPECT_EQ(l.str(), "d=example.org s=sel1 result=pass");
  LogLine q;
  q.add("reason", "signature verification failed").add("empty", "").add("eq", "a=b").add("n", 42LL);
  EXPECT_EQ(q.str(), "reason=\"signature verification failed\" empty=\"\" eq=\"a=b\" n=42");
}

TEST(LogLine, HostileValuesCannotForgeFields) {
  LogLine l;
  l.add("from", "x\" result=pass \"y\nfake line");
  EXPECT_EQ(l.str(), "from=\"x\\\" result=pass \\\"y\\x0afake line\"");
  EXPECT_EQ(l.str().find('\n'), std::string::npos);
  LogLine r;
  r.add_raw("queue=1").add_raw("").add_raw("k=v");
  EXPECT_EQ(r.str(), "queue=1 k=v");
}

TEST(Severity, SyslogPriorities) {
  EXPECT_EQ(to_syslog_priority(Severity::Info), LOG_INFO);
  EXPECT_EQ(to_syslog_priority(Severity::Warning), LOG_WARNING);
  EXPECT_EQ(to_syslog_priority(Severity::Error), LOG_ERR);
  EXPECT_EQ(to_syslog_priority(Severity::Critical), LOG_CRIT);
  EXPECT_EQ(to_string(Severity::Critical), "fatal");
}

// The stderr sink, redirected to a file: "ident[pid]: [level: ]message", debug only with -v.
TEST(Logger, StderrFormat) {
  char path[] = "/tmp/inkan-log-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  unsetenv("JOURNAL_STREAM");
  {
    Logger log;
    Logger::Options o;
    o.ident = "inkan-test";
    o.to_syslog = false;
    o.to_stderr = true;
    log.configure(o);
    log.info("hello");
    log.warning("careful");
    log.debug("hidden");
    o.verbose = 1;
    log.configure(o);
    log.debug("shown");
    log.error(std::string(10000, 'x'));
  }
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  std::string pid = std::to_string(getpid());
  std::string text = ss.str();
  EXPECT_NE(text.find("inkan-test[" + pid + "]: hello\n"), std::string::npos) << text.substr(0, 300);
  EXPECT_NE(text.find("inkan-test[" + pid + "]: warning: careful\n"), std::string::npos);
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("debug: shown"), std::string::npos);
  EXPECT_LE(text.size(), 300u + kMaxLogLine);
}

}  // namespace
}  // namespace inkan::milter
