#include "common/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace inkan::milter {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

auth::Result<Credentials> resolve_user(const UserSpec& spec) {
  Credentials c;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* pwp = nullptr;
  int rc = getpwnam_r(spec.user.c_str(), &pw, buf.data(), buf.size(), &pwp);
  if (pwp == nullptr && all_digits(spec.user)) {
    rc = getpwuid_r(static_cast<uid_t>(std::strtoul(spec.user.c_str(), nullptr, 10)), &pw,
                    buf.data(), buf.size(), &pwp);
  }
  if (pwp == nullptr) {
    return auth::fail(auth::ErrorCode::Invalid,
                      "unknown user '" + spec.user + "'" +
                          (rc != 0 ? std::string(": ") + std::strerror(rc) : std::string()));
  }
  c.uid = pw.pw_uid;
  c.gid = pw.pw_gid;
  c.user = pw.pw_name;
  if (!spec.group.empty()) {
    std::vector<char> gbuf(16384);
    group gr{};
    group* grp = nullptr;
    getgrnam_r(spec.group.c_str(), &gr, gbuf.data(), gbuf.size(), &grp);
    if (grp == nullptr && all_digits(spec.group)) {
      getgrgid_r(static_cast<gid_t>(std::strtoul(spec.group.c_str(), nullptr, 10)), &gr,
                 gbuf.data(), gbuf.size(), &grp);
    }
    if (grp == nullptr) {
      return auth::fail(auth::ErrorCode::Invalid, "unknown group '" + spec.group + "'");
    }
    c.gid = gr.gr_gid;
  }
  return c;
}

auth::Result<void> change_root(const std::string& dir) {
  if (::chdir(dir.c_str()) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("chdir " + dir));
  if (::chroot(dir.c_str()) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("chroot " + dir));
  if (::chdir("/") != 0) return auth::fail(auth::ErrorCode::Io, errno_text("chdir / in " + dir));
  return auth::ok();
}

auth::Result<void> drop_privileges(const Credentials& c) {
  if (geteuid() == c.uid && getegid() == c.gid) return auth::ok();
  if (geteuid() != 0) {
    return auth::fail(auth::ErrorCode::Io, "cannot become user '" + c.user + "': not running as root");
  }
  // Supplementary groups of the user (anchor-features.md §8 "with supplementary groups").
  if (initgroups(c.user.c_str(), c.gid) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("initgroups"));
  if (setgid(c.gid) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("setgid"));
  if (setuid(c.uid) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("setuid"));
  if (c.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    return auth::fail(auth::ErrorCode::Io, "privileges could be regained after setuid");
  }
  return auth::ok();
}

auth::Result<void> write_pidfile(const std::string& path) {
  // Replace whatever is there (a stale file from a crash) but never follow a symlink.
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return auth::fail(auth::ErrorCode::Io, errno_text(("cannot create " + tmp).c_str()));
  std::string text = std::to_string(getpid()) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = (close(fd) == 0) && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = errno_text(("cannot write " + path).c_str());
    unlink(tmp.c_str());
    return auth::fail(auth::ErrorCode::Io, e);
  }
  return auth::ok();
}

auth::Result<void> remove_pidfile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return auth::ok();
    return auth::fail(auth::ErrorCode::Io, errno_text(("cannot open " + path).c_str()));
  }
  char buf[32] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0 || std::strtol(buf, nullptr, 10) != static_cast<long>(getpid())) {
    return auth::fail(auth::ErrorCode::Io, path + " holds another process id; left alone");
  }
  if (unlink(path.c_str()) != 0) {
    return auth::fail(auth::ErrorCode::Io, errno_text(("cannot remove " + path).c_str()));
  }
  return auth::ok();
}

void ReadyNotifier::ready() noexcept {
  if (fd_ < 0) return;
  char zero = 0;
  (void)!write(fd_, &zero, 1);
  close(fd_);
  fd_ = -1;
}

void ReadyNotifier::failed(int code, std::string_view message) noexcept {
  if (fd_ < 0) return;
  char c = static_cast<char>(code == 0 ? kExitSoftware : code);
  (void)!write(fd_, &c, 1);
  (void)!write(fd_, message.data(), message.size() > 1024 ? 1024 : message.size());
  close(fd_);
  fd_ = -1;
}

auth::Result<ReadyNotifier> daemonize() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return auth::fail(auth::ErrorCode::Io, errno_text("pipe"));
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return auth::fail(auth::ErrorCode::Io, errno_text("fork"));
  }
  if (pid > 0) {
    /* Parent: wait for the child's verdict, then leave. */
    close(p[1]);
    char status = 0;
    ssize_t n;
    do {
      n = read(p[0], &status, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
      // The child died before reporting; reap it if it is gone, for its status.
      std::fprintf(stderr, "start-up failed: the daemon exited before it was ready\n");
      _exit(kExitOsErr);
    }
    if (status != 0) {
      char msg[1025];
      ssize_t m = read(p[0], msg, sizeof msg - 1);
      if (m > 0) {
        msg[m] = '\0';
        std::fprintf(stderr, "%s\n", msg);
      }
      _exit(static_cast<unsigned char>(status));
    }
    _exit(kExitOk);
  }
  /* Child. */
  close(p[0]);
  if (setsid() < 0) {
    ReadyNotifier n(p[1]);
    n.failed(kExitOsErr, errno_text("setsid"));
    _exit(kExitOsErr);
  }
  (void)!chdir("/");
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    if (devnull > STDERR_FILENO) close(devnull);
  }
  return ReadyNotifier(p[1]);
}

}  // namespace inkan::milter
