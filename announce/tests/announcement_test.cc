#include "flexwatch/announce/announcement.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

TEST(Announcement, RateRoundsHalfUpToFourDecimals) {
  EXPECT_EQ(RateText(0, 0), "0.0");
  EXPECT_EQ(RateText(0, 900), "0.0");
  EXPECT_EQ(RateText(250, 800), "0.3125");
  EXPECT_EQ(RateText(12, 900), "0.0133");
  EXPECT_EQ(RateText(1, 1), "1.0");
  EXPECT_EQ(RateText(1, 3), "0.3333");
  EXPECT_EQ(RateText(2, 3), "0.6667");
  EXPECT_EQ(RateText(1, 20000), "0.0001");  // 0.00005 rounds up
  EXPECT_EQ(RateText(1, 20001), "0.0");
}

}  // namespace
}  // namespace flexwatch
