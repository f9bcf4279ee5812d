#include "milterclient/message.h"
#include "milterclient/milter_client.h"

#include <gtest/gtest.h>

namespace inkan::milterclient {
namespace {

TEST(ParseMessage, HeadersFoldingAndBody) {
  auto m = parse_message("From: a@example.com\nSubject: hello\n  world\nX-Empty:\n\nline1\nline2\n");
  ASSERT_TRUE(m) << m.error().reason;
  ASSERT_EQ(m->headers.size(), 3u);
  EXPECT_EQ(m->headers[1].name, "Subject");
  EXPECT_EQ(m->headers[1].raw_value, " hello\n  world");
  EXPECT_EQ(Message::wire_value(m->headers[1], false), "hello\n  world");
  EXPECT_EQ(Message::wire_value(m->headers[1], true), " hello\n  world");
  EXPECT_EQ(m->headers[2].raw_value, "");
  EXPECT_EQ(m->body, "line1\r\nline2\r\n");
}

TEST(ParseMessage, CrlfInput) {
  auto m = parse_message("A: 1\r\nB: 2\r\n\tx\r\n\r\nbody\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->headers[1].raw_value, " 2\n\tx");
  EXPECT_EQ(m->body, "body\r\n");
  EXPECT_EQ(render_message(*m), "A: 1\r\nB: 2\r\n\tx\r\n\r\nbody\r\n");
}

TEST(ParseMessage, Errors) {
  EXPECT_FALSE(parse_message(" continuation first\n"));
  EXPECT_FALSE(parse_message("From someone Mon Jan 1\n"));
  EXPECT_FALSE(parse_message(":novalue\n"));
  std::string many;
  for (std::size_t i = 0; i <= kMaxHeaderFields; ++i) many += "X: 1\n";
  auto r = parse_message(many);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, auth::ErrorCode::LimitExceeded);
}

TEST(ParseMessage, NoBody) {
  auto m = parse_message("A: 1\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "");
}

TEST(Apply, HeaderModifications) {
  auto m = *parse_message("Received: by mx\nAuthentication-Results: mx; dkim=pass\nFrom: a@x\n"
                          "Authentication-Results: mx; spf=pass\n\nb\n");
  using K = Modification::Kind;
  std::vector<Modification> mods = {
      {K::InsertHeader, 0, "DKIM-Signature", "v=1;\n\tb=abc"},
      {K::ChangeHeader, 2, "authentication-results", ""},  // delete the 2nd occurrence
      {K::ChangeHeader, 1, "From", "b@y"},
      {K::AddHeader, 0, "X-Inkan-Null", "ok"},
      {K::ChangeHeader, 1, "X-Missing", "added"},
      {K::ChangeHeader, 3, "X-Missing-Too", ""},  // deleting nothing is nothing
      {K::InsertHeader, 999, "X-Last", "z"},
  };
  auto out = apply_modifications(m, mods, false);
  EXPECT_EQ(render_message(out),
            "DKIM-Signature: v=1;\r\n\tb=abc\r\nReceived: by mx\r\nAuthentication-Results: mx; dkim=pass\r\n"
            "From: b@y\r\nX-Inkan-Null: ok\r\nX-Missing: added\r\nX-Last: z\r\n\r\nb\r\n");
  // With SMFIP_HDR_LEADSPC the filter supplies its own leading space.
  auto ls = apply_modifications(m, {{K::AddHeader, 0, "X-A", " ok"}}, true);
  EXPECT_EQ(ls.headers.back().raw_value, " ok");
}

TEST(Apply, ReplaceBody) {
  auto m = *parse_message("A: 1\n\nold\n");
  using K = Modification::Kind;
  auto out = apply_modifications(m, {{K::ReplaceBody, 0, "", "new "}, {K::ReplaceBody, 0, "", "body\r\n"}}, false);
  EXPECT_EQ(out.body, "new body\r\n");
}

TEST(Chunks, Split) {
  std::string body(65535 * 2 + 10, 'x');
  auto c = body_chunks(body);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].size(), 65535u);
  EXPECT_EQ(c[2].size(), 10u);
  EXPECT_TRUE(body_chunks("").empty());
  EXPECT_EQ(body_chunks("abc", 0).size(), 1u);
}

TEST(MacroArg, Parse) {
  auto m = parse_macro_arg("mail:{auth_authen}=alice");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stage, MacroStage::Mail);
  EXPECT_EQ(m->name, "{auth_authen}");
  EXPECT_EQ(m->value, "alice");
  auto c = parse_macro_arg("C:j=mx.example.net");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stage, MacroStage::Connect);
  EXPECT_EQ(parse_macro_arg("E:i=")->value, "");
  EXPECT_FALSE(parse_macro_arg("x:i=1"));
  EXPECT_FALSE(parse_macro_arg("mail:=1"));
  EXPECT_FALSE(parse_macro_arg("mail"));
}

}  // namespace
}  // namespace inkan::milterclient
