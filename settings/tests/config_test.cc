#include "flexwatch/settings/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace flexwatch {
namespace {

TEST(Config, ShippedFileLoads) {
  auto c = LoadConfig(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingest.decoder.max_line_bytes, 65536u);
  EXPECT_EQ(c->store.block_cache_bytes, 128ull << 20);
}

TEST(Config, ErrorsNameTheKey) {
  auto c = ParseConfig("ingest:\n  max_line_bytes: 10\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("f.yaml: ingest.max_line_bytes: 10 is out of range"),
            std::string::npos)
      << c.status().message();
  c = ParseConfig("ingest:\n  max_line_byte: 1000\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("ingest.max_line_byte: unknown key"), std::string::npos)
      << c.status().message();
  c = ParseConfig("state:\n  sync_commits: maybe\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("state.sync_commits"), std::string::npos);
  c = ParseConfig("state: [1, 2\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not valid YAML"), std::string::npos);
  c = ParseConfig("state:\n  write_buffer_mb: 512\n  write_buffer_total_mb: 256\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("exceeds"), std::string::npos);
  c = ParseConfig("state:\n  seen_cache_mb: 48\n", "f.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store.seen_cache_bytes, size_t{48} << 20);
  c = ParseConfig("state:\n  seen_cache_mb: 0\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("state.seen_cache_mb"), std::string::npos);
}

TEST(Config, MetricsAndAlertmanager) {
  auto c = ParseConfig(
      "metrics:\n  listen: 127.0.0.1:9464\n  max_platforms: 50\nalertmanager:\n  url: "
      "http://am:9093/prefix\n  resend_seconds: 30\n  timeout_ms: 2000\n",
      "f.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(c->metrics.max_platforms, 50);
  EXPECT_EQ(c->alertmanager.url, "http://am:9093/prefix");
  EXPECT_EQ(c->alertmanager.resend_seconds, 30);
  EXPECT_EQ(c->alertmanager.timeout_ms, 2000);
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"alertmanager:\n  url: am:9093\n", "alertmanager.url: 'am:9093' is not an http://"},
           {"alertmanager:\n  resend_seconds: 0\n", "alertmanager.resend_seconds"},
           {"metrics:\n  max_platforms: -1\n", "metrics.max_platforms"},
           {"metrics:\n  port: 1\n", "metrics.port: unknown key"}}) {
    auto bad = ParseConfig(text, "f.yaml");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.status().message().find(error), std::string::npos) << bad.status().message();
  }
  auto shipped = LoadConfig(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(shipped->metrics.listen, "");  // off unless asked for
  EXPECT_EQ(shipped->metrics.max_platforms, 1000);
  EXPECT_EQ(shipped->alertmanager.url, "");
}

TEST(Config, ValuesOverrideDefaults) {
  auto c = ParseConfig("ingest:\n  commit_every: 10\nstate:\n  sync_commits: true\n", "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingest.commit_every, 10u);
  EXPECT_TRUE(c->store.sync_commits);
}

std::string ShippedText() {
  std::ifstream in(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped text with the first occurrence of `from` replaced.
std::string Edited(const std::string& from, const std::string& to) {
  std::string s = ShippedText();
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, "f.yaml");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

TEST(RulesConfig, ShippedBeijingFigures) {
  auto c = LoadConfig(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->rules.has_value());
  const RuleSet& r = *c->rules;
  EXPECT_EQ(r.id, "beijing");
  EXPECT_FALSE(r.version.empty());
  EXPECT_EQ(r.fingerprint.size(), 16u);
  EXPECT_EQ(r.labor_relation_above, 104 * 60000);
  EXPECT_EQ(r.managed_from, 40 * 60000);
  EXPECT_EQ(r.dispatch_cap, 100000);
  auto july = r.BaseFor(MakePeriod(2024, 7));
  ASSERT_TRUE(july.ok());
  EXPECT_EQ(july->lower, 682100);
  EXPECT_EQ(july->upper, 3581100);
  EXPECT_EQ(r.BaseFor(MakePeriod(2025, 6))->lower, 682100);
  EXPECT_EQ(r.BaseFor(MakePeriod(2024, 6))->lower, 632600);
  EXPECT_FALSE(r.BaseFor(MakePeriod(2025, 7)).ok());
  EXPECT_EQ(r.EmployerRate(Scheme::kPension, "p"), 160000);
  EXPECT_EQ(r.EmployerRate(Scheme::kMedical, "p"), 98000);
  EXPECT_EQ(r.EmployerRate(Scheme::kUnemployment, "p"), 5000);
  EXPECT_EQ(r.EmployerRate(Scheme::kWorkInjury, "p"), 4000);
  EXPECT_EQ(r.tolerance, 20000);
  EXPECT_EQ(r.grace_days, 45);
  EXPECT_TRUE(r.IsPilot(Sector::kFoodDelivery));
  EXPECT_TRUE(r.IsPilot(Sector::kFreight));
  EXPECT_FALSE(r.IsPilot(Sector::kExpressDelivery));
  EXPECT_EQ(r.high_risk_min_sum[static_cast<int>(Sector::kExpressDelivery)], 60000000);
  EXPECT_FALSE(r.IsHighRisk(Sector::kLiveStreaming));
  EXPECT_TRUE(r.IsAdequateProduct(Product::kAccident));
  EXPECT_FALSE(r.IsAdequateProduct(Product::kMedicalSupplement));
  EXPECT_EQ(r.yellow, 20000);
  EXPECT_EQ(r.orange, 100000);
  EXPECT_EQ(r.red, 250000);
  EXPECT_EQ(r.min_ranked_workers, 20);
  // The file says which figures must be checked against the official notice.
  EXPECT_NE(ShippedText().find("VERIFY"), std::string::npos);
}

TEST(RulesConfig, WorkInjuryClassPerPlatform) {
  auto c = ParseConfig(Edited("platform_class: {}", "platform_class: {p-freight: 5}"), "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rules->EmployerRate(Scheme::kWorkInjury, "p-freight"), 11000);
  EXPECT_EQ(c->rules->EmployerRate(Scheme::kWorkInjury, "p-other"), 4000);
  EXPECT_NE(ErrorOf(Edited("platform_class: {}", "platform_class: {p-x: 9}"))
                .find("rules.contributions.work_injury.platform_class.p-x: class 9 has no rate"),
            std::string::npos);
}

TEST(RulesConfig, EveryRuleKeyIsRequiredAndNamedWhenWrong) {
  EXPECT_NE(ErrorOf(Edited("    red_percent: 25\n", "")).find("rules.levels.red_percent: missing"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("tolerance_percent: 2", "tolerance_percent: two"))
                .find("rules.contributions.tolerance_percent: 'two' is not a number"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("tolerance_percent: 2", "tolerance_percent: 2.00001"))
                .find("at most 4 decimals"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("dispatch_cap_percent: 10", "dispatch_cap_percent: 120"))
                .find("rules.contract.dispatch_cap_percent: 120 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("pilot_sectors: [ride_hailing,", "pilot_sectors: [drones,"))
                .find("rules.coverage.pilot_sectors[0]: 'drones' is not one of"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("yellow_percent: 2", "yellow_percent: 12"))
                .find("yellow_percent <= orange_percent"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("from: 2024-07, to: 2025-06", "from: 2024-06, to: 2025-06"))
                .find("must not overlap"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("from: 2024-07, to: 2025-06", "from: 2024-13, to: 2025-06"))
                .find("base_limits[2].from: expected a month YYYY-MM"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("  levels:", "  level_typo: 1\n  levels:"))
                .find("rules.level_typo: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("high_risk_min_sum_insured_cny:\n      express_delivery",
                           "high_risk_min_sum_insured_cny:\n      food_delivery"))
                .find("either a pilot or a high-risk"),
            std::string::npos);
}

TEST(RulesConfig, RemovingAnyRuleFigureIsAnErrorNamingIt) {
  const std::string text = ShippedText();
  const size_t rules_at = text.find("\nrules:\n"), end = text.find("\nevidence:");
  ASSERT_NE(rules_at, std::string::npos);
  int checked = 0;
  std::istringstream in(text.substr(rules_at, end - rules_at));
  for (std::string line; std::getline(in, line);) {
    const size_t key_at = line.find_first_not_of(' ');
    const size_t colon = line.find(": ");
    if (key_at == std::string::npos || key_at < 4 || colon == std::string::npos ||
        line[key_at] == '-' || line[key_at] == '#')
      continue;
    const std::string key = line.substr(key_at, colon - key_at);
    // Optional (no platform has a class of its own), or entries of a map of sectors (removing
    // one makes the sector an ordinary one), or a section header.
    const size_t value_at = line.find_first_not_of(' ', colon + 1);
    if (key == "platform_class" || EnumFromName<Sector>(kSectorNames, key) ||
        value_at == std::string::npos || line[value_at] == '#')
      continue;
    std::string edited = text;
    edited.erase(edited.find(line + "\n"), line.size() + 1);
    const std::string error = ErrorOf(edited);
    // The key is named, or its section when the key was the section's only one.
    EXPECT_TRUE(error.find(key + ": missing") != std::string::npos ||
                (key == "dispatch_cap_percent" &&
                 error.find("rules.contract: missing") != std::string::npos))
        << key << ": " << error;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(RulesConfig, TheFingerprintFollowsTheFigures) {
  auto a = ParseConfig(ShippedText(), "a");
  auto b = ParseConfig(Edited("tolerance_percent: 2", "tolerance_percent: 3"), "b");
  auto c = ParseConfig(ShippedText(), "c");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->rules->version, b->rules->version);
  EXPECT_NE(a->rules->fingerprint, b->rules->fingerprint);
  EXPECT_EQ(a->rules->fingerprint, c->rules->fingerprint);
}

TEST(RulesConfig, AConfigWithoutRulesSaysSoWhenTheyAreNeeded) {
  auto c = ParseConfig("ingest:\n  commit_every: 10\n", "pipeline.yaml");
  ASSERT_TRUE(c.ok());
  auto r = c->Rules();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pipeline.yaml: has no `rules` section"), std::string::npos);
}

TEST(RulesConfig, TheCompiledInCopyIsTheShippedFile) {
  auto shipped = ShippedConfig();
  auto file = ParseConfig(ShippedText(), "x");
  ASSERT_TRUE(shipped.ok() && file.ok());
  EXPECT_EQ(shipped->rules->fingerprint, file->rules->fingerprint);
}

}  // namespace
}  // namespace flexwatch

namespace flexwatch {
namespace {

TEST(DetectorsConfig, ShippedParametersAndErrorsNamingTheKey) {
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const DetectorConfig& d = cfg->detectors;
  ASSERT_TRUE(d.present);
  EXPECT_EQ(d.history_months, 13);  // the same month last year among them
  EXPECT_TRUE(d.own_history.enabled);
  EXPECT_EQ(d.own_history.version, "2");
  EXPECT_TRUE(d.own_history.seasonal);
  EXPECT_EQ(d.hours_bunching.version, "2");
  EXPECT_DOUBLE_EQ(d.hours_bunching.p_value, 0.00001);
  EXPECT_EQ(d.own_history.min_history_months, 4);
  EXPECT_DOUBLE_EQ(d.own_history.threshold_sigmas, 4);
  EXPECT_EQ(d.own_history.series.front(), SeriesId::kLaborContractShare);
  EXPECT_EQ(d.sector_peers.min_peers, 3);
  EXPECT_EQ(d.hours_bunching.below_hours, 3);
  EXPECT_DOUBLE_EQ(d.complaint_spike.p_value, 0.0001);

  EXPECT_NE(ErrorOf(Edited("series: [labor_contract_share, contract_exit_share",
                           "series: [labor_contract_shares, contract_exit_share"))
                .find("detectors.own_history.series[0]: 'labor_contract_shares' is not one of"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("    min_history_months: 4", "    min_history_months: 13"))
                .find("detectors.own_history.min_history_months: 13 leaves no month to judge"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("    p_value: 0.0001", "    p_value: 2"))
                .find("detectors.complaint_spike.p_value: 2 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("  hours_bunching:\n", "  hours_bunching:\n    typo: 1\n"))
                .find("detectors.hours_bunching.typo: unknown key"),
            std::string::npos);
  // Without the section: no detectors, and no error.
  std::string text = ShippedText();
  const size_t from = text.find("\ndetectors:\n"), to = text.find("\nevidence:");
  ASSERT_NE(from, std::string::npos);
  text.erase(from + 1, to - from);
  auto without = ParseConfig(text, "f.yaml");
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_FALSE(without->detectors.present);
}

TEST(Config, KafkaClientMayNotOverrideWhatExactlyOnceRestsOn) {
  for (const char* key :
       {"group.id", "group.instance.id", "enable.auto.commit", "enable.auto.offset.store",
        "auto.offset.reset", "enable.idempotence", "isolation.level", "bootstrap.servers"}) {
    auto c = ParseConfig(std::string("kafka:\n  client:\n    ") + key + ": \"x\"\n", "f.yaml");
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_NE(
        c.status().message().find(std::string("kafka.client.") + key + ": may not be overridden"),
        std::string::npos)
        << c.status().message();
  }
  EXPECT_TRUE(ParseConfig("kafka:\n  client:\n    security.protocol: SASL_SSL\n", "f.yaml").ok());
  auto named = ParseConfig("kafka:\n  instance_id: monitor-a\n", "f.yaml");
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(named->kafka.instance_id, "monitor-a");
  auto instance = ParseConfig("kafka:\n  client:\n    group.instance.id: x\n", "f.yaml");
  ASSERT_FALSE(instance.ok());
  EXPECT_NE(instance.status().message().find("use kafka.instance_id or run --instance"),
            std::string::npos)
      << instance.status().message();
}

TEST(Config, SecretsComeFromAFileOrTheEnvironment) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/sasl-password") << "s3cret\n";
  setenv("FLEXWATCH_TEST_KEY_PASSWORD", "k3y", 1);
  auto c = ParseConfig("kafka:\n  client:\n    sasl.password: {file: " + dir +
                           "/sasl-password}\n    ssl.key.password: {env: "
                           "FLEXWATCH_TEST_KEY_PASSWORD}\n",
                       "f.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kafka.client.at("sasl.password"), "s3cret");
  EXPECT_EQ(c->kafka.client.at("ssl.key.password"), "k3y");
  unsetenv("FLEXWATCH_TEST_KEY_PASSWORD");
  auto missing = ParseConfig(
      "kafka:\n  client:\n    sasl.password: {env: FLEXWATCH_TEST_NOT_SET}\n", "f.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("kafka.client.sasl.password: environment variable "
                                            "FLEXWATCH_TEST_NOT_SET is not set"),
            std::string::npos)
      << missing.status().message();
  auto unreadable =
      ParseConfig("kafka:\n  client:\n    sasl.password: {file: /nonexistent/x}\n", "f.yaml");
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find("cannot read /nonexistent/x"), std::string::npos);
}

TEST(Config, PlausibilityLimitsAndAPinnedClock) {
  auto c = ParseConfig(
      "ingest:\n  max_future_seconds: 60\n  now: \"2024-07-03T12:00:00+08:00\"\n  limits:\n"
      "    earnings_cny: 500\n    orders_covered: 10\n    duration_min: 600\n",
      "f.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ingest.decoder.max_future_seconds, 60);
  EXPECT_EQ(*c->ingest.decoder.now, 1719979200000);
  EXPECT_EQ(c->ingest.decoder.limits.earnings, 50000);
  EXPECT_EQ(c->ingest.decoder.limits.orders_covered, 10);
  EXPECT_EQ(c->ingest.decoder.limits.duration, 600000);
  EXPECT_EQ(c->ingest.decoder.limits.sum_insured, 100'000'000'00);  // the default
  auto shipped = LoadConfig(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  ASSERT_TRUE(shipped.ok());
  EXPECT_FALSE(shipped->ingest.decoder.now.has_value());
  EXPECT_EQ(shipped->ingest.decoder.limits.contribution_base, 1'000'000'00);
  auto bad = ParseConfig("ingest:\n  now: yesterday\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ingest.now"), std::string::npos);
  bad = ParseConfig("ingest:\n  limits:\n    duration_min: 2000\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ingest.limits.duration_min"), std::string::npos);
}

}  // namespace
}  // namespace flexwatch

namespace flexwatch {
namespace {

// The platform registry and the issuer: the shipped examples load, and each mistake an operator
// can make in them is an error naming the entry and key.
TEST(RegistryConfig, ShippedPlatformsAndIssuerAndTheirErrors) {
  auto c = ParseConfig(ShippedText(), "f.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const PlatformInfo* ride = c->platforms.Find("p-ride-2");
  ASSERT_NE(ride, nullptr);
  EXPECT_EQ(ride->name_zh, "示例网约车出行平台有限公司");
  EXPECT_EQ(ride->Name(Lang::kEn), "Example Ride-hailing Platform Co., Ltd.");
  EXPECT_EQ(ride->sector, Sector::kRideHailing);
  EXPECT_EQ(c->platforms.Find("p-unknown"), nullptr);
  EXPECT_EQ(c->issuer.DocumentNumber(2024, 7), "京人社监测〔2024〕7号");
  EXPECT_NE(ErrorOf(Edited("91110000EXAMPLE02M", "91110000EXAMPLE02N"))
                .find("platforms[1].credit_code: '91110000EXAMPLE02N' is not a unified social "
                      "credit code"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("{id: p-ride-2,", "{id: p-meal-1,"))
                .find("platforms[1].id: 'p-meal-1' is in the registry twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("91110000EXAMPLE02M", "91110000EXAMPLE01J"))
                .find("platforms[1].credit_code: '91110000EXAMPLE01J' is given to two platforms"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("name_zh: 示例网约车出行平台有限公司, ", ""))
                .find("platforms[1].name_zh: missing"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("sector: ride_hailing}", "sector: taxis}")).find("platforms[1].sector"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edited("京人社监测〔{year}〕{seq}号", "京人社监测〔{year}〕号"))
                .find("issuer.document_number: '京人社监测〔{year}〕号' has no {seq}"),
            std::string::npos);
  // Without the sections: no names (ids are used) and no issuer.
  auto bare = ParseConfig("kafka: {group: g}\n", "bare.yaml");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_TRUE(bare->platforms.empty());
  EXPECT_TRUE(bare->issuer.empty());
}

}  // namespace
}  // namespace flexwatch

namespace flexwatch {
namespace {

// Every path a config file names is taken from the file's folder, wherever the command starts.
TEST(Config, PathsAreRelativeToTheConfigFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("flexwatch-paths-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "etc");
  {
    std::ofstream f(dir / "etc" / "f.yaml");
    f << "publish: {dir: out}\n"
         "selfcheck_api: {tokens_file: tokens.tsv, reports_dir: ../reports, tls_cert_file: "
         "/abs/cert.pem, tls_key_file: key.pem}\n"
         "evidence: {pseudonym_key_file: keys/pseudonym.key}\n";
  }
  auto c = LoadConfig((dir / "etc" / "f.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->publish.dir, (dir / "etc" / "out").string());
  EXPECT_EQ(c->selfcheck_api.tokens_file, (dir / "etc" / "tokens.tsv").string());
  EXPECT_EQ(c->selfcheck_api.reports_dir, (dir / "reports").string());
  EXPECT_EQ(c->selfcheck_api.tls_cert_file, "/abs/cert.pem");  // absolute: as it is
  EXPECT_EQ(c->selfcheck_api.tls_key_file, (dir / "etc" / "key.pem").string());
  EXPECT_EQ(c->evidence.pseudonym_key_file, (dir / "etc" / "keys" / "pseudonym.key").string());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flexwatch
