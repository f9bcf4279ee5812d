// inkan::milter — the native milter protocol engine (milter protocol version 6, as Postfix
// and Sendmail speak it), the default engine of every inkan milter.
//
// Why not libmilter. Measured in the shared Postfix harness (one message per SMTP session, so
// one milter connection per message), libmilter costs ~0.44-0.5 CPU-ms per message for a
// milter that does nothing (inkan-null-milter; bench/milter/), more than the whole budget
// the project sets for verifying (0.15 ms). Its Debian build serves sessions from a worker
// pool that hands every connection between a listener, a pool manager and workers (18 futex
// calls per message), creates threads per connection, and reads each command with four
// system calls. This engine serves a connection on one thread from accept to close: threads
// wait in accept() themselves (no hand-over), reads are buffered (one read per batch of
// commands), and every answer and end-of-message change produced while working through a
// batch goes out in one write. The runtime logic (runtime.cpp: sessions, default actions,
// held no-reply answers) is shared with the libmilter engine through MtaLink (link.h);
// INKAN_MILTER_ENGINE=libmilter in the environment selects libmilter instead.
//
// Wire format (libmilter mfdef.h, Postfix milter8.c): a packet is a 4-byte big-endian length
// (command byte + data), the command byte, the data. Limits: kMaxPacketData per packet
// (libmilter's largest, SMFIP_MDS_1M), kMaxMacros per macro packet, kMaxArgs per MAIL/RCPT.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "auth/core/result.h"
#include "auth/net/socketspec.h"

namespace inkan::milter {

/// Largest packet data accepted (libmilter MILTER_MDS_1M); a larger length closes the connection.
inline constexpr std::size_t kMaxPacketData = 1024 * 1024;
/// Macro name/value pairs kept per SMFIC_MACRO packet (Postfix sends a handful).
inline constexpr std::size_t kMaxMacros = 256;
/// MAIL FROM / RCPT TO arguments kept (the address and its ESMTP parameters).
inline constexpr std::size_t kMaxArgs = 1024;
/// Idle threads kept waiting in accept(); more than this exit after their connection.
inline constexpr int kMaxIdleThreads = 16;
/// TCP listeners: accept() returns once the MTA's OPTNEG is in (TCP_DEFER_ACCEPT), so the
/// thread wakes once per new connection, not twice. Postfix sends OPTNEG right after connect.
inline constexpr int kDeferAcceptSeconds = 10;

struct EngineOptions {
  /// Seconds a read or write on an MTA connection may block (libmilter's default 7210).
  int timeout_seconds = 7210;
  int backlog = 128;
};

/// Serves one accepted MTA connection on the calling thread until the MTA quits or the
/// connection fails (the caller closes `fd`). `tcp` re-arms TCP_QUICKACK after each write.
/// The worker threads use it; so does the engine's fuzz target.
void serve_connection(int fd, bool tcp, int timeout_seconds) noexcept;

class NativeEngine {
 public:
  /// Binds and listens on `spec` (as root, before daemonising); a stale UNIX socket is
  /// replaced, a regular file in its place is not. The socket's mode comes from the umask.
  static auth::Result<std::unique_ptr<NativeEngine>> listen(const auth::net::SocketSpec& spec,
                                                            EngineOptions options);
  ~NativeEngine();
  NativeEngine(const NativeEngine&) = delete;
  NativeEngine& operator=(const NativeEngine&) = delete;

  /// Serves connections until stop(); connections keep being served after it returns.
  /// Returns false when accept() failed for good.
  bool serve();
  /// Stops accepting new connections.
  void stop() noexcept;

 private:
  NativeEngine(int fd, EngineOptions options, bool tcp);
  void worker() noexcept;
  void spawn_worker() noexcept;

  int fd_;
  EngineOptions options_;
  bool tcp_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> idle_{0};
};

}  // namespace inkan::milter
