// inkan::milter — process settings shared by every milter daemon, and config-format detection.
//
// The runtime needs a handful of options whatever the daemon: Socket, UMask, UserID, PidFile,
// Background, Syslog, SyslogFacility, SyslogName, the default action on internal errors and the
// metrics address. They have the same names in opendkim.conf, opendmarc.conf and openarc.conf
// (anchor-features.md §1.1–1.3), and snake_case names in inkan.yaml. A daemon's config loader
// hands each such option to apply_runtime_option() and keeps the rest for itself.
// Pure: no files are read here except by the caller.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "auth/core/result.h"
#include "auth/config/legacy.h"
#include "common/action.h"

namespace inkan::milter {

/// sysexits(3) codes the daemons use (anchor-features.md §1.3).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;     ///< EX_USAGE: bad command line
inline constexpr int kExitSoftware = 70;  ///< EX_SOFTWARE: internal error
inline constexpr int kExitOsErr = 71;     ///< EX_OSERR: fork, bind, setuid failed
inline constexpr int kExitConfig = 78;    ///< EX_CONFIG: configuration error

/// A start-up configuration failure (STYLE.md: thrown at start-up, `main` exits 78): the one
/// libauth's config readers throw, so daemons and readers share a type.
/// what() is "FILE: configuration error at line N: MESSAGE (OPTION)".
using ConfigError = auth::config::ConfigError;

enum class ConfigFormat { Yaml, Legacy };

/// Detects the format of a configuration file: ".yaml"/".yml" names are YAML; otherwise the
/// first significant line decides: "---", "%YAML", "key:" (key followed by ':' and white space
/// or end of line), "- item" or a flow mapping mean YAML; "Name value" means the legacy
/// OpenDKIM grammar. An empty file is Legacy (no options, as opendkim reads it).
ConfigFormat detect_config_format(std::string_view path, std::string_view content) noexcept;
std::string_view to_string(ConfigFormat f) noexcept;

/// The process-level settings. Unset optionals keep the built-in default.
struct RuntimeSettings {
  std::string socket;                ///< milter socket spec; empty = the daemon's default
  std::optional<mode_t> umask;       ///< UMask, applied to the UNIX socket and the PidFile
  std::string user;                  ///< UserID "user[:group]"; empty = stay as we are
  std::string pidfile;               ///< PidFile; empty = none
  /// ChangeRootDirectory: chroot(2) here after the socket is bound and before privileges are
  /// dropped (opendkim's order); empty = none. Files read later (keys loaded on demand, a
  /// reloaded configuration, resolv.conf for the resolver) are then looked up inside it.
  std::string chroot_dir;
  bool background = true;            ///< Background (opendkim default true)
  bool syslog = true;                ///< Syslog
  std::string syslog_facility = "mail";  ///< SyslogFacility
  std::string syslog_name;           ///< SyslogName; empty = program name
  DefaultAction on_internal_error = DefaultAction::TempFail;  ///< as Postfix milter_default_action
  std::string metrics;               ///< "ADDR:PORT"; empty = no endpoint
  unsigned milter_timeout = 0;       ///< libmilter I/O timeout (s); 0 = libmilter default
  std::size_t graceful_stop_seconds = 30;  ///< how long SIGTERM waits for in-flight messages

  friend bool operator==(const RuntimeSettings&, const RuntimeSettings&) = default;
};

/// Applies one option if it is a runtime option. Names are matched case-insensitively, legacy
/// (`Socket`, `UMask`, `UserID`, `PidFile`, `ChangeRootDirectory`, `Background`, `Syslog`, `SyslogFacility`,
/// `SyslogName`, `MilterTimeout`) and YAML (`socket`, `umask`, `user`,
/// `pidfile`, `chroot`, `background`, `syslog`, `syslog_facility`, `syslog_name`,
/// `on_internal_error`, `metrics`, `milter_timeout`, `graceful_stop_timeout`).
/// Returns true when consumed, false when the name is not a runtime option.
/// Errors: Invalid with the reason ("illegal value"), for the caller to wrap in ConfigError.
/// Values use the legacy conversions: booleans by first character, integers strtol base 0.
auth::Result<bool> apply_runtime_option(RuntimeSettings& s, std::string_view name,
                                        std::string_view value);

/// syslog facility by name ("mail", "daemon", "local0".."local7", "user", "auth"...), with or
/// without a "log_" prefix, case-insensitive. nullopt for unknown names.
std::optional<int> parse_syslog_facility(std::string_view name) noexcept;

/// "user", "user:group". Errors: Syntax for empty parts or more than one ':'.
struct UserSpec {
  std::string user;
  std::string group;  ///< empty: the user's primary group
  friend bool operator==(const UserSpec&, const UserSpec&) = default;
};
auth::Result<UserSpec> parse_user_spec(std::string_view text);

/// Boolean by first character: T t Y y 1 / F f N n 0 (opendkim config.c).
std::optional<bool> parse_flag(std::string_view v) noexcept;
/// Integer by strtol base 0, whole string, non-negative. nullopt when illegal.
std::optional<unsigned long> parse_unsigned(std::string_view v) noexcept;

}  // namespace inkan::milter
