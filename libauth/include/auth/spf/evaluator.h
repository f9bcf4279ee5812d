// auth::spf evaluator — check_host() of RFC 7208, asynchronous over dns::Resolver.
//
// Owns: identity selection (§2.3 HELO, §2.4 MAIL FROM, null sender → postmaster@HELO, §4.3
// initial processing), record lookup and selection (§4.4, §4.5: zero records → none, several
// → permerror), evaluation of every mechanism (§5) and modifier (§6), the DNS outcome mapping
// (§2.6, §4.4, §5: timeout/SERVFAIL → temperror; NXDOMAIN/NODATA → void lookups), the
// processing limits (§4.6.4), validated-PTR semantics for ptr and %{p} (§5.5), and the
// explanation (§6.2: exp= fetched and expanded only on fail; else a configurable default).
//
// Design: `Evaluation` is an explicit state machine. It never calls DNS itself; it says which
// question it needs next (`pending()`), and is resumed with the answer (`resume()`).
// include/redirect recursion is carried in an explicit frame stack capped at kMaxNestingDepth,
// so nothing recurses on input. Two drivers are provided: check_host_async() over
// Resolver::query_async (no thread blocked; callbacks may arrive inline or later) and the
// blocking check_host() over Resolver::query. Other drivers (e.g. an event loop with its own
// deadline) can drive an Evaluation directly.
#pragma once

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dns/resolver.h"

namespace auth::spf {

// ---- limits (RFC 7208 §4.6.4) -----------------------------------------------------------

/// Terms that cause DNS queries (include, a, mx, ptr, exists, redirect) per check_host().
inline constexpr std::size_t kMaxDnsMechanisms = 10;  // RFC 7208 §4.6.4 (1)
/// DNS queries of those terms that return NXDOMAIN or no answer ("void lookups").
inline constexpr std::size_t kMaxVoidLookups = 2;  // RFC 7208 §4.6.4 (2), SHOULD default
/// Names an "mx" term may look up (more → permerror).
inline constexpr std::size_t kMaxMxNames = 10;  // RFC 7208 §4.6.4 (3)
/// PTR names a "ptr" term or %{p} looks at (the rest are ignored).
inline constexpr std::size_t kMaxPtrNames = 10;  // RFC 7208 §4.6.4 (4), §5.5
/// Depth of include/redirect nesting (local policy; the 10-term limit already bounds it, this
/// is the hard cap on the frame stack, cf. rspamd SPF_MAX_NESTING_HARD).
inline constexpr std::size_t kMaxNestingDepth = 12;
/// Longest domain name after macro expansion (§7.3; longer is truncated from the left).
inline constexpr std::size_t kMaxDomainLength = 253;
/// Longest label of a domain (RFC 1035 §2.3.4; §4.3 malformed domain → none).
inline constexpr std::size_t kMaxLabelLength = 63;

// ---- results ---------------------------------------------------------------------------------

/// §2.6 results.
enum class SpfResult { None, Neutral, Pass, Fail, SoftFail, TempError, PermError };

/// RFC 8601 / RFC 7208 §8 result word: "none", "neutral", "pass", "fail", "softfail",
/// "temperror", "permerror".
const char* to_string(SpfResult r) noexcept;

/// Which identity is checked (§2.3, §2.4); the Received-SPF `identity=` value.
enum class Identity { MailFrom, Helo };
const char* to_string(Identity id) noexcept;  ///< "mailfrom" / "helo"

/// pyspf's default explanation text (what policyd-spf shows on fail when there is no exp=).
inline constexpr std::string_view kDefaultExplanation = "SPF fail - not authorized";

/// Evaluation settings. Defaults follow RFC 7208.
struct Options {
  /// Explanation for fail results when the record has no usable exp= (§6.2). Macro-expanded
  /// like an exp= text.
  std::string default_explanation = std::string(kDefaultExplanation);
  /// %{r}: the receiving host's domain (§7.2; "unknown" if unset).
  std::string receiver = "unknown";
  /// %{t}: seconds since the epoch; 0 = read the system clock when the evaluation starts.
  std::int64_t now = 0;
  /// §4.6.4 limits; may be lowered or raised by local policy (Void_Limit of policyd-spf).
  std::size_t max_dns_mechanisms = kMaxDnsMechanisms;
  std::size_t max_void_lookups = kMaxVoidLookups;
  /// Fetch and expand exp= on fail (§6.2). When false, fail gets the default explanation.
  bool fetch_explanation = true;
  /// §4.6.4: "MTAs or other processors SHOULD impose a limit on the maximum amount of elapsed
  /// time to evaluate check_host() [...] at least 20 seconds"; over it → temperror. Checked by
  /// check_host()/check_host_async() before each DNS question (a question in flight is bounded
  /// by the resolver's own timeout). 0 = no limit. policyd-spf's Lookup_Time is 20 s.
  std::chrono::milliseconds time_limit{0};
};

/// The SMTP facts of one check.
struct Request {
  std::string client_ip;  ///< <ip>: IPv4 or IPv6 text (IPv4-mapped IPv6 is treated as IPv4)
  /// MAIL FROM reverse-path without angle brackets; "" or "<>" is the null sender (§2.4:
  /// then postmaster@<helo> is checked). A missing local-part means "postmaster" (§4.3).
  std::string mail_from;
  std::string helo;  ///< HELO/EHLO argument (%{h}; the HELO identity, §2.3)
  Identity identity = Identity::MailFrom;
};

/// One step of the evaluation, for diagnosis (`inkan spf check`, debug logs).
struct TraceEntry {
  std::size_t depth = 0;       ///< 0 = the top record, 1 = inside an include/redirect, ...
  std::string domain;          ///< <domain> of the record being evaluated
  std::string term;            ///< the term as written ("" for the record lookup itself)
  std::string query;           ///< the DNS question asked, e.g. "TXT example.com" ("" if none)
  std::string outcome;         ///< what happened: "3 records", "nxdomain (void)", "match", ...
  std::size_t dns_lookups = 0;   ///< §4.6.4 DNS-querying terms used so far
  std::size_t void_lookups = 0;  ///< §4.6.4 void lookups used so far
};

/// The outcome of check_host() with everything Received-SPF / Authentication-Results need.
struct CheckResult {
  SpfResult result = SpfResult::None;
  Identity identity = Identity::MailFrom;
  std::string client_ip;  ///< as given in the Request
  std::string helo;       ///< as given in the Request
  std::string sender;     ///< <sender> checked: local@domain (postmaster@helo for null/HELO)
  std::string domain;     ///< <domain> checked (the top one, not include targets)
  /// The term that decided (e.g. "-all", "ip4:192.0.2.0/24", "include:x.example"); "default"
  /// when the record ran out of terms (§4.7); "" for none/permerror/temperror before a match.
  std::string mechanism;
  /// Why a permerror/temperror/none happened (names the term or the DNS failure), else "".
  std::string problem;
  /// Fail only: the expanded exp= text (§6.2) or the expanded default explanation; control
  /// and non-ASCII bytes (from client-supplied macro values) are replaced by '?'.
  std::string explanation;
  std::size_t dns_lookups = 0;   ///< §4.6.4 DNS-querying terms used
  std::size_t void_lookups = 0;  ///< §4.6.4 void lookups used
  std::vector<TraceEntry> trace;
};

/// A DNS question the evaluation waits for.
struct Query {
  std::string name;  ///< no trailing dot
  dns::RType type = dns::RType::TXT;
};

/// The check_host() state machine. Not thread-safe; one evaluation per object. Construction
/// runs until the first DNS question (or the end, if none is needed).
///
///   Evaluation ev(request, options);
///   while (!ev.done()) ev.resume(resolver.query(ev.pending().name, ev.pending().type));
///   use(ev.result());
class Evaluation {
 public:
  Evaluation(Request request, Options options = {});
  ~Evaluation();
  Evaluation(Evaluation&&) noexcept;
  Evaluation& operator=(Evaluation&&) noexcept;
  Evaluation(const Evaluation&) = delete;
  Evaluation& operator=(const Evaluation&) = delete;

  /// True once the result is final.
  bool done() const noexcept;
  /// The question to answer next. Precondition: !done().
  const Query& pending() const;
  /// Feeds the answer to pending() and runs until the next question or the end.
  /// Precondition: !done().
  void resume(dns::Answer answer);
  /// Ends the evaluation now with temperror and `why` as the problem (the elapsed-time limit
  /// of §4.6.4, a shutting-down daemon). The pending question is abandoned; a later resume()
  /// is ignored. When the result is already known (fail, waiting for its exp= text) it stays
  /// fail with the default explanation. No-op when done().
  void expire(std::string why);
  /// The result. Precondition: done().
  const CheckResult& result() const&;
  CheckResult&& result() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using Completion = std::function<void(CheckResult)>;

/// Runs check_host() over `resolver.query_async`; `done` is called exactly once, inline if
/// every answer comes inline (ZoneResolver, cache hits), otherwise from the thread that runs
/// the resolver's callbacks. No thread is blocked; inline answers do not deepen the stack.
/// `resolver` must outlive the evaluation (until `done` has been called).
void check_host_async(dns::Resolver& resolver, Request request, Options options,
                      Completion done);

/// Blocking convenience: runs check_host() over `resolver.query`.
CheckResult check_host(dns::Resolver& resolver, const Request& request,
                       const Options& options = {});

}  // namespace auth::spf
