// libopendkim's StrictHeaders check (dkim.c dkim_headercheck), RFC 5322 §3.6 field counts.
#include "auth/dkim/header_check.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "auth/mail/address.h"

namespace auth::dkim {
namespace {

// Counting stops at 2: "absent", "once" and "more than once" are all the check needs.
std::size_t count_up_to_two(const std::vector<mail::Field>& headers, std::string_view name,
                            const mail::Field** first) {
  std::size_t n = 0;
  for (const auto& f : headers) {
    if (!f.is(name)) continue;
    if (n == 0 && first != nullptr) *first = &f;
    if (++n == 2) break;
  }
  return n;
}

// The fields RFC 5322 §3.6 allows at most once, in libopendkim's order.
constexpr std::array<std::string_view, 9> kAtMostOnce = {
    "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To", "References", "Subject"};

}  // namespace

Result<void> check_strict_headers(const std::vector<mail::Field>& headers) {
  /* Date: exactly one (RFC 5322 §3.6 orig-date). */
  const std::size_t dates = count_up_to_two(headers, "Date", nullptr);
  if (dates == 0) return fail(ErrorCode::Syntax, "Date: header field absent");
  if (dates > 1) return fail(ErrorCode::Syntax, "multiple Date: header fields present");

  /* From: exactly one, and it must yield a mailbox (libopendkim dkim_mail_parse: user and
     domain both non-empty). libopendkim tests "multiple" before "absent" here. */
  const mail::Field* from = nullptr;
  const std::size_t froms = count_up_to_two(headers, "From", &from);
  if (froms > 1) return fail(ErrorCode::Syntax, "multiple From: header fields present");
  if (froms == 0) return fail(ErrorCode::Syntax, "From: header field absent");
  auto boxes = mail::parse_address_list(from->value);
  if (!boxes || boxes->empty() || (*boxes)[0].local_part.empty() || (*boxes)[0].domain.empty()) {
    return fail(ErrorCode::Syntax, "From: header field cannot be parsed");
  }

  /* The fields allowed at most once (RFC 5322 §3.6 table). */
  for (std::string_view name : kAtMostOnce) {
    if (count_up_to_two(headers, name, nullptr) > 1) {
      return fail(ErrorCode::Syntax, "multiple " + std::string(name) + ": header fields present");
    }
  }
  return ok();
}

}  // namespace auth::dkim
