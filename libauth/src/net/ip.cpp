// IP address parsing, formatting and prefix arithmetic (see auth/net/ip.h).
#include "auth/net/ip.h"

#include <cstring>

#include "net/net_internal.h"

namespace auth::net {
namespace {

using internal::quote;

constexpr std::size_t kIpv6Groups = 8;          // RFC 4291 §2.2
constexpr std::size_t kMaxHexDigitsPerGroup = 4;  // RFC 4291 §2.2 item 1
constexpr std::size_t kMaxIpv4Text = 15;        // "255.255.255.255"

bool is_hex(char c) noexcept {
  return internal::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
unsigned hex_value(char c) noexcept {
  if (internal::is_digit(c)) return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  return static_cast<unsigned>(c - 'A' + 10);
}

// Strict dotted quad (inet_pton AF_INET): four decimal octets, no leading zeros.
// Returns an empty string on success, else the reason.
std::string parse_v4_octets(std::string_view text, std::uint8_t out[4]) {
  if (text.size() > kMaxIpv4Text) return "IPv4 address too long: " + quote(text);
  std::size_t part = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    while (i < text.size() && internal::is_digit(text[i])) ++i;
    const std::string_view digits = text.substr(start, i - start);
    if (digits.empty()) return "IPv4 address needs a number in each of 4 parts: " + quote(text);
    if (digits.size() > 1 && digits[0] == '0') {
      return "leading zero in IPv4 octet (ambiguous octal): " + quote(text);
    }
    unsigned value = 0;
    if (!internal::parse_decimal(digits, 255, false, value)) {
      return "IPv4 octet greater than 255: " + quote(text);
    }
    out[part++] = static_cast<std::uint8_t>(value);
    if (i == text.size()) break;
    if (text[i] != '.') return "invalid character in IPv4 address: " + quote(text);
    if (part == 4) return "IPv4 address has more than 4 parts: " + quote(text);
    ++i;
  }
  if (part != 4) return "IPv4 address has fewer than 4 parts: " + quote(text);
  return {};
}

// Strict IPv6 text (inet_pton AF_INET6; RFC 4291 §2.2 forms 1-3).
std::string parse_v6_bytes(std::string_view text, std::array<std::uint8_t, 16>& out) {
  std::uint16_t words[kIpv6Groups] = {};
  std::size_t count = 0;                       // groups written so far
  std::size_t compress = kIpv6Groups + 1;      // index where "::" stands; none
  std::size_t i = 0;
  const std::size_t n = text.size();

  if (n == 0) return "empty IPv6 address";
  if (text.find('%') != std::string_view::npos) {
    return "IPv6 zone identifiers are not accepted: " + quote(text);
  }
  if (text[0] == ':') {
    if (n < 2 || text[1] != ':') return "IPv6 address starts with a single ':': " + quote(text);
    compress = 0;
    i = 2;
    if (i == n) {
      // "::" — all zeros.
      out.fill(0);
      return {};
    }
  }
  while (i < n) {
    const std::size_t start = i;
    while (i < n && is_hex(text[i])) ++i;
    const std::size_t digits = i - start;
    if (i < n && text[i] == '.') {
      // Embedded IPv4 in the last 32 bits (RFC 4291 §2.2 item 3).
      if (count > kIpv6Groups - 2) return "no room for embedded IPv4 in " + quote(text);
      std::uint8_t v4[4];
      if (std::string err = parse_v4_octets(text.substr(start), v4); !err.empty()) {
        return "bad embedded IPv4 in IPv6 address " + quote(text) + ": " + err;
      }
      words[count++] = static_cast<std::uint16_t>((v4[0] << 8) | v4[1]);
      words[count++] = static_cast<std::uint16_t>((v4[2] << 8) | v4[3]);
      i = n;
      break;
    }
    if (digits == 0) return "empty or invalid group in IPv6 address " + quote(text);
    if (digits > kMaxHexDigitsPerGroup) return "IPv6 group longer than 4 hex digits: " + quote(text);
    if (count == kIpv6Groups) return "IPv6 address has more than 8 groups: " + quote(text);
    unsigned w = 0;
    for (std::size_t k = start; k < i; ++k) w = (w << 4) | hex_value(text[k]);
    words[count++] = static_cast<std::uint16_t>(w);
    if (i == n) break;
    if (text[i] != ':') return "invalid character in IPv6 address " + quote(text);
    ++i;
    if (i < n && text[i] == ':') {
      if (compress <= kIpv6Groups) return "more than one '::' in IPv6 address " + quote(text);
      compress = count;
      ++i;
      if (i == n) break;  // trailing "::"
    } else if (i == n) {
      return "IPv6 address ends with a single ':': " + quote(text);
    }
  }

  if (compress <= kIpv6Groups) {
    // "::" stands for at least one zero group (RFC 4291 §2.2 item 2; inet_pton agrees).
    if (count >= kIpv6Groups) return "'::' with 8 groups already present: " + quote(text);
    const std::size_t tail = count - compress;
    const std::size_t gap = kIpv6Groups - count;
    for (std::size_t k = 0; k < tail; ++k) {
      words[kIpv6Groups - 1 - k] = words[count - 1 - k];
    }
    for (std::size_t k = 0; k < gap; ++k) words[compress + k] = 0;
  } else if (count != kIpv6Groups) {
    return "IPv6 address has fewer than 8 groups and no '::': " + quote(text);
  }
  for (std::size_t k = 0; k < kIpv6Groups; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(words[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(words[k] & 0xff);
  }
  return {};
}

Result<std::string_view> strip_brackets(std::string_view text, Brackets brackets) {
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    if (brackets == Brackets::Forbid) {
      return fail(ErrorCode::Syntax, "brackets not allowed around address " + quote(text));
    }
    if (text.size() < 2 || text.back() != ']') {
      return fail(ErrorCode::Syntax, "unbalanced '[' in address " + quote(text));
    }
    return text.substr(1, text.size() - 2);
  }
  if (brackets == Brackets::Require) {
    return fail(ErrorCode::Syntax, "address must be enclosed in '[' ']': " + quote(text));
  }
  return text;
}

enum class Want { Any, V4, V6 };

Result<IpAddress> parse_impl(std::string_view text, Brackets brackets, Want want) {
  if (text.size() > kMaxIpTextLength) {
    return fail(ErrorCode::LimitExceeded, "address text longer than " +
                                              std::to_string(kMaxIpTextLength) + " characters");
  }
  auto inner = strip_brackets(text, brackets);
  if (!inner) return fail(std::move(inner).error());
  const std::string_view body = *inner;
  if (body.empty()) return fail(ErrorCode::Syntax, "empty address");
  const bool looks_v6 = body.find(':') != std::string_view::npos;
  if (looks_v6) {
    if (want == Want::V4) return fail(ErrorCode::Syntax, "expected an IPv4 address, got " + quote(text));
    std::array<std::uint8_t, 16> bytes{};
    if (std::string err = parse_v6_bytes(body, bytes); !err.empty()) {
      return fail(ErrorCode::Syntax, std::move(err));
    }
    return IpAddress::v6(bytes);
  }
  if (want == Want::V6) return fail(ErrorCode::Syntax, "expected an IPv6 address, got " + quote(text));
  std::uint8_t o[4];
  if (std::string err = parse_v4_octets(body, o); !err.empty()) {
    return fail(ErrorCode::Syntax, std::move(err));
  }
  return IpAddress::v4(o[0], o[1], o[2], o[3]);
}

// Same-family comparison of the first `bits` bits.
bool raw_prefix_equal(const IpAddress& a, const IpAddress& b, unsigned bits) noexcept {
  const auto x = a.bytes();
  const auto y = b.bytes();
  const std::size_t whole = bits / 8;
  if (std::memcmp(x.data(), y.data(), whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
  return (x[whole] & mask) == (y[whole] & mask);
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

// ---------------------------------------------------------------------------------------
// IpAddress

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
  IpAddress ip;
  ip.family_ = Family::V4;
  ip.bytes_[0] = a;
  ip.bytes_[1] = b;
  ip.bytes_[2] = c;
  ip.bytes_[3] = d;
  return ip;
}

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept {
  return v4(static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
            static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order));
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  IpAddress ip;
  ip.family_ = Family::V6;
  ip.bytes_ = bytes;
  return ip;
}

Result<IpAddress> IpAddress::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() == 4) return v4(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (bytes.size() == 16) {
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), bytes.data(), 16);
    return v6(b);
  }
  return fail(ErrorCode::Invalid,
              "address must be 4 or 16 bytes, got " + std::to_string(bytes.size()));
}

std::uint32_t IpAddress::v4_value() const noexcept {
  return (static_cast<std::uint32_t>(bytes_[0]) << 24) | (static_cast<std::uint32_t>(bytes_[1]) << 16) |
         (static_cast<std::uint32_t>(bytes_[2]) << 8) | static_cast<std::uint32_t>(bytes_[3]);
}

bool IpAddress::is_v4_mapped() const noexcept {
  if (!is_v6()) return false;
  for (std::size_t i = 0; i < 10; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddress IpAddress::unmapped() const noexcept {
  if (!is_v4_mapped()) return *this;
  return v4(bytes_[12], bytes_[13], bytes_[14], bytes_[15]);
}

IpAddress IpAddress::mapped() const noexcept {
  if (!is_v4()) return *this;
  std::array<std::uint8_t, 16> b{};
  b[10] = 0xff;
  b[11] = 0xff;
  b[12] = bytes_[0];
  b[13] = bytes_[1];
  b[14] = bytes_[2];
  b[15] = bytes_[3];
  return v6(b);
}

bool IpAddress::is_loopback() const noexcept {
  const IpAddress u = unmapped();
  if (u.is_v4()) return u.bytes_[0] == 127;  // RFC 1122 §3.2.1.3 (g)
  for (std::size_t i = 0; i < 15; ++i) {
    if (u.bytes_[i] != 0) return false;
  }
  return u.bytes_[15] == 1;  // RFC 4291 §2.5.3
}

std::string IpAddress::to_string() const {
  std::string out;
  auto put_v4 = [&out](const std::uint8_t* p) {
    for (int k = 0; k < 4; ++k) {
      if (k) out += '.';
      out += std::to_string(p[k]);
    }
  };
  if (is_v4()) {
    out.reserve(15);
    put_v4(bytes_.data());
    return out;
  }
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first on a tie.
  unsigned words[kIpv6Groups];
  for (std::size_t k = 0; k < kIpv6Groups; ++k) {
    words[k] = (static_cast<unsigned>(bytes_[2 * k]) << 8) | bytes_[2 * k + 1];
  }
  std::size_t best_base = kIpv6Groups, best_len = 0, cur_base = 0, cur_len = 0;
  for (std::size_t k = 0; k < kIpv6Groups; ++k) {
    if (words[k] == 0) {
      if (cur_len == 0) cur_base = k;
      ++cur_len;
      if (cur_len > best_len) {
        best_len = cur_len;
        best_base = cur_base;
      }
    } else {
      cur_len = 0;
    }
  }
  if (best_len < 2) best_base = kIpv6Groups;  // RFC 5952 §4.2.2: a single 0 is not compressed
  // RFC 5952 §5 mixed notation for ::ffff:a.b.c.d and (deprecated) ::a.b.c.d, as inet_ntop.
  const bool embedded_v4 =
      best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff));
  out.reserve(45);
  for (std::size_t k = 0; k < kIpv6Groups; ++k) {
    if (best_base < kIpv6Groups && k >= best_base && k < best_base + best_len) {
      if (k == best_base) out += ':';
      continue;
    }
    if (k != 0) out += ':';
    if (k == 6 && embedded_v4) {
      put_v4(&bytes_[12]);
      return out;
    }
    // RFC 5952 §4.1 no leading zeros, §4.3 lower case.
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nib = (words[k] >> shift) & 0xf;
      if (nib != 0 || started || shift == 0) {
        out += kHexDigits[nib];
        started = true;
      }
    }
  }
  if (best_base < kIpv6Groups && best_base + best_len == kIpv6Groups) out += ':';
  return out;
}

// ---------------------------------------------------------------------------------------
// Parsing

Result<IpAddress> parse_ip(std::string_view text, Brackets brackets) {
  return parse_impl(text, brackets, Want::Any);
}
Result<IpAddress> parse_ipv4(std::string_view text) {
  return parse_impl(text, Brackets::Forbid, Want::V4);
}
Result<IpAddress> parse_ipv6(std::string_view text) {
  return parse_impl(text, Brackets::Forbid, Want::V6);
}

// ---------------------------------------------------------------------------------------
// Comparison under rule M

bool same_host(const IpAddress& a, const IpAddress& b) noexcept {
  return a == b || a.unmapped() == b.unmapped();
}

IpAddress apply_prefix(const IpAddress& ip, unsigned bits) noexcept {
  const unsigned len = ip.bit_length();
  if (bits >= len) return ip;
  std::array<std::uint8_t, 16> b{};
  const auto src = ip.bytes();
  std::memcpy(b.data(), src.data(), src.size());
  const std::size_t whole = bits / 8;
  const unsigned rest = bits % 8;
  std::size_t k = whole;
  if (rest != 0) {
    b[k] = static_cast<std::uint8_t>(b[k] & (0xffu << (8 - rest)));
    ++k;
  }
  for (; k < 16; ++k) b[k] = 0;
  if (ip.is_v4()) return IpAddress::v4(b[0], b[1], b[2], b[3]);
  return IpAddress::v6(b);
}

bool matches_prefix(const IpAddress& a, const IpAddress& b, unsigned bits) noexcept {
  if (a.family() == b.family()) {
    if (bits > a.bit_length()) return false;
    return raw_prefix_equal(a, b, bits);
  }
  // Rule M: an IPv4 address against a mapped IPv6 address compares as IPv4.
  const IpAddress ua = a.unmapped();
  const IpAddress ub = b.unmapped();
  if (!ua.is_v4() || !ub.is_v4() || bits > kIpv4Bits) return false;
  return raw_prefix_equal(ua, ub, bits);
}

// ---------------------------------------------------------------------------------------
// Cidr

Result<Cidr> Cidr::make(const IpAddress& ip, unsigned prefix_length, HostBits host_bits) {
  if (prefix_length > ip.bit_length()) {
    return fail(ErrorCode::Invalid, "prefix length " + std::to_string(prefix_length) +
                                        " exceeds " + std::to_string(ip.bit_length()));
  }
  Cidr c;
  c.network_ = apply_prefix(ip, prefix_length);
  c.prefix_ = prefix_length;
  if (host_bits == HostBits::Reject && c.network_ != ip) {
    return fail(ErrorCode::Invalid, "host bits set in " + ip.to_string() + "/" +
                                        std::to_string(prefix_length) + " (network is " +
                                        c.network_.to_string() + ")");
  }
  return c;
}

Cidr Cidr::host(const IpAddress& ip) noexcept {
  Cidr c;
  c.network_ = ip;
  c.prefix_ = ip.bit_length();
  return c;
}

bool Cidr::contains(const IpAddress& ip) const noexcept {
  if (ip.family() == network_.family()) return raw_prefix_equal(network_, ip, prefix_);
  if (network_.is_v4() && ip.is_v4_mapped()) return raw_prefix_equal(network_, ip.unmapped(), prefix_);
  return false;
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_);
}

Result<unsigned> parse_prefix_length(std::string_view digits, Family family) {
  const unsigned max = family == Family::V4 ? kIpv4Bits : kIpv6Bits;
  if (digits.empty()) return fail(ErrorCode::Syntax, "missing prefix length");
  // RFC 7208 §5.6 ABNF: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT) — no leading zeros.
  if (digits.size() > 1 && digits[0] == '0') {
    return fail(ErrorCode::Syntax, "leading zero in prefix length " + quote(digits));
  }
  unsigned len = 0;
  if (digits.size() > 3 || !internal::parse_decimal(digits, 999, false, len)) {
    return fail(ErrorCode::Syntax, "invalid prefix length " + quote(digits));
  }
  if (len > max) {
    return fail(ErrorCode::Invalid, std::string(family == Family::V4 ? "IPv4" : "IPv6") +
                                        " prefix length " + std::to_string(len) + " exceeds " +
                                        std::to_string(max));
  }
  return len;
}

Result<Cidr> parse_cidr(std::string_view text, HostBits host_bits, Brackets brackets) {
  const std::size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  auto ip = parse_ip(addr_text, brackets);
  if (!ip) return fail(std::move(ip).error());
  if (slash == std::string_view::npos) return Cidr::host(*ip);
  const std::string_view len_text = text.substr(slash + 1);
  if (len_text.find('.') != std::string_view::npos || len_text.find(':') != std::string_view::npos) {
    return fail(ErrorCode::Syntax, "netmask form " + quote(text) +
                                       " is not accepted; write the prefix length (/24)");
  }
  auto len = parse_prefix_length(len_text, ip->family());
  if (!len) {
    Error e = std::move(len).error();
    e.reason += " in " + quote(text);
    return fail(std::move(e));
  }
  return Cidr::make(*ip, *len, host_bits);
}

// ---------------------------------------------------------------------------------------
// DNS names and SPF macros

std::string reverse_name(const IpAddress& ip) {
  std::string out;
  const auto b = ip.bytes();
  if (ip.is_v4()) {
    // RFC 1035 §3.5: octets in reverse order under in-addr.arpa.
    for (std::size_t k = 4; k-- > 0;) {
      out += std::to_string(b[k]);
      out += '.';
    }
    out += "in-addr.arpa";
    return out;
  }
  // RFC 3596 §2.5: nibbles, lowest-order first, under ip6.arpa.
  out.reserve(64 + 8);
  for (std::size_t k = 16; k-- > 0;) {
    out += kHexDigits[b[k] & 0xf];
    out += '.';
    out += kHexDigits[b[k] >> 4];
    out += '.';
  }
  out += "ip6.arpa";
  return out;
}

std::string spf_macro_i(const IpAddress& ip) {
  if (ip.is_v4()) return ip.to_string();
  // RFC 7208 §7.3: IPv6 "i" is the dot-format: 32 nibbles separated by dots.
  std::string out;
  out.reserve(63);
  for (std::uint8_t byte : ip.bytes()) {
    if (!out.empty()) out += '.';
    out += kHexDigits[byte >> 4];
    out += '.';
    out += kHexDigits[byte & 0xf];
  }
  return out;
}

std::string_view spf_macro_v(const IpAddress& ip) noexcept {
  return ip.is_v4() ? "in-addr" : "ip6";  // RFC 7208 §7.3
}

}  // namespace auth::net
