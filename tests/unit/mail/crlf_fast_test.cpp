// to_crlf (run copying) and has_bare_lf against the byte-at-a-time definitions, on random
// inputs over CR, LF and ordinary bytes: to_crlf(x) == x exactly when !has_bare_lf(x).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "auth/mail/header.h"

namespace auth::mail {
namespace {

std::string reference_to_crlf(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(text[i]);
  }
  return out;
}

bool reference_has_bare_lf(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
  }
  return false;
}

TEST(FastCrlf, MatchesReferenceOnRandomInputs) {
  static constexpr char kAlphabet[] = {'a', '\r', '\n', '\n', ' ', '\0', '\xff'};
  std::mt19937 rng(5322);
  std::uniform_int_distribution<std::size_t> len(0, 64);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 1);
  for (int round = 0; round < 20000; ++round) {
    std::string s(len(rng), '\0');
    for (char& ch : s) ch = kAlphabet[pick(rng)];
    ASSERT_EQ(to_crlf(s), reference_to_crlf(s));
    ASSERT_EQ(has_bare_lf(s), reference_has_bare_lf(s));
    ASSERT_EQ(has_bare_lf(s), to_crlf(s) != s);
  }
}

TEST(FastCrlf, EdgeCases) {
  EXPECT_EQ(to_crlf(""), "");
  EXPECT_FALSE(has_bare_lf(""));
  EXPECT_EQ(to_crlf("\n"), "\r\n");
  EXPECT_TRUE(has_bare_lf("\n"));
  EXPECT_EQ(to_crlf("\r\n\n\r"), "\r\n\r\n\r");
  EXPECT_FALSE(has_bare_lf("a\r\nb\r\n\r"));
  EXPECT_TRUE(has_bare_lf("a\r\nb\r\r\n\n"));
  const std::string big(100000, 'x');
  EXPECT_EQ(to_crlf(big + "\n"), big + "\r\n");
}

}  // namespace
}  // namespace auth::mail
