// Shared helpers for the dkim unit tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "auth/crypto/key.h"

namespace dkim_test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string conformance(const std::string& rel) {
  return read_file(std::string(INKAN_CONFORMANCE_DIR) + "/dkim/" + rel);
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// One RSA-2048 key generated per test binary (keygen is slow; the tests only need a key).
inline const auth::crypto::PrivateKey& generated_rsa_key() {
  static const auth::crypto::PrivateKey k = [] {
    auto r = auth::crypto::PrivateKey::generate_rsa(2048);
    if (!r) std::abort();
    return *r;
  }();
  return k;
}

/// An Ed25519 key from a 32-byte seed of `c` (deterministic signatures per test file).
inline auth::crypto::PrivateKey ed25519_key(char c) {
  return *auth::crypto::PrivateKey::from_ed25519_seed(std::string(32, c));
}

}  // namespace dkim_test
