// OpenSPF conformance suites (shared/conformance/spf), data-driven: every test id of
// rfc7208-tests.yml is one parameter (Rfc7208/<id>), every test of rfc4408-tests.yml one
// more (Rfc4408/<id>); the scenario's zonedata populates dns::ZoneResolver. See README.md
// beside this file for the schema notes and the RFC 4408 cases skipped as superseded.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "auth/dns/zone.h"
#include "auth/spf/evaluator.h"

namespace auth::spf {
namespace {

struct SuiteCase {
  std::string suite;  // "rfc7208" or "rfc4408"
  std::string id;     // the YAML test key
  std::string spec;
  std::string host, mailfrom, helo;
  std::vector<std::string> results;  // any is acceptable; the first is preferred
  bool has_explanation = false;
  std::string explanation;
  std::shared_ptr<YAML::Node> zonedata;  // shared by the scenario's tests
};

// gtest prints the parameter in test listings: keep it short and readable.
void PrintTo(const SuiteCase& c, std::ostream* os) { *os << c.suite << "/" << c.id; }

// RFC 4408 cases whose expectation RFC 7208 changed. RFC 7208 wins (README.md of the suite).
const std::map<std::string, std::string, std::less<>>& rfc4408_superseded() {
  static const std::map<std::string, std::string, std::less<>> kSkip = {
#include "rfc4408_superseded.inc"
  };
  return kSkip;
}

// A scalar as text; a sequence (some `spec` values are lists) joined with ", ".
std::string text_of(const YAML::Node& n) {
  if (!n) return {};
  if (n.IsSequence()) {
    std::string out;
    for (const auto& e : n) out += (out.empty() ? "" : ", ") + text_of(e);
    return out;
  }
  return n.as<std::string>();
}

std::vector<SuiteCase> load_suite(const std::string& suite, const std::string& file) {
  std::vector<SuiteCase> out;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAllFromFile(std::string(INKAN_CONFORMANCE_DIR) + "/spf/" + file);
  } catch (const std::exception& e) {
    // An unreadable suite shows up as one failing case rather than silently as zero cases.
    SuiteCase c;
    c.suite = suite;
    c.id = "load_error";
    c.results = {std::string("cannot load ") + file + ": " + e.what()};
    out.push_back(std::move(c));
    return out;
  }
  for (const auto& doc : docs) {
    if (!doc.IsMap() || !doc["tests"]) continue;
    auto zone = std::make_shared<YAML::Node>(doc["zonedata"] ? doc["zonedata"] : YAML::Node());
    for (const auto& kv : doc["tests"]) {
      const YAML::Node& t = kv.second;
      SuiteCase c;
      c.suite = suite;
      c.id = kv.first.as<std::string>();
      c.spec = text_of(t["spec"]);
      c.host = text_of(t["host"]);
      c.mailfrom = text_of(t["mailfrom"]);
      c.helo = text_of(t["helo"]);
      if (t["result"].IsSequence()) {
        for (const auto& r : t["result"]) c.results.push_back(r.as<std::string>());
      } else {
        c.results.push_back(t["result"].as<std::string>());
      }
      if (t["explanation"]) {
        c.has_explanation = true;
        c.explanation = t["explanation"].as<std::string>();
      }
      c.zonedata = zone;
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::string param_name(const testing::TestParamInfo<SuiteCase>& info) {
  std::string n = info.param.id;
  for (char& ch : n) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
      ch = '_';
    }
  }
  return n;
}

class SpfSuite : public testing::TestWithParam<SuiteCase> {
 protected:
  void run_case() {
    const SuiteCase& c = GetParam();
    ASSERT_NE(c.id, "load_error") << c.results.front();
    if (c.suite == "rfc4408") {
      auto it = rfc4408_superseded().find(c.id);
      if (it != rfc4408_superseded().end()) GTEST_SKIP() << it->second;
    }
    dns::ZoneResolver zone;
    auto loaded = zone.load_spf_zonedata(*c.zonedata);
    ASSERT_TRUE(loaded) << loaded.error().reason;

    Request req;
    req.client_ip = c.host;
    req.mail_from = c.mailfrom;
    req.helo = c.helo;
    Options opt;
    opt.default_explanation = "DEFAULT";  // the reference harness's convention

    CheckResult got = check_host(zone, req, opt);
    std::string word = to_string(got.result);
    std::string want;
    for (const auto& r : c.results) want += (want.empty() ? "" : "|") + r;
    std::string trace;
    for (const auto& t : got.trace) {
      trace += "\n  [" + std::to_string(t.depth) + "] " + t.domain + " '" + t.term + "' " +
               t.query + " -> " + t.outcome;
    }
    EXPECT_NE(std::find(c.results.begin(), c.results.end(), word), c.results.end())
        << c.id << " (spec " << c.spec << "): got " << word << " want " << want
        << "\nproblem: " << got.problem << "\ntrace:" << trace;
    if (c.has_explanation) {
      EXPECT_EQ(got.explanation, c.explanation)
          << c.id << ": got explanation '" << got.explanation << "' want '" << c.explanation
          << "'";
    }

    // The asynchronous driver over the same zone gives the same answer.
    int calls = 0;
    CheckResult async_got;
    check_host_async(zone, req, opt, [&](CheckResult r) {
      ++calls;
      async_got = std::move(r);
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(async_got.result, got.result);
    EXPECT_EQ(async_got.explanation, got.explanation);
  }
};

class Rfc7208Suite : public SpfSuite {};
TEST_P(Rfc7208Suite, Case) { run_case(); }
INSTANTIATE_TEST_SUITE_P(Rfc7208, Rfc7208Suite,
                         testing::ValuesIn(load_suite("rfc7208", "rfc7208-tests.yml")),
                         param_name);

class Rfc4408Suite : public SpfSuite {};
TEST_P(Rfc4408Suite, Case) { run_case(); }
INSTANTIATE_TEST_SUITE_P(Rfc4408, Rfc4408Suite,
                         testing::ValuesIn(load_suite("rfc4408", "rfc4408-tests.yml")),
                         param_name);

TEST(SpfSuiteData, CountsMatchTheReadme) {
  // shared/conformance/spf/README.md: 203 RFC 7208 cases, 191 RFC 4408 cases.
  EXPECT_EQ(load_suite("rfc7208", "rfc7208-tests.yml").size(), 203u);
  EXPECT_EQ(load_suite("rfc4408", "rfc4408-tests.yml").size(), 191u);
}

}  // namespace
}  // namespace auth::spf
