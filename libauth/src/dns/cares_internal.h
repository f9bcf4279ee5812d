// auth::dns::internal — the c-ares answer decoding of CaresResolver, exposed for unit tests
// and the dns_answer fuzz target (network answers are hostile input).
#pragma once

#include "auth/dns/resolver.h"

namespace auth::dns::internal {

/// Builds the Answer for a c-ares query callback: `ares_status` is the callback status
/// (ARES_SUCCESS, ARES_ENOTFOUND, ...), `abuf`/`alen` the raw response (may be null).
/// Status mapping: ENOTFOUND→NxDomain, ENODATA→NoData, ESERVFAIL/EREFUSED/ECONNREFUSED/
/// EFORMERR/ENOTIMP (and anything else)→ServFail, ETIMEOUT→Timeout, EBADRESP→Malformed.
/// Negative answers take the RFC 2308 §5 TTL from an SOA in the authority section.
Answer make_answer(int ares_status, const unsigned char* abuf, int alen, RType type);

}  // namespace auth::dns::internal
