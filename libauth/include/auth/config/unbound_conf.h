// auth::config — what inkan takes from a libunbound configuration file.
//
// OpenDKIM's `ResolverConfiguration FILE` hands FILE to libunbound (ub_ctx_config), whose
// grammar is unbound.conf(5): `attribute: value` tokens, `#` at the start of a token opens a
// comment, values may be quoted, clauses (`server:`, `forward-zone:` …) group the attributes
// after them, `include: FILE` pulls in another file. inkan resolves through c-ares, not a
// recursive resolver, so from such a file it honours what a stub can honour and says so for
// the rest, never silently:
//   - `forward-zone:` with `name: "."`: its `forward-addr:` entries become name servers, as
//     libunbound then forwards every query to them (`ip`, `ip@port`; a `#tls-name` suffix is
//     dropped, as unbound does without `forward-tls-upstream: yes`);
//   - attributes that tune a recursive server's cache, threads, sockets, logging or its
//     listening side, and the DNSSEC trust anchors (inkan does not validate DNSSEC itself: a
//     trust anchor makes it trust the resolver's AD bit, as TrustAnchorFile does), are accepted
//     and listed in `ignored`;
//   - anything that changes which answers come back (local-data, stub-zone, a forward-zone
//     for one domain, DNS over TLS, …) or that this reader does not know throws ConfigError
//     naming the file, line and attribute.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "auth/config/legacy.h"

namespace auth::config {

/// Nesting depth of `include:` followed (unbound has no limit; a loop must end somewhere).
inline constexpr int kMaxUnboundIncludeDepth = 8;
/// Attributes read from one file tree (local policy: real files have a few dozen).
inline constexpr std::size_t kMaxUnboundAttributes = 10000;
/// Longest token (a quoted value included) accepted.
inline constexpr std::size_t kMaxUnboundTokenBytes = 4096;

struct UnboundConf {
  /// Name servers from `forward-zone: name: "."`, in file order: "IP", "IP:PORT" or "[IPv6]:PORT".
  std::vector<std::string> forwarders;
  /// "FILE:LINE: attribute" for every attribute accepted without effect, for a start-up notice.
  std::vector<std::string> ignored;
};

/// Reads the libunbound configuration `path` (and what it includes) through `reader`.
/// Throws ConfigError(file, line, attribute, why) for what inkan cannot honour.
UnboundConf load_unbound_conf(const std::string& path, const FileReader& reader = read_file);

}  // namespace auth::config
