#include <unordered_map>

#include "auth/mail/ascii.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim::internal {
namespace {

// Up to this many (field, name) comparisons select_headers scans directly; beyond it (long
// h= lists or huge header sections) it builds an index, so the cost stays linear.
constexpr std::size_t kDirectSelectLimit = 1024;

}  // namespace

std::string lower(std::string_view s) { return mail::to_lower_ascii(s); }

Result<std::int64_t> parse_decimal(std::string_view text, std::size_t max_digits,
                                   std::string_view tag) {
  if (text.empty()) return fail(ErrorCode::Syntax, std::string(tag) + "= is empty");
  if (text.size() > max_digits) {
    return fail(ErrorCode::Syntax, std::string(tag) + "= has more than " +
                                       std::to_string(max_digits) + " digits");
  }
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return fail(ErrorCode::Syntax, std::string(tag) + "= is not a decimal number");
    }
    v = v * 10 + (c - '0');  // max_digits ≤ 18 keeps this within int64
  }
  return v;
}

std::vector<std::string> split_colon_list(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : value) {
    if (c == ':') {
      out.push_back(std::move(cur));
      cur.clear();
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

std::vector<const mail::Field*> select_headers(const std::vector<mail::Field>& fields,
                                               const std::vector<std::string>& names) {
  std::vector<const mail::Field*> out;
  out.reserve(names.size());
  if (fields.size() * names.size() <= kDirectSelectLimit) {
    // Small header sections (the usual case): take, for each name, the bottom-most instance
    // not taken yet, by a direct scan; no index to build.
    std::vector<bool> used(fields.size(), false);
    for (const auto& n : names) {
      for (std::size_t i = fields.size(); i-- > 0;) {
        if (!used[i] && fields[i].name.size() == n.size() &&
            mail::equals_ignore_case(fields[i].name, n)) {
          used[i] = true;
          out.push_back(&fields[i]);
          break;
        }
      }
    }
    return out;
  }
  // Index the instances of each name, top to bottom; pop from the back = bottom-up.
  std::unordered_map<std::string, std::vector<const mail::Field*>> by_name;
  for (const auto& f : fields) by_name[lower(f.name)].push_back(&f);
  for (const auto& n : names) {
    auto it = by_name.find(lower(n));
    if (it == by_name.end() || it->second.empty()) continue;
    out.push_back(it->second.back());
    it->second.pop_back();
  }
  return out;
}

Result<void> append_header_bounded(std::vector<mail::Field>& headers, std::size_t& header_bytes,
                                   mail::Field f) {
  if (headers.size() >= mail::kMaxHeaderFields) {
    return fail(ErrorCode::LimitExceeded,
                "more than " + std::to_string(mail::kMaxHeaderFields) + " header fields");
  }
  if (header_bytes + f.raw.size() > mail::kMaxHeaderBytes) {
    return fail(ErrorCode::LimitExceeded, "header section larger than " +
                                              std::to_string(mail::kMaxHeaderBytes) + " bytes");
  }
  header_bytes += f.raw.size();
  headers.push_back(std::move(f));
  return ok();
}

}  // namespace auth::dkim::internal
