#include "common/listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace inkan::milter {

auth::Result<int> listen_socket(const auth::net::SocketSpec& spec, ListenOptions options) {
  if (spec.is_local()) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (spec.path.size() >= sizeof sun.sun_path) {
      return auth::fail(auth::ErrorCode::LimitExceeded, spec.path + ": path too long");
    }
    std::memcpy(sun.sun_path, spec.path.c_str(), spec.path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return auth::fail(auth::ErrorCode::Io, std::string("socket: ") + std::strerror(errno));
    struct stat st {};
    if (::lstat(spec.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(spec.path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::listen(fd, options.backlog) != 0) {
      const int e = errno;
      ::close(fd);
      return auth::fail(auth::ErrorCode::Io, spec.path + ": " + std::strerror(e));
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = spec.kind == auth::net::SocketKind::Inet6 ? AF_INET6 : options.inet_family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(spec.port);
  int gai = ::getaddrinfo(spec.host.empty() ? nullptr : spec.host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) return auth::fail(auth::ErrorCode::Io, spec.to_string() + ": " + ::gai_strerror(gai));
  std::string err = spec.to_string() + ": no usable address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.defer_accept_seconds > 0) {
      // Best effort: without it accept() just returns earlier.
      ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &options.defer_accept_seconds,
                   sizeof options.defer_accept_seconds);
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, options.backlog) == 0) break;
    err = spec.to_string() + ": " + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return auth::fail(auth::ErrorCode::Io, err);
  return fd;
}

}  // namespace inkan::milter
