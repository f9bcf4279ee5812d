// Helpers shared by the crypto unit tests: conformance files, DKIM p= extraction, hex.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "auth/crypto/base64.h"

namespace auth::crypto::test {

inline std::string conformance_path(std::string_view rel) {
  return std::string(INKAN_CONFORMANCE_DIR) + "/dkim/" + std::string(rel);
}

inline std::string read_conformance(std::string_view rel) {
  const std::string path = conformance_path(rel);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

/// The value of tag `name` in a DKIM tag-list (good enough for the well-formed test records).
inline std::string tag_value(std::string_view record, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= record.size()) {
    auto end = record.find(';', pos);
    if (end == std::string_view::npos) end = record.size();
    const std::string spec = trim(record.substr(pos, end - pos));
    const auto eq = spec.find('=');
    if (eq != std::string::npos && trim(spec.substr(0, eq)) == name) return trim(spec.substr(eq + 1));
    pos = end + 1;
  }
  ADD_FAILURE() << "no " << name << "= in " << record;
  return {};
}

/// The TXT value for `owner` in rfc8463/zone.txt ("<owner> <value>" lines, ';' comments).
inline std::string zone_record(std::string_view owner) {
  const std::string zone = read_conformance("rfc8463/zone.txt");
  std::size_t pos = 0;
  while (pos < zone.size()) {
    auto nl = zone.find('\n', pos);
    if (nl == std::string::npos) nl = zone.size();
    const std::string_view line(zone.data() + pos, nl - pos);
    if (line.starts_with(owner) && line.size() > owner.size() && line[owner.size()] == ' ') {
      return trim(line.substr(owner.size() + 1));
    }
    pos = nl + 1;
  }
  ADD_FAILURE() << "no record for " << owner;
  return {};
}

/// Decodes base64 that the test data guarantees to be valid.
inline std::string b64(std::string_view text) {
  auto r = base64_decode(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().reason);
  return r ? *r : std::string();
}

inline std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

/// The base64 body of the first PEM block (for the DER tests).
inline std::string pem_body(std::string_view pem) {
  const auto b = pem.find("-----\n");
  const auto e = pem.find("-----END");
  return b64(pem.substr(b + 6, e - b - 6));
}

}  // namespace auth::crypto::test
