// auth::mail header fields (see auth/mail/header.h).
#include "auth/mail/header.h"

#include <cstring>

#include <string>
#include <utility>

#include "auth/mail/ascii.h"

namespace auth::mail {
namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 5322 §3.6.8: ftext = %d33-57 / %d59-126 (printable US-ASCII except ':').
constexpr bool is_ftext(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

// Builds a Field from CRLF-normalised raw bytes without the terminating CRLF.
Result<Field> build_field(std::string raw) {
  /* Sanity check. */
  if (raw.size() > kMaxFieldBytes) {
    return fail(ErrorCode::LimitExceeded,
                "header field of " + std::to_string(raw.size()) + " bytes exceeds " +
                    std::to_string(kMaxFieldBytes));
  }
  const std::size_t colon = raw.find(':');
  if (colon == std::string::npos) {
    return fail(ErrorCode::Syntax, "header field without ':'");
  }
  /* Field name; RFC 5322 §4.5.8 obs-optional allows WSP before the colon. */
  std::size_t name_end = colon;
  while (name_end > 0 && is_wsp(raw[name_end - 1])) --name_end;
  if (name_end == 0) return fail(ErrorCode::Syntax, "header field with an empty name");
  for (std::size_t i = 0; i < name_end; ++i) {
    if (!is_ftext(raw[i])) {
      return fail(ErrorCode::Syntax, "byte " + std::to_string(static_cast<unsigned char>(raw[i])) +
                                         " not allowed in a header field name");
    }
  }
  Field f;
  f.name.assign(raw, 0, name_end);
  f.value = unfold(std::string_view(raw).substr(colon + 1));
  f.colon = colon;
  f.raw = std::move(raw);
  return f;
}

}  // namespace

bool Field::is(std::string_view n) const noexcept { return equals_ignore_case(name, n); }

Result<Field> Field::parse(std::string_view raw) {
  if (raw.size() > kMaxFieldBytes + 2) {
    return fail(ErrorCode::LimitExceeded, "header field exceeds " + std::to_string(kMaxFieldBytes) +
                                              " bytes");
  }
  std::string text = to_crlf(raw);
  // The terminating CRLF is optional here; Field::raw never holds it.
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) text.resize(text.size() - 2);
  // Every inner line break must be folding (RFC 5322 §2.2.3: CRLF followed by WSP).
  for (std::size_t p = text.find("\r\n"); p != std::string::npos; p = text.find("\r\n", p + 2)) {
    if (p + 2 >= text.size() || !is_wsp(text[p + 2])) {
      return fail(ErrorCode::Syntax, "line break not followed by whitespace inside one header field");
    }
  }
  return build_field(std::move(text));
}

Result<Field> Field::from_milter(std::string_view name, std::string_view value, LeadingSpace lead) {
  // Bound before copying; build_field re-checks after LF -> CRLF growth.
  if (name.size() > kMaxFieldBytes || value.size() > kMaxFieldBytes - name.size()) {
    return fail(ErrorCode::LimitExceeded, "header field exceeds " + std::to_string(kMaxFieldBytes) +
                                              " bytes");
  }
  if (name.find(':') != std::string_view::npos) {
    return fail(ErrorCode::Syntax, "':' in a header field name");
  }
  std::string raw;
  raw.reserve(name.size() + value.size() + 2);
  raw.append(name);
  raw.push_back(':');
  // Postfix eats one SP after the colon unless SMFIP_HDR_LEADSPC was negotiated (milter8.c
  // milter8_header); put exactly one back as OpenDKIM does (anchor-features.md §1.4).
  // XXX: `Name:value` (no space) is indistinguishable here and comes back as `Name: value`;
  // negotiate SMFIP_HDR_LEADSPC and pass LeadingSpace::Included for byte-exact fields.
  if (lead == LeadingSpace::Stripped) raw.push_back(' ');
  raw.append(to_crlf(value));
  return build_field(std::move(raw));
}

std::vector<const Field*> HeaderBlock::find_all(std::string_view name) const {
  std::vector<const Field*> out;
  for (const Field& f : fields) {
    if (f.is(name)) out.push_back(&f);
  }
  return out;
}

const Field* HeaderBlock::find_first(std::string_view name) const {
  for (const Field& f : fields) {
    if (f.is(name)) return &f;
  }
  return nullptr;
}

std::size_t HeaderBlock::count(std::string_view name) const {
  std::size_t n = 0;
  for (const Field& f : fields) {
    if (f.is(name)) ++n;
  }
  return n;
}

bool has_bare_lf(std::string_view text) noexcept {
  for (auto nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', nl + 1)) {
    if (nl == 0 || text[nl - 1] != '\r') return true;
  }
  return false;
}

std::string to_crlf(std::string_view text) {
  // Copies the runs between bare LFs in one go (find() is memchr).
  std::string out;
  out.reserve(text.size() + text.size() / 32 + 2);
  std::size_t start = 0;
  for (auto nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', nl + 1)) {
    if (nl == 0 || text[nl - 1] != '\r') {
      out.append(text, start, nl - start);
      out.push_back('\r');
      start = nl;  // the LF itself goes out with the next run
    }
  }
  out.append(text, start, text.size() - start);
  return out;
}

MessageParts split_message(std::string_view message) {
  MessageParts parts;
  std::size_t pos = 0;
  while (pos < message.size()) {
    // An empty line ends the header section (RFC 5322 §2.1); LF-only input is tolerated.
    std::size_t sep_len = 0;
    if (message.compare(pos, 2, "\r\n") == 0) {
      sep_len = 2;
    } else if (message[pos] == '\n') {
      sep_len = 1;
    }
    if (sep_len != 0) {
      parts.header = message.substr(0, pos);
      parts.body_offset = pos + sep_len;
      parts.body = message.substr(parts.body_offset);
      parts.has_separator = true;
      return parts;
    }
    const std::size_t nl = message.find('\n', pos);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  parts.header = message;
  parts.body_offset = message.size();
  parts.body = message.substr(message.size());
  return parts;
}

std::string unfold(std::string_view raw_value) {
  // Runs of ordinary bytes are copied whole; only CR and LF are looked at one by one. (On a
  // hot path: every header of every verified message, ~20 instructions a byte with
  // push_back per byte.)
  std::string out(raw_value.size(), '\0');
  char* o = out.data();
  const char* p = raw_value.data();
  const char* const end = p + raw_value.size();
  while (p < end) {
    const char* q = p;
    while (q < end && *q != '\r' && *q != '\n') ++q;
    std::memcpy(o, p, static_cast<std::size_t>(q - p));
    o += q - p;
    p = q;
    if (p == end) break;
    // RFC 5322 §2.2.3: unfolding removes any CRLF immediately followed by WSP (and a bare LF
    // before WSP, as milters receive LF-only folding).
    if (*p == '\r' && end - p > 2 && p[1] == '\n' && is_wsp(p[2])) {
      p += 2;
      continue;
    }
    if (*p == '\n' && end - p > 1 && is_wsp(p[1])) {
      p += 1;
      continue;
    }
    *o++ = *p++;
  }
  // Trim WSP (and any stray line-end bytes) at both ends.
  auto trim_byte = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  char* b = out.data();
  while (b < o && trim_byte(*b)) ++b;
  while (o > b && trim_byte(o[-1])) --o;
  return std::string(b, static_cast<std::size_t>(o - b));
}

Result<HeaderBlock> parse_header_block(std::string_view header) {
  /* Cut at the empty line so a whole message can be passed; bound the size before copying. */
  const MessageParts parts = split_message(header);
  std::string_view section = parts.header;
  if (section.size() > kMaxHeaderBytes) {
    return fail(ErrorCode::LimitExceeded, "header section of " + std::to_string(section.size()) +
                                              " bytes exceeds " + std::to_string(kMaxHeaderBytes));
  }
  HeaderBlock block;
  std::string repaired;
  if (has_bare_lf(section)) {
    repaired = to_crlf(section);
    section = repaired;
    block.repaired_line_ends = true;
  }

  /* Walk the lines; a line starting with WSP continues the current field. */
  std::size_t field_start = std::string_view::npos;
  std::size_t field_end = 0;  // end of the current field's last line, CRLF excluded
  auto finish_field = [&]() -> Result<void> {
    if (field_start == std::string_view::npos) return ok();
    if (block.fields.size() >= kMaxHeaderFields) {
      return fail(ErrorCode::LimitExceeded,
                  "more than " + std::to_string(kMaxHeaderFields) + " header fields");
    }
    auto f = build_field(std::string(section.substr(field_start, field_end - field_start)));
    if (!f) {
      return fail(f.error().code, "header field " + std::to_string(block.fields.size() + 1) + ": " +
                                      f.error().reason);
    }
    block.fields.push_back(std::move(f).value());
    return ok();
  };

  std::size_t pos = 0;
  while (pos < section.size()) {
    std::size_t eol = section.find("\r\n", pos);
    const std::size_t next = (eol == std::string_view::npos) ? section.size() : eol + 2;
    if (eol == std::string_view::npos) eol = section.size();
    const std::size_t line_len = eol - pos;
    if (line_len > kMaxLineLength) ++block.overlong_lines;
    if (line_len == 0) break;  // empty line: end of the header section
    if (is_wsp(section[pos])) {
      if (field_start == std::string_view::npos) {
        return fail(ErrorCode::Syntax, "header section starts with a continuation line");
      }
    } else {
      if (auto r = finish_field(); !r) return fail(r.error());
      field_start = pos;
    }
    field_end = eol;
    // Overflow check before the field grows further (the bound applies while scanning).
    if (field_end - field_start > kMaxFieldBytes) {
      return fail(ErrorCode::LimitExceeded, "header field " + std::to_string(block.fields.size() + 1) +
                                                " exceeds " + std::to_string(kMaxFieldBytes) + " bytes");
    }
    pos = next;
  }
  if (auto r = finish_field(); !r) return fail(r.error());
  return block;
}

}  // namespace auth::mail
