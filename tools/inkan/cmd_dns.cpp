// `inkan dns NAME [TYPE] [--nameserver IP[:PORT]]... [--zone FILE] [--timeout MS]`
// Looks a name up the way the daemons do (auth::dns) and prints the outcome and records.
// Exit: 0 when the answer is Ok, 1 for any other outcome, 2 for a usage or file error.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "auth/dns/cares_resolver.h"
#include "auth/dns/resolver.h"
#include "auth/dns/zone.h"
#include "command.h"

namespace inkan::cli {
namespace {

constexpr const char* kUsage =
    "usage: inkan dns NAME [TYPE] [--nameserver IP[:PORT]]... [--zone FILE] [--timeout MS]\n"
    "  TYPE       TXT (default), A, AAAA, MX, PTR or CNAME\n"
    "  --nameserver  ask this server (\"IP\", \"IP:PORT\", \"[IPv6]:PORT\"; repeatable);\n"
    "                default: /etc/resolv.conf\n"
    "  --zone FILE   answer from FILE instead of the network: an RFC 1035 master file\n"
    "                (loaded with no $ORIGIN, so opendkim-genkey's SELECTOR.txt answers for\n"
    "                'sel._domainkey' unless the file sets $ORIGIN), or\n"
    "                '<owner> <TXT value>' lines (Mail::DKIM FAKE_DNS.dat form)\n"
    "  --timeout MS  per-try timeout in milliseconds (default 2000)\n"
    "exit status: 0 answer found, 1 NXDOMAIN/NODATA/SERVFAIL/timeout/malformed, 2 usage error\n";

/// Printable form of a character-string, as a master file would quote it (RFC 1035 §5.1):
/// `"` and `\` escaped, bytes outside printable ASCII as \DDD. Output stays one safe line.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

/// The joined value, unquoted but with control and non-ASCII bytes escaped.
std::string printable(const std::string& s) {
  std::string q = quote(s);
  return q.substr(1, q.size() - 2);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "inkan dns: %s\n%s", why.c_str(), kUsage);
  return kExitUsage;
}

int cmd_dns(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  std::vector<std::string> nameservers;
  std::string zone_file;
  long timeout_ms = -1;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    std::string v;
    if (a == "--nameserver" || a == "-s") {
      if (!value(v)) return usage_error("--nameserver needs a value");
      nameservers.push_back(v);
    } else if (a == "--zone") {
      if (!value(zone_file)) return usage_error("--zone needs a file");
    } else if (a == "--timeout") {
      if (!value(v)) return usage_error("--timeout needs milliseconds");
      char* end = nullptr;
      timeout_ms = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || timeout_ms < 1 || timeout_ms > 600000) {
        return usage_error("--timeout must be 1..600000 ms");
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty() || positional.size() > 2) return usage_error("expected NAME [TYPE]");
  const std::string& name = positional[0];
  auth::dns::RType type = auth::dns::RType::TXT;
  if (positional.size() == 2) {
    auto t = auth::dns::parse_rtype(positional[1]);
    if (!t) return usage_error("unknown TYPE " + positional[1]);
    type = *t;
  }
  if (!zone_file.empty() && !nameservers.empty()) {
    return usage_error("--zone and --nameserver exclude each other");
  }

  std::unique_ptr<auth::dns::Resolver> resolver;
  if (!zone_file.empty()) {
    std::string text;
    if (!read_file(zone_file, text)) return usage_error("cannot read " + zone_file);
    auto zone = std::make_unique<auth::dns::ZoneResolver>();
    auto master = zone->load_master_file(text);
    if (!master) {
      auto lines = zone->load_txt_lines(text);
      if (!lines) {
        std::fprintf(stderr,
                     "inkan dns: %s is neither a master file (%s) nor '<owner> <value>' lines "
                     "(%s)\n",
                     zone_file.c_str(), master.error().reason.c_str(),
                     lines.error().reason.c_str());
        return kExitUsage;
      }
    }
    resolver = std::move(zone);
  } else {
    auth::dns::CaresResolver::Options o;
    o.nameservers = nameservers;
    if (timeout_ms > 0) o.timeout = std::chrono::milliseconds(timeout_ms);
    auto r = auth::dns::CaresResolver::create(o);
    if (!r) return usage_error(r.error().reason);
    resolver = std::move(*r);
  }

  const auth::dns::Answer a = resolver->query(name, type);
  std::printf("%s %s: %s", printable(name).c_str(), auth::dns::to_string(type),
              auth::dns::to_string(a.status));
  if (a.status == auth::dns::Status::Ok || a.status == auth::dns::Status::NxDomain ||
      a.status == auth::dns::Status::NoData) {
    std::printf(" (ttl %u)", a.ttl);
  }
  if (!a.error.empty()) std::printf(" (%s)", printable(a.error).c_str());
  std::printf("\n");
  for (const auto& t : a.txt) {
    std::string strings;
    for (const auto& s : t.strings) strings += " " + quote(s);
    std::printf("  TXT%s\n", strings.empty() ? " (no strings)" : strings.c_str());
    std::printf("      joined: %s\n", printable(t.joined()).c_str());
  }
  for (const auto& m : a.mx) {
    std::printf("  MX %u %s\n", static_cast<unsigned>(m.preference),
                m.exchange.empty() ? ". (null MX)" : printable(m.exchange).c_str());
  }
  const char* kind = type == auth::dns::RType::A      ? "A"
                     : type == auth::dns::RType::AAAA ? "AAAA"
                                                      : "";
  for (const auto& ad : a.addresses) std::printf("  %s %s\n", kind, ad.c_str());
  for (const auto& n : a.names) {
    std::printf("  %s %s\n", auth::dns::to_string(type), printable(n).c_str());
  }
  return a.ok() ? kExitOk : kExitFail;
}

const Register kDns{"dns", "look up TXT/A/AAAA/MX/PTR/CNAME as the daemons do", cmd_dns};

}  // namespace
}  // namespace inkan::cli
