// auth::dns — the small out-of-line parts of the Resolver interface (resolver.h).
#include "auth/dns/resolver.h"

#include <cstddef>

namespace auth::dns {

const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::NxDomain: return "nxdomain";
    case Status::NoData: return "nodata";
    case Status::ServFail: return "servfail";
    case Status::Timeout: return "timeout";
    case Status::Malformed: return "malformed";
  }
  return "unknown";
}

const char* to_string(RType t) noexcept {
  switch (t) {
    case RType::A: return "A";
    case RType::CNAME: return "CNAME";
    case RType::PTR: return "PTR";
    case RType::MX: return "MX";
    case RType::TXT: return "TXT";
    case RType::AAAA: return "AAAA";
  }
  return "unknown";
}

std::optional<RType> parse_rtype(std::string_view text) noexcept {
  static constexpr RType kAll[] = {RType::A, RType::CNAME, RType::PTR,
                                   RType::MX, RType::TXT,   RType::AAAA};
  for (RType t : kAll) {
    std::string_view want = to_string(t);
    if (want.size() != text.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < want.size() && same; ++i) {
      char c = text[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      same = c == want[i];
    }
    if (same) return t;
  }
  return std::nullopt;
}

std::string TxtRecord::joined() const {
  // RFC 6376 §3.6.2.2 / RFC 7208 §3.3: concatenate the character-strings, no separator.
  std::size_t total = 0;
  for (const auto& s : strings) total += s.size();
  std::string out;
  out.reserve(total);
  for (const auto& s : strings) out += s;
  return out;
}

}  // namespace auth::dns
