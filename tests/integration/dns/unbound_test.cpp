// Integration: CaresResolver (blocking, async, external loop) and CachingResolver against a
// real unbound serving a static local zone on 127.0.0.1, plus a silent socket (timeout) and a
// closed port (ICMP port unreachable → connection refused → ServFail).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/dns/cache.h"
#include "auth/dns/cares_resolver.h"

namespace auth::dns {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUnbound = "/usr/sbin/unbound";

// A 2048-bit RSA key record exactly as opendkim-genkey split it (public data).
const std::vector<std::string> kDkimStrings = {
    "v=DKIM1; h=sha256; k=rsa; ",
    "p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq7nQdocftkcL1J6uEbLeE2ij2wgQ1v3W760hbpqUkHOnVnQ+"
    "EoBq2qQBAPaIVkIB5hujGTAxtyYcJfIwRboQxAI7Tk9Pus9MZkgsBsP9MzZoe5A17qXJEYwm9f9m4c/BeY7z1HXsAenOCC/"
    "/jFHhTBGYh1TcgPWCNOIJ+kfFHqa1mXQ/BzgDw5C2m6HVOf6ykBfgbd43LnARWN",
    "Kue+umBrgR94JK2q413fSlWSDUPSatX44G33xVbp/Q8hoGIE+i+++qOmSLgyJrh3/Dpu88mvsYw+jUQw2brGGEYn4rXMxWPy"
    "1VZlFTtMS+/p+AUdv8Ixs2vYpJQ17rHwrH0VxFTQIDAQAB",
};

/// Eight 250-octet strings: ~2 KB, more than the 1232-octet EDNS payload, so the UDP answer
/// is truncated and c-ares must retry over TCP.
std::vector<std::string> big_strings() {
  std::vector<std::string> v;
  for (char c = 'a'; c < 'a' + 8; ++c) v.emplace_back(250, c);
  return v;
}

std::string quoted(const std::vector<std::string>& strings) {
  std::string out;
  for (const auto& s : strings) out += " \"" + s + "\"";
  return out;
}

int bind_loopback(int type, int port) {
  const int fd = socket(AF_INET, type, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

/// A port free for both UDP and TCP right now (bind port 0, close, check TCP).
int free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int u = bind_loopback(SOCK_DGRAM, 0);
    if (u < 0) continue;
    const int port = port_of(u);
    const int t = bind_loopback(SOCK_STREAM, port);
    close(u);
    if (t < 0) continue;
    close(t);
    return port;
  }
  return -1;
}

class DnsUnboundTest : public testing::Test {
 protected:
  void SetUp() override {
    if (access(kUnbound, X_OK) != 0) {
      GTEST_SKIP() << kUnbound << " is not installed (apt-get install unbound); "
                   << "the c-ares integration test needs a real recursive server on loopback";
    }
    char tmpl[] = "/tmp/inkan-dns-it.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) start();
    ASSERT_GT(pid_, 0) << "unbound did not come up; log:\n" << log();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &st, WNOHANG) == 0; ++i) std::this_thread::sleep_for(20ms);
      if (waitpid(pid_, &st, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
      }
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string log() const {
    std::ifstream in(dir_ + "/unbound.log");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void write_config() {
    std::ofstream z(dir_ + "/chain.example.zone");
    z << "$ORIGIN chain.example.\n"
      << "@ 3600 IN SOA ns hostmaster 1 3600 900 86400 120\n"
      << "@ 3600 IN NS ns\n"
      << "ns 3600 IN A 127.0.0.1\n"
      << "alias 60 IN CNAME host\n"
      << "host 600 IN A 192.0.2.10\n"
      << "host 600 IN A 192.0.2.11\n";
    z.close();
    std::ofstream c(dir_ + "/unbound.conf");
    c << "server:\n"
      << "  interface: 127.0.0.1\n"
      << "  port: " << port_ << "\n"
      << "  username: \"\"\n"
      << "  chroot: \"\"\n"
      << "  directory: \"" << dir_ << "\"\n"
      << "  pidfile: \"" << dir_ << "/unbound.pid\"\n"
      << "  use-syslog: no\n"
      << "  logfile: \"\"\n"
      << "  verbosity: 1\n"
      << "  num-threads: 1\n"
      << "  do-ip6: no\n"
      << "  do-not-query-localhost: no\n"
      << "  module-config: \"iterator\"\n"
      << "  access-control: 127.0.0.0/8 allow\n"
      << "  local-zone: \"inkan.test.\" static\n"
      << "  local-data: \"inkan.test. 3600 IN SOA ns.inkan.test. hostmaster.inkan.test. 1 3600 "
         "900 86400 120\"\n"
      << "  local-data: \"inkan.test. 300 IN MX 10 MX1.Inkan.Test.\"\n"
      << "  local-data: \"inkan.test. 300 IN MX 20 mx2.inkan.test.\"\n"
      << "  local-data: \"host.inkan.test. 600 IN A 192.0.2.10\"\n"
      << "  local-data: \"host.inkan.test. 600 IN A 192.0.2.11\"\n"
      << "  local-data: \"host.inkan.test. 600 IN AAAA 2001:DB8::10\"\n"
      << "  local-data: \"nullmx.inkan.test. 300 IN MX 0 .\"\n"
      << "  local-data: 'sel._domainkey.inkan.test. 300 IN TXT" << quoted(kDkimStrings) << "'\n"
      << "  local-data: 'multi.inkan.test. 300 IN TXT \"v=spf1 -all\"'\n"
      << "  local-data: 'multi.inkan.test. 300 IN TXT \"second\" \"record\"'\n"
      << "  local-data: 'big.inkan.test. 300 IN TXT" << quoted(big_strings()) << "'\n"
      << "  local-zone: \"2.0.192.in-addr.arpa.\" static\n"
      << "  local-data-ptr: \"192.0.2.10 host.inkan.test\"\n"
      // Local zones do not chase CNAMEs (unbound.conf(5)); an auth-zone does. Not under
      // "test.": unbound serves its default "test." local-zone before auth-zones.
      << "auth-zone:\n"
      << "  name: \"chain.example.\"\n"
      << "  zonefile: \"" << dir_ << "/chain.example.zone\"\n"
      << "  for-downstream: yes\n"
      << "  for-upstream: yes\n"
      << "  fallback-enabled: no\n"
      << "remote-control:\n"
      << "  control-enable: no\n";
  }

  void start() {
    port_ = free_port();
    ASSERT_GT(port_, 0);
    write_config();
    const std::string conf = dir_ + "/unbound.conf";
    const std::string logf = dir_ + "/unbound.log";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int fd = open(logf.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execl(kUnbound, "unbound", "-d", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait until it answers (or exits, e.g. the port was taken meanwhile).
    CaresResolver::Options o;
    o.nameservers = {server()};
    o.timeout = 200ms;
    o.tries = 1;
    auto probe = CaresResolver::create(o);
    ASSERT_TRUE(probe.has_value()) << probe.error().reason;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) return;  // exited: caller retries
      if ((*probe)->query("host.inkan.test", RType::A).ok()) {
        pid_ = pid;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<CaresResolver> resolver(std::chrono::milliseconds timeout = 2000ms,
                                          int tries = 2) {
    CaresResolver::Options o;
    o.nameservers = {server()};
    o.timeout = timeout;
    o.tries = tries;
    auto r = CaresResolver::create(o);
    EXPECT_TRUE(r.has_value()) << r.error().reason;
    return r ? std::move(*r) : nullptr;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(DnsUnboundTest, DkimKeyStringsKeptApartAndJoined) {
  auto r = resolver();
  Answer a = r->query("sel._domainkey.inkan.test", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings, kDkimStrings);
  EXPECT_EQ(a.txt[0].joined(), kDkimStrings[0] + kDkimStrings[1] + kDkimStrings[2]);
  EXPECT_GT(a.ttl, 0u);
  EXPECT_LE(a.ttl, 300u);
}

TEST_F(DnsUnboundTest, AdRequestedButLocalDataIsNotAuthenticated) {
  // request_ad (TrustAnchorFile / dns.dnssec: resolver): unbound takes the AD query bit and,
  // serving unvalidated local-data, answers without AD: the key is "unprotected". Also over
  // TCP (the truncated answer) and for a negative answer of the static zone.
  CaresResolver::Options o;
  o.nameservers = {server()};
  o.request_ad = true;
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r) << r.error().reason;
  Answer a = (*r)->query("sel._domainkey.inkan.test", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.txt.at(0).strings, kDkimStrings);
  EXPECT_FALSE(a.authenticated);
  a = (*r)->query("big.inkan.test", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.txt.at(0).strings, big_strings());
  EXPECT_FALSE(a.authenticated);
  a = (*r)->query("nokey._domainkey.inkan.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_FALSE(a.authenticated);
}

TEST_F(DnsUnboundTest, SeveralTxtRecordsStaySeparate) {
  auto r = resolver();
  Answer a = r->query("MULTI.inkan.test.", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  ASSERT_EQ(a.txt.size(), 2u);
  std::vector<std::string> joined;
  for (const auto& t : a.txt) joined.push_back(t.joined());
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, (std::vector<std::string>{"secondrecord", "v=spf1 -all"}));
}

TEST_F(DnsUnboundTest, TruncatedUdpAnswerIsRetriedOverTcp) {
  auto r = resolver();
  Answer a = r->query("big.inkan.test", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings, big_strings());
}

TEST_F(DnsUnboundTest, AddressMxPtrAndCname) {
  auto r = resolver();
  Answer a = r->query("host.inkan.test", RType::A);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  std::sort(a.addresses.begin(), a.addresses.end());
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
  EXPECT_GT(a.ttl, 0u);
  EXPECT_LE(a.ttl, 600u);

  a = r->query("host.inkan.test", RType::AAAA);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"2001:db8::10"});

  a = r->query("inkan.test", RType::MX);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  std::sort(a.mx.begin(), a.mx.end(),
            [](const MxRecord& x, const MxRecord& y) { return x.preference < y.preference; });
  EXPECT_EQ(a.mx, (std::vector<MxRecord>{{10, "mx1.inkan.test"}, {20, "mx2.inkan.test"}}));

  a = r->query("nullmx.inkan.test", RType::MX);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.mx, (std::vector<MxRecord>{{0, ""}}));

  a = r->query("10.2.0.192.in-addr.arpa", RType::PTR);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.names, std::vector<std::string>{"host.inkan.test"});

  a = r->query("alias.chain.example", RType::A);  // CNAME followed by the server
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  std::sort(a.addresses.begin(), a.addresses.end());
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
  EXPECT_LE(a.ttl, 60u) << "chain TTL is the CNAME's";

  a = r->query("alias.chain.example", RType::CNAME);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.names, std::vector<std::string>{"host.chain.example"});
}

TEST_F(DnsUnboundTest, NxDomainVersusNoDataWithSoaNegativeTtl) {
  auto r = resolver();
  Answer a = r->query("missing.inkan.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain) << a.error;
  EXPECT_EQ(a.ttl, 120u) << "RFC 2308 §5: min(SOA TTL 3600, MINIMUM 120)";
  a = r->query("host.inkan.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NoData) << a.error;
  EXPECT_EQ(a.ttl, 120u);
  a = r->query("host.inkan.test", RType::MX);
  EXPECT_EQ(a.status, Status::NoData) << a.error;
}

TEST_F(DnsUnboundTest, AsyncWithProcess) {
  auto r = resolver();
  std::map<std::string, Answer> got;
  auto keep = [&](std::string key) { return [&got, key](Answer a) { got[key] = std::move(a); }; };
  r->query_async("sel._domainkey.inkan.test", RType::TXT, keep("txt"));
  r->query_async("host.inkan.test", RType::AAAA, keep("aaaa"));
  r->query_async("missing.inkan.test", RType::A, keep("nx"));
  r->query_async("host.inkan.test", RType::TXT, keep("nodata"));
  // A callback that chains another query from inside the loop.
  r->query_async("alias.chain.example", RType::CNAME, [&](Answer a) {
    got["cname"] = a;
    if (a.ok()) r->query_async(a.names.at(0), RType::A, keep("chained"));
  });
  EXPECT_GT(r->pending(), 0u);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (r->pending() > 0 && std::chrono::steady_clock::now() < deadline) r->process(100ms);
  ASSERT_EQ(r->pending(), 0u);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got["txt"].txt.at(0).strings, kDkimStrings);
  EXPECT_EQ(got["aaaa"].addresses, std::vector<std::string>{"2001:db8::10"});
  EXPECT_EQ(got["nx"].status, Status::NxDomain);
  EXPECT_EQ(got["nodata"].status, Status::NoData);
  EXPECT_EQ(got["chained"].addresses.size(), 2u);
}

TEST_F(DnsUnboundTest, AsyncFromAnExternalPollLoop) {
  auto r = resolver();
  int done = 0;
  Answer txt;
  r->query_async("multi.inkan.test", RType::TXT, [&](Answer a) {
    txt = std::move(a);
    ++done;
  });
  r->query_async("big.inkan.test", RType::TXT, [&](Answer a) {  // UDP then TCP
    EXPECT_EQ(a.status, Status::Ok) << a.error;
    ++done;
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (done < 2 && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> pfds;
    for (const auto& w : r->fds()) {
      pfds.push_back(pollfd{w.fd, static_cast<short>((w.readable ? POLLIN : 0) |
                                                     (w.writable ? POLLOUT : 0)),
                            0});
    }
    auto wait = r->next_timeout();
    ASSERT_GE(wait.count(), 0) << "queries pending but no timeout";
    const int n = poll(pfds.data(), pfds.size(), static_cast<int>(std::min<long>(wait.count(), 500)));
    if (n <= 0) {
      r->process_fd(-1, -1);
      continue;
    }
    for (const auto& p : pfds) {
      if (p.revents == 0) continue;
      r->process_fd((p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : -1,
                    (p.revents & POLLOUT) ? p.fd : -1);
    }
  }
  EXPECT_EQ(done, 2);
  EXPECT_EQ(txt.txt.size(), 2u);
  EXPECT_LT(r->next_timeout().count(), 0) << "nothing pending any more";
}

TEST_F(DnsUnboundTest, BlockingQueriesFromManyThreads) {
  CaresResolver::Options o;
  o.nameservers = {server()};
  o.max_blocking_channels = 3;  // fewer channels than threads: callers must wait their turn
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r.has_value());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        if ((i + t) % 2 == 0) {
          Answer a = (*r)->query("sel._domainkey.inkan.test", RType::TXT);
          if (!a.ok() || a.txt.at(0).strings != kDkimStrings) ++wrong;
        } else {
          Answer a = (*r)->query("missing.inkan.test", RType::A);
          if (a.status != Status::NxDomain) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(DnsUnboundTest, SilentServerTimesOut) {
  const int silent = bind_loopback(SOCK_DGRAM, 0);
  ASSERT_GE(silent, 0);
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1:" + std::to_string(port_of(silent))};
  o.timeout = 300ms;
  o.tries = 2;
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r.has_value());
  const auto t0 = std::chrono::steady_clock::now();
  Answer a = (*r)->query("sel._domainkey.inkan.test", RType::TXT);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(a.status, Status::Timeout) << to_string(a.status) << ": " << a.error;
  EXPECT_TRUE(is_temporary(a.status));
  EXPECT_LT(took, 5s);
  // Both tries reached the socket.
  int datagrams = 0;
  char buf[4096];
  while (recv(silent, buf, sizeof buf, MSG_DONTWAIT) > 0) ++datagrams;
  EXPECT_EQ(datagrams, 2);

  // The async path times out the same way.
  Answer b;
  bool done = false;
  (*r)->query_async("x.inkan.test", RType::A, [&](Answer ans) {
    b = std::move(ans);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) (*r)->process(100ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(b.status, Status::Timeout);
  close(silent);
}

TEST_F(DnsUnboundTest, ClosedPortIsServFailNotTimeout) {
  // Nothing listens: the kernel answers ICMP port unreachable, c-ares reports
  // ARES_ECONNREFUSED, which is a server failure (temporary), not a timeout.
  const int closed = free_port();
  ASSERT_GT(closed, 0);
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1:" + std::to_string(closed)};
  o.timeout = 2000ms;
  o.tries = 1;
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r.has_value());
  Answer a = (*r)->query("sel._domainkey.inkan.test", RType::TXT);
  EXPECT_EQ(a.status, Status::ServFail) << to_string(a.status) << ": " << a.error;
}

/// Counts what reaches the wrapped resolver, to see the cache at work.
class CountingResolver : public Resolver {
 public:
  explicit CountingResolver(Resolver& inner) : inner_(inner) {}
  void query_async(std::string_view name, RType type, Callback cb) override {
    ++count;
    inner_.query_async(name, type, std::move(cb));
  }
  Answer query(std::string_view name, RType type) override {
    ++count;
    return inner_.query(name, type);
  }
  std::atomic<int> count{0};

 private:
  Resolver& inner_;
};

TEST_F(DnsUnboundTest, CachingResolverInFront) {
  auto r = resolver();
  CountingResolver counting(*r);
  CachingResolver cache(counting);
  for (int i = 0; i < 5; ++i) {
    Answer a = cache.query("sel._domainkey.inkan.test", RType::TXT);
    ASSERT_EQ(a.status, Status::Ok) << a.error;
    EXPECT_EQ(a.txt.at(0).strings, kDkimStrings);
    EXPECT_EQ(cache.query("missing.inkan.test", RType::TXT).status, Status::NxDomain);
  }
  EXPECT_EQ(counting.count.load(), 2) << "one positive and one negative lookup, then hits";

  // Once unbound is gone, cached answers still come back; uncached names fail temporarily.
  TearDown();
  // Its port is held by a socket that never answers: ctest runs other tests' DNS servers at the
  // same time, and one bound to the freed port answered NODATA in unbound's place (CI, once).
  // Should one have taken it already, the resolver is pointed at a fresh silent socket instead.
  int held = bind_loopback(SOCK_DGRAM, port_);
  if (held < 0) {
    held = bind_loopback(SOCK_DGRAM, 0);
    ASSERT_GE(held, 0);
    port_ = port_of(held);
  }
  EXPECT_EQ(cache.query("sel._domainkey.inkan.test", RType::TXT).status, Status::Ok);
  auto cold = resolver(200ms, 1);
  CachingResolver cold_cache(*cold);
  const Status s = cold_cache.query("host.inkan.test", RType::A).status;
  EXPECT_TRUE(is_temporary(s)) << to_string(s);
  close(held);
}

}  // namespace
}  // namespace auth::dns
