// Tests for auth/net/hostlist.h: OpenDKIM-compatible host lists.
#include "auth/net/hostlist.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace auth::net {
namespace {

using namespace std::string_literals;

HostList must_parse(std::string_view text, HostListSyntax syntax = HostListSyntax::Lines,
                    bool lenient = false) {
  auto r = HostList::parse(text, HostListOptions{syntax, lenient});
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r ? *r : HostList{};
}

std::optional<IpAddress> addr(std::string_view s) {
  if (s.empty()) return std::nullopt;
  auto r = parse_ip(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r ? std::optional<IpAddress>(*r) : std::nullopt;
}

IpAddress A(std::string_view s) {
  auto r = parse_ip(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r ? *r : IpAddress{};
}
// The temporary from A() lives until the end of the full expression that uses the pointer.
const IpAddress* ptr(const IpAddress& a) { return &a; }

// A client (address and/or name) against a list, with the expected answer and the line
// of the deciding entry (0: no entry decided).
struct ClientCase {
  std::string_view name;
  std::string_view ip;
  std::string_view host;
  bool member;
  std::size_t line;
};

void check_client(const HostList& list, const ClientCase& c) {
  const auto a = addr(c.ip);
  const HostListMatch m = list.explain(a ? &*a : nullptr, c.host);
  EXPECT_EQ(m.member, c.member) << "ip=" << c.ip << " host=" << c.host << " got member=" << m.member
                                << " (entry '" << m.entry << "' line " << m.line << ") want " << c.member;
  EXPECT_EQ(m.line, c.line) << "ip=" << c.ip << " host=" << c.host << " deciding entry '" << m.entry << "'";
  EXPECT_EQ(list.match(a ? &*a : nullptr, c.host), c.member);
}

// ---------------------------------------------------------------------------------------
// OpenDKIM's own test list (src: opendkim/tests/t-peer.list), with comments added.

constexpr std::string_view kPeerList =
    "# peers (opendkim tests/t-peer.list)\n"  // 1
    ".example.com\n"                          // 2
    "!nonpeer.example.com\n"                  // 3
    "!.nonpeer.example.com\n"                 // 4
    "allowed.nonpeer.example.com   # re-allowed\n"  // 5
    "smtp.example.net\n"                      // 6
    "\n"                                      // 7
    "192.168.1.0/24\n"                        // 8
    "!192.168.1.64\n"                         // 9
    "!192.168.1.128/30\n"                     // 10
    "2001:db8::/64\n"                         // 11
    "!2001:db8::99\n"                         // 12
    "!2001:db8::fff0/126\n";                  // 13

const ClientCase kPeerCases[] = {
    {"suffix_member", "", "mail.example.com", true, 2},
    {"suffix_deep", "", "a.b.c.example.com", true, 2},
    {"suffix_not_the_domain_itself", "", "example.com", false, 0},
    {"exact_excluded", "", "nonpeer.example.com", false, 3},
    {"subdomain_excluded", "", "x.nonpeer.example.com", false, 4},
    {"more_specific_allowed", "", "allowed.nonpeer.example.com", true, 5},
    {"exact_other_domain", "", "smtp.example.net", true, 6},
    {"not_listed_name", "", "mx.example.net", false, 0},
    {"case_insensitive", "", "MAIL.Example.COM", true, 2},
    {"trailing_dot", "", "smtp.example.net.", true, 6},
    {"lookalike_domain", "", "mail.badexample.com", false, 0},
    {"v4_in_prefix", "192.168.1.10", "", true, 8},
    {"v4_excluded_host", "192.168.1.64", "", false, 9},
    {"v4_excluded_subnet_start", "192.168.1.128", "", false, 10},
    {"v4_excluded_subnet_end", "192.168.1.131", "", false, 10},
    {"v4_after_excluded_subnet", "192.168.1.132", "", true, 8},
    {"v4_outside", "192.168.2.1", "", false, 0},
    {"v6_in_prefix", "2001:db8::1", "", true, 11},
    {"v6_excluded_host", "2001:db8::99", "", false, 12},
    {"v6_excluded_subnet", "2001:db8::fff3", "", false, 13},
    {"v6_outside", "2001:db8:0:1::1", "", false, 0},
    {"v4_not_in_v6_list", "10.0.0.1", "", false, 0},
    // OpenDKIM: member = checkhost(name) || checkip(ip): a name exclusion does not stop
    // the address walk, and the address cannot undo a name hit.
    {"name_excluded_ip_member", "192.168.1.10", "nonpeer.example.com", true, 8},
    {"name_member_ip_excluded", "192.168.1.64", "mail.example.com", true, 2},
    {"name_excluded_ip_excluded", "192.168.1.64", "nonpeer.example.com", false, 9},
    {"name_excluded_ip_unlisted", "10.9.9.9", "nonpeer.example.com", false, 3},
    {"unknown_name_ip_member", "192.168.1.10", "unknown", true, 8},
    {"bracketed_name_ip_member", "192.168.1.10", "[192.168.1.10]", true, 8},
    {"bracketed_name_only", "", "[192.168.1.10]", true, 8},
    {"bracketed_v6_name_only", "", "[2001:db8::99]", false, 12},
    {"nothing_given", "", "", false, 0},
    {"mapped_client_v4_entry", "::ffff:192.168.1.10", "", true, 8},
    {"mapped_client_v4_exclusion", "::ffff:192.168.1.64", "", false, 9},
};

class PeerListTest : public testing::TestWithParam<ClientCase> {};

TEST_P(PeerListTest, MatchesLikeOpenDkim) {
  static const HostList list = must_parse(kPeerList);
  check_client(list, GetParam());
}

INSTANTIATE_TEST_SUITE_P(NetHostList, PeerListTest, testing::ValuesIn(kPeerCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetHostListParse, PeerListSizeAndNoWarnings) {
  const HostList list = must_parse(kPeerList);
  EXPECT_EQ(list.size(), 11u);
  EXPECT_TRUE(list.warnings().empty());
  EXPECT_FALSE(list.empty());
  EXPECT_TRUE(HostList{}.empty());
  const IpAddress a = *parse_ip("127.0.0.1");
  EXPECT_FALSE(HostList{}.match(&a, "localhost"));
}

// ---------------------------------------------------------------------------------------
// Probe order: most specific first, negative before positive; file order irrelevant.

TEST(NetHostListOrder, MoreSpecificWinsRegardlessOfFileOrder) {
  const HostList a = must_parse("10.0.0.0/8\n!10.1.0.0/16\n10.1.2.0/24\n");
  const HostList b = must_parse("10.1.2.0/24\n!10.1.0.0/16\n10.0.0.0/8\n");
  for (const HostList* l : {&a, &b}) {
    EXPECT_TRUE(l->match(ptr(A("10.9.0.1")), ""));
    EXPECT_FALSE(l->match(ptr(A("10.1.9.1")), ""));
    EXPECT_TRUE(l->match(ptr(A("10.1.2.3")), ""));
  }
}

TEST(NetHostListOrder, NegativeBeforePositiveAtTheSameLevel) {
  const HostList l = must_parse("192.0.2.1\n!192.0.2.1\n");
  const HostListMatch m = l.explain(ptr(A("192.0.2.1")), "");
  EXPECT_FALSE(m.member);
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.line, 2u);
  EXPECT_EQ(m.entry, "!192.0.2.1");
  const HostList n = must_parse("!host.example\nhost.example\n");
  EXPECT_FALSE(n.match(nullptr, "host.example"));
}

TEST(NetHostListOrder, ExactBeforeBracketedBeforeSlash32) {
  // OpenDKIM probes "ip", "[ip]", then "ip/32": an exact positive beats a /32 negative.
  const HostList l = must_parse("192.0.2.1\n!192.0.2.1/32\n");
  EXPECT_TRUE(l.match(ptr(A("192.0.2.1")), ""));
  const HostList m = must_parse("![192.0.2.1]\n192.0.2.1/32\n");
  const HostListMatch r = m.explain(ptr(A("192.0.2.1")), "");
  EXPECT_FALSE(r.member);
  EXPECT_EQ(r.entry, "![192.0.2.1]");
  const HostList v6 = must_parse("[2001:db8::]/32\n");
  const HostListMatch s = v6.explain(ptr(A("2001:db8:1::1")), "");
  EXPECT_TRUE(s.member);
  EXPECT_EQ(s.entry, "[2001:db8::]/32");
}

TEST(NetHostListOrder, SlashZeroCoversEverythingOfItsFamily) {
  const HostList l = must_parse("0.0.0.0/0\n!10.0.0.0/8\n");
  EXPECT_TRUE(l.match(ptr(A("203.0.113.1")), ""));
  EXPECT_FALSE(l.match(ptr(A("10.0.0.1")), ""));
  EXPECT_FALSE(l.match(ptr(A("2001:db8::1")), ""));
  const HostList v6 = must_parse("::/0\n");
  EXPECT_TRUE(v6.match(ptr(A("2001:db8::1")), ""));
  EXPECT_FALSE(v6.match(ptr(A("192.0.2.1")), ""));
}

TEST(NetHostListOrder, MappedClientProbedAsV6First) {
  const HostList l = must_parse("!::ffff:192.0.2.0/120\n192.0.2.0/24\n");
  EXPECT_FALSE(l.match(ptr(A("::ffff:192.0.2.7")), ""));
  EXPECT_TRUE(l.match(ptr(A("192.0.2.7")), ""));
}

// ---------------------------------------------------------------------------------------
// File syntax: comments, blanks, CRLF, trailing text.

TEST(NetHostListSyntax, LinesFormat) {
  const std::string text =
      "# comment line\r\n"
      "   \t\r\n"
      "  10.0.0.0/8 trailing words are ignored\r\n"
      "\thost.example.org#comment glued on\r\n"
      "[192.0.2.5]\n"
      "!.Bad.Example.\n"
      "no-newline.example";
  const HostList l = must_parse(text);
  EXPECT_EQ(l.size(), 5u);
  EXPECT_TRUE(l.match(ptr(A("10.2.3.4")), ""));
  EXPECT_TRUE(l.match(nullptr, "host.example.org"));
  EXPECT_TRUE(l.match(ptr(A("192.0.2.5")), ""));
  EXPECT_FALSE(l.match(nullptr, "x.bad.example"));
  EXPECT_EQ(l.explain(nullptr, "x.bad.example").entry, "!.bad.example");
  EXPECT_TRUE(l.match(nullptr, "No-Newline.Example"));
  EXPECT_FALSE(l.match(nullptr, "trailing"));
}

TEST(NetHostListSyntax, InlineFormatAcceptsIpv6) {
  // opendkim.conf: "InternalHosts 192.168.0.0/16, 10.0.0.0/8"; IPv6 inline is OpenDKIM #155.
  const HostList l = must_parse("192.168.0.0/16, 10.0.0.0/8,::1 ,[2001:db8::]/32 host.example,,",
                                HostListSyntax::Inline);
  EXPECT_EQ(l.size(), 5u);
  EXPECT_TRUE(l.match(ptr(A("192.168.7.7")), ""));
  EXPECT_TRUE(l.match(ptr(A("::1")), ""));
  EXPECT_TRUE(l.match(ptr(A("2001:db8:5::5")), ""));
  EXPECT_TRUE(l.match(nullptr, "host.example"));
  auto bad = HostList::parse("10.0.0.0/8, 10.0.0.0/33", HostListOptions{HostListSyntax::Inline});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason.rfind("entry 2: ", 0), 0u) << bad.error().reason;
}

TEST(NetHostListDefaults, InternalHosts) {
  const HostList l = HostList::default_internal_hosts();
  EXPECT_EQ(l.size(), 2u);
  EXPECT_TRUE(l.match(ptr(A("127.0.0.1")), ""));
  EXPECT_TRUE(l.match(ptr(A("::1")), ""));
  EXPECT_TRUE(l.match(ptr(A("::ffff:127.0.0.1")), ""));
  EXPECT_FALSE(l.match(ptr(A("127.0.0.2")), ""));  // OpenDKIM lists exactly 127.0.0.1
  EXPECT_FALSE(l.match(nullptr, "localhost"));
  auto dmarc = HostList::parse(kDefaultOpenDmarcIgnoreHosts, {HostListSyntax::Inline});
  ASSERT_TRUE(dmarc.has_value());
  EXPECT_FALSE(dmarc->match(ptr(A("::1")), ""));
}

// ---------------------------------------------------------------------------------------
// Errors name the line; lenient mode turns entry errors into warnings.

struct BadListCase {
  std::string_view name;
  std::string text;
  ErrorCode code;
  std::string_view reason_prefix;
};

const BadListCase kBadLists[] = {
    {"prefix_too_long", "10.0.0.0/8\n\n192.0.2.0/33\n", ErrorCode::Syntax, "line 3: "},
    {"v6_prefix_too_long", "2001:db8::/129\n", ErrorCode::Syntax, "line 1: "},
    {"netmask_form", "# x\n192.0.2.0/255.255.255.0\n", ErrorCode::Syntax, "line 2: netmask"},
    {"shorthand", "192.0.2/24\n", ErrorCode::Syntax, "line 1: "},
    {"five_parts", "1.2.3.4.5\n", ErrorCode::Syntax, "line 1: "},
    {"leading_zero", "010.0.0.1\n", ErrorCode::Syntax, "line 1: "},
    {"double_compress", "a.example\n1::2::3\n", ErrorCode::Syntax, "line 2: "},
    {"bare_bang", "!\n", ErrorCode::Syntax, "line 1: '!'"},
    {"bang_space", "! host.example\n", ErrorCode::Syntax, "line 1: '!'"},
    {"inner_star", "mail.*.example\n", ErrorCode::Syntax, "line 1: wildcard"},
    {"bad_name_char", "host_ok.example\nbad$host.example\n", ErrorCode::Syntax, "line 2: invalid character"},
    {"empty_label", "a..example\n", ErrorCode::Syntax, "line 1: empty label"},
    {"double_trailing_dot", "a.example..\n", ErrorCode::Syntax, "line 1: empty label"},
    {"dot_only_suffix", ".\n", ErrorCode::Syntax, "line 1: "},
    {"long_label", std::string(64, 'a') + ".example\n", ErrorCode::Syntax, "line 1: label longer"},
    {"nul_byte", "ok.example\nbad\0.example\n"s, ErrorCode::Syntax, "line 2: NUL"},
    {"overlong_line", "ok.example\n" + std::string(5000, 'a') + "\n", ErrorCode::LimitExceeded, "line 2: line longer"},
    {"non_ascii", "b\xc3\xbc" "cher.example\n", ErrorCode::Syntax, "line 1: invalid character"},
    {"zone_id", "fe80::1%eth0\n", ErrorCode::Syntax, "line 1: "},
};

class BadListTest : public testing::TestWithParam<BadListCase> {};

TEST_P(BadListTest, FailsWithLineNumber) {
  const BadListCase& c = GetParam();
  auto r = HostList::parse(c.text);
  ASSERT_FALSE(r.has_value()) << "parsed " << r->size() << " entries, want an error";
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
  EXPECT_EQ(r.error().reason.rfind(c.reason_prefix, 0), 0u)
      << "got '" << r.error().reason << "' want prefix '" << c.reason_prefix << "'";
}

INSTANTIATE_TEST_SUITE_P(NetHostList, BadListTest, testing::ValuesIn(kBadLists),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetHostListLenient, SkipsMalformedEntriesWithWarnings) {
  const std::string text = "10.0.0.0/8\n192.0.2/24\n192.0.2.0/255.255.255.0\ngood.example\n";
  const HostList l = must_parse(text, HostListSyntax::Lines, /*lenient=*/true);
  EXPECT_EQ(l.size(), 2u);
  ASSERT_EQ(l.warnings().size(), 2u);
  EXPECT_EQ(l.warnings()[0].line, 2u);
  EXPECT_EQ(l.warnings()[1].line, 3u);
  EXPECT_EQ(l.warnings()[0].message.rfind("skipped: ", 0), 0u);
  EXPECT_FALSE(l.match(ptr(A("192.0.2.1")), ""));
  EXPECT_TRUE(l.match(nullptr, "good.example"));
  // Structural errors still fail in lenient mode.
  auto nul = HostList::parse("a\0b\n"s, HostListOptions{HostListSyntax::Lines, true});
  EXPECT_FALSE(nul.has_value());
}

TEST(NetHostListWarnings, DeliberateDifferencesAreReported) {
  const std::string text =
      "10.0.0.1/24\n"        // host bits: OpenDKIM never matched it
      "2001:0DB8::/32\n"     // non-canonical IPv6
      "*.corp.example\n"     // '*.' in a plain list
      "0:0:0:0:0:0:0:1\n";   // non-canonical loopback
  const HostList l = must_parse(text);
  ASSERT_EQ(l.warnings().size(), 4u);
  EXPECT_EQ(l.warnings()[0].line, 1u);
  EXPECT_NE(l.warnings()[0].message.find("10.0.0.0/24"), std::string::npos);
  EXPECT_EQ(l.warnings()[1].line, 2u);
  EXPECT_EQ(l.warnings()[2].line, 3u);
  EXPECT_EQ(l.warnings()[3].line, 4u);
  EXPECT_TRUE(l.match(ptr(A("10.0.0.200")), ""));
  EXPECT_TRUE(l.match(ptr(A("2001:db8:1::1")), ""));
  EXPECT_TRUE(l.match(nullptr, "host.corp.example"));
  EXPECT_FALSE(l.match(nullptr, "corp.example"));
  EXPECT_TRUE(l.match(ptr(A("::1")), ""));
  EXPECT_EQ(l.explain(ptr(A("::1")), "").entry, "::1");
}

// ---------------------------------------------------------------------------------------
// refile: glob patterns against OpenDKIM's probe strings.

constexpr std::string_view kRefile =
    "# TrustedHosts as refile:\n"  // 1
    "*.corp.example\n"             // 2
    "!*.guest.corp.example\n"      // 3
    "10.1.*\n"                     // 4
    "192.0.2.0/24\n"               // 5
    "[198.51.100.7]\n"             // 6
    "2001:db8:*\n"                 // 7
    "!2001:db8::bad\n"             // 8
    "Mail.Example.NET\n";          // 9

TEST(NetHostListRefile, GlobsFollowTheIntendedMeaning) {
  const HostList l = must_parse(kRefile, HostListSyntax::Refile);
  EXPECT_EQ(l.size(), 8u);
  // OpenDKIM quirk (lab): "*.corp.example" matched "!a.corp.example" and so excluded the
  // host. Here it makes the host a member, as written.
  auto m = l.explain(nullptr, "a.corp.example");
  EXPECT_TRUE(m.member);
  EXPECT_EQ(m.line, 2u);
  m = l.explain(nullptr, "pc1.guest.corp.example");
  EXPECT_FALSE(m.member);
  EXPECT_EQ(m.line, 3u);
  m = l.explain(ptr(A("10.1.2.3")), "");  // lab: "10.1.*" made 10.1.2.3 internal
  EXPECT_TRUE(m.member);
  EXPECT_EQ(m.line, 4u);
  EXPECT_EQ(l.explain(ptr(A("192.0.2.77")), "").line, 5u);
  EXPECT_EQ(l.explain(ptr(A("198.51.100.7")), "").line, 6u);
  EXPECT_EQ(l.explain(ptr(A("2001:db8::1")), "").line, 7u);
  EXPECT_FALSE(l.match(ptr(A("2001:db8::bad")), ""));
  EXPECT_EQ(l.explain(nullptr, "MAIL.example.net").line, 9u);
  m = l.explain(ptr(A("203.0.113.1")), "other.example");
  EXPECT_FALSE(m.member);
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.line, 0u);
  // A lone "*" matches the very first probe (the address itself), as in OpenDKIM.
  const HostList all = must_parse("192.0.2.0/24\n*\n", HostListSyntax::Refile);
  EXPECT_EQ(all.explain(ptr(A("192.0.2.9")), "").line, 2u);
}

TEST(NetHostListRefile, StarDoesNotMatchNegation) {
  const HostList l = must_parse("*.example\n*\n", HostListSyntax::Refile);
  EXPECT_TRUE(l.match(nullptr, "a.example"));
  EXPECT_TRUE(l.match(ptr(A("203.0.113.1")), ""));
  const HostList neg = must_parse("!*\n", HostListSyntax::Refile);
  EXPECT_FALSE(neg.match(nullptr, "a.example"));
  EXPECT_EQ(neg.explain(nullptr, "a.example").line, 1u);
  // Other regex metacharacters are literal.
  const HostList lit = must_parse("a?.example\n", HostListSyntax::Refile);
  EXPECT_TRUE(lit.match(nullptr, "a?.example"));
  EXPECT_FALSE(lit.match(nullptr, "ab.example"));
}

TEST(NetHostListRefile, PathologicalGlobStaysBounded) {
  std::string pattern;
  for (int i = 0; i < 1000; ++i) pattern += "*a";
  pattern += "b\n";
  const HostList l = must_parse(pattern, HostListSyntax::Refile);
  // Literal head and tail match, so the glob walk runs; 1000 'a's cannot fit in 200.
  const std::string host = std::string(200, 'a') + "b";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(l.match(nullptr, host));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 2000);
}

// ---------------------------------------------------------------------------------------
// Scale: 10 000-line lists stay fast and bounded.

TEST(NetHostListScale, TenThousandLines) {
  std::string text;
  for (int i = 0; i < 10000; ++i) {
    const int a = i / 256, b = i % 256;
    text += "10." + std::to_string(a) + "." + std::to_string(b) + ".0/24\n";
    if (i % 2 == 0) text += "!10." + std::to_string(a) + "." + std::to_string(b) + ".128/25\n";
    text += "host" + std::to_string(i) + ".example.com # comment\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  const HostList l = must_parse(text);
  EXPECT_EQ(l.size(), 25000u);
  for (int i = 0; i < 10000; ++i) {
    const int a = i / 256, b = i % 256;
    const IpAddress low = IpAddress::v4(10, static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), 5);
    const IpAddress high = IpAddress::v4(10, static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), 200);
    ASSERT_TRUE(l.match(&low, ""));
    ASSERT_EQ(l.match(&high, ""), i % 2 != 0);
    ASSERT_TRUE(l.match(nullptr, "host" + std::to_string(i) + ".example.com"));
  }
  const IpAddress miss = *parse_ip("203.0.113.1");
  ASSERT_FALSE(l.match(&miss, "nothost.example.com"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 5000) << "parse + 30 000 lookups took " << ms.count() << " ms";
}

TEST(NetHostListScale, TenThousandRefilePatterns) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "*.dept" + std::to_string(i) + ".example\n";
  const HostList l = must_parse(text, HostListSyntax::Refile);
  const IpAddress a = *parse_ip("2001:db8::1");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(l.match(nullptr, "pc.dept9999.example"));
  EXPECT_FALSE(l.match(&a, "pc.nodept.example"));  // every probe scans every pattern
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 5000);
}

TEST(NetHostListScale, HostileRepetitions) {
  // 10 000 negations of one entry, a 10 000-label name, and 10 000 commas inline.
  std::string negs;
  for (int i = 0; i < 10000; ++i) negs += "!192.0.2.1\n";
  const HostList l = must_parse(negs);
  EXPECT_EQ(l.size(), 10000u);
  EXPECT_EQ(l.explain(ptr(A("192.0.2.1")), "").line, 1u);
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "a.";
  deep += "example";
  EXPECT_FALSE(must_parse(".example\n").match(nullptr, deep));  // too long to be a name
  EXPECT_TRUE(must_parse(std::string(10000, ','), HostListSyntax::Inline).empty());
}

// ---------------------------------------------------------------------------------------
// Dataset specs (opendkim.conf DATA SETS).

struct DatasetCase {
  std::string_view name;
  std::string_view input;
  bool ok;
  DatasetSpec::Kind kind;
  std::string_view value;
};

const DatasetCase kDatasets[] = {
    {"file_prefix", "file:/etc/opendkim/TrustedHosts", true, DatasetSpec::Kind::File, "/etc/opendkim/TrustedHosts"},
    {"bare_path", "/etc/opendkim/TrustedHosts", true, DatasetSpec::Kind::File, "/etc/opendkim/TrustedHosts"},
    {"refile", "refile:/etc/opendkim/TrustedHosts", true, DatasetSpec::Kind::Refile, "/etc/opendkim/TrustedHosts"},
    {"refile_upper", "REFILE:/x", true, DatasetSpec::Kind::Refile, "/x"},
    {"csl", "csl:127.0.0.1,::1", true, DatasetSpec::Kind::Inline, "127.0.0.1,::1"},
    {"bare_list", "192.168.0.0/16, 10.0.0.0/8", true, DatasetSpec::Kind::Inline, "192.168.0.0/16, 10.0.0.0/8"},
    {"bare_v6", "2001:db8::/32", true, DatasetSpec::Kind::Inline, "2001:db8::/32"},
    {"trimmed", "  file:/x \t", true, DatasetSpec::Kind::File, "/x"},
    {"empty", "", false, DatasetSpec::Kind::Inline, ""},
    {"empty_file", "file:", false, DatasetSpec::Kind::Inline, ""},
    {"db", "db:/etc/x.db", false, DatasetSpec::Kind::Inline, ""},
    {"ldap", "ldap://ldap.example/dc=x", false, DatasetSpec::Kind::Inline, ""},
    {"dsn", "dsn:mysql://u@h/db/table=t", false, DatasetSpec::Kind::Inline, ""},
};

class DatasetTest : public testing::TestWithParam<DatasetCase> {};

TEST_P(DatasetTest, Classifies) {
  const DatasetCase& c = GetParam();
  auto r = parse_dataset_spec(c.input);
  ASSERT_EQ(r.has_value(), c.ok) << (r ? r->value : r.error().reason);
  if (!c.ok) return;
  EXPECT_EQ(r->kind, c.kind);
  EXPECT_EQ(r->value, c.value);
}

INSTANTIATE_TEST_SUITE_P(NetHostList, DatasetTest, testing::ValuesIn(kDatasets),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetDataset, SyntaxMapping) {
  EXPECT_EQ((DatasetSpec{DatasetSpec::Kind::File, "/x"}).syntax(), HostListSyntax::Lines);
  EXPECT_EQ((DatasetSpec{DatasetSpec::Kind::Refile, "/x"}).syntax(), HostListSyntax::Refile);
  EXPECT_EQ((DatasetSpec{DatasetSpec::Kind::Inline, "a"}).syntax(), HostListSyntax::Inline);
  EXPECT_EQ(parse_dataset_spec("db:/x").error().code, ErrorCode::Unsupported);
}

}  // namespace
}  // namespace auth::net
