// On a real three-node Apache Kafka cluster laid out as a regulator runs one
// (scripts/kafka-cluster.sh: KRaft, replication factor 3, min.insync.replicas 2, SASL/SCRAM and
// ACLs made with Kafka's own tools): each platform writes only its own topic, and `run` logs in
// as the monitor. One cluster serves every test of this binary (a JVM start per node is costly);
// each test uses topics and groups of its own.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "cli_helpers.h"
#include "kafka_helpers.h"

namespace flexwatch::testing {
namespace {

std::string Script() { return std::string(FLEXWATCH_SOURCE_DIR) + "/scripts/kafka-cluster.sh"; }

// The cluster, started once for the binary and stopped at its end.
class Cluster {
 public:
  static Cluster& Get() {
    static Cluster* cluster = new Cluster();
    return *cluster;
  }
  bool ok() const { return !bootstrap_.empty(); }
  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& error() const { return error_; }
  const fs::path& dir() const { return dir_.path(); }
  // librdkafka's login as `user` (admin, monitor, platform-<id>).
  ClientSettings Login(const std::string& user) const {
    return {{"security.protocol", "SASL_PLAINTEXT"},
            {"sasl.mechanisms", "SCRAM-SHA-512"},
            {"sasl.username", user},
            {"sasl.password", Password(user)}};
  }
  std::string Password(const std::string& user) const {
    std::string p = ReadFile(dir() / "clients" / (user + ".password"));
    while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
    return p;
  }
  // Runs the script's `args` (after the command, DIR is added); its stdout, or empty on failure
  // (error() then says why).
  std::string Run(const std::string& command, const std::vector<std::string>& args = {}) {
    std::vector<std::string> all = {Script(), command, dir().string()};
    all.insert(all.end(), args.begin(), args.end());
    const fs::path out = dir() / "script-stdout", err = dir() / "script-stderr";
    setenv("FLEXWATCH_CLUSTER_OWNER", std::to_string(getpid()).c_str(), 1);
    const int code = WaitAtMost(SpawnProgram("/bin/bash", all, out.string(), err.string()), 300);
    if (code != 0) {
      error_ = command + " exited " + std::to_string(code) + ": " + ReadFile(err);
      return "";
    }
    std::string text = ReadFile(out);
    return text.empty() ? " " : text;
  }
  void Stop() { Run("stop", {"kill"}); }

 private:
  Cluster() : dir_("kafka-cluster") {
    // Nine ports below Linux's ephemeral range, free now, varying with the process.
    int base = 0;
    for (int k = 0; k < 600 && !base; ++k) {
      const int candidate = 21000 + 10 * ((getpid() + 131 * k) % 1100);
      bool free = true;
      for (int p = 0; p < 9 && free; ++p) free = PortFree(candidate + p);
      if (free) base = candidate;
    }
    std::string out = Run("start", {std::to_string(base)});
    if (out.empty()) return;
    const std::string bootstrap = out.substr(0, out.find('\n'));
    if (Run("setup", {"4"}).empty()) return;
    for (const char* platform : {"p-a", "p-b"})
      if (Run("add-platform", {platform}).empty()) return;
    bootstrap_ = bootstrap;
  }
  static bool PortFree(int port) { return !Listening(port); }
  static bool Listening(int port) {
    const std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port);
    return WaitAtMost(SpawnProgram("/bin/bash", {"-c", probe}, "/dev/null", "/dev/null"), 10) == 0;
  }
  TempDir dir_;
  std::string bootstrap_, error_;
};

class StopCluster : public ::testing::Environment {
 public:
  void TearDown() override { Cluster::Get().Stop(); }
};
const auto* const kStop = ::testing::AddGlobalTestEnvironment(new StopCluster);

class ClusterKafkaTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ASSERT_TRUE(cluster().ok()) << cluster().error();
  }
  Cluster& cluster() { return Cluster::Get(); }
  // The shipped configuration with the monitor's login and short sessions.
  std::string MonitorConfig(const std::string& name, Overlay overlay = {}) {
    overlay.insert(overlay.begin(),
                   {{"kafka.commit_interval_ms", "200"},
                    {"kafka.client",
                     "{session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\", "
                     "security.protocol: SASL_PLAINTEXT, sasl.mechanisms: SCRAM-SHA-512, "
                     "sasl.username: monitor, sasl.password: \"" +
                         cluster().Password("monitor") + "\"}"}});
    return WriteConfig(dir_ / (name + ".yaml"), overlay);
  }
  CommandResult RunToIdle(const std::string& config, const std::string& state,
                          const std::string& group) {
    return Flexwatch({"--config", config, "run", "--brokers", cluster().bootstrap(), "--group",
                      group, "--state", (dir_ / state).string(), "--idle-exit", "3"},
                     dir_);
  }
};

std::string Order(const std::string& id, const std::string& platform) {
  return "{\"type\":\"order\",\"event_id\":\"" + id +
         "\",\"ts\":\"2024-07-03T12:00:00+08:00\",\"platform_id\":\"" + platform +
         "\",\"worker_id\":\"w-1\",\"sector\":\"food_delivery\",\"duration_min\":30,"
         "\"earnings_cny\":10}";
}

// The city feed, produced once to flexwatch.events by the gateway (keyed by platform_id): 20
// platforms over three months, a fifth of it delivered twice, and poison lines among it. Every
// test that compares with a replay runs before anything else is written to the shared topic.
class CityFeedTest : public ClusterKafkaTest {
 protected:
  // The feed's path (empty: it could not be made or produced).
  fs::path Feed() {
    static fs::path feed;
    static bool tried = false;
    if (tried) return feed;
    tried = true;
    const fs::path at = cluster().dir() / "city.ndjson";
#ifdef __SANITIZE_ADDRESS__
    const char* workers = "300";  // a Debug build several times slower, for memory errors
#else
    const char* workers = "800";
#endif
    CommandResult g = Flexwatch(
        {"gen", "--workers", workers, "--platforms", "20", "--months", "3", "--seed", "23"}, dir_);
    EXPECT_EQ(g.exit_code, 0) << g.err;
    std::string text = g.out;
    text += g.out.substr(0, g.out.find('\n', g.out.size() / 5) + 1);  // delivered twice
    text += "not json at all\n{\"type\":\"order\"}\n";
    text +=  // out of range, on its platform's partition
        "{\"type\":\"order\",\"event_id\":\"poison-1\",\"ts\":\"2024-07-03T12:00:00+08:00\","
        "\"platform_id\":\"p-ride-2\",\"worker_id\":\"w-1\",\"sector\":\"food_delivery\","
        "\"duration_min\":-3,\"earnings_cny\":10}\n";
    WriteFile(at, text);
    const std::string gateway =
        WriteConfig(dir_ / "gateway.yaml",
                    {{"kafka.client",
                      "{security.protocol: SASL_PLAINTEXT, sasl.mechanisms: SCRAM-SHA-512, "
                      "sasl.username: gateway, sasl.password: \"" +
                          cluster().Password("gateway") + "\"}"}});
    CommandResult produced = Flexwatch(
        {"--config", gateway, "produce", "--brokers", cluster().bootstrap(), at.string()}, dir_);
    EXPECT_EQ(produced.exit_code, 0) << produced.err;
    if (produced.exit_code == 0) feed = at;
    return feed;
  }
  // Starts `n` instances of `group` on the feed, each with its own state (s0, s1, ...) and name,
  // and alerts on a topic of the group's own; returns their pids.
  std::vector<pid_t> StartGroup(int n, const std::string& group) {
    if (alerts_.empty()) {
      alerts_ = "flexwatch.alerts." + group;
      EXPECT_FALSE(cluster().Run("topic", {alerts_, "2"}).empty()) << cluster().error();
      config_ = MonitorConfig(group, {{"kafka.alerts_topic", "\"" + alerts_ + "\""}});
    }
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) pids.push_back(Start(group, i));
    return pids;
  }
  pid_t Start(const std::string& group, int i) {
    const std::string name = "s" + std::to_string(i);
    return Spawn(
        {"--config", config_, "run", "--brokers", cluster().bootstrap(), "--group", group,
         "--instance", group + "-" + name, "--state", (dir_ / name).string(), "--idle-exit", "8"},
        dir_, "/dev/null", name + "-");
  }
  void WaitAll(const std::vector<pid_t>& pids) {
    for (size_t i = 0; i < pids.size(); ++i)
      EXPECT_EQ(WaitAtMost(pids[i], 240), 0)
          << ReadFile(dir_ / ("s" + std::to_string(i) + "-stderr"));
  }
  // Every monthly announcement and the year's, as `state` gives them.
  std::string Announcements(const std::string& state) {
    std::string all;
    for (const char* month : {"2024-07", "2024-08", "2024-09"}) {
      CommandResult a = Flexwatch(
          {"announce", "--state", (dir_ / state).string(), "--month", month, "--final"}, dir_);
      EXPECT_EQ(a.exit_code, 0) << a.err;
      all += a.out;
    }
    CommandResult y =
        Flexwatch({"announce", "--state", (dir_ / state).string(), "--year", "2024"}, dir_);
    EXPECT_EQ(y.exit_code, 0) << y.err;
    return all + y.out;
  }
  // An announcement without what only a monitor adds to a month it sealed (rules.md section 4):
  // the revision it is and the list of revisions, each with the wall-clock time it was sealed at,
  // the original a revision corrects, and the events that arrived after the seal. A replay seals
  // nothing.
  static std::string WithoutSeal(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    bool in_revisions = false;
    for (std::string line; std::getline(in, line);) {
      if (line == "  \"revisions\": [") in_revisions = true;
      const bool skip = in_revisions || line.rfind("  \"revision\": ", 0) == 0 ||
                        line.rfind("  \"original\": ", 0) == 0 ||
                        line.find("\"arrived_after_seal\": ") != std::string::npos;
      if (in_revisions && line == "  ],") in_revisions = false;
      if (!skip) out += line + "\n";
    }
    return out;
  }
  // The evidence files `announce --out` writes for August on `state` (name -> bytes), and what it
  // said on stderr.
  std::map<std::string, std::string> Evidence(const std::string& state, std::string* said) {
    const fs::path out = dir_ / ("evidence-" + state);
    setenv("FLEXWATCH_PSEUDONYM_KEY", "a-test-key-of-some-length", 1);
    CommandResult a = Flexwatch({"announce", "--state", (dir_ / state).string(), "--month",
                                 "2024-08", "--final", "--out", out.string()},
                                dir_);
    unsetenv("FLEXWATCH_PSEUDONYM_KEY");
    EXPECT_EQ(a.exit_code, 0) << a.err;
    *said = a.err;
    std::map<std::string, std::string> files;
    for (const auto& f : fs::recursive_directory_iterator(out / "evidence"))
      if (f.is_regular_file()) files[fs::relative(f.path(), out).string()] = ReadFile(f.path());
    fs::remove_all(out);
    return files;
  }
  // Each of the `n` instances' announcements: one replay's (`expected`) but for the seal, and the
  // same seal on every instance, byte for byte (the one instance that seals sends its seals; the
  // others adopt them). July, final while the feed still had September to come, is sealed, and
  // at `july_revision`.
  void ExpectOneCity(int n, const std::string& expected, int july_revision = 0) {
    const std::string first = Announcements("s0");
    EXPECT_LT(first.find("\n  \"revision\": " + std::to_string(july_revision) + ","),
              first.find("\"period\": \"2024-08\""))
        << first.substr(0, 3000);
    for (int i = 0; i < n; ++i) {
      const std::string mine = i == 0 ? first : Announcements("s" + std::to_string(i));
      EXPECT_EQ(WithoutSeal(mine), expected) << i;
      EXPECT_EQ(mine, first) << i;
    }
  }
  std::string Replayed() {
    CommandResult r =
        Flexwatch({"replay", "--state", (dir_ / "replay").string(), Feed().string()}, dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Announcements("replay");
  }
  // The alerts the group sent: each level change of a platform, dimension and month, provisional
  // or final, said once (by whichever instance judged the platform then), and each one from the
  // level the one before it said (a new owner goes on from its predecessor's alerts).
  void ExpectEachChangeAlertedOnce() {
    std::map<std::string, std::vector<std::string>> said;  // what an alert says -> its senders
    const std::vector<Received> topic =
        ReadTopic(cluster().bootstrap(), alerts_, 2, cluster().Login("admin"));
    const int alerts = static_cast<int>(topic.size());
    for (const Received& r : topic) {
      std::string what = r.payload;
      const size_t kind = what.find("\"kind\"");
      ASSERT_NE(kind, std::string::npos) << what;
      what.erase(0, kind);
      auto sender = r.headers.find("flexwatch.sender");
      said[what].push_back(sender == r.headers.end() ? "?" : sender->second);
    }
    for (const std::string& unchained : UnchainedLevelChanges(topic))
      ADD_FAILURE() << unchained << "\n"
                    << ReadFile(dir_ / "s0-stderr") << ReadFile(dir_ / "s1-stderr");
    EXPECT_GT(alerts, 0);
    for (const auto& [what, senders] : said) {
      if (senders.size() == 1) continue;
      std::string by;
      for (const std::string& sender : senders) by += " " + sender;
      ADD_FAILURE() << what << "\nsent by" << by << "\n"
                    << ReadFile(dir_ / "s0-stderr") << ReadFile(dir_ / "s1-stderr")
                    << ReadFile(dir_ / "s2-stderr");
    }
  }
  std::string alerts_, config_;
};

// cli.md 1.1, "Several monitors, one city": one, two and three instances of a group each end
// with the whole city in their state, so that `announce` on any of them is byte for byte one
// replay's; each level change is alerted once, by the instance judging the platform.
TEST_F(CityFeedTest, OneTwoOrThreeInstancesEachAnnounceTheCityAsOneReplayDoes) {
  ASSERT_FALSE(Feed().empty());
  const std::string expected = Replayed();
  std::string said;
  const std::map<std::string, std::string> evidence = Evidence("replay", &said);
  EXPECT_EQ(said.find("this instance judges"), std::string::npos) << said;  // a replay: all
  for (int n : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(n) + " instance(s)");
    alerts_.clear();
    const std::string group = "flexwatch-city-" + std::to_string(n);
    WaitAll(StartGroup(n, group));
    ExpectOneCity(n, expected);
    ExpectEachChangeAlertedOnce();
    // Each instance's --out evidence covers the platforms it judged when it last settled, and
    // says which: together the replay's files, byte for byte. (Two may overlap: an instance that
    // stopped before the group's last rebalance says what it judged until then.)
    std::map<std::string, std::string> together;
    for (int i = 0; i < n; ++i) {
      const auto files = Evidence("s" + std::to_string(i), &said);
      const size_t at = said.find("announce: evidence of the ");
      ASSERT_NE(at, std::string::npos) << said;
      EXPECT_EQ(std::to_string(files.size() / 3) + " platform(s) this instance judges",
                said.substr(at + 26, said.find(',', at) - at - 26))
          << said;  // three dimensions each
      for (const auto& [name, bytes] : files) {
        EXPECT_EQ(bytes, evidence.count(name) ? evidence.at(name) : "") << name;
        together[name] = bytes;
      }
    }
    EXPECT_EQ(together, evidence);
    for (int i = 0; i < n; ++i) fs::remove_all(dir_ / ("s" + std::to_string(i)));
  }
}

// The same through failures, mid-stream: one of two instances killed with SIGKILL and restarted
// after its session expired (the other takes its platforms over, then gives them back); the
// broker coordinating the group killed and restarted (the surviving static member is fenced by
// its own name when it comes back, and joins again), then the broker leading partition 0 if
// another. Nothing lost, nothing doubled, no alert sent twice, the same announcements.
TEST_F(CityFeedTest, AnInstanceAndTheLeaderBrokerKilledMidStreamChangeNothing) {
  ASSERT_FALSE(Feed().empty());
  const std::string expected = Replayed();
  const std::string group = "flexwatch-city-failures";
  std::vector<pid_t> pids = StartGroup(2, group);
  // Until the instances have read some of the feed, but not all of it.
  ASSERT_TRUE(WaitFor(std::chrono::seconds(60), [&] {
    return ReadFile(dir_ / "s1-stderr").find("committed") != std::string::npos;
  })) << ReadFile(dir_ / "s1-stderr");
  kill(pids[1], SIGKILL);
  Wait(pids[1]);
  auto node_of = [&](const std::string& command, const std::vector<std::string>& args) {
    const std::string out = cluster().Run(command, args);
    EXPECT_FALSE(out.empty()) << cluster().error();
    return out.substr(0, out.find('\n'));
  };
  auto kill_and_restart = [&](const std::string& node) {
    ASSERT_FALSE(cluster().Run("node-stop", {node, "kill"}).empty()) << cluster().error();
    std::this_thread::sleep_for(std::chrono::seconds(8));  // past the 6 s session: a takeover
    ASSERT_FALSE(cluster().Run("node-start", {node}).empty()) << cluster().error();
  };
  const std::string coordinator = node_of("coordinator", {group});
  kill_and_restart(coordinator);
  if (const std::string leader = node_of("leader", {"flexwatch.events", "0"});
      leader != coordinator)
    kill_and_restart(leader);
  pids[1] = Start(group, 1);
  WaitAll(pids);
  // The survivor said what it waited for: the group taking its partitions back to hand them
  // round again, or (when it had none yet, a slow start) its join.
  const std::string survivor = ReadFile(dir_ / "s0-stderr");
  EXPECT_TRUE(survivor.find("group " + group + " rebalances: ") != std::string::npos ||
              survivor.find("waiting to join group " + group) != std::string::npos)
      << survivor;
  ExpectOneCity(2, expected);
  ExpectEachChangeAlertedOnce();
}

// An instance joining a running group with an empty state (a new machine, a state lost) is
// assigned partitions the group has read to their end: it reads them up to the group's committed
// offsets before it judges their platforms, so it alerts nothing its predecessor has said (a
// verdict on part of a platform's events would be alerted as a change, or as a wrong final level
// on a month the predecessor closed). The alerts topic stays as the one instance left it.
TEST_F(CityFeedTest, AnInstanceJoiningWithAnEmptyStateAlertsNothingAlreadySaid) {
  ASSERT_FALSE(Feed().empty());
  const std::string expected = Replayed();
  WaitAll(StartGroup(1, "flexwatch-city-joined"));
  auto alerts = [&] {
    return ReadTopic(cluster().bootstrap(), alerts_, 2, cluster().Login("admin")).size();
  };
  const size_t said = alerts();
  ASSERT_GT(said, 0u);
  WaitAll(StartGroup(2, "flexwatch-city-joined"));  // s0 again, and s1 with an empty state
  EXPECT_EQ(alerts(), said) << ReadFile(dir_ / "s1-stderr");
  EXPECT_NE(ReadFile(dir_ / "s1-stderr").find("caught up with the group's committed offsets"),
            std::string::npos)
      << ReadFile(dir_ / "s1-stderr");
  ExpectOneCity(2, expected);
}

// One seal for the city through a revision: two instances judge a feed whose July contributions
// of one platform arrive only after July was sealed (a second delivery, the instances run
// again). The instance that publishes seals July, then records revision 1 with what changed; the
// other adopts both, and each changed platform-dimension is alerted once, as a revision, by the
// instance that judges the platform. Both states announce the same, seal included, and what one
// replay of every event gives.
// Whichever instance publishes in the second run (it may apply the late events before it
// publishes), July is judged once more when it becomes the publisher.
TEST_F(CityFeedTest, ARevisionIsOneForTheCityAndAlertedOnceByThePlatformsJudge) {
  const std::string topic = "flexwatch.events-revised", group = "flexwatch-revised";
  ASSERT_FALSE(cluster().Run("topic", {topic, "2"}).empty()) << cluster().error();
  CommandResult g = Flexwatch(
      {"gen", "--workers", "200", "--platforms", "6", "--months", "3", "--seed", "5"}, dir_);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::string now, later;  // later: p-meal-1's contributions for July
  std::istringstream lines(g.out);
  for (std::string line; std::getline(lines, line);)
    (line.find("\"type\":\"contribution\"") != std::string::npos &&
             line.find("\"platform_id\":\"p-meal-1\"") != std::string::npos &&
             line.find("\"period\":\"2024-07\"") != std::string::npos
         ? later
         : now) += line + "\n";
  ASSERT_FALSE(later.empty());
  WriteFile(dir_ / "now.ndjson", now);
  WriteFile(dir_ / "later.ndjson", later);
  WriteFile(dir_ / "all.ndjson", now + later);
  const std::string admin = WriteConfig(
      dir_ / "admin.yaml", {{"kafka.client",
                             "{security.protocol: SASL_PLAINTEXT, sasl.mechanisms: SCRAM-SHA-512, "
                             "sasl.username: admin, sasl.password: \"" +
                                 cluster().Password("admin") + "\"}"}});
  auto produce = [&](const char* file) {
    CommandResult p = Flexwatch({"--config", admin, "produce", "--brokers", cluster().bootstrap(),
                                 "--topic", topic, (dir_ / file).string()},
                                dir_);
    ASSERT_EQ(p.exit_code, 0) << p.err;
  };
  alerts_ = "flexwatch.alerts." + group;
  ASSERT_FALSE(cluster().Run("topic", {alerts_, "2"}).empty()) << cluster().error();
  config_ = MonitorConfig(group, {{"kafka.alerts_topic", "\"" + alerts_ + "\""},
                                  {"kafka.topics", "[\"" + topic + "\"]"}});
  produce("now.ndjson");
  WaitAll(StartGroup(2, group));
  for (const char* state : {"s0", "s1"}) {  // July sealed before its late contributions come
    const std::string july =
        Flexwatch({"announce", "--state", (dir_ / state).string(), "--month", "2024-07"}, dir_).out;
    ASSERT_NE(july.find("\n  \"revision\": 0,"), std::string::npos)
        << state << "\n"
        << ReadFile(dir_ / "s0-stderr") << ReadFile(dir_ / "s1-stderr");
  }
  produce("later.ndjson");
  WaitAll(StartGroup(2, group));  // the same states and names, again
  CommandResult r = Flexwatch(
      {"replay", "--state", (dir_ / "replay").string(), (dir_ / "all.ndjson").string()}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectOneCity(2, Announcements("replay"), /*july_revision=*/1);
  ExpectEachChangeAlertedOnce();
  int revisions = 0;
  for (const Received& a : ReadTopic(cluster().bootstrap(), alerts_, 2, cluster().Login("admin")))
    revisions += a.payload.find("\"kind\": \"revision\"") != std::string::npos;
  EXPECT_GT(revisions, 0);
}

// Two running instances given one name (run --instance): the broker fences the older member each
// time the other joins under it. Each joins again, as a member fenced by its own name after its
// group coordinator was lost does, until one has been fenced three times within five minutes:
// it stops with an error saying why, and the other runs on.
TEST_F(ClusterKafkaTest, TwoRunningInstancesUnderOneNameEndWithOneStoppingOnTheError) {
  const std::string topic = "flexwatch.events-fenced", group = "flexwatch-fenced";
  ASSERT_FALSE(cluster().Run("topic", {topic, "2"}).empty()) << cluster().error();
  std::vector<std::pair<int, std::string>> orders;
  for (int i = 0; i < 20; ++i) {
    const std::string platform = "p-" + std::to_string(i);
    orders.emplace_back(PlatformPartition(platform, 2), Order("f-" + std::to_string(i), platform));
  }
  ASSERT_EQ(
      ProduceToPartitionsError(cluster().bootstrap(), topic, orders, cluster().Login("admin")),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  const std::string config = MonitorConfig("fenced", {{"kafka.topics", "[\"" + topic + "\"]"}});
  auto start = [&](const std::string& state) {
    return Spawn({"--config", config, "run", "--brokers", cluster().bootstrap(), "--group", group,
                  "--instance", "one-name", "--state", (dir_ / state).string(), "--idle-exit", "8"},
                 dir_, "/dev/null", state + "-");
  };
  const pid_t a = start("a");
  ASSERT_TRUE(WaitFor(std::chrono::seconds(60), [&] {
    return ReadFile(dir_ / "a-stderr").find("judging") != std::string::npos;
  })) << ReadFile(dir_ / "a-stderr");
  const pid_t b = start("b");
  const int a_exit = WaitAtMost(a, 120), b_exit = WaitAtMost(b, 120);
  const std::string a_err = ReadFile(dir_ / "a-stderr"), b_err = ReadFile(dir_ / "b-stderr");
  // One stopped on the error, the other ran to its idle end; both were fenced and joined again.
  EXPECT_EQ(std::min(a_exit, b_exit), 0) << a_err << b_err;
  EXPECT_EQ(std::max(a_exit, b_exit), 2) << a_err << b_err;
  const std::string& failed = a_exit ? a_err : b_err;
  EXPECT_NE(failed.find("fenced 3 times within 5 minutes: another member of group " + group +
                        " has joined as instance one-name"),
            std::string::npos)
      << failed;
  for (const std::string* err : {&a_err, &b_err})
    EXPECT_NE(err->find("fenced in group " + group + " as instance one-name"), std::string::npos)
        << *err;
}

// events.md 1.1, "Transport": a platform's own topic is written under an ACL of its own, so the
// broker itself refuses one platform's events on another's topic, or on the shared topic it was
// not granted.
TEST_F(ClusterKafkaTest, APlatformMayWriteOnlyItsOwnTopic) {
  const ClientSettings p_a = cluster().Login("platform-p-a");
  EXPECT_EQ(ProduceToPartitionsError(cluster().bootstrap(), "flexwatch.events.p-a",
                                     {{0, Order("acl-1", "p-a")}}, p_a),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(ProduceToPartitionsError(cluster().bootstrap(), "flexwatch.events.p-b",
                                     {{0, Order("acl-2", "p-a")}}, p_a),
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(ProduceToPartitionsError(cluster().bootstrap(), "flexwatch.events",
                                     {{PlatformPartition("p-a", 4), Order("acl-3", "p-a")}}, p_a),
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  // Nor may it read what others wrote.
  EXPECT_TRUE(
      ReadTopic(cluster().bootstrap(), "flexwatch.events.p-b", 1, cluster().Login("platform-p-b"))
          .empty());
}

// On the secured cluster the monitor, logged in as itself, dead-letters an event on a
// platform's topic that names another platform (foreign_platform) and one on the shared topic
// off its platform's partition (misrouted), and applies the rest.
TEST_F(ClusterKafkaTest, ForeignAndMisroutedEventsAreDeadLettered) {
  const std::string boot = cluster().bootstrap();
  ASSERT_EQ(ProduceToPartitionsError(boot, "flexwatch.events.p-b",
                                     {{0, Order("r-1", "p-b")}, {0, Order("r-2", "p-a")}},
                                     cluster().Login("platform-p-b")),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  // The shared topic, written by a producer granted it (the admin here), keyed right and wrong.
  const int home = PlatformPartition("p-c", 4), away = (home + 2) % 4;
  ASSERT_EQ(ProduceToPartitionsError(boot, "flexwatch.events",
                                     {{home, Order("r-3", "p-c")}, {away, Order("r-4", "p-c")}},
                                     cluster().Login("admin")),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  CommandResult run = RunToIdle(MonitorConfig("route"), "s", "flexwatch-route");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::map<std::string, std::string> reasons;  // event id -> reason code
  for (const Received& r :
       ReadTopic(boot, "flexwatch.dead-letter", 4, cluster().Login("monitor"))) {
    const size_t at = r.payload.find("\"event_id\":\"");
    if (at == std::string::npos) continue;  // the city feed's poison
    const std::string id = r.payload.substr(at + 12, r.payload.find('"', at + 12) - at - 12);
    if (id.rfind("r-", 0) == 0) reasons[id] = r.headers.at("flexwatch.reason_code");
  }
  const std::map<std::string, std::string> expected = {{"r-2", "foreign_platform"},
                                                       {"r-4", "misrouted"}};
  EXPECT_EQ(reasons, expected);
  // r-1 and r-3 applied, each its platform's one order (p-a's topic may hold other tests').
  for (const char* platform : {"p-b", "p-c"}) {
    CommandResult inspect = Flexwatch(
        {"inspect", "--state", (dir_ / "s").string(), "--platform", platform, "--month", "2024-07"},
        dir_);
    EXPECT_NE(inspect.out.find("\"orders\": 1,"), std::string::npos) << platform << inspect.out;
  }
}

}  // namespace
}  // namespace flexwatch::testing
