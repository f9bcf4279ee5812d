#include "common/action.h"

#include <gtest/gtest.h>

namespace inkan::milter {
namespace {

struct ReplyCase {
  std::string_view name;
  Verdict verdict;
  Reply in;
  bool ok;
  Reply want;
};

const ReplyCase kReplyCases[] = {
    {"reject_full", Verdict::Reject, {"550", "5.7.1", "rejected by DMARC policy"}, true,
     {"550", "5.7.1", "rejected by DMARC policy"}},
    {"tempfail_key", Verdict::TempFail, {"451", "4.7.5", "DKIM key retrieval failed"}, true,
     {"451", "4.7.5", "DKIM key retrieval failed"}},
    {"default_code_reject", Verdict::Reject, {"", "", "bad"}, true, {"550", "", "bad"}},
    {"default_code_tempfail", Verdict::TempFail, {"", "4.7.0", ""}, true, {"451", "4.7.0", ""}},
    {"percent_escaped", Verdict::Reject, {"550", "", "100% bad"}, true, {"550", "", "100%% bad"}},
    {"crlf_injection", Verdict::Reject, {"550", "", "a\r\n250 ok"}, true, {"550", "", "a  250 ok"}},
    {"nul_and_controls", Verdict::Reject, {"550", "", std::string("a\0b\x7f", 4)}, true, {"550", "", "a b "}},
    {"class_mismatch", Verdict::Reject, {"451", "", ""}, false, {}},
    {"xcode_mismatch", Verdict::Reject, {"550", "4.7.1", ""}, false, {}},
    {"xcode_malformed", Verdict::Reject, {"550", "5.7", ""}, false, {}},
    {"xcode_long_subject", Verdict::Reject, {"550", "5.1234.1", ""}, false, {}},
    {"xcode_three_digits", Verdict::Reject, {"550", "5.123.456", ""}, true, {"550", "5.123.456", ""}},
    {"rcode_letters", Verdict::TempFail, {"4x1", "", ""}, false, {}},
    {"rcode_short", Verdict::TempFail, {"45", "", ""}, false, {}},
    {"accept_takes_no_reply", Verdict::Accept, {"250", "", ""}, false, {}},
};

class SanitizeReply : public testing::TestWithParam<ReplyCase> {};

TEST_P(SanitizeReply, Table) {
  const auto& c = GetParam();
  auto r = sanitize_reply(c.verdict, c.in);
  ASSERT_EQ(r.has_value(), c.ok) << (r ? std::string("ok") : r.error().reason);
  if (c.ok) {
    EXPECT_EQ(r->rcode, c.want.rcode);
    EXPECT_EQ(r->xcode, c.want.xcode);
    EXPECT_EQ(r->text, c.want.text) << "got " << r->text << " want " << c.want.text;
  }
}

INSTANTIATE_TEST_SUITE_P(All, SanitizeReply, testing::ValuesIn(kReplyCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(SanitizeReply, LongTextIsBounded) {
  Reply in{"550", "5.7.0", std::string(100000, '%')};
  auto r = sanitize_reply(Verdict::Reject, in);
  ASSERT_TRUE(r);
  EXPECT_LE(r->text.size(), kMaxReplyText);
  EXPECT_EQ(r->text.size() % 2, 0u) << "an escape pair was cut in half";
}

TEST(HeaderName, Valid) {
  EXPECT_TRUE(validate_header_name("DKIM-Signature"));
  EXPECT_TRUE(validate_header_name("X-Inkan-Null"));
  EXPECT_FALSE(validate_header_name(""));
  EXPECT_FALSE(validate_header_name("Bad Name"));
  EXPECT_FALSE(validate_header_name("Bad:Name"));
  EXPECT_FALSE(validate_header_name("X\nInjected"));
  EXPECT_FALSE(validate_header_name(std::string("X\0Y", 3)));
  EXPECT_FALSE(validate_header_name("Ünicode"));
  EXPECT_EQ(validate_header_name(std::string(999, 'a')).error().code, auth::ErrorCode::LimitExceeded);
  EXPECT_TRUE(validate_header_name(std::string(998, 'a')));
}

struct ValueCase {
  std::string_view name;
  std::string in;
  bool ok;
  std::string want;
};

const ValueCase kValueCases[] = {
    {"plain", " v=1; a=rsa-sha256", true, " v=1; a=rsa-sha256"},
    {"lf_fold", "a;\n\tb=c", true, "a;\n\tb=c"},
    {"crlf_fold", "a;\r\n\tb=c", true, "a;\n\tb=c"},
    {"space_fold", "a\n b", true, "a\n b"},
    {"injection", "ok\nBcc: victim@example.com", false, ""},
    {"crlf_injection", "ok\r\nBcc: x", false, ""},
    {"bare_cr", "a\rb", false, ""},
    {"trailing_lf", "a\n", false, ""},
    {"nul", std::string("a\0b", 3), false, ""},
    {"empty", "", true, ""},
};

class HeaderValue : public testing::TestWithParam<ValueCase> {};

TEST_P(HeaderValue, Table) {
  const auto& c = GetParam();
  auto r = normalize_header_value(c.in);
  ASSERT_EQ(r.has_value(), c.ok);
  if (c.ok) {
    EXPECT_EQ(*r, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(All, HeaderValue, testing::ValuesIn(kValueCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(HeaderValue, TenThousandFoldsStayBounded) {
  std::string v;
  for (int i = 0; i < 10000; ++i) v += "x\n\t";
  v += "end";
  auto r = normalize_header_value(v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), v.size());
  EXPECT_FALSE(normalize_header_value(std::string(kMaxHeaderValueLength + 1, 'a')));
}

TEST(DefaultAction, ParseAndMap) {
  EXPECT_EQ(parse_default_action("accept"), DefaultAction::Accept);
  EXPECT_EQ(parse_default_action("TempFail"), DefaultAction::TempFail);
  EXPECT_EQ(parse_default_action("t"), DefaultAction::TempFail);
  EXPECT_EQ(parse_default_action("reject"), std::nullopt);
  EXPECT_EQ(Action::from_default(DefaultAction::Accept).verdict, Verdict::Accept);
  EXPECT_EQ(Action::from_default(DefaultAction::TempFail).verdict, Verdict::TempFail);
  EXPECT_FALSE(Action::from_default(DefaultAction::TempFail).reply.has_value());
  EXPECT_EQ(Action::reject("550", "5.7.1", "no").reply->xcode, "5.7.1");
  EXPECT_FALSE(Action::reject().reply.has_value());
  EXPECT_EQ(to_string(Verdict::Quarantine), "quarantine");
}

}  // namespace
}  // namespace inkan::milter
