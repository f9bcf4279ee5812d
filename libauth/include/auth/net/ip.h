// auth::net — IP addresses and CIDR prefixes (pure logic: no sockets, no DNS).
//
// Owns: strict textual IPv4/IPv6 parsing (inet_pton rules: RFC 791 dotted quad without
// leading zeros, RFC 4291 §2.2 IPv6 text forms incl. embedded IPv4; zone ids rejected),
// canonical output (RFC 5952 §4, mixed notation of §5 for IPv4-mapped/-compatible, i.e.
// byte-identical to glibc inet_ntop), CIDR prefixes and prefix comparison (RFC 4632 §3.1,
// RFC 4291 §2.3; SPF ip4:/ip6: and dual-cidr-length, RFC 7208 §5.6, §5.3, §5.4), reverse
// lookup names (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa) and the SPF %{i}
// expansion (RFC 7208 §7.3).
//
// IPv4-mapped IPv6 rule ("rule M"), from RFC 7208 §5 ("an IPv4-mapped IPv6 IP address
// [RFC 4291 §2.5.5] MUST still be considered an IPv4 address and MUST be evaluated using
// IPv4 mechanisms"):
//   * `operator==` / `operator<=>` are exact: family and bytes (a mapped v6 is a v6).
//   * `same_host()`, `matches_prefix()` and `Cidr::contains()` with an IPv4 prefix treat
//     `::ffff:a.b.c.d` as the IPv4 address a.b.c.d.
//   * An IPv6 prefix never contains an IPv4 address (ip6:::ffff:0:0/96 does not match the
//     client 192.0.2.1); same-family comparisons are plain bit comparisons.
//   * `unmapped()` gives the IPv4 form; SPF evaluation calls it once on the client address.
//   * Host lists (hostlist.h) probe a mapped client as IPv6 first, as OpenDKIM does, then as
//     IPv4.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "auth/core/result.h"

namespace auth::net {

/// Longest accepted textual address, brackets included: "[" + 45 chars
/// (INET6_ADDRSTRLEN - 1, RFC 4291 §2.2 form 3 with embedded IPv4) + "]".
inline constexpr std::size_t kMaxIpTextLength = 47;
inline constexpr unsigned kIpv4Bits = 32;   // RFC 791 §2.3
inline constexpr unsigned kIpv6Bits = 128;  // RFC 4291 §2

enum class Family : std::uint8_t { V4, V6 };

/// An IPv4 or IPv6 address. Storage is always 16 bytes; an IPv4 address uses the first 4.
/// Default-constructed: IPv4 0.0.0.0.
class IpAddress {
 public:
  IpAddress() = default;

  /// IPv4 from four octets in network order (a.b.c.d).
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;
  /// IPv4 from a host-order 32-bit value (0xC0000201 = 192.0.2.1).
  static IpAddress v4(std::uint32_t host_order) noexcept;
  /// IPv6 from 16 bytes in network order.
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes) noexcept;
  /// From raw network-order bytes: 4 bytes → IPv4, 16 bytes → IPv6; other sizes → Invalid.
  static Result<IpAddress> from_bytes(std::span<const std::uint8_t> bytes);

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::V4; }
  bool is_v6() const noexcept { return family_ == Family::V6; }
  /// 32 or 128.
  unsigned bit_length() const noexcept { return is_v4() ? kIpv4Bits : kIpv6Bits; }
  /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
  std::span<const std::uint8_t> bytes() const noexcept {
    return {bytes_.data(), is_v4() ? std::size_t{4} : std::size_t{16}};
  }
  /// Host-order IPv4 value. Precondition: is_v4().
  std::uint32_t v4_value() const noexcept;

  /// True for an IPv6 address in ::ffff:0:0/96 (RFC 4291 §2.5.5.2).
  bool is_v4_mapped() const noexcept;
  /// The IPv4 address of a mapped IPv6 address; any other address unchanged.
  IpAddress unmapped() const noexcept;
  /// IPv4 → ::ffff:a.b.c.d; IPv6 unchanged.
  IpAddress mapped() const noexcept;
  /// 127.0.0.0/8, ::1, or a mapped 127/8.
  bool is_loopback() const noexcept;

  /// Canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, no leading zeros,
  /// longest run of >= 2 zero groups as "::", first run on a tie), with dotted low 32 bits
  /// for IPv4-mapped and IPv4-compatible addresses (RFC 5952 §5) — identical to glibc
  /// inet_ntop, which the OpenDKIM host-list probes use (anchor-features §1.5).
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) noexcept = default;
  /// Total order: all IPv4 before all IPv6, then bytewise.
  friend std::strong_ordering operator<=>(const IpAddress&, const IpAddress&) noexcept = default;

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

/// Whether an address literal may or must be enclosed in square brackets ("[::1]").
enum class Brackets : std::uint8_t { Forbid, Allow, Require };

/// Parses an IPv4 or IPv6 literal, strictly (inet_pton rules):
///   IPv4: exactly four decimal octets 0..255, no leading zeros ("01.2.3.4" is an error),
///         no shorthand ("192.0.2", "1.2.3.4.5" are errors);
///   IPv6: RFC 4291 §2.2 forms 1-3: 1..4 hex digits per group, at most one "::",
///         an embedded IPv4 only in the last 32 bits; zone ids ("fe80::1%eth0") rejected.
/// No whitespace, NUL or other bytes are tolerated. Inputs longer than kMaxIpTextLength are
/// rejected before scanning. Errors: Syntax (with the reason), LimitExceeded (overlong).
Result<IpAddress> parse_ip(std::string_view text, Brackets brackets = Brackets::Forbid);
/// As parse_ip, but only IPv4 is accepted (brackets forbidden).
Result<IpAddress> parse_ipv4(std::string_view text);
/// As parse_ip, but only IPv6 is accepted (brackets forbidden).
Result<IpAddress> parse_ipv6(std::string_view text);

/// Equality under rule M: a mapped IPv6 address equals its IPv4 address.
bool same_host(const IpAddress& a, const IpAddress& b) noexcept;

/// The address with all bits after the first `bits` cleared. `bits` is clamped to
/// bit_length().
IpAddress apply_prefix(const IpAddress& ip, unsigned bits) noexcept;

/// True when the first `bits` bits of a and b are equal (RFC 7208 §5.6 ip4/ip6 and the
/// dual-cidr-length comparison of a/mx, §5.3/§5.4). Under rule M, when one side is IPv4 and
/// the other a mapped IPv6, the mapped side is unmapped and `bits` counts IPv4 bits.
/// Different families otherwise never match. `bits` greater than the family's bit length
/// never matches; bits == 0 matches any address of the same family.
bool matches_prefix(const IpAddress& a, const IpAddress& b, unsigned bits) noexcept;

/// Host bits after the prefix length: allowed (cleared) or an error.
enum class HostBits : std::uint8_t { Clear, Reject };

/// An address prefix "network/length". The network never has host bits set.
class Cidr {
 public:
  /// 0.0.0.0/0.
  Cidr() = default;
  /// Builds a prefix. `prefix_length` > ip.bit_length() → Invalid. Host bits are cleared
  /// (HostBits::Clear) or refused with Invalid (HostBits::Reject).
  static Result<Cidr> make(const IpAddress& ip, unsigned prefix_length,
                           HostBits host_bits = HostBits::Clear);
  /// A single-address prefix (/32 or /128).
  static Cidr host(const IpAddress& ip) noexcept;

  const IpAddress& network() const noexcept { return network_; }
  unsigned prefix_length() const noexcept { return prefix_; }
  Family family() const noexcept { return network_.family(); }

  /// Membership under rule M: same family → bit comparison; an IPv4 prefix also contains
  /// the mapped form (::ffff:a.b.c.d) of its addresses; an IPv6 prefix never contains IPv4.
  bool contains(const IpAddress& ip) const noexcept;

  /// "network/length" with network in canonical form ("2001:db8::/32").
  std::string to_string() const;

  friend bool operator==(const Cidr&, const Cidr&) noexcept = default;

 private:
  IpAddress network_;
  unsigned prefix_ = 0;
};

/// Parses "address" or "address/length". Length is decimal without leading zeros
/// ("/0".."/32" or "/0".."/128", RFC 7208 §5.6 ABNF); no length means a host prefix.
/// `brackets` applies to the address part ("[2001:db8::]/32" with Allow/Require).
/// A netmask ("192.0.2.0/255.255.255.0") is not accepted: Syntax, with a hint.
/// Errors: Syntax, Invalid (length out of range, host bits under HostBits::Reject).
Result<Cidr> parse_cidr(std::string_view text, HostBits host_bits = HostBits::Clear,
                        Brackets brackets = Brackets::Forbid);

/// Parses a prefix length alone (the digits after "/", as in SPF dual-cidr-length
/// "a/24//64", RFC 7208 §5.6 ABNF): decimal, no sign, no leading zeros, at most 32 for
/// Family::V4 or 128 for Family::V6. Errors: Syntax, Invalid (out of range).
Result<unsigned> parse_prefix_length(std::string_view digits, Family family);

/// Reverse-lookup name without a trailing dot (RFC 1035 §3.5, RFC 3596 §2.5):
/// 192.0.2.1 → "1.2.0.192.in-addr.arpa"; 2001:db8::1 → "1.0.0.0.…8.b.d.0.1.0.0.2.ip6.arpa".
/// A mapped IPv6 address gets the ip6.arpa name (callers unmap first if they want in-addr).
std::string reverse_name(const IpAddress& ip);

/// The SPF %{i} macro value (RFC 7208 §7.3): dotted quad for IPv4; for IPv6 the 32 nibbles
/// in forward order, dot-separated ("2.0.0.1.0.d.b.8.0.0.0.0…0.1").
std::string spf_macro_i(const IpAddress& ip);
/// The SPF %{v} macro value (RFC 7208 §7.3): "in-addr" for IPv4, "ip6" for IPv6.
std::string_view spf_macro_v(const IpAddress& ip) noexcept;

}  // namespace auth::net
