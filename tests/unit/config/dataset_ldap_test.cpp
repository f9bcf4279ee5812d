// Tests of OpenDKIM `ldap:` / `ldaps:` / `ldapi:` data sets (auth/config/dataset_ldap.h):
// the pure parts (URL words, $d/$D expansion, server list, masking) table-driven with hostile
// inputs; ldap_url_parse through the dlopen'ed libldap; and lookups against a private slapd
// (mdb back end, 127.0.0.1 and an ldapi socket in a temporary directory) started and killed
// here: found / not found / name errors, several URLs with the first down, simple bind, SASL
// EXTERNAL, SoftStart, a server stopped and restarted (reconnect), a stopped server (timeout),
// concurrent lookups.
#include "auth/config/dataset_ldap.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace auth::config {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// Runs first in this binary (and alone under ctest): nothing maps libldap before an LDAP
// data set or URL is used, so a daemon without ldap: data sets never loads it.
TEST(LdapLazyLoad, LibldapIsMappedOnlyAtFirstUse) {
  ASSERT_FALSE(libldap_is_loaded()) << "libldap is linked into the test or loaded too early";
  EXPECT_TRUE(is_ldap_dataset_spec("ldap://h/"));
  EXPECT_TRUE(split_ldap_urls("ldap://a/ ldap://b/").has_value());
  EXPECT_TRUE(expand_ldap_template("(mail=$d)", "example.org").has_value());
  EXPECT_FALSE(libldap_is_loaded());
  ASSERT_TRUE(parse_ldap_url("ldap://h/").has_value());
  EXPECT_TRUE(libldap_is_loaded());
}

/* ---------------- pure functions ---------------- */

TEST(LdapSpec, DatasetPrefixes) {
  for (const char* s : {"ldap://h/", "LDAP://h/", "ldaps://h/", "ldapi://%2Frun%2Fx/", "Ldapi:x", "ldap:"}) {
    EXPECT_TRUE(is_ldap_dataset_spec(s)) << s;
  }
  for (const char* s : {"", "ldap", "dsn:mysql://x", "file:/etc/x", "pldap://h/", "<ldap://h/>", "ldapx://h", "ldap"}) {
    EXPECT_FALSE(is_ldap_dataset_spec(s)) << s;
  }
}

TEST(LdapSpec, LdapUrlPrefixAsLibldap) {
  for (const char* s : {"ldap://", "LDAP://h", "ldaps://h", "ldapi://", "pldap://h", "PLDAPS://h", "<ldap://h/>",
                        "URL:ldap://h", "<url:ldaps://h>"}) {
    EXPECT_TRUE(is_ldap_url(s)) << s;
  }
  for (const char* s : {"", "ldap:/", "ldap:", "http://h", "<<ldap://h", "URL:URL:ldap://h", " ldap://h", "cldap://h"}) {
    EXPECT_FALSE(is_ldap_url(s)) << s;
  }
}

TEST(LdapSpec, SplitsAtBlanksAndTabsKeepingEight) {
  auto r = split_ldap_urls("ldap://a/x \t ldaps://b/  ldapi://c/\t");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, (std::vector<std::string>{"ldap://a/x", "ldaps://b/", "ldapi://c/"}));

  std::string many;
  for (int i = 0; i < 12; ++i) many += "ldap://h" + std::to_string(i) + "/ ";
  r = split_ldap_urls(many);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), kMaxLdapUris);
  EXPECT_EQ(r->back(), "ldap://h7/");
  // The ninth and later words are still checked (opendkim-db.c checks every word first).
  EXPECT_FALSE(split_ldap_urls(many + "notaurl"));
}

TEST(LdapSpec, SplitRefusesHostileValues) {
  struct Case {
    std::string in;
    ErrorCode code;
  };
  const std::vector<Case> cases{
      {"", ErrorCode::Syntax},
      {" \t ", ErrorCode::Syntax},
      {"ldap://a/ file:/etc/x", ErrorCode::Syntax},
      {"ldap://a/\nldap://b/", ErrorCode::Syntax},
      {"ldap://a/"s + '\0' + "x", ErrorCode::Syntax},
      {"ldap://a/\x7f", ErrorCode::Syntax},
      {"ldap://" + std::string(kMaxLdapSpecBytes, 'a'), ErrorCode::LimitExceeded},
  };
  for (const auto& c : cases) {
    auto r = split_ldap_urls(c.in);
    ASSERT_FALSE(r) << c.in.substr(0, 40);
    EXPECT_EQ(r.error().code, c.code) << c.in.substr(0, 40) << ": " << r.error().reason;
  }
  // 10 000 URLs: bounded by the byte limit, never more than kMaxLdapUris kept.
  std::string big;
  for (int i = 0; i < 10000; ++i) big += "ldap://h/ ";
  auto r = split_ldap_urls(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
  std::string fits;
  while (fits.size() + 10 < kMaxLdapSpecBytes) fits += "ldap://h/ ";
  auto ok = split_ldap_urls(fits);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), kMaxLdapUris);
}

struct ExpandCase {
  const char* name;
  std::string tmpl;
  std::string key;
  std::string want;
};

class LdapExpand : public testing::TestWithParam<ExpandCase> {};

TEST_P(LdapExpand, AsOpendkimMkldapquery) {
  const auto& c = GetParam();
  auto got = expand_ldap_template(c.tmpl, c.key);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(*got, c.want) << "got " << *got << " want " << c.want;
}

const ExpandCase kExpandCases[] = {
    {"plain_filter", "(mail=$d)", "example.org", "(mail=example.org)"},
    {"no_dollar", "(objectClass=*)", "k", "(objectClass=*)"},
    {"dc_components", "$D", "example.org", "dc=example,dc=org"},
    {"base_with_dc", "ou=keys,$D", "a.b.c", "ou=keys,dc=a,dc=b,dc=c"},
    {"d_then_letter", "$dd", "k", "kd"},
    {"both", "$d$D", "a.b", "a.bdc=a,dc=b"},
    {"escapes_rfc4515", "(cn=$d)", "*)(uid=*", "(cn=\\2a\\29\\28uid=\\2a)"},
    {"escapes_backslash", "$d", "a\\b", "a\\5cb"},
    {"escapes_nul", "$d", "a\0b"s, "a\\00b"},
    {"D_escapes_too", "$D", "x(.y", "dc=x\\28,dc=y"},
    {"D_leading_dot", "$D", ".lead", "dc=,dc=lead"},
    {"D_trailing_dot", "$D", "org.", "dc=org,dc="},
    {"empty_key_d", "(a=$d)", "", "(a=)"},
    {"empty_key_D", "x$Dy", "", "xy"},
    {"dollar_at_end", "x$", "k", "x"},
    {"unknown_escape_dropped", "$x$d", "k", "k"},
    {"double_dollar_is_escape", "$$d", "k", "k"},
    {"triple_dollar", "$$$", "k", ""},
    {"non_ascii_kept", "$d", "b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example"},
    {"email_key", "(&(objectClass=*)(mail=$d))", "user@example.org", "(&(objectClass=*)(mail=user@example.org))"},
    {"percent_kept", "$d", "%41", "%41"},
};

INSTANTIATE_TEST_SUITE_P(Table, LdapExpand, testing::ValuesIn(kExpandCases),
                         [](const testing::TestParamInfo<ExpandCase>& i) { return std::string(i.param.name); });

TEST(LdapExpandLimits, BoundedOutput) {
  // Exactly the limit is fine, one more byte is not.
  const std::string k(kMaxLdapQueryBytes, 'a');
  auto r = expand_ldap_template("$d", k);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), kMaxLdapQueryBytes);
  r = expand_ldap_template("x$d", k);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
  // Escapes count three bytes each.
  EXPECT_FALSE(expand_ldap_template("$d", std::string(kMaxLdapQueryBytes / 3 + 1, '*')));
  // 10 000 repetitions of "$d" and of "$D", 10 000 '$', a 10 000-byte key.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "$d";
  EXPECT_FALSE(expand_ldap_template(many, "k"));
  EXPECT_FALSE(expand_ldap_template(std::string(10000, 'x'), ""));
  EXPECT_FALSE(expand_ldap_template("$D", std::string(10000, '.')));
  auto dollars = expand_ldap_template(std::string(10000, '$'), "k");
  ASSERT_TRUE(dollars);
  EXPECT_EQ(*dollars, "");
  EXPECT_FALSE(expand_ldap_template("$d", std::string(10000, 'k')));
}

TEST(LdapServerList, FormatsAsLdapInitializeExpects) {
  LdapUrl u;
  u.scheme = "ldap";
  u.host = "127.0.0.1";
  u.port = 3890;
  EXPECT_EQ(format_ldap_server(u), "ldap://127.0.0.1:3890");
  u.scheme = "ldaps";
  u.host = "ldap.example.org";
  u.port = 636;
  EXPECT_EQ(format_ldap_server(u), "ldaps://ldap.example.org:636");
  u.scheme = "ldap";
  u.host = "::1";
  u.port = 389;
  EXPECT_EQ(format_ldap_server(u), "ldap://[::1]:389");
  u.host.reset();
  EXPECT_EQ(format_ldap_server(u), "ldap://:389");
  u.host = "a b,c";  // a blank or comma would split libldap's server list
  EXPECT_EQ(format_ldap_server(u), "ldap://a%20b%2Cc:389");
  u.scheme = "ldapi";
  u.host = "/run/slapd/ldapi";
  u.port = 0;
  EXPECT_EQ(format_ldap_server(u), "ldapi://%2Frun%2Fslapd%2Fldapi");
  u.host.reset();
  EXPECT_EQ(format_ldap_server(u), "ldapi://");
}

TEST(LdapMask, HidesBindPasswordExtensions) {
  EXPECT_EQ(mask_ldap_spec("ldap://h/dc=x?cn?sub?(a=$d)"), "ldap://h/dc=x?cn?sub?(a=$d)");
  EXPECT_EQ(mask_ldap_spec("ldap://h/dc=x?cn?sub?(a=$d)?bindname=cn%3Dm,X-BINDPW=s3cret"),
            "ldap://h/dc=x?cn?sub?(a=$d)?bindname=cn%3Dm,X-BINDPW=****");
  EXPECT_EQ(mask_ldap_spec("ldap://h/??? ldap://g/dc=x??\?(f)?!bindpw=p,e  ldap://k/"),
            "ldap://h/??? ldap://g/dc=x??\?(f)?!bindpw=****,e  ldap://k/");
  EXPECT_EQ(mask_ldap_spec(""), "");
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "ldap://h/????x-bindpw=pw ";
  const std::string masked = mask_ldap_spec(many);
  EXPECT_EQ(masked.find("=pw"), std::string::npos);
}

/* ---------------- ldap_url_parse through libldap ---------------- */

struct UrlCase {
  const char* name;
  std::string url;
  LdapUrl want;
};

LdapUrl url_of(std::string scheme, std::optional<std::string> host, int port, std::string dn,
               std::vector<std::string> attrs = {}, LdapScope scope = LdapScope::Base,
               std::optional<std::string> filter = std::nullopt, std::vector<std::string> exts = {}) {
  LdapUrl u;
  u.scheme = std::move(scheme);
  u.host = std::move(host);
  u.port = port;
  u.dn = std::move(dn);
  u.attributes = std::move(attrs);
  u.scope = scope;
  u.filter = std::move(filter);
  u.extensions = std::move(exts);
  return u;
}

class LdapUrlParse : public testing::TestWithParam<UrlCase> {};

TEST_P(LdapUrlParse, AsLdapUrlParse) {
  const auto& c = GetParam();
  auto got = parse_ldap_url(c.url);
  ASSERT_TRUE(got) << got.error().reason;
  EXPECT_EQ(got->scheme, c.want.scheme);
  EXPECT_EQ(got->host, c.want.host);
  EXPECT_EQ(got->port, c.want.port);
  EXPECT_EQ(got->dn, c.want.dn);
  EXPECT_EQ(got->attributes, c.want.attributes);
  EXPECT_EQ(got->scope, c.want.scope);
  EXPECT_EQ(got->filter, c.want.filter);
  EXPECT_EQ(got->extensions, c.want.extensions);
}

const UrlCase kUrlCases[] = {
    {"keytable", "ldap://127.0.0.1:3890/ou=keys,dc=example,dc=org?o,ou,description?sub?(mail=$d)",
     url_of("ldap", "127.0.0.1", 3890, "ou=keys,dc=example,dc=org", {"o", "ou", "description"}, LdapScope::Subtree,
            "(mail=$d)")},
    {"default_port", "ldap://h/", url_of("ldap", "h", 389, "")},
    {"ldaps_port", "ldaps://h", url_of("ldaps", "h", 636, "")},
    {"uppercase_scheme", "LDAP://H/DC=X", url_of("ldap", "H", 389, "DC=X")},
    {"ldapi_path", "ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi/dc=x", url_of("ldapi", "/var/run/slapd/ldapi", 0, "dc=x")},
    {"no_host", "ldap:///dc=x??one", url_of("ldap", std::nullopt, 389, "dc=x", {}, LdapScope::OneLevel)},
    {"ipv6", "ldap://[::1]:1389/dc=x", url_of("ldap", "::1", 1389, "dc=x")},
    {"subordinate", "ldap://h/dc=x?cn?subordinate", url_of("ldap", "h", 389, "dc=x", {"cn"}, LdapScope::Subordinate)},
    {"escaped_parts", "ldap://h/dc%3Dx?c%2Cn?base?(a%3D%24d)",
     url_of("ldap", "h", 389, "dc=x", {"c", "n"}, LdapScope::Base, "(a=$d)")},
    {"empty_parts", "ldap://h/dc=x??\?(cn=$d)", url_of("ldap", "h", 389, "dc=x", {}, LdapScope::Base, "(cn=$d)")},
    {"extensions", "ldap://h/dc=x??\?(f)?!e1,e2=v",
     url_of("ldap", "h", 389, "dc=x", {}, LdapScope::Base, "(f)", {"!e1", "e2=v"})},
    {"dollar_D_base", "ldap://h/ou=keys,$D?cn?sub", url_of("ldap", "h", 389, "ou=keys,$D", {"cn"}, LdapScope::Subtree)},
};

INSTANTIATE_TEST_SUITE_P(Table, LdapUrlParse, testing::ValuesIn(kUrlCases),
                         [](const testing::TestParamInfo<UrlCase>& i) { return std::string(i.param.name); });

TEST(LdapUrlParseErrors, MalformedUrlsAreSyntaxErrors) {
  const std::vector<std::string> bad{
      "http://h/",          "ldap:/h",       "ldap://h:abc/",           "ldap://h:/",
      "ldap://[::1/",       "ldap://[::1]:x/", "ldap://h/dc=x?a?badscope", "ldap://h/dc=x?a?sub?(f)?e?extra",
      "ldap://h/dc=x?a?sub?%zz", "<ldap://h/",   "ldap://h/"s + '\0',      "",
  };
  for (const auto& u : bad) {
    auto r = parse_ldap_url(u);
    ASSERT_FALSE(r) << u;
    EXPECT_EQ(r.error().code, ErrorCode::Syntax) << u << ": " << r.error().reason;
  }
  auto r = parse_ldap_url("ldap://" + std::string(kMaxLdapSpecBytes, 'h'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
  // 10 000 attributes and a long filter parse, bounded by kMaxLdapSpecBytes.
  std::string attrs;
  for (int i = 0; i < 1000; ++i) attrs += "a" + std::to_string(i) + ",";
  auto many = parse_ldap_url("ldap://h/dc=x?" + attrs + "cn?sub");
  ASSERT_TRUE(many) << many.error().reason;
  EXPECT_EQ(many->attributes.size(), 1001U);
}

TEST(LdapOpen, RefusesBadValuesBeforeConnecting) {
  LiveDatasetOptions o;
  for (const char* spec : {"file:/x", "ldap:", "ldap://h/ http://x/", "ldap://h/dc=x?a?nope",
                           "ldap://h/ ldap://g:xx/"}) {
    auto r = open_ldap_dataset(spec, o);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().code, ErrorCode::Syntax) << spec << ": " << r.error().reason;
  }
  std::string big = "ldap://h/";
  for (std::size_t i = 1; i < kMaxLdapUris; ++i) big += " ldap://" + std::string(200, 'h') + "/";
  auto r = open_ldap_dataset(big, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "LDAP URI too large");
}

/* ---------------- a private slapd ---------------- */

constexpr const char* kSlapd = "/usr/sbin/slapd";
constexpr const char* kLdapAdd = "/usr/bin/ldapadd";
constexpr const char* kRootDn = "cn=admin,dc=example,dc=org";
constexpr const char* kRootPw = "s3cret";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string pct_path(const std::string& p) {
  std::string out;
  for (char c : p) {
    if (c == '/') out += "%2F";
    else out.push_back(c);
  }
  return out;
}

/// slapd with an mdb database under a temporary directory, on 127.0.0.1:port and an ldapi
/// socket; entries are loaded with ldapadd. Killed (SIGTERM, then SIGKILL) by stop() / the
/// destructor.
class Slapd {
 public:
  Slapd() {
    std::string tmpl = (fs::temp_directory_path() / "inkan-slapd-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    fs::create_directories(dir_ / "db");
    port_ = free_port();
    std::ofstream conf(dir_ / "slapd.conf");
    conf << "include /etc/ldap/schema/core.schema\n"
            "include /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\n"
         << "pidfile " << (dir_ / "slapd.pid").string() << "\n"
         << "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            "database mdb\nsuffix \"dc=example,dc=org\"\n"
         << "rootdn \"" << kRootDn << "\"\nrootpw " << kRootPw << "\n"
         << "directory " << (dir_ / "db").string() << "\nmaxsize 10485760\n"
         // Authenticated users (simple bind, SASL EXTERNAL) read; anonymous may only bind.
         << "access to * by users read by anonymous auth\n";
  }
  ~Slapd() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Slapd(const Slapd&) = delete;
  Slapd& operator=(const Slapd&) = delete;

  int port() const { return port_; }
  std::string ldapi_path() const { return (dir_ / "ldapi").string(); }
  std::string ldap_url(const std::string& rest) const {
    return "ldap://127.0.0.1:" + std::to_string(port_) + "/" + rest;
  }
  std::string ldapi_url(const std::string& rest) const { return "ldapi://" + pct_path(ldapi_path()) + "/" + rest; }

  bool start() {
    const std::string urls = "ldap://127.0.0.1:" + std::to_string(port_) + "/ ldapi://" + pct_path(ldapi_path()) + "/";
    const std::string conf = (dir_ / "slapd.conf").string();
    const std::string log = (dir_ / "slapd.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::execl(kSlapd, kSlapd, "-f", conf.c_str(), "-h", urls.c_str(), "-d", "0", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (port_open(port_) && fs::exists(ldapi_path())) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// SIGSTOP, then waits until every thread is stopped (kill returns before they are).
  void pause() {
    ::kill(pid_, SIGSTOP);
    const fs::path tasks = fs::path("/proc") / std::to_string(pid_) / "task";
    for (int i = 0; i < 200; ++i) {
      bool all = true;
      std::error_code ec;
      for (const auto& t : fs::directory_iterator(tasks, ec)) {
        std::ifstream st(t.path() / "stat");
        std::string line;
        std::getline(st, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'T') all = false;
      }
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void resume() { ::kill(pid_, SIGCONT); }

  bool add(const std::string& ldif) {
    const fs::path f = dir_ / "add.ldif";
    std::ofstream(f) << ldif;
    const std::string cmd = std::string(kLdapAdd) + " -x -H ldap://127.0.0.1:" + std::to_string(port_) + " -D " +
                            kRootDn + " -w " + kRootPw + " -f " + f.string() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  std::string log() const {
    std::ifstream in(dir_ / "slapd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path dir_;
  int port_ = -1;
  pid_t pid_ = -1;
};

constexpr const char* kEntries = R"(dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=keys,dc=example,dc=org
objectClass: organizationalUnit
ou: keys

dn: cn=k1,ou=keys,dc=example,dc=org
objectClass: inetOrgPerson
cn: k1
sn: key
mail: example.org
o: example.org
ou: sel1
description: /etc/keys/k1.private
description: second value

dn: cn=k2,ou=keys,dc=example,dc=org
objectClass: inetOrgPerson
cn: k2
sn: key
mail: user@example.net
o: example.net
ou: sel2
)";

const char* kKeyTableRest = "ou=keys,dc=example,dc=org?o,ou,description?sub?(mail=$d)";

class LdapServer : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kSlapd) || !fs::exists(kLdapAdd)) {
      if (const char* s = std::getenv("INKAN_ALLOW_SKIP"); s != nullptr && std::string(s) == "1") {
        GTEST_SKIP() << "slapd / ldap-utils not installed";
      }
      FAIL() << "slapd and ldap-utils are needed (apt-get install slapd ldap-utils), or set INKAN_ALLOW_SKIP=1";
    }
    server_ = std::make_unique<Slapd>();
    ASSERT_TRUE(server_->start()) << server_->log();
    ASSERT_TRUE(server_->add(kEntries)) << server_->log();
    bound_.ldap_bind_user = kRootDn;
    bound_.ldap_bind_password = kRootPw;
  }

  std::shared_ptr<LiveDataset> open(const std::string& spec, const LiveDatasetOptions& o) {
    auto r = open_ldap_dataset(spec, o);
    EXPECT_TRUE(r) << spec << ": " << (r ? "" : r.error().reason);
    return r ? *r : nullptr;
  }

  std::unique_ptr<Slapd> server_;
  LiveDatasetOptions bound_;
};

TEST_F(LdapServer, FoundFirstValueOfEachAttribute) {
  auto ds = open(server_->ldap_url(kKeyTableRest), bound_);
  ASSERT_TRUE(ds);
  auto r = ds->lookup("example.org");
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (LiveValues{"example.org", "sel1", "/etc/keys/k1.private"}));
  // An attribute the entry lacks gives "" in its place.
  r = ds->lookup("user@example.net");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(**r, (LiveValues{"example.net", "sel2", ""}));
}

TEST_F(LdapServer, NotFoundAndNameErrors) {
  auto ds = open(server_->ldap_url(kKeyTableRest), bound_);
  ASSERT_TRUE(ds);
  for (const char* key : {"nosuch.example", "", "*", "example.org)(mail=*", "EXAMPLE.ORG.", "a\\b"}) {
    auto r = ds->lookup(key);
    ASSERT_TRUE(r) << key << ": " << r.error().reason;
    EXPECT_FALSE(r->has_value()) << key;
  }
  // mail is case-insensitive in the schema, so the server finds it: the key is not folded here.
  auto r = ds->lookup("EXAMPLE.ORG");
  ASSERT_TRUE(r && r->has_value());
  // A base DN that does not exist is noSuchObject (LDAP_NAME_ERROR): not found, not an error.
  auto missing = open(server_->ldap_url("ou=nowhere,dc=example,dc=org?cn?sub?(mail=$d)"), bound_);
  ASSERT_TRUE(missing);
  r = missing->lookup("example.org");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_FALSE(r->has_value());
  // An invalid DN built from the key is a name error too (invalidDNSyntax).
  auto bydn = open(server_->ldap_url("cn=$d,ou=keys,dc=example,dc=org?ou?base"), bound_);
  ASSERT_TRUE(bydn);
  r = bydn->lookup("k1");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  EXPECT_EQ(**r, LiveValues{"sel1"});
  r = bydn->lookup("k9");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  r = bydn->lookup("=bad=dn,,");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_FALSE(r->has_value());
}

TEST_F(LdapServer, DollarDBaseAndNoAttributes) {
  auto ds = open(server_->ldap_url("ou=keys,$D?cn?one?(objectClass=inetOrgPerson)"), bound_);
  ASSERT_TRUE(ds);
  auto r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  EXPECT_EQ((*r)->size(), 1U);
  r = ds->lookup("example.com");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  // No attributes in the URL: a membership test, found with no values.
  auto member = open(server_->ldap_url("ou=keys,dc=example,dc=org??sub?(mail=$d)"), bound_);
  ASSERT_TRUE(member);
  r = member->lookup("example.org");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_TRUE((*r)->empty());
}

TEST_F(LdapServer, SimpleBindAndAnonymous) {
  LiveDatasetOptions wrong = bound_;
  wrong.ldap_bind_password = "nope";
  auto r = open_ldap_dataset(server_->ldap_url(kKeyTableRest), wrong);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Io);
  EXPECT_EQ(r.error().reason, "Invalid credentials");
  // "simple" and "none" are the documented simple bind.
  for (const char* mech : {"simple", "NONE", ""}) {
    LiveDatasetOptions o = bound_;
    o.ldap_auth_mechanism = mech;
    auto ds = open(server_->ldap_url(kKeyTableRest), o);
    ASSERT_TRUE(ds) << mech;
    auto v = ds->lookup("example.org");
    ASSERT_TRUE(v && v->has_value()) << mech;
  }
  // Anonymous: the bind succeeds, the ACL refuses the search: an error, not "not found".
  auto anon = open(server_->ldap_url(kKeyTableRest), LiveDatasetOptions{});
  ASSERT_TRUE(anon);
  auto v = anon->lookup("example.org");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::Io);
  EXPECT_EQ(v.error().reason, "Insufficient access");
}

TEST_F(LdapServer, SaslExternalOverLdapi) {
  LiveDatasetOptions o;
  o.ldap_auth_mechanism = "EXTERNAL";
  auto ds = open(server_->ldapi_url("ou=keys,dc=example,dc=org?ou?sub?(mail=$d)"), o);
  ASSERT_TRUE(ds);
  auto r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  EXPECT_EQ(**r, LiveValues{"sel1"});
  // A mechanism the client library does not have fails the open.
  o.ldap_auth_mechanism = "NO-SUCH-MECH";
  auto bad = open_ldap_dataset(server_->ldapi_url("dc=example,dc=org?ou"), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Io);
  // StartTLS is not attempted on ldapi even with LDAPUseTLS.
  LiveDatasetOptions tls = bound_;
  tls.ldap_use_tls = true;
  auto local = open(server_->ldapi_url("ou=keys,dc=example,dc=org?ou?sub?(mail=$d)"), tls);
  ASSERT_TRUE(local);
  // On ldap:// it is, and this server has no TLS: the open fails.
  auto plain = open_ldap_dataset(server_->ldap_url(kKeyTableRest), tls);
  ASSERT_FALSE(plain);
}

TEST_F(LdapServer, SeveralUrlsFirstDown) {
  const int dead = free_port();
  const std::string spec = "ldap://127.0.0.1:" + std::to_string(dead) + "/" + kKeyTableRest + " " +
                           server_->ldap_url("ignored?cn?base");
  auto ds = open(spec, bound_);
  ASSERT_TRUE(ds);
  auto r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  // Attributes, base and filter are the first URL's.
  EXPECT_EQ(**r, (LiveValues{"example.org", "sel1", "/etc/keys/k1.private"}));
  // All servers down: the open fails with libldap's message.
  auto none = open_ldap_dataset("ldap://127.0.0.1:" + std::to_string(dead) + "/" + kKeyTableRest, bound_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, "Can't contact LDAP server");
}

TEST_F(LdapServer, ReconnectsAfterServerRestart) {
  auto ds = open(server_->ldap_url(kKeyTableRest), bound_);
  ASSERT_TRUE(ds);
  ASSERT_TRUE(ds->lookup("example.org").has_value());
  // Restarted between two lookups: the dead connection is noticed and replaced in one lookup.
  server_->stop();
  ASSERT_TRUE(server_->start()) << server_->log();
  auto r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  // Down: an error naming libldap's reason; up again: found again.
  server_->stop();
  r = ds->lookup("example.org");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Io);
  EXPECT_EQ(r.error().reason, "Can't contact LDAP server");
  r = ds->lookup("example.org");
  ASSERT_FALSE(r);
  ASSERT_TRUE(server_->start()) << server_->log();
  r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
  EXPECT_EQ((**r)[1], "sel1");
}

TEST_F(LdapServer, SoftStart) {
  server_->stop();
  auto hard = open_ldap_dataset(server_->ldap_url(kKeyTableRest), bound_);
  ASSERT_FALSE(hard);
  EXPECT_EQ(hard.error().reason, "Can't contact LDAP server");
  LiveDatasetOptions soft = bound_;
  soft.soft_start = true;
  auto ds = open(server_->ldap_url(kKeyTableRest), soft);
  ASSERT_TRUE(ds);
  auto r = ds->lookup("example.org");
  ASSERT_FALSE(r);
  ASSERT_TRUE(server_->start()) << server_->log();
  r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
}

TEST_F(LdapServer, TimeoutOnAStoppedServer) {
  LiveDatasetOptions o = bound_;
  o.ldap_timeout = 1;
  o.ldap_keepalive_idle = 30;
  o.ldap_keepalive_interval = 5;
  o.ldap_keepalive_probes = 3;
  auto ds = open(server_->ldap_url(kKeyTableRest), o);
  ASSERT_TRUE(ds);
  ASSERT_TRUE(ds->lookup("example.org").has_value());
  server_->pause();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ds->lookup("example.org");
  const auto took = std::chrono::steady_clock::now() - t0;
  server_->resume();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Io);
  // One search timeout plus one reconnect attempt, each bounded by LDAPTimeout.
  EXPECT_LT(took, std::chrono::seconds(6));
  r = ds->lookup("example.org");
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().reason);
}

TEST_F(LdapServer, ConcurrentLookupsAndMaskedOrigin) {
  const std::string spec = server_->ldap_url(std::string(kKeyTableRest) + "?x-bindpw=hunter2");
  auto ds = open(spec, bound_);
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->origin().find("hunter2"), std::string::npos);
  EXPECT_NE(ds->origin().find("x-bindpw=****"), std::string::npos);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const bool hit = (i + t) % 2 == 0;
        auto r = ds->lookup(hit ? "example.org" : "absent.example");
        if (r && r->has_value() == hit && (!hit || (**r)[1] == "sel1")) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace auth::config
