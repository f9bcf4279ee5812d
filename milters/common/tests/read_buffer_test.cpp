// Unit tests of read_buffer.cpp: buffered read()/poll()/close() on MTA connections accepted
// with accept(), as libmilter's comm.c reads them (poll, 5-byte header, poll, data), and
// untouched behaviour for everything else. Linked with inkan::milter like the daemons, so
// ::read, ::poll, ::close and ::accept here are the interposers. Loopback and socketpairs only.
#include "common/read_buffer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/tcp_nodelay.h"

namespace inkan::milter {
namespace {

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    ASSERT_GT(w, 0) << std::strerror(errno);
    off += static_cast<std::size_t>(w);
  }
}

/// A milter command as Postfix frames it: 4-byte length, command byte, data.
std::string packet(char cmd, const std::string& data) {
  std::uint32_t n = htonl(static_cast<std::uint32_t>(data.size() + 1));
  std::string p(reinterpret_cast<const char*>(&n), 4);
  p += cmd;
  return p + data;
}

/// Reads one packet the way libmilter's mi_rd_cmd does.
std::string read_packet(int fd) {
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  char head[5];
  std::size_t got = 0;
  while (got < 5) {
    ssize_t r = ::read(fd, head + got, 5 - got);
    if (r <= 0) return "<eof>";
    got += static_cast<std::size_t>(r);
  }
  std::uint32_t n;
  std::memcpy(&n, head, 4);
  n = ntohl(n);
  std::string data(n - 1, '\0');
  got = 0;
  while (got < data.size()) {
    pollfd q{fd, POLLIN | POLLPRI, 0};
    EXPECT_EQ(::poll(&q, 1, 5000), 1);
    ssize_t r = ::read(fd, data.data() + got, data.size() - got);
    if (r <= 0) return "<eof>";
    got += static_cast<std::size_t>(r);
  }
  return std::string(1, head[4]) + data;
}

TEST(ReadBuffer, InterposersAreWhatSharedLibrariesCall) { EXPECT_TRUE(read_buffer_interposed()); }

TEST(ReadBuffer, ManyCommandsInOneWriteAreServedFromOneRead) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  buffer_reads(sv[0]);
  ASSERT_TRUE(reads_buffered(sv[0]));
  std::string batch;
  for (int i = 0; i < 30; ++i) batch += packet('L', "X-Header-" + std::to_string(i) + '\0' + " value\0");
  batch += packet('B', std::string(3000, 'b'));
  batch += packet('E', "");
  write_all(sv[1], batch);
  const auto before = read_buffer_counts();
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(read_packet(sv[0]), "L" + ("X-Header-" + std::to_string(i) + '\0' + " value\0")) << i;
  }
  EXPECT_EQ(read_packet(sv[0]), "B" + std::string(3000, 'b'));
  EXPECT_EQ(read_packet(sv[0]), "E");
  const auto after = read_buffer_counts();
  EXPECT_EQ(after.refills - before.refills, 1u) << "one read() system call for the whole batch";
  EXPECT_GE(after.polls_served - before.polls_served, 60u) << "polls answered from the buffer";
  ::close(sv[0]);
  EXPECT_FALSE(reads_buffered(sv[0])) << "close() drops the buffer";
  ::close(sv[1]);
}

TEST(ReadBuffer, EmptyBufferPollWaitsForTheKernelAndEofIsPassedThrough) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  buffer_reads(sv[0]);
  pollfd p{sv[0], POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing buffered, nothing queued: not readable";
  write_all(sv[1], "ab");
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  char c = 0;
  EXPECT_EQ(::read(sv[0], &c, 1), 1);
  EXPECT_EQ(c, 'a');
  p.revents = 0;
  EXPECT_EQ(::poll(&p, 1, 0), 1) << "'b' is still buffered";
  EXPECT_EQ(::read(sv[0], &c, 1), 1);
  EXPECT_EQ(c, 'b');
  ::close(sv[1]);
  EXPECT_EQ(::read(sv[0], &c, 1), 0) << "EOF";
  ::close(sv[0]);
}

TEST(ReadBuffer, LargeReadsBypassTheBufferAndKeepOrder) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  buffer_reads(sv[0]);
  std::string data(3 * kReadBufferBytes, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] { write_all(sv[1], data); });
  std::string got;
  char small[7];
  std::vector<char> large(kReadBufferBytes * 2);
  bool toggle = false;
  while (got.size() < data.size()) {
    ssize_t r = toggle ? ::read(sv[0], large.data(), large.size()) : ::read(sv[0], small, sizeof small);
    ASSERT_GT(r, 0);
    got.append(toggle ? large.data() : small, static_cast<std::size_t>(r));
    toggle = !toggle;
  }
  writer.join();
  EXPECT_EQ(got, data);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(ReadBuffer, UnbufferedDescriptorsAndMultiFdPollsGoToLibc) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  EXPECT_FALSE(reads_buffered(sv[0]));
  write_all(sv[1], "xyz");
  const auto before = read_buffer_counts();
  char buf[2];
  EXPECT_EQ(::read(sv[0], buf, 2), 2);
  pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
  EXPECT_EQ(::poll(p, 2, 0), 1);
  EXPECT_EQ(::read(sv[0], buf, 2), 1);
  const auto after = read_buffer_counts();
  EXPECT_EQ(after.refills, before.refills);
  EXPECT_EQ(after.reads_served, before.reads_served);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(ReadBuffer, ConnectionsAcceptedWithAcceptAreBufferedAndAccept4AreNot) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(l, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l, 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto dial = [&] {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return c;
  };
  int c1 = dial();
  int s1 = ::accept(l, nullptr, nullptr);
  ASSERT_GE(s1, 0);
  EXPECT_TRUE(reads_buffered(s1)) << "libmilter's accept(): buffered";
  int c2 = dial();
  int s2 = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(s2, 0);
  EXPECT_FALSE(reads_buffered(s2)) << "accept4() (metrics endpoint): not buffered";
  // A reply written on the TCP connection re-arms TCP_QUICKACK (writev interposer).
  const auto q = tcp_quickack_count();
  iovec v{const_cast<char*>("r"), 1};
  EXPECT_EQ(::writev(s1, &v, 1), 1);
  EXPECT_EQ(tcp_quickack_count(), q + 1);
  EXPECT_TRUE(writev_interposed());
  for (int fd : {c1, s1, c2, s2, l}) ::close(fd);
  EXPECT_FALSE(reads_buffered(s1));
}

}  // namespace
}  // namespace inkan::milter
