// auth::net — milter/policy socket specifications (pure parsing: nothing is bound or resolved).
//
// Accepted (anchor-features §1.2, libmilter smfi_setconn, and Postfix smtpd_milters syntax):
//   libmilter form                      Postfix form
//   inet:8891            any address    —
//   inet:8891@localhost  host name      inet:localhost:8891
//   inet:8891@127.0.0.1  (or @[...])    inet:127.0.0.1:8891   (or inet:[127.0.0.1]:8891)
//   inet:8891@[::1]      → inet6        inet:[::1]:8891       → inet6
//   inet6:8891@::1 / inet6:8891@[::1]   inet6:[::1]:8891
//   inet6:8891           any IPv6 address
//   local:/path  unix:/path  /path      unix:/path  local:/path
// Disambiguation: after "inet:"/"inet6:", a "@" means libmilter form (PORT@HOST); otherwise an
// all-digit value is a bare PORT; otherwise it is Postfix HOST:PORT, split at the last ":",
// where an IPv6 host must be bracketed ("inet:::1:8891" is an error). So
// "inet:8891@localhost" and "inet:localhost:8891" denote the same socket.
// The type prefix is case-insensitive (libmilter uses strncasecmp). Ports are decimal
// 1..65535; service names ("inet:smtp@localhost") are refused. An inet: spec whose host is an
// IPv6 literal becomes Inet6; an inet6: spec with an IPv4 literal is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/core/result.h"
#include "auth/net/ip.h"

namespace auth::net {

/// Linux sockaddr_un.sun_path holds 108 bytes including the terminating NUL (unix(7)).
inline constexpr std::size_t kMaxUnixSocketPath = 107;
/// RFC 1035 §2.3.4 (253 text characters without the root dot).
inline constexpr std::size_t kMaxSocketHostLength = 253;

enum class SocketKind : std::uint8_t {
  Inet,   ///< TCP over IPv4 (or a host name)
  Inet6,  ///< TCP over IPv6
  Local,  ///< UNIX-domain socket
};

struct SocketSpec {
  SocketKind kind = SocketKind::Inet;
  /// TCP port, 1..65535 (0 for Local).
  std::uint16_t port = 0;
  /// Host name lower-cased without a trailing dot, or the canonical text of an address literal
  /// (no brackets). Empty: any address (INADDR_ANY / in6addr_any). Empty for Local.
  std::string host;
  /// Set when `host` is an address literal.
  std::optional<IpAddress> address;
  /// UNIX socket path (Local only), as written.
  std::string path;

  bool is_local() const noexcept { return kind == SocketKind::Local; }
  /// True for an inet/inet6 spec with no host (listen on all addresses).
  bool is_any_address() const noexcept { return !is_local() && host.empty(); }

  /// libmilter form, as opendkim.conf Socket takes it: "inet:8891@localhost",
  /// "inet:8891@127.0.0.1", "inet6:8891@[::1]", "inet:8891", "local:/run/x.sock".
  std::string to_string() const;
  /// Postfix form for smtpd_milters / non_smtpd_milters / check_policy_service:
  /// "inet:localhost:8891", "inet:127.0.0.1:8891", "inet:[::1]:8891", "unix:/run/x.sock".
  /// An any-address listener is reached from the same host, so it is written with the
  /// loopback address ("inet:127.0.0.1:8891", "inet:[::1]:8891").
  std::string to_postfix() const;

  friend bool operator==(const SocketSpec&, const SocketSpec&) = default;
};

/// Parses a socket spec in libmilter or Postfix form (see the module comment).
/// Errors: Syntax (unknown type, malformed host or port, service name, empty path,
/// whitespace, NUL), Invalid (port 0 or > 65535, inet6 with an IPv4 address),
/// LimitExceeded (path or host too long).
Result<SocketSpec> parse_socket_spec(std::string_view text);

}  // namespace auth::net
