// auth::config SPF settings: policyd-spf.conf (anchor-features.md §5.2/§5.3) and inkan.yaml spf:.
#include "auth/config/spf.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <chrono>
#include <fstream>
#include <ostream>
#include <string>

namespace {

using namespace auth::config;

bool has_warning(const SpfConfigLoad& l, std::string_view needle) {
  for (const auto& w : l.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(SpfConfig, DefaultsArePolicydSpfDefaults) {
  SpfSettings s;
  EXPECT_EQ(s.debug_level, 1);
  EXPECT_EQ(s.test_only, 1);
  EXPECT_EQ(s.helo_reject, HeloReject::Fail);
  EXPECT_EQ(s.mail_from_reject, MailFromReject::Fail);
  EXPECT_FALSE(s.permerror_reject);
  EXPECT_FALSE(s.temperror_defer);
  EXPECT_EQ(s.header_type, HeaderType::Spf);
  EXPECT_EQ(s.lookup_time, std::chrono::seconds(20));
  EXPECT_EQ(s.whitelist_lookup_time, std::chrono::seconds(10));
  EXPECT_EQ(s.void_limit, 2u);
  EXPECT_TRUE(s.enhanced_status_codes);
  EXPECT_FALSE(s.hide_receiver);
  EXPECT_EQ(s.reason_message, "Message {rejectdefer} due to: {spf}. Please see {url}");
  ASSERT_EQ(s.skip_addresses.entries.size(), 3u);
  EXPECT_TRUE(s.skip_addresses.contains(*auth::net::parse_ip("127.0.0.1")));
  EXPECT_TRUE(s.skip_addresses.contains(*auth::net::parse_ip("::1")));
  EXPECT_TRUE(s.skip_addresses.contains(*auth::net::parse_ip("::ffff:127.0.0.9")));
  EXPECT_FALSE(s.skip_addresses.contains(*auth::net::parse_ip("192.0.2.1")));
  EXPECT_TRUE(s.queue_id);
  EXPECT_FALSE(s.mock);
}

TEST(SpfConfig, LabDefaultAndArConfigs) {
  // anchor-lab-captures.txt "spf-ar.conf".
  auto l = parse_policyd_spf_settings(
      "debugLevel = 3\nHELO_reject = SPF_Not_Pass\nMail_From_reject = Fail\n"
      "PermError_reject = True\nTempError_Defer = True\nHeader_Type = AR\n"
      "Authserv_Id = mx.test.example\nskip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\n"
      "Lookup_Time = 5\n",
      "spf-ar.conf");
  const auto& s = l.settings;
  EXPECT_TRUE(l.warnings.empty());
  EXPECT_EQ(s.debug_level, 3);
  EXPECT_EQ(s.helo_reject, HeloReject::SpfNotPass);
  EXPECT_EQ(s.mail_from_reject, MailFromReject::Fail);
  EXPECT_TRUE(s.permerror_reject);
  EXPECT_TRUE(s.temperror_defer);
  EXPECT_EQ(s.header_type, HeaderType::AuthenticationResults);
  EXPECT_EQ(s.authserv_id, "mx.test.example");
  EXPECT_EQ(s.lookup_time, std::chrono::seconds(5));
}

struct EnumCase {
  std::string_view value;
  HeloReject helo;
  MailFromReject mfrom;
};
class SpfRejectValues : public testing::TestWithParam<EnumCase> {};
TEST_P(SpfRejectValues, ParsedExactly) {
  const auto& c = GetParam();
  std::string text = "HELO_reject = " + std::string(c.value) +
                     "\nMail_From_reject = " + std::string(c.value) + "\n";
  auto l = parse_policyd_spf_settings(text, "t.conf");
  EXPECT_EQ(l.settings.helo_reject, c.helo) << c.value;
  EXPECT_EQ(l.settings.mail_from_reject, c.mfrom) << c.value;
}
INSTANTIATE_TEST_SUITE_P(
    All, SpfRejectValues,
    testing::Values(EnumCase{"Fail", HeloReject::Fail, MailFromReject::Fail},
                    EnumCase{"SPF_Not_Pass", HeloReject::SpfNotPass, MailFromReject::SpfNotPass},
                    EnumCase{"Softfail", HeloReject::Softfail, MailFromReject::Softfail},
                    EnumCase{"Null", HeloReject::Null, MailFromReject::Other},
                    EnumCase{"False", HeloReject::False, MailFromReject::False},
                    EnumCase{"No_Check", HeloReject::NoCheck, MailFromReject::NoCheck},
                    EnumCase{"SPF_Required", HeloReject::Other, MailFromReject::SpfRequired},
                    // Case-sensitive, as policyd-spf compares strings exactly.
                    EnumCase{"fail", HeloReject::Other, MailFromReject::Other}),
    [](const auto& info) {
      std::string n(info.param.value);
      return n == "fail" ? std::string("lower_fail") : n;
    });

TEST(SpfConfig, StringBooleansCompareExactly) {
  auto l = parse_policyd_spf_settings(
      "PermError_reject = true\nTempError_Defer = Yes\nNo_Mail = True\nHide_Receiver = no\n"
      "SPF_Enhanced_Status_Codes = No\n",
      "t.conf");
  EXPECT_FALSE(l.settings.permerror_reject);  // only 'True'
  EXPECT_FALSE(l.settings.temperror_defer);
  EXPECT_TRUE(l.settings.no_mail);
  EXPECT_TRUE(l.settings.hide_receiver);  // anything but 'No' hides
  EXPECT_FALSE(l.settings.enhanced_status_codes);
}

TEST(SpfConfig, UnknownNamesWarnCaseSensitive) {
  auto l = parse_policyd_spf_settings("debuglevel = 3\nFrobnicate = 1\nTestOnly = 0\n", "x.conf");
  EXPECT_EQ(l.settings.debug_level, 1);  // "debuglevel" is not "debugLevel"
  EXPECT_EQ(l.settings.test_only, 0);
  EXPECT_TRUE(has_warning(l, "unknown name \"debuglevel\""));
  EXPECT_TRUE(has_warning(l, "x.conf:2: unknown name \"Frobnicate\""));
}

TEST(SpfConfig, MalformedLinesSkippedWithWarning) {
  auto l = parse_policyd_spf_settings(
      "Reason_Message = a=b\njust words\ndebugLevel = 2 # comment\n", "m.conf");
  EXPECT_EQ(l.settings.reason_message, std::string(kDefaultReasonMessage));
  EXPECT_EQ(l.settings.debug_level, 2);
  EXPECT_TRUE(has_warning(l, "m.conf:1"));
  EXPECT_TRUE(has_warning(l, "m.conf:2"));
}

TEST(SpfConfig, CidrListAbortsAtFirstBadEntry) {
  auto l = parse_policyd_spf_settings("skip_addresses = 10.0.0.0/8,bogus,192.0.2.0/24\n"
                                      "Whitelist = 192.0.2.1/24\n",
                                      "c.conf");
  EXPECT_TRUE(l.settings.skip_addresses.aborted);
  ASSERT_EQ(l.settings.skip_addresses.entries.size(), 1u);
  EXPECT_TRUE(l.settings.skip_addresses.contains(*auth::net::parse_ip("10.1.2.3")));
  EXPECT_FALSE(l.settings.skip_addresses.contains(*auth::net::parse_ip("192.0.2.9")));
  // Host bits set: ipaddress.IPv4Network is strict.
  EXPECT_TRUE(l.settings.whitelist.aborted);
  EXPECT_TRUE(l.settings.whitelist.entries.empty());
  EXPECT_TRUE(has_warning(l, "bogus"));
}

TEST(SpfConfig, EmptySkipAddressesSkipsNothing) {
  auto l = parse_policyd_spf_settings("skip_addresses =\n", "e.conf");
  EXPECT_TRUE(l.settings.skip_addresses.entries.empty());
  EXPECT_FALSE(l.settings.skip_addresses.contains(*auth::net::parse_ip("127.0.0.1")));
}

TEST(SpfConfig, ListsAndStrings) {
  auto l = parse_policyd_spf_settings(
      "HELO_Whitelist = Mx.Example.com,relay.example.net\nDomain_Whitelist = a.example, b.example\n"
      "Domain_Whitelist_PTR = fwd.example\nReject_Not_Pass_Domains = strict.example\n"
      "Mail_From_pass_restriction = spf_pass_class\nHELO_pass_restriction = helo_pass\n"
      "Prospective = 192.0.2.7\nAuthserv_Id = HOSTNAME\nVoid_Limit = 5\n"
      "Whitelist_Lookup_Time = 3\nQueueID = False\n",
      "l.conf");
  const auto& s = l.settings;
  EXPECT_EQ(s.helo_whitelist, (std::vector<std::string>{"mx.example.com", "relay.example.net"}));
  EXPECT_EQ(s.domain_whitelist, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(s.domain_whitelist_ptr, (std::vector<std::string>{"fwd.example"}));
  EXPECT_EQ(s.reject_not_pass_domains, (std::vector<std::string>{"strict.example"}));
  EXPECT_EQ(s.mail_from_pass_restriction, "spf_pass_class");
  EXPECT_EQ(s.helo_pass_restriction, "helo_pass");
  EXPECT_EQ(s.prospective, "192.0.2.7");
  EXPECT_EQ(s.authserv_id, "");  // HOSTNAME = gethostname() at run time
  EXPECT_EQ(s.void_limit, 5u);
  EXPECT_EQ(s.whitelist_lookup_time, std::chrono::seconds(3));
  EXPECT_FALSE(s.queue_id);
}

TEST(SpfConfig, FatalValues) {
  EXPECT_THROW(parse_policyd_spf_settings("debugLevel = loud\n", "f.conf"), ConfigError);
  EXPECT_THROW(parse_policyd_spf_settings("TestOnly = yes\n", "f.conf"), ConfigError);
  EXPECT_THROW(parse_policyd_spf_settings("Lookup_Time = 0\n", "f.conf"), ConfigError);
  EXPECT_THROW(parse_policyd_spf_settings("Void_Limit = -1\n", "f.conf"), ConfigError);
  EXPECT_THROW(parse_policyd_spf_settings("Prospective = not-an-ip\n", "f.conf"), ConfigError);
  try {
    (void)parse_policyd_spf_settings("\n\nHeader_Type = SPF,AR\n", "f.conf");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(e.option(), "Header_Type");
  }
}

TEST(SpfConfig, HeaderTypes) {
  EXPECT_EQ(parse_policyd_spf_settings("Header_Type = None\n", "h").settings.header_type,
            HeaderType::None);
  EXPECT_EQ(parse_policyd_spf_settings("Header_Type = AR\n", "h").settings.header_type,
            HeaderType::AuthenticationResults);
  auto odd = parse_policyd_spf_settings("Header_Type = weird\n", "h");
  EXPECT_EQ(odd.settings.header_type, HeaderType::Spf);
  EXPECT_TRUE(has_warning(odd, "weird"));
}

TEST(SpfConfig, MockIsPythonBool) {
  EXPECT_TRUE(parse_policyd_spf_settings("Mock = True\n", "m").settings.mock);
  auto f = parse_policyd_spf_settings("Mock = False\n", "m");
  EXPECT_TRUE(f.settings.mock);  // bool("False") is True in policyd-spf
  EXPECT_TRUE(has_warning(f, "Mock = False turns Mock ON"));
  EXPECT_FALSE(parse_policyd_spf_settings("Mock =\n", "m").settings.mock);
}

TEST(SpfConfig, MilterOptionsWarn) {
  auto l = parse_policyd_spf_settings("Per_User = text,/etc/x\nSocket = local:/x\n"
                                      "defaultSeedOnly = 1\n", "p.conf");
  EXPECT_FALSE(has_warning(l, "Per_User"));  // implemented: no "not implemented" warning
  EXPECT_EQ(l.settings.per_user, "text,/etc/x");
  EXPECT_EQ(l.settings.per_user_file, "/etc/x");
  EXPECT_TRUE(has_warning(l, "Socket"));
  EXPECT_TRUE(has_warning(l, "defaultSeedOnly"));
}

// ---- Per_User (man:policyd-spf.peruser(5), anchor-features.md §5.6) ----------------------

TEST(SpfPerUser, OnlyTheTextTypeIsSupported) {
  EXPECT_EQ(per_user_path("text,/etc/pu", "c", 1), "/etc/pu");
  EXPECT_EQ(per_user_path(" text , /etc/pu ", "c", 1), "/etc/pu");
  for (const char* bad : {"sql,/etc/pu", "/etc/pu", "text,", "TEXT,/etc/pu", ""}) {
    try {
      (void)parse_policyd_spf_settings("\nPer_User = " + std::string(bad) + "\n", "pu.conf");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.file(), "pu.conf") << bad;
      EXPECT_EQ(e.line(), 2u) << bad;
      EXPECT_EQ(e.option(), "Per_User") << bad;
    }
  }
}

TEST(SpfPerUser, LinesCommentsAndOverrides) {
  auto l = parse_policyd_spf_settings("HELO_reject = SPF_Not_Pass\nVoid_Limit = 5\n", "g.conf");
  SpfSettings& s = l.settings;
  std::vector<std::string> warn;
  apply_per_user_text(s,
                      "# per-recipient overrides\n"
                      "\n"
                      "  Lenient@Example.ORG , HELO_reject=False|Mail_From_reject=False  # trailing\n"
                      "strict@example.org,Mail_From_reject=Softfail|PermError_reject=True|"
                      "TempError_Defer=True|Whitelist=192.0.2.0/24|Reason_Message=No {spf}|"
                      "Void_Limit=1|SPF_Enhanced_Status_Codes=No|No_Mail=True\r\n"
                      "lenient@example.org,HELO_reject=Fail\n",
                      "pu.txt", warn);
  ASSERT_EQ(s.per_user_entries.size(), 2u);
  const PerUserEntry* a = s.per_user_for("lenient@example.org");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->line, 3u);
  EXPECT_EQ(a->settings->helo_reject, HeloReject::False);  // the first line wins
  EXPECT_EQ(a->settings->mail_from_reject, MailFromReject::False);
  EXPECT_EQ(a->settings->void_limit, 5u);  // the rest are the global settings
  const PerUserEntry* b = s.per_user_for("strict@example.org");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->line, 4u);
  EXPECT_EQ(b->settings->helo_reject, HeloReject::SpfNotPass);
  EXPECT_EQ(b->settings->mail_from_reject, MailFromReject::Softfail);
  EXPECT_TRUE(b->settings->permerror_reject);
  EXPECT_TRUE(b->settings->temperror_defer);
  EXPECT_TRUE(b->settings->no_mail);
  EXPECT_FALSE(b->settings->enhanced_status_codes);
  EXPECT_EQ(b->settings->reason_message, "No {spf}");
  EXPECT_EQ(b->settings->void_limit, 1u);
  EXPECT_EQ(b->settings->whitelist.entries.size(), 1u);
  EXPECT_TRUE(b->settings->per_user_entries.empty());  // no nesting
  EXPECT_EQ(s.per_user_for("other@example.org"), nullptr);
  EXPECT_EQ(s.per_user_for("example.org"), nullptr);  // whole recipient only
  EXPECT_EQ(s.helo_reject, HeloReject::SpfNotPass);     // global untouched
  ASSERT_EQ(warn.size(), 1u);  // the repeated recipient on line 5
  EXPECT_NE(warn[0].find("pu.txt:5"), std::string::npos);
}

TEST(SpfPerUser, NonPerUserKeysAndTheAuthservIdSpelling) {
  SpfSettings s;
  s.authserv_id = "mx.global";
  std::vector<std::string> warn;
  apply_per_user_text(s,
                      "a@example.org,Lookup_Time=1|Header_Type=AR|Hide_Receiver=Yes|"
                      "Authserv-Id=mx.user|Prospective=192.0.2.1|debugLevel=5|Mock=True|"
                      "Frobnicate=1|defaultSeedOnly=0|HELO_reject=Softfail\n",
                      "pu", warn);
  const PerUserEntry* a = s.per_user_for("a@example.org");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->settings->lookup_time, std::chrono::seconds(20));
  EXPECT_EQ(a->settings->header_type, HeaderType::Spf);
  EXPECT_FALSE(a->settings->hide_receiver);
  EXPECT_EQ(a->settings->authserv_id, "mx.global");
  EXPECT_TRUE(a->settings->prospective.empty());
  EXPECT_EQ(a->settings->debug_level, 1);
  EXPECT_FALSE(a->settings->mock);
  EXPECT_EQ(a->settings->helo_reject, HeloReject::Softfail);
  ASSERT_EQ(warn.size(), 9u);
  for (const char* k : {"Lookup_Time", "Header_Type", "Hide_Receiver", "Authserv-Id",
                        "Prospective", "debugLevel", "Mock"}) {
    bool found = false;
    for (const auto& w : warn) {
      found = found || (w.find(std::string(k) + " is not a per-user setting") != std::string::npos);
    }
    EXPECT_TRUE(found) << k;
  }
  bool unknown = false;
  for (const auto& w : warn) unknown = unknown || w.find("unknown name \"Frobnicate\"") != std::string::npos;
  EXPECT_TRUE(unknown);
}

struct BadPerUserLine {
  std::string text;
  std::size_t line;
  std::string option;
};

void PrintTo(const BadPerUserLine& b, std::ostream* os) { *os << "line " << b.line; }

class SpfPerUserBad : public ::testing::TestWithParam<BadPerUserLine> {};

TEST_P(SpfPerUserBad, ErrorNamesFileAndLine) {
  SpfSettings s;
  std::vector<std::string> warn;
  try {
    apply_per_user_text(s, GetParam().text, "/etc/pu.txt", warn);
    FAIL() << "accepted: " << GetParam().text;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/etc/pu.txt");
    EXPECT_EQ(e.line(), GetParam().line);
    EXPECT_EQ(e.option(), GetParam().option);
  }
  EXPECT_TRUE(s.per_user_entries.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Lines, SpfPerUserBad,
    ::testing::Values(
        BadPerUserLine{"# c\nno-comma@example.org HELO_reject=Fail\n", 2, ""},
        BadPerUserLine{",HELO_reject=Fail\n", 1, ""},
        BadPerUserLine{"a@example.org,\n", 1, ""},
        BadPerUserLine{"a@example.org,HELO_reject\n", 1, "HELO_reject"},
        BadPerUserLine{"a@example.org,HELO_reject=Fail=x\n", 1, "HELO_reject"},
        BadPerUserLine{"a@example.org,HELO_reject=Fail||\n", 1, ""},
        BadPerUserLine{"ok@example.org,HELO_reject=Fail\nb@example.org,Void_Limit=many\n", 2,
                       "Void_Limit"},
        BadPerUserLine{"b@example.org,Whitelist_Lookup_Time=0\n", 1, "Whitelist_Lookup_Time"},
        BadPerUserLine{"b@example.org,Whitelist=10.0.0.0/8,bogus\n", 1, "Whitelist"},
        BadPerUserLine{std::string("b@example.org,HELO_reject=F\0ail\n", 32), 1, ""}));

TEST(SpfPerUser, HostileInputStaysBounded) {
  SpfSettings s;
  std::vector<std::string> warn;
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "# comment " + std::to_string(i) + "\n";
  text += "x@example.org,";
  for (int i = 0; i < 10000; ++i) text += "Frob" + std::to_string(i) + "=1|";
  text += "HELO_reject=Null\n";
  text += "\xC3\xA9t\xC3\xA9@exampl\xC3\xA9.org,HELO_reject=False\n";
  apply_per_user_text(s, text, "big", warn);
  ASSERT_EQ(s.per_user_entries.size(), 2u);
  EXPECT_EQ(s.per_user_for("x@example.org")->settings->helo_reject, HeloReject::Null);
  EXPECT_EQ(warn.size(), 10000u);
  std::string many;
  for (std::size_t i = 0; i <= kMaxSpfListEntries; ++i) {
    many += "u" + std::to_string(i) + "@example.org,HELO_reject=Fail\n";
  }
  EXPECT_THROW(apply_per_user_text(s, many, "many", warn), ConfigError);
}

TEST(SpfPerUser, YamlKey) {
  EXPECT_EQ(parse_spf_yaml("spf:\n  per_user: /etc/pu\n", "i.yaml").settings.per_user_file,
            "/etc/pu");
  EXPECT_EQ(parse_spf_yaml("spf:\n  per_user: text,/etc/pu\n", "i.yaml").settings.per_user_file,
            "/etc/pu");
  EXPECT_THROW(parse_spf_yaml("spf:\n  per_user: sql,/etc/pu\n", "i.yaml"), ConfigError);
  EXPECT_THROW(parse_spf_yaml("spf:\n  per_user: ''\n", "i.yaml"), ConfigError);
}

TEST(SpfPerUser, LoadReadsTheFile) {
  std::string dir = ::testing::TempDir();
  std::string pu = dir + "/inkan_spf_peruser.txt";
  std::string conf = dir + "/inkan_spf_peruser.conf";
  std::ofstream(pu) << "strict@example.org,Mail_From_reject=SPF_Not_Pass\n";
  std::ofstream(conf) << "Per_User = text," << pu << "\n";
  auto l = load_spf_settings(conf);
  ASSERT_NE(l.settings.per_user_for("strict@example.org"), nullptr);
  EXPECT_EQ(l.settings.per_user_for("strict@example.org")->settings->mail_from_reject,
            MailFromReject::SpfNotPass);
  std::ofstream(conf) << "Per_User = text," << dir << "/inkan_spf_no_such_file\n";
  EXPECT_THROW(load_spf_settings(conf), ConfigError);
  std::ofstream(pu) << "strict@example.org,Mail_From_reject\n";
  std::ofstream(conf) << "Per_User = text," << pu << "\n";
  try {
    (void)load_spf_settings(conf);
    FAIL() << "bad per-user line accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), pu);
    EXPECT_EQ(e.line(), 1u);
  }
  std::remove(pu.c_str());
  std::remove(conf.c_str());
}

TEST(SpfConfig, TenThousandLinesStayBounded) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "Name" + std::to_string(i) + " = v\n";
  text += "Domain_Whitelist = ";
  for (int i = 0; i < 10000; ++i) text += "d" + std::to_string(i) + ".example,";
  text += "\n";
  auto l = parse_policyd_spf_settings(text, "big.conf");
  EXPECT_EQ(l.settings.domain_whitelist.size(), kMaxSpfListEntries);
  EXPECT_EQ(l.warnings.size(), 10000u);
}

TEST(SpfConfig, NulAndNonAsciiDoNotCrash) {
  std::string text("Reason_Message = caf\xc3\xa9 \0 x\nHELO_reject = Fa\0il\n", 51);
  auto l = parse_policyd_spf_settings(text, "n.conf");
  EXPECT_EQ(l.settings.helo_reject, HeloReject::Other);
}

// ---- YAML ----

TEST(SpfYaml, SectionAndSharedKeys) {
  auto l = parse_spf_yaml(R"(
authserv_id: mx.example.org
dns:
  nameservers: ["127.0.0.1:5353", "::1"]
  timeout: 1.5
spf:
  debug_level: 2
  test_mode: true
  helo_reject: spf_not_pass
  mail_from_reject: Softfail
  permerror_reject: true
  temperror_defer: yes
  skip_addresses: []
  whitelist: [192.0.2.0/24, "2001:db8::/32"]
  domain_whitelist: a.example, b.example
  header_type: ar
  hide_receiver: true
  lookup_time: 7
  void_limit: 3
  enhanced_status_codes: false
  reason_message: "SPF {spf}"
  socket: inet:10023@127.0.0.1
)",
                          "inkan.yaml");
  const auto& s = l.settings;
  EXPECT_EQ(s.authserv_id, "mx.example.org");
  EXPECT_EQ(s.nameservers, (std::vector<std::string>{"127.0.0.1:5353", "::1"}));
  EXPECT_EQ(s.dns_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(s.debug_level, 2);
  EXPECT_EQ(s.test_only, 0);
  EXPECT_EQ(s.helo_reject, HeloReject::SpfNotPass);
  EXPECT_EQ(s.mail_from_reject, MailFromReject::Softfail);
  EXPECT_TRUE(s.permerror_reject);
  EXPECT_TRUE(s.temperror_defer);
  EXPECT_TRUE(s.skip_addresses.entries.empty());
  EXPECT_EQ(s.whitelist.entries.size(), 2u);
  EXPECT_EQ(s.domain_whitelist.size(), 2u);
  EXPECT_EQ(s.header_type, HeaderType::AuthenticationResults);
  EXPECT_TRUE(s.hide_receiver);
  EXPECT_EQ(s.lookup_time, std::chrono::seconds(7));
  EXPECT_EQ(s.void_limit, 3u);
  EXPECT_FALSE(s.enhanced_status_codes);
  EXPECT_EQ(s.reason_message, "SPF {spf}");
  EXPECT_EQ(s.socket, "inet:10023@127.0.0.1");
}

TEST(SpfYaml, ErrorsNameKeyAndLine) {
  try {
    (void)parse_spf_yaml("spf:\n  helo_reject: sometimes\n", "y.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "spf.helo_reject");
    EXPECT_EQ(e.line(), 2u);
  }
  EXPECT_THROW(parse_spf_yaml("spf:\n  no_such_key: 1\n", "y.yaml"), ConfigError);
  EXPECT_THROW(parse_spf_yaml("spf:\n  lookup_time: soon\n", "y.yaml"), ConfigError);
  EXPECT_THROW(parse_spf_yaml("spf:\n  whitelist: [not-a-net]\n", "y.yaml"), ConfigError);
  EXPECT_THROW(parse_spf_yaml("spf: [\n", "y.yaml"), ConfigError);
  EXPECT_THROW(parse_spf_yaml("spf: 3\n", "y.yaml"), ConfigError);
}

TEST(SpfYaml, MissingSectionIsDefaults) {
  auto l = parse_spf_yaml("dkim:\n  mode: sign\n", "y.yaml");
  EXPECT_EQ(l.settings.helo_reject, HeloReject::Fail);
  EXPECT_EQ(l.settings.skip_addresses.entries.size(), 3u);
}

TEST(SpfLoad, DetectsFormatAndMissingFile) {
  auto missing = load_spf_settings("/nonexistent/policyd-spf.conf");
  EXPECT_TRUE(has_warning(missing, "built-in defaults"));
  EXPECT_THROW(load_spf_settings("/nonexistent/inkan.yaml"), ConfigError);

  std::string path = testing::TempDir() + "/spf_load_test.conf";
  {
    std::ofstream f(path);
    f << "# comment\nspf:\n  helo_reject: false\n";
  }
  EXPECT_EQ(load_spf_settings(path).settings.helo_reject, HeloReject::False);
  {
    std::ofstream f(path);
    f << "# comment\nHELO_reject = Softfail\n";
  }
  EXPECT_EQ(load_spf_settings(path).settings.helo_reject, HeloReject::Softfail);
  std::remove(path.c_str());
}

}  // namespace
