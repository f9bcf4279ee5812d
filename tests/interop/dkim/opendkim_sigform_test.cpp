// Byte-identity of SignatureStyle::OpenDkim against the real OpenDKIM daemon (Debian
// opendkim 2.11): each case starts /usr/sbin/opendkim in the foreground as a signing milter on
// a unix socket in a private directory, with keys generated here, feeds it a message with the
// milter-protocol client (tests/milterclient), takes the DKIM-Signature it inserts, reads its
// t=, then signs the same message with auth::dkim::Signer (fixed clock at that t, OpenDkim
// style, the same canonicalization, headers, oversigning and i=) and compares the whole field
// byte for byte — b= included, since RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic.
//
// The milter client offers SMFIP_HDR_LEADSPC and opendkim takes it, so opendkim receives every
// header value with its own leading white space and hashes the fields exactly as they appear
// in the message we sign (checked by the simple/simple case). The inserted value comes back
// with LF folding and a leading space; the MTA writes it as "DKIM-Signature:" + value with CRLF.
//
// Skips (GTEST_SKIP) when /usr/sbin/opendkim is not installed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/signature.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/tag_list.h"
#include "milterclient/milter_client.h"

namespace {

namespace fs = std::filesystem;
namespace mc = inkan::milterclient;
using auth::dkim::Canon;
using auth::dkim::SignatureSpec;
using auth::dkim::SignatureStyle;

constexpr const char* kOpenDkim = "/usr/sbin/opendkim";
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr int kStopGraceSteps = 10;  // x 50 ms

bool have_opendkim() { return ::access(kOpenDkim, X_OK) == 0; }

void write_file(const fs::path& p, const std::string& text, mode_t mode = 0600) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  ::chmod(p.c_str(), mode);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Keys shared by all cases (generation is the slow part).
const auth::crypto::PrivateKey& rsa_key() {
  static const auth::crypto::PrivateKey k = [] {
    auto r = auth::crypto::PrivateKey::generate_rsa(2048);
    if (!r) std::abort();
    return *r;
  }();
  return k;
}
const auth::crypto::PrivateKey& ed_key() {
  static const auth::crypto::PrivateKey k = [] {
    auto r = auth::crypto::PrivateKey::generate_ed25519();
    if (!r) std::abort();
    return *r;
  }();
  return k;
}

// One opendkim process in a private directory; stopped (SIGTERM, then SIGKILL after
// kStopGrace: libmilter takes about 5 s to wind down) and the directory removed on destruction.
class OpenDkimDaemon {
 public:
  OpenDkimDaemon() {
    char tmpl[] = "/tmp/inkan-sigform-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  }
  ~OpenDkimDaemon() {
    stop();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  OpenDkimDaemon(const OpenDkimDaemon&) = delete;
  OpenDkimDaemon& operator=(const OpenDkimDaemon&) = delete;

  const fs::path& dir() const { return dir_; }
  std::string socket_spec() const { return "unix:" + (dir_ / "od.sock").string(); }

  /// Writes a key file in the directory and returns its path.
  std::string key_file(const std::string& name, const auth::crypto::PrivateKey& key) {
    auto pem = key.to_pem();
    if (!pem) return {};
    write_file(dir_ / name, *pem);
    return (dir_ / name).string();
  }
  void file(const std::string& name, const std::string& text) { write_file(dir_ / name, text); }

  /// Starts opendkim with `conf_lines` plus the socket and foreground settings; true once
  /// the socket accepts connections.
  bool start(const std::string& conf_lines) {
    if (dir_.empty()) return false;
    const fs::path conf = dir_ / "opendkim.conf";
    write_file(conf, "Socket " + socket_spec() + "\nMode s\nBackground no\nSyslog no\n" +
                         "RequireSafeKeys no\n" + conf_lines);
    const fs::path log = dir_ / "opendkim.log";
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(kOpenDkim, kOpenDkim, "-f", "-x", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (connectable()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string log() const { return read_text(dir_ / "opendkim.log"); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < kStopGraceSteps; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  bool connectable() const {
    const std::string path = (dir_ / "od.sock").string();
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path) return false;
    sa.sun_family = AF_UNIX;
    path.copy(sa.sun_path, path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return false;
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
  }

  fs::path dir_;
  pid_t pid_ = -1;
};

// The field opendkim inserted, as the MTA writes it ("DKIM-Signature:" + value, CRLF folding).
struct Captured {
  std::string field;
  std::int64_t t = 0;
};

std::optional<Captured> sign_with_opendkim(const OpenDkimDaemon& d, const std::string& message,
                                           std::string& why) {
  auto msg = mc::parse_message(message);
  if (!msg) {
    why = "parse_message: " + msg.error().reason;
    return std::nullopt;
  }
  mc::Transaction t;
  t.client_host = "localhost";
  t.client_addr = "127.0.0.1";  // opendkim's default InternalHosts: this client is signed for
  t.message = std::move(*msg);
  auto r = mc::run_transaction(d.socket_spec(), t, std::chrono::seconds(30));
  if (!r) {
    why = "milter transaction: " + r.error().reason;
    return std::nullopt;
  }
  if (!r->negotiation.leading_space()) {
    why = "opendkim did not take SMFIP_HDR_LEADSPC; header bytes would differ";
    return std::nullopt;
  }
  for (const auto& m : r->modifications) {
    if ((m.kind != mc::Modification::Kind::InsertHeader &&
         m.kind != mc::Modification::Kind::AddHeader) ||
        m.name != "DKIM-Signature") {
      continue;
    }
    Captured c;
    c.field = "DKIM-Signature:";
    if (m.value.empty() || (m.value[0] != ' ' && m.value[0] != '\t')) c.field += ' ';
    for (char ch : m.value) {
      if (ch == '\n') c.field += "\r\n";
      else c.field += ch;
    }
    auto tags = auth::dkim::parse_tag_list(m.value);
    if (!tags) {
      why = "inserted field does not parse: " + tags.error().reason;
      return std::nullopt;
    }
    auto tv = tags->get("t");
    if (!tv) {
      why = "no t= in " + c.field;
      return std::nullopt;
    }
    c.t = std::strtoll(std::string(*tv).c_str(), nullptr, 10);
    return c;
  }
  why = "opendkim inserted no DKIM-Signature (final " + r->final.describe() + ")\n" + d.log();
  return std::nullopt;
}

std::string sign_with_inkan(const std::string& message, SignatureSpec spec, std::int64_t t) {
  spec.style = SignatureStyle::OpenDkim;
  auth::dkim::SignOptions o;
  o.clock = auth::dkim::fixed_clock(t);
  o.signatures.push_back(std::move(spec));
  auto r = auth::dkim::sign_message(message, o);
  if (!r) return "inkan signing failed: " + r.error().reason;
  return r->at(0);
}

SignatureSpec base_spec(const std::string& domain, const std::string& selector,
                        const auth::crypto::PrivateKey& key, Canon header, Canon body) {
  SignatureSpec s;
  s.domain = domain;
  s.selector = selector;
  s.key = std::make_shared<auth::crypto::LocalSigner>(key);
  s.canon = {header, body};
  s.oversign.clear();  // opendkim's OversignHeaders default is empty (Debian's conf adds From)
  return s;
}

// Signs `message` with both and expects identical fields. Returns opendkim's field.
std::string expect_identical(const OpenDkimDaemon& d, const std::string& message,
                             const SignatureSpec& spec) {
  std::string why;
  auto theirs = sign_with_opendkim(d, message, why);
  EXPECT_TRUE(theirs) << why;
  if (!theirs) return {};
  const std::string mine = sign_with_inkan(message, spec, theirs->t);
  EXPECT_EQ(mine, theirs->field) << "inkan:\n" << mine << "\nopendkim:\n" << theirs->field;
  return theirs->field;
}

std::string base_message(const std::string& from = "Joe <joe@example.com>") {
  return "Received: from client.example.net by mx.example.com; Fri, 11 Jul 2003 21:00:37 -0700\r\n"
         "From: " + from + "\r\n"
         "To: Suzie <suzie@example.net>\r\n"
         "Subject: dinner at eight\r\n"
         "Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
         "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
         "MIME-Version: 1.0\r\n"
         "\r\n"
         "Hi.\r\n"
         "\r\n"
         "We lost the game.  Are you hungry yet?\r\n"
         "\r\n"
         "Joe.\r\n";
}

#define REQUIRE_OPENDKIM()                                           \
  do {                                                               \
    if (!have_opendkim()) GTEST_SKIP() << kOpenDkim << " not installed"; \
  } while (0)

#define START(d, conf)                                                   \
  do {                                                                   \
    ASSERT_TRUE((d).start(conf)) << "opendkim did not start:\n" << (d).log(); \
  } while (0)

TEST(OpenDkimSigForm, RelaxedSimpleOversignFrom) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization relaxed/simple\nOversignHeaders From\n");
  auto spec = base_spec("example.com", "sel2024", rsa_key(), Canon::Relaxed, Canon::Simple);
  spec.oversign = {"From"};
  const std::string f = expect_identical(d, base_message(), spec);
  // The lab capture's shape (anchor-features §2.6).
  EXPECT_NE(f.find("c=relaxed/simple; d=example.com;\r\n\ts=sel2024; t="), std::string::npos) << f;
  EXPECT_NE(f.find("\r\n\th=From:To:Subject:Date:From;\r\n\tb="), std::string::npos) << f;
}

TEST(OpenDkimSigForm, SimpleSimpleNoOversign) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization simple/simple\n");
  // Values with odd white space: simple header canonicalization hashes them byte for byte.
  std::string m = base_message();
  m.insert(0, "Reply-To:   spaced   <r@example.com>  \r\nCc:\tfolded\r\n  line <c@example.com>\r\n");
  expect_identical(d, m, base_spec("example.com", "sel2024", rsa_key(), Canon::Simple, Canon::Simple));
}

TEST(OpenDkimSigForm, MaximumSignedBytesWritesTheSameL) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization relaxed/simple\nOversignHeaders From\nMaximumSignedBytes 20\n");
  auto spec = base_spec("example.com", "sel2024", rsa_key(), Canon::Relaxed, Canon::Simple);
  spec.oversign = {"From"};
  spec.max_body_bytes = 20;
  const std::string f = expect_identical(d, base_message(), spec);
  EXPECT_NE(f.find(" l=20;"), std::string::npos) << f;
}

TEST(OpenDkimSigForm, SigningTableIdentity) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  d.file("KeyTable", "k1 example.net:sel2024:" + key + "\n");
  // A fixed signer for one address, a '%' signer (the sender domain) for the rest.
  d.file("SigningTable", "chief@example.net k1:chief@example.net\nexample.net k1:news@%\n");
  START(d, "KeyTable " + (d.dir() / "KeyTable").string() + "\nSigningTable " +
               (d.dir() / "SigningTable").string() +
               "\nCanonicalization relaxed/simple\nOversignHeaders From\n");
  auto spec = base_spec("example.net", "sel2024", rsa_key(), Canon::Relaxed, Canon::Simple);
  spec.oversign = {"From"};
  spec.identity = "chief@example.net";
  std::string f = expect_identical(d, base_message("The Chief <chief@example.net>"), spec);
  EXPECT_NE(f.find("s=sel2024; t="), std::string::npos) << f;
  EXPECT_NE(f.find("; i=chief@example.net;"), std::string::npos) << f;
  spec.identity = "news@example.net";
  f = expect_identical(d, base_message("Joe <joe@example.net>"), spec);
  EXPECT_NE(f.find("i=news@example.net;"), std::string::npos) << f;
}

TEST(OpenDkimSigForm, Ed25519WithSignatureTtl) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("ed.pem", ed_key());
  START(d, "Domain example.com\nSelector ed2024\nKeyFile " + key +
               "\nSignatureAlgorithm ed25519-sha256\nCanonicalization relaxed/relaxed\n"
               "SignatureTTL 86400\n");
  auto spec = base_spec("example.com", "ed2024", ed_key(), Canon::Relaxed, Canon::Relaxed);
  spec.expire_after = 86400;
  const std::string f = expect_identical(d, base_message(), spec);
  EXPECT_NE(f.find("a=ed25519-sha256;"), std::string::npos) << f;
  EXPECT_NE(f.find(" x="), std::string::npos) << f;
}

// With simple header canonicalization OpenDKIM hashes " b=" but writes CRLF TAB "b=", so its
// own Ed25519 signature does not verify; ours hashes what it writes. Same bytes except b=.
TEST(OpenDkimSigForm, Ed25519SimpleHeaderSameLayout) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("ed.pem", ed_key());
  START(d, "Domain example.com\nSelector ed2024\nKeyFile " + key +
               "\nSignatureAlgorithm ed25519-sha256\nCanonicalization simple/simple\n");
  std::string why;
  const std::string m = base_message();
  auto theirs = sign_with_opendkim(d, m, why);
  ASSERT_TRUE(theirs) << why;
  auto spec = base_spec("example.com", "ed2024", ed_key(), Canon::Simple, Canon::Simple);
  const std::string mine = sign_with_inkan(m, spec, theirs->t);
  const auto cut = [](const std::string& f) { return f.substr(0, f.find("b=", f.find("h="))); };
  EXPECT_EQ(cut(mine), cut(theirs->field)) << mine << "\n" << theirs->field;
  EXPECT_EQ(mine.size(), theirs->field.size());
}

TEST(OpenDkimSigForm, HeaderNamesKeepTheirCase) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization relaxed/relaxed\nSignHeaders From,Subject,Message-ID,to,DATE\n"
               "OversignHeaders from,X-Absent\n");
  const std::string m =
      "FROM: Joe <joe@example.com>\r\n"
      "tO: Suzie <suzie@example.net>\r\n"
      "SUBJECT: dinner\r\n"
      "message-id: <1@example.com>\r\n"
      "To: Other <other@example.net>\r\n"
      "dAtE: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
      "sUbJeCt: second subject\r\n"
      "\r\n"
      "Hi.\r\n";
  auto spec = base_spec("example.com", "sel2024", rsa_key(), Canon::Relaxed, Canon::Relaxed);
  spec.headers = {"From", "Subject", "Message-ID", "to", "DATE"};
  spec.oversign = {"from", "X-Absent"};
  const std::string f = expect_identical(d, m, spec);
  EXPECT_NE(f.find("h=FROM:tO:SUBJECT:message-id:To:dAtE:sUbJeCt:from:X-Absent;"), std::string::npos)
      << f;
}

// Domains and selectors of several lengths move every fold point (d= alone on a line, s= and
// t= pushed down, bh= wrapped).
TEST(OpenDkimSigForm, LongDomainsAndSelectorsFoldAlike) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  struct Id {
    std::string domain, selector;
  };
  const std::vector<Id> ids = {
      {"e.io", "s"},
      {"example.com", "a-selector-of-thirty-characters"},
      {"mail.a-longer-organisation-name.example", "sel2024"},
      {"a-very-long-first-label-to-push-the-first-line-past-margin.example.com", "s1"},
      {"x.y.example.org", "selector-with-a-long-name-that-fills-most-of-a-line-by-itself"},
      {std::string(63, 'd') + "." + std::string(40, 'e') + ".example", std::string(60, 's')},
  };
  std::string kt, st;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    kt += "k" + std::to_string(i) + " " + ids[i].domain + ":" + ids[i].selector + ":" + key + "\n";
    st += "sender" + std::to_string(i) + ".example k" + std::to_string(i) + "\n";
  }
  d.file("KeyTable", kt);
  d.file("SigningTable", st);
  START(d, "KeyTable " + (d.dir() / "KeyTable").string() + "\nSigningTable " +
               (d.dir() / "SigningTable").string() +
               "\nCanonicalization relaxed/simple\nOversignHeaders From\n");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i].domain + " / " + ids[i].selector);
    auto spec = base_spec(ids[i].domain, ids[i].selector, rsa_key(), Canon::Relaxed, Canon::Simple);
    spec.oversign = {"From"};
    expect_identical(d, base_message("J <j@sender" + std::to_string(i) + ".example>"), spec);
  }
}

// Many signed header fields: h= wraps after ':' onto TAB+SP continuation lines.
TEST(OpenDkimSigForm, LongHeaderListWraps) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  std::string sign_headers = "From,To,Subject,Date,Message-ID,MIME-Version,Content-Type";
  std::vector<std::string> names = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
                                    "Content-Type"};
  std::string extra;
  for (int i = 0; i < 40; ++i) {
    const std::string n = "X-List-Header-" + std::to_string(i);
    sign_headers += "," + n;
    names.push_back(n);
    extra += n + ": value " + std::to_string(i) + "\r\n";
  }
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization relaxed/relaxed\nSignHeaders " + sign_headers +
               "\nOversignHeaders From,Subject\n");
  std::string m = base_message();
  m.insert(0, extra + "Content-Type: text/plain; charset=us-ascii\r\n");
  auto spec = base_spec("example.com", "sel2024", rsa_key(), Canon::Relaxed, Canon::Relaxed);
  spec.headers = names;
  spec.oversign = {"From", "Subject"};
  const std::string f = expect_identical(d, m, spec);
  EXPECT_NE(f.find(":\r\n\t X-List-Header-"), std::string::npos) << f;
}

// OpenDKIM's default SignHeaders (no Message-ID, MIME-Version) with an empty `headers`.
TEST(OpenDkimSigForm, DefaultSignHeaders) {
  REQUIRE_OPENDKIM();
  OpenDkimDaemon d;
  const std::string key = d.key_file("rsa.pem", rsa_key());
  START(d, "Domain example.com\nSelector sel2024\nKeyFile " + key +
               "\nCanonicalization relaxed/relaxed\nOversignHeaders From\n");
  std::string m = base_message();
  m.insert(0, "List-Id: <list.example.com>\r\nIn-Reply-To: <0@example.com>\r\nCc: c@example.org\r\n");
  auto spec = base_spec("example.com", "sel2024", rsa_key(), Canon::Relaxed, Canon::Relaxed);
  spec.oversign = {"From"};
  const std::string f = expect_identical(d, m, spec);
  EXPECT_EQ(f.find("Message-ID"), std::string::npos) << f;
}

}  // namespace
