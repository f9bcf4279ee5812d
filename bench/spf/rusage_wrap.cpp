// rusage_wrap — runs a command and, when it exits, appends its exact CPU time (microseconds,
// from wait4(2)) to a log file. For the real-Postfix harness (../shared/bench-postfix), whose
// spawn-mode figure comes from GNU time's %U/%S: those print seconds with two decimals,
// truncated, so every spawned policy process that used 0-9.99 ms of CPU in a field is counted
// as 0 (`/usr/bin/time -f %U /bin/true`-style processes vanish). Wrapping the policy server in
// both modes gives one exact, identical accounting for spawn and socket mode:
//
//   rusage_wrap LOGFILE COMMAND [ARGS...]
//
// Log line: "pid start_unix_s end_unix_s user_us sys_us maxrss_kb exit_status". SIGTERM,
// SIGINT, SIGHUP and SIGUSR1 are forwarded to the child; the exit status is the child's.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>

namespace {

volatile sig_atomic_t g_child = 0;

extern "C" void forward(int sig) {
  if (g_child > 0) ::kill(static_cast<pid_t>(g_child), sig);
}

double now_s() {
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

long long us(const timeval& tv) {
  return static_cast<long long>(tv.tv_sec) * 1000000LL + static_cast<long long>(tv.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rusage_wrap LOGFILE COMMAND [ARGS...]\n");
    return 64;
  }
  double t0 = now_s();
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("rusage_wrap: fork");
    return 71;
  }
  if (pid == 0) {
    ::execvp(argv[2], argv + 2);
    std::fprintf(stderr, "rusage_wrap: %s: %s\n", argv[2], std::strerror(errno));
    _exit(127);
  }
  g_child = pid;
  struct sigaction sa {};
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) ::sigaction(sig, &sa, nullptr);
  int status = 0;
  rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("rusage_wrap: wait4");
      return 71;
    }
  }
  double t1 = now_s();
  char line[256];
  int n = std::snprintf(line, sizeof line, "%ld %.6f %.6f %lld %lld %ld %d\n",
                        static_cast<long>(pid), t0, t1, us(ru.ru_utime), us(ru.ru_stime),
                        ru.ru_maxrss, status);
  int fd = ::open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd >= 0 && n > 0) {
    [[maybe_unused]] ssize_t w = ::write(fd, line, static_cast<std::size_t>(n));
    ::close(fd);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
