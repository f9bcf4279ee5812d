#include "common/settings.h"

#include <syslog.h>

#include <cerrno>
#include <cstdlib>

namespace inkan::milter {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-' || c == '.';
}

}  // namespace

std::string_view to_string(ConfigFormat f) noexcept {
  return f == ConfigFormat::Yaml ? "yaml" : "legacy";
}

ConfigFormat detect_config_format(std::string_view path, std::string_view content) noexcept {
  if (ends_with_ci(path, ".yaml") || ends_with_ci(path, ".yml")) return ConfigFormat::Yaml;

  // Look at the first significant line only (bounded: lines are scanned once).
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t eol = content.find('\n', pos);
    std::string_view line = content.substr(pos, eol == std::string_view::npos ? content.npos
                                                                              : eol - pos);
    pos = (eol == std::string_view::npos) ? content.size() : eol + 1;
    // Strip CR, comments, surrounding blanks (both grammars use '#' comments).
    if (auto cr = line.find('\r'); cr != line.npos) line = line.substr(0, cr);
    if (auto hash = line.find('#'); hash != line.npos) line = line.substr(0, hash);
    std::size_t b = line.find_first_not_of(" \t");
    if (b == line.npos) continue;
    line = line.substr(b);
    line = line.substr(0, line.find_last_not_of(" \t") + 1);

    if (line == "---" || line.rfind("%YAML", 0) == 0 || line.rfind("--- ", 0) == 0) {
      return ConfigFormat::Yaml;
    }
    if (line[0] == '{' || (line[0] == '-' && (line.size() == 1 || line[1] == ' '))) {
      return ConfigFormat::Yaml;
    }
    // "key:" then white space or end of line. A legacy line is "Name<ws>value"; its name
    // never ends with ':' (opendkim names are letters, digits and '-').
    std::size_t k = 0;
    if (line[0] == '"' || line[0] == '\'') return ConfigFormat::Yaml;  // quoted YAML key
    while (k < line.size() && is_key_char(line[k])) ++k;
    if (k > 0 && k < line.size() && line[k] == ':' &&
        (k + 1 == line.size() || line[k + 1] == ' ' || line[k + 1] == '\t')) {
      return ConfigFormat::Yaml;
    }
    return ConfigFormat::Legacy;
  }
  return ConfigFormat::Legacy;
}

std::optional<bool> parse_flag(std::string_view v) noexcept {
  if (v.empty()) return std::nullopt;
  switch (v[0]) {
    case 'T': case 't': case 'Y': case 'y': case '1': return true;
    case 'F': case 'f': case 'N': case 'n': case '0': return false;
    default: return std::nullopt;
  }
}

std::optional<unsigned long> parse_unsigned(std::string_view v) noexcept {
  if (v.empty() || v.size() > 32) return std::nullopt;
  if (v[0] == '-' || v[0] == '+' || v[0] == ' ' || v[0] == '\t') return std::nullopt;
  char buf[40];
  v.copy(buf, v.size());
  buf[v.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  unsigned long n = std::strtoul(buf, &end, 0);
  if (errno != 0 || end != buf + v.size()) return std::nullopt;
  return n;
}

std::optional<int> parse_syslog_facility(std::string_view name) noexcept {
  if (name.size() > 4 && iequals(name.substr(0, 4), "log_")) name.remove_prefix(4);
  struct F {
    std::string_view n;
    int f;
  };
  static constexpr F kFacilities[] = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
      {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
      {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
      {"user", LOG_USER},     {"uucp", LOG_UUCP},         {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3},
      {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6},
      {"local7", LOG_LOCAL7},
  };
  for (const auto& f : kFacilities) {
    if (iequals(name, f.n)) return f.f;
  }
  return std::nullopt;
}

auth::Result<UserSpec> parse_user_spec(std::string_view text) {
  UserSpec u;
  auto colon = text.find(':');
  u.user = std::string(text.substr(0, colon));
  if (colon != text.npos) {
    u.group = std::string(text.substr(colon + 1));
    if (u.group.empty() || u.group.find(':') != std::string::npos) {
      return auth::fail(auth::ErrorCode::Syntax, "expected USER or USER:GROUP");
    }
  }
  if (u.user.empty()) return auth::fail(auth::ErrorCode::Syntax, "expected USER or USER:GROUP");
  for (char c : text) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f) {
      return auth::fail(auth::ErrorCode::Syntax, "white space or control in user name");
    }
  }
  return u;
}

auth::Result<bool> apply_runtime_option(RuntimeSettings& s, std::string_view name,
                                        std::string_view value) {
  auto any = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names) {
      if (iequals(name, n)) return true;
    }
    return false;
  };
  auto illegal = [&](std::string_view why) {
    return auth::fail(auth::ErrorCode::Invalid, "illegal value: " + std::string(why));
  };
  auto flag = [&](bool& out) -> auth::Result<bool> {
    auto b = parse_flag(value);
    if (!b) return illegal("expected a boolean (yes/no, true/false, 1/0)");
    out = *b;
    return true;
  };

  if (any({"Socket"})) {
    if (value.empty()) return illegal("empty socket");
    s.socket = std::string(value);
    return true;
  }
  if (any({"UMask"})) {
    auto n = parse_unsigned(value);
    if (!n || *n > 0777) return illegal("expected a file mode such as 007");
    s.umask = static_cast<mode_t>(*n);
    return true;
  }
  if (any({"UserID", "user"})) {
    auto u = parse_user_spec(value);
    if (!u) return illegal(u.error().reason);
    s.user = std::string(value);
    return true;
  }
  if (any({"PidFile"})) {
    if (value.empty() || value[0] != '/') return illegal("expected an absolute path");
    s.pidfile = std::string(value);
    return true;
  }
  if (any({"ChangeRootDirectory", "chroot"})) {
    if (value.empty() || value[0] != '/') return illegal("expected an absolute path");
    s.chroot_dir = std::string(value);
    return true;
  }
  if (any({"Background"})) return flag(s.background);
  if (any({"Syslog"})) return flag(s.syslog);
  if (any({"SyslogFacility", "syslog_facility"})) {
    if (!parse_syslog_facility(value)) return illegal("unknown syslog facility");
    s.syslog_facility = std::string(value);
    return true;
  }
  if (any({"SyslogName", "syslog_name"})) {
    if (value.empty() || value.size() > 64) return illegal("expected a short name");
    s.syslog_name = std::string(value);
    return true;
  }
  if (any({"on_internal_error"})) {
    auto d = parse_default_action(value);
    if (!d) return illegal("expected accept or tempfail");
    s.on_internal_error = *d;
    return true;
  }
  if (any({"metrics"})) {
    s.metrics = std::string(value);
    return true;
  }
  if (any({"MilterTimeout", "milter_timeout"})) {
    auto n = parse_unsigned(value);
    if (!n || *n > 86400) return illegal("expected seconds (0..86400)");
    s.milter_timeout = static_cast<unsigned>(*n);
    return true;
  }
  if (any({"graceful_stop_timeout"})) {
    auto n = parse_unsigned(value);
    if (!n || *n > 3600) return illegal("expected seconds (0..3600)");
    s.graceful_stop_seconds = *n;
    return true;
  }
  return false;
}

}  // namespace inkan::milter
