// Tests of the Resolver interface helpers and CaresResolver option validation (no network).
#include "auth/dns/resolver.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/dns/cares_resolver.h"

namespace auth::dns {
namespace {

TEST(DnsResolverTest, StatusNames) {
  EXPECT_STREQ(to_string(Status::Ok), "ok");
  EXPECT_STREQ(to_string(Status::NxDomain), "nxdomain");
  EXPECT_STREQ(to_string(Status::NoData), "nodata");
  EXPECT_STREQ(to_string(Status::ServFail), "servfail");
  EXPECT_STREQ(to_string(Status::Timeout), "timeout");
  EXPECT_STREQ(to_string(Status::Malformed), "malformed");
}

TEST(DnsResolverTest, TypeNamesRoundTrip) {
  for (RType t : {RType::A, RType::CNAME, RType::PTR, RType::MX, RType::TXT, RType::AAAA}) {
    auto back = parse_rtype(to_string(t));
    ASSERT_TRUE(back.has_value()) << to_string(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(parse_rtype("txt"), RType::TXT);
  EXPECT_EQ(parse_rtype("Aaaa"), RType::AAAA);
  EXPECT_FALSE(parse_rtype("SRV").has_value());
  EXPECT_FALSE(parse_rtype("").has_value());
  EXPECT_FALSE(parse_rtype("TXTX").has_value());
  EXPECT_FALSE(parse_rtype(std::string("TX\0", 3)).has_value());
}

TEST(DnsResolverTest, TemporaryStatuses) {
  EXPECT_TRUE(is_temporary(Status::ServFail));
  EXPECT_TRUE(is_temporary(Status::Timeout));
  EXPECT_TRUE(is_temporary(Status::Malformed));
  EXPECT_FALSE(is_temporary(Status::Ok));
  EXPECT_FALSE(is_temporary(Status::NxDomain));
  EXPECT_FALSE(is_temporary(Status::NoData));
}

TEST(DnsResolverTest, TxtJoinedHasNoSeparator) {
  EXPECT_EQ((TxtRecord{{"v=DKIM1; ", "k=rsa; ", "p=AB"}}).joined(), "v=DKIM1; k=rsa; p=AB");
  EXPECT_EQ(TxtRecord{}.joined(), "");
  EXPECT_EQ((TxtRecord{{"", ""}}).joined(), "");
  const std::string nul("a\0b", 3);
  EXPECT_EQ((TxtRecord{{nul, "c"}}).joined(), std::string("a\0bc", 4));
}

TEST(DnsResolverTest, AnswerWithStatus) {
  Answer a = Answer::with_status(Status::Timeout, "slow");
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.status, Status::Timeout);
  EXPECT_EQ(a.error, "slow");
}

struct ServerCase {
  std::string name;
  std::string spec;
  bool valid;
};

class DnsCaresServerSpec : public testing::TestWithParam<ServerCase> {};

TEST_P(DnsCaresServerSpec, Validates) {
  const auto& c = GetParam();
  CaresResolver::Options o;
  o.nameservers = {c.spec};
  auto r = CaresResolver::create(o);
  EXPECT_EQ(r.has_value(), c.valid) << "spec '" << c.spec << "': got "
                                    << (r ? "ok" : r.error().reason);
  if (!c.valid && !r) {
    EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  }
}

const ServerCase kServerCases[] = {
    {"v4", "127.0.0.1", true},
    {"v4_port", "127.0.0.1:5353", true},
    {"v6_bracket_port", "[::1]:5353", true},
    {"v6_bracket", "[::1]", true},
    {"v6_bare", "::1", true},
    {"port_zero", "127.0.0.1:0", false},
    {"port_big", "127.0.0.1:65536", false},
    {"port_alpha", "127.0.0.1:domain", false},
    {"hostname", "localhost", false},
    {"empty", "", false},
    {"open_bracket", "[::1:53", false},
    {"junk_after_bracket", "[::1]x53", false},
    {"v4_in_brackets_bad", "[300.0.0.1]:53", false},
    {"nul", std::string("127.0.0.1\0:53", 13), false},
};
INSTANTIATE_TEST_SUITE_P(DnsSpecs, DnsCaresServerSpec, testing::ValuesIn(kServerCases),
                         [](const auto& info) { return info.param.name; });

TEST(DnsCaresResolverTest, RejectsBadOptions) {
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1"};
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(CaresResolver::create(o).has_value());
  o.timeout = std::chrono::milliseconds(100);
  o.tries = 0;
  EXPECT_FALSE(CaresResolver::create(o).has_value());
  o.tries = 1;
  o.max_blocking_channels = 0;
  EXPECT_FALSE(CaresResolver::create(o).has_value());
}

TEST(DnsCaresResolverTest, IdleResolverHasNothingPending) {
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1:53"};
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ((*r)->pending(), 0u);
  EXPECT_TRUE((*r)->fds().empty());
  EXPECT_LT((*r)->next_timeout().count(), 0);
  EXPECT_EQ((*r)->process(std::chrono::milliseconds(0)), 0u);
}

}  // namespace
}  // namespace auth::dns
