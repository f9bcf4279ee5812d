// inkan keygen / inkan testkey — the opendkim-genkey and opendkim-testkey replacements.
//
// keygen writes SELECTOR.private (PKCS#8 PEM, mode 0600) and SELECTOR.txt, the TXT record in
// the exact shape opendkim-genkey 2.11 writes (Debian defaults: 2048 bits, h=sha256):
//
//   sel._domainkey<TAB>IN<TAB>TXT<TAB>( "v=DKIM1; h=sha256; k=rsa; "
//   <TAB>  "p=<250 base64 chars>"
//   <TAB>  "<rest>" )  ; ----- DKIM key sel for example.com
//
// i.e. the p= data is cut every 250 characters, so every quoted string stays below the
// 255-octet limit of one character-string (RFC 1035 §3.3). Unlike opendkim-genkey it also
// makes Ed25519 keys (RFC 8463 §4: k=ed25519, p= is the raw 32-byte key) and it refuses to
// overwrite existing files.
//
// testkey looks SELECTOR._domainkey.DOMAIN up (RFC 6376 §3.6.2.1), parses the key record
// (§3.6.1) and checks it against the private key, with one message per way it can go wrong.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/crypto/base64.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/key_record.h"
#include "auth/dns/cares_resolver.h"
#include "auth/dns/zone.h"
#include "command.h"
#include "options.h"

namespace inkan::cli {
namespace {

bool parse_unsigned(std::string_view s, unsigned long max, unsigned long& out) {
  if (s.empty() || s.size() > 10) return false;
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

/// A DNS name as DKIM uses it for d= and s= (RFC 6376 §3.1, §3.5: sub-domain labels of
/// letters, digits, '-', plus '_' which real selectors use). Length limits: RFC 1035 §2.3.4.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0 || name.size() > 1;
}

// ---------------------------------------------------------------------------------------------
// keygen

/// opendkim-genkey cuts p= data into 250-character pieces (genkey: `substr($keydata, $cur,
/// 250)`), so "p=" + 250 characters keeps the first string at 252 octets < 255 (RFC 1035 §3.3).
constexpr std::size_t kGenkeyChunk = 250;

/// The .txt record text, byte for byte as opendkim-genkey writes it.
std::string format_genkey_txt(std::string_view selector, std::string_view domain,
                              bool append_domain, std::string_view note,
                              std::string_view hash_algs, std::string_view key_type,
                              std::string_view flags, std::string_view p) {
  std::string out;
  out += selector;
  out += "._domainkey";
  if (append_domain) {
    out += '.';
    out += domain;
    out += '.';
  }
  out += "\tIN\tTXT\t( \"v=DKIM1;";
  if (!note.empty()) {
    out += " n=\\\"";
    out += note;
    out += "\\\";";
  }
  if (!hash_algs.empty()) {
    out += " h=";
    out += hash_algs;
    out += ';';
  }
  out += " k=";
  out += key_type;
  out += "; ";
  out += flags;
  out += "\"\n\t  \"p=";
  for (std::size_t cur = 0; cur < p.size(); cur += kGenkeyChunk) {
    if (cur != 0) out += "\"\n\t  \"";
    out += p.substr(cur, kGenkeyChunk);
  }
  out += "\" ) ";
  if (!domain.empty()) {
    out += " ; ----- DKIM key ";
    out += selector;
    out += " for ";
    out += domain;
  }
  out += '\n';
  return out;
}

/// PKCS#8 "BEGIN PRIVATE KEY" PEM, as `openssl genrsa` (OpenSSL 3) writes for opendkim-genkey.
/// crypto::PrivateKey::to_pem() writes PKCS#1 for RSA; re-encode that here.
auth::Result<std::string> to_pkcs8_pem(const auth::crypto::PrivateKey& key) {
  auto pem = key.to_pem();
  if (!pem) return auth::fail(pem.error());
  if (pem->find("-----BEGIN PRIVATE KEY-----") != std::string::npos) return pem;
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
  if (!in) return auth::fail(auth::ErrorCode::Crypto, "out of memory");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  OPENSSL_cleanse(pem->data(), pem->size());  // the PKCS#1 copy is not needed any more
  if (!pkey) return auth::fail(auth::ErrorCode::Crypto, "cannot re-read the generated key");
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!out || PEM_write_bio_PKCS8PrivateKey(out.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return auth::fail(auth::ErrorCode::Crypto, "cannot encode the key as PKCS#8");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  std::string result(data, static_cast<std::size_t>(n));
  OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return result;
}

/// Creates `path` exclusively with `mode` and writes `data`. Never overwrites.
bool write_new_file(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    std::fprintf(stderr, "inkan keygen: %s: %s%s\n", path.c_str(), std::strerror(errno),
                 errno == EEXIST ? " (refusing to overwrite; remove it first)" : "");
    return false;
  }
  // The umask may have removed bits; set exactly what we mean.
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t done = 0;
  while (ok && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (ok && ::fsync(fd) != 0) ok = false;
  const int saved = errno;
  if (::close(fd) != 0 && ok) ok = false;
  if (!ok) {
    std::fprintf(stderr, "inkan keygen: %s: %s\n", path.c_str(), std::strerror(saved));
    ::unlink(path.c_str());
  }
  return ok;
}

constexpr std::string_view kKeygenUsage =
    "usage: inkan keygen [options]\n"
    "Generates a DKIM key pair like opendkim-genkey: SELECTOR.private (PKCS#8 PEM, mode 0600)\n"
    "and SELECTOR.txt (the TXT record to publish at SELECTOR._domainkey.DOMAIN).\n"
    "\n"
    "  -a, --algorithm rsa|ed25519  key type (default rsa; ed25519 is RFC 8463)\n"
    "      --append-domain     include the domain in the record name (opendkim-genkey -a;\n"
    "                          a bare '-a' not followed by rsa/ed25519 also means this)\n"
    "  -b, --bits N            RSA key size (default 2048; 1024..16384)\n"
    "  -D, --directory DIR     write the files in DIR (default .)\n"
    "  -d, --domain NAME       signing domain (default localhost)\n"
    "  -h, --hash-algorithms L h= value, e.g. sha256 (default sha256)\n"
    "  -n, --note TEXT         add n=\"TEXT\" to the record\n"
    "  -r, --restrict          restrict the key to email (s=email)\n"
    "  -s, --selector NAME     selector (default 'default')\n"
    "  -S, --no-subdomains     the key does not cover subdomains (t=s)\n"
    "      --subdomains        the key covers subdomains (default)\n"
    "  -t, --testmode          mark the key as testing (t=y)\n"
    "  -v, --verbose           say what is done\n"
    "  -V, --version           print the version and exit\n"
    "      --help              this text\n"
    "Existing files are never overwritten.\n";

int cmd_keygen(const std::vector<std::string>& raw_args) {
  // opendkim-genkey's -a means --append-domain; ours takes the key type. Keep old scripts
  // working: a -a whose next word is not a key type is --append-domain.
  std::vector<std::string> args;
  for (std::size_t i = 0; i < raw_args.size(); ++i) {
    if (raw_args[i] == "-a") {
      const bool has_type = i + 1 < raw_args.size() &&
                            (raw_args[i + 1] == "rsa" || raw_args[i + 1] == "ed25519" ||
                             raw_args[i + 1] == "rsa-sha256" ||
                             raw_args[i + 1] == "ed25519-sha256");
      if (!has_type) {
        args.emplace_back("--append-domain");
        continue;
      }
    }
    args.push_back(raw_args[i]);
  }

  const std::vector<OptSpec> specs = {
      {'a', "algorithm", true},  {0, "append-domain", false}, {'b', "bits", true},
      {'D', "directory", true},  {'d', "domain", true},       {'h', "hash-algorithms", true},
      {'n', "note", true},       {'r', "restrict", false},    {'s', "selector", true},
      {'S', "nosubdomains", false}, {0, "no-subdomains", false}, {0, "subdomains", false},
      {'t', "testmode", false},
      {'v', "verbose", false},   {'V', "version", false},     {0, "help", false},
  };
  std::vector<ParsedOpt> opts;
  if (!parse_options("keygen", args, 0, specs, opts)) return kExitUsage;

  std::string alg = "rsa";
  unsigned long bits = 2048;
  bool bits_given = false;
  std::string dir = ".";
  std::string domain = "localhost";
  std::string hash_algs = "sha256";
  std::string note;
  std::string selector = "default";
  bool append = false, restrict_email = false, subdomains = true, testmode = false;
  int verbose = 0;
  for (const auto& o : opts) {
    const std::string_view ln = o.spec->long_name;
    if (ln == "help") {
      std::fwrite(kKeygenUsage.data(), 1, kKeygenUsage.size(), stdout);
      return kExitOk;
    }
    if (ln == "version") {
      std::printf("inkan keygen %s\n", INKAN_VERSION);
      return kExitOk;
    }
    if (ln == "algorithm") {
      if (o.value == "rsa" || o.value == "rsa-sha256") {
        alg = "rsa";
      } else if (o.value == "ed25519" || o.value == "ed25519-sha256") {
        alg = "ed25519";
      } else {
        std::fprintf(stderr, "inkan keygen: unknown key type '%s' (rsa or ed25519)\n",
                     o.value.c_str());
        return kExitUsage;
      }
    } else if (ln == "append-domain") {
      append = true;
    } else if (ln == "bits") {
      if (!parse_unsigned(o.value, auth::crypto::kMaxRsaBits, bits) ||
          bits < auth::crypto::kMinRsaBits) {
        std::fprintf(stderr,
                     "inkan keygen: bad key size '%s': RSA keys are %u to %u bits "
                     "(RFC 8301 §3.2 sets the 1024-bit minimum)\n",
                     o.value.c_str(), auth::crypto::kMinRsaBits, auth::crypto::kMaxRsaBits);
        return kExitUsage;
      }
      bits_given = true;
    } else if (ln == "directory") {
      dir = o.value;
    } else if (ln == "domain") {
      domain = o.value;
    } else if (ln == "hash-algorithms") {
      hash_algs = o.value;
    } else if (ln == "note") {
      note = o.value;
    } else if (ln == "restrict") {
      restrict_email = true;
    } else if (ln == "selector") {
      selector = o.value;
    } else if (ln == "nosubdomains" || ln == "no-subdomains") {
      subdomains = false;
    } else if (ln == "subdomains") {
      subdomains = true;
    } else if (ln == "testmode") {
      testmode = true;
    } else if (ln == "verbose") {
      ++verbose;
    }
  }

  // Validate what ends up inside the record and in file names.
  if (!is_dns_name(selector) || selector.front() == '.' || selector.back() == '.') {
    std::fprintf(stderr,
                 "inkan keygen: bad selector '%s': letters, digits, '-', '_' and inner dots "
                 "only (RFC 6376 §3.1)\n",
                 selector.c_str());
    return kExitUsage;
  }
  if (!domain.empty() && !is_dns_name(domain)) {
    std::fprintf(stderr, "inkan keygen: bad domain '%s' (RFC 6376 §3.5 d=; use the A-label "
                 "form of an internationalized name)\n", domain.c_str());
    return kExitUsage;
  }
  for (std::size_t i = 0; i < hash_algs.size(); ++i) {
    const char c = hash_algs[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':')) {
      std::fprintf(stderr, "inkan keygen: bad hash list '%s' (e.g. sha256 or sha1:sha256)\n",
                   hash_algs.c_str());
      return kExitUsage;
    }
  }
  if (hash_algs.empty()) {
    std::fprintf(stderr, "inkan keygen: empty hash list (e.g. sha256)\n");
    return kExitUsage;
  }
  for (unsigned char c : note) {
    // n= is qp-section (RFC 6376 §3.6.1); keep it printable and out of the zone-file quoting.
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == ';') {
      std::fprintf(stderr, "inkan keygen: the note may not hold quotes, backslashes, ';' or "
                   "non-printable characters\n");
      return kExitUsage;
    }
  }
  if (alg == "ed25519" && bits_given) {
    std::fprintf(stderr, "inkan keygen: -b ignored: Ed25519 keys have a fixed size\n");
  }

  // Refuse before spending time on key generation.
  const std::string base = dir + "/" + selector;
  const std::string priv_path = base + ".private";
  const std::string txt_path = base + ".txt";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "inkan keygen: %s: not a directory\n", dir.c_str());
    return kExitUsage;
  }
  for (const auto& p : {priv_path, txt_path}) {
    if (::lstat(p.c_str(), &st) == 0) {
      std::fprintf(stderr, "inkan keygen: %s exists (refusing to overwrite; remove it first)\n",
                   p.c_str());
      return kExitUsage;
    }
  }

  if (verbose > 0) std::fprintf(stderr, "inkan keygen: generating private key\n");
  auto key = alg == "rsa"
                 ? auth::crypto::PrivateKey::generate_rsa(static_cast<unsigned>(bits))
                 : auth::crypto::PrivateKey::generate_ed25519();
  if (!key) {
    std::fprintf(stderr, "inkan keygen: %s\n", key.error().reason.c_str());
    return kExitUsage;
  }
  auto pem = to_pkcs8_pem(*key);
  if (!pem) {
    std::fprintf(stderr, "inkan keygen: %s\n", pem.error().reason.c_str());
    return kExitUsage;
  }
  auto p = auth::crypto::PublicKey::from_private(*key).dkim_p();
  if (!p) {
    std::fprintf(stderr, "inkan keygen: %s\n", p.error().reason.c_str());
    return kExitUsage;
  }

  // Flags exactly as opendkim-genkey composes them: "t=y;", "t=y:s;", "t=s;", then "s=email;".
  std::string flags;
  if (testmode) flags = "t=y;";
  if (!subdomains) flags = testmode ? "t=y:s;" : "t=s;";
  if (restrict_email) {
    if (!flags.empty()) flags += ' ';
    flags += "s=email;";
  }
  if (!flags.empty()) flags += ' ';

  const std::string txt =
      format_genkey_txt(selector, domain, append, note, hash_algs, alg, flags,
                        auth::crypto::base64_encode(*p));

  if (!write_new_file(priv_path, *pem, 0600)) return kExitUsage;
  if (verbose > 0) std::fprintf(stderr, "inkan keygen: private key written to %s\n",
                                priv_path.c_str());
  if (!write_new_file(txt_path, txt, 0644)) {
    ::unlink(priv_path.c_str());
    return kExitUsage;
  }
  if (verbose > 0) std::fprintf(stderr, "inkan keygen: DNS TXT record written to %s\n",
                                txt_path.c_str());
  return kExitOk;
}

const Register kKeygen{"keygen", "generate a DKIM key pair and its TXT record (opendkim-genkey)",
                       cmd_keygen};

// ---------------------------------------------------------------------------------------------
// testkey

constexpr std::string_view kTestkeyUsage =
    "usage: inkan testkey -d DOMAIN -s SELECTOR -k KEYFILE [--zone FILE | --nameserver IP[:PORT]]\n"
    "Checks that the key record at SELECTOR._domainkey.DOMAIN exists, parses and matches the\n"
    "private key (opendkim-testkey). Exit 0 if it does, 1 if not, 2 on usage or I/O errors.\n"
    "\n"
    "  -d, --domain DOMAIN     signing domain\n"
    "  -s, --selector NAME     selector\n"
    "  -k, --key FILE          private key file\n"
    "      --zone FILE         look the record up in an RFC 1035 master file (repeatable;\n"
    "                          relative names are taken relative to DOMAIN, so the .txt file\n"
    "                          written by keygen works as is)\n"
    "      --origin NAME       $ORIGIN for --zone files instead of DOMAIN\n"
    "      --nameserver ADDR   ask this DNS server (IP, IP:PORT, [IPv6]:PORT; repeatable)\n"
    "      --timeout MS        DNS timeout per try (default 2000)\n"
    "  -v, --verbose           print the record found\n";

/// Printable copy of DNS text for messages (attacker-controlled, STYLE.md logging rules).
std::string printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 300;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

/// Checks one key record against the private key; prints what is wrong. Returns true if usable
/// and matching. `testing` is set for t=y.
bool check_record(std::string_view txt, const auth::crypto::PrivateKey& key, bool& testing) {
  auto rec = auth::dkim::parse_key_record(txt);
  if (!rec) {
    std::printf("key record syntax error: %s\n", rec.error().reason.c_str());
    return false;
  }
  if (rec->revoked()) {
    std::printf("key revoked (empty p=, RFC 6376 §3.6.1)\n");
    return false;
  }
  if (rec->key_type != key.type()) {
    std::printf("key type mismatch: the record has k=%s, the private key is %s\n",
                printable(rec->key_type_text).c_str(), auth::crypto::to_string(key.type()));
    return false;
  }
  auto pub = auth::crypto::PublicKey::from_dkim_p(rec->key_type, rec->public_key);
  if (!pub) {
    std::printf("unusable public key in p=: %s\n", pub.error().reason.c_str());
    return false;
  }
  bool ok = true;
  if (!(*pub == auth::crypto::PublicKey::from_private(key))) {
    std::printf("key mismatch: the published key is not the public half of the private key\n");
    ok = false;
  }
  if (pub->type() == auth::crypto::KeyType::Rsa && pub->bits() < auth::crypto::kMinRsaBits) {
    std::printf("key too small: %u bits (RFC 8301 §3.2: verifiers reject RSA keys below %u "
                "bits)\n", pub->bits(), auth::crypto::kMinRsaBits);
    ok = false;
  }
  const auto alg = key.type() == auth::crypto::KeyType::Rsa
                       ? auth::crypto::SignAlg::RsaSha256
                       : auth::crypto::SignAlg::Ed25519Sha256;
  if (!rec->allows_hash(alg)) {
    std::printf("h= does not allow sha256: every %s signature would fail\n",
                auth::crypto::to_string(alg));
    ok = false;
  }
  if (!rec->allows_email()) {
    std::printf("s= does not include email or *: the key cannot sign mail (RFC 6376 §3.6.1)\n");
    ok = false;
  }
  if (rec->testing) testing = true;
  if (ok && rec->strict_identity) {
    std::printf("note: t=s: i= must use exactly the signing domain, not a subdomain\n");
  }
  return ok;
}

int cmd_testkey(const std::vector<std::string>& args) {
  const std::vector<OptSpec> specs = {
      {'d', "domain", true},  {'s', "selector", true},   {'k', "key", true},
      {0, "zone", true},      {0, "origin", true},       {0, "nameserver", true},
      {0, "timeout", true},   {'v', "verbose", false},   {'h', "help", false},
  };
  std::vector<ParsedOpt> opts;
  if (!parse_options("testkey", args, 0, specs, opts)) return kExitUsage;
  std::string domain, selector, key_path;
  std::optional<std::string> origin;
  std::vector<std::string> zones, nameservers;
  unsigned long timeout_ms = static_cast<unsigned long>(auth::dns::kCaresDefaultTimeout.count());
  int verbose = 0;
  for (const auto& o : opts) {
    const std::string_view n = o.spec->long_name;
    if (n == "help") {
      std::fwrite(kTestkeyUsage.data(), 1, kTestkeyUsage.size(), stdout);
      return kExitOk;
    } else if (n == "domain") {
      domain = o.value;
    } else if (n == "selector") {
      selector = o.value;
    } else if (n == "key") {
      key_path = o.value;
    } else if (n == "zone") {
      zones.push_back(o.value);
    } else if (n == "origin") {
      origin = o.value;
    } else if (n == "nameserver") {
      nameservers.push_back(o.value);
    } else if (n == "timeout") {
      if (!parse_unsigned(o.value, 600000, timeout_ms) || timeout_ms == 0) {
        std::fprintf(stderr, "inkan testkey: --timeout wants 1..600000 milliseconds\n");
        return kExitUsage;
      }
    } else if (n == "verbose") {
      ++verbose;
    }
  }
  if (domain.empty() || selector.empty() || key_path.empty()) {
    std::fprintf(stderr, "inkan testkey: -d, -s and -k are required (try --help)\n");
    return kExitUsage;
  }
  if (!is_dns_name(domain) || !is_dns_name(selector)) {
    std::fprintf(stderr, "inkan testkey: bad domain or selector name\n");
    return kExitUsage;
  }
  if (!zones.empty() && !nameservers.empty()) {
    std::fprintf(stderr, "inkan testkey: --zone and --nameserver exclude each other\n");
    return kExitUsage;
  }

  // The private key. An unsafe mode is reported (opendkim-testkey: "key not secure"), as the
  // daemon will refuse such a file.
  if (auto mode = auth::crypto::check_private_key_file_mode(key_path); !mode) {
    if (mode.error().code == auth::ErrorCode::Io) {
      std::fprintf(stderr, "inkan testkey: %s\n", mode.error().reason.c_str());
      return kExitUsage;
    }
    std::printf("warning: key not secure: %s\n", mode.error().reason.c_str());
  }
  auto key = auth::crypto::PrivateKey::load_file(key_path);
  if (!key) {
    std::fprintf(stderr, "inkan testkey: %s: %s\n", key_path.c_str(), key.error().reason.c_str());
    return kExitUsage;
  }

  // The resolver.
  std::unique_ptr<auth::dns::Resolver> resolver;
  if (!zones.empty()) {
    auto zone = std::make_unique<auth::dns::ZoneResolver>();
    for (const auto& path : zones) {
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "inkan testkey: %s: %s\n", path.c_str(), std::strerror(errno));
        return kExitUsage;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      if (auto r = zone->load_master_file(ss.str(), origin.value_or(domain)); !r) {
        std::fprintf(stderr, "inkan testkey: %s: %s\n", path.c_str(), r.error().reason.c_str());
        return kExitUsage;
      }
    }
    resolver = std::move(zone);
  } else {
    auth::dns::CaresResolver::Options ro;
    ro.nameservers = nameservers;
    ro.timeout = std::chrono::milliseconds(timeout_ms);
    auto cares = auth::dns::CaresResolver::create(ro);
    if (!cares) {
      std::fprintf(stderr, "inkan testkey: DNS: %s\n", cares.error().reason.c_str());
      return kExitUsage;
    }
    resolver = std::move(cares).value();
  }

  // RFC 6376 §3.6.2.1: the key lives at <selector>._domainkey.<domain>.
  const std::string name = selector + "._domainkey." + domain;
  const auto answer = resolver->query(name, auth::dns::RType::TXT);
  switch (answer.status) {
    case auth::dns::Status::Ok:
      break;
    case auth::dns::Status::NxDomain:
      std::printf("no key record: '%s' does not exist (NXDOMAIN)\n", name.c_str());
      return kExitFail;
    case auth::dns::Status::NoData:
      std::printf("no key record: '%s' exists but has no TXT record (NODATA)\n", name.c_str());
      return kExitFail;
    default:
      std::printf("DNS error looking up '%s': %s%s%s (temporary: verifiers answer temperror)\n",
                  name.c_str(), auth::dns::to_string(answer.status),
                  answer.error.empty() ? "" : ": ", printable(answer.error).c_str());
      return kExitFail;
  }
  if (verbose > 0) {
    for (std::size_t i = 0; i < answer.txt.size(); ++i) {
      std::printf("record %zu for '%s': %s\n", i, name.c_str(),
                  printable(answer.txt[i].joined()).c_str());
    }
  }
  std::printf("record for '%s' retrieved (%zu TXT record%s)\n", name.c_str(), answer.txt.size(),
              answer.txt.size() == 1 ? "" : "s");
  if (answer.txt.size() > 1) {
    // RFC 6376 §6.1.2: a verifier may pick any of several records; all must work.
    std::printf("warning: %zu TXT records at one name: verifiers may use any of them\n",
                answer.txt.size());
  }
  bool ok = true, testing = false;
  for (std::size_t i = 0; i < answer.txt.size(); ++i) {
    if (answer.txt.size() > 1) std::printf("record %zu:\n", i);
    if (!check_record(answer.txt[i].joined(), *key, testing)) ok = false;
  }
  if (testing) {
    std::printf("note: t=y: the domain is testing DKIM; verifiers may treat failures as if the "
                "message were unsigned (RFC 6376 §3.6.1)\n");
  }
  if (!ok) {
    std::printf("key FAILED\n");
    return kExitFail;
  }
  std::printf("key OK (%s, %u bits)\n", auth::crypto::to_string(key->type()), key->bits());
  return kExitOk;
}

const Register kTestkey{"testkey", "check a published DKIM key against the private key "
                        "(opendkim-testkey)", cmd_testkey};

}  // namespace
}  // namespace inkan::cli
