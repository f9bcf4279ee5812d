#include "auth/crypto/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "unit/crypto/test_util.h"

namespace auth::crypto {
namespace {

struct Vector {
  std::string_view name, plain, encoded;
};
void PrintTo(const Vector& c, std::ostream* os) { *os << c.name; }

// RFC 4648 §10 test vectors.
const Vector kRfc4648[] = {
    {"empty", "", ""},           {"f", "f", "Zg=="},         {"fo", "fo", "Zm8="},
    {"foo", "foo", "Zm9v"},      {"foob", "foob", "Zm9vYg=="}, {"fooba", "fooba", "Zm9vYmE="},
    {"foobar", "foobar", "Zm9vYmFy"},
};

class Rfc4648 : public testing::TestWithParam<Vector> {};

TEST_P(Rfc4648, Encode) {
  EXPECT_EQ(base64_encode(GetParam().plain), GetParam().encoded);
}

TEST_P(Rfc4648, Decode) {
  auto r = base64_decode(GetParam().encoded);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, GetParam().plain);
}

INSTANTIATE_TEST_SUITE_P(CryptoBase64, Rfc4648, testing::ValuesIn(kRfc4648),
                         [](const auto& info) { return std::string(info.param.name); });

// FWS anywhere is skipped (RFC 6376 §3.5, b=/bh=/p= values).
struct Spaced {
  std::string_view name, input, want;
};
void PrintTo(const Spaced& c, std::ostream* os) { *os << c.name; }
const Spaced kSpaced[] = {
    {"only_space", " \t\r\n ", ""},
    {"leading_trailing", "  Zm9vYmFy\r\n", "foobar"},
    {"folded_crlf_tab", "Zm9v\r\n\tYmFy", "foobar"},
    {"every_char", "Z m 9 v Y g = =", "foob"},
    {"inside_padding", "Zm9vYg=\r\n =", "foob"},
    {"after_padding", "Zm8= \t", "fo"},
    {"dkim_bh", "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=",
     "\xda\x35\x12\x38\x7f\x4d\x86\xd5\x46\x09\x05\x8d\xaf\xd0\x6b\x20\x03\xeb\x78\xa4\x23\x3b"
     "\xa4\xa7\xed\x72\x24\x7c\x95\x4e\xce\xff"},
};

class Whitespace : public testing::TestWithParam<Spaced> {};
TEST_P(Whitespace, Skipped) {
  auto r = base64_decode(GetParam().input);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, GetParam().want) << "got " << test::hex(*r) << " want " << test::hex(GetParam().want);
}
INSTANTIATE_TEST_SUITE_P(CryptoBase64, Whitespace, testing::ValuesIn(kSpaced),
                         [](const auto& info) { return std::string(info.param.name); });

// Garbage is rejected with a reason that says what is wrong.
struct Bad {
  std::string_view name;
  std::string input;
  std::string_view reason_contains;
};
void PrintTo(const Bad& c, std::ostream* os) { *os << c.name; }
const Bad kBad[] = {
    {"one_char", "Z", "impossible length"},
    {"five_chars", "Zm9vY", "impossible length"},
    {"missing_padding_2", "Zg", "needs 2 '='"},
    {"missing_padding_1", "Zm8", "needs 1 '='"},
    {"short_padding", "Zg=", "needs 2 '='"},
    {"too_much_padding", "Zm8==", "too many '='"},
    {"triple_padding", "Zg===", "too many '='"},
    {"only_padding", "=", "bad padding"},
    {"padding_first", "==Zg", "bad padding"},
    {"padding_after_full_quantum", "Zm9v=", "bad padding"},
    {"padding_after_one", "Zm9vY===", "bad padding"},
    {"data_after_padding", "Zg==Zg==", "data after padding"},
    {"data_after_padding_ws", "Zm8= Zm8=", "data after padding"},
    {"nonzero_pad_bits_2", "Zh==", "pad bits"},
    {"nonzero_pad_bits_3", "Zm9=", "pad bits"},
    {"url_safe_minus", "Zm-v", "invalid character '-'"},
    {"url_safe_underscore", "Zm_v", "invalid character '_'"},
    {"dot", "Zm9v.", "invalid character '.'"},
    {"nul_byte", std::string("Zm9v\0YmFy", 9), "byte 0x00 at offset 4"},
    {"non_ascii", "Zm9v\xc3\xa9", "byte 0xc3"},
    {"vertical_tab", "Zm9v\vYmFy", "byte 0x0b"},
    {"form_feed", "Zm9v\fYmFy", "byte 0x0c"},
    {"semicolon", "Zm9v;", "invalid character ';'"},
};

class Hostile : public testing::TestWithParam<Bad> {};
TEST_P(Hostile, Rejected) {
  auto r = base64_decode(GetParam().input);
  ASSERT_FALSE(r) << "decoded to " << test::hex(*r);
  EXPECT_EQ(r.error().code, ErrorCode::Syntax);
  EXPECT_NE(r.error().reason.find(GetParam().reason_contains), std::string::npos)
      << "got reason '" << r.error().reason << "' want it to contain '"
      << GetParam().reason_contains << "'";
}
INSTANTIATE_TEST_SUITE_P(CryptoBase64, Hostile, testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CryptoBase64, RoundTripEveryLengthAndByte) {
  std::mt19937 rng(6376);
  for (std::size_t len = 0; len < 300; ++len) {
    std::string data(len, '\0');
    for (auto& c : data) c = static_cast<char>(rng() & 0xFF);
    const std::string enc = base64_encode(data);
    EXPECT_EQ(enc.size(), (len + 2) / 3 * 4);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << "len " << len << ": " << dec.error().reason;
    EXPECT_EQ(*dec, data) << "len " << len;
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(*base64_decode(base64_encode(all)), all);
}

TEST(CryptoBase64, RejectsEveryCharacterOutsideTheAlphabet) {
  const std::string_view ok =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n";
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    std::string input = "Zm9v";
    input += ch;
    input += "Zm9v";
    if (ok.find(ch) != std::string_view::npos) continue;
    auto r = base64_decode(input);
    EXPECT_FALSE(r) << "byte " << c << " was accepted";
  }
}

TEST(CryptoBase64, TenThousandRepetitionsStayBounded) {
  std::string many;
  std::string want;
  for (int i = 0; i < 10000; ++i) {
    many += "Zm9v\r\n ";
    want += "foo";
  }
  auto r = base64_decode(many);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, want);

  EXPECT_EQ(*base64_decode(std::string(10000, ' ')), "");
  EXPECT_FALSE(base64_decode(std::string(10000, '=')));
  EXPECT_FALSE(base64_decode(std::string(10001, 'A')));  // 10001 % 4 == 1
  EXPECT_FALSE(base64_decode(std::string(10000, '\0')));
  std::string pads;
  for (int i = 0; i < 10000; ++i) pads += "Zg==";
  auto p = base64_decode(pads);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().reason.find("data after padding at offset 4"), std::string::npos);
}

}  // namespace
}  // namespace auth::crypto
