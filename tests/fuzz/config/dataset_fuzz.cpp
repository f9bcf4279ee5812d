// Fuzz dataset parsing (flat, refile patterns, comma lists) and lookups.
#include <cstdint>
#include <string_view>

#include "auth/config/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using auth::config::Dataset;
  using auth::config::DatasetKind;
  for (auto kind : {DatasetKind::File, DatasetKind::RegexFile, DatasetKind::List}) {
    try {
      auto d = Dataset::from_text(text.substr(0, 4096), kind, true);
      (void)d.find("user@example.com");
      (void)d.find_all("example.com");
    } catch (const auth::config::ConfigError&) {
    }
  }
  (void)auth::config::split_fields(text, 3);
  return 0;
}
