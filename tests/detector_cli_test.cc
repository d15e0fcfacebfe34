// Early warning end to end: a generated feed with planted drifts, replayed into a real state,
// announced (the warnings under the drifting platforms and no others), alerted once each, and a
// backtest of another configuration that shows what it would change and writes nothing.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>

#include "cli_helpers.h"
#include "flexwatch/alerts/alerts.h"
#include "flexwatch/settings/config.h"

namespace flexwatch::testing {
namespace {

namespace dom = simdjson::dom;

// One state for the suite: 900 workers, 7 platforms, July 2024 to January 2025, every platform
// honest but four, which drift from December: p-meal-1 moves workers to agencies, p-ride-2 has
// a complaint surge, p-express-3 caps hours at 101-103 h, p-dash-4 pays less premium per order.
class DetectorCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<TempDir>("detectors");
    dir_ = tmp_->path();
    const int rc = Wait(Spawn({"gen",     "--workers",
                               "900",     "--platforms",
                               "7",       "--months",
                               "7",       "--seed",
                               "4",       "--honest",
                               "--drift", "agency:1:2024-12",
                               "--drift", "complaints:2:2024-12",
                               "--drift", "capping:3:2024-12",
                               "--drift", "premium:4:2024-12",
                               "--truth", (dir_ / "truth.json").string()},
                              dir_, "/dev/null", "gen-"));
    ASSERT_EQ(rc, 0) << ReadFile(dir_ / "gen-stderr");
    fs::rename(dir_ / "gen-stdout", dir_ / "feed.ndjson");
    CommandResult r = Flexwatch(
        {"replay", "--state", (dir_ / "state").string(), (dir_ / "feed.ndjson").string()}, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::remove(dir_ / "feed.ndjson");
  }
  static void TearDownTestSuite() { tmp_.reset(); }
  static inline std::unique_ptr<TempDir> tmp_;

  // Early warnings of an announcement: platform -> "detector/series" entries.
  static std::map<std::string, std::set<std::string>> Warnings(const std::string& json) {
    std::map<std::string, std::set<std::string>> out;
    dom::parser parser;
    dom::element doc = parser.parse(json);
    for (dom::element p : doc["platforms"].get_array()) {
      auto& set = out[std::string(std::string_view(p["platform_id"]))];
      for (dom::element w : p["early_warnings"].get_array())
        set.insert(std::string(std::string_view(w["detector"])) + "/" +
                   std::string(std::string_view(w["series"])));
    }
    return out;
  }
  CommandResult Announce(const std::string& month, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"announce", "--state", (dir_ / "state").string(),
                                     "--month",  month,     "--final"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Flexwatch(args, dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  static bool Has(const std::set<std::string>& s, const std::string& prefix) {
    for (const std::string& x : s)
      if (x.rfind(prefix, 0) == 0) return true;
    return false;
  }

  static fs::path dir_;
};
fs::path DetectorCliTest::dir_;

TEST_F(DetectorCliTest, DriftingPlatformsAreWarnedOnceAndHonestOnesNever) {
  // Before the drifts: no warning anywhere.
  for (const char* month : {"2024-11", "2024-10"})
    for (const auto& [platform, set] : Warnings(Announce(month).out))
      EXPECT_TRUE(set.empty()) << month << " " << platform << ": " << *set.begin();

  // The month after the drifts begin: each drifting platform is warned by its detector.
  const auto w = Warnings(Announce("2025-01").out);
  ASSERT_EQ(w.size(), 7u);
  EXPECT_TRUE(Has(w.at("p-meal-1"), "own_history/labor_contract_share") ||
              Has(w.at("p-meal-1"), "own_history/contract_exit_share"));
  EXPECT_TRUE(Has(w.at("p-ride-2"), "complaint_spike/complaints/unpaid_contribution"));
  EXPECT_TRUE(Has(w.at("p-express-3"), "hours_bunching/hours_below_104h"));
  EXPECT_TRUE(Has(w.at("p-dash-4"), "own_history/premium_per_order"));
  for (const char* honest : {"p-home-5", "p-freight-6", "p-live-7"})
    EXPECT_TRUE(w.at(honest).empty()) << honest << ": " << *w.at(honest).begin();

  // The announcement is the same bytes every time.
  EXPECT_EQ(Announce("2025-01").out, Announce("2025-01").out);

  // The series behind them: the premium per order fell from 0.10 yuan to 0.70 of it by January.
  for (auto [month, premium] :
       {std::pair<const char*, double>{"2024-11", 0.1}, {"2025-01", 0.07}}) {
    CommandResult r = Flexwatch({"series", "--state", (dir_ / "state").string(), "--platform",
                                 "p-dash-4", "--month", month},
                                dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    dom::parser parser;
    dom::element s = parser.parse(r.out);
    EXPECT_DOUBLE_EQ(double(s["series"]["premium_per_order"]), premium) << month;
    EXPECT_EQ(s["daily_active"].get_array().size(), std::string(month) == "2024-11" ? 30u : 31u);
    int64_t histogram = 0;
    for (int64_t n : s["hours_histogram"]["bins"].get_array()) histogram += n;
    EXPECT_EQ(double(histogram), double(s["series"]["active_workers"])) << month;
  }

  // As `run` alerts them: each warning once, on the drifting platforms only.
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok());
  // A copy: the suite's state stays as replay left it for the other tests.
  fs::copy(dir_ / "state", dir_ / "alerting", fs::copy_options::recursive);
  auto store = Store::Open((dir_ / "alerting").string(), cfg->store);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SeriesCache history;  // as `run` keeps it between rounds
  auto first = EvaluateAndAlert(**store, *cfg->rules, cfg->detectors,
                                AlertOptions{.topic = "alerts", .history = &history});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::set<std::string> ids, warned;
  for (const Alert& a : *first) {
    EXPECT_TRUE(ids.insert(a.alert_id).second) << "two alerts with id " << a.alert_id;
    dom::parser parser;
    dom::element doc = parser.parse(a.json);
    if (std::string_view(doc["kind"]) != "early_warning") continue;
    warned.insert(std::string(std::string_view(doc["platform_id"])) + " " +
                  std::string(std::string_view(doc["period"])) + " " +
                  std::string(std::string_view(doc["warning"]["detector"])));
  }
  EXPECT_TRUE(warned.count("p-ride-2 2025-01 complaint_spike")) << warned.size();
  EXPECT_TRUE(warned.count("p-express-3 2025-01 hours_bunching"));
  EXPECT_TRUE(warned.count("p-meal-1 2025-01 own_history"));
  for (const std::string& entry : warned)
    EXPECT_TRUE(entry.rfind("p-meal-1 ", 0) == 0 || entry.rfind("p-ride-2 ", 0) == 0 ||
                entry.rfind("p-express-3 ", 0) == 0 || entry.rfind("p-dash-4 ", 0) == 0)
        << "a warning on an honest platform: " << entry;
  // Nothing new: nothing alerted again.
  auto second = EvaluateAndAlert(**store, *cfg->rules, cfg->detectors,
                                 AlertOptions{.topic = "alerts", .history = &history});
  ASSERT_TRUE(second.ok());
  for (const Alert& a : *second) EXPECT_EQ(a.json.find("early_warning"), std::string::npos);

  // The kept history gives the warnings a fresh read of the state gives.
  SeriesCache fresh_cache;
  for (Period p : (*store)->Periods()) {
    auto kept = DetectWarnings(**store, *cfg->rules, cfg->detectors, p, false, history);
    auto read = DetectWarnings(**store, *cfg->rules, cfg->detectors, p, false, fresh_cache);
    ASSERT_TRUE(kept.ok() && read.ok());
    ASSERT_EQ(kept->size(), read->size()) << FormatPeriod(p);
    for (size_t i = 0; i < kept->size(); ++i)
      EXPECT_EQ(EarlyWarningJson((*kept)[i]), EarlyWarningJson((*read)[i]));
  }

  // Without the kept history, the same alerts, byte for byte.
  fs::copy(dir_ / "state", dir_ / "alerting-again", fs::copy_options::recursive);
  auto again = Store::Open((dir_ / "alerting-again").string(), cfg->store);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto fresh =
      EvaluateAndAlert(**again, *cfg->rules, cfg->detectors, AlertOptions{.topic = "alerts"});
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->size(), first->size());
  for (size_t i = 0; i < fresh->size(); ++i) EXPECT_EQ((*fresh)[i].json, (*first)[i].json);
}

TEST_F(DetectorCliTest, BacktestShowsWhatAnotherConfigurationWouldChangeAndWritesNothing) {
  // Red from 12% instead of 25%, and the own-history detector switched off.
  WriteConfig(dir_ / "alt.yaml", {{"rules.levels.red_percent", "12"},
                                  {"detectors.own_history.enabled", "false"},
                                  {"detectors.own_history.version", "\"2\""},
                                  {"rules.version", "\"2024.07-2-draft\""}});

  auto listing = [&]() {
    std::map<std::string, uintmax_t> files;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "state"))
      files[e.path().string()] = e.is_regular_file() ? e.file_size() : 0;
    return files;
  };
  // (`inspect` opens the state for writing, and may flush it: the listing is taken after.)
  const std::string dump_before = DumpState(dir_ / "state", dir_, true);
  const auto files_before = listing();

  CommandResult r = Flexwatch({"backtest", "--state", (dir_ / "state").string(), "--with",
                               (dir_ / "alt.yaml").string(), "--final", "--format", "json"},
                              dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = r.out;
  // The text form says the same and that nothing was published.
  r = Flexwatch({"backtest", "--state", (dir_ / "state").string(), "--with",
                 (dir_ / "alt.yaml").string(), "--final", "--from", "2025-01"},
                dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("- warning own_history 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Nothing was published."), std::string::npos);
  // Not a byte of the state changed.
  EXPECT_EQ(listing(), files_before);
  EXPECT_EQ(DumpState(dir_ / "state", dir_, true), dump_before);
  dom::parser parser;
  dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string_view(doc["after"]["rules"]["version"]), "2024.07-2-draft");
  // Each change agrees with the announcements of the two configurations.
  std::map<std::string, std::string> before_json, after_json;
  int level_changes = 0, own_history_removed = 0;
  for (dom::element c : doc["changes"].get_array()) {
    const std::string month{std::string_view(c["period"])};
    const std::string platform{std::string_view(c["platform_id"])};
    if (!before_json.count(month)) {
      before_json[month] = Announce(month).out;
      after_json[month] = Announce(month, {"--config", (dir_ / "alt.yaml").string()}).out;
    }
    for (auto* side : {&before_json, &after_json}) {
      dom::parser side_parser;
      dom::element a = side_parser.parse((*side)[month]).value();
      bool found = false;
      for (dom::element p : a["platforms"].get_array())
        if (std::string_view(p["platform_id"]) == platform) {
          found = true;
          EXPECT_EQ(std::string_view(p["level"]),
                    std::string_view(c["level"][side == &before_json ? "before" : "after"]))
              << month << " " << platform;
        }
      EXPECT_TRUE(found) << month << " " << platform;
    }
    level_changes +=
        std::string_view(c["level"]["before"]) != std::string_view(c["level"]["after"]);
    for (dom::element w : c["warnings_removed"].get_array())
      own_history_removed += std::string_view(w["detector"]) == "own_history";
    for (dom::element w : c["warnings_added"].get_array())
      ADD_FAILURE() << "a warning added by switching a detector off: "
                    << std::string_view(w["detector"]);
  }
  EXPECT_GT(level_changes, 0);
  EXPECT_GT(own_history_removed, 0);
  EXPECT_EQ(int64_t(doc["summary"]["level_up"]), level_changes);

  // New figures under an old version are pointed out: a version stands for one set of figures.
  WriteConfig(dir_ / "same-version.yaml",
              {{"rules.levels.red_percent", "20"}, {"detectors.sector_peers.threshold_z", "4.5"}});
  r = Flexwatch({"backtest", "--state", (dir_ / "state").string(), "--with",
                 (dir_ / "same-version.yaml").string(), "--from", "2025-01"},
                dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("note: rules: the figures differ under the same version"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("note: sector_peers: the figures differ under the same version"),
            std::string::npos);
  EXPECT_EQ(r.out.find("note: own_history"), std::string::npos);

  // Usage errors.
  r = Flexwatch({"backtest", "--state", (dir_ / "state").string(), "--with",
                 (dir_ / "missing.yaml").string()},
                dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.yaml"), std::string::npos) << r.err;
}

TEST_F(DetectorCliTest, AMonthTheRulesCannotJudgeIsNoHistory) {
  // A base-limit table that begins in September 2024: July and August cannot be judged.
  const std::string config = WriteConfig(dir_ / "late-table.yaml",
                                         {{"rules.contributions.base_limits.2.from", "2024-09"}});
  CommandResult r = Flexwatch({"announce", "--state", (dir_ / "state").string(), "--month",
                               "2024-08", "--final", "--config", config},
                              dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("2024-08"), std::string::npos) << r.err;
  // January's warnings stand on the months the table covers.
  const auto w = Warnings(Announce("2025-01", {"--config", config}).out);
  EXPECT_TRUE(Has(w.at("p-ride-2"), "complaint_spike/complaints/unpaid_contribution"));
  EXPECT_TRUE(Has(w.at("p-express-3"), "hours_bunching/hours_below_104h"));
}

class GenDriftTest : public TempDirTest {};

TEST_F(GenDriftTest, ABadDriftIsAUsageError) {
  for (const char* bad :
       {"tsunami:1:2024-08", "agency:0:2024-08", "agency:1:2024-13", "agency:1"}) {
    CommandResult r = Flexwatch({"gen", "--workers", "10", "--drift", bad}, dir_);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
  CommandResult r =
      Flexwatch({"gen", "--workers", "10", "--months", "2", "--drift", "agency:9:2024-08"}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("drift on platform 9"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flexwatch::testing
