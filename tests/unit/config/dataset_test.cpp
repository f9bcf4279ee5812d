#include "auth/config/dataset.h"

#include <gtest/gtest.h>

namespace {

using auth::config::ConfigError;
using auth::config::Dataset;
using auth::config::DatasetKind;

auth::config::FileReader one_file(std::string path, std::string text) {
  return [path, text](const std::string& p) -> auth::Result<std::string> {
    if (p == path) return text;
    return auth::fail(auth::ErrorCode::Io, "cannot open " + p);
  };
}

TEST(Dataset, FlatKeyTable) {
  auto d = Dataset::open("/etc/opendkim/KeyTable", false, "KeyTable",
                         one_file("/etc/opendkim/KeyTable",
                                  "# keyname  d=domain:s=selector:key\n"
                                  "rsa-example  example.com:sel2024:/etc/dkimkeys/sel2024.private\n"
                                  "perdomain\t%:mail:/etc/dkimkeys/%.private   # comment\n"
                                  "colon example.com:s:/path/with:colon\n"));
  EXPECT_EQ(d.kind(), DatasetKind::File);
  ASSERT_EQ(d.entries().size(), 3u);
  const auto* e = d.find("perdomain");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value, "%:mail:/etc/dkimkeys/%.private");
  EXPECT_EQ(e->line, 3u);
  EXPECT_EQ(d.find("PERDOMAIN"), nullptr);  // KeyTable names are case-sensitive
  auto f = auth::config::split_fields(d.find("colon")->value, 3);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[2], "/path/with:colon");  // last field takes the remainder
  EXPECT_FALSE(auth::config::split_fields("example.com", 3));
}

TEST(Dataset, FilePrefixAndCaseInsensitive) {
  auto d = Dataset::open("file:/t", true, "SigningTable",
                         one_file("/t", "Example.COM key1\n*  catchall\n"));
  ASSERT_NE(d.find("example.com"), nullptr);
  EXPECT_EQ(d.find("example.com")->value, "key1");
}

TEST(Dataset, RefileSigningTable) {
  auto d = Dataset::open("refile:/st", true, "SigningTable",
                         one_file("/st",
                                  "*@example.com      rsa-example\n"
                                  "boss@example.net   rsa-any:chief@%\n"
                                  "*@example.net      rsa-any\n"
                                  "*@*.example.org    subkey\n"
                                  "*                  catchall\n"));
  EXPECT_EQ(d.kind(), DatasetKind::RegexFile);
  EXPECT_EQ(d.find("alice@example.com")->value, "rsa-example");
  EXPECT_EQ(d.find("ALICE@Example.Com")->value, "rsa-example");  // REG_ICASE
  EXPECT_EQ(d.find("boss@example.net")->value, "rsa-any:chief@%");
  EXPECT_EQ(d.find("x@mail.example.org")->value, "subkey");
  // `.` is literal: exampleXcom does not match *@example.com.
  EXPECT_EQ(d.find("a@exampleXcom")->value, "catchall");
  auto all = d.find_all("boss@example.net");
  ASSERT_EQ(all.size(), 3u);  // MultipleSignatures: every match in file order
  EXPECT_EQ(all[1]->value, "rsa-any");
}

TEST(Dataset, RefileTranslation) {
  EXPECT_EQ(auth::config::refile_pattern_to_ere("*@example.com"), "^.*@example\\.com$");
  EXPECT_EQ(auth::config::refile_pattern_to_ere("a+b"), "^a\\+b$");
  EXPECT_EQ(auth::config::refile_pattern_to_ere("[ab]*@x"), "^[ab].*@x$");  // classes pass
  EXPECT_THROW((void)Dataset::from_text("[unclosed key\n", DatasetKind::RegexFile, false),
               ConfigError);
}

TEST(Dataset, CommaSeparatedList) {
  auto d = Dataset::open("csl:127.0.0.1, ::1 ,example.com,,k=v", true, "InternalHosts");
  EXPECT_EQ(d.kind(), DatasetKind::List);
  ASSERT_EQ(d.entries().size(), 4u);
  EXPECT_EQ(d.entries()[1].key, "::1");
  EXPECT_EQ(d.find("K")->value, "v");
  auto plain = Dataset::open("*,+Message-ID,-Date", true, "SignHeaders");
  ASSERT_EQ(plain.entries().size(), 3u);
  EXPECT_EQ(plain.entries()[1].key, "+Message-ID");
}

TEST(Dataset, UnsupportedBackendsRefused) {
  for (const char* spec : {"db:/etc/x.db", "dsn:mysql://u@h/db/table=t", "ldap://h/dc=x",
                           "lua:/x.lua", "/etc/opendkim/keys.db"}) {
    try {
      (void)Dataset::open(spec, false, "KeyTable", one_file("/etc/opendkim/keys.db", ""));
      ADD_FAILURE() << spec << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.option(), "KeyTable");
    }
  }
  EXPECT_THROW((void)Dataset::open("/missing", false, "KeyTable", one_file("/x", "")),
               ConfigError);
}

TEST(Dataset, SigningTableCandidates) {
  auto c = auth::config::signing_table_candidates("user", "foo.example.com");
  std::vector<std::string> want = {"user@foo.example.com", "foo.example.com", "user@.example.com",
                                   ".example.com", "user@.com", ".com", "user@*", "*"};
  EXPECT_EQ(c, want);
}

TEST(Dataset, TenThousandEntriesBounded) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "*@d" + std::to_string(i) + ".example k" + std::to_string(i) + "\n";
  auto d = Dataset::from_text(text, DatasetKind::RegexFile, true);
  EXPECT_EQ(d.find("a@d9999.example")->value, "k9999");
  EXPECT_THROW((void)Dataset::from_text(std::string(70000, 'k') + " v\n", DatasetKind::File, false),
               ConfigError);
}

}  // namespace
