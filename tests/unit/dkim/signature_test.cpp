// RFC 6376 §3.5 DKIM-Signature validation: every tag rule.
#include <gtest/gtest.h>

#include "auth/dkim/signature.h"

namespace auth::dkim {
namespace {

constexpr std::string_view kBh = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";

std::string sig_with(std::string_view extra_or_replace = "") {
  // A valid base signature; `extra_or_replace` is appended (tests that replace a tag build the
  // text themselves).
  std::string s = "v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; bh=" + std::string(kBh) +
                  "; b=dGVzdA==";
  if (!extra_or_replace.empty()) s += "; " + std::string(extra_or_replace);
  return s;
}

TEST(Signature, MinimalDefaults) {
  auto r = parse_signature(sig_with());
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->algorithm, crypto::SignAlg::RsaSha256);
  EXPECT_EQ(r->algorithm_text, "rsa-sha256");
  EXPECT_EQ(r->canon, (Canonicalization{Canon::Simple, Canon::Simple}));  // c= default
  EXPECT_EQ(r->domain, "example.com");
  EXPECT_EQ(r->selector, "sel");
  EXPECT_EQ(r->identity, "@example.com");  // i= default
  EXPECT_FALSE(r->identity_given);
  EXPECT_EQ(r->signed_headers, (std::vector<std::string>{"From", "To"}));
  EXPECT_EQ(r->signature, "test");
  EXPECT_EQ(r->b_text, "dGVzdA==");
  EXPECT_EQ(r->b_prefix(), "dGVzdA==");
  EXPECT_EQ(r->body_hash.size(), 32u);
  EXPECT_FALSE(r->body_length);
  EXPECT_FALSE(r->timestamp);
  EXPECT_FALSE(r->expiration);
}

TEST(Signature, AllOptionalTags) {
  auto r = parse_signature(sig_with(
      "c=relaxed/relaxed; i=joe=40x@sub.example.com; l=1234; q=dns/txt; t=1000; x=2000; "
      "z=From:foo@example.com|To:bar; unknown=ignored"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->canon, (Canonicalization{Canon::Relaxed, Canon::Relaxed}));
  EXPECT_EQ(r->identity, "joe@x@sub.example.com");
  EXPECT_EQ(r->identity_domain(), "sub.example.com");
  EXPECT_TRUE(r->identity_given);
  EXPECT_EQ(r->body_length, 1234u);
  EXPECT_EQ(r->timestamp, 1000);
  EXPECT_EQ(r->expiration, 2000);
  EXPECT_EQ(r->copied_headers, "From:foo@example.com|To:bar");
}

TEST(Signature, FoldedValues) {
  auto r = parse_signature(
      " v=1;\r\n a=ed25519-sha256; c=relaxed;\r\n d=Example.COM; s=brisbane; h=from :\r\n to;\r\n"
      " bh=2jUSOH9NhtVGCQWNr9BrIAPre\r\n KQjO6Sn7XIkfJVOzv8=; b=dGVz\r\n\tdA==");
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->algorithm, crypto::SignAlg::Ed25519Sha256);
  EXPECT_EQ(r->canon, (Canonicalization{Canon::Relaxed, Canon::Simple}));  // "relaxed" alone
  EXPECT_EQ(r->signed_headers, (std::vector<std::string>{"from", "to"}));
  EXPECT_EQ(r->b_text, "dGVzdA==");
  EXPECT_EQ(r->identity, "@Example.COM");
}

TEST(Signature, Sha1ParsesTheVerifierDecides) {
  std::string s = sig_with();
  s.replace(s.find("rsa-sha256"), 10, "rsa-sha1");
  auto r = parse_signature(s);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->algorithm, crypto::SignAlg::RsaSha1);
}

struct BadCase {
  std::string_view name;
  std::string from;  // substring to replace in the base (empty = append `to`)
  std::string to;
  ErrorCode code;
};

const BadCase kBad[] = {
    {"missing_v", "v=1; ", "", ErrorCode::Missing},
    {"missing_a", "a=rsa-sha256; ", "", ErrorCode::Missing},
    {"missing_d", "d=example.com; ", "", ErrorCode::Missing},
    {"missing_s", "s=sel; ", "", ErrorCode::Missing},
    {"missing_h", "h=From:To; ", "", ErrorCode::Missing},
    {"missing_bh", std::string("bh=") + std::string(kBh) + "; ", "", ErrorCode::Missing},
    {"missing_b", "; b=dGVzdA==", "", ErrorCode::Missing},
    {"empty_b", "b=dGVzdA==", "b=", ErrorCode::Missing},
    {"empty_bh", std::string("bh=") + std::string(kBh), "bh=", ErrorCode::Missing},
    {"empty_d", "d=example.com", "d=", ErrorCode::Missing},
    {"v_2", "v=1", "v=2", ErrorCode::Unsupported},
    {"v_draft", "v=1", "v=0.5", ErrorCode::Unsupported},
    {"a_unknown", "rsa-sha256", "rsa-md5", ErrorCode::Unsupported},
    {"a_case", "rsa-sha256", "RSA-SHA256", ErrorCode::Unsupported},
    {"c_unknown", "", "c=nowsp", ErrorCode::Unsupported},
    {"c_unknown_body", "", "c=relaxed/fancy", ErrorCode::Unsupported},
    {"c_three_parts", "", "c=relaxed/relaxed/relaxed", ErrorCode::Syntax},
    {"c_empty_part", "", "c=relaxed/", ErrorCode::Syntax},
    {"duplicate_tag", "", "s=other", ErrorCode::Duplicate},
    {"h_without_from", "h=From:To", "h=To:Subject", ErrorCode::Invalid},
    {"h_empty_name", "h=From:To", "h=From::To", ErrorCode::Syntax},
    {"h_empty", "h=From:To", "h=", ErrorCode::Missing},
    {"s_empty", "s=sel", "s=", ErrorCode::Missing},
    {"z_is_tolerated_but_not_a_syntax_escape", "", "z=a;b", ErrorCode::Syntax},
    {"i_outside_d", "", "i=joe@example.net", ErrorCode::Invalid},
    {"i_suffix_not_subdomain", "", "i=joe@badexample.com", ErrorCode::Invalid},
    {"i_parent_of_d", "d=example.com", "d=sub.example.com; i=@example.com", ErrorCode::Invalid},
    {"i_no_at", "", "i=example.com", ErrorCode::Syntax},
    {"i_bad_qp", "", "i=a=4@example.com", ErrorCode::Syntax},
    {"l_not_number", "", "l=12a", ErrorCode::Syntax},
    {"l_negative", "", "l=-1", ErrorCode::Syntax},
    {"l_too_long", "", "l=1234567890123456789012", ErrorCode::Syntax},
    {"t_too_long", "", "t=1234567890123", ErrorCode::Syntax},
    {"t_empty", "", "t=", ErrorCode::Syntax},
    {"x_before_t", "", "t=2000; x=1000", ErrorCode::Invalid},
    {"q_unknown", "", "q=http/well-known", ErrorCode::Unsupported},
    {"b_bad_base64", "b=dGVzdA==", "b=dGVz*A==", ErrorCode::Syntax},
    {"bh_bad_base64", std::string("bh=") + std::string(kBh), "bh=!!!!", ErrorCode::Syntax},
    {"d_with_paren", "d=example.com", "d=legitimate.com(.attacker.com", ErrorCode::Syntax},
    {"s_with_space_inside", "s=sel", "s=se l", ErrorCode::Syntax},
    {"tag_syntax", "v=1;", "v=1;;", ErrorCode::Syntax},
    {"v_colon_swallows_next_tag", "v=1;", "v=1:", ErrorCode::Missing},
};

class SignatureBad : public ::testing::TestWithParam<BadCase> {};
TEST_P(SignatureBad, Rejected) {
  const auto& c = GetParam();
  std::string s = sig_with();
  if (c.from.empty()) {
    s += "; " + c.to;
  } else {
    const auto pos = s.find(c.from);
    ASSERT_NE(pos, std::string::npos) << c.from;
    s.replace(pos, c.from.size(), c.to);
  }
  auto r = parse_signature(s);
  ASSERT_FALSE(r) << "accepted: " << s;
  EXPECT_EQ(r.error().code, c.code) << r.error().reason;
}
INSTANTIATE_TEST_SUITE_P(Rfc6376, SignatureBad, ::testing::ValuesIn(kBad),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(Signature, XEqualToTIsAccepted) {
  EXPECT_TRUE(parse_signature(sig_with("t=1000; x=1000")));
}

TEST(Signature, QListWithDnsTxt) {
  EXPECT_TRUE(parse_signature(sig_with("q=other/x:dns/txt")));
}

TEST(Signature, ISubdomainAndCase) {
  auto r = parse_signature(sig_with("i=@Mail.EXAMPLE.com"));
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->identity_domain(), "Mail.EXAMPLE.com");
}

TEST(Signature, DraftVersionsOnlyWhenAsked) {
  std::string s = sig_with();
  s.erase(0, 5);  // drop "v=1; "
  EXPECT_FALSE(parse_signature(s));
  ParseOptions legacy;
  legacy.accept_draft_versions = true;
  EXPECT_TRUE(parse_signature(s, legacy));
  std::string s05 = sig_with();
  s05.replace(0, 3, "v=0.5");
  EXPECT_TRUE(parse_signature(s05, legacy));
}

TEST(Signature, CanonicalizationNames) {
  EXPECT_EQ(to_string(Canonicalization{Canon::Relaxed, Canon::Simple}), "relaxed/simple");
  auto c = parse_canonicalization("simple/relaxed");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (Canonicalization{Canon::Simple, Canon::Relaxed}));
}

TEST(DkimQuotedPrintable, Decodes) {
  auto r = decode_dkim_quoted_printable("jlong@messiah=2Eedu");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "jlong@messiah.edu");
  EXPECT_EQ(*decode_dkim_quoted_printable("a=3db =3D c"), "a=b=c");
  EXPECT_FALSE(decode_dkim_quoted_printable("a=4"));
  EXPECT_FALSE(decode_dkim_quoted_printable("a=zz"));
  EXPECT_FALSE(decode_dkim_quoted_printable("a;b"));
}

TEST(Subdomain, Rules) {
  EXPECT_TRUE(is_same_or_subdomain("example.com", "example.com"));
  EXPECT_TRUE(is_same_or_subdomain("a.b.EXAMPLE.com", "example.COM"));
  EXPECT_TRUE(is_same_or_subdomain("example.com.", "example.com"));
  EXPECT_FALSE(is_same_or_subdomain("badexample.com", "example.com"));
  EXPECT_FALSE(is_same_or_subdomain("com", "example.com"));
  EXPECT_FALSE(is_same_or_subdomain("example.com", ""));
}

TEST(Signature, TenThousandHeaderNamesBounded) {
  std::string h = "h=from";
  for (int i = 0; i < 10000; ++i) h += ":x";
  std::string s = sig_with();
  s.replace(s.find("h=From:To"), 9, h);
  auto r = parse_signature(s);
  ASSERT_FALSE(r);  // also longer than... either bound, cleanly
  EXPECT_EQ(r.error().code, ErrorCode::LimitExceeded);
}

TEST(Signature, HostileBytes) {
  for (std::string bad : {std::string("v=1\0; a=rsa-sha256", 19), std::string("v=1; d=\xff\xfe"),
                          std::string(100000, ';')}) {
    EXPECT_FALSE(parse_signature(bad));
  }
}

}  // namespace
}  // namespace auth::dkim
