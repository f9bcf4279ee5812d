// Typed policyd-spf settings from policyd-spf.conf or inkan.yaml `spf:` (anchor-features.md §5).
#include "auth/config/spf.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <optional>
#include <sstream>

namespace auth::config {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Python int(): optional sign, decimal digits, surrounding white space already trimmed.
std::optional<long> python_int(std::string_view v) {
  v = trim(v);
  if (v.empty()) return std::nullopt;
  bool neg = false;
  if (v.front() == '+' || v.front() == '-') {
    neg = v.front() == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
  return neg ? -out : out;
}

// policyd-spf splits list options on ',' (no other separator); empty items are dropped and
// white space around an item is trimmed (policyd-spf would keep it and never match).
std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty() && out.size() < kMaxSpfListEntries) {
    std::size_t c = v.find(',');
    std::string_view item = trim(v.substr(0, c));
    if (!item.empty()) out.emplace_back(item);
    if (c == std::string_view::npos) break;
    v.remove_prefix(c + 1);
  }
  return out;
}

// Python ipaddress.IPv4Network / IPv6Network (strict): host bits set is an error.
CidrList parse_cidr_list(const std::vector<std::string>& items, const std::string& where,
                         std::string_view option, std::vector<std::string>& warnings) {
  CidrList list;
  for (const auto& item : items) {
    auto c = net::parse_cidr(item, net::HostBits::Reject);
    if (!c) {
      warnings.push_back(where + ": " + std::string(option) + ": \"" + item +
                         "\" is not an IP network (" + c.error().reason +
                         "); entries from here on are ignored, as policyd-spf aborts its "
                         "whitelist processing there");
      list.aborted = true;
      break;
    }
    list.entries.push_back(*c);
  }
  return list;
}

std::vector<std::string> lower_all(std::vector<std::string> v) {
  for (auto& s : v) s = lower(s);
  return v;
}

HeloReject parse_helo_reject(std::string_view v) {
  if (v == "Fail") return HeloReject::Fail;
  if (v == "SPF_Not_Pass") return HeloReject::SpfNotPass;
  if (v == "Softfail") return HeloReject::Softfail;
  if (v == "Null") return HeloReject::Null;
  if (v == "False") return HeloReject::False;
  if (v == "No_Check") return HeloReject::NoCheck;
  return HeloReject::Other;
}

MailFromReject parse_mail_from_reject(std::string_view v) {
  if (v == "Fail") return MailFromReject::Fail;
  if (v == "SPF_Not_Pass") return MailFromReject::SpfNotPass;
  if (v == "SPF_Required") return MailFromReject::SpfRequired;
  if (v == "Softfail") return MailFromReject::Softfail;
  if (v == "False") return MailFromReject::False;
  if (v == "No_Check") return MailFromReject::NoCheck;
  return MailFromReject::Other;
}

// Header_Type: policyd-spf tests substrings ('SPF' in x, 'AR' in x) and != 'None'.
std::optional<HeaderType> parse_header_type(std::string_view v) {
  bool spf = v.find("SPF") != std::string_view::npos;
  bool ar = v.find("AR") != std::string_view::npos;
  if (spf && ar) return std::nullopt;
  if (ar) return HeaderType::AuthenticationResults;
  if (v == "None") return HeaderType::None;
  return HeaderType::Spf;
}

std::string where_of(const Setting& s) { return s.file + ":" + std::to_string(s.line); }

[[noreturn]] void bad_value(const Setting& s, const std::string& why) {
  throw ConfigError(s.file, s.line, s.name, why);
}

long int_setting(const Setting& s, long min, long max) {
  auto v = python_int(s.value);
  if (!v) bad_value(s, "\"" + s.value + "\" is not an integer");
  if (*v < min || *v > max) {
    bad_value(s, "value " + s.value + " out of range " + std::to_string(min) + ".." +
                     std::to_string(max));
  }
  return *v;
}

// Options of the pyspf-milter front end and deprecated names: accepted, not used here.
constexpr std::string_view kMilterOnly[] = {"Socket", "PidFile", "UserID", "UMask",
                                            "InternalHosts", "MacroList", "IntHosts"};

}  // namespace

const char* to_string(HeloReject v) noexcept {
  switch (v) {
    case HeloReject::Fail: return "Fail";
    case HeloReject::SpfNotPass: return "SPF_Not_Pass";
    case HeloReject::Softfail: return "Softfail";
    case HeloReject::Null: return "Null";
    case HeloReject::False: return "False";
    case HeloReject::NoCheck: return "No_Check";
    case HeloReject::Other: return "(other)";
  }
  return "(other)";
}

const char* to_string(MailFromReject v) noexcept {
  switch (v) {
    case MailFromReject::Fail: return "Fail";
    case MailFromReject::SpfNotPass: return "SPF_Not_Pass";
    case MailFromReject::SpfRequired: return "SPF_Required";
    case MailFromReject::Softfail: return "Softfail";
    case MailFromReject::False: return "False";
    case MailFromReject::NoCheck: return "No_Check";
    case MailFromReject::Other: return "(other)";
  }
  return "(other)";
}

const char* to_string(HeaderType v) noexcept {
  switch (v) {
    case HeaderType::Spf: return "SPF";
    case HeaderType::AuthenticationResults: return "AR";
    case HeaderType::None: return "None";
  }
  return "SPF";
}

bool CidrList::contains(const net::IpAddress& ip) const noexcept {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const net::Cidr& c) { return c.contains(ip); });
}

SpfSettings::SpfSettings() {
  std::vector<std::string> ignored;
  skip_addresses = parse_cidr_list(split_list(kDefaultSkipAddresses), "default",
                                   "skip_addresses", ignored);
}

const std::vector<std::string_view>& policyd_spf_known_names() {
  static const std::vector<std::string_view> kNames = {
      "debugLevel", "TestOnly", "defaultSeedOnly", "HELO_reject", "Mail_From_reject",
      "PermError_reject", "TempError_Defer", "skip_addresses", "Whitelist", "HELO_Whitelist",
      "Domain_Whitelist", "Domain_Whitelist_PTR", "Reject_Not_Pass_Domains", "No_Mail",
      "Header_Type", "Authserv_Id", "Hide_Receiver", "Lookup_Time", "Whitelist_Lookup_Time",
      "Void_Limit", "SPF_Enhanced_Status_Codes", "Reason_Message", "Mail_From_pass_restriction",
      "HELO_pass_restriction", "Prospective", "Per_User", "QueueID", "Mock", "Socket", "PidFile",
      "UserID", "UMask", "InternalHosts", "MacroList", "IntHosts"};
  return kNames;
}

SpfConfigLoad spf_settings_from_policyd(const PolicydSpfConfig& conf) {
  SpfConfigLoad out;
  SpfSettings& s = out.settings;
  auto& warn = out.warnings;
  for (const auto& why : conf.skipped) warn.push_back(why + " (line ignored)");
  for (const Setting* u : conf.unknown(policyd_spf_known_names())) {
    warn.push_back(where_of(*u) + ": unknown name \"" + u->name + "\" ignored");
  }
  auto get = [&](std::string_view name) { return conf.find(name); };

  if (auto* v = get("debugLevel")) s.debug_level = static_cast<int>(int_setting(*v, -1, 100));
  if (auto* v = get("defaultSeedOnly")) {
    warn.push_back(where_of(*v) + ": deprecated option defaultSeedOnly in use; TestOnly is "
                   "what counts");
  }
  if (auto* v = get("TestOnly")) s.test_only = static_cast<int>(int_setting(*v, INT_MIN, INT_MAX));
  if (auto* v = get("HELO_reject")) {
    s.helo_reject = parse_helo_reject(v->value);
    s.helo_reject_text = v->value;
    if (s.helo_reject == HeloReject::Other) {
      warn.push_back(where_of(*v) + ": HELO_reject \"" + v->value +
                     "\" is not Fail, SPF_Not_Pass, Softfail, Null, False or No_Check; HELO "
                     "results are only prepended (as policyd-spf does)");
    }
  }
  if (auto* v = get("Mail_From_reject")) {
    s.mail_from_reject = parse_mail_from_reject(v->value);
    s.mail_from_reject_text = v->value;
    if (s.mail_from_reject == MailFromReject::Other) {
      warn.push_back(where_of(*v) + ": Mail_From_reject \"" + v->value +
                     "\" is not Fail, SPF_Not_Pass, SPF_Required, Softfail, False or No_Check; "
                     "MAIL FROM results are only prepended (as policyd-spf does)");
    }
  }
  if (auto* v = get("PermError_reject")) s.permerror_reject = v->value == "True";
  if (auto* v = get("TempError_Defer")) s.temperror_defer = v->value == "True";
  if (auto* v = get("skip_addresses")) {
    s.skip_addresses = parse_cidr_list(split_list(v->value), where_of(*v), v->name, warn);
  }
  if (auto* v = get("Whitelist")) {
    s.whitelist = parse_cidr_list(split_list(v->value), where_of(*v), v->name, warn);
  }
  if (auto* v = get("HELO_Whitelist")) s.helo_whitelist = lower_all(split_list(v->value));
  if (auto* v = get("Domain_Whitelist")) s.domain_whitelist = lower_all(split_list(v->value));
  if (auto* v = get("Domain_Whitelist_PTR")) {
    s.domain_whitelist_ptr = lower_all(split_list(v->value));
  }
  if (auto* v = get("Reject_Not_Pass_Domains")) {
    s.reject_not_pass_domains = lower_all(split_list(v->value));
  }
  if (auto* v = get("No_Mail")) s.no_mail = v->value == "True";
  if (auto* v = get("Header_Type")) {
    auto h = parse_header_type(v->value);
    if (!h) bad_value(*v, "Header_Type includes both SPF and AR - invalid configuration");
    s.header_type = *h;
    if (*h == HeaderType::Spf && v->value != "SPF") {
      warn.push_back(where_of(*v) + ": Header_Type \"" + v->value +
                     "\" is not SPF, AR or None; Received-SPF is used");
    }
  }
  if (auto* v = get("Authserv_Id")) s.authserv_id = v->value == "HOSTNAME" ? "" : v->value;
  if (auto* v = get("Hide_Receiver")) s.hide_receiver = v->value != "No";
  if (auto* v = get("Lookup_Time")) {
    s.lookup_time = std::chrono::seconds(int_setting(*v, 1, kMaxLookupSeconds));
  }
  if (auto* v = get("Whitelist_Lookup_Time")) {
    s.whitelist_lookup_time = std::chrono::seconds(int_setting(*v, 1, kMaxLookupSeconds));
  }
  if (auto* v = get("Void_Limit")) s.void_limit = static_cast<std::size_t>(int_setting(*v, 0, 1000));
  if (auto* v = get("SPF_Enhanced_Status_Codes")) s.enhanced_status_codes = v->value != "No";
  if (auto* v = get("Reason_Message")) s.reason_message = v->value;
  if (auto* v = get("Mail_From_pass_restriction")) s.mail_from_pass_restriction = v->value;
  if (auto* v = get("HELO_pass_restriction")) s.helo_pass_restriction = v->value;
  if (auto* v = get("Prospective")) {
    if (!net::parse_ip(v->value)) bad_value(*v, "\"" + v->value + "\" is not an IP address");
    s.prospective = v->value;
  }
  if (auto* v = get("Per_User")) {
    s.per_user_file = per_user_path(v->value, v->file, v->line);
    s.per_user = v->value;
  }
  if (auto* v = get("QueueID")) s.queue_id = v->value != "False";
  if (auto* v = get("Mock")) {
    // policydspfsupp converts Mock with Python bool(): any non-empty text is true.
    s.mock = !v->value.empty();
    if (s.mock && v->value != "True") {
      warn.push_back(where_of(*v) + ": Mock = " + v->value + " turns Mock ON (policyd-spf " +
                     "treats any non-empty value as true); remove the line to disable it");
    }
  }
  for (auto name : kMilterOnly) {
    if (auto* v = get(name)) {
      warn.push_back(where_of(*v) + ": " + v->name +
                     " is a pyspf-milter option; the policy server ignores it");
    }
  }
  return out;
}

// ---- Per_User (policydspfuser.py, man:policyd-spf.peruser(5)) ------------------------------

const PerUserEntry* SpfSettings::per_user_for(std::string_view recipient) const noexcept {
  for (const auto& e : per_user_entries) {
    if (e.recipient == recipient) return &e;
  }
  return nullptr;
}

const std::vector<std::string_view>& per_user_keys() {
  static const std::vector<std::string_view> kKeys = {
      "HELO_reject", "Mail_From_reject", "PermError_reject", "TempError_Defer",
      "Mail_From_pass_restriction", "HELO_pass_restriction", "Whitelist", "skip_addresses",
      "Domain_Whitelist", "Domain_Whitelist_PTR", "HELO_Whitelist", "No_Mail",
      "Reject_Not_Pass_Domains", "SPF_Enhanced_Status_Codes", "Whitelist_Lookup_Time",
      "Void_Limit", "Reason_Message"};
  return kKeys;
}

std::string per_user_path(const std::string& value, const std::string& file, std::size_t line) {
  std::size_t comma = value.find(',');
  std::string type(trim(std::string_view(value).substr(0, comma)));
  if (comma == std::string::npos || type != "text") {
    throw ConfigError(file, line, "Per_User",
                      "\"" + value + "\": only the type \"text\" is supported (Per_User = "
                      "text,/path/to/file)");
  }
  std::string path(trim(std::string_view(value).substr(comma + 1)));
  if (path.empty()) throw ConfigError(file, line, "Per_User", "no file after \"text,\"");
  return path;
}

namespace {

// Not per-user (anchor-features.md §5.6): accepted in the file, ignored with a warning.
constexpr std::string_view kNotPerUser[] = {"Lookup_Time", "Header_Type", "Hide_Receiver",
                                            "Authserv-Id", "Authserv_Id", "Prospective",
                                            "debugLevel", "Mock", "TestOnly"};

// One Key=Val of a Per_User line onto `s` (same typing as policyd-spf.conf).
void apply_per_user_setting(SpfSettings& s, const Setting& v, std::vector<std::string>& warn) {
  const std::string& k = v.name;
  if (k == "HELO_reject") {
    s.helo_reject = parse_helo_reject(v.value);
    s.helo_reject_text = v.value;
    if (s.helo_reject == HeloReject::Other) {
      warn.push_back(where_of(v) + ": HELO_reject \"" + v.value + "\" is not a known value; HELO "
                     "results are only prepended for this recipient");
    }
  } else if (k == "Mail_From_reject") {
    s.mail_from_reject = parse_mail_from_reject(v.value);
    s.mail_from_reject_text = v.value;
    if (s.mail_from_reject == MailFromReject::Other) {
      warn.push_back(where_of(v) + ": Mail_From_reject \"" + v.value + "\" is not a known value; "
                     "MAIL FROM results are only prepended for this recipient");
    }
  } else if (k == "PermError_reject") {
    s.permerror_reject = v.value == "True";
  } else if (k == "TempError_Defer") {
    s.temperror_defer = v.value == "True";
  } else if (k == "Mail_From_pass_restriction") {
    s.mail_from_pass_restriction = v.value;
  } else if (k == "HELO_pass_restriction") {
    s.helo_pass_restriction = v.value;
  } else if (k == "Whitelist" || k == "skip_addresses") {
    std::vector<std::string> w;
    CidrList l = parse_cidr_list(split_list(v.value), where_of(v), k, w);
    if (l.aborted) bad_value(v, w.front());
    (k == "Whitelist" ? s.whitelist : s.skip_addresses) = std::move(l);
  } else if (k == "Domain_Whitelist") {
    s.domain_whitelist = lower_all(split_list(v.value));
  } else if (k == "Domain_Whitelist_PTR") {
    s.domain_whitelist_ptr = lower_all(split_list(v.value));
  } else if (k == "HELO_Whitelist") {
    s.helo_whitelist = lower_all(split_list(v.value));
  } else if (k == "No_Mail") {
    s.no_mail = v.value == "True";
  } else if (k == "Reject_Not_Pass_Domains") {
    s.reject_not_pass_domains = lower_all(split_list(v.value));
  } else if (k == "SPF_Enhanced_Status_Codes") {
    s.enhanced_status_codes = v.value != "No";
  } else if (k == "Whitelist_Lookup_Time") {
    s.whitelist_lookup_time = std::chrono::seconds(int_setting(v, 1, kMaxLookupSeconds));
  } else if (k == "Void_Limit") {
    s.void_limit = static_cast<std::size_t>(int_setting(v, 0, 1000));
  } else if (k == "Reason_Message") {
    s.reason_message = v.value;
  } else if (k == "defaultSeedOnly") {
    warn.push_back(where_of(v) + ": deprecated option defaultSeedOnly ignored");
  } else if (std::find(std::begin(kNotPerUser), std::end(kNotPerUser), k) !=
             std::end(kNotPerUser)) {
    warn.push_back(where_of(v) + ": " + k + " is not a per-user setting; the global value "
                   "applies");
  } else {
    warn.push_back(where_of(v) + ": unknown name \"" + k + "\" in per user settings ignored");
  }
}

}  // namespace

void apply_per_user_text(SpfSettings& settings, std::string_view text, const std::string& file,
                         std::vector<std::string>& warnings) {
  SpfSettings base = settings;
  base.per_user_entries.clear();
  std::vector<PerUserEntry> entries;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    std::string_view line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    if (line.find('\0') != std::string_view::npos) {
      throw ConfigError(file, line_no, "", "NUL byte in a per-user line");
    }
    std::size_t comma = line.find(',');
    if (comma == std::string_view::npos) {
      throw ConfigError(file, line_no, "",
                        "expected \"recipient@domain,Key=Value|Key=Value...\" (no ',')");
    }
    std::string rcpt = lower(trim(line.substr(0, comma)));
    if (rcpt.empty()) throw ConfigError(file, line_no, "", "no recipient before ','");
    if (entries.size() >= kMaxSpfListEntries) {
      throw ConfigError(file, line_no, "", "more than " + std::to_string(kMaxSpfListEntries) +
                                               " per-user lines");
    }
    auto user = std::make_shared<SpfSettings>(base);
    std::string_view rest = line.substr(comma + 1);
    while (true) {
      std::size_t bar = rest.find('|');
      std::string_view pair = rest.substr(0, bar);
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.find('=', eq + 1) != std::string_view::npos) {
        throw ConfigError(file, line_no, std::string(trim(pair.substr(0, eq))),
                          "\"" + std::string(trim(pair)) +
                              "\" is not Key=Value (exactly one '=' per item)");
      }
      Setting v{std::string(trim(pair.substr(0, eq))), std::string(trim(pair.substr(eq + 1))),
                file, line_no};
      apply_per_user_setting(*user, v, warnings);
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
    bool dup = std::any_of(entries.begin(), entries.end(),
                           [&](const PerUserEntry& e) { return e.recipient == rcpt; });
    if (dup) {
      warnings.push_back(file + ":" + std::to_string(line_no) + ": \"" + rcpt +
                         "\" already has a line above; this one is never used");
      continue;
    }
    entries.push_back(PerUserEntry{std::move(rcpt), line_no, std::move(user)});
  }
  settings.per_user_entries = std::move(entries);
}

SpfConfigLoad parse_policyd_spf_settings(std::string_view text, const std::string& file) {
  return spf_settings_from_policyd(parse_policyd_spf_config(text, file));
}

// ---- inkan.yaml ----------------------------------------------------------------------------

namespace {

struct YamlCtx {
  const std::string& file;
  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& why) const {
    std::size_t line = n.Mark().line >= 0 ? static_cast<std::size_t>(n.Mark().line) + 1 : 0;
    throw ConfigError(file, line, key, why);
  }
  std::string str(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "expected a string");
    return n.Scalar();
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, key, "expected true or false");
    return b;
  }
  long integer(const YAML::Node& n, const std::string& key, long min, long max) const {
    if (!n.IsScalar()) fail(n, key, "expected an integer");
    auto v = python_int(n.Scalar());
    if (!v) fail(n, key, "expected an integer");
    if (*v < min || *v > max) {
      fail(n, key, "out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    return *v;
  }
  // A sequence of strings, or one comma-separated string.
  std::vector<std::string> list(const YAML::Node& n, const std::string& key) const {
    if (n.IsNull()) return {};
    if (n.IsScalar()) return split_list(n.Scalar());
    if (!n.IsSequence()) fail(n, key, "expected a list of strings");
    std::vector<std::string> out;
    for (const auto& item : n) {
      if (out.size() >= kMaxSpfListEntries) fail(n, key, "too many entries");
      out.push_back(std::string(trim(str(item, key))));
    }
    return out;
  }
};

// Accepts the snake_case YAML spelling of an enum value or policyd-spf's own spelling.
std::string canonical_enum(std::string_view v) {
  std::string l = lower(v);
  if (l == "fail") return "Fail";
  if (l == "spf_not_pass") return "SPF_Not_Pass";
  if (l == "spf_required") return "SPF_Required";
  if (l == "softfail") return "Softfail";
  if (l == "null") return "Null";
  if (l == "false" || l == "no" || l == "off") return "False";
  if (l == "no_check") return "No_Check";
  return std::string(v);
}

}  // namespace

SpfConfigLoad parse_spf_yaml(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, e.mark.line >= 0 ? static_cast<std::size_t>(e.mark.line) + 1 : 0,
                      "", "YAML syntax error: " + e.msg);
  }
  SpfConfigLoad out;
  SpfSettings& s = out.settings;
  YamlCtx y{file};
  if (root.IsNull()) return out;
  if (!root.IsMap()) y.fail(root, "", "the top level must be a mapping");
  try {
    if (auto a = root["authserv_id"]; a) {
      std::string v = y.str(a, "authserv_id");
      s.authserv_id = v == "HOSTNAME" ? "" : v;
    }
    if (auto dns = root["dns"]; dns) {
      if (!dns.IsMap()) y.fail(dns, "dns", "expected a mapping");
      if (auto ns = dns["nameservers"]; ns) s.nameservers = y.list(ns, "dns.nameservers");
      if (auto t = dns["timeout"]; t) {
        // Seconds, fractions allowed ("1.5").
        double secs = 0;
        if (!t.IsScalar() || !YAML::convert<double>::decode(t, secs) || secs <= 0 || secs > 600) {
          y.fail(t, "dns.timeout", "expected seconds in (0, 600]");
        }
        s.dns_timeout = std::chrono::milliseconds(static_cast<long>(secs * 1000.0 + 0.5));
      }
    }
    YAML::Node spf = root["spf"];
    if (!spf || spf.IsNull()) return out;
    if (!spf.IsMap()) y.fail(spf, "spf", "expected a mapping");
    for (const auto& kv : spf) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      std::string k = "spf." + key;
      if (key == "debug_level") {
        s.debug_level = static_cast<int>(y.integer(v, k, -1, 100));
      } else if (key == "test_mode") {
        s.test_only = y.boolean(v, k) ? 0 : 1;  // TestOnly is inverted: 0 = test mode
      } else if (key == "helo_reject") {
        s.helo_reject_text = canonical_enum(y.str(v, k));
        s.helo_reject = parse_helo_reject(s.helo_reject_text);
        if (s.helo_reject == HeloReject::Other) y.fail(v, k, "expected fail, spf_not_pass, "
                                                          "softfail, null, false or no_check");
      } else if (key == "mail_from_reject") {
        s.mail_from_reject_text = canonical_enum(y.str(v, k));
        s.mail_from_reject = parse_mail_from_reject(s.mail_from_reject_text);
        if (s.mail_from_reject == MailFromReject::Other) {
          y.fail(v, k, "expected fail, spf_not_pass, spf_required, softfail, false or no_check");
        }
      } else if (key == "permerror_reject") {
        s.permerror_reject = y.boolean(v, k);
      } else if (key == "temperror_defer") {
        s.temperror_defer = y.boolean(v, k);
      } else if (key == "skip_addresses" || key == "whitelist") {
        std::vector<std::string> warn;
        CidrList l = parse_cidr_list(y.list(v, k), file, key, warn);
        if (l.aborted) y.fail(v, k, warn.front());
        (key == "whitelist" ? s.whitelist : s.skip_addresses) = std::move(l);
      } else if (key == "helo_whitelist") {
        s.helo_whitelist = lower_all(y.list(v, k));
      } else if (key == "domain_whitelist") {
        s.domain_whitelist = lower_all(y.list(v, k));
      } else if (key == "domain_whitelist_ptr") {
        s.domain_whitelist_ptr = lower_all(y.list(v, k));
      } else if (key == "reject_not_pass_domains") {
        s.reject_not_pass_domains = lower_all(y.list(v, k));
      } else if (key == "no_mail") {
        s.no_mail = y.boolean(v, k);
      } else if (key == "header_type") {
        std::string h = lower(y.str(v, k));
        if (h == "spf" || h == "received-spf") s.header_type = HeaderType::Spf;
        else if (h == "ar" || h == "authentication-results") s.header_type = HeaderType::AuthenticationResults;
        else if (h == "none") s.header_type = HeaderType::None;
        else y.fail(v, k, "expected spf, ar or none");
      } else if (key == "hide_receiver") {
        s.hide_receiver = y.boolean(v, k);
      } else if (key == "lookup_time") {
        s.lookup_time = std::chrono::seconds(y.integer(v, k, 1, kMaxLookupSeconds));
      } else if (key == "whitelist_lookup_time") {
        s.whitelist_lookup_time = std::chrono::seconds(y.integer(v, k, 1, kMaxLookupSeconds));
      } else if (key == "void_limit") {
        s.void_limit = static_cast<std::size_t>(y.integer(v, k, 0, 1000));
      } else if (key == "enhanced_status_codes") {
        s.enhanced_status_codes = y.boolean(v, k);
      } else if (key == "reason_message") {
        s.reason_message = y.str(v, k);
      } else if (key == "mail_from_pass_restriction") {
        s.mail_from_pass_restriction = y.str(v, k);
      } else if (key == "helo_pass_restriction") {
        s.helo_pass_restriction = y.str(v, k);
      } else if (key == "prospective") {
        s.prospective = y.str(v, k);
        if (!net::parse_ip(s.prospective)) y.fail(v, k, "expected an IP address");
      } else if (key == "per_user") {
        // "text,/path" (policyd-spf spelling) or just the path.
        std::string pv = y.str(v, k);
        std::size_t line = v.Mark().line >= 0 ? static_cast<std::size_t>(v.Mark().line) + 1 : 0;
        s.per_user_file = pv.find(',') == std::string::npos ? pv : per_user_path(pv, file, line);
        if (s.per_user_file.empty()) y.fail(v, k, "expected a file path");
        s.per_user = "text," + s.per_user_file;
      } else if (key == "queue_id") {
        s.queue_id = y.boolean(v, k);
      } else if (key == "mock") {
        s.mock = y.boolean(v, k);
      } else if (key == "socket") {
        s.socket = y.str(v, k);
      } else if (key == "user") {
        s.user = y.str(v, k);
      } else if (key == "pidfile") {
        s.pidfile = y.str(v, k);
      } else if (key == "syslog_facility") {
        s.syslog_facility = y.str(v, k);
      } else {
        y.fail(kv.first, k, "unknown key in the spf: section");
      }
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, e.mark.line >= 0 ? static_cast<std::size_t>(e.mark.line) + 1 : 0,
                      "", e.msg);
  }
  return out;
}

SpfConfigLoad load_spf_settings(const std::string& path) {
  auto ends_with = [&](std::string_view suf) {
    return path.size() >= suf.size() && path.compare(path.size() - suf.size(), suf.size(), suf) == 0;
  };
  bool yaml_name = ends_with(".yaml") || ends_with(".yml");
  auto text = read_file(path);
  if (!text) {
    if (yaml_name) throw ConfigError(path, 0, "", text.error().reason);
    // policydspfsupp: a missing file is logged and the defaults are used.
    SpfConfigLoad out;
    out.warnings.push_back(path + ": cannot read (" + text.error().reason +
                           "); using the built-in defaults");
    return out;
  }
  bool yaml = yaml_name;
  if (!yaml) {
    // First significant line: "key:" or "---" means YAML; "Name = value" means policyd-spf.
    std::string_view t = *text;
    while (!t.empty()) {
      std::size_t nl = t.find('\n');
      std::string_view line = trim(t.substr(0, nl));
      t = nl == std::string_view::npos ? std::string_view{} : t.substr(nl + 1);
      if (line.empty() || line.front() == '#') continue;
      if (line == "---" || line.starts_with("%YAML")) {
        yaml = true;
      } else if (line.find('=') == std::string_view::npos) {
        std::size_t colon = line.find(':');
        yaml = colon != std::string_view::npos &&
               (colon + 1 == line.size() || line[colon + 1] == ' ' || line[colon + 1] == '\t');
      }
      break;
    }
  }
  SpfConfigLoad out = yaml ? parse_spf_yaml(*text, path) : parse_policyd_spf_settings(*text, path);
  if (!out.settings.per_user_file.empty()) {
    const std::string& pu = out.settings.per_user_file;
    auto pu_text = read_file(pu);
    if (!pu_text) throw ConfigError(pu, 0, "Per_User", pu_text.error().reason);
    apply_per_user_text(out.settings, *pu_text, pu, out.warnings);
  }
  return out;
}

}  // namespace auth::config
