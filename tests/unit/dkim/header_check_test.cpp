// check_strict_headers: libopendkim's StrictHeaders check (dkim.c dkim_headercheck), its field
// list, its order and its texts; hostile header blocks stay bounded.
#include "auth/dkim/header_check.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace auth::dkim {
namespace {

std::vector<mail::Field> fields(std::string_view block) {
  // One field per line ("Name: value"); a line starting with WSP continues the previous one.
  std::vector<mail::Field> out;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    auto f = mail::Field::parse(cur);
    EXPECT_TRUE(f) << cur;
    if (f) out.push_back(std::move(*f));
    cur.clear();
  };
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t eol = block.find('\n', pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    if (!line.empty() && line[0] != ' ' && line[0] != '\t') flush();
    cur.append(line).append("\r\n");
    pos = eol + 1;
  }
  flush();
  return out;
}

constexpr std::string_view kBase =
    "From: Joe <joe@example.com>\nTo: a@example.net\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: s\n";

struct Case {
  std::string_view name;
  std::string block;
  std::string want;  // "" = accepted
};

const Case kCases[] = {
    {"Conforming", std::string(kBase), ""},
    {"RepeatableFieldsAreFine",
     std::string(kBase) + "Received: a\nReceived: b\nComments: x\nComments: y\nKeywords: k\nKeywords: l\n"
                          "Resent-Date: x\nResent-Date: y\nDKIM-Signature: a\nDKIM-Signature: b\n",
     ""},
    {"OneOfEachAtMostOnce",
     std::string(kBase) + "Sender: s@example.com\nReply-To: r@example.com\nCc: c@example.com\nBcc: b@example.com\n"
                          "Message-ID: <1@x>\nIn-Reply-To: <0@x>\nReferences: <0@x>\n",
     ""},
    {"DateAbsent", "From: joe@example.com\nSubject: s\n", "Date: header field absent"},
    {"DateTwice", std::string(kBase) + "Date: Tue, 2 Jan 2024 00:00:00 +0000\n", "multiple Date: header fields present"},
    {"DateCaseInsensitive", std::string(kBase) + "DATE: x\n", "multiple Date: header fields present"},
    {"FromAbsent", "To: a@example.net\nDate: x\n", "From: header field absent"},
    {"FromTwiceBeforeAbsentCheck", "From: a@example.com\nfrom: b@example.com\nDate: x\n",
     "multiple From: header fields present"},
    {"DateCheckedBeforeFrom", "From: a@example.com\nFrom: b@example.com\n", "Date: header field absent"},
    {"FromUnparsable", "From: broken <<<\nDate: x\n", "From: header field cannot be parsed"},
    {"FromNoDomain", "From: joe\nDate: x\n", "From: header field cannot be parsed"},
    {"FromEmpty", "From: \nDate: x\n", "From: header field cannot be parsed"},
    {"FromFolded", "From: Joe\n <joe@example.com>\nDate: x\n", ""},
    {"SenderTwice", std::string(kBase) + "Sender: a@x.example\nSender: b@x.example\n",
     "multiple Sender: header fields present"},
    {"ReplyToTwice", std::string(kBase) + "Reply-To: a@x\nReply-To: b@x\n", "multiple Reply-To: header fields present"},
    {"ToTwice", std::string(kBase) + "To: b@example.net\n", "multiple To: header fields present"},
    {"CcTwice", std::string(kBase) + "Cc: a@x\nCC: b@x\n", "multiple Cc: header fields present"},
    {"BccTwice", std::string(kBase) + "Bcc: a@x\nBcc: b@x\n", "multiple Bcc: header fields present"},
    {"MessageIdTwice", std::string(kBase) + "Message-ID: <1@x>\nMessage-Id: <2@x>\n",
     "multiple Message-ID: header fields present"},
    {"InReplyToTwice", std::string(kBase) + "In-Reply-To: <1@x>\nIn-Reply-To: <2@x>\n",
     "multiple In-Reply-To: header fields present"},
    {"ReferencesTwice", std::string(kBase) + "References: <1@x>\nReferences: <2@x>\n",
     "multiple References: header fields present"},
    {"SubjectTwice", std::string(kBase) + "Subject: again\n", "multiple Subject: header fields present"},
    {"FirstViolationInLibOpenDkimOrder", std::string(kBase) + "Subject: again\nSender: a@x\nSender: b@x\n",
     "multiple Sender: header fields present"},
    {"NonAsciiValuesAreNotCounted", std::string(kBase) + "X-Subject: \xc3\xa9\nSubjects: x\n", ""},
};

class StrictHeaders : public testing::TestWithParam<Case> {};

TEST_P(StrictHeaders, AsLibOpenDkim) {
  const Case& c = GetParam();
  auto r = check_strict_headers(fields(c.block));
  if (c.want.empty()) {
    EXPECT_TRUE(r) << "got " << r.error().reason << " want accepted";
  } else {
    ASSERT_FALSE(r) << "got accepted want " << c.want;
    EXPECT_EQ(r.error().code, ErrorCode::Syntax);
    EXPECT_EQ(r.error().reason, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(Dkim, StrictHeaders, testing::ValuesIn(kCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(StrictHeadersBounds, TenThousandRepetitions) {
  // 10 000 Received fields: accepted; 10 000 Subject fields: the first repeat is reported.
  std::vector<mail::Field> many = fields(kBase);
  auto received = mail::Field::parse("Received: from x by y\r\n");
  ASSERT_TRUE(received);
  for (int i = 0; i < 10000; ++i) many.push_back(*received);
  EXPECT_TRUE(check_strict_headers(many));
  auto subject = mail::Field::parse("Subject: again\r\n");
  ASSERT_TRUE(subject);
  for (int i = 0; i < 10000; ++i) many.push_back(*subject);
  auto r = check_strict_headers(many);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "multiple Subject: header fields present");
  EXPECT_FALSE(check_strict_headers({})) << "an empty header block has no Date";
}

TEST(StrictHeadersBounds, HostileFromValues) {
  for (std::string v : {std::string(5000, '<'), std::string(5000, '('), std::string("a\0b@example.com", 15),
                        std::string(70000, 'a') + "@example.com"}) {
    auto from = mail::Field::parse("From: " + v + "\r\n");
    auto date = mail::Field::parse("Date: x\r\n");
    if (!from || !date) continue;  // the field parser already refuses it
    auto r = check_strict_headers({*from, *date});
    if (!r) {
      EXPECT_EQ(r.error().reason, "From: header field cannot be parsed");
    }
  }
}

}  // namespace
}  // namespace auth::dkim
