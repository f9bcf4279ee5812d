// inkan — command-line companion of the inkan daemons: keys, checks, sign/verify a file.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "command.h"

namespace inkan::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

void usage(std::FILE* out) {
  std::fprintf(out, "usage: inkan COMMAND [ARGS...]\n\ncommands:\n");
  auto cmds = registry();
  std::sort(cmds.begin(), cmds.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  for (const auto& c : cmds) {
    std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out, "\n'inkan COMMAND --help' describes one command.\n");
}

int cmd_version(const std::vector<std::string>&) {
  std::printf("inkan %s\n", INKAN_VERSION);
  return kExitOk;
}
const Register kVersion{"version", "print the version", cmd_version};

}  // namespace
}  // namespace inkan::cli

int main(int argc, char** argv) {
  using namespace inkan::cli;
  if (argc < 2) {
    usage(stderr);
    return kExitUsage;
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage(stdout);
    return kExitOk;
  }
  if (name == "-V" || name == "--version") name = "version";
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : registry()) {
    if (c.name == name) {
      try {
        return c.handler(args);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "inkan %s: %s\n", name.c_str(), e.what());
        return kExitUsage;
      }
    }
  }
  std::fprintf(stderr, "inkan: unknown command '%s'\n\n", name.c_str());
  usage(stderr);
  return kExitUsage;
}
