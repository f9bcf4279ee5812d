// inkan::milter — the command line shared by every inkan milter daemon.
//
// The common flags are the ones OpenDKIM, OpenDMARC and OpenARC share (anchor-features.md §2.2,
// §8 "Process and CLI"): -f foreground, -x/-c FILE configuration, -n check and exit, -V version,
// -p SOCKET, -u USER[:GROUP], -P PIDFILE, -v verbose, -l syslog, -A autorestart (accepted; the
// service manager restarts us), plus --help and --metrics ADDR:PORT. A daemon adds its own
// letters (opendkim's -b -d -k -s ...) as ExtraOptions; a letter listed there wins over a
// common meaning except the configuration letters (so inkan-dkim can keep -c for
// canonicalization, as opendkim does, by configuring config_letters = "x").
// Pure: parsing takes the arguments as strings and returns a value or a usage error.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/core/result.h"

namespace inkan::milter {

/// A daemon-specific single-letter option.
struct ExtraOption {
  char letter = 0;
  bool takes_argument = false;
  std::string_view argument_name;  ///< for --help, e.g. "canon"
  std::string_view help;
};

/// What a daemon accepts on its command line.
struct CommandLineSpec {
  std::string_view program;             ///< "inkan-dkim"
  std::string_view config_letters = "xc";  ///< letters taking the configuration file
  std::vector<ExtraOption> extras;      ///< daemon-specific letters
  bool allow_operands = false;          ///< positional arguments accepted (else an error)
};

/// The parsed command line. Unset optionals mean "as the configuration says".
struct CommandLine {
  bool foreground = false;   ///< -f
  bool check_only = false;   ///< -n
  bool version = false;      ///< -V / --version
  bool help = false;         ///< -h / --help
  int verbose = 0;           ///< -v, repeatable
  bool syslog = false;       ///< -l
  bool autorestart = false;  ///< -A (accepted for compatibility)
  std::optional<std::string> config;   ///< -x / -c / --config
  std::optional<std::string> socket;   ///< -p
  std::optional<std::string> user;     ///< -u USER[:GROUP]
  std::optional<std::string> pidfile;  ///< -P
  std::optional<std::string> metrics;  ///< --metrics ADDR:PORT
  std::vector<std::pair<char, std::string>> extras;  ///< daemon letters in order ("" if no arg)
  std::vector<std::string> operands;

  /// The value of the last occurrence of an extra letter, if any.
  std::optional<std::string> extra(char letter) const;
};

/// Parses arguments (without argv[0]). Clustered flags (`-fv`), attached values (`-pinet:1@h`),
/// `--` and `--name=value` are understood. A repeated option keeps the last value.
/// Errors (auth::ErrorCode::Syntax, reason printable after "<program>: "): unknown option,
/// missing argument, unexpected operand, empty value.
auth::Result<CommandLine> parse_command_line(const CommandLineSpec& spec,
                                             std::span<const std::string> args);

/// The --help text.
std::string usage_text(const CommandLineSpec& spec);

}  // namespace inkan::milter
