// auth::config LDAP live data sets — OpenDKIM's `ldap:`, `ldaps:` and `ldapi:` data sets
// (opendkim-db.c DKIMF_DB_TYPE_LDAP; opendkim(8) "DATA SETS"; opendkim.conf(5) LDAP*;
// LDAP URLs RFC 4516, search filters RFC 4515).
//
// A data set value is one or more blank-separated LDAP URLs
//   ldap://host[:port]/base?attr1,attr2?scope?filter   (scheme ldap, ldaps, ldapi)
// The servers of all URLs (at most kMaxLdapUris) form the list libldap tries in order; base DN,
// attributes, scope and filter come from the first URL. At each lookup `$d` in the base DN and
// the filter is replaced by the key (RFC 4515 §3 escapes for `*`, `(`, `)`, `\`, NUL) and `$D` by
// the key as `dc=` components ("example.org" -> "dc=example,dc=org"). The first entry found
// answers; each attribute gives its first value.
//
// Built as its own target (auth::config_ldap) which does NOT link libldap: libldap-2.5.so.0 is
// opened with dlopen at the first LDAP data set (or parse_ldap_url call), so a daemon without
// one maps neither libldap nor its gnutls/sasl dependencies. Users test
// `if(TARGET auth::config_ldap)` and define INKAN_HAVE_LDAP=1.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/live_dataset.h"
#include "auth/core/result.h"

namespace auth::config {

/// opendkim-db.c DKIMF_LDAP_MAXURIS: only the first 8 URLs of a data set are used (the others
/// are checked to be LDAP URLs, then ignored, as OpenDKIM does).
inline constexpr std::size_t kMaxLdapUris = 8;
/// opendkim-db.c ldap_urilist[BUFRSZ]: the server list handed to ldap_initialize stays below
/// 1024 bytes ("LDAP URI too large").
inline constexpr std::size_t kMaxLdapUriListBytes = 1023;
/// opendkim-db.c query[BUFRSZ] / filter[BUFRSZ]: an expanded base DN or filter longer than this
/// fails the lookup (OpenDKIM truncates silently and sends an unterminated buffer).
inline constexpr std::size_t kMaxLdapQueryBytes = 1023;
/// opendkim-db.c DKIMF_LDAP_DEFTIMEOUT: LDAPTimeout's default, in seconds.
inline constexpr int kLdapDefaultTimeoutSeconds = 5;
/// A data set value longer than this is refused (local policy, not OpenDKIM: bounds the work a
/// hostile configuration line can cause).
inline constexpr std::size_t kMaxLdapSpecBytes = 16 * 1024;
/// The shared object opened with dlopen (Debian 12: libldap-2.5-0).
inline constexpr const char* kLibldapSoname = "libldap-2.5.so.0";

/// Search scope of an LDAP URL (RFC 4516 §2; values are libldap's LDAP_SCOPE_*).
enum class LdapScope { Base = 0, OneLevel = 1, Subtree = 2, Subordinate = 3 };

/// One LDAP URL as libldap's ldap_url_parse returns it (percent-escapes decoded).
struct LdapUrl {
  std::string scheme;                  ///< "ldap", "ldaps", "ldapi", "pldap" or "pldaps"
  std::optional<std::string> host;     ///< nullopt: empty host (libldap's default host / socket)
  int port = 0;                        ///< 389 / 636 when not given; 0 for ldapi
  std::string dn;                      ///< base DN template ("" when absent)
  std::vector<std::string> attributes; ///< empty: the URL names none
  LdapScope scope = LdapScope::Base;   ///< RFC 4516: base when absent
  std::optional<std::string> filter;   ///< filter template; nullopt: none ("(objectClass=*)" is sent)
  std::vector<std::string> extensions;
  friend bool operator==(const LdapUrl&, const LdapUrl&) = default;
};

/// True if `spec` names an LDAP data set: it starts with "ldap:", "ldaps:" or "ldapi:"
/// (case-insensitive, opendkim-db.c dbtypes[]).
bool is_ldap_dataset_spec(std::string_view spec) noexcept;

/// True if `url` starts like an LDAP URL as libldap's ldap_is_ldap_url decides: an optional
/// '<', an optional "URL:", then ldap://, ldaps://, ldapi://, pldap:// or pldaps://
/// (case-insensitive). Pure.
bool is_ldap_url(std::string_view url) noexcept;

/// Splits a data set value at blanks and tabs into its URLs, as opendkim-db.c does, and keeps
/// the first kMaxLdapUris. Fails (Syntax) when a word is not an LDAP URL, the value is empty,
/// holds a NUL or a control character, or is longer than kMaxLdapSpecBytes (LimitExceeded). Pure.
Result<std::vector<std::string>> split_ldap_urls(std::string_view spec);

/// Expands OpenDKIM's `$d` / `$D` in a base DN or filter template for `key`
/// (opendkim-db.c dkimf_db_mkldapquery): `$d` is the key with `*`, `(`, `)`, `\` and NUL written
/// as `\2a`, `\28`, `\29`, `\5c`, `\00` (RFC 4515 §3); `$D` is "dc=" + the key with every '.'
/// written as ",dc=" and the same escapes. Any other character after '$' is dropped with the
/// '$' (the state machine looks at the previous template character, so "$$d" expands like
/// "$d"). OpenDKIM also writes that character into the caller's key buffer, corrupting later
/// `$d` expansions; inkan does not. Fails (LimitExceeded) when the result would be longer
/// than kMaxLdapQueryBytes. Pure.
Result<std::string> expand_ldap_template(std::string_view tmpl, std::string_view key);

/// The server address ldap_initialize gets for one URL: "scheme://host:port" (IPv6 hosts in
/// brackets, other characters than letters, digits and "-._~" percent-escaped), and for
/// ldapi "ldapi://" + the escaped socket path. OpenDKIM writes "ldapi://PATH:0" (which libldap
/// reads as the default socket) and "(null)" for an empty host; inkan follows RFC 4516 and
/// the documentation instead: the named socket / libldap's default host. Pure.
std::string format_ldap_server(const LdapUrl& url);

/// The data set value for logs: values of bindpw / x-bindpw URL extensions replaced by "****".
/// Pure.
std::string mask_ldap_spec(std::string_view spec);

/// Parses one LDAP URL with libldap's ldap_url_parse (loading libldap with dlopen if needed).
/// Fails: Unsupported when libldap cannot be loaded; Syntax when the URL is malformed (bad
/// scheme, host, port, attributes, scope, filter or extensions) or holds a NUL byte.
Result<LdapUrl> parse_ldap_url(std::string_view url);

/// True once libldap has been mapped into this process (for tests of the lazy loading).
bool libldap_is_loaded() noexcept;

/// Opens an LDAP data set (`spec` is the whole configuration value, "ldap://…"). Connects and
/// binds at once (simple bind with LDAPBindUser/LDAPBindPassword, or SASL with
/// LDAPAuthMechanism and LDAPAuthName/Realm/User through libldap's interactive bind; StartTLS
/// when LDAPUseTLS and the first URL is not ldaps/ldapi). Fails: Syntax for a bad value,
/// Unsupported when libldap cannot be loaded, Io with libldap's message (ldap_err2string, e.g.
/// "Can't contact LDAP server", "Invalid credentials") when the server cannot be reached or
/// refuses the bind — unless options.soft_start, in which case the connection is retried at
/// each lookup.
///
/// lookup(): nullopt when the search finds no entry or reports a name error (noSuchObject and
/// the other LDAP_NAME_ERROR codes); the values of the URL's attributes (first value each, ""
/// for an attribute the entry lacks) otherwise. A lost connection or a client timeout is
/// retried once on a new connection; every other failure is an Io error whose reason is
/// ldap_err2string's text. Lookups are serialised on one connection.
Result<std::shared_ptr<LiveDataset>> open_ldap_dataset(std::string_view spec, const LiveDatasetOptions& options);

}  // namespace auth::config
