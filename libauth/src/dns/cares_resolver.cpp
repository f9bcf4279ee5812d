// auth::dns::CaresResolver — c-ares 1.18 channels, status mapping, answer parsing.
//
// Concurrency design (why a pool of channels for the blocking query()):
//   A c-ares 1.18 channel is not thread-safe, so concurrent callers need either one shared
//   channel behind a lock (serialising every lookup, or a dispatcher thread with cross-thread
//   hand-offs and wake-ups), or a channel per call (ares_init re-reads /etc/resolv.conf and
//   opens fresh sockets for every lookup), or a pool. The pool gives each caller exclusive use
//   of a ready channel for the duration of one query — no lock held while waiting on the
//   network, no extra thread, sockets and parsed configuration reused across calls — and
//   bounds the number of channels (Options::max_blocking_channels; extra callers wait on a
//   condition variable). Channels are created lazily, so a process that never blocks pays
//   for none. query_async() uses one separate event channel driven by the owner's loop.
#include "auth/dns/cares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>

#include "dns/cares_internal.h"
#include "dns/dns_internal.h"

namespace auth::dns {

namespace {

// ---- raw-packet reading for what the ares_parse_* functions do not expose (TTLs of
//      TXT/MX/PTR answers, the SOA of negative answers). Sticky-error cursor, bounds checked
//      in subtraction form (Knot wire_ctx style); no recursion.

constexpr std::size_t kHeaderSize = 12;  // RFC 1035 §4.1.1

class Wire {
 public:
  Wire(const unsigned char* p, std::size_t n) : p_(p), n_(n) {}
  bool failed() const { return failed_; }
  std::size_t pos() const { return pos_; }
  void seek(std::size_t at) {
    if (at > n_) failed_ = true;
    else pos_ = at;
  }
  void skip(std::size_t k) {
    if (failed_ || n_ - pos_ < k) {
      failed_ = true;
      return;
    }
    pos_ += k;
  }
  std::uint16_t u16() {
    if (failed_ || n_ - pos_ < 2) {
      failed_ = true;
      return 0;
    }
    const auto v = static_cast<std::uint16_t>((p_[pos_] << 8) | p_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    const std::uint32_t lo = u16();
    return (hi << 16) | lo;
  }
  /// Skips an encoded domain name (RFC 1035 §4.1.4: labels ending in a zero octet or a
  /// compression pointer). Pointers are not followed: we only need to step over the name.
  void skip_name() {
    while (!failed_) {
      if (pos_ >= n_) {
        failed_ = true;
        return;
      }
      const unsigned char len = p_[pos_];
      if ((len & 0xC0) == 0xC0) {
        skip(2);
        return;
      }
      if ((len & 0xC0) != 0) {  // 0x40/0x80: extended label types, obsolete (RFC 6891 §5)
        failed_ = true;
        return;
      }
      skip(1u + len);
      if (len == 0) return;
    }
  }

 private:
  const unsigned char* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

struct PacketTtls {
  std::optional<std::uint32_t> answer;    // min TTL over answer RRs of the type (and CNAMEs)
  std::optional<std::uint32_t> negative;  // RFC 2308 §5: min(SOA TTL, SOA MINIMUM)
};

/// RFC 2181 §8: a TTL with the top bit set is treated as zero.
std::uint32_t sane_ttl(std::uint32_t t) { return (t & 0x80000000U) != 0 ? 0 : t; }

PacketTtls scan_ttls(const unsigned char* abuf, int alen, RType type) {
  PacketTtls out;
  if (abuf == nullptr || alen < static_cast<int>(kHeaderSize)) return out;
  Wire w(abuf, static_cast<std::size_t>(alen));
  w.skip(4);  // ID, flags
  const std::uint16_t qd = w.u16(), an = w.u16(), ns = w.u16();
  w.skip(2);  // ARCOUNT
  for (std::uint16_t i = 0; i < qd && !w.failed(); ++i) {
    w.skip_name();
    w.skip(4);
  }
  for (std::uint16_t i = 0; i < an && !w.failed(); ++i) {
    w.skip_name();
    const std::uint16_t t = w.u16();
    w.skip(2);
    const std::uint32_t ttl = sane_ttl(w.u32());
    const std::uint16_t rdlen = w.u16();
    w.skip(rdlen);
    if (w.failed()) return out;
    if (t == static_cast<std::uint16_t>(type) || t == ns_t_cname) {
      out.answer = std::min(out.answer.value_or(ttl), ttl);
    }
  }
  for (std::uint16_t i = 0; i < ns && !w.failed(); ++i) {
    w.skip_name();
    const std::uint16_t t = w.u16();
    w.skip(2);
    const std::uint32_t ttl = sane_ttl(w.u32());
    const std::uint16_t rdlen = w.u16();
    const std::size_t rdata = w.pos();
    if (t == ns_t_soa) {
      w.skip_name();  // MNAME
      w.skip_name();  // RNAME
      w.skip(16);     // SERIAL REFRESH RETRY EXPIRE
      const std::uint32_t minimum = sane_ttl(w.u32());
      if (w.failed()) return out;
      out.negative = std::min(ttl, minimum);
      return out;
    }
    w.seek(rdata);
    w.skip(rdlen);
  }
  return out;
}

std::string lower_name(const char* s) { return internal::canonical_name(s == nullptr ? "" : s); }

/// Maps a c-ares failure status onto ours (the mapping the module's callers rely on).
Status map_status(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return Status::NxDomain;
    case ARES_ENODATA: return Status::NoData;
    case ARES_ETIMEOUT: return Status::Timeout;
    case ARES_EBADRESP: return Status::Malformed;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED:
    case ARES_EFORMERR:
    case ARES_ENOTIMP:
    default: return Status::ServFail;
  }
}

Answer negative_answer(Status s, const unsigned char* abuf, int alen, RType type) {
  Answer a = Answer::with_status(s);
  a.ttl = scan_ttls(abuf, alen, type).negative.value_or(kDefaultNegativeTtl);
  return a;
}

Answer parse_failure(int rc, const unsigned char* abuf, int alen, RType type) {
  if (rc == ARES_ENODATA) return negative_answer(Status::NoData, abuf, alen, type);
  if (rc == ARES_ENOMEM) return Answer::with_status(Status::ServFail, "out of memory");
  return Answer::with_status(Status::Malformed, std::string("unparsable answer: ") + ares_strerror(rc));
}

/// Turns a successful c-ares response into an Answer for `type` (ares_parse_* functions).
Answer parse_answer(const unsigned char* abuf, int alen, RType type) {
  Answer a;
  a.status = Status::Ok;
  const PacketTtls ttls = scan_ttls(abuf, alen, type);
  a.ttl = ttls.answer.value_or(0);
  const int ancount = alen >= 8 ? ((abuf[6] << 8) | abuf[7]) : 0;

  switch (type) {
    case RType::A:
    case RType::AAAA: {
      // addrttls gives each address its TTL; room for every answer RR so none is dropped
      // (an RR takes at least 12 octets, so a hostile ANCOUNT cannot inflate the buffer).
      const int room = std::max(std::min(ancount, alen / 12), 1);
      int n = room;
      std::uint32_t min_ttl = std::numeric_limits<std::uint32_t>::max();
      char text[INET6_ADDRSTRLEN];
      if (type == RType::A) {
        std::vector<ares_addrttl> v(static_cast<std::size_t>(room));
        const int rc = ares_parse_a_reply(abuf, alen, nullptr, v.data(), &n);
        if (rc != ARES_SUCCESS) return parse_failure(rc, abuf, alen, type);
        for (int i = 0; i < n; ++i) {
          const auto& e = v[static_cast<std::size_t>(i)];
          if (inet_ntop(AF_INET, &e.ipaddr, text, sizeof text) != nullptr) a.addresses.emplace_back(text);
          min_ttl = std::min(min_ttl, sane_ttl(static_cast<std::uint32_t>(std::max(e.ttl, 0))));
        }
      } else {
        std::vector<ares_addr6ttl> v(static_cast<std::size_t>(room));
        const int rc = ares_parse_aaaa_reply(abuf, alen, nullptr, v.data(), &n);
        if (rc != ARES_SUCCESS) return parse_failure(rc, abuf, alen, type);
        for (int i = 0; i < n; ++i) {
          const auto& e = v[static_cast<std::size_t>(i)];
          if (inet_ntop(AF_INET6, &e.ip6addr, text, sizeof text) != nullptr) a.addresses.emplace_back(text);
          min_ttl = std::min(min_ttl, sane_ttl(static_cast<std::uint32_t>(std::max(e.ttl, 0))));
        }
      }
      if (a.addresses.empty()) return negative_answer(Status::NoData, abuf, alen, type);
      // c-ares already folds the CNAME TTLs into addrttls (RFC 2181 §10.1.1).
      a.ttl = min_ttl;
      return a;
    }
    case RType::TXT: {
      ares_txt_ext* txt = nullptr;
      const int rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
      if (rc != ARES_SUCCESS) return parse_failure(rc, abuf, alen, type);
      // record_start marks the first character-string of each RR; keep the strings apart.
      for (ares_txt_ext* p = txt; p != nullptr; p = p->next) {
        if (p->record_start != 0 || a.txt.empty()) a.txt.emplace_back();
        a.txt.back().strings.emplace_back(reinterpret_cast<const char*>(p->txt), p->length);
      }
      ares_free_data(txt);
      break;
    }
    case RType::MX: {
      ares_mx_reply* mx = nullptr;
      const int rc = ares_parse_mx_reply(abuf, alen, &mx);
      if (rc != ARES_SUCCESS) return parse_failure(rc, abuf, alen, type);
      for (ares_mx_reply* p = mx; p != nullptr; p = p->next) {
        a.mx.push_back(MxRecord{p->priority, lower_name(p->host)});
      }
      ares_free_data(mx);
      break;
    }
    case RType::PTR: {
      hostent* host = nullptr;
      // The address arguments only fill h_addr_list, which we do not use.
      unsigned char dummy[sizeof(in6_addr)] = {};
      const int rc = ares_parse_ptr_reply(abuf, alen, dummy, 4, AF_INET, &host);
      if (rc != ARES_SUCCESS) return parse_failure(rc, abuf, alen, type);
      // c-ares 1.18 lists every PTR target in h_aliases (h_name is one of them).
      if (host->h_aliases != nullptr) {
        for (char** p = host->h_aliases; *p != nullptr; ++p) a.names.push_back(lower_name(*p));
      }
      if (a.names.empty() && host->h_name != nullptr) a.names.push_back(lower_name(host->h_name));
      ares_free_hostent(host);
      break;
    }
    case RType::CNAME: {
      // c-ares has no CNAME parser: find the answer RRs of type CNAME and expand their
      // RDATA with ares_expand_name (which follows compression pointers safely).
      Wire w(abuf, static_cast<std::size_t>(alen));
      w.skip(4);
      const std::uint16_t qd = w.u16(), an = w.u16();
      w.skip(4);
      for (std::uint16_t i = 0; i < qd && !w.failed(); ++i) {
        w.skip_name();
        w.skip(4);
      }
      for (std::uint16_t i = 0; i < an && !w.failed(); ++i) {
        w.skip_name();
        const std::uint16_t t = w.u16();
        w.skip(6);
        const std::uint16_t rdlen = w.u16();
        const std::size_t rdata = w.pos();
        w.skip(rdlen);
        if (w.failed()) break;
        if (t != ns_t_cname) continue;
        char* target = nullptr;
        long enclen = 0;
        if (ares_expand_name(abuf + rdata, abuf, alen, &target, &enclen) != ARES_SUCCESS) {
          return Answer::with_status(Status::Malformed, "unparsable CNAME");
        }
        a.names.push_back(lower_name(target));
        ares_free_string(target);
      }
      if (w.failed()) return Answer::with_status(Status::Malformed, "truncated answer section");
      break;
    }
  }
  if (a.txt.empty() && a.mx.empty() && a.names.empty() && a.addresses.empty()) {
    return negative_answer(Status::NoData, abuf, alen, type);
  }
  return a;
}


// ---- nameserver parsing: "IP", "IP:PORT", "[IPv6]:PORT", bare IPv6 ---------------------

Result<ares_addr_port_node> parse_server(const std::string& spec) {
  // inet_pton stops at a NUL: "127.0.0.1\0junk" must not pass as 127.0.0.1.
  if (spec.find('\0') != std::string::npos) {
    return fail(ErrorCode::Invalid, "nameserver: NUL byte in address");
  }
  std::string host = spec;
  int port = 0;  // 0 = c-ares default (53)
  auto parse_port = [&](std::string_view p) -> bool {
    if (p.empty() || p.size() > 5) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v < 1 || v > 65535) return false;
    port = v;
    return true;
  };
  if (!spec.empty() && spec[0] == '[') {
    const auto close = spec.find(']');
    if (close == std::string::npos) return fail(ErrorCode::Invalid, "nameserver: missing ']': " + spec);
    host = spec.substr(1, close - 1);
    const std::string rest = spec.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || !parse_port(std::string_view(rest).substr(1)))) {
      return fail(ErrorCode::Invalid, "nameserver: bad port: " + spec);
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    const auto colon = spec.find(':');
    host = spec.substr(0, colon);
    if (!parse_port(std::string_view(spec).substr(colon + 1))) {
      return fail(ErrorCode::Invalid, "nameserver: bad port: " + spec);
    }
  }
  ares_addr_port_node node{};
  if (inet_pton(AF_INET, host.c_str(), &node.addr.addr4) == 1) {
    node.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), &node.addr.addr6) == 1) {
    node.family = AF_INET6;
  } else {
    return fail(ErrorCode::Invalid, "nameserver: not an IP address: " + spec);
  }
  node.udp_port = port;
  node.tcp_port = port;
  return node;
}

}  // namespace

namespace internal {
int status_of_reply(int ares_status, const unsigned char* abuf, int alen) {
  if (ares_status != ARES_SUCCESS) return ares_status;
  if (abuf == nullptr || alen < static_cast<int>(kHeaderSize)) return ARES_EBADRESP;
  const int rcode = abuf[3] & 0x0F;  // RFC 1035 §4.1.1
  const int ancount = (abuf[6] << 8) | abuf[7];
  switch (rcode) {
    case ns_r_noerror: return ancount > 0 ? ARES_SUCCESS : ARES_ENODATA;
    case ns_r_formerr: return ARES_EFORMERR;
    case ns_r_servfail: return ARES_ESERVFAIL;
    case ns_r_nxdomain: return ARES_ENOTFOUND;
    case ns_r_notimpl: return ARES_ENOTIMP;
    case ns_r_refused: return ARES_EREFUSED;
    default: return ARES_SUCCESS;  // as c-ares 1.18 qcallback: other RCODEs pass through
  }
}

bool ad_bit(const unsigned char* abuf, int alen) {
  return abuf != nullptr && alen >= static_cast<int>(kHeaderSize) && (abuf[3] & 0x20) != 0;
}

Answer make_answer_ad(int ares_status, const unsigned char* abuf, int alen, RType type) {
  Answer a = make_answer(status_of_reply(ares_status, abuf, alen), abuf, alen, type);
  if (a.status == Status::Ok || a.status == Status::NxDomain || a.status == Status::NoData) {
    a.authenticated = ad_bit(abuf, alen);
  }
  return a;
}

Answer make_answer(int status, const unsigned char* abuf, int alen, RType type) {
  if (status == ARES_SUCCESS) {
    if (abuf == nullptr) return Answer::with_status(Status::Malformed, "empty response");
    return parse_answer(abuf, alen, type);
  }
  const Status s = map_status(status);
  if (s == Status::NxDomain || s == Status::NoData) return negative_answer(s, abuf, alen, type);
  if (status == ARES_EDESTRUCTION) return Answer::with_status(s, "resolver destroyed");
  return Answer::with_status(s, ares_strerror(status));
}
}  // namespace internal

// ---------------------------------------------------------------------------------------

struct CaresResolver::Impl {
  Options opt;
  std::vector<ares_addr_port_node> servers;  // empty: resolv.conf
  bool library_initialised = false;

  // Event channel for query_async. Recursive: callbacks run inside ares_process_fd with the
  // lock held and may call query_async again.
  mutable std::recursive_mutex event_mu;
  ares_channel event = nullptr;
  std::atomic<std::size_t> pending{0};

  // Pool for blocking query().
  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::vector<ares_channel> idle;
  std::size_t created = 0;

  ~Impl() {
    if (event != nullptr) ares_destroy(event);  // pending callbacks get ARES_EDESTRUCTION
    for (ares_channel c : idle) ares_destroy(c);
    if (library_initialised) ares_library_cleanup();
  }

  Result<ares_channel> new_channel() const {
    ares_options o{};
    int mask = 0;
    // EDNS(0) on; ARES_FLAG_IGNTC deliberately absent: truncated UDP answers are retried
    // over TCP (RFC 7766 §5). ares_query never applies search domains.
    o.flags = ARES_FLAG_EDNS;
    mask |= ARES_OPT_FLAGS;
    o.timeout = static_cast<int>(opt.timeout.count());
    mask |= ARES_OPT_TIMEOUTMS;
    o.tries = opt.tries;
    mask |= ARES_OPT_TRIES;
    o.ednspsz = kCaresEdnsPayload;
    mask |= ARES_OPT_EDNSPSZ;
    ares_channel ch = nullptr;
    int rc = ares_init_options(&ch, &o, mask);
    if (rc != ARES_SUCCESS) {
      return fail(ErrorCode::Dns, std::string("ares_init_options: ") + ares_strerror(rc));
    }
    if (!servers.empty()) {
      std::vector<ares_addr_port_node> list = servers;
      for (std::size_t i = 0; i + 1 < list.size(); ++i) list[i].next = &list[i + 1];
      list.back().next = nullptr;
      rc = ares_set_servers_ports(ch, list.data());
      if (rc != ARES_SUCCESS) {
        ares_destroy(ch);
        return fail(ErrorCode::Dns, std::string("ares_set_servers_ports: ") + ares_strerror(rc));
      }
    }
    return ch;
  }

  /// Upper bound of one query's life: every try of every server, with c-ares' doubling.
  std::chrono::milliseconds max_query_time() const {
    const std::size_t nservers = std::max<std::size_t>(servers.size(), 3);  // resolv.conf: <= 3
    const int rounds = std::min(opt.tries, 16);
    return opt.timeout * static_cast<long>(nservers) * ((1L << rounds) - 1) +
           std::chrono::seconds(5);
  }

  ares_channel acquire() {
    std::unique_lock lock(pool_mu);
    pool_cv.wait(lock, [&] { return !idle.empty() || created < opt.max_blocking_channels; });
    if (!idle.empty()) {
      ares_channel c = idle.back();
      idle.pop_back();
      return c;
    }
    ++created;
    lock.unlock();
    auto c = new_channel();
    if (!c) {
      lock.lock();
      --created;
      pool_cv.notify_one();
      return nullptr;
    }
    return *c;
  }

  void release(ares_channel c) {
    {
      std::lock_guard lock(pool_mu);
      idle.push_back(c);
    }
    pool_cv.notify_one();
  }
};

/// Waits for activity on `ch` for at most `max_wait` (c-ares' own next timeout caps it) and
/// processes it. Shared by the blocking loop and process().
static void wait_and_process(ares_channel ch, std::chrono::milliseconds max_wait,
                             std::recursive_mutex* mu) {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  pollfd pfds[ARES_GETSOCK_MAXNUM];
  nfds_t n = 0;
  long wait_ms = static_cast<long>(max_wait.count());
  {
    std::unique_lock<std::recursive_mutex> lock;
    if (mu != nullptr) lock = std::unique_lock(*mu);
    const int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool r = ARES_GETSOCK_READABLE(bits, i) != 0;
      const bool w = ARES_GETSOCK_WRITABLE(bits, i) != 0;
      if (!r && !w) continue;
      pfds[n].fd = socks[i];
      pfds[n].events = static_cast<short>((r ? POLLIN : 0) | (w ? POLLOUT : 0));
      pfds[n].revents = 0;
      ++n;
    }
    timeval max_tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
    timeval tv{};
    if (const timeval* t = ares_timeout(ch, &max_tv, &tv); t != nullptr) {
      wait_ms = t->tv_sec * 1000 + (t->tv_usec + 999) / 1000;
    }
  }
  const int ready = poll(n > 0 ? pfds : nullptr, n, static_cast<int>(std::max(wait_ms, 0L)));
  std::unique_lock<std::recursive_mutex> lock;
  if (mu != nullptr) lock = std::unique_lock(*mu);
  if (ready <= 0) {
    ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    return;
  }
  for (nfds_t i = 0; i < n; ++i) {
    if (pfds[i].revents == 0) continue;
    const bool r = (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    const bool w = (pfds[i].revents & (POLLOUT | POLLERR)) != 0;
    ares_process_fd(ch, r ? pfds[i].fd : ARES_SOCKET_BAD, w ? pfds[i].fd : ARES_SOCKET_BAD);
  }
}

CaresResolver::CaresResolver() : impl_(std::make_unique<Impl>()) {}
CaresResolver::~CaresResolver() = default;

Result<std::unique_ptr<CaresResolver>> CaresResolver::create(Options options) {
  if (options.timeout.count() < 1 ||
      options.timeout.count() > std::numeric_limits<int>::max()) {
    return fail(ErrorCode::Invalid, "timeout must be at least 1 ms");
  }
  if (options.tries < 1) return fail(ErrorCode::Invalid, "tries must be at least 1");
  if (options.max_blocking_channels < 1) {
    return fail(ErrorCode::Invalid, "max_blocking_channels must be at least 1");
  }
  std::unique_ptr<CaresResolver> r(new CaresResolver());
  for (const auto& s : options.nameservers) {
    auto node = parse_server(s);
    if (!node) return fail(node.error());
    r->impl_->servers.push_back(*node);
  }
  r->impl_->opt = std::move(options);
  if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
    return fail(ErrorCode::Dns, std::string("ares_library_init: ") + ares_strerror(rc));
  }
  r->impl_->library_initialised = true;
  auto ch = r->impl_->new_channel();
  if (!ch) return fail(ch.error());
  r->impl_->event = *ch;
  return r;
}

namespace {
struct AsyncQuery {
  Callback cb;
  RType type;
  std::atomic<std::size_t>* pending;
  bool ad = false;  // sent with send_query's AD bit: decode with make_answer_ad
};

Answer decode(bool ad, int status, const unsigned char* abuf, int alen, RType type) {
  return ad ? internal::make_answer_ad(status, abuf, alen, type)
            : internal::make_answer(status, abuf, alen, type);
}

void async_callback(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<AsyncQuery> q(static_cast<AsyncQuery*>(arg));
  Answer a = decode(q->ad, status, abuf, alen, q->type);
  q->pending->fetch_sub(1);
  if (q->cb) q->cb(std::move(a));
}

struct BlockingQuery {
  RType type;
  bool done = false;
  Answer answer;
  bool ad = false;
};

void blocking_callback(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* q = static_cast<BlockingQuery*>(arg);
  q->answer = decode(q->ad, status, abuf, alen, q->type);
  q->done = true;
}

/// Sends one class-IN question. Without `ad`: ares_query. With it: the same query built with
/// ares_create_query (what ares_query builds in c-ares 1.18: a random ID, RD set, EDNS(0) with
/// our payload) plus the AD bit (RFC 6840 §5.7), sent with ares_send, since ares_query offers
/// no way to set it. The callback then maps the response's RCODE (internal::status_of_reply)
/// as ares_query's own callback would.
void send_query(ares_channel ch, const std::string& name, RType type, bool ad, ares_callback cb, void* arg) {
  if (!ad) {
    ares_query(ch, name.c_str(), ns_c_in, static_cast<int>(type), cb, arg);
    return;
  }
  // c-ares 1.18's ares_send sends the ID it is given (ares_query draws a random one first):
  // draw it here from the kernel CSPRNG, or answers would be trivially spoofable (RFC 5452 §4.3).
  std::uint16_t id = 0;
  if (getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
    cb(arg, ARES_ENOMEM, 0, nullptr, 0);
    return;
  }
  unsigned char* buf = nullptr;
  int len = 0;
  const int rc = ares_create_query(name.c_str(), ns_c_in, static_cast<int>(type), id, 1, &buf, &len,
                                   kCaresEdnsPayload);
  if (rc != ARES_SUCCESS || buf == nullptr || len < static_cast<int>(kHeaderSize)) {
    if (buf != nullptr) ares_free_string(buf);
    cb(arg, rc != ARES_SUCCESS ? rc : ARES_EBADQUERY, 0, nullptr, 0);  // as ares_query does
    return;
  }
  buf[3] = static_cast<unsigned char>(buf[3] | 0x20);  // AD (RFC 4035 §3.2.3, RFC 6840 §5.7)
  ares_send(ch, buf, len, cb, arg);
  ares_free_string(buf);
}
}  // namespace

void CaresResolver::query_async(std::string_view name, RType type, Callback cb) {
  const std::string qname(name);
  auto* q = new AsyncQuery{std::move(cb), type, &impl_->pending, impl_->opt.request_ad};
  std::lock_guard lock(impl_->event_mu);
  impl_->pending.fetch_add(1);
  // Class IN. The callback may run inline (e.g. a name c-ares cannot encode).
  send_query(impl_->event, qname, type, q->ad, async_callback, q);
}

Answer CaresResolver::query(std::string_view name, RType type) {
  ares_channel ch = impl_->acquire();
  if (ch == nullptr) return Answer::with_status(Status::ServFail, "cannot create a c-ares channel");
  const std::string qname(name);
  BlockingQuery q{type, false, {}, impl_->opt.request_ad};
  send_query(ch, qname, type, q.ad, blocking_callback, &q);
  // The channel's own timeout/tries end every query (ARES_ETIMEOUT once the tries are
  // spent; c-ares 1.18 doubles the per-try timeout each round over the servers). The
  // deadline below is only a guard against a c-ares bug leaving us polling forever.
  const auto guard = std::chrono::steady_clock::now() + impl_->max_query_time();
  while (!q.done) {
    if (std::chrono::steady_clock::now() > guard) {
      ares_cancel(ch);  // runs blocking_callback with ARES_ECANCELLED → ServFail
      if (!q.done) q.answer = Answer::with_status(Status::Timeout, "query never completed");
      break;
    }
    wait_and_process(ch, impl_->opt.timeout, nullptr);
  }
  impl_->release(ch);
  return std::move(q.answer);
}

std::size_t CaresResolver::process(std::chrono::milliseconds max_wait) {
  if (impl_->pending.load() == 0) return 0;
  wait_and_process(impl_->event, max_wait, &impl_->event_mu);
  return impl_->pending.load();
}

std::vector<CaresResolver::WatchedFd> CaresResolver::fds() const {
  std::vector<WatchedFd> out;
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  std::lock_guard lock(impl_->event_mu);
  const int bits = ares_getsock(impl_->event, socks, ARES_GETSOCK_MAXNUM);
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    const bool r = ARES_GETSOCK_READABLE(bits, i) != 0;
    const bool w = ARES_GETSOCK_WRITABLE(bits, i) != 0;
    if (r || w) out.push_back(WatchedFd{socks[i], r, w});
  }
  return out;
}

void CaresResolver::process_fd(int read_fd, int write_fd) {
  std::lock_guard lock(impl_->event_mu);
  ares_process_fd(impl_->event, read_fd < 0 ? ARES_SOCKET_BAD : read_fd,
                  write_fd < 0 ? ARES_SOCKET_BAD : write_fd);
}

std::chrono::milliseconds CaresResolver::next_timeout() const {
  std::lock_guard lock(impl_->event_mu);
  timeval tv{};
  const timeval* t = ares_timeout(impl_->event, nullptr, &tv);
  if (t == nullptr) return std::chrono::milliseconds(-1);
  return std::chrono::milliseconds(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
}

std::size_t CaresResolver::pending() const { return impl_->pending.load(); }

bool CaresResolver::nameserver_is_loopback(std::string_view spec) {
  auto node = parse_server(std::string(spec));
  if (!node) return false;
  if (node->family == AF_INET) {
    return (ntohl(node->addr.addr4.s_addr) >> 24) == 127;  // 127.0.0.0/8 (RFC 6890)
  }
  static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(&node->addr.addr6, kLoopback6, sizeof kLoopback6) == 0;  // ::1
}

std::vector<std::string> CaresResolver::servers() const {
  std::vector<std::string> out;
  ares_addr_port_node* list = nullptr;
  {
    std::lock_guard lock(impl_->event_mu);
    if (ares_get_servers_ports(impl_->event, &list) != ARES_SUCCESS) return out;
  }
  char text[INET6_ADDRSTRLEN];
  for (const ares_addr_port_node* p = list; p != nullptr; p = p->next) {
    const void* addr = p->family == AF_INET ? static_cast<const void*>(&p->addr.addr4)
                                            : static_cast<const void*>(&p->addr.addr6);
    if (inet_ntop(p->family, addr, text, sizeof text) == nullptr) continue;
    std::string s = text;
    if (p->udp_port != 0 && p->udp_port != 53) {
      s = p->family == AF_INET6 ? "[" + s + "]:" + std::to_string(p->udp_port)
                                : s + ":" + std::to_string(p->udp_port);
    }
    out.push_back(std::move(s));
  }
  ares_free_data(list);
  return out;
}

}  // namespace auth::dns
