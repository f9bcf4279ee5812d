#include "auth/config/dataset_odbx.h"

#include <dlfcn.h>
#include <odbx.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <mutex>
#include <type_traits>

namespace auth::config {

namespace {

bool iequal_prefix(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// dkimf_db_nextpunct: the next delimiter of the authority part: ':' '/' '@' '+' '?', or a
// '=' that does not start a =XX escape.
std::size_t next_punct(std::string_view s, std::size_t from) noexcept {
  for (std::size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':' || c == '/' || c == '@' || c == '+' || c == '?') return i;
    if (c == '=' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return i;
  }
  return std::string_view::npos;
}

// =XX quoted-printable escapes (opendkim.conf(5): "=20" is a space). A '=' not followed by two
// hex digits stays as it is (opendkim's filter decoding does the same).
Result<std::string> decode_value(std::string_view v, const char* what) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '=' && i + 2 < v.size() && is_hex(v[i + 1]) && is_hex(v[i + 2])) {
      char c = static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2]));
      if (c == '\0') return fail(ErrorCode::Invalid, std::string("DSN ") + what + " contains an encoded NUL (=00)");
      out.push_back(c);
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  if (out.size() > kDsnMaxFieldBytes) {
    return fail(ErrorCode::LimitExceeded, std::string("DSN ") + what + " longer than " +
                                              std::to_string(kDsnMaxFieldBytes) + " bytes");
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept { return a.size() == b.size() && iequal_prefix(a, b); }

}  // namespace

Result<DsnSpec> parse_dsn(std::string_view spec) {
  if (spec.size() > kDsnMaxBytes) {
    return fail(ErrorCode::LimitExceeded, "DSN longer than " + std::to_string(kDsnMaxBytes) + " bytes");
  }
  if (iequal_prefix(spec, "dsn:")) spec.remove_prefix(4);
  if (spec.find('\0') != std::string_view::npos) return fail(ErrorCode::Syntax, "DSN contains a NUL byte");
  DsnSpec d;
  auto colon = spec.find(':');
  if (colon == std::string_view::npos) return fail(ErrorCode::Syntax, "DSN has no \"backend://\"");
  auto backend = decode_value(spec.substr(0, colon), "backend");
  if (!backend) return fail(backend.error());
  d.backend = *backend;
  if (d.backend.empty()) return fail(ErrorCode::Syntax, "DSN names no backend");
  std::string_view rest = spec.substr(colon + 1);
  if (rest.size() < 2 || rest[0] != '/' || rest[1] != '/') {
    return fail(ErrorCode::Syntax, "DSN backend must be followed by \"//\"");
  }
  rest.remove_prefix(2);
  // The authority part: dkimf_db_open's loop over dkimf_db_nextpunct, until the database.
  bool found = false;
  std::size_t q = 0;
  while (!found) {
    std::size_t p = next_punct(rest, q);
    if (p == std::string_view::npos) break;
    std::string_view part = rest.substr(q, p - q);
    auto value = [&](const char* what) -> Result<std::string> { return decode_value(part, what); };
    switch (rest[p]) {
      case ':': {
        // opendkim: a second ':' after the user ("user:a:b@") is an error.
        if (!d.user.empty()) return fail(ErrorCode::Syntax, "DSN has more than one user");
        auto v = value("user");
        if (!v) return fail(v.error());
        d.user = *v;
        break;
      }
      case '@': {
        auto v = value(d.user.empty() ? "user" : "password");
        if (!v) return fail(v.error());
        if (d.user.empty()) {
          d.user = *v;
        } else {
          d.password = *v;
        }
        break;
      }
      case '+': {
        auto v = value("port");
        if (!v) return fail(v.error());
        d.port = *v;
        break;
      }
      case '/': {
        if (d.host.empty()) {
          auto v = value("host");
          if (!v) return fail(v.error());
          d.host = *v;
        } else {
          auto v = value("database");
          if (!v) return fail(v.error());
          d.dbase = *v;
          found = true;
        }
        break;
      }
      default:
        return fail(ErrorCode::Syntax, std::string("DSN has an unexpected '") + rest[p] +
                                           "' before the database (encode it as =" +
                                           (rest[p] == '?' ? "3F" : "3D") + ")");
    }
    q = p + 1;
  }
  if (d.host.empty()) return fail(ErrorCode::Missing, "SQL host not defined");
  // key=value pairs separated by '?' (strtok_r: empty tokens skipped, a token without '='
  // ignored, unknown names ignored, the last of a name wins).
  std::string_view kv = rest.substr(q);
  while (!kv.empty()) {
    auto qm = kv.find('?');
    std::string_view tok = kv.substr(0, qm);
    kv = qm == std::string_view::npos ? std::string_view{} : kv.substr(qm + 1);
    auto eq = tok.find('=');
    if (tok.empty() || eq == std::string_view::npos) continue;
    std::string_view name = tok.substr(0, eq), raw = tok.substr(eq + 1);
    std::string* target = nullptr;
    const char* what = "";
    if (iequals(name, "table")) target = &d.table, what = "table";
    else if (iequals(name, "keycol")) target = &d.keycol, what = "keycol";
    else if (iequals(name, "datacol")) target = &d.datacol, what = "datacol";
    if (iequals(name, "filter")) {
      auto v = decode_value(raw, "filter");
      if (!v) return fail(v.error());
      d.filter = *v;
      continue;
    }
    if (!target) continue;
    auto v = decode_value(raw, what);
    if (!v) return fail(v.error());
    *target = *v;
  }
  if (d.table.empty()) return fail(ErrorCode::Missing, "DSN names no table (table=)");
  if (d.keycol.empty()) return fail(ErrorCode::Missing, "DSN names no key column (keycol=)");
  if (d.datacol.empty()) return fail(ErrorCode::Missing, "DSN names no data column (datacol=)");
  return d;
}

std::string dsn_origin(std::string_view spec) {
  // Mask the password: the text between the first ':' and the first '@' of the authority part,
  // when both come before the first '/' after "//".
  std::string out(spec.substr(0, std::min(spec.size(), kDsnMaxBytes)));
  auto slashes = out.find("//");
  if (slashes == std::string::npos) return out;
  auto start = slashes + 2;
  auto end = out.find('/', start);
  auto at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start) return out;
  auto colon = out.find(':', start);
  if (colon == std::string::npos || colon > at) return out;
  out.replace(colon + 1, at - colon - 1, "****");
  return out;
}

std::string dsn_lookup_query(const DsnSpec& dsn, std::string_view escaped_key) {
  std::string q = "SELECT " + dsn.datacol + " FROM " + dsn.table + " WHERE " + dsn.keycol + " = '";
  q.append(escaped_key);
  q.push_back('\'');
  if (dsn.filter) q += " AND " + *dsn.filter;
  return q;
}

std::string dsn_walk_query(const DsnSpec& dsn) {
  return "SELECT " + dsn.keycol + "," + dsn.datacol + " FROM " + dsn.table;
}

namespace {

/// libopendbx, loaded with dlopen; closed when the last data set using it goes.
class OdbxApi {
 public:
  decltype(&::odbx_init) init = nullptr;
  decltype(&::odbx_bind) bind = nullptr;
  decltype(&::odbx_unbind) unbind = nullptr;
  decltype(&::odbx_finish) finish = nullptr;
  decltype(&::odbx_error) error = nullptr;
  decltype(&::odbx_error_type) error_type = nullptr;
  decltype(&::odbx_escape) escape = nullptr;
  decltype(&::odbx_query) query = nullptr;
  decltype(&::odbx_result) result = nullptr;
  decltype(&::odbx_result_finish) result_finish = nullptr;
  decltype(&::odbx_row_fetch) row_fetch = nullptr;
  decltype(&::odbx_column_count) column_count = nullptr;
  decltype(&::odbx_field_length) field_length = nullptr;
  decltype(&::odbx_field_value) field_value = nullptr;

  static Result<std::shared_ptr<OdbxApi>> load() {
    void* h = ::dlopen("libopendbx.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = ::dlerror();
      return fail(ErrorCode::Unsupported, std::string("cannot load libopendbx.so.1 (Debian: libopendbx1): ") +
                                              (why ? why : "dlopen failed"));
    }
    auto api = std::shared_ptr<OdbxApi>(new OdbxApi(h));
    const char* missing = nullptr;
    auto sym = [&](auto& fn, const char* name) {
      void* p = ::dlsym(h, name);
      if (p == nullptr && missing == nullptr) missing = name;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    sym(api->init, "odbx_init");
    sym(api->bind, "odbx_bind");
    sym(api->unbind, "odbx_unbind");
    sym(api->finish, "odbx_finish");
    sym(api->error, "odbx_error");
    sym(api->error_type, "odbx_error_type");
    sym(api->escape, "odbx_escape");
    sym(api->query, "odbx_query");
    sym(api->result, "odbx_result");
    sym(api->result_finish, "odbx_result_finish");
    sym(api->row_fetch, "odbx_row_fetch");
    sym(api->column_count, "odbx_column_count");
    sym(api->field_length, "odbx_field_length");
    sym(api->field_value, "odbx_field_value");
    if (missing != nullptr) {
      return fail(ErrorCode::Unsupported, std::string("libopendbx.so.1 has no ") + missing);
    }
    return api;
  }

  OdbxApi(const OdbxApi&) = delete;
  OdbxApi& operator=(const OdbxApi&) = delete;
  ~OdbxApi() { ::dlclose(handle_); }

 private:
  explicit OdbxApi(void* h) : handle_(h) {}
  void* handle_;
};

const char* or_null(const std::string& s) noexcept { return s.empty() ? nullptr : s.c_str(); }

class OdbxDataset final : public LiveDataset {
 public:
  OdbxDataset(std::shared_ptr<OdbxApi> api, DsnSpec dsn, std::string origin)
      : api_(std::move(api)), dsn_(std::move(dsn)), origin_(std::move(origin)) {}
  ~OdbxDataset() override { disconnect(); }

  const std::string& origin() const noexcept override { return origin_; }

  /// dkimf_db_open_sql: odbx_init + odbx_bind.
  Result<void> connect() {
    odbx_t* h = nullptr;
    int err = api_->init(&h, or_null(dsn_.backend), or_null(dsn_.host), or_null(dsn_.port));
    if (err < 0) {
      // dkimf_db_open_sql returns without odbx_finish here: after a failed odbx_init the
      // handle is already released by libopendbx (finishing it again crashes).
      return fail(ErrorCode::Io, origin_ + ": " + message(nullptr, err));
    }
    err = api_->bind(h, or_null(dsn_.dbase), or_null(dsn_.user), or_null(dsn_.password), ODBX_BIND_SIMPLE);
    if (err < 0) {
      std::string why = message(h, err);
      (void)api_->finish(h);
      return fail(ErrorCode::Io, origin_ + ": " + why);
    }
    handle_ = h;
    return {};
  }

  Result<std::optional<LiveValues>> lookup(std::string_view key) override {
    if (key.size() > kDsnMaxKeyBytes) {
      return fail(ErrorCode::LimitExceeded, origin_ + ": key longer than " + std::to_string(kDsnMaxKeyBytes) + " bytes");
    }
    std::lock_guard lock(mu_);
    // A lost connection is reopened once and the query retried (dkimf_db_get's
    // DKIMF_DB_IFLAG_RECONNECT and its recursive retry); a second failure is the answer.
    for (int attempt = 0;; ++attempt) {
      bool reconnected = false;
      if (handle_ == nullptr) {
        if (auto c = connect(); !c) return fail(c.error());
        reconnected = true;
      }
      bool lost = false;
      auto r = lookup_once(key, reconnected, lost);
      if (!lost || attempt > 0) return r;
    }
  }

  Result<std::vector<LiveRow>> walk(std::size_t max_rows) override {
    std::lock_guard lock(mu_);
    if (handle_ == nullptr) {
      if (auto c = connect(); !c) return fail(c.error());
    }
    std::vector<LiveRow> rows;
    std::string q = dsn_walk_query(dsn_);
    if (q.size() > kDsnMaxQueryBytes) return fail(ErrorCode::LimitExceeded, origin_ + ": query too long");
    int err = api_->query(handle_, q.c_str(), q.size());
    if (err < 0) return fail(ErrorCode::Io, origin_ + ": " + message(handle_, err));
    for (;;) {
      odbx_result_t* res = nullptr;
      err = api_->result(handle_, &res, nullptr, 0);
      if (err < 0) {
        if (res != nullptr) (void)api_->result_finish(res);
        return fail(ErrorCode::Io, origin_ + ": " + message(handle_, err));
      }
      if (err == ODBX_RES_DONE) {
        if (res != nullptr) (void)api_->result_finish(res);
        return rows;
      }
      for (;;) {
        err = api_->row_fetch(res);
        if (err < 0) {
          (void)api_->result_finish(res);
          drain();
          return fail(ErrorCode::Io, origin_ + ": " + message(handle_, err));
        }
        if (err == ODBX_ROW_DONE) break;
        if (rows.size() >= max_rows) {
          (void)api_->result_finish(res);
          drain();
          return fail(ErrorCode::LimitExceeded, origin_ + ": more than " + std::to_string(max_rows) + " rows");
        }
        auto row = fetch_row(res);
        if (!row) {
          (void)api_->result_finish(res);
          drain();
          return fail(row.error());
        }
        if (row->empty()) continue;
        LiveRow out;
        out.first = std::move(row->front());
        out.second.assign(std::make_move_iterator(row->begin() + 1), std::make_move_iterator(row->end()));
        rows.push_back(std::move(out));
      }
      (void)api_->result_finish(res);
    }
  }

 private:
  std::string message(odbx_t* h, int err) const {
    const char* m = api_->error(h, err);
    return m != nullptr && *m != '\0' ? std::string(m) : "OpenDBX error " + std::to_string(err);
  }

  void disconnect() noexcept {
    if (handle_ == nullptr) return;
    (void)api_->unbind(handle_);
    (void)api_->finish(handle_);
    handle_ = nullptr;
  }

  /// Reads the remaining result sets so the connection is usable again.
  void drain() {
    for (int i = 0; i < 64; ++i) {
      odbx_result_t* res = nullptr;
      int err = api_->result(handle_, &res, nullptr, 0);
      if (res != nullptr) (void)api_->result_finish(res);
      if (err <= 0) return;
    }
  }

  /// The current row's columns (NULL → empty, as opendkim's buflen 0), bounded.
  Result<std::vector<std::string>> fetch_row(odbx_result_t* res) {
    unsigned long n = api_->column_count(res);
    if (n > kDsnMaxColumns) n = kDsnMaxColumns;
    std::vector<std::string> out;
    out.reserve(n);
    for (unsigned long c = 0; c < n; ++c) {
      const char* v = api_->field_value(res, c);
      if (v == nullptr) {
        out.emplace_back();
        continue;
      }
      // A C string, as opendkim uses it (strlcpy): an embedded NUL ends it.
      std::size_t len = ::strnlen(v, kDsnMaxValueBytes + 1);
      if (len > kDsnMaxValueBytes) {
        return fail(ErrorCode::LimitExceeded, origin_ + ": a value longer than " +
                                                  std::to_string(kDsnMaxValueBytes) + " bytes");
      }
      out.emplace_back(v, len);
    }
    return out;
  }

  /// One try of dkimf_db_get's DSN case; `lost` is set (and the handle closed) when the back
  /// end says the connection is gone and this was not a fresh connection.
  Result<std::optional<LiveValues>> lookup_once(std::string_view key, bool reconnected, bool& lost) {
    std::string escaped(key.size() * 2 + 16, '\0');
    unsigned long elen = escaped.size() - 1;
    int err = api_->escape(handle_, key.data(), key.size(), escaped.data(), &elen);
    if (err < 0) return fail(ErrorCode::Io, origin_ + ": " + message(handle_, err));
    escaped.resize(std::min<std::size_t>(elen, escaped.size()));
    std::string q = dsn_lookup_query(dsn_, escaped);
    if (q.size() > kDsnMaxQueryBytes) {
      return fail(ErrorCode::LimitExceeded, origin_ + ": query longer than " + std::to_string(kDsnMaxQueryBytes) + " bytes");
    }
    auto failed = [&](int e) -> Result<std::optional<LiveValues>> {
      std::string why = message(handle_, e);
      if (!reconnected && api_->error_type(handle_, e) < 0) {
        disconnect();
        lost = true;
      }
      return fail(ErrorCode::Io, origin_ + ": " + why);
    };
    err = api_->query(handle_, q.c_str(), q.size());
    if (err < 0) return failed(err);
    std::optional<LiveValues> found;
    for (int rescnt = 0;; ++rescnt) {
      odbx_result_t* res = nullptr;
      err = api_->result(handle_, &res, nullptr, 0);
      if (err < 0) {
        if (res != nullptr) (void)api_->result_finish(res);
        return failed(err);
      }
      if (err == ODBX_RES_DONE) {
        if (res != nullptr) (void)api_->result_finish(res);
        return found;
      }
      for (int rowcnt = 0;; ++rowcnt) {
        err = api_->row_fetch(res);
        if (err < 0) {
          std::string why = message(handle_, err);
          (void)api_->result_finish(res);
          drain();
          return fail(ErrorCode::Io, origin_ + ": " + why);
        }
        if (err == ODBX_ROW_DONE) break;
        // Only the first row of the first result counts (the rest is read and dropped).
        if (rescnt == 0 && rowcnt == 0) {
          if (api_->column_count(res) == 0) continue;
          auto row = fetch_row(res);
          if (!row) {
            (void)api_->result_finish(res);
            drain();
            return fail(row.error());
          }
          found = std::move(*row);
        }
      }
      (void)api_->result_finish(res);
    }
  }

  std::shared_ptr<OdbxApi> api_;
  DsnSpec dsn_;
  std::string origin_;
  std::mutex mu_;
  odbx_t* handle_ = nullptr;
};

}  // namespace

Result<std::shared_ptr<LiveDataset>> open_odbx_dataset(std::string_view spec, const LiveDatasetOptions& options) {
  std::string origin = dsn_origin(spec);
  auto dsn = parse_dsn(spec);
  if (!dsn) return fail(dsn.error().code, origin + ": " + dsn.error().reason);
  auto api = OdbxApi::load();
  if (!api) return fail(api.error());
  auto ds = std::make_shared<OdbxDataset>(std::move(*api), std::move(*dsn), origin);
  if (auto c = ds->connect(); !c && !options.soft_start) return fail(c.error());
  // SoftStart: the first lookup connects (dkimf_db_open sets DKIMF_DB_IFLAG_RECONNECT).
  return std::shared_ptr<LiveDataset>(std::move(ds));
}

}  // namespace auth::config
