#include "flexwatch/core/time.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

TEST(Time, CivilRoundTrip) {
  for (Day d = -800000; d < 800000; d += 997) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
}

TEST(Time, ParsesOffsetsToTheSameInstant) {
  auto a = ParseRfc3339("2024-07-03T12:34:56+08:00");
  auto b = ParseRfc3339("2024-07-03T04:34:56Z");
  auto c = ParseRfc3339("2024-07-02T23:34:56-05:00");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(*a % 1000, 0);
  auto f = ParseRfc3339("2024-07-03T04:34:56.789123Z");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f - *b, 789);
}

TEST(Time, BeijingMonthOfAnInstant) {
  // 2024-07-31T16:30Z is 2024-08-01 00:30 in Beijing.
  auto t = ParseRfc3339("2024-07-31T16:30:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatPeriod(BeijingPeriod(*t)), "2024-08");
  EXPECT_EQ(FormatDate(BeijingDay(*t)), "2024-08-01");
  auto u = ParseRfc3339("2024-07-31T15:59:59Z");
  EXPECT_EQ(FormatPeriod(BeijingPeriod(*u)), "2024-07");
  EXPECT_EQ(FormatBeijing(*t), "2024-08-01T00:30:00.000+08:00");
}

TEST(Time, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"2024-07-03T12:34:56", "2024-07-03 12:34:56+08:00", "2024-13-03T12:34:56Z",
        "2024-02-30T12:00:00Z", "2024-07-03T24:00:00Z", "2024-07-03T12:34:56+0800",
        "2024-07-03T12:34:56.Z", "2024-07-03T12:34:56Zjunk", "24-07-03T12:34:56Z", ""}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z").ok());
}

TEST(Time, DatesAndPeriods) {
  EXPECT_EQ(FormatDate(*ParseDate("2024-07-31")), "2024-07-31");
  EXPECT_FALSE(ParseDate("2024-7-31").ok());
  EXPECT_FALSE(ParseDate("2024-06-31").ok());
  EXPECT_EQ(FormatPeriod(*ParsePeriod("2024-12")), "2024-12");
  EXPECT_EQ(*ParsePeriod("2025-01") - *ParsePeriod("2024-12"), 1);
  EXPECT_FALSE(ParsePeriod("2024-00").ok());
  EXPECT_FALSE(ParsePeriod("2024-13").ok());
  EXPECT_FALSE(ParsePeriod("2024-1").ok());
}

}  // namespace
}  // namespace flexwatch
