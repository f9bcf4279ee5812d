#include "milterclient/message.h"

#include <algorithm>

namespace inkan::milterclient {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// Next line without its terminator; `pos` moves past LF. Handles CRLF and LF.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  std::size_t eol = text.find('\n', pos);
  std::string_view line = text.substr(pos, eol == text.npos ? text.npos : eol - pos);
  pos = eol == text.npos ? text.size() : eol + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

std::string Message::wire_value(const HeaderField& h, bool leading_space) {
  if (leading_space) return h.raw_value;
  // Postfix strips the white space after the colon (one SP or more, and HTAB).
  std::size_t b = 0;
  while (b < h.raw_value.size() && (h.raw_value[b] == ' ' || h.raw_value[b] == '\t')) ++b;
  return h.raw_value.substr(b);
}

auth::Result<Message> parse_message(std::string_view text) {
  Message m;
  std::size_t pos = 0;
  bool in_headers = true;
  while (in_headers && pos < text.size()) {
    std::size_t start = pos;
    std::string_view line = next_line(text, pos);
    if (line.empty()) {
      in_headers = false;
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (m.headers.empty()) return auth::fail(auth::ErrorCode::Syntax, "message starts with a continuation line");
      m.headers.back().raw_value += "\n";
      m.headers.back().raw_value.append(line);
      continue;
    }
    auto colon = line.find(':');
    if (colon == line.npos || colon == 0) {
      // Not a header: RFC 5322 would end the header section here; treat as body start
      // only if we have seen headers (a mailbox-format "From " line is refused).
      return auth::fail(auth::ErrorCode::Syntax, "header line without a colon at byte " + std::to_string(start));
    }
    if (m.headers.size() >= kMaxHeaderFields) return auth::fail(auth::ErrorCode::LimitExceeded, "too many header fields");
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    m.headers.push_back({std::string(name), std::string(line.substr(colon + 1))});
  }
  /* Body: normalise line ends to CRLF. */
  std::string_view rest = text.substr(pos);
  m.body.reserve(rest.size() + rest.size() / 32);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '\n' && (i == 0 || rest[i - 1] != '\r')) m.body.push_back('\r');
    m.body.push_back(c);
  }
  return m;
}

std::string_view to_string(Modification::Kind k) noexcept {
  switch (k) {
    case Modification::Kind::AddHeader: return "add-header";
    case Modification::Kind::InsertHeader: return "insert-header";
    case Modification::Kind::ChangeHeader: return "change-header";
    case Modification::Kind::ReplaceBody: return "replace-body";
    case Modification::Kind::AddRcpt: return "add-rcpt";
    case Modification::Kind::DeleteRcpt: return "delete-rcpt";
    case Modification::Kind::ChangeFrom: return "change-from";
    case Modification::Kind::Quarantine: return "quarantine";
  }
  return "unknown";
}

Message apply_modifications(const Message& in, const std::vector<Modification>& mods, bool leading_space) {
  Message m = in;
  auto stored = [&](const std::string& v) { return leading_space ? v : " " + v; };
  bool body_replaced = false;
  for (const auto& mod : mods) {
    switch (mod.kind) {
      case Modification::Kind::AddHeader:
        m.headers.push_back({mod.name, stored(mod.value)});
        break;
      case Modification::Kind::InsertHeader: {
        std::size_t at = std::min<std::size_t>(mod.index, m.headers.size());
        m.headers.insert(m.headers.begin() + static_cast<std::ptrdiff_t>(at), {mod.name, stored(mod.value)});
        break;
      }
      case Modification::Kind::ChangeHeader: {
        std::uint32_t seen = 0;
        auto it = std::find_if(m.headers.begin(), m.headers.end(), [&](const HeaderField& h) {
          return iequals(h.name, mod.name) && ++seen == std::max<std::uint32_t>(mod.index, 1);
        });
        if (it == m.headers.end()) {
          if (!mod.value.empty()) m.headers.push_back({mod.name, stored(mod.value)});
        } else if (mod.value.empty()) {
          m.headers.erase(it);
        } else {
          it->raw_value = stored(mod.value);
        }
        break;
      }
      case Modification::Kind::ReplaceBody:
        if (!body_replaced) m.body.clear();
        body_replaced = true;
        m.body += mod.value;
        break;
      default:
        break;
    }
  }
  return m;
}

std::string render_message(const Message& m) {
  std::string out;
  for (const auto& h : m.headers) {
    out += h.name;
    out += ':';
    for (char c : h.raw_value) {
      if (c == '\n') out += "\r\n";
      else out.push_back(c);
    }
    out += "\r\n";
  }
  out += "\r\n";
  out += m.body;
  return out;
}

std::vector<std::string_view> body_chunks(std::string_view body, std::size_t chunk) {
  std::vector<std::string_view> out;
  if (chunk == 0) chunk = 65535;
  for (std::size_t off = 0; off < body.size(); off += chunk) out.push_back(body.substr(off, chunk));
  return out;
}

}  // namespace inkan::milterclient
