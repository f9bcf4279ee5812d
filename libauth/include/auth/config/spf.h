// auth::config SPF policy settings — the typed model of inkan-spf's configuration, read either
// from postfix-policyd-spf-python's policyd-spf.conf unchanged (anchor-features.md §5.2, §5.3;
// man:policyd-spf.conf(5)) or from the `spf:` section of inkan.yaml (plus the shared
// `authserv_id` and `dns:` sections).
//
// policyd-spf semantics kept on purpose: names are case-sensitive; an unknown name is ignored
// (reported as a warning naming it); string "booleans" compare exactly ('True', 'No'); TestOnly
// is inverted (0 = test mode); a CIDR list stops at its first malformed entry ("Aborting whitelist
// processing"); Header_Type naming both SPF and AR is a configuration error. Per_User
// (`text,/path`, man:policyd-spf.peruser(5)) is read at load time into per-recipient settings.
// Pure: parsing takes text; nothing here touches files except load_spf_settings().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/legacy.h"
#include "auth/net/ip.h"

namespace auth::config {

/// policyd-spf's default configuration path (man:policyd-spf(1), README.Debian).
inline constexpr std::string_view kPolicydSpfDefaultConfig =
    "/etc/postfix-policyd-spf-python/policyd-spf.conf";
/// policyd-spf's default Reason_Message (Python str.format placeholders).
inline constexpr std::string_view kDefaultReasonMessage =
    "Message {rejectdefer} due to: {spf}. Please see {url}";
/// policyd-spf's default skip_addresses.
inline constexpr std::string_view kDefaultSkipAddresses = "127.0.0.0/8,::ffff:127.0.0.0/104,::1";
/// Upper bound on any list option (CIDRs, domains): local policy, not from policyd-spf.
inline constexpr std::size_t kMaxSpfListEntries = 4096;
/// Upper bound on Lookup_Time / Whitelist_Lookup_Time (Postfix's smtpd_policy_service_timeout
/// is 100 s; anything longer only delays the default action).
inline constexpr long kMaxLookupSeconds = 3600;

/// HELO_reject (anchor-features.md §5.3).
enum class HeloReject {
  Fail,        ///< reject HELO Fail
  SpfNotPass,  ///< reject Fail, Softfail, Neutral (and Permerror with PermError_reject)
  Softfail,    ///< reject Fail, Softfail
  Null,        ///< reject HELO Fail only for the null sender
  False,       ///< never reject or defer on HELO; header only
  NoCheck,     ///< do not check HELO
  Other,       ///< an unrecognised value: policyd-spf then prepends every result, but
               ///< PermError_reject / TempError_Defer still apply
};
/// Mail_From_reject (anchor-features.md §5.3; SPF_Required from spf_engine).
enum class MailFromReject {
  Fail,
  SpfNotPass,   ///< reject Fail, Softfail, Neutral
  SpfRequired,  ///< reject Fail, Softfail, None
  Softfail,
  False,
  NoCheck,
  Other,
};
/// Header_Type.
enum class HeaderType { Spf, AuthenticationResults, None };

const char* to_string(HeloReject v) noexcept;      ///< the policyd-spf spelling ("SPF_Not_Pass")
const char* to_string(MailFromReject v) noexcept;  ///< the policyd-spf spelling
const char* to_string(HeaderType v) noexcept;      ///< "SPF", "AR", "None"

/// A policyd-spf CIDR list (skip_addresses, Whitelist). `entries` holds the prefixes before the
/// first malformed one; `aborted` says processing stops there (policyd-spf logs the error and
/// treats the address as not listed when it reaches that entry).
struct CidrList {
  std::vector<net::Cidr> entries;
  bool aborted = false;
  /// True when `ip` is in a prefix before the first malformed entry.
  bool contains(const net::IpAddress& ip) const noexcept;
};

struct SpfSettings;

/// One line of the Per_User file (man:policyd-spf.peruser(5), anchor-features.md §5.6): the
/// settings a recipient's check uses (the global ones with that line's overrides applied).
struct PerUserEntry {
  std::string recipient;  ///< lower-cased full address (policyd-spf compares the whole recipient)
  std::size_t line = 0;   ///< line in the Per_User file, for logs
  std::shared_ptr<const SpfSettings> settings;
};

/// Everything inkan-spf needs; defaults are policyd-spf's (`defaultConfigData`).
struct SpfSettings {
  // ---- policyd-spf.conf options ------------------------------------------------------
  int debug_level = 1;       ///< debugLevel: -1 silent .. 5
  int test_only = 1;         ///< TestOnly: 0 = test mode (only prepend), 1 = normal
  HeloReject helo_reject = HeloReject::Fail;
  MailFromReject mail_from_reject = MailFromReject::Fail;
  std::string helo_reject_text = "Fail";       ///< as written (for logs)
  std::string mail_from_reject_text = "Fail";  ///< as written
  bool permerror_reject = false;  ///< PermError_reject == 'True'
  bool temperror_defer = false;   ///< TempError_Defer == 'True'
  CidrList skip_addresses;        ///< default kDefaultSkipAddresses
  CidrList whitelist;             ///< Whitelist
  std::vector<std::string> helo_whitelist;        ///< HELO_Whitelist (lower-case names)
  std::vector<std::string> domain_whitelist;      ///< Domain_Whitelist
  std::vector<std::string> domain_whitelist_ptr;  ///< Domain_Whitelist_PTR (suffixes)
  std::vector<std::string> reject_not_pass_domains;  ///< Reject_Not_Pass_Domains
  bool no_mail = false;                    ///< No_Mail == 'True'
  HeaderType header_type = HeaderType::Spf;
  /// Authserv_Id; empty (or the literal HOSTNAME) = the host name, resolved by the daemon.
  std::string authserv_id;
  bool hide_receiver = false;  ///< Hide_Receiver != 'No'
  std::chrono::seconds lookup_time{20};            ///< Lookup_Time, per scope
  std::chrono::seconds whitelist_lookup_time{10};  ///< Whitelist_Lookup_Time
  std::size_t void_limit = 2;                      ///< Void_Limit (RFC 7208 §4.6.4)
  bool enhanced_status_codes = true;  ///< SPF_Enhanced_Status_Codes != 'No'
  std::string reason_message = std::string(kDefaultReasonMessage);
  std::string mail_from_pass_restriction;  ///< Mail_From_pass_restriction ("" = unset)
  std::string helo_pass_restriction;       ///< HELO_pass_restriction
  std::string prospective;                 ///< Prospective: check as if from this IP ("" = unset)
  std::string per_user;                    ///< Per_User as written ("text,/path"); "" = unset
  std::string per_user_file;               ///< the path part of Per_User
  /// The Per_User file's lines in file order (filled by load_spf_settings / apply_per_user_text).
  std::vector<PerUserEntry> per_user_entries;
  bool queue_id = true;                    ///< QueueID: prefix log lines with the queue id
  bool mock = false;                       ///< Mock == 'True'

  // ---- inkan additions (inkan.yaml `dns:`, `--nameserver`) ---------------------------------
  std::vector<std::string> nameservers;  ///< "IP", "IP:PORT"; empty = /etc/resolv.conf
  std::chrono::milliseconds dns_timeout{2000};  ///< per DNS try
  std::string socket;   ///< yaml spf.socket: "unix:/path" or "inet:PORT@HOST"; "" = none
  std::string user;     ///< yaml spf.user
  std::string pidfile;  ///< yaml spf.pidfile
  std::string syslog_facility = "mail";

  SpfSettings();

  /// The settings for `recipient` (lower-cased full address): the first Per_User line naming
  /// it, else nullptr (the global settings apply).
  const PerUserEntry* per_user_for(std::string_view recipient) const noexcept;
};

/// The result of reading a configuration: settings plus what policyd-spf would log and go on.
struct SpfConfigLoad {
  SpfSettings settings;
  /// Human-readable warnings ("file:line: unknown name \"X\" ignored", malformed lines,
  /// unrecognised values, options accepted but not implemented).
  std::vector<std::string> warnings;
};

/// Every name policyd-spf.conf knows (man:policyd-spf.conf(5) + spf_engine defaultConfigData,
/// including the pyspf-milter ones that the policy server ignores).
const std::vector<std::string_view>& policyd_spf_known_names();

/// Types a parsed policyd-spf.conf. Unknown names become warnings. Throws ConfigError (file,
/// line, option) for values policyd-spf cannot run with: non-integer debugLevel / TestOnly /
/// Lookup_Time / Whitelist_Lookup_Time / Void_Limit, Header_Type with both SPF and AR.
SpfConfigLoad spf_settings_from_policyd(const PolicydSpfConfig& conf);

/// Parses policyd-spf.conf text (see spf_settings_from_policyd).
SpfConfigLoad parse_policyd_spf_settings(std::string_view text, const std::string& file);

/// Parses inkan.yaml text and types its `spf:` section with the shared `authserv_id` and
/// `dns: {nameservers, timeout}`. A missing `spf:` section means all defaults. Throws
/// ConfigError for YAML syntax errors, wrong types and unknown keys in `spf:`.
SpfConfigLoad parse_spf_yaml(std::string_view text, const std::string& file);

/// Keys a Per_User line may set (policydspfuser.py nameConversion minus the keys that are not
/// per-user: Lookup_Time, Header_Type, Hide_Receiver, Authserv-Id, Prospective, debugLevel, Mock).
const std::vector<std::string_view>& per_user_keys();

/// Parses the text of the Per_User file `file` against `settings` (the global ones) and fills
/// settings.per_user_entries. Each non-comment line is `recipient@domain,Key=Val|Key=Val|...`
/// ('#' starts a comment). Non-per-user keys, unknown keys, defaultSeedOnly and a repeated
/// recipient become warnings. Throws ConfigError(file, line, key) for a line without ',' or
/// without a recipient, a pair without exactly one '=', and values policyd-spf cannot run with
/// (non-integer Whitelist_Lookup_Time / Void_Limit, malformed CIDR lists).
void apply_per_user_text(SpfSettings& settings, std::string_view text, const std::string& file,
                         std::vector<std::string>& warnings);

/// Splits a Per_User value `text,/path` and returns the path. Throws ConfigError naming
/// `where` (file, line) for any other type (policyd-spf knows only `text`) or an empty path.
std::string per_user_path(const std::string& value, const std::string& file, std::size_t line);

/// Reads `path`: YAML when it ends in .yaml/.yml or its first significant line looks like YAML
/// (`key:`), otherwise policyd-spf.conf. A missing policyd-spf.conf gives the defaults and a
/// warning (as policyd-spf does); a missing YAML file throws ConfigError. When Per_User is set
/// its file is read and applied too (apply_per_user_text); an unreadable one throws ConfigError.
SpfConfigLoad load_spf_settings(const std::string& path);

}  // namespace auth::config
