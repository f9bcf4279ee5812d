// auth::mail addresses (see auth/mail/address.h).
//
// Two passes, both iterative: a lexer turns the value into tokens (atoms, quoted strings,
// domain literals, specials), dropping CFWS but remembering whether whitespace or a comment
// preceded each token; a parser walks the tokens with an index. Comments nest with a depth
// counter (RFC 5322 §3.2.2), never recursion.
#include "auth/mail/address.h"

#include <algorithm>
#include <string>
#include <utility>

#include "auth/mail/ascii.h"

namespace auth::mail {
namespace {

enum class Tok {
  Atom,           // RFC 5322 §3.2.3 atext run (8-bit bytes accepted, RFC 6532 §3.2)
  Quoted,         // quoted-string (§3.2.4)
  DomainLiteral,  // "[...]" (§3.4.1)
  Dot,
  At,
  Comma,
  Colon,
  Semicolon,
  Lt,
  Gt,
};

struct Token {
  Tok kind;
  std::string text;  // Atom: as written; Quoted: decoded content; DomainLiteral: "[...]" w/o FWS
  std::string raw;   // Quoted: as written including quotes and backslashes
  bool space_before = false;  // CFWS separated this token from the previous one
};

constexpr bool is_fws_byte(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 5322 §3.2.3 atext, plus UTF8-non-ascii (RFC 6532 §3.2).
constexpr bool is_atext(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

std::string byte_name(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 33 && u <= 126) return std::string("'") + c + "'";
  return "byte " + std::to_string(u);
}

Result<std::vector<Token>> lex(std::string_view in) {
  std::vector<Token> toks;
  bool space = false;
  std::size_t i = 0;
  auto push = [&](Tok k, std::string text, std::string raw = {}) {
    toks.push_back(Token{k, std::move(text), std::move(raw), space});
    space = false;
  };
  while (i < in.size()) {
    const char c = in[i];
    if (c == '\0') return fail(ErrorCode::Syntax, "NUL byte in address list");
    if (is_fws_byte(c)) {
      space = true;
      ++i;
      continue;
    }
    switch (c) {
      case '(': {
        /* Comment: depth-counted, quoted-pairs skip the next byte (RFC 5322 §3.2.2). */
        std::size_t depth = 1;
        ++i;
        while (depth > 0) {
          if (i >= in.size()) return fail(ErrorCode::Syntax, "unbalanced '(' in comment");
          const char d = in[i];
          if (d == '\0') return fail(ErrorCode::Syntax, "NUL byte in comment");
          if (d == '\\') {
            if (i + 1 >= in.size()) return fail(ErrorCode::Syntax, "quoted-pair at end of comment");
            i += 2;
            continue;
          }
          if (d == '(') {
            if (++depth > kMaxCommentDepth) {
              return fail(ErrorCode::LimitExceeded, "comments nested deeper than " +
                                                        std::to_string(kMaxCommentDepth));
            }
          } else if (d == ')') {
            --depth;
          }
          ++i;
        }
        space = true;
        continue;
      }
      case ')':
        return fail(ErrorCode::Syntax, "')' without matching '('");
      case '"': {
        /* Quoted string with quoted-pairs (RFC 5322 §3.2.4, obs-qp §4.1). */
        const std::size_t start = i;
        std::string text;
        ++i;
        bool closed = false;
        while (i < in.size()) {
          const char d = in[i];
          if (d == '\0') return fail(ErrorCode::Syntax, "NUL byte in quoted string");
          if (d == '\\') {
            if (i + 1 >= in.size()) break;
            if (in[i + 1] == '\0') return fail(ErrorCode::Syntax, "NUL byte in quoted string");
            text.push_back(in[i + 1]);
            i += 2;
            continue;
          }
          if (d == '"') {
            closed = true;
            ++i;
            break;
          }
          // Folding inside the string is removed (unfolding), other bytes kept as-is.
          if (d == '\r' || d == '\n') {
            ++i;
            continue;
          }
          text.push_back(d);
          ++i;
        }
        if (!closed) return fail(ErrorCode::Syntax, "unterminated quoted string");
        push(Tok::Quoted, std::move(text), std::string(in.substr(start, i - start)));
        continue;
      }
      case '[': {
        /* Domain literal: dtext and FWS, obs-dtext quoted-pairs (RFC 5322 §3.4.1, §4.4). */
        std::string text = "[";
        ++i;
        bool closed = false;
        while (i < in.size()) {
          const char d = in[i];
          if (d == ']') {
            closed = true;
            ++i;
            break;
          }
          if (d == '[') return fail(ErrorCode::Syntax, "'[' inside a domain literal");
          if (d == '\0') return fail(ErrorCode::Syntax, "NUL byte in domain literal");
          if (d == '\\') {
            if (i + 1 >= in.size()) break;
            text.push_back('\\');
            text.push_back(in[i + 1]);
            i += 2;
            continue;
          }
          if (!is_fws_byte(d)) text.push_back(d);
          ++i;
        }
        if (!closed) return fail(ErrorCode::Syntax, "unterminated domain literal");
        text.push_back(']');
        push(Tok::DomainLiteral, std::move(text));
        continue;
      }
      case ']':
        return fail(ErrorCode::Syntax, "']' without matching '['");
      case '.': push(Tok::Dot, "."); ++i; continue;
      case '@': push(Tok::At, "@"); ++i; continue;
      case ',': push(Tok::Comma, ","); ++i; continue;
      case ':': push(Tok::Colon, ":"); ++i; continue;
      case ';': push(Tok::Semicolon, ";"); ++i; continue;
      case '<': push(Tok::Lt, "<"); ++i; continue;
      case '>': push(Tok::Gt, ">"); ++i; continue;
      default:
        break;
    }
    if (!is_atext(c)) return fail(ErrorCode::Syntax, byte_name(c) + " not allowed in an address");
    const std::size_t start = i;
    while (i < in.size() && is_atext(in[i])) ++i;
    push(Tok::Atom, std::string(in.substr(start, i - start)));
  }
  return toks;
}

bool is_word(const Token& t) noexcept { return t.kind == Tok::Atom || t.kind == Tok::Quoted; }

class Parser {
 public:
  explicit Parser(const std::vector<Token>& toks) : t_(toks) {}

  Result<std::vector<Mailbox>> address_list() {
    while (true) {
      // obs-addr-list (RFC 5322 §4.4): empty list elements are allowed.
      while (at(Tok::Comma)) ++i_;
      if (done()) break;
      if (auto r = address(); !r) return fail(r.error());
      if (done()) break;
      if (!at(Tok::Comma)) return fail(ErrorCode::Syntax, "expected ',' between addresses, got " + here());
    }
    return std::move(out_);
  }

 private:
  bool done() const noexcept { return i_ >= t_.size(); }
  bool at(Tok k) const noexcept { return !done() && t_[i_].kind == k; }
  std::string here() const {
    if (done()) return "end of input";
    const Token& t = t_[i_];
    return "'" + (t.kind == Tok::Quoted ? t.raw : t.text) + "'";
  }

  // phrase / obs-phrase (RFC 5322 §3.2.5, §4.1): words and dots; returns the display text.
  std::string phrase_text(std::size_t from, std::size_t to) const {
    std::string s;
    for (std::size_t k = from; k < to; ++k) {
      const Token& t = t_[k];
      if (k > from && t.space_before) s.push_back(' ');
      s += t.text;
    }
    return s;
  }

  // address = mailbox / group (RFC 5322 §3.4)
  Result<void> address() {
    const std::size_t start = i_;
    while (!done() && (is_word(t_[i_]) || t_[i_].kind == Tok::Dot)) ++i_;
    const std::size_t end = i_;
    if (at(Tok::Colon)) {
      if (end == start) return fail(ErrorCode::Syntax, "group without a display name");
      ++i_;
      return group(phrase_text(start, end));
    }
    return mailbox_from(start, end, std::string());
  }

  // group = display-name ":" [group-list] ";" (RFC 5322 §3.4); members are mailboxes.
  Result<void> group(std::string name) {
    while (true) {
      while (at(Tok::Comma)) ++i_;
      // XXX: tolerate a missing ';' at the very end ("undisclosed-recipients:"), seen in real mail.
      if (done()) return ok();
      if (at(Tok::Semicolon)) {
        ++i_;
        return ok();
      }
      const std::size_t start = i_;
      while (!done() && (is_word(t_[i_]) || t_[i_].kind == Tok::Dot)) ++i_;
      if (at(Tok::Colon)) return fail(ErrorCode::Syntax, "group nested inside group '" + name + "'");
      if (auto r = mailbox_from(start, i_, name); !r) return r;
      if (!done() && !at(Tok::Comma) && !at(Tok::Semicolon)) {
        return fail(ErrorCode::Syntax, "expected ',' or ';' in group, got " + here());
      }
    }
  }

  // mailbox = name-addr / addr-spec, given the leading words [start, end) already scanned.
  Result<void> mailbox_from(std::size_t start, std::size_t end, const std::string& group_name) {
    Mailbox mb;
    mb.group = group_name;
    if (at(Tok::Lt)) {
      mb.display_name = phrase_text(start, end);
      ++i_;
      if (auto r = angle_addr(mb); !r) return r;
    } else if (at(Tok::At)) {
      if (end == start) return fail(ErrorCode::Syntax, "empty local part before '@'");
      if (auto r = local_part(start, end, mb.local_part); !r) return r;
      ++i_;
      if (auto r = domain(mb.domain); !r) return r;
    } else if (end == start) {
      return fail(ErrorCode::Syntax, "expected an address, got " + here());
    } else {
      return fail(ErrorCode::Syntax, "address without '@' near " + here());
    }
    if (out_.size() >= kMaxMailboxes) {
      return fail(ErrorCode::LimitExceeded, "more than " + std::to_string(kMaxMailboxes) + " mailboxes");
    }
    out_.push_back(std::move(mb));
    return ok();
  }

  // local-part = dot-atom / quoted-string / obs-local-part (word *("." word), CFWS allowed).
  // Consecutive and trailing dots are tolerated (real mail, e.g. some mobile carriers).
  Result<void> local_part(std::size_t start, std::size_t end, std::string& out) const {
    bool prev_word = false;
    for (std::size_t k = start; k < end; ++k) {
      const Token& t = t_[k];
      if (is_word(t)) {
        if (prev_word) return fail(ErrorCode::Syntax, "words without '.' in local part");
        out += (t.kind == Tok::Quoted) ? t.raw : t.text;
        prev_word = true;
      } else {
        out.push_back('.');
        prev_word = false;
      }
    }
    return ok();
  }

  // domain = dot-atom / domain-literal / obs-domain (atom *("." atom), CFWS allowed).
  Result<void> domain(std::string& out) {
    if (at(Tok::DomainLiteral)) {
      out = t_[i_++].text;
      return ok();
    }
    while (true) {
      if (!at(Tok::Atom)) return fail(ErrorCode::Syntax, "expected a domain label, got " + here());
      out += t_[i_++].text;
      if (!at(Tok::Dot)) return ok();
      ++i_;
      out.push_back('.');
    }
  }

  // angle-addr = "<" [obs-route] addr-spec ">" (RFC 5322 §3.4, §4.4).
  Result<void> angle_addr(Mailbox& mb) {
    if (at(Tok::At) || at(Tok::Comma)) {
      // obs-route = obs-domain-list ":"; obs-domain-list = *(CFWS / ",") "@" domain *("," ["@" domain])
      while (true) {
        while (at(Tok::Comma)) ++i_;
        if (at(Tok::Colon)) {
          ++i_;
          break;
        }
        if (!at(Tok::At)) return fail(ErrorCode::Syntax, "bad route in angle address near " + here());
        ++i_;
        std::string ignored;
        if (auto r = domain(ignored); !r) return r;
      }
    }
    const std::size_t start = i_;
    while (!done() && (is_word(t_[i_]) || t_[i_].kind == Tok::Dot)) ++i_;
    if (at(Tok::Gt) && start == i_) return fail(ErrorCode::Syntax, "empty angle address '<>'");
    if (!at(Tok::At)) return fail(ErrorCode::Syntax, "expected '@' in angle address, got " + here());
    if (start == i_) return fail(ErrorCode::Syntax, "empty local part before '@'");
    if (auto r = local_part(start, i_, mb.local_part); !r) return r;
    ++i_;
    if (auto r = domain(mb.domain); !r) return r;
    if (!at(Tok::Gt)) return fail(ErrorCode::Syntax, "expected '>' after address, got " + here());
    ++i_;
    return ok();
  }

  const std::vector<Token>& t_;
  std::size_t i_ = 0;
  std::vector<Mailbox> out_;
};

}  // namespace

Result<std::vector<Mailbox>> parse_address_list(std::string_view value) {
  if (value.size() > kMaxAddressListBytes) {
    return fail(ErrorCode::LimitExceeded, "address list of " + std::to_string(value.size()) +
                                              " bytes exceeds " + std::to_string(kMaxAddressListBytes));
  }
  auto toks = lex(value);
  if (!toks) return fail(std::move(toks).error());
  Parser p(*toks);
  return p.address_list();
}

Result<std::vector<std::string>> author_domains(std::string_view from_value) {
  auto list = parse_address_list(from_value);
  if (!list) return fail(std::move(list).error());
  if (list->empty()) return fail(ErrorCode::Missing, "no author mailbox in From");
  std::vector<std::string> domains;
  for (const Mailbox& mb : *list) {
    if (mb.domain.empty()) return fail(ErrorCode::Invalid, "author mailbox with an empty domain");
    std::string d = to_lower_ascii(mb.domain);
    if (std::find(domains.begin(), domains.end(), d) == domains.end()) domains.push_back(std::move(d));
  }
  return domains;
}

Result<std::string> single_author_domain(std::string_view from_value) {
  auto domains = author_domains(from_value);
  if (!domains) return fail(std::move(domains).error());
  if (domains->size() > 1) {
    // RFC 7489 §6.6.1: several author domains make the DMARC evaluation ambiguous.
    return fail(ErrorCode::Duplicate, "From holds " + std::to_string(domains->size()) +
                                          " distinct author domains");
  }
  return std::move(domains->front());
}

}  // namespace auth::mail
