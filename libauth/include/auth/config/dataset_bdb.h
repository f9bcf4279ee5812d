// auth::config Berkeley DB reader — the `db:` data sets of OpenDKIM (opendkim-db.c,
// DKIMF_DB_TYPE_BDB; opendkim(8) "DATA SETS" c) and h)).
//
// Built as its own target (auth::config_bdb, linked with libdb-5.3) so that libauth's pure core
// keeps no database dependency: the core only sees a DatabaseReader (auth/config/dataset.h).
// The file is opened exactly as OpenDKIM opens a read-only data set (DB_UNKNOWN type, DB_RDONLY,
// no environment) under a shared flock(2), as dkimf_db_get takes one; every record is copied
// into memory and the file is closed again, so lookups never touch it and a reload that fails
// keeps the running configuration.
#pragma once

#include <string>
#include <vector>

#include "auth/config/dataset.h"
#include "auth/core/result.h"

namespace auth::config {

/// How long read_berkeley_db waits for a writer's exclusive lock (makemap, postmap and
/// db_load lock the file while they rewrite it) before giving up (local policy).
inline constexpr int kBerkeleyDbLockWaitMs = 5000;

/// Reads every record of a Berkeley DB hash or btree file, in the database's order, keeping
/// the first data item of a key stored with duplicates (what DB->get returns to OpenDKIM).
/// Fails with a reason naming the cause (not the path: Dataset::open's ConfigError names the
/// file): the file cannot be opened (db_strerror, as OpenDKIM reports it, e.g. "No such file or
/// directory"), does not verify (corrupt or truncated), is a recno/queue/heap database, is
/// locked longer than kBerkeleyDbLockWaitMs, holds a key or value longer than
/// kMaxDatasetLineBytes or more than kMaxDatasetEntries records.
Result<std::vector<DatabaseRecord>> read_berkeley_db(const std::string& path);

/// A FileReader that reads text files with read_file and `db:` data sets with
/// read_berkeley_db (a DatasetReaders); pass it to the configuration loaders.
FileReader file_and_berkeley_db_reader();

}  // namespace auth::config
