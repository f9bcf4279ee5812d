// Unit tests of tcp_nodelay.cpp: the accept()/accept4() interposers set TCP_NODELAY on accepted
// TCP connections (IPv4 and IPv6 loopback), leave unix sockets alone, pass results, flags and
// errors through unchanged, and are what shared libraries (libmilter) resolve accept() to.
// This binary links inkan::milter like the daemons, so ::accept here is the interposer.
#include "common/tcp_nodelay.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>

namespace inkan::milter {
namespace {

/// A file descriptor closed at scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

enum class Family { Tcp4, Tcp6, Unix };
enum class Call { Accept, Accept4, Accept4Flags };

const char* family_name(Family f) {
  switch (f) {
    case Family::Tcp4: return "Tcp4";
    case Family::Tcp6: return "Tcp6";
    case Family::Unix: return "Unix";
  }
  return "?";
}

const char* call_name(Call c) {
  switch (c) {
    case Call::Accept: return "Accept";
    case Call::Accept4: return "Accept4";
    case Call::Accept4Flags: return "Accept4CloexecNonblock";
  }
  return "?";
}

/// -1 when the option cannot be read (not TCP), else its value (0 or 1).
int nodelay_of(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0) return -1;
  return v != 0 ? 1 : 0;
}

/// A listening socket of one family on loopback (unix: an abstract name, no file) and the
/// address a client connects to.
struct Listener {
  Fd fd;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_UNSPEC;

  static std::unique_ptr<Listener> open(Family f) {
    auto l = std::make_unique<Listener>();
    l->family = f == Family::Tcp4 ? AF_INET : f == Family::Tcp6 ? AF_INET6 : AF_UNIX;
    int s = socket(l->family, SOCK_STREAM, 0);
    if (s < 0) return nullptr;
    l->fd.reset(s);
    if (f == Family::Tcp4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&l->addr);
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      l->addr_len = sizeof *sin;
    } else if (f == Family::Tcp6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&l->addr);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      l->addr_len = sizeof *sin6;
    } else {
      auto* sun = reinterpret_cast<sockaddr_un*>(&l->addr);
      sun->sun_family = AF_UNIX;
      std::string name = "inkan-nodelay-test-" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
      std::memcpy(sun->sun_path + 1, name.data(), name.size());  // abstract: sun_path[0] == '\0'
      l->addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    }
    if (bind(s, reinterpret_cast<sockaddr*>(&l->addr), l->addr_len) != 0 || listen(s, 64) != 0) return nullptr;
    if (l->family != AF_UNIX) {
      l->addr_len = sizeof l->addr;
      if (getsockname(s, reinterpret_cast<sockaddr*>(&l->addr), &l->addr_len) != 0) return nullptr;
    }
    return l;
  }

  /// A connected client (the listener's backlog completes the handshake before accept).
  int connect_client() const {
    int c = socket(family, SOCK_STREAM, 0);
    if (c < 0) return -1;
    if (::connect(c, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) {
      ::close(c);
      return -1;
    }
    return c;
  }

 private:
  static inline int counter_ = 0;
};

int call_accept(Call c, int fd, sockaddr* peer, socklen_t* len) {
  switch (c) {
    case Call::Accept: return ::accept(fd, peer, len);
    case Call::Accept4: return ::accept4(fd, peer, len, 0);
    case Call::Accept4Flags: return ::accept4(fd, peer, len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  }
  return -1;
}

class InterposedAccept : public testing::TestWithParam<std::tuple<Family, Call>> {};

TEST_P(InterposedAccept, SetsNoDelayOnTcpOnlyAndPassesEverythingElseThrough) {
  const auto [family, call] = GetParam();
  auto l = Listener::open(family);
  if (!l && family == Family::Tcp6) GTEST_SKIP() << "no IPv6 loopback here";
  ASSERT_TRUE(l) << std::strerror(errno);
  Fd client(l->connect_client());
  ASSERT_GE(client.get(), 0) << std::strerror(errno);
  const bool tcp = family != Family::Unix;
  ASSERT_EQ(nodelay_of(l->fd.get()), tcp ? 0 : -1);
  ASSERT_EQ(nodelay_of(client.get()), tcp ? 0 : -1);

  const NoDelayCounts before = tcp_nodelay_counts();
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof peer;
  errno = EDOM;  // left as it was on success: libc's accept does not touch it, nor must we
  Fd conn(call_accept(call, l->fd.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len));
  const int err = errno;
  ASSERT_GE(conn.get(), 0) << std::strerror(err);
  EXPECT_EQ(err, EDOM);
  const NoDelayCounts after = tcp_nodelay_counts();

  // The peer address is libc's: the client's family (and, for TCP, the client's port).
  EXPECT_EQ(peer.ss_family, l->family);
  if (tcp) {
    sockaddr_storage mine{};
    socklen_t mine_len = sizeof mine;
    ASSERT_EQ(getsockname(client.get(), reinterpret_cast<sockaddr*>(&mine), &mine_len), 0);
    EXPECT_EQ(peer_len, mine_len);
    EXPECT_EQ(std::memcmp(&peer, &mine, mine_len), 0);
  }

  if (tcp) {
    EXPECT_EQ(nodelay_of(conn.get()), 1) << "accepted TCP connection without TCP_NODELAY";
    EXPECT_EQ(after.set, before.set + 1);
    EXPECT_EQ(after.not_tcp, before.not_tcp);
  } else {
    EXPECT_EQ(nodelay_of(conn.get()), -1) << "a unix socket has no TCP options";
    EXPECT_EQ(after.set, before.set);
    EXPECT_EQ(after.not_tcp, before.not_tcp + 1);
  }
  EXPECT_EQ(after.failed, before.failed);
  // Only the accepted socket changes: not the listener, not the client.
  EXPECT_EQ(nodelay_of(l->fd.get()), tcp ? 0 : -1);
  EXPECT_EQ(nodelay_of(client.get()), tcp ? 0 : -1);

  // accept4 flags reach the kernel unchanged.
  const bool flags = call == Call::Accept4Flags;
  EXPECT_EQ((fcntl(conn.get(), F_GETFL) & O_NONBLOCK) != 0, flags);
  EXPECT_EQ((fcntl(conn.get(), F_GETFD) & FD_CLOEXEC) != 0, flags);

  // The connection works both ways.
  ASSERT_EQ(::write(client.get(), "ping", 4), 4);
  char buf[8] = {};
  if (flags) {
    int fl = fcntl(conn.get(), F_GETFL);
    fcntl(conn.get(), F_SETFL, fl & ~O_NONBLOCK);
  }
  ASSERT_EQ(::read(conn.get(), buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_EQ(::write(conn.get(), "pong", 4), 4);
  ASSERT_EQ(::read(client.get(), buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");
}

INSTANTIATE_TEST_SUITE_P(
    FamiliesAndCalls, InterposedAccept,
    testing::Combine(testing::Values(Family::Tcp4, Family::Tcp6, Family::Unix),
                     testing::Values(Call::Accept, Call::Accept4, Call::Accept4Flags)),
    [](const testing::TestParamInfo<InterposedAccept::ParamType>& info) {
      return std::string(family_name(std::get<0>(info.param))) + "_" + call_name(std::get<1>(info.param));
    });

TEST(InterposedAcceptErrors, ResultAndErrnoAreLibcs) {
  const NoDelayCounts before = tcp_nodelay_counts();
  errno = 0;
  EXPECT_EQ(::accept(-1, nullptr, nullptr), -1);
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(::accept4(-1, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EBADF);

  Fd unlistened(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_GE(unlistened.get(), 0);
  errno = 0;
  EXPECT_EQ(::accept(unlistened.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);

  // Nothing pending on a non-blocking listener: EAGAIN, as libmilter's loop expects.
  auto l = Listener::open(Family::Tcp4);
  ASSERT_TRUE(l);
  fcntl(l->fd.get(), F_SETFL, fcntl(l->fd.get(), F_GETFL) | O_NONBLOCK);
  errno = 0;
  EXPECT_EQ(::accept(l->fd.get(), nullptr, nullptr), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);

  // accept(2) with nullptr address arguments still gets the option set.
  Fd client(l->connect_client());
  ASSERT_GE(client.get(), 0);
  Fd conn(-1);
  for (int i = 0; i < 200 && conn.get() < 0; ++i) {
    int fd = ::accept(l->fd.get(), nullptr, nullptr);
    if (fd >= 0) {
      conn.reset(fd);
    } else {
      usleep(5000);
    }
  }
  ASSERT_GE(conn.get(), 0);
  EXPECT_EQ(nodelay_of(conn.get()), 1);

  const NoDelayCounts after = tcp_nodelay_counts();
  EXPECT_EQ(after.set, before.set + 1) << "failed calls are not counted";
  EXPECT_EQ(after.not_tcp, before.not_tcp);
  EXPECT_EQ(after.failed, before.failed);
}

TEST(InterposedAcceptScope, SharedLibrariesResolveAcceptToTheInterposers) {
  // libmilter's PLT reference binds through the global scope, which dlsym(RTLD_DEFAULT) shows.
  EXPECT_TRUE(accept_interposed());
  void* mine = dlsym(RTLD_DEFAULT, "accept");
  void* libc = dlsym(RTLD_NEXT, "accept");
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(libc, nullptr);
  EXPECT_NE(mine, libc) << "accept() would be libc's: the executable does not export the interposer";
  EXPECT_NE(dlsym(RTLD_DEFAULT, "accept4"), dlsym(RTLD_NEXT, "accept4"));
}

TEST(InterposedAcceptScope, ManyConnectionsEachGetTheOption) {
  auto l = Listener::open(Family::Tcp4);
  ASSERT_TRUE(l);
  const NoDelayCounts before = tcp_nodelay_counts();
  constexpr int kConnections = 1000;
  for (int i = 0; i < kConnections; ++i) {
    Fd client(l->connect_client());
    ASSERT_GE(client.get(), 0) << i << ": " << std::strerror(errno);
    Fd conn(i % 2 == 0 ? ::accept(l->fd.get(), nullptr, nullptr) : ::accept4(l->fd.get(), nullptr, nullptr, 0));
    ASSERT_GE(conn.get(), 0) << i << ": " << std::strerror(errno);
    ASSERT_EQ(nodelay_of(conn.get()), 1) << i;
  }
  EXPECT_EQ(tcp_nodelay_counts().set, before.set + kConnections);
}

struct SetCase {
  const char* name;
  int domain;
  int type;
  NoDelay want;
};

class SetTcpNoDelay : public testing::TestWithParam<SetCase> {};

TEST_P(SetTcpNoDelay, OnlyTcpSocketsAreTouched) {
  const SetCase& c = GetParam();
  Fd s(socket(c.domain, c.type, 0));
  if (s.get() < 0 && c.domain == AF_INET6) GTEST_SKIP() << "no IPv6 here";
  ASSERT_GE(s.get(), 0) << std::strerror(errno);
  errno = EDOM;
  EXPECT_EQ(set_tcp_nodelay(s.get()), c.want);
  if (c.want != NoDelay::Failed) {
    EXPECT_EQ(errno, EDOM);
  }
  EXPECT_EQ(nodelay_of(s.get()), c.want == NoDelay::Set ? 1 : -1);
}

INSTANTIATE_TEST_SUITE_P(Sockets, SetTcpNoDelay,
                         testing::Values(SetCase{"UnconnectedTcp4", AF_INET, SOCK_STREAM, NoDelay::Set},
                                         SetCase{"UnconnectedTcp6", AF_INET6, SOCK_STREAM, NoDelay::Set},
                                         SetCase{"Udp4", AF_INET, SOCK_DGRAM, NoDelay::NotTcp},
                                         SetCase{"Udp6", AF_INET6, SOCK_DGRAM, NoDelay::NotTcp},
                                         SetCase{"UnixStream", AF_UNIX, SOCK_STREAM, NoDelay::NotTcp},
                                         SetCase{"UnixDgram", AF_UNIX, SOCK_DGRAM, NoDelay::NotTcp}),
                         [](const testing::TestParamInfo<SetCase>& info) { return std::string(info.param.name); });

TEST(SetTcpNoDelayOthers, NonSocketsAndBadDescriptorsAreLeftAlone) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  Fd r(p[0]), w(p[1]);
  errno = EDOM;
  EXPECT_EQ(set_tcp_nodelay(r.get()), NoDelay::NotTcp);
  EXPECT_EQ(errno, EDOM);
  EXPECT_EQ(set_tcp_nodelay(-1), NoDelay::NotTcp);
  int n = dup(w.get());
  ASSERT_GE(n, 0);
  ::close(n);
  EXPECT_EQ(set_tcp_nodelay(n), NoDelay::NotTcp);  // closed descriptor: EBADF, untouched
  EXPECT_EQ(set_tcp_nodelay(1 << 30), NoDelay::NotTcp);
}

}  // namespace
}  // namespace inkan::milter
