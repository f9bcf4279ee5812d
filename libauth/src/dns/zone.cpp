// auth::dns::ZoneResolver — in-memory zone: storage, lookups and the three loaders.
#include "auth/dns/zone.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "dns/dns_internal.h"

namespace auth::dns {

namespace {

/// RFC 1035 §3.3: a <character-string> is at most 255 octets.
constexpr std::size_t kMaxCharacterString = 255;
/// RFC 1035 §2.3.4: labels are at most 63 octets, names at most 255 octets on the wire,
/// i.e. 253 characters in text form without the trailing dot.
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxName = 253;
/// RFC 2181 §8: TTLs are 31-bit unsigned.
constexpr std::uint32_t kMaxTtl = 0x7fffffffU;

/// One stored item of a name, in the order it was loaded (order matters for the SPF suite's
/// TIMEOUT rule). `timeout` marks the SPF suite's bare `TIMEOUT` item.
struct Item {
  RType type = RType::TXT;
  bool timeout = false;
  std::uint32_t ttl = kZoneDefaultTtl;
  std::string text;  // A/AAAA address, PTR/CNAME target
  MxRecord mx;
  TxtRecord txt;
};

struct Staged {
  std::string name;
  std::optional<Item> item;  // nullopt: the name exists, nothing more
};

std::string lower(std::string_view s) { return internal::canonical_name(s); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string line_error(std::size_t line, std::string_view why) {
  return "line " + std::to_string(line) + ": " + std::string(why);
}

/// Cuts `value` into 255-octet character-strings (RFC 1035 §3.3); "" gives one empty string.
TxtRecord split_txt(std::string_view value) {
  TxtRecord r;
  if (value.empty()) {
    r.strings.emplace_back();
    return r;
  }
  while (!value.empty()) {
    const std::size_t n = std::min(value.size(), kMaxCharacterString);
    r.strings.emplace_back(value.substr(0, n));
    value.remove_prefix(n);
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// RFC 1035 §5.1 master-file lexer: entries of tokens; parentheses join lines.

struct Token {
  std::string text;
  bool quoted = false;
  bool escaped_dot = false;  // an escape produced '.', which our text names cannot represent
  std::size_t line = 0;
};

struct Entry {
  std::vector<Token> tokens;
  bool blank_owner = false;  // the entry's first line starts with white space
  std::size_t line = 0;
};

/// Decodes an RFC 1035 §5.1 escape at text[i] == '\\'. On success appends the byte to `out`,
/// advances `i` past the escape and returns true; on failure sets `why`.
bool decode_escape(std::string_view text, std::size_t& i, std::string& out, bool& dot,
                   std::string& why) {
  if (text.size() - i < 2 || text[i + 1] == '\n') {
    why = "backslash at end of line";
    return false;
  }
  if (is_digit(text[i + 1])) {
    // \DDD: exactly three decimal digits, value <= 255.
    if (text.size() - i < 4 || !is_digit(text[i + 2]) || !is_digit(text[i + 3])) {
      why = "\\DDD escape needs three digits";
      return false;
    }
    const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
    if (v > 255) {
      why = "\\DDD escape above 255";
      return false;
    }
    out.push_back(static_cast<char>(static_cast<unsigned char>(v)));
    if (v == '.') dot = true;
    i += 4;
    return true;
  }
  out.push_back(text[i + 1]);
  if (text[i + 1] == '.') dot = true;
  i += 2;
  return true;
}

Result<std::vector<Entry>> lex_master_file(std::string_view text) {
  std::vector<Entry> entries;
  Entry cur;
  std::size_t line = 1;
  std::size_t line_start = 0;
  std::size_t paren_line = 0;  // line of the open '(' (0 = none open)
  bool at_line_start = true;
  std::string why;

  auto finish = [&]() {
    if (!cur.tokens.empty()) entries.push_back(std::move(cur));
    cur = Entry{};
  };
  auto new_line = [&](std::size_t i) -> bool {
    if (i - line_start > kZoneMaxLineLength) return false;
    ++line;
    line_start = i + 1;
    at_line_start = true;
    return true;
  };

  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      if (!new_line(i)) return fail(ErrorCode::LimitExceeded, line_error(line, "line too long"));
      if (paren_line == 0) finish();
      ++i;
      continue;
    }
    if (is_space(c)) {
      if (at_line_start && paren_line == 0 && cur.tokens.empty()) cur.blank_owner = true;
      at_line_start = false;
      ++i;
      continue;
    }
    at_line_start = false;
    if (cur.tokens.empty() && cur.line == 0) cur.line = line;
    if (c == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '(') {
      // RFC 1035 §5.1 gives no nesting; BIND rejects it too.
      if (paren_line != 0) return fail(ErrorCode::Syntax, line_error(line, "nested '('"));
      paren_line = line;
      ++i;
      continue;
    }
    if (c == ')') {
      if (paren_line == 0) return fail(ErrorCode::Syntax, line_error(line, "')' without '('"));
      paren_line = 0;
      ++i;
      continue;
    }
    Token tok;
    tok.line = line;
    if (c == '"') {
      tok.quoted = true;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char q = text[i];
        if (q == '"') {
          closed = true;
          ++i;
          break;
        }
        if (q == '\n') break;
        if (q == '\\') {
          if (!decode_escape(text, i, tok.text, tok.escaped_dot, why)) {
            return fail(ErrorCode::Syntax, line_error(line, why));
          }
          continue;
        }
        tok.text.push_back(q);
        ++i;
      }
      if (!closed) return fail(ErrorCode::Syntax, line_error(line, "unterminated quoted string"));
    } else {
      while (i < text.size()) {
        const char w = text[i];
        if (is_space(w) || w == '\n' || w == ';' || w == '(' || w == ')' || w == '"') break;
        if (w == '\\') {
          if (!decode_escape(text, i, tok.text, tok.escaped_dot, why)) {
            return fail(ErrorCode::Syntax, line_error(line, why));
          }
          continue;
        }
        tok.text.push_back(w);
        ++i;
      }
    }
    cur.tokens.push_back(std::move(tok));
  }
  if (text.size() - line_start > kZoneMaxLineLength) {
    return fail(ErrorCode::LimitExceeded, line_error(line, "line too long"));
  }
  if (paren_line != 0) {
    return fail(ErrorCode::Syntax,
                line_error(paren_line, "'(' not closed before the end of the file"));
  }
  finish();
  return entries;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// RFC 1035 §2.3.4 shape check of a text name without trailing dot ("" = root).
std::optional<std::string> check_name(std::string_view name) {
  if (name.size() > kMaxName) return "name longer than 253 characters";
  if (name.empty()) return std::nullopt;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::size_t len = (dot == std::string_view::npos ? name.size() : dot) - start;
    if (len == 0) return "empty label";
    if (len > kMaxLabel) return "label longer than 63 octets";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

/// Parses a TTL: decimal seconds, or BIND-style units ("1h30m", "2d", "1w").
std::optional<std::uint32_t> parse_ttl(std::string_view s) {
  if (s.empty() || !is_digit(s[0])) return std::nullopt;
  std::uint64_t total = 0;
  std::uint64_t num = 0;
  bool have_num = false;
  bool used_unit = false;
  for (char c : s) {
    if (is_digit(c)) {
      num = num * 10 + static_cast<std::uint64_t>(c - '0');
      if (num > kMaxTtl) return std::nullopt;
      have_num = true;
      continue;
    }
    if (!have_num) return std::nullopt;
    std::uint64_t mult = 0;
    switch (c) {
      case 's': case 'S': mult = 1; break;
      case 'm': case 'M': mult = 60; break;
      case 'h': case 'H': mult = 3600; break;
      case 'd': case 'D': mult = 86400; break;
      case 'w': case 'W': mult = 604800; break;
      default: return std::nullopt;
    }
    total += num * mult;
    if (total > kMaxTtl) return std::nullopt;
    num = 0;
    have_num = false;
    used_unit = true;
  }
  if (have_num) {
    if (used_unit) return std::nullopt;  // "1h30" is ambiguous; BIND rejects it too
    total = num;
  }
  return static_cast<std::uint32_t>(total);
}

std::optional<std::uint16_t> parse_u16(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 0xffffU) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

}  // namespace

// ---------------------------------------------------------------------------------------

struct ZoneResolver::Impl {
  struct TypeKey {
    std::string name;
    RType type;
    friend bool operator<(const TypeKey& a, const TypeKey& b) {
      if (a.name != b.name) return a.name < b.name;
      return a.type < b.type;
    }
  };

  mutable std::shared_mutex mu;
  std::unordered_map<std::string, std::vector<Item>> nodes;
  std::unordered_map<std::string, Status> name_failures;
  std::map<TypeKey, Status> type_failures;
  Status unknown_status = Status::NxDomain;
  std::uint32_t negative_ttl = kDefaultNegativeTtl;
  std::size_t records = 0;
  std::set<std::string> secure_zones;  // set_authenticated; "" = the root (every name)

  /// True when `qname` is `zone` or a name under it (label boundary); caller holds `mu`.
  bool is_secure(const std::string& qname) const {
    for (const auto& z : secure_zones) {
      if (z.empty() || qname == z) return true;
      if (qname.size() > z.size() && qname.compare(qname.size() - z.size(), z.size(), z) == 0 &&
          qname[qname.size() - z.size() - 1] == '.') {
        return true;
      }
    }
    return false;
  }

  mutable std::mutex count_mu;
  std::map<TypeKey, std::size_t> counts;
  std::size_t total = 0;

  /// Adds staged items; caller holds `mu` exclusively.
  Result<void> commit(std::vector<Staged>& staged) {
    std::size_t adding = 0;
    for (const auto& s : staged) adding += s.item && !s.item->timeout ? 1 : 0;
    if (kZoneMaxRecords - records < adding) {
      return fail(ErrorCode::LimitExceeded, "zone would exceed " +
                                                std::to_string(kZoneMaxRecords) + " records");
    }
    for (auto& s : staged) {
      auto& node = nodes[s.name];
      if (s.item) {
        if (!s.item->timeout) ++records;
        node.push_back(std::move(*s.item));
      }
    }
    return ok();
  }

  void add(std::string_view name, Item item) {
    std::vector<Staged> staged;
    staged.push_back(Staged{lower(name), std::move(item)});
    std::unique_lock lock(mu);
    auto r = commit(staged);
    if (!r) throw std::length_error(r.error().reason);
  }

  Answer negative(Status s) const {
    Answer a = Answer::with_status(s);
    a.ttl = negative_ttl;
    return a;
  }

  Answer lookup(const std::string& qname, RType type) const {
    std::shared_lock lock(mu);
    std::string current = qname;
    std::vector<std::string> chain;  // names visited, for CNAME loop detection
    for (std::size_t hop = 0; hop <= kZoneMaxCnameChain; ++hop) {
      // Scripted failures first: (name,type), then the whole name.
      if (auto it = type_failures.find(TypeKey{current, type}); it != type_failures.end()) {
        return scripted(it->second, current);
      }
      if (auto it = name_failures.find(current); it != name_failures.end()) {
        return scripted(it->second, current);
      }
      auto node = nodes.find(current);
      if (node == nodes.end()) return negative(unknown_status);

      // Records of the asked type, in order, up to a TIMEOUT marker (SPF suite rule 2: a
      // TIMEOUT item times the query out unless an item of that type came before it).
      Answer a;
      a.status = Status::Ok;
      a.ttl = std::numeric_limits<std::uint32_t>::max();
      bool found = false;
      const Item* cname = nullptr;
      for (const Item& item : node->second) {
        if (item.timeout) {
          if (!found) {
            return Answer::with_status(Status::Timeout, "scripted timeout for " + current);
          }
          break;
        }
        if (item.type == RType::CNAME && cname == nullptr) cname = &item;
        if (item.type != type) continue;
        found = true;
        a.ttl = std::min(a.ttl, item.ttl);
        switch (type) {
          case RType::A:
          case RType::AAAA: a.addresses.push_back(item.text); break;
          case RType::PTR:
          case RType::CNAME: a.names.push_back(item.text); break;
          case RType::MX: a.mx.push_back(item.mx); break;
          case RType::TXT: a.txt.push_back(item.txt); break;
        }
      }
      if (found) return a;
      if (cname == nullptr || type == RType::CNAME) return negative(Status::NoData);

      // RFC 1034 §3.6.2: restart the lookup at the canonical name.
      chain.push_back(current);
      current = cname->text;
      if (std::find(chain.begin(), chain.end(), current) != chain.end()) {
        return Answer::with_status(Status::ServFail, "CNAME loop at " + current);
      }
    }
    return Answer::with_status(Status::ServFail,
                               "CNAME chain longer than " + std::to_string(kZoneMaxCnameChain));
  }

  Answer scripted(Status s, const std::string& name) const {
    if (s == Status::NxDomain || s == Status::NoData) return negative(s);
    return Answer::with_status(s, std::string("scripted ") + to_string(s) + " for " + name);
  }
};

ZoneResolver::ZoneResolver() : impl_(std::make_unique<Impl>()) {}
ZoneResolver::~ZoneResolver() = default;

std::string ZoneResolver::canonical_name(std::string_view name) { return lower(name); }

void ZoneResolver::query_async(std::string_view name, RType type, Callback cb) {
  Answer a = query(name, type);
  if (cb) cb(std::move(a));
}

Answer ZoneResolver::query(std::string_view name, RType type) {
  const std::string qname = lower(name);
  {
    std::lock_guard lock(impl_->count_mu);
    ++impl_->counts[Impl::TypeKey{qname, type}];
    ++impl_->total;
  }
  Answer a = impl_->lookup(qname, type);
  if (a.status == Status::Ok || a.status == Status::NxDomain || a.status == Status::NoData) {
    std::shared_lock lock(impl_->mu);
    a.authenticated = impl_->is_secure(qname);
  }
  return a;
}

// ---- adders ------------------------------------------------------------------------------

void ZoneResolver::add_name(std::string_view name) {
  std::unique_lock lock(impl_->mu);
  impl_->nodes[lower(name)];
}

void ZoneResolver::add_txt(std::string_view name, TxtRecord record, std::uint32_t ttl) {
  Item it;
  it.type = RType::TXT;
  it.ttl = ttl;
  it.txt = std::move(record);
  impl_->add(name, std::move(it));
}

void ZoneResolver::add_txt(std::string_view name, std::string_view value, std::uint32_t ttl) {
  add_txt(name, split_txt(value), ttl);
}

void ZoneResolver::add_a(std::string_view name, std::string_view ipv4, std::uint32_t ttl) {
  auto addr = internal::canonical_address(ipv4, false);
  if (!addr) throw std::invalid_argument("ZoneResolver::add_a: not an IPv4 address: " + std::string(ipv4));
  Item it;
  it.type = RType::A;
  it.ttl = ttl;
  it.text = std::move(*addr);
  impl_->add(name, std::move(it));
}

void ZoneResolver::add_aaaa(std::string_view name, std::string_view ipv6, std::uint32_t ttl) {
  auto addr = internal::canonical_address(ipv6, true);
  if (!addr) throw std::invalid_argument("ZoneResolver::add_aaaa: not an IPv6 address: " + std::string(ipv6));
  Item it;
  it.type = RType::AAAA;
  it.ttl = ttl;
  it.text = std::move(*addr);
  impl_->add(name, std::move(it));
}

void ZoneResolver::add_mx(std::string_view name, std::uint16_t preference,
                          std::string_view exchange, std::uint32_t ttl) {
  Item it;
  it.type = RType::MX;
  it.ttl = ttl;
  it.mx = MxRecord{preference, lower(exchange)};
  impl_->add(name, std::move(it));
}

void ZoneResolver::add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl) {
  Item it;
  it.type = RType::PTR;
  it.ttl = ttl;
  it.text = lower(target);
  impl_->add(name, std::move(it));
}

void ZoneResolver::add_cname(std::string_view name, std::string_view target, std::uint32_t ttl) {
  Item it;
  it.type = RType::CNAME;
  it.ttl = ttl;
  it.text = lower(target);
  impl_->add(name, std::move(it));
}

// ---- scripts and inspection ---------------------------------------------------------------

void ZoneResolver::set_failure(std::string_view name, Status status) {
  std::unique_lock lock(impl_->mu);
  if (status == Status::Ok) {
    impl_->name_failures.erase(lower(name));
  } else {
    impl_->name_failures[lower(name)] = status;
  }
}

void ZoneResolver::set_failure(std::string_view name, RType type, Status status) {
  std::unique_lock lock(impl_->mu);
  Impl::TypeKey key{lower(name), type};
  if (status == Status::Ok) {
    impl_->type_failures.erase(key);
  } else {
    impl_->type_failures[std::move(key)] = status;
  }
}

void ZoneResolver::set_unknown_name_status(Status status) {
  std::unique_lock lock(impl_->mu);
  impl_->unknown_status = status == Status::Ok ? Status::NxDomain : status;
}

void ZoneResolver::set_negative_ttl(std::uint32_t seconds) {
  std::unique_lock lock(impl_->mu);
  impl_->negative_ttl = seconds;
}

void ZoneResolver::set_authenticated(std::string_view zone, bool on) {
  std::string z = lower(zone);
  std::unique_lock lock(impl_->mu);
  if (on) impl_->secure_zones.insert(std::move(z));
  else impl_->secure_zones.erase(z);
}

std::size_t ZoneResolver::query_count(std::string_view name, RType type) const {
  std::lock_guard lock(impl_->count_mu);
  auto it = impl_->counts.find(Impl::TypeKey{lower(name), type});
  return it == impl_->counts.end() ? 0 : it->second;
}

std::size_t ZoneResolver::total_queries() const {
  std::lock_guard lock(impl_->count_mu);
  return impl_->total;
}

void ZoneResolver::reset_counts() {
  std::lock_guard lock(impl_->count_mu);
  impl_->counts.clear();
  impl_->total = 0;
}

std::size_t ZoneResolver::record_count() const {
  std::shared_lock lock(impl_->mu);
  return impl_->records;
}

void ZoneResolver::clear() {
  {
    std::unique_lock lock(impl_->mu);
    impl_->nodes.clear();
    impl_->name_failures.clear();
    impl_->type_failures.clear();
    impl_->records = 0;
    impl_->unknown_status = Status::NxDomain;
    impl_->negative_ttl = kDefaultNegativeTtl;
    impl_->secure_zones.clear();
  }
  reset_counts();
}

// ---- RFC 1035 §5 master file ------------------------------------------------------------

Result<void> ZoneResolver::load_master_file(std::string_view text, std::string_view origin_in) {
  auto lexed = lex_master_file(text);
  if (!lexed) return fail(lexed.error());

  std::string origin = lower(origin_in);
  if (auto bad = check_name(origin)) return fail(ErrorCode::Syntax, "origin: " + *bad);
  std::optional<std::uint32_t> dollar_ttl;  // RFC 2308 §4 $TTL
  std::optional<std::uint32_t> last_ttl;    // RFC 1035 §5.1: omitted TTL = the last one given
  std::optional<std::string> last_owner;
  std::optional<std::uint32_t> negative_ttl;
  std::vector<Staged> staged;

  // Resolves a domain-name token against $ORIGIN (RFC 1035 §5.1).
  auto make_name = [&](const Token& t) -> Result<std::string> {
    if (t.escaped_dot) {
      return fail(ErrorCode::Unsupported, line_error(t.line, "escaped '.' inside a label"));
    }
    std::string n;
    if (t.text == "@") {
      if (origin.empty()) {
        return fail(ErrorCode::Syntax, line_error(t.line, "'@' used with no $ORIGIN"));
      }
      n = origin;
    } else if (t.text == ".") {
      n.clear();
    } else if (!t.text.empty() && t.text.back() == '.') {
      n = lower(t.text);
    } else if (t.text.empty()) {
      return fail(ErrorCode::Syntax, line_error(t.line, "empty domain name"));
    } else {
      n = origin.empty() ? lower(t.text) : lower(t.text) + "." + origin;
    }
    if (auto bad = check_name(n)) {
      return fail(ErrorCode::Syntax, line_error(t.line, *bad + ": " + t.text));
    }
    return n;
  };

  for (const Entry& e : *lexed) {
    const auto& tk = e.tokens;
    // Directives (RFC 1035 §5.1 $ORIGIN/$INCLUDE, RFC 2308 §4 $TTL).
    if (!e.blank_owner && !tk[0].quoted && !tk[0].text.empty() && tk[0].text[0] == '$') {
      const std::string& d = tk[0].text;
      if (iequals(d, "$ORIGIN")) {
        if (tk.size() != 2) return fail(ErrorCode::Syntax, line_error(e.line, "$ORIGIN takes one name"));
        if (tk[1].text.empty() || tk[1].text.back() != '.') {
          // A relative $ORIGIN is appended to the current one (BIND behaviour).
          if (tk[1].text == "@") {
            return fail(ErrorCode::Syntax, line_error(e.line, "$ORIGIN @ is meaningless"));
          }
        }
        auto n = make_name(tk[1]);
        if (!n) return fail(n.error());
        origin = std::move(*n);
      } else if (iequals(d, "$TTL")) {
        if (tk.size() != 2) return fail(ErrorCode::Syntax, line_error(e.line, "$TTL takes one value"));
        auto ttl = parse_ttl(tk[1].text);
        if (!ttl) return fail(ErrorCode::Syntax, line_error(e.line, "bad $TTL value: " + tk[1].text));
        dollar_ttl = *ttl;
      } else {
        return fail(ErrorCode::Unsupported, line_error(e.line, "unsupported directive " + d));
      }
      continue;
    }

    // <owner> [<TTL>] [<class>] <type> <RDATA>, TTL and class in either order.
    std::size_t i = 0;
    std::string owner;
    if (e.blank_owner) {
      if (!last_owner) return fail(ErrorCode::Syntax, line_error(e.line, "no owner name and no previous one"));
      owner = *last_owner;
    } else {
      auto n = make_name(tk[0]);
      if (!n) return fail(n.error());
      owner = std::move(*n);
      last_owner = owner;
      i = 1;
    }
    std::optional<std::uint32_t> ttl;
    bool have_class = false;
    for (int k = 0; k < 2 && i < tk.size(); ++k) {
      const Token& t = tk[i];
      if (t.quoted) break;
      if (!ttl && !t.text.empty() && is_digit(t.text[0])) {
        auto v = parse_ttl(t.text);
        if (!v) return fail(ErrorCode::Syntax, line_error(t.line, "bad TTL: " + t.text));
        ttl = v;
        ++i;
      } else if (!have_class && iequals(t.text, "IN")) {
        have_class = true;
        ++i;
      } else if (!have_class && (iequals(t.text, "CH") || iequals(t.text, "HS") ||
                                 iequals(t.text, "CS"))) {
        return fail(ErrorCode::Unsupported, line_error(t.line, "class " + t.text + " (only IN)"));
      } else {
        break;
      }
    }
    if (i >= tk.size()) return fail(ErrorCode::Syntax, line_error(e.line, "missing record type"));
    const Token& type_tok = tk[i++];
    std::uint32_t rr_ttl = kZoneDefaultTtl;
    if (ttl) {
      rr_ttl = *ttl;
      last_ttl = ttl;
    } else if (dollar_ttl) {
      rr_ttl = *dollar_ttl;
    } else if (last_ttl) {
      rr_ttl = *last_ttl;
    }
    const std::size_t nrdata = tk.size() - i;
    auto want = [&](std::size_t n) -> Result<void> {
      if (nrdata != n) {
        return fail(ErrorCode::Syntax,
                    line_error(type_tok.line, type_tok.text + " needs " + std::to_string(n) +
                                                  " rdata field(s), got " + std::to_string(nrdata)));
      }
      return ok();
    };

    // SOA and NS: accepted so real zone files load; the SOA sets the negative TTL
    // (RFC 2308 §5: min(SOA TTL, MINIMUM)); neither is served.
    if (iequals(type_tok.text, "SOA")) {
      if (auto r = want(7); !r) return r;
      auto minimum = parse_ttl(tk[i + 6].text);
      for (std::size_t k = 2; k < 6; ++k) {
        if (!parse_u32(tk[i + k].text) && !parse_ttl(tk[i + k].text)) {
          return fail(ErrorCode::Syntax, line_error(tk[i + k].line, "bad SOA number: " + tk[i + k].text));
        }
      }
      if (!minimum) return fail(ErrorCode::Syntax, line_error(tk[i + 6].line, "bad SOA MINIMUM"));
      negative_ttl = std::min(rr_ttl, *minimum);
      staged.push_back(Staged{owner, std::nullopt});
      continue;
    }
    if (iequals(type_tok.text, "NS")) {
      if (auto r = want(1); !r) return r;
      if (auto n = make_name(tk[i]); !n) return fail(n.error());
      staged.push_back(Staged{owner, std::nullopt});
      continue;
    }
    auto type = type_tok.quoted ? std::nullopt : parse_rtype(type_tok.text);
    if (!type) {
      return fail(ErrorCode::Unsupported,
                  line_error(type_tok.line, "unsupported record type: " + type_tok.text));
    }
    Item item;
    item.type = *type;
    item.ttl = rr_ttl;
    switch (*type) {
      case RType::TXT: {
        // RFC 1035 §3.3.14: one or more <character-string>s, quoted or not.
        if (nrdata == 0) return fail(ErrorCode::Syntax, line_error(type_tok.line, "TXT without strings"));
        for (std::size_t k = i; k < tk.size(); ++k) {
          if (tk[k].text.size() > kMaxCharacterString) {
            return fail(ErrorCode::LimitExceeded,
                        line_error(tk[k].line, "character-string longer than 255 octets"));
          }
          item.txt.strings.push_back(tk[k].text);
        }
        break;
      }
      case RType::A:
      case RType::AAAA: {
        if (auto r = want(1); !r) return r;
        auto addr = internal::canonical_address(tk[i].text, *type == RType::AAAA);
        if (!addr) {
          return fail(ErrorCode::Syntax, line_error(tk[i].line, std::string("bad ") +
                                                                   to_string(*type) + " address: " +
                                                                   tk[i].text));
        }
        item.text = std::move(*addr);
        break;
      }
      case RType::MX: {
        if (auto r = want(2); !r) return r;
        auto pref = parse_u16(tk[i].text);
        if (!pref) return fail(ErrorCode::Syntax, line_error(tk[i].line, "bad MX preference: " + tk[i].text));
        auto n = make_name(tk[i + 1]);
        if (!n) return fail(n.error());
        item.mx = MxRecord{*pref, std::move(*n)};  // "." → "" (null MX, RFC 7505)
        break;
      }
      case RType::PTR:
      case RType::CNAME: {
        if (auto r = want(1); !r) return r;
        auto n = make_name(tk[i]);
        if (!n) return fail(n.error());
        item.text = std::move(*n);
        break;
      }
    }
    staged.push_back(Staged{owner, std::move(item)});
  }

  std::unique_lock lock(impl_->mu);
  if (auto r = impl_->commit(staged); !r) return r;
  if (negative_ttl) impl_->negative_ttl = *negative_ttl;
  return ok();
}

// ---- `<owner> <value>` lines (Mail::DKIM FAKE_DNS.dat, rfc8463/zone.txt) -------------------

Result<void> ZoneResolver::load_txt_lines(std::string_view text) {
  std::vector<Staged> staged;
  std::vector<std::pair<std::string, Status>> failures;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > kZoneMaxLineLength) {
      return fail(ErrorCode::LimitExceeded, line_error(line_no, "line too long"));
    }
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    std::size_t lead = 0;
    while (lead < line.size() && is_space(line[lead])) ++lead;
    line.remove_prefix(lead);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;

    std::size_t sp = 0;
    while (sp < line.size() && !is_space(line[sp])) ++sp;
    const std::string_view owner = line.substr(0, sp);
    std::string_view value = line.substr(sp);
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    if (value.empty()) return fail(ErrorCode::Syntax, line_error(line_no, "owner without a value"));
    const std::string name = lower(owner);

    if (value == "NXDOMAIN") {
      failures.emplace_back(name, Status::NxDomain);
    } else if (value == "~~Query timed out~~") {
      failures.emplace_back(name, Status::Timeout);
    } else if (value == "~~SERVFAIL~~") {
      failures.emplace_back(name, Status::ServFail);
    } else {
      Item item;
      item.type = RType::TXT;
      item.txt = value == "\"\"" ? split_txt("") : split_txt(value);
      staged.push_back(Staged{name, std::move(item)});
    }
  }
  std::unique_lock lock(impl_->mu);
  if (auto r = impl_->commit(staged); !r) return r;
  for (auto& [name, status] : failures) impl_->name_failures[name] = status;
  return ok();
}

// ---- OpenSPF suite zonedata ---------------------------------------------------------------

Result<void> ZoneResolver::load_spf_zonedata(const YAML::Node& zonedata) {
  if (!zonedata.IsDefined() || zonedata.IsNull()) return ok();
  if (!zonedata.IsMap()) return fail(ErrorCode::Syntax, "zonedata is not a map");
  std::vector<Staged> staged;

  auto scalar = [](const YAML::Node& n, std::string& out) -> bool {
    if (!n.IsScalar()) return false;
    out = n.Scalar();
    return true;
  };
  // TXT/SPF value: a string (one character-string) or a list of strings (one RR).
  auto txt_value = [&](const YAML::Node& v, TxtRecord& out) -> bool {
    if (v.IsScalar()) {
      out.strings.push_back(v.Scalar());
      return true;
    }
    if (!v.IsSequence()) return false;
    for (const auto& s : v) {
      std::string str;
      if (!scalar(s, str)) return false;
      out.strings.push_back(std::move(str));
    }
    return true;
  };

  try {
    for (const auto& kv : zonedata) {
      std::string raw;
      if (!scalar(kv.first, raw)) return fail(ErrorCode::Syntax, "zonedata key is not a name");
      // Rule 3: case-insensitive, trailing dot stripped.
      const std::string name = lower(raw);
      const YAML::Node& list = kv.second;
      auto bad = [&](const std::string& why) {
        return fail(ErrorCode::Syntax, "zonedata " + raw + ": " + why);
      };
      // Rule 4: a listed name exists, even with no records.
      staged.push_back(Staged{name, std::nullopt});
      if (list.IsNull()) continue;
      if (!list.IsSequence()) return bad("records are not a list");

      bool has_txt = false;
      std::vector<TxtRecord> spf_as_txt;
      for (const auto& rec : list) {
        if (rec.IsScalar()) {
          if (rec.Scalar() != "TIMEOUT") return bad("unknown item " + rec.Scalar());
          Item t;
          t.timeout = true;
          staged.push_back(Staged{name, std::move(t)});
          continue;
        }
        if (!rec.IsMap() || rec.size() != 1) return bad("record is not a one-key map");
        const auto entry = rec.begin();
        std::string type;
        if (!scalar(entry->first, type)) return bad("record type is not a string");
        const YAML::Node& v = entry->second;
        const bool none = v.IsScalar() && v.Scalar() == "NONE";
        Item item;
        if (type == "TXT" || type == "SPF") {
          TxtRecord txt;
          if (!txt_value(v, txt)) return bad(type + " value is neither a string nor a list");
          if (type == "TXT") {
            has_txt = true;   // rule 1: any TXT item (even NONE) stops the synthesis
            if (none) continue;  // `TXT: NONE` is no record
            item.type = RType::TXT;
            item.txt = std::move(txt);
          } else {
            // Type-99 SPF records are not served (RType has no SPF: RFC 7208 §3.1 queries
            // TXT only); they only feed the synthesis below.
            if (!none) spf_as_txt.push_back(std::move(txt));
            continue;
          }
        } else if (type == "A" || type == "AAAA") {
          std::string s;
          if (!scalar(v, s)) return bad(type + " value is not a string");
          auto addr = internal::canonical_address(s, type == "AAAA");
          if (!addr) return bad("bad " + type + " address " + s);
          item.type = type == "A" ? RType::A : RType::AAAA;
          item.text = std::move(*addr);
        } else if (type == "MX") {
          if (!v.IsSequence() || v.size() != 2) return bad("MX is not [preference, exchange]");
          std::string p, x;
          if (!scalar(v[0], p) || !scalar(v[1], x)) return bad("MX fields are not scalars");
          auto pref = parse_u16(p);
          if (!pref) return bad("bad MX preference " + p);
          item.type = RType::MX;
          item.mx = MxRecord{*pref, lower(x)};
        } else if (type == "PTR" || type == "CNAME") {
          std::string s;
          if (!scalar(v, s)) return bad(type + " value is not a string");
          item.type = type == "PTR" ? RType::PTR : RType::CNAME;
          item.text = lower(s);
        } else {
          return bad("unsupported record type " + type);
        }
        staged.push_back(Staged{name, std::move(item)});
      }
      // Rule 1: with no TXT item at all, SPF items are also TXT records, appended after
      // everything else (so after any TIMEOUT, rule 2).
      if (!has_txt) {
        for (auto& txt : spf_as_txt) {
          Item item;
          item.type = RType::TXT;
          item.txt = std::move(txt);
          staged.push_back(Staged{name, std::move(item)});
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Syntax, std::string("zonedata: ") + e.what());
  }
  std::unique_lock lock(impl_->mu);
  return impl_->commit(staged);
}

}  // namespace auth::dns
