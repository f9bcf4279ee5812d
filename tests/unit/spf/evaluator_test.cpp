// Unit tests of check_host() (RFC 7208 §2, §4, §5, §6) over dns::ZoneResolver.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "auth/dns/zone.h"
#include "auth/spf/evaluator.h"

namespace auth::spf {

// Readable gtest messages ("got permerror" rather than bytes); found by ADL.
void PrintTo(SpfResult r, std::ostream* os) { *os << to_string(r); }

namespace {

Request mailfrom(std::string ip, std::string from, std::string helo = "mail.example.org") {
  Request r;
  r.client_ip = std::move(ip);
  r.mail_from = std::move(from);
  r.helo = std::move(helo);
  return r;
}

class SpfEval : public testing::Test {
 protected:
  dns::ZoneResolver zone;
  Options opt;
  SpfEval() {
    opt.default_explanation = "DEFAULT";
    opt.now = 1700000000;
  }
  CheckResult check(const Request& r) { return check_host(zone, r, opt); }
};

TEST_F(SpfEval, PassOnIp4) {
  zone.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
  auto res = check(mailfrom("192.0.2.7", "user@example.com"));
  EXPECT_EQ(res.result, SpfResult::Pass) << res.problem;
  EXPECT_EQ(res.mechanism, "ip4:192.0.2.0/24");
  EXPECT_EQ(res.domain, "example.com");
  EXPECT_EQ(res.sender, "user@example.com");
  EXPECT_EQ(res.dns_lookups, 0u);
  EXPECT_TRUE(res.explanation.empty());
}

TEST_F(SpfEval, FailWithExplanation) {
  zone.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com");
  zone.add_txt("why.example.com", "%{i} is not one of %{d}'s servers (%{l})");
  auto res = check(mailfrom("198.51.100.1", "Bob@example.com"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.mechanism, "-all");
  EXPECT_EQ(res.explanation, "198.51.100.1 is not one of example.com's servers (Bob)");
}

TEST_F(SpfEval, DefaultExplanationIsExpanded) {
  opt.default_explanation = "See https://example.net/why?s=%{S}&ip=%{C}";
  zone.add_txt("example.com", "v=spf1 -all");
  auto res = check(mailfrom("192.0.2.1", "a+b@example.com"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.explanation, "See https://example.net/why?s=a%2Bb%40example.com&ip=192.0.2.1");
}

TEST_F(SpfEval, NoExplanationUnlessFail) {
  zone.add_txt("example.com", "v=spf1 ~all exp=why.example.com");
  zone.add_txt("why.example.com", "never fetched");
  auto res = check(mailfrom("192.0.2.1", "a@example.com"));
  EXPECT_EQ(res.result, SpfResult::SoftFail);
  EXPECT_TRUE(res.explanation.empty());
  EXPECT_EQ(zone.query_count("why.example.com", dns::RType::TXT), 0u);
}

TEST_F(SpfEval, NullSenderUsesPostmasterAtHelo) {
  zone.add_txt("mail.example.org", "v=spf1 a -all");
  zone.add_a("mail.example.org", "192.0.2.9");
  for (std::string from : {"", "<>"}) {
    auto res = check(mailfrom("192.0.2.9", from));
    EXPECT_EQ(res.result, SpfResult::Pass);
    EXPECT_EQ(res.sender, "postmaster@mail.example.org");
    EXPECT_EQ(res.domain, "mail.example.org");
  }
}

TEST_F(SpfEval, HeloIdentity) {
  zone.add_txt("mail.example.org", "v=spf1 a -all");
  zone.add_a("mail.example.org", "192.0.2.9");
  zone.add_txt("example.com", "v=spf1 -all");
  Request r = mailfrom("192.0.2.9", "x@example.com");
  r.identity = Identity::Helo;
  auto res = check(r);
  EXPECT_EQ(res.result, SpfResult::Pass);
  EXPECT_EQ(res.identity, Identity::Helo);
  EXPECT_EQ(res.domain, "mail.example.org");
}

TEST_F(SpfEval, NoneCases) {
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@nowhere.example")).result, SpfResult::None);
  zone.add_txt("plain.example", "hello world");
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@plain.example")).result, SpfResult::None);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@localhost")).result, SpfResult::None);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@[192.0.2.1]")).result, SpfResult::None);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@" + std::string(64, 'x') + ".example")).result,
            SpfResult::None);
  EXPECT_EQ(zone.total_queries(), 2u) << "malformed domains are not queried (§4.3)";
}

TEST_F(SpfEval, DnsOutcomesMapped) {
  zone.add_txt("t.example", "v=spf1 -all");
  zone.set_failure("t.example", dns::RType::TXT, dns::Status::Timeout);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@t.example")).result, SpfResult::TempError);
  zone.set_failure("t.example", dns::RType::TXT, dns::Status::ServFail);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@t.example")).result, SpfResult::TempError);
  zone.set_failure("t.example", dns::RType::TXT, dns::Status::Ok);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@t.example")).result, SpfResult::Fail);

  zone.add_txt("m.example", "v=spf1 a:host.m.example -all");
  zone.set_failure("host.m.example", dns::Status::ServFail);
  auto res = check(mailfrom("192.0.2.1", "a@m.example"));
  EXPECT_EQ(res.result, SpfResult::TempError);
  EXPECT_NE(res.problem.find("a:host.m.example"), std::string::npos) << res.problem;
}

TEST_F(SpfEval, MultipleRecordsPermerror) {
  zone.add_txt("two.example", "v=spf1 -all");
  zone.add_txt("two.example", "v=spf1 +all");
  auto res = check(mailfrom("192.0.2.1", "a@two.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
}

TEST_F(SpfEval, TxtStringsConcatenated) {
  zone.add_txt("split.example", dns::TxtRecord{{"v=spf1 ip4:", "192.0.2.5 -all"}});
  EXPECT_EQ(check(mailfrom("192.0.2.5", "a@split.example")).result, SpfResult::Pass);
}

TEST_F(SpfEval, DnsLookupLimitNamesTerm) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 11; ++i) {
    std::string n = "h" + std::to_string(i) + ".lim.example";
    rec += " a:" + n;
    zone.add_a(n, "198.51.100.1");
  }
  rec += " ip4:192.0.2.1";
  zone.add_txt("lim.example", rec);
  auto res = check(mailfrom("192.0.2.1", "a@lim.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
  EXPECT_NE(res.problem.find("a:h10.lim.example"), std::string::npos) << res.problem;
  EXPECT_EQ(res.dns_lookups, kMaxDnsMechanisms + 1);
}

TEST_F(SpfEval, TenLookupsAreFine) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 10; ++i) {
    std::string n = "h" + std::to_string(i) + ".lim.example";
    rec += " a:" + n;
    zone.add_a(n, "198.51.100.1");
  }
  rec += " ip4:192.0.2.1";
  zone.add_txt("lim.example", rec);
  auto res = check(mailfrom("192.0.2.1", "a@lim.example"));
  EXPECT_EQ(res.result, SpfResult::Pass) << res.problem;
  EXPECT_EQ(res.dns_lookups, 10u);
}

TEST_F(SpfEval, VoidLookupLimit) {
  zone.add_txt("v.example", "v=spf1 a:n1.v.example a:n2.v.example a:n3.v.example ?all");
  auto res = check(mailfrom("192.0.2.1", "a@v.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
  EXPECT_NE(res.problem.find("a:n3.v.example"), std::string::npos) << res.problem;
  EXPECT_EQ(res.void_lookups, 3u);
  opt.max_void_lookups = 3;
  res = check(mailfrom("192.0.2.1", "a@v.example"));
  EXPECT_EQ(res.result, SpfResult::Neutral);
}

TEST_F(SpfEval, MxLimit) {
  zone.add_txt("mx.example", "v=spf1 mx -all");
  for (int i = 0; i < 11; ++i) {
    zone.add_mx("mx.example", static_cast<std::uint16_t>(i), "h" + std::to_string(i) + ".mx.example");
  }
  auto res = check(mailfrom("192.0.2.1", "a@mx.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
  EXPECT_NE(res.problem.find("MX"), std::string::npos);
}

TEST_F(SpfEval, MxMatchesDualCidr) {
  zone.add_txt("mx.example", "v=spf1 mx/24//64 -all");
  zone.add_mx("mx.example", 10, "in.mx.example");
  zone.add_a("in.mx.example", "192.0.2.200");
  zone.add_aaaa("in.mx.example", "2001:db8:1:2::1");
  EXPECT_EQ(check(mailfrom("192.0.2.3", "a@mx.example")).result, SpfResult::Pass);
  EXPECT_EQ(check(mailfrom("2001:db8:1:2:ffff::9", "a@mx.example")).result, SpfResult::Pass);
  EXPECT_EQ(check(mailfrom("2001:db8:1:3::1", "a@mx.example")).result, SpfResult::Fail);
  EXPECT_EQ(check(mailfrom("::ffff:192.0.2.77", "a@mx.example")).result, SpfResult::Pass);
}

TEST_F(SpfEval, PtrValidatedAndLimited) {
  zone.add_txt("ptr.example", "v=spf1 ptr -all");
  // 12 PTR names; only the 11th and 12th are valid, so beyond the first 10 → no match.
  for (int i = 0; i < 12; ++i) {
    std::string n = "h" + std::to_string(i) + ".ptr.example";
    zone.add_ptr("1.2.0.192.in-addr.arpa", n);
    zone.add_a(n, i >= 10 ? "192.0.2.1" : "198.51.100.1");
  }
  auto res = check(mailfrom("192.0.2.1", "a@ptr.example"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(zone.query_count("h10.ptr.example", dns::RType::A), 0u);

  zone.add_ptr("2.2.0.192.in-addr.arpa", "mail.ptr.example");
  zone.add_a("mail.ptr.example", "192.0.2.2");
  EXPECT_EQ(check(mailfrom("192.0.2.2", "a@ptr.example")).result, SpfResult::Pass);
  // A PTR name that does not resolve back is not validated.
  zone.add_ptr("3.2.0.192.in-addr.arpa", "liar.ptr.example");
  zone.add_a("liar.ptr.example", "198.51.100.3");
  EXPECT_EQ(check(mailfrom("192.0.2.3", "a@ptr.example")).result, SpfResult::Fail);
}

TEST_F(SpfEval, PMacroInExplanation) {
  zone.add_txt("p.example", "v=spf1 -all exp=e.p.example");
  zone.add_txt("e.p.example", "connect from %{p}");
  zone.add_ptr("4.2.0.192.in-addr.arpa", "other.example");
  zone.add_ptr("4.2.0.192.in-addr.arpa", "mx.p.example");
  zone.add_a("other.example", "192.0.2.4");
  zone.add_a("mx.p.example", "192.0.2.4");
  auto res = check(mailfrom("192.0.2.4", "a@p.example"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.explanation, "connect from mx.p.example");
  res = check(mailfrom("192.0.2.5", "a@p.example"));
  EXPECT_EQ(res.explanation, "connect from unknown");
}

TEST_F(SpfEval, IncludeResults) {
  zone.add_txt("inc.example", "v=spf1 include:pass.example include:fail.example -all");
  zone.add_txt("pass.example", "v=spf1 ip4:192.0.2.1 -all");
  zone.add_txt("fail.example", "v=spf1 ip4:192.0.2.2 -all");
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@inc.example")).result, SpfResult::Pass);
  auto res = check(mailfrom("192.0.2.2", "a@inc.example"));
  EXPECT_EQ(res.result, SpfResult::Pass);
  EXPECT_EQ(res.mechanism, "include:fail.example");
  EXPECT_EQ(check(mailfrom("192.0.2.3", "a@inc.example")).result, SpfResult::Fail);
  zone.add_txt("none.example", "v=spf1 include:nothing.example -all");
  EXPECT_EQ(check(mailfrom("192.0.2.3", "a@none.example")).result, SpfResult::PermError);
}

TEST_F(SpfEval, RedirectAndExpOfTarget) {
  zone.add_txt("r.example", "v=spf1 exp=no.example redirect=t.example");
  zone.add_txt("t.example", "v=spf1 -all exp=yes.example");
  zone.add_txt("no.example", "wrong");
  zone.add_txt("yes.example", "right %{d}");
  auto res = check(mailfrom("192.0.2.1", "a@r.example"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.explanation, "right t.example");
  EXPECT_EQ(res.dns_lookups, 1u);
}

TEST_F(SpfEval, IncludeLoopIsBounded) {
  zone.add_txt("loop.example", "v=spf1 include:loop.example -all");
  auto res = check(mailfrom("192.0.2.1", "a@loop.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
  // Even with the lookup limit lifted, the nesting cap stops it.
  opt.max_dns_mechanisms = 100000;
  res = check(mailfrom("192.0.2.1", "a@loop.example"));
  EXPECT_EQ(res.result, SpfResult::PermError);
  EXPECT_NE(res.problem.find("nesting"), std::string::npos) << res.problem;
}

TEST_F(SpfEval, ManyIp4TermsStayBounded) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 1000; ++i) rec += " ip4:198.51.100." + std::to_string(i % 250);
  rec += " ip4:192.0.2.1";
  zone.add_txt("big.example", rec);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(check(mailfrom("192.0.2.1", "a@big.example")).result, SpfResult::Pass);
  }
  std::string huge = "v=spf1";
  for (int i = 0; i < 10000; ++i) huge += " a";
  zone.add_txt("huge.example", huge);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@huge.example")).result, SpfResult::PermError);
}

TEST_F(SpfEval, TraceRecordsQueriesAndCounters) {
  zone.add_txt("tr.example", "v=spf1 a:x.tr.example mx -all");
  zone.add_a("x.tr.example", "198.51.100.1");
  auto res = check(mailfrom("192.0.2.1", "a@tr.example"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.dns_lookups, 2u);
  EXPECT_EQ(res.void_lookups, 1u);
  bool saw_txt = false, saw_a = false, saw_mx = false;
  for (const auto& t : res.trace) {
    if (t.query == "TXT tr.example") saw_txt = true;
    if (t.query == "A x.tr.example" && t.term == "a:x.tr.example") saw_a = true;
    if (t.query == "MX tr.example" && t.term == "mx") {
      saw_mx = true;
      EXPECT_NE(t.outcome.find("nodata"), std::string::npos) << t.outcome;
    }
  }
  EXPECT_TRUE(saw_txt && saw_a && saw_mx);
}

TEST_F(SpfEval, MalformedTargetIsNoMatchWithoutLookup) {
  // §4.3/§7.3: a 64-octet label after expansion is never queried; the term does not match and
  // no void lookup is counted (pyspf/pydns behave alike).
  zone.add_txt("ml.example", "v=spf1 exists:%{l}.u.ml.example a:x..ml.example ip4:192.0.2.1 -all");
  auto res = check(mailfrom("192.0.2.1", std::string(64, 'x') + "@ml.example"));
  EXPECT_EQ(res.result, SpfResult::Pass) << res.problem;
  EXPECT_EQ(res.void_lookups, 0u);
  EXPECT_EQ(res.dns_lookups, 2u);
  EXPECT_EQ(zone.total_queries(), 1u);
  zone.add_txt("mli.example", "v=spf1 include:a..mli.example -all");
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@mli.example")).result, SpfResult::PermError);
}

TEST_F(SpfEval, MxOrderIsDeterministic) {
  // Equal preferences: names are tried in order, so the void limit (a.mx) is met before the
  // DNS error (b.mx) whatever order the answer lists them in.
  opt.max_void_lookups = 0;
  zone.add_txt("ord.example", "v=spf1 mx -all");
  zone.add_mx("ord.example", 10, "b.mx.ord.example");
  zone.add_mx("ord.example", 10, "a.mx.ord.example");
  zone.set_failure("b.mx.ord.example", dns::Status::ServFail);
  auto res = check(mailfrom("192.0.2.1", "a@ord.example"));
  EXPECT_EQ(res.result, SpfResult::PermError) << res.problem;
  opt.max_void_lookups = 2;
  res = check(mailfrom("192.0.2.1", "a@ord.example"));
  EXPECT_EQ(res.result, SpfResult::TempError) << res.problem;
}

TEST_F(SpfEval, PtrDnsErrorIsNoMatch) {
  // §5.5: "If a DNS error occurs while doing the PTR RR lookup, then this mechanism fails to
  // match"; an error on one name's A lookup skips that name.
  zone.add_txt("pe.example", "v=spf1 ptr ip4:192.0.2.1 -all");
  zone.set_failure("1.2.0.192.in-addr.arpa", dns::Status::ServFail);
  EXPECT_EQ(check(mailfrom("192.0.2.1", "a@pe.example")).result, SpfResult::Pass);
  zone.add_txt("pa.example", "v=spf1 ptr -all");
  zone.add_ptr("2.2.0.192.in-addr.arpa", "bad.pa.example");
  zone.add_ptr("2.2.0.192.in-addr.arpa", "good.pa.example");
  zone.set_failure("bad.pa.example", dns::Status::Timeout);
  zone.add_a("good.pa.example", "192.0.2.2");
  EXPECT_EQ(check(mailfrom("192.0.2.2", "a@pa.example")).result, SpfResult::Pass);
}

TEST_F(SpfEval, RedirectCountsOnlyWhenReached) {
  // §4.6.4 counts terms during evaluation: a redirect= never reached costs nothing.
  std::string rec = "v=spf1";
  for (int i = 0; i < 9; ++i) rec += " a:h" + std::to_string(i) + ".rc.example";
  rec += " exists:hit.rc.example redirect=other.rc.example";
  zone.add_txt("rc.example", rec);
  zone.add_a("hit.rc.example", "127.0.0.2");
  for (int i = 0; i < 9; ++i) zone.add_a("h" + std::to_string(i) + ".rc.example", "198.51.100.1");
  auto res = check(mailfrom("192.0.2.1", "a@rc.example"));
  EXPECT_EQ(res.result, SpfResult::Pass) << res.problem;
  EXPECT_EQ(res.dns_lookups, 10u);
}

TEST_F(SpfEval, HostileIdentitiesStayBounded) {
  zone.add_txt("ho.example", "v=spf1 exists:%{l}.%{h}.ho.example a:%{s}.ho.example -all exp=w.ho.example");
  zone.add_txt("w.ho.example", "%{l} %{h} %{s}");
  std::string big_local(100000, 'a');
  auto res = check(mailfrom("192.0.2.1", big_local + "@ho.example", std::string("he\0lo", 5)));
  EXPECT_EQ(res.result, SpfResult::PermError) << "expansion over the bound: " << res.problem;
  // NUL, CR/LF and non-ASCII in identities: evaluated without crashing, output printable.
  res = check(mailfrom("192.0.2.1", "a\r\nb@ho.example", "h\xC3\xA9lo"));
  EXPECT_EQ(res.result, SpfResult::Fail);
  EXPECT_EQ(res.explanation, "a??b h??lo a??b@ho.example");
  for (const auto& t : res.trace) {
    for (char c : t.query + t.outcome) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  }
  for (int i = 0; i < 10000; ++i) {
    auto r = check(mailfrom("192.0.2.1", "@", "@"));
    ASSERT_EQ(r.result, SpfResult::None);
  }
}

TEST_F(SpfEval, BadClientIp) {
  zone.add_txt("example.com", "v=spf1 -all");
  auto res = check(mailfrom("not-an-ip", "a@example.com"));
  EXPECT_EQ(res.result, SpfResult::PermError);
}

// ---- drivers ----------------------------------------------------------------------------------

/// A resolver that answers later: callbacks are queued and run by the test.
class DeferredResolver : public dns::Resolver {
 public:
  explicit DeferredResolver(dns::Resolver& backing) : backing_(backing) {}
  void query_async(std::string_view name, dns::RType type, dns::Callback cb) override {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::string(name), type, std::move(cb)});
  }
  dns::Answer query(std::string_view name, dns::RType type) override {
    return backing_.query(name, type);
  }
  bool run_one() {
    Item it;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return false;
      it = std::move(queue_.front());
      queue_.pop_front();
    }
    it.cb(backing_.query(it.name, it.type));
    return true;
  }
  std::size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  struct Item {
    std::string name;
    dns::RType type{};
    dns::Callback cb;
  };
  dns::Resolver& backing_;
  std::mutex mu_;
  std::deque<Item> queue_;
};

TEST_F(SpfEval, AsyncDeferredEqualsBlocking) {
  zone.add_txt("as.example", "v=spf1 a:x.as.example mx include:i.as.example -all exp=e.as.example");
  zone.add_a("x.as.example", "198.51.100.1");
  zone.add_mx("as.example", 5, "mx.as.example");
  zone.add_a("mx.as.example", "198.51.100.2");
  zone.add_txt("i.as.example", "v=spf1 ip4:198.51.100.3");
  zone.add_txt("e.as.example", "no %{i}");
  DeferredResolver deferred(zone);
  int calls = 0;
  CheckResult got;
  check_host_async(deferred, mailfrom("192.0.2.1", "a@as.example"), opt,
                   [&](CheckResult r) {
                     ++calls;
                     got = std::move(r);
                   });
  EXPECT_EQ(calls, 0);
  std::size_t steps = 0;
  while (deferred.run_one()) {
    ++steps;
    EXPECT_LE(deferred.queued(), 1u) << "one question at a time";
  }
  EXPECT_EQ(calls, 1);
  EXPECT_GE(steps, 6u);
  auto blocking = check(mailfrom("192.0.2.1", "a@as.example"));
  EXPECT_EQ(got.result, SpfResult::Fail);
  EXPECT_EQ(got.result, blocking.result);
  EXPECT_EQ(got.explanation, "no 192.0.2.1");
  EXPECT_EQ(got.explanation, blocking.explanation);
  EXPECT_EQ(got.dns_lookups, blocking.dns_lookups);
  EXPECT_EQ(got.trace.size(), blocking.trace.size());
}

TEST_F(SpfEval, AsyncInlineAnswersDoNotRecurse) {
  // ZoneResolver answers inline; 10 lookups × many MX/PTR names must not grow the stack
  // (the trampoline keeps it flat) and the completion runs exactly once, before return.
  std::string rec = "v=spf1";
  for (int i = 0; i < 10; ++i) rec += " mx:m" + std::to_string(i) + ".in.example";
  zone.add_txt("in.example", rec + " -all");
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      std::string n = "h" + std::to_string(j) + ".m" + std::to_string(i) + ".in.example";
      zone.add_mx("m" + std::to_string(i) + ".in.example", static_cast<std::uint16_t>(j), n);
      zone.add_a(n, "198.51.100.9");
    }
  }
  int calls = 0;
  SpfResult r = SpfResult::None;
  check_host_async(zone, mailfrom("192.0.2.1", "a@in.example"), opt, [&](CheckResult c) {
    ++calls;
    r = c.result;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r, SpfResult::Fail);
}

TEST_F(SpfEval, AsyncAnswersFromAnotherThread) {
  zone.add_txt("th.example", "v=spf1 a:x.th.example include:i.th.example -all");
  zone.add_a("x.th.example", "198.51.100.1");
  zone.add_txt("i.th.example", "v=spf1 ip4:192.0.2.1");
  DeferredResolver deferred(zone);
  std::mutex mu;
  int calls = 0;
  SpfResult r = SpfResult::None;
  check_host_async(deferred, mailfrom("192.0.2.1", "a@th.example"), opt, [&](CheckResult c) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    r = c.result;
  });
  std::thread worker([&] {
    for (int spins = 0; spins < 100000; ++spins) {
      if (!deferred.run_one()) {
        std::lock_guard<std::mutex> lock(mu);
        if (calls > 0) break;
        std::this_thread::yield();
      }
    }
  });
  worker.join();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r, SpfResult::Pass);
}

/// Answers like `backing`, each answer after `delay`.
class SlowResolver : public dns::Resolver {
 public:
  SlowResolver(dns::Resolver& backing, std::chrono::milliseconds delay)
      : backing_(backing), delay_(delay) {}
  void query_async(std::string_view name, dns::RType type, dns::Callback cb) override {
    cb(query(name, type));
  }
  dns::Answer query(std::string_view name, dns::RType type) override {
    std::this_thread::sleep_for(delay_);
    return backing_.query(name, type);
  }

 private:
  dns::Resolver& backing_;
  std::chrono::milliseconds delay_;
};

TEST_F(SpfEval, TimeLimitGivesTemperror) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 8; ++i) {
    rec += " a:h" + std::to_string(i) + ".slow.example";
    zone.add_a("h" + std::to_string(i) + ".slow.example", "198.51.100.1");
  }
  zone.add_txt("slow.example", rec + " -all");
  SlowResolver slow(zone, std::chrono::milliseconds(25));
  opt.time_limit = std::chrono::milliseconds(60);
  auto res = check_host(slow, mailfrom("192.0.2.1", "a@slow.example"), opt);
  EXPECT_EQ(res.result, SpfResult::TempError);
  EXPECT_NE(res.problem.find("time limit"), std::string::npos) << res.problem;
  EXPECT_LT(res.dns_lookups, 8u);
  SpfResult async_result = SpfResult::None;
  check_host_async(slow, mailfrom("192.0.2.1", "a@slow.example"), opt,
                   [&](CheckResult r) { async_result = r.result; });
  EXPECT_EQ(async_result, SpfResult::TempError);
  opt.time_limit = std::chrono::milliseconds(0);
  EXPECT_EQ(check_host(slow, mailfrom("192.0.2.1", "a@slow.example"), opt).result,
            SpfResult::Fail);
}

TEST_F(SpfEval, ExpireAbandonsPendingQuestion) {
  zone.add_txt("ex.example", "v=spf1 a -all");
  Evaluation ev(mailfrom("192.0.2.1", "a@ex.example"), opt);
  ASSERT_FALSE(ev.done());
  ev.expire("shutting down");
  ASSERT_TRUE(ev.done());
  EXPECT_EQ(ev.result().result, SpfResult::TempError);
  EXPECT_EQ(ev.result().problem, "shutting down");
  ev.resume(zone.query("ex.example", dns::RType::TXT));  // ignored
  EXPECT_EQ(ev.result().result, SpfResult::TempError);
}

TEST_F(SpfEval, ExpireDuringExplanationKeepsFail) {
  zone.add_txt("xf.example", "v=spf1 -all exp=why.xf.example");
  zone.add_txt("why.xf.example", "never read");
  Evaluation ev(mailfrom("192.0.2.1", "a@xf.example"), opt);
  ev.resume(zone.query(ev.pending().name, ev.pending().type));
  ASSERT_FALSE(ev.done());
  EXPECT_EQ(ev.pending().name, "why.xf.example");
  ev.expire("time limit");
  ASSERT_TRUE(ev.done());
  EXPECT_EQ(ev.result().result, SpfResult::Fail);
  EXPECT_EQ(ev.result().explanation, "DEFAULT");
  EXPECT_EQ(ev.result().mechanism, "-all");
}

TEST_F(SpfEval, ManualStateMachine) {
  zone.add_txt("sm.example", "v=spf1 exists:%{l}.sm.example -all");
  zone.add_a("bob.sm.example", "127.0.0.2");
  Evaluation ev(mailfrom("192.0.2.1", "bob@sm.example"), opt);
  ASSERT_FALSE(ev.done());
  EXPECT_EQ(ev.pending().name, "sm.example");
  EXPECT_EQ(ev.pending().type, dns::RType::TXT);
  ev.resume(zone.query(ev.pending().name, ev.pending().type));
  ASSERT_FALSE(ev.done());
  EXPECT_EQ(ev.pending().name, "bob.sm.example");
  EXPECT_EQ(ev.pending().type, dns::RType::A);
  ev.resume(dns::Answer::with_status(dns::Status::Timeout, "scripted"));
  ASSERT_TRUE(ev.done());
  EXPECT_EQ(ev.result().result, SpfResult::TempError);
}

}  // namespace
}  // namespace auth::spf
