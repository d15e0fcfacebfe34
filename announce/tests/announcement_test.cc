#include "flexwatch/announce/announcement.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "flexwatch/announce/evidence.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/settings/config.h"

namespace flexwatch {
namespace {

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

// A month of two platforms, one ranked and red with an early warning, one too small to rank: the
// document says each as the contract (docs/cli.md) has it.
class MonthlyDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ShippedConfig();
    ASSERT_TRUE(config.ok());
    rules_ = *config->rules;
    month_.period = MakePeriod(2024, 7);
    month_.final = true;
    month_.finality = "closed";
    PlatformScore red;
    red.platform_id = "p-meal";
    red.worker_months = 1234;
    red.ranked = true;
    red.level = Level::kRed;
    red.dimensions[0] = {800, 250, 0, Level::kRed, {{"no_contract", 200}, {"agency", 50}}};
    red.dimensions[1] = {500, 0, 0, Level::kGreen, {}};
    red.dimensions[2] = {900, 12, 0, Level::kGreen, {{"pilot_uncovered", 12}}};
    PlatformScore small;
    small.platform_id = "p-tiny";
    small.worker_months = 5;
    small.dimensions[0] = {5, 5, 0, Level::kRed, {{"no_contract", 5}}};
    month_.platforms = {red, small};
    EarlyWarning w;
    w.platform_id = "p-meal";
    w.period = month_.period;
    w.detector = "own_history";
    w.version = "1";
    w.series = "labor_contract_share";
    w.window_from = MakePeriod(2024, 1);
    w.window_to = month_.period;
    w.expected = 0.5;
    w.observed = 0.25;
    w.unit = "share";
    w.direction = "down";
    warnings_ = {w};
  }
  RuleSet rules_;
  MonthEvaluation month_;
  std::vector<EarlyWarning> warnings_;
};

TEST_F(MonthlyDocumentTest, TheJsonSaysEachPlatformAsTheContractHasIt) {
  const std::string json = MonthlyJson(month_, rules_, warnings_);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["kind"]), "monthly");
  EXPECT_EQ(std::string_view(doc["period"]), "2024-07");
  EXPECT_TRUE(bool(doc["final"]));
  EXPECT_EQ(std::string_view(doc["rules"]["id"]), rules_.id);
  EXPECT_EQ(std::string_view(doc["rules"]["version"]), rules_.version);
  EXPECT_EQ(std::string_view(doc["rules"]["fingerprint"]), rules_.fingerprint);
  simdjson::dom::array platforms = doc["platforms"];
  ASSERT_EQ(platforms.size(), 2u);
  simdjson::dom::element meal = platforms.at(0);
  EXPECT_EQ(std::string_view(meal["platform_id"]), "p-meal");
  EXPECT_TRUE(bool(meal["ranked"]));
  EXPECT_EQ(int64_t(meal["worker_months"]), 1234);
  EXPECT_EQ(std::string_view(meal["level"]), "red");
  simdjson::dom::element ca = meal["dimensions"]["contract_avoidance"];
  EXPECT_EQ(int64_t(ca["in_scope"]), 800);
  EXPECT_EQ(int64_t(ca["affected"]), 250);
  EXPECT_DOUBLE_EQ(double(ca["rate"]), 0.3125);
  EXPECT_EQ(std::string_view(ca["level"]), "red");
  EXPECT_DOUBLE_EQ(double(meal["dimensions"]["coverage_mismatch"]["rate"]), 0.0133);
  EXPECT_EQ(std::string_view(meal["dimensions"]["underpayment"]["level"]), "green");
  simdjson::dom::array meal_warnings = meal["early_warnings"];
  ASSERT_EQ(meal_warnings.size(), 1u);
  EXPECT_EQ(std::string_view(meal_warnings.at(0)["detector"]), "own_history");
  simdjson::dom::element tiny = platforms.at(1);
  EXPECT_FALSE(bool(tiny["ranked"]));
  EXPECT_EQ(simdjson::dom::array(tiny["early_warnings"]).size(), 0u);
  // The same inputs, the same bytes.
  EXPECT_EQ(MonthlyJson(month_, rules_, warnings_), json);
}

TEST_F(MonthlyDocumentTest, EveryFormatAndLanguageNamesThePlatformsInOrder) {
  MonthlyInputs in;
  in.month = &month_;
  in.warnings = &warnings_;
  in.rules = &rules_;
  for (Lang lang : {Lang::kEn, Lang::kZh}) {
    for (const std::string& doc :
         {MonthlyMarkdown(in, lang), MonthlyHtml(in, lang), MonthlyCsv(in, lang)}) {
      EXPECT_NE(doc.find("p-meal"), std::string::npos);
      EXPECT_NE(doc.find("p-tiny"), std::string::npos);
    }
    // The ranked one is listed before the unranked; the red one's counts by kind are given.
    const std::string md = MonthlyMarkdown(in, lang);
    EXPECT_LT(md.find("p-meal"), md.find("p-tiny")) << md;
    EXPECT_NE(md.find("250"), std::string::npos);
    const std::string csv = MonthlyCsv(in, lang);
    // A row per platform and dimension, after the header.
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 3) << csv;
  }
  EXPECT_NE(MonthlyMarkdown(in, Lang::kZh), MonthlyMarkdown(in, Lang::kEn));
}

}  // namespace
}  // namespace flexwatch
