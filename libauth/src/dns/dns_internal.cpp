#include "dns/dns_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace auth::dns::internal {

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> canonical_address(std::string_view text, bool v6) {
  // inet_pton needs a NUL-terminated string; INET6_ADDRSTRLEN bounds any valid text form.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string in(text);
  unsigned char buf[sizeof(struct in6_addr)];
  char out[INET6_ADDRSTRLEN];
  const int af = v6 ? AF_INET6 : AF_INET;
  if (inet_pton(af, in.c_str(), buf) != 1) return std::nullopt;
  if (inet_ntop(af, buf, out, sizeof out) == nullptr) return std::nullopt;
  return std::string(out);
}

}  // namespace auth::dns::internal
