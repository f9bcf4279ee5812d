// Fuzz target: ZoneResolver::load_master_file (RFC 1035 §5 subset) and load_txt_lines on
// arbitrary bytes, then a few lookups over whatever loaded. Must never crash, hang or grow
// without bound; errors are expected and ignored.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dns/zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auth::dns::ZoneResolver zone;
  auto r = zone.load_master_file(text, "fuzz.example");
  (void)r;
  auto t = zone.load_txt_lines(text);
  (void)t;
  // Query the first token as a name, for every type, through CNAMEs if any.
  const std::size_t end = text.find_first_of(" \t\n");
  const std::string_view first = text.substr(0, end == std::string_view::npos ? text.size() : end);
  for (auto type : {auth::dns::RType::A, auth::dns::RType::AAAA, auth::dns::RType::MX,
                    auth::dns::RType::TXT, auth::dns::RType::PTR, auth::dns::RType::CNAME}) {
    auth::dns::Answer a = zone.query(first, type);
    for (const auto& rec : a.txt) (void)rec.joined();
    (void)zone.query(std::string(first) + ".fuzz.example", type);
  }
  return 0;
}
