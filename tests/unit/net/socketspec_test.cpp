// Tests for auth/net/socketspec.h: libmilter and Postfix socket specs.
#include "auth/net/socketspec.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace auth::net {
namespace {

using namespace std::string_literals;

struct SpecCase {
  std::string_view name;
  std::string_view input;
  SocketKind kind;
  std::uint16_t port;
  std::string_view host;  // or the path for Local
  bool literal;           // host is an address literal
  std::string_view libmilter;
  std::string_view postfix;
};

const SpecCase kValid[] = {
    // anchor-features §1.2 lab table.
    {"port_only", "inet:18901", SocketKind::Inet, 18901, "", false, "inet:18901", "inet:127.0.0.1:18901"},
    {"bracketed_v4", "inet:18899@[127.0.0.1]", SocketKind::Inet, 18899, "127.0.0.1", true,
     "inet:18899@127.0.0.1", "inet:127.0.0.1:18899"},
    {"bare_v4", "inet:18891@127.0.0.1", SocketKind::Inet, 18891, "127.0.0.1", true, "inet:18891@127.0.0.1",
     "inet:127.0.0.1:18891"},
    {"hostname", "inet:8891@localhost", SocketKind::Inet, 8891, "localhost", false, "inet:8891@localhost",
     "inet:localhost:8891"},
    {"inet6_bracketed", "inet6:18897@[::1]", SocketKind::Inet6, 18897, "::1", true, "inet6:18897@[::1]",
     "inet:[::1]:18897"},
    {"inet6_bare", "inet6:18898@::1", SocketKind::Inet6, 18898, "::1", true, "inet6:18898@[::1]",
     "inet:[::1]:18898"},
    {"unix", "unix:/path/t1.sock", SocketKind::Local, 0, "/path/t1.sock", false, "local:/path/t1.sock",
     "unix:/path/t1.sock"},
    {"local", "local:/path/t2.sock", SocketKind::Local, 0, "/path/t2.sock", false, "local:/path/t2.sock",
     "unix:/path/t2.sock"},
    {"bare_path", "/path/t3.sock", SocketKind::Local, 0, "/path/t3.sock", false, "local:/path/t3.sock",
     "unix:/path/t3.sock"},
    // Postfix smtpd_milters / check_policy_service form.
    {"postfix_hostname", "inet:localhost:8891", SocketKind::Inet, 8891, "localhost", false,
     "inet:8891@localhost", "inet:localhost:8891"},
    {"postfix_v4", "inet:127.0.0.1:8891", SocketKind::Inet, 8891, "127.0.0.1", true, "inet:8891@127.0.0.1",
     "inet:127.0.0.1:8891"},
    {"postfix_v4_bracketed", "inet:[127.0.0.1]:10023", SocketKind::Inet, 10023, "127.0.0.1", true,
     "inet:10023@127.0.0.1", "inet:127.0.0.1:10023"},
    {"postfix_v6", "inet:[::1]:8891", SocketKind::Inet6, 8891, "::1", true, "inet6:8891@[::1]",
     "inet:[::1]:8891"},
    {"postfix_v6_inet6", "inet6:[2001:db8::25]:8893", SocketKind::Inet6, 8893, "2001:db8::25", true,
     "inet6:8893@[2001:db8::25]", "inet:[2001:db8::25]:8893"},
    {"postfix_policy_spf", "unix:/var/spool/postfix/private/policy-spf", SocketKind::Local, 0,
     "/var/spool/postfix/private/policy-spf", false, "local:/var/spool/postfix/private/policy-spf",
     "unix:/var/spool/postfix/private/policy-spf"},
    {"postfix_relative_unix", "unix:private/policy-spf", SocketKind::Local, 0, "private/policy-spf", false,
     "local:private/policy-spf", "unix:private/policy-spf"},
    // inet: with an IPv6 literal becomes inet6.
    {"inet_at_bracketed_v6", "inet:8891@[::1]", SocketKind::Inet6, 8891, "::1", true, "inet6:8891@[::1]",
     "inet:[::1]:8891"},
    {"inet_at_bare_v6", "inet:8891@2001:DB8::1", SocketKind::Inet6, 8891, "2001:db8::1", true,
     "inet6:8891@[2001:db8::1]", "inet:[2001:db8::1]:8891"},
    {"inet6_port_only", "inet6:8891", SocketKind::Inet6, 8891, "", false, "inet6:8891", "inet:[::1]:8891"},
    {"inet6_hostname", "inet6:8891@localhost", SocketKind::Inet6, 8891, "localhost", false,
     "inet6:8891@localhost", "inet:localhost:8891"},
    // Details: case, leading zeros (atoi), canonical forms, port bounds.
    {"upper_type", "INET:8891@LocalHost", SocketKind::Inet, 8891, "localhost", false, "inet:8891@localhost",
     "inet:localhost:8891"},
    {"mixed_unix", "Unix:/run/x.sock", SocketKind::Local, 0, "/run/x.sock", false, "local:/run/x.sock",
     "unix:/run/x.sock"},
    {"leading_zero_port", "inet:08891@localhost", SocketKind::Inet, 8891, "localhost", false,
     "inet:8891@localhost", "inet:localhost:8891"},
    {"port_1", "inet:1@localhost", SocketKind::Inet, 1, "localhost", false, "inet:1@localhost",
     "inet:localhost:1"},
    {"port_65535", "inet:65535", SocketKind::Inet, 65535, "", false, "inet:65535", "inet:127.0.0.1:65535"},
    {"fqdn_trailing_dot", "inet:8891@milter.example.org.", SocketKind::Inet, 8891, "milter.example.org", false,
     "inet:8891@milter.example.org", "inet:milter.example.org:8891"},
    {"v6_canonicalised", "inet6:8891@[2001:0db8:0:0::1]", SocketKind::Inet6, 8891, "2001:db8::1", true,
     "inet6:8891@[2001:db8::1]", "inet:[2001:db8::1]:8891"},
    {"any_v4_literal", "inet:8891@0.0.0.0", SocketKind::Inet, 8891, "0.0.0.0", true, "inet:8891@0.0.0.0",
     "inet:0.0.0.0:8891"},
};

class ValidSpecTest : public testing::TestWithParam<SpecCase> {};

TEST_P(ValidSpecTest, Parses) {
  const SpecCase& c = GetParam();
  auto r = parse_socket_spec(c.input);
  ASSERT_TRUE(r.has_value()) << c.input << ": " << r.error().reason;
  EXPECT_EQ(r->kind, c.kind);
  EXPECT_EQ(r->port, c.port);
  if (c.kind == SocketKind::Local) {
    EXPECT_TRUE(r->is_local());
    EXPECT_EQ(r->path, c.host);
    EXPECT_TRUE(r->host.empty());
  } else {
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->address.has_value(), c.literal);
    EXPECT_EQ(r->is_any_address(), c.host.empty());
  }
  EXPECT_EQ(r->to_string(), c.libmilter);
  EXPECT_EQ(r->to_postfix(), c.postfix);
  // Both output forms parse back to the same socket (any-address excepted for Postfix form,
  // which names the loopback on purpose).
  auto again = parse_socket_spec(r->to_string());
  ASSERT_TRUE(again.has_value()) << r->to_string();
  EXPECT_EQ(*again, *r);
  if (!r->is_any_address()) {
    auto pf = parse_socket_spec(r->to_postfix());
    ASSERT_TRUE(pf.has_value()) << r->to_postfix();
    EXPECT_EQ(pf->port, r->port);
    EXPECT_EQ(pf->host, r->host);
    EXPECT_EQ(pf->path, r->path);
  }
}

INSTANTIATE_TEST_SUITE_P(NetSocket, ValidSpecTest, testing::ValuesIn(kValid),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetSocketSpec, SameSocketInBothSyntaxes) {
  // The ambiguity the design calls out: libmilter PORT@HOST vs Postfix HOST:PORT.
  auto milter = parse_socket_spec("inet:8891@localhost");
  auto postfix = parse_socket_spec("inet:localhost:8891");
  ASSERT_TRUE(milter.has_value());
  ASSERT_TRUE(postfix.has_value());
  EXPECT_EQ(*milter, *postfix);
  EXPECT_EQ(*parse_socket_spec("inet:127.0.0.1:8891"), *parse_socket_spec("inet:8891@[127.0.0.1]"));
  EXPECT_EQ(*parse_socket_spec("inet:[::1]:8891"), *parse_socket_spec("inet6:8891@::1"));
}

struct BadSpecCase {
  std::string_view name;
  std::string input;
  ErrorCode code;
};

const BadSpecCase kInvalid[] = {
    {"empty", "", ErrorCode::Syntax},
    {"no_type", "localhost:8891", ErrorCode::Syntax},
    {"relative_bare", "milter.sock", ErrorCode::Syntax},
    {"unknown_type", "tcp:8891@localhost", ErrorCode::Syntax},
    {"inet_empty", "inet:", ErrorCode::Syntax},
    {"port_zero", "inet:0", ErrorCode::Invalid},
    {"port_too_big", "inet:65536@localhost", ErrorCode::Invalid},
    {"port_huge", "inet:99999999999999999999", ErrorCode::Invalid},
    {"service_name", "inet:milter@localhost", ErrorCode::Syntax},
    {"service_name_postfix", "inet:localhost:smtp", ErrorCode::Syntax},
    {"negative_port", "inet:-1@localhost", ErrorCode::Syntax},
    {"empty_port_at", "inet:@localhost", ErrorCode::Syntax},
    {"empty_host_at", "inet:8891@", ErrorCode::Syntax},
    {"empty_host_postfix", "inet::8891", ErrorCode::Syntax},
    {"empty_port_postfix", "inet:localhost:", ErrorCode::Syntax},
    {"host_without_port", "inet:localhost", ErrorCode::Syntax},
    {"unbracketed_v6_postfix", "inet:::1:8891", ErrorCode::Syntax},
    {"unbracketed_v6_postfix_long", "inet:2001:db8::1:8891", ErrorCode::Syntax},
    {"unbalanced_bracket", "inet:[::1:8891", ErrorCode::Syntax},
    {"bracket_no_port", "inet:[::1]", ErrorCode::Syntax},
    {"bracket_junk", "inet:[::1]x8891", ErrorCode::Syntax},
    {"bad_v6_after_at", "inet6:8891@1::2::3", ErrorCode::Syntax},
    {"bad_v4_after_at", "inet:8891@1.2.3.4.5", ErrorCode::Syntax},
    {"leading_zero_v4", "inet:8891@010.0.0.1", ErrorCode::Syntax},
    {"inet6_with_v4", "inet6:8891@127.0.0.1", ErrorCode::Invalid},
    {"inet6_postfix_v4", "inet6:127.0.0.1:8891", ErrorCode::Invalid},
    {"bad_hostname", "inet:8891@local_host!", ErrorCode::Syntax},
    {"zone_id", "inet6:8891@[fe80::1%eth0]", ErrorCode::Syntax},
    {"space_inside", "inet:8891@ localhost", ErrorCode::Syntax},
    {"trailing_space", "inet:8891 ", ErrorCode::Syntax},
    {"nul", "inet:8891@local\0host"s, ErrorCode::Syntax},
    {"newline", "local:/run/x.sock\n", ErrorCode::Syntax},
    {"empty_local", "local:", ErrorCode::Syntax},
    {"empty_unix", "unix:", ErrorCode::Syntax},
    {"path_too_long", "local:/" + std::string(107, 'a'), ErrorCode::LimitExceeded},
    {"hostname_too_long", "inet:8891@" + std::string(260, 'a'), ErrorCode::LimitExceeded},
    {"overlong", "inet:" + std::string(10000, '1'), ErrorCode::LimitExceeded},
    {"repeated_at", "inet:8891@@localhost", ErrorCode::Syntax},
    {"two_ports", "inet:8891@localhost:25", ErrorCode::Syntax},
    {"non_ascii_host", "inet:8891@b\xc3\xbc" "cher.example", ErrorCode::Syntax},
    {"plus_port", "inet:+8891", ErrorCode::Syntax},
    {"double_trailing_dot", "inet:2003@host.example..", ErrorCode::Syntax},  // fuzz find
    {"only_dot_host", "inet:2003@.", ErrorCode::Syntax},
};

class BadSpecTest : public testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSpecTest, IsRejected) {
  const BadSpecCase& c = GetParam();
  auto r = parse_socket_spec(c.input);
  ASSERT_FALSE(r.has_value()) << "got " << r->to_string();
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
  for (char ch : r.error().reason) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << r.error().reason;
}

INSTANTIATE_TEST_SUITE_P(NetSocket, BadSpecTest, testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetSocketSpec, PathLengthBoundary) {
  const std::string ok = "local:/" + std::string(106, 'a');  // 107 bytes of path
  auto r = parse_socket_spec(ok);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(r->path.size(), kMaxUnixSocketPath);
}

TEST(NetSocketSpec, DesignDefaults) {
  // DESIGN.md: default sockets of the four daemons.
  for (std::string_view s : {"inet:8891@localhost", "inet:8892@localhost", "inet:8893@localhost",
                             "unix:/var/spool/postfix/private/policy-spf", "inet:127.0.0.1:10023"}) {
    auto r = parse_socket_spec(s);
    ASSERT_TRUE(r.has_value()) << s << ": " << r.error().reason;
  }
}

}  // namespace
}  // namespace auth::net
