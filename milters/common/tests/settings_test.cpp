#include "common/settings.h"

#include <gtest/gtest.h>
#include <syslog.h>

namespace inkan::milter {
namespace {

struct FormatCase {
  std::string_view name;
  std::string_view path;
  std::string_view content;
  ConfigFormat want;
};

const FormatCase kFormatCases[] = {
    {"yaml_extension", "/etc/inkan/inkan.yaml", "Socket inet:1@h\n", ConfigFormat::Yaml},
    {"yml_extension", "/x/a.YML", "", ConfigFormat::Yaml},
    {"opendkim_conf", "/etc/opendkim.conf",
     "# comment\nSyslog\t\t\tyes\nSocket inet:8891@localhost\n", ConfigFormat::Legacy},
    {"legacy_value_with_colon", "/etc/x.conf", "Socket local:/run/x.sock\n", ConfigFormat::Legacy},
    {"legacy_dash_name", "/etc/x.conf", "On-BadSignature reject\n", ConfigFormat::Legacy},
    {"legacy_crlf", "/etc/x.conf", "\r\nMode sv\r\n", ConfigFormat::Legacy},
    {"yaml_mapping", "/etc/inkan/conf", "dkim:\n  socket: inet:8891@localhost\n", ConfigFormat::Yaml},
    {"yaml_key_value", "/etc/x", "socket: inet:8891@localhost\n", ConfigFormat::Yaml},
    {"yaml_document_marker", "/etc/x", "# c\n---\nfoo: 1\n", ConfigFormat::Yaml},
    {"yaml_directive", "/etc/x", "%YAML 1.2\n---\n", ConfigFormat::Yaml},
    {"yaml_list", "/etc/x", "- a\n- b\n", ConfigFormat::Yaml},
    {"yaml_flow", "/etc/x", "{a: 1}\n", ConfigFormat::Yaml},
    {"yaml_quoted_key", "/etc/x", "\"a b\": 1\n", ConfigFormat::Yaml},
    {"yaml_indented_comment_first", "/etc/x", "   # hi\n\n  key:\n", ConfigFormat::Yaml},
    {"empty", "/etc/x", "", ConfigFormat::Legacy},
    {"only_comments", "/etc/x", "# a: b\n#\n", ConfigFormat::Legacy},
    {"binary", "/etc/x", std::string_view("\0\x01\x02", 3), ConfigFormat::Legacy},
};

class DetectFormat : public testing::TestWithParam<FormatCase> {};

TEST_P(DetectFormat, Table) {
  const auto& c = GetParam();
  EXPECT_EQ(detect_config_format(c.path, c.content), c.want)
      << "got " << to_string(detect_config_format(c.path, c.content)) << " want " << to_string(c.want);
}

INSTANTIATE_TEST_SUITE_P(All, DetectFormat, testing::ValuesIn(kFormatCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DetectFormat, TenThousandBlankLinesThenYaml) {
  std::string s(10000, '\n');
  s += "a: b\n";
  EXPECT_EQ(detect_config_format("/x", s), ConfigFormat::Yaml);
}

TEST(RuntimeOption, LegacyNames) {
  RuntimeSettings s;
  EXPECT_EQ(*apply_runtime_option(s, "Socket", "inet:8891@localhost"), true);
  EXPECT_EQ(*apply_runtime_option(s, "umask", "007"), true);
  EXPECT_EQ(*apply_runtime_option(s, "UserID", "opendkim:opendkim"), true);
  EXPECT_EQ(*apply_runtime_option(s, "PIDFILE", "/run/opendkim/opendkim.pid"), true);
  EXPECT_EQ(*apply_runtime_option(s, "ChangeRootDirectory", "/var/lib/opendkim"), true);
  EXPECT_EQ(*apply_runtime_option(s, "Background", "no"), true);
  EXPECT_EQ(*apply_runtime_option(s, "Syslog", "Yes"), true);
  EXPECT_EQ(*apply_runtime_option(s, "SyslogFacility", "local3"), true);
  EXPECT_EQ(*apply_runtime_option(s, "Mode", "sv"), false);
  EXPECT_EQ(*apply_runtime_option(s, "On-InternalError", "reject"), false) << "left to inkan-dkim";
  EXPECT_EQ(s.socket, "inet:8891@localhost");
  EXPECT_EQ(s.umask, static_cast<mode_t>(07));
  EXPECT_EQ(s.user, "opendkim:opendkim");
  EXPECT_EQ(s.pidfile, "/run/opendkim/opendkim.pid");
  EXPECT_EQ(s.chroot_dir, "/var/lib/opendkim");
  EXPECT_FALSE(s.background);
  EXPECT_TRUE(s.syslog);
  EXPECT_EQ(s.syslog_facility, "local3");
}

TEST(RuntimeOption, YamlNamesAndIntegers) {
  RuntimeSettings s;
  EXPECT_TRUE(*apply_runtime_option(s, "on_internal_error", "accept"));
  EXPECT_EQ(s.on_internal_error, DefaultAction::Accept);
  EXPECT_TRUE(*apply_runtime_option(s, "umask", "0x1F"));
  EXPECT_EQ(s.umask, static_cast<mode_t>(0x1f));
  EXPECT_TRUE(*apply_runtime_option(s, "UMask", "022"));
  EXPECT_EQ(s.umask, static_cast<mode_t>(022)) << "strtol base 0: 022 is octal 18";
  EXPECT_TRUE(*apply_runtime_option(s, "metrics", "127.0.0.1:9101"));
  EXPECT_TRUE(*apply_runtime_option(s, "milter_timeout", "30"));
  EXPECT_EQ(s.milter_timeout, 30u);
  EXPECT_TRUE(*apply_runtime_option(s, "graceful_stop_timeout", "5"));
  EXPECT_EQ(s.graceful_stop_seconds, 5u);
  EXPECT_TRUE(*apply_runtime_option(s, "chroot", "/srv/inkan"));
  EXPECT_EQ(s.chroot_dir, "/srv/inkan");
}

struct IllegalCase {
  std::string_view name, value;
};

class RuntimeOptionIllegal : public testing::TestWithParam<IllegalCase> {};

TEST_P(RuntimeOptionIllegal, Refused) {
  RuntimeSettings s;
  auto r = apply_runtime_option(s, GetParam().name, GetParam().value);
  ASSERT_FALSE(r) << GetParam().name << " " << GetParam().value;
  EXPECT_NE(r.error().reason.find("illegal value"), std::string::npos);
  EXPECT_EQ(s, RuntimeSettings{}) << "a refused value must not change the settings";
}

INSTANTIATE_TEST_SUITE_P(All, RuntimeOptionIllegal,
                         testing::ValuesIn(std::vector<IllegalCase>{
                             {"UMask", "abc"}, {"UMask", "07777"}, {"UMask", "-1"}, {"UMask", "7 x"},
                             {"Background", "maybe"}, {"Syslog", ""}, {"SyslogFacility", "mailx"},
                             {"UserID", "a:b:c"}, {"UserID", ":grp"}, {"UserID", "us er"},
                             {"PidFile", "relative.pid"}, {"on_internal_error", "reject"},
                             {"ChangeRootDirectory", "var/lib/x"}, {"ChangeRootDirectory", ""},
                             {"milter_timeout", "99999999999999999999999"}, {"Socket", ""}}));

TEST(SyslogFacility, Names) {
  EXPECT_EQ(parse_syslog_facility("mail"), LOG_MAIL);
  EXPECT_EQ(parse_syslog_facility("LOG_MAIL"), LOG_MAIL);
  EXPECT_EQ(parse_syslog_facility("Local7"), LOG_LOCAL7);
  EXPECT_EQ(parse_syslog_facility("daemon"), LOG_DAEMON);
  EXPECT_EQ(parse_syslog_facility("log_"), std::nullopt);
  EXPECT_EQ(parse_syslog_facility("kernel"), std::nullopt);
}

TEST(UserSpec, Parse) {
  EXPECT_EQ(*parse_user_spec("opendkim"), (UserSpec{"opendkim", ""}));
  EXPECT_EQ(*parse_user_spec("opendkim:postfix"), (UserSpec{"opendkim", "postfix"}));
  EXPECT_FALSE(parse_user_spec(""));
  EXPECT_FALSE(parse_user_spec("a:"));
  EXPECT_FALSE(parse_user_spec("a\tb"));
}

TEST(ConfigError, MessageShape) {
  ConfigError e("/etc/opendkim.conf", 3, "Frobnicate", "unrecognized parameter");
  EXPECT_STREQ(e.what(), "/etc/opendkim.conf: configuration error at line 3: unrecognized parameter (Frobnicate)");
  ConfigError e2("/etc/x.yaml", 0, "", "cannot read");
  EXPECT_STREQ(e2.what(), "/etc/x.yaml: configuration error: cannot read");
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.option(), "Frobnicate");
}

TEST(Flags, FirstCharacter) {
  EXPECT_EQ(parse_flag("true"), true);
  EXPECT_EQ(parse_flag("Yes"), true);
  EXPECT_EQ(parse_flag("1"), true);
  EXPECT_EQ(parse_flag("no"), false);
  EXPECT_EQ(parse_flag("False"), false);
  EXPECT_EQ(parse_flag("maybe"), std::nullopt);
  EXPECT_EQ(parse_unsigned("0x10"), 16u);
  EXPECT_EQ(parse_unsigned("010"), 8u);
  EXPECT_EQ(parse_unsigned("10"), 10u);
  EXPECT_EQ(parse_unsigned(" 10"), std::nullopt);
  EXPECT_EQ(parse_unsigned("10x"), std::nullopt);
  EXPECT_EQ(parse_unsigned(""), std::nullopt);
}

}  // namespace
}  // namespace inkan::milter
