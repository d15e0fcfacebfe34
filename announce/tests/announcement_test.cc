#include "flexwatch/announce/announcement.h"

#include <gtest/gtest.h>

#include "flexwatch/announce/evidence.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/settings/config.h"

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

// Ids a state may hold from before the 1.1 id rules: a CSV cell made of one is never read as a
// formula by a spreadsheet, and a file name made of one is never an option or a hidden file.
TEST(Announcement, IdsNeverBecomeFormulasOrBadFileNames) {
  auto config = ShippedConfig();
  ASSERT_TRUE(config.ok());
  MonthEvaluation month;
  month.period = MakePeriod(2024, 7);
  for (const char* id : {"-1+1", "=HYPERLINK(\"x\")", "+x", "@x", "p,\"q", "p-ok"}) {
    PlatformScore ps;
    ps.platform_id = id;
    month.platforms.push_back(ps);
  }
  MonthlyInputs in;
  in.month = &month;
  in.rules = &*config->rules;
  for (Lang lang : {Lang::kEn, Lang::kZh}) {
    const std::string csv = MonthlyCsv(in, lang);
    EXPECT_NE(csv.find(",'-1+1,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"x\"\")\","), std::string::npos) << csv;
    EXPECT_NE(csv.find(",'+x,"), std::string::npos);
    EXPECT_NE(csv.find(",'@x,"), std::string::npos);
    EXPECT_NE(csv.find(",\"p,\"\"q\","), std::string::npos);
    EXPECT_NE(csv.find(",p-ok,"), std::string::npos);
    EXPECT_EQ(csv.find(",-1+1,"), std::string::npos);
  }
  EXPECT_EQ(FileStem("-x"), "_-x");
  EXPECT_EQ(FileStem(".."), "_..");
  EXPECT_EQ(FileStem("p-meal-1"), "p-meal-1");
}

}  // namespace
}  // namespace flexwatch
