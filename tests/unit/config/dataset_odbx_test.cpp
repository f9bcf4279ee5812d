// auth::config_odbx: the `dsn:` parser as opendkim-db.c's dkimf_db_open reads it (table-driven,
// hostile inputs), the statements dkimf_db_get / dkimf_db_walk send, the password mask, live
// lookups on a real SQLite file through libopendbx (libopendbx1-sqlite3), and the live
// KeyTable / SigningTable wiring of the DKIM settings (legacy and YAML, lookups per message).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "auth/config/dataset.h"
#include "auth/config/dataset_odbx.h"
#include "auth/config/dkim.h"

namespace {

using namespace auth::config;
using auth::Result;

/* ---------------- parser ---------------- */

struct ParseCase {
  const char* name;
  const char* spec;
  bool ok;
  DsnSpec want;          // when ok
  const char* error;     // substring of the reason when !ok
};

DsnSpec spec(std::string backend, std::string user, std::string password, std::string port, std::string host,
             std::string dbase, std::string table, std::string keycol, std::string datacol,
             std::optional<std::string> filter = std::nullopt) {
  return DsnSpec{std::move(backend), std::move(user), std::move(password), std::move(port), std::move(host),
                 std::move(dbase), std::move(table), std::move(keycol), std::move(datacol), std::move(filter)};
}

void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name << ": " << c.spec; }

class DsnParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DsnParse, AsOpenDkim) {
  const auto& c = GetParam();
  auto r = parse_dsn(c.spec);
  if (c.ok) {
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(*r, c.want);
  } else {
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().reason.find(c.error), std::string::npos) << r.error().reason;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DsnParse,
    ::testing::Values(
        // opendkim.conf(5)'s example (with the "//" the code requires).
        ParseCase{"manual", "dsn:mysql://dbuser:dbpass@3306+dbhost/odkim/table=macros?keycol=host?datacol=v1,v2", true,
                  spec("mysql", "dbuser", "dbpass", "3306", "dbhost", "odkim", "macros", "host", "v1,v2"), ""},
        ParseCase{"no prefix, upper-case prefix", "DSN:pgsql://h/d/table=t?keycol=k?datacol=v", true,
                  spec("pgsql", "", "", "", "h", "d", "t", "k", "v"), ""},
        ParseCase{"user without password", "dsn:mysql://bob@h/d/table=t?keycol=k?datacol=v", true,
                  spec("mysql", "bob", "", "", "h", "d", "t", "k", "v"), ""},
        ParseCase{"sqlite host+dbase", "dsn:sqlite3://./keys.db/table=keytab?keycol=name?datacol=dom,sel,keyp", true,
                  spec("sqlite3", "", "", "", ".", "keys.db", "keytab", "name", "dom,sel,keyp"), ""},
        ParseCase{"names case-insensitive, last wins, unknown ignored, empty tokens",
                  "dsn:pgsql://h/d/TABLE=a??Table=b?x=y?noeq?KeyCol=k?DATACOL=v", true,
                  spec("pgsql", "", "", "", "h", "d", "b", "k", "v"), ""},
        ParseCase{"filter decoded", "dsn:pgsql://h/d/table=t?keycol=k?datacol=v?filter=ID=20>=201000", true,
                  spec("pgsql", "", "", "", "h", "d", "t", "k", "v", "ID > 1000"), ""},
        ParseCase{"raw = in filter kept", "dsn:pgsql://h/d/table=t?keycol=k?datacol=v?filter=a=b", true,
                  spec("pgsql", "", "", "", "h", "d", "t", "k", "v", "a=b"), ""},
        // Documented, not opendkim 2.11: =XX decoded everywhere, lower-case hex too.
        ParseCase{"escapes everywhere", "dsn:pgsql://u=40x:p=3aw@5432+=2Ftmp=2Fs/d=2Fb/table=t=5F1?keycol=k?datacol=v", true,
                  spec("pgsql", "u@x", "p:w", "5432", "/tmp/s", "d/b", "t_1", "k", "v"), ""},
        ParseCase{"slash after port+", "dsn:mysql://3306+/h/d/table=t?keycol=k?datacol=v", true,
                  spec("mysql", "", "", "3306", "h", "d", "t", "k", "v"), ""},
        ParseCase{"no //", "dsn:mysql:/h/d/table=t?keycol=k?datacol=v", false, {}, "\"//\""},
        ParseCase{"manual typo mysql::", "dsn:mysql:://h/d/table=t?keycol=k?datacol=v", false, {}, "\"//\""},
        ParseCase{"no backend", "dsn://h/d/table=t?keycol=k?datacol=v", false, {}, "backend://"},
        ParseCase{"empty backend", "dsn:://h/d/table=t?keycol=k?datacol=v", false, {}, "no backend"},
        ParseCase{"no colon", "dsn:mysql", false, {}, "backend://"},
        ParseCase{"two users", "dsn:mysql://u:a:b@h/d/table=t?keycol=k?datacol=v", false, {}, "more than one user"},
        ParseCase{"? before the database", "dsn:mysql://h?x/d/table=t?keycol=k?datacol=v", false, {}, "unexpected '?'"},
        ParseCase{"bare = before the database", "dsn:mysql://u=x@h/d/table=t?keycol=k?datacol=v", false, {}, "unexpected '='"},
        ParseCase{"no host", "dsn:mysql://user@", false, {}, "SQL host not defined"},
        ParseCase{"empty", "", false, {}, "backend://"},
        ParseCase{"no second slash: rest read as pairs", "dsn:mysql://h/table=t?keycol=k?datacol=v", false, {},
                  "unexpected '='"},
        ParseCase{"no table", "dsn:mysql://h/d/keycol=k?datacol=v", false, {}, "table="},
        ParseCase{"no keycol", "dsn:mysql://h/d/table=t?datacol=v", false, {}, "keycol="},
        ParseCase{"no datacol", "dsn:mysql://h/d/table=t?keycol=k", false, {}, "datacol="},
        ParseCase{"encoded NUL", "dsn:mysql://h/d/table=t=00?keycol=k?datacol=v", false, {}, "NUL"}),
    [](const ::testing::TestParamInfo<ParseCase>& i) {
      std::string n;
      for (const char* p = i.param.name; *p; ++p) n.push_back(std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_');
      return n + "_" + std::to_string(i.index);
    });

TEST(DsnParseHostile, BoundsAndBytes) {
  // Overlong field (opendkim truncates at BUFRSZ-1; refused here).
  std::string longtable(kDsnMaxFieldBytes + 1, 't');
  auto r = parse_dsn("dsn:pgsql://h/d/table=" + longtable + "?keycol=k?datacol=v");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, auth::ErrorCode::LimitExceeded);
  std::string exact(kDsnMaxFieldBytes, 't');
  EXPECT_TRUE(parse_dsn("dsn:pgsql://h/d/table=" + exact + "?keycol=k?datacol=v"));
  // Whole value over the bound.
  std::string huge = "dsn:pgsql://h/d/table=t?keycol=k?datacol=v?" + std::string(kDsnMaxBytes, '?');
  EXPECT_FALSE(parse_dsn(huge));
  // NUL bytes, truncated escapes, non-ASCII.
  EXPECT_FALSE(parse_dsn(std::string("dsn:pgsql://h\0x/d/table=t?keycol=k?datacol=v", 44)));
  auto t = parse_dsn("dsn:pgsql://h/d/table=t=4?keycol=k?datacol=v=");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->table, "t=4");
  EXPECT_EQ(t->datacol, "v=");
  auto u = parse_dsn("dsn:pgsql://h\xc3\xa9/d/table=t\xff?keycol=k?datacol=v");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "h\xc3\xa9");
  // 10 000 repetitions stay bounded (a '?' storm and a '/' storm).
  std::string storm = "dsn:pgsql://h/d/";
  for (int i = 0; i < 10000; ++i) storm += "?x=y";
  EXPECT_FALSE(parse_dsn(storm));  // over kDsnMaxBytes
  std::string slashes = "dsn:pgsql://" + std::string(3000, '/');
  EXPECT_FALSE(parse_dsn(slashes));
  std::string pairs = "dsn:pgsql://h/d/table=t?keycol=k?datacol=v";
  for (int i = 0; i < 10000 && pairs.size() + 4 < kDsnMaxBytes; ++i) pairs += "?a=b";
  EXPECT_TRUE(parse_dsn(pairs));
}

TEST(DsnQuery, StatementsAsOpenDkim) {
  auto d = parse_dsn("dsn:pgsql://h/d/table=macros?keycol=host?datacol=v1,v2?filter=ID=20>=201000");
  ASSERT_TRUE(d);
  // opendkim.conf(5): SELECT v1,v2 FROM macros WHERE host = 'foo' AND ID > 1000
  EXPECT_EQ(dsn_lookup_query(*d, "foo"), "SELECT v1,v2 FROM macros WHERE host = 'foo' AND ID > 1000");
  EXPECT_EQ(dsn_walk_query(*d), "SELECT host,v1,v2 FROM macros");
  d->filter.reset();
  EXPECT_EQ(dsn_lookup_query(*d, "o''brien"), "SELECT v1,v2 FROM macros WHERE host = 'o''brien'");
}

TEST(DsnOrigin, PasswordMasked) {
  EXPECT_EQ(dsn_origin("dsn:mysql://dbuser:dbpass@3306+dbhost/odkim/table=t?keycol=k?datacol=v"),
            "dsn:mysql://dbuser:****@3306+dbhost/odkim/table=t?keycol=k?datacol=v");
  EXPECT_EQ(dsn_origin("dsn:mysql://dbuser@dbhost/odkim/table=t"), "dsn:mysql://dbuser@dbhost/odkim/table=t");
  EXPECT_EQ(dsn_origin("dsn:sqlite3://./k.db/table=t?keycol=k?datacol=a:b@c"), "dsn:sqlite3://./k.db/table=t?keycol=k?datacol=a:b@c");
  EXPECT_EQ(dsn_origin("garbage"), "garbage");
  EXPECT_EQ(dsn_origin(std::string(kDsnMaxBytes * 2, 'x')).size(), kDsnMaxBytes);
}

/* ---------------- live lookups on SQLite through libopendbx ---------------- */

/// A temporary directory with an SQLite database at <dir>/.keys.db (OpenDBX's sqlite3 back end
/// opens host + dbase: host "<dir>/" is written =2F-encoded, host "." + dbase "keys.db" is
/// the relative ".keys.db" opendkim users end up with).
struct Db {
  std::filesystem::path dir;
  sqlite3* db = nullptr;
  Db() {
    char tmpl[] = "/tmp/inkan-dsn-XXXXXX";
    dir = ::mkdtemp(tmpl);
    EXPECT_EQ(sqlite3_open((dir / ".keys.db").c_str(), &db), SQLITE_OK);
    exec("CREATE TABLE keytab(name TEXT, dom TEXT, sel TEXT, keyp TEXT)");
    exec("CREATE TABLE signtab(addr TEXT, keyname TEXT, signer TEXT)");
  }
  ~Db() {
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
  }
  /// The directory with every '/' written =2F (documented escape; a raw '/' ends the host).
  std::string host() const {
    std::string h;
    for (char c : dir.string() + "/") h += c == '/' ? std::string("=2F") : std::string(1, c);
    return h;
  }
  std::string dsn(const std::string& table, const std::string& keycol, const std::string& datacol,
                  const std::string& extra = "") const {
    return "dsn:sqlite3://" + host() + "/.keys.db/table=" + table + "?keycol=" + keycol + "?datacol=" + datacol + extra;
  }
};

bool have_sqlite_backend() { return std::filesystem::exists("/usr/lib/opendbx/libsqlite3backend.so"); }

#define NEED_SQLITE_BACKEND()                                                           \
  if (!have_sqlite_backend()) {                                                         \
    if (std::getenv("INKAN_ALLOW_SKIP")) GTEST_SKIP() << "libopendbx1-sqlite3 missing"; \
    FAIL() << "libopendbx1-sqlite3 (/usr/lib/opendbx/libsqlite3backend.so) is not installed"; \
  }

TEST(OdbxLive, LookupFoundMissingNullAndLiveRows) {
  NEED_SQLITE_BACKEND();
  Db db;
  db.exec("INSERT INTO keytab VALUES('k1','example.org','sel','/k1.pem')");
  db.exec("INSERT INTO keytab VALUES('k2','example.net',NULL,'/k2.pem')");
  db.exec("INSERT INTO keytab VALUES('o''brien','quote.example','s','/q.pem')");
  auto ds = open_odbx_dataset(db.dsn("keytab", "name", "dom,sel,keyp"), {});
  ASSERT_TRUE(ds) << ds.error().reason;
  auto r = (*ds)->lookup("k1");
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (LiveValues{"example.org", "sel", "/k1.pem"}));
  auto n = (*ds)->lookup("k2");
  ASSERT_TRUE(n && n->has_value());
  EXPECT_EQ(**n, (LiveValues{"example.net", "", "/k2.pem"}));  // NULL → empty
  auto q = (*ds)->lookup("o'brien");  // odbx_escape doubles the quote
  ASSERT_TRUE(q && q->has_value());
  EXPECT_EQ((**q)[0], "quote.example");
  auto inj = (*ds)->lookup("x' OR '1'='1");
  ASSERT_TRUE(inj);
  EXPECT_FALSE(inj->has_value());
  auto miss = (*ds)->lookup("k3");
  ASSERT_TRUE(miss);
  EXPECT_FALSE(miss->has_value());
  // A row added after the open is seen by the next lookup (no reload).
  db.exec("INSERT INTO keytab VALUES('k3','example.com','s3','/k3.pem')");
  auto now = (*ds)->lookup("k3");
  ASSERT_TRUE(now && now->has_value());
  EXPECT_EQ((**now)[1], "s3");
  // walk: SELECT keycol,datacol FROM table.
  auto rows = (*ds)->walk(100);
  ASSERT_TRUE(rows) << rows.error().reason;
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].first, "k1");
  EXPECT_EQ((*rows)[0].second, (LiveValues{"example.org", "sel", "/k1.pem"}));
  auto few = (*ds)->walk(2);
  EXPECT_FALSE(few);
  // Overlong key: refused before any query.
  EXPECT_FALSE((*ds)->lookup(std::string(kDsnMaxKeyBytes + 1, 'k')));
  EXPECT_EQ((*ds)->origin(), db.dsn("keytab", "name", "dom,sel,keyp"));
}

TEST(OdbxLive, FilterAndMissingTable) {
  NEED_SQLITE_BACKEND();
  Db db;
  db.exec("INSERT INTO keytab VALUES('k1','example.org','sel','/a')");
  db.exec("INSERT INTO keytab VALUES('k1','example.org','old','/b')");
  auto ds = open_odbx_dataset(db.dsn("keytab", "name", "sel", "?filter=sel=20<>=20'sel'"), {});
  ASSERT_TRUE(ds) << ds.error().reason;
  auto r = (*ds)->lookup("k1");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  EXPECT_EQ(**r, LiveValues{"old"});
  auto bad = open_odbx_dataset(db.dsn("nosuch", "name", "sel"), {});
  ASSERT_TRUE(bad);  // connecting works; the table is missing at the first query
  auto e = (*bad)->lookup("k1");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().reason.find("no such table"), std::string::npos) << e.error().reason;
  EXPECT_FALSE((*bad)->walk(10));
}

TEST(OdbxLive, UnreachableServerAndSoftStart) {
  // A back end OpenDBX does not have fails at odbx_init: refused without SoftStart, accepted
  // with it, and then every lookup reports the connection error.
  std::string dsn = "dsn:nosuchbackend://u:secret@h/d/table=t?keycol=k?datacol=v";
  auto hard = open_odbx_dataset(dsn, {});
  ASSERT_FALSE(hard);
  EXPECT_EQ(hard.error().reason.find("secret"), std::string::npos) << hard.error().reason;
  EXPECT_NE(hard.error().reason.find("u:****@h"), std::string::npos) << hard.error().reason;
  LiveDatasetOptions soft;
  soft.soft_start = true;
  auto ds = open_odbx_dataset(dsn, soft);
  ASSERT_TRUE(ds) << ds.error().reason;
  auto r = (*ds)->lookup("k");
  EXPECT_FALSE(r);
  EXPECT_FALSE((*ds)->lookup("k"));  // stays an error, never a crash
  auto syntax = open_odbx_dataset("dsn:pgsql://h/d/table=t", soft);
  EXPECT_FALSE(syntax);  // SoftStart never excuses a malformed DSN
}

/* ---------------- DKIM settings with live tables ---------------- */

/// A live data set in memory: key → values, or an error for every lookup.
class FakeLive : public LiveDataset {
 public:
  explicit FakeLive(std::string origin) : origin_(std::move(origin)) {}
  Result<std::optional<LiveValues>> lookup(std::string_view key) override {
    ++lookups;
    asked.emplace_back(key);
    if (!error.empty()) return auth::fail(auth::ErrorCode::Io, origin_ + ": " + error);
    auto it = rows.find(std::string(key));
    if (it == rows.end()) return std::optional<LiveValues>{};
    return std::optional<LiveValues>(it->second);
  }
  const std::string& origin() const noexcept override { return origin_; }
  Result<std::vector<LiveRow>> walk(std::size_t) override {
    if (!error.empty()) return auth::fail(auth::ErrorCode::Io, error);
    return std::vector<LiveRow>(rows.begin(), rows.end());
  }
  std::map<std::string, LiveValues> rows;
  std::string error;
  int lookups = 0;
  std::vector<std::string> asked;

 private:
  std::string origin_;
};

struct Live {
  std::map<std::string, std::shared_ptr<FakeLive>> sets;
  std::vector<LiveDatasetOptions> seen;
  std::shared_ptr<FakeLive> add(const std::string& spec) {
    auto f = std::make_shared<FakeLive>(spec);
    sets[spec] = f;
    return f;
  }
  FileReader reader() {
    DatasetReaders r;
    r.files = [](const std::string& p) -> auth::Result<std::string> {
      return auth::fail(auth::ErrorCode::Io, p + ": No such file or directory");
    };
    r.live = [this](std::string_view spec, const LiveDatasetOptions& o) -> Result<std::shared_ptr<LiveDataset>> {
      seen.push_back(o);
      auto it = sets.find(std::string(spec));
      if (it == sets.end()) return auth::fail(auth::ErrorCode::Io, std::string(spec) + ": cannot connect");
      return std::shared_ptr<LiveDataset>(it->second);
    };
    return r;
  }
};

constexpr const char* kKt = "dsn:pgsql://h/d/table=keys?keycol=name?datacol=dom,sel,keyp";
constexpr const char* kSt = "dsn:pgsql://h/d/table=signing?keycol=addr?datacol=keyname,signer";

DkimSettings legacy(const std::string& text, const FileReader& r) {
  return load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
}

TEST(DkimLiveTables, LegacyAndYamlGiveEqualSettings) {
  Live live;
  auto kt = live.add(kKt);
  auto st = live.add(kSt);
  kt->rows["k1"] = {"example.org", "sel", "/etc/k1.pem"};
  st->rows["example.org"] = {"k1", ""};
  auto r = live.reader();
  auto l = legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\nSoftStart yes\n", r);
  EXPECT_TRUE(l.key_table);
  ASSERT_TRUE(l.key_table_live);
  ASSERT_TRUE(l.signing_table_live);
  EXPECT_TRUE(l.live_options.soft_start);
  EXPECT_TRUE(live.seen.at(0).soft_start);  // SoftStart reaches the opener whatever the order
  EXPECT_TRUE(l.keys.empty());
  EXPECT_EQ(l.signing_kind, SigningTableKind::Exact);
  auto y = load_dkim_yaml(std::string("dkim:\n  key_table: \"") + kKt + "\"\n  signing_table: \"" + kSt +
                              "\"\n  soft_start: true\n",
                          "/etc/inkan/inkan.yaml", r);
  EXPECT_TRUE(y.same_as(l));
  auto l2 = legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\n", r);
  EXPECT_FALSE(l2.same_as(l));  // soft_start differs
  EXPECT_FALSE(live.seen.back().soft_start);
}

TEST(DkimLiveTables, RefusedWithoutOpenerAndOpenErrors) {
  FileReader plain = [](const std::string& p) -> auth::Result<std::string> {
    return auth::fail(auth::ErrorCode::Io, p + ": No such file or directory");
  };
  try {
    (void)legacy(std::string("KeyTable ") + kKt + "\nSigningTable refile:/st\n", plain);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "KeyTable");
    EXPECT_NE(e.message().find("dataset type 'dsn:' is not supported"), std::string::npos) << e.what();
  }
  try {
    (void)load_dkim_yaml(std::string("dkim:\n  key_table: \"") + kKt + "\"\n", "/y.yaml", plain);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("dataset type 'dsn:' is not supported"), std::string::npos) << e.what();
  }
  Live live;  // the opener fails: the reason, with the option
  try {
    (void)legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\n", live.reader());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("cannot connect"), std::string::npos) << e.what();
  }
  // YAML refuses file tables under key_table (they belong in keys:) and mixing.
  EXPECT_THROW((void)load_dkim_yaml("dkim:\n  key_table: /etc/kt\n", "/y.yaml", live.reader()), ConfigError);
  auto kt = live.add(kKt);
  EXPECT_THROW((void)load_dkim_yaml(std::string("keys:\n  - {name: a, domain: d, selector: s, file: /k}\n"
                                                "dkim:\n  key_table: \"") + kKt + "\"\n",
                                    "/y.yaml", live.reader()),
               ConfigError);
  // Other options keep refusing dsn: with the option named.
  try {
    (void)legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\nSignHeaders dsn:x://h/d/table=t\n",
                 live.reader());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "SignHeaders");
  }
}

TEST(DkimLiveTables, StartUpWalkChecksKeyNames) {
  Live live;
  auto kt = live.add(kKt);
  auto st = live.add(kSt);
  kt->rows["k1"] = {"example.org", "sel", "/k1"};
  st->rows["example.org"] = {"k1", ""};
  st->rows["example.net"] = {"%", ""};  // documented: the sender's domain; not checked literally
  st->rows["example.com"] = {"k-missing", ""};
  auto r = live.reader();
  std::string conf = std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\n";
  try {
    (void)legacy(conf, r);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("could not find valid key record \"k-missing\" in KeyTable"), std::string::npos)
        << e.what();
  }
  st->rows.erase("example.com");
  EXPECT_NO_THROW((void)legacy(conf, r));
  // A KeyTable that fails during the check: "not found" (as opendkim), unless SoftStart.
  st->rows["example.com"] = {"k1", ""};
  kt->error = "server went away";
  EXPECT_THROW((void)legacy(conf, r), ConfigError);
  EXPECT_NO_THROW((void)legacy(conf + "SoftStart yes\n", r));
  // A SigningTable that cannot be walked skips the check (opendkim starts).
  kt->error.clear();
  st->error = "no such table";
  EXPECT_NO_THROW((void)legacy(conf, r));
}

TEST(DkimLiveTables, PerMessageLookupsAndErrors) {
  Live live;
  auto kt = live.add(kKt);
  auto st = live.add(kSt);
  kt->rows["k1"] = {"example.org", "sel", "/keys/%.pem"};
  kt->rows["example.net"] = {"%", "s2", "inline-data"};
  kt->rows["bad"] = {"example.org", ""};  // too few fields
  auto r = live.reader();
  DkimSettings s = legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\n", r);
  // Nothing in the table: every candidate asked, in opendkim's order.
  st->asked.clear();
  auto none = lookup_signing_keys(s, "Boss", "Sub.Example.ORG");
  EXPECT_FALSE(none.error);
  EXPECT_TRUE(none.requests.empty());
  EXPECT_EQ(st->asked, (std::vector<std::string>{"Boss@sub.example.org", "sub.example.org", "Boss@.example.org",
                                                 ".example.org", "Boss@.org", ".org", "Boss@*", "*"}));
  // A row added without reload is used by the next message.
  st->rows[".example.org"] = {"k1", ""};
  auto one = lookup_signing_keys(s, "Boss", "sub.example.org");
  ASSERT_FALSE(one.error);
  ASSERT_EQ(one.requests.size(), 1u);
  EXPECT_EQ(one.requests[0].domain, "example.org");
  EXPECT_EQ(one.requests[0].key_path_or_data, "/keys/example.org.pem");
  EXPECT_EQ(one.requests[0].key->selector, "sel");
  EXPECT_TRUE(one.requests[0].owned_key);
  EXPECT_EQ(one.requests[0].signer, "");
  // keyname "%" → the sender's domain as key name; KeyTable domain "%" → the sender's domain.
  st->rows["example.net"] = {"%", "chief@%"};
  auto pct = lookup_signing_keys(s, "a", "example.net");
  ASSERT_FALSE(pct.error);
  ASSERT_EQ(pct.requests.size(), 1u);
  EXPECT_EQ(pct.requests[0].domain, "example.net");
  EXPECT_EQ(pct.requests[0].signer, "chief@example.net");
  EXPECT_EQ(pct.requests[0].key_path_or_data, "inline-data");
  // Unknown key, corrupt key, empty key name, lookup errors: opendkim's lines.
  st->rows["example.com"] = {"nokey", ""};
  auto unk = lookup_signing_keys(s, "a", "example.com");
  ASSERT_TRUE(unk.error);
  EXPECT_EQ(to_string(*unk.error), "signing table references unknown key 'nokey'");
  st->rows["corrupt.example"] = {"bad", ""};
  auto cor = lookup_signing_keys(s, "a", "corrupt.example");
  ASSERT_TRUE(cor.error);
  EXPECT_EQ(to_string(*cor.error), "error loading key 'bad'");
  EXPECT_EQ(cor.error->detail, "KeyTable entry for 'bad' corrupt");
  st->rows["empty.example"] = {"", ""};
  auto emp = lookup_signing_keys(s, "a", "empty.example");
  ASSERT_TRUE(emp.error);
  EXPECT_EQ(to_string(*emp.error), "error reading signing table");
  EXPECT_EQ(emp.error->detail, "");
  st->error = "server closed the connection";
  auto down = lookup_signing_keys(s, "a", "example.org");
  ASSERT_TRUE(down.error);
  EXPECT_EQ(to_string(*down.error), "error reading signing table");
  EXPECT_EQ(down.error->detail, "error looking up \"a@example.org\" in database: server closed the connection");
  std::string legacy_err;
  EXPECT_TRUE(select_signing_keys(s, "a", "example.org", &legacy_err).empty());
  EXPECT_EQ(legacy_err, "error reading signing table");
  st->error.clear();
  kt->error = "timeout";
  auto kdown = lookup_signing_keys(s, "x", "sub.example.org");
  ASSERT_TRUE(kdown.error);
  EXPECT_EQ(to_string(*kdown.error), "error loading key 'k1'");
  EXPECT_EQ(kdown.error->detail, "error looking up \"k1\" in database: timeout");
  kt->error.clear();
  // Non-ASCII candidates are never asked (DKIMF_DB_FLAG_ASCIIONLY).
  st->asked.clear();
  (void)lookup_signing_keys(s, "j\xc3\xb6rg", "example.de");
  for (const auto& a : st->asked) EXPECT_EQ(a.find('\xc3'), std::string::npos) << a;
  // MultipleSignatures: every hit (the rows the start-up walk refuses removed first).
  EXPECT_THROW((void)legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\n", r), ConfigError);
  for (const char* k : {"empty.example", "example.com", "corrupt.example"}) st->rows.erase(k);
  DkimSettings m = legacy(std::string("KeyTable ") + kKt + "\nSigningTable " + kSt + "\nMultipleSignatures yes\n", r);
  st->rows["x@sub.example.org"] = {"example.net", ""};
  auto multi = lookup_signing_keys(m, "x", "sub.example.org");
  ASSERT_FALSE(multi.error);
  EXPECT_EQ(multi.requests.size(), 2u);
  // lookup_key (Lua odkim.sign).
  auto k = lookup_key(s, "k1");
  ASSERT_TRUE(k && k->has_value());
  EXPECT_EQ((*k)->domain, "example.org");
  auto nk = lookup_key(s, "zz");
  ASSERT_TRUE(nk);
  EXPECT_FALSE(nk->has_value());
}

TEST(DkimLiveTables, FileSigningTableWithLiveKeyTable) {
  Live live;
  auto kt = live.add(kKt);
  kt->rows["k1"] = {"example.org", "sel", "/k1"};
  DatasetReaders base = *live.reader().target<DatasetReaders>();
  base.files = [](const std::string& p) -> auth::Result<std::string> {
    if (p == "/st") return std::string("*@example.org k1\n*@example.com nokey\n");
    return auth::fail(auth::ErrorCode::Io, p + ": No such file or directory");
  };
  FileReader r = base;
  try {
    (void)legacy(std::string("KeyTable ") + kKt + "\nSigningTable refile:/st\n", r);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("unknown key 'nokey'"), std::string::npos) << e.what();
  }
  kt->rows["nokey"] = {"example.com", "s", "/n"};
  DkimSettings s = legacy(std::string("KeyTable ") + kKt + "\nSigningTable refile:/st\n", r);
  auto one = lookup_signing_keys(s, "a", "example.com");
  ASSERT_FALSE(one.error);
  ASSERT_EQ(one.requests.size(), 1u);
  EXPECT_EQ(one.requests[0].key->selector, "s");
  kt->rows.erase("nokey");  // deleted after start: the message tempfails
  auto gone = lookup_signing_keys(s, "a", "example.com");
  ASSERT_TRUE(gone.error);
  EXPECT_EQ(to_string(*gone.error), "signing table references unknown key 'nokey'");
}

}  // namespace
