// Fuzz target: inkan-dkim's own parsers of hostile DNS and header text — the RFC 6651
// _report._domainkey record (parse_report_record, report_smtp_text), the r=y test, and
// libopendkim's tag-list and signature checks on a DKIM-Signature value
// (opendkim_signature_check). Input byte 0 picks the clock drift; the rest is the text.
#include <cstdint>
#include <string_view>

#include "dkim/dkim_core.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::int64_t drift = data[0] * 10;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace inkan::dkim;
  if (auto r = parse_report_record(text)) {
    if (r->ra.empty() || r->ra.size() > kMaxReportLocalPart || r->rp > 100) __builtin_trap();
  }
  if (auto s = report_smtp_text(text)) {
    if (s->empty() || s->size() > kMaxReportSmtpText) __builtin_trap();
  }
  (void)signature_requests_reports(text);
  auto c = opendkim_signature_check(text, 1700000000, drift);
  if (c.kind == OpendkimSigCheck::Kind::Usable && !c.error.empty()) __builtin_trap();
  return 0;
}
