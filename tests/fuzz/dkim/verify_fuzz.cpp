// Fuzz target: the whole verifier over a hostile message (header split, DKIM-Signature parsing,
// b= blanking, header selection, streaming canonicalization), with the RFC 8463 keys served
// from an in-memory zone. Invariants: one result per DKIM-Signature field, never a pass without
// a parsed signature, every b_prefix at most 8 characters.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auth::dns::ZoneResolver* zone = [] {
    auto* z = new auth::dns::ZoneResolver();
    z->add_txt("brisbane._domainkey.football.example.com",
               "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    z->add_txt("test._domainkey.football.example.com",
               "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
               "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMK"
               "rM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
    return z;
  }();
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  auth::dkim::VerifyOptions opt;
  opt.clock = auth::dkim::fixed_clock(1528637909);
  auto results = auth::dkim::verify_message(msg, *zone, opt);
  for (const auto& r : results) {
    if (r.b_prefix.size() > 8) std::abort();
    if (r.result == auth::dkim::DkimResult::Pass && r.key_bits == 0) std::abort();
    if (r.result == auth::dkim::DkimResult::None) std::abort();
  }
  return 0;
}
