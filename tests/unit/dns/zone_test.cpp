// ZoneResolver: RFC 1035 §5 master files, txt-lines files, lookups, scripts, counters.
#include "auth/dns/zone.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace auth::dns {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- master files -------------------------------------------------------------------------

TEST(DnsZoneMasterFile, OpendkimGenkeySelectorFile) {
  // Exactly what `opendkim-genkey -b 2048 -d example.com -s sel` wrote: tabs, parentheses
  // across lines, three character-strings, a trailing comment.
  const std::string text =
      read_file(std::string(INKAN_SOURCE_DIR) + "/tests/unit/dns/testdata/opendkim-genkey-sel.txt");
  ZoneResolver z;
  auto r = z.load_master_file(text, "example.com");
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  Answer a = z.query("sel._domainkey.example.com", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  ASSERT_EQ(a.txt.size(), 1u);
  ASSERT_EQ(a.txt[0].strings.size(), 3u);
  EXPECT_EQ(a.txt[0].strings[0], "v=DKIM1; h=sha256; k=rsa; ");
  EXPECT_EQ(a.txt[0].strings[1].size(), 252u);
  EXPECT_EQ(a.txt[0].strings[1].substr(0, 10), "p=MIIBIjAN");
  const std::string joined = a.txt[0].joined();
  EXPECT_EQ(joined.rfind("v=DKIM1; h=sha256; k=rsa; p=MIIBIjAN", 0), 0u);
  EXPECT_EQ(joined.substr(joined.size() - 6), "IDAQAB");
  EXPECT_EQ(joined.find(' ', 30), std::string::npos) << "strings joined with a separator";
  EXPECT_EQ(a.ttl, kZoneDefaultTtl);
}

TEST(DnsZoneMasterFile, DirectivesRelativeNamesAndOmittedOwners) {
  ZoneResolver z;
  auto r = z.load_master_file(R"(
$ORIGIN Example.ORG.
$TTL 600
@            IN  A     192.0.2.1          ; the apex
             IN  AAAA  2001:DB8::1        ; owner omitted = @
             IN  MX    10 mx1
             IN  MX    0 mx2.other.net.
www   300    IN  CNAME @
mx1          A         192.0.2.25
mx1          1h  A     192.0.2.26
_spf         TXT       v=spf1 ip4:192.0.2.0/24 -all
1.2.0.192.in-addr.arpa. IN 7200 PTR @
$ORIGIN sub
host         A         198.51.100.7
)");
  ASSERT_TRUE(r.has_value()) << r.error().reason;

  Answer a = z.query("example.org", RType::A);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(a.ttl, 600u);

  a = z.query("EXAMPLE.org.", RType::AAAA);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"2001:db8::1"});

  a = z.query("example.org", RType::MX);
  ASSERT_EQ(a.status, Status::Ok);
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_EQ(a.mx[0], (MxRecord{10, "mx1.example.org"}));
  EXPECT_EQ(a.mx[1], (MxRecord{0, "mx2.other.net"}));

  a = z.query("mx1.example.org", RType::A);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.25", "192.0.2.26"}));
  EXPECT_EQ(a.ttl, 600u) << "min over the RRset";

  a = z.query("www.example.org", RType::A);  // CNAME followed
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(z.query("www.example.org", RType::CNAME).names,
            std::vector<std::string>{"example.org"});

  a = z.query("_spf.example.org", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings,
            (std::vector<std::string>{"v=spf1", "ip4:192.0.2.0/24", "-all"}));

  a = z.query("1.2.0.192.in-addr.arpa", RType::PTR);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.names, std::vector<std::string>{"example.org"});
  EXPECT_EQ(a.ttl, 7200u);

  EXPECT_EQ(z.query("host.sub.example.org", RType::A).addresses,
            std::vector<std::string>{"198.51.100.7"});
}

TEST(DnsZoneMasterFile, QuotedStringsAndEscapes) {
  ZoneResolver z;
  auto r = z.load_master_file(
      "t1 TXT \"say \\\"hi\\\"\" \"semi;colon\" \"\\065\\066\\067\" \"back\\\\slash\"\n"
      "t2 TXT \"\" \"\\000nul\"\n"
      "t3 TXT \"caf\xC3\xA9\"\n"
      "t4 TXT unquoted\\ word \\059x\n",
      "z.test");
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(z.query("t1.z.test", RType::TXT).txt.at(0).strings,
            (std::vector<std::string>{"say \"hi\"", "semi;colon", "ABC", "back\\slash"}));
  EXPECT_EQ(z.query("t2.z.test", RType::TXT).txt.at(0).strings,
            (std::vector<std::string>{"", std::string("\0nul", 4)}));
  EXPECT_EQ(z.query("t3.z.test", RType::TXT).txt.at(0).strings,
            (std::vector<std::string>{"caf\xC3\xA9"}));
  EXPECT_EQ(z.query("t4.z.test", RType::TXT).txt.at(0).strings,
            (std::vector<std::string>{"unquoted word", ";x"}));
}

TEST(DnsZoneMasterFile, TtlAndClassInEitherOrder) {
  ZoneResolver z;
  ASSERT_TRUE(z.load_master_file("a 30 IN A 192.0.2.1\n"
                                 "b IN 40 A 192.0.2.2\n"
                                 "c in 1h30m a 192.0.2.3\n"
                                 "d 1w A 192.0.2.4\n"
                                 "e A 192.0.2.5\n",
                                 "t.test")
                  .has_value());
  EXPECT_EQ(z.query("a.t.test", RType::A).ttl, 30u);
  EXPECT_EQ(z.query("b.t.test", RType::A).ttl, 40u);
  EXPECT_EQ(z.query("c.t.test", RType::A).ttl, 5400u);
  EXPECT_EQ(z.query("d.t.test", RType::A).ttl, 604800u);
  EXPECT_EQ(z.query("e.t.test", RType::A).ttl, 604800u) << "RFC 1035 §5.1: last TTL given";
}

TEST(DnsZoneMasterFile, SoaSetsNegativeTtlAndNsIsAccepted) {
  ZoneResolver z;
  ASSERT_TRUE(z.load_master_file(R"($TTL 3600
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
                          7200 900 1209600
                          120 )      ; minimum
  IN NS ns1
ns1 IN A 192.0.2.53
)",
                                 "neg.test")
                  .has_value());
  Answer a = z.query("nothere.neg.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_EQ(a.ttl, 120u) << "RFC 2308 §5: min(SOA TTL, MINIMUM)";
  a = z.query("neg.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NoData) << "apex exists through SOA/NS";
  EXPECT_EQ(a.ttl, 120u);
}

TEST(DnsZoneMasterFile, NullMx) {
  ZoneResolver z;
  ASSERT_TRUE(z.load_master_file("nomail.test. MX 0 .\n").has_value());
  Answer a = z.query("nomail.test", RType::MX);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.mx, std::vector<MxRecord>{(MxRecord{0, ""})});
}

struct ErrorCase {
  std::string name;
  std::string text;
  ErrorCode code;
  std::string reason_contains;
};

class DnsZoneMasterFileError : public testing::TestWithParam<ErrorCase> {};

TEST_P(DnsZoneMasterFileError, Rejected) {
  const auto& c = GetParam();
  ZoneResolver z;
  auto r = z.load_master_file(c.text, "err.test");
  ASSERT_FALSE(r.has_value()) << "accepted: " << c.text;
  EXPECT_EQ(r.error().code, c.code) << "got " << to_string(r.error().code) << " want "
                                    << to_string(c.code) << ": " << r.error().reason;
  EXPECT_NE(r.error().reason.find(c.reason_contains), std::string::npos)
      << "got '" << r.error().reason << "' want it to contain '" << c.reason_contains << "'";
  EXPECT_EQ(z.record_count(), 0u) << "a failed load must add nothing";
}

const ErrorCase kErrorCases[] = {
    {"unterminated_quote", "a TXT \"ok\"\nb TXT \"open\n", ErrorCode::Syntax, "line 2:"},
    {"unclosed_paren", "a TXT \"x\"\nb TXT ( \"y\"\n\"z\"\n", ErrorCode::Syntax, "line 2:"},
    {"nested_paren", "a TXT ( ( \"x\" ) )\n", ErrorCode::Syntax, "nested"},
    {"close_without_open", "\n\na TXT \"x\" )\n", ErrorCode::Syntax, "line 3:"},
    {"bad_a", "a A 192.0.2.1\nb A 300.1.1.1\n", ErrorCode::Syntax, "line 2: bad A"},
    {"bad_aaaa", "a AAAA 192.0.2.1\n", ErrorCode::Syntax, "line 1: bad AAAA"},
    {"a_two_fields", "a A 192.0.2.1 192.0.2.2\n", ErrorCode::Syntax, "line 1:"},
    {"unsupported_type", "a A 192.0.2.1\n\n\nb SRV 0 0 25 x\n", ErrorCode::Unsupported, "line 4:"},
    {"include", "$INCLUDE other.zone\n", ErrorCode::Unsupported, "line 1:"},
    {"long_string", "a TXT \"" + std::string(256, 'x') + "\"\n", ErrorCode::LimitExceeded,
     "line 1:"},
    {"ddd_over_255", "a TXT \"\\256\"\n", ErrorCode::Syntax, "line 1:"},
    {"ddd_short", "a TXT \"\\12\"\n", ErrorCode::Syntax, "three digits"},
    {"long_label", std::string(64, 'l') + " A 192.0.2.1\n", ErrorCode::Syntax, "label"},
    {"empty_label", "a..b A 192.0.2.1\n", ErrorCode::Syntax, "empty label"},
    {"no_previous_owner", "  A 192.0.2.1\n", ErrorCode::Syntax, "line 1:"},
    {"mx_bad_pref", "a MX 70000 mx\n", ErrorCode::Syntax, "MX preference"},
    {"mx_missing_exchange", "a MX 10\n", ErrorCode::Syntax, "line 1:"},
    {"class_ch", "a CH TXT \"x\"\n", ErrorCode::Unsupported, "class"},
    {"missing_type", "a 300 IN\n", ErrorCode::Syntax, "missing record type"},
    {"txt_no_strings", "a TXT\n", ErrorCode::Syntax, "TXT without"},
    {"bad_ttl_directive", "$TTL forever\n", ErrorCode::Syntax, "$TTL"},
    {"ttl_overflow", "a 4294967296 A 192.0.2.1\n", ErrorCode::Syntax, "TTL"},
    {"escaped_dot_name", "a\\.b A 192.0.2.1\n", ErrorCode::Unsupported, "escaped"},
    {"backslash_eol", "a TXT x\\\n", ErrorCode::Syntax, "backslash"},
    {"soa_short", "@ SOA ns host 1 2 3 4\n", ErrorCode::Syntax, "line 1:"},
    {"long_line", "a TXT " + std::string(kZoneMaxLineLength + 10, 'x') + "\n",
     ErrorCode::LimitExceeded, "line 1: line too long"},
};
INSTANTIATE_TEST_SUITE_P(DnsCases, DnsZoneMasterFileError, testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return info.param.name; });

TEST(DnsZoneMasterFile, AtWithoutOriginIsAnError) {
  ZoneResolver z;
  auto r = z.load_master_file("@ A 192.0.2.1\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().reason.find("line 1:"), std::string::npos);
}

TEST(DnsZoneMasterFile, TenThousandRecordsStayBounded) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "n" + std::to_string(i) + " TXT \"v=spf1 -all\"\n";
  ZoneResolver z;
  ASSERT_TRUE(z.load_master_file(text, "big.test").has_value());
  EXPECT_EQ(z.record_count(), 10000u);
  EXPECT_EQ(z.query("n9999.big.test", RType::TXT).txt.at(0).joined(), "v=spf1 -all");
}

TEST(DnsZoneMasterFile, TenThousandStringsInOneRecord) {
  std::string text = "many TXT (";
  for (int i = 0; i < 10000; ++i) text += " \"s\"\n";
  text += ")\n";
  ZoneResolver z;
  ASSERT_TRUE(z.load_master_file(text, "big.test").has_value());
  Answer a = z.query("many.big.test", RType::TXT);
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings.size(), 10000u);
}

TEST(DnsZoneMasterFile, HostileInputsFailCleanly) {
  ZoneResolver z;
  EXPECT_FALSE(z.load_master_file(std::string(10000, '(')).has_value());
  EXPECT_FALSE(z.load_master_file(std::string(10000, ')')).has_value());
  EXPECT_FALSE(z.load_master_file(std::string(10000, '"')).has_value());
  EXPECT_FALSE(z.load_master_file(std::string(10000, '\\')).has_value());
  EXPECT_FALSE(z.load_master_file(std::string("a\0b A 1.2.3.4", 13) + "\nx").has_value());
  EXPECT_TRUE(z.load_master_file(std::string(10000, '\n')).has_value());
  EXPECT_TRUE(z.load_master_file(std::string(10000, ';')).has_value());
  EXPECT_TRUE(z.load_master_file("").has_value());
  EXPECT_EQ(z.record_count(), 0u);
}

// ---- lookups ------------------------------------------------------------------------------

TEST(DnsZoneLookup, NxDomainVersusNoData) {
  ZoneResolver z;
  z.add_a("host.test", "192.0.2.1");
  z.set_negative_ttl(42);
  Answer a = z.query("host.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NoData);
  EXPECT_EQ(a.ttl, 42u);
  a = z.query("nohost.test", RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_EQ(a.ttl, 42u);
  z.add_name("empty.test");
  EXPECT_EQ(z.query("empty.test", RType::A).status, Status::NoData);
}

TEST(DnsZoneLookup, NamesAreCaseInsensitiveAndIgnoreTrailingDot) {
  ZoneResolver z;
  z.add_txt("MiXeD.Example.", "v=spf1 -all");
  for (const char* q : {"mixed.example", "MIXED.EXAMPLE.", "mIxEd.eXaMpLe"}) {
    Answer a = z.query(q, RType::TXT);
    ASSERT_EQ(a.status, Status::Ok) << q;
    EXPECT_EQ(a.txt.at(0).joined(), "v=spf1 -all");
  }
  EXPECT_EQ(ZoneResolver::canonical_name("A.B.C."), "a.b.c");
  EXPECT_EQ(ZoneResolver::canonical_name("\xC3\x89.x"), "\xC3\x89.x") << "ASCII-only folding";
}

TEST(DnsZoneLookup, AddTxtSplitsLongValues) {
  ZoneResolver z;
  const std::string v(600, 'k');
  z.add_txt("long.test", v);
  Answer a = z.query("long.test", RType::TXT);
  ASSERT_EQ(a.txt.size(), 1u);
  EXPECT_EQ(a.txt[0].strings.size(), 3u);
  EXPECT_EQ(a.txt[0].strings[0].size(), 255u);
  EXPECT_EQ(a.txt[0].joined(), v);
}

TEST(DnsZoneLookup, AddAddressValidates) {
  ZoneResolver z;
  EXPECT_THROW(z.add_a("x.test", "::1"), std::invalid_argument);
  EXPECT_THROW(z.add_aaaa("x.test", "192.0.2.1"), std::invalid_argument);
  z.add_aaaa("x.test", "CAFE:BABE::4");
  EXPECT_EQ(z.query("x.test", RType::AAAA).addresses, std::vector<std::string>{"cafe:babe::4"});
}

TEST(DnsZoneLookup, CnameChainsLoopsAndLimit) {
  ZoneResolver z;
  z.add_cname("a.test", "B.test.");
  z.add_cname("b.test", "c.test");
  z.add_txt("c.test", "end");
  Answer a = z.query("a.test", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.txt.at(0).joined(), "end");
  EXPECT_EQ(z.query("a.test", RType::A).status, Status::NoData);
  z.add_cname("dangling.test", "missing.test");
  EXPECT_EQ(z.query("dangling.test", RType::TXT).status, Status::NxDomain);

  z.add_cname("loop1.test", "loop2.test");
  z.add_cname("loop2.test", "loop1.test");
  a = z.query("loop1.test", RType::TXT);
  EXPECT_EQ(a.status, Status::ServFail);
  EXPECT_NE(a.error.find("loop"), std::string::npos);
  z.add_cname("self.test", "self.test");
  EXPECT_EQ(z.query("self.test", RType::A).status, Status::ServFail);

  // A chain one longer than the limit.
  for (std::size_t i = 0; i <= kZoneMaxCnameChain; ++i) {
    z.add_cname("c" + std::to_string(i) + ".long.test", "c" + std::to_string(i + 1) + ".long.test");
  }
  z.add_txt("c" + std::to_string(kZoneMaxCnameChain + 1) + ".long.test", "far");
  EXPECT_EQ(z.query("c0.long.test", RType::TXT).status, Status::ServFail);
  EXPECT_EQ(z.query("c1.long.test", RType::TXT).status, Status::Ok);
}

TEST(DnsZoneLookup, ScriptedFailures) {
  ZoneResolver z;
  z.add_txt("s.test", "v=spf1 -all");
  z.add_a("s.test", "192.0.2.1");
  z.set_failure("s.test", RType::TXT, Status::ServFail);
  EXPECT_EQ(z.query("s.test", RType::TXT).status, Status::ServFail);
  EXPECT_EQ(z.query("s.test", RType::A).status, Status::Ok);
  z.set_failure("S.TEST.", Status::Timeout);
  EXPECT_EQ(z.query("s.test", RType::A).status, Status::Timeout);
  EXPECT_EQ(z.query("s.test", RType::TXT).status, Status::ServFail) << "(name,type) first";
  z.set_failure("s.test", Status::Ok);
  z.set_failure("s.test", RType::TXT, Status::Ok);
  EXPECT_EQ(z.query("s.test", RType::TXT).status, Status::Ok);
  // A script on a name that holds no records does not make the name exist.
  z.set_failure("ghost.test", Status::Malformed);
  EXPECT_EQ(z.query("ghost.test", RType::A).status, Status::Malformed);
  z.set_failure("ghost.test", Status::Ok);
  EXPECT_EQ(z.query("ghost.test", RType::A).status, Status::NxDomain);
  z.set_unknown_name_status(Status::ServFail);
  EXPECT_EQ(z.query("ghost.test", RType::A).status, Status::ServFail);
}

TEST(DnsZoneLookup, QueryCountersAndAsync) {
  ZoneResolver z;
  z.add_txt("c.test", "x");
  int called = 0;
  z.query_async("C.test.", RType::TXT, [&](Answer a) {
    ++called;
    EXPECT_TRUE(a.ok());
  });
  EXPECT_EQ(called, 1) << "callback runs inline";
  z.query("c.test", RType::TXT);
  z.query("c.test", RType::A);
  z.query("nx.test", RType::MX);
  EXPECT_EQ(z.query_count("c.test", RType::TXT), 2u);
  EXPECT_EQ(z.query_count("c.test", RType::A), 1u);
  EXPECT_EQ(z.query_count("NX.test", RType::MX), 1u);
  EXPECT_EQ(z.query_count("c.test", RType::MX), 0u);
  EXPECT_EQ(z.total_queries(), 4u);
  z.reset_counts();
  EXPECT_EQ(z.total_queries(), 0u);
  z.clear();
  EXPECT_EQ(z.record_count(), 0u);
  EXPECT_EQ(z.query("c.test", RType::TXT).status, Status::NxDomain);
}

TEST(DnsZoneLookup, ConcurrentReadersAndAWriter) {
  ZoneResolver z;
  for (int i = 0; i < 50; ++i) z.add_txt("n" + std::to_string(i) + ".test", "v" + std::to_string(i));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int k = (i * 7 + t) % 50;
        Answer a = z.query("n" + std::to_string(k) + ".test", RType::TXT);
        if (!a.ok() || a.txt.at(0).joined() != "v" + std::to_string(k)) ++bad;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 500; ++i) z.add_a("w" + std::to_string(i) + ".test", "192.0.2.1");
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(z.total_queries(), 8u * 2000u);
  EXPECT_EQ(z.record_count(), 550u);
}

// ---- txt-lines files -----------------------------------------------------------------------

TEST(DnsZoneTxtLines, MailDkimFakeDns) {
  const std::string text = read_file(std::string(INKAN_CONFORMANCE_DIR) + "/dkim/mail-dkim/FAKE_DNS.dat");
  ZoneResolver z;
  auto r = z.load_txt_lines(text);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_GT(z.record_count(), 20u);

  Answer a = z.query("test1._domainkey.messiah.edu", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.txt.at(0).joined().rfind("v=DKIM1; t=y; s=email; p=MFwwDQYJ", 0), 0u);
  a = z.query("test2._domainkey.messiah.edu", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  const std::string v2 = a.txt.at(0).joined();
  EXPECT_EQ(v2.substr(v2.size() - 1), ";") << "trailing white space removed";
  for (const auto& s : a.txt.at(0).strings) EXPECT_LE(s.size(), 255u);

  EXPECT_EQ(z.query("nonexistent._domainkey.messiah.edu", RType::TXT).status, Status::NxDomain);
  EXPECT_EQ(z.query("test3._domainkey.blackhole.messiah.edu", RType::TXT).status, Status::Timeout);
  EXPECT_EQ(z.query("test3._domainkey.blackhole2.messiah.edu", RType::TXT).status,
            Status::ServFail);
  a = z.query("2023-05-ed25519-empty._domainkey.wander.science", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.txt, std::vector<TxtRecord>{TxtRecord{{""}}});
  a = z.query("testrevoked._domainkey.messiah.edu", RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.txt.at(0).joined(), "k=rsa; t=y; p=");
}

TEST(DnsZoneTxtLines, Rfc8463Zone) {
  const std::string text = read_file(std::string(INKAN_CONFORMANCE_DIR) + "/dkim/rfc8463/zone.txt");
  ZoneResolver z;
  auto r = z.load_txt_lines(text);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(z.record_count(), 2u);
  EXPECT_EQ(z.query("brisbane._domainkey.football.example.com", RType::TXT).txt.at(0).joined(),
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
}

TEST(DnsZoneTxtLines, ErrorsNameTheLine) {
  ZoneResolver z;
  auto r = z.load_txt_lines("# c\na.test v=1\nlonely\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason.rfind("line 3:", 0), 0u) << r.error().reason;
  EXPECT_EQ(z.record_count(), 0u);
  r = z.load_txt_lines("x " + std::string(kZoneMaxLineLength + 1, 'v'));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(DnsZoneTxtLines, CrLfAndRepetition) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "k" + std::to_string(i) + ".test  v=DKIM1; p=AAAA\r\n";
  ZoneResolver z;
  ASSERT_TRUE(z.load_txt_lines(text).has_value());
  EXPECT_EQ(z.record_count(), 10000u);
  EXPECT_EQ(z.query("k42.test", RType::TXT).txt.at(0).joined(), "v=DKIM1; p=AAAA");
}

}  // namespace
}  // namespace auth::dns
