#include "auth/dkim/result.h"

#include <algorithm>

namespace auth::dkim {

const char* to_string(KeyDnssec d) noexcept {
  switch (d) {
    case KeyDnssec::Insecure: return "insecure";
    case KeyDnssec::Secure: return "secure";
    case KeyDnssec::Unknown: break;
  }
  return "unknown";
}

const char* to_string(DkimResult r) noexcept {
  switch (r) {
    case DkimResult::None: return "none";
    case DkimResult::Pass: return "pass";
    case DkimResult::Fail: return "fail";
    case DkimResult::Neutral: return "neutral";
    case DkimResult::Policy: return "policy";
    case DkimResult::TempError: return "temperror";
    case DkimResult::PermError: return "permerror";
  }
  return "none";
}

std::string header_b(const SignatureResult& r, const std::vector<SignatureResult>& all) {
  const std::string& mine = r.b_text;
  if (mine.empty()) return r.b_prefix;
  std::size_t len = std::min(kMinHeaderBLength, mine.size());
  for (const auto& other : all) {
    if (&other == &r || other.b_text.empty() || other.b_text == mine) continue;
    std::size_t common = 0;
    while (common < mine.size() && common < other.b_text.size() &&
           mine[common] == other.b_text[common]) {
      ++common;
    }
    if (common >= len) len = std::min(common + 1, mine.size());
  }
  return mine.substr(0, len);
}

DkimResult overall_result(const std::vector<SignatureResult>& results) noexcept {
  if (results.empty()) return DkimResult::None;
  for (DkimResult want : {DkimResult::Pass, DkimResult::Fail, DkimResult::TempError,
                          DkimResult::PermError, DkimResult::Policy, DkimResult::Neutral}) {
    for (const auto& r : results) {
      if (r.result == want) return want;
    }
  }
  return DkimResult::None;
}

}  // namespace auth::dkim
