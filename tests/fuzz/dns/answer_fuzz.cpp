// Fuzz target: CaresResolver's decoding of DNS responses (c-ares ares_parse_* plus our own
// TTL/SOA scan) on arbitrary bytes. Input: byte 0 picks the query type and c-ares status,
// the rest is the response message. Must never crash or read out of bounds. Also decodes it
// as an answer to an AD query (make_answer_ad: RCODE mapping, AD bit).
#include <ares.h>

#include <cstddef>
#include <cstdint>

#include "dns/cares_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  using auth::dns::RType;
  static constexpr RType kTypes[] = {RType::TXT, RType::A,   RType::AAAA,
                                     RType::MX,  RType::PTR, RType::CNAME};
  const RType type = kTypes[data[0] % 6];
  const int status = (data[0] & 0x80) != 0 ? ARES_ENOTFOUND : ARES_SUCCESS;
  auto a = auth::dns::internal::make_answer(status, data + 1, static_cast<int>(size - 1), type);
  for (const auto& t : a.txt) (void)t.joined();
  // The request_ad path: RCODE mapping of ares_send answers and the AD bit (never set on a
  // failure, whatever the header says).
  auto b = auth::dns::internal::make_answer_ad(status, data + 1, static_cast<int>(size - 1), type);
  if (b.authenticated && auth::dns::is_temporary(b.status)) __builtin_trap();
  return 0;
}
