#include "support.h"

#include <gtest/gtest.h>

#include "flexwatch/settings/config.h"

namespace flexwatch::testing {
namespace {

TEST_F(TempDirTest, AnOverlayChangesOnlyWhatItNames) {
  const std::string path =
      WriteConfig(dir_ / "c.yaml", {{"kafka.quiet_close_seconds", "7"},
                                    {"kafka.client", "{session.timeout.ms: \"6000\"}"},
                                    {"rules.contributions.base_limits.0.from", "2022-08"},
                                    {"ingest.now", "\"2025-01-01T00:00:00+08:00\""},
                                    {"publish.dir", "\"out\""}});
  auto changed = LoadConfig(path);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  auto shipped = ShippedConfig();
  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(changed->kafka.quiet_close_seconds, 7);
  EXPECT_EQ(changed->kafka.client.at("session.timeout.ms"), "6000");
  EXPECT_EQ(changed->rules->base_limits[0].from, MakePeriod(2022, 8));
  EXPECT_TRUE(changed->ingest.decoder.now.has_value());
  EXPECT_EQ(changed->publish.dir, (dir_ / "out").string());  // from the config file's folder
  // The rest as shipped: the same rule set but for the one row's start, the same limits.
  EXPECT_EQ(changed->rules->base_limits.size(), shipped->rules->base_limits.size());
  EXPECT_EQ(changed->rules->base_limits[1].from, shipped->rules->base_limits[1].from);
  EXPECT_EQ(changed->rules->red, shipped->rules->red);
  EXPECT_EQ(changed->rules->version, shipped->rules->version);
  EXPECT_EQ(changed->detectors.own_history.version, shipped->detectors.own_history.version);
  EXPECT_EQ(changed->kafka.evaluate_interval_ms, shipped->kafka.evaluate_interval_ms);
  EXPECT_EQ(changed->selfcheck_api.listen, shipped->selfcheck_api.listen);
  // An unchanged overlay gives the shipped rule set, fingerprint and all.
  auto same = LoadConfig(WriteConfig(dir_ / "same.yaml", {}));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->rules->fingerprint, shipped->rules->fingerprint);
}

TEST(WaitForTest, ReturnsOnceTrueAndGivesUpAtTheDeadline) {
  int calls = 0;
  EXPECT_TRUE(WaitFor(
      std::chrono::seconds(5), [&] { return ++calls == 3; }, std::chrono::milliseconds(1)));
  EXPECT_EQ(calls, 3);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WaitFor(std::chrono::milliseconds(100), [] { return false; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace flexwatch::testing
