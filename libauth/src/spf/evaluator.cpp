// check_host() of RFC 7208 as an explicit continuation-based state machine.
//
// The Impl never calls DNS. Whenever it needs an answer it records the question in
// `pending_` and the continuation that consumes the answer in `cont_`, then returns to its
// driver. `run()` advances evaluation until a question is pending or the result is final.
// include/redirect nesting lives in `frames_` (capped), never on the C++ stack.
#include "auth/spf/evaluator.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <utility>

#include "auth/net/ip.h"
#include "auth/spf/macro.h"
#include "auth/spf/record.h"
#include "spf/spf_internal.h"

namespace auth::spf {

const char* to_string(SpfResult r) noexcept {
  switch (r) {
    case SpfResult::None: return "none";
    case SpfResult::Neutral: return "neutral";
    case SpfResult::Pass: return "pass";
    case SpfResult::Fail: return "fail";
    case SpfResult::SoftFail: return "softfail";
    case SpfResult::TempError: return "temperror";
    case SpfResult::PermError: return "permerror";
  }
  return "permerror";
}

const char* to_string(Identity id) noexcept {
  return id == Identity::Helo ? "helo" : "mailfrom";
}

namespace {

using internal::printable;

/// Trace entries kept per evaluation (local policy; the §4.6.4 limits allow about 130
/// queries, so this is never reached by a conforming evaluation).
constexpr std::size_t kMaxTraceEntries = 512;

SpfResult qualifier_result(Qualifier q) noexcept {
  switch (q) {
    case Qualifier::Pass: return SpfResult::Pass;
    case Qualifier::Fail: return SpfResult::Fail;
    case Qualifier::SoftFail: return SpfResult::SoftFail;
    case Qualifier::Neutral: return SpfResult::Neutral;
  }
  return SpfResult::Neutral;
}

/// One record under evaluation: the top one, an include target or a redirect target
/// (a redirect replaces the frame it came from, §6.1).
struct Frame {
  std::string domain;
  Record record;
  std::size_t next = 0;   // index of the mechanism being evaluated
  bool included = false;  // pushed by "include": its result goes back to the parent (§5.2)
};

enum class Purpose { Top, Include, Redirect };
enum class Phase { Mechanisms, Explanation, Done };

/// RFC 1035 §2.3.4 label rules as RFC 7208 §4.3 uses them: no empty label (one trailing dot
/// aside), none over 63 octets.
bool labels_ok(std::string_view name) noexcept {
  if (name.empty()) return false;
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::size_t len = (dot == std::string_view::npos ? name.size() : dot) - start;
    if (len == 0 || len > kMaxLabelLength) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// The explanation goes into SMTP replies and headers (§6.2, §8.4): macro values from the
// client (%{l}, %{h}, %{s}) may carry control or non-ASCII bytes; each becomes '?'.
std::string sanitize_explanation(std::string s) {
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) c = '?';
  }
  return s;
}

std::string status_text(const dns::Answer& a) {
  std::string s = dns::to_string(a.status);
  if (!a.error.empty()) s += " (" + printable(a.error, 120) + ")";
  return s;
}

}  // namespace

struct Evaluation::Impl {
  Request req_;
  Options opt_;
  CheckResult res_;
  net::IpAddress ip_;
  bool v6_ = false;
  std::string local_part_;
  std::string sender_domain_;
  std::int64_t now_ = 0;

  std::vector<Frame> frames_;
  Phase phase_ = Phase::Mechanisms;
  bool counted_ = false;  // the current term's §4.6.4 lookup is already counted

  // Validated PTR names (§5.5), computed once per evaluation, for "ptr" and %{p}.
  bool ptr_done_ = false;
  bool ptr_running_ = false;
  std::vector<std::string> ptr_names_;
  std::size_t ptr_index_ = 0;
  std::vector<std::string> ptr_validated_;

  // Scratch of the mx term being evaluated.
  std::vector<std::string> mx_names_;
  std::size_t mx_index_ = 0;
  bool mx_matched_ = false;

  // Explanation phase.
  bool exp_started_ = false;
  std::optional<std::string> exp_text_;

  // The question we wait for.
  Query pending_;
  std::function<void(dns::Answer)> cont_;
  bool waiting_ = false;
  std::size_t pending_trace_ = static_cast<std::size_t>(-1);

  Impl(Request r, Options o) : req_(std::move(r)), opt_(std::move(o)) {}

  // ---- driver interface ---------------------------------------------------------------

  void start();
  void run() {
    while (!waiting_ && phase_ != Phase::Done) step();
  }
  void resume(dns::Answer a) {
    waiting_ = false;
    if (pending_trace_ < res_.trace.size()) {
      auto& t = res_.trace[pending_trace_];
      t.outcome = describe(a);
    }
    auto k = std::move(cont_);
    cont_ = nullptr;
    k(std::move(a));
    run();
  }

  // ---- helpers ----------------------------------------------------------------------------

  std::string describe(const dns::Answer& a) const {
    if (!a.ok()) return status_text(a);
    std::size_t n = a.addresses.size() + a.names.size() + a.mx.size() + a.txt.size();
    return std::to_string(n) + (n == 1 ? " record" : " records");
  }

  std::size_t depth() const noexcept { return frames_.empty() ? 0 : frames_.size() - 1; }
  const std::string& current_domain() const {
    return frames_.empty() ? res_.domain : frames_.back().domain;
  }

  std::size_t trace(std::string term, std::string query, std::string outcome) {
    if (res_.trace.size() >= kMaxTraceEntries) return static_cast<std::size_t>(-1);
    TraceEntry e;
    e.depth = depth();
    e.domain = current_domain();
    e.term = std::move(term);
    e.query = std::move(query);
    e.outcome = std::move(outcome);
    e.dns_lookups = res_.dns_lookups;
    e.void_lookups = res_.void_lookups;
    res_.trace.push_back(std::move(e));
    return res_.trace.size() - 1;
  }

  void ask(std::string name, dns::RType type, const std::string& term,
           std::function<void(dns::Answer)> k) {
    pending_.name = std::move(name);
    if (!pending_.name.empty() && pending_.name.back() == '.') pending_.name.pop_back();
    pending_.type = type;
    cont_ = std::move(k);
    waiting_ = true;
    pending_trace_ =
        trace(term, std::string(dns::to_string(type)) + " " + printable(pending_.name, 300), "");
  }

  void finish(SpfResult r, std::string problem) {
    res_.result = r;
    res_.problem = std::move(problem);
    phase_ = Phase::Done;
    frames_.clear();
    trace("", "", std::string("result ") + to_string(r) +
                      (res_.problem.empty() ? "" : ": " + res_.problem));
  }
  void permerror(std::string why) { finish(SpfResult::PermError, std::move(why)); }
  void temperror(std::string why) { finish(SpfResult::TempError, std::move(why)); }

  /// §4.6.4 (1): counts a DNS-querying term. False (and permerror) when over the limit.
  bool count_lookup(const std::string& term) {
    ++res_.dns_lookups;
    if (res_.dns_lookups > opt_.max_dns_mechanisms) {
      permerror("DNS lookup limit of " + std::to_string(opt_.max_dns_mechanisms) +
                " terms exceeded at '" + printable(term) + "' (RFC 7208 section 4.6.4)");
      return false;
    }
    return true;
  }

  /// §4.6.4 (2): counts a void lookup. False (and permerror) when over the limit. Lookups made
  /// for the explanation (after the result is known) are counted but never limited.
  bool count_void(const std::string& term) {
    ++res_.void_lookups;
    if (phase_ == Phase::Mechanisms && res_.void_lookups > opt_.max_void_lookups) {
      permerror("void lookup limit of " + std::to_string(opt_.max_void_lookups) +
                " exceeded at '" + printable(term) + "' (RFC 7208 section 4.6.4)");
      return false;
    }
    return true;
  }

  MacroContext macro_context() const {
    MacroContext c;
    c.sender = res_.sender;
    c.local_part = local_part_;
    c.sender_domain = sender_domain_;
    c.domain = current_domain();
    c.client_ip = req_.client_ip;
    c.helo = req_.helo;
    c.receiver = opt_.receiver.empty() ? "unknown" : opt_.receiver;
    c.timestamp = now_;
    c.validated_domain = validated_domain(c.domain);
    return c;
  }

  /// §7.3 %{p}: the target domain itself if validated, else a validated subdomain of it,
  /// else any validated name, else "unknown".
  std::string validated_domain(std::string_view domain) const {
    if (!ptr_done_ || ptr_validated_.empty()) return "unknown";
    for (const auto& n : ptr_validated_) {
      if (internal::iequals(n, domain)) return n;
    }
    for (const auto& n : ptr_validated_) {
      if (n.size() > domain.size() && n[n.size() - domain.size() - 1] == '.' &&
          internal::iequals(std::string_view(n).substr(n.size() - domain.size()), domain)) {
        return n;
      }
    }
    return ptr_validated_.front();
  }

  /// Expands a domain-spec (§4.8, §7.3). nullopt + permerror on failure.
  std::optional<std::string> expand_domain(const std::string& spec, const std::string& term) {
    auto x = expand_macros(spec, macro_context(), MacroMode::Domain);
    if (!x) {
      permerror(x.error().reason + " in '" + printable(term) + "'");
      return std::nullopt;
    }
    std::string d = truncate_domain(*x);
    if (d.empty()) {
      permerror("empty domain after macro expansion in '" + printable(term) + "'");
      return std::nullopt;
    }
    return d;
  }

  bool address_matches(const dns::Answer& a, unsigned bits) const {
    for (const auto& text : a.addresses) {
      auto addr = net::parse_ip(text);
      if (!addr) continue;
      net::IpAddress x = addr->unmapped();
      if (x.family() != ip_.family()) continue;
      if (net::matches_prefix(ip_, x, bits)) return true;
    }
    return false;
  }

  dns::RType address_type() const noexcept { return v6_ ? dns::RType::AAAA : dns::RType::A; }

  // ---- phases -------------------------------------------------------------------------------

  void step();
  void fetch_record(const std::string& domain, Purpose purpose, const std::string& term);
  void on_record(const std::string& domain, Purpose purpose, const std::string& term,
                 dns::Answer a);
  void evaluate_mechanism();
  void mechanism_done(bool matched);
  void complete(SpfResult r, std::string mechanism);
  void end_of_record();
  void start_ptr_validation(const std::string& term);
  void next_ptr_name(const std::string& term);
  void next_mx_name(const std::string& term, unsigned bits);
  void explanation_step();
  void set_default_explanation();
};

// ---- start: identities and initial processing (§2.3, §2.4, §4.1–§4.3) -------------------

void Evaluation::Impl::start() {
  res_.identity = req_.identity;
  res_.client_ip = req_.client_ip;
  res_.helo = req_.helo;
  now_ = opt_.now != 0 ? opt_.now
                       : std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

  // Sender and domain. §2.4: a null reverse-path is checked as postmaster@<helo>; the HELO
  // identity (§2.3) likewise.
  std::string mail_from = req_.mail_from;
  if (mail_from.size() >= 2 && mail_from.front() == '<' && mail_from.back() == '>') {
    mail_from = mail_from.substr(1, mail_from.size() - 2);
  }
  if (req_.identity == Identity::Helo || mail_from.empty()) {
    local_part_ = "postmaster";
    sender_domain_ = req_.helo;
  } else {
    std::size_t at = mail_from.rfind('@');
    if (at == std::string::npos) {
      local_part_ = "postmaster";
      sender_domain_ = mail_from;
    } else {
      local_part_ = mail_from.substr(0, at);
      sender_domain_ = mail_from.substr(at + 1);
      // §4.3: "If the <sender> has no local-part, substitute the string "postmaster"".
      if (local_part_.empty()) local_part_ = "postmaster";
    }
  }
  res_.sender = local_part_ + "@" + sender_domain_;
  res_.domain = sender_domain_;
  if (!res_.domain.empty() && res_.domain.back() == '.') res_.domain.pop_back();

  auto ip = net::parse_ip(req_.client_ip);
  if (!ip) {
    permerror("client IP is not an address: " + printable(req_.client_ip, 60));
    return;
  }
  // §5: IPv4-mapped IPv6 addresses are evaluated as IPv4 (RFC 4291 §2.5.5.2).
  ip_ = ip->unmapped();
  v6_ = ip_.is_v6();

  // §4.3: a malformed or single-label domain (or a domain literal) gives "none" at once.
  const std::string& d = res_.domain;
  if (d.empty() || d.front() == '[' || !labels_ok(d) || d.find('.') == std::string::npos ||
      d.size() > kMaxDomainLength) {
    finish(SpfResult::None, "malformed or non-FQDN domain '" + printable(d) + "'");
    return;
  }
  fetch_record(d, Purpose::Top, "");
}

// ---- record lookup and selection (§4.4, §4.5) ---------------------------------------------

void Evaluation::Impl::fetch_record(const std::string& domain, Purpose purpose,
                                    const std::string& term) {
  if (!labels_ok(domain) && purpose != Purpose::Top) {
    // pyspf and pydns never query a malformed name: no record → permerror for the caller.
    trace(term, "", "malformed name '" + printable(domain) + "': no record");
    permerror(std::string(purpose == Purpose::Include ? "include" : "redirect") +
              " target '" + printable(domain) + "' is not a valid domain name");
    return;
  }
  std::string d = domain;
  ask(domain, dns::RType::TXT, term, [this, d, purpose, term](dns::Answer a) {
    on_record(d, purpose, term, std::move(a));
  });
}

void Evaluation::Impl::on_record(const std::string& domain, Purpose purpose,
                                 const std::string& term, dns::Answer a) {
  const char* who = purpose == Purpose::Include    ? "include"
                    : purpose == Purpose::Redirect ? "redirect"
                                                   : "";
  // §4.4: a DNS error other than "no such name" → temperror.
  if (dns::is_temporary(a.status)) {
    temperror("DNS " + status_text(a) + " looking up TXT " + printable(domain) +
              (term.empty() ? "" : " for '" + printable(term) + "'"));
    return;
  }
  std::vector<const dns::TxtRecord*> spf;
  std::string chosen;
  if (a.ok()) {
    for (const auto& t : a.txt) {
      std::string j = t.joined();
      if (is_spf_record(j)) {
        spf.push_back(&t);
        chosen = std::move(j);
      }
    }
  } else if (purpose != Purpose::Top) {
    // NXDOMAIN / NODATA of a term's lookup is a void lookup (§4.6.4).
    if (!count_void(term)) return;
  }
  if (spf.size() > 1) {
    // §4.5: more than one record → permerror.
    permerror("multiple v=spf1 records at " + printable(domain));
    return;
  }
  if (spf.empty()) {
    // §4.5: none. §5.2: include of a domain without a record → permerror; §6.1 likewise.
    if (purpose == Purpose::Top) {
      finish(SpfResult::None, "no SPF record at " + printable(domain));
    } else {
      permerror(std::string(who) + " target " + printable(domain) + " has no SPF record ('" +
                printable(term) + "')");
    }
    return;
  }
  auto rec = parse_record(chosen);
  if (!rec) {
    // §4.6: any syntax error → permerror, nothing of the record is evaluated.
    permerror("syntax error in record of " + printable(domain) + ": " + rec.error().reason);
    return;
  }
  switch (purpose) {
    case Purpose::Top:
      frames_.push_back(Frame{domain, std::move(*rec), 0, false});
      break;
    case Purpose::Include:
      if (frames_.size() >= kMaxNestingDepth) {
        permerror("include nesting deeper than " + std::to_string(kMaxNestingDepth) + " at '" +
                  printable(term) + "'");
        return;
      }
      frames_.push_back(Frame{domain, std::move(*rec), 0, true});
      break;
    case Purpose::Redirect: {
      // §6.1: the redirect target's result is the result of this record; the frame keeps
      // its "included" role.
      Frame& f = frames_.back();
      f.domain = domain;
      f.record = std::move(*rec);
      f.next = 0;
      break;
    }
  }
  counted_ = false;
}

// ---- the main loop -----------------------------------------------------------------------------

void Evaluation::Impl::step() {
  if (phase_ == Phase::Explanation) {
    explanation_step();
    return;
  }
  if (frames_.empty()) {  // cannot happen: every path either pushes a frame or finishes
    permerror("internal error: no record under evaluation");
    return;
  }
  Frame& f = frames_.back();
  if (f.next < f.record.mechanisms.size()) {
    evaluate_mechanism();
  } else {
    end_of_record();
  }
}

void Evaluation::Impl::evaluate_mechanism() {
  Frame& f = frames_.back();
  const Mechanism& m = f.record.mechanisms[f.next];
  const std::string& term = m.text;

  if (m.queries_dns() && !counted_) {
    counted_ = true;
    if (!count_lookup(term)) return;
  }

  switch (m.kind) {
    case MechanismKind::All:
      mechanism_done(true);
      return;
    case MechanismKind::Ip4:
    case MechanismKind::Ip6: {
      bool matched = false;
      bool want_v6 = m.kind == MechanismKind::Ip6;
      if (want_v6 == v6_) {
        auto net = want_v6 ? net::parse_ipv6(m.address) : net::parse_ipv4(m.address);
        if (net) {
          matched = net::matches_prefix(ip_, *net, want_v6 ? m.cidr6 : m.cidr4);
        }
      }
      mechanism_done(matched);
      return;
    }
    default:
      break;
  }

  // Terms with a target domain. %{p} needs the validated PTR names first (§5.5, §7.3).
  const std::string& spec = m.domain_spec;
  if ((m.kind == MechanismKind::Ptr || uses_validated_domain(spec)) && !ptr_done_) {
    start_ptr_validation(term);
    return;
  }
  std::string target;
  if (spec.empty()) {
    target = f.domain;
  } else {
    auto d = expand_domain(spec, term);
    if (!d) return;
    target = std::move(*d);
  }

  switch (m.kind) {
    case MechanismKind::Include:
      fetch_record(target, Purpose::Include, term);
      return;

    case MechanismKind::A:
    case MechanismKind::Exists: {
      // §5.3: A or AAAA by the client's family; §5.7: exists always asks for A.
      dns::RType type = m.kind == MechanismKind::Exists ? dns::RType::A : address_type();
      if (!labels_ok(target)) {
        // An empty or over-long label: not queried, no match, not a void lookup (nothing
        // was looked up; pyspf and pydns behave alike).
        trace(term, "", "malformed name '" + printable(target) + "': no match");
        mechanism_done(false);
        return;
      }
      unsigned bits = v6_ ? m.cidr6 : m.cidr4;
      bool exists = m.kind == MechanismKind::Exists;
      ask(target, type, term, [this, term, bits, exists](dns::Answer a) {
        if (dns::is_temporary(a.status)) {
          temperror("DNS " + status_text(a) + " in '" + printable(term) + "'");
          return;
        }
        if (!a.ok()) {
          if (count_void(term)) mechanism_done(false);
          return;
        }
        mechanism_done(exists ? true : address_matches(a, bits));
      });
      return;
    }

    case MechanismKind::Mx: {
      if (!labels_ok(target)) {
        trace(term, "", "malformed name '" + printable(target) + "': no match");
        mechanism_done(false);
        return;
      }
      unsigned bits = v6_ ? m.cidr6 : m.cidr4;
      ask(target, dns::RType::MX, term, [this, term, bits](dns::Answer a) {
        if (dns::is_temporary(a.status)) {
          temperror("DNS " + status_text(a) + " in '" + printable(term) + "'");
          return;
        }
        if (!a.ok()) {
          if (count_void(term)) mechanism_done(false);
          return;
        }
        // §4.6.4 (3): more than 10 MX names → permerror.
        if (a.mx.size() > kMaxMxNames) {
          permerror("more than " + std::to_string(kMaxMxNames) + " MX records for '" +
                    printable(term) + "' (RFC 7208 section 4.6.4)");
          return;
        }
        auto mx = a.mx;
        // Deterministic order (preference, then name, as pyspf sorts), so which failure is
        // met first (void limit vs DNS error) does not depend on the server's answer order.
        std::sort(mx.begin(), mx.end(), [](const dns::MxRecord& x, const dns::MxRecord& y) {
          return x.preference != y.preference ? x.preference < y.preference
                                              : x.exchange < y.exchange;
        });
        mx_names_.clear();
        for (auto& r : mx) {
          if (!r.exchange.empty()) mx_names_.push_back(r.exchange);  // null MX: no host
        }
        mx_index_ = 0;
        mx_matched_ = false;
        next_mx_name(term, bits);
      });
      return;
    }

    case MechanismKind::Ptr: {
      // §5.5: match when a validated name is the target or a subdomain of it.
      bool matched = false;
      for (const auto& n : ptr_validated_) {
        if (internal::iequals(n, target) ||
            (n.size() > target.size() && n[n.size() - target.size() - 1] == '.' &&
             internal::iequals(std::string_view(n).substr(n.size() - target.size()), target))) {
          matched = true;
          break;
        }
      }
      mechanism_done(matched);
      return;
    }

    default:
      permerror("internal error: unexpected mechanism");
      return;
  }
}

void Evaluation::Impl::next_mx_name(const std::string& term, unsigned bits) {
  // Every exchange is looked up (as pyspf does) before deciding, so the void-lookup and
  // DNS-error outcomes do not depend on the order of the answers.
  if (mx_index_ >= mx_names_.size()) {
    mechanism_done(mx_matched_);
    return;
  }
  std::string name = mx_names_[mx_index_++];
  if (!labels_ok(name)) {  // not queried: no match, no void lookup
    next_mx_name(term, bits);
    return;
  }
  ask(name, address_type(), term, [this, term, bits](dns::Answer a) {
    if (dns::is_temporary(a.status)) {
      temperror("DNS " + status_text(a) + " in '" + printable(term) + "'");
      return;
    }
    if (!a.ok()) {
      if (!count_void(term)) return;
    } else if (address_matches(a, bits)) {
      mx_matched_ = true;
    }
    next_mx_name(term, bits);
  });
}

// §5.5 validated names: PTR of <ip>, then (for at most 10 names) A/AAAA of each name must
// contain <ip>. DNS errors make the PTR step yield nothing and skip a name (§5.5).
void Evaluation::Impl::start_ptr_validation(const std::string& term) {
  ptr_running_ = true;
  ptr_names_.clear();
  ptr_validated_.clear();
  ptr_index_ = 0;
  ask(net::reverse_name(ip_), dns::RType::PTR, term, [this, term](dns::Answer a) {
    if (a.ok()) {
      for (const auto& n : a.names) {
        if (ptr_names_.size() >= kMaxPtrNames) break;  // §4.6.4 (4): the rest are ignored
        std::string name = n;
        if (!name.empty() && name.back() == '.') name.pop_back();
        ptr_names_.push_back(std::move(name));
      }
    } else if (!dns::is_temporary(a.status)) {
      if (!count_void(term)) return;
    }
    next_ptr_name(term);
  });
}

void Evaluation::Impl::next_ptr_name(const std::string& term) {
  if (ptr_index_ >= ptr_names_.size()) {
    ptr_running_ = false;
    ptr_done_ = true;  // run() re-enters step(), which resumes the term that needed it
    return;
  }
  std::string name = ptr_names_[ptr_index_++];
  if (!labels_ok(name)) {
    next_ptr_name(term);
    return;
  }
  ask(name, address_type(), term, [this, term, name](dns::Answer a) {
    if (a.ok()) {
      for (const auto& text : a.addresses) {
        auto addr = net::parse_ip(text);
        if (addr && net::same_host(addr->unmapped(), ip_)) {
          ptr_validated_.push_back(internal::lower(name));
          break;
        }
      }
    } else if (!dns::is_temporary(a.status)) {
      if (!count_void(term)) return;
    }
    next_ptr_name(term);
  });
}

void Evaluation::Impl::mechanism_done(bool matched) {
  Frame& f = frames_.back();
  const Mechanism& m = f.record.mechanisms[f.next];
  if (matched) {
    trace(m.text, "", std::string("match: ") + to_string(qualifier_result(m.qualifier)));
    complete(qualifier_result(m.qualifier), m.text);
    return;
  }
  counted_ = false;
  ++f.next;
}

// A frame produced result `r` (a match or the default). Included frames hand the result to
// the "include" term of their parent (§5.2 table); the outermost one ends the evaluation.
void Evaluation::Impl::complete(SpfResult r, std::string mechanism) {
  while (true) {
    Frame& f = frames_.back();
    if (!f.included) {
      res_.result = r;
      res_.mechanism = std::move(mechanism);
      if (r == SpfResult::Fail) {
        phase_ = Phase::Explanation;  // frames_ kept: exp= of this record, %{d} of it (§6.2)
      } else {
        finish(r, "");
      }
      return;
    }
    frames_.pop_back();
    Frame& parent = frames_.back();
    const Mechanism& inc = parent.record.mechanisms[parent.next];
    trace(inc.text, "", std::string("included result ") + to_string(r));
    if (r == SpfResult::Pass) {
      // include matches: the parent's result is the include's qualifier.
      r = qualifier_result(inc.qualifier);
      mechanism = inc.text;
      continue;
    }
    // fail, softfail, neutral: no match; evaluation continues in the parent.
    counted_ = false;
    ++parent.next;
    return;
  }
}

void Evaluation::Impl::end_of_record() {
  Frame& f = frames_.back();
  if (f.record.redirect) {
    // §6.1: redirect only when no mechanism matched (an "all" would have matched).
    std::string term = "redirect=" + *f.record.redirect;
    if (!counted_) {
      counted_ = true;
      if (!count_lookup(term)) return;
    }
    if (uses_validated_domain(*f.record.redirect) && !ptr_done_) {
      start_ptr_validation(term);
      return;
    }
    auto d = expand_domain(*f.record.redirect, term);
    if (!d) return;
    fetch_record(*d, Purpose::Redirect, term);
    return;
  }
  // §4.7: no match and no redirect → neutral.
  complete(SpfResult::Neutral, "default");
}

// ---- explanation (§6.2) ----------------------------------------------------------------------

void Evaluation::Impl::set_default_explanation() {
  auto x = expand_macros(opt_.default_explanation, macro_context(), MacroMode::Explanation);
  res_.explanation = sanitize_explanation(x ? *x : opt_.default_explanation);
  finish(SpfResult::Fail, "");
}

void Evaluation::Impl::explanation_step() {
  const Frame& f = frames_.back();
  if (exp_text_) {
    // The text may use %{p} too (§7.3): validate first, then expand.
    if (uses_validated_domain(*exp_text_) && !ptr_done_) {
      start_ptr_validation("exp=" + f.record.exp.value_or(""));
      return;
    }
    auto x = expand_macros(*exp_text_, macro_context(), MacroMode::Explanation);
    if (!x) {
      set_default_explanation();
      return;
    }
    res_.explanation = sanitize_explanation(std::move(*x));
    finish(SpfResult::Fail, "");
    return;
  }
  if (exp_started_ || !f.record.exp || !opt_.fetch_explanation) {
    set_default_explanation();
    return;
  }
  const std::string& spec = *f.record.exp;
  std::string term = "exp=" + spec;
  if (uses_validated_domain(spec) && !ptr_done_) {
    start_ptr_validation(term);
    return;
  }
  exp_started_ = true;
  auto x = expand_macros(spec, macro_context(), MacroMode::Domain);
  if (!x) {
    set_default_explanation();
    return;
  }
  std::string d = truncate_domain(*x);
  if (d.empty() || !labels_ok(d)) {
    set_default_explanation();
    return;
  }
  // The exp= lookup is not a §4.6.4 term and its outcome never changes the result.
  ask(d, dns::RType::TXT, term, [this](dns::Answer a) {
    // §6.2: anything but exactly one TXT record → no explanation (use the default).
    if (!a.ok() || a.txt.size() != 1) {
      set_default_explanation();
      return;
    }
    std::string text = a.txt.front().joined();
    // A text that is not an explain-string (non-ASCII, bad macro) → the default.
    if (!check_macro_string(text, MacroMode::Explanation)) {
      set_default_explanation();
      return;
    }
    exp_text_ = std::move(text);  // expanded by the next step (after %{p} if needed)
  });
}

// ---- Evaluation ----------------------------------------------------------------------------------

Evaluation::Evaluation(Request request, Options options)
    : impl_(std::make_unique<Impl>(std::move(request), std::move(options))) {
  impl_->start();
  impl_->run();
}
Evaluation::~Evaluation() = default;
Evaluation::Evaluation(Evaluation&&) noexcept = default;
Evaluation& Evaluation::operator=(Evaluation&&) noexcept = default;

bool Evaluation::done() const noexcept { return impl_->phase_ == Phase::Done; }
const Query& Evaluation::pending() const { return impl_->pending_; }
void Evaluation::resume(dns::Answer answer) {
  if (done() || !impl_->waiting_) return;  // programmer error; ignore rather than crash
  impl_->resume(std::move(answer));
}
void Evaluation::expire(std::string why) {
  if (done()) return;
  impl_->waiting_ = false;
  impl_->cont_ = nullptr;
  if (impl_->pending_trace_ < impl_->res_.trace.size()) {
    impl_->res_.trace[impl_->pending_trace_].outcome = "abandoned: " + why;
  }
  if (impl_->phase_ == Phase::Explanation) {
    // The result (fail) is already known; only its explanation is lost (§6.2 default).
    impl_->set_default_explanation();
    return;
  }
  impl_->res_.mechanism.clear();
  impl_->res_.explanation.clear();
  impl_->temperror(std::move(why));
}
const CheckResult& Evaluation::result() const& { return impl_->res_; }
CheckResult&& Evaluation::result() && { return std::move(impl_->res_); }

// ---- drivers --------------------------------------------------------------------------------------

namespace {

/// The §4.6.4 elapsed-time limit as the drivers apply it.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds limit)
      : limit_(limit), start_(std::chrono::steady_clock::now()) {}
  /// True (and `ev` expired with temperror) when the limit is set and passed.
  bool passed(Evaluation& ev) const {
    if (limit_.count() <= 0) return false;
    if (std::chrono::steady_clock::now() - start_ < limit_) return false;
    ev.expire("evaluation took longer than " + std::to_string(limit_.count()) +
              " ms (RFC 7208 section 4.6.4 time limit)");
    return true;
  }

 private:
  std::chrono::milliseconds limit_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

CheckResult check_host(dns::Resolver& resolver, const Request& request, const Options& options) {
  Deadline deadline(options.time_limit);
  Evaluation ev(request, options);
  while (!ev.done()) {
    if (deadline.passed(ev)) break;
    Query q = ev.pending();
    ev.resume(resolver.query(q.name, q.type));
  }
  return std::move(ev).result();
}

namespace {

/// Drives one Evaluation over query_async. Answers that arrive inline are processed in the
/// loop of pump() (a trampoline), so a zone or cache that answers synchronously does not
/// deepen the stack; answers that arrive later re-enter pump() from the resolver's thread.
class AsyncCheck : public std::enable_shared_from_this<AsyncCheck> {
 public:
  AsyncCheck(dns::Resolver& r, Evaluation ev, Completion done, std::chrono::milliseconds limit)
      : resolver_(r), ev_(std::move(ev)), done_(std::move(done)), deadline_(limit) {}

  void pump() {
    while (!ev_.done()) {
      if (deadline_.passed(ev_)) break;
      struct Slot {
        std::mutex mu;
        bool returned = false;
        std::optional<dns::Answer> early;
      };
      auto slot = std::make_shared<Slot>();
      auto self = shared_from_this();
      Query q = ev_.pending();
      resolver_.query_async(q.name, q.type, [self, slot](dns::Answer a) {
        {
          std::lock_guard<std::mutex> lock(slot->mu);
          if (!slot->returned) {
            slot->early = std::move(a);
            return;
          }
        }
        self->ev_.resume(std::move(a));
        self->pump();
      });
      std::optional<dns::Answer> early;
      {
        std::lock_guard<std::mutex> lock(slot->mu);
        slot->returned = true;
        early = std::move(slot->early);
      }
      if (!early) return;  // the callback will continue
      ev_.resume(std::move(*early));
    }
    if (done_) {
      auto cb = std::move(done_);
      done_ = nullptr;
      cb(std::move(ev_).result());
    }
  }

 private:
  dns::Resolver& resolver_;
  Evaluation ev_;
  Completion done_;
  Deadline deadline_;
};

}  // namespace

void check_host_async(dns::Resolver& resolver, Request request, Options options,
                      Completion done) {
  auto limit = options.time_limit;
  auto run = std::make_shared<AsyncCheck>(
      resolver, Evaluation(std::move(request), std::move(options)), std::move(done), limit);
  run->pump();
}

}  // namespace auth::spf
