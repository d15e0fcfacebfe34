#include "flexwatch/gen/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "flexwatch/ingest/decoder.h"
#include "flexwatch/settings/config.h"

namespace flexwatch {
namespace {

std::string Feed(const GenOptions& o, std::string* truth = nullptr) {
  std::ostringstream feed, t;
  EXPECT_TRUE(Generate(o, feed, &t).ok());
  if (truth) *truth = t.str();
  return feed.str();
}

const RuleSet* Rules() {
  static const Config config = *ShippedConfig();
  return &*config.rules;
}

GenOptions Small(uint64_t seed) {
  GenOptions o;
  o.rules = Rules();
  o.workers = 300;
  o.platforms = 6;
  o.months = 2;
  o.seed = seed;
  o.malformed_share = 0.01;
  o.duplicate_share = 0.01;
  return o;
}

int64_t TruthNumber(const std::string& truth, const std::string& key) {
  size_t at = truth.find("\"" + key + "\": ");
  EXPECT_NE(at, std::string::npos) << key;
  return std::stoll(truth.substr(at + key.size() + 4));
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  std::string a = Feed(Small(3)), b = Feed(Small(3)), c = Feed(Small(4));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Generator, EveryLineIsValidButThePlantedMalformedOnes) {
  std::string truth;
  std::istringstream in(Feed(Small(5), &truth));
  Decoder d;
  Event e;
  Rejection r;
  int64_t lines = 0, bad = 0;
  std::multiset<std::string> ids;
  std::set<std::string> types, platforms;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    if (!d.Decode(line, e, r)) {
      ++bad;
      continue;
    }
    ids.insert(e.platform_id + "/" + e.event_id);
    types.insert(std::string(NameOf(e.type)));
    platforms.insert(e.platform_id);
  }
  EXPECT_EQ(lines, TruthNumber(truth, "lines"));
  EXPECT_EQ(bad, TruthNumber(truth, "malformed_lines"));
  EXPECT_GT(bad, 0);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(static_cast<int64_t>(unique.size()), TruthNumber(truth, "valid_events"));
  EXPECT_EQ(static_cast<int64_t>(ids.size() - unique.size()),
            TruthNumber(truth, "duplicate_lines"));
  EXPECT_EQ(types.size(), 5u);
  EXPECT_EQ(platforms.size(), 6u);
}

// Every id shape gives ids of that shape, one per valid event (the duplicates repeat theirs),
// and the same feed otherwise; a shuffled feed holds the same lines in another order.
TEST(Generator, IdShapesAndShuffledOrderChangeOnlyTheIdsAndTheOrder) {
  const std::map<IdShape, std::regex> shape = {
      {IdShape::kSequential, std::regex("[cosvq]-[1-9][0-9]*")},
      {IdShape::kUuid,
       std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")},
      {IdShape::kHex, std::regex("[0-9a-f]{16}")},
      {IdShape::kSnowflake, std::regex("[1-9][0-9]{17,18}")}};
  // A line without its id, to compare feeds of different id shapes (a planted truncated line,
  // cut at half its length, is left out).
  auto without_id = [](std::string line) {
    if (!line.ends_with("}")) return std::string("-");
    constexpr std::string_view kField = "\"event_id\":\"";
    if (const size_t at = line.find(kField); at != std::string::npos)
      line.erase(at, line.find('"', at + kField.size()) + 1 - at);
    return line;
  };
  std::string truth;
  std::vector<std::string> reference;
  {
    std::istringstream in(Feed(Small(9), &truth));
    for (std::string line; std::getline(in, line);) reference.push_back(without_id(line));
  }
  for (const auto& [ids, pattern] : shape) {
    GenOptions o = Small(9);
    o.ids = ids;
    std::istringstream in(Feed(o));
    Decoder d;
    Event e;
    Rejection r;
    std::set<std::string> unique;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(without_id(line));
      if (!d.Decode(line, e, r) || e.event_id.starts_with("bad-")) continue;
      EXPECT_TRUE(std::regex_match(e.event_id, pattern)) << e.event_id;
      unique.insert(e.event_id);
      if (ids == IdShape::kSnowflake) {  // time-ordered: milliseconds since 2020 on top
        EXPECT_EQ(static_cast<int64_t>(std::stoull(e.event_id) >> 22) + 1577836800000LL, e.ts)
            << line;
      }
    }
    EXPECT_EQ(static_cast<int64_t>(unique.size()), TruthNumber(truth, "valid_events"))
        << kIdShapeNames[static_cast<int>(ids)];
    EXPECT_TRUE(lines == reference) << kIdShapeNames[static_cast<int>(ids)];
  }
  GenOptions o = Small(9);
  o.order = FeedOrder::kShuffled;
  std::vector<std::string> shuffled;
  {
    std::istringstream in(Feed(o));
    for (std::string line; std::getline(in, line);) shuffled.push_back(without_id(line));
  }
  EXPECT_EQ(Feed(o), Feed(o));  // the same seed, the same order
  EXPECT_FALSE(shuffled == reference);
  std::sort(shuffled.begin(), shuffled.end());
  std::sort(reference.begin(), reference.end());
  EXPECT_TRUE(shuffled == reference);
}

TEST(Generator, TruthPlantsEachDimensionAtSomePlatform) {
  std::string truth;
  Feed(Small(6), &truth);
  for (const char* dim : {"contract_avoidance", "underpayment", "coverage_mismatch"}) {
    bool planted = false;
    size_t at = 0;
    while ((at = truth.find(std::string("\"") + dim + "\": {\"in_scope\": ", at)) !=
           std::string::npos) {
      size_t aff = truth.find("\"affected\": ", at);
      if (std::stoll(truth.substr(aff + 12)) > 0) planted = true;
      ++at;
    }
    EXPECT_TRUE(planted) << dim;
  }
}

TEST(Generator, DriftsChangeNothingBeforeTheyStartAndAreInTheTruth) {
  GenOptions o = Small(3);
  o.months = 4;
  o.static_violations = false;
  const std::string plain = Feed(o);
  o.drifts = {{DriftKind::kAgency, 0, MakePeriod(2024, 10)},
              {DriftKind::kComplaints, 1, MakePeriod(2024, 10)},
              {DriftKind::kCapping, 2, MakePeriod(2024, 10)}};
  std::string truth;
  const std::string drifting = Feed(o, &truth);
  // The same bytes up to the drifts' first month (July to September: over half the feed).
  size_t same = 0;
  while (same < plain.size() && same < drifting.size() && plain[same] == drifting[same]) ++same;
  EXPECT_GT(same, plain.size() / 2);
  EXPECT_NE(plain, drifting);
  EXPECT_NE(truth.find("{\"platform_id\": \"p-meal-1\", \"kind\": \"agency\", \"start\": "
                       "\"2024-10\"}"),
            std::string::npos)
      << truth;
  EXPECT_NE(truth.find("\"kind\": \"complaints\", \"start\": \"2024-10\", \"category\""),
            std::string::npos);
  EXPECT_NE(truth.find("\"platform_id\": \"p-home-5\", \"sector\": \"home_services\", "
                       "\"planted\": {\"contract_avoidance\": 0, \"dispatch_share\": 0.05, "
                       "\"underpayment\": 0, \"coverage_mismatch\": 0}, \"honest\": true"),
            std::string::npos)
      << truth;
  EXPECT_NE(truth.find("\"platform_id\": \"p-meal-1\", \"sector\": \"food_delivery\", "
                       "\"planted\": {\"contract_avoidance\": 0, \"dispatch_share\": 0.05, "
                       "\"underpayment\": 0, \"coverage_mismatch\": 0}, \"honest\": false"),
            std::string::npos);

  // Planted by the seed: one per platform, a premium drift on a pilot-sector one.
  o.drifts.clear();
  o.months = 8;
  o.auto_drifts = 6;
  Feed(o, &truth);
  size_t count = 0;
  for (size_t at = truth.find("\"kind\": "); at != std::string::npos;
       at = truth.find("\"kind\": ", at + 1))
    ++count;
  EXPECT_EQ(count, 6u);
  o.auto_drifts = 7;  // one more than there are platforms
  std::ostringstream feed;
  EXPECT_FALSE(Generate(o, feed, nullptr).ok());
}

// gen --seasons: the shapes of real workforces, each where the options say (issue "Early warnings
// that stay quiet on honest platforms that change").
TEST(Generator, SeasonsGiveTheShapesOfRealWorkforces) {
  GenOptions o;
  o.rules = Rules();
  o.workers = 250;
  o.platforms = 7;
  o.months = 8;  // July 2024 to February 2025
  o.seed = 2;
  o.static_violations = false;
  o.seasons = true;
  std::string truth;
  const std::string feed = Feed(o, &truth);
  EXPECT_EQ(Feed(o), feed);  // the same seed, the same bytes
  // Worker-months per platform and month, from the truth.
  std::map<std::string, std::map<std::string, int64_t>> wm;
  std::map<std::string, int64_t> total;
  const std::regex cell(
      R"re(\{"platform_id": "([^"]+)", "period": "([^"]+)", "worker_months": (\d+))re");
  for (auto it = std::sregex_iterator(truth.begin(), truth.end(), cell);
       it != std::sregex_iterator(); ++it) {
    wm[(*it)[1]][(*it)[2]] = std::stoll((*it)[3]);
    total[(*it)[2]] += std::stoll((*it)[3]);
  }
  ASSERT_EQ(wm.size(), 7u);
  // The Spring Festival: February well below January.
  EXPECT_LT(total["2025-02"] * 10, total["2025-01"] * 8) << truth.substr(0, 300);
  // Sizes of their own: the largest platform several times the smallest.
  int64_t smallest = INT64_MAX, largest = 0;
  for (const auto& [platform, months] : wm) {
    smallest = std::min(smallest, months.at("2024-07"));
    largest = std::max(largest, months.at("2024-07"));
  }
  EXPECT_GE(largest, 4 * smallest);
  // One platform grows fast; one hires for July and August only.
  bool grows = false, summer = false;
  for (const auto& [platform, months] : wm) {
    grows = grows || months.at("2025-01") >= 3 * months.at("2024-07") / 2;
    summer = summer || months.at("2024-09") * 100 < months.at("2024-08") * 85;
  }
  EXPECT_TRUE(grows);
  EXPECT_TRUE(summer);
  // Churn: labour contracts ended as workers leave; a food-delivery platform's orders partly in
  // instant delivery in the summer.
  size_t terminated = 0, moved = 0;
  std::istringstream in(feed);
  for (std::string line; std::getline(in, line);) {
    terminated += line.find("\"action\":\"terminated\"") != std::string::npos;
    moved += line.find("\"platform_id\":\"p-meal-1\"") != std::string::npos &&
             line.find("\"sector\":\"instant_delivery\"") != std::string::npos;
  }
  EXPECT_GT(terminated, 20u);
  EXPECT_GT(moved, 100u);
  // Without seasons, none of it: no February trough, no order moved to another sector.
  o.seasons = false;
  std::string steady_truth;
  const std::string steady = Feed(o, &steady_truth);
  std::map<std::string, int64_t> steady_total;
  for (auto it = std::sregex_iterator(steady_truth.begin(), steady_truth.end(), cell);
       it != std::sregex_iterator(); ++it)
    steady_total[(*it)[2]] += std::stoll((*it)[3]);
  EXPECT_GE(steady_total["2025-02"] * 100, steady_total["2025-01"] * 95);
  std::istringstream steady_in(steady);
  size_t steady_moved = 0;
  for (std::string line; std::getline(steady_in, line);)
    steady_moved += line.find("\"platform_id\":\"p-meal-1\"") != std::string::npos &&
                    line.find("\"sector\":\"instant_delivery\"") != std::string::npos;
  EXPECT_EQ(steady_moved, 0u);
}

TEST(Generator, ParseDrift) {
  auto d = ParseDrift("capping:12:2025-03");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, DriftKind::kCapping);
  EXPECT_EQ(d->platform, 11);
  EXPECT_EQ(d->start, MakePeriod(2025, 3));
  for (const char* bad : {"capping", "capping:0:2025-03", "caping:1:2025-03", "capping:x:2025-03",
                          "capping:1:2025-3", "capping:1:"})
    EXPECT_FALSE(ParseDrift(bad).ok()) << bad;
}

}  // namespace
}  // namespace flexwatch
