// auth::dns — the DNS interface every evaluator (DKIM key, SPF, DMARC, ARC) runs against.
//
// Answers keep the outcome apart, as Postfix keeps DNS_RETRY apart from DNS_NOTFOUND:
// NXDOMAIN ≠ NODATA ≠ SERVFAIL ≠ timeout ≠ malformed, because RFC 7208 §5/§2.6, RFC 6376
// §6.1.2 and RFC 7489 §6.6.3 map them to different results (none/permerror vs temperror).
//
// Answers also carry the AD bit of a validating resolver (RFC 4035 §3.2.3, RFC 6840 §5.7-5.8),
// the way Postfix trusts it for DANE: libauth does no DNSSEC validation of its own.
//
// Implementations: CaresResolver (production, c-ares), CachingResolver (TTL cache in front of
// any resolver, RFC 2308 negative caching), ZoneResolver (in-memory, for tests and `--zone`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auth::dns {

/// Record types libauth asks for. CNAMEs are followed by the resolver, never returned.
enum class RType : std::uint16_t { A = 1, CNAME = 5, PTR = 12, MX = 15, TXT = 16, AAAA = 28 };

/// Negative TTL used when an NXDOMAIN/NODATA answer carries no SOA to take it from
/// (RFC 2308 §5 takes it from the SOA's TTL and MINIMUM; local policy otherwise: 5 minutes).
inline constexpr std::uint32_t kDefaultNegativeTtl = 300;

/// The outcome of one query.
enum class Status {
  Ok,         ///< at least one record of the asked type
  NxDomain,   ///< RCODE 3: the name does not exist
  NoData,     ///< the name exists, no record of that type (RFC 2308 §2.2)
  ServFail,   ///< RCODE 2 or another failure of the server/upstream (REFUSED, FORMERR...)
  Timeout,    ///< no answer within the configured time and retries
  Malformed,  ///< an answer came but could not be parsed
};

const char* to_string(Status s) noexcept;
const char* to_string(RType t) noexcept;
/// The RType named by `text` ("TXT", "txt", "Aaaa"...); std::nullopt for anything else.
std::optional<RType> parse_rtype(std::string_view text) noexcept;

/// True for the outcomes that mean "try again later" (temperror in SPF/DKIM/DMARC).
inline bool is_temporary(Status s) noexcept {
  return s == Status::ServFail || s == Status::Timeout || s == Status::Malformed;
}

/// One TXT resource record: its character-strings as sent, and their concatenation
/// (RFC 6376 §3.6.2.2 and RFC 7208 §3.3 join them with no separator).
struct TxtRecord {
  std::vector<std::string> strings;
  std::string joined() const;
  friend bool operator==(const TxtRecord&, const TxtRecord&) = default;
};

/// One MX resource record. `exchange` is lower-case without the trailing dot; "" is a null MX.
struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;
  friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

/// The answer to one question. Only the vector for the asked type is filled:
/// A/AAAA -> `addresses` (textual, inet_ntop form, e.g. "192.0.2.1", "2001:db8::1"),
/// PTR -> `names` (lower-case, no trailing dot), MX -> `mx`, TXT -> `txt`.
struct Answer {
  Status status = Status::ServFail;
  std::uint32_t ttl = 0;  ///< seconds; for NXDOMAIN/NODATA the negative TTL (RFC 2308 §5)
  std::vector<std::string> addresses;
  std::vector<std::string> names;
  std::vector<MxRecord> mx;
  std::vector<TxtRecord> txt;
  std::string error;  ///< human text for ServFail/Timeout/Malformed
  /// The AD bit of the answer (RFC 4035 §3.2.3): the resolver validated every RRset of the
  /// answer and authority sections with DNSSEC. Only a resolver asked to request and trust it
  /// sets it (CaresResolver::Options::request_ad, RFC 6840 §5.7); it is worth what the path to
  /// that resolver is worth (RFC 4035 §4.9.3, RFC 6840 §5.8: a resolver on loopback). A bogus
  /// answer never arrives with AD: a validating resolver answers it with SERVFAIL.
  bool authenticated = false;

  bool ok() const noexcept { return status == Status::Ok; }
  static Answer with_status(Status s, std::string why = {}) {
    Answer a;
    a.status = s;
    a.error = std::move(why);
    return a;
  }
};

using Callback = std::function<void(Answer)>;

/// The resolver interface (Envoy's DnsResolver shape).
///
/// `query_async` may call `cb` inline (cache hit, in-memory zone) or later, from whichever
/// thread drives the implementation's event loop (see CaresResolver::process). `query` is the
/// blocking convenience for callers that run on their own thread (milter threads); every
/// implementation makes it safe to call from several threads at once.
/// Names are given without the trailing dot; case does not matter.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual void query_async(std::string_view name, RType type, Callback cb) = 0;
  virtual Answer query(std::string_view name, RType type) = 0;
};

}  // namespace auth::dns
