// Signer options OpenDKIM's Diagnostics and RequestReports map to: z= (RFC 6376 §3.5, copies
// of the signed fields in DKIM-Quoted-Printable) and r=y (RFC 6651 §3), in both layouts: tag
// placement, the exact encoding (libopendkim dkim_qp_encode), folding, OpenDKIM's per-copy
// buffer, hostile inputs, and sign-then-verify. Byte identity with Debian's opendkim 2.11:
// milters/dkim/tests/sign_options_test.sh.
#include <gtest/gtest.h>

#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/tag_list.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"
#include "auth/mail/header.h"
#include "unit/dkim/test_util.h"

namespace auth::dkim {
namespace {

constexpr std::int64_t kT = 1700000000;

const std::string kMessage =
    "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "From: \"A; B\" <a@example.com>\r\n"
    "To: b@example.net,\r\n\tc@example.net  \r\n"
    "Subject: x=y;z|w\t\xC3\xA9 ~\x7F\r\n"
    "Message-ID: <1@example.com>\r\n"
    "\r\n"
    "body\r\n";

const crypto::PrivateKey& rsa_key() { return dkim_test::generated_rsa_key(); }
const crypto::PrivateKey& ed_key() {
  static const crypto::PrivateKey k = dkim_test::ed25519_key('z');
  return k;
}

SignatureSpec spec(SignatureStyle style, bool ed = false) {
  SignatureSpec s;
  s.domain = "example.com";
  s.selector = ed ? "ed" : "rsa";
  s.key = std::make_shared<crypto::LocalSigner>(ed ? ed_key() : rsa_key());
  s.style = style;
  s.oversign = {};
  return s;
}

std::string one(const SignatureSpec& s, const std::string& msg = kMessage) {
  SignOptions o;
  o.clock = fixed_clock(kT);
  o.signatures = {s};
  auto r = sign_message(msg, o);
  EXPECT_TRUE(r) << r.error().reason;
  return r ? r->at(0) : std::string();
}

// The field's value with all folding whitespace removed.
std::string flat(const std::string& field) {
  std::string out;
  for (char c : field) {
    if (c != '\r' && c != '\n' && c != '\t' && c != ' ') out += c;
  }
  return out;
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
  return v ? flat(std::string(*v)) : "<absent>";
}

/* ---- the encoding ------------------------------------------------------------------------ */

struct QpCase {
  std::string in, out;
};
class DkimQp : public ::testing::TestWithParam<QpCase> {};
TEST_P(DkimQp, AsOpenDkim) { EXPECT_EQ(encode_dkim_qp(GetParam().in), GetParam().out); }
INSTANTIATE_TEST_SUITE_P(
    Bytes, DkimQp,
    ::testing::Values(QpCase{"", ""}, QpCase{"From: a@b", "From:=20a@b"},
                      QpCase{"!\"#$%&'()*+,-./0123456789:", "!\"#$%&'()*+,-./0123456789:"},
                      QpCase{";", "=3B"}, QpCase{"<", "<"}, QpCase{"=", "=3D"}, QpCase{">?@Z[\\]^_`az{|}~", ">?@Z[\\]^_`az{|}~"},
                      QpCase{"\x7F", "=7F"}, QpCase{"\t\r\n", "=09=0D=0A"}, QpCase{"\xC3\xA9\xFF", "=C3=A9=FF"},
                      QpCase{std::string("a\0b", 3), "a"}, QpCase{"\x01\x1F", "=01=1F"}));

/* ---- OpenDkim layout --------------------------------------------------------------------- */

TEST(SignerDiagnostics, OpenDkimZAfterHCopiesTheSignedFields) {
  auto s = spec(SignatureStyle::OpenDkim);
  s.diagnostics = true;
  const std::string f = one(s);
  EXPECT_EQ(tag_names(f), (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "bh", "h", "z", "b"}));
  EXPECT_EQ(tag_value(f, "h"), "From:To:Subject");
  // Received and Message-ID are not in the signed set: not copied.
  EXPECT_EQ(tag_value(f, "z"),
            "From:=20\"A=3B=20B\"=20<a@example.com>|To:=20b@example.net,=0D=0A=09c@example.net=20=20|"
            "Subject:=20x=3Dy=3Bz|w=09=C3=A9=20~=7F");
}

TEST(SignerDiagnostics, OpenDkimZIsCutAtTheMarginWithContinuationLines) {
  auto s = spec(SignatureStyle::OpenDkim);
  s.diagnostics = true;
  const std::string f = one(s);
  const auto z = f.find("\r\n\tz=");
  ASSERT_NE(z, std::string::npos) << f;
  // Continuation lines of a cut value start with TAB SP; every line stays within 75 columns
  // (TAB = 8), as dkim_getsighdr_d lays them out.
  std::size_t start = 0;
  while (start < f.size()) {
    std::size_t e = f.find("\r\n", start);
    if (e == std::string::npos) e = f.size();
    const std::string line = f.substr(start, e - start);
    const std::size_t cols = !line.empty() && line[0] == '\t' ? line.size() - 1 + kOpenDkimTabWidth : line.size();
    EXPECT_LE(cols, kOpenDkimHeaderMargin) << "[" << line << "]";
    start = e + 2;
  }
  EXPECT_NE(f.find("\r\n\t ", z), std::string::npos) << f;
}

TEST(SignerDiagnostics, OpenDkimRequestReportsAfterIdentityBeforeBh) {
  auto s = spec(SignatureStyle::OpenDkim);
  s.request_reports = true;
  s.expire_after = 3600;
  s.identity = "a@example.com";
  s.body_length = true;
  s.diagnostics = true;
  const std::string f = one(s);
  EXPECT_EQ(tag_names(f),
            (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "x", "i", "r", "bh", "l", "h", "z", "b"}));
  EXPECT_EQ(tag_value(f, "r"), "y");
  EXPECT_NE(f.find("t=1700000000; x=1700003600; i=a@example.com; r=y;"), std::string::npos) << f;
}

TEST(SignerDiagnostics, OffByDefault) {
  for (auto style : {SignatureStyle::OpenDkim, SignatureStyle::Rfc}) {
    const std::string f = one(spec(style));
    EXPECT_EQ(tag_value(f, "z"), "<absent>");
    EXPECT_EQ(tag_value(f, "r"), "<absent>");
  }
}

TEST(SignerDiagnostics, OpenDkimOversignedExtrasAreNotCopied) {
  auto s = spec(SignatureStyle::OpenDkim);
  s.diagnostics = true;
  s.oversign = {"From", "Reply-To"};
  const std::string f = one(s);
  EXPECT_EQ(tag_value(f, "h"), "From:To:Subject:From:Reply-To");
  const std::string z = tag_value(f, "z");
  EXPECT_EQ(std::count(z.begin(), z.end(), '|') - 1, 2) << z;  // 3 copies ('|' in Subject is literal)
  EXPECT_EQ(z.find("Reply-To"), std::string::npos);
}

// A copy longer than OpenDKIM's kOpenDkimZCopyBuffer stays empty between its separators.
TEST(SignerDiagnostics, OpenDkimOversizedCopyIsEmpty) {
  auto s = spec(SignatureStyle::OpenDkim);
  s.diagnostics = true;
  // "Subject:=20" + n literals: n + 11 bytes; fits exactly at n = buffer - 11.
  for (std::size_t n : {kOpenDkimZCopyBuffer - 11, kOpenDkimZCopyBuffer - 10, kOpenDkimZCopyBuffer + 10}) {
    const std::string msg = "From: a@example.com\r\nSubject: " + std::string(n, 'x') + "\r\nTo: b@example.net\r\n\r\nbody\r\n";
    const std::string z = tag_value(one(s, msg), "z");
    if (n + 11 <= kOpenDkimZCopyBuffer) {
      EXPECT_EQ(z, "From:=20a@example.com|Subject:=20" + std::string(n, 'x') + "|To:=20b@example.net");
    } else {
      EXPECT_EQ(z, "From:=20a@example.com||To:=20b@example.net");
    }
  }
  // An escape that needs the last 5 bytes of the buffer is dropped, the literals after it kept.
  // "Subject:=20" + near = 4095 bytes: "=3B" would need the last 5 bytes; 'q' still fits.
  const std::string near = std::string(kOpenDkimZCopyBuffer - 13, 'y');
  const std::string msg = "From: a@example.com\r\nSubject: " + near + ";q\r\n\r\nbody\r\n";
  EXPECT_EQ(tag_value(one(s, msg), "z"), "From:=20a@example.com|Subject:=20" + near + "q");
}

/* ---- Rfc layout ------------------------------------------------------------------------- */

TEST(SignerDiagnostics, RfcOrderAndFolding) {
  auto s = spec(SignatureStyle::Rfc);
  s.diagnostics = true;
  s.request_reports = true;
  s.expire_after = 60;
  const std::string f = one(s);
  EXPECT_EQ(tag_names(f), (std::vector<std::string>{"v", "a", "c", "d", "s", "t", "x", "r", "h", "z", "bh", "b"}));
  // Rfc style signs RFC 6376 §5.4.1's list, which has Message-ID.
  EXPECT_EQ(tag_value(f, "z"),
            "From:=20\"A=3B=20B\"=20<a@example.com>|To:=20b@example.net,=0D=0A=09c@example.net=20=20|"
            "Subject:=20x=3Dy=3Bz|w=09=C3=A9=20~=7F|Message-ID:=20<1@example.com>");
  std::size_t start = 0;
  while (start < f.size()) {
    std::size_t e = f.find("\r\n", start);
    if (e == std::string::npos) e = f.size();
    EXPECT_LE(e - start, kSignatureLineLength) << f;
    start = e + 2;
  }
  // No line break splits an "=XX" escape.
  EXPECT_EQ(f.find("=\r\n"), std::string::npos);
  EXPECT_EQ(f.find("=0\r\n"), std::string::npos);
}

/* ---- the signature covers the emitted z= / r= -------------------------------------------- */

class DiagSignVerify : public ::testing::TestWithParam<std::tuple<SignatureStyle, Canon, bool /*ed*/>> {};
TEST_P(DiagSignVerify, RoundTrip) {
  dns::ZoneResolver zone;
  zone.add_txt("rsa._domainkey.example.com", *format_key_record(crypto::PublicKey::from_private(rsa_key())));
  zone.add_txt("ed._domainkey.example.com", *format_key_record(crypto::PublicKey::from_private(ed_key())));
  const bool ed = std::get<2>(GetParam());
  auto s = spec(std::get<0>(GetParam()), ed);
  s.canon = {std::get<1>(GetParam()), std::get<1>(GetParam())};
  s.diagnostics = true;
  s.request_reports = true;
  const std::string f = one(s);
  VerifyOptions vo;
  vo.clock = fixed_clock(kT + 10);
  auto r = verify_message(f + "\r\n" + kMessage, zone, vo);
  ASSERT_EQ(r.size(), 1u);
  // OpenDKIM's own Ed25519 + simple header layout hashes " b=" where it emits CRLF TAB "b="
  // (signer.h); we hash what we emit, so every combination verifies.
  EXPECT_EQ(r[0].result, DkimResult::Pass) << r[0].reason << "\n" << f;
}
INSTANTIATE_TEST_SUITE_P(All, DiagSignVerify,
                         ::testing::Combine(::testing::Values(SignatureStyle::OpenDkim, SignatureStyle::Rfc),
                                            ::testing::Values(Canon::Simple, Canon::Relaxed), ::testing::Bool()));

/* ---- hostile inputs stay bounded -------------------------------------------------------- */

TEST(SignerDiagnostics, ManyFieldsAndTenThousandEscapesStayBounded) {
  std::string msg = "From: a@example.com\r\n";
  for (std::size_t i = 1; i < mail::kMaxHeaderFields - 1; ++i) msg += "Subject: s\xFF;" + std::to_string(i) + "\r\n";
  msg += "To: " + std::string(10000, ';') + "\r\n\r\nbody\r\n";
  for (auto style : {SignatureStyle::OpenDkim, SignatureStyle::Rfc}) {
    auto s = spec(style);
    s.diagnostics = true;
    const std::string f = one(s, msg);
    const std::string z = tag_value(f, "z");
    EXPECT_EQ(static_cast<std::size_t>(std::count(z.begin(), z.end(), '|')), mail::kMaxHeaderFields - 1);
    // The To copy (10 000 escapes, 30 006 bytes): whole in Rfc style; OpenDKIM's buffer keeps
    // the escapes that fit and silently drops the rest (dkim_qp_encode never reaches `end`).
    const std::string to = z.substr(z.rfind('|') + 1);
    if (style == SignatureStyle::Rfc) {
      EXPECT_EQ(to.size(), 6u + 30000u);
    } else {
      EXPECT_EQ(to.size(), 6u + (kOpenDkimZCopyBuffer - 4 - 6 + 2) / 3 * 3);
    }
    EXPECT_LT(f.size(), 200000u);
  }
}

}  // namespace
}  // namespace auth::dkim
