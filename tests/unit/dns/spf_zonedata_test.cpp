// ZoneResolver::load_spf_zonedata — the rules of shared/conformance/spf/README.md.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <string>
#include <vector>

#include "auth/dns/zone.h"

namespace auth::dns {
namespace {

void load_into(ZoneResolver& z, const std::string& yaml) {
  auto r = z.load_spf_zonedata(YAML::Load(yaml));
  ASSERT_TRUE(r.has_value()) << r.error().reason << "\n" << yaml;
}

std::vector<std::string> txt_values(const Answer& a) {
  std::vector<std::string> out;
  for (const auto& t : a.txt) out.push_back(t.joined());
  return out;
}

// Rule 1: SPF → TXT synthesis only when the name has no TXT item at all.
TEST(DnsSpfZonedata, SpfIsServedAsTxtWhenNoTxtItem) {
  ZoneResolver z;
  load_into(z, R"(
example.com:
  - SPF: v=spf1 +all
with-txt.com:
  - SPF: v=spf1 -all
  - TXT: v=spf1 ?all
txt-none.com:
  - SPF: v=spf1 -all
  - TXT: NONE
)");
  EXPECT_EQ(txt_values(z.query("example.com", RType::TXT)), std::vector<std::string>{"v=spf1 +all"});
  EXPECT_EQ(txt_values(z.query("with-txt.com", RType::TXT)), std::vector<std::string>{"v=spf1 ?all"});
  Answer a = z.query("txt-none.com", RType::TXT);
  EXPECT_EQ(a.status, Status::NoData) << "TXT: NONE yields no record and stops synthesis";
}

TEST(DnsSpfZonedata, TxtListIsOneRecordWithSeveralStrings) {
  ZoneResolver z;
  load_into(z, R"(
multi.com:
  - TXT: [ "v=spf1 ", "-all" ]
two.com:
  - TXT: v=spf1 -all
  - TXT: v=spf1 +all
)");
  Answer a = z.query("multi.com", RType::TXT);
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings, (std::vector<std::string>{"v=spf1 ", "-all"}));
  EXPECT_EQ(a.txt[0].joined(), "v=spf1 -all");
  EXPECT_EQ(z.query("two.com", RType::TXT).txt.size(), 2u);
}

TEST(DnsSpfZonedata, EmptyTxtListIsAnRrWithNoStrings) {
  ZoneResolver z;
  load_into(z, R"(
null.com:
  - SPF: [ ]
)");
  Answer a = z.query("null.com", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_TRUE(a.txt[0].strings.empty());
  EXPECT_EQ(a.txt[0].joined(), "");
}

// Rule 2: TIMEOUT ordering.
TEST(DnsSpfZonedata, TimeoutUnlessTheTypeCameFirst) {
  ZoneResolver z;
  load_into(z, R"(
t1.com:
  - TXT: v=spf1 -all
  - TIMEOUT
  - A: 192.0.2.1
t2.com:
  - TIMEOUT
t3.com:
  - SPF: v=spf1 -all
  - TIMEOUT
t4.com:
  - A: 192.0.2.1
  - TIMEOUT
  - A: 192.0.2.2
)");
  EXPECT_EQ(z.query("t1.com", RType::TXT).status, Status::Ok);
  EXPECT_EQ(z.query("t1.com", RType::A).status, Status::Timeout) << "A comes after TIMEOUT";
  EXPECT_EQ(z.query("t1.com", RType::MX).status, Status::Timeout);
  for (RType t : {RType::A, RType::AAAA, RType::MX, RType::TXT, RType::PTR}) {
    EXPECT_EQ(z.query("t2.com", t).status, Status::Timeout) << to_string(t);
  }
  EXPECT_EQ(z.query("t3.com", RType::TXT).status, Status::Timeout)
      << "synthesized TXT counts as appended after TIMEOUT";
  Answer a = z.query("t4.com", RType::A);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.1"}) << "records after TIMEOUT unseen";
}

// Rules 3 and 4.
TEST(DnsSpfZonedata, NamesAndNegativeAnswers) {
  ZoneResolver z;
  load_into(z, R"(
Mixed.Example.COM.:
  - A: 192.0.2.9
"macro%percent  space%20url-space.example.com":
  - SPF: v=spf1 -all
)");
  EXPECT_EQ(z.query("mixed.example.com", RType::A).status, Status::Ok);
  EXPECT_EQ(z.query("MIXED.example.com.", RType::A).status, Status::Ok);
  EXPECT_EQ(z.query("mixed.example.com", RType::TXT).status, Status::NoData);
  EXPECT_EQ(z.query("other.example.com", RType::TXT).status, Status::NxDomain);
  EXPECT_EQ(z.query("macro%percent  space%20url-space.example.com", RType::TXT).status, Status::Ok);
}

TEST(DnsSpfZonedata, MxPtrAaaaAndCname) {
  ZoneResolver z;
  load_into(z, R"(
mx.com:
  - MX: [0, mail.Example1.COM.]
  - MX: [10, ""]
4.3.2.1.in-addr.arpa:
  - PTR: "Loop4.example.com."
v6.com:
  - AAAA: CAFE:BABE::4
alias.com:
  - CNAME: Target.COM.
target.com:
  - SPF: v=spf1 a -all
)");
  Answer a = z.query("mx.com", RType::MX);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.mx, (std::vector<MxRecord>{{0, "mail.example1.com"}, {10, ""}}));
  EXPECT_EQ(z.query("4.3.2.1.in-addr.arpa", RType::PTR).names,
            std::vector<std::string>{"loop4.example.com"});
  EXPECT_EQ(z.query("v6.com", RType::AAAA).addresses, std::vector<std::string>{"cafe:babe::4"});
  EXPECT_EQ(txt_values(z.query("alias.com", RType::TXT)),
            std::vector<std::string>{"v=spf1 a -all"});
}

TEST(DnsSpfZonedata, CnameLoopIsAFailureNotAHang) {
  ZoneResolver z;
  load_into(z, R"(
a.com:
  - CNAME: b.com
b.com:
  - CNAME: a.com.
)");
  EXPECT_EQ(z.query("a.com", RType::TXT).status, Status::ServFail);
}

struct BadCase {
  std::string name;
  std::string yaml;
};
class DnsSpfZonedataError : public testing::TestWithParam<BadCase> {};
TEST_P(DnsSpfZonedataError, Rejected) {
  ZoneResolver z;
  auto r = z.load_spf_zonedata(YAML::Load(GetParam().yaml));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Syntax);
  EXPECT_EQ(z.record_count(), 0u);
}
const BadCase kBad[] = {
    {"not_a_map", "[1, 2]"},
    {"records_not_list", "a.com: 5"},
    {"unknown_marker", "a.com: [ BOOM ]"},
    {"two_keys", "a.com: [ {A: 192.0.2.1, TXT: x} ]"},
    {"bad_a", "a.com: [ {A: 999.0.0.1} ]"},
    {"bad_aaaa", "a.com: [ {AAAA: 192.0.2.1} ]"},
    {"mx_short", "a.com: [ {MX: [0]} ]"},
    {"mx_pref", "a.com: [ {MX: [99999, x.com]} ]"},
    {"txt_map", "a.com: [ {TXT: {a: b}} ]"},
    {"unsupported_type", "a.com: [ {SRV: x} ]"},
    {"later_error_adds_nothing", "a.com: [ {A: 192.0.2.1} ]\nb.com: [ {A: nope} ]"},
};
INSTANTIATE_TEST_SUITE_P(DnsCases, DnsSpfZonedataError, testing::ValuesIn(kBad),
                         [](const auto& info) { return info.param.name; });

TEST(DnsSpfZonedata, NullZonedataIsEmpty) {
  ZoneResolver z;
  EXPECT_TRUE(z.load_spf_zonedata(YAML::Node()).has_value());
  EXPECT_TRUE(z.load_spf_zonedata(YAML::Load("~")).has_value());
  EXPECT_EQ(z.record_count(), 0u);
}

// Every scenario of both suites loads, with the expected number of scenarios.
struct SuiteCase {
  std::string file;
  std::size_t scenarios;
};
class DnsSpfSuiteLoads : public testing::TestWithParam<SuiteCase> {};
TEST_P(DnsSpfSuiteLoads, EveryScenario) {
  const auto path = std::string(INKAN_CONFORMANCE_DIR) + "/spf/" + GetParam().file;
  std::vector<YAML::Node> docs = YAML::LoadAllFromFile(path);
  std::size_t scenarios = 0;
  for (const auto& doc : docs) {
    if (!doc.IsMap()) continue;
    ++scenarios;
    ZoneResolver z;
    auto r = z.load_spf_zonedata(doc["zonedata"]);
    ASSERT_TRUE(r.has_value()) << doc["description"].as<std::string>() << ": " << r.error().reason;
    EXPECT_GT(z.record_count(), 0u) << doc["description"].as<std::string>();
  }
  EXPECT_EQ(scenarios, GetParam().scenarios);
}
INSTANTIATE_TEST_SUITE_P(DnsSuites, DnsSpfSuiteLoads,
                         testing::Values(SuiteCase{"rfc7208-tests.yml", 16},
                                         SuiteCase{"rfc4408-tests.yml", 15},
                                         SuiteCase{"releases/rfc7208-tests-2014.05.yml", 15},
                                         SuiteCase{"extra/pyspf-test.yml", 4}),
                         [](const auto& info) {
                           std::string n = info.param.file.substr(0, info.param.file.rfind('.'));
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// Spot checks against cases of rfc7208-tests.yml whose DNS shape matters.
TEST(DnsSpfSuiteData, Rfc7208Specifics) {
  const auto path = std::string(INKAN_CONFORMANCE_DIR) + "/spf/rfc7208-tests.yml";
  bool saw_null_text = false, saw_timeout = false;
  for (const auto& doc : YAML::LoadAllFromFile(path)) {
    if (!doc.IsMap()) continue;
    ZoneResolver z;
    ASSERT_TRUE(z.load_spf_zonedata(doc["zonedata"]).has_value());
    const auto tests = doc["tests"];
    if (tests["null-text"]) {
      // null-text: an SPF RR with no character-strings at all.
      for (const auto& kv : doc["zonedata"]) {
        const std::string name = kv.first.as<std::string>();
        Answer a = z.query(name, RType::TXT);
        for (const auto& t : a.txt) {
          if (t.strings.empty()) saw_null_text = true;
        }
      }
    }
    for (const auto& kv : doc["zonedata"]) {
      for (const auto& item : kv.second) {
        if (item.IsScalar() && item.Scalar() == "TIMEOUT") {
          Answer a = z.query(kv.first.as<std::string>(), RType::MX);
          if (a.status == Status::Timeout) saw_timeout = true;
        }
      }
    }
  }
  EXPECT_TRUE(saw_null_text);
  EXPECT_TRUE(saw_timeout);
}

}  // namespace
}  // namespace auth::dns
