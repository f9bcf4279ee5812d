// inkan-dkim core — the pure half of the DKIM milter (no libmilter): the sign-or-verify
// decision (anchor-features.md §2.4), the Authentication-Results value in OpenDKIM's exact
// form (§2.6; RFC 8601 §2.2, §2.7.1, RFC 6008 header.b), the forged-AR test (RFC 8601 §5),
// and the On-* action table with OpenDKIM's reply texts (§2.7, dkimf_libstatus).
// Unit-tested without a daemon (milters/dkim/tests).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/dkim.h"
#include "auth/dkim/result.h"
#include "auth/net/hostlist.h"
#include "auth/net/ip.h"
#include "common/action.h"

namespace inkan::dkim {

/// OpenDKIM's header folding margin (libopendkim DKIM_HDRMARGIN).
inline constexpr std::size_t kHeaderMargin = 75;

/// The parsed host lists of a configuration (built once per load).
struct HostLists {
  auth::net::HostList internal;
  auth::net::HostList external_ignore;
  auth::net::HostList peers;
};
/// Parses the three host lists. Errors name the list: "InternalHosts: line 3: ...".
auth::Result<HostLists> build_host_lists(const auth::config::DkimSettings& s);

/// What the MTA told us about the client and the transaction.
struct Origin {
  std::optional<auth::net::IpAddress> ip;
  std::string hostname;     ///< verified name or "[192.0.2.1]"
  std::string auth_type;    ///< {auth_type} (empty: not authenticated)
  std::string auth_authen;  ///< {auth_authen}
  std::string daemon_name;  ///< {daemon_name}
  /// Values of MacroList macros, name as configured → value (absent = not sent).
  std::vector<std::pair<std::string, std::string>> macros;
};

/// originok of §2.4, with the reason for LogWhy.
struct OriginDecision {
  bool internal = false;
  std::string why;  ///< "internal host", "authenticated (PLAIN)", "MTA 'ORIGINATING'", or
                    ///< "<host> [<ip>] not internal; not authenticated"
};
OriginDecision decide_origin(const auth::config::DkimSettings& s, const HostLists& hosts,
                             const Origin& o);

/// DontSignMailTo: true when any recipient (lower-cased "user@domain", angle brackets
/// stripped) matches an entry: the address, its domain, or a ".parent" suffix of the domain.
bool dont_sign_to(const std::vector<std::string>& list, const std::vector<std::string>& rcpts);
/// ExemptDomains: the domain, or a ".parent" entry covering it.
bool domain_listed(const std::vector<std::string>& list, std::string_view domain);

/// How a verification outcome is classified for the On-* table.
enum class Outcome { Pass, NoSignature, BadSignature, SyntaxError, KeyNotFound, KeyRevoked,
                     DnsError, Security, Internal, SignatureError };

/// The outcome that decides the message: pass if any checked signature passed, else the
/// first checked signature's problem, top down (OpenDKIM reports the first).
Outcome classify(const std::vector<auth::dkim::SignatureResult>& results);

/// The configured On-* action for an outcome.
auth::config::DkimAction action_for(const auth::config::DkimActions& a, Outcome o);

/// The milter Action for a DkimAction and outcome, with OpenDKIM's replies (§2.7):
/// reject → 550 5.7.0 <text>; tempfail → 451 4.7.5 <text> for key failures, 451 4.7.0
/// otherwise; a revoked key rejected without text. Accept/Quarantine → Action::accept() /
/// Action::quarantine(text) (the caller still adds its headers).
milter::Action milter_action(auth::config::DkimAction a, Outcome o);

/// The reply text for an outcome ("bad DKIM signature data", "DKIM key retrieval failed" ...).
std::string_view reply_text(Outcome o) noexcept;

/// Options for the Authentication-Results value.
struct ArOptions {
  std::string authserv_id;  ///< already with "/jobid" when AuthservIDWithJobID
  bool header_b = true;     ///< !NoHeaderB
  /// Add "; unprotected" to the key-size comment (OpenDKIM with libunbound and no DNSSEC).
  bool unprotected = true;
  auth::config::KeyTrustAction unprotected_key = auth::config::KeyTrustAction::None;
  std::size_t name_length = 22;  ///< "Authentication-Results" (for the folding margin)
};

/// One "dkim=..." clause for a signature, as OpenDKIM writes it; empty for signatures that
/// were not checked (beyond MaximumSignaturesToVerify).
std::string format_ar_clause(const auth::dkim::SignatureResult& r, const ArOptions& o);

/// The header value (without the leading space) "id;\n\tdkim=pass (...) ...": clauses joined
/// by ';', each clause on its own "\n\t" line when the running line would pass the margin.
/// No results → "id; dkim=none".
std::string format_ar_value(const std::vector<auth::dkim::SignatureResult>& results,
                            const ArOptions& o);

/// The authserv-id of an Authentication-Results value (RFC 8601 §2.2): the first token,
/// CFWS and a version number skipped; empty if none.
std::string ar_authserv_id(std::string_view value);
/// True when an existing AR field must be deleted before ours (RFC 8601 §5; OpenDKIM: ours
/// with a dkim result; RemoveARAll: ours whatever the method; RemoveARFrom: listed hosts or
/// ".domain" suffixes).
bool should_remove_ar(std::string_view value, std::string_view our_id,
                      const auth::config::DkimSettings& s);

/// A generated field ("DKIM-Signature: v=1; ...", CRLF folding) → (name, milter value with
/// LF folding, without the leading space). nullopt when it is not "Name: value".
std::optional<std::pair<std::string, std::string>> split_field(std::string_view field);

}  // namespace inkan::dkim
