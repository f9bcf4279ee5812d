#include "auth/config/legacy.h"

#include <gtest/gtest.h>

#include <map>

namespace {

using auth::config::ConfigError;
using auth::config::LegacyConfig;

// Files for Include tests, served from memory.
auth::config::FileReader reader_of(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> auth::Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return auth::fail(auth::ErrorCode::Io, "cannot open " + path);
    return it->second;
  };
}

TEST(LegacyConfig, NameValueGrammar) {
  auto c = LegacyConfig::parse(
      "# comment\n"
      "Mode\tsv\n"
      "  Canonicalization   relaxed/simple   \n"
      "ReportAddress \"DKIM Error Postmaster\" <postmaster@example.com>\n"
      "Socket inet:8891@localhost # trailing comment\r\n"
      "\n",
      "opendkim.conf");
  EXPECT_EQ(c.get_string("mode"), "sv");  // names are case-insensitive
  EXPECT_EQ(c.get_string("CANONICALIZATION"), "relaxed/simple");
  // No quoting: quotes stay part of the value, internal spaces kept.
  EXPECT_EQ(c.get_string("ReportAddress"), "\"DKIM Error Postmaster\" <postmaster@example.com>");
  EXPECT_EQ(c.get_string("Socket"), "inet:8891@localhost");
  EXPECT_FALSE(c.get_string("Domain"));
  EXPECT_EQ(c.settings().size(), 4u);
  EXPECT_EQ(c.find("socket")->line, 5u);
}

TEST(LegacyConfig, LastOccurrenceWins) {
  auto c = LegacyConfig::parse("Selector a\nselector b\n", "f");
  EXPECT_EQ(c.get_string("Selector"), "b");
}

TEST(LegacyConfig, MissingValueIsFatal) {
  try {
    (void)LegacyConfig::parse("Mode sv\nDomain\n", "opendkim.conf");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.option(), "Domain");
    EXPECT_EQ(e.message(), "required value missing");
    EXPECT_EQ(std::string(e.what()),
              "opendkim.conf: configuration error at line 2: required value missing (Domain)");
  }
}

struct BoolCase {
  const char* value;
  std::optional<bool> want;
};

class LegacyBool : public testing::TestWithParam<BoolCase> {};
TEST_P(LegacyBool, FirstCharacterCounts) {
  EXPECT_EQ(auth::config::parse_legacy_bool(GetParam().value), GetParam().want)
      << "value '" << GetParam().value << "'";
}
INSTANTIATE_TEST_SUITE_P(Values, LegacyBool,
                         testing::Values(BoolCase{"yes", true}, BoolCase{"Yup", true},
                                         BoolCase{"true", true}, BoolCase{"1", true},
                                         BoolCase{"no", false}, BoolCase{"False", false},
                                         BoolCase{"0", false}, BoolCase{"maybe", std::nullopt},
                                         BoolCase{"", std::nullopt}));

TEST(LegacyConfig, IntegersUseStrtolBaseZero) {
  EXPECT_EQ(auth::config::parse_legacy_int("007"), 7);
  EXPECT_EQ(auth::config::parse_legacy_int("022"), 18);  // octal, as opendkim reads UMask
  EXPECT_EQ(auth::config::parse_legacy_int("0x1F"), 31);
  EXPECT_EQ(auth::config::parse_legacy_int("10"), 10);
  EXPECT_FALSE(auth::config::parse_legacy_int("10s"));
  EXPECT_FALSE(auth::config::parse_legacy_int(""));
  EXPECT_FALSE(auth::config::parse_legacy_int("99999999999999999999999"));
  auto c = LegacyConfig::parse("UMask 007\nDNSTimeout five\n", "f");
  EXPECT_EQ(c.get_int("UMask"), 7);
  EXPECT_THROW((void)c.get_int("DNSTimeout"), ConfigError);
}

TEST(LegacyConfig, UnknownParameterNamed) {
  auto c = LegacyConfig::parse("Mode s\nADSPAction reject\n", "opendkim.conf");
  try {
    c.require_known({"Mode", "Socket"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.option(), "ADSPAction");
    EXPECT_EQ(e.message(), "unrecognized parameter");
  }
  EXPECT_NO_THROW(c.require_known({"mode", "adspaction"}));
}

TEST(LegacyConfig, IncludeNestsUpToFiveLevels) {
  auto r = reader_of({{"/a", "Include /b\nMode v\n"}, {"/b", "Selector sel\n"}});
  auto c = LegacyConfig::parse("Include /a\nDomain example.com\n", "main", r);
  EXPECT_EQ(c.get_string("Selector"), "sel");
  EXPECT_EQ(c.find("Selector")->file, "/b");
  EXPECT_EQ(c.get_string("Mode"), "v");
  EXPECT_EQ(c.get_string("Domain"), "example.com");

  // A self-including file stops at the depth limit instead of recursing forever.
  auto loop = reader_of({{"/loop", "Include /loop\n"}});
  EXPECT_THROW((void)LegacyConfig::parse("Include /loop\n", "main", loop), ConfigError);
  auto missing = reader_of({});
  EXPECT_THROW((void)LegacyConfig::parse("Include /nope\n", "main", missing), ConfigError);
}

TEST(LegacyConfig, HostileInputStaysBounded) {
  std::string big;
  for (int i = 0; i < 10000; ++i) big += "Name" + std::to_string(i) + " value\n";
  auto c = LegacyConfig::parse(big, "big");
  EXPECT_EQ(c.settings().size(), 10000u);
  EXPECT_THROW((void)LegacyConfig::parse(std::string(100000, 'x') + " v\n", "long"), ConfigError);
  auto nul = LegacyConfig::parse(std::string("Mode s\0v\n", 9), "nul");
  EXPECT_EQ(nul.get_string("Mode")->size(), 3u);
}

TEST(PolicydSpfConfig, Grammar) {
  auto c = auth::config::parse_policyd_spf_config(
      "#  For a fully commented sample config file see policyd-spf.conf.commented\n"
      "debugLevel = 1\n"
      "TestOnly = 1\n"
      "HELO_reject = Fail   # trailing comment\n"
      "skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\n"
      "Reason_Message = bad = line\n"
      "no equals here\n"
      "helo_reject = SPF_Not_Pass\n",
      "policyd-spf.conf");
  ASSERT_NE(c.find("HELO_reject"), nullptr);
  EXPECT_EQ(c.find("HELO_reject")->value, "Fail");
  EXPECT_EQ(c.find("skip_addresses")->value, "127.0.0.0/8,::ffff:127.0.0.0/104,::1");
  EXPECT_EQ(c.find("Reason_Message"), nullptr);  // two '=' → skipped
  EXPECT_EQ(c.skipped.size(), 2u);
  // Names are case-sensitive: helo_reject is another (unknown) name.
  auto unknown = c.unknown({"debugLevel", "TestOnly", "HELO_reject", "skip_addresses"});
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0]->name, "helo_reject");
  EXPECT_EQ(unknown[0]->line, 8u);
}

}  // namespace
