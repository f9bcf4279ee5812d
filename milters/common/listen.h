// inkan::milter — binding the listening socket of a daemon (milters and the policy server).
#pragma once

#include <sys/socket.h>

#include "auth/core/result.h"
#include "auth/net/socketspec.h"

namespace inkan::milter {

struct ListenOptions {
  int backlog = 128;
  /// Address family for an inet: spec: AF_INET (libmilter's inet: is IPv4) or AF_UNSPEC
  /// (whatever the host name resolves to first). inet6: is always AF_INET6.
  int inet_family = AF_INET;
  /// TCP only: TCP_DEFER_ACCEPT for this many seconds (0: off). For protocols where the
  /// client speaks first (milter: the MTA sends OPTNEG at once), accept() then returns with
  /// the first packet already there, and the accepting thread wakes once instead of twice.
  /// A client silent that long is still accepted afterwards (tcp(7)).
  int defer_accept_seconds = 0;
};

/// Binds and listens on `spec` (close-on-exec). A stale UNIX socket is replaced (libmilter
/// smfi_opensocket(true), anchor-features.md §8 "Sockets"), never a regular file; its mode
/// comes from the umask. TCP sockets get SO_REUSEADDR. Errors: Io with the spec and strerror,
/// LimitExceeded for a UNIX path too long for sockaddr_un.
auth::Result<int> listen_socket(const auth::net::SocketSpec& spec, ListenOptions options = {});

}  // namespace inkan::milter
