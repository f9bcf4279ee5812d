// libFuzzer target: auth::net::parse_ip / parse_cidr and the formatters.
// Invariants: acceptance equals glibc inet_pton (the strictness the header promises);
// canonical text round-trips; a parsed prefix contains its own network.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "auth/net/ip.h"

using namespace auth::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto ip = parse_ip(in);
  if (in.find('\0') == std::string_view::npos) {
    const std::string z(in);
    unsigned char buf[16];
    const bool v6 = z.find(':') != std::string::npos;
    const bool want = inet_pton(v6 ? AF_INET6 : AF_INET, z.c_str(), buf) == 1;
    if (want != ip.has_value()) std::abort();
    if (want && std::memcmp(ip->bytes().data(), buf, ip->bytes().size()) != 0) std::abort();
  }
  if (ip) {
    const std::string text = ip->to_string();
    auto again = parse_ip(text);
    if (!again || *again != *ip || again->to_string() != text) std::abort();
    if (!ip->is_v6() && ip->is_v4_mapped()) std::abort();
    if (!same_host(*ip, ip->unmapped())) std::abort();
    const std::string rev = reverse_name(*ip);
    if (rev.size() > 72 || spf_macro_i(*ip).size() > 63) std::abort();
    if (!matches_prefix(*ip, *ip, ip->bit_length())) std::abort();
  }
  for (Brackets b : {Brackets::Allow, Brackets::Require}) {
    auto r = parse_ip(in, b);
    if (r && r->to_string().size() > 45) std::abort();
  }

  auto cidr = parse_cidr(in, HostBits::Clear, Brackets::Allow);
  if (cidr) {
    if (cidr->prefix_length() > cidr->network().bit_length()) std::abort();
    if (!cidr->contains(cidr->network())) std::abort();
    auto back = parse_cidr(cidr->to_string(), HostBits::Reject);
    if (!back || !(*back == *cidr)) std::abort();
  }
  return 0;
}
