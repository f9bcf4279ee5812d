// inkan from / inkan domain — the auth::mail module from the command line.
//
//   inkan from < message        author domain(s) of the From field(s), one per line
//   inkan domain [--underscore] NAME   the normalised A-label form of NAME
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "auth/mail/address.h"
#include "auth/mail/domain.h"
#include "auth/mail/header.h"
#include "command.h"

namespace inkan::cli {
namespace {

// Printable, truncated copy of attacker-controlled text for messages (STYLE.md logging).
std::string printable(std::string_view s, std::size_t max = 100) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 32 && u != 127 ? c : '?');
  }
  if (s.size() > max) out += "...";
  return out;
}

int cmd_from(const std::vector<std::string>& args) {
  bool alabel = false;
  for (const auto& a : args) {
    if (a == "--alabel") {
      alabel = true;
      continue;
    }
    const bool help = a == "-h" || a == "--help";
    std::fprintf(help ? stdout : stderr,
                 "usage: inkan from [--alabel] < MESSAGE\n"
                 "Prints the author domain(s) of the message's From field, one per line,\n"
                 "lower-cased as written; --alabel prints the normalised A-label form used in DNS.\n"
                 "Exit 0 on success, 1 when there is no usable author domain.\n");
    return help ? kExitOk : kExitUsage;
  }
  std::string message((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) {
    std::fprintf(stderr, "inkan from: cannot read standard input\n");
    return kExitUsage;
  }
  auto block = auth::mail::parse_header_block(message);
  if (!block) {
    std::fprintf(stderr, "inkan from: unparsable header: %s\n", block.error().reason.c_str());
    return kExitFail;
  }
  const auto froms = block->find_all("From");
  if (froms.empty()) {
    std::fprintf(stderr, "inkan from: no From header field\n");
    return kExitFail;
  }
  if (froms.size() > 1) {
    // RFC 5322 §3.6 allows exactly one From; RFC 7489 §6.6.1 lets receivers reject or evaluate all.
    std::fprintf(stderr, "inkan from: warning: %zu From header fields\n", froms.size());
  }
  std::vector<std::string> all;
  for (const auto* f : froms) {
    auto domains = auth::mail::author_domains(f->value);
    if (!domains) {
      const char* what = domains.error().code == auth::ErrorCode::Missing ? "no author" : "unparsable From";
      std::fprintf(stderr, "inkan from: %s (%s): %s\n", what, printable(f->value).c_str(),
                   domains.error().reason.c_str());
      return kExitFail;
    }
    for (auto& d : *domains) {
      if (std::find(all.begin(), all.end(), d) == all.end()) all.push_back(std::move(d));
    }
  }
  // Convert everything before printing anything, so a failure prints no partial list.
  std::vector<std::string> lines;
  for (const auto& d : all) {
    if (alabel && !d.empty() && d.front() != '[') {
      auto norm = auth::mail::normalize_domain(d);
      if (!norm) {
        std::fprintf(stderr, "inkan from: invalid author domain '%s': %s\n", printable(d).c_str(),
                     norm.error().reason.c_str());
        return kExitFail;
      }
      lines.push_back(std::move(norm).value());
    } else {
      lines.push_back(printable(d, 1024));
    }
  }
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  return kExitOk;
}
const Register kFrom{"from", "print the author domain(s) of a message read on stdin", cmd_from};

int cmd_domain(const std::vector<std::string>& args) {
  auto syntax = auth::mail::DomainSyntax::Hostname;
  std::vector<std::string> names;
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::printf("usage: inkan domain [--underscore] NAME\n"
                  "Prints NAME as a lower-case A-label domain (IDNA2008 via libidn2).\n"
                  "--underscore allows '_' (DKIM selectors, _domainkey, _dmarc).\n"
                  "Exit 0 on success, 2 when NAME is not a valid domain.\n");
      return kExitOk;
    }
    if (a == "--underscore") {
      syntax = auth::mail::DomainSyntax::AllowUnderscore;
    } else {
      names.push_back(a);
    }
  }
  if (names.size() != 1) {
    std::fprintf(stderr, "usage: inkan domain [--underscore] NAME\n");
    return kExitUsage;
  }
  auto norm = auth::mail::normalize_domain(names[0], syntax);
  if (!norm) {
    std::fprintf(stderr, "inkan domain: invalid domain '%s': %s\n", printable(names[0]).c_str(),
                 norm.error().reason.c_str());
    return kExitUsage;
  }
  std::printf("%s\n", norm->c_str());
  return kExitOk;
}
const Register kDomain{"domain", "print a domain name in normalised A-label form", cmd_domain};

}  // namespace
}  // namespace inkan::cli
