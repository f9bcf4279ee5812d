// Fuzz target: CaresResolver's decoding of DNS responses (c-ares ares_parse_* plus our own
// TTL/SOA scan) on arbitrary bytes. Input: byte 0 picks the query type and c-ares status,
// the rest is the response message. Must never crash or read out of bounds.
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
  return 0;
}
