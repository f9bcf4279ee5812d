// A small getopt_long for the `inkan` subcommands: "-x VAL", "-xVAL", "--long VAL",
// "--long=VAL", bundled flags "-rt" (the first option that takes a value ends a bundle).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace inkan::cli {

struct OptSpec {
  char short_name;             ///< 0 if none
  std::string_view long_name;  ///< "" if none
  bool takes_value;
};

struct ParsedOpt {
  const OptSpec* spec = nullptr;
  std::string value;
};

/// Parses `args[first..]` against `specs` into `out`, in command-line order. Positional
/// arguments are an error. On error prints "inkan CMD: ... (try --help)" and returns false.
bool parse_options(std::string_view cmd, const std::vector<std::string>& args, std::size_t first,
                   const std::vector<OptSpec>& specs, std::vector<ParsedOpt>& out);

}  // namespace inkan::cli
