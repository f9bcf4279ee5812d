#include "common/cmdline.h"

#include <algorithm>

namespace inkan::milter {

namespace {

/// Common letters and whether they take an argument (config letters handled separately).
struct CommonLetter {
  char letter;
  bool takes_argument;
};
constexpr CommonLetter kCommon[] = {
    {'f', false}, {'n', false}, {'V', false}, {'h', false}, {'v', false}, {'l', false},
    {'A', false}, {'p', true},  {'u', true},  {'P', true},
};

std::string printable_arg(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
  }
  if (s.size() > 64) out += "...";
  return out;
}

enum class LetterKind { Unknown, Config, Extra, Common };

struct Letter {
  LetterKind kind = LetterKind::Unknown;
  bool takes_argument = false;
};

Letter classify(const CommandLineSpec& spec, char c) {
  if (spec.config_letters.find(c) != std::string_view::npos) return {LetterKind::Config, true};
  for (const auto& e : spec.extras) {
    if (e.letter == c) return {LetterKind::Extra, e.takes_argument};
  }
  for (const auto& k : kCommon) {
    if (k.letter == c) return {LetterKind::Common, k.takes_argument};
  }
  return {};
}

void apply_common(CommandLine& cl, char c, std::string value) {
  switch (c) {
    case 'f': cl.foreground = true; break;
    case 'n': cl.check_only = true; break;
    case 'V': cl.version = true; break;
    case 'h': cl.help = true; break;
    case 'v': ++cl.verbose; break;
    case 'l': cl.syslog = true; break;
    case 'A': cl.autorestart = true; break;
    case 'p': cl.socket = std::move(value); break;
    case 'u': cl.user = std::move(value); break;
    case 'P': cl.pidfile = std::move(value); break;
    default: break;
  }
}

}  // namespace

std::optional<std::string> CommandLine::extra(char letter) const {
  std::optional<std::string> found;
  for (const auto& [l, v] : extras) {
    if (l == letter) found = v;
  }
  return found;
}

auth::Result<CommandLine> parse_command_line(const CommandLineSpec& spec,
                                             std::span<const std::string> args) {
  CommandLine cl;
  bool only_operands = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];

    /* Operands. */
    if (only_operands || arg.size() < 2 || arg[0] != '-') {
      if (!spec.allow_operands) {
        return auth::fail(auth::ErrorCode::Syntax,
                          "unexpected argument '" + printable_arg(arg) + "'");
      }
      cl.operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_operands = true;
      continue;
    }

    /* Long options. */
    if (arg.compare(0, 2, "--") == 0) {
      std::string_view body = std::string_view(arg).substr(2);
      std::string name(body.substr(0, body.find('=')));
      std::optional<std::string> value;
      if (auto eq = body.find('='); eq != std::string_view::npos) {
        value = std::string(body.substr(eq + 1));
      }
      auto need_value = [&]() -> auth::Result<std::string> {
        if (value) {
          if (value->empty()) {
            return auth::fail(auth::ErrorCode::Syntax, "option --" + name + " needs a value");
          }
          return *value;
        }
        if (i + 1 >= args.size() || args[i + 1].empty()) {
          return auth::fail(auth::ErrorCode::Syntax, "option --" + name + " needs a value");
        }
        return args[++i];
      };
      auto no_value = [&]() -> auth::Result<void> {
        if (value) {
          return auth::fail(auth::ErrorCode::Syntax, "option --" + name + " takes no value");
        }
        return auth::ok();
      };
      if (name == "help" || name == "version" || name == "foreground" || name == "check") {
        if (auto r = no_value(); !r) return auth::fail(r.error());
        if (name == "help") cl.help = true;
        if (name == "version") cl.version = true;
        if (name == "foreground") cl.foreground = true;
        if (name == "check") cl.check_only = true;
      } else if (name == "metrics" || name == "config") {
        auto v = need_value();
        if (!v) return auth::fail(v.error());
        (name == "metrics" ? cl.metrics : cl.config) = std::move(*v);
      } else {
        return auth::fail(auth::ErrorCode::Syntax,
                          "unknown option '--" + printable_arg(name) + "'");
      }
      continue;
    }

    /* Short options, possibly clustered. */
    for (std::size_t j = 1; j < arg.size(); ++j) {
      char c = arg[j];
      Letter l = classify(spec, c);
      if (l.kind == LetterKind::Unknown) {
        return auth::fail(auth::ErrorCode::Syntax,
                          "unknown option '-" + printable_arg(std::string(1, c)) + "'");
      }
      std::string value;
      if (l.takes_argument) {
        if (j + 1 < arg.size()) {
          value = arg.substr(j + 1);
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return auth::fail(auth::ErrorCode::Syntax,
                            std::string("option -") + c + " needs a value");
        }
        if (value.empty()) {
          return auth::fail(auth::ErrorCode::Syntax,
                            std::string("option -") + c + " needs a value");
        }
        j = arg.size();  // the rest of this argument was the value
      }
      switch (l.kind) {
        case LetterKind::Config: cl.config = std::move(value); break;
        case LetterKind::Extra: cl.extras.emplace_back(c, std::move(value)); break;
        case LetterKind::Common: apply_common(cl, c, std::move(value)); break;
        case LetterKind::Unknown: break;
      }
    }
  }
  return cl;
}

std::string usage_text(const CommandLineSpec& spec) {
  std::string p(spec.program);
  std::string cfg;
  for (char c : spec.config_letters) {
    if (!cfg.empty()) cfg += "|";
    cfg += std::string("-") + c;
  }
  std::string out = "usage: " + p + " [options]" + (spec.allow_operands ? " [args...]" : "") + "\n\n";
  auto line = [&](std::string left, std::string_view help) {
    if (left.size() < 26) left.resize(26, ' ');
    out += "  " + left + " " + std::string(help) + "\n";
  };
  if (!cfg.empty()) line(cfg + " FILE", "configuration file (YAML or the legacy format)");
  line("-f, --foreground", "stay in the foreground and log to stderr too");
  line("-n, --check", "check the configuration and exit (78 when it is bad)");
  line("-p SOCKET", "listen on SOCKET (inet:PORT@HOST, inet6:..., unix:/path)");
  line("-u USER[:GROUP]", "run as USER after binding the socket and loading keys");
  line("-P PIDFILE", "write the process id to PIDFILE");
  line("-l", "log to syslog");
  line("-v", "more verbose logging (repeatable)");
  line("-A", "accepted for compatibility; let the service manager restart us");
  line("-V, --version", "print the version and exit");
  line("--metrics ADDR:PORT", "serve Prometheus metrics at http://ADDR:PORT/metrics");
  line("-h, --help", "this text");
  for (const auto& e : spec.extras) {
    std::string left = std::string("-") + e.letter;
    if (e.takes_argument) left += " " + std::string(e.argument_name.empty() ? "ARG" : e.argument_name);
    line(left, e.help);
  }
  return out;
}

}  // namespace inkan::milter
