// inkan-spf — the policy server's event loop: one thread, epoll(7) over the listening sockets,
// the client connections (or stdin/stdout in spawn mode) and the c-ares sockets; no thread per
// request. Requests of one connection are answered in order, one at a time (Postfix never
// pipelines); many connections are served concurrently while their DNS answers are pending.
// Interest is registered once per connection (level-triggered) and changed only when its state
// does, so a request answered from the DNS cache costs one epoll_wait, one read and one write
// whatever the number of connections, and no timer runs while no DNS query is pending.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auth/config/spf.h"
#include "common/logging.h"

namespace inkan::spf {

struct ServerOptions {
  std::shared_ptr<const auth::config::SpfSettings> settings;
  std::string hostname;
  bool spawn = true;          ///< stdin/stdout, exit at EOF (policyd-spf's process model)
  std::vector<int> listen_fds;  ///< socket mode: bound, listening sockets
  std::string config_path;    ///< for SIGHUP/SIGUSR1 reloads ("" = nothing to reload)
  std::vector<std::string> nameserver_override;  ///< --nameserver, wins over the config
};

/// Runs until EOF (spawn) or SIGTERM/SIGINT (socket). Returns the process exit code.
/// SIGHUP and SIGUSR1 re-read the configuration (a bad one is logged and the old one kept).
int run_server(ServerOptions options, milter::Logger& log);

/// Applies --nameserver and the DNS settings to a fresh CaresResolver options value.
std::vector<std::string> effective_nameservers(const auth::config::SpfSettings& s,
                                               const std::vector<std::string>& override_list);

}  // namespace inkan::spf
