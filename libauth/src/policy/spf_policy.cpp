// policyd-spf decisions (spf_engine 3.0.4 _spfcheck / _get_resultcodes / _spfbypass and the
// policyd-spf main loop; anchor-features.md §5.3–§5.5), as an asynchronous state machine.
#include "auth/policy/spf_policy.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "auth/net/ip.h"
#include "auth/spf/received_spf.h"

namespace auth::policy {

using config::HeaderType;
using config::HeloReject;
using config::MailFromReject;
using config::SpfSettings;
using spf::SpfResult;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Header text never carries control characters (STYLE.md "Output is sanitised too").
std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return out;
}

// pyspf split_email(s, h)[1]: the domain of an address; the whole string when it has no '@'.
std::string sender_domain_of(std::string_view sender) {
  std::size_t at = sender.find('@');
  if (at == std::string_view::npos) return std::string(sender);
  return std::string(sender.substr(at + 1));
}

// pyspf domainmatch(ptrs, domainsuffix): an entry equal to the domain, or an entry ending in
// "." + domain (pyspf's ptr-mechanism helper, reused by spf_engine for Reject_Not_Pass_Domains).
bool domainmatch(const std::vector<std::string>& entries, std::string_view domain) {
  std::string d = lower(domain);
  for (const auto& e : entries) {
    if (e == d) return true;
    if (e.size() > d.size() && e.compare(e.size() - d.size(), d.size(), d) == 0 &&
        e[e.size() - d.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

enum class Scope { Helo, MailFrom };

// _get_resultcodes: the action for a result in a scope. `local` is set when
// Reject_Not_Pass_Domains forced SPF_Not_Pass.
Decision action_for(const SpfSettings& s, Scope scope, SpfResult r, std::string_view helo_name,
                    std::string_view sender, bool& local) {
  local = false;
  std::vector<SpfResult> reject;
  bool policy_false = false;
  if (scope == Scope::Helo) {
    HeloReject p = s.helo_reject;
    if (!s.reject_not_pass_domains.empty() && domainmatch(s.reject_not_pass_domains, helo_name)) {
      p = HeloReject::SpfNotPass;
      local = true;
    }
    switch (p) {
      case HeloReject::SpfNotPass:
        reject = {SpfResult::Fail, SpfResult::SoftFail, SpfResult::Neutral};
        break;
      case HeloReject::Softfail: reject = {SpfResult::Fail, SpfResult::SoftFail}; break;
      case HeloReject::Fail:
      case HeloReject::Null: reject = {SpfResult::Fail}; break;
      case HeloReject::False: policy_false = true; break;
      case HeloReject::NoCheck:
      case HeloReject::Other: break;
    }
  } else {
    MailFromReject p = s.mail_from_reject;
    std::string domain;
    if (std::size_t at = sender.find('@'); at != std::string_view::npos) {
      domain = std::string(sender.substr(at + 1));
    }
    if (!s.reject_not_pass_domains.empty() && domainmatch(s.reject_not_pass_domains, domain)) {
      p = MailFromReject::SpfNotPass;
      local = true;
    }
    switch (p) {
      case MailFromReject::SpfNotPass:
        reject = {SpfResult::Fail, SpfResult::SoftFail, SpfResult::Neutral};
        break;
      case MailFromReject::SpfRequired:
        reject = {SpfResult::Fail, SpfResult::SoftFail, SpfResult::None};
        break;
      case MailFromReject::Softfail: reject = {SpfResult::Fail, SpfResult::SoftFail}; break;
      case MailFromReject::Fail: reject = {SpfResult::Fail}; break;
      case MailFromReject::False: policy_false = true; break;
      case MailFromReject::NoCheck:
      case MailFromReject::Other: break;
    }
  }
  if (std::find(reject.begin(), reject.end(), r) != reject.end()) return Decision::Reject;
  if (policy_false) return Decision::Prepend;
  if (r == SpfResult::TempError && s.temperror_defer) return Decision::Defer;
  if (r == SpfResult::PermError && s.permerror_reject) return Decision::Reject;
  return Decision::Prepend;
}

bool is_error(SpfResult r) { return r == SpfResult::PermError || r == SpfResult::TempError; }

// RFC 7208 §4.6.4 / pyspf: "v=spf1 -all" literally (No_Mail).
bool is_no_mail_record(const dns::Answer& a) {
  if (!a.ok()) return false;
  for (const auto& t : a.txt) {
    std::string j = t.joined();
    if (j.size() >= 6 && lower(j.substr(0, 6)) == "v=spf1" && (j.size() == 6 || j[6] == ' ')) {
      return j == "v=spf1 -all";
    }
  }
  return false;
}

}  // namespace

const char* to_string(Decision d) noexcept {
  switch (d) {
    case Decision::None: return "none";
    case Decision::Dunno: return "dunno";
    case Decision::Prepend: return "prepend";
    case Decision::Reject: return "reject";
    case Decision::Defer: return "defer";
    case Decision::ResultOnly: return "result_only";
  }
  return "none";
}

// ---- input ---------------------------------------------------------------------------------

SpfPolicyInput SpfPolicyInput::from_request(const Request& r, const SpfSettings& s) {
  SpfPolicyInput in;
  // policyd-spf lower-cases every value except protocol_state, protocol_name and queue_id.
  auto low = [&](std::string_view name) -> std::optional<std::string> {
    auto v = r.get(name);
    if (!v) return std::nullopt;
    return lower(*v);
  };
  in.client_address = low("client_address");
  if (in.client_address && in.client_address->empty()) in.client_address.reset();
  in.helo_name = low("helo_name");
  in.sender = low("sender");
  std::string rcpt = lower(r.value("recipient"));
  if (rcpt.empty()) rcpt = "none";
  // spf_engine 3.x: receiver= is the recipient's domain (LP #1822679), "<UNKNOWN>" if hidden.
  // policyd_spf.py: Per_User first (the whole address is kept: it is what the file names),
  // else Hide_Receiver, else recipient.split('@')[1] (no '@': kept whole).
  if (!s.per_user_file.empty()) {
    // kept whole
  } else if (s.hide_receiver) {
    rcpt = "<UNKNOWN>";
  } else if (rcpt != "none") {
    if (std::size_t at = rcpt.find('@'); at != std::string::npos) {
      std::size_t end = rcpt.find('@', at + 1);
      rcpt = rcpt.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    }
  }
  in.recipient = rcpt;
  in.instance = lower(r.value("instance"));
  in.queue_id = std::string(r.value("queue_id"));
  return in;
}

// ---- cache ---------------------------------------------------------------------------------

const CachedDecision* InstanceCache::find(const std::string& instance) const {
  auto it = map_.find(instance);
  return it == map_.end() ? nullptr : &it->second;
}

void InstanceCache::put(const std::string& instance, CachedDecision d) {
  if (max_ == 0) return;
  auto it = map_.find(instance);
  if (it != map_.end()) {
    it->second = std::move(d);
    return;
  }
  while (map_.size() >= max_ && !order_.empty()) {
    map_.erase(order_.front());
    order_.pop_front();
  }
  map_.emplace(instance, std::move(d));
  order_.push_back(instance);
}

// ---- texts ---------------------------------------------------------------------------------

std::string format_reason_message(std::string_view pattern, std::string_view rejectdefer,
                                  std::string_view spf, std::string_view url) {
  std::string out;
  out.reserve(pattern.size() + spf.size() + url.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '{') {
      std::size_t close = pattern.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view field = pattern.substr(i + 1, close - i - 1);
        if (field == "rejectdefer") { out += rejectdefer; i = close; continue; }
        if (field == "spf") { out += spf; i = close; continue; }
        if (field == "url") { out += url; i = close; continue; }
      }
    }
    out += c;
  }
  return out;
}

std::string pyspf_explanation(const spf::CheckResult& r) {
  switch (r.result) {
    case SpfResult::Fail:
      return r.explanation.empty() ? std::string(spf::kDefaultExplanation) : r.explanation;
    case SpfResult::PermError:
      return "SPF Permanent Error: " + (r.problem.empty() ? std::string("unknown") : r.problem);
    case SpfResult::TempError:
      return "SPF Temporary Error: " + (r.problem.empty() ? std::string("DNS error") : r.problem);
    default:
      return spf::result_comment(r.result);
  }
}

namespace {

std::string final_action(const SpfSettings& s, Decision d, const std::string& text,
                         bool is_error_result) {
  // policyd-spf main loop: TestOnly 0 turns everything but prepend into dunno.
  if (s.test_only == 0 && d != Decision::Prepend) return "dunno";
  switch (d) {
    case Decision::Reject: {
      std::string code = !s.enhanced_status_codes ? "550"
                         : is_error_result        ? "550 5.7.24"
                                                  : "550 5.7.23";
      return code + " " + text;
    }
    case Decision::Defer:
      return std::string(s.enhanced_status_codes ? "defer_if_permit 4.7.24" : "defer_if_permit") +
             " " + text;
    case Decision::Prepend:
      if (!s.prospective.empty() || s.header_type == HeaderType::None) return "dunno";
      return "prepend " + text;
    case Decision::ResultOnly: return text;
    case Decision::Dunno:
    case Decision::None: return "dunno";
  }
  return "dunno";
}

}  // namespace

SpfVerdict verdict_from_cache(const SpfSettings& s, const CachedDecision& c) {
  SpfVerdict v;
  v.from_cache = true;
  if (c.decision == Decision::Prepend) {
    v.decision = Decision::Dunno;  // "Header already pre-pended"
  } else {
    v.decision = c.decision;
  }
  v.action = final_action(s, v.decision, c.text, false);
  v.detail = c.decision == Decision::Prepend ? "header already prepended" : "cached decision";
  return v;
}

// ---- the state machine -----------------------------------------------------------------------

struct SpfPolicyCheck::Impl {
  enum class Step {
    Bypass,          // skip_addresses, Whitelist (synchronous), then the DNS ones
    DomainWhitelist,
    HeloWhitelist,
    PtrWhitelist,
    Helo,
    HeloDecide,
    HeloNoMail,
    MailFrom,
    MailFromDecide,
    MailFromNoMail,
    Finished,
  };
  enum class Op { None, CheckHost, Query };

  SpfPolicyCheck* owner = nullptr;
  std::shared_ptr<const SpfSettings> settings;
  SpfPolicyEnv env;
  dns::Resolver* resolver = nullptr;
  SpfPolicyInput in;
  Completion completion;

  Step step = Step::Bypass;
  Op op = Op::None;
  bool waiting = false;
  bool in_loop = false;
  std::size_t generation = 0;
  std::chrono::steady_clock::time_point deadline{};
  spf::CheckResult check;
  dns::Answer answer;
  std::size_t list_index = 0;

  std::string ip;
  std::string helo;  // helo_name, or the sender domain / "unknown" when missing
  std::string sender;
  SpfVerdict verdict;
  bool already_prepended = false;  // the instance's cache entry says a header went out
  bool per_user = false;           // decided with a Per_User line
  std::optional<CachedDecision> prior;  // the instance's cache entry when the check started

  // HELO scope
  spf::CheckResult helo_check;
  Decision helo_action = Decision::None;
  std::string helo_expl;
  std::string header;  // the last header built (helo, then maybe mailfrom)
  // MAIL FROM scope
  spf::CheckResult mfrom_check;
  Decision mfrom_action = Decision::None;
  std::string mfrom_expl;

  const SpfSettings& s() const { return *settings; }
  std::chrono::steady_clock::time_point now() const {
    return env.now ? env.now() : std::chrono::steady_clock::now();
  }
  std::string authserv_id() const {
    return s().authserv_id.empty() ? env.hostname : s().authserv_id;
  }

  // ---- async plumbing ----
  void loop() {
    if (in_loop) return;
    in_loop = true;
    while (!waiting && step != Step::Finished) advance();
    in_loop = false;
  }

  void start_check(spf::Request req, std::chrono::seconds limit) {
    op = Op::CheckHost;
    waiting = true;
    deadline = now() + limit;
    std::size_t gen = ++generation;
    spf::Options opts;
    opts.receiver = env.hostname;
    opts.max_void_lookups = s().void_limit;
    auto self = owner->shared_from_this();
    spf::check_host_async(*resolver, std::move(req), std::move(opts),
                          [self, gen](spf::CheckResult r) {
                            Impl& m = *self->impl_;
                            if (gen != m.generation || !m.waiting) return;  // expired
                            m.check = std::move(r);
                            m.waiting = false;
                            m.op = Op::None;
                            m.loop();
                          });
  }

  void start_query(const std::string& name, dns::RType type, std::chrono::seconds limit) {
    op = Op::Query;
    waiting = true;
    deadline = now() + limit;
    std::size_t gen = ++generation;
    auto self = owner->shared_from_this();
    resolver->query_async(name, type, [self, gen](dns::Answer a) {
      Impl& m = *self->impl_;
      if (gen != m.generation || !m.waiting) return;
      m.answer = std::move(a);
      m.waiting = false;
      m.op = Op::None;
      m.loop();
    });
  }

  bool expire() {
    if (!waiting || now() < deadline) return false;
    ++generation;
    waiting = false;
    verdict.timed_out = true;
    if (op == Op::CheckHost) {
      spf::CheckResult r;
      r.result = SpfResult::TempError;
      r.problem = "DNS timeout";
      check = std::move(r);
    } else {
      answer = dns::Answer::with_status(dns::Status::Timeout, "lookup time exceeded");
    }
    op = Op::None;
    loop();
    return true;
  }

  void finish(Decision d, std::string text, bool err) {
    verdict.decision = d;
    verdict.action = final_action(s(), d, text, err);
    bool header_out = verdict.action.rfind("prepend ", 0) == 0;
    if (header_out && already_prepended) {
      // Another recipient of this instance (decided with other Per_User settings) already got
      // the header: "Header already pre-pended".
      verdict.decision = Decision::Dunno;
      verdict.action = "dunno";
      verdict.detail += "header already prepended; ";
      header_out = false;
    }
    if (per_user) {
      // policyd-spf never stores a per-user recipient's decision (`if not peruser`); only
      // "a header went out" is added to what the instance already holds.
      verdict.store = prior.value_or(CachedDecision{Decision::None, "", nullptr, false});
      verdict.store->prepended = already_prepended || header_out;
    } else {
      if (!verdict.store && header_out) {
        verdict.store = CachedDecision{Decision::Prepend, text, nullptr, false};
      }
      if (verdict.store) {
        verdict.store->settings = settings;
        verdict.store->prepended = already_prepended || header_out;
      }
    }
    step = Step::Finished;
    owner->done_ = true;
    auto done = std::move(completion);
    completion = nullptr;
    if (done) done(std::move(verdict));
  }

  void store(Decision d, const std::string& text) {
    verdict.store = CachedDecision{d, text, nullptr, false};
  }

  // ---- header texts ----
  // _spfbypass: X-Comment / AR "none" with the raw request values.
  std::string bypass_header(std::string_view comment) const {
    std::string client = in.client_address.value_or("<UNKNOWN>");
    std::string h = in.helo_name.value_or("<UNKNOWN>");
    std::string snd = in.sender.value_or("<UNKNOWN>");
    if (s().header_type == HeaderType::AuthenticationResults) {
      return clean("Authentication-Results: " + authserv_id() + "; none (" + std::string(comment) +
                   " client-ip=" + client + "; helo=" + h + "; envelope-from=" + snd +
                   "; receiver=" + in.recipient + ")");
    }
    return clean("X-Comment: " + std::string(comment) + "client-ip=" + client + "; helo=" + h +
                 "; envelope-from=" + snd + "; receiver=" + in.recipient + " ");
  }

  void bypass(std::string_view which, std::string_view comment) {
    verdict.bypass = std::string(which);
    std::string h = bypass_header(comment);
    store(Decision::Prepend, h);
    finish(Decision::Prepend, h, false);
  }

  std::string scope_header(Scope scope, SpfResult r, const std::string& expl) const {
    std::string header_sender = sender.empty() ? "<>" : sender;
    if (s().header_type == HeaderType::AuthenticationResults) {
      std::string prop = scope == Scope::Helo ? "smtp.helo=" + helo
                                              : "smtp.mailfrom=" + sender_domain_of(sender);
      std::string out = "Authentication-Results: " + authserv_id() + "; spf=" +
                        spf::to_string(r);
      if (!expl.empty()) out += " (" + expl + ")";
      out += " " + prop + " (client-ip=" + ip + "; helo=" + helo + "; envelope-from=" +
             header_sender + "; receiver=" + in.recipient + ")";
      return clean(out);
    }
    spf::ReceivedSpf f;
    f.result = r;
    f.identity = scope == Scope::Helo ? spf::Identity::Helo : spf::Identity::MailFrom;
    f.comment = scope == Scope::Helo ? expl : "mailfrom";
    f.client_ip = ip;
    f.helo = helo;
    f.envelope_from = sender;
    f.receiver = in.recipient;
    return spf::format_received_spf(f, spf::ReceivedSpfStyle::PolicydSpf);
  }

  std::string reject_text(Decision d, Scope scope, const std::string& expl) const {
    std::string url = std::string(kWhyUrlBase) + "s=" + (scope == Scope::Helo ? "helo" : "mfrom") +
                      ";id=" + (scope == Scope::Helo ? helo : sender) + ";ip=" + ip +
                      ";r=" + in.recipient;
    return clean(format_reason_message(s().reason_message,
                                       d == Decision::Reject ? "rejected" : "deferred", expl,
                                       url));
  }

  // ---- the steps ----
  void advance() {
    switch (step) {
      case Step::Bypass: return step_bypass();
      case Step::DomainWhitelist: return step_domain_whitelist();
      case Step::HeloWhitelist: return step_helo_whitelist();
      case Step::PtrWhitelist: return step_ptr_whitelist();
      case Step::Helo: return step_helo();
      case Step::HeloDecide: return step_helo_decide();
      case Step::HeloNoMail: return step_helo_no_mail();
      case Step::MailFrom: return step_mail_from();
      case Step::MailFromDecide: return step_mail_from_decide();
      case Step::MailFromNoMail: return step_mail_from_no_mail();
      case Step::Finished: return;
    }
  }

  void step_bypass() {
    ip = !s().prospective.empty() ? s().prospective : in.client_address.value_or("");
    if (ip.empty()) return finish(Decision::None, "", false);  // "No client address"
    auto addr = net::parse_ip(ip);
    if (addr) {
      net::IpAddress a = *addr;
      if (s().skip_addresses.contains(a)) {
        return bypass("skip_addresses", "SPF check N/A for local connections - ");
      }
      if (s().whitelist.contains(a)) {
        return bypass("Whitelist", "SPF skipped for whitelisted relay - ");
      }
    }
    list_index = 0;
    step = Step::DomainWhitelist;
  }

  // Domain_Whitelist: spf.check2(ip, domain, domain): pass for any listed domain skips.
  void step_domain_whitelist() {
    const auto& list = s().domain_whitelist;
    if (list_index > 0 && check.result == SpfResult::Pass) {
      return bypass("Domain_Whitelist", "SPF skipped for whitelisted relay domain - ");
    }
    if (list_index >= list.size()) {
      list_index = 0;
      step = Step::HeloWhitelist;
      return;
    }
    const std::string& domain = list[list_index++];
    check = spf::CheckResult{};
    spf::Request req{ip, "postmaster@" + domain, domain, spf::Identity::MailFrom};
    start_check(std::move(req), s().whitelist_lookup_time);
  }

  // HELO_Whitelist: only when helo_name is listed, and its A (or AAAA) includes the client.
  void step_helo_whitelist() {
    if (list_index == 1) {
      list_index = 2;
      if (answer.ok()) {
        auto client = net::parse_ip(ip);
        for (const auto& a : answer.addresses) {
          auto x = net::parse_ip(a);
          if (client && x && *x == *client) {
            return bypass("HELO_Whitelist", "SPF skipped for whitelisted HELO domain - ");
          }
        }
      }
    }
    if (list_index == 0) {
      const auto& list = s().helo_whitelist;
      std::string h = in.helo_name.value_or("");
      if (!h.empty() && std::find(list.begin(), list.end(), h) != list.end()) {
        auto client = net::parse_ip(ip);
        if (client) {
          list_index = 1;
          answer = dns::Answer{};
          return start_query(h, client->is_v4() ? dns::RType::A : dns::RType::AAAA,
                             s().whitelist_lookup_time);
        }
      }
    }
    list_index = 0;
    step = Step::PtrWhitelist;
  }

  // Domain_Whitelist_PTR: the first PTR name of the client ends with a listed domain.
  void step_ptr_whitelist() {
    if (list_index == 1) {
      list_index = 2;
      if (answer.ok() && !answer.names.empty()) {
        const std::string& name = answer.names.front();
        for (const auto& d : s().domain_whitelist_ptr) {
          // Label boundary (policyd-spf uses a plain endswith, which lets "badexample.com"
          // match "example.com"; a leading '.' in the entry keeps plain-suffix matching).
          bool match = name == d ||
                       (name.size() > d.size() &&
                        name.compare(name.size() - d.size(), d.size(), d) == 0 &&
                        (d.front() == '.' || name[name.size() - d.size() - 1] == '.'));
          if (match) {
            return bypass("Domain_Whitelist_PTR",
                          "SPF skipped for PTR whitelisted relay domain - ");
          }
        }
      }
    }
    if (list_index == 0 && !s().domain_whitelist_ptr.empty()) {
      auto client = net::parse_ip(ip);
      if (client) {
        list_index = 1;
        answer = dns::Answer{};
        return start_query(net::reverse_name(client->unmapped()), dns::RType::PTR,
                           s().whitelist_lookup_time);
      }
    }
    step = Step::Helo;
  }

  void step_helo() {
    sender = in.sender.value_or("");
    std::string h = in.helo_name.value_or("");
    if (sender.empty() && h.empty()) return finish(Decision::None, "", false);
    helo = h;
    if (helo.empty()) {
      std::size_t at = sender.find('@');
      helo = at == std::string::npos ? "unknown" : sender.substr(at + 1);
    }
    if (s().helo_reject == HeloReject::NoCheck) {
      step = Step::MailFrom;
      return;
    }
    step = Step::HeloDecide;
    check = spf::CheckResult{};
    start_check(spf::Request{ip, "postmaster@" + helo, helo, spf::Identity::Helo},
                s().lookup_time);
  }

  void step_helo_decide() {
    helo_check = check;
    SpfResult r = helo_check.result;
    verdict.helo_result = r;
    helo_expl = pyspf_explanation(helo_check);
    bool local = false;
    Decision a = action_for(s(), Scope::Helo, r, in.helo_name.value_or(""), sender, local);
    if (s().helo_reject == HeloReject::Null && !sender.empty()) {
      a = Decision::Dunno;
    } else if (local) {
      helo_expl = std::string("Receiver policy for SPF ") + spf::capitalized(r);
    }
    if (r == SpfResult::None) helo_expl = "no SPF record";
    helo_action = a;
    header = scope_header(Scope::Helo, r, helo_expl);
    if (!helo_check.problem.empty()) verdict.detail += "helo: " + helo_check.problem + "; ";
    if (a != Decision::Reject && a != Decision::Defer) {
      store(a, header);
      if (!s().helo_pass_restriction.empty() && r == SpfResult::Pass) {
        store(Decision::ResultOnly, s().helo_pass_restriction);
      }
      step = Step::MailFrom;
      return;
    }
    if (a == Decision::Reject && s().no_mail) {
      step = Step::HeloNoMail;
      answer = dns::Answer{};
      return start_query(helo, dns::RType::TXT, s().lookup_time);
    }
    step = Step::HeloNoMail;
    answer = dns::Answer::with_status(dns::Status::Ok);  // not consulted
    step_helo_no_mail_decided(false);
  }

  void step_helo_no_mail() { step_helo_no_mail_decided(s().no_mail); }

  void step_helo_no_mail_decided(bool consult) {
    if (consult && helo_action == Decision::Reject && !is_no_mail_record(answer)) {
      helo_action = Decision::Prepend;  // No_Mail: only "v=spf1 -all" rejects
    }
    if (helo_action == Decision::Reject || helo_action == Decision::Defer) {
      std::string msg = reject_text(helo_action, Scope::Helo, helo_expl);
      store(helo_action, msg);
      return finish(helo_action, msg, is_error(helo_check.result));
    }
    step = Step::MailFrom;
  }

  void step_mail_from() {
    bool helo_checked = s().helo_reject != HeloReject::NoCheck;
    if (sender.empty()) {
      if (!helo_checked) return finish(Decision::None, "", false);
      if (!s().helo_pass_restriction.empty() && helo_check.result == SpfResult::Pass) {
        store(Decision::ResultOnly, s().helo_pass_restriction);
        return finish(Decision::ResultOnly, s().helo_pass_restriction, false);
      }
      store(helo_action, header);
      return finish(helo_action, header, is_error(helo_check.result));
    }
    if (s().mail_from_reject == MailFromReject::NoCheck) {
      if (!helo_checked) return finish(Decision::None, "", false);
      return finish(Decision::Prepend, header, false);
    }
    step = Step::MailFromDecide;
    check = spf::CheckResult{};
    start_check(spf::Request{ip, sender, helo, spf::Identity::MailFrom}, s().lookup_time);
  }

  void step_mail_from_decide() {
    mfrom_check = check;
    SpfResult r = mfrom_check.result;
    verdict.mail_from_result = r;
    if (!mfrom_check.problem.empty()) verdict.detail += "mailfrom: " + mfrom_check.problem + "; ";
    mfrom_expl = pyspf_explanation(mfrom_check);
    bool local = false;
    Decision a = action_for(s(), Scope::MailFrom, r, in.helo_name.value_or(""), sender, local);
    if (local) mfrom_expl = std::string("Receiver policy for SPF ") + spf::capitalized(r);
    if (r == SpfResult::None) mfrom_expl = "no SPF record";
    mfrom_action = a;
    bool helo_none = s().helo_reject == HeloReject::NoCheck || helo_check.result == SpfResult::None;
    // The MAIL FROM header replaces the HELO one unless MAIL FROM is None and HELO is not
    // (anchor-features.md §5.4, lab case 9).
    if (r != SpfResult::None || helo_none) {
      header = scope_header(Scope::MailFrom, r, mfrom_expl);
      if (a != Decision::Reject && a != Decision::Defer) store(a, header);
    }
    // *_pass_restriction. Deviation: policyd-spf lets a HELO pass restriction win over a MAIL
    // FROM reject; here a MAIL FROM reject/defer stands.
    bool mf_pass = r == SpfResult::Pass;
    bool helo_pass = s().helo_reject != HeloReject::NoCheck && helo_check.result == SpfResult::Pass;
    if (a != Decision::Reject && a != Decision::Defer &&
        ((!s().mail_from_pass_restriction.empty() && mf_pass) ||
         (!s().helo_pass_restriction.empty() && helo_pass))) {
      std::string name = mf_pass && !s().mail_from_pass_restriction.empty()
                             ? s().mail_from_pass_restriction
                             : s().helo_pass_restriction;
      store(Decision::ResultOnly, name);
      return finish(Decision::ResultOnly, name, false);
    }
    if (a == Decision::Reject && s().no_mail) {
      step = Step::MailFromNoMail;
      answer = dns::Answer{};
      return start_query(sender_domain_of(sender), dns::RType::TXT, s().lookup_time);
    }
    step = Step::MailFromNoMail;
    step_mail_from_no_mail_decided(false);
  }

  void step_mail_from_no_mail() { step_mail_from_no_mail_decided(s().no_mail); }

  void step_mail_from_no_mail_decided(bool consult) {
    if (consult && mfrom_action == Decision::Reject && !is_no_mail_record(answer)) {
      mfrom_action = Decision::Prepend;
    }
    if (mfrom_action == Decision::Reject || mfrom_action == Decision::Defer) {
      std::string msg = reject_text(mfrom_action, Scope::MailFrom, mfrom_expl);
      store(mfrom_action, msg);
      return finish(mfrom_action, msg, is_error(mfrom_check.result));
    }
    finish(Decision::Prepend, header, false);
  }
};

SpfPolicyCheck::SpfPolicyCheck(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpfPolicyCheck::~SpfPolicyCheck() = default;

std::shared_ptr<SpfPolicyCheck> SpfPolicyCheck::start(
    std::shared_ptr<const SpfSettings> settings, SpfPolicyEnv env, dns::Resolver& resolver,
    SpfPolicyInput input, const CachedDecision* cached, Completion done) {
  auto impl = std::make_unique<Impl>();
  Impl* m = impl.get();
  auto check = std::make_shared<SpfPolicyCheck>(std::move(impl));
  m->owner = check.get();
  // Per_User: the recipient's line, if any, decides (policyd_spf.py _datacheck).
  const config::PerUserEntry* user = settings->per_user_for(input.recipient);
  m->settings = user != nullptr ? user->settings : std::move(settings);
  m->verdict.per_user_line = user != nullptr ? user->line : 0;
  m->env = std::move(env);
  m->resolver = &resolver;
  m->in = std::move(input);
  m->completion = std::move(done);
  const SpfSettings& s = *m->settings;
  // policyd-spf main loop: Mock answers before anything else.
  if (s.mock) {
    SpfVerdict v;
    v.decision = Decision::Dunno;
    v.action = "dunno mock header field that should be ignored";
    m->step = Impl::Step::Finished;
    check->done_ = true;
    auto cb = std::move(m->completion);
    if (cb) cb(std::move(v));
    return check;
  }
  // The first recipient decided with the global settings decides for later ones that also use
  // them. A recipient with a Per_User line is always checked again with its own settings
  // (policyd-spf: `if not found_instance or peruser`), and only "a header already went out"
  // carries over.
  m->per_user = user != nullptr;
  if (cached != nullptr && !m->per_user && cached->settings == m->settings) {
    m->step = Impl::Step::Finished;
    check->done_ = true;
    auto cb = std::move(m->completion);
    SpfVerdict v = verdict_from_cache(s, *cached);
    v.per_user_line = m->verdict.per_user_line;
    if (cb) cb(std::move(v));
    return check;
  }
  if (cached != nullptr) m->prior = *cached;
  m->already_prepended = cached != nullptr && cached->prepended;
  m->loop();
  return check;
}

std::optional<std::chrono::steady_clock::time_point> SpfPolicyCheck::deadline() const {
  if (done_ || !impl_->waiting) return std::nullopt;
  return impl_->deadline;
}

bool SpfPolicyCheck::check_deadline() {
  if (done_) return false;
  auto keep = shared_from_this();  // the loop may run the completion
  return impl_->expire();
}

}  // namespace auth::policy
