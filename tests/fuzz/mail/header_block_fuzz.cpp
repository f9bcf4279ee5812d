// libFuzzer target: auth::mail::parse_header_block, split_message, Field::from_milter.
// Invariant checked: a successful parse keeps every byte — joining Field::raw + CRLF gives back
// the CRLF-normalised header section.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/mail/header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auth::mail::MessageParts parts = auth::mail::split_message(in);
  if (parts.body_offset > in.size() || parts.header.size() > parts.body_offset) std::abort();

  auto block = auth::mail::parse_header_block(in);
  if (block) {
    if (block->fields.size() > auth::mail::kMaxHeaderFields) std::abort();
    std::string joined;
    for (const auto& f : block->fields) {
      if (f.raw.size() > auth::mail::kMaxFieldBytes || f.name.empty()) std::abort();
      if (f.raw[f.colon] != ':') std::abort();
      if (!f.is(f.name)) std::abort();
      joined += f.raw;
      joined += "\r\n";
    }
    std::string want = auth::mail::to_crlf(parts.header);
    if (!want.empty() && want.compare(want.size() - 2, 2, "\r\n") != 0) want += "\r\n";
    if (joined != want) std::abort();
    // Rebuilding the first field from milter-style name/value must give a parsable field.
    if (!block->fields.empty()) {
      const auto& f = block->fields.front();
      auto again = auth::mail::Field::from_milter(f.name, f.raw_value(),
                                                  auth::mail::LeadingSpace::Included);
      if (!again || again->value != f.value) std::abort();
    }
  }
  (void)auth::mail::Field::parse(in);
  return 0;
}
