// auth::mail domains — normalisation of domain names to lower-case A-labels.
//
// Owns: trimming, the optional root dot, ASCII case folding (RFC 1035 §2.3.3: names compare
// case-insensitively), IDNA2008 U-label → A-label conversion with libidn2 (RFC 5891 §4, UTS #46
// non-transitional processing with a transitional fallback, as browsers do), and the length and
// label checks of RFC 1035 §2.3.4 (label ≤ 63 octets, name ≤ 253 octets in text form) and the
// LDH rule of RFC 1123 §2.1 / RFC 952. DKIM selectors and `_domainkey`, `_dmarc` names need '_',
// which DomainSyntax::AllowUnderscore permits (RFC 6376 §3.6.2.1, RFC 7489 §6.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace auth::mail {

/// RFC 1035 §2.3.4 (and RFC 1034 §3.1): 255 octets on the wire = 253 characters in dotted text
/// form without the trailing dot.
inline constexpr std::size_t kMaxDomainLength = 253;
/// RFC 1035 §2.3.4: labels are 63 octets or less.
inline constexpr std::size_t kMaxLabelLength = 63;

/// Which characters an ASCII label may hold.
enum class DomainSyntax {
  Hostname,         ///< LDH: letters, digits, '-' not first or last (RFC 1123 §2.1)
  AllowUnderscore,  ///< LDH plus '_' anywhere (DKIM selectors, _domainkey, _dmarc)
};

/// Normalises a domain name: trims surrounding whitespace, strips one trailing dot, lower-cases,
/// converts U-labels to A-labels (libidn2 idn2_to_ascii_8z with IDN2_NFC_INPUT |
/// IDN2_NONTRANSITIONAL, falling back to IDN2_TRANSITIONAL), then validates with
/// validate_domain(). Pure-ASCII input skips libidn2 (existing "xn--" A-labels are kept as
/// given, lower-cased).
/// Errors: Syntax (empty, empty label, bad character, leading/trailing hyphen, IDNA rejected
/// the name), LimitExceeded (label > 63 or name > 253 octets).
/// Example: "Bücher.Example." → "xn--bcher-kva.example".
Result<std::string> normalize_domain(std::string_view name,
                                     DomainSyntax syntax = DomainSyntax::Hostname);

/// Checks an ASCII domain name (no trailing dot) against the length limits and `syntax`
/// without changing it. Errors as normalize_domain.
Result<void> validate_domain(std::string_view ascii_name,
                             DomainSyntax syntax = DomainSyntax::Hostname);

}  // namespace auth::mail
