// Live data sets (dsn:, ldap:) for the options OpenDKIM asks per message: the probe keys of
// dkimf_checkhost / dkimf_checkip / dkimf_checkbldb in OpenDKIM's order, the walks over a fake
// LiveDataset that records every key asked, HostSet, MTA in decide_origin, `-Q` output, and the
// configuration loader (which options stay live, which become an empty list with a warning,
// which are refused).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "auth/config/dataset.h"
#include "auth/config/legacy.h"
#include "dkim/dkim_core.h"

namespace {

using auth::config::LiveDataset;
using auth::config::LiveValues;
using inkan::dkim::HostSet;

/// A LiveDataset answering from a map; keys in `failing` fail; every key asked is recorded.
class FakeLive final : public LiveDataset {
 public:
  explicit FakeLive(std::map<std::string, LiveValues> rows = {}, std::string origin = "dsn:fake://h/d/table=t")
      : rows_(std::move(rows)), origin_(std::move(origin)) {}
  auth::Result<std::optional<LiveValues>> lookup(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    asked.emplace_back(key);
    if (fail_all || failing.count(std::string(key)) != 0) {
      return auth::fail(auth::ErrorCode::Io, origin_ + ": server gone away");
    }
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) return std::optional<LiveValues>{};
    return std::optional<LiveValues>{it->second};
  }
  const std::string& origin() const noexcept override { return origin_; }
  int lookup_status(const auth::Error&) const override { return status; }

  std::vector<std::string> asked;
  std::set<std::string> failing;
  bool fail_all = false;
  int status = -1;

 private:
  std::mutex mu_;
  std::map<std::string, LiveValues> rows_;
  std::string origin_;
};

std::shared_ptr<FakeLive> live(std::initializer_list<std::string> keys) {
  std::map<std::string, LiveValues> rows;
  for (const auto& k : keys) rows[k] = LiveValues{"1"};
  return std::make_shared<FakeLive>(std::move(rows));
}

auth::net::IpAddress ip(std::string_view text) { return *auth::net::parse_ip(text); }

/* ---------------- probe keys ---------------- */

TEST(HostNameProbes, NameThenEachSuffixNegativeFirstLowerCase) {
  EXPECT_EQ(inkan::dkim::host_name_probes("Mail.Example.COM."),
            (std::vector<std::string>{"!mail.example.com", "mail.example.com", "!.example.com", ".example.com",
                                      "!.com", ".com"}));
  EXPECT_EQ(inkan::dkim::host_name_probes("localhost"), (std::vector<std::string>{"!localhost", "localhost"}));
}

TEST(HostNameProbes, EmptyAndOverlongHaveNone) {
  EXPECT_TRUE(inkan::dkim::host_name_probes("").empty());
  EXPECT_TRUE(inkan::dkim::host_name_probes(".").empty());
  EXPECT_TRUE(inkan::dkim::host_name_probes(std::string(254, 'a')).empty());
  // 10 000 labels: refused as a name (longer than 253), so the walk stays bounded.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "a.";
  EXPECT_TRUE(inkan::dkim::host_name_probes(many).empty());
  // The longest acceptable name: at most 127 labels, two keys each.
  std::string longest;
  while (longest.size() + 2 <= 253) longest += "a.";
  longest += "b";
  EXPECT_LE(inkan::dkim::host_name_probes(longest).size(), 2u * 127u);
}

TEST(HostIpProbes, Ipv4ExactBracketsThenPrefixes32To0) {
  auto p = inkan::dkim::host_ip_probes(ip("192.0.2.7"));
  ASSERT_EQ(p.size(), 4u + 33u * 4u);
  EXPECT_EQ(std::vector<std::string>(p.begin(), p.begin() + 12),
            (std::vector<std::string>{"!192.0.2.7", "192.0.2.7", "![192.0.2.7]", "[192.0.2.7]", "!192.0.2.7/32",
                                      "192.0.2.7/32", "![192.0.2.7]/32", "[192.0.2.7]/32", "!192.0.2.6/31",
                                      "192.0.2.6/31", "![192.0.2.6]/31", "[192.0.2.6]/31"}));
  EXPECT_EQ(p[4 + 8 * 4 + 1], "192.0.2.0/24");
  EXPECT_EQ(p.back(), "[0.0.0.0]/0");
}

TEST(HostIpProbes, Ipv6LowerCaseInetNtopForm128To0) {
  auto p = inkan::dkim::host_ip_probes(ip("2001:DB8::1"));
  ASSERT_EQ(p.size(), 4u + 129u * 4u);
  EXPECT_EQ(p[1], "2001:db8::1");
  EXPECT_EQ(p[3], "[2001:db8::1]");
  EXPECT_EQ(p[5], "2001:db8::1/128");
  EXPECT_EQ(p[4 + 96 * 4 + 1], "2001:db8::/32");
  EXPECT_EQ(p.back(), "[::]/0");
}

TEST(BodyLengthProbes, CheckbldbOrderCaseKept) {
  EXPECT_EQ(inkan::dkim::body_length_probes("<User@Sub.Example.COM>"),
            (std::vector<std::string>{"User@Sub.Example.COM", "*@Sub.Example.COM", "User@.Example.COM",
                                      "*@.Example.COM", "User@.COM", "*@.COM", "User@*", "*"}));
  EXPECT_TRUE(inkan::dkim::body_length_probes("no-at-sign").empty());
  EXPECT_TRUE(inkan::dkim::body_length_probes("@example.com").empty());
  EXPECT_TRUE(inkan::dkim::body_length_probes("user@").empty());
  std::string many = "u@";
  for (int i = 0; i < 10000; ++i) many += "a.";
  EXPECT_LE(inkan::dkim::body_length_probes(many).size(), 2u * (inkan::dkim::kMaxBodyLengthLabels + 1) + 2u);
}

/* ---------------- walks ---------------- */

struct WalkCase {
  const char* name;
  std::vector<std::string> rows;
  bool member;
  bool decided;
  const char* key;
};
class WalkTest : public ::testing::TestWithParam<WalkCase> {};

TEST_P(WalkTest, FirstKeyFoundDecides) {
  const auto& c = GetParam();
  std::map<std::string, LiveValues> rows;
  for (const auto& r : c.rows) rows[r] = {"1"};
  FakeLive d(rows);
  auto w = inkan::dkim::walk_host_probes(d, inkan::dkim::host_name_probes("a.b.example"));
  EXPECT_EQ(w.member, c.member);
  EXPECT_EQ(w.decided, c.decided);
  EXPECT_EQ(w.key, c.key);
  EXPECT_TRUE(w.error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, WalkTest,
    ::testing::Values(WalkCase{"none", {}, false, false, ""},
                      WalkCase{"exact", {"a.b.example"}, true, true, "a.b.example"},
                      WalkCase{"suffix", {".example"}, true, true, ".example"},
                      WalkCase{"negative_before_positive", {"!a.b.example", "a.b.example"}, false, true,
                               "!a.b.example"},
                      WalkCase{"specific_positive_beats_broad_negative", {"a.b.example", "!.example"}, true, true,
                               "a.b.example"},
                      WalkCase{"specific_negative_beats_broad_positive", {"!.b.example", ".example"}, false, true,
                               "!.b.example"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(WalkHostProbes, FailedLookupEndsTheWalkAsNotListed) {
  FakeLive d(std::map<std::string, LiveValues>{{".example", {"1"}}});
  d.failing = {"!.b.example"};
  auto w = inkan::dkim::walk_host_probes(d, inkan::dkim::host_name_probes("a.b.example"));
  EXPECT_FALSE(w.member);
  EXPECT_TRUE(w.decided);
  EXPECT_EQ(w.error, "error looking up \"!.b.example\" in database: server gone away");
  EXPECT_EQ(d.asked, (std::vector<std::string>{"!a.b.example", "a.b.example", "!.b.example"}));
}

/* ---------------- HostSet ---------------- */

TEST(HostSet, NameExclusionDoesNotStopTheAddressWalk) {
  auto d = live({"!client.example.net", "192.0.2.0/24"});
  HostSet h(d);
  auto a = ip("192.0.2.7");
  EXPECT_TRUE(h.match(&a, "client.example.net"));
  EXPECT_EQ(d->asked.front(), "!client.example.net");
}

TEST(HostSet, AddressNegativeBeforePrefix) {
  auto d = live({"!192.0.2.7", "192.0.2.0/24"});
  HostSet h(d);
  auto a = ip("192.0.2.7");
  EXPECT_FALSE(h.match(&a, "client.example.net"));
  auto b = ip("192.0.2.8");
  EXPECT_TRUE(h.match(&b, "client.example.net"));
}

TEST(HostSet, BracketedNameStandsInForAMissingAddressUnknownIsNotProbed) {
  auto d = live({"192.0.2.7"});
  HostSet h(d);
  EXPECT_TRUE(h.match(nullptr, "[192.0.2.7]"));
  d->asked.clear();
  auto a = ip("198.51.100.1");
  EXPECT_FALSE(h.match(&a, "unknown"));
  EXPECT_EQ(d->asked.front(), "!198.51.100.1");
  EXPECT_FALSE(h.match(nullptr, ""));
}

TEST(HostSet, MappedAddressProbedAsIpv4WhenUndecided) {
  auto d = live({"192.0.2.0/24"});
  HostSet h(d);
  auto a = ip("::ffff:192.0.2.7");
  EXPECT_TRUE(h.match(&a, ""));
}

TEST(HostSet, LookupErrorIsNotListedAndReported) {
  auto d = live({"192.0.2.7"});
  d->fail_all = true;
  HostSet h(d);
  auto a = ip("192.0.2.7");
  std::string err;
  EXPECT_FALSE(h.match(&a, "client.example.net", &err));
  EXPECT_NE(err.find("error looking up \"!client.example.net\" in database: server gone away"), std::string::npos);
  EXPECT_NE(err.find("error looking up \"!192.0.2.7\""), std::string::npos);
  EXPECT_FALSE(h.match(&a, "client.example.net"));  // no error sink: still no crash
}

TEST(HostSet, FileListsAreUnchanged) {
  auto parsed = auth::net::HostList::parse("192.0.2.0/24\n!192.0.2.7\n");
  ASSERT_TRUE(parsed);
  HostSet h(*parsed);
  EXPECT_FALSE(h.live());
  EXPECT_FALSE(h.empty());
  auto a = ip("192.0.2.7"), b = ip("192.0.2.8");
  EXPECT_FALSE(h.match(&a, ""));
  EXPECT_TRUE(h.match(&b, ""));
  EXPECT_TRUE(HostSet().empty());
}

TEST(HostSet, BuildHostListsKeepsLiveSources) {
  auth::config::DkimSettings s;
  auto d = live({"10.0.0.0/8"});
  s.internal_hosts.entries.clear();
  s.internal_hosts.live = d;
  auto h = inkan::dkim::build_host_lists(s);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->internal.live());
  auto a = ip("10.1.2.3");
  EXPECT_TRUE(h->internal.match(&a, ""));
  EXPECT_FALSE(h->peers.live());
}

/* ---------------- per-message lists ---------------- */

TEST(LiveDontSignTo, LastRecipientFirstBracketsStrippedCaseKept) {
  auto d = live({"Rcpt@Example.COM"});
  auto a = inkan::dkim::live_dont_sign_to(*d, {"<first@example.com>", "<Rcpt@Example.COM>"});
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.key, "Rcpt@Example.COM");
  EXPECT_EQ(d->asked, (std::vector<std::string>{"Rcpt@Example.COM"}));
  EXPECT_FALSE(inkan::dkim::live_dont_sign_to(*d, {"<rcpt@example.com>"}).found);
}

TEST(LiveDontSignTo, ErrorStops) {
  auto d = live({"b@x"});
  d->failing = {"b@x"};
  auto a = inkan::dkim::live_dont_sign_to(*d, {"a@x", "b@x"});
  EXPECT_FALSE(a.found);
  EXPECT_EQ(a.error, "error looking up \"b@x\" in database: server gone away");
  EXPECT_EQ(d->asked, (std::vector<std::string>{"b@x"}));
}

TEST(LiveBodyLength, ErrorsAreLoggedAndTheWalkGoesOn) {
  auto d = live({"*@.com"});
  d->failing = {"u@a.b.com"};
  std::vector<std::string> errors;
  auto a = inkan::dkim::live_body_length_recipient(*d, {"<u@a.b.com>"}, &errors);
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.key, "u@a.b.com");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "error looking up \"u@a.b.com\" in database: server gone away");
  EXPECT_EQ(d->asked, (std::vector<std::string>{"u@a.b.com", "*@a.b.com", "u@.b.com", "*@.b.com", "u@.com", "*@.com"}));
}

TEST(DecideOrigin, LiveMtaFoundErrorOrAbsentMacro) {
  auth::config::DkimSettings s;
  s.live_lists.mta = live({"ORIG"});
  inkan::dkim::HostLists hosts;  // empty InternalHosts
  inkan::dkim::Origin o;
  o.daemon_name = "ORIG";
  auto d = inkan::dkim::decide_origin(s, hosts, o);
  EXPECT_TRUE(d.internal);
  EXPECT_EQ(d.why, "MTA 'ORIG'");
  o.daemon_name = "OTHER";
  EXPECT_FALSE(inkan::dkim::decide_origin(s, hosts, o).internal);
  o.daemon_name.clear();
  auto* fake = static_cast<FakeLive*>(s.live_lists.mta.get());
  fake->asked.clear();
  EXPECT_FALSE(inkan::dkim::decide_origin(s, hosts, o).internal);
  EXPECT_TRUE(fake->asked.empty());  // no {daemon_name}: not asked (mlfi_eoh)
  fake->fail_all = true;
  o.daemon_name = "ORIG";
  d = inkan::dkim::decide_origin(s, hosts, o);
  EXPECT_FALSE(d.internal);
  EXPECT_EQ(d.lookup_error, "error looking up \"ORIG\" in database: server gone away");
}

TEST(LiveRemoveArFrom, AskedForTheAuthservIdErrorKeepsTheField) {
  auth::config::DkimSettings s;
  auto d = live({"mx.example.net"});
  s.live_lists.remove_ar_from = d;
  EXPECT_TRUE(inkan::dkim::should_remove_ar("mx.example.net; dkim=pass header.d=x", "ours.example", s));
  EXPECT_EQ(d->asked, (std::vector<std::string>{"mx.example.net"}));
  EXPECT_FALSE(inkan::dkim::should_remove_ar("other.example; dkim=pass header.d=x", "ours.example", s));
  EXPECT_FALSE(inkan::dkim::should_remove_ar("mx.example.net; spf=pass", "ours.example", s));  // no dkim result
  d->fail_all = true;
  std::string err;
  EXPECT_FALSE(inkan::dkim::should_remove_ar("mx.example.net; dkim=pass", "ours.example", s, &err));
  EXPECT_EQ(err, "error looking up \"mx.example.net\" in database: server gone away");
}

TEST(LiveDomain, SenderDomainThenStarThenParents) {
  auth::config::DkimSettings s;
  s.key_table = false;
  s.keys.push_back(auth::config::DkimKey{"default", "%", "sel", "/keys/%.pem", std::nullopt});
  s.subdomains = true;
  auto d = live({"example.org"});
  s.live_lists.domains = d;
  auto r = auth::config::lookup_signing_keys(s, "u", "A.Sub.Example.ORG");
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].domain, "example.org");
  EXPECT_EQ(r.requests[0].signer, "@example.org");
  EXPECT_EQ(r.requests[0].key_path_or_data, "/keys/example.org.pem");
  EXPECT_EQ(d->asked, (std::vector<std::string>{"a.sub.example.org", "*", "sub.example.org", "example.org"}));
  r = auth::config::lookup_signing_keys(s, "u", "example.org");
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].domain, "example.org");
  EXPECT_TRUE(r.requests[0].signer.empty());
  s.subdomains = false;
  EXPECT_TRUE(auth::config::lookup_signing_keys(s, "u", "sub.example.org").requests.empty());
  // select_signing_keys (the external-host notice) asks the live Domain too.
  EXPECT_EQ(auth::config::select_signing_keys(s, "u", "example.org", nullptr).size(), 1u);
  d->fail_all = true;
  r = auth::config::lookup_signing_keys(s, "u", "example.org");
  EXPECT_TRUE(r.requests.empty());
  EXPECT_FALSE(r.error);  // not a tempfail: logged, not signed
  EXPECT_EQ(r.log, (std::vector<std::string>{"error looking up \"example.org\" in database: server gone away",
                                             "error looking up \"*\" in database: server gone away"}));
}

/* ---------------- -Q ---------------- */

struct QueryCase {
  const char* name;
  const char* query;
  const char* out;
  const char* err;
  int exit_code;
};
class LiveQueryTest : public ::testing::TestWithParam<QueryCase> {};

TEST_P(LiveQueryTest, AsOpendkim) {
  const auto& c = GetParam();
  FakeLive d(std::map<std::string, LiveValues>{{"k1", {"example.org", "sel", ""}}, {"k2", {"", "sel", "/x"}}});
  d.failing = {"gone"};
  d.status = 50;
  auto a = inkan::dkim::answer_live_query(d, c.query, "opendkim");
  EXPECT_EQ(a.out, c.out);
  EXPECT_EQ(a.err, c.err);
  EXPECT_EQ(a.exit_code, c.exit_code);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LiveQueryTest,
    ::testing::Values(
        QueryCase{"three", "k1/3", "'example.org'\n'sel'\n<empty>\n\n", "", 0},
        QueryCase{"two", "k1/2", "'example.org'\n'sel'\n\n", "", 0},
        QueryCase{"zero", "k1/0", "\n", "", 0},
        QueryCase{"more_than_columns", "k1/5", "'example.org'\n'sel'\n<empty>\n<empty>\n<empty>\n\n", "", 0},
        QueryCase{"empty_first", "k2/3", "<empty>\n'sel'\n'/x'\n\n", "", 0},
        QueryCase{"not_found", "nokey/2", "opendkim: dkimf_db_get(): record not found\n\n", "", 0},
        QueryCase{"error", "gone/2", "\n", "opendkim: dkimf_db_get() returned 50: \"server gone away\"\n", 0},
        QueryCase{"no_slash", "bad", "", "opendkim: invalid query 'bad'\n", 64},
        QueryCase{"negative", "k1/-1", "", "opendkim: invalid query 'k1/-1'\n", 64},
        QueryCase{"non_numeric_is_zero", "k1/x", "\n", "", 0},
        QueryCase{"key_with_slash", "a/b/1", "opendkim: dkimf_db_get(): record not found\n\n", "", 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(LiveQuery, HugeCountIsBounded) {
  FakeLive d(std::map<std::string, LiveValues>{{"k", {"v"}}});
  auto a = inkan::dkim::answer_live_query(d, "k/999999999", "p");
  EXPECT_LT(a.out.size(), 20000u);
  EXPECT_EQ(a.out.substr(0, 4), "'v'\n");
}

/* ---------------- configuration ---------------- */

/// A reader with files from a map and a live opener handing out FakeLive data sets.
struct Env {
  std::map<std::string, std::string> files;
  std::vector<std::string> opened;
  auth::config::FileReader reader() {
    auth::config::DatasetReaders r;
    r.files = [this](const std::string& p) -> auth::Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return auth::fail(auth::ErrorCode::Io, "no such file");
      return it->second;
    };
    r.live = [this](std::string_view spec, const auth::config::LiveDatasetOptions&)
        -> auth::Result<std::shared_ptr<LiveDataset>> {
      opened.emplace_back(spec);
      if (spec.find("unreachable") != std::string_view::npos) {
        return auth::fail(auth::ErrorCode::Io, std::string(spec) + ": Can't contact LDAP server");
      }
      return std::shared_ptr<LiveDataset>(std::make_shared<FakeLive>(std::map<std::string, LiveValues>{},
                                                                     std::string(spec)));
    };
    return r;
  }
  auth::config::DkimSettings load(const std::string& text) {
    auto rd = reader();
    return auth::config::load_dkim_legacy(auth::config::LegacyConfig::parse(text, "/etc/opendkim.conf", rd), rd);
  }
};

constexpr const char* kBase = "Mode sv\nKeyFile /k\nSelector s\nDomain example.org\n";

TEST(LiveConfig, PerMessageOptionsStayLive) {
  Env e;
  e.files["/k"] = "x";
  const std::string live = std::string(kBase) +
                           "InternalHosts dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v\n"
                           "ExternalIgnoreList ldap://127.0.0.1/ou=x?d?one?(cn=$d)\n"
                           "PeerList dsn:sqlite3://./l.db/table=p?keycol=k?datacol=v\n"
                           "MTA dsn:sqlite3://./l.db/table=m?keycol=k?datacol=v\n"
                           "DontSignMailTo dsn:sqlite3://./l.db/table=n?keycol=k?datacol=v\n"
                           "ExemptDomains dsn:sqlite3://./l.db/table=e?keycol=k?datacol=v\n"
                           "BodyLengthDB dsn:sqlite3://./l.db/table=b?keycol=k?datacol=v\n"
                           "ReplaceHeaders dsn:sqlite3://./l.db/table=r?keycol=k?datacol=v\n"
                           "RemoveARFrom dsn:sqlite3://./l.db/table=a?keycol=k?datacol=v\n";
  auto s = e.load(live);
  ASSERT_TRUE(s.internal_hosts.live);
  EXPECT_TRUE(s.internal_hosts.entries.empty());
  EXPECT_EQ(s.external_ignore.live->origin(), "ldap://127.0.0.1/ou=x?d?one?(cn=$d)");
  EXPECT_TRUE(s.peer_list.live);
  EXPECT_TRUE(s.live_lists.mta && s.mta.empty());
  EXPECT_TRUE(s.live_lists.dont_sign_mail_to && s.dont_sign_mail_to.empty());
  EXPECT_TRUE(s.live_lists.exempt_domains && s.exempt_domains.empty());
  EXPECT_TRUE(s.live_lists.body_length_db && s.body_length_db.empty());
  EXPECT_TRUE(s.live_lists.replace_headers && !s.replace_headers);
  EXPECT_TRUE(s.live_lists.remove_ar_from && s.remove_ar_from.empty());
  EXPECT_EQ(e.opened.size(), 9u);
  EXPECT_TRUE(s.same_as(e.load(live)));  // a reload of the same file: equal
  EXPECT_FALSE(s.same_as(e.load(std::string(kBase) + "InternalHosts dsn:sqlite3://./l.db/table=OTHER?keycol=k?datacol=v\n")));
}

TEST(LiveConfig, DomainLiveOnlyWithoutAKeyTable) {
  Env e;
  e.files["/k"] = "x";
  e.files["/kt"] = "k example.org:sel:/k\n";
  e.files["/st"] = "example.org k\n";
  auto s = e.load(std::string(kBase) + "Domain dsn:sqlite3://./l.db/table=d?keycol=k?datacol=v\n");
  EXPECT_TRUE(s.live_lists.domains);
  EXPECT_TRUE(s.domains.empty());
  e.opened.clear();
  s = e.load("Mode s\nKeyTable /kt\nSigningTable /st\nDomain dsn:sqlite3://./l.db/table=d?keycol=k?datacol=v\n");
  EXPECT_FALSE(s.live_lists.domains);
  EXPECT_TRUE(e.opened.empty());  // opendkim opens Domain only without a KeyTable
}

TEST(LiveConfig, MkarrayOptionsBecomeEmptyWithAWarning) {
  Env e;
  e.files["/k"] = "x";
  const std::string ds = "dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v";
  auto s = e.load(std::string(kBase) + "SignHeaders " + ds + "\n");
  EXPECT_TRUE(s.sign_all_but_omitted);
  EXPECT_TRUE(s.sign_headers.empty());
  EXPECT_EQ(s.omit_headers, auth::config::opendkim_default_omit_headers());
  ASSERT_FALSE(s.warnings.empty());
  EXPECT_NE(s.warnings.back().find("SignHeaders " + ds + ": opendkim reads this option once"), std::string::npos);
  s = e.load(std::string(kBase) + "OmitHeaders " + ds + "\n");
  EXPECT_TRUE(s.omit_headers.empty());
  EXPECT_FALSE(s.sign_all_but_omitted);
  EXPECT_EQ(s.sign_headers, auth::config::opendkim_default_sign_headers());
  s = e.load(std::string(kBase) + "OversignHeaders " + ds + "\nSenderHeaders " + ds + "\nMustBeSigned " + ds + "\n");
  EXPECT_TRUE(s.oversign_headers.empty());
  EXPECT_EQ(s.sender_headers, (std::vector<std::string>{"from"}));
  EXPECT_TRUE(s.must_be_signed.empty());
  EXPECT_EQ(s.warnings.size() >= 3, true);
}

TEST(LiveConfig, MacroListRefusedUnreachableServerFails) {
  Env e;
  e.files["/k"] = "x";
  try {
    e.load(std::string(kBase) + "MacroList dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v\n");
    FAIL() << "MacroList dsn: accepted";
  } catch (const auth::config::ConfigError& err) {
    EXPECT_NE(err.message().find("invalid data set type for MacroList"), std::string::npos);
  }
  EXPECT_THROW(e.load(std::string(kBase) + "InternalHosts ldap://unreachable/ou=x?d?one?(cn=$d)\n"),
               auth::config::ConfigError);
  EXPECT_THROW(e.load(std::string(kBase) + "SignHeaders ldap://unreachable/ou=x?d?one?(cn=$d)\n"),
               auth::config::ConfigError);
}

TEST(LiveConfig, WithoutAnOpenerStillRefused) {
  auto rd = auth::config::FileReader([](const std::string&) -> auth::Result<std::string> { return std::string("x"); });
  try {
    auth::config::load_dkim_legacy(
        auth::config::LegacyConfig::parse(std::string(kBase) + "InternalHosts dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v\n",
                                          "/etc/opendkim.conf", rd),
        rd);
    FAIL() << "accepted without an opener";
  } catch (const auth::config::ConfigError& err) {
    EXPECT_NE(err.message().find("not supported"), std::string::npos);
  }
}

TEST(LiveConfig, YamlHostsOpenedAfterTheDkimSection) {
  Env e;
  e.files["/k"] = "x";
  auto rd = e.reader();
  auto s = auth::config::load_dkim_yaml(
      "hosts:\n  internal: \"dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v\"\n"
      "dkim:\n  mode: v\n  soft_start: true\n",
      "inkan.yaml", rd);
  ASSERT_TRUE(s.internal_hosts.live);
  EXPECT_EQ(s.internal_hosts.live->origin(), "dsn:sqlite3://./l.db/table=h?keycol=k?datacol=v");
}

}  // namespace
