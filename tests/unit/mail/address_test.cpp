// Tests for auth/mail/address.h: RFC 5322 Appendix A, obsolete forms, hostile input, authors.
#include "auth/mail/address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace auth::mail {
namespace {

struct Want {
  std::string display, local, domain, group;
};
struct ListCase {
  std::string_view name;
  std::string input;
  std::vector<Want> want;
};

std::string show(const std::vector<Mailbox>& got) {
  std::string s;
  for (const auto& m : got) {
    s += "{'" + m.display_name + "' " + m.local_part + " @ " + m.domain + " group='" + m.group + "'} ";
  }
  return s;
}

const ListCase kValid[] = {
    // RFC 5322 A.1.1 A message from one person to another with simple addressing.
    {"A_1_1_from", "John Doe <jdoe@machine.example>", {{"John Doe", "jdoe", "machine.example", ""}}},
    {"A_1_1_to", "Mary Smith <mary@example.net>", {{"Mary Smith", "mary", "example.net", ""}}},
    // A.1.2 Different types of mailboxes.
    {"A_1_2_from", "\"Joe Q. Public\" <john.q.public@example.com>",
     {{"Joe Q. Public", "john.q.public", "example.com", ""}}},
    {"A_1_2_to", "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
     {{"Mary Smith", "mary", "x.test", ""}, {"", "jdoe", "example.org", ""},
      {"Who?", "one", "y.test", ""}}},
    {"A_1_2_cc", "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
     {{"", "boss", "nil.test", ""}, {"Giant; \"Big\" Box", "sysservices", "example.net", ""}}},
    // A.1.3 Group addresses.
    {"A_1_3_to", "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
     {{"Ed Jones", "c", "a.test", "A Group"}, {"", "joe", "where.test", "A Group"},
      {"John", "jdoe", "one.test", "A Group"}}},
    {"A_1_3_cc", "Undisclosed recipients:;", {}},
    // A.2 Reply messages.
    {"A_2_reply_to", "\"Mary Smith: Personal Account\" <smith@home.example>",
     {{"Mary Smith: Personal Account", "smith", "home.example", ""}}},
    // A.5 White space, comments, and other oddities.
    {"A_5_from", "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
     {{"Pete", "pete", "silly.test", ""}}},
    {"A_5_to",
     "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
     "         joe@example.org,\r\n  John <jdoe@one.test> (my dpt. and/or my addr.)\r\n  ;",
     {{"Chris Jones", "c", "public.example", "A Group"}, {"", "joe", "example.org", "A Group"},
      {"John", "jdoe", "one.test", "A Group"}}},
    {"A_5_cc", "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", {}},
    // A.6.1 Obsolete addressing.
    {"A_6_1_from", "Joe Q. Public <john.q.public@example.com>",
     {{"Joe Q. Public", "john.q.public", "example.com", ""}}},
    {"A_6_1_to", "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
     {{"Mary Smith", "mary", "example.net", ""}, {"", "jdoe", "test.example", ""}}},
    // A.6.3 Obsolete white space and comments.
    {"A_6_3_from", "John Doe <jdoe@machine(comment).  example>",
     {{"John Doe", "jdoe", "machine.example", ""}}},
    {"A_6_3_to", "Mary Smith\r\n  \r\n <mary@example.net>", {{"Mary Smith", "mary", "example.net", ""}}},
    // More obsolete forms real mail uses.
    {"obs_route_multi", "<@a.test,@b.test:user@c.test>", {{"", "user", "c.test", ""}}},
    {"obs_local_part_cfws", "john . (x) doe@example.com", {{"", "john.doe", "example.com", ""}}},
    {"obs_local_part_quoted_word", "\"john\".doe@example.com",
     {{"", "\"john\".doe", "example.com", ""}}},
    {"quoted_local_part", "\"john doe\\\"x\"@example.com",
     {{"", "\"john doe\\\"x\"", "example.com", ""}}},
    {"tolerated_double_dot", "foo..bar.@docomo.ne.jp", {{"", "foo..bar.", "docomo.ne.jp", ""}}},
    {"domain_literal", "user@[192.0.2.1]", {{"", "user", "[192.0.2.1]", ""}}},
    {"domain_literal_ipv6", "Admin <root@[IPv6:2001:db8::1]>",
     {{"Admin", "root", "[IPv6:2001:db8::1]", ""}}},
    {"utf8_display_name", "J\xC3\xBCrgen M\xC3\xBCller <jm@example.de>",
     {{"J\xC3\xBCrgen M\xC3\xBCller", "jm", "example.de", ""}}},
    {"utf8_quoted_display", "\"\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E\" <t@example.jp>",
     {{"\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E", "t", "example.jp", ""}}},
    {"encoded_word_not_decoded", "=?UTF-8?B?SsO8cmdlbg==?= <j@example.de>",
     {{"=?UTF-8?B?SsO8cmdlbg==?=", "j", "example.de", ""}}},
    {"eai_domain", "u@b\xC3\xBC" "cher.example", {{"", "u", "b\xC3\xBC" "cher.example", ""}}},
    {"comment_only_after_addr", "pete@silly.test (Pete)", {{"", "pete", "silly.test", ""}}},
    {"empty", "", {}},
    {"cfws_only", "  (just a comment)  ", {}},
    {"empty_elements", ",,a@b.test,,", {{"", "a", "b.test", ""}}},
    {"group_missing_semicolon_at_end", "undisclosed-recipients:", {}},
    {"two_groups", "G1: a@x.test;, G2: b@y.test;",
     {{"", "a", "x.test", "G1"}, {"", "b", "y.test", "G2"}}},
    {"nested_comments_bounded_ok", std::string(kMaxCommentDepth, '(') +
                                       std::string(kMaxCommentDepth, ')') + "a@b.test",
     {{"", "a", "b.test", ""}}},
    {"case_preserved", "Bob <Bob@Example.COM>", {{"Bob", "Bob", "Example.COM", ""}}},
};

class AddressListTest : public testing::TestWithParam<ListCase> {};
TEST_P(AddressListTest, Parses) {
  const auto& c = GetParam();
  auto got = parse_address_list(c.input);
  ASSERT_TRUE(got) << "got error " << got.error().reason << ", want " << c.want.size() << " mailboxes";
  ASSERT_EQ(got->size(), c.want.size()) << "got " << show(*got);
  for (std::size_t i = 0; i < c.want.size(); ++i) {
    const Mailbox& m = (*got)[i];
    EXPECT_EQ(m.display_name, c.want[i].display) << "mailbox " << i;
    EXPECT_EQ(m.local_part, c.want[i].local) << "mailbox " << i;
    EXPECT_EQ(m.domain, c.want[i].domain) << "mailbox " << i;
    EXPECT_EQ(m.group, c.want[i].group) << "mailbox " << i;
  }
}
INSTANTIATE_TEST_SUITE_P(Rfc5322, AddressListTest, testing::ValuesIn(kValid),
                         [](const auto& i) { return std::string(i.param.name); });

struct BadCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
};
const BadCase kInvalid[] = {
    {"unbalanced_quote", "\"Joe <joe@example.com>", ErrorCode::Syntax},
    {"quote_ends_in_backslash", "\"Joe\\", ErrorCode::Syntax},
    {"unbalanced_comment", "Joe (oops <joe@example.com>", ErrorCode::Syntax},
    {"stray_close_paren", "Joe) <joe@example.com>", ErrorCode::Syntax},
    {"unclosed_angle", "Joe <joe@example.com", ErrorCode::Syntax},
    {"stray_gt", "joe@example.com>", ErrorCode::Syntax},
    {"no_at", "Joe <joe>", ErrorCode::Syntax},
    {"bare_word", "joe", ErrorCode::Syntax},
    {"phrase_only", "Joe Public", ErrorCode::Syntax},
    {"empty_angle", "<>", ErrorCode::Syntax},
    {"empty_local", "@example.com", ErrorCode::Syntax},
    {"empty_domain", "joe@", ErrorCode::Syntax},
    {"domain_double_dot", "joe@example..com", ErrorCode::Syntax},
    {"domain_trailing_dot", "joe@example.com.", ErrorCode::Syntax},
    {"missing_comma", "a@b.test c@d.test", ErrorCode::Syntax},
    {"words_in_local_part", "john doe@example.com", ErrorCode::Syntax},
    {"nul_byte", std::string("Jo\0e <joe@example.com>", 22), ErrorCode::Syntax},
    {"nul_in_quoted", std::string("\"a\0\" <a@b.test>", 15), ErrorCode::Syntax},
    {"control_char", "Jo\x01" "e <joe@example.com>", ErrorCode::Syntax},
    {"nested_group", "G: H: a@b.test;;", ErrorCode::Syntax},
    {"group_without_name", ": a@b.test;", ErrorCode::Syntax},
    {"unterminated_literal", "a@[1.2.3.4", ErrorCode::Syntax},
    {"nested_literal", "a@[1.[2].3]", ErrorCode::Syntax},
    {"deep_comment_10000", std::string(10000, '(') + "a@b.test", ErrorCode::LimitExceeded},
    {"deep_balanced_10000", std::string(10000, '(') + std::string(10000, ')') + "a@b.test",
     ErrorCode::LimitExceeded},
    {"one_too_deep", std::string(kMaxCommentDepth + 1, '(') +
                         std::string(kMaxCommentDepth + 1, ')') + "a@b.test",
     ErrorCode::LimitExceeded},
    {"too_many_mailboxes", [] {
       std::string s;
       for (int i = 0; i < 10000; ++i) s += "a@b.test,";
       return s;
     }(), ErrorCode::LimitExceeded},
    {"overlong_input", "a@" + std::string(kMaxAddressListBytes, 'b'), ErrorCode::LimitExceeded},
    // Display-name spoofing shapes: an unquoted address before the real one is not a name.
    {"unquoted_addr_as_display_name", "paypal.com@paypal.com <evil@attacker.example>",
     ErrorCode::Syntax},
    {"two_angle_addrs", "<a@b.test> <c@d.test>", ErrorCode::Syntax},
    {"unclosed_quote_10000", std::string(10000, '"') + "\"", ErrorCode::Syntax},
};
class AddressListErrorTest : public testing::TestWithParam<BadCase> {};
TEST_P(AddressListErrorTest, Rejected) {
  const auto& c = GetParam();
  auto got = parse_address_list(c.input);
  ASSERT_FALSE(got) << "got " << show(*got) << ", want an error";
  EXPECT_EQ(got.error().code, c.code) << "got " << to_string(got.error().code) << ": "
                                      << got.error().reason;
  EXPECT_FALSE(got.error().reason.empty());
}
INSTANTIATE_TEST_SUITE_P(Hostile, AddressListErrorTest, testing::ValuesIn(kInvalid),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(AddressList, ExactlyMaxMailboxesAccepted) {
  std::string s;
  for (std::size_t i = 0; i < kMaxMailboxes; ++i) s += "a@b.test, ";
  auto got = parse_address_list(s);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(got->size(), kMaxMailboxes);
}

TEST(AddressList, TenThousandEmptyElementsStayBounded) {
  auto got = parse_address_list(std::string(10000, ',') + "a@b.test");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 1u);
}

TEST(AddressList, AddrSpecHelper) {
  auto got = parse_address_list("Joe <joe@[10.0.0.1]>, x@y.test");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)[0].addr_spec(), "joe@[10.0.0.1]");
  EXPECT_TRUE((*got)[0].domain_is_literal());
  EXPECT_FALSE((*got)[1].domain_is_literal());
}

TEST(AuthorDomains, LowerCasedDistinctInOrder) {
  auto d = author_domains("A <a@Example.COM>, b@other.example, c@EXAMPLE.com");
  ASSERT_TRUE(d) << d.error().reason;
  EXPECT_EQ(*d, (std::vector<std::string>{"example.com", "other.example"}));
}

TEST(AuthorDomains, ErrorKinds) {
  auto none = author_domains("");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::Missing);
  auto group = author_domains("undisclosed-recipients:;");
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().code, ErrorCode::Missing);
  auto bad = author_domains("Joe <joe@");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Syntax);
  auto deep = author_domains(std::string(10000, '(') + "a@b.test");
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, ErrorCode::LimitExceeded);
}

TEST(AuthorDomains, QuotedAddressInDisplayNameIsNotTheAuthor) {
  auto d = single_author_domain("\"ceo@bank.example\" <phish@attacker.example>");
  ASSERT_TRUE(d) << d.error().reason;
  EXPECT_EQ(*d, "attacker.example");
}

TEST(AuthorDomains, DomainLiteralReturnedAsWritten) {
  auto d = author_domains("root@[192.0.2.1]");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, std::vector<std::string>{"[192.0.2.1]"});
}

TEST(SingleAuthorDomain, OneDomainOrAmbiguous) {
  auto one = single_author_domain("\"Joe Q. Public\" <john.q.public@Example.com>");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, "example.com");
  auto same = single_author_domain("a@example.com, b@EXAMPLE.COM");
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, "example.com");
  auto two = single_author_domain("a@example.com, b@example.net");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ErrorCode::Duplicate);
  auto none = single_author_domain("(nobody)");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::Missing);
}

}  // namespace
}  // namespace auth::mail
