// RFC 6376 §3.4 canonicalization: every rule, the §3.4.5 examples, and the streaming property
// (the body hash does not depend on how the body is split into chunks).
#include <gtest/gtest.h>

#include <random>

#include "auth/crypto/base64.h"
#include "auth/dkim/canonicalize.h"
#include "auth/mail/header.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

/* ---- RFC 6376 §3.4.5 examples ----------------------------------------------------------- */

constexpr std::string_view kExampleHeader1 = "A: X";
constexpr std::string_view kExampleHeader2 = "B : Y\t\r\n\tZ  ";
constexpr std::string_view kExampleBody = " C \r\nD \t E\r\n\r\n\r\n";

TEST(Rfc6376Example, RelaxedHeaders) {
  EXPECT_EQ(canonicalize_header(Canon::Relaxed, kExampleHeader1), "a:X\r\n");
  EXPECT_EQ(canonicalize_header(Canon::Relaxed, kExampleHeader2), "b:Y Z\r\n");
}

TEST(Rfc6376Example, SimpleHeaders) {
  EXPECT_EQ(canonicalize_header(Canon::Simple, kExampleHeader1), "A: X\r\n");
  EXPECT_EQ(canonicalize_header(Canon::Simple, kExampleHeader2), "B : Y\t\r\n\tZ  \r\n");
}

TEST(Rfc6376Example, RelaxedBody) {
  EXPECT_EQ(canonicalize_body(Canon::Relaxed, kExampleBody), " C\r\nD E\r\n");
}

TEST(Rfc6376Example, SimpleBody) {
  EXPECT_EQ(canonicalize_body(Canon::Simple, kExampleBody), " C \r\nD \t E\r\n");
}

/* ---- header rules (table) --------------------------------------------------------------- */

struct HeaderCase {
  std::string_view name;
  Canon canon;
  std::string_view raw;
  std::string_view want;
};

const HeaderCase kHeaderCases[] = {
    {"relaxed_lowercases_name", Canon::Relaxed, "SUBJect: Hi", "subject:Hi\r\n"},
    {"relaxed_keeps_value_case", Canon::Relaxed, "X: AbC", "x:AbC\r\n"},
    {"relaxed_unfolds", Canon::Relaxed, "X: a\r\n b", "x:a b\r\n"},
    {"relaxed_unfold_no_wsp_join", Canon::Relaxed, "X: a\r\n\tb", "x:a b\r\n"},
    {"relaxed_wsp_runs", Canon::Relaxed, "X: a \t  b", "x:a b\r\n"},
    {"relaxed_trailing_wsp", Canon::Relaxed, "X: a \t", "x:a\r\n"},
    {"relaxed_wsp_before_colon", Canon::Relaxed, "X \t: a", "x:a\r\n"},
    {"relaxed_no_space_after_colon", Canon::Relaxed, "X:a", "x:a\r\n"},
    {"relaxed_empty_value", Canon::Relaxed, "X:", "x:\r\n"},
    {"relaxed_wsp_only_value", Canon::Relaxed, "X: \r\n \t", "x:\r\n"},
    {"relaxed_colon_in_value", Canon::Relaxed, "X: a : b", "x:a : b\r\n"},
    {"relaxed_8bit_kept", Canon::Relaxed, "X: \xc3\xa9t\xc3\xa9", "x:\xc3\xa9t\xc3\xa9\r\n"},
    {"relaxed_nul_kept", Canon::Relaxed, std::string_view("X: a\0b", 6), std::string_view("x:a\0b\r\n", 7)},
    {"simple_unchanged", Canon::Simple, "SUBJect :  Hi \r\n there ", "SUBJect :  Hi \r\n there \r\n"},
};

class HeaderCanon : public ::testing::TestWithParam<HeaderCase> {};
TEST_P(HeaderCanon, Canonicalizes) {
  const auto& c = GetParam();
  EXPECT_EQ(canonicalize_header(c.canon, c.raw), c.want) << "input: " << c.raw;
  EXPECT_EQ(canonicalize_header_no_crlf(c.canon, c.raw) + "\r\n", c.want);
}
INSTANTIATE_TEST_SUITE_P(Rules, HeaderCanon, ::testing::ValuesIn(kHeaderCases),
                         [](const auto& info) { return std::string(info.param.name); });

/* ---- body rules (table) ----------------------------------------------------------------- */

struct BodyCase {
  std::string_view name;
  std::string_view body;
  std::string_view simple;
  std::string_view relaxed;
};

const BodyCase kBodyCases[] = {
    {"empty", "", "\r\n", ""},
    {"only_crlf", "\r\n", "\r\n", ""},
    {"many_empty_lines", "\r\n\r\n\r\n", "\r\n", ""},
    {"no_final_crlf", "abc", "abc\r\n", "abc\r\n"},
    {"trailing_empty_lines_removed", "a\r\n\r\n\r\n", "a\r\n", "a\r\n"},
    {"inner_empty_lines_kept", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},
    {"wsp_only_lines_at_end", "a\r\n  \r\n\t\r\n", "a\r\n  \r\n\t\r\n", "a\r\n"},
    {"wsp_only_line_inside", "a\r\n \t \r\nb", "a\r\n \t \r\nb\r\n", "a\r\n\r\nb\r\n"},
    {"leading_wsp_reduced", "  \tx", "  \tx\r\n", " x\r\n"},
    {"trailing_wsp_removed", "x \t\r\n", "x \t\r\n", "x\r\n"},
    {"trailing_wsp_no_crlf", "x  ", "x  \r\n", "x\r\n"},
    {"inner_wsp_runs", "a \t b\t\tc", "a \t b\t\tc\r\n", "a b c\r\n"},
    {"lone_cr_is_content", "a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
    {"lone_lf_is_content", "a\nb\r\n", "a\nb\r\n", "a\nb\r\n"},
    {"final_lone_cr", "a\r", "a\r\r\n", "a\r\r\n"},
    {"cr_cr_lf", "a\r\r\n", "a\r\r\n", "a\r\r\n"},
    {"wsp_then_final_cr", "a \r", "a \r\r\n", "a \r\r\n"},
    {"nul_bytes", std::string_view("a\0b\r\n", 5), std::string_view("a\0b\r\n", 5),
     std::string_view("a\0b\r\n", 5)},
    {"eight_bit", "caf\xc3\xa9 \r\n", "caf\xc3\xa9 \r\n", "caf\xc3\xa9\r\n"},
};

class BodyCanon : public ::testing::TestWithParam<BodyCase> {};
TEST_P(BodyCanon, Simple) {
  EXPECT_EQ(canonicalize_body(Canon::Simple, GetParam().body), GetParam().simple);
}
TEST_P(BodyCanon, Relaxed) {
  EXPECT_EQ(canonicalize_body(Canon::Relaxed, GetParam().body), GetParam().relaxed);
}
// Streaming property: every split into two chunks, and byte by byte, gives the same output.
TEST_P(BodyCanon, EverySplitGivesTheSameOutput) {
  const std::string_view body = GetParam().body;
  for (Canon c : {Canon::Simple, Canon::Relaxed}) {
    const std::string want = canonicalize_body(c, body);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      BodyCanonicalizer bc(c);
      std::string out;
      bc.feed(body.substr(0, cut), out);
      bc.feed(body.substr(cut), out);
      bc.finish(out);
      EXPECT_EQ(out, want) << to_string(c) << " cut at " << cut;
    }
    BodyCanonicalizer bc(c);
    std::string out;
    for (char ch : body) bc.feed(std::string_view(&ch, 1), out);
    bc.finish(out);
    EXPECT_EQ(out, want) << to_string(c) << " byte by byte";
  }
}
INSTANTIATE_TEST_SUITE_P(Rules, BodyCanon, ::testing::ValuesIn(kBodyCases),
                         [](const auto& info) { return std::string(info.param.name); });

/* ---- property test: random bodies, random chunkings ------------------------------------- */

TEST(BodyHashProperty, RandomChunkingsGiveIdenticalHashes) {
  std::mt19937 rng(20261122);
  const char alphabet[] = {'a', 'b', ' ', '\t', '\r', '\n', '\r', '\n', 'x', '\0'};
  for (int round = 0; round < 200; ++round) {
    std::string body;
    const std::size_t len = rng() % 300;
    for (std::size_t i = 0; i < len; ++i) body.push_back(alphabet[rng() % sizeof(alphabet)]);
    for (Canon c : {Canon::Simple, Canon::Relaxed}) {
      for (std::optional<std::uint64_t> limit : {std::optional<std::uint64_t>{},
                                                 std::optional<std::uint64_t>{len / 2}}) {
        BodyHasher whole(c, crypto::HashAlg::Sha256, limit);
        whole.update(body);
        const std::string want = whole.finish();
        for (int k = 0; k < 10; ++k) {
          BodyHasher h(c, crypto::HashAlg::Sha256, limit);
          std::size_t i = 0;
          while (i < body.size()) {
            const std::size_t n = 1 + rng() % 17;
            h.update(std::string_view(body).substr(i, n));
            i += n;
          }
          ASSERT_EQ(h.finish(), want) << "round " << round << " " << to_string(c);
        }
      }
    }
  }
}

TEST(BodyHasher, LimitCountsCanonicalBytes) {
  BodyHasher h(Canon::Simple, crypto::HashAlg::Sha256, 3);
  h.update("abcdef\r\n\r\n");
  const std::string d = h.finish();
  EXPECT_EQ(d, crypto::sha256("abc"));
  EXPECT_EQ(h.hashed_length(), 3u);
  EXPECT_EQ(h.canonical_length(), 8u);
}

TEST(BodyHasher, EmptyBodies) {
  // RFC 6376 §3.4.3 and §3.4.4 (errata 3192): the well-known empty-body hashes.
  BodyHasher s(Canon::Simple, crypto::HashAlg::Sha256);
  EXPECT_EQ(crypto::base64_encode(s.finish()), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
  BodyHasher r(Canon::Relaxed, crypto::HashAlg::Sha256);
  EXPECT_EQ(crypto::base64_encode(r.finish()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  BodyHasher s1(Canon::Simple, crypto::HashAlg::Sha1);
  EXPECT_EQ(crypto::base64_encode(s1.finish()), "uoq1oCgLlTqpdDX/iUbLy7J1Wic=");
}

// Hostile input: a huge run of empty lines is held as a counter, never as bytes, and a final
// character releases them in bounded blocks.
TEST(BodyCanonicalizer, EmptyLineFloodStaysBounded) {
  for (Canon c : {Canon::Simple, Canon::Relaxed}) {
    BodyCanonicalizer bc(c);
    std::string chunk;
    for (int i = 0; i < 10000; ++i) chunk += "\r\n";
    std::size_t largest = 0;
    std::uint64_t total = 0;
    auto sink = [&](std::string_view s) {
      largest = std::max(largest, s.size());
      total += s.size();
    };
    for (int i = 0; i < 100; ++i) bc.feed(chunk, sink);  // 1 000 000 empty lines
    EXPECT_EQ(total, 0u);
    bc.feed("x", sink);
    bc.finish(sink);
    EXPECT_EQ(total, 2u * 1000000u + 3u);
    EXPECT_LE(largest, 17u * 1024u);
  }
}

TEST(BodyCanonicalizer, LongLinesAreNotBuffered) {
  BodyCanonicalizer bc(Canon::Relaxed);
  std::string chunk(100000, 'a');
  std::uint64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    bc.feed(chunk, [&](std::string_view s) { total += s.size(); });
    EXPECT_EQ(total, 100000u * static_cast<unsigned>(i + 1));  // emitted as it arrives
  }
}

}  // namespace
}  // namespace auth::dkim

/* ---- private helpers (dkim_internal.h) used by verify_message and the signer ------------- */

namespace auth::dkim {
namespace {

TEST(Internal, SplitHeaderFields) {
  const auto f = internal::split_header_fields("A: 1\r\nB: 2\r\n 3\r\nC: 4");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "A: 1\r\n");
  EXPECT_EQ(f[1], "B: 2\r\n 3\r\n");
  EXPECT_EQ(f[2], "C: 4");
  EXPECT_TRUE(internal::split_header_fields("").empty());
  EXPECT_EQ(internal::split_header_fields(" leading\nA: 1\n").size(), 2u);
}

TEST(Internal, SelectHeadersBottomUp) {
  std::vector<mail::Field> fields;
  for (const char* raw : {"Received: 1", "From: a", "Received: 2", "To: b"}) {
    fields.push_back(*mail::Field::parse(raw));
  }
  const auto sel = internal::select_headers(fields, {"received", "RECEIVED", "received", "from", "x"});
  ASSERT_EQ(sel.size(), 3u);
  EXPECT_EQ(sel[0]->raw, "Received: 2");  // bottom-most first (RFC 6376 §5.4.2)
  EXPECT_EQ(sel[1]->raw, "Received: 1");
  EXPECT_EQ(sel[2]->raw, "From: a");
}

TEST(Internal, ParseDecimal) {
  EXPECT_EQ(*internal::parse_decimal("0012", 12, "t"), 12);
  EXPECT_FALSE(internal::parse_decimal("", 12, "t"));
  EXPECT_FALSE(internal::parse_decimal("1234567890123", 12, "t"));
  EXPECT_FALSE(internal::parse_decimal("+1", 12, "t"));
}

}  // namespace
}  // namespace auth::dkim
