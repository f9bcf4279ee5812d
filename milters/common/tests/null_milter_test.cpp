// End-to-end tests of the milter runtime: inkan-null-milter is started on loopback TCP or a
// unix socket (port picked free, files in a private temp dir) and driven with the
// milter-protocol client. Hermetic: loopback only, no syslog (Syslog no), no real MTA.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include "milterclient/milter_client.h"

namespace inkan::milterclient {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  close(fd);
  return ntohs(sin.sin_port);
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

/// Alive and not a zombie (an orphaned daemon is reaped by whoever is PID 1, maybe late).
bool process_alive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat.size() || stat[close_paren + 2] != 'Z';
}

/// A private directory, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/inkan-milter-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// One inkan-null-milter process.
class Daemon {
 public:
  Daemon(const TempDir& dir, std::vector<std::string> args, bool foreground = true) : dir_(dir) {
    log_ = dir.path / ("stderr." + std::to_string(++counter_));
    std::vector<std::string> argv = {INKAN_NULL_MILTER};
    if (foreground) argv.push_back("-f");
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      unsetenv("JOURNAL_STREAM");
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
  }
  ~Daemon() {
    if (process_alive(pid_) && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }
  bool wait_log(std::string_view needle, std::chrono::milliseconds limit = 10s) const {
    return wait_until([&] { return log().find(needle) != std::string::npos; }, limit);
  }
  /// Waits until `needle` appears at least `times` times in the log.
  bool wait_log_count(std::string_view needle, std::size_t times, std::chrono::milliseconds limit = 10s) const {
    return wait_until(
        [&] {
          std::string l = log();
          std::size_t n = 0;
          for (auto p = l.find(needle); p != std::string::npos; p = l.find(needle, p + needle.size())) ++n;
          return n >= times;
        },
        limit);
  }
  bool ready() const { return wait_log("starting ("); }
  /// Waits for the process to exit; returns its exit status (-1 on timeout or signal).
  int wait_exit(std::chrono::milliseconds limit = 20s) {
    int status = 0;
    bool done = wait_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!done) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void signal(int sig) const { kill(pid_, sig); }

 private:
  const TempDir& dir_;
  fs::path log_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  static inline int counter_ = 0;
};

Message sample_message(std::size_t body_bytes = 0) {
  std::string text =
      "Received: from client.example.net by mx.example.org\n"
      "From: Alice <alice@example.net>\n"
      "To: bob@example.org\n"
      "Subject: a folded\n\tsubject line\n"
      "\n";
  if (body_bytes == 0) {
    text += "Hello.\n";
  } else {
    std::string line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\n";
    while (text.size() < body_bytes) text += line;
  }
  return *parse_message(text);
}

Transaction sample_transaction(std::string qid = "4Xk2p3") {
  Transaction t;
  t.message = sample_message();
  t.macros = {{MacroStage::Connect, "j", "mx.example.org"},
              {MacroStage::Connect, "{daemon_name}", "smtpd"},
              {MacroStage::Mail, "{auth_authen}", "alice"},
              {MacroStage::Rcpt, "i", qid},
              {MacroStage::Eom, "i", qid}};
  return t;
}

class NullMilter : public testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    spec_ = "inet:" + std::to_string(port_) + "@127.0.0.1";
    conf_ = dir_.path / "null.conf";
    write_file(conf_, "# test configuration\nSyslog no\nSocket " + spec_ + "\n");
  }
  std::unique_ptr<Daemon> start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-x", conf_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = std::make_unique<Daemon>(dir_, args);
    EXPECT_TRUE(d->ready()) << d->log();
    return d;
  }
  std::string postfix_spec() const { return "inet:127.0.0.1:" + std::to_string(port_); }

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::string spec_;
  fs::path conf_;
};

TEST_F(NullMilter, NegotiatesProtocolSixWithOnlyTheStepsItUses) {
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate();
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(n->version, 6u);
  EXPECT_EQ(n->actions, 0x01u) << "SMFIF_ADDHDRS only";
  EXPECT_NE(n->protocol & wire::kNoHelo, 0u);
  EXPECT_NE(n->protocol & wire::kNoData, 0u);
  EXPECT_NE(n->protocol & wire::kNoUnknown, 0u);
  EXPECT_TRUE(n->leading_space());
  for (auto bit : {wire::kNoConnect, wire::kNoMail, wire::kNoRcpt, wire::kNoHeaders, wire::kNoEoh, wire::kNoBody}) {
    EXPECT_EQ(n->protocol & bit, 0u) << "step " << bit << " declined";
  }
  (void)c->quit();
}

TEST_F(NullMilter, AddsHeaderAtEndOfMessageOverTcp) {
  auto d = start();
  auto r = run_transaction(postfix_spec(), sample_transaction());
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  EXPECT_EQ(r->ended_at, "eom");
  ASSERT_EQ(r->modifications.size(), 1u);
  EXPECT_EQ(r->modifications[0].kind, Modification::Kind::AddHeader);
  EXPECT_EQ(r->modifications[0].name, "X-Inkan-Null");
  EXPECT_EQ(r->modifications[0].value, " ok") << "leading space negotiated";
  std::string out = render_message(r->result);
  EXPECT_NE(out.find("Subject: a folded\r\n\tsubject line\r\nX-Inkan-Null: ok\r\n\r\nHello.\r\n"), std::string::npos)
      << out;
  // One summary line per message, queue id first, key=value, macros read.
  EXPECT_TRUE(d->wait_log("4Xk2p3: from=<sender@example.net> rcpts=1 headers=4 body=8 chunks=1 auth=alice result=ok"))
      << d->log();
}

TEST_F(NullMilter, RecipientChangesAtEndOfMessage) {
  // SMFIR_ADDRCPT ('+') and SMFIR_DELRCPT ('-'), each a NUL-terminated address (the client
  // keeps it in `name`, ESMTP arguments in `value`), after the
  // header change and before the final accept; SMFIF_ADDRCPT / SMFIF_DELRCPT negotiated.
  write_file(conf_, "Syslog no\nSocket " + spec_ +
                        "\nAddRecipients <audit@example.org>, archive@example.org\nDeleteRecipients <bob@example.org>\n");
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate();
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(n->actions, 0x01u | 0x04u | 0x08u) << "ADDHDRS, ADDRCPT, DELRCPT";
  for (int i = 0; i < 3; ++i) {  // several messages on one connection stay in step
    auto r = run_on(*c, sample_transaction("RC" + std::to_string(i)), i == 0);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->final.code, 'a');
    ASSERT_EQ(r->modifications.size(), 4u);
    EXPECT_EQ(r->modifications[0].kind, Modification::Kind::AddHeader);
    EXPECT_EQ(r->modifications[1].kind, Modification::Kind::AddRcpt);
    EXPECT_EQ(r->modifications[1].name, "<audit@example.org>");
    EXPECT_EQ(r->modifications[2].kind, Modification::Kind::AddRcpt);
    EXPECT_EQ(r->modifications[2].name, "archive@example.org");
    EXPECT_EQ(r->modifications[3].kind, Modification::Kind::DeleteRcpt);
    EXPECT_EQ(r->modifications[3].name, "<bob@example.org>");
  }
  (void)c->quit();
  EXPECT_TRUE(d->wait_log("RC2: from=<sender@example.net> rcpts=1 headers=4 body=8 chunks=1 auth=alice rcpt_changes=3 result=ok"))
      << d->log();
}

TEST_F(NullMilter, RecipientChangesNotOfferedAreRefusedNotSent) {
  // An MTA that offers no recipient changes: nothing asked for, nothing sent (a packet the MTA
  // did not allow would end the session), the refusal logged, the message still accepted.
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nAddRecipients audit@example.org\nDeleteRecipients bob@example.org\n");
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate(wire::kAllActions & ~(0x04u | 0x08u));
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(n->actions, 0x01u);
  auto r = run_on(*c, sample_transaction("RN1"), true);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  ASSERT_EQ(r->modifications.size(), 1u);
  EXPECT_EQ(r->modifications[0].kind, Modification::Kind::AddHeader);
  (void)c->quit();
  EXPECT_TRUE(d->wait_log("RN1: adding recipient audit@example.org: addrcpt failed (action not negotiated")) << d->log();
  EXPECT_TRUE(d->wait_log("RN1: deleting recipient bob@example.org: delrcpt failed")) << d->log();
  EXPECT_TRUE(d->wait_log("RN1: from=<sender@example.net> rcpts=1 headers=4 body=8 chunks=1 auth=alice result=ok")) << d->log();
}

TEST_F(NullMilter, WithoutLeadingSpaceTheValueHasNone) {
  auto d = start();
  auto c = Client::connect(spec_);  // libmilter form works too
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->negotiate(wire::kAllActions, wire::kAllProtocol & ~wire::kHeaderLeadingSpace));
  EXPECT_FALSE(c->negotiation().leading_space());
  auto r = run_on(*c, sample_transaction(), true);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->modifications.size(), 1u);
  EXPECT_EQ(r->modifications[0].value, "ok");
  EXPECT_NE(render_message(r->result).find("X-Inkan-Null: ok\r\n"), std::string::npos);
}

TEST_F(NullMilter, ChunkedBodyAndManyMessagesPerConnection) {
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->negotiate());
  for (int i = 0; i < 5; ++i) {
    Transaction t = sample_transaction("Q" + std::to_string(i));
    t.message = sample_message(200000);
    auto r = run_on(*c, t, i == 0);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->final.code, 'a');
    EXPECT_EQ(r->result.body, t.message.body);
  }
  (void)c->quit();
  const std::string body = sample_message(200000).body;
  std::string want = "Q4: from=<sender@example.net> rcpts=1 headers=4 body=" + std::to_string(body.size()) + " chunks=" +
                     std::to_string((body.size() + 65534) / 65535);
  EXPECT_TRUE(d->wait_log(want)) << want << "\n" << d->log();
}

TEST_F(NullMilter, AbortMidMessageThenNextMessage) {
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->negotiate());
  ASSERT_TRUE(c->connect_info("client.example.net", "192.0.2.1", 4000));
  ASSERT_TRUE(c->mail({"<a@example.net>"}));
  ASSERT_TRUE(c->rcpt({"<b@example.org>"}));
  ASSERT_TRUE(c->header("From", "a@example.net"));
  ASSERT_TRUE(c->eoh());
  ASSERT_TRUE(c->body("partial body\r\n"));
  ASSERT_TRUE(c->abort());
  auto r = run_on(*c, sample_transaction("AFTERABORT"), false);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  EXPECT_TRUE(d->wait_log("AFTERABORT: from=<sender@example.net> rcpts=1 headers=4 body=8 chunks=1")) << d->log();
}

TEST_F(NullMilter, SurvivesGarbageAndAbruptDisconnects) {
  auto d = start();
  const std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff", 4) + "O",                // length far beyond the limit
      std::string("\x00\x00\x00\x00", 4),                      // zero length
      std::string("\x00\x00\x00\x05", 4) + "O\x00\x00",        // truncated OPTNEG
      std::string("\x00\x00\x00\x02", 4) + "Z!",               // unknown command
      "GET / HTTP/1.0\r\n\r\n",                                // wrong protocol
      std::string(70000, '\x00'),
  };
  for (const auto& g : garbage) {
    auto c = Client::connect(postfix_spec(), 2s);
    ASSERT_TRUE(c);
    (void)c->send_raw(g);
    c->close();
  }
  // Valid start, then garbage in the middle of a message, then vanish.
  for (int i = 0; i < 20; ++i) {
    auto c = Client::connect(postfix_spec(), 2s);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->negotiate());
    ASSERT_TRUE(c->connect_info("h", "127.0.0.1", 1));
    ASSERT_TRUE(c->mail({"<a@b>"}));
    if (i % 2 == 0) (void)c->send_packet('B', std::string(1000, 'x'));  // body before headers
    if (i % 3 == 0) (void)c->send_packet('L', std::string("no-nul-terminators"));
    if (i % 5 == 0) (void)c->send_raw(std::string("\x00\x01\x00\x00", 4));  // promise 64 KiB, send nothing
    c->close();
  }
  // Header with a NUL-free but huge value and 10 000 headers: bounded, still answered.
  {
    Transaction t = sample_transaction("MANYHEADERS");
    for (int i = 0; i < 10000; ++i) t.message.headers.push_back({"X-Filler", " " + std::to_string(i)});
    auto r = run_transaction(postfix_spec(), t, 30s);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->final.code, 'a');
  }
  ASSERT_TRUE(process_alive(d->pid()));
  auto r = run_transaction(postfix_spec(), sample_transaction("STILLALIVE"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  EXPECT_TRUE(d->wait_log("STILLALIVE: ")) << d->log();
}

TEST_F(NullMilter, ConcurrentClients) {
  auto d = start();
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] {
      auto c = Client::connect(postfix_spec());
      if (!c || !c->negotiate()) return;
      for (int j = 0; j < 10; ++j) {
        auto r = run_on(*c, sample_transaction("C" + std::to_string(i) + "x" + std::to_string(j)), j == 0);
        if (r && r->final.code == 'a' && r->modifications.size() == 1) ++ok;
      }
      (void)c->quit();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST_F(NullMilter, InternalErrorGivesDefaultActionAndSessionRecovers) {
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nTestFailures yes\n");
  auto d = start();
  for (std::string stage : {"header", "eoh", "body", "eom"}) {
    auto c = Client::connect(postfix_spec());
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->negotiate());
    Transaction bad = sample_transaction("FAIL" + stage);
    bad.message.headers.push_back({"X-Inkan-Null-Fail", " " + stage});
    auto r = run_on(*c, bad, true);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->final.code, 't') << stage << ": default action is tempfail";
    EXPECT_TRUE(r->modifications.empty());
    // The same connection carries on with a fresh session.
    auto good = run_on(*c, sample_transaction("GOOD" + stage), false);
    ASSERT_TRUE(good) << good.error().reason;
    EXPECT_EQ(good->final.code, 'a') << stage;
    EXPECT_EQ(good->modifications.size(), 1u);
    (void)c->quit();
    EXPECT_TRUE(d->wait_log("internal error at " + stage + ": test failure requested at " + stage)) << d->log();
  }
  EXPECT_TRUE(d->wait_log("FAILeom: error=internal action=tempfail")) << d->log();
}

TEST_F(NullMilter, InternalErrorDefaultActionAccept) {
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\n");
  write_file(dir_.path / "null.yaml",
             "# YAML this time\nnull_milter:\n  syslog: no\n  socket: " + spec_ +
                 "\n  test_failures: yes\n  on_internal_error: accept\n");
  auto d = std::make_unique<Daemon>(dir_, std::vector<std::string>{"-c", (dir_.path / "null.yaml").string()});
  ASSERT_TRUE(d->ready()) << d->log();
  Transaction bad = sample_transaction("ACC");
  bad.message.headers.push_back({"X-Inkan-Null-Fail", " eoh"});
  auto r = run_transaction(postfix_spec(), bad);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  // End of header is a no-reply step (SMFIP_NR_EOH, offered like Postfix does): the default
  // action is held and given at end of message, with no modifications.
  EXPECT_EQ(r->ended_at, "eom");
  EXPECT_TRUE(r->modifications.empty());
  // The next message on a new connection is served normally.
  auto ok = run_transaction(postfix_spec(), sample_transaction("ACC2"));
  ASSERT_TRUE(ok) << ok.error().reason;
  EXPECT_EQ(ok->final.code, 'a');
  EXPECT_EQ(ok->modifications.size(), 1u);

  // An MTA without SMFIP_NR_*: the native engine answers at end of header, as the step has a
  // reply. libmilter instead offers the no-reply steps to the daemon anyway and answers
  // CONTINUE on its behalf (engine.c fake_pflags), so there the held answer comes at end of
  // message. Either way the MTA sees a consistent reply sequence.
  const char* engine = std::getenv("INKAN_MILTER_ENGINE");
  const bool libmilter = engine != nullptr && std::string(engine) == "libmilter";
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate(wire::kAllActions, wire::kAllProtocol & ~0xFF080u);
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(n->protocol & 0xFF080u, 0u) << "nothing the MTA did not offer";
  auto r2 = run_on(*c, bad, true);
  ASSERT_TRUE(r2) << r2.error().reason;
  EXPECT_EQ(r2->final.code, 'a');
  EXPECT_EQ(r2->ended_at, libmilter ? "eom" : "eoh");
  EXPECT_TRUE(r2->modifications.empty());
}

TEST_F(NullMilter, NoReplyStepsNegotiatedAndManyMessagesStayInStep) {
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\n");
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate();
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_NE(n->protocol & wire::kNrHeader, 0u);
  EXPECT_NE(n->protocol & wire::kNrEoh, 0u);
  EXPECT_NE(n->protocol & wire::kNrBody, 0u);
  EXPECT_EQ(n->protocol & wire::kNrMail, 0u) << "envelope steps keep their replies";
  for (int i = 0; i < 50; ++i) {
    Transaction t = sample_transaction("NR" + std::to_string(i));
    for (int h = 0; h < 20; ++h) t.message.headers.push_back({"X-Filler", " value " + std::to_string(h)});
    auto r = run_on(*c, t, i == 0);
    ASSERT_TRUE(r) << i << ": " << r.error().reason;
    EXPECT_EQ(r->final.code, 'a');
    EXPECT_EQ(r->ended_at, "eom");
    ASSERT_EQ(r->modifications.size(), 1u) << i;
  }
}

TEST_F(NullMilter, NoReplyEnvelopeWholeEnvelopeWithoutReplies) {
  // inkan-dkim's negotiation: connect, MAIL and RCPT need no reply, so Postfix sends the
  // envelope with the message and the daemon wakes once for it (protocol.h).
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nNoReplyEnvelope yes\n");
  auto d = start();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate();
  ASSERT_TRUE(n) << n.error().reason;
  for (auto bit : {wire::kNrConnect, wire::kNrMail, wire::kNrRcpt, wire::kNrHeader, wire::kNrEoh, wire::kNrBody}) {
    EXPECT_NE(n->protocol & bit, 0u) << "no-reply bit " << bit;
  }
  for (int i = 0; i < 5; ++i) {
    auto r = run_on(*c, sample_transaction("NE" + std::to_string(i)), i == 0);
    ASSERT_TRUE(r) << i << ": " << r.error().reason;
    EXPECT_EQ(r->final.code, 'a');
    EXPECT_EQ(r->ended_at, "eom");
    ASSERT_EQ(r->modifications.size(), 1u) << i;
  }
}

TEST_F(NullMilter, ConnectAcceptKeepsItsReplyOrIsHeldForEveryMessage) {
  // A connection-level Accept at connect (AcceptPeers, like inkan-dkim's PeerList).
  const std::string base = "Syslog no\nSocket " + spec_ + "\nNoReplyEnvelope yes\n";
  write_file(conf_, base + "AcceptPeers 192.0.2.7, 127.0.0.1\n");
  auto d = start();
  {
    // While the configuration can decide at connect, connect keeps its reply.
    auto c = Client::connect(postfix_spec());
    ASSERT_TRUE(c) << c.error().reason;
    auto n = c->negotiate();
    ASSERT_TRUE(n) << n.error().reason;
    EXPECT_EQ(n->protocol & wire::kNrConnect, 0u);
    EXPECT_NE(n->protocol & wire::kNrMail, 0u);
    auto r = c->connect_info("localhost", "127.0.0.1", 40000);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(r->code, 'a') << r->describe();
    (void)c->quit();
  }
  Transaction other = sample_transaction("OTHER1");
  other.client_addr = "192.0.2.99";
  auto o = run_transaction(postfix_spec(), other);
  ASSERT_TRUE(o) << o.error().reason;
  EXPECT_EQ(o->final.code, 'a');
  EXPECT_EQ(o->modifications.size(), 1u) << "other peers are filtered";

  // Negotiated without a reply at connect (no AcceptPeers), then a reload adds the peer
  // before connect arrives: the Accept is held and given for every message of the
  // connection at its first step with a reply; the messages stay untouched.
  write_file(conf_, base);
  d->signal(SIGHUP);
  ASSERT_TRUE(d->wait_log("configuration reloaded from")) << d->log();
  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c) << c.error().reason;
  auto n = c->negotiate();
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_NE(n->protocol & wire::kNrConnect, 0u);
  write_file(conf_, base + "AcceptPeers 127.0.0.1\n");
  d->signal(SIGUSR1);
  ASSERT_TRUE(d->wait_log_count("configuration reloaded from", 2)) << d->log();
  for (int i = 0; i < 3; ++i) {
    auto r = run_on(*c, sample_transaction("HELD" + std::to_string(i)), i == 0);
    ASSERT_TRUE(r) << i << ": " << r.error().reason;
    EXPECT_EQ(r->final.code, 'a') << i;
    EXPECT_EQ(r->ended_at, "eom") << i;
    EXPECT_TRUE(r->modifications.empty()) << i << ": accepted at connect, left untouched";
  }
  (void)c->quit();
}

TEST_F(NullMilter, UnixSocketWithUMask) {
  fs::path sock = dir_.path / "null.sock";
  write_file(conf_, "Syslog no\nSocket local:" + sock.string() + "\nUMask 007\n");
  auto d = start();
  struct stat st {};
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0770u) << "UMask 007 gives srwxrwx---";
  auto r = run_transaction("unix:" + sock.string(), sample_transaction("UNIX1"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  // Restarting on the stale socket works (anchor-features.md §1.2).
  d->signal(SIGTERM);
  EXPECT_EQ(d->wait_exit(), 0) << d->log();
  auto d2 = start();
  auto r2 = run_transaction("local:" + sock.string(), sample_transaction("UNIX2"));
  ASSERT_TRUE(r2) << r2.error().reason;
  EXPECT_EQ(r2->final.code, 'a');
}

TEST_F(NullMilter, ReloadOnHupAndUsr1KeepsOldConfigWhenNewIsBad) {
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nHeaderValue first\n");
  auto d = start();
  auto value = [&] {
    auto r = run_transaction(postfix_spec(), sample_transaction());
    return r && r->modifications.size() == 1 ? r->modifications[0].value : std::string("<error>");
  };
  EXPECT_EQ(value(), " first");

  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nHeaderValue second\n");
  d->signal(SIGHUP);
  ASSERT_TRUE(d->wait_log("configuration reloaded from")) << d->log();
  EXPECT_EQ(value(), " second");
  EXPECT_TRUE(process_alive(d->pid())) << "SIGHUP must not stop the daemon";

  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nFrobnicate yes\n");
  d->signal(SIGUSR1);
  ASSERT_TRUE(d->wait_log("reload failed, keeping the current configuration")) << d->log();
  EXPECT_NE(d->log().find("configuration error at line 3: unrecognized parameter (Frobnicate)"), std::string::npos);
  EXPECT_EQ(value(), " second");

  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nHeaderValue third\nSocket inet:1@127.0.0.1\n");
  d->signal(SIGUSR1);
  ASSERT_TRUE(d->wait_log("Socket changed; it takes effect after a restart")) << d->log();
  EXPECT_EQ(value(), " third");
}

TEST_F(NullMilter, SigtermFinishesTheMessageInFlight) {
  fs::path pid = dir_.path / "null.pid";
  auto d = start({"-P", pid.string()});
  ASSERT_TRUE(wait_until([&] { return fs::exists(pid); }, 5s));
  EXPECT_EQ(read_file(pid), std::to_string(d->pid()) + "\n");

  auto c = Client::connect(postfix_spec());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->negotiate());
  ASSERT_TRUE(c->connect_info("h", "127.0.0.1", 1));
  ASSERT_TRUE(c->mail({"<a@b>"}));
  ASSERT_TRUE(c->rcpt({"<c@d>"}));
  ASSERT_TRUE(c->header("From", "a@b"));
  ASSERT_TRUE(c->eoh());
  d->signal(SIGTERM);
  ASSERT_TRUE(d->wait_log("finishing 1 message(s) in flight")) << d->log();
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(process_alive(d->pid())) << "must wait for the message in flight";
  auto late = c->body("late body\r\n");
  ASSERT_TRUE(late) << late.error().reason << "\n" << d->log();
  std::vector<Modification> mods;
  auto r = c->end_of_message(mods);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->code, 'a');
  EXPECT_EQ(mods.size(), 1u);
  (void)c->quit();
  EXPECT_EQ(d->wait_exit(), 0) << d->log();
  EXPECT_FALSE(fs::exists(pid)) << "PidFile removed at exit";
  EXPECT_NE(d->log().find("terminating with status 0"), std::string::npos);
}

TEST_F(NullMilter, BackgroundWritesPidfileAfterFork) {
  fs::path pid = dir_.path / "bg.pid";
  Daemon parent(dir_, {"-x", conf_.string(), "-P", pid.string()}, /*foreground=*/false);
  EXPECT_EQ(parent.wait_exit(), 0) << parent.log();
  ASSERT_TRUE(fs::exists(pid));
  pid_t child = static_cast<pid_t>(std::stol(read_file(pid)));
  EXPECT_NE(child, parent.pid());
  ASSERT_TRUE(process_alive(child));
  auto r = run_transaction(postfix_spec(), sample_transaction());
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  kill(child, SIGTERM);
  EXPECT_TRUE(wait_until([&] { return !process_alive(child); }, 20s));
  EXPECT_FALSE(fs::exists(pid));
}

TEST_F(NullMilter, PostfixFormSocketOnCommandLine) {
  // -p overrides Socket; the Postfix spelling is accepted and turned into libmilter's.
  std::uint16_t other = free_port();
  auto d = start({"-p", "inet:127.0.0.1:" + std::to_string(other)});
  auto r = run_transaction("inet:" + std::to_string(other) + "@127.0.0.1", sample_transaction());
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  EXPECT_NE(d->log().find("starting (inet:" + std::to_string(other) + "@127.0.0.1)"), std::string::npos) << d->log();
}

TEST_F(NullMilter, Ipv6Loopback) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  bool have_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0;
  if (probe >= 0) close(probe);
  if (!have_v6) GTEST_SKIP() << "no IPv6 loopback here";
  auto d = start({"-p", "inet6:" + std::to_string(port_) + "@[::1]"});
  auto r = run_transaction("inet:[::1]:" + std::to_string(port_), sample_transaction("V6"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
}

/// Runs `n` messages in sequence over one connection to `spec` (each one adds a header at EOM,
/// so the daemon answers with a modification and then the reply) and returns the wall time.
std::chrono::milliseconds sequential_messages(const std::string& spec, int n) {
  auto c = Client::connect(spec);
  EXPECT_TRUE(c) << c.error().reason;
  if (!c) return std::chrono::hours(1);
  EXPECT_TRUE(c->negotiate());
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = run_on(*c, sample_transaction("SEQ" + std::to_string(i)), i == 0);
    EXPECT_TRUE(r) << i << ": " << r.error().reason;
    if (!r) return std::chrono::hours(1);
    EXPECT_EQ(r->final.code, 'a') << i;
    EXPECT_EQ(r->modifications.size(), 1u) << i;
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begin);
  (void)c->quit();
  return took;
}

// TCP small-write stall (tcp_nodelay.cpp): without TCP_NODELAY every message waited ~40 ms for
// the client's delayed ACK (21 msgs/s measured), so 200 sequential messages took >= 8 s; with
// it they take well under a second even on a loaded machine. 4 s is 2x under the stall.
constexpr int kSequentialMessages = 200;
constexpr auto kNoStallLimit = 4s;

TEST_F(NullMilter, TcpConnectionDoesNotStallOnDelayedAck) {
  auto d = start({"-v"});
  EXPECT_TRUE(d->wait_log("TCP_NODELAY set on every accepted TCP connection")) << d->log();
  auto took = sequential_messages(postfix_spec(), kSequentialMessages);
  EXPECT_LT(took, kNoStallLimit) << kSequentialMessages << " messages over one TCP connection took " << took.count()
                                 << " ms: the delayed-ACK stall is back";
}

TEST_F(NullMilter, Ipv6TcpConnectionDoesNotStallOnDelayedAck) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  bool have_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0;
  if (probe >= 0) close(probe);
  if (!have_v6) GTEST_SKIP() << "no IPv6 loopback here";
  auto d = start({"-p", "inet6:" + std::to_string(port_) + "@[::1]"});
  auto took = sequential_messages("inet:[::1]:" + std::to_string(port_), kSequentialMessages);
  EXPECT_LT(took, kNoStallLimit) << took.count() << " ms over IPv6";
}

TEST_F(NullMilter, UnixSocketUnaffectedByTcpNoDelay) {
  fs::path sock = dir_.path / "seq.sock";
  write_file(conf_, "Syslog no\nSocket local:" + sock.string() + "\n");
  auto d = start({"-v"});
  EXPECT_TRUE(d->wait_log("unix socket: TCP_NODELAY not needed")) << d->log();
  auto took = sequential_messages("unix:" + sock.string(), kSequentialMessages);
  EXPECT_LT(took, kNoStallLimit) << took.count() << " ms over a unix socket";
  EXPECT_EQ(d->log().find("TCP_NODELAY on an MTA connection"), std::string::npos) << d->log();
}

TEST_F(NullMilter, BadMetricsAddressIsAConfigError) {
  Daemon d(dir_, {"-x", conf_.string(), "--metrics", "nowhere"});
  EXPECT_EQ(d.wait_exit(), 78) << d.log();
  EXPECT_NE(d.log().find("(command line): configuration error: expected ADDR:PORT (metrics)"), std::string::npos)
      << d.log();
}

TEST_F(NullMilter, MetricsEndpoint) {
  std::uint16_t mport = free_port();
  auto d = start({"--metrics", "127.0.0.1:" + std::to_string(mport)});
  ASSERT_TRUE(run_transaction(postfix_spec(), sample_transaction()));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(mport);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  std::string req = "GET /metrics HTTP/1.0\r\n\r\n";
  send(fd, req.data(), req.size(), 0);
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  close(fd);
  EXPECT_NE(resp.find("HTTP/1.0 200 OK"), std::string::npos) << resp;
  EXPECT_NE(resp.find("inkan_null_messages_total{verdict=\"ok\"} 1\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("inkan_null_actions_total{action=\"accept\"} 1\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("inkan_null_connections_total 1\n"), std::string::npos) << resp;
}

TEST_F(NullMilter, DropsPrivileges) {
  passwd* pw = getpwnam("nobody");
  if (geteuid() != 0 || pw == nullptr) GTEST_SKIP() << "needs root and user nobody";
  fs::path sock = dir_.path / "priv.sock";
  chmod(dir_.path.c_str(), 0755);
  write_file(conf_, "Syslog no\nSocket local:" + sock.string() + "\nUserID nobody\n");
  auto d = start();
  std::string status = read_file("/proc/" + std::to_string(d->pid()) + "/status");
  auto uid_line = status.substr(status.find("Uid:"), status.find('\n', status.find("Uid:")) - status.find("Uid:"));
  EXPECT_NE(uid_line.find("\t" + std::to_string(pw->pw_uid) + "\t"), std::string::npos) << uid_line;
  struct stat st {};
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, pw->pw_uid) << "socket chowned to UserID";
  auto r = run_transaction("unix:" + sock.string(), sample_transaction());
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
}

TEST_F(NullMilter, ChangeRootDirectoryAfterBindingBeforeDroppingPrivileges) {
  passwd* pw = getpwnam("nobody");
  if (geteuid() != 0 || pw == nullptr) GTEST_SKIP() << "needs root and user nobody";
  fs::path jail = dir_.path / "jail";
  fs::create_directories(jail);
  chmod(dir_.path.c_str(), 0755);
  chmod(jail.c_str(), 0755);
  fs::path sock = dir_.path / "chroot.sock";  // outside the jail: bound before chroot
  write_file(conf_, "Syslog no\nSocket local:" + sock.string() + "\nUserID nobody\nChangeRootDirectory " +
                        jail.string() + "\n");
  auto d = start();
  const std::string proc = "/proc/" + std::to_string(d->pid());
  EXPECT_EQ(fs::read_symlink(proc + "/root"), jail) << "the process's root is the jail";
  EXPECT_EQ(fs::read_symlink(proc + "/cwd"), jail);
  std::string status = read_file(proc + "/status");
  EXPECT_NE(status.find("\t" + std::to_string(pw->pw_uid) + "\t"), std::string::npos) << "and it runs as nobody";
  EXPECT_TRUE(d->wait_log("changed root directory to " + jail.string())) << d->log();
  auto r = run_transaction("unix:" + sock.string(), sample_transaction("JAIL1"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->final.code, 'a');
  EXPECT_EQ(r->modifications.size(), 1u);
}

TEST_F(NullMilter, ChangeRootDirectoryThatDoesNotExistStopsStartUp) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  write_file(conf_, "Syslog no\nSocket " + spec_ + "\nChangeRootDirectory " + (dir_.path / "missing").string() + "\n");
  Daemon d(dir_, {"-x", conf_.string()});
  EXPECT_EQ(d.wait_exit(), 71) << d.log();
  EXPECT_NE(d.log().find("chdir " + (dir_.path / "missing").string()), std::string::npos) << d.log();
}

struct CheckCase {
  std::string_view name;
  std::string_view file;
  std::string_view content;
  int exit_code;
  std::string_view message;
};

class CheckConfig : public testing::TestWithParam<CheckCase> {};

TEST_P(CheckConfig, ExitCodeAndMessage) {
  TempDir dir;
  const auto& c = GetParam();
  fs::path f = dir.path / std::string(c.file);
  write_file(f, c.content);
  Daemon d(dir, {"-n", "-x", f.string()});
  EXPECT_EQ(d.wait_exit(), c.exit_code) << d.log();
  std::string want = std::string(c.message);
  auto pos = want.find("FILE");
  if (pos != std::string::npos) want.replace(pos, 4, f.string());
  EXPECT_NE(d.log().find(want), std::string::npos) << "got " << d.log() << " want " << want;
}

INSTANTIATE_TEST_SUITE_P(
    All, CheckConfig,
    testing::ValuesIn(std::vector<CheckCase>{
        {"good_legacy", "a.conf", "Syslog no\nSocket inet:8890@localhost\nUMask 007\n", 0, ""},
        {"good_yaml", "a.yaml", "socket: inet:8890@localhost\nheader_value: fine\n", 0, ""},
        {"unknown_option", "a.conf", "Syslog no\nFrobnicate yes\n", 78,
         "inkan-null-milter: FILE: configuration error at line 2: unrecognized parameter (Frobnicate)"},
        {"missing_value", "a.conf", "Socket\n", 78, "FILE: configuration error at line 1: required value missing"},
        {"bad_bool", "a.conf", "\n\nBackground perhaps\n", 78, "line 3: illegal value"},
        {"bad_socket", "a.conf", "Socket inet:99999@localhost\n", 78, "bad socket"},
        {"unknown_user", "a.conf", "UserID no-such-user-inkan\n", 78, "unknown user"},
        {"bad_yaml", "a.yaml", "socket: [unclosed\n", 78, "FILE: configuration error at line"},
        {"yaml_unknown_key", "a.yaml", "sockets: inet:1@h\n", 78, "unrecognized parameter (sockets)"},
    }),
    [](const auto& i) { return std::string(i.param.name); });

TEST(CommandLineOfDaemon, VersionHelpAndUsageErrors) {
  TempDir dir;
  Daemon v(dir, {"-V"}, false);
  EXPECT_EQ(v.wait_exit(), 0);
  EXPECT_NE(v.log().find("inkan-null-milter "), std::string::npos);
  EXPECT_NE(v.log().find("milter protocol 6"), std::string::npos);
  Daemon h(dir, {"--help"}, false);
  EXPECT_EQ(h.wait_exit(), 0);
  EXPECT_NE(h.log().find("usage: inkan-null-milter"), std::string::npos);
  Daemon bad(dir, {"-Q"}, false);
  EXPECT_EQ(bad.wait_exit(), 64);
  EXPECT_NE(bad.log().find("unknown option '-Q'"), std::string::npos);
  Daemon missing(dir, {"-n", "-x", (dir.path / "nope.conf").string()}, false);
  EXPECT_EQ(missing.wait_exit(), 78);
  EXPECT_NE(missing.log().find("cannot read"), std::string::npos);
}

TEST(BindFailure, ExitsWithOsErr) {
  TempDir dir;
  // A socket in a directory that does not exist cannot be bound.
  fs::path conf = dir.path / "c.conf";
  write_file(conf, "Syslog no\nSocket local:" + (dir.path / "missing" / "s.sock").string() + "\n");
  Daemon d(dir, {"-x", conf.string()});
  EXPECT_EQ(d.wait_exit(), 71) << d.log();
  EXPECT_NE(d.log().find("cannot listen on"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace inkan::milterclient
