// inkan dkim sign / inkan dkim verify — sign or verify one message file with libauth's DKIM
// signer and verifier (RFC 6376, RFC 8301, RFC 8463).
//
//   inkan dkim sign --key FILE -d DOMAIN -s SELECTOR [-c relaxed/relaxed]
//                   [--ed25519-key FILE -S SELECTOR2] [-a ALG] [-x SECONDS] [--headers LIST]
//                   < message > signed
//   inkan dkim verify [--zone FILE [--origin NAME] | --nameserver IP[:PORT]] < message
//
// sign prepends the DKIM-Signature field(s) to the message exactly as given, with the line-end
// convention of the input (LF-only input gets LF-only fields, as OpenDKIM writes them).
// verify prints one Authentication-Results resinfo per signature (RFC 8601 §2.7.1), in the
// form OpenDKIM puts in its A-R field (shared/reference/anchor-features.md §2.6):
//   dkim=pass (2048-bit key) header.d=example.com header.i=@example.com header.a=rsa-sha256
//        header.s=sel header.b=NbsmBDoP
// exit 0 when at least one signature passes, 1 when none does, 2 on usage or I/O errors.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/clock.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/cares_resolver.h"
#include "auth/dns/zone.h"
#include "auth/mail/header.h"
#include "command.h"
#include "options.h"

namespace inkan::cli {
namespace {

/// Largest message read from stdin (local policy for the CLI: the whole message is held in
/// memory because the signature goes in front of it; Postfix's message_size_limit default is
/// 10 MB, so this leaves a wide margin while keeping a runaway pipe bounded).
constexpr std::size_t kMaxInputBytes = 512u * 1024 * 1024;
/// header.b shows at least this many characters of b= (RFC 6008 §4: at least 8).
constexpr std::size_t kMinBPrefix = 8;

bool parse_int64(std::string_view s, std::int64_t min, std::int64_t max, std::int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return false;
  out = v;
  return true;
}

/// Reads all of stdin (binary), at most kMaxInputBytes.
bool read_stdin(std::string_view cmd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "inkan %.*s: reading standard input: %s\n",
                   static_cast<int>(cmd.size()), cmd.data(), std::strerror(errno));
      return false;
    }
    if (out.size() + static_cast<std::size_t>(n) > kMaxInputBytes) {
      std::fprintf(stderr, "inkan %.*s: message larger than %zu bytes\n",
                   static_cast<int>(cmd.size()), cmd.data(), kMaxInputBytes);
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool write_stdout(std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "inkan dkim: writing standard output: %s\n", std::strerror(errno));
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool read_file(const std::string& path, std::string& out, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "inkan dkim: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (out.size() > max_bytes) {
    std::fprintf(stderr, "inkan dkim: %s: larger than %zu bytes\n", path.c_str(), max_bytes);
    return false;
  }
  return true;
}

/// Loads a private key file, refusing files other users can read unless allowed (DESIGN.md
/// "Private keys that other users can read are refused unless explicitly allowed").
std::optional<auth::crypto::PrivateKey> load_key(const std::string& path, bool allow_unsafe) {
  if (auto mode = auth::crypto::check_private_key_file_mode(path); !mode) {
    if (mode.error().code == auth::ErrorCode::Io || !allow_unsafe) {
      std::fprintf(stderr, "inkan dkim sign: %s%s\n", mode.error().reason.c_str(),
                   mode.error().code == auth::ErrorCode::Io ? ""
                                                            : " (or pass --unsafe-key-ok)");
      return std::nullopt;
    }
  }
  auto key = auth::crypto::PrivateKey::load_file(path);
  if (!key) {
    std::fprintf(stderr, "inkan dkim sign: %s: %s\n", path.c_str(), key.error().reason.c_str());
    return std::nullopt;
  }
  return std::move(key).value();
}

// ---------------------------------------------------------------------------------------------
// sign

constexpr std::string_view kSignUsage =
    "usage: inkan dkim sign --key FILE -d DOMAIN -s SELECTOR [options] < message > signed\n"
    "Prepends DKIM-Signature field(s) to the message (line ends as in the input).\n"
    "\n"
    "  -k, --key FILE          private key (PEM/DER, RSA or Ed25519)\n"
    "  -d, --domain DOMAIN     signing domain (d=)\n"
    "  -s, --selector NAME     selector (s=) for --key\n"
    "      --ed25519-key FILE  a second key (usually Ed25519): adds a second signature\n"
    "  -S, --selector2 NAME    selector for --ed25519-key\n"
    "  -a, --algorithm ALG     rsa-sha256 or ed25519-sha256 (default: from the key type)\n"
    "  -c, --canon H/B         canonicalization, e.g. relaxed/simple (default relaxed/relaxed)\n"
    "  -i, --identity AUID     i= (in DOMAIN or a subdomain)\n"
    "  -x, --expire SECONDS    add x= that many seconds after t=\n"
    "      --headers LIST      header names to sign, separated by ':' or ','\n"
    "                          (default: the RFC 6376 §5.4.1 list; From is always signed)\n"
    "      --time UNIXTIME     sign as if it were that time (reproducible output, tests)\n"
    "      --unsafe-key-ok     accept key files other users can read\n";

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ':' || c == ',' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

/// True when the message uses CRLF line ends (decided on the first line end, as the header
/// section sets the convention); LF-only input gets LF-only output.
bool uses_crlf(std::string_view msg) {
  const auto lf = msg.find('\n');
  return lf == std::string_view::npos || (lf > 0 && msg[lf - 1] == '\r');
}

int dkim_sign(const std::vector<std::string>& args) {
  const std::vector<OptSpec> specs = {
      {'k', "key", true},        {'d', "domain", true},     {'s', "selector", true},
      {0, "ed25519-key", true},  {'S', "selector2", true},  {'a', "algorithm", true},
      {'c', "canon", true},      {'i', "identity", true},   {'x', "expire", true},
      {0, "headers", true},      {0, "time", true},         {0, "unsafe-key-ok", false},
      {'h', "help", false},
  };
  std::vector<ParsedOpt> opts;
  if (!parse_options("dkim sign", args, 1, specs, opts)) return kExitUsage;

  std::string key_path, key2_path, domain, selector, selector2, identity;
  std::optional<auth::crypto::SignAlg> alg;
  auth::dkim::Canonicalization canon{auth::dkim::Canon::Relaxed, auth::dkim::Canon::Relaxed};
  std::optional<std::int64_t> expire, fixed_time;
  std::vector<std::string> headers;
  bool unsafe_ok = false;
  for (const auto& o : opts) {
    const std::string_view n = o.spec->long_name;
    if (n == "help") {
      std::fwrite(kSignUsage.data(), 1, kSignUsage.size(), stdout);
      return kExitOk;
    } else if (n == "key") {
      key_path = o.value;
    } else if (n == "ed25519-key") {
      key2_path = o.value;
    } else if (n == "domain") {
      domain = o.value;
    } else if (n == "selector") {
      selector = o.value;
    } else if (n == "selector2") {
      selector2 = o.value;
    } else if (n == "identity") {
      identity = o.value;
    } else if (n == "algorithm") {
      auto a = auth::crypto::parse_sign_alg(o.value);
      if (!a || *a == auth::crypto::SignAlg::RsaSha1) {
        std::fprintf(stderr, "inkan dkim sign: -a must be rsa-sha256 or ed25519-sha256%s\n",
                     a ? " (RFC 8301 §3.1: no signing with rsa-sha1)" : "");
        return kExitUsage;
      }
      alg = *a;
    } else if (n == "canon") {
      auto c = auth::dkim::parse_canonicalization(o.value);
      if (!c) {
        std::fprintf(stderr, "inkan dkim sign: -c %s: %s\n", o.value.c_str(),
                     c.error().reason.c_str());
        return kExitUsage;
      }
      canon = *c;
    } else if (n == "expire") {
      std::int64_t v = 0;
      if (!parse_int64(o.value, 1, std::int64_t{1} << 40, v)) {
        std::fprintf(stderr, "inkan dkim sign: -x wants a positive number of seconds\n");
        return kExitUsage;
      }
      expire = v;
    } else if (n == "time") {
      std::int64_t v = 0;
      if (!parse_int64(o.value, 0, std::int64_t{1} << 40, v)) {
        std::fprintf(stderr, "inkan dkim sign: --time wants seconds since the epoch\n");
        return kExitUsage;
      }
      fixed_time = v;
    } else if (n == "headers") {
      headers = split_list(o.value);
      if (headers.empty()) {
        std::fprintf(stderr, "inkan dkim sign: --headers is empty\n");
        return kExitUsage;
      }
    } else if (n == "unsafe-key-ok") {
      unsafe_ok = true;
    }
  }
  if (key_path.empty() || domain.empty() || selector.empty()) {
    std::fprintf(stderr, "inkan dkim sign: --key, -d and -s are required (try --help)\n");
    return kExitUsage;
  }
  if (key2_path.empty() != selector2.empty()) {
    std::fprintf(stderr, "inkan dkim sign: --ed25519-key and -S go together\n");
    return kExitUsage;
  }

  auto key = load_key(key_path, unsafe_ok);
  if (!key) return kExitUsage;
  if (alg && auth::crypto::key_type_of(*alg) != key->type()) {
    std::fprintf(stderr, "inkan dkim sign: -a %s does not fit the %s key in %s\n",
                 auth::crypto::to_string(*alg), auth::crypto::to_string(key->type()),
                 key_path.c_str());
    return kExitUsage;
  }

  auth::dkim::SignOptions options;
  if (fixed_time) options.clock = auth::dkim::fixed_clock(*fixed_time);
  const auto make_spec = [&](auth::crypto::PrivateKey k, const std::string& sel,
                             std::optional<auth::crypto::SignAlg> a) {
    auth::dkim::SignatureSpec spec;
    spec.domain = domain;
    spec.selector = sel;
    spec.key = std::make_shared<auth::crypto::LocalSigner>(std::move(k));
    spec.algorithm = a;
    spec.canon = canon;
    spec.headers = headers;
    spec.identity = identity;
    spec.expire_after = expire;
    return spec;
  };
  options.signatures.push_back(make_spec(*key, selector, alg));
  if (!key2_path.empty()) {
    auto key2 = load_key(key2_path, unsafe_ok);
    if (!key2) return kExitUsage;
    if (key2->type() != auth::crypto::KeyType::Ed25519) {
      std::fprintf(stderr, "inkan dkim sign: note: %s is not an Ed25519 key; signing with it "
                   "anyway (%s)\n", key2_path.c_str(), auth::crypto::to_string(key2->type()));
    }
    options.signatures.push_back(make_spec(*key2, selector2, std::nullopt));
  }

  std::string message;
  if (!read_stdin("dkim sign", message)) return kExitUsage;
  auto fields = auth::dkim::sign_message(message, options);
  if (!fields) {
    std::fprintf(stderr, "inkan dkim sign: cannot sign: %s\n", fields.error().reason.c_str());
    return kExitUsage;
  }

  // Fields come CRLF-folded; follow the input's convention.
  const bool crlf = uses_crlf(message);
  std::string out;
  for (const auto& f : *fields) {
    if (crlf) {
      out += f;
      out += "\r\n";
    } else {
      for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == '\r' && i + 1 < f.size() && f[i + 1] == '\n') continue;
        out += f[i];
      }
      out += '\n';
    }
  }
  if (!write_stdout(out) || !write_stdout(message)) return kExitUsage;
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// verify

constexpr std::string_view kVerifyUsage =
    "usage: inkan dkim verify [--zone FILE [--origin NAME] | --nameserver IP[:PORT]] < message\n"
    "Verifies every DKIM-Signature and prints one Authentication-Results clause per signature.\n"
    "Exit 0 if at least one signature passes, 1 if none does, 2 on usage or I/O errors.\n"
    "\n"
    "  --zone FILE         answer key queries from an RFC 1035 master file (repeatable)\n"
    "  --origin NAME       $ORIGIN for relative names in --zone files (default: the root)\n"
    "  --nameserver ADDR   ask this DNS server (IP, IP:PORT, [IPv6]:PORT; repeatable)\n"
    "                      (default: the servers of /etc/resolv.conf)\n"
    "  --timeout MS        DNS timeout per try (default 2000)\n"
    "  --max-signatures N  signatures checked (default 5, as the daemon)\n"
    "  --time UNIXTIME     verify as if it were that time (x= checks; tests)\n"
    "  --clock-drift SECS  tolerance for t= in the future and x= past (default 0: as\n"
    "                      written; inkan-dkim applies ClockDrift, 300 by default)\n"
    "  -q, --quiet         print nothing, only set the exit code\n";

/// An RFC 8601 pvalue: as-is when it is a plain token or local-part@domain of safe characters,
/// else a quoted-string with '"' and '\' escaped and control bytes replaced (output is
/// sanitised: no CR/LF/NUL ever reaches the terminal or a header).
std::string pvalue(std::string_view v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("@.-_+!#$%&'*/=?^`{|}~", c) != nullptr;
    if (!ok || c == 0) plain = false;
  }
  if (plain) return std::string(v);
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

/// A reason for `reason="..."`: printable, quotes and backslashes escaped, bounded.
std::string quoted_reason(std::string_view r) {
  constexpr std::size_t kMaxReason = 200;
  std::string out = "\"";
  for (std::size_t i = 0; i < r.size() && i < kMaxReason; ++i) {
    const auto c = static_cast<unsigned char>(r[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

/// The b= text (FWS removed) of each DKIM-Signature field, top first, for header.b
/// disambiguation (OpenDKIM dkim_get_sigsubstring). Unparsable signatures give "".
std::vector<std::string> signature_b_texts(std::string_view message) {
  std::vector<std::string> out;
  auto block = auth::mail::parse_header_block(message);
  if (!block) return out;
  for (const auto* f : block->find_all(auth::dkim::kSignatureFieldName)) {
    auth::dkim::ParseOptions po;
    auto sig = auth::dkim::parse_signature(f->raw_value(), po);
    out.push_back(sig ? sig->b_text : std::string());
  }
  return out;
}

/// header.b: the first 8 characters of b=, more when another signature of the message starts
/// with the same characters (RFC 6008 §4; as OpenDKIM).
std::string b_prefix_for(const auth::dkim::SignatureResult& r,
                         const std::vector<std::string>& b_texts) {
  if (r.field_index >= b_texts.size() || b_texts[r.field_index].empty()) return r.b_prefix;
  const std::string& mine = b_texts[r.field_index];
  std::size_t len = std::min(kMinBPrefix, mine.size());
  for (std::size_t j = 0; j < b_texts.size(); ++j) {
    if (j == r.field_index || b_texts[j].empty() || b_texts[j] == mine) continue;
    std::size_t common = 0;
    while (common < mine.size() && common < b_texts[j].size() &&
           mine[common] == b_texts[j][common]) {
      ++common;
    }
    if (common >= len) len = std::min(common + 1, mine.size());
  }
  return mine.substr(0, len);
}

/// One resinfo clause in OpenDKIM's order: result, reason, key-size comment, header.d/i/a/s/b.
std::string format_clause(const auth::dkim::SignatureResult& r,
                          const std::vector<std::string>& b_texts) {
  using auth::dkim::DkimResult;
  std::string out = "dkim=";
  out += auth::dkim::to_string(r.result);
  if (r.result != DkimResult::Pass && r.result != DkimResult::None && !r.reason.empty()) {
    out += " reason=";
    out += quoted_reason(r.reason);
  }
  // OpenDKIM prints the key size only when known, and not for Ed25519.
  if (r.key_bits != 0 && r.algorithm.rfind("ed25519", 0) != 0) {
    out += " (" + std::to_string(r.key_bits) + "-bit key)";
  }
  if (!r.domain.empty()) out += " header.d=" + pvalue(r.domain);
  if (!r.identity.empty()) out += " header.i=" + pvalue(r.identity);
  if (!r.algorithm.empty()) out += " header.a=" + pvalue(r.algorithm);
  if (!r.selector.empty()) out += " header.s=" + pvalue(r.selector);
  const std::string b = b_prefix_for(r, b_texts);
  if (!b.empty()) out += " header.b=" + pvalue(b);
  return out;
}

int dkim_verify(const std::vector<std::string>& args) {
  const std::vector<OptSpec> specs = {
      {0, "zone", true},     {0, "origin", true},          {0, "nameserver", true},
      {0, "timeout", true},  {0, "max-signatures", true},  {0, "time", true},
      {0, "clock-drift", true}, {'q', "quiet", false}, {'h', "help", false},
  };
  std::vector<ParsedOpt> opts;
  if (!parse_options("dkim verify", args, 1, specs, opts)) return kExitUsage;

  std::vector<std::string> zones, nameservers;
  std::string origin;
  std::int64_t timeout_ms = auth::dns::kCaresDefaultTimeout.count();
  std::int64_t max_sigs = static_cast<std::int64_t>(auth::dkim::kDefaultMaxSignatures);
  std::optional<std::int64_t> fixed_time;
  std::int64_t clock_drift = 0;
  bool quiet = false;
  for (const auto& o : opts) {
    const std::string_view n = o.spec->long_name;
    if (n == "help") {
      std::fwrite(kVerifyUsage.data(), 1, kVerifyUsage.size(), stdout);
      return kExitOk;
    } else if (n == "zone") {
      zones.push_back(o.value);
    } else if (n == "origin") {
      origin = o.value;
    } else if (n == "nameserver") {
      nameservers.push_back(o.value);
    } else if (n == "timeout") {
      if (!parse_int64(o.value, 1, 600000, timeout_ms)) {
        std::fprintf(stderr, "inkan dkim verify: --timeout wants 1..600000 milliseconds\n");
        return kExitUsage;
      }
    } else if (n == "max-signatures") {
      if (!parse_int64(o.value, 1, 1000, max_sigs)) {
        std::fprintf(stderr, "inkan dkim verify: --max-signatures wants 1..1000\n");
        return kExitUsage;
      }
    } else if (n == "time") {
      std::int64_t v = 0;
      if (!parse_int64(o.value, 0, std::int64_t{1} << 40, v)) {
        std::fprintf(stderr, "inkan dkim verify: --time wants seconds since the epoch\n");
        return kExitUsage;
      }
      fixed_time = v;
    } else if (n == "clock-drift") {
      if (!parse_int64(o.value, 0, 86400 * 365, clock_drift)) {
        std::fprintf(stderr, "inkan dkim verify: --clock-drift wants 0..31536000 seconds\n");
        return kExitUsage;
      }
    } else if (n == "quiet") {
      quiet = true;
    }
  }
  if (!zones.empty() && !nameservers.empty()) {
    std::fprintf(stderr, "inkan dkim verify: --zone and --nameserver exclude each other\n");
    return kExitUsage;
  }

  // The resolver: an in-memory zone, or c-ares (given servers or /etc/resolv.conf).
  std::unique_ptr<auth::dns::Resolver> resolver;
  if (!zones.empty()) {
    auto zone = std::make_unique<auth::dns::ZoneResolver>();
    for (const auto& path : zones) {
      std::string text;
      if (!read_file(path, text, 64u * 1024 * 1024)) return kExitUsage;
      if (auto r = zone->load_master_file(text, origin); !r) {
        std::fprintf(stderr, "inkan dkim verify: %s: %s\n", path.c_str(),
                     r.error().reason.c_str());
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
      std::fprintf(stderr, "inkan dkim verify: DNS: %s\n", cares.error().reason.c_str());
      return kExitUsage;
    }
    resolver = std::move(cares).value();
  }

  std::string message;
  if (!read_stdin("dkim verify", message)) return kExitUsage;

  auth::dkim::VerifyOptions vo;
  vo.key_lookup = auth::dkim::KeyLookup::Blocking;
  vo.max_signatures = static_cast<std::size_t>(max_sigs);
  if (fixed_time) vo.clock = auth::dkim::fixed_clock(*fixed_time);
  vo.clock_drift = clock_drift;
  const auto results = auth::dkim::verify_message(message, *resolver, vo);

  bool any_pass = false;
  std::string out;
  if (results.empty()) {
    out = "dkim=none\n";
  } else {
    const auto b_texts = signature_b_texts(message);
    for (const auto& r : results) {
      if (r.result == auth::dkim::DkimResult::Pass) any_pass = true;
      out += format_clause(r, b_texts);
      out += '\n';
    }
  }
  if (!quiet && !write_stdout(out)) return kExitUsage;
  return any_pass ? kExitOk : kExitFail;
}

// ---------------------------------------------------------------------------------------------

constexpr std::string_view kDkimUsage =
    "usage: inkan dkim sign|verify [options] < message\n"
    "  inkan dkim sign --help     sign a message\n"
    "  inkan dkim verify --help   verify a message's DKIM signatures\n";

int cmd_dkim(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fwrite(kDkimUsage.data(), 1, kDkimUsage.size(), stderr);
    return kExitUsage;
  }
  if (args[0] == "sign") return dkim_sign(args);
  if (args[0] == "verify") return dkim_verify(args);
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fwrite(kDkimUsage.data(), 1, kDkimUsage.size(), stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "inkan dkim: unknown subcommand '%s'\n", args[0].c_str());
  std::fwrite(kDkimUsage.data(), 1, kDkimUsage.size(), stderr);
  return kExitUsage;
}

const Register kDkim{"dkim", "sign or verify a message with DKIM (RFC 6376, RFC 8463)", cmd_dkim};

}  // namespace
}  // namespace inkan::cli
