#include "auth/config/dataset.h"

#include <regex.h>

#include <array>

namespace auth::config {

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Prefixes of database back-ends OpenDKIM can use and inkan does not (anchor-features.md §2.3).
constexpr std::array<std::string_view, 9> kUnsupportedPrefixes = {
    "db:", "dsn:", "ldap:", "ldaps:", "ldapi:", "lua:", "memcache:", "erlang:", "mdb:"};

std::vector<DatasetEntry> parse_lines(std::string_view text, const std::string& origin) {
  std::vector<DatasetEntry> out;
  std::size_t lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (line.size() > kMaxDatasetLineBytes) {
      throw ConfigError(origin, lineno, "", "line longer than " +
                                                std::to_string(kMaxDatasetLineBytes) + " bytes");
    }
    if (auto p = line.find('#'); p != std::string_view::npos) line = line.substr(0, p);
    line = trim(line);
    if (line.empty()) continue;
    if (out.size() >= kMaxDatasetEntries) throw ConfigError(origin, lineno, "", "too many entries");
    std::size_t sp = 0;
    while (sp < line.size() && !is_space(line[sp])) ++sp;
    out.push_back(DatasetEntry{std::string(line.substr(0, sp)), std::string(trim(line.substr(sp))),
                               lineno});
  }
  return out;
}

std::vector<DatasetEntry> parse_list(std::string_view text) {
  std::vector<DatasetEntry> out;
  std::size_t index = 0;
  while (!text.empty() && out.size() < kMaxDatasetEntries) {
    std::size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    ++index;
    if (item.empty()) continue;
    // csl: `x=y` elements become key/value pairs.
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.push_back(DatasetEntry{std::string(item), {}, index});
    } else {
      out.push_back(DatasetEntry{std::string(trim(item.substr(0, eq))),
                                 std::string(trim(item.substr(eq + 1))), index});
    }
  }
  return out;
}

bool key_equal(std::string_view a, std::string_view b, bool icase) {
  return icase ? iequals(a, b) : a == b;
}

}  // namespace

struct Dataset::Regexes {
  std::vector<regex_t> compiled;
  ~Regexes() {
    for (auto& r : compiled) regfree(&r);
  }
};

Dataset::Dataset() = default;
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;
Dataset::~Dataset() = default;

std::string refile_pattern_to_ere(std::string_view pattern) {
  // opendkim-db.c: `*` → `.*`, `.` → `\.`, `+` → `\+`; every other character passes through.
  std::string ere = "^";
  for (char c : pattern) {
    switch (c) {
      case '*': ere += ".*"; break;
      case '.': ere += "\\."; break;
      case '+': ere += "\\+"; break;
      default: ere += c;
    }
  }
  ere += '$';
  return ere;
}

Dataset Dataset::from_text(std::string_view text, DatasetKind kind, bool icase,
                           const std::string& origin) {
  Dataset d;
  d.kind_ = kind;
  d.icase_ = icase;
  d.origin_ = origin;
  d.entries_ = kind == DatasetKind::List ? parse_list(text) : parse_lines(text, origin);
  if (kind == DatasetKind::RegexFile) {
    d.regexes_ = std::make_unique<Regexes>();
    d.regexes_->compiled.reserve(d.entries_.size());
    for (const auto& e : d.entries_) {
      regex_t re;
      std::string ere = refile_pattern_to_ere(e.key);
      int flags = REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0);
      if (int rc = regcomp(&re, ere.c_str(), flags); rc != 0) {
        char buf[256];
        regerror(rc, &re, buf, sizeof buf);
        throw ConfigError(origin, e.line, "", "bad pattern '" + e.key + "': " + buf);
      }
      d.regexes_->compiled.push_back(re);
    }
  }
  return d;
}

Dataset Dataset::open(std::string_view spec, bool icase, const std::string& option,
                      const FileReader& reader) {
  spec = trim(spec);
  for (auto p : kUnsupportedPrefixes) {
    if (spec.substr(0, p.size()) == p) {
      throw ConfigError("", 0, option,
                        "dataset type '" + std::string(p) +
                            "' is not supported by inkan; use a file:, refile: or csl: list");
    }
  }
  auto load = [&](std::string_view path, DatasetKind kind) {
    std::string p(path);
    auto text = reader(p);
    if (!text) throw ConfigError(p, 0, option, text.error().reason);
    return from_text(*text, kind, icase, p);
  };
  // opendkim-db.c: a name ending in ".db" is a Berkeley DB, whatever its first character.
  if (spec.size() > 3 && spec.substr(spec.size() - 3) == ".db") {
    throw ConfigError("", 0, option, "Berkeley DB datasets are not supported by inkan");
  }
  if (spec.substr(0, 7) == "refile:") return load(spec.substr(7), DatasetKind::RegexFile);
  if (spec.substr(0, 5) == "file:") return load(spec.substr(5), DatasetKind::File);
  if (!spec.empty() && spec.front() == '/') return load(spec, DatasetKind::File);
  if (spec.substr(0, 4) == "csl:") spec.remove_prefix(4);
  return from_text(spec, DatasetKind::List, icase, option.empty() ? "<list>" : option);
}

const DatasetEntry* Dataset::find(std::string_view key) const {
  if (kind_ == DatasetKind::RegexFile) {
    std::string k(key);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (regexec(&regexes_->compiled[i], k.c_str(), 0, nullptr, 0) == 0) return &entries_[i];
    }
    return nullptr;
  }
  for (const auto& e : entries_) {
    if (key_equal(e.key, key, icase_)) return &e;
  }
  return nullptr;
}

std::vector<const DatasetEntry*> Dataset::find_all(std::string_view key) const {
  std::vector<const DatasetEntry*> out;
  if (kind_ == DatasetKind::RegexFile) {
    std::string k(key);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (regexec(&regexes_->compiled[i], k.c_str(), 0, nullptr, 0) == 0) {
        out.push_back(&entries_[i]);
      }
    }
    return out;
  }
  for (const auto& e : entries_) {
    if (key_equal(e.key, key, icase_)) out.push_back(&e);
  }
  return out;
}

std::optional<std::vector<std::string>> split_fields(std::string_view value, std::size_t n) {
  std::vector<std::string> out;
  if (n == 0) return out;
  while (out.size() + 1 < n) {
    std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.emplace_back(value.substr(0, colon));
    value.remove_prefix(colon + 1);
  }
  out.emplace_back(value);  // the last field takes the remainder, colons included
  return out;
}

std::vector<std::string> signing_table_candidates(std::string_view local,
                                                  std::string_view domain) {
  std::vector<std::string> out;
  std::string user(local);
  std::string host(domain);
  out.push_back(user + "@" + host);
  out.push_back(host);
  // Parent domains: user@.example.com, .example.com, user@.com, .com
  for (std::size_t dot = host.find('.'); dot != std::string::npos; dot = host.find('.', dot + 1)) {
    std::string parent = host.substr(dot);
    out.push_back(user + "@" + parent);
    out.push_back(parent);
  }
  out.push_back(user + "@*");
  out.push_back("*");
  return out;
}

}  // namespace auth::config
