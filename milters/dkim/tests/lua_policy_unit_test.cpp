// Lua policy hooks (milters/dkim/lua_policy.h) against a fake message: the odkim.* functions
// of each hook, their effects, the argument errors, and the safety limits.
#include "dkim/lua_policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

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
    msg.rcpt_changes = true;
    msg.macro = [](std::string_view n) -> std::optional<std::string> {
      if (n == "i") return std::string("QID1");
      return std::nullopt;
    };
    msg.log = [this](std::string_view s) { logs.emplace_back(s); };
    msg.sign = [this](const SignCall& c) {
      signs.push_back(c);
      return c.key && *c.key == "missing" ? 0 : 1;
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
  EXPECT_EQ(f.msg.add_rcpts, std::vector<std::string>{"<audit@example.org>"});
  EXPECT_EQ(f.msg.del_rcpts, std::vector<std::string>{"<bob@example.com>"});
  ASSERT_EQ(f.msg.del_headers.size(), 1u);
  EXPECT_EQ(f.msg.del_headers[0].second, 1);
  EXPECT_EQ(f.msg.quarantine, "held");
  ASSERT_TRUE(f.msg.reply.has_value());
  EXPECT_EQ(f.msg.reply->rcode, "550");
  EXPECT_EQ(f.msg.reply->text, "go away");
  EXPECT_EQ(f.msg.result, kSmfisReject);
}

TEST(LuaFinal, RecipientChangesWithoutRuntimeSupportRaise) {
  Fake f;
  f.msg.rcpt_changes = false;
  auto r = f.run_text("odkim.add_rcpt(ctx, '<a@b.example>')", Hook::Final);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("odkim.add_rcpt(): not supported by inkan-dkim"), std::string::npos) << r.error;
  r = f.run_text("odkim.del_rcpt(ctx, '<bob@example.com>')", Hook::Final);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("odkim.del_rcpt(): not supported by inkan-dkim"), std::string::npos) << r.error;
  EXPECT_TRUE(f.msg.add_rcpts.empty());
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
        ErrorCase{Hook::Setup, "odkim.resign(ctx)", "odkim.resign(): not supported by inkan-dkim"},
        ErrorCase{Hook::Setup, "odkim.xtag(ctx, 'x', 'y')", "odkim.xtag(): not supported by inkan-dkim"},
        ErrorCase{Hook::Setup, "odkim.spam(ctx)", "odkim.spam(): not supported by inkan-dkim"},
        ErrorCase{Hook::Final, "odkim.rbl_check(ctx, 'q', 'root')", "odkim.rbl_check(): not supported"},
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
