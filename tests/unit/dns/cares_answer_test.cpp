// CaresResolver's answer decoding on hand-built DNS responses (no network): record parsing
// through c-ares, TTLs, RFC 2308 negative TTLs, status mapping, truncated/hostile packets.
#include <ares.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dns/cares_internal.h"

namespace auth::dns {
namespace {

using internal::make_answer;

/// Minimal DNS message writer (RFC 1035 §4.1), uncompressed names unless a pointer is asked.
class Packet {
 public:
  Packet(std::string qname, RType qtype, int rcode = 0) {
    u16(0x1234);
    u16(static_cast<std::uint16_t>(0x8180 | rcode));  // QR RD RA
    u16(1);
    u16(0);  // ANCOUNT, patched
    u16(0);  // NSCOUNT, patched
    u16(0);
    qname_at_ = buf_.size();
    name(qname);
    u16(static_cast<std::uint16_t>(qtype));
    u16(1);
  }
  void name(const std::string& n) {
    std::size_t start = 0;
    while (start < n.size()) {
      std::size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      buf_.push_back(static_cast<unsigned char>(dot - start));
      buf_.insert(buf_.end(), n.begin() + static_cast<long>(start), n.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
    buf_.push_back(0);
  }
  void pointer_to_qname() {
    buf_.push_back(static_cast<unsigned char>(0xC0 | (qname_at_ >> 8)));
    buf_.push_back(static_cast<unsigned char>(qname_at_ & 0xff));
  }
  /// Adds an RR; `owner` empty = pointer to the question name.
  void rr(bool authority, const std::string& owner, std::uint16_t type, std::uint32_t ttl,
          const std::vector<unsigned char>& rdata) {
    if (owner.empty()) pointer_to_qname();
    else name(owner);
    u16(type);
    u16(1);
    u16(static_cast<std::uint16_t>(ttl >> 16));
    u16(static_cast<std::uint16_t>(ttl & 0xffff));
    u16(static_cast<std::uint16_t>(rdata.size()));
    buf_.insert(buf_.end(), rdata.begin(), rdata.end());
    const std::size_t at = authority ? 8 : 6;
    const auto n = static_cast<std::uint16_t>(((buf_[at] << 8) | buf_[at + 1]) + 1);
    buf_[at] = static_cast<unsigned char>(n >> 8);
    buf_[at + 1] = static_cast<unsigned char>(n & 0xff);
  }
  const std::vector<unsigned char>& bytes() const { return buf_; }
  int size() const { return static_cast<int>(buf_.size()); }

  static std::vector<unsigned char> txt(const std::vector<std::string>& strings) {
    std::vector<unsigned char> out;
    for (const auto& s : strings) {
      out.push_back(static_cast<unsigned char>(s.size()));
      out.insert(out.end(), s.begin(), s.end());
    }
    return out;
  }
  static std::vector<unsigned char> encoded(const std::string& n) {
    Packet p("x", RType::A);
    p.buf_.clear();
    p.name(n);
    return p.buf_;
  }
  static std::vector<unsigned char> soa(std::uint32_t minimum) {
    auto out = encoded("ns.example");
    auto r = encoded("hostmaster.example");
    out.insert(out.end(), r.begin(), r.end());
    for (std::uint32_t v : {1u, 3600u, 900u, 86400u, minimum}) {
      out.push_back(static_cast<unsigned char>(v >> 24));
      out.push_back(static_cast<unsigned char>(v >> 16));
      out.push_back(static_cast<unsigned char>(v >> 8));
      out.push_back(static_cast<unsigned char>(v));
    }
    return out;
  }

 private:
  void u16(std::uint16_t v) {
    buf_.push_back(static_cast<unsigned char>(v >> 8));
    buf_.push_back(static_cast<unsigned char>(v & 0xff));
  }
  std::vector<unsigned char> buf_;
  std::size_t qname_at_ = 0;
};

Answer decode(const Packet& p, RType t, int status = ARES_SUCCESS) {
  return make_answer(status, p.bytes().data(), p.size(), t);
}

TEST(DnsCaresAnswer, TxtRecordsAndStringsStayApart) {
  Packet p("sel._domainkey.example", RType::TXT);
  p.rr(false, "", 16, 300, Packet::txt({"v=DKIM1; ", "k=rsa; ", "p=AB"}));
  p.rr(false, "", 16, 200, Packet::txt({"second"}));
  p.rr(false, "", 16, 250, Packet::txt({"", std::string("n\0l", 3)}));
  Answer a = decode(p, RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  ASSERT_EQ(a.txt.size(), 3u);
  EXPECT_EQ(a.txt[0].strings, (std::vector<std::string>{"v=DKIM1; ", "k=rsa; ", "p=AB"}));
  EXPECT_EQ(a.txt[0].joined(), "v=DKIM1; k=rsa; p=AB");
  EXPECT_EQ(a.txt[1].strings, std::vector<std::string>{"second"});
  EXPECT_EQ(a.txt[2].strings, (std::vector<std::string>{"", std::string("n\0l", 3)}));
  EXPECT_EQ(a.ttl, 200u) << "min over the RRset";
}

TEST(DnsCaresAnswer, AddressesWithTtls) {
  Packet p("host.example", RType::A);
  p.rr(false, "", 1, 100, {192, 0, 2, 1});
  p.rr(false, "", 1, 50, {192, 0, 2, 2});
  Answer a = decode(p, RType::A);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(a.ttl, 50u);

  Packet q("host.example", RType::AAAA);
  q.rr(false, "", 28, 70, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  a = decode(q, RType::AAAA);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(a.ttl, 70u);
}

TEST(DnsCaresAnswer, CnameChainTtlAndTarget) {
  Packet p("alias.example", RType::A);
  p.rr(false, "", 5, 30, Packet::encoded("Host.Example"));
  p.rr(false, "host.example", 1, 600, {192, 0, 2, 9});
  Answer a = decode(p, RType::A);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.9"});
  EXPECT_EQ(a.ttl, 30u) << "the chain lives as long as its shortest link";

  Packet c("alias.example", RType::CNAME);
  c.rr(false, "", 5, 30, Packet::encoded("Host.Example"));
  a = decode(c, RType::CNAME);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.names, std::vector<std::string>{"host.example"});

  Packet t("alias.example", RType::TXT);  // CNAME, no TXT at the target
  t.rr(false, "", 5, 30, Packet::encoded("host.example"));
  EXPECT_EQ(decode(t, RType::TXT).status, Status::NoData);
}

TEST(DnsCaresAnswer, MxAndPtrNamesAreLowerCased) {
  Packet p("Example.COM", RType::MX);
  auto rd = std::vector<unsigned char>{0, 10};
  auto n = Packet::encoded("MX1.Example.COM");
  rd.insert(rd.end(), n.begin(), n.end());
  p.rr(false, "", 15, 300, rd);
  p.rr(false, "", 15, 300, {0, 0, 0});  // null MX: exchange "." (RFC 7505)
  Answer a = decode(p, RType::MX);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.mx, (std::vector<MxRecord>{{10, "mx1.example.com"}, {0, ""}}));
  EXPECT_EQ(a.ttl, 300u);

  Packet r("1.2.0.192.in-addr.arpa", RType::PTR);
  r.rr(false, "", 12, 900, Packet::encoded("Host.Example."));
  r.rr(false, "", 12, 900, Packet::encoded("other.example"));
  a = decode(r, RType::PTR);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.names, (std::vector<std::string>{"host.example", "other.example"}));
}

TEST(DnsCaresAnswer, NegativeTtlFromSoa) {
  Packet p("nx.example", RType::TXT, 3);
  p.rr(true, "example", 6, 3600, Packet::soa(120));
  Answer a = decode(p, RType::TXT, ARES_ENOTFOUND);
  EXPECT_EQ(a.status, Status::NxDomain);
  EXPECT_EQ(a.ttl, 120u);

  Packet q("host.example", RType::TXT);
  q.rr(true, "example", 6, 60, Packet::soa(900));
  a = decode(q, RType::TXT, ARES_ENODATA);
  EXPECT_EQ(a.status, Status::NoData);
  EXPECT_EQ(a.ttl, 60u) << "min(SOA TTL, MINIMUM)";

  Packet r("host.example", RType::TXT);
  a = decode(r, RType::TXT, ARES_ENODATA);
  EXPECT_EQ(a.status, Status::NoData);
  EXPECT_EQ(a.ttl, kDefaultNegativeTtl) << "no SOA";
  EXPECT_EQ(make_answer(ARES_ENOTFOUND, nullptr, 0, RType::A).ttl, kDefaultNegativeTtl);
}

TEST(DnsCaresAnswer, TtlWithTopBitIsZero) {
  Packet p("t.example", RType::TXT);
  p.rr(false, "", 16, 0x80000001U, Packet::txt({"x"}));
  Answer a = decode(p, RType::TXT);
  ASSERT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.ttl, 0u) << "RFC 2181 §8";
}

struct StatusCase {
  std::string name;
  int ares;
  Status want;
};
class DnsCaresStatus : public testing::TestWithParam<StatusCase> {};
TEST_P(DnsCaresStatus, Maps) {
  Answer a = make_answer(GetParam().ares, nullptr, 0, RType::TXT);
  EXPECT_EQ(a.status, GetParam().want) << "got " << to_string(a.status) << " want "
                                       << to_string(GetParam().want);
}
const StatusCase kStatusCases[] = {
    {"enotfound", ARES_ENOTFOUND, Status::NxDomain},
    {"enodata", ARES_ENODATA, Status::NoData},
    {"eservfail", ARES_ESERVFAIL, Status::ServFail},
    {"erefused", ARES_EREFUSED, Status::ServFail},
    {"econnrefused", ARES_ECONNREFUSED, Status::ServFail},
    {"eformerr", ARES_EFORMERR, Status::ServFail},
    {"enotimp", ARES_ENOTIMP, Status::ServFail},
    {"etimeout", ARES_ETIMEOUT, Status::Timeout},
    {"ebadresp", ARES_EBADRESP, Status::Malformed},
    {"edestruction", ARES_EDESTRUCTION, Status::ServFail},
    {"ecancelled", ARES_ECANCELLED, Status::ServFail},
    {"success_without_packet", ARES_SUCCESS, Status::Malformed},
};
INSTANTIATE_TEST_SUITE_P(DnsCases, DnsCaresStatus, testing::ValuesIn(kStatusCases),
                         [](const auto& info) { return info.param.name; });

TEST(DnsCaresAnswer, EveryTruncationIsRejectedNeverACrash) {
  Packet p("sel._domainkey.example", RType::TXT);
  p.rr(false, "", 16, 300, Packet::txt({"v=DKIM1; ", "p=AB"}));
  const int answer_end = p.size();
  p.rr(true, "example", 6, 3600, Packet::soa(120));
  for (RType t : {RType::TXT, RType::A, RType::AAAA, RType::MX, RType::PTR, RType::CNAME}) {
    for (int len = 0; len < p.size(); ++len) {
      Answer a = make_answer(ARES_SUCCESS, p.bytes().data(), len, t);
      if (len < answer_end || t != RType::TXT) {
        EXPECT_NE(a.status, Status::Ok) << "truncated at " << len << " type " << to_string(t);
      } else {
        // Cut inside the authority section: the answer itself is whole, as c-ares reads it.
        ASSERT_EQ(a.status, Status::Ok) << len;
        EXPECT_EQ(a.txt.at(0).joined(), "v=DKIM1; p=AB");
      }
    }
  }
}

TEST(DnsCaresAnswer, HostileCountsAndPointers) {
  // ANCOUNT says 65535 but the packet holds one record.
  Packet p("h.example", RType::A);
  p.rr(false, "", 1, 10, {192, 0, 2, 1});
  std::vector<unsigned char> b = p.bytes();
  b[6] = 0xff;
  b[7] = 0xff;
  Answer a = make_answer(ARES_SUCCESS, b.data(), static_cast<int>(b.size()), RType::A);
  EXPECT_NE(a.status, Status::Ok);
  // A compression pointer that points at itself inside the CNAME RDATA.
  Packet c("loop.example", RType::CNAME);
  const auto at = static_cast<unsigned>(c.size() + 2 + 10);  // where the RDATA will start
  c.rr(false, "", 5, 10, {static_cast<unsigned char>(0xC0 | (at >> 8)), static_cast<unsigned char>(at & 0xff)});
  a = decode(c, RType::CNAME);
  EXPECT_EQ(a.status, Status::Malformed);
  // 10 000 TXT strings in 2 000 RRs stay bounded and correct.
  Packet big("big.example", RType::TXT);
  for (int i = 0; i < 2000; ++i) big.rr(false, "", 16, 60, Packet::txt({"a", "b", "c", "d", "e"}));
  a = decode(big, RType::TXT);
  ASSERT_EQ(a.status, Status::Ok) << a.error;
  EXPECT_EQ(a.txt.size(), 2000u);
  EXPECT_EQ(a.txt.back().joined(), "abcde");
}

}  // namespace
}  // namespace auth::dns
