// Fuzz the OpenDKIM `dsn:` parser (dataset_odbx.h): parse_dsn, the password mask and the
// statements built from a parsed DSN. Invariants: no crash, every parsed field within
// kDsnMaxFieldBytes, the origin never longer than the input bound, and a parsed DSN always
// has a host, table, keycol and datacol.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/config/dataset_odbx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace auth::config;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = parse_dsn(text);
  if (d) {
    for (const std::string* f : {&d->backend, &d->user, &d->password, &d->port, &d->host, &d->dbase, &d->table,
                                 &d->keycol, &d->datacol}) {
      if (f->size() > kDsnMaxFieldBytes) std::abort();
    }
    if (d->host.empty() || d->table.empty() || d->keycol.empty() || d->datacol.empty()) std::abort();
    (void)dsn_lookup_query(*d, "user@example.com");
    (void)dsn_walk_query(*d);
  }
  if (dsn_origin(text).size() > kDsnMaxBytes + 4) std::abort();
  return 0;
}
