// auth::spf macros — expansion of SPF macro-strings (RFC 7208 §7).
//
// Owns: the macro letters s l o d i p h c r t v (§7.2; c, r, t only in explanations, §7.3),
// transformers (digits = keep the right-most labels, `r` = reverse, §7.3), delimiters
// (. - + , / _ =), upper-case letters URL-escaped (§7.3), %% %_ %-, the IPv6 nibble form of
// %{i} (§7.3) and the `in-addr`/`ip6` value of %{v} (§7.2).
// Pure: the validated domain for %{p} is computed by the evaluator (it needs DNS) and handed
// in; no recursion, output bounded by kMaxMacroOutput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace auth::spf {

/// Largest expansion we produce (local policy: the RFC bounds only domain names, §7.3: 253
/// octets after truncation; explanations are one TXT record, at most 64 KiB).
inline constexpr std::size_t kMaxMacroOutput = 64 * 1024;

/// Where a macro-string appears: domain-specs allow neither c, r nor t (§7.1 last paragraph).
enum class MacroMode { Domain, Explanation };

/// The values the macro letters stand for (§7.2).
struct MacroContext {
  std::string sender;            ///< %{s}: <sender>, "local@domain"
  std::string local_part;        ///< %{l}: local-part of <sender>
  std::string sender_domain;     ///< %{o}: domain of <sender>
  std::string domain;            ///< %{d}: the current <domain>
  std::string client_ip;         ///< %{i}, %{c}, %{v}: <ip> as text (IPv4 or IPv6)
  std::string helo;              ///< %{h}: HELO/EHLO domain
  std::string validated_domain = "unknown";  ///< %{p} (§5.5 validation done by the caller)
  std::string receiver = "unknown";          ///< %{r} (§7.2: "unknown" when not known)
  std::int64_t timestamp = 0;                ///< %{t}: seconds since the epoch
};

/// Checks the syntax of a macro-string (§7.1): every `%` starts %%, %_, %- or a well-formed
/// %{letter digits r delimiters}; letters valid for `mode`. Error: ErrorCode::Syntax.
Result<void> check_macro_string(std::string_view input, MacroMode mode);

/// True when `input` uses %{p} (so the evaluator must first find the validated domain, §5.5).
bool uses_validated_domain(std::string_view input) noexcept;

/// Expands a macro-string (§7.3, §7.4). In MacroMode::Domain the caller still applies the
/// 253-octet truncation (§7.3 last paragraph) — see truncate_domain(). Errors:
/// ErrorCode::Syntax (malformed macro, letter not allowed in `mode`, %{i}/%{c}/%{v} with an
/// unparsable client_ip), ErrorCode::LimitExceeded (output over kMaxMacroOutput).
Result<std::string> expand_macros(std::string_view input, const MacroContext& ctx,
                                  MacroMode mode);

/// §7.3: "When the result of macro expansion is used in a domain name query, if the expanded
/// domain name exceeds 253 characters, the left side is truncated to fit, by removing
/// successive domain labels (and their following dots) until the total length does not
/// exceed 253 characters." A trailing dot is removed first.
std::string truncate_domain(std::string_view domain);

/// The dotted form %{i} gives for `ip`: IPv4 as is, IPv6 as 32 dot-separated nibbles
/// (§7.3). An empty string if `ip` does not parse.
std::string macro_ip_form(std::string_view ip);

}  // namespace auth::spf
