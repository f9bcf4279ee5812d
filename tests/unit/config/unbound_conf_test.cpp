// load_unbound_conf: the libunbound file behind opendkim's ResolverConfiguration.
#include "auth/config/unbound_conf.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace {

using auth::config::ConfigError;
using auth::config::FileReader;
using auth::config::load_unbound_conf;
using auth::config::UnboundConf;

struct Files {
  std::map<std::string, std::string> files;
  FileReader reader() const {
    return [this](const std::string& p) -> auth::Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return auth::fail(auth::ErrorCode::Io, "no such file");
      return it->second;
    };
  }
};

UnboundConf load(const std::string& text) {
  Files f;
  f.files["/u.conf"] = text;
  return load_unbound_conf("/u.conf", f.reader());
}

/// The ConfigError text for `text`, "" when it loads.
std::string error_of(const std::string& text) {
  try {
    load(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(UnboundConf, RootForwardZoneGivesNameServersInOrder) {
  auto u = load(
      "# resolver for opendkim\n"
      "server:\n"
      "    verbosity: 1\n"
      "    trust-anchor-file: \"/usr/share/dns/root.key\"\n"
      "forward-zone:\n"
      "    name: \".\"\n"
      "    forward-addr: 127.0.0.1@5353\n"
      "    forward-addr: 192.0.2.53\n"
      "    forward-addr: ::1@53\n"
      "    forward-addr: 2001:db8::53#dns.example\n"
      "    forward-first: no\n");
  EXPECT_EQ(u.forwarders,
            (std::vector<std::string>{"127.0.0.1:5353", "192.0.2.53", "[::1]:53", "2001:db8::53"}));
  ASSERT_EQ(u.ignored.size(), 3u);
  EXPECT_EQ(u.ignored[0], "/u.conf:3: verbosity");
  EXPECT_EQ(u.ignored[1], "/u.conf:4: trust-anchor-file");
  EXPECT_EQ(u.ignored[2], "/u.conf:11: forward-first");
}

TEST(UnboundConf, LexerAsUnbound) {
  // Several attributes on one line, a value glued to its colon, single quotes, '#' inside a
  // token is not a comment, '#' starting one is.
  auto u = load(
      "server: verbosity:2 num-threads: 1 # two threads\n"
      "forward-zone: name: '.' forward-addr: 10.0.0.1@53#tls.example # comment\n");
  EXPECT_EQ(u.forwarders, (std::vector<std::string>{"10.0.0.1:53"}));
  EXPECT_EQ(u.ignored.size(), 2u);
}

TEST(UnboundConf, NoForwardZoneIsEmpty) {
  auto u = load("server:\n  do-ip6: no\n  module-config: \"validator iterator\"\n");
  EXPECT_TRUE(u.forwarders.empty());
  EXPECT_EQ(u.ignored.size(), 2u);
  EXPECT_TRUE(load("").forwarders.empty());
  EXPECT_TRUE(load("# only a comment\n\n").forwarders.empty());
}

TEST(UnboundConf, IncludeIsTextualAndBounded) {
  Files f;
  f.files["/main.conf"] = "include: \"/fz.conf\"\nforward-addr: 192.0.2.2\n";
  f.files["/fz.conf"] = "forward-zone:\n name: \".\"\n forward-addr: 192.0.2.1\n";
  auto u = load_unbound_conf("/main.conf", f.reader());
  EXPECT_EQ(u.forwarders, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));

  f.files["/loop.conf"] = "include: /loop.conf\n";
  try {
    load_unbound_conf("/loop.conf", f.reader());
    FAIL() << "include loop accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper"), std::string::npos) << e.what();
  }
  try {
    load_unbound_conf("/missing.conf", f.reader());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/missing.conf");
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos);
  }
}

TEST(UnboundConf, IncludeWildcardReadsEveryMatchSorted) {
  auto dir = std::filesystem::temp_directory_path() / ("inkan-ub-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "b.conf") << "forward-zone:\n name: \".\"\n forward-addr: 192.0.2.2\n";
  std::ofstream(dir / "a.conf") << "server:\n auto-trust-anchor-file: /var/lib/unbound/root.key\n";
  std::string main = (dir / "main.conf").string();
  std::ofstream(main) << "include-toplevel: \"" << (dir / "*.conf").string() << "\"\n"
                      << "include: \"" << (dir / "none-*.conf").string() << "\"\n";
  // main.conf matches its own wildcard: guard by moving it out of the pattern's reach.
  std::string top = (dir.parent_path() / ("inkan-ub-main-" + std::to_string(::getpid()) + ".conf")).string();
  std::filesystem::rename(main, top);
  auto u = load_unbound_conf(top, auth::config::read_file);
  EXPECT_EQ(u.forwarders, (std::vector<std::string>{"192.0.2.2"}));
  EXPECT_EQ(u.ignored.size(), 1u);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(top);
}

struct Refusal {
  const char* text;
  const char* says;
};

class UnboundRefused : public testing::TestWithParam<Refusal> {};

TEST_P(UnboundRefused, ErrorNamesFileLineAndWhy) {
  std::string e = error_of(GetParam().text);
  EXPECT_NE(e.find("/u.conf"), std::string::npos) << e;
  EXPECT_NE(e.find("ResolverConfiguration"), std::string::npos) << e;
  EXPECT_NE(e.find(GetParam().says), std::string::npos) << e;
}

const Refusal kRefusals[] = {
    {"server:\n local-data: \"x.example. TXT hi\"\n", "'local-data:' changes DNS answers"},
    {"server:\n local-zone: example. static\n", "'local-zone:'"},
    {"stub-zone:\n name: example.\n stub-addr: 192.0.2.1\n", "'stub-zone:'"},
    {"forward-zone:\n name: example.com\n forward-addr: 192.0.2.1\n", "forward-zone for 'example.com'"},
    {"forward-zone:\n forward-addr: 192.0.2.1\n", "without name:"},
    {"forward-zone:\n name: .\n forward-addr: dns.example\n", "is not an IP address"},
    {"forward-zone:\n name: .\n forward-addr: 192.0.2.1@99999\n", "bad port"},
    {"forward-zone:\n name: .\n forward-host: dns.example\n", "forward-host"},
    {"forward-zone:\n name: .\n forward-tls-upstream: yes\n forward-addr: 192.0.2.1@853\n", "DNS over TLS"},
    {"server:\n tls-upstream: yes\n", "'tls-upstream:'"},
    {"server:\n module-config: \"dns64 validator iterator\"\n", "module 'dns64'"},
    {"server:\n frobnicate: yes\n", "unknown or unsupported unbound.conf attribute 'frobnicate:'"},
    {"verbosity: 1\n", "outside its clause"},
    {"server:\n forward-addr: 192.0.2.1\n", "outside a forward-zone"},
    {"server:\n name: \"unterminated\n", "unterminated quoted string"},
    {"hello\n", "where an unbound.conf attribute"},
    {"forward-zone:\n name: .\n forward-addr: 192.0.2.1 192.0.2.2\n", "takes one value"},
};
INSTANTIATE_TEST_SUITE_P(Config, UnboundRefused, testing::ValuesIn(kRefusals));

TEST(UnboundConf, HarmlessNoValuesAccepted) {
  EXPECT_EQ(error_of("server:\n tls-upstream: no\nforward-zone:\n name: .\n forward-tls-upstream: no\n"
                     " forward-addr: 192.0.2.1\n"),
            "");
}

TEST(UnboundConf, HostileInputStaysBounded) {
  // 10 000 attributes are read; one more is refused; a huge token is refused; NUL bytes and
  // non-ASCII are just bytes of an unknown attribute.
  std::string many = "server:\n";
  for (int i = 0; i < 9999; ++i) many += " verbosity: 1\n";
  EXPECT_EQ(error_of(many), "");
  EXPECT_NE(error_of(many + " verbosity: 1\n").find("more than 10000 attributes"), std::string::npos);
  EXPECT_NE(error_of("server:\n identity: \"" + std::string(5000, 'x') + "\"\n").find("longer than"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("server:\n ver\0bosity: 1\n", sizeof("server:\n ver\0bosity: 1\n") - 1)).find("ResolverConfiguration"),
            std::string::npos);
  EXPECT_NE(error_of("server:\n v\xc3\xa9rbosity: 1\n").find("ResolverConfiguration"), std::string::npos);
}

}  // namespace
