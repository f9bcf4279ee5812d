// Tests of the OpenDKIM verification policies and test modes in inkan-dkim's pure core:
// RequiredHeaders (-r, RFC 5322 §3.6 counts with OpenDKIM's texts), Minimum (-L, the three
// forms of opendkim.c mlfi_eom), MustBeSigned (libopendkim "unprotected header field"), and
// the exact stdout of `opendkim -t` and `opendkim -Q` (lab captures against opendkim 2.11);
// the signing options BodyLengthDB, SelectCanonicalizationHeader and SenderMacro.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "dkim/dkim_core.h"

namespace inkan::dkim {
namespace {

using auth::config::BodyMinimum;
using auth::config::Dataset;
using auth::config::DatasetKind;
using auth::config::DkimSettings;
using auth::dkim::DkimResult;
using auth::dkim::FailureKind;
using auth::dkim::SignatureResult;
using auth::mail::Field;

std::vector<Field> fields(const std::vector<std::string>& raw) {
  std::vector<Field> out;
  for (const auto& r : raw) {
    auto f = Field::parse(r);
    EXPECT_TRUE(f) << r;
    if (f) out.push_back(*f);
  }
  return out;
}

/* ---- RequiredHeaders ---- */

struct HeaderCase {
  std::string_view name;
  std::vector<std::string> headers;
  std::string want;  // empty = conforms
};

const std::vector<HeaderCase> kHeaderCases = {
    {"Minimal", {"From: a@example.org", "Date: Mon, 1 Jan 2024 00:00:00 +0000"}, ""},
    {"Full",
     {"From: a@example.org", "Date: x", "Reply-To: r@x", "To: b@x", "Cc: c@x", "Bcc: d@x", "Message-Id: <1@x>",
      "In-Reply-To: <0@x>", "References: <0@x>", "Subject: s", "Received: a", "Received: b", "Comments: 1", "Comments: 2",
      "Keywords: k", "Keywords: l", "Sender: s@x"},
     ""},
    {"NoFrom", {"Date: x"}, "message does not have exactly one From field"},
    {"TwoFrom", {"From: a@x", "from: b@x", "Date: x"}, "message does not have exactly one From field"},
    {"NoDate", {"From: a@x"}, "message does not have exactly one Date field"},
    {"TwoDates", {"From: a@x", "Date: x", "DATE: y"}, "message does not have exactly one Date field"},
    {"FromCheckedBeforeDate", {"Subject: a"}, "message does not have exactly one From field"},
    {"TwoReplyTo", {"From: a@x", "Date: x", "Reply-To: a", "Reply-To: b"}, "message has multiple Reply-To fields"},
    {"TwoTo", {"From: a@x", "Date: x", "To: a", "to: b"}, "message has multiple To fields"},
    {"TwoCc", {"From: a@x", "Date: x", "Cc: a", "Cc: b"}, "message has multiple Cc fields"},
    {"TwoBcc", {"From: a@x", "Date: x", "Bcc: a", "Bcc: b"}, "message has multiple Bcc fields"},
    {"TwoMessageId", {"From: a@x", "Date: x", "Message-ID: <1@x>", "Message-Id: <2@x>"},
     "message has multiple Message-Id fields"},
    {"TwoInReplyTo", {"From: a@x", "Date: x", "In-Reply-To: a", "In-Reply-To: b"}, "message has multiple In-Reply-To fields"},
    {"TwoReferences", {"From: a@x", "Date: x", "References: a", "References: b"}, "message has multiple References fields"},
    {"TwoSubjects", {"From: a@x", "Date: x", "Subject: a", "Subject: b"}, "message has multiple Subject fields"},
    {"OrderReplyToBeforeSubject", {"From: a@x", "Date: x", "Subject: a", "Subject: b", "Reply-To: a", "Reply-To: b"},
     "message has multiple Reply-To fields"},
    // RFC 5322 allows one Sender, OpenDKIM does not check it: neither do we.
    {"TwoSendersNotChecked", {"From: a@x", "Date: x", "Sender: a", "Sender: b"}, ""},
};

class RequiredHeaders : public testing::TestWithParam<HeaderCase> {};
TEST_P(RequiredHeaders, AsOpenDkim) {
  const auto& c = GetParam();
  auto got = check_required_headers(fields(c.headers));
  EXPECT_EQ(got.value_or(""), c.want) << "got '" << got.value_or("") << "' want '" << c.want << "'";
}
INSTANTIATE_TEST_SUITE_P(Dkim, RequiredHeaders, testing::ValuesIn(kHeaderCases),
                         [](const testing::TestParamInfo<HeaderCase>& i) { return std::string(i.param.name); });

TEST(RequiredHeadersBounds, TenThousandFieldsStayLinearAndCorrect) {
  std::vector<Field> h = fields({"From: a@x", "Date: x"});
  auto received = Field::parse("Received: from a by b");
  ASSERT_TRUE(received);
  for (int i = 0; i < 10000; ++i) h.push_back(*received);
  EXPECT_FALSE(check_required_headers(h));
  h.push_back(*Field::parse("From: evil@x"));
  EXPECT_EQ(check_required_headers(h).value_or(""), "message does not have exactly one From field");
}

/* ---- Minimum ---- */

struct MinCase {
  std::string_view name;
  BodyMinimum m;
  std::uint64_t signed_bytes, body_bytes;
  bool ok;
};
const MinCase kMinCases[] = {
    {"ZeroNeverChecks", {BodyMinimum::Kind::Bytes, 0}, 0, 1000, true},
    {"BytesEnough", {BodyMinimum::Kind::Bytes, 12}, 12, 24, true},
    {"BytesShort", {BodyMinimum::Kind::Bytes, 13}, 12, 24, false},
    {"BytesBodySmallerThanMinAllSigned", {BodyMinimum::Kind::Bytes, 1000}, 24, 24, true},
    {"BytesBodySmallerThanMinPartly", {BodyMinimum::Kind::Bytes, 1000}, 23, 24, false},
    {"PercentExact", {BodyMinimum::Kind::Percent, 50}, 12, 24, true},
    {"PercentShort", {BodyMinimum::Kind::Percent, 51}, 12, 24, false},
    {"PercentRoundsDown", {BodyMinimum::Kind::Percent, 34}, 1, 3, false},  // 100*1/3 = 33
    {"PercentEmptyBody", {BodyMinimum::Kind::Percent, 100}, 0, 0, true},
    {"PercentHundredFull", {BodyMinimum::Kind::Percent, 100}, 24, 24, true},
    {"MaxAppendedOk", {BodyMinimum::Kind::MaxAppended, 12}, 12, 24, true},
    {"MaxAppendedOver", {BodyMinimum::Kind::MaxAppended, 11}, 12, 24, false},
    {"HugeBodyNoOverflow", {BodyMinimum::Kind::Percent, 99}, 1ull << 50, (1ull << 50) + 1, true},
};
class Minimum : public testing::TestWithParam<MinCase> {};
TEST_P(Minimum, AsMlfiEom) {
  const auto& c = GetParam();
  EXPECT_EQ(minimum_satisfied(c.m, c.signed_bytes, c.body_bytes), c.ok)
      << c.signed_bytes << " of " << c.body_bytes << " value " << c.m.value;
}
INSTANTIATE_TEST_SUITE_P(Dkim, Minimum, testing::ValuesIn(kMinCases),
                         [](const testing::TestParamInfo<MinCase>& i) { return std::string(i.param.name); });

/* ---- MustBeSigned and the policies applied to results ---- */

TEST(MustBeSigned, FirstPresentUnsignedName) {
  auto h = fields({"From: a@x", "Message-ID: <1@x>", "Subject: s"});
  std::vector<std::string> signed_h{"From", "subject"};
  EXPECT_EQ(unsigned_required_header({"reply-to", "message-id"}, signed_h, h).value_or(""), "message-id");
  EXPECT_FALSE(unsigned_required_header({"reply-to", "subject"}, signed_h, h));  // absent or signed
  EXPECT_FALSE(unsigned_required_header({}, signed_h, h));
}

SignatureResult passed(std::size_t index, std::uint64_t unsigned_bytes = 0) {
  SignatureResult r;
  r.result = DkimResult::Pass;
  r.domain = "example.org";
  r.selector = "sel";
  r.algorithm = "rsa-sha256";
  r.key_bits = 1024;
  r.field_index = index;
  r.unsigned_body_bytes = unsigned_bytes;
  r.body_length_limited = unsigned_bytes > 0;
  return r;
}

TEST(VerifyPolicies, MustBeSignedDemotesToFailUnprotectedField) {
  auto h = fields({"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=From:To; bh=AAAA; b=BBBB",
                   "Message-ID: <1@x>", "From: a@example.org", "To: b@x"});
  DkimSettings s;
  s.must_be_signed = {"message-id"};
  std::vector<SignatureResult> r{passed(0)};
  EXPECT_EQ(apply_verify_policies(r, s, h), 1u);
  EXPECT_EQ(r[0].result, DkimResult::Fail);
  EXPECT_EQ(r[0].reason, "unprotected header field");
  EXPECT_EQ(classify(r), Outcome::BadSignature);
  ArOptions o;
  o.authserv_id = "test.host";
  o.unprotected = false;
  // As opendkim 2.11 writes it (lab: MustBeSigned Message-ID,Reply-To).
  EXPECT_EQ(format_ar_clause(r[0], o),
            "dkim=fail reason=\"unprotected header field\" (1024-bit key) header.d=example.org header.a=rsa-sha256 "
            "header.s=sel");
  // Signed Message-ID: untouched.
  h = fields({"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=From:Message-ID; bh=AAAA; b=BBBB",
              "Message-ID: <1@x>", "From: a@example.org"});
  r = {passed(0)};
  EXPECT_EQ(apply_verify_policies(r, s, h), 0u);
  EXPECT_EQ(r[0].result, DkimResult::Pass);
}

TEST(VerifyPolicies, MinimumDemotesPartialSignatureToPermerror) {
  auto h = fields({"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; l=12; h=From; bh=AAAA; b=BBBB",
                   "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=whole; h=From; bh=AAAA; b=CCCC",
                   "From: a@example.org"});
  DkimSettings s;
  s.minimum = {BodyMinimum::Kind::Bytes, 13};
  std::vector<SignatureResult> r{passed(0, 12), passed(1)};
  EXPECT_EQ(apply_verify_policies(r, s, h), 1u);
  EXPECT_EQ(r[0].result, DkimResult::PermError);
  EXPECT_EQ(r[0].failure, FailureKind::BodyLength);
  EXPECT_EQ(r[0].reason, "partial verification");
  EXPECT_EQ(r[1].result, DkimResult::Pass);  // no l=: the whole body is signed
  EXPECT_EQ(classify(r), Outcome::Pass);      // another signature still passes

  s.minimum = {BodyMinimum::Kind::Bytes, 12};
  r = {passed(0, 12)};
  EXPECT_EQ(apply_verify_policies(r, s, h), 0u);
  s.minimum = {BodyMinimum::Kind::Percent, 51};
  EXPECT_EQ(apply_verify_policies(r, s, h), 1u);
  EXPECT_EQ(classify(r), Outcome::BadSignature);
}

TEST(VerifyPolicies, FailuresAndOutOfRangeIndexesUntouched) {
  auto h = fields({"From: a@example.org"});
  DkimSettings s;
  s.must_be_signed = {"from"};
  s.minimum = {BodyMinimum::Kind::Bytes, 1};
  SignatureResult bad = passed(0);
  bad.result = DkimResult::Fail;
  bad.failure = FailureKind::BodyHash;
  std::vector<SignatureResult> r{bad, passed(7)};
  EXPECT_EQ(apply_verify_policies(r, s, h), 0u);
  EXPECT_EQ(r[1].result, DkimResult::Pass);
}

TEST(BadFormat, ArAsOpenDkim) {
  ArOptions o;
  o.authserv_id = "test.host";
  // lab: opendkim 2.11 -t -vv on a message without From.
  EXPECT_EQ(format_ar_bad_format(o), "test.host; dkim=permerror (bad message/signature format)");
  o.authserv_id = "mx.example/4Xk2p3";
  EXPECT_EQ(format_ar_bad_format(o), "mx.example/4Xk2p3; dkim=permerror (bad message/signature format)");
}

/* ---- opendkim -t output ---- */

TEST(TestMode, VerificationLinesAsOpenDkim) {
  EXPECT_EQ(format_test_verification("inkan-dkim", "m.eml", {}), "inkan-dkim: m.eml: message not signed");
  auto ok = passed(0);
  EXPECT_EQ(format_test_verification("opendkim", "signed.eml", {ok}),
            "opendkim: signed.eml: verification (s=sel, d=example.org, 1024-bit key) succeeded");
  auto bad = passed(0);
  bad.result = DkimResult::Fail;
  bad.failure = FailureKind::BodyHash;
  EXPECT_EQ(format_test_verification("opendkim", "bad.eml", {bad}),
            "opendkim: bad.eml: verification (s=sel d=example.org, 1024-bit key, unknown) failed: signature verification failed");
  // The primary signature is the first that passed.
  EXPECT_EQ(format_test_verification("p", "f", {bad, ok}), "p: f: verification (s=sel, d=example.org, 1024-bit key) succeeded");
  SignatureResult syntax;
  syntax.result = DkimResult::PermError;
  syntax.failure = FailureKind::Syntax;
  syntax.reason = "signature missing required tag";
  EXPECT_EQ(format_test_verification("p", "f", {syntax}), "p: f: verification failed: signature missing required tag");
  SignatureResult skipped = passed(0);
  skipped.failure = FailureKind::NotChecked;
  skipped.result = DkimResult::None;
  EXPECT_EQ(format_test_verification("p", "f", {skipped}), "p: f: message not signed");
}

TEST(TestMode, ErrorTextsAreLibopendkims) {
  SignatureResult r;
  r.result = DkimResult::Fail;
  const std::pair<FailureKind, std::string> cases[] = {
      {FailureKind::Signature, "signature verification failed"}, {FailureKind::NoKey, "key not found in DNS"},
      {FailureKind::KeyDns, "key DNS query failed"},            {FailureKind::Expired, "signature expired"},
      {FailureKind::WeakKey, "signing key too small"}};
  for (const auto& [kind, want] : cases) {
    r.failure = kind;
    EXPECT_EQ(verification_error_text(r), want);
  }
  r.failure = FailureKind::KeyRecord;
  r.reason = "key revoked (empty p=)";
  EXPECT_EQ(verification_error_text(r), "key revoked");
  r.reason = "";
  EXPECT_EQ(verification_error_text(r), "unknown error");
}

/* ---- opendkim -Q, against lab captures of opendkim 2.11 ---- */

struct QueryCase {
  std::string_view name, data, query, out, err;
  int exit_code;
};
const char kKeyTable[] =
    "k1 example.com:sel:/keys/a.private\n"
    "k2 foo\n"
    "# c\n"
    "k3\n"
    "k4 a:b:\n"
    "k5 ::\n";
const QueryCase kQueryCases[] = {
    {"ThreeFields", kKeyTable, "k1/3", "'example.com'\n'sel'\n'/keys/a.private'\n\n", "", 0},
    {"LastTakesRest", kKeyTable, "k1/1", "'example.com:sel:/keys/a.private'\n\n", "", 0},
    {"TwoOfThree", kKeyTable, "k1/2", "'example.com'\n'sel:/keys/a.private'\n\n", "", 0},
    {"TooFewFields", kKeyTable, "k2/2", "\n", "opendkim: dkimf_db_get() returned -1: \"Success\"\n", 0},
    {"NotFound", kKeyTable, "zz/1", "opendkim: dkimf_db_get(): record not found\n\n", "", 0},
    {"CaseSensitive", kKeyTable, "K1/1", "opendkim: dkimf_db_get(): record not found\n\n", "", 0},
    {"EmptyValue", kKeyTable, "k3/1", "''\n\n", "", 0},
    {"NoSlash", kKeyTable, "k1", "", "opendkim: invalid query 'k1'\n", 64},
    {"Negative", kKeyTable, "k1/-1", "", "opendkim: invalid query 'k1/-1'\n", 64},
    {"ZeroFields", kKeyTable, "k1/0", "\n", "", 0},
    {"NonNumericIsZero", kKeyTable, "k1/x", "\n", "", 0},
    {"TrailingColonShort", kKeyTable, "k4/3", "\n", "opendkim: dkimf_db_get() returned -1: \"Success\"\n", 0},
    {"EmptyFirstField", kKeyTable, "k5/2", "<empty>\n':'\n\n", "", 0},
    {"TrailingColonKept", kKeyTable, "k4/2", "'a'\n'b:'\n\n", "", 0},
    {"EmptyKey", kKeyTable, "/1", "opendkim: dkimf_db_get(): record not found\n\n", "", 0},
};
class Query : public testing::TestWithParam<QueryCase> {};
TEST_P(Query, AsOpenDkimQ) {
  const auto& c = GetParam();
  Dataset d = Dataset::from_text(c.data, DatasetKind::File, false);
  auto a = answer_dataset_query(d, c.query, "opendkim");
  EXPECT_EQ(a.out, c.out);
  EXPECT_EQ(a.err, c.err);
  EXPECT_EQ(a.exit_code, c.exit_code);
}
INSTANTIATE_TEST_SUITE_P(Dkim, Query, testing::ValuesIn(kQueryCases),
                         [](const testing::TestParamInfo<QueryCase>& i) { return std::string(i.param.name); });

TEST(QueryBounds, HostileQueriesStayBounded) {
  Dataset d = Dataset::from_text("k " + std::string(10000, ':'), DatasetKind::File, false);
  auto a = answer_dataset_query(d, "k/99999999999999999999", "p");  // count is capped, not overflowed
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_LT(a.out.size(), 200000u);
  a = answer_dataset_query(d, "k/5", "p");
  EXPECT_EQ(a.out, "<empty>\n<empty>\n<empty>\n<empty>\n'" + std::string(9996, ':') + "'\n\n");
  std::string nul("k\0/1", 4);
  a = answer_dataset_query(d, nul, "p");
  EXPECT_EQ(a.out, "p: dkimf_db_get(): record not found\n\n");
}

/* ---- BodyLengthDB (opendkim.c dkimf_checkbldb) ---- */

TEST(BodyLengthDb, KeysInDkimfCheckbldbOrder) {
  EXPECT_EQ(body_length_keys("<User@Mail.Example.COM>"),
            (std::vector<std::string>{"user@mail.example.com", "*@mail.example.com", "user@.example.com",
                                      "*@.example.com", "user@.com", "*@.com", "user@*", "*"}));
  EXPECT_EQ(body_length_keys("a@localhost"), (std::vector<std::string>{"a@localhost", "*@localhost", "a@*", "*"}));
  // The domain is what follows the last '@'.
  EXPECT_EQ(body_length_keys("\"x@y\"@b.example").front(), "\"x@y\"@b.example");
  // dkim_mail_parse fails: never matches.
  EXPECT_TRUE(body_length_keys("postmaster").empty());
  EXPECT_TRUE(body_length_keys("<>").empty());
  EXPECT_TRUE(body_length_keys("user@").empty());
}

struct BldbCase {
  const char* entry;
  const char* rcpt;
  bool match;
};
class BodyLengthMatch : public testing::TestWithParam<BldbCase> {};
TEST_P(BodyLengthMatch, AsOpenDkim) {
  const auto& c = GetParam();
  auto r = body_length_recipient({c.entry}, {c.rcpt});
  EXPECT_EQ(r.has_value(), c.match) << c.entry << " vs " << c.rcpt;
}
// Entries are lower-case (the configuration lower-cases the data set, DKIMF_DB_FLAG_ICASE).
const BldbCase kBldbCases[] = {
    {"list@lists.example", "<List@Lists.Example>", true},
    {"*@lists.example", "<x@lists.example>", true},
    {"x@.example", "<x@lists.example>", true},
    {"*@.example", "<y@a.b.example>", true},
    {"*@.b.example", "<y@a.b.example>", true},
    {"x@*", "<x@anywhere.example>", true},
    {"*", "<x@anywhere.example>", true},
    {"lists.example", "<x@lists.example>", false},   // a bare domain is not a key
    {".example", "<x@lists.example>", false},         // nor a bare ".parent"
    {"x@lists.example", "<xx@lists.example>", false},
    {"*@.lists.example", "<x@lists.example>", false},  // ".parent" never matches the host itself
    {"*", "<postmaster>", false},                      // unparsable recipient
};
INSTANTIATE_TEST_SUITE_P(Dkim, BodyLengthMatch, testing::ValuesIn(kBldbCases));

TEST(BodyLengthDb, AnyRecipientAndFirstMatchReported) {
  std::vector<std::string> list{"*@lists.example", "bob@example.org"};
  EXPECT_FALSE(body_length_recipient(list, {"<a@example.org>", "<b@lists.example.net>"}));
  EXPECT_EQ(body_length_recipient(list, {"<a@example.org>", "<Bob@Example.Org>", "<x@lists.example>"}),
            "<Bob@Example.Org>");
  EXPECT_FALSE(body_length_recipient({}, {"<x@y.example>"}));
  EXPECT_FALSE(body_length_recipient(list, {}));
}

TEST(BodyLengthDb, HostileRecipientsStayBounded) {
  std::string deep = "u@";
  for (int i = 0; i < 10000; ++i) deep += "a.";
  deep += "example";
  auto keys = body_length_keys(deep);
  EXPECT_LE(keys.size(), 2 * (kMaxBodyLengthLabels + 1) + 2);
  EXPECT_EQ(keys.back(), "*");
  std::vector<std::string> many(10000, "<nobody@nowhere.example>");
  many.push_back(std::string("<a\0b@x.example>", 15));
  EXPECT_FALSE(body_length_recipient({"x@y"}, many));
  many.push_back("<Z@X.example>");
  EXPECT_EQ(body_length_recipient({"z@x.example"}, many), "<Z@X.example>");
}

/* ---- SelectCanonicalizationHeader ---- */

struct CanonCase {
  std::vector<std::string> headers;
  const char* name;
  const char* want;
  bool bad;
};
class SelectCanon : public testing::TestWithParam<CanonCase> {};
TEST_P(SelectCanon, AsMlfiHeader) {
  const auto& c = GetParam();
  std::vector<std::string> ignored;
  auto got = select_canonicalization({auth::dkim::Canon::Simple, auth::dkim::Canon::Relaxed}, c.name,
                                     fields(c.headers), &ignored);
  EXPECT_EQ(auth::dkim::to_string(got), c.want);
  EXPECT_EQ(!ignored.empty(), c.bad);
}
// Base: simple/relaxed.
const CanonCase kCanonCases[] = {
    {{"From: a@b", "X-Canonicalization: relaxed/simple"}, "X-Canonicalization", "relaxed/simple", false},
    {{"x-canonicalization: RELAXED"}, "X-Canonicalization", "relaxed/relaxed", false},  // body kept
    {{"X-Canonicalization: simple/simple"}, "x-canonicalization", "simple/simple", false},
    {{"X-Canonicalization:  relaxed /  relaxed "}, "X-Canonicalization", "relaxed/relaxed", false},
    {{"X-Canonicalization: bogus/simple"}, "X-Canonicalization", "simple/simple", true},
    {{"X-Canonicalization: relaxed/bogus"}, "X-Canonicalization", "relaxed/relaxed", true},
    {{"X-Canonicalization: relaxed/simple/x"}, "X-Canonicalization", "relaxed/relaxed", true},
    {{"X-Canonicalization:"}, "X-Canonicalization", "simple/relaxed", true},
    {{"X-Canonicalization: nofws"}, "X-Canonicalization", "simple/relaxed", true},
    {{"X-Canonicalization: relaxed/simple", "X-Canonicalization: simple"}, "X-Canonicalization", "simple/simple", false},
    {{"X-Canonicalization: relaxed/simple"}, "", "simple/relaxed", false},          // option not set
    {{"X-Canonicalization: relaxed/simple"}, "X-Canon", "simple/relaxed", false},   // other name
    {{"X-Canon: relaxed/simple"}, "X-Canon", "relaxed/simple", false},
};
INSTANTIATE_TEST_SUITE_P(Dkim, SelectCanon, testing::ValuesIn(kCanonCases));

/* ---- SenderMacro ---- */

TEST(SenderMacro, MacroWinsWhenSetAndNonEmpty) {
  DkimSettings s;
  auto h = fields({"Sender: s@sender.example", "From: Alice <a@From.Example>"});
  auto got = find_sender(s, std::string("bob@Macro.Example"), h);
  EXPECT_EQ(got.source, Sender::Source::Macro);
  EXPECT_EQ(got.local, "bob");
  EXPECT_EQ(got.domain, "macro.example");
  EXPECT_FALSE(got.unparsable);
  got = find_sender(s, std::string("<carol@macro.example>"), h);
  EXPECT_EQ(got.domain, "macro.example");
  // Not sent, or sent empty: SenderHeaders (default From).
  for (const auto& m : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
    got = find_sender(s, m, h);
    EXPECT_EQ(got.source, Sender::Source::Header);
    EXPECT_EQ(got.local, "a");
    EXPECT_EQ(got.domain, "from.example");
  }
  s.sender_headers = {"sender", "from"};
  EXPECT_EQ(find_sender(s, std::nullopt, h).domain, "sender.example");
}

TEST(SenderMacro, UnparsableMacroIsNotReplacedByFrom) {
  DkimSettings s;
  auto h = fields({"From: a@from.example"});
  for (const char* v : {"alice", "DEBUG-{auth_authen}", "@", "a@", "<<<", "a@b@c"}) {
    auto got = find_sender(s, std::string(v), h);
    EXPECT_EQ(got.source, Sender::Source::Macro) << v;
    EXPECT_TRUE(got.unparsable) << v;
    EXPECT_TRUE(got.domain.empty()) << v;
    EXPECT_EQ(got.raw, v);
  }
  auto none = find_sender(s, std::nullopt, fields({"To: x@y"}));
  EXPECT_EQ(none.source, Sender::Source::None);
  EXPECT_TRUE(none.domain.empty());
  // An overlong macro value is the macro's problem: still no fallback to From.
  auto huge = find_sender(s, std::string(100000, 'a') + "@example.com", h);
  EXPECT_EQ(huge.source, Sender::Source::Macro);
  EXPECT_NE(huge.domain, "from.example");
}

}  // namespace
}  // namespace inkan::dkim
