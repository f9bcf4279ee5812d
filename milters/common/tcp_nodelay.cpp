// TCP_NODELAY on every TCP connection libmilter accepts (see tcp_nodelay.h).
//
// Why. libmilter (Debian's libmilter1.0.1; opendkim shares the problem) answers the end of a
// message with one write per header modification (SMFIR_ADDHEADER, SMFIR_INSHEADER, ...)
// followed by one write for the final reply, on a socket without TCP_NODELAY. Nagle's algorithm
// holds the reply until the modification is ACKed, and the MTA, which has nothing to send
// before it has read the reply, delays that ACK (~40 ms on Linux). Measured with
// inkan-null-milter on one connection: 21 msgs/s over loopback TCP, 4 839 over a unix socket;
// opendkim inside Postfix stalls at ~105 msgs/s on TCP against 260-285 on a unix socket
// (shared/bench-postfix/RESULTS-anchors.md). The writes are request/response traffic with
// nothing to coalesce, so Nagle only costs latency here.
//
// How. libmilter accepts connections inside smfi_main() (listener.c: accept(), then FD_CLOEXEC
// and SO_KEEPALIVE) and has no hook for the new socket: mfapi.h offers none, and the socket
// stays in the opaque SMFICTX. So this file defines accept() and accept4() in the executable
// (libinkan_milter is a static library linked into it). `nm -D libmilter.so.1.0.1` shows it
// imports `accept@GLIBC_2.2.5`; the dynamic linker binds that reference to the first definition
// in the global scope, and the executable comes first, ahead of libc (ELF symbol
// interposition; CMakeLists.txt makes sure the executable exports both symbols). The
// interposers call libc's function (dlsym(RTLD_NEXT)) and, when the new socket is TCP —
// getsockname() says AF_INET/AF_INET6 and SO_PROTOCOL says IPPROTO_TCP — set TCP_NODELAY. Unix
// sockets and everything else are untouched; the result and errno are libc's. Other callers
// in the process (the metrics endpoint's accept4) get the same, harmless for request/response.
//
// Delayed ACKs. TCP_NODELAY fixes our side. The MTA's side has Nagle on (Postfix sets no
// TCP_NODELAY on milter connections) and sends a command in more than one write whenever it
// does not fit its 4 KiB stream buffer (a body chunk), or several commands back to back when
// we negotiated no-reply steps. Its second write then waits until we ACK the first, and once
// we have answered a command our socket is in Linux's "pingpong" (interactive) mode, where the
// ACK is delayed by up to 40 ms in the hope of riding on our next reply — which cannot come
// before the rest of the command. So after every reply libmilter writes (writev(), the call
// its mi_wr_cmd() uses; `nm -D` shows it imports writev and write) on an accepted TCP
// connection, the writev() interposer sets TCP_QUICKACK, which takes the socket out of
// pingpong mode: the kernel then ACKs a small segment as soon as we have read it
// (tcp_cleanup_rbuf). The option is not sticky (the next reply re-enters pingpong mode),
// hence once per reply. Connections are remembered in a bitmap by descriptor, set at accept
// and cleared when setting the option fails (the descriptor was reused for something else).
#include "common/tcp_nodelay.h"
#include "common/interpose.h"

#include "common/read_buffer.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace inkan::milter {
namespace {

using AcceptFn = int (*)(int, sockaddr*, socklen_t*);
using Accept4Fn = int (*)(int, sockaddr*, socklen_t*, int);
using WritevFn = ssize_t (*)(int, const iovec*, int);

/// Descriptors below this are tracked for TCP_QUICKACK (a bitmap of 8 KiB); higher ones are
/// served without it.
constexpr int kTrackedFds = 65536;
std::atomic<std::uint64_t> g_tracked[kTrackedFds / 64];
std::atomic<std::uint64_t> g_quickacks{0};

void track(int fd, bool on) noexcept {
  if (fd < 0 || fd >= kTrackedFds) return;
  const std::uint64_t bit = std::uint64_t{1} << (fd % 64);
  if (on) {
    g_tracked[fd / 64].fetch_or(bit, std::memory_order_relaxed);
  } else {
    g_tracked[fd / 64].fetch_and(~bit, std::memory_order_relaxed);
  }
}

bool tracked(int fd) noexcept {
  if (fd < 0 || fd >= kTrackedFds) return false;
  return (g_tracked[fd / 64].load(std::memory_order_relaxed) >> (fd % 64)) & 1U;
}

std::atomic<std::uint64_t> g_set{0};
std::atomic<std::uint64_t> g_not_tcp{0};
std::atomic<std::uint64_t> g_failed{0};
std::atomic<NoDelayFailureHook> g_failure_hook{nullptr};

using interpose::address_of;
using interpose::function_from;

/// libc's accept4 without going through the interposers: dlsym(RTLD_NEXT) finds the next
/// definition after the executable. Should it find none (never with a dynamic glibc), the
/// system call itself.
int real_accept4(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept {
  static const Accept4Fn next = function_from<Accept4Fn>(dlsym(RTLD_NEXT, "accept4"));
  if (next != nullptr) return next(fd, addr, len, flags);
  return static_cast<int>(syscall(SYS_accept4, fd, addr, len, flags));
}

int real_accept(int fd, sockaddr* addr, socklen_t* len) noexcept {
  static const AcceptFn next = function_from<AcceptFn>(dlsym(RTLD_NEXT, "accept"));
  if (next != nullptr) return next(fd, addr, len);
  return real_accept4(fd, addr, len, 0);
}

/// After a successful accept: TCP_NODELAY on TCP, counters, hook; errno as libc left it.
int after_accept(int fd) noexcept {
  if (fd < 0) return fd;
  const int saved = errno;
  switch (set_tcp_nodelay(fd)) {
    case NoDelay::Set:
      g_set.fetch_add(1, std::memory_order_relaxed);
      track(fd, true);
      break;
    case NoDelay::NotTcp:
      g_not_tcp.fetch_add(1, std::memory_order_relaxed);
      track(fd, false);
      break;
    case NoDelay::Failed: {
      const int err = errno;
      g_failed.fetch_add(1, std::memory_order_relaxed);
      track(fd, false);
      if (NoDelayFailureHook hook = g_failure_hook.load(); hook != nullptr) hook(err);
      break;
    }
  }
  errno = saved;
  return fd;
}

ssize_t real_writev(int fd, const iovec* iov, int n) noexcept {
  static const WritevFn next = function_from<WritevFn>(dlsym(RTLD_NEXT, "writev"));
  if (next != nullptr) return next(fd, iov, n);
  return static_cast<ssize_t>(syscall(SYS_writev, fd, iov, n));
}

/// After a write on a tracked connection: leave pingpong mode (see the file comment).
void after_write(int fd) noexcept {
  if (!tracked(fd)) return;
  const int saved = errno;
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one) == 0) {
    g_quickacks.fetch_add(1, std::memory_order_relaxed);
  } else {
    track(fd, false);
  }
  errno = saved;
}

}  // namespace

std::uint64_t tcp_quickack_count() noexcept { return g_quickacks.load(std::memory_order_relaxed); }

bool writev_interposed() noexcept {
  WritevFn mine = &::writev;
  return dlsym(RTLD_DEFAULT, "writev") == address_of(mine);
}

NoDelay set_tcp_nodelay(int fd) noexcept {
  const int saved = errno;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  int protocol = 0;
  socklen_t plen = sizeof protocol;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
      (local.ss_family != AF_INET && local.ss_family != AF_INET6) ||
      getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) != 0 || protocol != IPPROTO_TCP) {
    errno = saved;
    return NoDelay::NotTcp;
  }
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) return NoDelay::Failed;
  return NoDelay::Set;
}

NoDelayCounts tcp_nodelay_counts() noexcept {
  NoDelayCounts c;
  c.set = g_set.load(std::memory_order_relaxed);
  c.not_tcp = g_not_tcp.load(std::memory_order_relaxed);
  c.failed = g_failed.load(std::memory_order_relaxed);
  return c;
}

bool accept_interposed() noexcept {
  AcceptFn mine = &::accept;
  Accept4Fn mine4 = &::accept4;
  return dlsym(RTLD_DEFAULT, "accept") == address_of(mine) && dlsym(RTLD_DEFAULT, "accept4") == address_of(mine4);
}

void set_tcp_nodelay_failure_hook(NoDelayFailureHook hook) noexcept { g_failure_hook.store(hook); }

}  // namespace inkan::milter

// The interposers. Their declarations come from <sys/socket.h>; `default` visibility keeps them
// exportable whatever -fvisibility the build uses.
// libmilter accepts with accept(): those connections also get buffered reads (read_buffer.h).
// accept4() is what the rest of the process uses (the metrics endpoint): never buffered.
extern "C" __attribute__((visibility("default"))) int accept(int fd, sockaddr* __restrict addr,
                                                            socklen_t* __restrict len) {
  const int c = inkan::milter::after_accept(inkan::milter::real_accept(fd, addr, len));
  if (c >= 0) inkan::milter::buffer_reads(c);
  return c;
}

extern "C" __attribute__((visibility("default"))) int accept4(int fd, sockaddr* __restrict addr,
                                                             socklen_t* __restrict len, int flags) {
  return inkan::milter::after_accept(inkan::milter::real_accept4(fd, addr, len, flags));
}

extern "C" __attribute__((visibility("default"))) ssize_t writev(int fd, const iovec* iov, int n) {
  const ssize_t r = inkan::milter::real_writev(fd, iov, n);
  if (r > 0) inkan::milter::after_write(fd);
  return r;
}
