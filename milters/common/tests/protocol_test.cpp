#include "common/protocol.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace inkan::milter {
namespace {

constexpr unsigned long kPostfixActions = 0x1FF;     // SMFI_CURR_ACTS
constexpr unsigned long kPostfixProtocol = 0x1FFFFF;  // every step optional, all features

TEST(Negotiate, DeclinesUnusedStepsAndRequestsFeatures) {
  Needs n;
  n.add_headers = true;
  n.change_headers = true;
  n.helo = false;
  n.envrcpt = false;
  n.header_leading_space = true;
  auto r = negotiate(kPostfixActions, kPostfixProtocol, n);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.actions, flags::kAddHeaders | flags::kChangeHeaders);
  const unsigned long nr = steps::kNoReplyHeader | steps::kNoReplyEoh | steps::kNoReplyBody;
  EXPECT_EQ(r.protocol, steps::kNoHelo | steps::kNoRcpt | steps::kNoUnknown | steps::kNoData |
                            steps::kHeaderLeadingSpace | nr);
  EXPECT_EQ(r.no_reply, nr) << "header, end of header and body need no reply by default";
  EXPECT_TRUE(r.header_leading_space);
  EXPECT_FALSE(r.skip);
}

TEST(Negotiate, NoReplyOnlyForStepsSentAndOffered) {
  Needs n;
  n.headers = false;         // declined: no SMFIP_NR_HDR for a step we are not sent
  n.no_reply_rcpt = true;    // but envrcpt not needed either
  n.envrcpt = false;
  auto r = negotiate(kPostfixActions, kPostfixProtocol, n);
  EXPECT_EQ(r.no_reply, steps::kNoReplyEoh | steps::kNoReplyBody);
  EXPECT_EQ(r.protocol & steps::kNoReplyHeader, 0u);
  EXPECT_EQ(r.protocol & steps::kNoReplyRcpt, 0u);

  n.envrcpt = true;
  r = negotiate(kPostfixActions, kPostfixProtocol, n);
  EXPECT_NE(r.no_reply & steps::kNoReplyRcpt, 0u);

  // An MTA that offers no SMFIP_NR_* (milter protocol 2-4): nothing requested.
  r = negotiate(kPostfixActions, 0x3FF, n);
  EXPECT_EQ(r.no_reply, 0u);
  EXPECT_EQ(r.protocol & 0xFF080u, 0u);

  // A daemon that wants every reply.
  Needs all;
  all.no_reply_header = all.no_reply_eoh = all.no_reply_body = false;
  r = negotiate(kPostfixActions, kPostfixProtocol, all);
  EXPECT_EQ(r.no_reply, 0u);
}

TEST(Negotiate, BodylessDaemonLikeOpendmarc) {
  Needs n;
  n.add_headers = true;
  n.quarantine = true;
  n.body = false;
  auto r = negotiate(kPostfixActions, kPostfixProtocol, n);
  EXPECT_TRUE(r.ok);
  EXPECT_NE(r.protocol & steps::kNoBody, 0u);
  EXPECT_EQ(r.protocol & steps::kHeaderLeadingSpace, 0u) << "not asked for";
  EXPECT_EQ(r.actions, flags::kAddHeaders | flags::kQuarantine);
}

TEST(Negotiate, OnlyWhatTheMtaOffers) {
  Needs n;
  n.helo = false;
  n.header_leading_space = true;
  n.skip = true;
  // An old MTA that cannot leave out HELO and offers no features.
  auto r = negotiate(kPostfixActions, steps::kNoConnect | steps::kNoMail, n);
  EXPECT_EQ(r.protocol, 0u);
  EXPECT_FALSE(r.header_leading_space);
  EXPECT_FALSE(r.skip);
}

TEST(Negotiate, MissingActionIsReported) {
  Needs n;
  n.add_headers = true;
  n.change_headers = true;
  auto r = negotiate(flags::kAddHeaders, kPostfixProtocol, n);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.missing, "CHGHDRS");
  EXPECT_EQ(r.actions, flags::kAddHeaders);
}

struct RcptCase {
  bool add, del;
  unsigned long offered;
  unsigned long want;  ///< actions granted
};
class NegotiateRcpt : public testing::TestWithParam<RcptCase> {};

TEST_P(NegotiateRcpt, OptionalRecipientChangesAskedForOnlyWhenOffered) {
  const auto& c = GetParam();
  Needs n;
  n.add_headers = true;
  n.add_rcpt = c.add;
  n.delete_rcpt = c.del;
  auto r = negotiate(c.offered, kPostfixProtocol, n);
  EXPECT_TRUE(r.ok) << "an MTA without them is no negotiation failure";
  EXPECT_TRUE(r.missing.empty()) << r.missing;
  EXPECT_EQ(r.actions, c.want);
}

constexpr unsigned long kAdd = flags::kAddRcpt, kDel = flags::kDeleteRcpt, kHdr = flags::kAddHeaders;
INSTANTIATE_TEST_SUITE_P(
    Rcpt, NegotiateRcpt,
    testing::Values(RcptCase{false, false, kPostfixActions, kHdr},             // not needed: not asked
                    RcptCase{true, false, kPostfixActions, kHdr | kAdd},       // SMFIF_ADDRCPT 0x04
                    RcptCase{false, true, kPostfixActions, kHdr | kDel},       // SMFIF_DELRCPT 0x08
                    RcptCase{true, true, kPostfixActions, kHdr | kAdd | kDel},
                    RcptCase{true, true, kHdr, kHdr},                          // MTA offers neither
                    RcptCase{true, true, kHdr | kDel, kHdr | kDel},            // only deletion offered
                    RcptCase{true, true, kHdr | kAdd | flags::kChangeFrom, kHdr | kAdd}));

TEST(Negotiate, RequiredActionMissingStillFailsWithRecipientChanges) {
  Needs n;
  n.add_headers = true;
  n.add_rcpt = true;
  auto r = negotiate(flags::kAddRcpt, kPostfixProtocol, n);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.missing, "ADDHDRS") << "only the required flags are named";
  EXPECT_EQ(r.actions, flags::kAddRcpt);
}

TEST(Macros, Names) {
  EXPECT_EQ(macro_base_name("{auth_authen}"), "auth_authen");
  EXPECT_EQ(macro_base_name("i"), "i");
  EXPECT_EQ(macro_base_name("{"), "{");
  EXPECT_EQ(macro_base_name("{}"), "");
  EXPECT_EQ(macro_lookup_name("i"), "i");
  EXPECT_EQ(macro_lookup_name("{i}"), "i");
  EXPECT_EQ(macro_lookup_name("daemon_name"), "{daemon_name}");
  EXPECT_EQ(macro_lookup_name("{client_addr}"), "{client_addr}");
}

TEST(Peer, FromSockaddr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(2525);
  inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
  auto p = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&sin));
  EXPECT_EQ(p, (PeerAddress{PeerAddress::Family::Inet, "192.0.2.7", 2525}));

  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(25);
  inet_pton(AF_INET6, "2001:0db8:0:0::1", &sin6.sin6_addr);
  EXPECT_EQ(peer_from_sockaddr(reinterpret_cast<sockaddr*>(&sin6)),
            (PeerAddress{PeerAddress::Family::Inet6, "2001:db8::1", 25}));
  inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
  EXPECT_EQ(peer_from_sockaddr(reinterpret_cast<sockaddr*>(&sin6)).family, PeerAddress::Family::Inet6);

  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memset(sun.sun_path, 'a', sizeof sun.sun_path);  // no terminator
  auto u = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&sun));
  EXPECT_EQ(u.family, PeerAddress::Family::Unix);
  EXPECT_EQ(u.address.size(), sizeof sun.sun_path);

  EXPECT_EQ(peer_from_sockaddr(nullptr).family, PeerAddress::Family::Unknown);
}

}  // namespace
}  // namespace inkan::milter
