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
constexpr std::array<std::string_view, 8> kUnsupportedPrefixes = {
    "dsn:", "ldap:", "ldaps:", "ldapi:", "lua:", "memcache:", "erlang:", "mdb:"};

bool istarts(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// dkimf_db_open: a value whose first ':' comes before any ',' has a `type:` prefix; one without
// is a Berkeley DB when the last ".db" in it ends the string, a file when it starts with '/',
// otherwise a comma-separated list.
bool has_type_prefix(std::string_view spec) noexcept {
  std::size_t colon = spec.find(':');
  std::size_t comma = spec.find(',');
  return colon != std::string_view::npos && (comma == std::string_view::npos || colon < comma);
}

bool names_berkeley_db(std::string_view spec) noexcept {
  return !has_type_prefix(spec) && spec.size() >= 3 && spec.substr(spec.size() - 3) == ".db";
}

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

const DatabaseReader* database_reader_of(const FileReader& reader) noexcept {
  const auto* r = reader.target<DatasetReaders>();
  return r != nullptr && r->databases ? &r->databases : nullptr;
}

const LiveDatasetOpener* live_opener_of(const FileReader& reader) noexcept {
  const auto* r = reader.target<DatasetReaders>();
  return r != nullptr && r->live ? &r->live : nullptr;
}

bool is_live_dataset_spec(std::string_view spec) noexcept {
  spec = trim(spec);
  for (std::string_view p : {"dsn:", "ldap:", "ldaps:", "ldapi:"}) {
    if (istarts(spec, p)) return true;
  }
  return false;
}

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

Dataset Dataset::from_records(const std::vector<DatabaseRecord>& records, bool icase,
                              const std::string& origin) {
  if (records.size() > kMaxDatasetEntries) throw ConfigError(origin, 0, "", "too many entries");
  Dataset d;
  d.kind_ = DatasetKind::Database;
  d.icase_ = icase;
  d.origin_ = origin;
  d.entries_.reserve(records.size());
  std::size_t n = 0;
  for (const auto& r : records) {
    ++n;
    if (r.key.size() > kMaxDatasetLineBytes || r.value.size() > kMaxDatasetLineBytes) {
      // OpenDKIM reads values into a 1024-byte buffer (BUFRSZ) and fails the lookup beyond it;
      // like the file: reader we accept longer ones (inline keys), up to this bound.
      throw ConfigError(origin, n, "", "record longer than " +
                                           std::to_string(kMaxDatasetLineBytes) + " bytes");
    }
    std::string value = r.value;
    if (auto nul = value.find('\0'); nul != std::string::npos) value.resize(nul);
    d.entries_.push_back(DatasetEntry{r.key, std::move(value), n});
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
  // `db:/path`, or (opendkim-db.c) a value without a type prefix whose last ".db" ends it.
  if (istarts(spec, "db:") || names_berkeley_db(spec)) {
    std::string p(istarts(spec, "db:") ? spec.substr(3) : spec);
    const DatabaseReader* db = database_reader_of(reader);
    if (db == nullptr) {
      throw ConfigError("", 0, option,
                        "dataset type 'db:' (Berkeley DB) is not supported by this build; use a "
                        "file:, refile: or csl: list");
    }
    // OpenDKIM opens "db:" with an empty path as a private in-memory database (always empty
    // when read-only); a start-up error is more useful.
    if (p.empty()) throw ConfigError("", 0, option, "db: needs a file name");
    auto records = (*db)(p);
    if (!records) throw ConfigError(p, 0, option, records.error().reason);
    return from_records(*records, icase, p);
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
  const bool icase = icase_ && kind_ != DatasetKind::Database;
  for (const auto& e : entries_) {
    if (key_equal(e.key, key, icase)) return &e;
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
  const bool icase = icase_ && kind_ != DatasetKind::Database;
  for (const auto& e : entries_) {
    if (key_equal(e.key, key, icase)) out.push_back(&e);
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
