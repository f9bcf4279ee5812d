// Tests for auth/net/ip.h: parsing, RFC 5952 output, CIDR, reverse names, SPF %{i}.
#include "auth/net/ip.h"

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace auth::net {
namespace {

using namespace std::string_literals;

IpAddress ip(std::string_view s) {
  auto r = parse_ip(s, Brackets::Allow);
  EXPECT_TRUE(r.has_value()) << s << ": " << (r ? "" : r.error().reason);
  return r ? *r : IpAddress{};
}

// ---------------------------------------------------------------------------------------
// Valid addresses and their canonical text.

struct ValidCase {
  std::string_view name;
  std::string_view input;
  Family family;
  std::string_view canonical;
};

const ValidCase kValid[] = {
    {"v4_zero", "0.0.0.0", Family::V4, "0.0.0.0"},
    {"v4_max", "255.255.255.255", Family::V4, "255.255.255.255"},
    {"v4_doc", "192.0.2.1", Family::V4, "192.0.2.1"},
    {"v4_zeros_inside", "10.0.0.10", Family::V4, "10.0.0.10"},
    {"v6_unspecified", "::", Family::V6, "::"},
    {"v6_loopback", "::1", Family::V6, "::1"},
    {"v6_full_form", "2001:0db8:0000:0000:0000:0000:0000:0001", Family::V6, "2001:db8::1"},
    // RFC 4291 §2.2 examples.
    {"rfc4291_preferred", "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", Family::V6,
     "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
    {"rfc4291_leading_zeros", "2001:DB8:0:0:8:800:200C:417A", Family::V6, "2001:db8::8:800:200c:417a"},
    {"rfc4291_multicast", "FF01:0:0:0:0:0:0:101", Family::V6, "ff01::101"},
    {"rfc4291_loopback_long", "0:0:0:0:0:0:0:1", Family::V6, "::1"},
    {"rfc4291_unspecified_long", "0:0:0:0:0:0:0:0", Family::V6, "::"},
    {"rfc4291_compressed_unicast", "2001:DB8::8:800:200C:417A", Family::V6, "2001:db8::8:800:200c:417a"},
    {"rfc4291_compat_long", "0:0:0:0:0:0:13.1.68.3", Family::V6, "::13.1.68.3"},
    {"rfc4291_mapped_long", "0:0:0:0:0:FFFF:129.144.52.38", Family::V6, "::ffff:129.144.52.38"},
    {"rfc4291_compat_short", "::13.1.68.3", Family::V6, "::13.1.68.3"},
    {"rfc4291_mapped_short", "::FFFF:129.144.52.38", Family::V6, "::ffff:129.144.52.38"},
    // RFC 5952 §4 recommendations (and its §2 examples of many ways to write one address).
    {"rfc5952_s2_1", "2001:db8:0:0:1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_2", "2001:0db8:0:0:1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_3", "2001:db8::1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_4", "2001:db8::0:1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_5", "2001:0db8::1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_6", "2001:db8:0:0:1::1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_7", "2001:db8:0000:0:1::1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_s2_8", "2001:DB8:0:0:1::1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_4_1_leading_zeros", "2001:0db8::0001", Family::V6, "2001:db8::1"},
    {"rfc5952_4_2_1_longest", "2001:db8:0:0:0::1", Family::V6, "2001:db8::1"},
    {"rfc5952_4_2_1_zero_group", "2001:db8::0:1", Family::V6, "2001:db8::1"},
    {"rfc5952_4_2_2_single_zero", "2001:db8::1:1:1:1:1", Family::V6, "2001:db8:0:1:1:1:1:1"},
    {"rfc5952_4_2_3_longer_run", "2001:0:0:1:0:0:0:1", Family::V6, "2001:0:0:1::1"},
    {"rfc5952_4_2_3_first_on_tie", "2001:db8:0:0:1:0:0:1", Family::V6, "2001:db8::1:0:0:1"},
    {"rfc5952_4_3_lower_case", "2001:DB8::AAAA", Family::V6, "2001:db8::aaaa"},
    {"v6_trailing_compress", "1:2:3:4:5:6:7::", Family::V6, "1:2:3:4:5:6:7:0"},
    {"v6_leading_compress", "::2:3:4:5:6:7:8", Family::V6, "0:2:3:4:5:6:7:8"},
    {"v6_trailing_run", "2001:db8::", Family::V6, "2001:db8::"},
    {"v6_embedded_full", "1:2:3:4:5:6:1.2.3.4", Family::V6, "1:2:3:4:5:6:102:304"},
    {"v6_embedded_compressed", "64:ff9b::192.0.2.33", Family::V6, "64:ff9b::c000:221"},
    {"v6_mapped_zero", "::ffff:0:0", Family::V6, "::ffff:0.0.0.0"},
    {"v6_mapped_hex", "::ffff:c000:201", Family::V6, "::ffff:192.0.2.1"},
    {"v6_one_digit_groups", "1:2:3:4:5:6:7:8", Family::V6, "1:2:3:4:5:6:7:8"},
};

class ValidIpTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidIpTest, ParsesAndFormatsCanonically) {
  const ValidCase& c = GetParam();
  auto r = parse_ip(c.input);
  ASSERT_TRUE(r.has_value()) << "input " << c.input << ": " << r.error().reason;
  EXPECT_EQ(r->family(), c.family);
  EXPECT_EQ(r->to_string(), c.canonical) << "got " << r->to_string() << " want " << c.canonical;
  // The canonical text parses back to the same address.
  auto again = parse_ip(r->to_string());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *r);
  // With brackets allowed or required, "[x]" is the same address.
  const std::string bracketed = "[" + std::string(c.input) + "]";
  auto b = parse_ip(bracketed, Brackets::Require);
  ASSERT_TRUE(b.has_value()) << bracketed;
  EXPECT_EQ(*b, *r);
  EXPECT_FALSE(parse_ip(bracketed).has_value()) << "brackets must be refused by default";
}

INSTANTIATE_TEST_SUITE_P(NetIp, ValidIpTest, testing::ValuesIn(kValid),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Invalid addresses.

struct InvalidCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
};

const InvalidCase kInvalid[] = {
    {"empty", "", ErrorCode::Syntax},
    {"v4_three_parts", "192.0.2", ErrorCode::Syntax},
    {"v4_five_parts", "1.2.3.4.5", ErrorCode::Syntax},
    {"v4_leading_zero", "01.2.3.4", ErrorCode::Syntax},
    {"v4_leading_zero_last", "1.2.3.04", ErrorCode::Syntax},
    {"v4_octal_looking", "010.0.0.1", ErrorCode::Syntax},
    {"v4_octet_256", "256.1.1.1", ErrorCode::Syntax},
    {"v4_huge_octet", "1.2.3.99999999999999999999", ErrorCode::Syntax},
    {"v4_hex", "0x1.2.3.4", ErrorCode::Syntax},
    {"v4_trailing_dot", "1.2.3.4.", ErrorCode::Syntax},
    {"v4_leading_dot", ".1.2.3.4", ErrorCode::Syntax},
    {"v4_double_dot", "1..2.3", ErrorCode::Syntax},
    {"v4_negative", "1.2.3.-4", ErrorCode::Syntax},
    {"v4_plus", "+1.2.3.4", ErrorCode::Syntax},
    {"v4_trailing_space", "1.2.3.4 ", ErrorCode::Syntax},
    {"v4_leading_space", " 1.2.3.4", ErrorCode::Syntax},
    {"v4_newline", "1.2.3.4\n", ErrorCode::Syntax},
    {"v4_nul_inside", "1.2\0.3.4"s, ErrorCode::Syntax},
    {"v4_nul_after", "1.2.3.4\0"s, ErrorCode::Syntax},
    {"v4_fullwidth_digit", "\xef\xbc\x91.2.3.4", ErrorCode::Syntax},
    {"v4_single_number", "3221225985", ErrorCode::Syntax},
    {"v4_with_prefix", "1.2.3.4/32", ErrorCode::Syntax},
    {"v6_two_compressions", "1::2::3", ErrorCode::Syntax},
    {"v6_triple_colon", ":::", ErrorCode::Syntax},
    {"v6_single_leading_colon", ":1::", ErrorCode::Syntax},
    {"v6_single_trailing_colon", "1::2:", ErrorCode::Syntax},
    {"v6_single_colon", ":", ErrorCode::Syntax},
    {"v6_five_hex_digits", "12345::", ErrorCode::Syntax},
    {"v6_nine_groups", "1:2:3:4:5:6:7:8:9", ErrorCode::Syntax},
    {"v6_seven_groups", "1:2:3:4:5:6:7", ErrorCode::Syntax},
    {"v6_compress_with_eight", "1:2:3:4:5:6:7:8::", ErrorCode::Syntax},
    {"v6_compress_front_eight", "::1:2:3:4:5:6:7:8", ErrorCode::Syntax},
    {"v6_zone_id", "fe80::1%eth0", ErrorCode::Syntax},
    {"v6_zone_numeric", "fe80::1%1", ErrorCode::Syntax},
    {"v6_bad_hex", "g::1", ErrorCode::Syntax},
    {"v6_short_embedded", "::ffff:1.2.3", ErrorCode::Syntax},
    {"v6_embedded_256", "::ffff:1.2.3.256", ErrorCode::Syntax},
    {"v6_embedded_leading_zero", "::ffff:01.2.3.4", ErrorCode::Syntax},
    {"v6_embedded_no_room", "1:2:3:4:5:6:7:1.2.3.4", ErrorCode::Syntax},
    {"v6_embedded_not_last", "::1.2.3.4:5", ErrorCode::Syntax},
    {"v6_embedded_hex", "::a.b.c.d", ErrorCode::Syntax},
    {"v6_nul", "::1\0"s, ErrorCode::Syntax},
    {"v6_space", ":: 1", ErrorCode::Syntax},
    {"brackets_default_forbidden", "[::1]", ErrorCode::Syntax},
    {"overlong_ones", std::string(100, '1'), ErrorCode::LimitExceeded},
    {"overlong_colons", std::string(10000, ':'), ErrorCode::LimitExceeded},
    {"overlong_valid_prefix", "2001:db8::1" + std::string(60, '0'), ErrorCode::LimitExceeded},
    {"high_bytes", "\xff\xfe::1", ErrorCode::Syntax},
};

class InvalidIpTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidIpTest, IsRejected) {
  const InvalidCase& c = GetParam();
  auto r = parse_ip(c.input);
  ASSERT_FALSE(r.has_value()) << "got " << r->to_string() << " want an error";
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
  EXPECT_FALSE(r.error().reason.empty());
  // Error reasons never carry raw control bytes from the input.
  for (char ch : r.error().reason) EXPECT_TRUE(static_cast<unsigned char>(ch) >= 0x20) << r.error().reason;
}

INSTANTIATE_TEST_SUITE_P(NetIp, InvalidIpTest, testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetIpBrackets, Modes) {
  EXPECT_TRUE(parse_ip("[::1]", Brackets::Allow).has_value());
  EXPECT_TRUE(parse_ip("::1", Brackets::Allow).has_value());
  EXPECT_TRUE(parse_ip("[192.0.2.1]", Brackets::Require).has_value());
  EXPECT_FALSE(parse_ip("192.0.2.1", Brackets::Require).has_value());
  EXPECT_FALSE(parse_ip("[::1", Brackets::Allow).has_value());
  EXPECT_FALSE(parse_ip("::1]", Brackets::Allow).has_value());
  EXPECT_FALSE(parse_ip("[]", Brackets::Allow).has_value());
  EXPECT_FALSE(parse_ip("[[::1]]", Brackets::Allow).has_value());
  EXPECT_FALSE(parse_ip("[", Brackets::Allow).has_value());
}

TEST(NetIpFamilies, SpecificParsers) {
  EXPECT_TRUE(parse_ipv4("192.0.2.1").has_value());
  EXPECT_FALSE(parse_ipv4("::1").has_value());
  EXPECT_TRUE(parse_ipv6("::1").has_value());
  EXPECT_FALSE(parse_ipv6("192.0.2.1").has_value());
  EXPECT_FALSE(parse_ipv4("[192.0.2.1]").has_value());
}

TEST(NetIpAddressBasics, ConstructorsAndAccessors) {
  const IpAddress a = IpAddress::v4(0xC0000201u);
  EXPECT_EQ(a.to_string(), "192.0.2.1");
  EXPECT_EQ(a.v4_value(), 0xC0000201u);
  EXPECT_EQ(a, IpAddress::v4(192, 0, 2, 1));
  EXPECT_EQ(a.bytes().size(), 4u);
  EXPECT_EQ(a.bit_length(), 32u);
  EXPECT_EQ(IpAddress{}.to_string(), "0.0.0.0");

  const std::uint8_t raw16[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  auto b = IpAddress::from_bytes(raw16);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->to_string(), "2001:db8::1");
  EXPECT_EQ(b->bytes().size(), 16u);
  const std::uint8_t raw5[5] = {1, 2, 3, 4, 5};
  EXPECT_EQ(IpAddress::from_bytes(raw5).error().code, ErrorCode::Invalid);

  EXPECT_TRUE(ip("::ffff:192.0.2.1").is_v4_mapped());
  EXPECT_FALSE(ip("::192.0.2.1").is_v4_mapped());
  EXPECT_FALSE(ip("192.0.2.1").is_v4_mapped());
  EXPECT_EQ(ip("::ffff:192.0.2.1").unmapped(), ip("192.0.2.1"));
  EXPECT_EQ(ip("2001:db8::1").unmapped(), ip("2001:db8::1"));
  EXPECT_EQ(ip("192.0.2.1").mapped(), ip("::ffff:192.0.2.1"));
  EXPECT_TRUE(ip("127.1.2.3").is_loopback());
  EXPECT_TRUE(ip("::1").is_loopback());
  EXPECT_TRUE(ip("::ffff:127.0.0.1").is_loopback());
  EXPECT_FALSE(ip("::2").is_loopback());
  EXPECT_FALSE(ip("128.0.0.1").is_loopback());

  // Exact equality keeps families apart; same_host applies rule M.
  EXPECT_NE(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
  EXPECT_TRUE(same_host(ip("::ffff:192.0.2.1"), ip("192.0.2.1")));
  EXPECT_TRUE(same_host(ip("192.0.2.1"), ip("::ffff:192.0.2.1")));
  EXPECT_FALSE(same_host(ip("::192.0.2.1"), ip("192.0.2.1")));
  EXPECT_FALSE(same_host(ip("192.0.2.2"), ip("::ffff:192.0.2.1")));
  // Order: IPv4 before IPv6.
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
}

// ---------------------------------------------------------------------------------------
// Differential tests against glibc inet_pton / inet_ntop (the OpenDKIM probes use inet_ntop).

TEST(NetIpOracle, AcceptanceMatchesInetPton) {
  std::mt19937 rng(20261122);
  const std::string alphabet = "0123456789abcdefABCDEF:.:.:";
  std::uniform_int_distribution<std::size_t> len_dist(1, 24);
  std::uniform_int_distribution<std::size_t> ch_dist(0, alphabet.size() - 1);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    const std::size_t n = len_dist(rng);
    for (std::size_t k = 0; k < n; ++k) s += alphabet[ch_dist(rng)];
    unsigned char buf[16];
    const bool v6 = s.find(':') != std::string::npos;
    const bool want = inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), buf) == 1;
    auto got = parse_ip(s);
    ASSERT_EQ(got.has_value(), want) << "input '" << s << "' inet_pton=" << want;
    if (want) {
      ++accepted;
      const auto bytes = got->bytes();
      ASSERT_EQ(std::memcmp(bytes.data(), buf, bytes.size()), 0) << s;
    }
  }
  EXPECT_GT(accepted, 100);  // the generator does reach valid addresses
}

TEST(NetIpOracle, StructuredAcceptanceMatchesInetPton) {
  // Dotted quads with every kind of octet, and IPv6 built from groups and compressions.
  std::mt19937 rng(7);
  const char* octets[] = {"0", "00", "01", "1", "9", "10", "99", "100", "199", "255", "256", "999", ""};
  const char* groups[] = {"0", "00", "000", "0000", "00000", "1", "ffff", "FFFF", "fffff", "db8", "", "1.2.3.4", "01.2.3.4"};
  std::uniform_int_distribution<int> o(0, 12), g(0, 12), cnt(1, 9), sep(0, 5);
  for (int i = 0; i < 50000; ++i) {
    std::string v4 = std::string(octets[o(rng)]) + "." + octets[o(rng)] + "." + octets[o(rng)] + "." + octets[o(rng)];
    unsigned char buf[16];
    ASSERT_EQ(parse_ip(v4).has_value(), inet_pton(AF_INET, v4.c_str(), buf) == 1) << v4;
    std::string v6;
    const int n = cnt(rng);
    for (int k = 0; k < n; ++k) {
      if (k) v6 += sep(rng) == 0 ? "::" : ":";
      v6 += groups[g(rng)];
    }
    if (v6.find(':') == std::string::npos) continue;
    const bool want = inet_pton(AF_INET6, v6.c_str(), buf) == 1;
    auto got = parse_ip(v6);
    ASSERT_EQ(got.has_value(), want) << v6;
    if (want) {
      ASSERT_EQ(std::memcmp(got->bytes().data(), buf, 16), 0) << v6;
    }
  }
}

TEST(NetIpOracle, ToStringMatchesInetNtop) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> pick(0, 3), word(0, 0xffff);
  for (int i = 0; i < 100000; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (int k = 0; k < 8; ++k) {
      // Mostly zero groups so that runs, ties and the embedded-IPv4 forms are exercised.
      const int w = pick(rng) == 0 ? word(rng) : (pick(rng) == 0 ? 1 : 0);
      b[2 * k] = static_cast<std::uint8_t>(w >> 8);
      b[2 * k + 1] = static_cast<std::uint8_t>(w);
    }
    if (i % 7 == 0) {
      b[10] = 0xff;
      b[11] = 0xff;
      for (int k = 0; k < 10; ++k) b[k] = 0;
    }
    char text[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, b.data(), text, sizeof text), nullptr);
    const IpAddress a = IpAddress::v6(b);
    ASSERT_EQ(a.to_string(), std::string(text));
    auto back = parse_ip(text);
    ASSERT_TRUE(back.has_value()) << text;
    ASSERT_EQ(*back, a);
  }
}

// ---------------------------------------------------------------------------------------
// CIDR parsing and membership.

struct CidrCase {
  std::string_view name;
  std::string_view cidr;
  std::string_view address;
  bool want;
};

const CidrCase kCidr[] = {
    {"v4_slash0_any_v4", "0.0.0.0/0", "203.0.113.9", true},
    {"v4_slash0_not_v6", "0.0.0.0/0", "2001:db8::1", false},
    {"v4_slash0_mapped", "0.0.0.0/0", "::ffff:203.0.113.9", true},
    {"v4_slash0_compat_not_mapped", "0.0.0.0/0", "::203.0.113.9", false},
    {"v4_slash32_same", "192.0.2.1/32", "192.0.2.1", true},
    {"v4_slash32_other", "192.0.2.1/32", "192.0.2.2", false},
    {"v4_no_length_is_host", "192.0.2.1", "192.0.2.1", true},
    {"v4_no_length_other", "192.0.2.1", "192.0.2.0", false},
    {"v4_slash24_in", "192.0.2.0/24", "192.0.2.255", true},
    {"v4_slash24_out", "192.0.2.0/24", "192.0.3.0", false},
    {"v4_slash24_mapped_in", "192.0.2.0/24", "::ffff:192.0.2.77", true},
    {"v4_slash24_mapped_out", "192.0.2.0/24", "::ffff:192.0.3.77", false},
    {"v4_slash25_boundary_in", "192.0.2.128/25", "192.0.2.128", true},
    {"v4_slash25_boundary_out", "192.0.2.128/25", "192.0.2.127", false},
    {"v4_slash31", "192.0.2.2/31", "192.0.2.3", true},
    {"v4_slash1", "128.0.0.0/1", "255.1.1.1", true},
    {"v4_slash1_out", "128.0.0.0/1", "127.255.255.255", false},
    {"v4_host_bits_cleared", "10.1.2.3/8", "10.200.0.1", true},
    {"v6_slash0_any_v6", "::/0", "2001:db8::1", true},
    {"v6_slash0_not_v4", "::/0", "192.0.2.1", false},
    {"v6_slash128_same", "2001:db8::1/128", "2001:db8::1", true},
    {"v6_slash128_other", "2001:db8::1/128", "2001:db8::2", false},
    {"v6_slash32_in", "2001:db8::/32", "2001:db8:ffff::1", true},
    {"v6_slash32_out", "2001:db8::/32", "2001:db9::1", false},
    {"v6_slash127", "2001:db8::/127", "2001:db8::1", true},
    {"v6_slash127_out", "2001:db8::/127", "2001:db8::2", false},
    {"v6_slash65", "2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", true},
    {"v6_slash65_out", "2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", false},
    {"v6_mapped_prefix_not_v4", "::ffff:0:0/96", "192.0.2.1", false},
    {"v6_mapped_prefix_mapped", "::ffff:0:0/96", "::ffff:192.0.2.1", true},
    {"v4_not_in_v6_host", "::ffff:192.0.2.1/128", "192.0.2.1", false},
};

class CidrTest : public testing::TestWithParam<CidrCase> {};

TEST_P(CidrTest, Contains) {
  const CidrCase& c = GetParam();
  auto cidr = parse_cidr(c.cidr);
  ASSERT_TRUE(cidr.has_value()) << c.cidr << ": " << cidr.error().reason;
  EXPECT_EQ(cidr->contains(ip(c.address)), c.want)
      << c.cidr << " contains " << c.address << ": got " << !c.want << " want " << c.want;
}

INSTANTIATE_TEST_SUITE_P(NetIp, CidrTest, testing::ValuesIn(kCidr),
                         [](const auto& info) { return std::string(info.param.name); });

struct BadCidrCase {
  std::string_view name;
  std::string_view input;
  ErrorCode code;
};

const BadCidrCase kBadCidr[] = {
    {"v4_len_33", "192.0.2.0/33", ErrorCode::Invalid},
    {"v6_len_129", "2001:db8::/129", ErrorCode::Invalid},
    {"empty_len", "192.0.2.0/", ErrorCode::Syntax},
    {"leading_zero_len", "192.0.2.0/024", ErrorCode::Syntax},
    {"zero_zero_len", "0.0.0.0/00", ErrorCode::Syntax},
    {"negative_len", "192.0.2.0/-1", ErrorCode::Syntax},
    {"plus_len", "192.0.2.0/+8", ErrorCode::Syntax},
    {"huge_len", "192.0.2.0/99999999999", ErrorCode::Syntax},
    {"two_slashes", "192.0.2.0/24/8", ErrorCode::Syntax},
    {"netmask_form", "192.0.2.0/255.255.255.0", ErrorCode::Syntax},
    {"v6_netmask_form", "2001:db8::/ffff:ffff::", ErrorCode::Syntax},
    {"shorthand_v4", "192.0.2/24", ErrorCode::Syntax},
    {"no_address", "/24", ErrorCode::Syntax},
    {"space_in_len", "192.0.2.0/ 24", ErrorCode::Syntax},
};

class BadCidrTest : public testing::TestWithParam<BadCidrCase> {};

TEST_P(BadCidrTest, IsRejected) {
  const BadCidrCase& c = GetParam();
  auto r = parse_cidr(c.input);
  ASSERT_FALSE(r.has_value()) << "got " << r->to_string();
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
}

INSTANTIATE_TEST_SUITE_P(NetIp, BadCidrTest, testing::ValuesIn(kBadCidr),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetCidrParse, HostBitsAndText) {
  auto cleared = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(cleared.has_value());
  EXPECT_EQ(cleared->to_string(), "10.0.0.0/8");
  EXPECT_EQ(cleared->prefix_length(), 8u);
  auto rejected = parse_cidr("10.1.2.3/8", HostBits::Reject);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().code, ErrorCode::Invalid);
  EXPECT_TRUE(parse_cidr("10.0.0.0/8", HostBits::Reject).has_value());
  EXPECT_EQ(parse_cidr("2001:0DB8::/32")->to_string(), "2001:db8::/32");
  EXPECT_EQ(parse_cidr("[2001:db8::]/32", HostBits::Clear, Brackets::Allow)->to_string(), "2001:db8::/32");
  EXPECT_EQ(parse_cidr("192.0.2.9")->to_string(), "192.0.2.9/32");
  EXPECT_EQ(parse_cidr("::1")->prefix_length(), 128u);
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->to_string(), "0.0.0.0/0");
  EXPECT_EQ(Cidr{}.to_string(), "0.0.0.0/0");
  EXPECT_FALSE(Cidr::make(ip("192.0.2.1"), 33).has_value());
  EXPECT_TRUE(Cidr::make(ip("::1"), 128).has_value());
  EXPECT_EQ(Cidr::host(ip("::1")).to_string(), "::1/128");
}

// ---------------------------------------------------------------------------------------
// matches_prefix (SPF ip4/ip6 and dual-cidr-length).

struct PrefixCase {
  std::string_view name;
  std::string_view a, b;
  unsigned bits;
  bool want;
};

const PrefixCase kPrefix[] = {
    {"v4_bits0", "1.2.3.4", "200.1.1.1", 0, true},
    {"v4_bits8_same", "10.1.2.3", "10.9.9.9", 8, true},
    {"v4_bits8_diff", "10.1.2.3", "11.1.2.3", 8, false},
    {"v4_bits32_same", "10.1.2.3", "10.1.2.3", 32, true},
    {"v4_bits32_diff", "10.1.2.3", "10.1.2.4", 32, false},
    {"v4_bits33_never", "10.1.2.3", "10.1.2.3", 33, false},
    {"v4_bits23_boundary", "10.1.2.3", "10.1.3.3", 23, true},
    {"v4_bits24_boundary", "10.1.2.3", "10.1.3.3", 24, false},
    {"v6_bits0", "2001:db8::1", "fe80::1", 0, true},
    {"v6_bits64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::", 64, true},
    {"v6_bits64_diff", "2001:db8:1:2::1", "2001:db8:1:3::1", 64, false},
    {"v6_bits128", "2001:db8::1", "2001:db8::1", 128, true},
    {"v6_bits129_never", "2001:db8::1", "2001:db8::1", 129, false},
    {"mixed_never", "192.0.2.1", "2001:db8::1", 0, false},
    {"mixed_compat_never", "192.0.2.1", "::192.0.2.1", 32, false},
    {"mapped_vs_v4_bits24", "::ffff:192.0.2.1", "192.0.2.200", 24, true},
    {"v4_vs_mapped_bits32", "192.0.2.1", "::ffff:192.0.2.1", 32, true},
    {"mapped_vs_v4_bits_v6_scale", "::ffff:192.0.2.1", "192.0.2.1", 120, false},
    {"mapped_vs_mapped_as_v6", "::ffff:192.0.2.1", "::ffff:192.0.2.9", 120, true},
};

class PrefixTest : public testing::TestWithParam<PrefixCase> {};

TEST_P(PrefixTest, Matches) {
  const PrefixCase& c = GetParam();
  EXPECT_EQ(matches_prefix(ip(c.a), ip(c.b), c.bits), c.want);
  EXPECT_EQ(matches_prefix(ip(c.b), ip(c.a), c.bits), c.want) << "must be symmetric";
}

INSTANTIATE_TEST_SUITE_P(NetIp, PrefixTest, testing::ValuesIn(kPrefix),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetApplyPrefix, Masks) {
  EXPECT_EQ(apply_prefix(ip("192.0.2.255"), 25).to_string(), "192.0.2.128");
  EXPECT_EQ(apply_prefix(ip("192.0.2.255"), 0).to_string(), "0.0.0.0");
  EXPECT_EQ(apply_prefix(ip("192.0.2.255"), 40).to_string(), "192.0.2.255");
  EXPECT_EQ(apply_prefix(ip("2001:db8:ffff:ffff::1"), 36).to_string(), "2001:db8:f000::");
  EXPECT_EQ(apply_prefix(ip("ffff::ffff"), 128).to_string(), "ffff::ffff");
}

// ---------------------------------------------------------------------------------------
// Reverse names and SPF macros.

struct NameCase {
  std::string_view name;
  std::string_view address;
  std::string_view reverse;
  std::string_view macro_i;
  std::string_view macro_v;
};

const NameCase kNames[] = {
    {"v4", "192.0.2.1", "1.2.0.192.in-addr.arpa", "192.0.2.1", "in-addr"},
    {"v4_zeros", "10.0.0.0", "0.0.0.10.in-addr.arpa", "10.0.0.0", "in-addr"},
    // RFC 7208 §7.4 example: %{ir}.%{v}._spf.%{d2} for 2001:db8::cb01 gives
    // 1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com.
    {"rfc7208_example", "2001:db8::cb01",
     "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
     "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1", "ip6"},
    {"v6_loopback", "::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1", "ip6"},
    {"v6_mapped_stays_v6", "::ffff:192.0.2.1",
     "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.f.f.f.c.0.0.0.0.2.0.1", "ip6"},
};

class NameTest : public testing::TestWithParam<NameCase> {};

TEST_P(NameTest, Forms) {
  const NameCase& c = GetParam();
  const IpAddress a = ip(c.address);
  EXPECT_EQ(reverse_name(a), c.reverse);
  EXPECT_EQ(spf_macro_i(a), c.macro_i);
  EXPECT_EQ(spf_macro_v(a), c.macro_v);
}

INSTANTIATE_TEST_SUITE_P(NetIp, NameTest, testing::ValuesIn(kNames),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetIpBounds, TenThousandRepetitionsStayBounded) {
  // 10 000 repetitions of a valid piece: rejected up front, quickly.
  std::string big;
  for (int i = 0; i < 10000; ++i) big += "1.";
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    auto r = parse_ip(big);
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().code, ErrorCode::LimitExceeded);
    ASSERT_LT(r.error().reason.size(), 200u);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 500);
  std::string cidr = "10.0.0.0/" + std::string(10000, '1');
  EXPECT_FALSE(parse_cidr(cidr).has_value());
}

}  // namespace
}  // namespace auth::net

namespace auth::net {
namespace {

TEST(NetPrefixLength, DualCidrPieces) {
  EXPECT_EQ(*parse_prefix_length("0", Family::V4), 0u);
  EXPECT_EQ(*parse_prefix_length("32", Family::V4), 32u);
  EXPECT_EQ(*parse_prefix_length("128", Family::V6), 128u);
  EXPECT_EQ(parse_prefix_length("33", Family::V4).error().code, ErrorCode::Invalid);
  EXPECT_EQ(parse_prefix_length("129", Family::V6).error().code, ErrorCode::Invalid);
  EXPECT_EQ(parse_prefix_length("", Family::V4).error().code, ErrorCode::Syntax);
  EXPECT_EQ(parse_prefix_length("08", Family::V4).error().code, ErrorCode::Syntax);
  EXPECT_EQ(parse_prefix_length("1000", Family::V6).error().code, ErrorCode::Syntax);
  EXPECT_EQ(parse_prefix_length("-1", Family::V4).error().code, ErrorCode::Syntax);
  EXPECT_EQ(parse_prefix_length("2 ", Family::V4).error().code, ErrorCode::Syntax);
}

}  // namespace
}  // namespace auth::net
