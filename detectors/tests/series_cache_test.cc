// The series cache of a long-running monitor: brought up to date by judging again only the
// platforms the writer changed, it must equal a month judged whole from the same state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flexwatch/detectors/detectors.h"
#include "flexwatch/detectors/series.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/settings/config.h"

namespace fs = std::filesystem;
namespace flexwatch {
namespace {

// Everything a month's judgement says about each platform, as text.
std::string Describe(const MonthSeries& m) {
  std::ostringstream out;
  out << "final " << m.evaluation.final << " " << m.evaluation.finality << "\n";
  for (const PlatformScore& ps : m.evaluation.platforms) {
    out << ps.platform_id << " wm " << ps.worker_months << " tiers " << ps.tiers[0] << "/"
        << ps.tiers[1] << "/" << ps.tiers[2] << " scope " << ps.in_scope_workers << " ranked "
        << ps.ranked << " level " << static_cast<int>(ps.level) << " dispatched " << ps.dispatched
        << " orders " << ps.orders << " payments " << ps.payments << "/" << ps.late_payments
        << " complaints " << ps.complaints;
    for (const DimensionScore& d : ps.dimensions) {
      out << " [" << d.in_scope << " " << d.affected << " " << d.pending << " "
          << static_cast<int>(d.level);
      for (const auto& [name, n] : d.findings) out << " " << name << "=" << n;
      out << "]";
    }
    out << "\n";
  }
  for (const PlatformMonth& pm : m.platforms) out << SeriesJson(pm) << "\n";
  return out.str();
}

class SeriesCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("flexwatch-series-cache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = *ShippedConfig();
    auto store = Store::Open((dir_ / "state").string(), config_.store);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // Generated lines: 600 workers over 6 platforms, two months.
  std::vector<std::string> Feed() {
    GenOptions g;
    g.rules = &*config_.rules;
    g.workers = 600;
    g.months = 2;
    g.seed = 5;
    std::ostringstream feed;
    EXPECT_TRUE(Generate(g, feed, nullptr).ok());
    std::vector<std::string> lines;
    std::istringstream in(feed.str());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  void Replay(const std::vector<std::string>& lines, const std::string& name) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << [&] {
      std::string all;
      for (const std::string& l : lines) all += l + "\n";
      return all;
    }();
    auto counts = ReplayFiles(*store_, {path}, config_.ingest);
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  }
  void ExpectUpToDate(SeriesCache& cache) {
    for (Period p : store_->Periods()) {
      auto cached = cache.Get(*store_, *config_.rules, p, false);
      ASSERT_TRUE(cached.ok()) << cached.status().ToString();
      auto fresh = ComputeSeries(*store_, *config_.rules, p, false);
      ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
      EXPECT_EQ(Describe(**cached), Describe(*fresh)) << FormatPeriod(p);
    }
  }

  fs::path dir_;
  Config config_;
  std::unique_ptr<Store> store_;
};

std::string PlatformOf(const std::string& line) {
  const std::string key = "\"platform_id\":\"";
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  return line.substr(at + key.size(), line.find('"', at + key.size()) - at - key.size());
}

TEST_F(SeriesCacheTest, OnlyTheChangedPlatformIsJudgedAgainAndTheResultIsTheWholeMonths) {
  // Held back: one platform's events from the second half of the feed, and a platform that
  // appears only then (its own lines renamed), so that the update replaces, inserts and keeps.
  std::vector<std::string> lines = Feed(), first, later;
  const std::string changed = PlatformOf(lines[lines.size() / 2]);
  ASSERT_FALSE(changed.empty());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i >= lines.size() / 2 && PlatformOf(lines[i]) == changed) {
      later.push_back(lines[i]);
      std::string renamed = lines[i];
      for (size_t at; (at = renamed.find("\"" + changed + "\"")) != std::string::npos;)
        renamed.replace(at + 1, changed.size(), "p-newcomer-1");
      for (size_t at; (at = renamed.find("\"event_id\":\"")) != std::string::npos;) {
        renamed.replace(at + 12, 0, "n");  // its own ids
        break;
      }
      later.push_back(renamed);
    } else {
      first.push_back(lines[i]);
    }
  }
  ASSERT_FALSE(later.empty());
  Replay(first, "first.ndjson");
  SeriesCache cache;
  ExpectUpToDate(cache);
  const int64_t months = static_cast<int64_t>(store_->Periods().size());
  EXPECT_EQ(cache.months_computed(), months);
  EXPECT_EQ(cache.platforms_recomputed(), 0);

  Replay(later, "later.ndjson");
  ExpectUpToDate(cache);
  // No month judged whole again; each month judged again for the two changed platforms only.
  EXPECT_EQ(cache.months_computed(), months);
  EXPECT_EQ(cache.platforms_recomputed(), 2 * months);

  // Nothing changed since: nothing judged again.
  ExpectUpToDate(cache);
  EXPECT_EQ(cache.platforms_recomputed(), 2 * months);
}

TEST_F(SeriesCacheTest, AMonthWhoseFinalityChangedIsJudgedWholeAgain) {
  std::vector<std::string> lines = Feed();
  Replay(lines, "feed.ndjson");
  SeriesCache cache;
  ExpectUpToDate(cache);
  const std::vector<Period> periods = store_->Periods();
  const int64_t months = static_cast<int64_t>(periods.size());
  int64_t open = 0;
  for (Period p : periods) {
    auto before = cache.Get(*store_, *config_.rules, p, false);
    ASSERT_TRUE(before.ok());
    open += !(*before)->evaluation.final;
  }
  ASSERT_GE(open, 1);
  // An order a quarter later: the watermark passes the grace of every month in the state.
  std::string late = lines.front();
  for (const std::string& l : lines) {
    const size_t at = l.find("\"ts\":\"");
    if (l.find("\"type\":\"order\"") != std::string::npos && at != std::string::npos &&
        l.substr(at + 14, 2) <= "28") {  // a day every month has
      late = l;
      break;
    }
  }
  const size_t ts = late.find("\"ts\":\"") + 6;
  late.replace(ts, 7, FormatPeriod(periods.back() + 3));
  late.replace(late.find("\"event_id\":\"") + 12, 0, "late-");
  Replay({late}, "late.ndjson");
  ExpectUpToDate(cache);
  auto after = cache.Get(*store_, *config_.rules, periods.back(), false);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE((*after)->evaluation.final);
  // Every month of the feed is final now: those that were open are judged whole again (and the
  // late order's month, new, whole the first time); those final already only for what changed.
  EXPECT_EQ(cache.months_computed(), months + open + 1);
}

}  // namespace
}  // namespace flexwatch
