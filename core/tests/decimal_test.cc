#include "flexwatch/core/decimal.h"

#include <gtest/gtest.h>

#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

int64_t Fen(const char* s) {
  auto r = ParseScaledDecimal(s, 2, ExcessDigits::kReject);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(Decimal, YuanToFenExactly) {
  EXPECT_EQ(Fen("1091.36"), 109136);
  EXPECT_EQ(Fen("0.1"), 10);
  EXPECT_EQ(Fen("0.29"), 29);  // 0.29 * 100 is 28.999... in binary floating point
  EXPECT_EQ(Fen("6821"), 682100);
  EXPECT_EQ(Fen("9.50"), 950);
  EXPECT_EQ(Fen("1.2e3"), 120000);
  EXPECT_EQ(Fen("125e-2"), 125);
  EXPECT_EQ(Fen("0"), 0);
  EXPECT_EQ(Fen("-3.5"), -350);
  EXPECT_EQ(Fen("9.500000"), 950);
}

TEST(Decimal, RejectsMoreThanTwoDecimals) {
  auto r = ParseScaledDecimal("9.505", 2, ExcessDigits::kReject);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 2 decimals"), std::string::npos);
  EXPECT_FALSE(ParseScaledDecimal("1e-3", 2, ExcessDigits::kReject).ok());
}

TEST(Decimal, RoundsWhenAsked) {
  EXPECT_EQ(*ParseScaledDecimal("28.3334", 3, ExcessDigits::kRound), 28333);
  EXPECT_EQ(*ParseScaledDecimal("28.3335", 3, ExcessDigits::kRound), 28334);
  EXPECT_EQ(*ParseScaledDecimal("0.0004", 3, ExcessDigits::kRound), 0);
}

TEST(Decimal, RejectsMalformedAndHuge) {
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "abc", "1.2.3", "0x10"})
    EXPECT_FALSE(ParseScaledDecimal(bad, 2, ExcessDigits::kReject).ok()) << bad;
  EXPECT_FALSE(ParseScaledDecimal("1e30", 2, ExcessDigits::kReject).ok());
  EXPECT_FALSE(ParseScaledDecimal("99999999999999999999", 2, ExcessDigits::kReject).ok());
}

TEST(Decimal, Formats) {
  EXPECT_EQ(FormatScaled(109136, 2), "1091.36");
  EXPECT_EQ(FormatScaled(5, 2), "0.05");
  EXPECT_EQ(FormatScaled(-5, 2), "-0.05");
  EXPECT_EQ(FormatScaled(7, 0), "7");
}

TEST(Json, EscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonString("\xe5\x8c\x97\xe4\xba\xac"), "\"\xe5\x8c\x97\xe4\xba\xac\"");
  EXPECT_EQ(JsonString("a\xffz"), "\"a\xef\xbf\xbdz\"");
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(Base64("\xff"), "/w==");
  EXPECT_EQ(Base64("abc"), "YWJj");
  EXPECT_EQ(Base64("ab"), "YWI=");
}

}  // namespace
}  // namespace flexwatch
