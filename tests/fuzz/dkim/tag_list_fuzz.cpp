// Fuzz target: RFC 6376 §3.2 tag-list parser. Checks the invariants the verifier relies on:
// value offsets stay inside the input and the value is what the offsets point at (FWS trimmed).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/dkim/tag_list.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = auth::dkim::parse_tag_list(in);
  if (!r) return 0;
  if (r->tags.size() > auth::dkim::kMaxTags) std::abort();
  for (const auto& t : r->tags) {
    if (t.value_begin > t.value_end || t.value_end > in.size()) std::abort();
    const std::string_view span = in.substr(t.value_begin, t.value_end - t.value_begin);
    if (span.size() < t.value.size() || span.substr(span.size() - t.value.size()) != t.value) {
      std::abort();
    }
    if (r->find(t.name) != &t) std::abort();  // no duplicates survive
  }
  return 0;
}
