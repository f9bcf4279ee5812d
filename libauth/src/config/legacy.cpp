#include "auth/config/legacy.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace auth::config {

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string format_error(const std::string& file, std::size_t line, const std::string& option,
                         const std::string& message) {
  // The shape OpenDKIM prints (anchor-features.md §1.1), with the option named at the end.
  std::string s = file.empty() ? std::string("(command line)") : file;
  s += ": configuration error";
  if (line > 0) s += " at line " + std::to_string(line);
  s += ": " + message;
  if (!option.empty()) s += " (" + option + ")";
  return s;
}

}  // namespace

ConfigError::ConfigError(std::string file, std::size_t line, std::string option,
                         std::string message)
    : std::runtime_error(format_error(file, line, option, message)),
      file_(std::move(file)),
      line_(line),
      option_(std::move(option)),
      message_(std::move(message)) {}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Result<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorCode::Io, "cannot open " + path + ": " + std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(ErrorCode::Io, "cannot read " + path);
  return text;
}

std::optional<bool> parse_legacy_bool(std::string_view v) {
  // config.c: only the first character is examined.
  if (v.empty()) return std::nullopt;
  switch (v.front()) {
    case 'T': case 't': case 'Y': case 'y': case '1': return true;
    case 'F': case 'f': case 'N': case 'n': case '0': return false;
    default: return std::nullopt;
  }
}

std::optional<long> parse_legacy_int(std::string_view v) {
  if (v.empty() || v.size() > 64) return std::nullopt;
  std::string s(v);
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(s.c_str(), &end, 0);  // base 0, as config.c
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return n;
}

LegacyConfig LegacyConfig::parse(std::string_view text, const std::string& file,
                                 const FileReader& reader) {
  LegacyConfig c;
  c.parse_into(text, file, reader, 0);
  return c;
}

LegacyConfig LegacyConfig::load(const std::string& path, const FileReader& reader) {
  auto text = reader(path);
  if (!text) throw ConfigError(path, 0, "", text.error().reason);
  return parse(*text, path, reader);
}

void LegacyConfig::parse_into(std::string_view text, const std::string& file,
                              const FileReader& reader, int depth) {
  std::size_t lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (settings_.size() >= kMaxConfigLines) {
      throw ConfigError(file, lineno, "", "too many lines");
    }
    if (line.size() > kMaxConfigLineBytes) {
      throw ConfigError(file, lineno, "", "line too long");
    }
    // config.c: `#` and CR truncate the line.
    if (auto p = line.find_first_of("#\r"); p != std::string_view::npos) line = line.substr(0, p);
    line = trim(line);
    if (line.empty()) continue;

    std::size_t sp = 0;
    while (sp < line.size() && !is_blank(line[sp])) ++sp;
    std::string name(line.substr(0, sp));
    std::string_view value = trim(line.substr(sp));
    if (value.empty()) throw ConfigError(file, lineno, name, "required value missing");

    if (iequals(name, "Include")) {
      if (depth + 1 > kMaxIncludeDepth) {
        throw ConfigError(file, lineno, name, "Include nested more than 5 levels");
      }
      std::string path(value);
      auto sub = reader(path);
      if (!sub) throw ConfigError(file, lineno, name, sub.error().reason);
      parse_into(*sub, path, reader, depth + 1);
      continue;
    }
    settings_.push_back(Setting{std::move(name), std::string(value), file, lineno});
  }
}

const Setting* LegacyConfig::find(std::string_view name) const {
  for (auto it = settings_.rbegin(); it != settings_.rend(); ++it) {
    if (iequals(it->name, name)) return &*it;
  }
  return nullptr;
}

std::optional<std::string> LegacyConfig::get_string(std::string_view name) const {
  const Setting* s = find(name);
  if (!s) return std::nullopt;
  return s->value;
}

std::optional<bool> LegacyConfig::get_bool(std::string_view name) const {
  const Setting* s = find(name);
  if (!s) return std::nullopt;
  auto b = parse_legacy_bool(s->value);
  if (!b) throw ConfigError(s->file, s->line, s->name, "illegal value '" + s->value + "'");
  return b;
}

std::optional<long> LegacyConfig::get_int(std::string_view name) const {
  const Setting* s = find(name);
  if (!s) return std::nullopt;
  auto n = parse_legacy_int(s->value);
  if (!n) throw ConfigError(s->file, s->line, s->name, "illegal value '" + s->value + "'");
  return n;
}

void LegacyConfig::require_known(const std::vector<std::string_view>& known) const {
  for (const auto& s : settings_) {
    bool ok = false;
    for (auto k : known) {
      if (iequals(s.name, k)) {
        ok = true;
        break;
      }
    }
    if (!ok) throw ConfigError(s.file, s.line, s.name, "unrecognized parameter");
  }
}

// --------------------------------------------------------------------------- policyd-spf

const Setting* PolicydSpfConfig::find(std::string_view name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

std::vector<const Setting*> PolicydSpfConfig::unknown(
    const std::vector<std::string_view>& known) const {
  std::vector<const Setting*> out;
  for (const auto& [name, s] : values) {
    bool ok = false;
    for (auto k : known) ok = ok || k == name;  // names are case-sensitive (§5.2)
    if (!ok) out.push_back(&s);
  }
  return out;
}

PolicydSpfConfig parse_policyd_spf_config(std::string_view text, const std::string& file) {
  PolicydSpfConfig c;
  std::size_t lineno = 0;
  while (!text.empty() && lineno < kMaxConfigLines) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (auto p = line.find('#'); p != std::string_view::npos) line = line.substr(0, p);
    line = trim(line);
    if (line.empty()) continue;
    std::size_t eq = line.find('=');
    // policydspfsupp._readConfigFile: a line must split into exactly two parts on '='.
    if (eq == std::string_view::npos || line.find('=', eq + 1) != std::string_view::npos) {
      c.skipped.push_back(file + ":" + std::to_string(lineno) +
                          ": not a 'Name = value' line (exactly one '=' required)");
      continue;
    }
    std::string name(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (name.empty()) {
      c.skipped.push_back(file + ":" + std::to_string(lineno) + ": empty name");
      continue;
    }
    Setting s{name, std::move(value), file, lineno};
    c.values.insert_or_assign(std::move(name), std::move(s));
  }
  return c;
}

}  // namespace auth::config
