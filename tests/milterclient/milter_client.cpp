#include "milterclient/milter_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/net/socketspec.h"

namespace inkan::milterclient {

namespace {

void put32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get32(std::string_view d, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void put_cstr(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

/// Splits NUL-terminated strings; a missing final NUL is tolerated.
std::vector<std::string> split_cstrs(std::string_view d) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < d.size()) {
    std::size_t z = d.find('\0', pos);
    if (z == d.npos) z = d.size();
    out.emplace_back(d.substr(pos, z - pos));
    pos = z + 1;
  }
  return out;
}

auth::Unexpected io_error(const std::string& what) {
  return auth::fail(auth::ErrorCode::Io, what + ": " + std::strerror(errno));
}

}  // namespace

std::optional<MacroStage> parse_macro_stage(std::string_view s) noexcept {
  struct S {
    std::string_view word;
    MacroStage stage;
  };
  static constexpr S kStages[] = {
      {"connect", MacroStage::Connect}, {"helo", MacroStage::Helo}, {"mail", MacroStage::Mail},
      {"rcpt", MacroStage::Rcpt},       {"data", MacroStage::Data}, {"header", MacroStage::Header},
      {"eoh", MacroStage::Eoh},         {"eom", MacroStage::Eom},
  };
  for (const auto& st : kStages) {
    if (s == st.word) return st.stage;
    if (s.size() == 1 && s[0] == static_cast<char>(st.stage)) return st.stage;
  }
  return std::nullopt;
}

auth::Result<Macro> parse_macro_arg(std::string_view arg) {
  auto colon = arg.find(':');
  if (colon == arg.npos) return auth::fail(auth::ErrorCode::Syntax, "expected STAGE:NAME=VALUE");
  auto stage = parse_macro_stage(arg.substr(0, colon));
  if (!stage) return auth::fail(auth::ErrorCode::Syntax, "unknown macro stage '" + std::string(arg.substr(0, colon)) + "'");
  std::string_view rest = arg.substr(colon + 1);
  auto eq = rest.find('=');
  if (eq == rest.npos || eq == 0) return auth::fail(auth::ErrorCode::Syntax, "expected STAGE:NAME=VALUE");
  Macro m{*stage, std::string(rest.substr(0, eq)), std::string(rest.substr(eq + 1))};
  if (m.name.find('\0') != std::string::npos) return auth::fail(auth::ErrorCode::Syntax, "NUL in macro name");
  return m;
}

std::string Response::describe() const {
  switch (code) {
    case 0: return sent ? "noreply" : "not-sent";
    case 'c': return "continue";
    case 'a': return "accept";
    case 'r': return "reject";
    case 't': return "tempfail";
    case 'd': return "discard";
    case 's': return "skip";
    case 'y': return "replycode " + reply;
    case 'f': return "connfail";
    case '4': return "shutdown";
    default: return std::string("unknown '") + code + "'";
  }
}

/* ---------------- Client ---------------- */

Client::~Client() { close(); }
Client::Client(Client&& o) noexcept : fd_(o.fd_), neg_(o.neg_) { o.fd_ = -1; }
Client& Client::operator=(Client&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    neg_ = o.neg_;
    o.fd_ = -1;
  }
  return *this;
}

void Client::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

auth::Result<Client> Client::connect(std::string_view spec_text, std::chrono::milliseconds timeout) {
  auto spec = auth::net::parse_socket_spec(spec_text);
  if (!spec) return auth::fail(spec.error());
  int fd = -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  auto set_timeouts = [&](int s) {
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  };
  if (spec->is_local()) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (spec->path.size() >= sizeof sun.sun_path) return auth::fail(auth::ErrorCode::LimitExceeded, "socket path too long");
    std::memcpy(sun.sun_path, spec->path.data(), spec->path.size());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return io_error("socket");
    set_timeouts(fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
      auto e = io_error("connect " + spec->path);
      ::close(fd);
      return e;
    }
    return Client(fd);
  }
  std::string host = spec->host;
  if (host.empty()) host = spec->kind == auth::net::SocketKind::Inet6 ? "::1" : "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = spec->kind == auth::net::SocketKind::Inet6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(spec->port);
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return auth::fail(auth::ErrorCode::Io, "resolve " + host + ": " + gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    set_timeouts(fd);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      // Commands are small and answered one by one: without this, Nagle + delayed ACK add
      // ~40 ms per macro+command pair, as an MTA would not.
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      break;
    }
    last = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return auth::fail(auth::ErrorCode::Io, "connect " + std::string(spec_text) + ": " + last);
  return Client(fd);
}

auth::Result<void> Client::send_raw(std::string_view bytes) {
  if (fd_ < 0) return auth::fail(auth::ErrorCode::Io, "not connected");
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("send");
    off += static_cast<std::size_t>(n);
  }
  return auth::ok();
}

auth::Result<void> Client::send_packet(char cmd, std::string_view data) {
  std::string pkt;
  pkt.reserve(5 + data.size());
  put32(pkt, static_cast<std::uint32_t>(data.size() + 1));
  pkt.push_back(cmd);
  pkt.append(data);
  return send_raw(pkt);
}

auth::Result<std::pair<char, std::string>> Client::read_packet() {
  if (fd_ < 0) return auth::fail(auth::ErrorCode::Io, "not connected");
  auto read_n = [&](char* p, std::size_t n) -> auth::Result<void> {
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, p + got, n - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return auth::fail(auth::ErrorCode::Io, "connection closed by the filter");
      if (r < 0) return io_error("recv");
      got += static_cast<std::size_t>(r);
    }
    return auth::ok();
  };
  char hdr[4];
  if (auto r = read_n(hdr, 4); !r) return auth::fail(r.error());
  std::uint32_t len = get32(std::string_view(hdr, 4), 0);
  if (len == 0) return auth::fail(auth::ErrorCode::Syntax, "empty reply packet");
  if (len > wire::kMaxReplyPacket) return auth::fail(auth::ErrorCode::LimitExceeded, "reply packet too large");
  std::string buf(len, '\0');
  if (auto r = read_n(buf.data(), len); !r) return auth::fail(r.error());
  char cmd = buf[0];
  return std::make_pair(cmd, buf.substr(1));
}

auth::Result<Negotiation> Client::negotiate(std::uint32_t actions, std::uint32_t protocol, std::uint32_t version) {
  std::string d;
  put32(d, version);
  put32(d, actions);
  put32(d, protocol);
  if (auto r = send_packet('O', d); !r) return auth::fail(r.error());
  auto p = read_packet();
  if (!p) return auth::fail(p.error());
  if (p->first != 'O' || p->second.size() < 12) {
    return auth::fail(auth::ErrorCode::Syntax, std::string("bad OPTNEG reply '") + p->first + "'");
  }
  neg_.version = get32(p->second, 0);
  neg_.actions = get32(p->second, 4);
  neg_.protocol = get32(p->second, 8);
  return neg_;
}

auth::Result<void> Client::macros(MacroStage stage, const std::vector<std::pair<std::string, std::string>>& nv) {
  std::string d(1, static_cast<char>(stage));
  for (const auto& [n, v] : nv) {
    put_cstr(d, n);
    put_cstr(d, v);
  }
  return send_packet('D', d);
}

auth::Result<Response> Client::read_response() {
  for (;;) {
    auto p = read_packet();
    if (!p) return auth::fail(p.error());
    if (p->first == 'p') continue;  // progress
    Response r;
    r.code = p->first;
    if (r.code == 'y') {
      r.reply = p->second;
      while (!r.reply.empty() && r.reply.back() == '\0') r.reply.pop_back();
    }
    return r;
  }
}

auth::Result<Response> Client::step(char cmd, std::string_view data, std::uint32_t no_bit, std::uint32_t nr_bit) {
  if (no_bit != 0 && !neg_.wants(no_bit)) {
    Response r;
    r.sent = false;
    return r;
  }
  if (auto s = send_packet(cmd, data); !s) return auth::fail(s.error());
  if (nr_bit != 0 && (neg_.protocol & nr_bit) != 0) return Response{};
  return read_response();
}

auth::Result<Response> Client::connect_info(std::string_view hostname, std::string_view addr, std::uint16_t port) {
  std::string d;
  put_cstr(d, hostname);
  if (addr.empty()) {
    d.push_back('U');
  } else {
    char family = addr.find('/') != addr.npos ? 'L' : addr.find(':') != addr.npos ? '6' : '4';
    d.push_back(family);
    std::uint16_t p = family == 'L' ? 0 : port;
    d.push_back(static_cast<char>(p >> 8));
    d.push_back(static_cast<char>(p & 0xff));
    put_cstr(d, addr);
  }
  return step('C', d, wire::kNoConnect, wire::kNrConnect);
}

auth::Result<Response> Client::helo(std::string_view name) {
  std::string d;
  put_cstr(d, name);
  return step('H', d, wire::kNoHelo, wire::kNrHelo);
}

auth::Result<Response> Client::mail(const std::vector<std::string>& args) {
  std::string d;
  for (const auto& a : args) put_cstr(d, a);
  return step('M', d, wire::kNoMail, wire::kNrMail);
}

auth::Result<Response> Client::rcpt(const std::vector<std::string>& args) {
  std::string d;
  for (const auto& a : args) put_cstr(d, a);
  return step('R', d, wire::kNoRcpt, wire::kNrRcpt);
}

auth::Result<Response> Client::data() { return step('T', {}, wire::kNoData, wire::kNrData); }

auth::Result<Response> Client::header(std::string_view name, std::string_view value) {
  std::string d;
  put_cstr(d, name);
  put_cstr(d, value);
  return step('L', d, wire::kNoHeaders, wire::kNrHeader);
}

auth::Result<Response> Client::eoh() { return step('N', {}, wire::kNoEoh, wire::kNrEoh); }

auth::Result<Response> Client::body(std::string_view chunk) {
  if (chunk.size() > wire::kMaxChunk) return auth::fail(auth::ErrorCode::LimitExceeded, "body chunk over 65535 bytes");
  return step('B', chunk, wire::kNoBody, wire::kNrBody);
}

auth::Result<Response> Client::end_of_message(std::vector<Modification>& mods, std::string_view last_chunk) {
  if (auto s = send_packet('E', last_chunk); !s) return auth::fail(s.error());
  for (;;) {
    auto p = read_packet();
    if (!p) return auth::fail(p.error());
    const std::string& d = p->second;
    Modification m;
    switch (p->first) {
      case 'p': continue;
      case 'h': {
        auto parts = split_cstrs(d);
        m.kind = Modification::Kind::AddHeader;
        m.name = parts.size() > 0 ? parts[0] : "";
        m.value = parts.size() > 1 ? parts[1] : "";
        break;
      }
      case 'i':
      case 'm': {
        if (d.size() < 4) return auth::fail(auth::ErrorCode::Syntax, "short header modification");
        auto parts = split_cstrs(std::string_view(d).substr(4));
        m.kind = p->first == 'i' ? Modification::Kind::InsertHeader : Modification::Kind::ChangeHeader;
        m.index = get32(d, 0);
        m.name = parts.size() > 0 ? parts[0] : "";
        m.value = parts.size() > 1 ? parts[1] : "";
        break;
      }
      case 'b':
        m.kind = Modification::Kind::ReplaceBody;
        m.value = d;
        break;
      case '+':
      case '2':
      case '-':
      case 'e': {
        auto parts = split_cstrs(d);
        m.kind = p->first == '-' ? Modification::Kind::DeleteRcpt
                 : p->first == 'e' ? Modification::Kind::ChangeFrom
                                   : Modification::Kind::AddRcpt;
        m.name = parts.size() > 0 ? parts[0] : "";
        m.value = parts.size() > 1 ? parts[1] : "";
        break;
      }
      case 'q': {
        auto parts = split_cstrs(d);
        m.kind = Modification::Kind::Quarantine;
        m.name = parts.empty() ? "" : parts[0];
        break;
      }
      default: {
        Response r;
        r.code = p->first;
        if (r.code == 'y') {
          r.reply = d;
          while (!r.reply.empty() && r.reply.back() == '\0') r.reply.pop_back();
        }
        return r;
      }
    }
    mods.push_back(std::move(m));
  }
}

auth::Result<void> Client::abort() { return send_packet('A', {}); }

auth::Result<void> Client::quit() {
  auto r = send_packet('Q', {});
  close();
  return r;
}

/* ---------------- Transactions ---------------- */

auth::Result<TransactionResult> run_on(Client& c, const Transaction& t, bool connect_phase) {
  TransactionResult res;
  res.negotiation = c.negotiation();
  auto send_macros = [&](MacroStage st) -> auth::Result<void> {
    std::vector<std::pair<std::string, std::string>> nv;
    for (const auto& m : t.macros) {
      if (m.stage == st) nv.emplace_back(m.name, m.value);
    }
    if (nv.empty()) return auth::ok();
    return c.macros(st, nv);
  };
  auto record = [&](const std::string& name, const Response& r) { res.steps.emplace_back(name, r); };
  // A verdict that ends the transaction (like Postfix: the milter sees no more of it).
  auto finish = [&](const std::string& name, const Response& r) {
    res.final = r;
    res.ended_at = name;
    res.result = t.message;
  };
#define INKAN_STEP(NAME, STAGE, CALL)                       \
  do {                                                      \
    if (auto m = send_macros(STAGE); !m) return auth::fail(m.error()); \
    auto r = (CALL);                                        \
    if (!r) return auth::fail(r.error());                   \
    record(NAME, *r);                                       \
    if (!r->is_continue()) {                                \
      finish(NAME, *r);                                     \
      return res;                                           \
    }                                                       \
  } while (0)

  if (connect_phase) {
    INKAN_STEP("connect", MacroStage::Connect, c.connect_info(t.client_host, t.client_addr, t.client_port));
    INKAN_STEP("helo", MacroStage::Helo, c.helo(t.helo));
  }
  // After a message-level verdict the MTA aborts the transaction on the filter side.
  auto end_early = [&](const std::string& name, const Response& r) -> auth::Result<TransactionResult> {
    finish(name, r);
    if (auto a = c.abort(); !a) return auth::fail(a.error());
    return res;
  };
  {
    if (auto m = send_macros(MacroStage::Mail); !m) return auth::fail(m.error());
    auto r = c.mail({t.mail_from});
    if (!r) return auth::fail(r.error());
    record("mail", *r);
    if (!r->is_continue()) return end_early("mail", *r);
  }
  std::size_t accepted = 0;
  for (const auto& rcpt : t.rcpts) {
    if (auto m = send_macros(MacroStage::Rcpt); !m) return auth::fail(m.error());
    auto r = c.rcpt({rcpt});
    if (!r) return auth::fail(r.error());
    record("rcpt " + rcpt, *r);
    if (r->code == 'a' || r->code == 'd') return end_early("rcpt " + rcpt, *r);
    if (r->is_continue()) ++accepted;  // reject/tempfail drop this recipient only
  }
  if (accepted == 0) return end_early("rcpt", res.steps.back().second);
  {
    if (auto m = send_macros(MacroStage::Data); !m) return auth::fail(m.error());
    auto r = c.data();
    if (!r) return auth::fail(r.error());
    record("data", *r);
    if (!r->is_continue()) return end_early("data", *r);
  }
  for (const auto& h : t.message.headers) {
    auto r = c.header(h.name, Message::wire_value(h, c.negotiation().leading_space()));
    if (!r) return auth::fail(r.error());
    if (r->code != 0 && r->code != 'c') record("header " + h.name, *r);
    if (!r->is_continue()) return end_early("header " + h.name, *r);
  }
  {
    if (auto m = send_macros(MacroStage::Eoh); !m) return auth::fail(m.error());
    auto r = c.eoh();
    if (!r) return auth::fail(r.error());
    record("eoh", *r);
    if (!r->is_continue()) return end_early("eoh", *r);
  }
  bool skipped = false;
  for (auto chunk : body_chunks(t.message.body, t.chunk_size)) {
    if (skipped) break;
    auto r = c.body(chunk);
    if (!r) return auth::fail(r.error());
    if (r->code == 's') skipped = true;
    if (!r->is_continue()) {
      record("body", *r);
      return end_early("body", *r);
    }
  }
  if (auto m = send_macros(MacroStage::Eom); !m) return auth::fail(m.error());
  auto r = c.end_of_message(res.modifications);
  if (!r) return auth::fail(r.error());
  record("eom", *r);
  res.final = *r;
  res.ended_at = "eom";
  res.result = apply_modifications(t.message, res.modifications, c.negotiation().leading_space());
#undef INKAN_STEP
  return res;
}

auth::Result<TransactionResult> run_transaction(std::string_view spec, const Transaction& t,
                                                std::chrono::milliseconds timeout) {
  auto c = Client::connect(spec, timeout);
  if (!c) return auth::fail(c.error());
  if (auto n = c->negotiate(); !n) return auth::fail(n.error());
  auto r = run_on(*c, t, true);
  if (c->is_open()) (void)c->quit();
  return r;
}

}  // namespace inkan::milterclient
