// Tests for auth/mail/domain.h: normalisation, IDN, limits.
#include "auth/mail/domain.h"

#include <gtest/gtest.h>

#include <string>

namespace auth::mail {
namespace {

std::string labels(std::size_t n, std::size_t len) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s.push_back('.');
    s += std::string(len, 'a');
  }
  return s;
}

struct GoodCase {
  std::string_view name;
  std::string input, want;
  DomainSyntax syntax = DomainSyntax::Hostname;
};
const GoodCase kGood[] = {
    {"plain", "example.com", "example.com"},
    {"upper", "EXAMPLE.Com", "example.com"},
    {"trailing_dot", "example.com.", "example.com"},
    {"trim", " \texample.com \r\n", "example.com"},
    {"single_label", "localhost", "localhost"},
    {"digits_hyphen", "a-1.9b.example", "a-1.9b.example"},
    {"idn_buecher", "b\xC3\xBC" "cher.example", "xn--bcher-kva.example"},
    {"idn_upper", "B\xC3\x9C" "CHER.Example.", "xn--bcher-kva.example"},
    {"idn_nontransitional_sharp_s", "fa\xC3\x9F.de", "xn--fa-hia.de"},
    {"idn_ideographic_dot", "b\xC3\xBC" "cher\xE3\x80\x82" "example", "xn--bcher-kva.example"},
    {"idn_japanese", "\xE6\x97\xA5\xE6\x9C\xAC.jp", "xn--wgv71a.jp"},
    // ZWJ after a symbol fails IDNA2008 CONTEXTJ; the transitional fallback drops it.
    {"transitional_fallback", "a\xE2\x98\x83\xE2\x80\x8D.example", "xn--a-1xp.example"},
    {"a_label_kept", "XN--BCHER-KVA.example", "xn--bcher-kva.example"},
    {"underscore_allowed", "sel._domainkey.Example.com", "sel._domainkey.example.com",
     DomainSyntax::AllowUnderscore},
    {"underscore_with_idn", "_dmarc.b\xC3\xBC" "cher.example", "_dmarc.xn--bcher-kva.example",
     DomainSyntax::AllowUnderscore},
    {"label_63", std::string(63, 'a') + ".example", std::string(63, 'a') + ".example"},
    {"name_253", labels(4, 62) + "." + std::string(1, 'b'), labels(4, 62) + ".b"},
};
class NormalizeGood : public testing::TestWithParam<GoodCase> {};
TEST_P(NormalizeGood, Normalizes) {
  const auto& c = GetParam();
  auto got = normalize_domain(c.input, c.syntax);
  ASSERT_TRUE(got) << "got error " << got.error().reason << ", want " << c.want;
  EXPECT_EQ(*got, c.want);
}
INSTANTIATE_TEST_SUITE_P(Domain, NormalizeGood, testing::ValuesIn(kGood),
                         [](const auto& i) { return std::string(i.param.name); });

struct BadCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
  DomainSyntax syntax = DomainSyntax::Hostname;
};
const BadCase kBad[] = {
    {"empty", "", ErrorCode::Syntax},
    {"spaces", "   ", ErrorCode::Syntax},
    {"only_dot", ".", ErrorCode::Syntax},
    {"two_trailing_dots", "example.com..", ErrorCode::Syntax},
    {"leading_dot", ".example.com", ErrorCode::Syntax},
    {"empty_label", "a..b", ErrorCode::Syntax},
    {"underscore_hostname", "_dmarc.example.com", ErrorCode::Syntax},
    {"leading_hyphen", "-a.example", ErrorCode::Syntax},
    {"trailing_hyphen", "a-.example", ErrorCode::Syntax},
    {"space_inside", "exa mple.com", ErrorCode::Syntax},
    {"at_sign", "user@example.com", ErrorCode::Syntax},
    {"nul", std::string("exa\0mple.com", 12), ErrorCode::Syntax},
    {"invalid_utf8", "b\xFF" "cher.example", ErrorCode::Syntax},
    {"private_use_codepoint", "a\xEE\x80\x80.example", ErrorCode::Syntax},
    {"leading_combining_mark", "\xCC\x81" "a.example", ErrorCode::Syntax},
    {"label_64", std::string(64, 'a') + ".example", ErrorCode::LimitExceeded},
    {"name_254", labels(4, 62) + ".bc", ErrorCode::LimitExceeded},
    {"huge_10000_labels", labels(10000, 1), ErrorCode::LimitExceeded},
    // One U-label whose A-label form exceeds 63 octets.
    {"idn_label_too_long", "\xC3\xBC" + std::string(60, 'a') + ".example", ErrorCode::LimitExceeded},
};
class NormalizeBad : public testing::TestWithParam<BadCase> {};
TEST_P(NormalizeBad, Rejected) {
  const auto& c = GetParam();
  auto got = normalize_domain(c.input, c.syntax);
  ASSERT_FALSE(got) << "got " << *got << ", want an error";
  EXPECT_EQ(got.error().code, c.code) << "got " << to_string(got.error().code) << ": "
                                      << got.error().reason;
}
INSTANTIATE_TEST_SUITE_P(Domain, NormalizeBad, testing::ValuesIn(kBad),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(ValidateDomain, Checks) {
  EXPECT_TRUE(validate_domain("Example.COM"));
  EXPECT_TRUE(validate_domain("s1._domainkey.example.com", DomainSyntax::AllowUnderscore));
  EXPECT_FALSE(validate_domain("s1._domainkey.example.com"));
  EXPECT_FALSE(validate_domain("example.com."));
  EXPECT_FALSE(validate_domain("b\xC3\xBC" "cher.example"));
}

}  // namespace
}  // namespace auth::mail
