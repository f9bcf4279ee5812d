// RFC 6376 §3.2 tag-list syntax.
#include <gtest/gtest.h>

#include <random>

#include "auth/dkim/tag_list.h"

namespace auth::dkim {
namespace {

struct OkCase {
  std::string_view name;
  std::string_view input;
  std::vector<std::pair<std::string, std::string>> want;
};

const OkCase kOk[] = {
    {"empty", "", {}},
    {"fws_only", " \t\r\n ", {}},
    {"one", "a=b", {{"a", "b"}}},
    {"trailing_semicolon", "a=b;", {{"a", "b"}}},
    {"trailing_semicolon_fws", "a=b; \r\n\t", {{"a", "b"}}},
    {"two", "v=1; a=rsa-sha256", {{"v", "1"}, {"a", "rsa-sha256"}}},
    {"fws_everywhere", " \r\n v \t= \r\n\t1 ;\r\n a= x", {{"v", "1"}, {"a", "x"}}},
    {"empty_value", "p=; k=rsa", {{"p", ""}, {"k", "rsa"}}},
    {"empty_value_fws", "p= \t ; k=rsa", {{"p", ""}, {"k", "rsa"}}},
    {"inner_fws_kept", "h=from : to\r\n :subject", {{"h", "from : to\r\n :subject"}}},
    {"unknown_tags_kept", "zz9=whatever; v=1", {{"zz9", "whatever"}, {"v", "1"}}},
    {"underscore_name", "a_b=1", {{"a_b", "1"}}},
    {"value_with_equals", "b=abc==", {{"b", "abc=="}}},
    {"case_sensitive_names", "A=1; a=2", {{"A", "1"}, {"a", "2"}}},
    // ':' and '=' are VALCHARs: "v=DKIM1: p=abc" is one tag v with value "DKIM1: p=abc".
    {"colon_instead_of_semicolon", "v=DKIM1: p=abc", {{"v", "DKIM1: p=abc"}}},
    {"lf_only_folding", "a=1;\n b=2", {{"a", "1"}, {"b", "2"}}},
    {"trailing_crlf", "a=1\r\n", {{"a", "1"}}},
};

class TagListOk : public ::testing::TestWithParam<OkCase> {};
TEST_P(TagListOk, Parses) {
  auto r = parse_tag_list(GetParam().input);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->tags.size(), GetParam().want.size());
  for (std::size_t i = 0; i < r->tags.size(); ++i) {
    EXPECT_EQ(r->tags[i].name, GetParam().want[i].first);
    EXPECT_EQ(r->tags[i].value, GetParam().want[i].second);
  }
}
INSTANTIATE_TEST_SUITE_P(Rfc6376, TagListOk, ::testing::ValuesIn(kOk),
                         [](const auto& i) { return std::string(i.param.name); });

struct BadCase {
  std::string_view name;
  std::string_view input;
  ErrorCode code;
};

const BadCase kBad[] = {
    {"duplicate", "a=1; a=2", ErrorCode::Duplicate},
    {"duplicate_far", "a=1; b=2; c=3; a=4", ErrorCode::Duplicate},
    {"no_equals", "a", ErrorCode::Syntax},
    {"empty_element", "a=1;;b=2", ErrorCode::Syntax},
    {"leading_semicolon", ";a=1", ErrorCode::Syntax},
    {"only_semicolon", ";", ErrorCode::Syntax},
    {"digit_first", "1a=2", ErrorCode::Syntax},
    {"bad_name_byte", "a-b=1", ErrorCode::Syntax},
    {"nul_in_value", std::string_view("a=x\0y", 5), ErrorCode::Syntax},
    {"non_ascii_value", "a=caf\xc3\xa9", ErrorCode::Syntax},
    {"control_in_value", "a=x\x01y", ErrorCode::Syntax},
    {"crlf_without_wsp", "a=1\r\nb=2", ErrorCode::Syntax},
    {"bare_cr", "a=1\rb", ErrorCode::Syntax},
    {"empty_name", "=1", ErrorCode::Syntax},
};

class TagListBad : public ::testing::TestWithParam<BadCase> {};
TEST_P(TagListBad, Fails) {
  auto r = parse_tag_list(GetParam().input);
  ASSERT_FALSE(r) << "parsed unexpectedly";
  EXPECT_EQ(r.error().code, GetParam().code) << r.error().reason;
}
INSTANTIATE_TEST_SUITE_P(Rfc6376, TagListBad, ::testing::ValuesIn(kBad),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(TagList, OffsetsCoverLeadingFwsAndValue) {
  const std::string_view in = "v=1; b= \r\n abc\r\n def ; x=2";
  auto r = parse_tag_list(in);
  ASSERT_TRUE(r);
  const Tag* b = r->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(in.substr(b->value_begin, b->value_end - b->value_begin), " \r\n abc\r\n def");
  EXPECT_EQ(b->value, "abc\r\n def");
  EXPECT_EQ(strip_fws(b->value), "abcdef");
  // Blanking b= leaves the separators as they were.
  std::string blanked = std::string(in.substr(0, b->value_begin)) + std::string(in.substr(b->value_end));
  EXPECT_EQ(blanked, "v=1; b= ; x=2");
}

TEST(TagList, FindAndGet) {
  auto r = parse_tag_list("a=1; b=");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("a").value_or("?"), "1");
  EXPECT_EQ(r->get("b").value_or("?"), "");
  EXPECT_FALSE(r->get("c").has_value());
  EXPECT_EQ(r->find("A"), nullptr);
}

TEST(TagList, TenThousandTagsHitTheBound) {
  std::string in;
  for (int i = 0; i < 10000; ++i) in += "t" + std::to_string(i) + "=v;";
  auto r = parse_tag_list(in);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(TagList, OverlongInputRefused) {
  std::string in = "a=" + std::string(kMaxTagListBytes, 'x');
  auto r = parse_tag_list(in);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(TagList, TenThousandFoldsStayLinear) {
  std::string in = "h=from";
  for (int i = 0; i < 10000; ++i) in += "\r\n :to";
  auto r = parse_tag_list(in);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->tags.size(), 1u);
}

TEST(TagList, TruncatedInputs) {
  const std::string full = "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=BBBB";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    auto r = parse_tag_list(std::string_view(full).substr(0, n));
    // Every prefix either parses or fails cleanly; a prefix ending inside a name fails.
    if (r) {
      EXPECT_LE(r->tags.size(), 7u);
    }
  }
}

TEST(StripFws, SameAsRemovingEveryFwsByte) {
  std::mt19937 rng(7);
  const char alphabet[] = {'A', '/', '=', ' ', '\t', '\r', '\n', '\0'};
  for (int n = 0; n < 20000; ++n) {
    std::string v(rng() % 50, 'x');
    for (char& c : v) c = alphabet[rng() % sizeof alphabet];
    std::string want;
    for (char c : v) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') want.push_back(c);
    }
    ASSERT_EQ(strip_fws(v), want) << testing::PrintToString(v);
  }
  EXPECT_EQ(strip_fws(""), "");
  EXPECT_EQ(strip_fws(" \r\n\t"), "");
}

}  // namespace
}  // namespace auth::dkim
