// OpenDKIM ReplaceRules (opendkim util.c dkimf_load_replist, opendkim.c mlfi_header): see
// replace_rules.h for the format and the deliberate differences.
#include "auth/config/replace_rules.h"

#include <regex.h>

#include <utility>

namespace auth::config {
namespace {

// dkimf_isblank: nothing but ASCII white space.
bool is_blank(std::string_view s) noexcept {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r') return false;
  }
  return true;
}

// A compiled regex_t, freed once.
struct Regex {
  regex_t re{};
  bool ok = false;
  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() {
    if (ok) regfree(&re);
  }
};

// regcomp(pattern, 0) as dkimf_load_replist does (POSIX basic syntax), then the empty-match
// check. `why` gets the reason on failure.
std::unique_ptr<Regex> compile_one(const std::string& pattern, std::string& why) {
  auto r = std::make_unique<Regex>();
  if (const int rc = regcomp(&r->re, pattern.c_str(), 0); rc != 0) {
    char buf[256] = {};
    regerror(rc, &r->re, buf, sizeof buf);
    why = "bad regular expression \"" + pattern + "\": " + buf;
    return nullptr;
  }
  r->ok = true;
  if (regexec(&r->re, "", 0, nullptr, 0) == 0) {
    why = "regular expression \"" + pattern +
          "\" matches the empty string (OpenDKIM would loop forever on every header field)";
    return nullptr;
  }
  return r;
}

}  // namespace

Result<std::vector<ReplaceRule>> parse_replace_rules(std::string_view text) {
  std::vector<ReplaceRule> out;
  std::size_t lineno = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++lineno;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string where = "line " + std::to_string(lineno) + ": ";
    if (line.size() > kMaxReplaceRuleLine) {
      return fail(ErrorCode::LimitExceeded,
                  where + "longer than " + std::to_string(kMaxReplaceRuleLine) + " bytes");
    }
    if (line.find('\0') != std::string_view::npos) return fail(ErrorCode::Syntax, where + "NUL byte");
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (is_blank(line)) continue;
    const auto tab = line.rfind('\t');
    if (tab == std::string_view::npos) {
      return fail(ErrorCode::Syntax, where + "no TAB between regular expression and replacement");
    }
    ReplaceRule r{std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))};
    std::string why;
    if (!compile_one(r.pattern, why)) return fail(ErrorCode::Syntax, where + why);
    if (out.size() >= kMaxReplaceRules) {
      return fail(ErrorCode::LimitExceeded, where + "more than " + std::to_string(kMaxReplaceRules) + " rules");
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct HeaderRewriter::Impl {
  // Application order: the file's last rule first (dkimf_load_replist prepends).
  std::vector<std::pair<std::unique_ptr<Regex>, std::string>> rules;
};

HeaderRewriter::HeaderRewriter() : impl_(std::make_unique<Impl>()) {}
HeaderRewriter::~HeaderRewriter() = default;
HeaderRewriter::HeaderRewriter(HeaderRewriter&&) noexcept = default;
HeaderRewriter& HeaderRewriter::operator=(HeaderRewriter&&) noexcept = default;

bool HeaderRewriter::empty() const noexcept { return !impl_ || impl_->rules.empty(); }

Result<HeaderRewriter> HeaderRewriter::compile(const std::vector<ReplaceRule>& rules) {
  if (rules.size() > kMaxReplaceRules) {
    return fail(ErrorCode::LimitExceeded, "more than " + std::to_string(kMaxReplaceRules) + " rules");
  }
  HeaderRewriter h;
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    if (it->pattern.find('\0') != std::string::npos || it->replacement.find('\0') != std::string::npos) {
      return fail(ErrorCode::Syntax, "NUL byte in a replace rule");
    }
    std::string why;
    auto re = compile_one(it->pattern, why);
    if (!re) return fail(ErrorCode::Syntax, why);
    h.impl_->rules.emplace_back(std::move(re), it->replacement);
  }
  return h;
}

Result<std::optional<std::string>> HeaderRewriter::apply(std::string_view value) const {
  if (empty() || value.find('\0') != std::string_view::npos) return std::optional<std::string>{};
  std::string cur(value);
  bool changed = false;
  std::size_t replacements = 0;
  for (const auto& [re, repl] : impl_->rules) {
    std::string out;
    std::size_t pos = 0;
    bool matched = false;
    // Left to right over the value the previous rule left; the inserted text is not rescanned.
    while (pos <= cur.size()) {
      regmatch_t m{};
      const int flags = pos > 0 ? REG_NOTBOL : 0;
      if (regexec(&re->re, cur.c_str() + pos, 1, &m, flags) != 0) break;
      if (++replacements > kMaxReplacementsPerField) {
        return fail(ErrorCode::LimitExceeded,
                    "more than " + std::to_string(kMaxReplacementsPerField) + " replacements in one field");
      }
      const auto so = static_cast<std::size_t>(m.rm_so);
      const auto eo = static_cast<std::size_t>(m.rm_eo);
      out.append(cur, pos, so);
      out += repl;
      matched = true;
      if (eo == so) {
        // An empty match (possible after REG_NOTBOL, e.g. "x*"): keep one byte and move on.
        if (pos + eo >= cur.size()) {
          pos = cur.size() + 1;
          break;
        }
        out += cur[pos + eo];
        pos += eo + 1;
      } else {
        pos += eo;
      }
      if (out.size() > kMaxReplacedValueBytes) {
        return fail(ErrorCode::LimitExceeded,
                    "replacement exceeds " + std::to_string(kMaxReplacedValueBytes) + " bytes");
      }
    }
    if (!matched) continue;
    if (pos < cur.size()) out.append(cur, pos, std::string::npos);
    if (out.size() > kMaxReplacedValueBytes) {
      return fail(ErrorCode::LimitExceeded, "replacement exceeds " + std::to_string(kMaxReplacedValueBytes) + " bytes");
    }
    cur = std::move(out);
    changed = true;
  }
  if (!changed) return std::optional<std::string>{};
  return std::optional<std::string>{std::move(cur)};
}

}  // namespace auth::config
