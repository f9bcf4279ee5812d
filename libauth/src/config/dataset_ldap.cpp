// auth::config LDAP live data sets (ldap:, ldaps:, ldapi:), as opendkim-db.c's
// DKIMF_DB_TYPE_LDAP code opens and queries them (dkimf_db_open, dkimf_db_open_ldap,
// dkimf_db_get, dkimf_db_mkldapquery). Debian's opendkim 2.11 is built USE_LDAP + USE_SASL
// without _FFR_LDAP_CACHING, so there is no result cache: every lookup asks the server.
#include "auth/config/dataset_ldap.h"

#include <dlfcn.h>
#include <ldap.h>
#include <sys/time.h>

#include <cstring>
#include <mutex>
#include <type_traits>

#include "auth/config/legacy.h"

namespace auth::config {

namespace {

/* ---------------- pure helpers ---------------- */

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// RFC 4515 §3 (RFC 2254 in opendkim-db.c ISRFC2254CHR): the octets a filter value escapes.
bool is_filter_special(char c) {
  return c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
}

/// `lead` and the octet as two hex digits.
void append_hex_escape(std::string& out, char lead, char c, bool upper) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  const char* hex = upper ? kUpper : kLower;
  const auto u = static_cast<unsigned char>(c);
  out.push_back(lead);
  out.push_back(hex[u >> 4]);
  out.push_back(hex[u & 0x0f]);
}

/// ADDRFC2254CHR: '\' and two lowercase hex digits ("%02x").
void append_filter_escape(std::string& out, char c) { append_hex_escape(out, '\\', c, false); }

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void append_pct(std::string& out, char c) { append_hex_escape(out, '%', c, true); }

std::string url_error_text(int code) {
  switch (code) {
    case LDAP_URL_ERR_MEM: return "out of memory";
    case LDAP_URL_ERR_PARAM: return "bad parameter";
    case LDAP_URL_ERR_BADSCHEME: return "not an LDAP URL scheme";
    case LDAP_URL_ERR_BADENCLOSURE: return "unterminated '<'";
    case LDAP_URL_ERR_BADURL: return "malformed URL (host, port or an extra '?')";
    case LDAP_URL_ERR_BADHOST: return "bad host";
    case LDAP_URL_ERR_BADATTRS: return "bad attribute list";
    case LDAP_URL_ERR_BADSCOPE: return "bad scope (base, one, sub, subordinate)";
    case LDAP_URL_ERR_BADFILTER: return "bad filter";
    case LDAP_URL_ERR_BADEXTS: return "bad extensions";
    default: return "error " + std::to_string(code);
  }
}

/* ---------------- libldap, opened with dlopen ---------------- */

/// The libldap entry points used here, resolved with dlsym. Types come from <ldap.h>, so a
/// prototype change is a compile error, not a crash.
struct LdapApi {
  decltype(&::ldap_initialize) initialize = nullptr;
  decltype(&::ldap_set_option) set_option = nullptr;
  decltype(&::ldap_unbind_ext) unbind_ext = nullptr;
  decltype(&::ldap_err2string) err2string = nullptr;
  decltype(&::ldap_start_tls_s) start_tls_s = nullptr;
  decltype(&::ldap_sasl_bind_s) sasl_bind_s = nullptr;
  decltype(&::ldap_sasl_interactive_bind_s) sasl_interactive_bind_s = nullptr;
  decltype(&::ldap_search_ext_s) search_ext_s = nullptr;
  decltype(&::ldap_first_entry) first_entry = nullptr;
  decltype(&::ldap_get_values_len) get_values_len = nullptr;
  decltype(&::ldap_value_free_len) value_free_len = nullptr;
  decltype(&::ldap_msgfree) msgfree = nullptr;
  decltype(&::ldap_url_parse) url_parse = nullptr;
  decltype(&::ldap_free_urldesc) free_urldesc = nullptr;

  std::string error(int rc) const {
    const char* s = err2string(rc);
    return s != nullptr ? std::string(s) : "LDAP error " + std::to_string(rc);
  }
};

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out) {
  void* p = ::dlsym(handle, name);
  if (p == nullptr) return false;
  static_assert(sizeof(Fn) == sizeof(void*));
  std::memcpy(&out, &p, sizeof out);  // POSIX: dlsym's object pointer is the function's address
  return true;
}

/// Maps libldap (once per process: dlopen counts references, RTLD_NODELETE keeps it mapped)
/// and resolves the entry points. Each caller gets its own table; nothing global is kept here.
Result<std::shared_ptr<const LdapApi>> load_ldap_api() {
  void* h = ::dlopen(kLibldapSoname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (h == nullptr) {
    const char* e = ::dlerror();
    return fail(ErrorCode::Unsupported,
                std::string("LDAP data sets need ") + kLibldapSoname + ": " + (e != nullptr ? e : "dlopen failed"));
  }
  auto api = std::make_shared<LdapApi>();
  const char* missing = nullptr;
  auto need = [&](const char* name, auto& fn) {
    if (missing == nullptr && !resolve(h, name, fn)) missing = name;
  };
  need("ldap_initialize", api->initialize);
  need("ldap_set_option", api->set_option);
  need("ldap_unbind_ext", api->unbind_ext);
  need("ldap_err2string", api->err2string);
  need("ldap_start_tls_s", api->start_tls_s);
  need("ldap_sasl_bind_s", api->sasl_bind_s);
  need("ldap_sasl_interactive_bind_s", api->sasl_interactive_bind_s);
  need("ldap_search_ext_s", api->search_ext_s);
  need("ldap_first_entry", api->first_entry);
  need("ldap_get_values_len", api->get_values_len);
  need("ldap_value_free_len", api->value_free_len);
  need("ldap_msgfree", api->msgfree);
  need("ldap_url_parse", api->url_parse);
  need("ldap_free_urldesc", api->free_urldesc);
  if (missing != nullptr) {
    return fail(ErrorCode::Unsupported, std::string(kLibldapSoname) + " lacks " + missing);
  }
  return std::shared_ptr<const LdapApi>(std::move(api));
}

Result<LdapUrl> parse_with(const LdapApi& api, std::string_view url) {
  if (url.size() > kMaxLdapSpecBytes) return fail(ErrorCode::LimitExceeded, "LDAP URL too long");
  if (url.find('\0') != std::string_view::npos) return fail(ErrorCode::Syntax, "NUL byte in LDAP URL");
  const std::string copy(url);
  LDAPURLDesc* d = nullptr;
  const int rc = api.url_parse(copy.c_str(), &d);
  if (rc != LDAP_URL_SUCCESS || d == nullptr) {
    if (d != nullptr) api.free_urldesc(d);
    return fail(ErrorCode::Syntax, "bad LDAP URL \"" + copy + "\": " + url_error_text(rc));
  }
  LdapUrl u;
  u.scheme = d->lud_scheme != nullptr ? d->lud_scheme : "";
  if (d->lud_host != nullptr && d->lud_host[0] != '\0') u.host = d->lud_host;
  u.port = d->lud_port;
  u.dn = d->lud_dn != nullptr ? d->lud_dn : "";
  for (char** a = d->lud_attrs; a != nullptr && *a != nullptr; ++a) u.attributes.emplace_back(*a);
  switch (d->lud_scope) {
    case LDAP_SCOPE_ONELEVEL: u.scope = LdapScope::OneLevel; break;
    case LDAP_SCOPE_SUBTREE: u.scope = LdapScope::Subtree; break;
    case LDAP_SCOPE_SUBORDINATE: u.scope = LdapScope::Subordinate; break;
    default: u.scope = LdapScope::Base; break;  // RFC 4516 §2: base when absent
  }
  if (d->lud_filter != nullptr) u.filter = d->lud_filter;
  for (char** e = d->lud_exts; e != nullptr && *e != nullptr; ++e) u.extensions.emplace_back(*e);
  api.free_urldesc(d);
  return u;
}

/* ---------------- SASL interaction ---------------- */

// Cyrus SASL's sasl_interact_t and callback ids (<sasl/sasl.h>, a stable ABI since SASL 2.0);
// declared here so building needs no libsasl2-dev.
struct SaslInteract {
  unsigned long id;
  const char* challenge;
  const char* prompt;
  const char* defresult;
  const void* result;
  unsigned len;
};
constexpr unsigned long kSaslCbListEnd = 0;
constexpr unsigned long kSaslCbUser = 0x4001;
constexpr unsigned long kSaslCbAuthName = 0x4002;
constexpr unsigned long kSaslCbPass = 0x4004;
constexpr unsigned long kSaslCbGetRealm = 0x4008;
constexpr int kSaslOk = 0;
/// Bound on the prompts of one interaction (local policy; mechanisms ask for at most four).
constexpr int kMaxSaslPrompts = 16;

/// dkimf_db_saslinteract: LDAPBindPassword for the password, LDAPAuthRealm, LDAPAuthName,
/// LDAPAuthUser; "" for anything else. OpenDKIM answers only the first prompt of the list
/// (and crashes on an unset password); this answers each prompt up to SASL_CB_LIST_END.
int sasl_interact(LDAP* /*ld*/, unsigned /*flags*/, void* defaults, void* prompts) {
  const auto* opts = static_cast<const LiveDatasetOptions*>(defaults);
  auto* in = static_cast<SaslInteract*>(prompts);
  for (int i = 0; in != nullptr && opts != nullptr && i < kMaxSaslPrompts && in->id != kSaslCbListEnd; ++i, ++in) {
    const std::string* value = nullptr;
    switch (in->id) {
      case kSaslCbPass: value = &opts->ldap_bind_password; break;
      case kSaslCbGetRealm: value = &opts->ldap_auth_realm; break;
      case kSaslCbAuthName: value = &opts->ldap_auth_name; break;
      case kSaslCbUser: value = &opts->ldap_auth_user; break;
      default: break;
    }
    in->result = value != nullptr ? value->c_str() : "";
    in->len = value != nullptr ? static_cast<unsigned>(value->size()) : 0U;
  }
  return kSaslOk;
}

/* ---------------- the data set ---------------- */

class LdapDataset final : public LiveDataset {
 public:
  LdapDataset(std::shared_ptr<const LdapApi> api, LdapUrl url, std::string servers, std::string origin,
              const LiveDatasetOptions& options)
      : api_(std::move(api)), url_(std::move(url)), servers_(std::move(servers)), origin_(std::move(origin)),
        options_(options) {
    for (const auto& a : url_.attributes) attr_ptrs_.push_back(const_cast<char*>(a.c_str()));
    attr_ptrs_.push_back(nullptr);
  }
  LdapDataset(const LdapDataset&) = delete;
  LdapDataset& operator=(const LdapDataset&) = delete;
  ~LdapDataset() override {
    if (ld_ != nullptr) api_->unbind_ext(ld_, nullptr, nullptr);
  }

  /// dkimf_db_open_ldap: a new handle, set up and bound; LDAP_SUCCESS or libldap's code.
  int connect() {
    std::lock_guard<std::mutex> lock(mu_);
    return connect_locked();
  }

  Result<std::optional<LiveValues>> lookup(std::string_view key) override;
  const std::string& origin() const noexcept override { return origin_; }
  /// dkimf_db_get returns the LDAP result code: the code whose ldap_err2string text is the
  /// error's reason (API codes down to -20, result codes up to 123; RFC 4511 §4.1.9).
  int lookup_status(const Error& e) const override {
    constexpr int kLowestApiCode = -20;
    constexpr int kHighestResultCode = 123;
    for (int rc = kLowestApiCode; rc <= kHighestResultCode; ++rc) {
      if (rc != LDAP_SUCCESS && api_->error(rc) == e.reason) return rc;
    }
    return -1;
  }

 private:
  int connect_locked();

  std::shared_ptr<const LdapApi> api_;
  const LdapUrl url_;
  const std::string servers_;
  const std::string origin_;
  const LiveDatasetOptions options_;
  std::vector<char*> attr_ptrs_;
  std::mutex mu_;
  LDAP* ld_ = nullptr;  // guarded by mu_; nullptr: connect at the next lookup
};

int LdapDataset::connect_locked() {
  if (ld_ != nullptr) {
    api_->unbind_ext(ld_, nullptr, nullptr);
    ld_ = nullptr;
  }
  LDAP* ld = nullptr;
  int rc = api_->initialize(&ld, servers_.c_str());
  if (rc != LDAP_SUCCESS) return rc;
  auto bail = [&](int code) {
    api_->unbind_ext(ld, nullptr, nullptr);
    return code;
  };

  int version = LDAP_VERSION3;
  if ((rc = api_->set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)) != LDAP_OPT_SUCCESS) return bail(rc);
  // LDAP_OPT_ON is the address of liblber's ber_pvt_opt_on; naming it would link liblber at
  // start-up. libldap only tests the pointer against LDAP_OPT_OFF (NULL).
  int on = 1;
  if ((rc = api_->set_option(ld, LDAP_OPT_RESTART, &on)) != LDAP_OPT_SUCCESS) return bail(rc);

  // LDAPTimeout bounds every synchronous operation (LDAP_OPT_TIMEOUT, as OpenDKIM). OpenDKIM
  // leaves connect() to the kernel's TCP timeout; opendkim.conf(5) promises the operation is
  // abandoned after LDAPTimeout seconds, so the connect gets the same bound.
  timeval tv{};
  tv.tv_sec = options_.ldap_timeout >= 0 ? options_.ldap_timeout : kLdapDefaultTimeoutSeconds;
  if ((rc = api_->set_option(ld, LDAP_OPT_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS) return bail(rc);
  if (tv.tv_sec > 0 && (rc = api_->set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)) != LDAP_OPT_SUCCESS) {
    return bail(rc);
  }

  // LDAPKeepalive*: only when configured (the library default otherwise).
  struct Keepalive {
    int option;
    int value;
  };
  for (const Keepalive& k : {Keepalive{LDAP_OPT_X_KEEPALIVE_IDLE, options_.ldap_keepalive_idle},
                             Keepalive{LDAP_OPT_X_KEEPALIVE_PROBES, options_.ldap_keepalive_probes},
                             Keepalive{LDAP_OPT_X_KEEPALIVE_INTERVAL, options_.ldap_keepalive_interval}}) {
    if (k.value < 0) continue;
    int n = k.value;
    if ((rc = api_->set_option(ld, k.option, &n)) != LDAP_OPT_SUCCESS) return bail(rc);
  }

  // LDAPUseTLS: StartTLS, except on ldaps (already TLS) and ldapi (a local socket).
  if (options_.ldap_use_tls && !iequals(url_.scheme, "ldaps") && !iequals(url_.scheme, "ldapi")) {
    if ((rc = api_->start_tls_s(ld, nullptr, nullptr)) != LDAP_SUCCESS) return bail(rc);
  }

  // Bind. opendkim.conf(5): an empty LDAPAuthMechanism means a simple bind. OpenDKIM also
  // takes "none" and "simple" for one but then hands that word to libldap as a SASL
  // mechanism, which fails; inkan does the simple bind the documentation describes.
  const std::string& mech = options_.ldap_auth_mechanism;
  const char* who = options_.ldap_bind_user.empty() ? nullptr : options_.ldap_bind_user.c_str();
  if (mech.empty() || iequals(mech, "none") || iequals(mech, "simple")) {
    berval pw{};
    if (!options_.ldap_bind_password.empty()) {
      pw.bv_val = const_cast<char*>(options_.ldap_bind_password.c_str());
      pw.bv_len = options_.ldap_bind_password.size();
    }
    rc = api_->sasl_bind_s(ld, who, nullptr /* LDAP_SASL_SIMPLE */, &pw, nullptr, nullptr, nullptr);
  } else {
    rc = api_->sasl_interactive_bind_s(ld, who, mech.c_str(), nullptr, nullptr, LDAP_SASL_QUIET, &sasl_interact,
                                       const_cast<LiveDatasetOptions*>(&options_));
  }
  if (rc != LDAP_SUCCESS) return bail(rc);
  ld_ = ld;
  return LDAP_SUCCESS;
}

Result<std::optional<LiveValues>> LdapDataset::lookup(std::string_view key) {
  auto base = expand_ldap_template(url_.dn, key);
  if (!base) return fail(base.error());
  // dkimf_db_get sends "" when the URL has no filter, which libldap encodes as a filter the
  // server rejects ("Protocol error") at every lookup. opendkim(8) calls the filter optional
  // in an RFC 4516 URL, whose default filter is "(objectClass=*)" (§2): inkan sends that.
  std::string filter = "(objectClass=*)";
  if (url_.filter) {
    auto f = expand_ldap_template(*url_.filter, key);
    if (!f) return fail(f.error());
    filter = std::move(*f);
  }

  std::lock_guard<std::mutex> lock(mu_);
  // At most two rounds: dkimf_db_get retries once on a new connection when the server went
  // away (LDAP_SERVER_DOWN) or the client timed out (LDAP_TIMEOUT).
  for (int round = 0;; ++round) {
    if (ld_ == nullptr) {
      const int rc = connect_locked();
      if (rc != LDAP_SUCCESS) return fail(ErrorCode::Io, api_->error(rc));
    }
    timeval tv{};
    tv.tv_sec = options_.ldap_timeout >= 0 ? options_.ldap_timeout : kLdapDefaultTimeoutSeconds;
    LDAPMessage* result = nullptr;
    const int rc = api_->search_ext_s(ld_, base->c_str(), static_cast<int>(url_.scope), filter.c_str(),
                                      url_.attributes.empty() ? nullptr : attr_ptrs_.data(), 0, nullptr, nullptr,
                                      &tv, 0, &result);
    struct Free {
      const LdapApi& api;
      LDAPMessage* m;
      ~Free() {
        if (m != nullptr) api.msgfree(m);
      }
    } guard{*api_, result};

    if (LDAP_NAME_ERROR(rc)) return std::optional<LiveValues>{};
    if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) {
      api_->unbind_ext(ld_, nullptr, nullptr);
      ld_ = nullptr;
      if (round == 0) continue;
      return fail(ErrorCode::Io, api_->error(rc));
    }
    if (rc != LDAP_SUCCESS) return fail(ErrorCode::Io, api_->error(rc));

    LDAPMessage* e = result != nullptr ? api_->first_entry(ld_, result) : nullptr;
    if (e == nullptr) return std::optional<LiveValues>{};
    LiveValues values;
    values.reserve(url_.attributes.size());
    for (std::size_t i = 0; i < url_.attributes.size(); ++i) {
      berval** vals = api_->get_values_len(ld_, e, attr_ptrs_[i]);
      if (vals != nullptr && vals[0] != nullptr) {
        values.emplace_back(vals[0]->bv_val, vals[0]->bv_len);
      } else {
        values.emplace_back();
      }
      if (vals != nullptr) api_->value_free_len(vals);
    }
    return std::optional<LiveValues>{std::move(values)};
  }
}

}  // namespace

/* ---------------- public pure functions ---------------- */

bool is_ldap_dataset_spec(std::string_view spec) noexcept {
  return istarts_with(spec, "ldap:") || istarts_with(spec, "ldaps:") || istarts_with(spec, "ldapi:");
}

bool is_ldap_url(std::string_view url) noexcept {
  // libldap url.c skip_url_prefix.
  if (!url.empty() && url.front() == '<') url.remove_prefix(1);
  if (istarts_with(url, "URL:")) url.remove_prefix(4);
  for (std::string_view p : {"ldap://", "pldap://", "ldaps://", "pldaps://", "ldapi://"}) {
    if (istarts_with(url, p)) return true;
  }
  return false;
}

Result<std::vector<std::string>> split_ldap_urls(std::string_view spec) {
  if (spec.size() > kMaxLdapSpecBytes) {
    return fail(ErrorCode::LimitExceeded, "LDAP data set longer than " + std::to_string(kMaxLdapSpecBytes) + " bytes");
  }
  std::vector<std::string> urls;
  std::size_t i = 0;
  while (i < spec.size()) {
    // strtok_r(p, " \t"): runs of blanks separate, empty words do not exist.
    while (i < spec.size() && (spec[i] == ' ' || spec[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < spec.size() && spec[i] != ' ' && spec[i] != '\t') ++i;
    if (start == i) break;
    std::string_view word = spec.substr(start, i - start);
    for (char c : word) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return fail(ErrorCode::Syntax, "control character in LDAP data set");
    }
    if (!is_ldap_url(word)) {
      return fail(ErrorCode::Syntax, "Invalid argument: \"" + std::string(word.substr(0, 100)) + "\" is not an LDAP URL");
    }
    if (urls.size() < kMaxLdapUris) urls.emplace_back(word);
  }
  if (urls.empty()) return fail(ErrorCode::Syntax, "empty LDAP data set");
  return urls;
}

Result<std::string> expand_ldap_template(std::string_view tmpl, std::string_view key) {
  std::string out;
  const auto too_long = [] {
    return fail(ErrorCode::LimitExceeded,
                "LDAP query longer than " + std::to_string(kMaxLdapQueryBytes) + " bytes after $d/$D expansion");
  };
  char last = '\0';
  for (char c : tmpl) {
    if (last == '$') {
      if (c == 'd') {
        for (char k : key) {
          if (is_filter_special(k)) append_filter_escape(out, k);
          else out.push_back(k);
          if (out.size() > kMaxLdapQueryBytes) return too_long();
        }
      } else if (c == 'D') {
        for (std::size_t j = 0; j < key.size(); ++j) {
          if (j == 0) out += "dc=";
          const char k = key[j];
          if (k == '.') out += ",dc=";
          else if (is_filter_special(k)) append_filter_escape(out, k);
          else out.push_back(k);
          if (out.size() > kMaxLdapQueryBytes) return too_long();
        }
      }
      // Any other character after '$': nothing reaches the query (see the header).
    } else if (c != '$') {
      out.push_back(c);
      if (out.size() > kMaxLdapQueryBytes) return too_long();
    }
    last = c;
  }
  return out;
}

std::string format_ldap_server(const LdapUrl& url) {
  std::string out = url.scheme + "://";
  const std::string host = url.host.value_or("");
  if (iequals(url.scheme, "ldapi")) {
    for (char c : host) {
      if (is_unreserved(c)) out.push_back(c);
      else append_pct(out, c);
    }
    return out;
  }
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  for (char c : host) {
    if (is_unreserved(c) || (v6 && c == ':')) out.push_back(c);
    else append_pct(out, c);
  }
  if (v6) out.push_back(']');
  out += ':' + std::to_string(url.port);
  return out;
}

std::string mask_ldap_spec(std::string_view spec) {
  std::string out;
  out.reserve(spec.size());
  std::size_t i = 0;
  while (i < spec.size()) {
    if (spec[i] == ' ' || spec[i] == '\t') {
      out.push_back(spec[i++]);
      continue;
    }
    const std::size_t start = i;
    while (i < spec.size() && spec[i] != ' ' && spec[i] != '\t') ++i;
    std::string_view word = spec.substr(start, i - start);
    // Extensions follow the fourth '?' (RFC 4516 §2): "name=value" items separated by ','.
    std::size_t q = 0;
    int marks = 0;
    while (marks < 4 && (q = word.find('?', q)) != std::string_view::npos) {
      ++marks;
      ++q;
    }
    if (marks < 4) {
      out.append(word);
      continue;
    }
    out.append(word.substr(0, q));
    std::string_view exts = word.substr(q);
    bool first = true;
    while (true) {
      const std::size_t comma = exts.find(',');
      std::string_view item = exts.substr(0, comma);
      if (!first) out.push_back(',');
      first = false;
      std::string_view name = item.substr(0, item.find('='));
      if (!name.empty() && name.front() == '!') name.remove_prefix(1);
      if (item.find('=') != std::string_view::npos &&
          (iequals(name, "bindpw") || iequals(name, "x-bindpw") || iequals(name, "password"))) {
        out.append(item.substr(0, item.find('=') + 1));
        out.append("****");
      } else {
        out.append(item);
      }
      if (comma == std::string_view::npos) break;
      exts.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool libldap_is_loaded() noexcept {
  void* h = ::dlopen(kLibldapSoname, RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return false;
  ::dlclose(h);  // drops only the reference RTLD_NOLOAD added
  return true;
}

Result<LdapUrl> parse_ldap_url(std::string_view url) {
  auto api = load_ldap_api();
  if (!api) return fail(api.error());
  return parse_with(**api, url);
}

Result<std::shared_ptr<LiveDataset>> open_ldap_dataset(std::string_view spec, const LiveDatasetOptions& options) {
  if (!is_ldap_dataset_spec(spec)) return fail(ErrorCode::Syntax, "not an LDAP data set (ldap:, ldaps:, ldapi:)");
  auto words = split_ldap_urls(spec);
  if (!words) return fail(words.error());
  auto api = load_ldap_api();
  if (!api) return fail(api.error());

  // Base DN, attributes, scope and filter from the first URL; the servers of all of them.
  std::optional<LdapUrl> first;
  std::string servers;
  for (const auto& w : *words) {
    auto u = parse_with(**api, w);
    if (!u) return fail(u.error());
    if (!servers.empty()) servers.push_back(' ');
    servers += format_ldap_server(*u);
    if (servers.size() > kMaxLdapUriListBytes) return fail(ErrorCode::LimitExceeded, "LDAP URI too large");
    if (!first) first = std::move(*u);
  }

  auto ds = std::make_shared<LdapDataset>(*api, std::move(*first), std::move(servers), mask_ldap_spec(spec), options);
  const int rc = ds->connect();
  if (rc != LDAP_SUCCESS && !options.soft_start) return fail(ErrorCode::Io, (*api)->error(rc));
  // SoftStart: no connection yet; each lookup tries again (DKIMF_DB_FLAG_SOFTSTART).
  return std::shared_ptr<LiveDataset>(std::move(ds));
}

}  // namespace auth::config
