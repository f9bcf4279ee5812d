// Fuzz target: base64_decode on arbitrary bytes. Invariants: a successful decode re-encodes
// to the input with whitespace removed (one accepted encoding per byte string), and
// encode→decode is the identity on the input bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/crypto/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto dec = auth::crypto::base64_decode(in);
  if (dec) {
    std::string stripped;
    for (char c : in) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') stripped += c;
    }
    if (auth::crypto::base64_encode(*dec) != stripped) std::abort();
  } else if (dec.error().reason.empty()) {
    std::abort();
  }

  const std::string enc = auth::crypto::base64_encode(in);
  auto back = auth::crypto::base64_decode(enc);
  if (!back || *back != in) std::abort();
  return 0;
}
