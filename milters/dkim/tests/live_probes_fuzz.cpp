// Fuzz target: the probe keys inkan-dkim asks a live data set (dsn:, ldap:) for, from hostile
// client names, recipients and -Q query lines — host_name_probes, host_ip_probes (when the
// text parses as an address), body_length_probes, HostSet::match and answer_live_query against
// an in-memory data set that answers every third key and fails every seventh. Invariants: the
// key counts stay within OpenDKIM's walk (two per dot in the name, 4 + 4 x (bits + 1) per address,
// two per domain label + 2), negative keys come first in each pair, and -Q output is bounded.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dkim/dkim_core.h"

namespace {

class Answering final : public auth::config::LiveDataset {
 public:
  auth::Result<std::optional<auth::config::LiveValues>> lookup(std::string_view key) override {
    ++n_;
    if (n_ % 7 == 0) return auth::fail(auth::ErrorCode::Io, origin_ + ": gone");
    if (n_ % 3 == 0) return std::optional<auth::config::LiveValues>{auth::config::LiveValues{std::string(key), ""}};
    return std::optional<auth::config::LiveValues>{};
  }
  const std::string& origin() const noexcept override { return origin_; }

 private:
  std::size_t n_ = 0;
  std::string origin_ = "dsn:fuzz://h/d/table=t";
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace inkan::dkim;
  auto names = host_name_probes(text);
  // One pair per '.' (and one for the whole name): a client name from the MTA need not be a
  // valid DNS name, so "a..b" or 253 dots give a pair each, as opendkim's strchr walk does.
  if (names.size() % 2 != 0 || names.size() > 2 * auth::net::kMaxHostNameLength) __builtin_trap();
  for (std::size_t i = 0; i < names.size(); i += 2) {
    if (names[i] != "!" + names[i + 1]) __builtin_trap();
  }
  if (auto ip = auth::net::parse_ip(text)) {
    auto keys = host_ip_probes(*ip);
    if (keys.size() != 4 + 4 * (ip->bit_length() + 1)) __builtin_trap();
  }
  auto bl = body_length_probes(text);
  if (bl.size() > 2 * (kMaxBodyLengthLabels + 1) + 2) __builtin_trap();
  auto ds = std::make_shared<Answering>();
  HostSet set(ds);
  std::string err;
  (void)set.match(nullptr, text, &err);
  auto q = answer_live_query(*ds, text, "inkan-dkim");
  if (q.out.size() > 2 * 1024 * (size + 16) + 64) __builtin_trap();
  return 0;
}
