// inkan::milter — TCP_NODELAY on every TCP connection libmilter accepts.
//
// libmilter writes the end-of-message modifications and the final reply as separate small
// writes on sockets without TCP_NODELAY; with the MTA's delayed ACK every message then waits
// ~40 ms on TCP (measured: 21 msgs/s over loopback TCP against 4 839 over a unix socket, one
// connection, inkan-null-milter). libmilter accepts inside smfi_main() and offers no hook for
// the new socket, so tcp_nodelay.cpp defines accept() and accept4(): the executable's
// definitions take precedence over libc's for libmilter's calls (ELF symbol interposition),
// call libc's, and set TCP_NODELAY when the new socket is TCP. Unix sockets are left alone.
// A writev() interposer re-arms TCP_QUICKACK after each reply on those connections, so the
// MTA's own Nagle-held writes are not left waiting for our delayed ACK.
// Linked into every daemon through inkan::milter (run_milter() logs the state at start-up).
#pragma once

#include <cstdint>

namespace inkan::milter {

/// What set_tcp_nodelay() did.
enum class NoDelay {
  Set,     ///< a TCP socket (AF_INET/AF_INET6, IPPROTO_TCP): TCP_NODELAY is on now
  NotTcp,  ///< a unix socket, UDP, not a socket, or a bad descriptor: left untouched
  Failed,  ///< a TCP socket on which setsockopt(TCP_NODELAY) failed (errno says why)
};

/// Sets TCP_NODELAY on `fd` when it is a TCP socket; touches nothing else.
/// On NoDelay::Failed errno holds setsockopt's error.
NoDelay set_tcp_nodelay(int fd) noexcept;

/// What the accept()/accept4() interposers did since the process started.
struct NoDelayCounts {
  std::uint64_t set = 0;      ///< accepted TCP connections now with TCP_NODELAY
  std::uint64_t not_tcp = 0;  ///< accepted connections left alone (unix sockets)
  std::uint64_t failed = 0;   ///< accepted TCP connections on which setting it failed
};

/// The interposers' counters.
NoDelayCounts tcp_nodelay_counts() noexcept;

/// True when accept() and accept4() as the dynamic linker resolves them for shared
/// libraries (the global scope, dlsym(RTLD_DEFAULT)) are the interposers — i.e. when
/// libmilter's accept() calls reach them. False if the executable does not export them.
bool accept_interposed() noexcept;

/// How many times the writev() interposer re-armed TCP_QUICKACK after a reply on an accepted
/// TCP connection (tcp_nodelay.cpp explains why).
std::uint64_t tcp_quickack_count() noexcept;

/// True when writev() as shared libraries resolve it is the interposer.
bool writev_interposed() noexcept;

/// Called (on the accepting thread) with errno when setting TCP_NODELAY on an accepted TCP
/// connection fails; nullptr removes it. The connection is served all the same.
using NoDelayFailureHook = void (*)(int err) noexcept;
void set_tcp_nodelay_failure_hook(NoDelayFailureHook hook) noexcept;

}  // namespace inkan::milter
