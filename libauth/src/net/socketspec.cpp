// Milter / policy socket specifications (see auth/net/socketspec.h).
#include "auth/net/socketspec.h"

#include <string>

#include "net/net_internal.h"

namespace auth::net {
namespace {

using internal::quote;

/// Local policy: no valid spec comes close ("inet6:65535@" + 253-char name).
constexpr std::size_t kMaxSocketSpecLength = 512;
constexpr unsigned kMaxPort = 65535;  // RFC 793 §3.1: 16-bit port

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!internal::is_digit(c)) return false;
  }
  return true;
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view spec) {
  if (text.empty()) return fail(ErrorCode::Syntax, "missing port in socket spec " + quote(spec));
  if (!all_digits(text)) {
    bool name_like = true;
    for (char c : text) {
      if (!internal::is_alpha(c) && !internal::is_digit(c) && c != '-') name_like = false;
    }
    if (name_like) {
      return fail(ErrorCode::Syntax, "service name " + quote(text) +
                                         " is not supported; give a port number in " + quote(spec));
    }
    return fail(ErrorCode::Syntax, "invalid port " + quote(text) + " in socket spec " + quote(spec));
  }
  unsigned port = 0;
  // Leading zeros are tolerated: libmilter reads the port with atoi().
  if (!internal::parse_decimal(text, kMaxPort, true, port) || port == 0) {
    return fail(ErrorCode::Invalid, "port " + quote(text) + " out of range 1..65535 in " + quote(spec));
  }
  return static_cast<std::uint16_t>(port);
}

/// Fills host/address/kind from a host text (bracketed literal, bare literal, or name).
Result<void> set_host(SocketSpec& spec, std::string_view host, bool inet6, std::string_view text) {
  if (host.empty()) return fail(ErrorCode::Syntax, "empty host in socket spec " + quote(text));
  if (host.size() > kMaxSocketHostLength + 2) {
    return fail(ErrorCode::LimitExceeded, "host longer than 253 characters in socket spec");
  }
  if (host.front() == '[') {
    auto ip = parse_ip(host, Brackets::Require);
    if (!ip) return fail(ErrorCode::Syntax, "bad address in socket spec: " + ip.error().reason);
    spec.address = *ip;
  } else if (auto ip = parse_ip(host, Brackets::Forbid)) {
    spec.address = *ip;
  } else if (host.find(':') != std::string_view::npos) {
    return fail(ErrorCode::Syntax, "bad IPv6 address in socket spec: " + ip.error().reason);
  } else {
    if (std::string why = internal::check_host_name(host); !why.empty()) {
      return fail(ErrorCode::Syntax, "bad host in socket spec " + quote(text) + ": " + why);
    }
    spec.host = internal::lower(host);
    if (spec.host.back() == '.') spec.host.pop_back();
    spec.kind = inet6 ? SocketKind::Inet6 : SocketKind::Inet;
    return ok();
  }
  if (spec.address->is_v6()) {
    spec.kind = SocketKind::Inet6;
  } else if (inet6) {
    return fail(ErrorCode::Invalid, "inet6: socket with IPv4 address " + spec.address->to_string() +
                                        "; use inet:");
  } else {
    spec.kind = SocketKind::Inet;
  }
  spec.host = spec.address->to_string();
  return ok();
}

Result<SocketSpec> parse_inet(std::string_view rest, bool inet6, std::string_view text) {
  SocketSpec spec;
  spec.kind = inet6 ? SocketKind::Inet6 : SocketKind::Inet;
  std::string_view port_text;
  std::string_view host_text;
  bool any = false;
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    // libmilter: PORT@HOST.
    port_text = rest.substr(0, at);
    host_text = rest.substr(at + 1);
    if (host_text.empty()) return fail(ErrorCode::Syntax, "empty host after '@' in " + quote(text));
  } else if (all_digits(rest)) {
    // libmilter: PORT alone — all addresses.
    port_text = rest;
    any = true;
  } else if (!rest.empty() && rest.front() == '[') {
    // Postfix: [ADDRESS]:PORT.
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail(ErrorCode::Syntax, "unbalanced '[' in " + quote(text));
    host_text = rest.substr(0, close + 1);
    const std::string_view after = rest.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return fail(ErrorCode::Syntax, "expected ':PORT' after ']' in " + quote(text));
    }
    port_text = after.substr(1);
  } else {
    // Postfix: HOST:PORT, split at the last ':'. A bare IPv6 address is ambiguous.
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(ErrorCode::Syntax, "expected PORT, PORT@HOST or HOST:PORT in " + quote(text));
    }
    host_text = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host_text.find(':') != std::string_view::npos) {
      return fail(ErrorCode::Syntax, "IPv6 address must be in brackets ([::1]:PORT or PORT@[::1]) in " +
                                         quote(text));
    }
    if (host_text.empty()) return fail(ErrorCode::Syntax, "empty host before ':PORT' in " + quote(text));
  }
  auto port = parse_port(port_text, text);
  if (!port) return fail(std::move(port).error());
  spec.port = *port;
  if (!any) {
    if (auto r = set_host(spec, host_text, inet6, text); !r) return fail(r.error());
  }
  return spec;
}

}  // namespace

Result<SocketSpec> parse_socket_spec(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::Syntax, "empty socket spec");
  if (text.size() > kMaxSocketSpecLength) {
    return fail(ErrorCode::LimitExceeded, "socket spec longer than " +
                                              std::to_string(kMaxSocketSpecLength) + " bytes");
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return fail(ErrorCode::Syntax, "whitespace or control byte in socket spec " + quote(text));
    }
  }
  auto local = [&text](std::string_view path) -> Result<SocketSpec> {
    if (path.empty()) return fail(ErrorCode::Syntax, "empty socket path in " + quote(text));
    if (path.size() > kMaxUnixSocketPath) {
      return fail(ErrorCode::LimitExceeded, "socket path longer than " +
                                                std::to_string(kMaxUnixSocketPath) + " bytes");
    }
    SocketSpec spec;
    spec.kind = SocketKind::Local;
    spec.path = std::string(path);
    return spec;
  };
  // libmilter: a bare path means a local socket. (A bare relative name is refused here: it
  // is far more often a typo than a socket in the working directory.)
  if (text.front() == '/') return local(text);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(ErrorCode::Syntax, "socket spec " + quote(text) +
                                       " needs inet:, inet6:, local:, unix: or an absolute path");
  }
  const std::string_view type = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  if (internal::iequals(type, "local") || internal::iequals(type, "unix")) return local(rest);
  if (internal::iequals(type, "inet")) return parse_inet(rest, false, text);
  if (internal::iequals(type, "inet6")) return parse_inet(rest, true, text);
  return fail(ErrorCode::Syntax, "unknown socket type " + quote(type) +
                                     " (expected inet, inet6, local or unix)");
}

std::string SocketSpec::to_string() const {
  if (kind == SocketKind::Local) return "local:" + path;
  std::string out = kind == SocketKind::Inet6 ? "inet6:" : "inet:";
  out += std::to_string(port);
  if (host.empty()) return out;
  out += '@';
  if (address && address->is_v6()) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  return out;
}

std::string SocketSpec::to_postfix() const {
  if (kind == SocketKind::Local) return "unix:" + path;
  std::string out = "inet:";
  if (host.empty()) {
    out += kind == SocketKind::Inet6 ? "[::1]" : "127.0.0.1";
  } else if (address && address->is_v6()) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace auth::net
