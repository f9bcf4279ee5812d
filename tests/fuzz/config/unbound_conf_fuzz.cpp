// Fuzz the unbound.conf(5) reader behind ResolverConfiguration: the input is the file, and
// `include:` of "/inc" reads the input again (bounded by kMaxUnboundIncludeDepth). Every
// outcome is a result or a ConfigError; forwarders are always IP or [IP]:PORT strings.
#include <cstdint>
#include <string>

#include "auth/config/unbound_conf.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auth::config::FileReader reader = [&](const std::string& path) -> auth::Result<std::string> {
    if (path == "/u.conf" || path == "/inc") return text;
    return auth::fail(auth::ErrorCode::Io, "no such file");
  };
  try {
    auto u = auth::config::load_unbound_conf("/u.conf", reader);
    for (const auto& f : u.forwarders) {
      if (f.empty()) __builtin_trap();
    }
  } catch (const auth::config::ConfigError&) {
  }
  return 0;
}
