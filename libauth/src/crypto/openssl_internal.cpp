#include "crypto/openssl_internal.h"

#include <openssl/err.h>

#include <climits>
#include <cstdlib>

namespace auth::crypto::internal {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long e = 0;
  // Bounded: the per-thread queue holds at most ERR_NUM_ERRORS (16) entries.
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Unexpected crypto_fail(std::string_view what) {
  std::string reason(what);
  const std::string ssl = drain_openssl_errors();
  if (!ssl.empty()) reason += ": " + ssl;
  return fail(ErrorCode::Crypto, std::move(reason));
}

BioPtr memory_bio(std::string_view data) {
  // Callers bound their input far below INT_MAX (kMaxKeyFileBytes, DNS record sizes).
  if (data.size() > static_cast<std::size_t>(INT_MAX)) std::abort();
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) std::abort();  // out of memory
  return bio;
}

std::string bio_contents(BIO* bio) {
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  if (n <= 0 || p == nullptr) return {};
  return std::string(p, static_cast<std::size_t>(n));
}

}  // namespace auth::crypto::internal
