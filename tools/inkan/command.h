// Subcommand registry of the `inkan` CLI. Each cmd_*.cpp file registers its commands with
// a file-scope `inkan::cli::Register`, so adding a command never touches main.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inkan::cli {

/// Exit codes shared by every subcommand (the issues fix them per command):
inline constexpr int kExitOk = 0;       ///< success / pass
inline constexpr int kExitFail = 1;     ///< the check ran and did not pass
inline constexpr int kExitUsage = 2;    ///< usage, I/O or configuration error

using Handler = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string_view name;     ///< e.g. "dkim", "keygen", "spf"
  std::string_view summary;  ///< one line for `inkan --help`
  Handler handler;
};

std::vector<Command>& registry();

struct Register {
  Register(std::string_view name, std::string_view summary, Handler h) {
    registry().push_back(Command{name, summary, h});
  }
};

}  // namespace inkan::cli
