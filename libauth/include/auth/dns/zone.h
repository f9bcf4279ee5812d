// auth::dns::ZoneResolver — an in-memory DNS for tests, conformance suites and `inkan --zone`.
//
// Owns: records added by hand or loaded from
//   * an RFC 1035 §5 master file (the subset opendkim-genkey and hand-written test zones use:
//     $ORIGIN, $TTL, @, relative names, omitted owner, optional TTL/class, `;` comments,
//     parentheses across lines, quoted strings with \" and \DDD escapes; TXT A AAAA MX PTR CNAME),
//   * the `<owner> <TXT value>` line form of Mail::DKIM's FAKE_DNS.dat and rfc8463/zone.txt,
//   * the OpenSPF test suite's `zonedata:` map (shared/conformance/spf/README.md rules 1–5).
// Scripted failures (Timeout/ServFail/... for a whole name or one (name,type)), zones marked
// DNSSEC-secure (answers carry the AD bit, Answer::authenticated), CNAME chains
// followed inside the zone (bounded, loops → ServFail) and per-(name,type) query counters.
//
// Names are case-insensitive and a trailing dot is ignored, everywhere (arguments and data).
// Thread safety: every member function may be called from several threads at once
// (reads share a lock; loaders and adders take it exclusively).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/dns/resolver.h"

namespace YAML {
class Node;
}

namespace auth::dns {

/// Longest CNAME chain the zone follows before answering ServFail (local policy; BIND and
/// Unbound stop between 8 and 16 — RFC 1034 §3.6.2 only says chains must not loop).
inline constexpr std::size_t kZoneMaxCnameChain = 8;

/// TTL of records that give none and follow no $TTL (RFC 1035 §5.1 leaves it to the SOA
/// minimum; the in-memory zone has no SOA).
inline constexpr std::uint32_t kZoneDefaultTtl = 3600;

/// Longest line of a master file or txt-lines file we accept (local policy, keeps a hostile
/// file bounded; a 4096-bit DKIM key record is about 800 octets).
inline constexpr std::size_t kZoneMaxLineLength = 64 * 1024;

/// Most records one ZoneResolver holds (local policy: a test zone, not a DNS server).
inline constexpr std::size_t kZoneMaxRecords = 1'000'000;

class ZoneResolver final : public Resolver {
 public:
  ZoneResolver();
  ~ZoneResolver() override;
  ZoneResolver(const ZoneResolver&) = delete;
  ZoneResolver& operator=(const ZoneResolver&) = delete;

  // ---- Resolver ---------------------------------------------------------------------

  /// Answers from the zone and calls `cb` inline, before returning.
  void query_async(std::string_view name, RType type, Callback cb) override;
  /// Answers from the zone. Order of precedence: a scripted failure for (name,type), then for
  /// the whole name; a name not in the zone → NxDomain (or `set_unknown_name_status`);
  /// records of `type` (SPF TIMEOUT markers apply, see load_spf_zonedata); a CNAME at the
  /// name (for any other type) is followed; otherwise NoData.
  Answer query(std::string_view name, RType type) override;

  // ---- loaders (each is all-or-nothing: on error nothing is added) ---------------------

  /// Loads RFC 1035 §5 master-file text. `origin` is the initial $ORIGIN ("" = the root, so
  /// relative names stay as written). Served types: TXT A AAAA MX PTR CNAME. SOA and NS are
  /// accepted but not served: they make their owner exist, and the SOA sets the negative TTL
  /// (RFC 2308 §5: min(SOA TTL, MINIMUM)). An omitted TTL is $TTL, else the last TTL given,
  /// else kZoneDefaultTtl; TTLs accept BIND units (1h30m). Character-strings over 255 octets,
  /// labels over 63, names over 253 are rejected. Errors: ErrorCode::Syntax / Unsupported
  /// ($INCLUDE, other types and classes) / LimitExceeded, with "line N: why" as reason.
  Result<void> load_master_file(std::string_view text, std::string_view origin = "");

  /// Loads `<owner><whitespace><TXT value>` lines (Mail::DKIM FAKE_DNS.dat, rfc8463/zone.txt).
  /// Blank lines and lines starting with `#` or `;` are skipped. The value is the rest of the
  /// line, trailing whitespace removed, stored as one TXT RR cut into 255-octet
  /// character-strings (RFC 1035 §3.3) so `joined()` is the value. Markers: `NXDOMAIN` (the
  /// name answers NxDomain), `~~Query timed out~~` (Timeout), `~~SERVFAIL~~` (ServFail),
  /// `""` (one TXT RR holding one empty string). Errors name the line number.
  Result<void> load_txt_lines(std::string_view text);

  /// Loads one scenario's `zonedata:` map of the OpenSPF YAML suite, exactly as the reference
  /// harness serves it (shared/conformance/spf/README.md): SPF items are served as TXT when a
  /// name has no TXT item; `TXT: NONE` is no record; TIMEOUT makes a query for type T time
  /// out unless an item of type T comes before it; names case-insensitive, trailing dot
  /// stripped; absent name → NxDomain, present name without that type → NoData; `TXT: []`
  /// is an RR with no strings; MX `[pref, ""]` is a null MX. Errors: ErrorCode::Syntax with
  /// the offending name.
  Result<void> load_spf_zonedata(const YAML::Node& zonedata);

  // ---- programmatic adders (invalid arguments are programmer errors:
  //      add_a/add_aaaa throw std::invalid_argument on a malformed address, every adder
  //      throws std::length_error past kZoneMaxRecords) -----------------------------------

  /// Makes `name` exist without records (queries give NoData rather than NxDomain).
  void add_name(std::string_view name);
  void add_txt(std::string_view name, TxtRecord record, std::uint32_t ttl = kZoneDefaultTtl);
  /// One TXT RR with one character-string (values over 255 octets are cut into several).
  void add_txt(std::string_view name, std::string_view value, std::uint32_t ttl = kZoneDefaultTtl);
  void add_a(std::string_view name, std::string_view ipv4, std::uint32_t ttl = kZoneDefaultTtl);
  void add_aaaa(std::string_view name, std::string_view ipv6, std::uint32_t ttl = kZoneDefaultTtl);
  void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange,
              std::uint32_t ttl = kZoneDefaultTtl);
  void add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl = kZoneDefaultTtl);
  void add_cname(std::string_view name, std::string_view target,
                 std::uint32_t ttl = kZoneDefaultTtl);

  // ---- scripted outcomes ---------------------------------------------------------------

  /// Every query for `name` (any type) answers `status` (Timeout, ServFail, Malformed,
  /// NxDomain or NoData; Status::Ok removes the script).
  void set_failure(std::string_view name, Status status);
  /// Queries for (`name`, `type`) answer `status` (Status::Ok removes the script).
  void set_failure(std::string_view name, RType type, Status status);
  /// What a name absent from the zone answers (default NxDomain; e.g. ServFail to flag
  /// unexpected lookups, as Mail::DKIM's harness does).
  void set_unknown_name_status(Status status);
  /// Negative TTL reported with NxDomain/NoData answers (default kDefaultNegativeTtl).
  void set_negative_ttl(std::uint32_t seconds);
  /// Marks `zone` as DNSSEC-signed: Ok, NxDomain and NoData answers for `zone` and every name
  /// under it carry Answer::authenticated, as from a validating resolver that set the AD bit
  /// (RFC 4035 §3.2.3); scripted failures never do. "" marks every name; `on` false unmarks
  /// exactly that zone (a name under several marked zones stays marked while one remains).
  void set_authenticated(std::string_view zone, bool on = true);

  // ---- inspection ------------------------------------------------------------------------

  /// Number of queries asked for (`name`, `type`) since construction or reset_counts()
  /// (counted at the asked name, before any CNAME is followed).
  std::size_t query_count(std::string_view name, RType type) const;
  /// Number of queries asked for any name and type.
  std::size_t total_queries() const;
  void reset_counts();
  /// Number of records held (TIMEOUT markers and scripts not counted).
  std::size_t record_count() const;
  /// Removes every record, script, secure-zone mark and counter.
  void clear();

  /// The canonical form of a name as the zone stores it: lower-case ASCII, one trailing dot
  /// removed.
  static std::string canonical_name(std::string_view name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auth::dns
