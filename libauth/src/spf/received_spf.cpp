// Received-SPF formatting (RFC 7208 §9.1; policyd-spf layout, anchor-features §5.4).
#include "auth/spf/received_spf.h"

#include "spf/spf_internal.h"

namespace auth::spf {

namespace {

// Header output must never carry CR, LF, NUL or other controls (STYLE.md "Output is
// sanitised too"): each such byte becomes '?'. Non-ASCII is kept (RFC 6532 headers).
std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? '?' : c;
  }
  return out;
}

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) noexcept {
  if (internal::is_alnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool is_dot_atom(std::string_view s) noexcept {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

// RFC 7208 §9.1: value = dot-atom / quoted-string.
std::string rfc7208_value(std::string_view raw) {
  std::string v = sanitize(raw);
  if (is_dot_atom(v)) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  q += '"';
  return q;
}

}  // namespace

const char* capitalized(SpfResult r) noexcept {
  switch (r) {
    case SpfResult::None: return "None";
    case SpfResult::Neutral: return "Neutral";
    case SpfResult::Pass: return "Pass";
    case SpfResult::Fail: return "Fail";
    case SpfResult::SoftFail: return "Softfail";
    case SpfResult::TempError: return "Temperror";
    case SpfResult::PermError: return "Permerror";
  }
  return "Permerror";
}

const char* result_comment(SpfResult r) noexcept {
  // pyspf EXPLANATIONS (what policyd-spf passes through); "none" as policyd-spf writes it.
  switch (r) {
    case SpfResult::Pass: return "sender SPF authorized";
    case SpfResult::Fail: return "SPF fail - not authorized";
    case SpfResult::SoftFail: return "domain owner discourages use of this host";
    case SpfResult::Neutral: return "access neither permitted nor denied";
    case SpfResult::None: return "no SPF record";
    case SpfResult::PermError: return "permanent error in processing";
    case SpfResult::TempError: return "temporary DNS error in processing";
  }
  return "permanent error in processing";
}

std::string policyd_comment(SpfResult r, Identity identity) {
  if (identity == Identity::MailFrom) return "mailfrom";
  return result_comment(r);
}

ReceivedSpf make_received_spf(const CheckResult& result, std::string_view mail_from,
                              std::string_view receiver) {
  ReceivedSpf f;
  f.result = result.result;
  f.identity = result.identity;
  f.comment = policyd_comment(result.result, result.identity);
  if (result.identity == Identity::Helo) {
    // policyd-spf writes pyspf's explanation for HELO results: the exp text on fail and the
    // error text on permerror/temperror.
    if (result.result == SpfResult::Fail && !result.explanation.empty()) {
      f.comment = result.explanation;
    } else if (result.result == SpfResult::PermError && !result.problem.empty()) {
      f.comment = "SPF Permanent Error: " + result.problem;
    } else if (result.result == SpfResult::TempError && !result.problem.empty()) {
      f.comment = "SPF Temporary Error: " + result.problem;
    }
  }
  f.client_ip = result.client_ip;
  f.helo = result.helo;
  std::string_view from = mail_from;
  if (from == "<>") from = {};
  f.envelope_from = std::string(from);
  f.receiver = std::string(receiver);
  f.mechanism = result.mechanism;
  f.problem = result.problem;
  return f;
}

std::string format_received_spf_value(const ReceivedSpf& f, ReceivedSpfStyle style) {
  std::string envelope = f.envelope_from.empty() ? std::string("<>") : f.envelope_from;
  std::string out;
  if (style == ReceivedSpfStyle::PolicydSpf) {
    // anchor-features §5.4, byte for byte, including the trailing space.
    out += capitalized(f.result);
    out += " (" + sanitize(f.comment) + ") ";
    out += "identity=";
    out += to_string(f.identity);
    out += "; client-ip=" + sanitize(f.client_ip);
    out += "; helo=" + sanitize(f.helo);
    out += "; envelope-from=" + sanitize(envelope);
    out += "; receiver=" + sanitize(f.receiver);
    out += ' ';
    return out;
  }
  // RFC 7208 §9.1: result [comment] key=value pairs.
  out += to_string(f.result);
  if (!f.comment.empty()) {
    std::string c;
    for (char ch : sanitize(f.comment)) {
      if (ch == '(' || ch == ')' || ch == '\\') c += '\\';  // RFC 5322 §3.2.2 quoted-pair
      c += ch;
    }
    out += " (" + c + ")";
  }
  out += " client-ip=" + rfc7208_value(f.client_ip);
  out += "; envelope-from=" + rfc7208_value(envelope);
  out += "; helo=" + rfc7208_value(f.helo);
  if (!f.receiver.empty()) out += "; receiver=" + rfc7208_value(f.receiver);
  if (!f.mechanism.empty()) out += "; mechanism=" + rfc7208_value(f.mechanism);
  if (!f.problem.empty()) out += "; problem=" + rfc7208_value(f.problem);
  out += "; identity=";
  out += to_string(f.identity);
  return out;
}

std::string format_received_spf(const ReceivedSpf& f, ReceivedSpfStyle style) {
  return "Received-SPF: " + format_received_spf_value(f, style);
}

}  // namespace auth::spf
