// Fuzz target: the native milter engine's reader and dispatcher (engine.cpp) on arbitrary
// bytes from the MTA side of a socketpair. The runtime's steps are replaced by stubs that
// use every MtaLink service (macros, reply text, end-of-message changes), so framing, macro
// tables, connect-info and argument decoding, and the answer writer are all reached. The
// engine must never crash, loop or read out of bounds, whatever the MTA sends.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/engine.h"
#include "common/link.h"

namespace inkan::milter::step {

int negotiate(MtaLink&, unsigned long a, unsigned long p, unsigned long* pa, unsigned long* pp) noexcept {
  *pa = a & 0x3F;                 // every action the MTA offers (ADDHDRS..QUARANTINE)
  *pp = p & (0x80 | 0x40000 | 0x80000 | 0x100000);  // NR_HDR, NR_EOH, NR_BODY, leading space
  return 0;
}
int connect(MtaLink& l, const char*, const sockaddr*) noexcept {
  (void)l.symval("j");
  return 0;
}
int helo(MtaLink& l, const char*) noexcept { return l.symval("{daemon_name}") ? 0 : 0; }
int envfrom(MtaLink& l, const std::vector<std::string>& a) noexcept {
  if (!a.empty() && a[0].size() > 200) {
    l.setreply("550", "5.7.1", "too long");
    return 2;  // SMFIS_REJECT
  }
  return 0;
}
int envrcpt(MtaLink&, const std::vector<std::string>&) noexcept { return 0; }
int data(MtaLink&) noexcept { return 0; }
int header(MtaLink&, const char*, const char*) noexcept { return 7; }  // SMFIS_NOREPLY
int eoh(MtaLink&) noexcept { return 7; }
int body(MtaLink&, const unsigned char*, std::size_t) noexcept { return 7; }
int eom(MtaLink& l) noexcept {
  const char* q = l.symval("i");
  l.addheader("X-Fuzz", q ? q : "none");
  l.insheader(0, "X-Fuzz-First", "1");
  std::string v = "changed";
  l.chgheader("Subject", 1, &v);
  l.chgheader("X-Old", 1, nullptr);
  l.quarantine("fuzz");
  l.addrcpt("<fuzz@example.org>");
  l.delrcpt("rcpt@example.org");
  l.progress();
  return 3;  // SMFIS_ACCEPT
}
int abort(MtaLink&) noexcept { return 0; }
int close(MtaLink& l) noexcept {
  l.set_priv(nullptr);
  return 0;
}
int unknown(MtaLink&, const char*) noexcept { return 0; }

}  // namespace inkan::milter::step

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  // Write the input from another thread (it may exceed the socket buffer), then EOF.
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < size) {
      ssize_t w = ::send(sv[1], data + off, size - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::shutdown(sv[1], SHUT_WR);
    char sink[4096];
    while (::read(sv[1], sink, sizeof sink) > 0) {
    }
  });
  inkan::milter::serve_connection(sv[0], false, 5);
  ::shutdown(sv[0], SHUT_RDWR);
  writer.join();
  ::close(sv[0]);
  ::close(sv[1]);
  return 0;
}
