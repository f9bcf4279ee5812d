// Buffered reads on libmilter's MTA connections (see read_buffer.h for why and how).
#include "common/read_buffer.h"
#include "common/interpose.h"

#include <dlfcn.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>

namespace inkan::milter {
namespace {

using ReadFn = ssize_t (*)(int, void*, std::size_t);
using PollFn = int (*)(pollfd*, nfds_t, int);
using CloseFn = int (*)(int);

/// Descriptors below this can be buffered (a table of pointers, 512 KiB of zero pages until
/// used); connections on higher descriptors are served unbuffered.
constexpr int kMaxBufferedFd = 65536;

struct Buffer {
  std::size_t begin = 0;
  std::size_t end = 0;
  unsigned char data[kReadBufferBytes];
  std::size_t size() const noexcept { return end - begin; }
};

std::atomic<Buffer*> g_buffers[kMaxBufferedFd];
std::atomic<std::uint64_t> g_reads_served{0};
std::atomic<std::uint64_t> g_polls_served{0};
std::atomic<std::uint64_t> g_refills{0};

using interpose::address_of;
using interpose::function_from;

ssize_t real_read(int fd, void* buf, std::size_t n) noexcept {
  static const ReadFn next = function_from<ReadFn>(dlsym(RTLD_NEXT, "read"));
  if (next != nullptr) return next(fd, buf, n);
  return static_cast<ssize_t>(syscall(SYS_read, fd, buf, n));
}

int real_poll(pollfd* fds, nfds_t n, int timeout) noexcept {
  static const PollFn next = function_from<PollFn>(dlsym(RTLD_NEXT, "poll"));
  if (next != nullptr) return next(fds, n, timeout);
  return static_cast<int>(syscall(SYS_poll, fds, n, timeout));
}

int real_close(int fd) noexcept {
  static const CloseFn next = function_from<CloseFn>(dlsym(RTLD_NEXT, "close"));
  if (next != nullptr) return next(fd);
  return static_cast<int>(syscall(SYS_close, fd));
}

Buffer* buffer_of(int fd) noexcept {
  if (fd < 0 || fd >= kMaxBufferedFd) return nullptr;
  return g_buffers[fd].load(std::memory_order_acquire);
}

ssize_t buffered_read(Buffer& b, int fd, void* out, std::size_t n) noexcept {
  if (n == 0) return real_read(fd, out, n);
  if (b.size() == 0) {
    // A large request goes straight to the kernel: no copy, and nothing is held back.
    if (n >= sizeof b.data) return real_read(fd, out, n);
    b.begin = b.end = 0;
    const ssize_t got = real_read(fd, b.data, sizeof b.data);
    g_refills.fetch_add(1, std::memory_order_relaxed);
    if (got <= 0) return got;  // EOF or error (errno from the kernel)
    b.end = static_cast<std::size_t>(got);
  } else {
    g_reads_served.fetch_add(1, std::memory_order_relaxed);
  }
  const std::size_t k = n < b.size() ? n : b.size();
  std::memcpy(out, b.data + b.begin, k);
  b.begin += k;
  return static_cast<ssize_t>(k);
}

}  // namespace

void buffer_reads(int fd) noexcept {
  if (fd < 0 || fd >= kMaxBufferedFd) return;
  auto* b = new (std::nothrow) Buffer;
  if (b == nullptr) return;  // out of memory: served unbuffered
  Buffer* old = g_buffers[fd].exchange(b, std::memory_order_acq_rel);
  delete old;  // a descriptor closed behind our back (not through close()): start afresh
}

bool reads_buffered(int fd) noexcept { return buffer_of(fd) != nullptr; }

ReadBufferCounts read_buffer_counts() noexcept {
  ReadBufferCounts c;
  c.reads_served = g_reads_served.load(std::memory_order_relaxed);
  c.polls_served = g_polls_served.load(std::memory_order_relaxed);
  c.refills = g_refills.load(std::memory_order_relaxed);
  return c;
}

bool read_buffer_interposed() noexcept {
  ReadFn r = &::read;
  PollFn p = &::poll;
  CloseFn c = &::close;
  return dlsym(RTLD_DEFAULT, "read") == address_of(r) && dlsym(RTLD_DEFAULT, "poll") == address_of(p) &&
         dlsym(RTLD_DEFAULT, "close") == address_of(c);
}

}  // namespace inkan::milter

// The interposers (declarations from <unistd.h> and <poll.h>).
extern "C" __attribute__((visibility("default"))) ssize_t read(int fd, void* buf, std::size_t n) {
  using namespace inkan::milter;
  if (Buffer* b = buffer_of(fd); b != nullptr) return buffered_read(*b, fd, buf, n);
  return real_read(fd, buf, n);
}

// glibc declares poll()'s array write-only (__attr_access write_only), but poll() reads
// `events` from it; GCC then thinks reading it here may read uninitialised memory.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
extern "C" __attribute__((visibility("default"))) int poll(pollfd* fds, nfds_t n, int timeout) {
  using namespace inkan::milter;
  if (n == 1 && fds != nullptr && (fds[0].events & POLLIN) != 0) {
    if (Buffer* b = buffer_of(fds[0].fd); b != nullptr && b->size() > 0) {
      g_polls_served.fetch_add(1, std::memory_order_relaxed);
      fds[0].revents = POLLIN;
      return 1;
    }
  }
  return real_poll(fds, n, timeout);
}
#pragma GCC diagnostic pop

extern "C" __attribute__((visibility("default"))) int close(int fd) {
  using namespace inkan::milter;
  if (fd >= 0 && fd < kMaxBufferedFd) {
    if (Buffer* b = g_buffers[fd].exchange(nullptr, std::memory_order_acq_rel); b != nullptr) delete b;
  }
  return real_close(fd);
}
