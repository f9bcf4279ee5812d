// Fuzz target: DKIM key record parser (RFC 6376 §3.6.1, RFC 8463 §4) and the public-key
// decoding the verifier does next.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/crypto/key.h"
#include "auth/dkim/key_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = auth::dkim::parse_key_record(in);
  if (!r) return 0;
  if (r->service_types.empty() && r->tags.find("s") == nullptr) std::abort();
  if (!r->revoked()) {
    auto k = auth::crypto::PublicKey::from_dkim_p(r->key_type, r->public_key);
    if (k && k->type() != r->key_type) std::abort();
  }
  return 0;
}
