// auth::config OpenDBX back end — OpenDKIM's `dsn:` data sets (opendkim(8) "DATA SETS" d),
// opendkim-db.c DKIMF_DB_TYPE_DSN): a SQL table asked for each key through OpenDBX,
//   dsn:backend://[user[:pwd]@][port+]host/dbase/table=T?keycol=K?datacol=V1,V2[?filter=F]
// Every lookup runs `SELECT V1,V2 FROM T WHERE K = '<key escaped by odbx_escape>' [AND F]`, as
// dkimf_db_get does, on one connection serialised by a mutex; a connection the back end reports
// as lost (odbx_error_type < 0) is closed, reopened once and the query retried, as opendkim does.
// libopendbx is opened with dlopen("libopendbx.so.1") by the first open_odbx_dataset (never by a
// daemon without dsn:), and its odbx_* functions are resolved with dlsym; the back end module
// (libsqlite3backend, libpgsqlbackend, ...) is loaded by libopendbx itself.
// Built as its own target (auth::config_odbx) so the pure core has no dl dependency.
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

/// Longest `dsn:` value accepted (local policy; a DSN is one configuration line).
inline constexpr std::size_t kDsnMaxBytes = 4096;
/// Longest single DSN field after =XX decoding: opendkim-db.c keeps each in BUFRSZ (1024)
/// bytes with strlcpy, i.e. 1023 and silently truncates; a longer one is refused here.
inline constexpr std::size_t kDsnMaxFieldBytes = 1023;
/// Longest key looked up: opendkim-db.c escapes into BUFRSZ (1024) bytes, 1023 usable.
inline constexpr std::size_t kDsnMaxKeyBytes = 1023;
/// Longest SQL statement sent: opendkim-db.c formats it into BUFRSZ (1024) bytes and sends
/// the truncated text; a statement that does not fit fails the lookup here instead.
inline constexpr std::size_t kDsnMaxQueryBytes = 1023;
/// Longest column value accepted from the server (local policy: inline PEM keys fit).
inline constexpr std::size_t kDsnMaxValueBytes = 64 * 1024;
/// Most columns taken from one row (local policy; KeyTable needs 3, SigningTable 2).
inline constexpr std::size_t kDsnMaxColumns = 64;

/// A parsed `dsn:` value. Empty strings mean "not given" (opendkim passes NULL for them).
struct DsnSpec {
  std::string backend;   ///< OpenDBX back end: mysql, pgsql, sqlite3, ...
  std::string user;      ///< bind user
  std::string password;  ///< bind password
  std::string port;      ///< port (the part before '+')
  std::string host;      ///< host; for sqlite3 the directory prefix of the file name
  std::string dbase;     ///< database (sqlite3: file name, appended to host)
  std::string table;     ///< table=
  std::string keycol;    ///< keycol=
  std::string datacol;   ///< datacol= (comma-separated column list, as written)
  std::optional<std::string> filter;  ///< filter= (an SQL condition ANDed to the WHERE clause)
  friend bool operator==(const DsnSpec&, const DsnSpec&) = default;
};

/// Parses a DSN the way opendkim-db.c's dkimf_db_open does for DKIMF_DB_TYPE_DSN (`dsn:` prefix
/// optional, case-insensitive): backend up to the first ':', then "//"; in the authority part
/// ':' ends the user, '@' ends the user (or, after ':', the password), '+' ends the port, the
/// first '/' ends the host and the second the database; '?' or a '=' not followed by two hex
/// digits there is an error. The rest is '?'-separated key=value pairs (table, keycol,
/// datacol, filter; names case-insensitive, the last one wins, others ignored).
/// Difference (documented, opendkim.conf(5)): `=XX` quoted-printable escapes are decoded in
/// every value, as the manual promises; opendkim 2.11 decodes them in filter= only, and maps
/// lower-case a-f wrongly (dkimf_db_hexdigit). Errors (ErrorCode::Syntax) name what is wrong:
/// no backend, no "//", a repeated user, no host ("SQL host not defined"), a missing table /
/// keycol / datacol, a value over kDsnMaxFieldBytes, a decoded NUL, a spec over kDsnMaxBytes.
Result<DsnSpec> parse_dsn(std::string_view spec);

/// The data set as shown in logs and errors: the value with the password replaced by "****".
std::string dsn_origin(std::string_view spec);

/// The statement dkimf_db_get sends for an already escaped key:
/// `SELECT <datacol> FROM <table> WHERE <keycol> = '<escaped>'[ AND <filter>]`.
std::string dsn_lookup_query(const DsnSpec& dsn, std::string_view escaped_key);

/// The statement dkimf_db_walk sends: `SELECT <keycol>,<datacol> FROM <table>` (no filter).
std::string dsn_walk_query(const DsnSpec& dsn);

/// Opens a `dsn:` live data set: parses it, loads libopendbx (dlopen, once per process as the
/// loader counts references), connects (odbx_init + odbx_bind, ODBX_BIND_SIMPLE). Fails when
/// the DSN is malformed, libopendbx.so.1 or one of its functions is missing, or the server
/// cannot be reached and options.soft_start is off (with soft_start the first lookup connects).
Result<std::shared_ptr<LiveDataset>> open_odbx_dataset(std::string_view spec, const LiveDatasetOptions& options);

}  // namespace auth::config
