// `inkan spf check --ip IP [--mail-from ADDR] [--helo NAME] [--zone FILE | --nameserver IP[:PORT]]`
// Runs RFC 7208 check_host() the way inkan-spf does (auth::spf over auth::dns) and prints:
//   spf=RESULT smtp.mailfrom=DOMAIN        (smtp.helo=NAME when only the HELO is checked)
// then the explanation (fail), the deciding term, the problem (errors) and the lookup trace.
// Exit: 0 pass, 1 any other result, 2 usage or I/O error.
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
#include "auth/spf/evaluator.h"
#include "auth/spf/received_spf.h"
#include "command.h"

namespace inkan::cli {
namespace {

constexpr const char* kUsage =
    "usage: inkan spf check --ip IP [--mail-from ADDR] [--helo NAME]\n"
    "                       [--zone FILE | --nameserver IP[:PORT]...] [--receiver NAME]\n"
    "                       [--timeout MS] [--received-spf]\n"
    "  --ip IP          the SMTP client address (IPv4 or IPv6)\n"
    "  --mail-from ADDR the MAIL FROM reverse-path; \"\" or \"<>\" is the null sender, checked\n"
    "                   as postmaster@HELO (RFC 7208 section 2.4)\n"
    "  --helo NAME      the HELO/EHLO name; without --mail-from the HELO identity is checked\n"
    "  --zone FILE      answer from an RFC 1035 master file instead of the network\n"
    "  --nameserver S   ask this server (\"IP\", \"IP:PORT\", \"[IPv6]:PORT\"; repeatable);\n"
    "                   default: /etc/resolv.conf\n"
    "  --receiver NAME  the receiving host for %{r} and Received-SPF (default: unknown)\n"
    "  --timeout MS     per-try DNS timeout in milliseconds (default 2000)\n"
    "  --received-spf   also print the Received-SPF field inkan-spf would prepend\n"
    "output: 'spf=RESULT smtp.mailfrom=DOMAIN' (or smtp.helo=NAME), then explanation, term,\n"
    "        problem and the trace of DNS queries with the lookups and void lookups used\n"
    "exit status: 0 pass, 1 any other result, 2 usage or I/O error\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "inkan spf: %s\n%s", why.c_str(), kUsage);
  return kExitUsage;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return static_cast<bool>(in) || in.eof();
}

/// One safe output line: control bytes and non-ASCII as \xHH.
std::string safe(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void print_result(const auth::spf::CheckResult& r, bool mail_from_checked, bool received_spf,
                  const std::string& mail_from, const std::string& receiver,
                  const auth::spf::Options& opt) {
  using auth::spf::SpfResult;
  if (mail_from_checked) {
    std::printf("spf=%s smtp.mailfrom=%s\n", auth::spf::to_string(r.result), safe(r.domain).c_str());
  } else {
    std::printf("spf=%s smtp.helo=%s\n", auth::spf::to_string(r.result), safe(r.helo).c_str());
  }
  if (r.result == SpfResult::Fail) {
    std::printf("explanation: %s\n", safe(r.explanation).c_str());
  }
  if (!r.mechanism.empty()) std::printf("term: %s\n", safe(r.mechanism).c_str());
  if (!r.problem.empty()) std::printf("problem: %s\n", safe(r.problem).c_str());
  std::printf("sender: %s\n", safe(r.sender).c_str());
  std::printf("lookups: %zu of %zu, void lookups: %zu of %zu\n", r.dns_lookups,
              opt.max_dns_mechanisms, r.void_lookups, opt.max_void_lookups);
  std::printf("trace:\n");
  for (const auto& t : r.trace) {
    std::string line = "  [" + std::to_string(t.depth) + "] " + t.domain;
    if (!t.term.empty()) line += " '" + t.term + "'";
    if (!t.query.empty()) line += " " + t.query;
    if (!t.outcome.empty()) line += " -> " + t.outcome;
    line += " (lookups " + std::to_string(t.dns_lookups) + ", void " +
            std::to_string(t.void_lookups) + ")";
    std::printf("%s\n", safe(line).c_str());
  }
  if (received_spf) {
    auto f = auth::spf::make_received_spf(r, mail_from, receiver);
    std::printf("%s\n", auth::spf::format_received_spf(f).c_str());
  }
}

int cmd_spf_check(const std::vector<std::string>& args) {
  std::string ip, mail_from, helo, zone_file, receiver;
  bool have_ip = false, have_mail_from = false, have_helo = false, received_spf = false;
  std::vector<std::string> nameservers;
  long timeout_ms = -1;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return kExitOk;
    } else if (a == "--ip") {
      if (!value(ip)) return usage_error("--ip needs a value");
      have_ip = true;
    } else if (a == "--mail-from") {
      if (!value(mail_from)) return usage_error("--mail-from needs a value");
      have_mail_from = true;
    } else if (a == "--helo") {
      if (!value(helo)) return usage_error("--helo needs a value");
      have_helo = true;
    } else if (a == "--zone") {
      if (!value(zone_file)) return usage_error("--zone needs a file");
    } else if (a == "--nameserver") {
      if (!value(v)) return usage_error("--nameserver needs a value");
      nameservers.push_back(v);
    } else if (a == "--receiver") {
      if (!value(receiver)) return usage_error("--receiver needs a value");
    } else if (a == "--timeout") {
      if (!value(v)) return usage_error("--timeout needs a value");
      char* end = nullptr;
      timeout_ms = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || timeout_ms < 1 || timeout_ms > 600000) {
        return usage_error("--timeout wants milliseconds between 1 and 600000");
      }
    } else if (a == "--received-spf") {
      received_spf = true;
    } else {
      return usage_error("unknown argument '" + safe(a) + "'");
    }
  }
  if (!have_ip) return usage_error("--ip is required");
  if (!have_mail_from && !have_helo) return usage_error("give --mail-from and/or --helo");
  if (!zone_file.empty() && !nameservers.empty()) {
    return usage_error("--zone and --nameserver exclude each other");
  }

  auth::spf::Request req;
  req.client_ip = ip;
  req.mail_from = mail_from;
  req.helo = helo;
  req.identity = have_mail_from ? auth::spf::Identity::MailFrom : auth::spf::Identity::Helo;
  auth::spf::Options opt;
  if (!receiver.empty()) opt.receiver = receiver;
  opt.time_limit = std::chrono::seconds(20);  // RFC 7208 §4.6.4 "at least 20 seconds"

  if (!zone_file.empty()) {
    std::string text;
    if (!read_file(zone_file, text)) return usage_error("cannot read " + zone_file);
    auth::dns::ZoneResolver zone;
    auto loaded = zone.load_master_file(text);
    if (!loaded) {
      std::fprintf(stderr, "inkan spf: %s: %s\n", zone_file.c_str(), loaded.error().reason.c_str());
      return kExitUsage;
    }
    auto r = auth::spf::check_host(zone, req, opt);
    print_result(r, have_mail_from, received_spf, mail_from,
                 receiver.empty() ? "unknown" : receiver, opt);
    return r.result == auth::spf::SpfResult::Pass ? kExitOk : kExitFail;
  }

  auth::dns::CaresResolver::Options copt;
  copt.nameservers = nameservers;
  if (timeout_ms > 0) copt.timeout = std::chrono::milliseconds(timeout_ms);
  auto resolver = auth::dns::CaresResolver::create(copt);
  if (!resolver) {
    std::fprintf(stderr, "inkan spf: resolver: %s\n", resolver.error().reason.c_str());
    return kExitUsage;
  }
  // Drive the asynchronous evaluation from this thread, as the inkan-spf event loop does.
  bool done = false;
  auth::spf::CheckResult result;
  auth::spf::check_host_async(**resolver, req, opt, [&](auth::spf::CheckResult r) {
    result = std::move(r);
    done = true;
  });
  while (!done) {
    std::size_t pending = (*resolver)->process(std::chrono::milliseconds(200));
    if (!done && pending == 0) {
      // Nothing in flight and no result: a callback was lost. Never expected; do not spin.
      std::fprintf(stderr, "inkan spf: internal error: evaluation stalled\n");
      return kExitUsage;
    }
  }
  print_result(result, have_mail_from, received_spf, mail_from,
               receiver.empty() ? "unknown" : receiver, opt);
  return result.result == auth::spf::SpfResult::Pass ? kExitOk : kExitFail;
}

int cmd_spf(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::printf("%s", kUsage);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] != "check") return usage_error("unknown subcommand '" + safe(args[0]) + "'");
  return cmd_spf_check(std::vector<std::string>(args.begin() + 1, args.end()));
}

const Register kSpf{"spf", "SPF check_host() of an IP, MAIL FROM and HELO (RFC 7208)", cmd_spf};

}  // namespace
}  // namespace inkan::cli
