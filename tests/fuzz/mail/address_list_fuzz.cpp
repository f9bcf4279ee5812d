// libFuzzer target: auth::mail::parse_address_list, author_domains, normalize_domain.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/mail/address.h"
#include "auth/mail/domain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto list = auth::mail::parse_address_list(in);
  if (list) {
    if (list->size() > auth::mail::kMaxMailboxes) std::abort();
    for (const auto& mb : *list) {
      if (mb.local_part.empty() || mb.domain.empty()) std::abort();
      if (!mb.domain_is_literal()) (void)auth::mail::normalize_domain(mb.domain);
    }
    auto domains = auth::mail::author_domains(in);
    if (list->empty() != !domains) std::abort();
  }
  (void)auth::mail::single_author_domain(in);
  (void)auth::mail::normalize_domain(in, auth::mail::DomainSyntax::AllowUnderscore);
  return 0;
}
