// Fuzz target: streaming body canonicalization (RFC 6376 §3.4.3/§3.4.4). The first byte picks
// a split point; the output must not depend on it, for both algorithms.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/dkim/canonicalize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = data[0] % (body.size() + 1);
  for (auto c : {auth::dkim::Canon::Simple, auth::dkim::Canon::Relaxed}) {
    const std::string whole = auth::dkim::canonicalize_body(c, body);
    auth::dkim::BodyCanonicalizer bc(c);
    std::string split;
    bc.feed(body.substr(0, cut), split);
    bc.feed(body.substr(cut), split);
    bc.finish(split);
    if (split != whole) std::abort();
    if (!whole.empty() && whole.size() >= 2 && whole.substr(whole.size() - 2) != "\r\n") std::abort();
    (void)auth::dkim::canonicalize_header(c, body);
  }
  return 0;
}
