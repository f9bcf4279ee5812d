// CaresResolver and the AD bit (RFC 4035 §3.2.3, RFC 6840 §5.7-5.8): the query carries AD
// only when Options::request_ad is on, and Answer::authenticated mirrors the answer's AD bit
// then (and only then), for NOERROR/NXDOMAIN/NODATA answers. A fake DNS server on 127.0.0.1
// (a UDP socket in this process) records each query's header and answers as scripted.
// Also: the RCODE mapping of ares_send answers (status_of_reply) on hand-built headers, the
// cache keeping the bit, ZoneResolver's secure zones, and the loopback check.
#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/dns/cache.h"
#include "auth/dns/cares_resolver.h"
#include "auth/dns/zone.h"
#include "dns/cares_internal.h"

namespace auth::dns {
namespace {

using namespace std::chrono_literals;

/// What the fake server answers to every query.
struct Script {
  int rcode = 0;         // RFC 1035 §4.1.1
  bool ad = false;       // set AD in the answer header
  bool record = true;    // include one TXT answer RR (NOERROR only)
};

/// The header fields of one query the server received.
struct SeenQuery {
  std::uint16_t id = 0;
  bool rd = false;
  bool ad = false;
  bool cd = false;
  std::uint16_t arcount = 0;
  bool edns_do = false;
};

class FakeDnsServer {
 public:
  FakeDnsServer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return;
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void script(Script s) {
    std::lock_guard lock(mu_);
    script_ = s;
  }
  std::vector<SeenQuery> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      unsigned char buf[4096];
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 12) continue;
      std::vector<unsigned char> q(buf, buf + n);
      std::size_t pos = 12;
      while (pos < q.size() && q[pos] != 0) pos += 1u + q[pos];
      pos += 5;  // root label, QTYPE, QCLASS
      if (pos > q.size()) continue;
      SeenQuery s;
      s.id = static_cast<std::uint16_t>((q[0] << 8) | q[1]);
      s.rd = (q[2] & 0x01) != 0;
      s.ad = (q[3] & 0x20) != 0;
      s.cd = (q[3] & 0x10) != 0;
      s.arcount = static_cast<std::uint16_t>((q[10] << 8) | q[11]);
      // OPT RR (RFC 6891 §6.1.2): root owner, TYPE 41, CLASS, TTL = ext-rcode, version, DO|Z.
      if (s.arcount > 0 && pos + 11 <= q.size() && q[pos] == 0 && q[pos + 1] == 0 && q[pos + 2] == 41) {
        s.edns_do = (q[pos + 7] & 0x80) != 0;
      }
      Script sc;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(s);
        sc = script_;
      }
      std::vector<unsigned char> r(q.begin(), q.begin() + static_cast<long>(pos));  // header + question
      r[2] = static_cast<unsigned char>(0x80 | (q[2] & 0x01));                      // QR, RD copied
      r[3] = static_cast<unsigned char>(0x80 | (sc.ad ? 0x20 : 0) | (sc.rcode & 0x0F));  // RA
      r[4] = 0;
      r[5] = 1;
      r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
      if (sc.rcode == 0 && sc.record) {
        const std::string txt = "v=DKIM1; k=rsa; p=";
        const unsigned char rr[] = {0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0x0E, 0x10, 0,
                                    static_cast<unsigned char>(txt.size() + 1),
                                    static_cast<unsigned char>(txt.size())};
        r.insert(r.end(), rr, rr + sizeof rr);
        r.insert(r.end(), txt.begin(), txt.end());
        r[7] = 1;
      }
      sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  Script script_;
  std::vector<SeenQuery> seen_;
};

std::unique_ptr<CaresResolver> make(const FakeDnsServer& srv, bool request_ad) {
  CaresResolver::Options o;
  o.nameservers = {srv.address()};
  o.timeout = 500ms;
  o.tries = 1;
  o.request_ad = request_ad;
  auto r = CaresResolver::create(o);
  EXPECT_TRUE(r) << r.error().reason;
  return r ? std::move(*r) : nullptr;
}

struct AdCase {
  const char* name;
  bool request_ad;
  Script script;
  Status want_status;
  bool want_authenticated;
};

class DnsCaresAd : public testing::TestWithParam<AdCase> {};

TEST_P(DnsCaresAd, QueryBitAndAnswerBit) {
  const AdCase& c = GetParam();
  FakeDnsServer srv;
  ASSERT_GT(srv.port(), 0);
  srv.script(c.script);
  auto r = make(srv, c.request_ad);
  ASSERT_TRUE(r);

  // Blocking path.
  Answer a = r->query("sel._domainkey.example.org", RType::TXT);
  EXPECT_EQ(a.status, c.want_status) << to_string(a.status) << " " << a.error;
  EXPECT_EQ(a.authenticated, c.want_authenticated);
  if (c.want_status == Status::Ok) {
    ASSERT_EQ(a.txt.size(), 1u);
    EXPECT_EQ(a.txt[0].joined(), "v=DKIM1; k=rsa; p=");
    EXPECT_EQ(a.ttl, 3600u);
  }

  // Event-channel path.
  std::optional<Answer> got;
  r->query_async("sel._domainkey.example.org", RType::TXT, [&](Answer x) { got = std::move(x); });
  for (int i = 0; i < 200 && !got; ++i) r->process(50ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, c.want_status);
  EXPECT_EQ(got->authenticated, c.want_authenticated);

  // What went on the wire: AD exactly when asked; otherwise the query ares_query sends.
  const auto seen = srv.seen();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].arcount, 1u);  // the EDNS(0) OPT RR is kept
  for (const auto& q : seen) {
    EXPECT_EQ(q.ad, c.request_ad);  // also on c-ares' retry without EDNS after FORMERR
    EXPECT_TRUE(q.rd);              // recursion desired, as ares_query
    EXPECT_FALSE(q.cd);             // never "checking disabled": we want validation
    EXPECT_FALSE(q.edns_do);        // no DO: AD alone asks for the bit (RFC 6840 §5.7)
    if (c.script.rcode != 1) {
      EXPECT_EQ(q.arcount, 1u);
    }
  }
}

const AdCase kAdCases[] = {
    {"off_plain", false, {0, false, true}, Status::Ok, false},
    {"off_ignores_ad", false, {0, true, true}, Status::Ok, false},
    {"on_secure", true, {0, true, true}, Status::Ok, true},
    {"on_insecure", true, {0, false, true}, Status::Ok, false},
    {"on_nxdomain_secure", true, {3, true, false}, Status::NxDomain, true},
    {"on_nxdomain_insecure", true, {3, false, false}, Status::NxDomain, false},
    {"on_nodata_secure", true, {0, true, false}, Status::NoData, true},
    {"on_servfail_bogus", true, {2, true, false}, Status::ServFail, false},
    {"on_refused", true, {5, false, false}, Status::ServFail, false},
    {"on_formerr", true, {1, true, false}, Status::ServFail, false},
    {"off_nxdomain", false, {3, true, false}, Status::NxDomain, false},
};
INSTANTIATE_TEST_SUITE_P(Wire, DnsCaresAd, testing::ValuesIn(kAdCases),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DnsCaresAdTest, QueryIdsAreNotZero) {
  // c-ares 1.18's ares_send sends the ID of the buffer it is given: send_query must draw a
  // random one, or every query would be trivially spoofable (RFC 5452 §4.3).
  FakeDnsServer srv;
  ASSERT_GT(srv.port(), 0);
  auto r = make(srv, true);
  ASSERT_TRUE(r);
  for (int i = 0; i < 4; ++i) (void)r->query("n" + std::to_string(i) + ".example.org", RType::TXT);
  const auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 4u);
  std::set<std::uint16_t> ids;
  for (const auto& q : seen) ids.insert(q.id);
  EXPECT_GE(ids.size(), 3u);  // 4 random 16-bit IDs: one repeat is unlikely, two absurd
}

TEST(DnsCaresAdTest, BadNameFailsWithoutNetwork) {
  FakeDnsServer srv;
  ASSERT_GT(srv.port(), 0);
  auto r = make(srv, true);
  ASSERT_TRUE(r);
  const std::string label(64, 'a');  // RFC 1035 §2.3.4: labels are at most 63 octets
  Answer a = r->query(label + ".example.org", RType::TXT);
  EXPECT_NE(a.status, Status::Ok);
  EXPECT_FALSE(a.authenticated);
}

TEST(DnsCaresAdTest, TimeoutIsNeverAuthenticated) {
  // A bound socket nobody reads: the query times out.
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1:" + std::to_string(ntohs(sa.sin_port))};
  o.timeout = 100ms;
  o.tries = 1;
  o.request_ad = true;
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r);
  Answer a = (*r)->query("x.example.org", RType::TXT);
  close(fd);
  EXPECT_EQ(a.status, Status::Timeout);
  EXPECT_FALSE(a.authenticated);
}

/* ---- status_of_reply / ad_bit on hand-built headers (no network) ---- */

std::vector<unsigned char> header(int rcode, int ancount, bool ad) {
  return {0x12, 0x34, 0x81, static_cast<unsigned char>(0x80 | (ad ? 0x20 : 0) | rcode), 0, 1, 0,
          static_cast<unsigned char>(ancount), 0, 0, 0, 0};
}

struct ReplyCase {
  int rcode;
  int ancount;
  int want;
};

class DnsReplyStatus : public testing::TestWithParam<ReplyCase> {};

TEST_P(DnsReplyStatus, MapsAsAresQuery) {
  const auto h = header(GetParam().rcode, GetParam().ancount, false);
  EXPECT_EQ(internal::status_of_reply(ARES_SUCCESS, h.data(), static_cast<int>(h.size())), GetParam().want);
}

const ReplyCase kReplies[] = {
    {0, 1, ARES_SUCCESS},  {0, 0, ARES_ENODATA},  {1, 0, ARES_EFORMERR}, {2, 0, ARES_ESERVFAIL},
    {3, 0, ARES_ENOTFOUND}, {4, 0, ARES_ENOTIMP}, {5, 0, ARES_EREFUSED}, {9, 0, ARES_SUCCESS},
};
INSTANTIATE_TEST_SUITE_P(Rcodes, DnsReplyStatus, testing::ValuesIn(kReplies));

TEST(DnsReplyStatusTest, HostileBuffers) {
  const auto h = header(0, 1, true);
  EXPECT_EQ(internal::status_of_reply(ARES_SUCCESS, nullptr, 0), ARES_EBADRESP);
  for (int n = 0; n < 12; ++n) {
    EXPECT_EQ(internal::status_of_reply(ARES_SUCCESS, h.data(), n), ARES_EBADRESP) << n;
    EXPECT_FALSE(internal::ad_bit(h.data(), n)) << n;
  }
  EXPECT_TRUE(internal::ad_bit(h.data(), 12));
  EXPECT_FALSE(internal::ad_bit(nullptr, 12));
  EXPECT_EQ(internal::status_of_reply(ARES_ETIMEOUT, h.data(), 12), ARES_ETIMEOUT);
  // Header says one answer, none follows: the answer is malformed, never "authenticated".
  Answer a = internal::make_answer_ad(ARES_SUCCESS, h.data(), 12, RType::TXT);
  EXPECT_EQ(a.status, Status::Malformed);
  EXPECT_FALSE(a.authenticated);
  // A secure NXDOMAIN header alone is a complete answer.
  const auto nx = header(3, 0, true);
  a = internal::make_answer_ad(ARES_SUCCESS, nx.data(), 12, RType::TXT);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_TRUE(a.authenticated);
  // The plain decoder never reports the bit.
  EXPECT_FALSE(internal::make_answer(ARES_ENOTFOUND, nx.data(), 12, RType::TXT).authenticated);
}

/* ---- the cache keeps the bit; ZoneResolver secure zones ---- */

TEST(DnsAdCacheTest, CachedAnswerKeepsAuthenticated) {
  ZoneResolver z;
  z.add_txt("sel._domainkey.signed.example", "v=DKIM1; p=");
  z.add_txt("sel._domainkey.plain.example", "v=DKIM1; p=");
  z.set_authenticated("signed.example");
  CachingResolver c(z);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(c.query("sel._domainkey.signed.example", RType::TXT).authenticated) << i;
    EXPECT_FALSE(c.query("sel._domainkey.plain.example", RType::TXT).authenticated) << i;
  }
  EXPECT_EQ(z.total_queries(), 2u);  // the later answers came from the cache
  EXPECT_EQ(c.stats().hits, 4u);
  // Negative answers too (RFC 2308 cache of a secure NXDOMAIN).
  EXPECT_TRUE(c.query("nokey._domainkey.signed.example", RType::TXT).authenticated);
  EXPECT_TRUE(c.query("nokey._domainkey.signed.example", RType::TXT).authenticated);
}

TEST(DnsAdZoneTest, SecureZonesFollowLabelBoundaries) {
  ZoneResolver z;
  z.add_txt("a.signed.example", "x");
  z.add_txt("a.notsigned.example", "x");
  z.add_txt("signed.example", "x");
  z.set_authenticated("Signed.Example.");
  EXPECT_TRUE(z.query("a.signed.example", RType::TXT).authenticated);
  EXPECT_TRUE(z.query("SIGNED.example", RType::TXT).authenticated);
  EXPECT_TRUE(z.query("missing.signed.example", RType::TXT).authenticated);  // secure NXDOMAIN
  EXPECT_TRUE(z.query("a.signed.example", RType::A).authenticated);           // secure NODATA
  EXPECT_FALSE(z.query("a.notsigned.example", RType::TXT).authenticated);     // not a suffix match
  z.set_failure("a.signed.example", Status::ServFail);  // bogus: SERVFAIL, never AD
  EXPECT_FALSE(z.query("a.signed.example", RType::TXT).authenticated);
  z.set_authenticated("signed.example", false);
  EXPECT_FALSE(z.query("signed.example", RType::TXT).authenticated);
  z.set_authenticated("");
  EXPECT_TRUE(z.query("a.notsigned.example", RType::TXT).authenticated);
  z.clear();
  EXPECT_FALSE(z.query("a.notsigned.example", RType::TXT).authenticated);
  // Many marked zones stay bounded and correct.
  for (int i = 0; i < 10000; ++i) z.set_authenticated("z" + std::to_string(i) + ".example");
  EXPECT_TRUE(z.query("k.z9999.example", RType::TXT).authenticated);
  EXPECT_FALSE(z.query("k.z10000.example", RType::TXT).authenticated);
}

/* ---- loopback check (the start-up warning about trusting AD) ---- */

struct LoopCase {
  const char* spec;
  bool loopback;
};
class DnsLoopback : public testing::TestWithParam<LoopCase> {};
TEST_P(DnsLoopback, Classifies) {
  EXPECT_EQ(CaresResolver::nameserver_is_loopback(GetParam().spec), GetParam().loopback) << GetParam().spec;
}
const LoopCase kLoop[] = {
    {"127.0.0.1", true},      {"127.0.0.53:53", true},   {"127.255.255.254", true}, {"::1", true},
    {"[::1]:5353", true},     {"128.0.0.1", false},      {"10.0.0.1", false},       {"::2", false},
    {"::ffff:127.0.0.1", false}, {"", false},            {"localhost", false},      {"127.0.0.1:0", false},
    {"[::1", false},          {"1.2.3.4:99999", false},
};
INSTANTIATE_TEST_SUITE_P(Specs, DnsLoopback, testing::ValuesIn(kLoop));

TEST(DnsCaresServersTest, ListsConfiguredServers) {
  CaresResolver::Options o;
  o.nameservers = {"127.0.0.1:5300", "::1", "192.0.2.1"};
  auto r = CaresResolver::create(o);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->servers(), (std::vector<std::string>{"127.0.0.1:5300", "::1", "192.0.2.1"}));
}

}  // namespace
}  // namespace auth::dns
