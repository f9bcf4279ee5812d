#include "auth/config/dataset_bdb.h"

#include <db.h>
#include <sys/file.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace auth::config {

namespace {

// Collects libdb's own error messages (they say more than the return code) for one handle:
// the callback finds the sink through the handle's private environment, so no global state.
struct ErrorSink {
  std::string text;
};

void collect_error(const DB_ENV* env, const char* /*prefix*/, const char* msg) {
  if (env == nullptr || env->app_private == nullptr || msg == nullptr) return;
  auto* sink = static_cast<ErrorSink*>(env->app_private);
  constexpr std::size_t kMaxErrorText = 512;  // bound the text a corrupt file can make us keep
  if (sink->text.size() >= kMaxErrorText) return;
  if (!sink->text.empty()) sink->text += "; ";
  sink->text.append(msg, strnlen(msg, kMaxErrorText - sink->text.size()));
}

// A DB handle with its error sink; closed on every path.
class Handle {
 public:
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }

  int create() {
    int rc = db_create(&db_, nullptr, 0);
    if (rc != 0) {
      db_ = nullptr;
      return rc;
    }
    db_->set_errcall(db_, collect_error);
    db_->get_env(db_)->app_private = &sink_;
    return 0;
  }
  void close() {
    if (db_ != nullptr) db_->close(db_, 0);
    db_ = nullptr;
  }
  /// DB->verify consumes the handle whatever it returns.
  int verify(const std::string& path) {
    int rc = db_->verify(db_, path.c_str(), nullptr, nullptr, 0);
    db_ = nullptr;
    return rc;
  }
  DB* get() const noexcept { return db_; }
  /// libdb's own messages, or db_strerror when it printed none.
  std::string detail(int rc) const { return sink_.text.empty() ? std::string(db_strerror(rc)) : sink_.text; }
  /// db_strerror (what OpenDKIM reports), with libdb's own message when it adds something.
  std::string why(int rc) const {
    std::string s = db_strerror(rc);
    if (!sink_.text.empty() && rc != ENOENT && rc != EACCES && rc != EISDIR) s += " (" + sink_.text + ")";
    return s;
  }

 private:
  DB* db_ = nullptr;
  ErrorSink sink_;
};

// A shared flock on the database file for the time we read it (dkimf_db_get locks the same
// way), waiting a bounded time for a writer instead of blocking start-up for ever.
class SharedLock {
 public:
  explicit SharedLock(int fd) : fd_(fd) {}
  SharedLock(const SharedLock&) = delete;
  SharedLock& operator=(const SharedLock&) = delete;
  ~SharedLock() {
    if (held_) (void)flock(fd_, LOCK_UN);
  }
  bool acquire() {
    using namespace std::chrono;
    constexpr auto kStep = milliseconds(20);
    auto deadline = steady_clock::now() + milliseconds(kBerkeleyDbLockWaitMs);
    for (;;) {
      if (flock(fd_, LOCK_SH | LOCK_NB) == 0) return held_ = true;
      if (errno != EWOULDBLOCK && errno != EINTR) return true;  // no flock here: read unlocked
      if (steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(kStep);
    }
  }

 private:
  int fd_;
  bool held_ = false;
};

}  // namespace

Result<std::vector<DatabaseRecord>> read_berkeley_db(const std::string& path) {
  // Reasons leave the path out: Dataset::open's ConfigError names the file (DatabaseReader).
  auto io = [](const std::string& why) { return fail(ErrorCode::Io, why); };
  // Corrupt or truncated files are refused before they are read: DB->verify is the libdb call
  // meant for files that may be damaged. It also opens the file, so a missing file fails here.
  {
    Handle v;
    if (int rc = v.create(); rc != 0) return io(db_strerror(rc));
    if (int rc = v.verify(path); rc != 0) {
      if (rc == DB_VERIFY_BAD) return io("not a valid Berkeley DB file (" + v.detail(rc) + ")");
      return io(v.why(rc));
    }
  }
  Handle h;
  if (int rc = h.create(); rc != 0) return io(db_strerror(rc));
  DB* db = h.get();
  // opendkim-db.c, read-only data set: DB_UNKNOWN (hash or btree as found), DB_RDONLY, no
  // environment, no transaction, mode 0.
  if (int rc = db->open(db, nullptr, path.c_str(), nullptr, DB_UNKNOWN, DB_RDONLY, 0); rc != 0) {
    return io(h.why(rc));
  }
  DBTYPE type = DB_UNKNOWN;
  if (int rc = db->get_type(db, &type); rc != 0) return io(h.why(rc));
  if (type != DB_HASH && type != DB_BTREE) {
    // recno/queue keys are record numbers, never the strings OpenDKIM looks up.
    return fail(ErrorCode::Unsupported, "only hash and btree Berkeley DB files hold data sets");
  }
  int fd = -1;
  if (int rc = db->fd(db, &fd); rc != 0) return io(h.why(rc));
  SharedLock lock(fd);
  if (!lock.acquire()) {
    return fail(ErrorCode::Io, "locked by another process for over " + std::to_string(kBerkeleyDbLockWaitMs) +
                                   " ms");
  }

  DBC* cursor = nullptr;
  if (int rc = db->cursor(db, nullptr, &cursor, 0); rc != 0) return io(h.why(rc));
  struct CursorCloser {
    DBC* c;
    ~CursorCloser() { c->close(c); }
  } closer{cursor};

  // Caller-owned buffers bound what one record can make us allocate.
  constexpr std::size_t kBuf = kMaxDatasetLineBytes;
  std::vector<char> kbuf(kBuf), vbuf(kBuf);
  std::vector<DatabaseRecord> out;
  for (bool first = true;; first = false) {
    DBT k;
    DBT v;
    std::memset(&k, 0, sizeof k);
    std::memset(&v, 0, sizeof v);
    k.data = kbuf.data();
    k.ulen = static_cast<u_int32_t>(kBuf);
    k.flags = DB_DBT_USERMEM;
    v.data = vbuf.data();
    v.ulen = static_cast<u_int32_t>(kBuf);
    v.flags = DB_DBT_USERMEM;
    // DB_NEXT_NODUP: one record per key, its first data item (what DB->get returns).
    int rc = cursor->get(cursor, &k, &v, first ? DB_FIRST : DB_NEXT_NODUP);
    if (rc == DB_NOTFOUND) break;
    if (rc == DB_BUFFER_SMALL) {
      return fail(ErrorCode::LimitExceeded, "record " + std::to_string(out.size() + 1) + " longer than " +
                                                std::to_string(kMaxDatasetLineBytes) + " bytes");
    }
    if (rc != 0) return io(h.why(rc));
    if (out.size() >= kMaxDatasetEntries) {
      return fail(ErrorCode::LimitExceeded, "more than " + std::to_string(kMaxDatasetEntries) + " records");
    }
    out.push_back(DatabaseRecord{std::string(kbuf.data(), k.size), std::string(vbuf.data(), v.size)});
  }
  return out;
}

FileReader file_and_berkeley_db_reader() { return DatasetReaders{read_file, read_berkeley_db}; }

}  // namespace auth::config
