// Fuzz target: auth::spf::parse_record (RFC 7208 §4.6, §12) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/spf/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  bool looks_spf = auth::spf::is_spf_record(in);
  auto r = auth::spf::parse_record(in);
  if (!r) return 0;
  // Invariants of a successful parse.
  if (!looks_spf) std::abort();
  if (r->mechanisms.size() > auth::spf::kMaxTerms) std::abort();
  for (const auto& m : r->mechanisms) {
    if (m.text.empty() || m.cidr4 > 32 || m.cidr6 > 128) std::abort();
    for (char c : m.text) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) > 0x7E) std::abort();
    }
    if (!m.domain_spec.empty() && !auth::spf::check_domain_spec(m.domain_spec)) std::abort();
  }
  if (r->redirect && !auth::spf::check_domain_spec(*r->redirect)) std::abort();
  if (r->exp && !auth::spf::check_domain_spec(*r->exp)) std::abort();
  return 0;
}
