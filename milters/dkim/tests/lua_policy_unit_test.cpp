// Lua policy hooks (milters/dkim/lua_policy.h) against a fake message: the odkim.* functions
// of each hook, their effects, the argument errors, and the safety limits.
#include "dkim/lua_policy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/dns/zone.h"

namespace {

using namespace inkan::dkim::lua;

std::vector<auth::mail::Field> make_headers() {
  std::vector<auth::mail::Field> h;
  for (const char* raw : {"Received: from a", "From: Alice <alice@Example.ORG>", "Received: from b\r\n\tby c",
                          "Subject: hello", "DKIM-Signature: v=1; d=example.net"}) {
    auto f = auth::mail::Field::parse(raw);
    EXPECT_TRUE(f.has_value()) << raw;
    h.push_back(*f);
  }
  return h;
}

struct Fake {
  std::vector<auth::mail::Field> headers = make_headers();
  std::vector<std::string> logs;
  std::vector<SignCall> signs;
  std::vector<std::string> added_rcpts, deleted_rcpts;  ///< what the "MTA" was asked
  bool grant_rcpt_changes = true;                       ///< SMFIF_ADDRCPT/DELRCPT negotiated
  std::size_t requests = 0;                             ///< signatures requested so far
  Message msg;
  Fake() {
    msg.headers = &headers;
    msg.from_domain = "example.org";
    msg.client_host = "mx.example.com";
    msg.client_ip = "192.0.2.1";
    msg.envfrom = "<alice@example.org>";
    msg.rcpts = {"<bob@example.com>", "<carol@example.net>"};
    msg.internal_ip = true;
    msg.key_table = true;
    msg.add_rcpt = [this](std::string_view a) {
      if (!grant_rcpt_changes) return false;
      added_rcpts.emplace_back(a);
      return true;
    };
    msg.del_rcpt = [this](std::string_view a) {
      if (!grant_rcpt_changes) return false;
      deleted_rcpts.emplace_back(a);
      return true;
    };
    msg.sign_requests = [this] { return requests; };
    msg.macro = [](std::string_view n) -> std::optional<std::string> {
      if (n == "i") return std::string("QID1");
      return std::nullopt;
    };
    msg.log = [this](std::string_view s) { logs.emplace_back(s); };
    msg.sign = [this](const SignCall& c) {
      signs.push_back(c);
      if (c.key && *c.key == "missing") return 0;
      ++requests;
      return 1;
    };
    msg.signfor = [](std::string_view addr, bool multi) -> std::size_t {
      if (addr.find('@') == std::string_view::npos) throw ScriptError("odkim.signfor(): can't parse address");
      return multi ? 2 : 1;
    };
  }
  RunResult run_text(const std::string& text, Hook h, std::uint64_t limit = kMaxInstructions,
                     std::size_t mem = kMaxMemoryBytes) {
    auto s = Script::compile(text, "test.lua");
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().reason);
    if (!s) return {false, s.error().reason};
    return run(**s, h, msg, limit, mem);
  }
};

/* The read functions: each row is a Lua expression logged with tostring(). */
struct ReadCase {
  Hook hook;
  const char* expr;
  const char* want;
};
class LuaRead : public ::testing::TestWithParam<ReadCase> {};

TEST_P(LuaRead, Returns) {
  Fake f;
  const auto& c = GetParam();
  auto r = f.run_text(std::string("odkim.log(ctx, tostring(") + c.expr + "))", c.hook);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(f.logs.size(), 1u);
  EXPECT_EQ(f.logs[0], c.want) << c.expr;
}

INSTANTIATE_TEST_SUITE_P(
    Functions, LuaRead,
    ::testing::Values(ReadCase{Hook::Setup, "odkim.get_fromdomain(ctx)", "example.org"},
                      ReadCase{Hook::Setup, "odkim.get_header(ctx, 'from', 0)", "Alice <alice@Example.ORG>"},
                      ReadCase{Hook::Setup, "odkim.get_header(ctx, 'Received', -1)", "from b\n\tby c"},
                      ReadCase{Hook::Setup, "odkim.get_header(ctx, 'Received', -2)", "from a"},
                      ReadCase{Hook::Setup, "odkim.get_header(ctx, 'Received', 2)", "nil"},
                      ReadCase{Hook::Setup, "odkim.get_header(ctx, 'Received', -3)", "nil"},
                      ReadCase{Hook::Setup, "odkim.get_clienthost(ctx)", "mx.example.com"},
                      ReadCase{Hook::Setup, "odkim.get_clientip(ctx)", "192.0.2.1"},
                      ReadCase{Hook::Setup, "odkim.get_envfrom(ctx)", "<alice@example.org>"},
                      ReadCase{Hook::Setup, "odkim.get_mtasymbol(ctx, 'i')", "QID1"},
                      ReadCase{Hook::Setup, "odkim.get_mtasymbol(ctx, 'j')", "nil"},
                      ReadCase{Hook::Setup, "odkim.rcpt_count(ctx)", "2.0"},
                      ReadCase{Hook::Setup, "odkim.get_rcpt(ctx, 1)", "<carol@example.net>"},
                      ReadCase{Hook::Setup, "odkim.get_rcpt(ctx, 2)", "nil"},
                      ReadCase{Hook::Setup, "odkim.get_rcptarray(ctx)[2]", "<carol@example.net>"},
                      ReadCase{Hook::Setup, "odkim.internal_ip(ctx)", "1.0"},
                      ReadCase{Hook::Setup, "odkim.check_popauth(ctx)", "nil"},
                      ReadCase{Hook::Setup, "SMFIS_REJECT", "1.0"},
                      ReadCase{Hook::Setup, "DB_SIGNINGTABLE", "6.0"},
                      ReadCase{Hook::Screen, "SMFIS_REJECT", "nil"},
                      ReadCase{Hook::Screen, "odkim.sign", "nil"},
                      ReadCase{Hook::Screen, "select(2, odkim.parse_field('Bob <bob@b.example>'))", "b.example"},
                      ReadCase{Hook::Screen, "odkim.parse_field('no address')", "nil"},
                      ReadCase{Hook::Final, "DKIM_SIGERROR_BADSIG", "28.0"},
                      ReadCase{Hook::Final, "DKIM_SIGBH_MISMATCH", "1.0"},
                      ReadCase{Hook::Final, "odkim.verify", "nil"},
                      ReadCase{Hook::Final, "type(io) .. type(os) .. type(string)", "tabletabletable"}));

TEST(LuaSetup, SignRequestsAndFlags) {
  Fake f;
  auto r = f.run_text(R"(
    assert(odkim.sign(ctx, "korg") == 1)
    assert(odkim.sign(ctx, "knet", 100, "@example.net") == 1)
    assert(odkim.sign(ctx, "missing") == 0)
    assert(odkim.signfor(ctx, "a@example.org", true) == 2)
    odkim.use_ltag(ctx)
    odkim.verify(ctx)
  )", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(f.signs.size(), 3u);
  EXPECT_EQ(*f.signs[0].key, "korg");
  EXPECT_EQ(f.signs[1].signer, "@example.net");
  EXPECT_EQ(*f.signs[1].length, 100);
  EXPECT_TRUE(f.msg.ltag);
  EXPECT_TRUE(f.msg.verify);
}

TEST(LuaSetup, SetResultAndReplaceHeader) {
  Fake f;
  auto r = f.run_text(R"(
    assert(odkim.set_result(ctx, 99) == nil)
    assert(odkim.set_result(ctx, SMFIS_DISCARD) == 1)
    odkim.replace_header(ctx, "Subject", 0, "changed")
    assert(odkim.replace_header(ctx, "X-None", 0, "v") == nil)
  )", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(f.msg.result, kSmfisDiscard);
  EXPECT_EQ(f.headers[3].raw, "Subject: changed");
  EXPECT_EQ(f.headers[3].value, "changed");
}

TEST(LuaSetup, KeyNameWithoutKeyTableIsAnError) {
  Fake f;
  f.msg.key_table = false;
  auto r = f.run_text("odkim.sign(ctx, 'k')", Hook::Setup);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("odkim.sign(): request requires KeyTable"), std::string::npos) << r.error;
  Fake g;
  g.msg.key_table = false;
  r = g.run_text("assert(odkim.sign(ctx) == 1)", Hook::Setup);
  EXPECT_TRUE(r.ok) << r.error;
  ASSERT_EQ(g.signs.size(), 1u);
  EXPECT_FALSE(g.signs[0].key.has_value());
}

TEST(LuaScreen, IgnoreSignatures) {
  Fake f;
  f.msg.signatures = {SigView{std::string("example.org"), std::string("@example.org"), kSigErrorUnknown, kSigBhUntested, {}, {}, false},
                      SigView{std::string("example.net"), std::string("u@example.net"), kSigErrorUnknown, kSigBhUntested, {}, {}, false}};
  auto r = f.run_text(R"(
    local n = odkim.get_sigcount(ctx)
    for i = 0, n - 1 do
      local s = odkim.get_sighandle(ctx, i)
      if odkim.sig_getdomain(s) == "example.net" then
        odkim.log(ctx, odkim.sig_getidentity(s))
        odkim.sig_ignore(s)
      end
    end
    assert(#odkim.get_sigarray(ctx) == 2)
  )", Hook::Screen);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(f.msg.signatures[0].ignored);
  EXPECT_TRUE(f.msg.signatures[1].ignored);
  EXPECT_EQ(f.logs, std::vector<std::string>{"u@example.net"});
}

TEST(LuaFinal, EffectsAndSignatureResults) {
  Fake f;
  SigView s{std::string("example.org"), std::string("@example.org"), kSigErrorBadSig, kSigBhMismatch, 11, 11, false};
  f.msg.signatures = {s};
  auto r = f.run_text(R"(
    local s = odkim.get_sighandle(ctx, 0)
    odkim.log(ctx, odkim.sig_result(s) .. " " .. odkim.sig_bhresult(s) .. " " ..
                   odkim.sig_bodylength(ctx, s) .. " " .. odkim.sig_canonlength(s))
    assert(odkim.add_header(ctx, "X-Policy", "bad") == 1)
    assert(odkim.add_rcpt(ctx, "<audit@example.org>") == 1)
    assert(odkim.del_rcpt(ctx, "<BOB@example.com>") == 1)
    assert(odkim.del_rcpt(ctx, "<nobody@example.com>") == nil)
    assert(odkim.del_header(ctx, "Subject", 0) == 1)
    assert(odkim.quarantine(ctx, "held") == 1)
    assert(odkim.set_reply(ctx, "250", "", "no") == nil)
    assert(odkim.set_reply(ctx, "550", "5.7.1", "go away") == 1)
    assert(odkim.set_result(ctx, SMFIS_REJECT) == 1)
  )", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(f.logs, std::vector<std::string>{"28.0 1.0 11.0 11.0"});
  ASSERT_EQ(f.msg.add_headers.size(), 1u);
  EXPECT_EQ(f.msg.add_headers[0].first, "X-Policy");
  EXPECT_EQ(f.added_rcpts, std::vector<std::string>{"<audit@example.org>"});
  EXPECT_EQ(f.deleted_rcpts, std::vector<std::string>{"<bob@example.com>"}) << "the stored spelling";
  ASSERT_EQ(f.msg.del_headers.size(), 1u);
  EXPECT_EQ(f.msg.del_headers[0].second, 1);
  EXPECT_EQ(f.msg.quarantine, "held");
  ASSERT_TRUE(f.msg.reply.has_value());
  EXPECT_EQ(f.msg.reply->rcode, "550");
  EXPECT_EQ(f.msg.reply->text, "go away");
  EXPECT_EQ(f.msg.result, kSmfisReject);
}

TEST(LuaFinal, RecipientChangesRefusedByTheMtaGiveNil) {
  Fake f;
  f.grant_rcpt_changes = false;  // the MTA did not grant SMFIF_ADDRCPT / SMFIF_DELRCPT
  auto r = f.run_text(R"(
    assert(odkim.add_rcpt(ctx, "<a@b.example>") == nil)
    assert(odkim.del_rcpt(ctx, "<bob@example.com>") == nil)
  )", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(f.added_rcpts.empty());
  f.msg.add_rcpt = nullptr;  // no runtime at all: refused too
  f.msg.del_rcpt = nullptr;
  r = f.run_text("assert(odkim.add_rcpt(ctx, 'a@b.example') == nil) assert(odkim.del_rcpt(ctx, '<bob@example.com>') == nil)",
                 Hook::Final);
  EXPECT_TRUE(r.ok) << r.error;
}

TEST(LuaFinal, RecipientChangesAreCStringsAndOnlyInTheFinalHook) {
  Fake f;
  // opendkim passes lua_tostring's C string: a NUL ends the address.
  auto r = f.run_text(R"(
    assert(odkim.add_rcpt(ctx, "x@example.org\0<y@example.org>") == 1)
    assert(odkim.del_rcpt(ctx, "<carol@EXAMPLE.net>\0junk") == 1)
    for i = 1, 10000 do odkim.add_rcpt(ctx, "r" .. i .. "@example.org") end
  )", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(f.added_rcpts.size(), 10001u);
  EXPECT_EQ(f.added_rcpts[0], "x@example.org");
  EXPECT_EQ(f.added_rcpts[10000], "r10000@example.org");
  EXPECT_EQ(f.deleted_rcpts, std::vector<std::string>{"<carol@example.net>"});
  for (Hook h : {Hook::Setup, Hook::Screen}) {
    r = f.run_text("odkim.add_rcpt(ctx, 'a@b.example')", h);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("attempt to call a nil value (field 'add_rcpt')"), std::string::npos) << r.error;
    r = f.run_text("odkim.del_rcpt(ctx, 'a@b.example')", h);
    EXPECT_NE(r.error.find("attempt to call a nil value (field 'del_rcpt')"), std::string::npos) << r.error;
  }
}

/* odkim.resign, odkim.xtag, odkim.spam as Debian's opendkim 2.11 has them. */
TEST(LuaDebianBuild, ResignAnswersNilXtagCountsNoTagSpamIsNil) {
  Fake f;
  auto r = f.run_text(R"(
    assert(odkim.resign(ctx) == nil)
    assert(odkim.xtag(ctx, "x", "y") == 0)        -- nothing requested: 0 signatures modified
    assert(odkim.sign(ctx, "k1") == 1)
    assert(odkim.xtag(ctx, "x", "y") == -1)       -- opendkim aborts here; the man page's error
    assert(odkim.spam == nil)
  )", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  f.requests = 0;
  r = f.run_text("assert(odkim.xtag(ctx, 'x', 'y') == 0) assert(odkim.spam == nil) assert(odkim.resign == nil)", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  f.requests = 2;
  r = f.run_text("assert(odkim.xtag(ctx, 'x', 'y') == -1)", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  r = f.run_text("assert(odkim.spam == nil) assert(odkim.xtag == nil) assert(odkim.rbl_check == nil)", Hook::Screen);
  ASSERT_TRUE(r.ok) << r.error;
  f.msg.sign_requests = nullptr;
  r = f.run_text("assert(odkim.xtag(ctx, 'x', 'y') == 0)", Hook::Final);
  EXPECT_TRUE(r.ok) << r.error;
}

/* odkim.rbl_check against an in-memory zone (auth::dns::ZoneResolver). */
std::shared_ptr<auth::dns::ZoneResolver> rbl_zone() {
  auto z = std::make_shared<auth::dns::ZoneResolver>();
  auto ok = z->load_master_file(R"(
2.0.0.127.bl.example.   IN A 127.0.0.2
10.0.0.127.bl.example.  IN A 127.0.0.10
multi.bl.example.       IN A 127.0.0.2
multi.bl.example.       IN A 127.0.0.3
txt.bl.example.         IN TXT "listed, but no A"
alias.bl.example.       IN CNAME target.bl.example.
target.bl.example.      IN A 127.1.2.254
)");
  EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().reason);
  return z;
}

struct RblCase {
  const char* call;  ///< the arguments after ctx
  const char* want;  ///< what the script logs: the results, tostring'd, ' '-joined; "-" = none
};
class LuaRbl : public ::testing::TestWithParam<RblCase> {};

TEST_P(LuaRbl, Answers) {
  Fake f;
  f.msg.resolver = rbl_zone();
  const auto& c = GetParam();
  auto r = f.run_text(std::string(R"(
    local t = table.pack(odkim.rbl_check(ctx, )") + c.call + R"())
    local out = {}
    for i = 1, t.n do out[#out + 1] = tostring(t[i]) end
    odkim.log(ctx, #out == 0 and "-" or table.concat(out, " "))
  )", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(f.logs.size(), 1u);
  EXPECT_EQ(f.logs[0], c.want) << c.call;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LuaRbl,
    ::testing::Values(RblCase{"'2.0.0.127', 'bl.example'", "127.0 0.0 0.0 2.0"},   // four octets, big-endian
                      RblCase{"'10.0.0.127', 'BL.example', 5", "127.0 0.0 0.0 10.0"},
                      RblCase{"'alias', 'bl.example'", "127.0 1.0 2.0 254.0"},      // CNAME followed
                      RblCase{"'3.0.0.127', 'bl.example'", "-"},                   // NXDOMAIN: nothing
                      RblCase{"'txt', 'bl.example'", "-"},                         // no A record: nothing
                      RblCase{"'multi', 'bl.example'", "nil"},                     // librbl: multiple replies
                      RblCase{"'2.0.0.127', 'bl.example', -1", "127.0 0.0 0.0 2.0"},  // opendkim's default
                      RblCase{"'2.0.0.127', 'bl.example', 0.25", "127.0 0.0 0.0 2.0"},
                      RblCase{"string.rep('a', 64), 'bl.example'", "nil"},         // label over 63
                      RblCase{"string.rep('a.', 130) .. 'a', 'bl.example'", "nil"},       // name over 253
                      RblCase{"'', 'bl.example'", "nil"},                          // empty label
                      RblCase{"'2.0.0.127', 'bl.example\\0junk'", "127.0 0.0 0.0 2.0"}));

TEST(LuaRblCheck, ErrorsAndHooks) {
  Fake f;
  f.msg.resolver = rbl_zone();
  struct {
    const char* script;
    const char* want;
  } cases[] = {
      {"odkim.rbl_check(ctx, 'x', '')", "odkim.rbl_check(): RBL query failed"},  // librbl: query root not set
      {"odkim.rbl_check(ctx, 'x')", "odkim.rbl_check(): incorrect argument count"},
      {"odkim.rbl_check(ctx, 'x', 'y', 1, 2)", "odkim.rbl_check(): incorrect argument count"},
      {"odkim.rbl_check(ctx, 'x', 'y', 'z')", "odkim.rbl_check(): incorrect argument type"},
      {"odkim.rbl_check(ctx, {}, 'y')", "odkim.rbl_check(): incorrect argument type"},
      {"odkim.rbl_check(1, 'x', 'y')", "odkim.rbl_check(): incorrect argument type"},
  };
  for (const auto& c : cases) {
    auto r = f.run_text(c.script, Hook::Final);
    EXPECT_FALSE(r.ok) << c.script;
    EXPECT_NE(r.error.find(c.want), std::string::npos) << c.script << ": " << r.error;
  }
  f.msg.resolver = nullptr;
  auto r = f.run_text("assert(odkim.rbl_check(ctx, '2.0.0.127', 'bl.example') == nil)", Hook::Final);
  EXPECT_TRUE(r.ok) << r.error;
}

/// A resolver that answers after `delay` (the script's own timeout is shorter).
struct SlowResolver final : auth::dns::Resolver {
  std::chrono::milliseconds delay;
  std::atomic<int> asked{0};
  explicit SlowResolver(std::chrono::milliseconds d) : delay(d) {}
  void query_async(std::string_view n, auth::dns::RType t, auth::dns::Callback cb) override { cb(query(n, t)); }
  auth::dns::Answer query(std::string_view, auth::dns::RType) override {
    ++asked;
    std::this_thread::sleep_for(delay);
    auth::dns::Answer a;
    a.status = auth::dns::Status::Ok;
    a.addresses = {"127.0.0.2"};
    return a;
  }
};

TEST(LuaRblCheck, ScriptTimeoutGivesNilAndLookupsInFlightAreBounded) {
  auto slow = std::make_shared<SlowResolver>(std::chrono::milliseconds(1500));
  auto t0 = std::chrono::steady_clock::now();
  RblResult r = rbl_lookup(slow, "2.0.0.127.bl.example", std::chrono::milliseconds(100));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.kind, RblResult::Kind::Error);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_LT(waited, std::chrono::milliseconds(1000)) << "the script waits its own timeout only";
  // Without a timeout the resolver's own limits apply: the answer arrives.
  r = rbl_lookup(std::make_shared<SlowResolver>(std::chrono::milliseconds(200)), "2.0.0.127.bl.example", std::nullopt);
  ASSERT_EQ(r.kind, RblResult::Kind::Listed);
  EXPECT_EQ(r.address, 0x7f000002u);
  // A burst of timed-out lookups: at most kMaxRblLookupsInFlight threads wait for the resolver.
  int refused = 0;
  for (int i = 0; i < kMaxRblLookupsInFlight + 10; ++i) {
    auto x = rbl_lookup(slow, "2.0.0.127.bl.example", std::chrono::milliseconds(0));
    EXPECT_EQ(x.kind, RblResult::Kind::Error);
    if (x.error == "too many RBL lookups in flight") ++refused;
  }
  EXPECT_GE(refused, 10);
  EXPECT_LE(slow->asked.load(), kMaxRblLookupsInFlight + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1700));  // the threads end
  r = rbl_lookup(slow, "2.0.0.127.bl.example", std::chrono::milliseconds(3000));
  EXPECT_EQ(r.kind, RblResult::Kind::Listed) << r.error;
}

TEST(LuaRblCheck, ResolverOutcomes) {
  auto z = rbl_zone();
  z->set_failure("fail.bl.example", auth::dns::Status::ServFail);
  z->set_failure("late.bl.example", auth::dns::Status::Timeout);
  z->set_failure("bad.bl.example", auth::dns::Status::Malformed);
  EXPECT_EQ(rbl_lookup(z, "fail.bl.example", std::nullopt).kind, RblResult::Kind::NotListed) << "librbl: no records";
  EXPECT_EQ(rbl_lookup(z, "late.bl.example", std::nullopt).kind, RblResult::Kind::NotListed);
  auto r = rbl_lookup(z, "bad.bl.example", std::nullopt);
  EXPECT_EQ(r.kind, RblResult::Kind::Error);
  EXPECT_EQ(r.error, "'bad.bl.example' reply corrupt");
  r = rbl_lookup(z, "multi.bl.example", std::chrono::milliseconds(2000));
  EXPECT_EQ(r.error, "multiple replies for 'multi.bl.example'");
  EXPECT_EQ(rbl_lookup(nullptr, "x.example", std::nullopt).kind, RblResult::Kind::Error);
  EXPECT_EQ(rbl_lookup(z, std::string(300, 'a'), std::nullopt).kind, RblResult::Kind::Error);
  EXPECT_EQ(rbl_lookup(z, std::string("a\0b.example", 11), std::nullopt).kind, RblResult::Kind::Error);
  EXPECT_EQ(rbl_lookup(z, "2.0.0.127.bl.example.", std::nullopt).kind, RblResult::Kind::Listed) << "final dot";
}

TEST(LuaExport, GlobalsReachLaterHooks) {
  Fake f;
  auto r = f.run_text("odkim.export(ctx, 'who', 'alice', 'n', 3, 'flag', true)", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  r = f.run_text("odkim.log(ctx, who .. n .. tostring(flag))", Hook::Final);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(f.logs, std::vector<std::string>{"alice3.0true"});
}

TEST(LuaDataSets, OpenCheckClose) {
  std::string path = ::testing::TempDir() + "/lua_ds.txt";
  {
    std::ofstream o(path);
    o << "example.org\nexample.net\n";
  }
  Fake f;
  auto r = f.run_text("local db = odkim.db_open('file:" + path + R"(', true)
    odkim.log(ctx, odkim.db_check(db, "EXAMPLE.org") .. odkim.db_check(db, "x.example"))
    assert(odkim.db_close(db) == 1)
    assert(odkim.db_check(db, "example.org") == nil)
  )", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(f.logs, std::vector<std::string>{"1.00.0"});
  r = f.run_text("odkim.db_open('file:/nonexistent/x')", Hook::Setup);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("odkim.db_open()"), std::string::npos) << r.error;
  f.msg.db_entries = [](int code) -> std::optional<std::vector<std::string>> {
    if (code == kDbDomains) return std::vector<std::string>{"example.org"};
    return std::nullopt;
  };
  r = f.run_text(R"(
    assert(odkim.get_dbhandle(ctx, DB_MTAS) == nil)
    assert(odkim.db_check(odkim.get_dbhandle(ctx, DB_DOMAINS), "example.org") == 1)
  )", Hook::Screen);
  EXPECT_TRUE(r.ok) << r.error;
}

/* Errors: each script must fail with a message containing the text. */
struct ErrorCase {
  Hook hook;
  const char* script;
  const char* want;
};
class LuaErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(LuaErrors, FailCleanly) {
  Fake f;
  const auto& c = GetParam();
  auto r = f.run_text(c.script, c.hook, 200000, 8u * 1024u * 1024u);
  EXPECT_FALSE(r.ok) << c.script;
  EXPECT_NE(r.error.find(c.want), std::string::npos) << r.error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LuaErrors,
    ::testing::Values(
        ErrorCase{Hook::Setup, "odkim.get_header(ctx, 'From')", "odkim.get_header(): incorrect argument count"},
        ErrorCase{Hook::Setup, "odkim.get_header(nil, 'From', 0)", "odkim.get_header(): incorrect argument type"},
        ErrorCase{Hook::Setup, "odkim.get_header({}, 'From', 0)", "incorrect argument type"},
        ErrorCase{Hook::Setup, "odkim.signfor(ctx, 'noat')", "can't parse address"},
        ErrorCase{Hook::Setup, "odkim.resign(ctx, 1)", "odkim.resign(): incorrect argument count"},
        ErrorCase{Hook::Setup, "odkim.resign({})", "odkim.resign(): incorrect argument type"},
        ErrorCase{Hook::Setup, "odkim.xtag(ctx, 'x')", "odkim.xtag(): incorrect argument count"},
        ErrorCase{Hook::Final, "odkim.xtag(ctx, 'x', {})", "odkim.xtag(): incorrect argument type"},
        ErrorCase{Hook::Setup, "odkim.spam(ctx)", "attempt to call a nil value (field 'spam')"},
        ErrorCase{Hook::Screen, "odkim.spam(ctx)", "attempt to call a nil value (field 'spam')"},
        ErrorCase{Hook::Final, "odkim.spam(ctx)", "attempt to call a nil value (field 'spam')"},
        ErrorCase{Hook::Final, "odkim.add_rcpt(ctx)", "odkim.add_rcpt(): incorrect argument count"},
        ErrorCase{Hook::Final, "odkim.add_rcpt(ctx, {})", "odkim.add_rcpt(): incorrect argument type"},
        ErrorCase{Hook::Final, "odkim.del_rcpt(ctx)", "odkim.delete_rcpt(): incorrect argument count"},
        ErrorCase{Hook::Final, "odkim.del_rcpt(nil, 'a')", "odkim.delete_rcpt(): incorrect argument type"},
        ErrorCase{Hook::Final, "odkim.get_sighandle(ctx, 0)", "odkim.get_sighandle(): invalid request"},
        ErrorCase{Hook::Final, "odkim.sig_result(ctx)", "odkim.sig_result(): incorrect argument type"},
        ErrorCase{Hook::Screen, "odkim.verify(ctx)", "attempt to call a nil value"},
        ErrorCase{Hook::Setup, "error('boom')", "test.lua:1: boom"},
        ErrorCase{Hook::Setup, "while true do end", "instruction limit exceeded"},
        ErrorCase{Hook::Setup, "while true do pcall(function() while true do end end) end", "instruction limit exceeded"},
        ErrorCase{Hook::Setup, "local co = coroutine.create(function() while true do end end) "
                               "while true do coroutine.resume(co) end", "instruction limit exceeded"},
        ErrorCase{Hook::Setup, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
                  "limit exceeded"},
        ErrorCase{Hook::Setup, "string.rep('x', 1e9)", "memory limit exceeded"}));

TEST(LuaScript, DeepRecursionFails) {
  Fake f;
  auto r = f.run_text("local function f(n) return f(n + 1) + 1 end f(1)", Hook::Setup);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("stack overflow"), std::string::npos) << r.error;
}

TEST(LuaScript, SyntaxErrorAtCompile) {
  auto s = Script::compile("if then", "bad.lua");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, auth::ErrorCode::Syntax);
  EXPECT_NE(s.error().reason.find("bad.lua:1:"), std::string::npos) << s.error().reason;
  EXPECT_FALSE(Script::compile(std::string(kMaxScriptBytes + 1, ' '), "big.lua").has_value());
  EXPECT_FALSE(Script::load_file("/nonexistent/script.lua").has_value());
  // A precompiled chunk is refused as source text.
  auto ok = Script::compile("x = 1", "ok.lua");
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(Script::compile((*ok)->chunk(), "dump.lua").has_value());
}

TEST(LuaScript, FreshStatePerRunAndRepeatable) {
  auto s = Script::compile("counter = (counter or 0) + 1 odkim.log(ctx, tostring(counter))", "c.lua");
  ASSERT_TRUE(s.has_value());
  Fake f;
  for (int i = 0; i < 10000; ++i) {
    auto r = run(**s, Hook::Setup, f.msg);
    ASSERT_TRUE(r.ok) << r.error;
  }
  ASSERT_EQ(f.logs.size(), 10000u);
  EXPECT_EQ(f.logs.front(), "1");
  EXPECT_EQ(f.logs.back(), "1");  // no global survives a run
}

TEST(LuaScript, HostileStrings) {
  Fake f;
  // NUL bytes and 8-bit data pass through get/replace unchanged.
  auto r = f.run_text("odkim.replace_header(ctx, 'Subject', 0, 'a\\0b\\xff') "
                      "odkim.log(ctx, odkim.get_header(ctx, 'Subject', 0))", Hook::Setup);
  if (r.ok) {
    ASSERT_EQ(f.logs.size(), 1u);
    EXPECT_EQ(f.logs[0], std::string("a\0b\xff", 4));
  } else {
    EXPECT_NE(r.error.find("replace_header"), std::string::npos) << r.error;
  }
  Fake g;
  r = g.run_text("odkim.log(ctx, tostring(odkim.get_header(ctx, string.rep('x', 100000), 0)))", Hook::Setup);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(g.logs, std::vector<std::string>{"nil"});
}

}  // namespace
