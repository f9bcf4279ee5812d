// Tests of OpenDKIM `db:` data sets: auth::config::read_berkeley_db (libdb, read-only snapshot),
// Dataset::from_records / Dataset::open through DatasetReaders, and opendkim.conf options whose
// data sets are Berkeley DB files giving the same settings as their file: equivalents.
// Databases are written here with the libdb API (hash and btree), and with db5.3_load and
// postmap when those tools are installed.
#include "auth/config/dataset_bdb.h"

#include <db.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/config/dkim.h"

namespace auth::config {
namespace {

namespace fs = std::filesystem;
using Records = std::vector<std::pair<std::string, std::string>>;

/// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "inkan-bdb-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

/// Writes a database of `type` with the records, in order (duplicates allowed with dup).
void write_db(const std::string& path, DBTYPE type, const Records& records, bool dup = false) {
  DB* db = nullptr;
  ASSERT_EQ(db_create(&db, nullptr, 0), 0);
  if (dup) {
    ASSERT_EQ(db->set_flags(db, DB_DUP), 0);
  }
  ASSERT_EQ(db->open(db, nullptr, path.c_str(), nullptr, type, DB_CREATE | DB_TRUNCATE, 0644), 0)
      << path;
  for (const auto& [k, v] : records) {
    DBT key{};
    DBT val{};
    key.data = const_cast<char*>(k.data());
    key.size = static_cast<u_int32_t>(k.size());
    val.data = const_cast<char*>(v.data());
    val.size = static_cast<u_int32_t>(v.size());
    ASSERT_EQ(db->put(db, nullptr, &key, &val, 0), 0);
  }
  ASSERT_EQ(db->close(db, 0), 0);
}

std::map<std::string, std::string> as_map(const std::vector<DatabaseRecord>& r) {
  std::map<std::string, std::string> m;
  for (const auto& x : r) m.emplace(x.key, x.value);
  return m;
}

std::string read_error(const std::string& path) {
  auto r = read_berkeley_db(path);
  return r ? std::string() : r.error().reason;
}

struct TypeCase {
  const char* name;
  DBTYPE type;
};
class BerkeleyDbTypes : public testing::TestWithParam<TypeCase> {};

TEST_P(BerkeleyDbTypes, ReadsEveryRecordAndLooksUpExactly) {
  TempDir t;
  std::string p = t.path("KeyTable.db");
  const Records recs = {
      {"k1", "example.com:sel:/keys/a.private"},
      {"user@example.com", "k1"},
      {"Mixed.Case", "v:with:colons"},
      {"", "empty key"},
      {"member-only", ""},
  };
  write_db(p, GetParam().type, recs);
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(as_map(*r), (std::map<std::string, std::string>(recs.begin(), recs.end())));

  Dataset d = Dataset::from_records(*r, true, p);
  EXPECT_EQ(d.kind(), DatasetKind::Database);
  EXPECT_EQ(d.origin(), p);
  ASSERT_NE(d.find("k1"), nullptr);
  EXPECT_EQ(d.find("k1")->value, "example.com:sel:/keys/a.private");
  EXPECT_EQ(d.find("missing"), nullptr);
  EXPECT_EQ(d.find("k"), nullptr);    // no prefix match
  EXPECT_EQ(d.find("k1 "), nullptr);  // no trimming
  // dkimf_db_get on a Berkeley DB compares bytes, even for a case-insensitive data set.
  ASSERT_NE(d.find("Mixed.Case"), nullptr);
  EXPECT_EQ(d.find("mixed.case"), nullptr);
  ASSERT_NE(d.find("member-only"), nullptr);
  EXPECT_EQ(d.find("member-only")->value, "");
  auto f = split_fields(d.find("Mixed.Case")->value, 2);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[1], "with:colons");  // the last field takes the remainder
}

TEST_P(BerkeleyDbTypes, EmptyDatabaseHasNoEntries) {
  TempDir t;
  std::string p = t.path("empty.db");
  write_db(p, GetParam().type, {});
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(Dataset::from_records(*r, false, p).entries().empty());
}

TEST_P(BerkeleyDbTypes, NulTerminatedKeysAsPostmapWritesThem) {
  // Postfix postmap stores "key\0" -> "value\0". OpenDKIM looks up strlen(key) bytes, so such a
  // key never matches; the value is read as the C string before its NUL.
  TempDir t;
  std::string p = t.path("postmap.db");
  write_db(p, GetParam().type, {{std::string("k1\0", 3), std::string("example.com:sel:/k\0", 19)}});
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, std::string("k1\0", 3));
  Dataset d = Dataset::from_records(*r, false, p);
  EXPECT_EQ(d.find("k1"), nullptr);
  ASSERT_NE(d.find(std::string("k1\0", 3)), nullptr);
  EXPECT_EQ(d.entries()[0].value, "example.com:sel:/k");
}

TEST_P(BerkeleyDbTypes, BinaryAndHostileBytesSurvive) {
  TempDir t;
  std::string p = t.path("binary.db");
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  const Records recs = {
      {"bin", all},
      {"nul-inside", std::string("before\0after", 12)},
      {std::string("k\0ey", 4), "embedded NUL in the key"},
      {"caf\xc3\xa9", "\xff\xfe:\r\n\t#not a comment"},
      {std::string(kMaxDatasetLineBytes, 'k'), std::string(kMaxDatasetLineBytes, 'v')},
  };
  write_db(p, GetParam().type, recs);
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(as_map(*r), (std::map<std::string, std::string>(recs.begin(), recs.end())));
  Dataset d = Dataset::from_records(*r, false, p);
  EXPECT_EQ(d.find("bin")->value, all);
  EXPECT_EQ(d.find("nul-inside")->value, "before");
  EXPECT_EQ(d.find("caf\xc3\xa9")->value, "\xff\xfe:\r\n\t#not a comment");
  EXPECT_EQ(d.find("k"), nullptr);
  ASSERT_NE(d.find(std::string("k\0ey", 4)), nullptr);
  EXPECT_EQ(d.find(std::string(kMaxDatasetLineBytes, 'k'))->value.size(), kMaxDatasetLineBytes);
}

TEST_P(BerkeleyDbTypes, OverlongRecordIsRefused) {
  TempDir t;
  std::string p = t.path("long.db");
  write_db(p, GetParam().type, {{"k", std::string(kMaxDatasetLineBytes + 1, 'v')}});
  std::string e = read_error(p);
  EXPECT_NE(e.find("record 1 longer than 65536 bytes"), std::string::npos) << e;
  write_db(p, GetParam().type, {{std::string(kMaxDatasetLineBytes + 1, 'k'), "v"}});
  e = read_error(p);
  EXPECT_NE(e.find("longer than"), std::string::npos) << e;
}

TEST_P(BerkeleyDbTypes, TenThousandRecordsStayBounded) {
  TempDir t;
  std::string p = t.path("big.db");
  Records recs;
  for (int i = 0; i < 10000; ++i) recs.emplace_back("host" + std::to_string(i), std::to_string(i));
  write_db(p, GetParam().type, recs);
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->size(), 10000u);
  Dataset d = Dataset::from_records(*r, true, p);
  EXPECT_EQ(d.find("host9999")->value, "9999");
  EXPECT_EQ(d.find("host10000"), nullptr);
}

TEST_P(BerkeleyDbTypes, DuplicatesGiveTheFirstDataItem) {
  TempDir t;
  std::string p = t.path("dup.db");
  write_db(p, GetParam().type, {{"k", "first"}, {"k", "second"}, {"other", "x"}}, true);
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(as_map(*r).at("k"), "first");
}

INSTANTIATE_TEST_SUITE_P(Bdb, BerkeleyDbTypes,
                         testing::Values(TypeCase{"hash", DB_HASH}, TypeCase{"btree", DB_BTREE}),
                         [](const testing::TestParamInfo<TypeCase>& i) { return std::string(i.param.name); });

TEST(BerkeleyDb, BtreeKeepsKeyOrder) {
  TempDir t;
  std::string p = t.path("sorted.db");
  write_db(p, DB_BTREE, {{"c", "3"}, {"a", "1"}, {"b", "2"}});
  auto r = read_berkeley_db(p);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].key, "a");
  EXPECT_EQ((*r)[2].key, "c");
}

TEST(BerkeleyDb, MissingFileNamesTheFile) {
  TempDir t;
  std::string p = t.path("nope.db");
  // db_strerror, exactly what OpenDKIM prints after "dkimf_db_open(): ".
  EXPECT_EQ(read_error(p), "No such file or directory");
}

TEST(BerkeleyDb, DirectoryIsRefused) {
  TempDir t;
  EXPECT_FALSE(read_error(t.dir.string()).empty());
}

struct CorruptCase {
  const char* name;
  std::size_t keep;  ///< bytes of a valid file kept (0 = empty file); SIZE_MAX = garbage
};
class BerkeleyDbCorrupt : public testing::TestWithParam<CorruptCase> {};

TEST_P(BerkeleyDbCorrupt, RefusedWithAnErrorNamingTheFile) {
  TempDir t;
  std::string good = t.path("good.db");
  Records recs;
  for (int i = 0; i < 500; ++i) recs.emplace_back("k" + std::to_string(i), std::string(100, 'v'));
  write_db(good, DB_HASH, recs);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string bad = t.path("bad.db");
  {
    std::ofstream out(bad, std::ios::binary | std::ios::trunc);
    if (GetParam().keep == SIZE_MAX) {
      std::string garbage;
      for (std::size_t i = 0; i < 64 * 1024; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 251));
      out << garbage;
    } else {
      out << bytes.substr(0, std::min(GetParam().keep, bytes.size()));
    }
  }
  std::string e = read_error(bad);
  ASSERT_FALSE(e.empty()) << "corrupt file accepted";
  // Through Dataset::open the error names the file and the option.
  try {
    (void)Dataset::open("db:" + bad, false, "SigningTable", file_and_berkeley_db_reader());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& x) {
    EXPECT_EQ(x.file(), bad);
    EXPECT_EQ(x.option(), "SigningTable");
    EXPECT_NE(std::string(x.what()).find(e), std::string::npos) << x.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Bdb, BerkeleyDbCorrupt,
                         testing::Values(CorruptCase{"empty", 0}, CorruptCase{"header_only", 100},
                                         CorruptCase{"one_page", 4096}, CorruptCase{"half", 16 * 1024},
                                         CorruptCase{"garbage", SIZE_MAX}),
                         [](const testing::TestParamInfo<CorruptCase>& i) { return std::string(i.param.name); });

TEST(BerkeleyDb, CorruptPageInsideTheFileIsRefused) {
  TempDir t;
  std::string p = t.path("flipped.db");
  Records recs;
  for (int i = 0; i < 2000; ++i) recs.emplace_back("key" + std::to_string(i), std::string(50, 'x'));
  write_db(p, DB_BTREE, recs);
  {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 * 4096 + 26);  // inside a page header (the btree file has 4 KiB pages here)
    const char junk[16] = {'\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f',
                           '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f'};
    f.write(junk, sizeof junk);
  }
  EXPECT_FALSE(read_error(p).empty()) << "corrupt page accepted";
}

TEST(BerkeleyDb, RecnoIsRefused) {
  TempDir t;
  std::string p = t.path("recno.db");
  DB* db = nullptr;
  ASSERT_EQ(db_create(&db, nullptr, 0), 0);
  ASSERT_EQ(db->open(db, nullptr, p.c_str(), nullptr, DB_RECNO, DB_CREATE, 0644), 0);
  db_recno_t n = 1;
  DBT key{};
  DBT val{};
  key.data = &n;
  key.size = sizeof n;
  val.data = const_cast<char*>("x");
  val.size = 1;
  ASSERT_EQ(db->put(db, nullptr, &key, &val, 0), 0);
  db->close(db, 0);
  std::string e = read_error(p);
  EXPECT_NE(e.find("only hash and btree"), std::string::npos) << e;
}

/* ---------------- Dataset::open and DatasetReaders ---------------- */

TEST(BerkeleyDbDataset, OpenByPrefixAndBySuffix) {
  TempDir t;
  std::string p = t.path("set.db");
  write_db(p, DB_HASH, {{"a", "1"}});
  FileReader r = file_and_berkeley_db_reader();
  ASSERT_NE(database_reader_of(r), nullptr);
  for (const std::string& spec : {"db:" + p, "DB:" + p, p, "  db:" + p + "  "}) {
    Dataset d = Dataset::open(spec, true, "InternalHosts", r);
    EXPECT_EQ(d.kind(), DatasetKind::Database) << spec;
    EXPECT_EQ(d.origin(), p);
    ASSERT_NE(d.find("a"), nullptr) << spec;
  }
  // A type prefix wins over the ".db" suffix (dkimf_db_open): this is a flat file.
  std::string flat = t.path("flat.db");
  std::ofstream(flat) << "a 2\n";
  Dataset f = Dataset::open("file:" + flat, true, "InternalHosts", r);
  EXPECT_EQ(f.kind(), DatasetKind::File);
  EXPECT_EQ(f.find("a")->value, "2");
  // Without a type prefix the ".db" ending decides, commas or not (dkimf_db_open): "a,b.db" is
  // a (missing) database file; a comma before the first colon means no prefix.
  EXPECT_THROW((void)Dataset::open("a,b.db", true, "x", r), ConfigError);
  EXPECT_EQ(Dataset::open("a.db,b", true, "x", r).kind(), DatasetKind::List);
  EXPECT_EQ(Dataset::open("csl:a,b.db", true, "x", r).kind(), DatasetKind::List);
}

TEST(BerkeleyDbDataset, WithoutADatabaseReaderDbIsRefused) {
  FileReader plain = read_file;
  EXPECT_EQ(database_reader_of(plain), nullptr);
  try {
    (void)Dataset::open("db:/etc/x.db", false, "KeyTable", plain);
    ADD_FAILURE() << "db: accepted without a reader";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "KeyTable");
    EXPECT_NE(e.message().find("db:"), std::string::npos);
  }
  EXPECT_THROW((void)Dataset::open("db:", false, "KeyTable", file_and_berkeley_db_reader()), ConfigError);
}

TEST(BerkeleyDbDataset, BrokenFileErrorNamesFileAndOption) {
  TempDir t;
  std::string p = t.path("broken.db");
  std::ofstream(p) << "this is not a database\n";
  try {
    (void)Dataset::open("db:" + p, false, "KeyTable", file_and_berkeley_db_reader());
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "KeyTable");
    EXPECT_EQ(e.file(), p);
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(BerkeleyDbDataset, FromRecordsBoundsTheEntryCount) {
  std::vector<DatabaseRecord> many(kMaxDatasetEntries + 1, DatabaseRecord{"k", "v"});
  EXPECT_THROW((void)Dataset::from_records(many, false, "/x.db"), ConfigError);
}

/* ---------------- opendkim.conf with db: data sets ---------------- */

/// Writes the same data set as a flat file and as a Berkeley DB.
struct Tables {
  TempDir t;
  void both(const std::string& name, const Records& recs, DBTYPE type = DB_HASH) {
    std::ofstream out(t.path(name));
    for (const auto& [k, v] : recs) out << k << (v.empty() ? "" : " " + v) << "\n";
    write_db(t.path(name + ".db"), type, recs);
  }
  std::string conf(bool db) const {
    auto ds = [&](const std::string& name, bool prefix = true) {
      return db ? (prefix ? "db:" : "") + t.path(name + ".db") : "file:" + t.path(name);
    };
    return "Mode s\n"
           "KeyTable " + ds("KeyTable") + "\n"
           "SigningTable " + ds("SigningTable") + "\n"
           "InternalHosts " + ds("InternalHosts", false) + "\n"
           "ExternalIgnoreList " + ds("ExternalIgnoreList") + "\n"
           "PeerList " + ds("PeerList") + "\n"
           "SignHeaders " + ds("SignHeaders") + "\n"
           "OversignHeaders " + ds("OversignHeaders") + "\n"
           "DontSignMailTo " + ds("DontSignMailTo") + "\n"
           "MTA " + ds("MTA") + "\n"
           "TestDNSData " + ds("TestDNSData") + "\n";
  }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(BerkeleyDbConfig, DbDataSetsGiveTheSameSettingsAsFiles) {
  Tables tb;
  tb.both("KeyTable", {{"k1", "example.com:sel:/keys/a.private"}, {"k2", "%:other:/keys/%.private"}});
  tb.both("SigningTable", {{"user@example.com", "k1"}, {".example.org", "k2:boss@%"}, {"*", "k2"}});
  tb.both("InternalHosts", {{"127.0.0.1", ""}, {"192.168.0.0/16", ""}, {"!192.168.1.1", ""}, {".corp.example", ""}});
  tb.both("ExternalIgnoreList", {{"10.0.0.0/8", ""}});
  tb.both("PeerList", {{"192.0.2.1", ""}});
  tb.both("SignHeaders", {{"*", ""}, {"-Date", ""}, {"+X-Extra", ""}});
  tb.both("OversignHeaders", {{"From", ""}});
  tb.both("DontSignMailTo", {{"List@Example.com", ""}});
  tb.both("MTA", {{"MSA", ""}});
  tb.both("TestDNSData", {{"sel._domainkey.example.com", "v=DKIM1; p=abc"}});
  FileReader r = file_and_berkeley_db_reader();
  auto load = [&](bool db) {
    std::string text = tb.conf(db);
    return load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
  };
  DkimSettings f = load(false);
  DkimSettings d = load(true);
  auto key_names = [](const DkimSettings& s) {
    std::vector<std::string> v;
    for (const auto& k : s.keys) v.push_back(k.name + "=" + k.domain + ":" + k.selector + ":" + k.key);
    return sorted(v);
  };
  EXPECT_EQ(key_names(d), key_names(f));
  auto rules = [](const DkimSettings& s) {
    std::vector<std::string> v;
    for (const auto& x : s.signing) v.push_back(x.match + "=" + x.keys.at(0) + ":" + x.signer);
    return sorted(v);
  };
  EXPECT_EQ(rules(d), rules(f));
  EXPECT_EQ(d.signing_kind, SigningTableKind::Exact);
  EXPECT_EQ(sorted(d.internal_hosts.entries), sorted(f.internal_hosts.entries));
  EXPECT_EQ(sorted(d.external_ignore.entries), sorted(f.external_ignore.entries));
  EXPECT_EQ(sorted(d.peer_list.entries), sorted(f.peer_list.entries));
  EXPECT_EQ(sorted(d.sign_headers), sorted(f.sign_headers));
  EXPECT_EQ(sorted(d.oversign_headers), sorted(f.oversign_headers));
  EXPECT_EQ(d.dont_sign_mail_to, f.dont_sign_mail_to);
  EXPECT_EQ(d.mta, f.mta);
  EXPECT_EQ(d.test_dns, f.test_dns);
  // The signing decision agrees too.
  for (auto [local, domain] : {std::pair{"user", "example.com"}, {"x", "a.example.org"}, {"y", "else.net"}}) {
    std::string ef, ed;
    auto rf = select_signing_keys(f, local, domain, &ef);
    auto rd = select_signing_keys(d, local, domain, &ed);
    ASSERT_EQ(rd.size(), rf.size()) << local << "@" << domain;
    for (std::size_t i = 0; i < rd.size(); ++i) {
      EXPECT_EQ(rd[i].domain, rf[i].domain);
      EXPECT_EQ(rd[i].key->selector, rf[i].key->selector);
      EXPECT_EQ(rd[i].key_path_or_data, rf[i].key_path_or_data);
      EXPECT_EQ(rd[i].signer, rf[i].signer);
    }
  }
}

TEST(BerkeleyDbConfig, PostmapStyleKeyTableIsNotFound) {
  // OpenDKIM refuses to start ("could not find valid key record") when the KeyTable's keys
  // carry postmap's trailing NUL: the SigningTable's key name is looked up without it.
  Tables tb;
  write_db(tb.t.path("kt.db"), DB_HASH, {{std::string("k1\0", 3), std::string("example.com:s:/k\0", 17)}});
  write_db(tb.t.path("st.db"), DB_HASH, {{"*", "k1"}});
  FileReader r = file_and_berkeley_db_reader();
  std::string text = "KeyTable db:" + tb.t.path("kt.db") + "\nSigningTable db:" + tb.t.path("st.db") + "\n";
  try {
    (void)load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'k1'"), std::string::npos) << e.what();
  }
}

TEST(BerkeleyDbConfig, MacroListMustBeFileOrCsl) {
  Tables tb;
  write_db(tb.t.path("macros.db"), DB_HASH, {{"daemon_name", "MSA"}});
  FileReader r = file_and_berkeley_db_reader();
  std::string text = "MacroList " + tb.t.path("macros.db") + "\n";
  try {
    (void)load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.option(), "MacroList");
    EXPECT_NE(std::string(e.what()).find("invalid data set type for MacroList"), std::string::npos) << e.what();
  }
}

TEST(BerkeleyDbConfig, RelativeDbPathsResolveAgainstBaseDirectory) {
  Tables tb;
  write_db(tb.t.path("hosts.db"), DB_BTREE, {{"10.1.2.3", ""}});
  FileReader r = file_and_berkeley_db_reader();
  std::string text = "BaseDirectory " + tb.t.dir.string() + "\nInternalHosts db:hosts.db\n";
  auto s = load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
  EXPECT_EQ(s.internal_hosts.entries, std::vector<std::string>{"10.1.2.3"});
  text = "BaseDirectory " + tb.t.dir.string() + "\nInternalHosts hosts.db\n";
  s = load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
  EXPECT_EQ(s.internal_hosts.entries, std::vector<std::string>{"10.1.2.3"});
}

TEST(BerkeleyDbConfig, MissingDbFailsStartNamingOptionAndFile) {
  FileReader r = file_and_berkeley_db_reader();
  std::string text = "InternalHosts db:/nonexistent/hosts.db\n";
  try {
    (void)load_dkim_legacy(LegacyConfig::parse(text, "/etc/opendkim.conf", r), r);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("/nonexistent/hosts.db"), std::string::npos) << w;
    EXPECT_NE(w.find("No such file or directory"), std::string::npos) << w;
  }
}

/* ---------------- files built by the usual tools ---------------- */

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(BerkeleyDbTools, Db53LoadTextInput) {
  if (!have("db5.3_load")) GTEST_SKIP() << "db5.3_load not installed";
  TempDir t;
  for (const char* type : {"hash", "btree"}) {
    std::string in = t.path(std::string("in-") + type);
    std::ofstream(in) << "k1\nexample.com:sel:/keys/a.private\nuser@example.com\nk1\n";
    std::string db = t.path(std::string("kt-") + type + ".db");
    std::string cmd = "db5.3_load -T -t " + std::string(type) + " -f " + in + " " + db;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto r = read_berkeley_db(db);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(as_map(*r), (std::map<std::string, std::string>{{"k1", "example.com:sel:/keys/a.private"},
                                                              {"user@example.com", "k1"}}));
  }
}

TEST(BerkeleyDbTools, PostmapHashHasNulTerminatedKeys) {
  if (!have("postmap")) GTEST_SKIP() << "postmap not installed";
  TempDir t;
  std::string src = t.path("map");
  std::ofstream(src) << "k1 example.com:sel:/keys/a.private\n";
  std::string cmd = "postmap -c /etc/postfix hash:" + src + " 2>/dev/null || postmap hash:" + src;
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "postmap failed here";
  auto r = read_berkeley_db(src + ".db");
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].key, std::string("k1\0", 3));
  Dataset d = Dataset::from_records(*r, false, src + ".db");
  EXPECT_EQ(d.find("k1"), nullptr);
  EXPECT_EQ(d.entries()[0].value, "example.com:sel:/keys/a.private");
}

}  // namespace
}  // namespace auth::config
