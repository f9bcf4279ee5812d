// ReplaceRules engine (auth/config/replace_rules.h): OpenDKIM's rules file grammar, POSIX
// basic regexes, reverse file order, literal replacements, the deliberate differences (every
// match replaced once left to right, empty-matching regexes refused) and the bounds.
// Byte identity of the signed result with opendkim 2.11: milters/dkim/tests/sign_options_test.sh.
#include "auth/config/replace_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace auth::config {
namespace {

std::string apply(const std::string& rules_text, const std::string& value) {
  auto rules = parse_replace_rules(rules_text);
  EXPECT_TRUE(rules) << rules.error().reason;
  if (!rules) return "<parse error>";
  auto rw = HeaderRewriter::compile(*rules);
  EXPECT_TRUE(rw) << rw.error().reason;
  if (!rw) return "<compile error>";
  auto r = rw->apply(value);
  EXPECT_TRUE(r) << r.error().reason;
  if (!r) return "<apply error>";
  return *r ? **r : "<unchanged>";
}

struct ApplyCase {
  const char* name;
  std::string rules, value, want;
};
class ReplaceApply : public testing::TestWithParam<ApplyCase> {};
TEST_P(ReplaceApply, AsDocumented) {
  const auto& c = GetParam();
  EXPECT_EQ(apply(c.rules, c.value), c.want);
}
const ApplyCase kApplyCases[] = {
    // Measured with opendkim 2.11 (its z= shows the stored value): identical results.
    {"Masquerade", "@host\\.example\\.org\t@example.org\n", "Alice <alice@host.example.org>", "Alice <alice@example.org>"},
    {"NoMatch", "foo\tbar\n", "nothing here", "<unchanged>"},
    {"ReverseFileOrder", "a\tb\nb\tc\n", "a", "b"},
    {"BasicSyntaxParensLiteral", "(x)+\tP\n", "(x)+ x+ xx", "P x+ xx"},
    {"GnuBackslashPlus", "b \\+c\tQ\n", "ab  cd", "aQd"},
    {"CaseSensitive", "hello\tX\n", "Hello", "<unchanged>"},
    {"LastTabSplits", "a\tb\tc\n", "a\tb", "c"},
    {"CommentAndTrailingBlanksKept", "x\ty  # comment\n", "x", "y  "},
    {"CrKept", "H\tX\r\n", "Hello", "X\rello"},
    {"EmptyReplacement", "-\t\n", "a-b", "ab"},
    {"Anchored", "^Re: \t\n", "Re: Re: x", "Re: x"},
    // Deliberate difference: every match once, left to right (opendkim: "HI", "YY", loops).
    {"EveryMatchOnce", "hello\tHI\n", "hello hello", "HI HI"},
    {"GrowingReplacement", "X\tYY\n", "aXbXcX", "aYYbYYcYY"},
    {"SelfMatchingReplacementTerminates", "example\\.org\tmail.example.org\n", "a@example.org", "a@mail.example.org"},
    {"NonAscii", "caf\xc3\xa9\tcoffee\n", "un caf\xc3\xa9", "un coffee"},
    {"WordBoundaryEmptyMatchAdvances", "\\>\t!\n", "ab cd", "ab! cd!"},
};
INSTANTIATE_TEST_SUITE_P(Rules, ReplaceApply, testing::ValuesIn(kApplyCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(ReplaceRules, ParseSkipsBlankAndCommentLines) {
  auto r = parse_replace_rules("# c\n\n \t \n#x\ta\nfoo\tbar # baz\nlast\tone");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, (std::vector<ReplaceRule>{{"foo", "bar "}, {"last", "one"}}));
  EXPECT_TRUE(parse_replace_rules("")->empty());
}

struct BadCase {
  std::string text, why;
};
class ReplaceParseBad : public testing::TestWithParam<BadCase> {};
TEST_P(ReplaceParseBad, Refused) {
  auto r = parse_replace_rules(GetParam().text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find(GetParam().why), std::string::npos) << r.error().reason;
}
INSTANTIATE_TEST_SUITE_P(
    Rules, ReplaceParseBad,
    testing::Values(BadCase{"no tab\n", "line 1: no TAB"}, BadCase{"ok\tx\n[a\tb\n", "line 2: bad regular expression"},
                    BadCase{"\tfoo\n", "matches the empty string"}, BadCase{"a*\tfoo\n", "matches the empty string"},
                    BadCase{"^$\tfoo\n", "matches the empty string"},
                    BadCase{std::string("a\0\tb\n", 5), "NUL byte"},
                    BadCase{std::string(kMaxReplaceRuleLine + 1, 'a') + "\n", "longer than 1023"},
                    BadCase{"a\\{99999\\}\tb\n", "bad regular expression"}));

TEST(ReplaceRules, CompileChecksToo) {
  EXPECT_FALSE(HeaderRewriter::compile({{"x*", "y"}}));
  EXPECT_FALSE(HeaderRewriter::compile({{"[", "y"}}));
  EXPECT_FALSE(HeaderRewriter::compile({{std::string("a\0", 2), "y"}}));
  EXPECT_TRUE(HeaderRewriter::compile({})->empty());
  EXPECT_FALSE((*HeaderRewriter::compile({})->apply("x")).has_value());
}

TEST(ReplaceRules, NulInValueLeftAlone) {
  auto rw = HeaderRewriter::compile({{"a", "b"}});
  ASSERT_TRUE(rw);
  auto r = rw->apply(std::string("a\0a", 3));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST(ReplaceRules, TenThousandMatchesHitTheBound) {
  auto rw = HeaderRewriter::compile({{"h", "X"}});
  ASSERT_TRUE(rw);
  auto ok = rw->apply(std::string(kMaxReplacementsPerField, 'h'));
  ASSERT_TRUE(ok);
  EXPECT_EQ(**ok, std::string(kMaxReplacementsPerField, 'X'));
  auto r = rw->apply(std::string(10000, 'h'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(ReplaceRules, GrowthHitsTheSizeBound) {
  auto rw = HeaderRewriter::compile({{"h", std::string(1000, 'X')}});
  ASSERT_TRUE(rw);
  auto r = rw->apply(std::string(100, 'h'));  // 100 000 bytes > kMaxReplacedValueBytes
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(ReplaceRules, ManyRulesEachApplied) {
  std::vector<ReplaceRule> rules;
  for (std::size_t i = 0; i < kMaxReplaceRules; ++i) rules.push_back({"k" + std::to_string(i) + "$", "v"});
  auto rw = HeaderRewriter::compile(rules);
  ASSERT_TRUE(rw) << rw.error().reason;
  EXPECT_EQ(**rw->apply("k999"), "v");
  rules.push_back({"one", "more"});
  EXPECT_FALSE(HeaderRewriter::compile(rules));
}

}  // namespace
}  // namespace auth::config
