// inkan::milter — process duties: daemonising, the PID file, dropping privileges.
//
// Debian's units for the predecessors are Type=forking with PIDFile= (anchor-features.md §1.3),
// so without -f the daemon forks, the child calls setsid(), and the parent exits only once the
// child has written its PID file and is ready (or failed: then the parent prints the child's
// message and exits with its code). Privileges are dropped after the socket is bound and keys
// are loaded (OpenSMTPD-style privilege separation would be the next step).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "auth/core/result.h"
#include "common/settings.h"

namespace inkan::milter {

/// A resolved UserID.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

/// Looks up USER[:GROUP] in the user and group databases. Numeric ids are accepted.
/// Errors: Invalid (unknown user or group), Syntax.
auth::Result<Credentials> resolve_user(const UserSpec& spec);

/// initgroups + setgid + setuid, then checks that root cannot be regained.
/// Errors: Io with the failing call. A no-op when already running as `c.uid`.
auth::Result<void> drop_privileges(const Credentials& c);

/// chdir(dir), chroot(dir), chdir("/"). Errors: Io naming the failing call (needs root).
auth::Result<void> change_root(const std::string& dir);

/// Writes our PID ("1234\n") to `path`, replacing a stale file; refuses to follow symlinks.
/// Errors: Io.
auth::Result<void> write_pidfile(const std::string& path);
/// Removes the PID file if it still holds our PID. Errors: Io.
auth::Result<void> remove_pidfile(const std::string& path);

/// The child's end of the start-up handshake with the waiting parent.
class ReadyNotifier {
 public:
  ReadyNotifier() = default;
  explicit ReadyNotifier(int fd) : fd_(fd) {}
  /// Tells the parent to exit 0. Later calls do nothing.
  void ready() noexcept;
  /// Tells the parent to print `message` and exit `code`. Later calls do nothing.
  void failed(int code, std::string_view message) noexcept;
  bool active() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Forks into the background. Only the child returns (with the notifier the parent waits on);
/// the parent exits with the child's reported status (kExitOsErr if the child dies silently).
/// The child is a session leader with cwd "/" and stdin/stdout/stderr on /dev/null.
/// Must run before any thread is started. Errors: Io (fork/setsid failed; still in parent).
auth::Result<ReadyNotifier> daemonize();

}  // namespace inkan::milter
