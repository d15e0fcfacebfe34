// `flexwatch replay`, `inspect` and `gen` through the real binary on real RocksDB state.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "cli_helpers.h"

namespace flexwatch::testing {
namespace {

const char* kValid[] = {
    R"({"type":"order","event_id":"o-1","ts":"2024-07-03T12:34:56+08:00","platform_id":"p-meal","worker_id":"w-1","sector":"food_delivery","duration_min":28,"earnings_cny":9.5,"district":"chaoyang"})",
    R"({"type":"order","event_id":"o-2","ts":"2024-07-04T12:34:56+08:00","platform_id":"p-meal","worker_id":"w-1","sector":"food_delivery","duration_min":32.5,"earnings_cny":11.25})",
    R"({"type":"contract","event_id":"c-1","ts":"2024-06-30T09:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","action":"signed","form":"outsourcing","counterparty_id":"agency-17"})",
    R"({"type":"contribution","event_id":"s-1","ts":"2024-08-10T10:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","period":"2024-07","scheme":"pension","payer":"employer","base_cny":6821,"amount_cny":1091.36})",
    R"({"type":"coverage","event_id":"v-1","ts":"2024-06-28T10:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","product":"accident","sum_insured_cny":100000,"valid_from":"2024-07-01","valid_to":"2024-07-31"})",
    R"({"type":"complaint","event_id":"q-1","ts":"2024-07-20T18:00:00+08:00","platform_id":"p-meal","category":"no_contract"})",
};

class ReplayCliTest : public TempDirTest {
 protected:
  std::string Dump(const fs::path& state, bool with_positions = true) {
    return DumpState(state, dir_, with_positions);
  }
  std::string Gen(const std::string& name, int workers, int months, int seed) {
    fs::path feed = dir_ / name;
    CommandResult r = Flexwatch({"gen", "--workers", std::to_string(workers), "--months",
                                 std::to_string(months), "--seed", std::to_string(seed)},
                                dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    WriteFile(feed, r.out);
    return feed.string();
  }
};

TEST_F(ReplayCliTest, StatsDeadLettersAndIdempotentRerun) {
  std::string feed;
  for (const char* l : kValid) feed += std::string(l) + "\n";
  feed += std::string(kValid[0]) + "\n";                                // line 7: duplicate
  feed += "{\"type\":\"order\",\"event_id\":\"o-9\"\n";                 // line 8: not JSON
  feed += "\n";                                                         // line 9: blank
  feed += std::string(kValid[1]).replace(80, 5, "p-m\xff\xfe") + "\n";  // line 10: bad UTF-8
  feed +=
      R"({"type":"order","event_id":"o-3","ts":"2024-07-05T12:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","sector":"food_delivery","duration_min":2000,"earnings_cny":1})"
      "\n";
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "state").string();
  const std::string src = (dir_ / "feed.ndjson").string();

  CommandResult r = Flexwatch(
      {"replay", "--state", state, "--stats-json", (dir_ / "stats.json").string(), src}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "stats.json"),
            "{\"accepted\": 6, \"duplicates\": 1, \"rejected\": 3, \"rewritten\": 0}\n");
  const std::string dead = ReadFile(fs::path(state) / "dead-letter.ndjson");
  simdjson::dom::parser parser;
  std::vector<int64_t> lines;
  std::istringstream in(dead);
  for (std::string l; std::getline(in, l);) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(l).get(e), simdjson::SUCCESS) << "dead letter is not JSON: " << l;
    EXPECT_EQ(std::string_view(e["source"]), src);
    EXPECT_FALSE(std::string_view(e["reason"]).empty());
    EXPECT_TRUE(e["raw"].is_string());
    lines.push_back(int64_t(e["line"]));
    if (int64_t(e["line"]) == 10) {
      EXPECT_EQ(std::string_view(e["reason_code"]), "invalid_utf8");
      EXPECT_TRUE(e["raw_base64"].is_string());
    }
    if (int64_t(e["line"]) == 11) {
      EXPECT_EQ(std::string_view(e["reason_code"]), "out_of_range");
      EXPECT_EQ(std::string_view(e["field"]), "duration_min");
    }
  }
  EXPECT_EQ(lines, (std::vector<int64_t>{8, 10, 11}));
  const std::string first_dump = Dump(state);

  // Re-running changes nothing: every event is a duplicate now, and the state is identical.
  r = Flexwatch({"replay", "--state", state, "--stats-json", (dir_ / "stats2.json").string(), src},
                dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "stats2.json"),
            "{\"accepted\": 0, \"duplicates\": 7, \"rejected\": 3, \"rewritten\": 0}\n");
  EXPECT_EQ(Dump(state), first_dump);
  EXPECT_EQ(ReadFile(fs::path(state) / "dead-letter.ndjson"), dead);
}

TEST_F(ReplayCliTest, ARecordRewrittenAfterDeliveryIsCountedAndTheFirstArrivalStands) {
  // Order o-2 delivered again as it was (a re-delivery), and again with its duration cut from
  // 32.5 to 12 minutes (a rewrite); the pension of s-1 again with a smaller base, in another
  // file and run.
  std::string feed;
  for (const char* l : kValid) feed += std::string(l) + "\n";
  feed += std::string(kValid[1]) + "\n";
  std::string edited = kValid[1];
  edited.replace(edited.find("\"duration_min\":32.5"), 19, "\"duration_min\":12");
  feed += edited + "\n";
  WriteFile(dir_ / "feed.ndjson", feed);
  std::string payment = kValid[3];
  payment.replace(payment.find("\"base_cny\":6821"), 15, "\"base_cny\":3000");
  WriteFile(dir_ / "later.ndjson", payment + "\n");
  const std::string state = (dir_ / "state").string();
  CommandResult r = Flexwatch({"replay", "--state", state, "--stats-json",
                               (dir_ / "stats.json").string(), (dir_ / "feed.ndjson").string()},
                              dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "stats.json"),
            "{\"accepted\": 6, \"duplicates\": 2, \"rejected\": 0, \"rewritten\": 1}\n");
  EXPECT_NE(r.err.find("duplicates 2 (1 with other content)"), std::string::npos) << r.err;
  r = Flexwatch({"replay", "--state", state, (dir_ / "later.ndjson").string()}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("duplicates 1 (1 with other content)"), std::string::npos) << r.err;
  // Both rewrites count for July (the payment for its period), and what came first stands: the
  // month has 60.5 minutes of orders and a payment on a base of 6821.
  CommandResult a = Flexwatch({"announce", "--state", state, "--month", "2024-07"}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("\"rewritten_events\": 2,"), std::string::npos) << a.out;
  const std::string summary = Flexwatch({"inspect", "--state", state}, dir_).out;
  EXPECT_NE(
      summary.find("\"period\": \"2024-07\", \"worker_months\": 1, \"orders\": 2, \"hours\": "
                   "1.008, \"earnings_cny\": 20.75, \"complaints\": 1, \"rewritten_events\": 2}"),
      std::string::npos)
      << summary;
  const std::string wm =
      Flexwatch({"inspect", "--state", state, "--platform", "p-meal", "--worker", "w-1"}, dir_).out;
  EXPECT_NE(wm.find("\"minutes\": 60.5"), std::string::npos) << wm;
  EXPECT_NE(wm.find("\"base_cny\": 6821"), std::string::npos) << wm;
  a = Flexwatch(
      {"announce", "--state", state, "--month", "2024-07", "--format", "md", "--lang", "en"}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string& md = a.out;
  EXPECT_NE(md.find("Resent with other content |"), std::string::npos) << md;
  EXPECT_NE(md.find("2 records were sent again under the same record number with other content"),
            std::string::npos)
      << md;
}

TEST_F(ReplayCliTest, StdinIsASource) {
  std::string feed;
  for (const char* l : kValid) feed += std::string(l) + "\n";
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "state").string();
  CommandResult r =
      Flexwatch({"replay", "--state", state, "--stats-json", (dir_ / "stats.json").string(), "-"},
                dir_, (dir_ / "feed.ndjson").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "stats.json"),
            "{\"accepted\": 6, \"duplicates\": 0, \"rejected\": 0, \"rewritten\": 0}\n");
  r = Flexwatch({"inspect", "--state", state, "--platform", "p-meal", "--worker", "w-1", "--month",
                 "2024-07"},
                dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"minutes\": 60.500"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"earnings_cny\": 20.75"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"form\": \"outsourcing\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"scheme\": \"pension\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"sum_insured_cny\": 100000.00"), std::string::npos) << r.out;
  r = Flexwatch({"inspect", "--state", state}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("{\"source\": \"<stdin>\", \"position\": {\"line\":6,"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"events\": {\"accepted\": 6, \"rejected\": 0}"), std::string::npos)
      << r.out;
}

TEST_F(ReplayCliTest, UsageAndInputErrorsExitTwo) {
  CommandResult r = Flexwatch({"replay", "--state", (dir_ / "s").string(), "/no/such/feed"}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("input file not found: /no/such/feed"), std::string::npos) << r.err;
  WriteFile(dir_ / "file", "x");
  WriteFile(dir_ / "feed.ndjson", std::string(kValid[0]) + "\n");
  r = Flexwatch({"replay", "--state", (dir_ / "file").string(), (dir_ / "feed.ndjson").string()},
                dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
  r = Flexwatch({"replay", "--bogus"}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = Flexwatch({"inspect", "--state", (dir_ / "nothing").string()}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  r = Flexwatch({"replay", "--help"}, dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--stats-json"), std::string::npos);
  WriteFile(dir_ / "bad.yaml", "ingest:\n  commit_evry: 3\n");
  r = Flexwatch({"--config", (dir_ / "bad.yaml").string(), "replay", "--state",
                 (dir_ / "s").string(), (dir_ / "feed.ndjson").string()},
                dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ingest.commit_evry: unknown key"), std::string::npos) << r.err;
}

// cli.md 1.1: --version names the version, the rule set (the stamp announcements carry) and the
// build; a mistyped subcommand is named with the one it is closest to; none at all lists them; a
// worker or a token file that is not there is named rather than given as empty.
TEST_F(ReplayCliTest, VersionAndWhatAMistypedCommandLineSays) {
  CommandResult v = Flexwatch({"--version"}, dir_);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("flexwatch ", 0), 0u) << v.out;
  EXPECT_NE(v.out.find("\nbuild: "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("librdkafka "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("RocksDB "), std::string::npos) << v.out;
  WriteFile(dir_ / "feed.ndjson", std::string(kValid[0]) + "\n");
  const std::string state = (dir_ / "s").string();
  ASSERT_EQ(
      Flexwatch({"replay", "--state", state, (dir_ / "feed.ndjson").string()}, dir_).exit_code, 0);
  CommandResult a = Flexwatch({"announce", "--state", state, "--month", "2024-07"}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const size_t stamp = a.out.find("\"rules\": {\"id\": \"");
  ASSERT_NE(stamp, std::string::npos) << a.out;
  auto field = [&](const std::string& name) {
    const size_t at = a.out.find("\"" + name + "\": \"", stamp) + name.size() + 5;
    return a.out.substr(at, a.out.find('"', at) - at);
  };
  EXPECT_NE(v.out.find("\nrules: " + field("id") + " " + field("version") + " (fingerprint " +
                       field("fingerprint") + ")"),
            std::string::npos)
      << v.out << a.out.substr(0, 400);
  // A worker the platform has no record of is named, not an empty answer with exit 0.
  CommandResult worker = Flexwatch(
      {"inspect", "--state", state, "--platform", "p-meal", "--worker", "w-nobody"}, dir_);
  EXPECT_EQ(worker.exit_code, 2);
  EXPECT_EQ(worker.err, "flexwatch: inspect: no record of worker w-nobody on platform p-meal\n");
  EXPECT_EQ(
      Flexwatch({"inspect", "--state", state, "--platform", "p-meal", "--worker", "w-1"}, dir_)
          .exit_code,
      0);
  CommandResult typo = Flexwatch({"annouce", "--state", state, "--month", "2024-07"}, dir_);
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err, "flexwatch: no subcommand annouce: did you mean announce? (see --help)\n");
  CommandResult none = Flexwatch({}, dir_);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("give a subcommand (replay, inspect, announce"), std::string::npos)
      << none.err;
  CommandResult tokens =
      Flexwatch({"token", "list", "--file", (dir_ / "no-tokens.tsv").string()}, dir_);
  EXPECT_EQ(tokens.exit_code, 2);
  EXPECT_NE(tokens.err.find("no token file at " + (dir_ / "no-tokens.tsv").string()),
            std::string::npos)
      << tokens.err;
}

TEST_F(ReplayCliTest, GenIsDeterministic) {
  std::string a = ReadFile(Gen("a.ndjson", 60, 2, 11));
  std::string b = ReadFile(Gen("b.ndjson", 60, 2, 11));
  std::string c = ReadFile(Gen("c.ndjson", 60, 2, 12));
  EXPECT_GT(a.size(), 10000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST_F(ReplayCliTest, ShuffledFeedGivesTheSameState) {
  std::string feed = Gen("feed.ndjson", 120, 2, 5);
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(feed));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::mt19937 rng(99);
  std::shuffle(lines.begin(), lines.end(), rng);
  std::string shuffled;
  for (const auto& l : lines) shuffled += l + "\n";
  WriteFile(dir_ / "shuffled.ndjson", shuffled);
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "a").string(), feed}, dir_).exit_code, 0);
  ASSERT_EQ(
      Flexwatch({"replay", "--state", (dir_ / "b").string(), (dir_ / "shuffled.ndjson").string()},
                dir_)
          .exit_code,
      0);
  std::string a = Dump(dir_ / "a", false), b = Dump(dir_ / "b", false);
  EXPECT_GT(a.size(), 100000u);
  EXPECT_TRUE(a == b) << "states differ after a shuffle";
}

// kill -9 at several instants of a replay, then a re-run: the state equals one clean run's.
TEST_F(ReplayCliTest, KillNineThenRerunEqualsACleanRun) {
  std::string feed = Gen("feed.ndjson", 400, 2, 8);
  WriteFile(dir_ / "small-commits.yaml", "ingest:\n  commit_every: 500\n");
  const std::string cfg = (dir_ / "small-commits.yaml").string();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Flexwatch({"--config", cfg, "replay", "--state", (dir_ / "clean").string(), feed}, dir_)
                .exit_code,
            0);
  const auto clean_run = std::chrono::steady_clock::now() - start;
  const std::string clean = Dump(dir_ / "clean");
  int killed_mid_way = 0;
  // Instants spread over the clean run's duration, so they fall mid-way on any machine.
  for (int percent : {15, 45, 75}) {
    fs::path state = dir_ / ("killed-" + std::to_string(percent));
    pid_t pid = Spawn({"--config", cfg, "replay", "--state", state.string(), feed}, dir_);
    std::this_thread::sleep_for(clean_run * percent / 100);
    bool was_running = kill(pid, SIGKILL) == 0;
    int code = Wait(pid);
    if (was_running && code == 128 + SIGKILL) ++killed_mid_way;
    CommandResult r = Flexwatch({"--config", cfg, "replay", "--state", state.string(), feed}, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(Dump(state) == clean) << "state after kill at " << percent << "% differs";
  }
  EXPECT_GT(killed_mid_way, 0) << "no replay was still running when killed";
}

}  // namespace
}  // namespace flexwatch::testing
