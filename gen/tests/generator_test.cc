#include "flexwatch/gen/generator.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "flexwatch/ingest/decoder.h"
#include "flexwatch/rules/config.h"

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

}  // namespace
}  // namespace flexwatch
