// inkan-null-milter — the smallest daemon on the common runtime: it accepts every message and
// adds one header (`X-Inkan-Null: ok` by default) at end of message. It exists to exercise the
// runtime end to end (negotiation, macros, reload, graceful stop, error barrier) and as the
// template for a new daemon.
//
// Configuration (legacy `Name value` lines or YAML `name: value`, detected):
//   every runtime option (settings.h: Socket, UMask, UserID, PidFile, Background, Syslog,
//   SyslogFacility, SyslogName, ...), and
//   HeaderName   / header_name    the header to add (default X-Inkan-Null)
//   HeaderValue  / header_value   its value (default ok)
//   TestFailures / test_failures  when true, a message header "X-Inkan-Null-Fail: STAGE"
//                                 (header, eoh, body, eom) makes the session throw at that
//                                 stage — to test the default action; never enable in service.
//   NoReplyEnvelope / no_reply_envelope  connect, MAIL and RCPT without replies (SMFIP_NR_*), the
//                                 way inkan-dkim negotiates them (default no; read at start)
//   AcceptPeers  / accept_peers   addresses accepted at connect, connection left untouched
//   AddRecipients / add_recipients        envelope recipients added to every message at end of
//   DeleteRecipients / delete_recipients  message (SMFIR_ADDRCPT) / removed (SMFIR_DELRCPT);
//                                 blank- or comma-separated; a change the MTA did not grant
//                                 is logged and the message still accepted (read at start)
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/runtime.h"

namespace {

using namespace inkan::milter;

struct NullConfig {
  RuntimeSettings runtime;
  std::string header_name = "X-Inkan-Null";
  std::string header_value = "ok";
  bool test_failures = false;
  /// NoReplyEnvelope: connect, MAIL and RCPT become no-reply steps (SMFIP_NR_CONN/MAIL/RCPT),
  /// as inkan-dkim negotiates them; read at start (a reload keeps the negotiated steps).
  bool no_reply_envelope = false;
  /// AcceptPeers: client addresses accepted at connect (the whole connection untouched, as
  /// inkan-dkim's PeerList). Blank- or comma-separated, matched exactly.
  std::vector<std::string> accept_peers;
  /// AddRecipients / DeleteRecipients: envelope changes at end of message (SMFIR_ADDRCPT,
  /// SMFIR_DELRCPT); SMFIF_ADDRCPT / SMFIF_DELRCPT are asked for when a list is set at start.
  std::vector<std::string> add_recipients, delete_recipients;
};

/// Splits a blank- or comma-separated list.
std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : value + " ") {
    if (ch == ' ' || ch == '\t' || ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(ch);
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

/// Applies one option; throws ConfigError naming file, line and option.
void apply_option(NullConfig& c, const std::string& file, std::size_t line, const std::string& name,
                  const std::string& value) {
  auto r = apply_runtime_option(c.runtime, name, value);
  if (!r) throw ConfigError(file, line, name, r.error().reason);
  if (*r) return;
  if (iequals(name, "HeaderName") || iequals(name, "header_name")) {
    if (auto v = validate_header_name(value); !v) throw ConfigError(file, line, name, "illegal value: " + v.error().reason);
    c.header_name = value;
  } else if (iequals(name, "HeaderValue") || iequals(name, "header_value")) {
    if (auto v = normalize_header_value(value); !v) throw ConfigError(file, line, name, "illegal value: " + v.error().reason);
    c.header_value = value;
  } else if (iequals(name, "TestFailures") || iequals(name, "test_failures")) {
    auto b = parse_flag(value);
    if (!b) throw ConfigError(file, line, name, "illegal value");
    c.test_failures = *b;
  } else if (iequals(name, "NoReplyEnvelope") || iequals(name, "no_reply_envelope")) {
    auto b = parse_flag(value);
    if (!b) throw ConfigError(file, line, name, "illegal value");
    c.no_reply_envelope = *b;
  } else if (iequals(name, "AcceptPeers") || iequals(name, "accept_peers")) {
    c.accept_peers = split_list(value);
  } else if (iequals(name, "AddRecipients") || iequals(name, "add_recipients")) {
    c.add_recipients = split_list(value);
  } else if (iequals(name, "DeleteRecipients") || iequals(name, "delete_recipients")) {
    c.delete_recipients = split_list(value);
  } else {
    throw ConfigError(file, line, name, "unrecognized parameter");
  }
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, "", "cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The OpenDKIM grammar (anchor-features.md §1.1) for the options above: '#' and CR end a
/// line, the name ends at the first blank, the value is the trimmed rest, names are
/// case-insensitive, the last occurrence wins, unknown names are fatal.
void load_legacy(NullConfig& c, const std::string& path) {
  std::istringstream in(read_all(path));
  std::string raw;
  std::size_t lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string_view l = raw;
    if (auto p = l.find_first_of("#\r"); p != l.npos) l = l.substr(0, p);
    auto b = l.find_first_not_of(" \t");
    if (b == l.npos) continue;
    l = l.substr(b);
    auto e = l.find_first_of(" \t");
    std::string name(l.substr(0, e));
    std::string_view v = e == l.npos ? std::string_view() : l.substr(e);
    auto vb = v.find_first_not_of(" \t");
    v = vb == v.npos ? std::string_view() : v.substr(vb, v.find_last_not_of(" \t") - vb + 1);
    if (v.empty()) throw ConfigError(path, lineno, name, "required value missing");
    apply_option(c, path, lineno, name, std::string(v));
  }
}

void load_yaml(NullConfig& c, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, static_cast<std::size_t>(e.mark.line + 1), "", e.msg);
  }
  if (root.IsNull()) return;
  // Options either at the top or in a `null_milter:` section (inkan.yaml has one per daemon).
  YAML::Node section = root.IsMap() && root["null_milter"] ? root["null_milter"] : root;
  if (!section.IsMap()) throw ConfigError(path, static_cast<std::size_t>(section.Mark().line + 1), "", "expected a mapping");
  for (const auto& kv : section) {
    std::string key = kv.first.as<std::string>();
    if (key == "null_milter") continue;
    std::size_t line = static_cast<std::size_t>(kv.first.Mark().line + 1);
    if (!kv.second.IsScalar()) throw ConfigError(path, line, key, "expected a scalar value");
    apply_option(c, path, line, key, kv.second.Scalar());
  }
}

class NullSession final : public Session {
 public:
  NullSession(std::shared_ptr<const NullConfig> cfg, const ConnInfo& conn) : cfg_(std::move(cfg)), conn_(conn) {}

  Action on_connect(Context& ctx, const ConnInfo& info) override {
    if (ctx.log().debug_enabled()) {
      ctx.log().debug("connect from " + printable(info.hostname) + " [" + printable(info.peer.address) + "]");
    }
    for (const auto& p : cfg_->accept_peers) {
      if (p == info.peer.address) return Action::accept();
    }
    return Action::cont();
  }
  Action on_envfrom(Context&, std::span<const std::string> args) override {
    reset();
    from_ = args.empty() ? std::string() : args[0];
    return Action::cont();
  }
  Action on_envrcpt(Context&, std::span<const std::string>) override {
    ++rcpts_;
    return Action::cont();
  }
  Action on_header(Context&, std::string_view name, std::string_view value) override {
    ++headers_;
    if (cfg_->test_failures && iequals(name, "X-Inkan-Null-Fail")) {
      auto b = value.find_first_not_of(' ');
      fail_at_ = b == value.npos ? std::string() : std::string(value.substr(b));
      maybe_fail("header");
    }
    return Action::cont();
  }
  Action on_eoh(Context&) override {
    maybe_fail("eoh");
    return Action::cont();
  }
  Action on_body(Context&, std::span<const unsigned char> chunk) override {
    maybe_fail("body");
    body_bytes_ += chunk.size();
    ++chunks_;
    return Action::cont();
  }
  Action on_eom(Context& ctx, MessageOps& ops) override {
    maybe_fail("eom");
    std::string value = conn_.header_leading_space ? " " + cfg_->header_value : cfg_->header_value;
    auto r = ops.add_header(cfg_->header_name, value);
    if (!r) throw std::runtime_error("adding " + cfg_->header_name + ": " + r.error().reason);
    long long rcpt_changes = 0;
    for (const auto& a : cfg_->add_recipients) {
      if (auto e = ops.add_recipient(a); e) ++rcpt_changes;
      else ctx.log().error(ctx.queue_id() + ": adding recipient " + printable(a) + ": " + e.error().reason);
    }
    for (const auto& a : cfg_->delete_recipients) {
      if (auto e = ops.delete_recipient(a); e) ++rcpt_changes;
      else ctx.log().error(ctx.queue_id() + ": deleting recipient " + printable(a) + ": " + e.error().reason);
    }
    LogLine& l = ctx.summary();
    l.add("from", from_).add("rcpts", static_cast<long long>(rcpts_)).add("headers", static_cast<long long>(headers_));
    l.add("body", static_cast<long long>(body_bytes_)).add("chunks", static_cast<long long>(chunks_));
    if (auto a = ctx.macro("{auth_authen}")) l.add("auth", *a);
    if (rcpt_changes > 0) l.add("rcpt_changes", rcpt_changes);
    l.add("result", "ok");
    ctx.metrics().count_verdict("ok");
    reset();
    return Action::accept();
  }
  void on_abort(Context&) override { reset(); }

 private:
  void reset() {
    from_.clear();
    rcpts_ = headers_ = chunks_ = 0;
    body_bytes_ = 0;
    fail_at_.clear();
  }
  void maybe_fail(std::string_view stage) {
    if (!fail_at_.empty() && iequals(fail_at_, stage)) {
      throw std::runtime_error("test failure requested at " + std::string(stage));
    }
  }

  std::shared_ptr<const NullConfig> cfg_;
  ConnInfo conn_;
  std::string from_;
  std::size_t rcpts_ = 0, headers_ = 0, chunks_ = 0;
  std::size_t body_bytes_ = 0;
  std::string fail_at_;
};

class NullApp final : public MilterApp {
 public:
  NullApp() {
    info_.name = "inkan-null-milter";
    info_.version = INKAN_VERSION;
    info_.default_socket = "inet:8890@localhost";
    info_.default_config_paths = {"/etc/inkan/null-milter.conf"};
    info_.command_line.program = "inkan-null-milter";
    info_.command_line.config_letters = "xc";
    info_.needs.add_headers = true;
    info_.needs.helo = false;
    info_.needs.envrcpt = true;
    info_.needs.header_leading_space = true;
    info_.metrics_prefix = "inkan_null";
  }
  const AppInfo& info() const override { return info_; }

  void load_config(const std::string& path, ConfigFormat format) override {
    auto c = std::make_shared<NullConfig>();
    if (!path.empty()) {
      if (format == ConfigFormat::Yaml) {
        load_yaml(*c, path);
      } else {
        load_legacy(*c, path);
      }
    }
    if (!loaded_) {
      // Before the first connection (load_config runs before any thread): the steps to
      // negotiate. A reload changes the rest of the configuration, not these.
      info_.needs.no_reply_connect = info_.needs.no_reply_mail = info_.needs.no_reply_rcpt = c->no_reply_envelope;
      info_.needs.add_rcpt = !c->add_recipients.empty();
      info_.needs.delete_rcpt = !c->delete_recipients.empty();
      loaded_ = true;
    }
    cfg_.set(std::move(c));
  }
  RuntimeSettings runtime_settings() const override { return cfg_.get()->runtime; }
  bool connect_may_decide() const noexcept override {
    try {
      auto c = cfg_.get();
      return !c || !c->accept_peers.empty();
    } catch (...) {
      return true;
    }
  }
  std::unique_ptr<Session> new_session(const ConnInfo& conn) override {
    return std::make_unique<NullSession>(cfg_.get(), conn);
  }

 private:
  AppInfo info_;
  bool loaded_ = false;
  Snapshot<NullConfig> cfg_;
};

}  // namespace

int main(int argc, char** argv) {
  NullApp app;
  return inkan::milter::run_milter(app, argc, argv);
}
