// The message corpus shared by dkim_bench (Google Benchmark) and dkim_profile (callgrind),
// so both measure exactly the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace inkan::bench {

/// Fixed t= for signatures, so runs are comparable (x= is not used).
inline constexpr std::int64_t kFixedTime = 1795349429;
inline constexpr const char* kDomain = "example.com";

/// A message of exactly `size` bytes: realistic headers and 76-character body lines.
inline std::string make_message(std::size_t size) {
  std::string m =
      "Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n"
      "\tby mx.example.com (Postfix) with ESMTPS id 4Xk2p3\r\n"
      "\tfor <bob@example.org>; Sun, 22 Nov 2026 14:00:00 +0000 (UTC)\r\n"
      "From: Alice Example <alice@example.com>\r\n"
      "To: Bob Example <bob@example.org>\r\n"
      "Cc: Carol <carol@example.org>\r\n"
      "Subject: Quarterly figures and the plan for next week\r\n"
      "Date: Sun, 22 Nov 2026 14:00:00 +0000\r\n"
      "Message-ID: <20261122140000.4Xk2p3@example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "\r\n";
  const std::string line =
      "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod t\r\n";
  while (m.size() + line.size() <= size) m += line;
  m.append(size - m.size() - 2, 'x');
  m += "\r\n";
  return m;
}

}  // namespace inkan::bench
