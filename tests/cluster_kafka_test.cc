// On a real three-node Apache Kafka cluster laid out as a regulator runs one
// (scripts/kafka-cluster.sh: KRaft, replication factor 3, min.insync.replicas 2, SASL/SCRAM and
// ACLs made with Kafka's own tools): each platform writes only its own topic, and `run` logs in
// as the monitor. One cluster serves every test of this binary (a JVM start per node is costly);
// each test uses topics and groups of its own.
#include <unistd.h>

#include <memory>
#include <string>

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
    ASSERT_NE(at, std::string::npos) << r.payload;
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
