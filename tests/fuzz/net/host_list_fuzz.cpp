// libFuzzer target: auth::net::HostList::parse and matching.
// The first byte picks the syntax and lenient mode; the rest is the list text. Every line of
// the input is then also used as a client name and (if it parses) as a client address.
// Invariants: match() == explain().member; a deciding entry has a line within the input;
// lists parse within their bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/net/hostlist.h"

using namespace auth::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  HostListOptions opt;
  opt.syntax = static_cast<HostListSyntax>(mode % 3);
  opt.lenient = (mode & 0x80) != 0;
  auto list = HostList::parse(text, opt);
  if (!list) {
    if (list.error().reason.empty()) std::abort();
    return 0;
  }
  if (list->size() > kMaxHostListEntries) std::abort();
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n' || c == '\r' || c == ',' || c == ' ' || c == '\t';

  auto probe = [&](const IpAddress* ip, std::string_view name) {
    const HostListMatch m = list->explain(ip, name);
    if (m.member != list->match(ip, name)) std::abort();
    if (m.member && !m.matched) std::abort();
    if (m.matched && (m.line == 0 || m.line > lines || m.entry.empty())) std::abort();
  };
  const IpAddress fixed[] = {IpAddress::v4(127, 0, 0, 1), IpAddress::v4(10, 1, 2, 3),
                             *parse_ip("::1"), *parse_ip("::ffff:10.1.2.3"), *parse_ip("2001:db8::1")};
  for (const IpAddress& ip : fixed) probe(&ip, "");
  probe(nullptr, "mail.example.com");
  std::size_t start = 0, count = 0;
  while (start <= text.size() && count < 64) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.front() == '!') line.remove_prefix(1);
    const std::size_t slash = line.find('/');
    auto ip = parse_ip(line.substr(0, slash), Brackets::Allow);
    probe(ip ? &*ip : nullptr, line);
    probe(nullptr, line);
    start = end + 1;
    ++count;
  }
  return 0;
}
