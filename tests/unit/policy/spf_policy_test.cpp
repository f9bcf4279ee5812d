// auth::policy SPF engine: policyd-spf's decisions and exact output (anchor-features.md §5.4,
// anchor-lab-captures.txt "policyd-spf output"), over an in-memory zone.
#include "auth/policy/spf_policy.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "auth/dns/zone.h"

namespace {

using namespace auth::policy;
using auth::config::HeaderType;
using auth::config::HeloReject;
using auth::config::MailFromReject;
using auth::config::SpfSettings;
using auth::dns::ZoneResolver;

// The lab's fake DNS, as far as policyd-spf's output tells it.
void load_lab_zone(ZoneResolver& z) {
  z.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
  z.add_txt("example.net", "v=spf1 ip4:192.0.2.0/24 ~all");
  z.add_txt("example.org", "v=spf1 ip4:192.0.2.0/24 ?all");
  z.add_name("nodmarc.example");
  z.add_txt("permerror.example", "v=spf1 include:nonexistent.invalid -all");
  z.set_failure("timeout-spf.example", auth::dns::Status::Timeout);
  z.add_txt("badhelo.example", "v=spf1 -all");
  z.add_txt("helo.example.com", "v=spf1 ip4:192.0.2.55 -all");
  z.add_txt("nomail.example", "v=spf1 -all");
  z.add_txt("failsoft.example", "v=spf1 ip4:198.51.100.1 -all");  // fail, but not "no mail"
  z.add_a("relay.example.net", "203.0.113.9");
  z.add_ptr("9.113.0.203.in-addr.arpa", "mx1.forwarder.example");
  z.add_txt("trusted.example", "v=spf1 ip4:203.0.113.0/24 -all");
  z.add_name("mail.other.example");
  z.add_name("mail.example.com");
}

struct Req {
  std::string helo, sender, client, instance = "inst", recipient = "rcpt@example.org";
};

std::string request_text(const Req& r) {
  return "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=" +
         r.helo + "\nqueue_id=QID\ninstance=" + r.instance + "\nsender=" + r.sender +
         "\nrecipient=" + r.recipient + "\nclient_address=" + r.client +
         "\nclient_name=unknown\nreverse_client_name=unknown\n\n";
}

class Engine {
 public:
  explicit Engine(SpfSettings s = {}) : settings_(std::make_shared<SpfSettings>(std::move(s))) {
    load_lab_zone(zone_);
  }
  SpfSettings& settings() { return *settings_; }
  ZoneResolver& zone() { return zone_; }

  SpfVerdict run(const Req& r) {
    auto req = parse_request(request_text(r));
    EXPECT_TRUE(req);
    auto in = SpfPolicyInput::from_request(*req, *settings_);
    std::optional<SpfVerdict> got;
    auto check = SpfPolicyCheck::start(settings_, SpfPolicyEnv{"mx.test.example", {}}, zone_, in,
                                       cache_.find(in.instance),
                                       [&](SpfVerdict v) { got = std::move(v); });
    EXPECT_TRUE(check->done());
    if (!got) return {};
    if (got->store) cache_.put(in.instance, *got->store);
    return *got;
  }
  std::string action(const Req& r) { return run(r).action; }

 private:
  std::shared_ptr<SpfSettings> settings_;
  ZoneResolver zone_;
  InstanceCache cache_;
};

SpfSettings lab_default() {
  SpfSettings s;
  s.lookup_time = std::chrono::seconds(5);
  return s;
}

SpfSettings lab_ar() {
  SpfSettings s;
  s.debug_level = 3;
  s.helo_reject = HeloReject::SpfNotPass;
  s.permerror_reject = true;
  s.temperror_defer = true;
  s.header_type = HeaderType::AuthenticationResults;
  s.authserv_id = "mx.test.example";
  s.lookup_time = std::chrono::seconds(5);
  return s;
}

// ---- the lab transcript, default config ----

struct LabCase {
  std::string name;
  Req req;
  std::string want;
};

const std::vector<LabCase>& default_cases() {
  static const std::vector<LabCase> k = {
      {"pass", {"mail.example.com", "user@example.com", "192.0.2.5", "inst1"},
       "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; "
       "helo=mail.example.com; envelope-from=user@example.com; receiver=example.org "},
      {"fail", {"mail.other.example", "user@example.com", "203.0.113.9", "inst2"},
       "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
       "http://www.openspf.net/Why?s=mfrom;id=user@example.com;ip=203.0.113.9;r=example.org"},
      {"softfail", {"mail.other.example", "x@example.net", "203.0.113.9", "inst3"},
       "prepend Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
       "helo=mail.other.example; envelope-from=x@example.net; receiver=example.org "},
      {"neutral", {"mail.other.example", "x@example.org", "203.0.113.9", "inst4"},
       "prepend Received-SPF: Neutral (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
       "helo=mail.other.example; envelope-from=x@example.org; receiver=example.org "},
      {"none", {"mail.other.example", "x@nodmarc.example", "203.0.113.9", "inst5"},
       "prepend Received-SPF: None (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
       "helo=mail.other.example; envelope-from=x@nodmarc.example; receiver=example.org "},
      {"permerror", {"mail.other.example", "x@permerror.example", "203.0.113.9", "inst6"},
       "prepend Received-SPF: Permerror (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
       "helo=mail.other.example; envelope-from=x@permerror.example; receiver=example.org "},
      {"temperror", {"mail.other.example", "x@timeout-spf.example", "203.0.113.9", "inst7"},
       "prepend Received-SPF: Temperror (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
       "helo=mail.other.example; envelope-from=x@timeout-spf.example; receiver=example.org "},
      {"helo_fail", {"badhelo.example", "x@example.org", "203.0.113.9", "inst8"},
       "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
       "http://www.openspf.net/Why?s=helo;id=badhelo.example;ip=203.0.113.9;r=example.org"},
      {"helo_pass_mailfrom_none", {"helo.example.com", "x@nodmarc.example", "192.0.2.55", "inst9"},
       "prepend Received-SPF: Pass (sender SPF authorized) identity=helo; client-ip=192.0.2.55; "
       "helo=helo.example.com; envelope-from=x@nodmarc.example; receiver=example.org "},
      {"null_sender", {"helo.example.com", "", "192.0.2.55", "inst10"},
       "prepend Received-SPF: Pass (sender SPF authorized) identity=helo; client-ip=192.0.2.55; "
       "helo=helo.example.com; envelope-from=<>; receiver=example.org "},
      {"skip_local", {"localhost", "x@example.com", "127.0.0.1", "inst11"},
       "prepend X-Comment: SPF check N/A for local connections - client-ip=127.0.0.1; "
       "helo=localhost; envelope-from=x@example.com; receiver=example.org "},
      {"ipv6_pass", {"mail.example.com", "user@example.com", "2001:db8::25", "inst12"},
       "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=2001:db8::25; "
       "helo=mail.example.com; envelope-from=user@example.com; receiver=example.org "},
      {"second_rcpt", {"mail.example.com", "user@example.com", "192.0.2.5", "inst1",
                       "second@example.org"},
       "dunno"},
  };
  return k;
}

TEST(SpfPolicyLab, DefaultConfigTranscript) {
  Engine e(lab_default());
  for (const auto& c : default_cases()) {
    EXPECT_EQ(e.action(c.req), c.want) << c.name;
  }
}

TEST(SpfPolicyLab, ArConfigTranscript) {
  Engine e(lab_ar());
  const std::string d = " (client-ip=203.0.113.9; helo=mail.other.example; envelope-from=";
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "192.0.2.5", "inst1"}),
            "prepend Authentication-Results: mx.test.example; spf=pass (sender SPF authorized) "
            "smtp.mailfrom=example.com (client-ip=192.0.2.5; helo=mail.example.com; "
            "envelope-from=user@example.com; receiver=example.org)");
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "203.0.113.9", "inst2"}),
            "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
            "http://www.openspf.net/Why?s=mfrom;id=user@example.com;ip=203.0.113.9;r=example.org");
  EXPECT_EQ(e.action({"mail.other.example", "x@example.net", "203.0.113.9", "inst3"}),
            "prepend Authentication-Results: mx.test.example; spf=softfail (domain owner "
            "discourages use of this host) smtp.mailfrom=example.net" + d +
                "x@example.net; receiver=example.org)");
  EXPECT_EQ(e.action({"mail.other.example", "x@example.org", "203.0.113.9", "inst4"}),
            "prepend Authentication-Results: mx.test.example; spf=neutral (access neither "
            "permitted nor denied) smtp.mailfrom=example.org" + d +
                "x@example.org; receiver=example.org)");
  EXPECT_EQ(e.action({"mail.other.example", "x@nodmarc.example", "203.0.113.9", "inst5"}),
            "prepend Authentication-Results: mx.test.example; spf=none (no SPF record) "
            "smtp.mailfrom=nodmarc.example" + d + "x@nodmarc.example; receiver=example.org)");
  std::string perm = e.action({"mail.other.example", "x@permerror.example", "203.0.113.9", "inst6"});
  EXPECT_EQ(perm.rfind("550 5.7.24 Message rejected due to: SPF Permanent Error: ", 0), 0u) << perm;
  EXPECT_NE(perm.find(". Please see http://www.openspf.net/Why?s=mfrom;id=x@permerror.example;"
                      "ip=203.0.113.9;r=example.org"),
            std::string::npos)
      << perm;
  std::string temp = e.action({"mail.other.example", "x@timeout-spf.example", "203.0.113.9", "inst7"});
  EXPECT_EQ(temp.rfind("defer_if_permit 4.7.24 Message deferred due to: SPF Temporary Error: ", 0),
            0u)
      << temp;
  EXPECT_EQ(e.action({"badhelo.example", "x@example.org", "203.0.113.9", "inst8"}),
            "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
            "http://www.openspf.net/Why?s=helo;id=badhelo.example;ip=203.0.113.9;r=example.org");
  EXPECT_EQ(e.action({"helo.example.com", "x@nodmarc.example", "192.0.2.55", "inst9"}),
            "prepend Authentication-Results: mx.test.example; spf=pass (sender SPF authorized) "
            "smtp.helo=helo.example.com (client-ip=192.0.2.55; helo=helo.example.com; "
            "envelope-from=x@nodmarc.example; receiver=example.org)");
  EXPECT_EQ(e.action({"helo.example.com", "", "192.0.2.55", "inst10"}),
            "prepend Authentication-Results: mx.test.example; spf=pass (sender SPF authorized) "
            "smtp.helo=helo.example.com (client-ip=192.0.2.55; helo=helo.example.com; "
            "envelope-from=<>; receiver=example.org)");
  EXPECT_EQ(e.action({"localhost", "x@example.com", "127.0.0.1", "inst11"}),
            "prepend Authentication-Results: mx.test.example; none (SPF check N/A for local "
            "connections -  client-ip=127.0.0.1; helo=localhost; envelope-from=x@example.com; "
            "receiver=example.org)");
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "192.0.2.5", "inst1", "b@example.org"}),
            "dunno");
}

// ---- Mail_From_reject × result ----

struct MfCase {
  MailFromReject policy;
  std::string sender;  // chooses the result
  bool rejected;
};

class MailFromRejectTable : public testing::TestWithParam<MfCase> {};
TEST_P(MailFromRejectTable, RejectOrPrepend) {
  const auto& c = GetParam();
  SpfSettings s;
  s.mail_from_reject = c.policy;
  s.helo_reject = HeloReject::NoCheck;
  Engine e(s);
  std::string a = e.action({"mail.other.example", c.sender, "203.0.113.9"});
  if (c.policy == MailFromReject::NoCheck) {
    EXPECT_EQ(a, "dunno");  // neither scope checked
  } else if (c.rejected) {
    EXPECT_EQ(a.rfind("550 5.7.23 Message rejected due to: ", 0), 0u) << a;
  } else {
    EXPECT_EQ(a.rfind("prepend Received-SPF: ", 0), 0u) << a;
  }
}
// Results: fail user@example.com, softfail x@example.net, neutral x@example.org, none
// x@nodmarc.example, permerror x@permerror.example, temperror x@timeout-spf.example.
INSTANTIATE_TEST_SUITE_P(
    All, MailFromRejectTable,
    testing::Values(
        MfCase{MailFromReject::Fail, "user@example.com", true},
        MfCase{MailFromReject::Fail, "x@example.net", false},
        MfCase{MailFromReject::Fail, "x@example.org", false},
        MfCase{MailFromReject::Fail, "x@nodmarc.example", false},
        MfCase{MailFromReject::Fail, "x@permerror.example", false},
        MfCase{MailFromReject::Softfail, "user@example.com", true},
        MfCase{MailFromReject::Softfail, "x@example.net", true},
        MfCase{MailFromReject::Softfail, "x@example.org", false},
        MfCase{MailFromReject::SpfNotPass, "user@example.com", true},
        MfCase{MailFromReject::SpfNotPass, "x@example.net", true},
        MfCase{MailFromReject::SpfNotPass, "x@example.org", true},
        MfCase{MailFromReject::SpfNotPass, "x@nodmarc.example", false},
        MfCase{MailFromReject::SpfNotPass, "x@permerror.example", false},
        MfCase{MailFromReject::SpfRequired, "x@nodmarc.example", true},
        MfCase{MailFromReject::SpfRequired, "x@example.net", true},
        MfCase{MailFromReject::SpfRequired, "x@example.org", false},
        MfCase{MailFromReject::False, "user@example.com", false},
        MfCase{MailFromReject::False, "x@example.net", false},
        MfCase{MailFromReject::Other, "user@example.com", false},
        MfCase{MailFromReject::NoCheck, "user@example.com", false}));

// ---- HELO_reject × result ----

struct HeloCase {
  HeloReject policy;
  std::string helo;
  std::string sender;
  bool rejected;
};
class HeloRejectTable : public testing::TestWithParam<HeloCase> {};
TEST_P(HeloRejectTable, RejectOrNot) {
  const auto& c = GetParam();
  SpfSettings s;
  s.helo_reject = c.policy;
  s.mail_from_reject = MailFromReject::False;
  Engine e(s);
  std::string a = e.action({c.helo, c.sender, "203.0.113.9"});
  if (c.rejected) {
    EXPECT_EQ(a.rfind("550 5.7.23 Message rejected due to: ", 0), 0u) << a;
    EXPECT_NE(a.find("Please see http://www.openspf.net/Why?s=helo;id=" + c.helo +
                     ";ip=203.0.113.9;r=example.org"),
              std::string::npos)
        << a;
  } else {
    EXPECT_EQ(a.rfind("prepend ", 0), 0u) << a;
  }
}
INSTANTIATE_TEST_SUITE_P(
    All, HeloRejectTable,
    testing::Values(HeloCase{HeloReject::Fail, "badhelo.example", "x@example.org", true},
                    HeloCase{HeloReject::Fail, "example.net", "x@example.org", false},
                    HeloCase{HeloReject::Softfail, "example.net", "x@example.org", true},
                    HeloCase{HeloReject::Softfail, "example.org", "x@example.org", false},
                    HeloCase{HeloReject::SpfNotPass, "example.org", "x@example.org", true},
                    HeloCase{HeloReject::SpfNotPass, "mail.other.example", "x@example.org", false},
                    HeloCase{HeloReject::Null, "badhelo.example", "x@example.org", false},
                    HeloCase{HeloReject::Null, "badhelo.example", "", true},
                    HeloCase{HeloReject::False, "badhelo.example", "", false},
                    HeloCase{HeloReject::Other, "badhelo.example", "x@example.org", false}));

TEST(SpfPolicy, HeloNoCheckNullSenderIsDunno) {
  SpfSettings s;
  s.helo_reject = HeloReject::NoCheck;
  Engine e(s);
  EXPECT_EQ(e.action({"badhelo.example", "", "203.0.113.9"}), "dunno");
}

TEST(SpfPolicy, PermErrorRejectAndTempErrorDefer) {
  SpfSettings s;
  s.permerror_reject = true;
  s.temperror_defer = true;
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "x@permerror.example", "203.0.113.9", "a"})
                .rfind("550 5.7.24 ", 0),
            0u);
  EXPECT_EQ(e.action({"mail.other.example", "x@timeout-spf.example", "203.0.113.9", "b"})
                .rfind("defer_if_permit 4.7.24 Message deferred due to: ", 0),
            0u);
  // Second RCPT of a permerror-rejected message: the cached reject, with policyd-spf's non-error
  // code (iserror is not carried over).
  EXPECT_EQ(e.action({"mail.other.example", "x@permerror.example", "203.0.113.9", "a"})
                .rfind("550 5.7.23 ", 0),
            0u);
}

TEST(SpfPolicy, PlainCodesWithoutEnhancedStatusCodes) {
  SpfSettings s;
  s.enhanced_status_codes = false;
  s.temperror_defer = true;
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "203.0.113.9", "a"})
                .rfind("550 Message rejected due to: ", 0),
            0u);
  EXPECT_EQ(e.action({"mail.other.example", "x@timeout-spf.example", "203.0.113.9", "b"})
                .rfind("defer_if_permit Message deferred due to: ", 0),
            0u);
}

TEST(SpfPolicy, TestOnlyZeroNeverRejects) {
  SpfSettings s;
  s.test_only = 0;
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "203.0.113.9", "a"}), "dunno");
  EXPECT_EQ(e.action({"badhelo.example", "x@example.org", "203.0.113.9", "b"}), "dunno");
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "192.0.2.5", "c"})
                .rfind("prepend Received-SPF: Pass", 0),
            0u);
}

TEST(SpfPolicy, SkipAddressesEmptyChecksLoopback) {
  SpfSettings s;
  s.skip_addresses = {};
  Engine e(s);
  e.zone().add_txt("loop.example", "v=spf1 ip4:127.0.0.2 -all");
  EXPECT_EQ(e.action({"localhost", "a@loop.example", "127.0.0.2", "a"}),
            "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=127.0.0.2; "
            "helo=localhost; envelope-from=a@loop.example; receiver=example.org ");
  EXPECT_EQ(e.action({"localhost", "a@loop.example", "127.0.0.3", "b"}).rfind("550 5.7.23", 0), 0u);
}

TEST(SpfPolicy, WhitelistBypass) {
  SpfSettings s;
  s.whitelist.entries.push_back(*auth::net::parse_cidr("203.0.113.0/24"));
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "203.0.113.9", "a"}),
            "prepend X-Comment: SPF skipped for whitelisted relay - client-ip=203.0.113.9; "
            "helo=mail.other.example; envelope-from=user@example.com; receiver=example.org ");
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "203.0.113.9", "a"}), "dunno");
}

TEST(SpfPolicy, DomainWhitelistBypass) {
  SpfSettings s;
  s.domain_whitelist = {"nodmarc.example", "trusted.example"};
  Engine e(s);
  auto v = e.run({"mail.other.example", "user@example.com", "203.0.113.9", "a"});
  EXPECT_EQ(v.bypass, "Domain_Whitelist");
  EXPECT_EQ(v.action,
            "prepend X-Comment: SPF skipped for whitelisted relay domain - client-ip=203.0.113.9; "
            "helo=mail.other.example; envelope-from=user@example.com; receiver=example.org ");
  // Not passing for any listed domain: checked normally.
  EXPECT_EQ(e.action({"mail.other.example", "user@example.com", "198.51.100.7", "b"})
                .rfind("550 5.7.23", 0),
            0u);
}

TEST(SpfPolicy, HeloWhitelistNeedsMatchingAddress) {
  SpfSettings s;
  s.helo_whitelist = {"relay.example.net"};
  Engine e(s);
  EXPECT_EQ(e.run({"relay.example.net", "user@example.com", "203.0.113.9", "a"}).bypass,
            "HELO_Whitelist");
  // Listed name, other address: the A record does not include it.
  EXPECT_EQ(e.action({"relay.example.net", "user@example.com", "203.0.113.10", "b"})
                .rfind("550 5.7.23", 0),
            0u);
}

TEST(SpfPolicy, PtrWhitelistAtLabelBoundary) {
  SpfSettings s;
  s.domain_whitelist_ptr = {"forwarder.example"};
  Engine e(s);
  EXPECT_EQ(e.run({"x.example", "user@example.com", "203.0.113.9", "a"}).bypass,
            "Domain_Whitelist_PTR");
  SpfSettings s2;
  s2.domain_whitelist_ptr = {"warder.example"};  // plain suffix, not a label boundary
  Engine e2(s2);
  EXPECT_EQ(e2.run({"x.example", "user@example.com", "203.0.113.9", "a"}).bypass, "");
}

TEST(SpfPolicy, RejectNotPassDomains) {
  SpfSettings s;
  s.reject_not_pass_domains = {"example.net"};
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "x@example.net", "203.0.113.9", "a"}),
            "550 5.7.23 Message rejected due to: Receiver policy for SPF Softfail. Please see "
            "http://www.openspf.net/Why?s=mfrom;id=x@example.net;ip=203.0.113.9;r=example.org");
}

TEST(SpfPolicy, NoMailRejectsOnlyMinusAll) {
  SpfSettings s;
  s.no_mail = true;
  Engine e(s);
  EXPECT_EQ(e.action({"mail.other.example", "x@nomail.example", "203.0.113.9", "a"})
                .rfind("550 5.7.23", 0),
            0u);
  EXPECT_EQ(e.action({"mail.other.example", "x@failsoft.example", "203.0.113.9", "b"}),
            "prepend Received-SPF: Fail (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
            "helo=mail.other.example; envelope-from=x@failsoft.example; receiver=example.org ");
}

TEST(SpfPolicy, PassRestrictions) {
  SpfSettings s;
  s.mail_from_pass_restriction = "spf_pass_class";
  Engine e(s);
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "192.0.2.5", "a"}), "spf_pass_class");
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "192.0.2.5", "a"}), "spf_pass_class");
  SpfSettings h;
  h.helo_pass_restriction = "helo_class";
  Engine eh(h);
  EXPECT_EQ(eh.action({"helo.example.com", "", "192.0.2.55", "a"}), "helo_class");
  // A MAIL FROM reject is not overridden by a HELO pass restriction.
  EXPECT_EQ(eh.action({"helo.example.com", "x@badhelo.example", "192.0.2.55", "b"}).rfind("550", 0),
            0u);
}

TEST(SpfPolicy, HeaderTypeNoneProspectiveAndMock) {
  SpfSettings n;
  n.header_type = HeaderType::None;
  EXPECT_EQ(Engine(n).action({"mail.example.com", "user@example.com", "192.0.2.5"}), "dunno");
  SpfSettings p;
  p.prospective = "192.0.2.5";
  Engine ep(p);
  auto v = ep.run({"mail.other.example", "user@example.com", "198.51.100.1", "a"});
  EXPECT_EQ(v.action, "dunno");
  EXPECT_EQ(v.mail_from_result, auth::spf::SpfResult::Pass);
  SpfSettings m;
  m.mock = true;
  EXPECT_EQ(Engine(m).action({"badhelo.example", "x@example.org", "203.0.113.9"}),
            "dunno mock header field that should be ignored");
}

TEST(SpfPolicy, HideReceiverAndRecipientForms) {
  SpfSettings s;
  s.hide_receiver = true;
  Engine e(s);
  auto a = e.action({"mail.example.com", "user@example.com", "192.0.2.5", "a"});
  EXPECT_NE(a.find("receiver=<UNKNOWN> "), std::string::npos) << a;
  Engine plain;
  EXPECT_NE(plain.action({"mail.example.com", "user@example.com", "192.0.2.5", "b", ""})
                .find("receiver=none "),
            std::string::npos);
  EXPECT_NE(plain.action({"mail.example.com", "user@example.com", "192.0.2.5", "c", "postmaster"})
                .find("receiver=postmaster "),
            std::string::npos);
}

TEST(SpfPolicy, MissingHeloUsesSenderDomain) {
  Engine e;
  auto a = e.action({"", "user@example.com", "192.0.2.5", "a"});
  EXPECT_EQ(a, "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; "
               "helo=example.com; envelope-from=user@example.com; receiver=example.org ");
  EXPECT_EQ(e.action({"", "", "192.0.2.5", "b"}), "dunno");  // no sender and no helo
}

TEST(SpfPolicy, UppercaseValuesAreLowered) {
  Engine e;
  auto a = e.action({"MAIL.Example.COM", "User@Example.COM", "192.0.2.5", "a", "Rcpt@Example.ORG"});
  EXPECT_EQ(a, "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5; "
               "helo=mail.example.com; envelope-from=user@example.com; receiver=example.org ");
}

TEST(SpfPolicy, NoClientAddressIsDunno) {
  Engine e;
  EXPECT_EQ(e.action({"mail.example.com", "user@example.com", "", "a"}), "dunno");
}

TEST(SpfPolicy, ControlCharactersNeverReachTheHeader) {
  Engine e;
  auto a = e.action({"mail.example.com\x01", "user@example.com", "192.0.2.5", "a"});
  for (char c : a) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(SpfPolicy, ReasonMessageFormat) {
  EXPECT_EQ(format_reason_message("Message {rejectdefer} due to: {spf}. Please see {url}", "rejected",
                                  "X", "U"),
            "Message rejected due to: X. Please see U");
  EXPECT_EQ(format_reason_message("{{literal}} {unknown} {spf", "r", "s", "u"),
            "{literal} {unknown} {spf");
}

TEST(InstanceCacheTest, BoundedFifo) {
  InstanceCache c(3);
  for (int i = 0; i < 10000; ++i) {
    c.put("i" + std::to_string(i), {Decision::Prepend, "h", nullptr, false});
  }
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.find("i0"), nullptr);
  ASSERT_NE(c.find("i9999"), nullptr);
}

// ---- Per_User: two recipients of one instance with different settings ----
//
// Expected actions are what the installed policyd-spf 3.0.4 printed for the same requests,
// run hermetically: /usr/bin/python3 with spf.DNSLookup replaced by this zone's records
// (example.com -all, example.net ~all, badhelo.example -all), config
// "HELO_reject = Fail / Mail_From_reject = Fail / Per_User = text,FILE" and the file below.
// One deliberate difference (PerUserHeaderPrependedOnce): policyd-spf prepends a second header.

constexpr const char* kPerUserFile =
    "# per-recipient overrides\n"
    "lenient@example.org,HELO_reject=False|Mail_From_reject=False\n"
    "strict@example.org,Mail_From_reject=Softfail   # softfail rejects for this one\n";

SpfSettings per_user_settings() {
  auto l = auth::config::parse_policyd_spf_settings(
      "HELO_reject = Fail\nMail_From_reject = Fail\nPer_User = text,/etc/pu\n", "t.conf");
  std::vector<std::string> warn;
  auth::config::apply_per_user_text(l.settings, kPerUserFile, "/etc/pu", warn);
  EXPECT_TRUE(warn.empty());
  return l.settings;
}

struct PerUserStep {
  std::string recipient;
  std::string want;
};
struct PerUserCase {
  std::string name;
  std::string helo, sender, client;
  std::vector<PerUserStep> steps;
};

void PrintTo(const PerUserCase& c, std::ostream* os) { *os << c.name; }

class SpfPerUserPolicy : public ::testing::TestWithParam<PerUserCase> {};

TEST_P(SpfPerUserPolicy, SameInstanceDifferentRecipients) {
  const PerUserCase& c = GetParam();
  Engine e(per_user_settings());
  for (const auto& st : c.steps) {
    EXPECT_EQ(e.action({c.helo, c.sender, c.client, "inst", st.recipient}), st.want)
        << st.recipient;
  }
}

const std::string kSoftfailHdr =
    "prepend Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=203.0.113.9; "
    "helo=mail.other.example; envelope-from=x@example.net; receiver=";
const std::string kFailMfrom =
    "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
    "http://www.openspf.net/Why?s=mfrom;id=user@example.com;ip=203.0.113.9;r=";
const std::string kFailHelo =
    "550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
    "http://www.openspf.net/Why?s=helo;id=badhelo.example;ip=192.0.2.5;r=";

INSTANTIATE_TEST_SUITE_P(
    PolicydSpf, SpfPerUserPolicy,
    ::testing::Values(
        // Mail_From_reject=Softfail for strict@ only; the global recipient after it still gets
        // the instance's first decision (header already prepended → dunno).
        PerUserCase{"softfail_normal_strict_normal", "mail.other.example", "x@example.net",
                    "203.0.113.9",
                    {{"normal@example.org", kSoftfailHdr + "normal@example.org "},
                     {"strict@example.org",
                      "550 5.7.23 Message rejected due to: domain owner discourages use of this "
                      "host. Please see http://www.openspf.net/Why?s=mfrom;id=x@example.net;"
                      "ip=203.0.113.9;r=strict@example.org"},
                     {"normal2@example.org", "dunno"}}},
        // Mail_From_reject=False for lenient@: prepend for it, reject for the others.
        PerUserCase{"fail_lenient_normal_normal", "mail.other.example", "user@example.com",
                    "203.0.113.9",
                    {{"lenient@example.org",
                      "prepend Received-SPF: Fail (mailfrom) identity=mailfrom; "
                      "client-ip=203.0.113.9; helo=mail.other.example; "
                      "envelope-from=user@example.com; receiver=lenient@example.org "},
                     {"normal@example.org", kFailMfrom + "normal@example.org"},
                     {"normal2@example.org", kFailMfrom + "normal@example.org"}}},
        // HELO_reject=False for lenient@: the HELO fail rejects the others, lenient@ gets the
        // MAIL FROM pass header.
        PerUserCase{"helo_fail_normal_lenient_normal", "badhelo.example", "user@example.com",
                    "192.0.2.5",
                    {{"normal@example.org", kFailHelo + "normal@example.org"},
                     {"lenient@example.org",
                      "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; "
                      "client-ip=192.0.2.5; helo=badhelo.example; envelope-from=user@example.com; "
                      "receiver=lenient@example.org "},
                     {"normal2@example.org", kFailHelo + "normal@example.org"}}},
        // A header already prepended for the global recipient is not prepended again.
        PerUserCase{"softfail_normal_lenient", "mail.other.example", "x@example.net",
                    "203.0.113.9",
                    {{"normal@example.org", kSoftfailHdr + "normal@example.org "},
                     {"lenient@example.org", "dunno"}}}),
    [](const auto& info) { return info.param.name; });

TEST(SpfPerUser, HeaderPrependedOnce) {
  // policyd-spf does not remember a per-user recipient's decision, so after lenient@ the next
  // recipient is checked afresh and prepends a second Received-SPF (its output: two prepends).
  // inkan-spf remembers that a header went out: one header per message.
  Engine e(per_user_settings());
  Req r{"mail.other.example", "x@example.net", "203.0.113.9", "inst", "lenient@example.org"};
  EXPECT_EQ(e.action(r), kSoftfailHdr + "lenient@example.org ");
  r.recipient = "normal@example.org";
  auto v = e.run(r);
  EXPECT_EQ(v.action, "dunno");
  EXPECT_FALSE(v.from_cache);  // decided with its own (global) settings, then downgraded
  r.recipient = "strict@example.org";
  v = e.run(r);  // its own decision still stands: a reject is not a header
  EXPECT_EQ(v.action.rfind("550 5.7.23 Message rejected due to: domain owner discourages", 0), 0u)
      << v.action;
  EXPECT_EQ(v.per_user_line, 3u);
  r.recipient = "strict@example.org";
  v = e.run(r);  // per-user decisions are not remembered (policyd-spf): decided again
  EXPECT_FALSE(v.from_cache);
  EXPECT_EQ(v.action.rfind("550 5.7.23 ", 0), 0u);
  r.recipient = "normal2@example.org";
  v = e.run(r);  // the global decision (a prepend) is remembered
  EXPECT_TRUE(v.from_cache);
  EXPECT_EQ(v.action, "dunno");
}

TEST(SpfPerUser, ReceiverIsTheWholeAddressAndNeverHidden) {
  // policyd_spf.py: with Per_User set the recipient is neither reduced to its domain nor
  // replaced by <UNKNOWN> (Hide_Receiver is an elif after Per_User).
  SpfSettings s = per_user_settings();
  s.hide_receiver = true;
  Engine e(std::move(s));
  EXPECT_EQ(e.action({"mail.other.example", "x@example.net", "203.0.113.9", "i", "Who@Example.ORG"}),
            kSoftfailHdr + "who@example.org ");
}

TEST(SpfPerUser, DifferentInstancesAreIndependent) {
  Engine e(per_user_settings());
  EXPECT_EQ(e.action({"mail.other.example", "x@example.net", "203.0.113.9", "i1",
                      "normal@example.org"}),
            kSoftfailHdr + "normal@example.org ");
  EXPECT_EQ(e.action({"mail.other.example", "x@example.net", "203.0.113.9", "i2",
                      "lenient@example.org"}),
            kSoftfailHdr + "lenient@example.org ");
}

// ---- asynchronous resolver and Lookup_Time ----

class ManualResolver : public auth::dns::Resolver {
 public:
  explicit ManualResolver(ZoneResolver& z) : zone_(z) {}
  void query_async(std::string_view name, auth::dns::RType type, auth::dns::Callback cb) override {
    pending_.push_back({std::string(name), type, std::move(cb)});
  }
  auth::dns::Answer query(std::string_view name, auth::dns::RType type) override {
    return zone_.query(name, type);
  }
  bool answer_one() {
    if (pending_.empty()) return false;
    auto p = std::move(pending_.front());
    pending_.pop_front();
    p.cb(zone_.query(p.name, p.type));
    return true;
  }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct P {
    std::string name;
    auth::dns::RType type;
    auth::dns::Callback cb;
  };
  ZoneResolver& zone_;
  std::deque<P> pending_;
};

TEST(SpfPolicyAsync, AnswersLaterSameResult) {
  ZoneResolver z;
  load_lab_zone(z);
  ManualResolver r(z);
  auto s = std::make_shared<SpfSettings>();
  auto req = parse_request(request_text({"mail.example.com", "user@example.com", "192.0.2.5"}));
  std::optional<SpfVerdict> got;
  auto check = SpfPolicyCheck::start(s, {"mx", {}}, r, SpfPolicyInput::from_request(*req, *s),
                                     nullptr, [&](SpfVerdict v) { got = std::move(v); });
  EXPECT_FALSE(check->done());
  EXPECT_TRUE(check->deadline().has_value());
  while (!got && r.answer_one()) {
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->action.rfind("prepend Received-SPF: Pass (mailfrom)", 0), 0u);
}

TEST(SpfPolicyAsync, LookupTimeExpiresToTemperror) {
  ZoneResolver z;
  load_lab_zone(z);
  ManualResolver r(z);
  auto s = std::make_shared<SpfSettings>();
  s->temperror_defer = true;
  s->helo_reject = HeloReject::NoCheck;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  SpfPolicyEnv env{"mx", [&] { return now; }};
  auto req = parse_request(request_text({"mail.example.com", "user@example.com", "192.0.2.5"}));
  std::optional<SpfVerdict> got;
  auto check = SpfPolicyCheck::start(s, env, r, SpfPolicyInput::from_request(*req, *s), nullptr,
                                     [&](SpfVerdict v) { got = std::move(v); });
  ASSERT_TRUE(check->deadline());
  EXPECT_EQ(*check->deadline(), now + std::chrono::seconds(20));
  now += std::chrono::seconds(19);
  EXPECT_FALSE(check->check_deadline());
  now += std::chrono::seconds(2);
  EXPECT_TRUE(check->check_deadline());
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->timed_out);
  EXPECT_EQ(got->action.rfind("defer_if_permit 4.7.24 Message deferred due to: SPF Temporary "
                              "Error: DNS timeout. Please see ",
                              0),
            0u)
      << got->action;
  // The late answer is ignored.
  while (r.answer_one()) {
  }
  EXPECT_TRUE(check->done());
}

}  // namespace
