// Lua policy hooks (opendkim-lua(3)); see lua_policy.h. The odkim.* functions keep
// opendkim 2.11's argument checks and error texts ("odkim.get_header(): incorrect argument
// count") and push numbers as lua_pushnumber does (floats in Lua 5.3: rcpt_count → 2.0).
// Where opendkim's code and the man page disagree the man page wins, said at the spot.
#include "dkim/lua_policy.h"

#include <lua.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <strings.h>

#include "auth/config/dataset.h"
#include "auth/mail/address.h"

namespace inkan::dkim::lua {
namespace {

/* ---------------- per-run state ---------------- */

struct RunState {
  Message* msg = nullptr;
  std::uint64_t max_instructions = kMaxInstructions;
  std::uint64_t executed = 0;
  std::size_t max_memory = kMaxMemoryBytes;
  std::size_t used = 0;
  bool limit_hit = false;  ///< instruction or memory limit reached: errors are not catchable
  std::string limit_error;
};

RunState* state_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<RunState*>(ud);
}

void* limited_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* st = static_cast<RunState*>(ud);
  if (nsize == 0) {
    if (ptr) st->used -= osize;
    std::free(ptr);
    return nullptr;
  }
  std::size_t old = ptr ? osize : 0;
  if (nsize > old && st->used - old + nsize > st->max_memory) {
    if (!st->limit_hit) {
      st->limit_hit = true;
      st->limit_error = "memory limit exceeded (" + std::to_string(st->max_memory) + " bytes)";
    }
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p) st->used = st->used - old + nsize;
  return p;
}

void count_hook(lua_State* L, lua_Debug*) {
  RunState* st = state_of(L);
  st->executed += static_cast<std::uint64_t>(kInstructionCheckStep);
  if (st->executed > st->max_instructions || st->limit_hit) {
    if (!st->limit_hit) {
      st->limit_hit = true;
      st->limit_error = "instruction limit exceeded (" + std::to_string(st->max_instructions) + ")";
    }
    luaL_error(L, "%s", st->limit_error.c_str());
  }
}

/// pcall / xpcall / coroutine.resume would let a script catch the limit error and go on; the
/// wrappers re-raise it once a limit was hit.
int rethrow_if_limited(lua_State* L, int nresults) {
  RunState* st = state_of(L);
  if (st->limit_hit) return luaL_error(L, "%s", st->limit_error.c_str());
  return nresults;
}
int guarded_call(lua_State* L) {
  // upvalue 1: the original function; call it with our arguments, keep all results.
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return rethrow_if_limited(L, lua_gettop(L));
}
void guard(lua_State* L, const char* table, const char* name) {
  if (table) {
    lua_getglobal(L, table);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      return;
    }
  } else {
    lua_pushglobaltable(L);
  }
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, guarded_call, 1);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

/* ---------------- argument helpers (opendkim's checks and texts) ---------------- */

[[noreturn]] void fail(lua_State* L, const std::string& text) {
  lua_pushlstring(L, text.data(), text.size());
  lua_error(L);
  std::abort();  // lua_error does not return
}
[[noreturn]] void bad_count(lua_State* L, const char* fn) { fail(L, std::string("odkim.") + fn + "(): incorrect argument count"); }
[[noreturn]] void bad_type(lua_State* L, const char* fn) { fail(L, std::string("odkim.") + fn + "(): incorrect argument type"); }

void want_count(lua_State* L, const char* fn, int lo, int hi) {
  int n = lua_gettop(L);
  if (n < lo || n > hi) bad_count(L, fn);
}
/// The message of `ctx` (argument 1), checked like opendkim's lua_islightuserdata test and
/// against the ctx of this run.
Message& ctx_arg(lua_State* L, const char* fn) {
  RunState* st = state_of(L);
  if (!lua_islightuserdata(L, 1) || lua_touserdata(L, 1) != st->msg) bad_type(L, fn);
  return *st->msg;
}
std::string str_arg(lua_State* L, int i, const char* fn) {
  if (!lua_isstring(L, i)) bad_type(L, fn);
  std::size_t n = 0;
  const char* p = lua_tolstring(L, i, &n);
  return std::string(p, n);
}
std::int64_t num_arg(lua_State* L, int i, const char* fn) {
  if (!lua_isnumber(L, i)) bad_type(L, fn);
  return static_cast<std::int64_t>(lua_tonumber(L, i));
}
void push(lua_State* L, std::string_view s) { lua_pushlstring(L, s.data(), s.size()); }
void push_num(lua_State* L, double v) { lua_pushnumber(L, v); }

/// Runs a Message callback, turning its ScriptError (or any exception) into a Lua error.
template <class F>
auto guarded(lua_State* L, const char* fn, F&& f) -> decltype(f()) {
  std::string err;
  try {
    return f();
  } catch (const ScriptError& e) {
    err = e.what();
  } catch (const std::exception& e) {
    err = std::string("odkim.") + fn + "(): " + e.what();
  }
  fail(L, err);
}

/* ---------------- headers ---------------- */

bool name_is(const auth::mail::Field& f, std::string_view n) { return f.is(n); }

/// dkimf_findheader: the n-th field called `name` (0 = first); negative n counts from the end.
auth::mail::Field* find_header(Message& m, std::string_view name, std::int64_t n) {
  if (!m.headers) return nullptr;
  auto& h = *m.headers;
  if (n >= 0) {
    for (auto& f : h) {
      if (name_is(f, name) && n-- == 0) return &f;
    }
  } else {
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
      if (name_is(*it, name) && ++n == 0) return &*it;
    }
  }
  return nullptr;
}

/// The value as opendkim stores it (hdr_val): the bytes after "Name:" without the single
/// leading space the MTA sends, folding as LF + WSP.
std::string milter_value(const auth::mail::Field& f) {
  std::string_view v = f.raw_value();
  if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') continue;
    out.push_back(v[i]);
  }
  return out;
}

/* ---------------- signature and data set handles ---------------- */

constexpr const char* kSigMeta = "inkan.dkim.signature";
constexpr const char* kDbMeta = "inkan.dkim.dataset";

struct SigHandle {
  std::size_t index;
};
struct DbHandle {
  auth::config::Dataset* set;  ///< owned; null once closed
};

void push_sig(lua_State* L, std::size_t i) {
  auto* h = static_cast<SigHandle*>(lua_newuserdata(L, sizeof(SigHandle)));
  h->index = i;
  luaL_setmetatable(L, kSigMeta);
}
SigView& sig_arg(lua_State* L, int i, const char* fn) {
  auto* h = static_cast<SigHandle*>(luaL_testudata(L, i, kSigMeta));
  Message& m = *state_of(L)->msg;
  if (!h || h->index >= m.signatures.size()) bad_type(L, fn);
  return m.signatures[h->index];
}

int db_gc(lua_State* L) {
  auto* h = static_cast<DbHandle*>(luaL_checkudata(L, 1, kDbMeta));
  delete h->set;
  h->set = nullptr;
  return 0;
}
void push_db(lua_State* L, auth::config::Dataset d) {
  auto* h = static_cast<DbHandle*>(lua_newuserdata(L, sizeof(DbHandle)));
  h->set = nullptr;
  luaL_setmetatable(L, kDbMeta);
  h->set = new auth::config::Dataset(std::move(d));
}

/* ---------------- odkim.* ---------------- */

int x_get_header(lua_State* L) {
  want_count(L, "get_header", 3, 3);
  Message& m = ctx_arg(L, "get_header");
  std::string name = str_arg(L, 2, "get_header");
  std::int64_t n = num_arg(L, 3, "get_header");
  auto* f = find_header(m, name, n);
  if (!f) lua_pushnil(L);
  else push(L, milter_value(*f));
  return 1;
}

int x_replace_header(lua_State* L) {
  want_count(L, "replace_header", 4, 4);
  Message& m = ctx_arg(L, "replace_header");
  std::string name = str_arg(L, 2, "replace_header");
  std::int64_t n = num_arg(L, 3, "replace_header");
  std::string value = str_arg(L, 4, "replace_header");
  auto* f = find_header(m, name, n);
  if (!f) {
    lua_pushnil(L);
    return 1;
  }
  auto nf = auth::mail::Field::from_milter(f->name, value, auth::mail::LeadingSpace::Stripped);
  if (!nf) fail(L, "odkim.replace_header(): " + nf.error().reason);
  *f = std::move(*nf);
  return 0;  // opendkim returns nothing on success
}

int x_fromdomain(lua_State* L) {
  want_count(L, "get_fromdomain", 1, 1);
  push(L, ctx_arg(L, "get_fromdomain").from_domain);
  return 1;
}
int x_clienthost(lua_State* L) {
  want_count(L, "get_clienthost", 1, 1);
  push(L, ctx_arg(L, "get_clienthost").client_host);
  return 1;
}
int x_clientip(lua_State* L) {
  want_count(L, "get_clientip", 1, 1);
  Message& m = ctx_arg(L, "get_clientip");
  if (m.client_ip) push(L, *m.client_ip);
  else lua_pushnil(L);
  return 1;
}
int x_envfrom(lua_State* L) {
  want_count(L, "get_envfrom", 1, 1);
  push(L, ctx_arg(L, "get_envfrom").envfrom);
  return 1;
}
int x_mtasymbol(lua_State* L) {
  want_count(L, "get_mtasymbol", 2, 2);
  Message& m = ctx_arg(L, "get_mtasymbol");
  std::string name = str_arg(L, 2, "get_mtasymbol");
  std::optional<std::string> v = m.macro ? guarded(L, "get_mtasymbol", [&] { return m.macro(name); }) : std::nullopt;
  if (v) push(L, *v);
  else lua_pushnil(L);
  return 1;
}
int x_rcpt(lua_State* L) {
  want_count(L, "get_rcpt", 2, 2);
  Message& m = ctx_arg(L, "get_rcpt");
  // opendkim 2.11 reads the index from argument 1 (the ctx), so it always answers the first
  // recipient; the man page promises the n-th, which is what this does.
  std::int64_t n = num_arg(L, 2, "get_rcpt");
  if (n < 0 || static_cast<std::uint64_t>(n) >= m.rcpts.size()) lua_pushnil(L);
  else push(L, m.rcpts[static_cast<std::size_t>(n)]);
  return 1;
}
int x_rcptarray(lua_State* L) {
  want_count(L, "get_rcptarray", 1, 1);
  Message& m = ctx_arg(L, "get_rcptarray");
  lua_newtable(L);
  for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
    push_num(L, static_cast<double>(i + 1));
    push(L, m.rcpts[i]);
    lua_settable(L, -3);
  }
  return 1;
}
int x_rcptcount(lua_State* L) {
  want_count(L, "rcpt_count", 1, 1);
  push_num(L, static_cast<double>(ctx_arg(L, "rcpt_count").rcpts.size()));
  return 1;
}
int x_internalip(lua_State* L) {
  want_count(L, "internal_ip", 1, 1);
  push_num(L, ctx_arg(L, "internal_ip").internal_ip ? 1 : 0);
  return 1;
}
int x_popauth(lua_State* L) {
  want_count(L, "check_popauth", 1, 1);
  (void)ctx_arg(L, "check_popauth");
  lua_pushnil(L);  // man page: nil when no POPAUTH database is configured (inkan has none)
  return 1;
}
int x_log(lua_State* L) {
  want_count(L, "log", 2, 2);
  Message& m = ctx_arg(L, "log");
  std::string text = str_arg(L, 2, "log");
  if (m.log) guarded(L, "log", [&] { m.log(text); });
  lua_pushnil(L);
  return 1;
}
int x_export(lua_State* L) {
  int top = lua_gettop(L);
  if (top < 3 || top % 2 != 1) bad_count(L, "export");
  for (int c = 2; c < top; c += 2) {
    int t = lua_type(L, c + 1);
    if (!lua_isstring(L, c) || (t != LUA_TNIL && t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)) {
      bad_type(L, "export");
    }
  }
  Message& m = ctx_arg(L, "export");
  for (int c = 2; c < top; c += 2) {
    Exported e;
    e.name = str_arg(L, c, "export");
    switch (lua_type(L, c + 1)) {
      case LUA_TNUMBER: e.type = Exported::Type::Number; e.number = lua_tonumber(L, c + 1); break;
      case LUA_TBOOLEAN: e.type = Exported::Type::Boolean; e.boolean = lua_toboolean(L, c + 1) != 0; break;
      case LUA_TSTRING: e.type = Exported::Type::String; e.text = str_arg(L, c + 1, "export"); break;
      default: e.type = Exported::Type::Nil; break;
    }
    m.exports.push_back(std::move(e));
  }
  return 0;
}
int x_parsefield(lua_State* L) {
  want_count(L, "parse_field", 1, 1);
  std::string field = str_arg(L, 1, "parse_field");
  auto boxes = auth::mail::parse_address_list(field);
  if (!boxes || boxes->empty() || (*boxes)[0].domain.empty()) {
    lua_pushnil(L);
    return 1;
  }
  push(L, (*boxes)[0].local_part);
  push(L, (*boxes)[0].domain);
  return 2;
}

/* -- setup -- */

int x_sign(lua_State* L) {
  int top = lua_gettop(L);
  if (top < 1 || top > 4) bad_count(L, "sign");
  if (!lua_islightuserdata(L, 1) || (top > 1 && !lua_isstring(L, 2)) ||
      (top > 2 && !lua_isstring(L, 3) && !lua_isnumber(L, 3)) ||
      (top > 3 && !lua_isstring(L, 4) && !lua_isnumber(L, 4))) {
    bad_type(L, "sign");
  }
  Message& m = ctx_arg(L, "sign");
  SignCall call;
  bool have_signer = false;
  for (int c = 2; c <= top; ++c) {
    if (c == 2) {
      call.key = str_arg(L, 2, "sign");
    } else if (lua_type(L, c) == LUA_TNUMBER) {  // signer and length in either order
      if (call.length) bad_type(L, "sign");
      call.length = static_cast<std::int64_t>(lua_tonumber(L, c));
    } else {
      if (have_signer) bad_type(L, "sign");
      call.signer = str_arg(L, c, "sign");
      have_signer = true;
    }
  }
  if (call.key && !m.key_table) fail(L, "odkim.sign(): request requires KeyTable");
  int r = m.sign ? guarded(L, "sign", [&] { return m.sign(call); }) : 0;
  push_num(L, r);
  return 1;
}
int x_signfor(lua_State* L) {
  int top = lua_gettop(L);
  if (top != 2 && top != 3) bad_count(L, "signfor");
  if (!lua_islightuserdata(L, 1) || !lua_isstring(L, 2) || (top == 3 && !lua_isboolean(L, 3))) {
    fail(L, "odkim.signfor(): invalid argument");
  }
  Message& m = ctx_arg(L, "signfor");
  std::string addr = str_arg(L, 2, "signfor");
  bool multi = top == 3 && lua_toboolean(L, 3) != 0;
  if (!m.signfor) {
    lua_pushnil(L);
    return 1;
  }
  std::size_t n = guarded(L, "signfor", [&] { return m.signfor(addr, multi); });
  push_num(L, static_cast<double>(n));
  return 1;
}
int x_verify(lua_State* L) {
  want_count(L, "verify", 1, 1);
  ctx_arg(L, "verify").verify = true;
  lua_pushnil(L);
  return 1;
}
int x_use_ltag(lua_State* L) {
  want_count(L, "use_ltag", 1, 1);
  ctx_arg(L, "use_ltag").ltag = true;
  lua_pushnil(L);
  return 1;
}
int x_set_result(lua_State* L) {
  want_count(L, "set_result", 2, 2);
  Message& m = ctx_arg(L, "set_result");
  int r = static_cast<int>(num_arg(L, 2, "set_result"));
  if (r == kSmfisTempfail || r == kSmfisAccept || r == kSmfisDiscard || r == kSmfisReject) {
    m.result = r;
    push_num(L, 1);
  } else {
    lua_pushnil(L);
  }
  return 1;
}
/// odkim.resign: Debian's opendkim 2.11 is built without _FFR_RESIGN (its -V); it registers the
/// function all the same and, for a message, answers nil — opendkim-lua(3)'s "nil on
/// failure" — changing nothing (lab: `opendkim -t`). So does inkan-dkim.
int x_resign(lua_State* L) {
  want_count(L, "resign", 1, 1);
  (void)ctx_arg(L, "resign");
  lua_pushnil(L);
  return 1;
}
/// odkim.xtag (setup and final hooks). Debian's opendkim 2.11 never adds an extension tag: with
/// no signature requested it answers 0 (no signature modified); in the final script the
/// signatures are made and libopendkim refuses (-1, lab); in the setup script a pending
/// odkim.sign request aborts the daemon (dkim_add_xtag asserts on the signing handle that does
/// not exist yet; lab). inkan-dkim's signer writes no extension tags either: 0 without a
/// request, otherwise -1 — opendkim-lua(3)'s error value — where opendkim crashes.
int x_xtag(lua_State* L) {
  want_count(L, "xtag", 3, 3);
  if (!lua_isuserdata(L, 1) || !lua_isstring(L, 2) || !lua_isstring(L, 3)) bad_type(L, "xtag");
  Message& m = ctx_arg(L, "xtag");
  std::size_t n = m.sign_requests ? guarded(L, "xtag", [&] { return m.sign_requests(); }) : 0;
  push_num(L, n == 0 ? 0 : -1);
  return 1;
}
// odkim.spam is opendkim's _FFR_REPUTATION, which Debian's build lacks: it is not registered,
// so `odkim.spam` is nil and calling it fails with "attempt to call a nil value (field
// 'spam')", here as there. opendkim-lua(3) lists it but says so itself ("Experimental feature
// not enabled for this installation").

/// odkim.rbl_check(ctx, query, qroot[, timeout]) (final hook; _FFR_RBL is in Debian's build):
/// the A record of "query.qroot", through the daemon's resolver. Four numbers (the octets,
/// big-endian order) when listed, nothing when not (NXDOMAIN, no A record, SERVFAIL — librbl
/// reads an answer without records as "not found"), nil on error. Differences from opendkim
/// 2.11, each the man page's word: an error (several A records, a malformed answer, the
/// script's timeout) gives nil where opendkim returns librbl's error text ("" for a timeout);
/// a fractional timeout is honoured where opendkim keeps whole seconds (its modf() result
/// lands in tv_usec unscaled); Nameservers and ResolverConfiguration are used where
/// opendkim's rbl_check aborts on them (dkimf_ub_nslist / dkimf_ub_config assert on the
/// resolver it has not opened yet; lab). A timeout < 0 (opendkim's default is -1) or none
/// means the resolver's own limits.
int x_rbl_check(lua_State* L) {
  int top = lua_gettop(L);
  if (top < 3 || top > 4) bad_count(L, "rbl_check");
  if (!lua_isuserdata(L, 1) || !lua_isstring(L, 2) || !lua_isstring(L, 3) || (top == 4 && !lua_isnumber(L, 4))) {
    bad_type(L, "rbl_check");
  }
  Message& m = ctx_arg(L, "rbl_check");
  std::string query = str_arg(L, 2, "rbl_check");
  std::string root = str_arg(L, 3, "rbl_check");
  // C strings in opendkim: a NUL ends them.
  query.resize(std::strlen(query.c_str()));
  root.resize(std::strlen(root.c_str()));
  std::optional<std::chrono::milliseconds> timeout;
  if (top == 4) {
    double t = lua_tonumber(L, 4);
    if (std::isfinite(t) && t >= 0 && t < kRblLongestTimeoutSeconds) {
      timeout = std::chrono::milliseconds(static_cast<std::int64_t>(t * 1000.0));
    }
  }
  lua_settop(L, 0);
  // librbl: rbl_query_start fails with "query root not set", and rbl_check raises this.
  if (root.empty()) fail(L, "odkim.rbl_check(): RBL query failed");
  if (!m.resolver) {
    lua_pushnil(L);
    return 1;
  }
  RblResult r = rbl_lookup(m.resolver, query + "." + root, timeout);
  switch (r.kind) {
    case RblResult::Kind::Listed:
      push_num(L, static_cast<double>(r.address >> 24));
      push_num(L, static_cast<double>((r.address >> 16) & 0xff));
      push_num(L, static_cast<double>((r.address >> 8) & 0xff));
      push_num(L, static_cast<double>(r.address & 0xff));
      return 4;
    case RblResult::Kind::NotListed: return 0;
    case RblResult::Kind::Error: break;
  }
  lua_pushnil(L);
  return 1;
}

/* -- data sets -- */

int x_db_open(lua_State* L) {
  int top = lua_gettop(L);
  if (top != 1 && top != 2) bad_count(L, "db_open");
  if (!lua_isstring(L, 1) || (top == 2 && !lua_isboolean(L, 2))) bad_type(L, "db_open");
  std::string name = str_arg(L, 1, "db_open");
  bool icase = top == 2 && lua_toboolean(L, 2) != 0;
  std::optional<auth::config::Dataset> d;
  std::string err;
  try {
    d.emplace(auth::config::Dataset::open(name, icase, "odkim.db_open"));
  } catch (const std::exception& e) {
    err = name + ": odkim.db_open(): " + e.what();
  }
  if (!d) fail(L, err);
  push_db(L, std::move(*d));
  return 1;
}
int x_db_check(lua_State* L) {
  want_count(L, "db_check", 2, 2);
  auto* h = static_cast<DbHandle*>(luaL_testudata(L, 1, kDbMeta));
  if (!h || !lua_isstring(L, 2)) bad_type(L, "db_check");
  std::string key = str_arg(L, 2, "db_check");
  if (!h->set) {
    lua_pushnil(L);  // closed handle
    return 1;
  }
  push_num(L, h->set->find(key) ? 1 : 0);
  return 1;
}
int x_db_close(lua_State* L) {
  want_count(L, "db_close", 1, 1);
  auto* h = static_cast<DbHandle*>(luaL_testudata(L, 1, kDbMeta));
  if (!h) bad_type(L, "db_close");
  delete h->set;
  h->set = nullptr;
  push_num(L, 1);
  return 1;
}
int x_db_handle(lua_State* L) {
  want_count(L, "get_dbhandle", 2, 2);
  Message& m = ctx_arg(L, "get_dbhandle");
  // opendkim 2.11 reads the code from argument 1 (the ctx); the man page's (ctx, db) is used.
  int code = static_cast<int>(num_arg(L, 2, "get_dbhandle"));
  std::optional<std::vector<std::string>> entries;
  if (m.db_entries) entries = guarded(L, "get_dbhandle", [&] { return m.db_entries(code); });
  if (!entries) {
    lua_pushnil(L);
    return 1;
  }
  std::string text;
  for (const auto& e : *entries) text += e + "\n";
  push_db(L, auth::config::Dataset::from_text(text, auth::config::DatasetKind::File, true, "get_dbhandle"));
  return 1;
}

/* -- signatures -- */

int x_sigcount(lua_State* L) {
  want_count(L, "get_sigcount", 1, 1);
  push_num(L, static_cast<double>(ctx_arg(L, "get_sigcount").signatures.size()));
  return 1;
}
int x_sigarray(lua_State* L) {
  want_count(L, "get_sigarray", 1, 1);
  Message& m = ctx_arg(L, "get_sigarray");
  lua_newtable(L);
  for (std::size_t i = 0; i < m.signatures.size(); ++i) {
    push_num(L, static_cast<double>(i + 1));
    push_sig(L, i);
    lua_settable(L, -3);
  }
  return 1;
}
int x_sighandle(lua_State* L) {
  want_count(L, "get_sighandle", 2, 2);
  Message& m = ctx_arg(L, "get_sighandle");
  std::int64_t n = num_arg(L, 2, "get_sighandle");
  if (n < 0 || static_cast<std::uint64_t>(n) >= m.signatures.size()) fail(L, "odkim.get_sighandle(): invalid request");
  push_sig(L, static_cast<std::size_t>(n));
  return 1;
}
int x_sig_domain(lua_State* L) {
  want_count(L, "sig_getdomain", 1, 1);
  const SigView& s = sig_arg(L, 1, "sig_getdomain");
  if (s.domain) push(L, *s.domain);
  else lua_pushnil(L);
  return 1;
}
int x_sig_identity(lua_State* L) {
  want_count(L, "sig_getidentity", 1, 1);
  const SigView& s = sig_arg(L, 1, "sig_getidentity");
  if (s.identity) push(L, *s.identity);
  else lua_pushnil(L);
  return 1;
}
int x_sig_ignore(lua_State* L) {
  want_count(L, "sig_ignore", 1, 1);
  sig_arg(L, 1, "sig_ignore").ignored = true;
  lua_pushnil(L);
  return 1;
}
int x_sig_result(lua_State* L) {
  want_count(L, "sig_result", 1, 1);
  push_num(L, sig_arg(L, 1, "sig_result").error);
  return 1;
}
int x_sig_bhresult(lua_State* L) {
  want_count(L, "sig_bhresult", 1, 1);
  push_num(L, sig_arg(L, 1, "sig_bhresult").bh);
  return 1;
}
/// sig_bodylength / sig_canonlength: opendkim's code takes (ctx, sig), the man page (sig);
/// both forms are accepted.
const SigView& length_sig(lua_State* L, const char* fn) {
  int top = lua_gettop(L);
  if (top != 1 && top != 2) bad_count(L, fn);
  if (top == 2) (void)ctx_arg(L, fn);
  return sig_arg(L, top, fn);
}
int x_sig_bodylength(lua_State* L) {
  const SigView& s = length_sig(L, "sig_bodylength");
  if (s.body_length) push_num(L, static_cast<double>(*s.body_length));
  else lua_pushnil(L);
  return 1;
}
int x_sig_canonlength(lua_State* L) {
  const SigView& s = length_sig(L, "sig_canonlength");
  if (s.canon_length) push_num(L, static_cast<double>(*s.canon_length));
  else lua_pushnil(L);
  return 1;
}

/* -- final -- */

int x_add_header(lua_State* L) {
  want_count(L, "add_header", 3, 3);
  Message& m = ctx_arg(L, "add_header");
  std::string name = str_arg(L, 2, "add_header");
  std::string value = str_arg(L, 3, "add_header");
  m.add_headers.emplace_back(std::move(name), std::move(value));
  push_num(L, 1);
  return 1;
}
int x_del_header(lua_State* L) {
  want_count(L, "del_header", 3, 3);
  Message& m = ctx_arg(L, "del_header");
  std::string name = str_arg(L, 2, "del_header");
  std::int64_t n = num_arg(L, 3, "del_header");
  // opendkim 2.11 always deletes the first instance; the man page's n-th (from 0) is done.
  if (n < 0 || n > 100000) {
    lua_pushnil(L);
    return 1;
  }
  m.del_headers.emplace_back(std::move(name), static_cast<int>(n) + 1);
  push_num(L, 1);
  return 1;
}
/// odkim.add_rcpt: the MTA is asked at once (SMFIR_ADDRCPT), as opendkim calls smfi_addrcpt;
/// 1, or nil when refused. Debian's opendkim 2.11 does not ask the MTA for SMFIF_ADDRCPT at
/// negotiation, so as a daemon its add_rcpt always fails (nil; lab, milter-client): inkan-dkim
/// asks for it (when offered) and keeps the man page's promise.
int x_add_rcpt(lua_State* L) {
  want_count(L, "add_rcpt", 2, 2);
  if (!lua_islightuserdata(L, 1) || !lua_isstring(L, 2)) bad_type(L, "add_rcpt");
  Message& m = ctx_arg(L, "add_rcpt");
  std::string addr = str_arg(L, 2, "add_rcpt");
  addr.resize(std::strlen(addr.c_str()));  // a C string in opendkim
  bool ok = m.add_rcpt && guarded(L, "add_rcpt", [&] { return m.add_rcpt(addr); });
  if (ok) push_num(L, 1);
  else lua_pushnil(L);
  return 1;
}
/// odkim.del_rcpt: a recipient of the message (compared case-insensitively, as opendkim's
/// strcasecmp) is removed at once (SMFIR_DELRCPT, the address as the MTA gave it) and
/// kOriginalRecipientHeader added; nil for an unknown address. Errors name it
/// "odkim.delete_rcpt()", as opendkim does. Where smfi_delrcpt fails opendkim logs it and still
/// answers 1 — and as a daemon it always fails, SMFIF_DELRCPT not being negotiated (lab);
/// inkan-dkim asks for it and answers nil on failure (the man page).
int x_del_rcpt(lua_State* L) {
  if (lua_gettop(L) != 2) fail(L, "odkim.delete_rcpt(): incorrect argument count");  // sic
  if (!lua_islightuserdata(L, 1) || !lua_isstring(L, 2)) fail(L, "odkim.delete_rcpt(): incorrect argument type");
  Message& m = ctx_arg(L, "delete_rcpt");
  std::string addr = str_arg(L, 2, "delete_rcpt");
  addr.resize(std::strlen(addr.c_str()));
  auto it = std::find_if(m.rcpts.begin(), m.rcpts.end(), [&](const std::string& r) {
    return r.size() == addr.size() && strncasecmp(r.data(), addr.data(), r.size()) == 0;
  });
  if (it == m.rcpts.end()) {
    lua_pushnil(L);
    return 1;
  }
  std::string known = *it;
  bool ok = m.del_rcpt && guarded(L, "delete_rcpt", [&] { return m.del_rcpt(known); });
  if (ok) push_num(L, 1);
  else lua_pushnil(L);
  return 1;
}
int x_quarantine(lua_State* L) {
  want_count(L, "quarantine", 2, 2);
  Message& m = ctx_arg(L, "quarantine");
  m.quarantine = str_arg(L, 2, "quarantine");
  push_num(L, 1);
  return 1;
}
int x_set_reply(lua_State* L) {
  want_count(L, "set_reply", 4, 4);
  Message& m = ctx_arg(L, "set_reply");
  Reply r{str_arg(L, 2, "set_reply"), str_arg(L, 3, "set_reply"), str_arg(L, 4, "set_reply")};
  // smfi_setreply's checks: a 4xx/5xx code, an empty or matching x-code.
  bool ok = r.rcode.size() == 3 && (r.rcode[0] == '4' || r.rcode[0] == '5') &&
            std::isdigit(static_cast<unsigned char>(r.rcode[1])) && std::isdigit(static_cast<unsigned char>(r.rcode[2])) &&
            (r.xcode.empty() || r.xcode[0] == r.rcode[0]) &&
            r.text.find_first_of("\r\n") == std::string::npos;
  if (!ok) {
    lua_pushnil(L);
    return 1;
  }
  m.reply = std::move(r);
  push_num(L, 1);
  return 1;
}

/* ---------------- libraries per hook (opendkim-lua.c 2.11 + man page) ---------------- */
// The names Debian's opendkim 2.11 registers, hook by hook (lab: a script listing `odkim`'s
// keys under `opendkim -t`); odkim.spam is in none of them (see above).

const luaL_Reg kSetup[] = {
    {"check_popauth", x_popauth}, {"db_check", x_db_check}, {"db_close", x_db_close},
    {"db_open", x_db_open}, {"export", x_export}, {"get_clienthost", x_clienthost},
    {"get_clientip", x_clientip}, {"get_dbhandle", x_db_handle}, {"get_envfrom", x_envfrom},
    {"get_fromdomain", x_fromdomain}, {"get_header", x_get_header}, {"get_mtasymbol", x_mtasymbol},
    {"get_rcpt", x_rcpt}, {"get_rcptarray", x_rcptarray}, {"internal_ip", x_internalip},
    {"log", x_log}, {"rcpt_count", x_rcptcount}, {"replace_header", x_replace_header},
    {"resign", x_resign}, {"set_result", x_set_result}, {"sign", x_sign}, {"signfor", x_signfor},
    {"use_ltag", x_use_ltag}, {"verify", x_verify}, {"xtag", x_xtag}, {nullptr, nullptr}};

const luaL_Reg kScreen[] = {
    {"db_check", x_db_check}, {"db_close", x_db_close}, {"db_open", x_db_open},
    {"export", x_export}, {"get_dbhandle", x_db_handle}, {"get_envfrom", x_envfrom},
    {"get_fromdomain", x_fromdomain}, {"get_header", x_get_header}, {"get_mtasymbol", x_mtasymbol},
    {"get_rcpt", x_rcpt}, {"get_rcptarray", x_rcptarray}, {"get_sigarray", x_sigarray},
    {"get_sigcount", x_sigcount}, {"get_sighandle", x_sighandle}, {"internal_ip", x_internalip},
    {"log", x_log}, {"parse_field", x_parsefield}, {"rcpt_count", x_rcptcount},
    {"sig_getdomain", x_sig_domain}, {"sig_getidentity", x_sig_identity}, {"sig_ignore", x_sig_ignore},
    {nullptr, nullptr}};

const luaL_Reg kFinal[] = {
    {"add_header", x_add_header}, {"add_rcpt", x_add_rcpt}, {"del_header", x_del_header},
    {"del_rcpt", x_del_rcpt}, {"get_clienthost", x_clienthost}, {"get_clientip", x_clientip},
    {"get_envfrom", x_envfrom}, {"get_fromdomain", x_fromdomain}, {"get_header", x_get_header},
    {"get_mtasymbol", x_mtasymbol}, {"get_rcpt", x_rcpt}, {"get_rcptarray", x_rcptarray},
    {"get_sigarray", x_sigarray}, {"get_sigcount", x_sigcount}, {"get_sighandle", x_sighandle},
    {"internal_ip", x_internalip}, {"log", x_log}, {"parse_field", x_parsefield},
    {"quarantine", x_quarantine}, {"rbl_check", x_rbl_check}, {"rcpt_count", x_rcptcount},
    {"set_reply", x_set_reply}, {"set_result", x_set_result}, {"sig_bhresult", x_sig_bhresult},
    {"sig_bodylength", x_sig_bodylength}, {"sig_canonlength", x_sig_canonlength},
    {"sig_getdomain", x_sig_domain}, {"sig_getidentity", x_sig_identity}, {"sig_result", x_sig_result},
    {"xtag", x_xtag}, {nullptr, nullptr}};

void set_number(lua_State* L, const char* name, double v) {
  lua_pushnumber(L, v);
  lua_setglobal(L, name);
}

struct Constant {
  const char* name;
  int value;
};
const Constant kSigErrors[] = {
    {"DKIM_SIGERROR_UNKNOWN", kSigErrorUnknown}, {"DKIM_SIGERROR_OK", kSigErrorOk},
    {"DKIM_SIGERROR_VERSION", kSigErrorVersion}, {"DKIM_SIGERROR_DOMAIN", kSigErrorDomain},
    {"DKIM_SIGERROR_EXPIRED", kSigErrorExpired}, {"DKIM_SIGERROR_FUTURE", kSigErrorFuture},
    {"DKIM_SIGERROR_TIMESTAMPS", kSigErrorTimestamps}, {"DKIM_SIGERROR_INVALID_HC", kSigErrorInvalidHc},
    {"DKIM_SIGERROR_INVALID_BC", kSigErrorInvalidBc}, {"DKIM_SIGERROR_MISSING_A", kSigErrorMissingA},
    {"DKIM_SIGERROR_INVALID_A", kSigErrorInvalidA}, {"DKIM_SIGERROR_MISSING_H", kSigErrorMissingH},
    {"DKIM_SIGERROR_INVALID_L", kSigErrorInvalidL}, {"DKIM_SIGERROR_INVALID_Q", kSigErrorInvalidQ},
    {"DKIM_SIGERROR_INVALID_QO", kSigErrorInvalidQo}, {"DKIM_SIGERROR_MISSING_D", kSigErrorMissingD},
    {"DKIM_SIGERROR_EMPTY_D", kSigErrorEmptyD}, {"DKIM_SIGERROR_MISSING_S", kSigErrorMissingS},
    {"DKIM_SIGERROR_EMPTY_S", kSigErrorEmptyS}, {"DKIM_SIGERROR_MISSING_B", kSigErrorMissingB},
    {"DKIM_SIGERROR_EMPTY_B", kSigErrorEmptyB}, {"DKIM_SIGERROR_CORRUPT_B", kSigErrorCorruptB},
    {"DKIM_SIGERROR_NOKEY", kSigErrorNoKey}, {"DKIM_SIGERROR_DNSSYNTAX", kSigErrorDnsSyntax},
    {"DKIM_SIGERROR_KEYFAIL", kSigErrorKeyFail}, {"DKIM_SIGERROR_MISSING_BH", kSigErrorMissingBh},
    {"DKIM_SIGERROR_EMPTY_BH", kSigErrorEmptyBh}, {"DKIM_SIGERROR_CORRUPT_BH", kSigErrorCorruptBh},
    {"DKIM_SIGERROR_BADSIG", kSigErrorBadSig}, {"DKIM_SIGERROR_SUBDOMAIN", kSigErrorSubdomain},
    {"DKIM_SIGERROR_MULTIREPLY", kSigErrorMultiReply}, {"DKIM_SIGERROR_EMPTY_H", kSigErrorEmptyH},
    {"DKIM_SIGERROR_INVALID_H", kSigErrorInvalidH}, {"DKIM_SIGERROR_TOOLARGE_L", kSigErrorTooLargeL},
    {"DKIM_SIGERROR_MBSFAILED", kSigErrorMbsFailed}, {"DKIM_SIGERROR_KEYVERSION", kSigErrorKeyVersion},
    {"DKIM_SIGERROR_KEYUNKNOWNHASH", kSigErrorKeyUnknownHash},
    {"DKIM_SIGERROR_KEYHASHMISMATCH", kSigErrorKeyHashMismatch},
    {"DKIM_SIGERROR_NOTEMAILKEY", kSigErrorNotEmailKey}, {"DKIM_SIGERROR_KEYTYPEMISSING", kSigErrorKeyTypeMissing},
    {"DKIM_SIGERROR_KEYTYPEUNKNOWN", kSigErrorKeyTypeUnknown}, {"DKIM_SIGERROR_KEYREVOKED", kSigErrorKeyRevoked},
    {"DKIM_SIGERROR_KEYDECODE", kSigErrorKeyDecode},
};

void register_hook(lua_State* L, Hook hook, Message& msg) {
  switch (hook) {
    case Hook::Setup: luaL_newlib(L, kSetup); break;
    case Hook::Screen: luaL_newlib(L, kScreen); break;
    case Hook::Final: luaL_newlib(L, kFinal); break;
  }
  lua_setglobal(L, "odkim");

  luaL_newmetatable(L, kSigMeta);
  lua_pop(L, 1);
  luaL_newmetatable(L, kDbMeta);
  lua_pushcfunction(L, db_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  if (hook != Hook::Final) {
    set_number(L, "DB_DOMAINS", kDbDomains);
    set_number(L, "DB_THIRDPARTY", kDbThirdParty);
    set_number(L, "DB_DONTSIGNTO", kDbDontSignTo);
    set_number(L, "DB_MTAS", kDbMtas);
    set_number(L, "DB_MACROS", kDbMacros);
    set_number(L, "DB_SIGNINGTABLE", kDbSigningTable);
  }
  if (hook != Hook::Screen) {
    set_number(L, "SMFIS_TEMPFAIL", kSmfisTempfail);
    set_number(L, "SMFIS_ACCEPT", kSmfisAccept);
    set_number(L, "SMFIS_DISCARD", kSmfisDiscard);
    set_number(L, "SMFIS_REJECT", kSmfisReject);
  }
  if (hook == Hook::Final) {
    set_number(L, "DKIM_SIGBH_UNTESTED", kSigBhUntested);
    set_number(L, "DKIM_SIGBH_MATCH", kSigBhMatch);
    set_number(L, "DKIM_SIGBH_MISMATCH", kSigBhMismatch);
    for (const auto& c : kSigErrors) set_number(L, c.name, c.value);
  }
  lua_pushlightuserdata(L, &msg);
  lua_setglobal(L, "ctx");

  // Globals exported by earlier hooks of this message (dkimf_import_globals).
  for (const auto& e : msg.exports) {
    switch (e.type) {
      case Exported::Type::Nil: lua_pushnil(L); break;
      case Exported::Type::Number: lua_pushnumber(L, e.number); break;
      case Exported::Type::Boolean: lua_pushboolean(L, e.boolean ? 1 : 0); break;
      case Exported::Type::String: lua_pushlstring(L, e.text.data(), e.text.size()); break;
    }
    lua_setglobal(L, e.name.c_str());
  }
}

int dump_writer(lua_State*, const void* p, std::size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
  return 0;
}

}  // namespace

const char* hook_function_name(Hook h) noexcept {
  switch (h) {
    case Hook::Setup: return "dkimf_lua_setup_hook";
    case Hook::Screen: return "dkimf_lua_screen_hook";
    case Hook::Final: return "dkimf_lua_final_hook";
  }
  return "dkimf_lua_hook";
}

auth::Result<std::shared_ptr<const Script>> Script::compile(std::string_view source, std::string chunkname) {
  if (source.size() > kMaxScriptBytes) {
    return auth::fail(auth::ErrorCode::LimitExceeded, chunkname + ": script larger than " + std::to_string(kMaxScriptBytes) + " bytes");
  }
  RunState st;
  lua_State* L = lua_newstate(limited_alloc, &st);
  if (!L) return auth::fail(auth::ErrorCode::Internal, "lua_newstate() failed");
  std::string name = "@" + chunkname;
  // Text only: a precompiled chunk from a file would bypass the compiler's checks.
  int rc = luaL_loadbufferx(L, source.data(), source.size(), name.c_str(), "t");
  if (rc != LUA_OK) {
    std::string err = lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error";
    lua_close(L);
    return auth::fail(auth::ErrorCode::Syntax, err);
  }
  auto s = std::make_shared<Script>();
  s->name_ = std::move(chunkname);
  if (lua_dump(L, dump_writer, &s->chunk_, 0) != 0) {
    lua_close(L);
    return auth::fail(auth::ErrorCode::Internal, "lua_dump() failed");
  }
  lua_close(L);
  return std::shared_ptr<const Script>(std::move(s));
}

auth::Result<std::shared_ptr<const Script>> Script::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return auth::fail(auth::ErrorCode::Io, path + ": open(): " + std::strerror(errno));
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxScriptBytes) {
      return auth::fail(auth::ErrorCode::LimitExceeded, path + ": script larger than " + std::to_string(kMaxScriptBytes) + " bytes");
    }
  }
  return compile(text, path);
}

namespace {

/// Lookups with their own timeout still running (see kMaxRblLookupsInFlight).
std::atomic<int> rbl_in_flight{0};

/// A name a resolver can be asked: labels of 1-63 octets, 253 octets at most (one final dot
/// allowed). librbl hands anything to the resolver, which refuses such names.
bool valid_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > kMaxDnsLabelLength || c == '\0') {
      return false;
    }
  }
  return label > 0;
}

/// librbl's reading of an answer (rbl_query_check).
RblResult rbl_result(const auth::dns::Answer& a, const std::string& name) {
  RblResult r;
  using auth::dns::Status;
  switch (a.status) {
    case Status::Ok: break;
    case Status::NxDomain:
    case Status::NoData:
    case Status::ServFail:  // an answer without records: "not found"
    case Status::Timeout:   // the resolver gave up (unbound answers SERVFAIL then)
      return r;
    case Status::Malformed:
      r.kind = RblResult::Kind::Error;
      r.error = "'" + name + "' reply corrupt";
      return r;
  }
  if (a.addresses.size() > 1) {
    r.kind = RblResult::Kind::Error;
    r.error = "multiple replies for '" + name + "'";
    return r;
  }
  in_addr ip{};
  if (a.addresses.empty() || inet_pton(AF_INET, a.addresses.front().c_str(), &ip) != 1) {
    r.kind = RblResult::Kind::Error;
    r.error = "'" + name + "' reply corrupt";
    return r;
  }
  r.kind = RblResult::Kind::Listed;
  r.address = ntohl(ip.s_addr);
  return r;
}

}  // namespace

RblResult rbl_lookup(const std::shared_ptr<auth::dns::Resolver>& resolver, const std::string& name,
                     std::optional<std::chrono::milliseconds> timeout) {
  RblResult err;
  err.kind = RblResult::Kind::Error;
  if (!resolver) {
    err.error = "no resolver";
    return err;
  }
  if (!valid_dns_name(name)) {
    err.error = "'" + name + "' is not a valid DNS name";
    return err;
  }
  try {
    if (!timeout) return rbl_result(resolver->query(name, auth::dns::RType::A), name);
    // The script waits `timeout`; the lookup finishes on its own thread whatever happens.
    struct Pending {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<auth::dns::Answer> answer;
    };
    auto p = std::make_shared<Pending>();
    if (rbl_in_flight.fetch_add(1) >= kMaxRblLookupsInFlight) {
      rbl_in_flight.fetch_sub(1);
      err.error = "too many RBL lookups in flight";
      return err;
    }
    try {
      std::thread([p, resolver, name] {
        auth::dns::Answer a;
        try {
          a = resolver->query(name, auth::dns::RType::A);
        } catch (const std::exception& e) {
          a = auth::dns::Answer::with_status(auth::dns::Status::ServFail, e.what());
        } catch (...) {
          a = auth::dns::Answer::with_status(auth::dns::Status::ServFail, "resolver failure");
        }
        {
          std::lock_guard<std::mutex> g(p->mu);
          p->answer = std::move(a);
        }
        p->cv.notify_all();
        rbl_in_flight.fetch_sub(1);
      }).detach();
    } catch (const std::exception& e) {
      rbl_in_flight.fetch_sub(1);
      err.error = std::string("cannot start the lookup: ") + e.what();
      return err;
    }
    std::unique_lock<std::mutex> lk(p->mu);
    if (!p->cv.wait_for(lk, *timeout, [&] { return p->answer.has_value(); })) {
      err.error = "timeout";
      return err;
    }
    return rbl_result(*p->answer, name);
  } catch (const std::exception& e) {
    err.error = e.what();
    return err;
  }
}

RunResult run(const Script& script, Hook hook, Message& msg, std::uint64_t max_instructions, std::size_t max_memory) {
  RunResult out;
  RunState st;
  st.msg = &msg;
  st.max_instructions = max_instructions;
  st.max_memory = max_memory;
  lua_State* L = lua_newstate(limited_alloc, &st);
  if (!L) {
    out.ok = false;
    out.error = "memory allocation error";
    return out;
  }
  struct Closer {
    lua_State* L;
    ~Closer() {
      lua_sethook(L, nullptr, 0, 0);  // finalizers run by lua_close are not counted
      lua_close(L);
    }
  } closer{L};

  luaL_openlibs(L);  // as opendkim: every standard library
  guard(L, nullptr, "pcall");
  guard(L, nullptr, "xpcall");
  guard(L, "coroutine", "resume");
  guard(L, "coroutine", "wrap");
  register_hook(L, hook, msg);

  int rc = luaL_loadbufferx(L, script.chunk().data(), script.chunk().size(), ("@" + script.name()).c_str(), "b");
  if (rc == LUA_OK) {
    lua_sethook(L, count_hook, LUA_MASKCOUNT, kInstructionCheckStep);
    rc = lua_pcall(L, 0, 0, 0);
  }
  if (rc != LUA_OK) {
    out.ok = false;
    if (st.limit_hit) out.error = st.limit_error;
    else if (lua_type(L, -1) == LUA_TSTRING) out.error = lua_tostring(L, -1);
    else if (rc == LUA_ERRMEM) out.error = "memory allocation error";
    else out.error = "processing error";
  } else if (st.limit_hit) {
    out.ok = false;
    out.error = st.limit_error;
  }
  return out;
}

}  // namespace inkan::dkim::lua
