#include "common/cmdline.h"

#include <gtest/gtest.h>

namespace inkan::milter {
namespace {

CommandLineSpec dkim_like() {
  CommandLineSpec s;
  s.program = "inkan-dkim";
  s.config_letters = "x";  // opendkim: -c is canonicalization
  s.extras = {{'c', true, "canon", "canonicalization"}, {'b', true, "modes", "sign/verify"},
              {'W', false, "", "log why"}};
  return s;
}

auth::Result<CommandLine> parse(const CommandLineSpec& s, std::vector<std::string> args) {
  return parse_command_line(s, args);
}

TEST(CommandLine, CommonFlags) {
  CommandLineSpec s;
  s.program = "inkan-null-milter";
  auto r = parse(s, {"-f", "-x", "/etc/opendkim.conf", "-p", "inet:8891@localhost", "-u", "opendkim:opendkim",
                     "-P", "/run/opendkim/opendkim.pid", "-v", "-v", "-l", "-A"});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_TRUE(r->foreground);
  EXPECT_EQ(r->config, "/etc/opendkim.conf");
  EXPECT_EQ(r->socket, "inet:8891@localhost");
  EXPECT_EQ(r->user, "opendkim:opendkim");
  EXPECT_EQ(r->pidfile, "/run/opendkim/opendkim.pid");
  EXPECT_EQ(r->verbose, 2);
  EXPECT_TRUE(r->syslog);
  EXPECT_TRUE(r->autorestart);
  EXPECT_FALSE(r->check_only);
}

TEST(CommandLine, ClusteredAndAttached) {
  CommandLineSpec s;
  s.program = "p";
  auto r = parse(s, {"-fvn", "-cinet.conf", "-pinet:1@h"});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_TRUE(r->foreground);
  EXPECT_TRUE(r->check_only);
  EXPECT_EQ(r->verbose, 1);
  EXPECT_EQ(r->config, "inet.conf");
  EXPECT_EQ(r->socket, "inet:1@h");
  // A value letter in a cluster takes the rest: "-fpX" = -f -p X.
  auto r2 = parse(s, {"-fpinet:2@h"});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->socket, "inet:2@h");
}

TEST(CommandLine, LastOccurrenceWins) {
  CommandLineSpec s;
  s.program = "p";
  auto r = parse(s, {"-p", "a", "-p", "b", "-c", "x", "-x", "y"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->socket, "b");
  EXPECT_EQ(r->config, "y");
}

TEST(CommandLine, LongOptions) {
  CommandLineSpec s;
  s.program = "p";
  auto r = parse(s, {"--metrics", "127.0.0.1:9101", "--config=/etc/inkan/inkan.yaml", "--foreground", "--check"});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->metrics, "127.0.0.1:9101");
  EXPECT_EQ(r->config, "/etc/inkan/inkan.yaml");
  EXPECT_TRUE(r->foreground);
  EXPECT_TRUE(r->check_only);
  auto h = parse(s, {"--help"});
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->help);
  auto v = parse(s, {"--metrics=[::1]:9101", "--version"});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->metrics, "[::1]:9101");
  EXPECT_TRUE(v->version);
}

TEST(CommandLine, ExtrasWinOverCommonButNotOverConfig) {
  auto s = dkim_like();
  auto r = parse(s, {"-c", "relaxed/simple", "-x", "/etc/opendkim.conf", "-b", "sv", "-W"});
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->config, "/etc/opendkim.conf");
  EXPECT_EQ(r->extra('c'), "relaxed/simple");
  EXPECT_EQ(r->extra('b'), "sv");
  EXPECT_EQ(r->extra('W'), "");
  EXPECT_EQ(r->extra('k'), std::nullopt);
}

struct BadCase {
  std::string_view name;
  std::vector<std::string> args;
};

class CommandLineErrors : public testing::TestWithParam<BadCase> {};

TEST_P(CommandLineErrors, Refused) {
  CommandLineSpec s;
  s.program = "p";
  auto r = parse_command_line(s, GetParam().args);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, auth::ErrorCode::Syntax);
  EXPECT_FALSE(r.error().reason.empty());
  for (char c : r.error().reason) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20) << "control in reason";
}

INSTANTIATE_TEST_SUITE_P(
    All, CommandLineErrors,
    testing::ValuesIn(std::vector<BadCase>{
        {"unknown_letter", {"-Z"}},
        {"unknown_long", {"--frobnicate"}},
        {"missing_value", {"-p"}},
        {"missing_long_value", {"--metrics"}},
        {"empty_long_value", {"--metrics="}},
        {"empty_value", {"-p", ""}},
        {"value_on_flag", {"--help=yes"}},
        {"operand", {"extra"}},
        {"control_in_operand", {"a\x01\x1b[2J"}},
    }),
    [](const auto& i) { return std::string(i.param.name); });

TEST(CommandLine, OperandsWhenAllowed) {
  CommandLineSpec s;
  s.program = "p";
  s.allow_operands = true;
  auto r = parse(s, {"-f", "a", "--", "-b"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->operands, (std::vector<std::string>{"a", "-b"}));
}

TEST(CommandLine, ManyArgumentsStayLinear) {
  CommandLineSpec s;
  s.program = "p";
  std::vector<std::string> args(10000, "-v");
  auto r = parse(s, args);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->verbose, 10000);
}

TEST(CommandLine, UsageMentionsEveryOption) {
  auto u = usage_text(dkim_like());
  for (auto needle : {"-x FILE", "-f", "-n", "-p SOCKET", "-u USER[:GROUP]", "-P PIDFILE", "-V", "--metrics",
                      "-c canon", "-b modes", "-W"}) {
    EXPECT_NE(u.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(u.find("-x|-c"), std::string::npos);
}

}  // namespace
}  // namespace inkan::milter
