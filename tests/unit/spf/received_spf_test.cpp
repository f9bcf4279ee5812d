// Received-SPF output, byte for byte against the policyd-spf lab captures
// (shared/reference/anchor-features.md §5.4), and the RFC 7208 §9.1 layout.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/dns/zone.h"
#include "auth/spf/received_spf.h"

namespace auth::spf {
namespace {

struct Case {
  std::string_view name;
  SpfResult result;
  Identity identity;
  std::string_view client_ip, helo, envelope_from, receiver;
  std::string_view want;  // the whole prepended field, as in the lab capture
};

const Case kLab[] = {
    {"pass_mailfrom", SpfResult::Pass, Identity::MailFrom, "192.0.2.5", "mail.example.com",
     "user@example.com", "example.org",
     "Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; "
     "helo=mail.example.com; envelope-from=user@example.com; receiver=example.org "},
    {"softfail_mailfrom", SpfResult::SoftFail, Identity::MailFrom, "203.0.113.9",
     "mail.other.example", "x@example.net", "example.org",
     "Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
     "helo=mail.other.example; envelope-from=x@example.net; receiver=example.org "},
    {"pass_helo", SpfResult::Pass, Identity::Helo, "192.0.2.55", "helo.example.com",
     "x@nodmarc.example", "example.org",
     "Received-SPF: Pass (sender SPF authorized) identity=helo; client-ip=192.0.2.55; "
     "helo=helo.example.com; envelope-from=x@nodmarc.example; receiver=example.org "},
    {"pass_helo_null_sender", SpfResult::Pass, Identity::Helo, "192.0.2.55", "helo.example.com",
     "", "example.org",
     "Received-SPF: Pass (sender SPF authorized) identity=helo; client-ip=192.0.2.55; "
     "helo=helo.example.com; envelope-from=<>; receiver=example.org "},
};

class ReceivedSpfLab : public testing::TestWithParam<Case> {};

TEST_P(ReceivedSpfLab, MatchesPolicydSpf) {
  const auto& c = GetParam();
  ReceivedSpf f;
  f.result = c.result;
  f.identity = c.identity;
  f.comment = policyd_comment(c.result, c.identity);
  f.client_ip = std::string(c.client_ip);
  f.helo = std::string(c.helo);
  f.envelope_from = std::string(c.envelope_from);
  f.receiver = std::string(c.receiver);
  EXPECT_EQ(format_received_spf(f), c.want);
}

INSTANTIATE_TEST_SUITE_P(Lab, ReceivedSpfLab, testing::ValuesIn(kLab),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(ReceivedSpf, ResultWordsAndComments) {
  EXPECT_STREQ(capitalized(SpfResult::Neutral), "Neutral");
  EXPECT_STREQ(capitalized(SpfResult::None), "None");
  EXPECT_STREQ(capitalized(SpfResult::PermError), "Permerror");
  EXPECT_STREQ(capitalized(SpfResult::TempError), "Temperror");
  EXPECT_STREQ(capitalized(SpfResult::Fail), "Fail");
  EXPECT_EQ(policyd_comment(SpfResult::None, Identity::Helo), "no SPF record");
  EXPECT_EQ(policyd_comment(SpfResult::SoftFail, Identity::Helo),
            "domain owner discourages use of this host");
  EXPECT_EQ(policyd_comment(SpfResult::Neutral, Identity::Helo),
            "access neither permitted nor denied");
  EXPECT_EQ(policyd_comment(SpfResult::PermError, Identity::MailFrom), "mailfrom");
}

TEST(ReceivedSpf, FromCheckResultEndToEnd) {
  dns::ZoneResolver zone;
  zone.add_txt("example.com", "v=spf1 ip4:192.0.2.5 -all");
  Request r;
  r.client_ip = "192.0.2.5";
  r.mail_from = "user@example.com";
  r.helo = "mail.example.com";
  auto res = check_host(zone, r);
  auto f = make_received_spf(res, r.mail_from, "example.org");
  EXPECT_EQ(format_received_spf(f),
            "Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; "
            "helo=mail.example.com; envelope-from=user@example.com; receiver=example.org ");
  EXPECT_EQ(format_received_spf(f, ReceivedSpfStyle::Rfc7208),
            "Received-SPF: pass (mailfrom) client-ip=192.0.2.5; "
            "envelope-from=\"user@example.com\"; helo=mail.example.com; receiver=example.org; "
            "mechanism=\"ip4:192.0.2.5\"; identity=mailfrom");

  // HELO fail: policyd-spf shows pyspf's explanation as the comment.
  zone.add_txt("bad.example", "v=spf1 -all");
  Request h;
  h.client_ip = "203.0.113.9";
  h.helo = "bad.example";
  h.identity = Identity::Helo;
  auto hres = check_host(zone, h);
  auto hf = make_received_spf(hres, "<>", "example.org");
  EXPECT_EQ(format_received_spf(hf),
            "Received-SPF: Fail (SPF fail - not authorized) identity=helo; client-ip=203.0.113.9; "
            "helo=bad.example; envelope-from=<>; receiver=example.org ");
}

TEST(ReceivedSpf, HostileValuesSanitisedAndQuoted) {
  ReceivedSpf f;
  f.result = SpfResult::PermError;
  f.identity = Identity::MailFrom;
  f.comment = "bad\r\nX-Injected: yes";
  f.client_ip = "192.0.2.1";
  f.helo = "evil\nhelo";
  f.envelope_from = "a b\"c@example.com";
  f.receiver = "example.org";
  f.problem = "syntax error; in (record)";
  for (auto style : {ReceivedSpfStyle::PolicydSpf, ReceivedSpfStyle::Rfc7208}) {
    std::string out = format_received_spf(f, style);
    EXPECT_EQ(out.find('\r'), std::string::npos);
    EXPECT_EQ(out.find('\n'), std::string::npos);
  }
  std::string rfc = format_received_spf_value(f, ReceivedSpfStyle::Rfc7208);
  EXPECT_NE(rfc.find("envelope-from=\"a b\\\"c@example.com\""), std::string::npos) << rfc;
  EXPECT_NE(rfc.find("problem=\"syntax error; in (record)\""), std::string::npos) << rfc;
  EXPECT_NE(rfc.find("(bad??X-Injected: yes)"), std::string::npos) << rfc;
}

}  // namespace
}  // namespace auth::spf
