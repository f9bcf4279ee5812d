// Tests for auth/mail/header.h: splitting, unfolding, LF repair, raw bytes, limits.
#include "auth/mail/header.h"

#include <gtest/gtest.h>

#include <random>

#include <string>

#include "auth/mail/ascii.h"

namespace auth::mail {
namespace {

TEST(ToCrlf, ConvertsOnlyBareLf) {
  EXPECT_EQ(to_crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(to_crlf("\n"), "\r\n");
  EXPECT_EQ(to_crlf("lone\rcr"), "lone\rcr");
  EXPECT_EQ(to_crlf(""), "");
  EXPECT_EQ(to_crlf("\r\n\r\n"), "\r\n\r\n");
}

TEST(SplitMessage, CrlfMessage) {
  const std::string msg = "From: a@b\r\nTo: c@d\r\n\r\nbody\r\n";
  const MessageParts p = split_message(msg);
  EXPECT_TRUE(p.has_separator);
  EXPECT_EQ(p.header, "From: a@b\r\nTo: c@d\r\n");
  EXPECT_EQ(p.body, "body\r\n");
  EXPECT_EQ(p.body_offset, msg.find("body"));
}

TEST(SplitMessage, LfOnlyMessage) {
  const std::string msg = "From: a@b\nTo: c@d\n\nbody\n";
  const MessageParts p = split_message(msg);
  EXPECT_TRUE(p.has_separator);
  EXPECT_EQ(p.header, "From: a@b\nTo: c@d\n");
  EXPECT_EQ(p.body, "body\n");
}

TEST(SplitMessage, HeaderOnlyAndEmptyHeader) {
  MessageParts p = split_message("From: a@b\r\n");
  EXPECT_FALSE(p.has_separator);
  EXPECT_EQ(p.header, "From: a@b\r\n");
  EXPECT_EQ(p.body, "");
  EXPECT_EQ(p.body_offset, 11u);
  p = split_message("\r\nbody only");
  EXPECT_TRUE(p.has_separator);
  EXPECT_EQ(p.header, "");
  EXPECT_EQ(p.body, "body only");
  // A blank-looking line holding WSP is a (broken) continuation, not the separator.
  p = split_message("A: b\r\n \r\nC: d\r\n\r\nx");
  EXPECT_EQ(p.body, "x");
}

struct UnfoldCase {
  std::string_view name, raw, want;
};
const UnfoldCase kUnfold[] = {
    {"plain", " value", "value"},
    {"crlf_space", " a\r\n b", "a b"},
    {"crlf_tab", " a\r\n\tb", "a\tb"},
    {"lf_only", " a\n b", "a b"},
    {"multiple", " a\r\n  b\r\n c ", "a  b c"},
    {"trailing_ws", " a \t", "a"},
    {"empty", "", ""},
    {"only_folding", "\r\n \r\n ", ""},
    {"utf8_kept", " Gr\xC3\xBC\xC3\x9F" "e", "Gr\xC3\xBC\xC3\x9F" "e"},
};
class UnfoldTest : public testing::TestWithParam<UnfoldCase> {};
TEST_P(UnfoldTest, Unfolds) {
  EXPECT_EQ(unfold(GetParam().raw), GetParam().want) << "raw=" << GetParam().raw;
}
INSTANTIATE_TEST_SUITE_P(Rfc5322_2_2_3, UnfoldTest, testing::ValuesIn(kUnfold),
                         [](const auto& i) { return std::string(i.param.name); });

// The straightforward byte-by-byte definition, kept here as the reference for unfold().
std::string reference_unfold(std::string_view raw) {
  auto wsp = [](char c) { return c == ' ' || c == '\t'; };
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\r' && i + 2 < raw.size() && raw[i + 1] == '\n' && wsp(raw[i + 2])) {
      ++i;
      continue;
    }
    if (c == '\n' && i + 1 < raw.size() && wsp(raw[i + 1])) continue;
    out.push_back(c);
  }
  auto trim = [&](char c) { return wsp(c) || c == '\r' || c == '\n'; };
  std::size_t b = 0, e = out.size();
  while (b < e && trim(out[b])) ++b;
  while (e > b && trim(out[e - 1])) --e;
  return out.substr(b, e - b);
}

TEST(Unfold, SameAsTheByteByByteDefinitionOnRandomFolding) {
  std::mt19937 rng(20261122);
  const char alphabet[] = {'a', 'b', ' ', '\t', '\r', '\n', '\0', ':'};
  for (int n = 0; n < 20000; ++n) {
    std::string raw(rng() % 40, 'x');
    for (char& c : raw) c = alphabet[rng() % sizeof alphabet];
    ASSERT_EQ(unfold(raw), reference_unfold(raw)) << testing::PrintToString(raw);
  }
  std::string big(100000, 'v');
  for (std::size_t i = 50; i < big.size(); i += 77) big.replace(i, 3, "\r\n ");
  EXPECT_EQ(unfold(big), reference_unfold(big));
}

TEST(ParseHeaderBlock, KeepsRawBytesExactly) {
  const std::string header =
      "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\n"
      "Subject:  two  spaces \r\n"
      "X-Obs   : obsolete wsp before colon\r\n"
      "From: Joe <joe@example.com>\r\n";
  auto b = parse_header_block(header);
  ASSERT_TRUE(b) << b.error().reason;
  ASSERT_EQ(b->fields.size(), 4u);
  EXPECT_FALSE(b->repaired_line_ends);
  EXPECT_EQ(b->fields[0].raw, "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc");
  EXPECT_EQ(b->fields[0].name, "DKIM-Signature");
  EXPECT_EQ(b->fields[0].value, "v=1; a=rsa-sha256;\tb=abc");
  EXPECT_EQ(b->fields[0].raw_value(), " v=1; a=rsa-sha256;\r\n\tb=abc");
  EXPECT_EQ(b->fields[1].raw, "Subject:  two  spaces ");
  EXPECT_EQ(b->fields[1].value, "two  spaces");
  EXPECT_EQ(b->fields[2].name, "X-Obs");
  EXPECT_EQ(b->fields[2].raw, "X-Obs   : obsolete wsp before colon");
  EXPECT_EQ(b->fields[2].colon, 8u);
  // Re-joining raw + CRLF gives back the input byte for byte (DKIM simple canonicalization).
  std::string joined;
  for (const auto& f : b->fields) joined += f.raw + "\r\n";
  EXPECT_EQ(joined, header);
}

TEST(ParseHeaderBlock, StopsAtEmptyLineOfWholeMessage) {
  auto b = parse_header_block("A: 1\r\nB: 2\r\n\r\nC: not a header\r\n");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->fields.size(), 2u);
  EXPECT_EQ(b->fields[1].value, "2");
}

TEST(ParseHeaderBlock, RepairsLfOnlyInput) {
  auto b = parse_header_block("Subject: hello\n world\nFrom: a@b\n\nbody\n");
  ASSERT_TRUE(b) << b.error().reason;
  EXPECT_TRUE(b->repaired_line_ends);
  ASSERT_EQ(b->fields.size(), 2u);
  EXPECT_EQ(b->fields[0].raw, "Subject: hello\r\n world");
  EXPECT_EQ(b->fields[0].value, "hello world");
  EXPECT_EQ(b->fields[1].raw, "From: a@b");
}

TEST(ParseHeaderBlock, LastLineWithoutCrlf) {
  auto b = parse_header_block("A: 1\r\nB: 2");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->fields.size(), 2u);
  EXPECT_EQ(b->fields[1].raw, "B: 2");
}

TEST(ParseHeaderBlock, EmptyValueAndEmptySection) {
  auto b = parse_header_block("Subject:\r\n");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->fields.size(), 1u);
  EXPECT_EQ(b->fields[0].value, "");
  EXPECT_EQ(b->fields[0].raw_value(), "");
  auto e = parse_header_block("");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->fields.empty());
}

TEST(ParseHeaderBlock, CaseInsensitiveLookupInOrder) {
  auto b = parse_header_block("Received: one\r\nFROM: a@b\r\nreceived: two\r\nReceived: three\r\n");
  ASSERT_TRUE(b);
  const auto rcvd = b->find_all("RECEIVED");
  ASSERT_EQ(rcvd.size(), 3u);
  EXPECT_EQ(rcvd[0]->value, "one");
  EXPECT_EQ(rcvd[1]->value, "two");
  EXPECT_EQ(rcvd[2]->value, "three");
  EXPECT_EQ(b->count("received"), 3u);
  ASSERT_NE(b->find_first("from"), nullptr);
  EXPECT_EQ(b->find_first("from")->value, "a@b");
  EXPECT_EQ(b->find_first("To"), nullptr);
  EXPECT_TRUE(b->fields[1].is("From"));
}

TEST(ParseHeaderBlock, CountsOverlongLinesButAccepts) {
  const std::string header = "X-Long: " + std::string(2000, 'a') + "\r\nY: short\r\n";
  auto b = parse_header_block(header);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->overlong_lines, 1u);
  EXPECT_EQ(b->fields[0].value.size(), 2000u);
}

struct BadCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
};
const BadCase kBadHeaders[] = {
    {"leading_continuation", " folded\r\nA: b\r\n", ErrorCode::Syntax},
    {"no_colon", "A: b\r\nnot a header line\r\n", ErrorCode::Syntax},
    {"empty_name", ": value\r\n", ErrorCode::Syntax},
    {"space_in_name", "Bad Name: v\r\n", ErrorCode::Syntax},
    {"nul_in_name", std::string("Na\0me: v\r\n", 10), ErrorCode::Syntax},
    {"utf8_in_name", "N\xC3\xA4me: v\r\n", ErrorCode::Syntax},
    {"field_too_big", "X: " + std::string(kMaxFieldBytes + 10, 'x') + "\r\n", ErrorCode::LimitExceeded},
    {"folded_field_too_big", "X: a" + [] {
       std::string s;
       for (int i = 0; i < 20000; ++i) s += "\r\n abc";
       return s;
     }() + "\r\n", ErrorCode::LimitExceeded},
};
class BadHeaderTest : public testing::TestWithParam<BadCase> {};
TEST_P(BadHeaderTest, Rejected) {
  auto b = parse_header_block(GetParam().input);
  ASSERT_FALSE(b) << "got " << b->fields.size() << " fields, want an error";
  EXPECT_EQ(b.error().code, GetParam().code) << "got " << to_string(b.error().code) << ": "
                                            << b.error().reason;
  EXPECT_FALSE(b.error().reason.empty());
}
INSTANTIATE_TEST_SUITE_P(Hostile, BadHeaderTest, testing::ValuesIn(kBadHeaders),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(ParseHeaderBlock, NulInValueIsKeptRaw) {
  const std::string header("X: a\0b\r\n", 8);
  auto b = parse_header_block(header);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->fields[0].raw, std::string("X: a\0b", 6));
  EXPECT_EQ(b->fields[0].value, std::string("a\0b", 3));
}

TEST(ParseHeaderBlock, FieldCountBounded) {
  std::string ok;
  for (std::size_t i = 0; i < kMaxHeaderFields; ++i) ok += "X: 1\r\n";
  auto b = parse_header_block(ok);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->fields.size(), kMaxHeaderFields);
  std::string too_many;
  for (int i = 0; i < 10000; ++i) too_many += "X: 1\r\n";
  auto e = parse_header_block(too_many);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::LimitExceeded);
}

TEST(ParseHeaderBlock, TotalSizeBounded) {
  std::string big;
  while (big.size() <= kMaxHeaderBytes) big += "X: " + std::string(900, 'y') + "\r\n";
  auto e = parse_header_block(big);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::LimitExceeded);
}

TEST(FieldParse, OneField) {
  auto f = Field::parse("Subject: a\n b\n");
  ASSERT_TRUE(f) << f.error().reason;
  EXPECT_EQ(f->raw, "Subject: a\r\n b");
  EXPECT_EQ(f->value, "a b");
  auto two = Field::parse("A: 1\r\nB: 2\r\n");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ErrorCode::Syntax);
  auto none = Field::parse("no colon");
  ASSERT_FALSE(none);
}

TEST(FieldFromMilter, InsertsOneSpaceAndCrlf) {
  // Postfix hands "Subject", "hello\n\tworld" (LF folding, leading space stripped).
  auto f = Field::from_milter("Subject", "hello\n\tworld");
  ASSERT_TRUE(f) << f.error().reason;
  EXPECT_EQ(f->raw, "Subject: hello\r\n\tworld");
  EXPECT_EQ(f->name, "Subject");
  EXPECT_EQ(f->value, "hello\tworld");
  EXPECT_EQ(f->raw_value(), " hello\r\n\tworld");
}

TEST(FieldFromMilter, LeadingSpaceIncluded) {
  auto f = Field::from_milter("DKIM-Signature", " v=1;\n\tb=x", LeadingSpace::Included);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->raw, "DKIM-Signature: v=1;\r\n\tb=x");
  auto g = Field::from_milter("X", "", LeadingSpace::Stripped);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->raw, "X: ");
}

TEST(FieldFromMilter, TabAfterColonWithLeadingSpaceNegotiated) {
  // Postfix only eats a SP, never a tab; with SMFIP_HDR_LEADSPC the value is byte-exact.
  auto f = Field::from_milter("Subject", "\thello", LeadingSpace::Included);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->raw, "Subject:\thello");
  EXPECT_EQ(f->value, "hello");
}

TEST(FieldFromMilter, MatchesParsedMessage) {
  // The same field read from a message and rebuilt from milter callbacks is byte-identical.
  auto b = parse_header_block("Subject: hello\r\n\tworld\r\n\r\n");
  auto f = Field::from_milter("Subject", "hello\n\tworld");
  ASSERT_TRUE(b);
  ASSERT_TRUE(f);
  EXPECT_EQ(b->fields[0].raw, f->raw);
}

TEST(FieldFromMilter, RejectsBadNameAndOversize) {
  EXPECT_FALSE(Field::from_milter("Bad Name", "v"));
  EXPECT_FALSE(Field::from_milter("", "v"));
  EXPECT_FALSE(Field::from_milter("A:B", "v"));
  auto big = Field::from_milter("X", std::string(kMaxFieldBytes, 'v'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::LimitExceeded);
}

TEST(Ascii, CaseHelpers) {
  EXPECT_TRUE(equals_ignore_case("DKIM-Signature", "dkim-signature"));
  EXPECT_FALSE(equals_ignore_case("From", "Fro"));
  EXPECT_FALSE(equals_ignore_case("\xC3\x84", "\xC3\xA4"));  // no Unicode folding
  EXPECT_EQ(to_lower_ascii("ExAmPle.COM"), "example.com");
}

}  // namespace
}  // namespace auth::mail
