// Fuzz target: the Postfix policy-protocol reader (auth::policy::RequestReader) and, for every
// request it yields, policyd-spf's input normalisation and the reply formatter. The input is fed
// in chunks whose sizes come from the first byte, so chunk boundaries are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/config/spf.h"
#include "auth/policy/protocol.h"
#include "auth/policy/spf_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = (data[0] % 64) + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  auth::policy::RequestReader reader;
  static const auth::config::SpfSettings settings;
  std::size_t requests = 0;
  while (!in.empty()) {
    std::size_t n = in.size() < chunk ? in.size() : chunk;
    reader.feed(in.substr(0, n));
    in.remove_prefix(n);
    while (auto r = reader.next()) {
      ++requests;
      if (r->attributes.size() > auth::policy::kMaxAttributes) std::abort();
      for (const auto& [name, value] : r->attributes) {
        if (name.empty() || value.size() > auth::policy::kMaxLineBytes) std::abort();
      }
      auto input = auth::policy::SpfPolicyInput::from_request(*r, settings);
      std::string reply = auth::policy::format_response(input.recipient);
      // A reply is exactly one "action=" line and the empty line.
      if (reply.find('\n') != reply.size() - 2) std::abort();
    }
    if (reader.failed()) break;
  }
  (void)requests;
  return 0;
}
