// auth::config live data sets — OpenDKIM data sets answered by a server at every lookup, as
// opendkim-db.c's dkimf_db_get does for them (opendkim(8) "DATA SETS"; anchor-features.md §2.3):
//   `dsn:backend://[user[:pwd]@][port+]host/dbase/table=T?keycol=K?datacol=V1,V2[?filter=F]`
//        SQL through OpenDBX (DKIMF_DB_TYPE_DSN)
//   `ldap://…`, `ldaps://…`, `ldapi://…`   LDAP URLs (DKIMF_DB_TYPE_LDAP), `$d`/`$D` in the filter
// Unlike file:, refile:, csl: and db: data sets (auth/config/dataset.h), which are snapshots read
// at (re)load, a live data set keeps a connection and asks the server for each key, so a row a
// hoster adds is used by the next message without a reload. The client libraries (libopendbx,
// libldap) are opened with dlopen only when such a data set is configured, so a daemon without
// one maps neither (nor their dependencies). This header is the contract between the back ends
// (auth::config_odbx, auth::config_ldap) and the configuration loaders / daemons.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/core/result.h"

namespace auth::config {

/// The values a live data set returns for one key, in the order the data set names them: the
/// `datacol=` columns of a dsn:, the attributes of an LDAP URL (first value of each). The
/// consumer maps value i to requested field i, as dkimf_db_get does for DSN and LDAP: values
/// are never split at ':' (dkimf_db_datasplit is only used for file-like back ends), a missing
/// or NULL value is an empty field (a KeyTable in SQL needs datacol=domain,selector,key).
using LiveValues = std::vector<std::string>;
/// One row of a walk: the key and its values.
using LiveRow = std::pair<std::string, LiveValues>;

/// Settings a live data set is opened with (opendkim.conf(5) keywords; inkan.yaml `dkim:` keys).
struct LiveDatasetOptions {
  /// SoftStart: start even when the server cannot be reached; connect again at the first lookup.
  bool soft_start = false;
  /// LDAP* keywords (opendkim.conf(5)); empty strings / negative numbers mean "not set".
  std::string ldap_auth_mechanism;  ///< LDAPAuthMechanism: SASL mechanism, or simple bind when empty
  std::string ldap_auth_name;       ///< LDAPAuthName: SASL authentication name
  std::string ldap_auth_realm;      ///< LDAPAuthRealm
  std::string ldap_auth_user;       ///< LDAPAuthUser: SASL authorisation user
  std::string ldap_bind_user;       ///< LDAPBindUser: DN for a simple bind
  std::string ldap_bind_password;   ///< LDAPBindPassword
  bool ldap_use_tls = false;        ///< LDAPUseTLS: StartTLS on ldap:// URLs
  bool ldap_disable_cache = false;  ///< LDAPDisableCache
  int ldap_timeout = 5;             ///< LDAPTimeout seconds (opendkim's default)
  int ldap_keepalive_idle = -1;     ///< LDAPKeepaliveIdle
  int ldap_keepalive_interval = -1; ///< LDAPKeepaliveInterval
  int ldap_keepalive_probes = -1;   ///< LDAPKeepaliveProbes
  friend bool operator==(const LiveDatasetOptions&, const LiveDatasetOptions&) = default;
};

/// One open live data set. Implementations are thread-safe: a milter asks from several message
/// threads at once (serialising on one connection, or a small pool, is fine).
class LiveDataset {
 public:
  virtual ~LiveDataset() = default;
  /// Asks the server for `key`. nullopt: no such key. An error (server down, timeout, bad
  /// query) carries a reason naming the back end and the server's message; the caller turns it
  /// into OpenDKIM's reaction (a lookup failure, i.e. tempfail / On-InternalError) and a log line.
  virtual Result<std::optional<LiveValues>> lookup(std::string_view key) = 0;
  /// The status opendkim's dkimf_db_get returns for a failed lookup whose error is `e` (what
  /// `opendkim -Q` prints: `dkimf_db_get() returned <status>: "<message>"`): -1 for SQL
  /// (OpenDBX), the LDAP result code for LDAP. The default is -1.
  virtual int lookup_status(const Error& e) const {
    (void)e;
    return -1;
  }
  /// The data set as configured, any password replaced by "****" (for log lines and errors).
  virtual const std::string& origin() const noexcept = 0;
  /// Every row (dkimf_db_walk), at most `max_rows`: opendkim walks the SigningTable at start-up
  /// to check that each key name it refers to is in the KeyTable. Back ends that cannot walk
  /// answer ErrorCode::Unsupported and the check is skipped.
  virtual Result<std::vector<LiveRow>> walk(std::size_t max_rows) {
    (void)max_rows;
    return fail(ErrorCode::Unsupported, origin() + ": this data set cannot be listed");
  }
};

/// Opens a live data set from its configuration value (the whole `dsn:…` / `ldap…://…` string).
/// Fails with a reason naming what is wrong (syntax, library missing, server unreachable and no
/// SoftStart); the configuration loader adds the option name.
using LiveDatasetOpener =
    std::function<Result<std::shared_ptr<LiveDataset>>(std::string_view spec, const LiveDatasetOptions& options)>;

}  // namespace auth::config
