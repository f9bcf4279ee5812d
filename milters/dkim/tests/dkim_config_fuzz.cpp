// Fuzz target: opendkim.conf + tables through the DKIM settings loader, then the signing
// decision and the Authentication-Results helpers on the same bytes. Input layout:
//   config text \x00 KeyTable text \x00 SigningTable text \x00 sender address \x00 AR value
// Loading may throw ConfigError (a start-up error); nothing else may escape or crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/dkim.h"
#include "dkim/dkim_core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  while (parts.size() < 4) {
    auto nul = in.find('\0');
    parts.emplace_back(in.substr(0, nul));
    in = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
  }
  parts.emplace_back(in);
  auth::config::FileReader reader = [&](const std::string& p) -> auth::Result<std::string> {
    if (p == "/kt") return parts[1];
    if (p == "/st") return parts[2];
    return auth::fail(auth::ErrorCode::Io, "no such file");
  };
  (void)inkan::dkim::ar_authserv_id(parts[4]);
  // opendkim -Q and Minimum on the same bytes: the KeyTable part as a dataset, the sender
  // part as the query line and as a Minimum value.
  (void)auth::config::parse_body_minimum(parts[3]);
  (void)inkan::dkim::answer_dataset_query(
      auth::config::Dataset::from_text(parts[1], auth::config::DatasetKind::File, false), parts[3], "fuzz");
  try {
    auto cfg = auth::config::LegacyConfig::parse(parts[0], "fuzz.conf", reader);
    auto s = auth::config::load_dkim_legacy(cfg, reader);
    auto at = parts[3].rfind('@');
    std::string local = at == std::string::npos ? parts[3] : parts[3].substr(0, at);
    std::string domain = at == std::string::npos ? std::string() : parts[3].substr(at + 1);
    std::string err;
    (void)auth::config::select_signing_keys(s, local, domain, &err);
    (void)inkan::dkim::should_remove_ar(parts[4], "mx.example", s);
    (void)inkan::dkim::build_host_lists(s);
    // ReplaceRules loaded from the tables' bytes, applied to the AR part as a field value.
    if (auto rw = auth::config::HeaderRewriter::compile(s.replace_rules); rw) (void)rw->apply(parts[4]);
  } catch (const auth::config::ConfigError&) {
  }
  return 0;
}
