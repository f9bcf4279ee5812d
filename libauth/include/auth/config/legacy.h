// auth::config — readers for the predecessors' configuration files, unchanged.
//
// OpenDKIM, OpenDMARC and OpenARC share one grammar (`config.c`; anchor-features.md §1.1):
// `Name<whitespace>value` per line, names case-insensitive, `#` or CR truncates a line, no quoting,
// the last occurrence of a repeated name wins, `Include` nests up to 5 levels. policyd-spf uses
// `Name = value` with case-sensitive names and one `=` per line (anchor-features.md §5.2).
//
// These readers only tokenise; each daemon validates the names it knows and types the values,
// so the error for an unknown option names file, line and option (DESIGN.md, exit 78).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::config {

/// OpenDKIM `MAXLEVEL`: nesting depth of `Include` (config.c).
inline constexpr int kMaxIncludeDepth = 5;
/// Longest configuration line we read (config.c uses BUFRSZ 1024; we allow more, bounded).
inline constexpr std::size_t kMaxConfigLineBytes = 64 * 1024;
/// Most lines in one configuration file, across includes (local policy).
inline constexpr std::size_t kMaxConfigLines = 100000;

/// A start-up configuration failure: file, line (0 = not line-bound), option, message.
/// Thrown only while loading configuration; `main` prints `what()` and exits 78 (EX_CONFIG).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::size_t line, std::string option, std::string message);
  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }
  const std::string& option() const noexcept { return option_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  std::size_t line_;
  std::string option_;
  std::string message_;
};

/// One `Name value` setting with where it came from.
struct Setting {
  std::string name;   ///< as written (compare case-insensitively for the OpenDKIM lineage)
  std::string value;  ///< trimmed; never empty for the OpenDKIM lineage
  std::string file;
  std::size_t line = 0;
};

/// Reads a file's text; injectable so tests and `Include` need no real files.
using FileReader = std::function<Result<std::string>(const std::string& path)>;
/// The default reader: the file system, `-` = standard input.
Result<std::string> read_file(const std::string& path);

/// A parsed OpenDKIM-lineage configuration. Lookups are case-insensitive; the last
/// occurrence of a name wins, as in config.c.
class LegacyConfig {
 public:
  /// Parses `text` as file `file`. `Include` entries are read through `reader` (relative
  /// paths as given, like OpenDKIM). Throws ConfigError: a name with no value ("required value
  /// missing"), include depth over kMaxIncludeDepth, an unreadable include, overlong lines.
  static LegacyConfig parse(std::string_view text, const std::string& file,
                            const FileReader& reader = read_file);
  /// Reads and parses a file (`-` = stdin). Throws ConfigError.
  static LegacyConfig load(const std::string& path, const FileReader& reader = read_file);

  /// Every setting in file order (includes expanded in place).
  const std::vector<Setting>& settings() const noexcept { return settings_; }
  /// The effective (last) setting for a name, case-insensitive.
  const Setting* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }

  /// Typed getters with OpenDKIM's conversions; throw ConfigError naming file/line/option.
  std::optional<std::string> get_string(std::string_view name) const;
  /// Booleans: only the first character counts: T t Y y 1 true, F f N n 0 false, else error.
  std::optional<bool> get_bool(std::string_view name) const;
  /// Integers: strtol base 0 (so `007` is octal, `0x1F` hex); trailing junk is an error.
  std::optional<long> get_int(std::string_view name) const;

  /// Throws ConfigError for the first setting whose name is not in `known`
  /// ("unrecognized parameter", as OpenDKIM; anchor-features.md §1.1).
  void require_known(const std::vector<std::string_view>& known) const;

 private:
  void parse_into(std::string_view text, const std::string& file, const FileReader& reader,
                  int depth);
  std::vector<Setting> settings_;
};

/// Parse a boolean the OpenDKIM way (first character). Returns nullopt when illegal.
std::optional<bool> parse_legacy_bool(std::string_view v);
/// Parse an integer the OpenDKIM way (strtol base 0, whole string). nullopt when illegal.
std::optional<long> parse_legacy_int(std::string_view v);

/// A parsed policyd-spf.conf: `Name = value`, case-sensitive names, `#` comments anywhere,
/// lines without exactly one `=` skipped (and reported in `skipped`), later names win.
struct PolicydSpfConfig {
  std::map<std::string, Setting, std::less<>> values;
  std::vector<std::string> skipped;  ///< "file:line: reason" for each malformed line

  const Setting* find(std::string_view name) const;
  /// Names present that are not in `known` (policyd-spf logs and ignores them).
  std::vector<const Setting*> unknown(const std::vector<std::string_view>& known) const;
};

/// Parses policyd-spf.conf text (anchor-features.md §5.2). Never throws for content.
PolicydSpfConfig parse_policyd_spf_config(std::string_view text, const std::string& file);

/// Case-insensitive ASCII comparison, as strcasecmp.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace auth::config
