// Host lists with OpenDKIM's probe-order semantics (see auth/net/hostlist.h).
#include "auth/net/hostlist.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "net/net_internal.h"

namespace auth::net {
namespace {

using internal::quote;

/// Lines (and inline entries) of one slot: the entry lines that said "member" and "not a
/// member" for one probe string. 0 means absent. A later duplicate keeps the first line.
struct Slot {
  std::size_t pos_line = 0;
  std::size_t neg_line = 0;
};

/// Address-table key: family, level (prefix length, or kExactLevel for an entry written
/// without "/len"), bracket flag, then the 16 network bytes. The levels and bracket flag
/// reproduce OpenDKIM's probe order exactly (util.c dkimf_checkip): "ip", "[ip]", then for
/// each length from longest to shortest "net/len", "[net]/len".
constexpr unsigned char kExactLevel = 0xff;

std::string ip_key(const IpAddress& net, unsigned char level, bool bracketed) {
  std::string key;
  key.reserve(19);
  key += net.is_v4() ? '4' : '6';
  key += static_cast<char>(level);
  key += bracketed ? 'b' : '-';
  const auto b = net.bytes();
  key.append(reinterpret_cast<const char*>(b.data()), b.size());
  return key;
}

/// A refile pattern: "*" matches any run of characters; everything else literal; lower case.
struct Pattern {
  std::string glob;
  std::size_t line = 0;
  std::size_t head = 0;  ///< literal characters before the first '*'
  std::size_t tail = 0;  ///< literal characters after the last '*'
};

/// Cheap rejection before the glob walk: the literal head and tail must match.
bool could_match(const Pattern& p, std::string_view text) noexcept {
  if (text.size() < p.head + p.tail) return false;
  const std::string_view g = p.glob;
  return text.compare(0, p.head, g.substr(0, p.head)) == 0 &&
         text.compare(text.size() - p.tail, p.tail, g.substr(g.size() - p.tail)) == 0;
}

/// Iterative glob match with single-star backtracking: O(|text| * |glob|) worst case, no
/// recursion on input.
bool glob_match(std::string_view glob, std::string_view text) noexcept {
  std::size_t g = 0, t = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (g < glob.size() && glob[g] == text[t]) {
      ++g;
      ++t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

std::string strip_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return internal::lower(name);
}

}  // namespace

struct HostList::Data {
  HostListSyntax syntax = HostListSyntax::Lines;
  std::size_t entries = 0;
  std::vector<HostListWarning> warnings;
  // Plain lists.
  std::unordered_map<std::string, Slot> names;  // "host.example" or ".example"
  std::unordered_map<std::string, Slot> addrs;  // ip_key()
  // Which address levels hold entries (index = prefix length, kLevelSlots-1 = exact;
  // bit 0 bare, bit 1 bracketed), so a lookup skips empty levels.
  static constexpr std::size_t kLevelSlots = kIpv6Bits + 2;
  std::array<std::uint8_t, kLevelSlots> v4_levels{};
  std::array<std::uint8_t, kLevelSlots> v6_levels{};
  // Refile lists: patterns without "*" are exact strings (fast path), others are scanned.
  std::unordered_map<std::string, Slot> refile_exact;
  std::vector<Pattern> refile_pos;
  std::vector<Pattern> refile_neg;
};

namespace {

using Data = HostList::Data;

void remember(std::unordered_map<std::string, Slot>& map, std::string key, bool negated,
              std::size_t line) {
  Slot& s = map[std::move(key)];
  std::size_t& target = negated ? s.neg_line : s.pos_line;
  if (target == 0) target = line;
}

/// Adds a refile pattern. Returns an error reason or "".
std::string add_refile_entry(Data& d, std::string_view token, std::size_t line) {
  bool negated = false;
  if (token.front() == '!') {
    negated = true;
    token.remove_prefix(1);
    if (token.empty()) return "'!' without a pattern";
  }
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return "invalid byte in pattern " + quote(token);
  }
  std::string glob = internal::lower(token);
  if (glob.find('*') == std::string::npos) {
    remember(d.refile_exact, std::move(glob), negated, line);
  } else {
    const std::size_t head = glob.find('*');
    const std::size_t tail = glob.size() - 1 - glob.rfind('*');
    (negated ? d.refile_neg : d.refile_pos).push_back(Pattern{std::move(glob), line, head, tail});
  }
  return {};
}

/// Adds a plain entry. Returns an error reason or "". Notes go to d.warnings.
std::string add_plain_entry(Data& d, std::string_view token, std::size_t line) {
  const std::string_view original = token;
  bool negated = false;
  if (token.front() == '!') {
    negated = true;
    token.remove_prefix(1);
    if (token.empty()) return "'!' without an entry";
  }
  // Address or prefix: bracketed, contains ':' or '/', or only digits and dots.
  bool numeric = true;
  for (char c : token) {
    if (!internal::is_digit(c) && c != '.') {
      numeric = false;
      break;
    }
  }
  const bool is_address = token.front() == '[' || numeric ||
                          token.find(':') != std::string_view::npos ||
                          token.find('/') != std::string_view::npos;
  if (is_address) {
    const std::size_t slash = token.find('/');
    const std::string_view addr_text = token.substr(0, slash);
    const bool bracketed = !addr_text.empty() && addr_text.front() == '[';
    auto ip = parse_ip(addr_text, Brackets::Allow);
    if (!ip) {
      std::string why = ip.error().reason;
      if (slash != std::string_view::npos && addr_text.find(':') == std::string_view::npos &&
          std::count(addr_text.begin(), addr_text.end(), '.') < 3) {
        why += " (OpenDKIM compares full dotted quads: write 192.0.2.0/24, not 192.0.2/24)";
      }
      return why;
    }
    unsigned char level = kExactLevel;
    IpAddress net = *ip;
    if (slash != std::string_view::npos) {
      // "[addr]/len" is probed by OpenDKIM too (and accepted inline by develop PR #368).
      std::string plain = bracketed ? std::string(addr_text.substr(1, addr_text.size() - 2))
                                    : std::string(addr_text);
      plain += token.substr(slash);
      auto cidr = parse_cidr(plain, HostBits::Clear, Brackets::Forbid);
      if (!cidr) return cidr.error().reason;
      net = cidr->network();
      level = static_cast<unsigned char>(cidr->prefix_length());
      if (cidr->network() != *ip) {
        d.warnings.push_back(HostListWarning{
            line, "entry " + quote(original) + " has host bits set; OpenDKIM never matched it; "
                  "inkan uses " + cidr->to_string()});
      }
    }
    if (ip->is_v6()) {
      std::string written = internal::lower(bracketed ? addr_text.substr(1, addr_text.size() - 2)
                                                      : addr_text);
      if (written != ip->to_string()) {
        d.warnings.push_back(HostListWarning{
            line, "IPv6 entry " + quote(original) + " is not in canonical form " +
                      quote(ip->to_string()) + "; OpenDKIM never matched it; inkan does"});
      }
    }
    auto& levels = net.is_v4() ? d.v4_levels : d.v6_levels;
    const std::size_t slot = level == kExactLevel ? Data::kLevelSlots - 1 : level;
    levels[slot] = static_cast<std::uint8_t>(levels[slot] | (bracketed ? 2u : 1u));
    remember(d.addrs, ip_key(net, level, bracketed), negated, line);
    return {};
  }

  // Host name: "name", ".suffix", or "*.suffix" (taken as ".suffix").
  std::string_view name = token;
  bool suffix = false;
  if (name.size() >= 2 && name[0] == '*' && name[1] == '.') {
    name.remove_prefix(1);
    d.warnings.push_back(HostListWarning{
        line, "entry " + quote(original) + " taken as " + quote(std::string(negated ? "!" : "") +
                                                                std::string(name)) +
                  "; OpenDKIM matched '*' only in refile: lists"});
  }
  if (name.front() == '.') {
    suffix = true;
    name.remove_prefix(1);
  }
  if (name.find('*') != std::string_view::npos) {
    return "wildcard '*' is only allowed as a leading '*.' (or in a refile: list): " +
           quote(original);
  }
  if (std::string why = internal::check_host_name(name); !why.empty()) return why;
  std::string key = strip_trailing_dot(name);
  if (suffix) key.insert(key.begin(), '.');
  remember(d.names, std::move(key), negated, line);
  return {};
}

/// Probe helpers. A probe either decides (member or excluded) or passes.
struct Probe {
  bool decided = false;
  HostListMatch result;
};

void decide(Probe& p, bool member, std::size_t line, std::string entry) {
  p.decided = true;
  p.result.matched = true;
  p.result.member = member;
  p.result.line = line;
  p.result.entry = std::move(entry);
}

std::string ip_display(const IpAddress& net, unsigned char level, bool bracketed) {
  std::string s = net.to_string();
  if (bracketed) s = "[" + s + "]";
  if (level != kExactLevel) s += "/" + std::to_string(level);
  return s;
}

/// Plain-list address walk (OpenDKIM dkimf_checkip order).
void probe_address_plain(const Data& d, const IpAddress& ip, Probe& p) {
  const auto& levels = ip.is_v4() ? d.v4_levels : d.v6_levels;
  auto try_key = [&](const IpAddress& net, unsigned char level, bool bracketed) {
    const std::size_t slot = level == kExactLevel ? Data::kLevelSlots - 1 : level;
    if ((levels[slot] & (bracketed ? 2u : 1u)) == 0) return false;
    const auto it = d.addrs.find(ip_key(net, level, bracketed));
    if (it == d.addrs.end()) return false;
    const std::string shown = ip_display(net, level, bracketed);
    if (it->second.neg_line != 0) {
      decide(p, false, it->second.neg_line, "!" + shown);
    } else {
      decide(p, true, it->second.pos_line, shown);
    }
    return true;
  };
  if (try_key(ip, kExactLevel, false) || try_key(ip, kExactLevel, true)) return;
  for (unsigned len = ip.bit_length() + 1; len-- > 0;) {
    if (levels[len] == 0) continue;
    const IpAddress net = apply_prefix(ip, len);
    const auto level = static_cast<unsigned char>(len);
    if (try_key(net, level, false) || try_key(net, level, true)) return;
  }
}

/// One refile probe string: negative patterns first, then positive (the fixed semantics).
bool probe_refile_string(const Data& d, std::string_view s, Probe& p) {
  const auto it = d.refile_exact.find(std::string(s));
  std::size_t neg = 0, pos = 0;
  std::string neg_pat, pos_pat;
  if (it != d.refile_exact.end()) {
    if (it->second.neg_line) {
      neg = it->second.neg_line;
      neg_pat = std::string(s);
    }
    if (it->second.pos_line) {
      pos = it->second.pos_line;
      pos_pat = std::string(s);
    }
  }
  if (neg == 0) {
    for (const Pattern& pat : d.refile_neg) {
      if (could_match(pat, s) && glob_match(pat.glob, s)) {
        neg = pat.line;
        neg_pat = pat.glob;
        break;
      }
    }
  }
  if (neg != 0) {
    decide(p, false, neg, "!" + neg_pat);
    return true;
  }
  if (pos == 0) {
    for (const Pattern& pat : d.refile_pos) {
      if (could_match(pat, s) && glob_match(pat.glob, s)) {
        pos = pat.line;
        pos_pat = pat.glob;
        break;
      }
    }
  }
  if (pos != 0) {
    decide(p, true, pos, pos_pat);
    return true;
  }
  return false;
}

void probe_address_refile(const Data& d, const IpAddress& ip, Probe& p) {
  const std::string text = ip.to_string();
  if (probe_refile_string(d, text, p) || probe_refile_string(d, "[" + text + "]", p)) return;
  for (unsigned len = ip.bit_length() + 1; len-- > 0;) {
    const std::string net = apply_prefix(ip, len).to_string();
    const std::string tail = "/" + std::to_string(len);
    if (probe_refile_string(d, net + tail, p) || probe_refile_string(d, "[" + net + "]" + tail, p)) {
      return;
    }
  }
}

/// Host-name walk (OpenDKIM dkimf_checkhost): name, then each ".suffix".
void probe_name(const Data& d, std::string_view hostname, Probe& p) {
  const std::string name = strip_trailing_dot(hostname);
  if (name.empty() || name.size() > kMaxHostNameLength) return;
  const bool refile = d.syntax == HostListSyntax::Refile;
  for (std::size_t pos = 0; pos != std::string::npos; pos = name.find('.', pos + 1)) {
    const std::string_view probe = std::string_view(name).substr(pos);
    if (refile) {
      if (probe_refile_string(d, probe, p)) return;
      continue;
    }
    const auto it = d.names.find(std::string(probe));
    if (it == d.names.end()) continue;
    if (it->second.neg_line != 0) {
      decide(p, false, it->second.neg_line, "!" + std::string(probe));
    } else {
      decide(p, true, it->second.pos_line, std::string(probe));
    }
    return;
  }
}

void probe_address(const Data& d, const IpAddress& ip, Probe& p) {
  if (d.syntax == HostListSyntax::Refile) {
    probe_address_refile(d, ip, p);
  } else {
    probe_address_plain(d, ip, p);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

HostListSyntax DatasetSpec::syntax() const noexcept {
  switch (kind) {
    case Kind::Inline:
      return HostListSyntax::Inline;
    case Kind::File:
      return HostListSyntax::Lines;
    case Kind::Refile:
      return HostListSyntax::Refile;
  }
  return HostListSyntax::Lines;
}

Result<DatasetSpec> parse_dataset_spec(std::string_view value) {
  while (!value.empty() && internal::is_blank(value.front())) value.remove_prefix(1);
  while (!value.empty() && internal::is_blank(value.back())) value.remove_suffix(1);
  if (value.empty()) return fail(ErrorCode::Missing, "empty data set");
  // man:opendkim.conf(5) DATA SETS: a type prefix ends at the first ':'.
  const std::size_t colon = value.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    const std::string type = internal::lower(value.substr(0, colon));
    const std::string_view rest = value.substr(colon + 1);
    if (type == "file" || type == "refile") {
      if (rest.empty()) return fail(ErrorCode::Syntax, "data set " + quote(value) + " has no path");
      return DatasetSpec{type == "file" ? DatasetSpec::Kind::File : DatasetSpec::Kind::Refile,
                         std::string(rest)};
    }
    if (type == "csl") return DatasetSpec{DatasetSpec::Kind::Inline, std::string(rest)};
    static constexpr std::string_view kUnsupported[] = {
        "db", "dsn", "ldap", "ldaps", "ldapi", "lua", "memcache", "redis", "mdb", "erlang", "socket"};
    for (std::string_view t : kUnsupported) {
      if (type == t) {
        return fail(ErrorCode::Unsupported,
                    "data set type '" + type + ":' is not supported; use a file or an inline list");
      }
    }
  }
  if (value.front() == '/') return DatasetSpec{DatasetSpec::Kind::File, std::string(value)};
  return DatasetSpec{DatasetSpec::Kind::Inline, std::string(value)};
}

HostList::HostList() : data_(std::make_shared<const Data>()) {}
HostList::HostList(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

Result<HostList> HostList::parse(std::string_view text, const HostListOptions& options) {
  auto data = std::make_shared<Data>();
  data->syntax = options.syntax;
  const bool refile = options.syntax == HostListSyntax::Refile;
  const bool inline_list = options.syntax == HostListSyntax::Inline;

  auto where = [inline_list](std::size_t n) {
    return (inline_list ? "entry " : "line ") + std::to_string(n) + ": ";
  };
  auto add = [&](std::string_view token, std::size_t n) -> Result<void> {
    if (data->entries >= kMaxHostListEntries) {
      return fail(ErrorCode::LimitExceeded, where(n) + "more than " +
                                                std::to_string(kMaxHostListEntries) + " entries");
    }
    std::string why = refile ? add_refile_entry(*data, token, n) : add_plain_entry(*data, token, n);
    if (why.empty()) {
      ++data->entries;
      return ok();
    }
    if (options.lenient) {
      data->warnings.push_back(HostListWarning{n, "skipped: " + why});
      return ok();
    }
    return fail(ErrorCode::Syntax, where(n) + why);
  };

  if (inline_list) {
    // Entries separated by commas and/or blanks (CR/LF tolerated as blanks).
    std::size_t index = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == ',' || internal::is_blank(c) || c == '\r' || c == '\n') {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < text.size() && text[j] != ',' && !internal::is_blank(text[j]) && text[j] != '\r' &&
             text[j] != '\n') {
        ++j;
      }
      ++index;
      const std::string_view token = text.substr(i, j - i);
      if (token.size() > kMaxHostListLineLength) {
        return fail(ErrorCode::LimitExceeded, where(index) + "entry longer than " +
                                                  std::to_string(kMaxHostListLineLength) + " bytes");
      }
      if (token.find('\0') != std::string_view::npos) {
        return fail(ErrorCode::Syntax, where(index) + "NUL byte in entry");
      }
      if (auto r = add(token, index); !r) return fail(r.error());
      i = j;
    }
    return HostList(std::move(data));
  }

  // One entry per line; '#' starts a comment; the first blank ends the entry.
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.size() > kMaxHostListLineLength) {
      return fail(ErrorCode::LimitExceeded, where(line_no) + "line longer than " +
                                                std::to_string(kMaxHostListLineLength) + " bytes");
    }
    if (line.find('\0') != std::string_view::npos) {
      return fail(ErrorCode::Syntax, where(line_no) + "NUL byte in line");
    }
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    // CR ends the line (CRLF files), as OpenDKIM's config reader does.
    if (const std::size_t cr = line.find('\r'); cr != std::string_view::npos) line = line.substr(0, cr);
    std::size_t i = 0;
    while (i < line.size() && internal::is_blank(line[i])) ++i;
    std::size_t j = i;
    while (j < line.size() && !internal::is_blank(line[j])) ++j;
    if (i == j) continue;
    if (auto r = add(line.substr(i, j - i), line_no); !r) return fail(r.error());
  }
  return HostList(std::move(data));
}

HostList HostList::default_internal_hosts() {
  auto parsed = parse(kDefaultInternalHosts, HostListOptions{HostListSyntax::Inline, false});
  // The constant is ours and valid; a failure here is a programmer error.
  if (!parsed) std::abort();
  return std::move(parsed).value();
}

HostListMatch HostList::explain(const IpAddress* ip, std::string_view hostname) const {
  const Data& d = *data_;
  // Postfix reports "[a.b.c.d]" when reverse DNS failed, and "unknown" may appear: neither
  // is a name to probe. A bracketed literal stands in for a missing address.
  std::optional<IpAddress> from_name;
  Probe by_name;
  if (!hostname.empty() && hostname.front() == '[') {
    if (ip == nullptr) {
      if (auto parsed = parse_ip(hostname, Brackets::Require)) from_name = *parsed;
    }
  } else if (!hostname.empty() && !internal::iequals(hostname, "unknown")) {
    probe_name(d, hostname, by_name);
    if (by_name.decided && by_name.result.member) return by_name.result;
  }
  // OpenDKIM: member = checkhost(name) || checkip(ip). An exclusion found by name does not
  // stop the address walk.
  const IpAddress* addr = ip != nullptr ? ip : (from_name ? &*from_name : nullptr);
  if (addr != nullptr) {
    Probe by_addr;
    probe_address(d, *addr, by_addr);
    if (!by_addr.decided && addr->is_v4_mapped()) {
      // Deliberate extension: a mapped client that no IPv6 entry decided is probed as IPv4.
      probe_address(d, addr->unmapped(), by_addr);
    }
    if (by_addr.decided) return by_addr.result;
  }
  if (by_name.decided) return by_name.result;
  return {};
}

bool HostList::match(const IpAddress* ip, std::string_view hostname) const {
  return explain(ip, hostname).member;
}

std::size_t HostList::size() const noexcept { return data_->entries; }

const std::vector<HostListWarning>& HostList::warnings() const noexcept { return data_->warnings; }

}  // namespace auth::net
