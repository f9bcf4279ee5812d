// Unit tests of SPF macro expansion (RFC 7208 §7), including every example of §7.4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "auth/spf/macro.h"

namespace auth::spf {
namespace {

MacroContext rfc_context(std::string ip) {
  // RFC 7208 §7.4: sender strong-bad@email.example.com, IPv4 192.0.2.3, IPv6 2001:db8::cb01.
  MacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.client_ip = std::move(ip);
  c.helo = "mx.example.org";
  c.validated_domain = "mx.example.org";
  c.receiver = "example.net";
  c.timestamp = 1234567890;
  return c;
}

struct Case {
  std::string_view name;
  std::string_view input;
  std::string_view want;
};

const Case kRfc74Ipv4[] = {
    {"s", "%{s}", "strong-bad@email.example.com"},
    {"o", "%{o}", "email.example.com"},
    {"d", "%{d}", "email.example.com"},
    {"d4", "%{d4}", "email.example.com"},
    {"d3", "%{d3}", "email.example.com"},
    {"d2", "%{d2}", "example.com"},
    {"d1", "%{d1}", "com"},
    {"dr", "%{dr}", "com.example.email"},
    {"d2r", "%{d2r}", "example.email"},
    {"l", "%{l}", "strong-bad"},
    {"l_dash", "%{l-}", "strong.bad"},
    {"lr", "%{lr}", "strong-bad"},
    {"lr_dash", "%{lr-}", "bad.strong"},
    {"l1r_dash", "%{l1r-}", "strong"},
    {"ir_v_spf", "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
    {"lr_lp", "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
    {"lr_lp_ir", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
     "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
    {"ir_v_l1r", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
    {"d2_trusted", "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
    // Beyond §7.4: escapes, p, h, upper case, several delimiters.
    {"percent_escapes", "a%%b%_c%-d", "a%b c%20d"},
    {"p", "%{p}", "mx.example.org"},
    {"p2", "%{p2}", "example.org"},
    {"h", "%{h}", "mx.example.org"},
    {"upper_s", "%{S}", "strong-bad%40email.example.com"},
    {"multi_delims", "%{l2r+-}", "bad.strong"},
    {"digits_beyond_parts", "%{d9}", "email.example.com"},
    {"empty_literal", "", ""},
};

class MacroRfcIpv4 : public testing::TestWithParam<Case> {};
TEST_P(MacroRfcIpv4, Expands) {
  const auto& c = GetParam();
  auto got = expand_macros(c.input, rfc_context("192.0.2.3"), MacroMode::Domain);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(*got, c.want) << "input " << c.input;
}
INSTANTIATE_TEST_SUITE_P(Rfc7208, MacroRfcIpv4, testing::ValuesIn(kRfc74Ipv4),
                         [](const auto& i) { return std::string(i.param.name); });

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(MacroRfc, Ipv6Example) {
  // §7.4 shows lower-case nibbles; we write them upper case as pyspf does (the OpenSPF suite's
  // v-macro-ip6 expects that). DNS names compare case-insensitively.
  auto got = expand_macros("%{ir}.%{v}._spf.%{d2}", rfc_context("2001:db8::cb01"),
                           MacroMode::Domain);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(lower(*got),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(macro_ip_form("2001:db8::cb01"),
            "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
}

TEST(MacroExplanation, CRTAndSpaces) {
  auto c = rfc_context("2001:db8::cb01");
  auto got = expand_macros("%{c} via %{r} at %{t}, %{v}", c, MacroMode::Explanation);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(*got, "2001:db8::cb01 via example.net at 1234567890, ip6");
  // IPv4-mapped IPv6 is IPv4 for SPF.
  auto m = expand_macros("%{c} %{i} %{v}", rfc_context("::ffff:192.0.2.3"), MacroMode::Explanation);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "192.0.2.3 192.0.2.3 in-addr");
}

TEST(MacroUpperCase, UrlEscapes) {
  auto c = rfc_context("192.0.2.3");
  c.local_part = "~jack&jill=up-a_b3.c";
  auto got = expand_macros("http://example.com/why.html?l=%{L}", c, MacroMode::Explanation);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c");
}

struct BadCase {
  std::string_view name;
  std::string_view input;
  MacroMode mode;
};
const BadCase kBad[] = {
    {"paren", "%(ir).sbl.example.com", MacroMode::Domain},
    {"dot_after_percent", "foo%.sbl.example.com", MacroMode::Domain},
    {"trailing_percent", "foo%", MacroMode::Domain},
    {"unknown_letter", "%{a}.example.com", MacroMode::Domain},
    {"x_letter", "The %{x}-files.", MacroMode::Explanation},
    {"r_in_domain", "%{r}.example.com", MacroMode::Domain},
    {"c_in_domain", "%{c}", MacroMode::Domain},
    {"t_in_domain", "%{t}", MacroMode::Domain},
    {"zero_digit", "%{d0}", MacroMode::Domain},
    {"unterminated", "%{d", MacroMode::Domain},
    {"bad_delimiter", "%{d2r*}", MacroMode::Domain},
    {"space_in_domain", "a b.com", MacroMode::Domain},
    {"non_ascii", "caf\xC3\xA9.com", MacroMode::Explanation},
    {"nul", std::string_view("a\0b", 3), MacroMode::Explanation},
};
class MacroBad : public testing::TestWithParam<BadCase> {};
TEST_P(MacroBad, Rejected) {
  const auto& c = GetParam();
  EXPECT_FALSE(check_macro_string(c.input, c.mode));
  auto got = expand_macros(c.input, rfc_context("192.0.2.3"), c.mode);
  ASSERT_FALSE(got) << "got " << *got;
  EXPECT_EQ(got.error().code, ErrorCode::Syntax);
}
INSTANTIATE_TEST_SUITE_P(Macro, MacroBad, testing::ValuesIn(kBad),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(MacroSyntax, AcceptsWhatExpands) {
  EXPECT_TRUE(check_macro_string("%{ir}.%{v}._spf.%{d2}", MacroMode::Domain));
  EXPECT_TRUE(check_macro_string("%{c} is %{r} at %{T}", MacroMode::Explanation));
  EXPECT_TRUE(check_macro_string("%{D2R.-+,/_=}", MacroMode::Domain));
}

TEST(MacroP, UsesValidatedDomain) {
  EXPECT_TRUE(uses_validated_domain("%{p}.example.com"));
  EXPECT_TRUE(uses_validated_domain("x.%{P2r}"));
  EXPECT_FALSE(uses_validated_domain("%%{p}"));
  EXPECT_FALSE(uses_validated_domain("%{d}.p"));
  EXPECT_FALSE(uses_validated_domain(""));
}

TEST(MacroTruncate, LeftLabelsRemoved) {
  std::string label(50, 'a');
  std::string name;
  for (int i = 0; i < 6; ++i) name += label + ".";
  name += "example.com.";  // 306 + 12 octets
  std::string t = truncate_domain(name);
  EXPECT_LE(t.size(), 253u);
  EXPECT_EQ(t.substr(t.size() - 11), "example.com");
  EXPECT_EQ(t.front(), 'a');
  EXPECT_EQ(truncate_domain("example.com."), "example.com");
  std::string one(300, 'x');
  EXPECT_EQ(truncate_domain(one), one);  // one label: nothing to remove
}

TEST(MacroHostile, OutputBounded) {
  std::string input;
  for (int i = 0; i < 10000; ++i) input += "%{s}";
  auto c = rfc_context("192.0.2.3");
  auto got = expand_macros(input, c, MacroMode::Domain);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::LimitExceeded);
}

TEST(MacroHostile, BadClientIp) {
  auto c = rfc_context("not-an-ip");
  EXPECT_FALSE(expand_macros("%{i}", c, MacroMode::Domain));
  EXPECT_FALSE(expand_macros("%{c}", c, MacroMode::Explanation));
  EXPECT_TRUE(expand_macros("%{d}", c, MacroMode::Domain));
  EXPECT_EQ(macro_ip_form("1.2.3"), "");
}

}  // namespace
}  // namespace auth::spf
