#include "auth/core/result.h"

#include <gtest/gtest.h>

namespace {

auth::Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return auth::fail(auth::ErrorCode::Syntax, "not a digit");
  return c - '0';
}

TEST(Result, HoldsValue) {
  auto r = parse_digit('7');
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value_or(0), 7);
}

TEST(Result, HoldsError) {
  auto r = parse_digit('x');
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, auth::ErrorCode::Syntax);
  EXPECT_EQ(r.error().reason, "not a digit");
  EXPECT_EQ(r.value_or(-1), -1);
  EXPECT_STREQ(auth::to_string(r.error().code), "syntax");
}

TEST(Result, VoidResult) {
  auth::Result<void> good = auth::ok();
  EXPECT_TRUE(good);
  auth::Result<void> bad = auth::fail(auth::ErrorCode::Missing, "no From");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "no From");
}

}  // namespace
