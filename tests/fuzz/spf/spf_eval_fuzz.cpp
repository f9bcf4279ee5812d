// Fuzz target: check_host() with an arbitrary record at the checked domain, over a fixed
// in-memory zone (include/redirect targets, MX, PTR, a loop, a timeout). Checks the §4.6.4
// bounds hold whatever the record says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/dns/zone.h"
#include "auth/spf/evaluator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  std::string record(reinterpret_cast<const char*>(data), size);
  auth::dns::ZoneResolver zone;
  zone.add_txt("fuzz.example", auth::dns::TxtRecord{{record}});
  zone.add_txt("inc.example", "v=spf1 ip4:192.0.2.0/24 include:fuzz.example -all");
  zone.add_txt("loop.example", "v=spf1 redirect=loop.example");
  zone.add_txt("exp.example", "%{i} %{p} %{c} %{r} %{t} %{l} %{o}");
  zone.add_a("a.example", "192.0.2.1");
  zone.add_aaaa("a.example", "2001:db8::1");
  zone.add_mx("fuzz.example", 10, "a.example");
  zone.add_ptr("1.2.0.192.in-addr.arpa", "a.example");
  zone.add_name("empty.example");
  zone.set_failure("slow.example", auth::dns::Status::Timeout);

  for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
    auth::spf::Request req;
    req.client_ip = ip;
    req.mail_from = "user@fuzz.example";
    req.helo = "a.example";
    auth::spf::Options opt;
    opt.now = 1;
    auto r = auth::spf::check_host(zone, req, opt);
    if (r.dns_lookups > opt.max_dns_mechanisms + 1) std::abort();
    if (r.result != auth::spf::SpfResult::PermError && r.dns_lookups > opt.max_dns_mechanisms) {
      std::abort();
    }
    if (r.trace.size() > 512) std::abort();
    if (r.result != auth::spf::SpfResult::Fail && !r.explanation.empty()) std::abort();
  }
  return 0;
}
