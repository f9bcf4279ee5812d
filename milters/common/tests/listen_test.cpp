// Unit tests of listen.cpp: TCP_DEFER_ACCEPT on TCP listeners (accept() returns only once the
// client has sent something), nothing of the kind on unix sockets.
#include "common/listen.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "auth/net/socketspec.h"

namespace inkan::milter {
namespace {

std::uint16_t bound_port(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  return ntohs(sin.sin_port);
}

/// A loopback TCP spec on a port free right now (the spec syntax has no port 0).
std::string free_tcp_spec() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  std::uint16_t port = bound_port(s);
  ::close(s);
  return "inet:" + std::to_string(port) + "@127.0.0.1";
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

TEST(ListenSocket, DeferAcceptWaitsForTheClientsFirstBytes) {
  auto spec = auth::net::parse_socket_spec(free_tcp_spec());
  ASSERT_TRUE(spec) << spec.error().reason;
  ListenOptions o;
  o.defer_accept_seconds = 10;
  auto fd = listen_socket(*spec, o);
  ASSERT_TRUE(fd) << fd.error().reason;
  int v = 0;
  socklen_t vl = sizeof v;
  ASSERT_EQ(::getsockopt(*fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &vl), 0);
  EXPECT_GT(v, 0);

  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(bound_port(*fd));
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0) << "the client's side completes";
  EXPECT_FALSE(readable(*fd, 200)) << "no connection to accept before the client speaks";
  ASSERT_EQ(::write(c, "\0\0\0\1O", 5), 5);
  ASSERT_TRUE(readable(*fd, 5000));
  int a = ::accept(*fd, nullptr, nullptr);
  ASSERT_GE(a, 0);
  EXPECT_TRUE(readable(a, 0)) << "the first packet is there at accept";
  ::close(a);
  ::close(c);
  ::close(*fd);
}

TEST(ListenSocket, WithoutDeferAcceptAcceptsAtOnce) {
  auto spec = auth::net::parse_socket_spec(free_tcp_spec());
  ASSERT_TRUE(spec);
  auto fd = listen_socket(*spec);
  ASSERT_TRUE(fd) << fd.error().reason;
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(bound_port(*fd));
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  EXPECT_TRUE(readable(*fd, 5000));
  ::close(c);
  ::close(*fd);
}

}  // namespace
}  // namespace inkan::milter
