// inkan::milter — buffered reads on the MTA connections libmilter serves.
//
// libmilter reads each milter command with poll() + read() of the 5-byte length and command,
// then poll() + read() of its data (comm.c mi_rd_cmd): four system calls per command, and a
// message from Postfix is ~20 commands (macros, connect, mail, rcpt, each header, end of
// header, body, end of message). With the no-reply steps negotiated (protocol.h), Postfix
// sends most of them in one or two writes, so one read() can fetch them all. read_buffer.cpp
// therefore defines read(), poll() and close() in the executable (ELF interposition, like the
// accept() interposer in tcp_nodelay.h) and, for descriptors libmilter accepted with accept():
//   - read() serves the request from a per-connection buffer, refilling it with one read()
//     of up to kReadBufferBytes when empty (a request at least that large bypasses it);
//   - poll() on that one descriptor for POLLIN returns "readable" at once while the buffer
//     holds data (what is buffered is exactly what the kernel would still have queued);
//   - close() discards the buffer before the descriptor can be reused.
// Every other descriptor, and poll() over several descriptors, goes straight to libc. The
// metrics endpoint accepts with accept4() and reads with recv(): never buffered.
// Threads: libmilter serves a connection from one thread at a time, handing it over under its
// own locks, so a buffer is never used by two threads at once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inkan::milter {

/// Bytes fetched per read() system call on an MTA connection (Postfix writes in 4 KiB
/// VSTREAM buffers; a 4 KiB message with its headers is a few of them).
inline constexpr std::size_t kReadBufferBytes = 64 * 1024;

/// Starts buffering reads on `fd` (an accepted MTA connection). Called by the accept()
/// interposer; also usable by tests.
void buffer_reads(int fd) noexcept;

/// Whether reads on `fd` are buffered.
bool reads_buffered(int fd) noexcept;

/// What the interposers did since start: read() calls answered from a buffer without a
/// system call, poll() calls answered likewise, and refills (read() system calls made).
struct ReadBufferCounts {
  std::uint64_t reads_served = 0;
  std::uint64_t polls_served = 0;
  std::uint64_t refills = 0;
};
ReadBufferCounts read_buffer_counts() noexcept;

/// True when read(), poll() and close() as shared libraries resolve them are the interposers.
bool read_buffer_interposed() noexcept;

}  // namespace inkan::milter
