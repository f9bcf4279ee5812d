// The native milter protocol engine (see engine.h).
#include "common/engine.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>  // SMFIS_* answer codes only (shared with runtime.cpp)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/link.h"
#include "common/listen.h"
#include "common/protocol.h"
#include "common/read_buffer.h"

namespace inkan::milter {
namespace {

/// Our protocol version (libmilter SMFI_PROT_VERSION).
constexpr std::uint32_t kProtocolVersion = 6;
/// Bytes read per read() system call.
constexpr std::size_t kReadChunk = kReadBufferBytes;

/* Commands (mfdef.h SMFIC_*) and replies (SMFIR_*). */
namespace cmd {
constexpr char kAbort = 'A', kBody = 'B', kConnect = 'C', kMacro = 'D', kEob = 'E', kHelo = 'H',
               kQuitNc = 'K', kHeader = 'L', kMail = 'M', kEoh = 'N', kOptneg = 'O', kQuit = 'Q',
               kRcpt = 'R', kData = 'T', kUnknown = 'U';
}
namespace rep {
constexpr char kAddRcpt = '+', kDelRcpt = '-', kAccept = 'a', kReplBody = 'b', kContinue = 'c', kDiscard = 'd',
               kAddHeader = 'h', kInsHeader = 'i', kChgHeader = 'm', kProgress = 'p', kQuarantine = 'q',
               kReject = 'r', kSkip = 's', kTempfail = 't', kReplyCode = 'y';
}

/// Macro stages, libmilter's CI_* order.
enum MacroStage : int { kConn = 0, kHeloM, kMailM, kRcptM, kDataM, kEomM, kEohM, kStages };

int macro_stage(char c) {
  switch (c) {
    case cmd::kConnect: return kConn;
    case cmd::kHelo: return kHeloM;
    case cmd::kMail: return kMailM;
    case cmd::kRcpt: return kRcptM;
    case cmd::kData: return kDataM;
    case cmd::kEob: return kEomM;
    case cmd::kEoh: return kEohM;
    default: return -1;
  }
}

std::string_view strip_braces(std::string_view n) {
  if (n.size() >= 2 && n.front() == '{' && n.back() == '}') return n.substr(1, n.size() - 2);
  return n;
}

void put32(std::string& out, std::uint32_t v) {
  v = htonl(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}

std::uint32_t get32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

/// Splits "a\0b\0c\0" into strings (a missing final NUL still ends the last one).
std::vector<std::string> split_nul(std::string_view d, std::size_t max) {
  std::vector<std::string> v;
  while (!d.empty() && v.size() < max) {
    auto z = d.find('\0');
    v.emplace_back(d.substr(0, z));
    if (z == std::string_view::npos) break;
    d.remove_prefix(z + 1);
  }
  return v;
}

/// One MTA connection, served on one thread from accept to close.
class Connection final : public MtaLink {
 public:
  Connection(int fd, bool tcp, int timeout) : fd_(fd), tcp_(tcp) {
    // Not value-initialised: only the bytes read are ever touched (RSS stays per-use).
    in_.reset(new unsigned char[kReadChunk]);
    cap_ = kReadChunk;
    timeval tv{timeout, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  void run() noexcept {
    bool in_mail = false;
    for (;;) {
      char c = 0;
      std::string_view d;
      if (!next_packet(c, d)) break;
      if (c == cmd::kQuit) break;
      if (!dispatch(c, d, in_mail)) break;
    }
    if (in_mail) step::abort(*this);
    step::close(*this);
    flush();
  }

  /* MtaLink */
  void* priv() override { return priv_; }
  void set_priv(void* p) override { priv_ = p; }
  const char* symval(const std::string& name) override {
    std::string_view want = strip_braces(name);
    for (int s = kStages - 1; s >= 0; --s) {
      for (const auto& [n, v] : macros_[s]) {
        if (n == name || strip_braces(n) == want) return v.c_str();
      }
    }
    return nullptr;
  }
  bool setreply(const std::string& rcode, const std::string& xcode, const std::string& text) override {
    // libmilter smfi_setreply: "rcode xcode text", "rcode xcode" or "rcode text".
    std::string r = rcode + " ";
    if (!xcode.empty()) {
      r += xcode;
      if (!text.empty()) r += " " + text;
    } else {
      r += text;
    }
    reply_ = std::move(r);
    return true;
  }
  bool quarantine(const std::string& reason) override {
    if (!eom_ || (actions_ & flags::kQuarantine) == 0) return false;
    std::string d = reason;
    d.push_back('\0');
    packet(rep::kQuarantine, d);
    return true;
  }
  bool addheader(const std::string& name, const std::string& value) override {
    if (!eom_ || (actions_ & flags::kAddHeaders) == 0) return false;
    packet(rep::kAddHeader, name + '\0' + value + '\0');
    return true;
  }
  bool insheader(int index, const std::string& name, const std::string& value) override {
    if (!eom_ || (actions_ & flags::kAddHeaders) == 0) return false;
    std::string d;
    put32(d, static_cast<std::uint32_t>(index < 0 ? 0 : index));
    packet(rep::kInsHeader, d + name + '\0' + value + '\0');
    return true;
  }
  bool chgheader(const std::string& name, int index, const std::string* value) override {
    if (!eom_ || (actions_ & flags::kChangeHeaders) == 0 || index < 0) return false;
    std::string d;
    put32(d, static_cast<std::uint32_t>(index));
    packet(rep::kChgHeader, d + name + '\0' + (value ? *value : std::string()) + '\0');
    return true;
  }
  bool replacebody(const unsigned char* p, std::size_t n) override {
    if (!eom_ || (actions_ & flags::kChangeBody) == 0) return false;
    packet(rep::kReplBody, std::string_view(reinterpret_cast<const char*>(p), n));
    return true;
  }
  bool addrcpt(const std::string& rcpt) override {
    if (!eom_ || (actions_ & flags::kAddRcpt) == 0) return false;
    packet(rep::kAddRcpt, rcpt + '\0');
    return true;
  }
  bool delrcpt(const std::string& rcpt) override {
    if (!eom_ || (actions_ & flags::kDeleteRcpt) == 0) return false;
    packet(rep::kDelRcpt, rcpt + '\0');
    return true;
  }
  void progress() override {
    if (!eom_) return;
    packet(rep::kProgress, {});
    flush();
  }

 private:
  /* Input. */
  bool fill() {
    flush();  // the MTA reads our answers before it sends more: never block with them queued
    if (begin_ > 0 && begin_ == end_) begin_ = end_ = 0;
    if (end_ == cap_) {
      if (begin_ > 0) {
        std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      } else {
        grow(cap_ * 2);
      }
    }
    for (;;) {
      ssize_t r = ::read(fd_, in_.get() + end_, cap_ - end_);
      if (r > 0) {
        end_ += static_cast<std::size_t>(r);
        return true;
      }
      if (r < 0 && errno == EINTR) continue;
      return false;  // EOF, timeout (EAGAIN from SO_RCVTIMEO) or error
    }
  }

  bool next_packet(char& c, std::string_view& d) {
    while (end_ - begin_ < 5) {
      if (!fill()) return false;
    }
    std::uint32_t len = get32(in_.get() + begin_);
    if (len == 0 || len - 1 > kMaxPacketData) return false;  // not the milter protocol
    const std::size_t need = 4 + static_cast<std::size_t>(len);
    while (end_ - begin_ < need) {
      if (begin_ + need > cap_) {
        // Make room for the whole packet: move it to the front, grow if it is larger.
        std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (need > cap_) grow(need);
      }
      if (!fill()) return false;
    }
    c = static_cast<char>(in_[begin_ + 4]);
    d = std::string_view(reinterpret_cast<const char*>(in_.get() + begin_ + 5), len - 1);
    begin_ += 4 + static_cast<std::size_t>(len);
    return true;
  }

  void grow(std::size_t n) {
    std::unique_ptr<unsigned char[]> b(new unsigned char[n]);
    std::memcpy(b.get(), in_.get(), end_);
    in_ = std::move(b);
    cap_ = n;
  }

  /* Output. */
  void packet(char c, std::string_view d) {
    put32(out_, static_cast<std::uint32_t>(d.size() + 1));
    out_.push_back(c);
    out_.append(d);
  }

  void flush() {
    std::size_t off = 0;
    while (off < out_.size()) {
      ssize_t w = ::send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;  // the MTA went away; the read side notices
      off += static_cast<std::size_t>(w);
    }
    if (!out_.empty() && tcp_) {
      // Postfix keeps Nagle on: ACK its next write at once (tcp_nodelay.cpp explains).
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    out_.clear();
  }

  /// Writes the answer to a command (nothing for a no-reply step).
  void answer(int status, unsigned long nr_bit) {
    if ((protocol_ & nr_bit) != 0 || status == SMFIS_NOREPLY) return;
    switch (status) {
      case SMFIS_CONTINUE: packet(rep::kContinue, {}); break;
      case SMFIS_ACCEPT: packet(rep::kAccept, {}); break;
      case SMFIS_DISCARD: packet(rep::kDiscard, {}); break;
      case SMFIS_SKIP: packet(rep::kSkip, {}); break;
      case SMFIS_REJECT:
      case SMFIS_TEMPFAIL:
        if (reply_) {
          std::string d = *reply_;
          d.push_back('\0');
          packet(rep::kReplyCode, d);
        } else {
          packet(status == SMFIS_REJECT ? rep::kReject : rep::kTempfail, {});
        }
        break;
      default: packet(rep::kContinue, {}); break;
    }
    reply_.reset();
  }

  void clear_macros_after(int stage) {
    for (int s = stage + 1; s < kStages; ++s) macros_[s].clear();
  }

  bool dispatch(char c, std::string_view d, bool& in_mail) {
    switch (c) {
      case cmd::kOptneg: {
        if (d.size() < 12) return false;
        const auto* p = reinterpret_cast<const unsigned char*>(d.data());
        std::uint32_t version = get32(p);
        if (version < 2) return false;
        unsigned long actions = 0, protocol = 0;
        step::negotiate(*this, get32(p + 4), get32(p + 8), &actions, &protocol);
        actions_ = actions;
        protocol_ = protocol;
        std::string r;
        put32(r, version < kProtocolVersion ? version : kProtocolVersion);
        put32(r, static_cast<std::uint32_t>(actions));
        put32(r, static_cast<std::uint32_t>(protocol));
        packet(cmd::kOptneg, r);
        return true;
      }
      case cmd::kMacro: {
        if (d.empty()) return true;
        int s = macro_stage(d[0]);
        if (s < 0) return true;
        auto v = split_nul(d.substr(1), 2 * kMaxMacros);
        macros_[s].clear();
        for (std::size_t i = 0; i + 1 < v.size(); i += 2) macros_[s].emplace_back(std::move(v[i]), std::move(v[i + 1]));
        return true;
      }
      case cmd::kConnect: {
        clear_macros_after(kConn);
        auto z = d.find('\0');
        if (z == std::string_view::npos || z + 1 >= d.size()) return false;
        std::string host(d.substr(0, z));
        char family = d[z + 1];
        sockaddr_storage ss{};
        const sockaddr* sa = nullptr;
        if (family != 'U') {
          if (z + 4 > d.size()) return false;
          std::uint16_t port;
          std::memcpy(&port, d.data() + z + 2, 2);  // network order already
          std::string addr(d.substr(z + 4));
          if (auto n = addr.find('\0'); n != std::string::npos) addr.resize(n);
          if (family == '4') {
            auto* in = reinterpret_cast<sockaddr_in*>(&ss);
            in->sin_family = AF_INET;
            in->sin_port = port;
            if (inet_pton(AF_INET, addr.c_str(), &in->sin_addr) != 1) return false;
            sa = reinterpret_cast<sockaddr*>(&ss);
          } else if (family == '6') {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = port;
            if (addr.rfind("IPv6:", 0) == 0) addr.erase(0, 5);
            if (inet_pton(AF_INET6, addr.c_str(), &in6->sin6_addr) != 1) return false;
            sa = reinterpret_cast<sockaddr*>(&ss);
          } else if (family == 'L') {
            auto* un = reinterpret_cast<sockaddr_un*>(&ss);
            un->sun_family = AF_UNIX;
            if (addr.size() >= sizeof un->sun_path) return false;
            std::memcpy(un->sun_path, addr.c_str(), addr.size() + 1);
            sa = reinterpret_cast<sockaddr*>(&ss);
          } else {
            return false;
          }
        }
        answer(step::connect(*this, host.c_str(), sa), steps::kNoReplyConnect);
        return true;
      }
      case cmd::kHelo: {
        clear_macros_after(kHeloM);
        std::string h(d.substr(0, d.find('\0')));
        answer(step::helo(*this, h.c_str()), steps::kNoReplyHelo);
        return true;
      }
      case cmd::kMail: {
        clear_macros_after(kMailM);
        in_mail = true;
        answer(step::envfrom(*this, split_nul(d, kMaxArgs)), steps::kNoReplyMail);
        return true;
      }
      case cmd::kRcpt:
        clear_macros_after(kRcptM);
        answer(step::envrcpt(*this, split_nul(d, kMaxArgs)), steps::kNoReplyRcpt);
        return true;
      case cmd::kData:
        clear_macros_after(kDataM);
        answer(step::data(*this), steps::kNoReplyData);
        return true;
      case cmd::kHeader: {
        auto v = split_nul(d, 2);
        if (v.size() < 2) return false;
        answer(step::header(*this, v[0].c_str(), v[1].c_str()), steps::kNoReplyHeader);
        return true;
      }
      case cmd::kEoh: answer(step::eoh(*this), steps::kNoReplyEoh); return true;
      case cmd::kBody:
        answer(step::body(*this, reinterpret_cast<const unsigned char*>(d.data()), d.size()), steps::kNoReplyBody);
        return true;
      case cmd::kEob: {
        int r = SMFIS_CONTINUE;
        if (!d.empty()) {
          r = step::body(*this, reinterpret_cast<const unsigned char*>(d.data()), d.size());
          if (r != SMFIS_CONTINUE && r != SMFIS_NOREPLY) {
            answer(r, 0);
            in_mail = false;
            return true;
          }
        }
        eom_ = true;
        r = step::eom(*this);
        eom_ = false;
        answer(r, 0);
        in_mail = false;
        return true;
      }
      case cmd::kAbort:
        step::abort(*this);
        in_mail = false;
        return true;
      case cmd::kQuitNc:
        // The MTA keeps the connection for its next SMTP session: end this one's state.
        if (in_mail) step::abort(*this);
        in_mail = false;
        step::close(*this);
        for (auto& m : macros_) m.clear();
        return true;
      case cmd::kUnknown: {
        std::string u(d.substr(0, d.find('\0')));
        answer(step::unknown(*this, u.c_str()), steps::kNoReplyUnknown);
        return true;
      }
      default: return false;  // not a command of protocol 6: drop the connection
    }
  }

  int fd_;
  bool tcp_;
  std::unique_ptr<unsigned char[]> in_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0, end_ = 0;
  std::string out_;
  void* priv_ = nullptr;
  std::array<std::vector<std::pair<std::string, std::string>>, kStages> macros_;
  std::optional<std::string> reply_;
  unsigned long actions_ = 0;
  unsigned long protocol_ = 0;
  bool eom_ = false;
};

std::mutex g_serve_mu;
std::condition_variable g_serve_cv;

}  // namespace

void serve_connection(int fd, bool tcp, int timeout_seconds) noexcept {
  try {
    Connection conn(fd, tcp, timeout_seconds);
    conn.run();
  } catch (...) {
    // Out of memory for the connection's buffers: drop the connection; the MTA applies its
    // milter_default_action and the daemon lives.
  }
}

auth::Result<std::unique_ptr<NativeEngine>> NativeEngine::listen(const auth::net::SocketSpec& spec,
                                                                  EngineOptions options) {
  ListenOptions lo;
  lo.backlog = options.backlog;
  lo.defer_accept_seconds = kDeferAcceptSeconds;  // the MTA speaks first (OPTNEG)
  auto fd = listen_socket(spec, lo);
  if (!fd) return auth::fail(fd.error());
  return std::unique_ptr<NativeEngine>(new NativeEngine(*fd, options, !spec.is_local()));
}

NativeEngine::NativeEngine(int fd, EngineOptions options, bool tcp) : fd_(fd), options_(options), tcp_(tcp) {}

NativeEngine::~NativeEngine() {
  if (fd_ >= 0) ::close(fd_);
}

bool NativeEngine::serve() {
  spawn_worker();
  std::unique_lock lock(g_serve_mu);
  g_serve_cv.wait(lock, [&] { return stopping_.load() || failed_.load(); });
  return !failed_.load();
}

void NativeEngine::stop() noexcept {
  stopping_.store(true);
  ::shutdown(fd_, SHUT_RDWR);  // wakes the threads blocked in accept()
  std::lock_guard lock(g_serve_mu);
  g_serve_cv.notify_all();
}

void NativeEngine::spawn_worker() noexcept {
  idle_.fetch_add(1);
  try {
    std::thread([this] { worker(); }).detach();
  } catch (...) {
    idle_.fetch_sub(1);  // no thread: the ones there are keep serving
  }
}

void NativeEngine::worker() noexcept {
  for (;;) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (stopping_.load()) break;
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        if (errno != EINTR && errno != ECONNABORTED) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      failed_.store(true);
      std::lock_guard lock(g_serve_mu);
      g_serve_cv.notify_all();
      break;
    }
    // The last waiting thread takes this connection: start another to wait for the next.
    if (idle_.fetch_sub(1) == 1) spawn_worker();
    // TCP_NODELAY: set by the accept4() interposer (tcp_nodelay.cpp) on TCP connections.
    serve_connection(c, tcp_, options_.timeout_seconds);
    ::close(c);
    if (stopping_.load() || idle_.load() >= kMaxIdleThreads) return;
    idle_.fetch_add(1);
  }
  idle_.fetch_sub(1);
}

}  // namespace inkan::milter
