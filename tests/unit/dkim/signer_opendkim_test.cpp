// Signer, SignatureStyle::OpenDkim: OpenDKIM 2.11's tag order, h= spelling and order,
// oversigning, and dkim_getsighdr_d folding (margin 75, TAB = 8 columns, b=/bh= cut with
// TAB+SP continuation lines, h= broken after ':'), hostile inputs, and sign-then-verify.
// Byte identity with the real daemon: tests/interop/dkim/opendkim_sigform_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/tag_list.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"
#include "unit/dkim/test_util.h"

namespace auth::dkim {
namespace {

// The lab captures' timestamps (anchor-features §2.6).
constexpr std::int64_t kRsaT = 1795349429;
constexpr std::int64_t kEdT = 1795349549;

const std::string kMessage =
    "Received: from a by b; Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    "From: Joe <joe@example.com>\r\n"
    "To: Suzie <suzie@example.net>\r\n"
    "Subject: dinner\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    "Message-ID: <1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "\r\n"
    "Hi.\r\n";

const crypto::PrivateKey& rsa_key() { return dkim_test::generated_rsa_key(); }
const crypto::PrivateKey& ed_key() {
  static const crypto::PrivateKey k = dkim_test::ed25519_key('o');
  return k;
}

SignatureSpec spec(const crypto::PrivateKey& k, std::string selector) {
  SignatureSpec s;
  s.domain = "example.com";
  s.selector = std::move(selector);
  s.key = std::make_shared<crypto::LocalSigner>(k);
  s.canon = {Canon::Relaxed, Canon::Simple};
  s.oversign = {"From"};
  s.style = SignatureStyle::OpenDkim;
  return s;
}

Result<std::string> sign_one(const SignatureSpec& s, const std::string& msg = kMessage,
                             std::int64_t t = kRsaT) {
  SignOptions o;
  o.clock = fixed_clock(t);
  o.signatures = {s};
  auto r = sign_message(msg, o);
  if (!r) return fail(r.error());
  return r->at(0);
}

std::string one(const SignatureSpec& s, const std::string& msg = kMessage, std::int64_t t = kRsaT) {
  auto r = sign_one(s, msg, t);
  EXPECT_TRUE(r) << r.error().reason;
  return r ? *r : std::string();
}

std::vector<std::string> lines(const std::string& field) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t e = field.find("\r\n", start);
    out.push_back(field.substr(start, e == std::string::npos ? std::string::npos : e - start));
    if (e == std::string::npos) return out;
    start = e + 2;
  }
}

// OpenDKIM's column count of a line: a leading TAB counts 8.
std::size_t columns(const std::string& line) {
  return !line.empty() && line[0] == '\t' ? line.size() - 1 + kOpenDkimTabWidth : line.size();
}

// Every line stays within the margin unless it holds one unbreakable token.
void expect_within_margin(const std::string& field) {
  for (const auto& l : lines(field)) {
    if (columns(l) <= kOpenDkimHeaderMargin) continue;
    const std::string body = l.substr(l.find_first_not_of("\t "));
    EXPECT_EQ(body.find(' '), std::string::npos) << "line too wide: [" << l << "]\n" << field;
  }
}

std::vector<std::string> tag_names(const std::string& field) {
  auto t = parse_tag_list(std::string_view(field).substr(field.find(':') + 1));
  EXPECT_TRUE(t) << t.error().reason;
  std::vector<std::string> out;
  if (t) {
    for (const auto& tag : t->tags) out.push_back(tag.name);
  }
  return out;
}

std::string tag_value(const std::string& field, std::string_view name) {
  auto t = parse_tag_list(std::string_view(field).substr(field.find(':') + 1));
  if (!t) return "<unparsable>";
  auto v = t->get(name);
  return v ? strip_fws(*v) : "<absent>";
}

TEST(SignerOpenDkim, DefaultStyleIsRfc) {
  EXPECT_EQ(SignatureSpec{}.style, SignatureStyle::Rfc);
  EXPECT_EQ(kOpenDkimHeaderMargin, 75u);
}

// The RSA lab capture's layout, line by line (anchor-features §2.6).
TEST(SignerOpenDkim, RsaRelaxedSimpleLayoutAsCaptured) {
  auto s = spec(rsa_key(), "sel2024");
  const std::string f = one(s);
  const auto l = lines(f);
  ASSERT_EQ(l.size(), 10u) << f;  // 4 tag lines + b= over 6 lines (344 base64 bytes)
  EXPECT_EQ(l[0], "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;");
  EXPECT_EQ(l[1], "\ts=sel2024; t=1795349429;");
  EXPECT_EQ(l[2].rfind("\tbh=", 0), 0u);
  EXPECT_EQ(l[2].size(), 1 + 3 + 44 + 1);
  EXPECT_EQ(l[3], "\th=From:To:Subject:Date:From;");
  EXPECT_EQ(l[4].rfind("\tb=", 0), 0u);
  EXPECT_EQ(l[4].size(), 3u + 65);  // "b=" + 1 byte at column 10, then up to column 75
  for (std::size_t i = 5; i + 1 < l.size(); ++i) {
    EXPECT_EQ(l[i].rfind("\t ", 0), 0u) << l[i];
    EXPECT_EQ(l[i].size(), 2u + 66) << l[i];
  }
  EXPECT_EQ(l.back().size(), 2u + (344 - 65 - 4 * 66));
  expect_within_margin(f);
}

// The Ed25519 capture: relaxed/relaxed, SignatureTTL 86400.
TEST(SignerOpenDkim, Ed25519WithExpiryLayoutAsCaptured) {
  auto s = spec(ed_key(), "ed2024");
  s.canon = {Canon::Relaxed, Canon::Relaxed};
  s.oversign.clear();
  s.expire_after = 86400;
  const std::string f = one(s, kMessage, kEdT);
  const auto l = lines(f);
  ASSERT_EQ(l.size(), 6u) << f;
  EXPECT_EQ(l[0], "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;");
  EXPECT_EQ(l[1], "\ts=ed2024; t=1795349549; x=1795435949;");
  EXPECT_EQ(l[3], "\th=From:To:Subject:Date;");
  EXPECT_EQ(l[4].size(), 3u + 65);
  EXPECT_EQ(l[5].size(), 2u + 23);  // 88 base64 bytes: 65 + 23
  EXPECT_EQ(l[5].rfind("\t ", 0), 0u);
}

// Tag order v a c d s t [q] [x] [i] bh [l] h b for every combination of the optional tags.
class OpenDkimTagOrder : public ::testing::TestWithParam<int> {};
TEST_P(OpenDkimTagOrder, Order) {
  const int m = GetParam();
  auto s = spec(rsa_key(), "sel");
  s.query_method = (m & 1) != 0;
  if (m & 2) s.expire_after = 3600;
  if (m & 4) s.identity = "chief@mail.example.com";
  s.body_length = (m & 8) != 0;
  std::vector<std::string> want = {"v", "a", "c", "d", "s", "t"};
  if (m & 1) want.push_back("q");
  if (m & 2) want.push_back("x");
  if (m & 4) want.push_back("i");
  want.push_back("bh");
  if (m & 8) want.push_back("l");
  want.push_back("h");
  want.push_back("b");
  const std::string f = one(s);
  EXPECT_EQ(tag_names(f), want) << f;
  EXPECT_EQ(tag_value(f, "c"), "relaxed/simple");
  if (m & 2) {
    EXPECT_EQ(tag_value(f, "x"), std::to_string(kRsaT + 3600));
  }
  if (m & 8) {
    EXPECT_EQ(tag_value(f, "l"), "5");  // "Hi.\r\n"
  }
  expect_within_margin(f);
}
INSTANTIATE_TEST_SUITE_P(AllOptional, OpenDkimTagOrder, ::testing::Range(0, 16));

TEST(SignerOpenDkim, IdentityShareTheSecondLine) {
  auto s = spec(rsa_key(), "sel2024");
  s.domain = "example.net";
  s.identity = "chief@example.net";
  const std::string f = one(s, "From: The Chief <chief@example.net>\r\nSubject: x\r\n\r\nHi.\r\n", 1795349443);
  const auto l = lines(f);
  EXPECT_EQ(l[0], "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.net;");
  EXPECT_EQ(l[1], "\ts=sel2024; t=1795349443; i=chief@example.net;");
}

TEST(SignerOpenDkim, SimpleSimpleIsExplicit) {
  auto s = spec(rsa_key(), "sel");
  s.canon = {Canon::Simple, Canon::Simple};
  EXPECT_EQ(tag_value(one(s), "c"), "simple/simple");
}

TEST(SignerOpenDkim, HeaderNamesSpelledAsInMessageInMessageOrder) {
  const std::string msg =
      "FROM: Joe <joe@example.com>\r\n"
      "tO: a@example.net\r\n"
      "SUBJECT: one\r\n"
      "X-Not-Signed: x\r\n"
      "Message-ID: <1@example.com>\r\n"
      "To: b@example.net\r\n"
      "sUbJeCt: two\r\n"
      "\r\n"
      "Hi.\r\n";
  auto s = spec(rsa_key(), "sel");
  s.headers = {"message-id", "Subject", "TO"};  // list order does not matter
  s.oversign = {"from", "X-Absent"};
  const std::string f = one(s, msg);
  EXPECT_EQ(tag_value(f, "h"), "FROM:tO:SUBJECT:Message-ID:To:sUbJeCt:from:X-Absent") << f;
}

TEST(SignerOpenDkim, OversignPresentAndAbsentAndEmpty) {
  auto s = spec(rsa_key(), "sel");
  s.headers = {"from", "to"};
  s.oversign = {"From", "", "Reply-To", "to"};  // empty entries are skipped, as OpenDKIM does
  EXPECT_EQ(tag_value(one(s), "h"), "From:To:From:Reply-To:to");
  s.oversign.clear();
  EXPECT_EQ(tag_value(one(s), "h"), "From:To");
}

TEST(SignerOpenDkim, DefaultSignedSetIsOpenDkims) {
  const auto& d = opendkim_default_signed_headers();
  EXPECT_EQ(d.size(), 20u);
  EXPECT_EQ(d.front(), "from");
  EXPECT_EQ(std::find(d.begin(), d.end(), "message-id"), d.end());
  auto s = spec(rsa_key(), "sel");
  s.oversign.clear();
  // Message-ID and MIME-Version are in the message but not signed by default.
  EXPECT_EQ(tag_value(one(s), "h"), "From:To:Subject:Date");
}

TEST(SignerOpenDkim, FromIsAlwaysSignedAndRequired) {
  auto s = spec(rsa_key(), "sel");
  s.headers = {"subject"};
  s.oversign.clear();
  EXPECT_EQ(tag_value(one(s), "h"), "From:Subject");
  auto r = sign_one(s, "Subject: x\r\n\r\nHi.\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Missing);
}

TEST(SignerOpenDkim, SeparatorOptionIsNotUsed) {
  auto s = spec(rsa_key(), "sel");
  s.header_separator = " : ";
  EXPECT_EQ(tag_value(one(s), "h"), "From:To:Subject:Date:From");
}

TEST(SignerOpenDkim, BadHeaderNamesAreInvalid) {
  for (const std::string& bad :
       std::vector<std::string>{"Sub ject", "To:", std::string("X\0Y", 3), "\xC3\x9C"}) {
    auto s = spec(rsa_key(), "sel");
    s.headers = {"from", bad};
    auto r = sign_one(s);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::Invalid);
    s.headers.clear();
    s.oversign = {bad};
    r = sign_one(s);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  }
}

// A long h= is broken after ':' onto continuation lines starting TAB SP.
TEST(SignerOpenDkim, LongHeaderListBreaksAfterColons) {
  std::string msg = "From: Joe <joe@example.com>\r\n";
  std::vector<std::string> names = {"from"};
  std::string want = "From";
  for (int i = 0; i < 30; ++i) {
    const std::string n = "X-Header-Number-" + std::to_string(i);
    msg += n + ": v\r\n";
    names.push_back(n);
    want += ":" + n;
  }
  msg += "\r\nHi.\r\n";
  auto s = spec(rsa_key(), "sel");
  s.headers = names;
  const std::string f = one(s, msg);
  EXPECT_EQ(tag_value(f, "h"), want + ":From");
  const auto l = lines(f);
  std::size_t h = 0;
  while (h < l.size() && l[h].rfind("\th=", 0) != 0) ++h;
  ASSERT_LT(h + 1, l.size()) << f;
  EXPECT_EQ(l[h].back(), ':');
  std::size_t cont = 0;
  for (std::size_t i = h + 1; i < l.size() && l[i].rfind("\t ", 0) == 0 && l[i - 1].back() == ':'; ++i) {
    ++cont;
    EXPECT_EQ(l[i].find(' ', 2), std::string::npos) << l[i];
  }
  EXPECT_GE(cont, 8u) << f;
  expect_within_margin(f);
}

// Long d= and s= move every fold point; tokens never split, lines bounded otherwise.
class OpenDkimFolding : public ::testing::TestWithParam<std::pair<std::size_t, std::size_t>> {};
TEST_P(OpenDkimFolding, Bounded) {
  const auto [dlen, slen] = GetParam();
  std::string domain;
  while (domain.size() + 13 < dlen) domain += std::string(std::min<std::size_t>(60, dlen - domain.size() - 13), 'd') + ".";
  domain += "example.com";
  std::string selector(std::min<std::size_t>(slen, 63), 's');
  auto s = spec(rsa_key(), selector);
  s.domain = domain;
  const std::string f = one(s);
  EXPECT_EQ(tag_value(f, "d"), domain);
  EXPECT_EQ(tag_value(f, "s"), selector);
  expect_within_margin(f);
  for (const auto& l : lines(f)) EXPECT_LE(columns(l), std::max<std::size_t>(kOpenDkimHeaderMargin, domain.size() + 11));
}
INSTANTIATE_TEST_SUITE_P(Lengths, OpenDkimFolding,
                         ::testing::Values(std::pair<std::size_t, std::size_t>{4, 1},
                                           std::pair<std::size_t, std::size_t>{30, 10},
                                           std::pair<std::size_t, std::size_t>{52, 30},
                                           std::pair<std::size_t, std::size_t>{60, 63},
                                           std::pair<std::size_t, std::size_t>{120, 40},
                                           std::pair<std::size_t, std::size_t>{240, 63}));

TEST(SignerOpenDkim, HostileManyHeadersStayBounded) {
  std::string msg = "From: Joe <joe@example.com>\r\n";
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) {
    names.push_back("X-H" + std::to_string(i));
    msg += "X-H" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  }
  msg += "\r\nbody\r\n";
  auto s = spec(rsa_key(), "sel");
  s.headers = names;
  s.oversign.assign(10000, "X-Oversigned");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string f = one(s, msg);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  ASSERT_FALSE(f.empty());
  // 10 000 oversigned names: the field is larger than a verifier's tag-list limit, so count
  // them in the text.
  std::size_t n = 0;
  for (std::size_t p = f.find("X-Oversigned"); p != std::string::npos; p = f.find("X-Oversigned", p + 1)) ++n;
  EXPECT_EQ(n, 10000u);
  EXPECT_NE(f.find("h=From:X-H0:X-H1:X-H2:"), std::string::npos);
  expect_within_margin(f);
}

/* ---- sign then verify: the emitted text is what was hashed ----------------------------- */

class OpenDkimSignVerify
    : public ::testing::TestWithParam<std::tuple<Canon, Canon, bool /*ed25519*/>> {};
TEST_P(OpenDkimSignVerify, RoundTrip) {
  dns::ZoneResolver zone;
  zone.add_txt("rsa._domainkey.example.com",
               *format_key_record(crypto::PublicKey::from_private(rsa_key())));
  zone.add_txt("ed._domainkey.example.com",
               *format_key_record(crypto::PublicKey::from_private(ed_key())));
  const bool ed = std::get<2>(GetParam());
  // Includes a To outside the signed set but oversigned: OpenDKIM names it in h= without
  // hashing it (its signature fails); we hash it, as verifiers do.
  const std::string msg =
      "From: Joe <joe@example.com>\r\n"
      "Subject:   folded\r\n\t subject  \r\n"
      "To: x@example.net\r\n"
      "SUBJECT: second\r\n"
      "\r\n"
      "line  with   spaces  \r\n\r\n\ttabbed\r\n\r\n\r\n";
  auto s = spec(ed ? ed_key() : rsa_key(), ed ? "ed" : "rsa");
  s.canon = {std::get<0>(GetParam()), std::get<1>(GetParam())};
  s.headers = {"from", "subject", "date"};
  s.oversign = {"From", "To", "X-Absent"};
  s.expire_after = 600;
  s.identity = "@example.com";
  const std::string f = one(s, msg, kRsaT);
  EXPECT_EQ(tag_value(f, "h"), "From:Subject:SUBJECT:From:To:X-Absent");
  VerifyOptions vo;
  vo.clock = fixed_clock(kRsaT + 10);
  auto r = verify_message(f + "\r\n" + msg, zone, vo);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason << "\n" << f;
}
INSTANTIATE_TEST_SUITE_P(Canons, OpenDkimSignVerify,
                         ::testing::Combine(::testing::Values(Canon::Simple, Canon::Relaxed),
                                            ::testing::Values(Canon::Simple, Canon::Relaxed),
                                            ::testing::Bool()),
                         [](const auto& i) {
                           return std::string(to_string(std::get<0>(i.param))) + "_" +
                                  to_string(std::get<1>(i.param)) +
                                  (std::get<2>(i.param) ? "_ed25519" : "_rsa");
                         });

}  // namespace
/* ---- MaximumSignedBytes: l= is what was hashed ------------------------------------------ */

TEST(OpenDkimMaxBodyBytes, LimitsTheHashAndWritesL) {
  dns::ZoneResolver zone;
  zone.add_txt("rsa._domainkey.example.com",
               *format_key_record(crypto::PublicKey::from_private(rsa_key())));
  const std::string body = "0123456789\r\nabcdefghij\r\n";  // 24 canonical bytes
  const std::string msg = "From: Joe <joe@example.com>\r\nSubject: x\r\n\r\n" + body;
  auto s = spec(rsa_key(), "rsa");
  s.headers = {"from", "subject"};
  for (std::uint64_t limit : {std::uint64_t{5}, std::uint64_t{24}, std::uint64_t{1000}}) {
    s.max_body_bytes = limit;
    const std::string f = one(s, msg, kRsaT);
    const std::uint64_t want = std::min<std::uint64_t>(limit, body.size());
    EXPECT_EQ(tag_value(f, "l"), std::to_string(want)) << f;
    // Tag order keeps l= between bh= and h= (dkim_gensighdr).
    auto names = tag_names(f);
    auto at = [&](const char* n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
    EXPECT_LT(at("bh"), at("l"));
    EXPECT_LT(at("l"), at("h"));
    VerifyOptions vo;
    vo.clock = fixed_clock(kRsaT + 10);
    // Text appended after the signed part does not break the signature (that is what l= is).
    auto r = verify_message(f + "\r\n" + msg + (want < body.size() ? "" : "appended\r\n"), zone, vo);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result, DkimResult::Pass) << limit << ": " << r[0].reason << "\n" << f;
  }
  // Two signatures with different limits in one pass hash separately.
  SignOptions o;
  o.clock = fixed_clock(kRsaT);
  auto a = spec(rsa_key(), "rsa");
  a.max_body_bytes = 3;
  auto b = spec(rsa_key(), "rsa");
  o.signatures = {a, b};
  auto both = sign_message(msg, o);
  ASSERT_TRUE(both) << both.error().reason;
  EXPECT_EQ(tag_value(both->at(0), "l"), "3");
  EXPECT_EQ(tag_value(both->at(1), "l"), "<absent>");
  EXPECT_NE(tag_value(both->at(0), "bh"), tag_value(both->at(1), "bh"));
}

}  // namespace auth::dkim
