// auth::policy SPF — postfix-policyd-spf-python's decisions, as a pure asynchronous engine
// (anchor-features.md §5.3–§5.5; spf_engine._spfcheck and the policyd-spf main loop).
//
// Owns: reading a policy request the way policyd-spf does (values lower-cased except
// protocol_state, protocol_name and queue_id; an empty recipient is "none"; the recipient
// reduced to its domain, or "<UNKNOWN>" with Hide_Receiver), the bypasses in order
// (skip_addresses, Whitelist, Domain_Whitelist, HELO_Whitelist, Domain_Whitelist_PTR), the
// HELO check then the MAIL FROM check (RFC 7208 §2.3, §2.4), the HELO_reject/Mail_From_reject/
// PermError_reject/TempError_Defer/Reject_Not_Pass_Domains/No_Mail/*_pass_restriction tables,
// the exact Received-SPF / Authentication-Results / X-Comment header text, the reject/defer text
// (Reason_Message, RFC 7372 codes 5.7.23 / 5.7.24 / 4.7.24), TestOnly, Prospective, Mock,
// Header_Type None, and the per-message cache keyed on `instance` (the first RCPT decides,
// later ones get dunno after a prepend, else the same reject/defer).
//
// Per_User (man:policyd-spf.peruser(5), anchor-features.md §5.6): a recipient with a line in
// the Per_User file is decided with that line's settings, always afresh, and its decision is
// not remembered (as policyd-spf does); the first decision made with the global settings is
// what later global recipients get. A header is prepended at most once per instance (unlike
// policyd-spf, which can prepend twice when a per-user recipient comes first).
//
// DNS goes through dns::Resolver::query_async; the clock is injected; Lookup_Time and
// Whitelist_Lookup_Time are enforced by the owner calling check_deadline() (an event loop does
// it when deadline() passes). Nothing here blocks, logs or touches a socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/config/spf.h"
#include "auth/dns/resolver.h"
#include "auth/policy/protocol.h"
#include "auth/spf/evaluator.h"

namespace auth::policy {

/// Instances remembered per cache (one cache per policy connection, i.e. per smtpd process,
/// which handles one message at a time: only the current instance matters). policyd-spf keeps
/// every instance for the life of the process; we keep the most recent ones. Local policy.
inline constexpr std::size_t kMaxCachedInstances = 32;
/// The Why? URL policyd-spf appends to reject/defer texts.
inline constexpr std::string_view kWhyUrlBase = "http://www.openspf.net/Why?";

/// The request facts policyd-spf uses, normalised as it normalises them.
struct SpfPolicyInput {
  std::optional<std::string> client_address;
  std::optional<std::string> helo_name;  ///< as sent (lower-cased); may be absent or empty
  std::optional<std::string> sender;     ///< "" = null sender; absent = not sent
  /// domain, "none", or "<UNKNOWN>" (Hide_Receiver); with Per_User set, the whole address
  /// (policyd_spf.py then neither reduces it to its domain nor hides it).
  std::string recipient = "none";
  std::string instance;
  std::string queue_id;                  ///< case kept

  /// From a policy request (anchor-features.md §5.1).
  static SpfPolicyInput from_request(const Request& r, const config::SpfSettings& s);
};

/// What policyd-spf decided, before the final mapping to an action line.
enum class Decision { None, Dunno, Prepend, Reject, Defer, ResultOnly };
const char* to_string(Decision d) noexcept;

/// A per-instance memory entry (spf_engine's instance_dict value).
struct CachedDecision {
  Decision decision = Decision::None;
  std::string text;  ///< header (prepend), reason (reject/defer), restriction name (result_only)
  /// The global settings the decision was made with; null when only per-user recipients were
  /// decided so far (decision None). Reused only by a recipient using these same settings.
  std::shared_ptr<const config::SpfSettings> settings;
  /// A header was already prepended for this instance (by any recipient).
  bool prepended = false;
};

/// Bounded per-connection memory of decisions, keyed on `instance` (FIFO eviction).
class InstanceCache {
 public:
  explicit InstanceCache(std::size_t max_entries = kMaxCachedInstances) : max_(max_entries) {}
  const CachedDecision* find(const std::string& instance) const;
  void put(const std::string& instance, CachedDecision d);
  std::size_t size() const noexcept { return map_.size(); }

 private:
  std::size_t max_;
  std::unordered_map<std::string, CachedDecision> map_;
  std::list<std::string> order_;
};

/// The outcome of one request.
struct SpfVerdict {
  /// The `action=` value, exactly as policyd-spf writes it ("prepend Received-SPF: ...",
  /// "550 5.7.23 Message rejected due to: ...", "defer_if_permit 4.7.24 ...", "dunno", or a
  /// restriction class name).
  std::string action;
  Decision decision = Decision::None;  ///< before TestOnly / Prospective / Header_Type None
  std::optional<spf::SpfResult> helo_result;
  std::optional<spf::SpfResult> mail_from_result;
  std::string bypass;     ///< "skip_addresses", "Whitelist", ... when a bypass matched
  bool from_cache = false;  ///< answered from the instance cache (a later RCPT)
  bool timed_out = false;   ///< a Lookup_Time / Whitelist_Lookup_Time expired
  std::size_t per_user_line = 0;  ///< the Per_User file line used; 0 = the global settings
  /// Store this under the instance (set when policyd-spf stores into instance_dict).
  std::optional<CachedDecision> store;
  /// Explanation / problem texts of the checks, for the log.
  std::string detail;
};

/// Host facts the engine needs.
struct SpfPolicyEnv {
  std::string hostname = "localhost";  ///< receiver for %{r}; Authserv_Id when unset
  std::function<std::chrono::steady_clock::time_point()> now;  ///< empty = steady_clock::now
};

/// One request being decided. Create with start(); the completion runs exactly once (inline if
/// nothing had to wait). Keep the returned pointer to drive deadlines; dropping it is allowed
/// (pending DNS callbacks hold the check alive until they arrive).
class SpfPolicyCheck : public std::enable_shared_from_this<SpfPolicyCheck> {
 public:
  using Completion = std::function<void(SpfVerdict)>;

  /// Starts deciding `input`. `settings` (the global ones) is shared so a reload cannot pull it
  /// away; the recipient's Per_User line, if any, replaces them for this check. `cached` is
  /// what the cache holds for the instance (nullptr if nothing). `resolver` must outlive the
  /// check (until the completion ran and the DNS callbacks drained).
  static std::shared_ptr<SpfPolicyCheck> start(std::shared_ptr<const config::SpfSettings> settings,
                                               SpfPolicyEnv env, dns::Resolver& resolver,
                                               SpfPolicyInput input, const CachedDecision* cached,
                                               Completion done);

  /// True once the completion has run.
  bool done() const noexcept { return done_; }
  /// When the current DNS step times out (Lookup_Time per SPF scope, Whitelist_Lookup_Time per
  /// whitelist lookup); nullopt when nothing waits.
  std::optional<std::chrono::steady_clock::time_point> deadline() const;
  /// If the deadline passed: gives up the current step (SPF scope → temperror "DNS timeout";
  /// whitelist lookup → no match) and carries on. Returns true when something expired.
  bool check_deadline();

  struct Impl;
  explicit SpfPolicyCheck(std::unique_ptr<Impl> impl);
  ~SpfPolicyCheck();

 private:
  std::unique_ptr<Impl> impl_;
  bool done_ = false;
  friend struct Impl;
};

/// The reply text for a later RCPT of a cached instance (spf_engine: a prepended header gives
/// dunno; anything else repeats the cached decision, with the non-error reject code).
SpfVerdict verdict_from_cache(const config::SpfSettings& s, const CachedDecision& c);

/// Python str.format of Reason_Message with {rejectdefer}, {spf}, {url}; "{{" / "}}" are
/// literal braces; any other field is left as written.
std::string format_reason_message(std::string_view pattern, std::string_view rejectdefer,
                                  std::string_view spf, std::string_view url);

/// pyspf's explanation text for a result (the third value of spf.query.check()): the exp=
/// text on fail, "SPF Permanent Error: <problem>", "SPF Temporary Error: <problem>", or the
/// fixed words of auth::spf::result_comment().
std::string pyspf_explanation(const spf::CheckResult& r);

}  // namespace auth::policy
