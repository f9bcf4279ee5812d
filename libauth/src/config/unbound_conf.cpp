#include "auth/config/unbound_conf.h"

#include <arpa/inet.h>
#include <glob.h>

#include <algorithm>
#include <iterator>
#include <charconv>
#include <string_view>

namespace auth::config {

namespace {

constexpr std::string_view kOption = "ResolverConfiguration";

/// Clauses whose attributes this reader understands.
enum class Clause { None, Server, ForwardZone, RemoteControl };

// unbound.conf(5) attributes a stub resolver may accept without honouring them: they tune a
// recursive server (listening side, threads, caches, sockets, logging, recursion hardening,
// transport preferences) or drive DNSSEC validation, which inkan leaves to the resolver it asks
// (a trust anchor here turns on DkimSettings::dnssec_resolver, as TrustAnchorFile does).
constexpr std::string_view kIgnoredServer[] = {
    // listening side and process
    "interface", "ip-address", "interface-automatic", "interface-automatic-ports", "interface-action",
    "interface-tag", "interface-tag-action", "interface-tag-data", "interface-view", "port",
    "access-control", "access-control-view", "outgoing-interface", "outgoing-range", "outgoing-port-permit",
    "outgoing-port-avoid", "outgoing-num-tcp", "incoming-num-tcp", "so-rcvbuf", "so-sndbuf", "so-reuseport",
    "ip-transparent", "ip-freebind", "ip-dscp", "udp-connect", "tcp-mss", "outgoing-tcp-mss",
    "tcp-idle-timeout", "tcp-reuse-timeout", "max-reuse-tcp-queries", "tcp-auth-query-timeout",
    "tcp-connection-limit", "edns-tcp-keepalive", "edns-tcp-keepalive-timeout", "stream-wait-size",
    "proxy-protocol-port", "https-port", "http-endpoint", "http-max-streams", "http-query-buffer-size",
    "http-response-buffer-size", "http-nodelay", "http-notls-downstream", "http-user-agent",
    "hide-http-user-agent", "tls-service-key", "tls-service-pem", "tls-port", "tls-additional-port",
    "tls-session-ticket-keys", "tls-ciphers", "tls-ciphersuites", "tls-use-sni", "tls-cert-bundle",
    "tls-win-cert", "tls-system-cert", "ssl-service-key", "ssl-service-pem", "ssl-port", "ssl-cert-bundle",
    "verbosity", "statistics-interval", "statistics-cumulative", "statistics-inhibit-zero",
    "extended-statistics", "num-threads", "do-daemonize", "use-systemd", "chroot", "username", "directory",
    "logfile", "use-syslog", "log-identity", "log-time-ascii", "log-queries", "log-replies",
    "log-tag-queryreply", "log-local-actions", "log-servfail", "pidfile", "identity", "version",
    "hide-identity", "hide-version", "hide-trustanchor", "nsid",
    // caches and performance
    "msg-buffer-size", "msg-cache-size", "msg-cache-slabs", "num-queries-per-thread", "jostle-timeout",
    "delay-close", "discard-timeout", "wait-limit", "wait-limit-netblock", "rrset-cache-size",
    "rrset-cache-slabs", "cache-max-ttl", "cache-min-ttl", "cache-max-negative-ttl", "infra-host-ttl",
    "infra-cache-slabs", "infra-cache-numhosts", "infra-cache-min-rtt", "infra-cache-max-rtt",
    "infra-keep-probing", "neg-cache-size", "key-cache-size", "key-cache-slabs", "prefetch", "prefetch-key",
    "rrset-roundrobin", "minimal-responses", "serve-expired", "serve-expired-ttl", "serve-expired-ttl-reset",
    "serve-expired-reply-ttl", "serve-expired-client-timeout", "serve-original-ttl", "fast-server-num",
    "fast-server-permil", "outbound-msg-retry", "max-sent-count", "max-query-restarts",
    "unknown-server-time-limit", "ratelimit", "ratelimit-size", "ratelimit-slabs", "ratelimit-for-domain",
    "ratelimit-below-domain", "ratelimit-factor", "ratelimit-backoff", "ip-ratelimit", "ip-ratelimit-size",
    "ip-ratelimit-slabs", "ip-ratelimit-factor", "ip-ratelimit-backoff", "unwanted-reply-threshold",
    "edns-buffer-size", "max-udp-size", "pad-responses", "pad-responses-block-size", "pad-queries",
    "pad-queries-block-size", "ede", "ede-serve-expired",
    // transport preferences (inkan: UDP, TCP on truncation, to the servers it is given)
    "do-ip4", "do-ip6", "do-udp", "do-tcp", "prefer-ip4", "prefer-ip6", "tcp-upstream",
    "udp-upstream-without-downstream", "do-not-query-localhost",
    // recursion (inkan forwards to name servers; it never recurses from the root)
    "harden-short-bufsize", "harden-large-queries", "harden-glue", "harden-below-nxdomain",
    "harden-referral-path", "harden-algo-downgrade", "harden-dnssec-stripped", "use-caps-for-id",
    "caps-exempt", "caps-whitelist", "qname-minimisation", "qname-minimisation-strict", "aggressive-nsec",
    "iter-scrub-promiscuous", "root-hints", "target-fetch-policy", "disable-dnssec-lame-check",
    // DNSSEC validation (the resolver's job: inkan trusts its AD bit, see TrustAnchorFile)
    "trust-anchor-file", "auto-trust-anchor-file", "trust-anchor", "trusted-keys-file",
    "trust-anchor-signaling", "root-key-sentinel", "domain-insecure", "val-bogus-ttl", "val-clean-additional",
    "val-log-level", "val-permissive-mode", "val-sig-skew-min", "val-sig-skew-max", "val-max-restart",
    "val-nsec3-keysize-iterations", "val-override-date", "add-holddown", "del-holddown", "keep-missing",
    "permit-small-holddown", "ignore-cd-flag", "secret-seed", "module-config"};

// remote-control: only the unbound daemon's control socket uses these.
constexpr std::string_view kIgnoredRemote[] = {
    "control-enable",  "control-interface", "control-port",     "control-use-cert",
    "server-key-file", "server-cert-file",  "control-key-file", "control-cert-file"};

// forward-zone attributes.
constexpr std::string_view kForwardAttributes[] = {
    "name",           "forward-addr",          "forward-host",        "forward-first",
    "forward-no-cache", "forward-tcp-upstream", "forward-tls-upstream", "forward-ssl-upstream"};

// Clauses and attributes that change which answers come back; named in the refusal.
constexpr std::string_view kRefused[] = {
    "stub-zone", "auth-zone", "view", "rpz", "python", "dynlib", "cachedb", "dnscrypt", "dnstap", "ipset",
    "local-zone", "local-data", "local-data-ptr", "local-zone-tag", "local-zone-override", "private-address",
    "private-domain", "do-not-query-address", "deny-any", "response-ip", "response-ip-tag",
    "response-ip-data", "define-tag", "access-control-tag", "access-control-tag-action",
    "access-control-tag-data", "dns64-prefix", "dns64-synthall", "dns64-ignore-aaaa", "insecure-lan-zones",
    "unblock-lan-zones", "send-client-subnet", "client-subnet-zone", "client-subnet-always-forward",
    "max-client-subnet-ipv4", "max-client-subnet-ipv6", "min-client-subnet-ipv4", "min-client-subnet-ipv6",
    "tls-upstream", "ssl-upstream", "edns-client-string"};

template <std::size_t N>
bool in(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool is_keyword(std::string_view name) {
  return name == "server" || name == "forward-zone" || name == "remote-control" || name == "include" ||
         name == "include-toplevel" || in(kIgnoredServer, name) || in(kIgnoredRemote, name) ||
         in(kForwardAttributes, name) || in(kRefused, name);
}

/// True for a bare word followed by ':', the shape of every unbound.conf attribute.
bool looks_like_attribute(std::string_view word) {
  if (word.empty()) return false;
  return std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

struct Token {
  std::string text;
  std::size_t line = 0;
  bool quoted = false;
};

/// unbound's lexer: whitespace separates tokens, "…" or '…' quote one, `#` at the start of a
/// token comments out the rest of the line.
std::vector<Token> tokenize(std::string_view text, const std::string& file) {
  std::vector<Token> out;
  std::size_t line = 1;
  std::size_t i = 0;
  auto fail = [&](std::string why) { throw ConfigError(file, line, std::string(kOption), std::move(why)); };
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      std::size_t end = text.find(c, i + 1);
      if (end == std::string_view::npos) fail("unterminated quoted string");
      std::string_view v = text.substr(i + 1, end - i - 1);
      if (v.find('\n') != std::string_view::npos) fail("quoted string spans lines");
      if (v.size() > kMaxUnboundTokenBytes) fail("value longer than " + std::to_string(kMaxUnboundTokenBytes) + " bytes");
      out.push_back({std::string(v), line, true});
      i = end + 1;
    } else {
      std::size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n' &&
             text[i] != '"' && text[i] != '\'') {
        ++i;
      }
      if (i - start > kMaxUnboundTokenBytes) fail("token longer than " + std::to_string(kMaxUnboundTokenBytes) + " bytes");
      out.push_back({std::string(text.substr(start, i - start)), line, false});
    }
    if (out.size() > kMaxUnboundAttributes * 4) fail("too many tokens");
  }
  return out;
}

/// `forward-addr: IP[@PORT][#TLS-NAME]` as a name server in inkan's "IP" / "IP:PORT" form.
std::string forwarder(std::string_view v, const std::function<void(std::string)>& fail) {
  if (auto hash = v.find('#'); hash != std::string_view::npos) v = v.substr(0, hash);
  std::string_view host = v, port;
  if (auto at = v.find('@'); at != std::string_view::npos) {
    host = v.substr(0, at);
    port = v.substr(at + 1);
  }
  std::string h(host);
  unsigned char buf[16];
  bool v6 = inet_pton(AF_INET6, h.c_str(), buf) == 1;
  if (!v6 && inet_pton(AF_INET, h.c_str(), buf) != 1) fail("forward-addr '" + std::string(v) + "' is not an IP address");
  if (port.empty()) return h;
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
    fail("forward-addr '" + std::string(v) + "' has a bad port");
  }
  return v6 ? "[" + h + "]:" + std::string(port) : h + ":" + std::string(port);
}

bool truthy(std::string_view v) { return v == "yes" || v == "YES" || v == "Yes"; }

class Reader {
 public:
  explicit Reader(const FileReader& reader) : reader_(reader) {}

  void read(const std::string& path, int depth) {
    if (depth > kMaxUnboundIncludeDepth) {
      throw ConfigError(path, 0, std::string(kOption),
                        "include nested deeper than " + std::to_string(kMaxUnboundIncludeDepth) + " levels");
    }
    auto text = reader_(path);
    if (!text) throw ConfigError(path, 0, std::string(kOption), "cannot read: " + text.error().reason);
    std::vector<Token> tokens = tokenize(*text, path);
    std::size_t i = 0;
    while (i < tokens.size()) {
      const Token& t = tokens[i];
      std::string name, glued;
      if (!t.quoted) {
        auto colon = t.text.find(':');
        if (colon != std::string::npos && looks_like_attribute(std::string_view(t.text).substr(0, colon))) {
          name = t.text.substr(0, colon);
          glued = t.text.substr(colon + 1);
        }
      }
      auto fail = [&](std::string why) { throw ConfigError(path, t.line, std::string(kOption), std::move(why)); };
      if (name.empty()) fail("'" + t.text + "' where an unbound.conf attribute (name:) was expected");
      if (!is_keyword(name)) fail("unknown or unsupported unbound.conf attribute '" + name + ":'");
      // The values: the glued rest, then every following token that is not an attribute.
      std::vector<std::string> values;
      if (!glued.empty()) values.push_back(glued);
      ++i;
      while (i < tokens.size()) {
        const Token& v = tokens[i];
        if (!v.quoted) {
          auto colon = v.text.find(':');
          if (colon != std::string::npos && colon + 1 == v.text.size() &&
              looks_like_attribute(std::string_view(v.text).substr(0, colon))) {
            break;
          }
          if (colon != std::string::npos && is_keyword(v.text.substr(0, colon))) break;
        }
        values.push_back(v.text);
        ++i;
      }
      if (++attributes_ > kMaxUnboundAttributes) fail("more than " + std::to_string(kMaxUnboundAttributes) + " attributes");
      attribute(path, t.line, name, values, depth, fail);
    }
    // include: is textual, so a clause may go on across files; it ends with the top file.
    if (depth == 0) finish_zone();
  }

  UnboundConf result() { return std::move(out_); }

 private:
  void attribute(const std::string& path, std::size_t line, const std::string& name,
                 const std::vector<std::string>& values, int depth,
                 const std::function<void(std::string)>& fail) {
    auto one = [&]() -> const std::string& {
      if (values.size() != 1) fail(name + ": takes one value");
      return values.front();
    };
    if (name == "server" || name == "forward-zone" || name == "remote-control") {
      if (!values.empty()) fail(name + ": clause takes no value");
      finish_zone();
      clause_ = name == "server" ? Clause::Server : name == "forward-zone" ? Clause::ForwardZone : Clause::RemoteControl;
      if (clause_ == Clause::ForwardZone) {
        zone_ = Zone{};
        zone_.file = path;
        zone_.line = line;
      }
      return;
    }
    if (name == "include" || name == "include-toplevel") {
      if (name == "include-toplevel") {
        finish_zone();
        clause_ = Clause::None;
      }
      include(one(), depth, fail);
      return;
    }
    if (in(kRefused, name)) {
      // tls-upstream: no / ssl-upstream: no change nothing.
      if ((name == "tls-upstream" || name == "ssl-upstream") && !truthy(one())) return;
      fail("unbound.conf '" + name + ":' changes DNS answers or transport and is not supported by inkan "
           "(it resolves through the name servers given; use Nameservers, or run a local resolver)");
    }
    if (in(kForwardAttributes, name)) {
      if (clause_ != Clause::ForwardZone) fail(name + ": outside a forward-zone: clause");
      if (name == "name") {
        zone_.name = one();
      } else if (name == "forward-addr") {
        zone_.addrs.push_back(forwarder(one(), fail));
      } else if (name == "forward-host") {
        fail("forward-host: needs the forwarder's name resolved first; give its address with forward-addr:");
      } else if (name == "forward-tls-upstream" || name == "forward-ssl-upstream") {
        if (truthy(one())) fail(name + ": DNS over TLS to forwarders is not supported by inkan");
      } else {
        // forward-first (no fall-back to recursion here), forward-no-cache, forward-tcp-upstream.
        out_.ignored.push_back(path + ":" + std::to_string(line) + ": " + name);
      }
      return;
    }
    bool server_attr = in(kIgnoredServer, name);
    if ((server_attr && clause_ != Clause::Server) || (!server_attr && clause_ != Clause::RemoteControl)) {
      fail(name + ": outside its clause (" + (server_attr ? "server:" : "remote-control:") + ")");
    }
    if (name == "module-config") {
      // "validator iterator" (and either alone) only; other modules change answers.
      std::string_view v = one();
      while (!v.empty()) {
        auto sp = v.find(' ');
        std::string_view m = v.substr(0, sp);
        if (!m.empty() && m != "validator" && m != "iterator") {
          fail("module-config: module '" + std::string(m) + "' changes DNS answers and is not supported by inkan");
        }
        v = sp == std::string_view::npos ? std::string_view{} : v.substr(sp + 1);
      }
    }
    out_.ignored.push_back(path + ":" + std::to_string(line) + ": " + name);
  }

  void include(const std::string& pattern, int depth, const std::function<void(std::string)>& fail) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
      read(pattern, depth + 1);
      return;
    }
    // unbound expands wildcards with glob(3); no match is not an error.
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0) files.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    ::globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) fail("include: cannot expand '" + pattern + "'");
    std::sort(files.begin(), files.end());
    for (const auto& f : files) read(f, depth + 1);
  }

  void finish_zone() {
    if (clause_ != Clause::ForwardZone) return;
    clause_ = Clause::None;
    std::string name = zone_.name;
    if (name.empty()) throw ConfigError(zone_.file, zone_.line, std::string(kOption), "forward-zone: without name:");
    if (name != ".") {
      throw ConfigError(zone_.file, zone_.line, std::string(kOption),
                        "a forward-zone for '" + name + "' (one domain) is not supported by inkan; only name: \".\"");
    }
    out_.forwarders.insert(out_.forwarders.end(), zone_.addrs.begin(), zone_.addrs.end());
  }

  struct Zone {
    std::string file;
    std::size_t line = 0;
    std::string name;
    std::vector<std::string> addrs;
  };

  const FileReader& reader_;
  UnboundConf out_;
  Clause clause_ = Clause::None;
  Zone zone_;
  std::size_t attributes_ = 0;
};

}  // namespace

UnboundConf load_unbound_conf(const std::string& path, const FileReader& reader) {
  Reader r(reader);
  r.read(path, 0);
  return r.result();
}

}  // namespace auth::config
