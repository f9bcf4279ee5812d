#include "options.h"

#include <cstdio>
#include <optional>

namespace inkan::cli {

bool parse_options(std::string_view cmd, const std::vector<std::string>& args, std::size_t first,
                   const std::vector<OptSpec>& specs, std::vector<ParsedOpt>& out) {
  const auto fail = [&](const char* fmt, const std::string& what) {
    std::fprintf(stderr, "inkan %.*s: ", static_cast<int>(cmd.size()), cmd.data());
    std::fprintf(stderr, fmt, what.c_str());
    std::fprintf(stderr, " (try --help)\n");
    return false;
  };
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2);
      std::optional<std::string> inline_value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      const OptSpec* found = nullptr;
      for (const auto& s : specs) {
        if (!s.long_name.empty() && s.long_name == name) found = &s;
      }
      if (found == nullptr) return fail("unknown option '--%s'", name);
      ParsedOpt p{found, {}};
      if (found->takes_value) {
        if (inline_value) {
          p.value = *inline_value;
        } else if (i + 1 < args.size()) {
          p.value = args[++i];
        } else {
          return fail("option '--%s' needs a value", name);
        }
      } else if (inline_value) {
        return fail("option '--%s' takes no value", name);
      }
      out.push_back(std::move(p));
      continue;
    }
    if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
      for (std::size_t j = 1; j < a.size(); ++j) {
        const OptSpec* found = nullptr;
        for (const auto& s : specs) {
          if (s.short_name != 0 && s.short_name == a[j]) found = &s;
        }
        if (found == nullptr) return fail("unknown option '-%s'", std::string(1, a[j]));
        ParsedOpt p{found, {}};
        if (found->takes_value) {
          if (j + 1 < a.size()) {
            p.value = a.substr(j + 1);
          } else if (i + 1 < args.size()) {
            p.value = args[++i];
          } else {
            return fail("option '-%s' needs a value", std::string(1, a[j]));
          }
          out.push_back(std::move(p));
          break;
        }
        out.push_back(std::move(p));
      }
      continue;
    }
    return fail("unexpected argument '%s'", a);
  }
  return true;
}

}  // namespace inkan::cli
