// RFC 6376 §3.2 tag-list parser: iterative cursor, no allocation beyond the result.
#include "auth/dkim/tag_list.h"

#include <string>

namespace auth::dkim {
namespace {

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
// RFC 6376 §3.2: VALCHAR = %x21-3A / %x3C-7E (printable ASCII except ';').
constexpr bool is_valchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u <= 0x3A) || (u >= 0x3C && u <= 0x7E);
}

// Skips FWS = [*WSP CRLF] 1*WSP (RFC 5322 §3.2.2), tolerating bare LF as the line break and a
// line break at the very end of the input. A CR/LF followed by anything else is left in place
// so the caller reports it.
std::size_t skip_fws(std::string_view s, std::size_t pos) noexcept {
  for (;;) {
    if (pos < s.size() && is_wsp(s[pos])) {
      ++pos;
      continue;
    }
    std::size_t nl = 0;
    if (s.size() - pos >= 2 && s[pos] == '\r' && s[pos + 1] == '\n') {
      nl = 2;
    } else if (pos < s.size() && s[pos] == '\n') {
      nl = 1;
    }
    if (nl == 0) return pos;
    if (pos + nl == s.size() || is_wsp(s[pos + nl])) {
      pos += nl;
      continue;
    }
    return pos;
  }
}

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u <= 0x7E) return std::string("'") + c + "'";
  static const char* hex = "0123456789ABCDEF";
  return std::string("0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace

const Tag* TagList::find(std::string_view name) const noexcept {
  for (const auto& t : tags) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<std::string_view> TagList::get(std::string_view name) const noexcept {
  const Tag* t = find(name);
  if (t == nullptr) return std::nullopt;
  return std::string_view(t->value);
}

Result<TagList> parse_tag_list(std::string_view in) {
  if (in.size() > kMaxTagListBytes) {
    return fail(ErrorCode::LimitExceeded,
                "tag-list longer than " + std::to_string(kMaxTagListBytes) + " bytes");
  }
  TagList out;
  std::size_t pos = skip_fws(in, 0);
  if (pos == in.size()) return out;  // empty list

  for (;;) {
    /* tag-name = ALPHA *ALNUMPUNC */
    pos = skip_fws(in, pos);
    const std::size_t name_begin = pos;
    if (pos == in.size() || !is_alpha(in[pos])) {
      if (pos == in.size()) return fail(ErrorCode::Syntax, "empty tag-spec at end of tag-list");
      return fail(ErrorCode::Syntax, "tag name expected at offset " + std::to_string(pos) +
                                         ", got " + describe_byte(in[pos]));
    }
    while (pos < in.size() && (is_alpha(in[pos]) || is_digit(in[pos]) || in[pos] == '_')) ++pos;
    Tag tag;
    tag.name = std::string(in.substr(name_begin, pos - name_begin));

    /* [FWS] "=" */
    pos = skip_fws(in, pos);
    if (pos == in.size() || in[pos] != '=') {
      return fail(ErrorCode::Syntax, "'=' expected after tag name \"" + tag.name + "\"");
    }
    ++pos;

    /* [FWS] tag-value [FWS]: tval *( FWS tval ) */
    tag.value_begin = pos;
    pos = skip_fws(in, pos);
    const std::size_t value_start = pos;
    std::size_t value_end = pos;
    while (pos < in.size()) {
      if (is_valchar(in[pos])) {
        ++pos;
        value_end = pos;
        continue;
      }
      const std::size_t after = skip_fws(in, pos);
      if (after == pos) break;  // not FWS: ';' or a bad byte, decided below
      pos = after;
    }
    tag.value_end = value_end;
    tag.value = std::string(in.substr(value_start, value_end - value_start));

    if (pos < in.size() && in[pos] != ';') {
      return fail(ErrorCode::Syntax, "invalid byte " + describe_byte(in[pos]) +
                                         " in value of tag \"" + tag.name + "\"");
    }

    /* A duplicate tag invalidates the whole list (RFC 6376 §3.2). */
    if (out.find(tag.name) != nullptr) {
      return fail(ErrorCode::Duplicate, "duplicate tag \"" + tag.name + "\"");
    }
    if (out.tags.size() >= kMaxTags) {
      return fail(ErrorCode::LimitExceeded,
                  "more than " + std::to_string(kMaxTags) + " tags in tag-list");
    }
    out.tags.push_back(std::move(tag));

    if (pos == in.size()) return out;
    ++pos;  // ';'
    pos = skip_fws(in, pos);
    if (pos == in.size()) return out;  // trailing ';' is allowed
  }
}

std::string strip_fws(std::string_view value) {
  // Written through a pointer into a sized buffer: b= and bh= values run to hundreds of
  // bytes per signature, and push_back per byte cost several times the comparisons.
  std::string out(value.size(), '\0');
  char* o = out.data();
  for (char c : value) {
    *o = c;
    o += (c != ' ' && c != '\t' && c != '\r' && c != '\n') ? 1 : 0;
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

}  // namespace auth::dkim
