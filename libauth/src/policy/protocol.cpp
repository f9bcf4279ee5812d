// Postfix policy protocol reader and reply formatter (SMTPD_POLICY_README "Protocol description").
#include "auth/policy/protocol.h"

#include <algorithm>

namespace auth::policy {

namespace {

bool is_space(char c) noexcept {
  // Python str.isspace() for ASCII: SP, \t, \n, \v, \f, \r (and the separators 0x1c-0x1f).
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view lstrip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> Request::get(std::string_view name) const {
  for (const auto& [n, v] : attributes) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::value(std::string_view name) const {
  auto v = get(name);
  return v ? *v : std::string_view{};
}

void RequestReader::end_line(std::string_view raw) {
  // policyd-spf: line = line.rstrip(); an empty line ends the request.
  std::string_view line = rstrip(raw);
  if (line.empty()) {
    done_.push_back(std::move(current_));
    current_ = Request{};
    return;
  }
  // `^\s*([^=\s]+)\s*=(.*)$`: a name without '=' or white space, optional white space, '='.
  std::string_view rest = lstrip(line);
  std::size_t name_end = 0;
  while (name_end < rest.size() && rest[name_end] != '=' && !is_space(rest[name_end])) ++name_end;
  std::string_view name = rest.substr(0, name_end);
  std::string_view after = lstrip(rest.substr(name_end));
  bool has_nul = line.find('\0') != std::string_view::npos;
  if (name.empty() || after.empty() || after.front() != '=' || has_nul) {
    ++current_.malformed_lines;
  } else {
    std::string_view value = after.substr(1);
    auto it = std::find_if(current_.attributes.begin(), current_.attributes.end(),
                           [&](const auto& a) { return a.first == name; });
    if (it != current_.attributes.end()) {
      it->second.assign(value);
    } else if (current_.attributes.size() >= kMaxAttributes) {
      error_ = Error{ErrorCode::LimitExceeded,
                     "more than " + std::to_string(kMaxAttributes) + " attributes in one request"};
      return;
    } else {
      current_.attributes.emplace_back(std::string(name), std::string(value));
    }
  }
  // Skipped lines count against the same bound, so a flood of junk stays bounded too.
  if (current_.attributes.size() + current_.malformed_lines > kMaxAttributes) {
    error_ = Error{ErrorCode::LimitExceeded,
                   "more than " + std::to_string(kMaxAttributes) + " lines in one request"};
  }
}

void RequestReader::feed(std::string_view bytes) {
  while (!bytes.empty() && !error_) {
    std::size_t nl = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, nl);
    // Bound check before the append (STYLE.md: overflow check comes before the add).
    if (kMaxLineBytes - line_.size() < chunk.size()) {
      error_ = Error{ErrorCode::LimitExceeded,
                     "request line longer than " + std::to_string(kMaxLineBytes) + " bytes"};
      line_.clear();
      return;
    }
    if (nl == std::string_view::npos) {
      line_.append(chunk);
      return;
    }
    if (line_.empty()) {
      end_line(chunk);
    } else {
      line_.append(chunk);
      std::string line = std::move(line_);
      line_.clear();
      end_line(line);
    }
    bytes.remove_prefix(nl + 1);
  }
}

std::optional<Request> RequestReader::next() {
  if (done_.empty()) return std::nullopt;
  Request r = std::move(done_.front());
  done_.pop_front();
  return r;
}

Result<Request> parse_request(std::string_view text) {
  RequestReader r;
  r.feed(text);
  if (r.failed()) return fail(*r.error());
  if (r.ready() != 1 || r.mid_request()) {
    return fail(ErrorCode::Syntax, r.ready() == 0 ? "no empty line ends the request"
                                                  : "more than one request");
  }
  return std::move(*r.next());
}

std::string sanitize_action(std::string_view text) {
  if (text.size() > kMaxActionBytes) text = text.substr(0, kMaxActionBytes);
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string format_response(std::string_view action) {
  std::string out = "action=";
  out += sanitize_action(action);
  out += "\n\n";
  return out;
}

}  // namespace auth::policy
