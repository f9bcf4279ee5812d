// auth::spf record syntax — the parsed form of one "v=spf1" TXT record (RFC 7208 §4.5, §4.6,
// §5, §6, §12 ABNF).
//
// Owns: recognising an SPF record among a name's TXT records (§4.5), splitting it into terms
// (§4.6.1), mechanisms with qualifiers and dual-cidr-lengths (§4.6.2, §5), the modifiers
// redirect= and exp= (each at most once, §6) and unknown modifiers (kept, ignored, §6).
// Macro-strings are syntax-checked here (§7.1) but expanded only by the evaluator.
// Pure: no DNS, no allocation beyond the returned value; no recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::spf {

/// Longest SPF record text we parse (local policy, not RFC: the joined TXT strings of one RR
/// are at most 64 KiB on the wire; RFC 7208 §3.4 asks publishers to stay under 450 octets).
inline constexpr std::size_t kMaxRecordLength = 64 * 1024;

/// Most terms one record may hold (local policy, not RFC; a record this long would exceed the
/// §4.6.4 lookup limit long before in any useful evaluation).
inline constexpr std::size_t kMaxTerms = 1024;

/// §4.6.2 qualifiers; the character is the one written in the record.
enum class Qualifier : char { Pass = '+', Fail = '-', SoftFail = '~', Neutral = '?' };

/// §5 mechanisms.
enum class MechanismKind { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

const char* to_string(MechanismKind kind) noexcept;  ///< "all", "include", ... (lower case)

/// One mechanism term.
struct Mechanism {
  Qualifier qualifier = Qualifier::Pass;
  MechanismKind kind = MechanismKind::All;
  /// The domain-spec macro-string (include, exists: required; a, mx, ptr: optional, "" means
  /// the current <domain>). Unexpanded; syntax already checked (§7.1).
  std::string domain_spec;
  /// ip4/ip6: the network address exactly as written (validated at parse time).
  std::string address;
  /// ip4-cidr-length / ip6-cidr-length (§5.6); for ip4 only cidr4 counts, for ip6 only cidr6,
  /// for a and mx both (dual-cidr-length).
  std::uint8_t cidr4 = 32;
  std::uint8_t cidr6 = 128;
  /// The term as written in the record (e.g. "-ip4:192.0.2.0/24"), for traces and the
  /// Received-SPF `mechanism=` key.
  std::string text;

  /// True for the terms that count against the §4.6.4 limit of 10 DNS-querying terms.
  bool queries_dns() const noexcept;
};

/// A modifier other than redirect= and exp= (§6: "unrecognized modifiers MUST be ignored").
struct Modifier {
  std::string name;   ///< as written (names compare case-insensitively)
  std::string value;  ///< the macro-string, unexpanded
};

/// One parsed SPF record.
struct Record {
  std::vector<Mechanism> mechanisms;     ///< in record order (§4.6.2: evaluated left to right)
  std::optional<std::string> redirect;   ///< redirect= domain-spec (§6.1)
  std::optional<std::string> exp;        ///< exp= domain-spec (§6.2)
  std::vector<Modifier> unknown_modifiers;
};

/// True when `txt` (the joined strings of one TXT RR) is an SPF version 1 record: it starts
/// with "v=spf1" (case-insensitive) followed by a space or the end of the text (§4.5).
bool is_spf_record(std::string_view txt) noexcept;

/// Parses one SPF record (§4.6, §12 ABNF). The input starts with the version section.
/// Errors (all permerror per §4.6, the reason names the offending term):
///  - ErrorCode::Syntax: not "v=spf1", an unknown mechanism, a malformed term, address,
///    CIDR length, domain-spec or macro, a non-ASCII or control character;
///  - ErrorCode::Duplicate: redirect= or exp= given twice (§6);
///  - ErrorCode::LimitExceeded: more than kMaxRecordLength octets or kMaxTerms terms.
Result<Record> parse_record(std::string_view txt);

/// Checks a domain-spec as §4.6.1/§7.1 require after the macro-string: it must end in a
/// macro-expand or a toplabel. Used by parse_record; exposed for the fuzz target and tests.
Result<void> check_domain_spec(std::string_view domain_spec);

}  // namespace auth::spf
