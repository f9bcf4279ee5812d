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

/// The status ares_query would report for a response that ares_send delivered with
/// `ares_status` (c-ares 1.18 qcallback: NOERROR with answers → ARES_SUCCESS, NOERROR without
/// → ARES_ENODATA, FORMERR/SERVFAIL/NXDOMAIN/NOTIMP/REFUSED → their ARES_E* code). Anything
/// but ARES_SUCCESS, or a response shorter than a header, is returned unchanged/ARES_EBADRESP.
int status_of_reply(int ares_status, const unsigned char* abuf, int alen);

/// The AD bit (RFC 4035 §3.2.3, header octet 3, mask 0x20) of a response; false for a
/// response shorter than a header.
bool ad_bit(const unsigned char* abuf, int alen);

/// make_answer for a query sent with ares_send with the AD bit set: the status mapping of
/// status_of_reply, and Answer::authenticated = the AD bit for Ok, NxDomain and NoData answers
/// (never for a failure: a bogus answer comes back as SERVFAIL from a validating resolver).
Answer make_answer_ad(int ares_status, const unsigned char* abuf, int alen, RType type);

}  // namespace auth::dns::internal
