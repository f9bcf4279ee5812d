// auth::policy protocol: request reader (hostile input) and reply formatter.
#include "auth/policy/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace auth::policy;

constexpr std::string_view kLabRequest =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
    "helo_name=mail.example.com\nqueue_id=QID1\ninstance=inst1\nsender=user@example.com\n"
    "recipient=rcpt@example.org\nclient_address=192.0.2.5\nclient_name=unknown\n"
    "reverse_client_name=unknown\n\n";

TEST(PolicyReader, LabRequestWhole) {
  auto r = parse_request(kLabRequest);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->attributes.size(), 11u);
  EXPECT_EQ(r->value("helo_name"), "mail.example.com");
  EXPECT_EQ(r->value("queue_id"), "QID1");
  EXPECT_EQ(r->value("client_address"), "192.0.2.5");
  EXPECT_FALSE(r->has("ccert_subject"));
  EXPECT_EQ(r->value("nothing"), "");
}

TEST(PolicyReader, ByteByByteEqualsWhole) {
  RequestReader rd;
  std::string twice = std::string(kLabRequest) + std::string(kLabRequest);
  for (char c : twice) {
    rd.feed(std::string_view(&c, 1));
  }
  EXPECT_EQ(rd.ready(), 2u);
  auto a = rd.next();
  auto b = rd.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->attributes, b->attributes);
  EXPECT_FALSE(rd.next());
  EXPECT_FALSE(rd.mid_request());
}

TEST(PolicyReader, CrLfWhitespaceAndEmptyValues) {
  RequestReader rd;
  rd.feed("  sender =  \r\nrecipient=a@b\r\n \t\r\n");
  auto r = rd.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get("sender"), std::optional<std::string_view>(""));  // rstrip: value empty
  EXPECT_EQ(r->value("recipient"), "a@b");
}

TEST(PolicyReader, ValueKeepsInnerEqualsAndLeadingSpace) {
  auto r = parse_request("ccert_subject=CN=x, O=y\nsender= a@b\n\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value("ccert_subject"), "CN=x, O=y");
  EXPECT_EQ(r->value("sender"), " a@b");
}

TEST(PolicyReader, DuplicateLastWins) {
  auto r = parse_request("sender=a@x\nsender=b@y\n\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->attributes.size(), 1u);
  EXPECT_EQ(r->value("sender"), "b@y");
}

TEST(PolicyReader, MalformedLinesSkippedAndCounted) {
  constexpr char kText[] = "no equals here\n=value\nname\0x=1\nok=1\n\n";
  auto r = parse_request(std::string_view(kText, sizeof kText - 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->malformed_lines, 3u);
  EXPECT_EQ(r->value("ok"), "1");
}

TEST(PolicyReader, NoEmptyLineIsIncomplete) {
  RequestReader rd;
  rd.feed("sender=a@b\nrecipient=c@d\n");
  EXPECT_EQ(rd.ready(), 0u);
  EXPECT_TRUE(rd.mid_request());
  EXPECT_FALSE(rd.failed());
  auto p = parse_request("sender=a@b\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, auth::ErrorCode::Syntax);
  EXPECT_FALSE(parse_request("a=1\n\nb=2\n\n"));
}

TEST(PolicyReader, OverlongLinePoisonsStream) {
  RequestReader rd;
  std::string big(kMaxLineBytes + 1, 'a');
  rd.feed("sender=");
  rd.feed(big);
  EXPECT_TRUE(rd.failed());
  EXPECT_EQ(rd.error()->code, auth::ErrorCode::LimitExceeded);
  rd.feed("\n\n");
  EXPECT_EQ(rd.ready(), 0u);  // sticky
}

TEST(PolicyReader, LineAtLimitAccepted) {
  std::string v(kMaxLineBytes - 2, 'v');
  auto r = parse_request("x=" + v + "\n\n");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->value("x").size(), v.size());
}

TEST(PolicyReader, TenThousandAttributesBounded) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "attr" + std::to_string(i) + "=v\n";
  text += "\n";
  RequestReader rd;
  rd.feed(text);
  EXPECT_TRUE(rd.failed());
  EXPECT_EQ(rd.ready(), 0u);
  // The same name 10 000 times collapses into one attribute (the last wins): memory stays
  // bounded without a limit on repetitions.
  std::string same;
  for (int i = 0; i < 10000; ++i) same += "sender=x" + std::to_string(i) + "\n";
  same += "\n";
  auto one = parse_request(same);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->attributes.size(), 1u);
  EXPECT_EQ(one->value("sender"), "x9999");
  // 10 000 junk lines are bounded like attributes.
  std::string junk;
  for (int i = 0; i < 10000; ++i) junk += "junk line\n";
  EXPECT_FALSE(parse_request(junk + "\n"));
  // Exactly the limit is fine.
  std::string ok;
  for (std::size_t i = 0; i < kMaxAttributes; ++i) ok += "a" + std::to_string(i) + "=1\n";
  ok += "\n";
  auto r = parse_request(ok);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->attributes.size(), kMaxAttributes);
}

TEST(PolicyReader, TenThousandEmptyRequests) {
  RequestReader rd;
  rd.feed(std::string(10000, '\n'));
  EXPECT_EQ(rd.ready(), 10000u);
  auto r = rd.next();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->attributes.empty());
}

TEST(PolicyReader, NonAsciiKept) {
  auto r = parse_request("helo_name=m\xc3\xa4il.example\n\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value("helo_name"), "m\xc3\xa4il.example");
}

TEST(PolicyResponse, Format) {
  EXPECT_EQ(format_response("dunno"), "action=dunno\n\n");
  EXPECT_EQ(format_response("prepend Received-SPF: Pass (mailfrom) x "),
            "action=prepend Received-SPF: Pass (mailfrom) x \n\n");
  // CR, LF and NUL never reach Postfix: they would end the reply early.
  EXPECT_EQ(format_response(std::string_view("550 a\r\nb\0c", 10)), "action=550 a  b c\n\n");
  std::string big(kMaxActionBytes * 2, 'x');
  EXPECT_EQ(format_response(big).size(), std::string("action=").size() + kMaxActionBytes + 2);
}

}  // namespace
