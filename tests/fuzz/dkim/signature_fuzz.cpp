// Fuzz target: DKIM-Signature parser (RFC 6376 §3.5), strict and with the draft relaxations.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/dkim/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto strict = auth::dkim::parse_signature(in);
  auth::dkim::ParseOptions legacy;
  legacy.accept_draft_versions = true;
  auto lax = auth::dkim::parse_signature(in, legacy);
  if (strict && !lax) std::abort();  // the relaxations only ever accept more
  if (strict) {
    const auto& s = *strict;
    if (s.signed_headers.empty() || s.signature.empty() || s.body_hash.empty()) std::abort();
    if (!auth::dkim::is_same_or_subdomain(s.identity_domain(), s.domain)) std::abort();
    if (s.timestamp && s.expiration && *s.expiration < *s.timestamp) std::abort();
    if (s.b_prefix().size() > 8) std::abort();
  }
  return 0;
}
