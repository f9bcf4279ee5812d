// Fuzz target: PublicKey::from_dkim_p on arbitrary bytes, as both key types (the p= data of a
// DNS record is attacker-controlled). A key that parses must export and re-import to an equal
// key, report a sane size, and a garbage signature over it must "not verify" without error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"

namespace {

void check(auth::crypto::KeyType type, std::string_view bytes) {
  using namespace auth::crypto;
  auto key = PublicKey::from_dkim_p(type, bytes);
  if (!key) {
    if (key.error().reason.empty()) std::abort();
    return;
  }
  if (key->type() != type) std::abort();
  if (key->bits() == 0 || key->bits() > kMaxRsaBits) std::abort();
  auto p = key->dkim_p();
  if (!p) std::abort();
  auto again = PublicKey::from_dkim_p(type, *p);
  if (!again || !(*again == *key)) std::abort();
  // Verification with an arbitrary key and a garbage signature: false, never an error.
  const SignAlg alg = type == KeyType::Rsa ? SignAlg::RsaSha256 : SignAlg::Ed25519Sha256;
  const std::string digest = sha256(bytes);
  auto v = verify(*key, alg, digest, bytes);
  if (!v || *v) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check(auth::crypto::KeyType::Rsa, in);
  check(auth::crypto::KeyType::Ed25519, in);
  return 0;
}
