// inkan-spf — SPF policy server for Postfix, a drop-in for postfix-policyd-spf-python.
//
//   inkan-spf [CONFIG]                       spawn mode (master.cf spawn, stdin/stdout), as
//                                            /usr/bin/policyd-spf; CONFIG defaults to
//                                            /etc/postfix-policyd-spf-python/policyd-spf.conf
//   inkan-spf -p SOCKET [-f] [-c CONFIG]     socket mode: unix:/path, inet:PORT@HOST,
//                                            inet:HOST:PORT; many smtpd connections at once
//   -n  check the configuration and exit (0, or 78 on error)      -V  version
//   -u USER[:GROUP]  drop privileges after binding                -P PIDFILE
//   --nameserver IP[:PORT]  DNS server (repeatable; default /etc/resolv.conf or dns: in YAML)
//
// CONFIG is policyd-spf.conf or inkan.yaml (its spf: section), detected by content.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/config/spf.h"
#include "auth/net/socketspec.h"
#include "common/listen.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/settings.h"
#include "spf/server.h"

#ifndef INKAN_VERSION
#define INKAN_VERSION "0.0.0"
#endif

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitOsErr = 71;
constexpr int kExitConfig = 78;

struct Args {
  std::optional<std::string> config;
  std::optional<std::string> socket;
  std::optional<std::string> user;
  std::optional<std::string> pidfile;
  std::vector<std::string> nameservers;
  bool foreground = false;
  bool check = false;
  bool version = false;
  bool help = false;
};

const char* kUsage =
    "usage: inkan-spf [<configfilename>]\n"
    "       inkan-spf -p unix:/path|inet:PORT@HOST [-f] [-c CONFIG] [-u USER[:GROUP]] "
    "[-P PIDFILE] [--nameserver IP[:PORT]]...\n"
    "       inkan-spf -n [-c CONFIG | CONFIG]     check the configuration\n"
    "       inkan-spf -V                          version\n";

// Returns an error text or "".
std::string parse_args(int argc, char** argv, Args& a) {
  std::vector<std::string> v(argv + 1, argv + argc);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string& s = v[i];
    auto value = [&](const char* opt) -> std::optional<std::string> {
      if (i + 1 >= v.size()) return std::nullopt;
      (void)opt;
      return v[++i];
    };
    if (s == "-h" || s == "--help" || s == "-?") {
      a.help = true;
    } else if (s == "-f") {
      a.foreground = true;
    } else if (s == "-n") {
      a.check = true;
    } else if (s == "-V" || s == "--version") {
      a.version = true;
    } else if (s == "-c" || s == "-x" || s == "-p" || s == "-u" || s == "-P" ||
               s == "--nameserver") {
      auto val = value(s.c_str());
      if (!val || val->empty()) return "option " + s + " needs a value";
      if (s == "-c" || s == "-x") a.config = *val;
      else if (s == "-p") a.socket = *val;
      else if (s == "-u") a.user = *val;
      else if (s == "-P") a.pidfile = *val;
      else a.nameservers.push_back(*val);
    } else if (s.rfind("--nameserver=", 0) == 0) {
      a.nameservers.push_back(s.substr(13));
    } else if (!s.empty() && s[0] == '-' && s.size() > 1) {
      return "unknown option " + s;
    } else {
      if (a.config) return "more than one configuration file given";
      a.config = s;
    }
  }
  return "";
}

int bind_listener(const auth::net::SocketSpec& spec, std::string& err) {
  inkan::milter::ListenOptions lo;
  lo.inet_family = AF_UNSPEC;  // a host name binds to whatever it resolves to first
  auto fd = inkan::milter::listen_socket(spec, lo);
  if (!fd) {
    err = fd.error().reason;
    return -1;
  }
  if (spec.is_local()) ::chmod(spec.path.c_str(), 0666);  // Postfix's smtpd (user postfix) must connect
  return *fd;
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string base_name(const char* argv0) {
  std::string s = argv0 != nullptr ? argv0 : "inkan-spf";
  auto p = s.rfind('/');
  return p == std::string::npos ? s : s.substr(p + 1);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string bad = parse_args(argc, argv, args);
  std::string prog = base_name(argv[0]);
  if (args.help) {
    // policyd-spf: -h/--help/-? print the usage and exit 1.
    std::cout << kUsage;
    return 1;
  }
  if (!bad.empty()) {
    std::cerr << prog << ": " << bad << "\n" << kUsage;
    return kExitUsage;
  }
  if (args.version) {
    std::cout << "inkan-spf " << INKAN_VERSION
              << " (Postfix policy server; postfix-policyd-spf-python 3.0.4 compatible)\n";
    return 0;
  }
  // systemd socket activation (sd_listen_fds(3)): LISTEN_PID is us, LISTEN_FDS sockets at fd 3.
  std::vector<int> inherited;
  if (const char* pid = std::getenv("LISTEN_PID"); pid != nullptr &&
      std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid())) {
    long n = std::strtol(std::getenv("LISTEN_FDS") != nullptr ? std::getenv("LISTEN_FDS") : "0",
                         nullptr, 10);
    for (long i = 0; i < n && i < 64; ++i) inherited.push_back(3 + static_cast<int>(i));
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }
  bool socket_mode = args.socket.has_value() || !inherited.empty();
  std::string config_path = args.config.value_or(std::string(auth::config::kPolicydSpfDefaultConfig));

  inkan::milter::Logger log;
  inkan::milter::Logger::Options lo;
  lo.ident = prog;
  // Spawn mode: stderr is the policy socket (spawn(8)), so only syslog.
  lo.to_stderr = socket_mode ? args.foreground : args.check;
  lo.to_syslog = !args.check;

  auth::config::SpfConfigLoad loaded;
  try {
    loaded = auth::config::load_spf_settings(config_path);
  } catch (const std::exception& e) {
    lo.to_stderr = lo.to_stderr || socket_mode || args.check;
    log.configure(lo);
    log.critical(e.what());
    return kExitConfig;
  }
  auto& s = loaded.settings;
  if (auto f = inkan::milter::parse_syslog_facility(s.syslog_facility)) lo.facility = *f;
  lo.verbose = s.debug_level >= 2 ? 1 : 0;
  log.configure(lo);
  if (s.debug_level >= 0) {
    for (const auto& w : loaded.warnings) log.warning(w);
  }
  if (!socket_mode && !s.socket.empty() && args.config && args.foreground) socket_mode = true;
  if (socket_mode && !args.socket && inherited.empty()) args.socket = s.socket;
  std::optional<auth::net::SocketSpec> spec;
  if (socket_mode && inherited.empty()) {
    auto p = auth::net::parse_socket_spec(*args.socket);
    if (!p) {
      log.critical("socket " + *args.socket + ": " + p.error().reason);
      return args.check ? kExitConfig : kExitUsage;
    }
    spec = *p;
  }
  if (args.check) {
    std::cout << config_path << ": OK (HELO_reject=" << s.helo_reject_text
              << ", Mail_From_reject=" << s.mail_from_reject_text
              << ", Header_Type=" << auth::config::to_string(s.header_type) << ", "
              << loaded.warnings.size() << " warning(s))\n";
    return 0;
  }

  inkan::spf::ServerOptions so;
  so.hostname = host_name();
  so.spawn = !socket_mode;
  so.config_path = config_path;
  so.nameserver_override = args.nameservers;
  so.settings = std::make_shared<const auth::config::SpfSettings>(std::move(s));

  if (socket_mode) {
    if (inherited.empty()) {
      std::string err;
      int fd = bind_listener(*spec, err);
      if (fd < 0) {
        log.critical("cannot listen on " + *args.socket + ": " + err);
        return kExitOsErr;
      }
      so.listen_fds.push_back(fd);
    } else {
      so.listen_fds = inherited;
      args.foreground = true;  // the service manager supervises us
      args.socket = "systemd socket activation (" + std::to_string(inherited.size()) + " fds)";
    }
    std::string user = args.user.value_or(so.settings->user);
    if (!user.empty()) {
      auto us = inkan::milter::parse_user_spec(user);
      if (!us) {
        log.critical("user " + user + ": " + us.error().reason);
        return kExitConfig;
      }
      auto cred = inkan::milter::resolve_user(*us);
      if (!cred) {
        log.critical("user " + user + ": " + cred.error().reason);
        return kExitConfig;
      }
      if (spec && spec->is_local()) {
        [[maybe_unused]] int r = ::chown(spec->path.c_str(), cred->uid, cred->gid);
      }
      if (auto d = inkan::milter::drop_privileges(*cred); !d) {
        log.critical(d.error().reason);
        return kExitOsErr;
      }
    }
    inkan::milter::ReadyNotifier ready;
    if (!args.foreground) {
      auto d = inkan::milter::daemonize();
      if (!d) {
        log.critical(d.error().reason);
        return kExitOsErr;
      }
      ready = *d;
    }
    std::string pidfile = args.pidfile.value_or(so.settings->pidfile);
    if (!pidfile.empty()) {
      if (auto w = inkan::milter::write_pidfile(pidfile); !w) {
        ready.failed(kExitOsErr, w.error().reason);
        log.critical(w.error().reason);
        return kExitOsErr;
      }
    }
    int debug_level = so.settings->debug_level;
    if (debug_level >= 3) log.info("Starting: listening on " + *args.socket);
    ready.ready();
    int rc = inkan::spf::run_server(std::move(so), log);
    if (!pidfile.empty()) (void)inkan::milter::remove_pidfile(pidfile);
    if (spec && spec->is_local()) ::unlink(spec->path.c_str());
    if (debug_level >= 3) log.info("Normal exit");
    return rc;
  }
  if (so.settings->debug_level >= 3) log.info("Starting");
  int rc = inkan::spf::run_server(std::move(so), log);
  return rc;
}
