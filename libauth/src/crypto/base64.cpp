// RFC 4648 §4 base64 with the DKIM whitespace rule (RFC 6376 §3.5: FWS allowed in b=/bh=/p=).
#include "auth/crypto/base64.h"

#include <array>
#include <cstdint>

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

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; bytes.size() - i >= 3; i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 0x3F];
    out += kAlphabet[(v >> 12) & 0x3F];
    out += kAlphabet[(v >> 6) & 0x3F];
    out += kAlphabet[v & 0x3F];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    out += kAlphabet[(v >> 18) & 0x3F];
    out += kAlphabet[(v >> 12) & 0x3F];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8);
    out += kAlphabet[(v >> 18) & 0x3F];
    out += kAlphabet[(v >> 12) & 0x3F];
    out += kAlphabet[(v >> 6) & 0x3F];
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);

  std::uint32_t acc = 0;       // bits of the current quantum
  std::size_t in_quantum = 0;  // alphabet characters in the current quantum (0..3)
  std::size_t pads = 0;        // '=' seen so far
  std::size_t first_pad_at = 0;
  std::size_t chars_before_pad = 0;  // in_quantum when the first '=' came

  for (std::size_t i = 0; i < text.size(); ++i) {
    if (in_quantum == 0 && pads == 0) {
      // Fast path: whole quanta of four alphabet characters (every special value is >= 64).
      while (text.size() - i >= 4) {
        const std::uint32_t a = kTable[static_cast<unsigned char>(text[i])];
        const std::uint32_t b = kTable[static_cast<unsigned char>(text[i + 1])];
        const std::uint32_t c = kTable[static_cast<unsigned char>(text[i + 2])];
        const std::uint32_t d = kTable[static_cast<unsigned char>(text[i + 3])];
        if ((a | b | c | d) >= 64) break;
        const std::uint32_t q = (a << 18) | (b << 12) | (c << 6) | d;
        const char bytes[3] = {static_cast<char>((q >> 16) & 0xFF),
                               static_cast<char>((q >> 8) & 0xFF), static_cast<char>(q & 0xFF)};
        out.append(bytes, 3);
        i += 4;
      }
      if (i == text.size()) break;
    }
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

}  // namespace auth::crypto
