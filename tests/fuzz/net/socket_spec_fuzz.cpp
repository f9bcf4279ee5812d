// libFuzzer target: auth::net::parse_socket_spec.
// Invariants: a parsed spec is well-formed (port in range for inet, path for local) and both
// output forms parse again — the libmilter form to an equal spec.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/net/socketspec.h"

using namespace auth::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto spec = parse_socket_spec(in);
  if (!spec) {
    if (spec.error().reason.empty()) std::abort();
    return 0;
  }
  if (spec->is_local()) {
    if (spec->path.empty() || spec->path.size() > kMaxUnixSocketPath || spec->port != 0) std::abort();
  } else {
    if (spec->port == 0 || !spec->path.empty()) std::abort();
    if (spec->address && spec->address->is_v6() != (spec->kind == SocketKind::Inet6)) std::abort();
  }
  auto again = parse_socket_spec(spec->to_string());
  if (!again || !(*again == *spec)) std::abort();
  auto postfix = parse_socket_spec(spec->to_postfix());
  if (!postfix || postfix->port != spec->port) std::abort();
  return 0;
}
