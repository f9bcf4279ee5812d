// Fuzz the OpenDKIM-lineage and policyd-spf configuration readers.
#include <cstdint>
#include <string_view>

#include "auth/config/legacy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto no_files = [](const std::string& p) -> auth::Result<std::string> {
    if (p == "/self") return std::string("Include /self\n");
    return auth::fail(auth::ErrorCode::Io, "no files");
  };
  try {
    auto c = auth::config::LegacyConfig::parse(text, "fuzz", no_files);
    for (const auto& s : c.settings()) {
      (void)auth::config::parse_legacy_bool(s.value);
      (void)auth::config::parse_legacy_int(s.value);
    }
  } catch (const auth::config::ConfigError&) {
  }
  (void)auth::config::parse_policyd_spf_config(text, "fuzz");
  return 0;
}
