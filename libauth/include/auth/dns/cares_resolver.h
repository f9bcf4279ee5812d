// auth::dns::CaresResolver — the production Resolver, on c-ares (1.18+).
//
// Owns: talking to recursive servers (from /etc/resolv.conf or a configured list), per-query
// timeout and retries, TCP retry on truncation (RFC 1035 §4.2.1, RFC 7766 §5; c-ares does it
// unless ARES_FLAG_IGNTC, which we never set), EDNS(0) (RFC 6891, 1232-octet UDP payload as
// DNS Flag Day 2020 advises), and mapping c-ares outcomes onto auth::dns::Status without
// losing NXDOMAIN vs NODATA vs SERVFAIL vs timeout (RFC 2308, RFC 7208 §2.6/§5), and, when
// asked, the AD bit of a validating resolver (RFC 4035 §3.2.3, RFC 6840 §5.7-5.8).
// Negative answers carry the RFC 2308 §5 TTL: min(SOA TTL, SOA MINIMUM) from the authority
// section, or kDefaultNegativeTtl if the server sent no SOA.
//
// Two ways to drive it:
//  * asynchronous: query_async() enqueues on the resolver's event channel; the owner drives it
//    with process(max_wait) or from its own loop with fds()/process_fd()/next_timeout().
//    Callbacks run inside process()/process_fd(), on the driving thread.
//  * blocking: query() may be called from many threads at once (milter threads); each call
//    borrows a channel from a small pool and runs its own poll loop (see the .cpp for why).
// No c-ares type appears in this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/dns/resolver.h"

namespace auth::dns {

/// Default per-try timeout (c-ares default is 2 s; mail filters prefer to answer quickly
/// and let the MTA retry on temperror).
inline constexpr std::chrono::milliseconds kCaresDefaultTimeout{2000};
/// Default number of tries per server (c-ares default is 3).
inline constexpr int kCaresDefaultTries = 2;
/// EDNS(0) UDP payload size advertised (DNS Flag Day 2020 recommendation).
inline constexpr int kCaresEdnsPayload = 1232;
/// Default bound on channels kept for concurrent blocking query() calls; further callers wait
/// for a free channel (local policy: one per milter worker thread is typical).
inline constexpr std::size_t kCaresDefaultMaxBlockingChannels = 16;

class CaresResolver final : public Resolver {
 public:
  struct Options {
    /// "IP", "IP:PORT" or "[IPv6]:PORT" (a bare IPv6 address is accepted too). Empty = the
    /// system's /etc/resolv.conf.
    std::vector<std::string> nameservers;
    std::chrono::milliseconds timeout = kCaresDefaultTimeout;  ///< per try, >= 1 ms
    int tries = kCaresDefaultTries;                            ///< >= 1
    std::size_t max_blocking_channels = kCaresDefaultMaxBlockingChannels;  ///< >= 1
    /// Ask for and trust the AD bit (Postfix's DNSSEC model): queries go out with AD set
    /// (RFC 6840 §5.7: the way a client says it understands AD; no DO bit, so no RRSIGs are
    /// sent back) and Answer::authenticated reports the AD bit of NOERROR/NXDOMAIN answers.
    /// Off (the default): queries are exactly ares_query's and authenticated stays false,
    /// whatever a resolver sets. Only worth enabling with a validating resolver on loopback
    /// (RFC 4035 §4.9.3); see nameserver_is_loopback().
    bool request_ad = false;
  };

  /// True when `spec` (as in Options::nameservers) is a loopback address: 127.0.0.0/8 or ::1
  /// (RFC 6890), with or without a port. False for anything else, malformed specs included.
  static bool nameserver_is_loopback(std::string_view spec);

  /// The nameservers c-ares will use, as "IP" or "IP:PORT" ("[IPv6]:PORT"): Options::nameservers
  /// when given, else those c-ares read from /etc/resolv.conf (for start-up checks and logs).
  std::vector<std::string> servers() const;

  /// Creates a resolver. Errors: ErrorCode::Invalid for a malformed nameserver or option,
  /// ErrorCode::Dns if c-ares cannot initialise (e.g. unreadable resolv.conf).
  static Result<std::unique_ptr<CaresResolver>> create(Options options);

  ~CaresResolver() override;
  CaresResolver(const CaresResolver&) = delete;
  CaresResolver& operator=(const CaresResolver&) = delete;

  // ---- Resolver ---------------------------------------------------------------------

  /// Enqueues the query on the event channel; `cb` runs later inside process()/process_fd().
  /// May be called from any thread and from inside a callback. Queries still pending when
  /// the resolver is destroyed are answered with Status::ServFail ("resolver destroyed").
  void query_async(std::string_view name, RType type, Callback cb) override;
  /// Blocking query; thread-safe; does not touch the event channel.
  Answer query(std::string_view name, RType type) override;

  // ---- event-channel driving (for query_async) ------------------------------------------

  /// Waits up to `max_wait` for socket activity or a c-ares timeout and processes it
  /// (callbacks run here). Returns the number of queries still pending.
  std::size_t process(std::chrono::milliseconds max_wait);

  /// One socket c-ares wants watched.
  struct WatchedFd {
    int fd = -1;
    bool readable = false;  ///< watch for input
    bool writable = false;  ///< watch for output (TCP connect/send)
  };
  /// The sockets of the event channel to watch now (changes after every process call).
  std::vector<WatchedFd> fds() const;
  /// Processes activity on one socket: `read_fd`/`write_fd` are the ready fds or -1. Calling
  /// it with (-1, -1) processes timeouts only.
  void process_fd(int read_fd, int write_fd);
  /// How long the owner may sleep before calling process_fd(-1, -1) for timeouts;
  /// `std::nullopt`-like: a negative value means no query is pending.
  std::chrono::milliseconds next_timeout() const;
  /// Queries enqueued with query_async and not yet answered.
  std::size_t pending() const;

 private:
  CaresResolver();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auth::dns
