// base64_decode's whole-quantum fast path against the character-at-a-time decoder it sits
// in front of (kept here verbatim as the reference): same bytes, same error code and the same
// error text (offsets included) on random strings of alphabet, '=', FWS and invalid bytes.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "auth/crypto/base64.h"

namespace auth::crypto {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t kInvalid = 0xFF;
constexpr std::uint8_t kSpace = 0xFE;
constexpr std::uint8_t kPad = 0xFD;

constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  // RFC 6376 §3.5 / §3.6.1: FWS may appear in base64 tag values; RFC 5322 FWS is WSP and CRLF.
  t[static_cast<unsigned char>(' ')] = kSpace;
  t[static_cast<unsigned char>('\t')] = kSpace;
  t[static_cast<unsigned char>('\r')] = kSpace;
  t[static_cast<unsigned char>('\n')] = kSpace;
  t[static_cast<unsigned char>('=')] = kPad;
  return t;
}
constexpr std::array<std::uint8_t, 256> kTable = make_table();

std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7F) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

Result<std::string> reference_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);

  std::uint32_t acc = 0;       // bits of the current quantum
  std::size_t in_quantum = 0;  // alphabet characters in the current quantum (0..3)
  std::size_t pads = 0;        // '=' seen so far
  std::size_t first_pad_at = 0;
  std::size_t chars_before_pad = 0;  // in_quantum when the first '=' came

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const std::uint8_t v = kTable[static_cast<unsigned char>(c)];
    if (v == kSpace) continue;
    if (v == kInvalid) {
      return fail(ErrorCode::Syntax,
                  "base64: invalid character " + describe(c) + " at offset " + std::to_string(i));
    }
    if (v == kPad) {
      if (pads == 0) {
        // RFC 4648 §4: '=' only completes a quantum of 2 or 3 characters.
        if (in_quantum < 2) {
          return fail(ErrorCode::Syntax,
                      "base64: bad padding: '=' at offset " + std::to_string(i) +
                          " after " + std::to_string(in_quantum) + " character(s) of a quantum");
        }
        first_pad_at = i;
        chars_before_pad = in_quantum;
      }
      ++pads;
      if (chars_before_pad + pads > 4) {
        return fail(ErrorCode::Syntax,
                    "base64: bad padding: too many '=' at offset " + std::to_string(i));
      }
      continue;
    }
    // An alphabet character.
    if (pads != 0) {
      return fail(ErrorCode::Syntax, "base64: data after padding at offset " +
                                         std::to_string(i) + " (padding began at offset " +
                                         std::to_string(first_pad_at) + ")");
    }
    acc = (acc << 6) | v;
    if (++in_quantum == 4) {
      out += static_cast<char>((acc >> 16) & 0xFF);
      out += static_cast<char>((acc >> 8) & 0xFF);
      out += static_cast<char>(acc & 0xFF);
      acc = 0;
      in_quantum = 0;
    }
  }

  // The final, partial quantum.
  if (in_quantum == 0) return out;
  if (in_quantum == 1) {
    return fail(ErrorCode::Syntax, "base64: impossible length: a final quantum of 1 character");
  }
  if (chars_before_pad + pads != 4) {
    return fail(ErrorCode::Syntax, "base64: bad padding: final quantum of " +
                                       std::to_string(in_quantum) + " character(s) needs " +
                                       std::to_string(4 - in_quantum) + " '='");
  }
  if (in_quantum == 2) {
    // 12 bits, 8 used: RFC 4648 §3.5 pad bits must be zero.
    if ((acc & 0x0F) != 0) {
      return fail(ErrorCode::Syntax, "base64: non-zero pad bits in the final quantum");
    }
    out += static_cast<char>((acc >> 4) & 0xFF);
  } else {  // 3 characters: 18 bits, 16 used
    if ((acc & 0x03) != 0) {
      return fail(ErrorCode::Syntax, "base64: non-zero pad bits in the final quantum");
    }
    out += static_cast<char>((acc >> 10) & 0xFF);
    out += static_cast<char>((acc >> 2) & 0xFF);
  }
  return out;
}

void expect_same(const std::string& text) {
  const auto want = reference_decode(text);
  const auto got = base64_decode(text);
  ASSERT_EQ(static_cast<bool>(got), static_cast<bool>(want)) << text;
  if (want) {
    EXPECT_EQ(*got, *want) << text;
  } else {
    EXPECT_EQ(got.error().code, want.error().code) << text;
    EXPECT_EQ(got.error().reason, want.error().reason) << text;
  }
}

TEST(FastBase64, MatchesReferenceOnRandomText) {
  static constexpr char kChars[] = {'A', 'z', '0', '+', '/', 'Q', 'w', '9', 'A', 'g',
                                    '=', ' ', '\t', '\r', '\n', '*', '\0', '\xc3'};
  std::mt19937 rng(4648);
  std::uniform_int_distribution<std::size_t> len(0, 40);
  std::uniform_int_distribution<std::size_t> alpha(0, 9);
  std::uniform_int_distribution<std::size_t> any(0, sizeof kChars - 1);
  std::uniform_int_distribution<int> one_in(0, 15);
  for (int round = 0; round < 50000; ++round) {
    std::string s(len(rng), 'A');
    for (char& ch : s) ch = kChars[one_in(rng) == 0 ? any(rng) : alpha(rng)];
    expect_same(s);
  }
}

TEST(FastBase64, MatchesReferenceOnEncodedData) {
  std::mt19937 rng(8017);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t n = 0; n < 300; ++n) {
    std::string raw(n, '\0');
    for (char& ch : raw) ch = static_cast<char>(byte(rng));
    const std::string b64 = base64_encode(raw);
    expect_same(b64);
    expect_same(" " + b64 + "\r\n\t");
    if (b64.size() > 5) expect_same(b64.substr(0, 5) + " " + b64.substr(5));
    auto got = base64_decode(b64);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, raw);
  }
}

}  // namespace
}  // namespace auth::crypto
