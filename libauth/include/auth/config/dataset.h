// auth::config datasets — OpenDKIM's "data sets" (KeyTable, SigningTable, InternalHosts, header
// lists ...) read the way opendkim-db.c reads them (anchor-features.md §2.3):
//   `file:/path` or `/path`  flat file: key = text up to the first whitespace, value = the rest
//   `refile:/path`           glob patterns (`*` → `.*`, `.` and `+` literal, other ERE
//                            metacharacters pass through), anchored, tried in file order
//   `csl:a,b,c` or any other value without a known `type:` prefix: comma-separated list;
//                            `x=y` elements are key/value pairs
//   `db:/path`, or a value without a `type:` prefix that ends in ".db": a Berkeley DB (hash or
//                            btree) read once through an injected DatabaseReader (DatasetReaders;
//                            the libdb reader lives in auth::config_bdb, outside the pure core)
// `#` starts a comment anywhere, lines are trimmed, a key without a value is a member-only entry.
// Every data set is a snapshot in memory: lookups never touch the file again, and a reload that
// fails to read one keeps the running configuration. The options OpenDKIM asks per message
// (KeyTable, SigningTable, InternalHosts, ExternalIgnoreList, PeerList, MTA, Domain,
// DontSignMailTo, ExemptDomains, BodyLengthDB, ReplaceHeaders, RemoveARFrom) may also be live
// data sets (dsn:, ldap:, ldaps:, ldapi:; live_dataset.h) opened through an injected
// LiveDatasetOpener and asked per message; the header lists OpenDKIM reads once
// (dkimf_db_mkarray) get an empty list from them, with a warning, as in OpenDKIM. Every other
// use of those (MacroList, TestDNSData), the other database back-ends (lua:, memcache:, erlang:,
// mdb:), and db: when no DatabaseReader was injected, are refused at start-up with a clear
// error naming the option rather than silently ignored.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/config/legacy.h"
#include "auth/config/live_dataset.h"

namespace auth::config {

/// opendkim-db.c reads flat files with fgets into BUFRSZ (1024) bytes; we accept longer
/// lines (inline keys) up to this bound.
inline constexpr std::size_t kMaxDatasetLineBytes = 64 * 1024;
/// Most entries in one dataset (local policy; keeps a typo'd path to a huge file bounded).
inline constexpr std::size_t kMaxDatasetEntries = 1000000;

enum class DatasetKind { File, RegexFile, List, Database };

/// One record of a key/value database file, bytes exactly as stored (a trailing NUL, as
/// Postfix `postmap` writes, is part of the bytes).
struct DatabaseRecord {
  std::string key;
  std::string value;
};
/// Reads every record of a database file (a `db:` data set) in the database's own order.
/// The error reason must name what went wrong; the caller adds the path and option.
using DatabaseReader = std::function<Result<std::vector<DatabaseRecord>>(const std::string& path)>;

/// A FileReader that can also read `db:` data sets. Pass one wherever a FileReader is taken
/// (`FileReader r = DatasetReaders{read_file, read_berkeley_db};`): it reads text files
/// through `files`, and Dataset::open finds `databases` inside the FileReader, so the
/// configuration loaders need no second parameter. Without it `db:` is refused.
struct DatasetReaders {
  FileReader files = read_file;
  DatabaseReader databases;
  /// Opens live data sets (`dsn:`, `ldap:`, `ldaps:`, `ldapi:`; live_dataset.h) for the tables
  /// that OpenDKIM looks up per message (KeyTable, SigningTable, host lists, ...). Empty: refused.
  LiveDatasetOpener live = {};
  Result<std::string> operator()(const std::string& path) const { return files(path); }
};
/// The DatabaseReader carried by `reader` (a DatasetReaders), or nullptr.
const DatabaseReader* database_reader_of(const FileReader& reader) noexcept;
/// The LiveDatasetOpener carried by `reader` (a DatasetReaders), or nullptr.
const LiveDatasetOpener* live_opener_of(const FileReader& reader) noexcept;
/// Whether a data set value names a live back end: `dsn:`, `ldap:`, `ldaps:` or `ldapi:`
/// (case-insensitive, as dkimf_db_open compares the type).
bool is_live_dataset_spec(std::string_view spec) noexcept;

struct DatasetEntry {
  std::string key;    ///< the key or, for refile:, the pattern as written
  std::string value;  ///< the rest of the line, trimmed; may be empty
  std::size_t line = 0;
};

class Dataset {
 public:
  /// Opens a dataset from a configuration value such as `refile:/etc/opendkim/SigningTable`.
  /// `icase` makes keys (or patterns) match case-insensitively (anchor-features.md §2.3 lists
  /// which OpenDKIM tables are). Throws ConfigError naming `option` on any failure.
  static Dataset open(std::string_view spec, bool icase, const std::string& option = {},
                      const FileReader& reader = read_file);
  /// Builds a dataset from text in a given kind (tests, inline YAML lists).
  static Dataset from_text(std::string_view text, DatasetKind kind, bool icase,
                           const std::string& origin = "<inline>");
  /// Builds a Database dataset from a database's records, the way opendkim-db.c sees them:
  /// the key stays byte-exact (dkimf_db_get asks Berkeley DB for exactly strlen(query) bytes,
  /// so a key stored with a trailing NUL never matches a lookup), the value is the C string up
  /// to its first NUL (dkimf_db_datasplit and every consumer use it as a string). Entry `line`
  /// is the record's position (1-based). Throws ConfigError naming `origin` when a key or value
  /// is longer than kMaxDatasetLineBytes or there are more than kMaxDatasetEntries records.
  static Dataset from_records(const std::vector<DatabaseRecord>& records, bool icase,
                              const std::string& origin);

  DatasetKind kind() const noexcept { return kind_; }
  const std::string& origin() const noexcept { return origin_; }
  const std::vector<DatasetEntry>& entries() const noexcept { return entries_; }

  /// The first entry whose key equals (File, List) or whose pattern matches (RegexFile) `key`.
  /// Database keys compare byte for byte whatever `icase` (dkimf_db_get on a Berkeley DB).
  const DatasetEntry* find(std::string_view key) const;
  /// Every matching entry in order (MultipleSignatures).
  std::vector<const DatasetEntry*> find_all(std::string_view key) const;

  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;
  ~Dataset();

 private:
  Dataset();
  struct Regexes;
  DatasetKind kind_ = DatasetKind::List;
  bool icase_ = false;
  std::string origin_;
  std::vector<DatasetEntry> entries_;
  std::unique_ptr<Regexes> regexes_;  ///< compiled patterns for RegexFile
};

/// Splits a dataset value into `n` fields at ':'; the last field takes the remainder,
/// colons included (`dkimf_db_datasplit`). Returns nullopt when there are fewer than `n` fields.
std::optional<std::vector<std::string>> split_fields(std::string_view value, std::size_t n);

/// Translates an OpenDKIM refile pattern into an anchored POSIX ERE (exposed for tests).
std::string refile_pattern_to_ere(std::string_view pattern);

/// The keys OpenDKIM tries, in order, in a non-refile SigningTable for `local@domain`
/// (anchor-features.md §2.3): user@host, host, user@.parent, .parent, ..., user@*, *.
std::vector<std::string> signing_table_candidates(std::string_view local, std::string_view domain);

}  // namespace auth::config
