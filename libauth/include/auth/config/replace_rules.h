// auth::config replace rules — OpenDKIM's ReplaceRules / ReplaceHeaders (_FFR_REPLACE_RULES,
// compiled into Debian's opendkim 2.11; man:opendkim.conf(5)): text replacements applied to
// header field values as they arrive (opendkim.c mlfi_header), so that what is signed (and
// what decides the signing domain) is the header as a later MTA rewrite ("masquerade") will
// leave it. The rules file holds one rule a line: a POSIX *basic* regular expression (OpenDKIM
// calls regcomp(rule, 0)), a TAB (the last one on the line), the replacement text; '#' starts
// a comment anywhere on the line, blank lines are skipped (opendkim util.c dkimf_load_replist).
//
// Same as OpenDKIM: case-sensitive basic regexes (glibc <regex.h>, GNU extensions such as \+),
// the replacement is literal text (no back-references; a CR before the LF is kept), the rules
// are applied in reverse file order (dkimf_load_replist prepends each rule to its list), each
// rule to the value left by the previous one.
// Deliberate differences, where OpenDKIM's behaviour contradicts the man page ("text that
// should be used to replace the text matching the expression"):
//   - every match of a rule is replaced once, left to right, and the inserted text is not
//     searched again. OpenDKIM rescans from the start after each replacement with a buffer
//     that aliases its own output, so a second match corrupts the value ("hello hello" with
//     rule hello→HI becomes "HI", "aXbXcX" with X→YY becomes "YY") and a replacement the
//     regex matches again ("example\.org" → "mail.example.org") loops forever. With one match
//     per rule the results are identical (milters/dkim/tests/sign_options_test.sh).
//   - a rule whose regex matches the empty string (OpenDKIM loops forever on every field), a
//     line without TAB, a regex regcomp rejects, a NUL byte and a line longer than
//     kMaxReplaceRuleLine (OpenDKIM's fgets would split it into two rules) are start-up
//     errors naming the line.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"

namespace auth::config {

/// Longest rule line accepted (bytes before the LF): OpenDKIM reads the file with
/// fgets(rule, BUFRSZ) into `char rule[BUFRSZ + 1]` (BUFRSZ 1024), i.e. 1023 bytes at a time.
inline constexpr std::size_t kMaxReplaceRuleLine = 1023;
/// Most rules in one file (local policy: every rule runs on every header field).
inline constexpr std::size_t kMaxReplaceRules = 1000;
/// Most replacements made in one field value by all rules together (local policy; bounds the
/// work per field whatever the rules).
inline constexpr std::size_t kMaxReplacementsPerField = 1000;
/// Longest value a replacement may produce (local policy: 64 KiB, the size bound mail::Field
/// keeps for a whole field).
inline constexpr std::size_t kMaxReplacedValueBytes = 64 * 1024;

/// One rule as written in the file.
struct ReplaceRule {
  std::string pattern;      ///< POSIX basic regular expression (case-sensitive)
  std::string replacement;  ///< literal replacement text
  friend bool operator==(const ReplaceRule&, const ReplaceRule&) = default;
};

/// Parses the text of a ReplaceRules file into rules in file order, checking that each
/// pattern compiles and cannot match the empty string. Errors: Syntax with "line N: why"
/// (no TAB, bad regex, NUL byte, empty-matching regex), LimitExceeded (a line longer than
/// kMaxReplaceRuleLine, more than kMaxReplaceRules rules).
Result<std::vector<ReplaceRule>> parse_replace_rules(std::string_view text);

/// Compiled rules, applied to header field values. Immutable after compile(); apply() is
/// const and may run on several threads at once (regexec on a shared regex_t is thread-safe).
class HeaderRewriter {
 public:
  /// Compiles `rules` (file order). Errors as parse_replace_rules (Syntax for a bad or
  /// empty-matching regex).
  static Result<HeaderRewriter> compile(const std::vector<ReplaceRule>& rules);

  HeaderRewriter();
  ~HeaderRewriter();
  HeaderRewriter(HeaderRewriter&&) noexcept;
  HeaderRewriter& operator=(HeaderRewriter&&) noexcept;
  HeaderRewriter(const HeaderRewriter&) = delete;
  HeaderRewriter& operator=(const HeaderRewriter&) = delete;

  /// True when there are no rules.
  bool empty() const noexcept;

  /// Applies the rules (last rule of the file first) to `value`; nullopt when nothing matched.
  /// A value holding a NUL byte is left alone (regexec works on C strings; a milter value
  /// never holds one). Errors: LimitExceeded beyond kMaxReplacementsPerField replacements or
  /// kMaxReplacedValueBytes bytes (the caller keeps the value as received).
  Result<std::optional<std::string>> apply(std::string_view value) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auth::config
