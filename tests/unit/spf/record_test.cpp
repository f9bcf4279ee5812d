// Unit tests of the SPF record parser (RFC 7208 §4.5, §4.6, §5, §6, §12).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/spf/record.h"

namespace auth::spf {
namespace {

TEST(SpfRecognise, VersionTag) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SpF1 ~all"));
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1-all"));
  EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf"));
  EXPECT_FALSE(is_spf_record(""));
  EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
}

struct ValidCase {
  std::string_view name;
  std::string_view record;
  std::size_t mechanisms;
  bool has_redirect;
  bool has_exp;
  std::size_t unknown_modifiers;
};

const ValidCase kValid[] = {
    {"empty", "v=spf1", 0, false, false, 0},
    {"all", "v=spf1 -all", 1, false, false, 0},
    {"two_spaces", "v=spf1 a  -all", 2, false, false, 0},
    {"trailing_space", "v=spf1 a -all ", 2, false, false, 0},
    {"every_mechanism",
     "v=spf1 +all include:a.example ?a ~a:b.example/24//64 mx mx:c.example//0 ptr ptr:d.example "
     "ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.e.example",
     11, false, false, 0},
    {"modifiers", "v=spf1 redirect=_spf.example.com exp=explain.%{d}", 0, true, true, 0},
    {"unknown_modifier", "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 2, false, false, 1},
    {"case_insensitive", "V=SPF1 IP4:1.2.3.4 MX:Example.COM -ALL", 3, false, false, 0},
    {"macro_domain_end", "v=spf1 exists:%{ir}.%{v}._spf.%{d2}", 1, false, false, 0},
    {"trailing_dot", "v=spf1 include:o.spf.example.com. ~all", 2, false, false, 0},
    {"colon_in_domain", "v=spf1 a:foo:bar/baz.example.com", 1, false, false, 0},
    {"idn_toplabel", "v=spf1 a:foo.example.xn--zckzah -all", 2, false, false, 0},
    {"macro_literals", "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", 2, false,
     false, 0},
    {"default_modifier_ignored", "v=spf1 default=pass", 0, false, false, 1},
    {"ip4_cidr0", "v=spf1 ip4:1.1.1.1/0 -all", 2, false, false, 0},
    {"ip6_mapped", "v=spf1 ip6:::FFFF:1.2.3.4", 1, false, false, 0},
};

class SpfParseValid : public testing::TestWithParam<ValidCase> {};

TEST_P(SpfParseValid, Parses) {
  const auto& c = GetParam();
  auto r = parse_record(c.record);
  ASSERT_TRUE(r) << "got error " << r.error().reason << " want success for " << c.record;
  EXPECT_EQ(r->mechanisms.size(), c.mechanisms);
  EXPECT_EQ(r->redirect.has_value(), c.has_redirect);
  EXPECT_EQ(r->exp.has_value(), c.has_exp);
  EXPECT_EQ(r->unknown_modifiers.size(), c.unknown_modifiers);
}

INSTANTIATE_TEST_SUITE_P(Record, SpfParseValid, testing::ValuesIn(kValid),
                         [](const auto& info) { return std::string(info.param.name); });

struct InvalidCase {
  std::string_view name;
  std::string_view record;
  ErrorCode code;
};

const InvalidCase kInvalid[] = {
    {"not_spf", "v=spf2 -all", ErrorCode::Syntax},
    {"unknown_mechanism", "v=spf1 ip4:1.2.3.4 -all moo", ErrorCode::Syntax},
    {"modifier_bad_charset", "v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
     ErrorCode::Syntax},
    {"modifier_colon", "v=spf1 moo.cow:far_out=man:dog/cat -all", ErrorCode::Syntax},
    {"redirect_as_mechanism", "v=spf1 ip4:1.2.3.4 redirect:t2.example.com", ErrorCode::Syntax},
    {"all_dot", "v=spf1 -all.", ErrorCode::Syntax},
    {"all_arg", "v=spf1 -all:foobar", ErrorCode::Syntax},
    {"all_cidr", "v=spf1 -all/8", ErrorCode::Syntax},
    {"ptr_cidr", "v=spf1 ptr/0 -all", ErrorCode::Syntax},
    {"ptr_empty", "v=spf1 ptr:", ErrorCode::Syntax},
    {"a_bad_cidr4", "v=spf1 a/33 -all", ErrorCode::Syntax},
    {"a_bad_cidr6", "v=spf1 a//129 -all", ErrorCode::Syntax},
    {"a_single_slash_v6", "v=spf1 a/24/64 -all", ErrorCode::Syntax},
    {"a_port", "v=spf1 a:example.com:8080", ErrorCode::Syntax},
    {"a_numeric_top", "v=spf1 a:abc.123", ErrorCode::Syntax},
    {"a_only_toplabel", "v=spf1 a:museum", ErrorCode::Syntax},
    {"a_only_toplabel_dot", "v=spf1 a:museum.", ErrorCode::Syntax},
    {"a_bad_toplabel", "v=spf1 a:example.-com", ErrorCode::Syntax},
    {"a_ip_literal", "v=spf1 a:111.222.33.44", ErrorCode::Syntax},
    {"a_empty", "v=spf1 a:", ErrorCode::Syntax},
    {"a_nul", std::string_view("v=spf1 a:foo.example.com\0", 25), ErrorCode::Syntax},
    {"include_cidr", "v=spf1 include:ip5.example.com/24 -all", ErrorCode::Syntax},
    {"include_bare", "v=spf1 include +all", ErrorCode::Syntax},
    {"include_empty", "v=spf1 include: -all", ErrorCode::Syntax},
    {"exists_bare", "v=spf1 exists", ErrorCode::Syntax},
    {"exists_cidr", "v=spf1 exists:mail.example.com/24", ErrorCode::Syntax},
    {"ip4_bare", "v=spf1 ip4", ErrorCode::Syntax},
    {"ip4_cidr33", "v=spf1 ip4:1.2.3.4/33 -all", ErrorCode::Syntax},
    {"ip4_cidr_leading_zero", "v=spf1 ip4:1.2.3.4/032 -all", ErrorCode::Syntax},
    {"ip4_dual", "v=spf1 ip4:1.2.3.4//32", ErrorCode::Syntax},
    {"ip4_port", "v=spf1 ip4:1.2.3.4:8080", ErrorCode::Syntax},
    {"ip4_short", "v=spf1 ip4:1.2.3", ErrorCode::Syntax},
    {"ip4_newline", "v=spf1 ip4:192.0.2.5\n include:spf.example.com ~all", ErrorCode::Syntax},
    {"ip6_bare", "v=spf1 -all ip6", ErrorCode::Syntax},
    {"ip6_cidr129", "v=spf1 ip6:::1.1.1.1/129", ErrorCode::Syntax},
    {"ip6_dual", "v=spf1 ip6:::1.1.1.1//33", ErrorCode::Syntax},
    {"ip6_bad", "v=spf1 ip6::CAFE::BABE", ErrorCode::Syntax},
    {"non_ascii", "v=spf1 \x80" "a:example.net -all", ErrorCode::Syntax},
    {"control_char", "v=spf1 a:ctrl.example.com\rptr -all", ErrorCode::Syntax},
    {"invalid_modifier_name", "v=spf1 1up=foo", ErrorCode::Syntax},
    {"empty_modifier_name", "v=spf1 =all", ErrorCode::Syntax},
    {"unknown_modifier_bad_macro", "v=spf1 -all foo=%abc", ErrorCode::Syntax},
    {"exp_empty", "v=spf1 exp= -all", ErrorCode::Syntax},
    {"exp_not_domain", "v=spf1 exp=-all", ErrorCode::Syntax},
    {"exp_twice", "v=spf1 exp=a.example.com -all exp=b.example.com", ErrorCode::Duplicate},
    {"redirect_twice", "v=spf1 redirect=a.example.com -all redirect=a.example.com",
     ErrorCode::Duplicate},
    {"redirect_empty", "v=spf1 ?all redirect=", ErrorCode::Syntax},
    {"redirect_not_domain", "v=spf1 redirect=-all ?all", ErrorCode::Syntax},
    {"exp_r_macro", "v=spf1 -all exp=%{r}.example.com", ErrorCode::Syntax},
    {"invalid_macro_char", "v=spf1 -exists:%(ir).sbl.example.com ?all", ErrorCode::Syntax},
    {"invalid_trailing_macro", "v=spf1 exists:foo%.sbl.example.com ?all", ErrorCode::Syntax},
    {"undefined_macro_letter", "v=spf1 a:%{a}.example.com -all", ErrorCode::Syntax},
};

class SpfParseInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(SpfParseInvalid, Rejects) {
  const auto& c = GetParam();
  auto r = parse_record(c.record);
  ASSERT_FALSE(r) << "got success, want error for " << c.name;
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
  EXPECT_FALSE(r.error().reason.empty());
  for (char ch : r.error().reason) {
    EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << "control byte in reason";
  }
}

INSTANTIATE_TEST_SUITE_P(Record, SpfParseInvalid, testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SpfParse, MechanismDetails) {
  auto r = parse_record("v=spf1 ~a:b.example/24//64 -ip4:192.0.2.0/25 ?ip6:2001:DB8::/48 mx//0");
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->mechanisms.size(), 4u);
  const auto& a = r->mechanisms[0];
  EXPECT_EQ(a.kind, MechanismKind::A);
  EXPECT_EQ(a.qualifier, Qualifier::SoftFail);
  EXPECT_EQ(a.domain_spec, "b.example");
  EXPECT_EQ(a.cidr4, 24);
  EXPECT_EQ(a.cidr6, 64);
  EXPECT_EQ(a.text, "~a:b.example/24//64");
  EXPECT_TRUE(a.queries_dns());
  const auto& ip4 = r->mechanisms[1];
  EXPECT_EQ(ip4.kind, MechanismKind::Ip4);
  EXPECT_EQ(ip4.qualifier, Qualifier::Fail);
  EXPECT_EQ(ip4.address, "192.0.2.0");
  EXPECT_EQ(ip4.cidr4, 25);
  EXPECT_FALSE(ip4.queries_dns());
  const auto& ip6 = r->mechanisms[2];
  EXPECT_EQ(ip6.kind, MechanismKind::Ip6);
  EXPECT_EQ(ip6.qualifier, Qualifier::Neutral);
  EXPECT_EQ(ip6.cidr6, 48);
  const auto& mx = r->mechanisms[3];
  EXPECT_EQ(mx.kind, MechanismKind::Mx);
  EXPECT_TRUE(mx.domain_spec.empty());
  EXPECT_EQ(mx.cidr4, 32);
  EXPECT_EQ(mx.cidr6, 0);
}

TEST(SpfParse, DomainSpec) {
  EXPECT_TRUE(check_domain_spec("example.com"));
  EXPECT_TRUE(check_domain_spec("example.com."));
  EXPECT_TRUE(check_domain_spec("%{d}"));
  EXPECT_TRUE(check_domain_spec("foo%%"));
  EXPECT_TRUE(check_domain_spec("_spf.%{d2}"));
  EXPECT_FALSE(check_domain_spec(""));
  EXPECT_FALSE(check_domain_spec("%{d}."));
  EXPECT_FALSE(check_domain_spec("foo.%{d}x"));
  EXPECT_FALSE(check_domain_spec("com"));
  EXPECT_FALSE(check_domain_spec("a.b-"));
  EXPECT_FALSE(check_domain_spec("a.1"));
  EXPECT_TRUE(check_domain_spec("a.1-2"));
}

// ---- hostile input: bounded ---------------------------------------------------------------

TEST(SpfParseHostile, TenThousandTermsIsLimited) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 10000; ++i) rec += " a";
  auto r = parse_record(rec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(SpfParseHostile, OverlongRecord) {
  std::string rec = "v=spf1 a:" + std::string(kMaxRecordLength, 'x') + ".com";
  auto r = parse_record(rec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(SpfParseHostile, ManySpacesAndNestedLookingMacros) {
  std::string rec = "v=spf1" + std::string(5000, ' ') + "exists:";
  for (int i = 0; i < 2000; ++i) rec += "%{d}";
  rec += " -all";
  auto r = parse_record(rec);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->mechanisms.size(), 2u);
  std::string bad = "v=spf1 exists:" + std::string(3000, '%') + "{";
  EXPECT_FALSE(parse_record(bad));
  std::string braces = "v=spf1 exists:%{" + std::string(3000, '{') + "}.com";
  EXPECT_FALSE(parse_record(braces));
}

TEST(SpfParseHostile, NonAsciiAndNul) {
  EXPECT_FALSE(parse_record("v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all"));
  EXPECT_FALSE(parse_record(std::string("v=spf1 \0 -all", 13)));
  EXPECT_FALSE(parse_record("v=spf1 a:example.net \x96" "all"));
  EXPECT_FALSE(parse_record("v=spf1\t-all"));
}

TEST(SpfParseHostile, HugeCidrNumbers) {
  EXPECT_FALSE(parse_record("v=spf1 a/99999999999999999999"));
  EXPECT_FALSE(parse_record("v=spf1 ip4:1.2.3.4/99999999999999999999"));
  // Large transformer digits are valid (nonzero, §7.3) and saturate.
  EXPECT_TRUE(parse_record("v=spf1 exists:%{d99999999999999999999}.example.com"));
  EXPECT_FALSE(parse_record("v=spf1 exists:%{d0}.example.com"));
}

}  // namespace
}  // namespace auth::spf
