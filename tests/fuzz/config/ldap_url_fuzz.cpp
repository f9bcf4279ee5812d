// Fuzz the LDAP data set helpers (auth/config/dataset_ldap.h): the input is a data set value and
// a key separated by the first newline. Splitting into URLs, $d/$D expansion of the value as a
// template, masking, the server list of a URL, and libldap's ldap_url_parse through
// parse_ldap_url. Invariants: bounded outputs, at most kMaxLdapUris URLs, no NUL reaches libldap.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/config/dataset_ldap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace c = auth::config;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view spec = in.substr(0, nl);
  const std::string_view key = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  (void)c::is_ldap_dataset_spec(spec);
  if (auto urls = c::split_ldap_urls(spec)) {
    if (urls->empty() || urls->size() > c::kMaxLdapUris) std::abort();
    for (const auto& u : *urls) {
      if (!c::is_ldap_url(u)) std::abort();
      if (u.size() <= 2048) {
        if (auto p = c::parse_ldap_url(u)) {
          const std::string server = c::format_ldap_server(*p);
          if (server.find(' ') != std::string::npos || server.find(',') != std::string::npos) std::abort();
        }
      }
    }
  }
  if (auto q = c::expand_ldap_template(spec, key)) {
    if (q->size() > c::kMaxLdapQueryBytes) std::abort();
  }
  const std::string masked = c::mask_ldap_spec(spec);
  if (masked.size() > spec.size() + 4 * (spec.size() / 2 + 1)) std::abort();

  c::LdapUrl u;
  u.scheme = (size % 2) != 0U ? "ldapi" : "ldap";
  u.host = std::string(key.substr(0, 4096));
  u.port = 389;
  const std::string server = c::format_ldap_server(u);
  if (server.find(' ') != std::string::npos) std::abort();
  return 0;
}
