// The run-scanning BodyCanonicalizer against the byte-at-a-time definition it replaced
// (RFC 6376 §3.4.3/§3.4.4): same output for random bodies over the bytes that matter (CR, LF,
// SP, HTAB, NUL, 8-bit), for every split into two chunks and for random multi-chunk splits,
// and no sink block larger than the documented bound. Also the run-copying relaxed header
// canonicalization and the direct-scan header selection against their plain definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/dkim/canonicalize.h"
#include "auth/mail/ascii.h"
#include "auth/mail/header.h"
#include "dkim/dkim_internal.h"

namespace auth::dkim {
namespace {

// The previous implementation, byte at a time, kept verbatim in behaviour as the reference.
class ReferenceCanonicalizer {
 public:
  explicit ReferenceCanonicalizer(Canon c) : relaxed_(c == Canon::Relaxed) {}

  void feed(std::string_view chunk, std::string& out) {
    for (char ch : chunk) {
      if (pending_cr_) {
        pending_cr_ = false;
        if (ch == '\n') {
          end_line(out);
          continue;
        }
        content('\r', out);
      }
      if (ch == '\r') {
        pending_cr_ = true;
      } else if (relaxed_ && (ch == ' ' || ch == '\t')) {
        pending_wsp_ = true;
      } else {
        content(ch, out);
      }
    }
  }

  void finish(std::string& out) {
    if (pending_cr_) {
      pending_cr_ = false;
      emit_pending(out);
      if (pending_wsp_) out.push_back(' ');
      out.push_back('\r');
      line_has_content_ = true;
      emitted_any_ = true;
    }
    pending_wsp_ = false;
    empty_lines_ = 0;
    if (line_has_content_) {
      out.append("\r\n");
    } else if (!relaxed_ && !emitted_any_) {
      out.append("\r\n");
    }
  }

 private:
  void emit_pending(std::string& out) {
    for (; empty_lines_ > 0; --empty_lines_) out.append("\r\n");
  }
  void content(char ch, std::string& out) {
    emit_pending(out);
    if (pending_wsp_) out.push_back(' ');
    pending_wsp_ = false;
    out.push_back(ch);
    line_has_content_ = true;
    emitted_any_ = true;
  }
  void end_line(std::string& out) {
    pending_wsp_ = false;
    if (line_has_content_) {
      out.append("\r\n");
      line_has_content_ = false;
    } else {
      ++empty_lines_;
    }
  }
  bool relaxed_;
  bool pending_cr_ = false;
  bool pending_wsp_ = false;
  bool line_has_content_ = false;
  bool emitted_any_ = false;
  std::uint64_t empty_lines_ = 0;
};

std::string reference(Canon c, const std::vector<std::string_view>& chunks) {
  ReferenceCanonicalizer r(c);
  std::string out;
  for (auto ch : chunks) r.feed(ch, out);
  r.finish(out);
  return out;
}

std::string fast(Canon c, const std::vector<std::string_view>& chunks,
                 std::size_t* largest = nullptr) {
  BodyCanonicalizer bc(c);
  std::string out;
  auto sink = [&](std::string_view s) {
    if (largest != nullptr) *largest = std::max(*largest, s.size());
    out.append(s);
  };
  for (auto ch : chunks) bc.feed(ch, sink);
  bc.finish(sink);
  return out;
}

std::string random_body(std::mt19937& rng, std::size_t max_len) {
  // Weighted towards the bytes the canonicalizer treats specially.
  static constexpr char kAlphabet[] = {'a', 'b', ' ', ' ', '\t', '\r', '\n', '\r', '\n',
                                       'x', '\0', '\xff', ':', '.'};
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 1);
  std::string s(len(rng), '\0');
  for (char& ch : s) ch = kAlphabet[pick(rng)];
  return s;
}

TEST(FastBodyCanon, MatchesReferenceOnEveryTwoWaySplit) {
  std::mt19937 rng(6376);
  for (int round = 0; round < 400; ++round) {
    const std::string body = random_body(rng, 48);
    for (Canon c : {Canon::Simple, Canon::Relaxed}) {
      const std::string want = reference(c, {body});
      ASSERT_EQ(fast(c, {body}), want) << "canon " << static_cast<int>(c);
      for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        const std::string_view v(body);
        ASSERT_EQ(fast(c, {v.substr(0, cut), v.substr(cut)}), want) << "cut " << cut;
      }
    }
  }
}

TEST(FastBodyCanon, MatchesReferenceOnRandomChunkings) {
  std::mt19937 rng(8463);
  for (int round = 0; round < 300; ++round) {
    const std::string body = random_body(rng, 3000);
    for (Canon c : {Canon::Simple, Canon::Relaxed}) {
      const std::string want = reference(c, {body});
      std::vector<std::string_view> chunks;
      std::size_t pos = 0;
      std::uniform_int_distribution<std::size_t> step(0, 9);
      while (pos < body.size()) {
        const std::size_t n = std::min(step(rng), body.size() - pos);
        chunks.push_back(std::string_view(body).substr(pos, n));  // empty chunks too
        pos += n;
      }
      ASSERT_EQ(fast(c, chunks), want);
      // Byte by byte and reference chunked the same way agree as well.
      ASSERT_EQ(reference(c, chunks), want);
    }
  }
}

// Mostly ordinary text with rare CR, LF, SP, HTAB: long runs, so the vectorised scan
// (16 bytes at a time) meets specials at every offset within its window.
TEST(FastBodyCanon, MatchesReferenceOnSparseSpecials) {
  std::mt19937 rng(1234);
  static constexpr char kSpecials[] = {' ', ' ', '\t', '\r', '\n', '\0'};
  std::uniform_int_distribution<int> one_in(0, 24);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kSpecials - 1);
  std::uniform_int_distribution<std::size_t> len(0, 400);
  for (int round = 0; round < 300; ++round) {
    std::string body(len(rng), 'w');
    for (char& ch : body) {
      if (one_in(rng) == 0) ch = kSpecials[pick(rng)];
    }
    for (Canon c : {Canon::Simple, Canon::Relaxed}) {
      const std::string want = reference(c, {body});
      for (std::size_t cut = 0; cut <= body.size(); cut += 1 + cut / 8) {
        const std::string_view v(body);
        ASSERT_EQ(fast(c, {v.substr(0, cut), v.substr(cut)}), want) << "cut " << cut;
      }
    }
  }
}

// Header fields (relaxed, §3.4.2) against the byte-at-a-time definition.
std::string reference_relaxed_header(std::string_view raw) {
  const auto colon = raw.find(':');
  std::string_view name = raw.substr(0, colon == std::string_view::npos ? raw.size() : colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : raw.substr(colon + 1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  std::string out;
  for (char ch : name) out.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
  out.push_back(':');
  bool pending_space = false;
  bool any = false;
  for (char ch : value) {
    if (ch == '\r' || ch == '\n') continue;
    if (ch == ' ' || ch == '\t') {
      pending_space = true;
      continue;
    }
    if (pending_space && any) out.push_back(' ');
    pending_space = false;
    out.push_back(ch);
    any = true;
  }
  return out;
}

TEST(FastHeaderCanon, MatchesReferenceOnRandomFields) {
  static constexpr char kAlphabet[] = {'A', 'z', ' ', ' ', '\t', '\r', '\n', ':', '\0', '\xe9'};
  std::mt19937 rng(6376);
  std::uniform_int_distribution<std::size_t> len(0, 40);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 1);
  for (int round = 0; round < 20000; ++round) {
    std::string raw(len(rng), '\0');
    for (char& ch : raw) ch = kAlphabet[pick(rng)];
    ASSERT_EQ(canonicalize_header_no_crlf(Canon::Relaxed, raw), reference_relaxed_header(raw));
    ASSERT_EQ(canonicalize_header(Canon::Relaxed, raw), reference_relaxed_header(raw) + "\r\n");
    ASSERT_EQ(canonicalize_header(Canon::Simple, raw), raw + "\r\n");
  }
}

TEST(FastBodyCanon, LongRunsAndEmptyLinesStayInBoundedBlocks) {
  // Long content runs (passed straight through) mixed with held-back empty-line floods.
  std::string body(100000, 'a');
  body += "  \t \r\n";
  for (int i = 0; i < 20000; ++i) body += "\r\n";
  body += std::string(40000, 'b') + " c\r\n\r\n";
  for (Canon c : {Canon::Simple, Canon::Relaxed}) {
    std::size_t largest = 0;
    EXPECT_EQ(fast(c, {body}, &largest), reference(c, {body}));
    EXPECT_LE(largest, 16u * 1024u + 4u);
  }
}

TEST(FastBodyCanon, TypicalMessageBodies) {
  const std::string line = "Lorem ipsum dolor sit amet,  consectetur\tadipiscing elit \r\n";
  std::string body;
  for (int i = 0; i < 200; ++i) body += line;
  body += "\r\n\r\n";
  for (Canon c : {Canon::Simple, Canon::Relaxed}) {
    EXPECT_EQ(fast(c, {body}), reference(c, {body}));
    EXPECT_EQ(canonicalize_body(c, body), reference(c, {body}));
  }
}


// internal::select_headers scans small sections directly and indexes large ones; both must
// pick what the index-only definition picks (§5.4.2: bottom-up, each instance once).
std::vector<const mail::Field*> reference_select(const std::vector<mail::Field>& fields,
                                                 const std::vector<std::string>& names) {
  std::unordered_map<std::string, std::vector<const mail::Field*>> by_name;
  for (const auto& f : fields) by_name[mail::to_lower_ascii(f.name)].push_back(&f);
  std::vector<const mail::Field*> out;
  for (const auto& n : names) {
    auto it = by_name.find(mail::to_lower_ascii(n));
    if (it == by_name.end() || it->second.empty()) continue;
    out.push_back(it->second.back());
    it->second.pop_back();
  }
  return out;
}

TEST(FastSelectHeaders, MatchesIndexedSelection) {
  static constexpr const char* kNames[] = {"From", "from", "FROM", "To", "Subject", "X-A", "x-a",
                                           "Date", "Cc", "Received"};
  std::mt19937 rng(54);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kNames) - 1);
  for (int round = 0; round < 2000; ++round) {
    // Mostly small (direct scan); every tenth round large enough for the index.
    const bool large = round % 10 == 0;
    std::uniform_int_distribution<std::size_t> nf(0, large ? 120 : 15);
    std::uniform_int_distribution<std::size_t> nn(0, large ? 60 : 20);
    std::vector<mail::Field> fields;
    const std::size_t n_fields = nf(rng);
    for (std::size_t i = 0; i < n_fields; ++i) {
      auto f = mail::Field::parse(std::string(kNames[pick(rng)]) + ": v" + std::to_string(i));
      ASSERT_TRUE(f);
      fields.push_back(std::move(*f));
    }
    std::vector<std::string> names;
    const std::size_t n_names = nn(rng);
    for (std::size_t i = 0; i < n_names; ++i) names.emplace_back(kNames[pick(rng)]);
    ASSERT_EQ(internal::select_headers(fields, names), reference_select(fields, names));
  }
}

}  // namespace
}  // namespace auth::dkim
