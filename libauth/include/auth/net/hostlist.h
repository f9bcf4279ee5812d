// auth::net — host lists as OpenDKIM/OpenDMARC/OpenARC accept them (InternalHosts,
// ExternalIgnoreList, PeerList, IgnoreHosts, TrustedHosts). Pure logic: the caller reads the
// file; this module parses its text and answers membership questions.
//
// Entries (anchor-features §1.5):
//   192.0.2.1  [192.0.2.1]  2001:db8::1  [2001:db8::1]     single addresses
//   192.0.2.0/24  2001:db8::/32  [2001:db8::]/32            prefixes (network address form)
//   mail.example.com                                        exact host name
//   .example.com                                            any name ending in ".example.com"
//   !entry                                                  negation (exclusion)
// Matching follows OpenDKIM's probe order (util.c dkimf_checkhost / dkimf_checkip), in which
// the most specific entry wins and, at each step, the negative probe comes first:
//   host name: !host, host, !.sub.dom, .sub.dom, !.dom, .dom …; the first hit decides;
//   then, if the name gave no positive hit, the address: !ip, ip, then for prefix lengths
//   32 (128) down to 0: !net/len, net/len. File order does not matter ("first match" means
//   first in that probe order).
// Deliberate differences from OpenDKIM, each reported as a warning() when it applies:
//   * "10.0.0.1/24" (host bits set) never matched in OpenDKIM; here it means 10.0.0.0/24.
//   * IPv6 entries in non-canonical form ("2001:0db8::/32", "0:0:0:0:0:0:0:1") never matched
//     in OpenDKIM (#72); here they are canonicalised and match.
//   * "*.example.com" in a plain list never matched in OpenDKIM; here it means ".example.com".
//   * An IPv4-mapped client (::ffff:a.b.c.d) is probed as IPv6 (as OpenDKIM) and then, if no
//     entry decided, as IPv4 a.b.c.d.
//   * OpenARC compares names case-sensitively (strcmp) and keeps raw lines (no "#" comments,
//     no trimming); here every list is case-insensitive and parsed as HostListSyntax says.
//   * refile: a glob starting with "*" matched OpenDKIM's negative probe "!host" and so made
//     the host NOT a member (lab-verified quirk). Here "*" never matches a leading "!", so
//     "*.corp.example" makes a.corp.example a member, as its author meant.
// Not accepted (as in OpenDKIM, where they silently never match): netmask form
// "192.0.2.0/255.255.255.0", inet_addr shorthand "192.0.2/24". They are errors, or warnings
// and skipped under HostListOptions::lenient.
// Host names compare case-insensitively; one trailing dot is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/net/ip.h"

namespace auth::net {

/// Local policy, not RFC: bounds on what a host-list text may hold.
inline constexpr std::size_t kMaxHostListEntries = 1'000'000;
inline constexpr std::size_t kMaxHostListLineLength = 4096;
/// RFC 1035 §2.3.4: 255 octets on the wire = 253 characters of text without the root dot.
inline constexpr std::size_t kMaxHostNameLength = 253;
/// RFC 1035 §2.3.4.
inline constexpr std::size_t kMaxLabelLength = 63;

/// The value OpenDKIM uses when InternalHosts is unset (src: opendkim.h DEFINTERNAL
/// "csl:127.0.0.1,::1"; the man page mentions only 127.0.0.1). OpenARC uses the same;
/// opendmarc 1.4.2 IgnoreHosts uses 127.0.0.1 alone (kDefaultOpenDmarcIgnoreHosts).
inline constexpr std::string_view kDefaultInternalHosts = "127.0.0.1,::1";
inline constexpr std::string_view kDefaultOpenDmarcIgnoreHosts = "127.0.0.1";

/// How the text of a host list is laid out.
enum class HostListSyntax : std::uint8_t {
  /// One entry per line (opendkim file:, opendmarc IgnoreHosts, OpenARC lists). "#" starts a
  /// comment; leading blanks are skipped and the first blank ends the entry; CR is ignored.
  Lines,
  /// An inline value (opendkim csl: or a bare option value): entries separated by commas
  /// and/or blanks. Unlike OpenDKIM (#155), IPv6 entries work inline.
  Inline,
  /// A refile: file: one glob pattern per line, "*" matching any run of characters,
  /// everything else literal (case-insensitive); "!pattern" is a negative pattern. Patterns
  /// are matched against the same probe strings OpenDKIM builds (host, ".suffix", ip,
  /// "[ip]", "net/len").
  Refile,
};

struct HostListOptions {
  HostListSyntax syntax = HostListSyntax::Lines;
  /// Malformed entries become warnings and are skipped instead of failing the parse
  /// (OpenDKIM loads them and they never match). Structural errors (NUL bytes, overlong
  /// lines, too many entries) still fail.
  bool lenient = false;
};

/// A note about an accepted or skipped entry (see the deliberate differences above).
/// `line` is 1-based; for HostListSyntax::Inline it is the 1-based entry index.
struct HostListWarning {
  std::size_t line = 0;
  std::string message;
};

/// Which entry decided a match, for logs and `inkan check-config`.
struct HostListMatch {
  bool member = false;   ///< true: in the list; false: excluded or not found
  bool matched = false;  ///< an entry decided (false: no entry matched at all)
  std::size_t line = 0;  ///< line (or inline index) of the deciding entry; 0 if none
  std::string entry;     ///< the deciding entry in normalised form ("!10.0.0.0/8")
};

/// Where an opendkim-style dataset option points (man:opendkim.conf(5) DATA SETS):
/// "file:/p" or "/p" → File, "refile:/p" → Refile, "csl:a,b" or any other bare value → Inline.
/// Other dataset types (db:, dsn:, ldap:, lua:, memcache:, redis:, …) → Unsupported.
struct DatasetSpec {
  enum class Kind : std::uint8_t { Inline, File, Refile };
  Kind kind = Kind::Inline;
  std::string value;  ///< the path (File, Refile) or the inline list text (Inline)

  /// The HostListSyntax for this dataset's text.
  HostListSyntax syntax() const noexcept;
};

/// Classifies an opendkim dataset option value. Errors: Missing (empty value),
/// Unsupported (a database type we do not read), Syntax (empty path).
Result<DatasetSpec> parse_dataset_spec(std::string_view value);

/// An immutable, parsed host list. Cheap to move; copies share the parsed data.
/// Matching cost is bounded by the probe count (host-name labels + 2 × 33 or 129 address
/// probes) and is independent of the list size, except for Refile (patterns × probes).
class HostList {
 public:
  /// The empty list: matches nothing.
  HostList();

  /// Parses a host list text. Errors name the line (or inline entry index):
  /// "line 7: invalid IPv4 prefix length '33'". Errors: Syntax, Invalid, LimitExceeded.
  static Result<HostList> parse(std::string_view text, const HostListOptions& options = {});
  /// OpenDKIM's default InternalHosts (kDefaultInternalHosts): 127.0.0.1 and ::1.
  static HostList default_internal_hosts();

  /// True when the client is a member. Either argument may be absent (nullptr / empty
  /// name). A host name "[a.b.c.d]" (Postfix's form when reverse DNS failed) is not probed
  /// as a name; if `ip` is null it is used as the address. The name "unknown" is likewise
  /// not probed.
  bool match(const IpAddress* ip, std::string_view hostname) const;
  /// As match(), with the deciding entry.
  HostListMatch explain(const IpAddress* ip, std::string_view hostname) const;

  /// Number of entries kept (after lenient skipping).
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  const std::vector<HostListWarning>& warnings() const noexcept;

  struct Data;  // defined in the implementation

 private:
  explicit HostList(std::shared_ptr<const Data> data);
  std::shared_ptr<const Data> data_;
};

}  // namespace auth::net
