// `flexwatch run` against a real Apache Kafka broker (scripts/kafka-broker.sh: Kafka 4 from Maven
// Central on Java 17, one KRaft node on loopback), fed by `flexwatch produce` in a separate
// process: the state and the announcement equal those of `replay` on the same feed, through
// SIGKILLs and a broker restart.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "cli_helpers.h"
#include "flexwatch/settings/config.h"
#include "kafka_helpers.h"

namespace flexwatch::testing {
namespace {

class RealKafkaTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // Below Linux's ephemeral range (32768-60999): a client reconnecting to a broker that is
    // down can otherwise be handed the broker's own port as its local port (a TCP
    // self-connection) and keep the broker from binding it when it comes back.
    // Ports no one listens on: a broker left behind by a test that died would otherwise answer
    // in this one's place, with its topics.
    for (int k = 0; k < 6000; ++k) {
      port_ = 20000 + 2 * ((getpid() + 997 * k) % 6000);
      if (PortFree(port_) && PortFree(port_ + 1)) break;
    }
    WriteFile(dir_ / "kafka.yaml",
              "kafka:\n  commit_interval_ms: 200\n  client:\n    session.timeout.ms: \"6000\"\n"
              "    heartbeat.interval.ms: \"500\"\n");
    config_ = (dir_ / "kafka.yaml").string();
    StartBroker();
  }
  void TearDown() override {
    StopBroker();
    TempDirTest::TearDown();
  }
  void StartBroker() {
    const std::string script = std::string(FLEXWATCH_SOURCE_DIR) + "/scripts/kafka-broker.sh";
    broker_ = fork();
    if (broker_ == 0) {
      setpgid(0, 0);
      int out = open((dir_ / "broker-stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open((dir_ / "broker-stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(out, 1);
      dup2(err, 2);
      execl("/bin/bash", "bash", script.c_str(), (dir_ / "broker").c_str(),
            std::to_string(port_).c_str(), std::to_string(partitions_).c_str(), nullptr);
      _exit(127);
    }
    bootstrap_.clear();
    for (int i = 0; i < 1200 && bootstrap_.empty(); ++i) {  // up to 2 minutes (a JVM start)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string out = ReadFile(dir_ / "broker-stdout");
      if (out.find('\n') != std::string::npos) bootstrap_ = out.substr(0, out.find('\n'));
      int status = 0;
      if (waitpid(broker_, &status, WNOHANG) == broker_) break;
    }
    ASSERT_FALSE(bootstrap_.empty())
        << ReadFile(dir_ / "broker-stderr") << ReadFile(dir_ / "broker" / "broker.log");
  }
  // The broker's script and its JVM are a process group of their own: stopped together, and
  // killed together if the JVM does not stop in a minute, so that none outlives the test.
  void StopBroker() {
    if (broker_ <= 0) return;
    kill(-broker_, SIGTERM);
    if (WaitAtMost(broker_, 60) < 0) kill(-broker_, SIGKILL);
    broker_ = -1;
  }
  static bool PortFree(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return free;
  }
  std::string Gen(int workers, int seed) {
    CommandResult g = Flexwatch({"gen", "--workers", std::to_string(workers), "--months", "1",
                                 "--seed", std::to_string(seed)},
                                dir_);
    EXPECT_EQ(g.exit_code, 0) << g.err;
    WriteFile(dir_ / "feed.ndjson", g.out);
    return (dir_ / "feed.ndjson").string();
  }
  CommandResult Produce(const std::string& feed) {
    return Flexwatch({"--config", config_, "produce", "--brokers", bootstrap_, feed}, dir_);
  }
  std::vector<std::string> RunArgs(const std::string& state, const std::string& group,
                                   const std::string& idle) {
    return {"--config",    config_,    "run",
            "--brokers",   bootstrap_, "--group",
            group,         "--state",  (dir_ / state).string(),
            "--idle-exit", idle};
  }
  std::string Dump(const std::string& state) { return DumpState(dir_ / state, dir_, false); }

  std::string Announce(const std::string& state) {
    CommandResult a = Flexwatch(
        {"announce", "--state", (dir_ / state).string(), "--month", "2024-07", "--final"}, dir_);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    return a.out;
  }
  int64_t Accepted(const std::string& state) { return AcceptedCount(dir_ / state, dir_); }

  int64_t Lines(const std::string& path) {
    const std::string text = ReadFile(path);
    return std::count(text.begin(), text.end(), '\n');
  }

  int port_ = 0;
  int partitions_ = 4;  // of each topic the broker creates
  pid_t broker_ = -1;
  std::string config_, bootstrap_;
};

#ifdef __SANITIZE_ADDRESS__
// Under the sanitizers (a Debug build several times slower, for memory errors rather than scale)
// the same scenario on a third of the events: a million took six minutes of the CI run.
constexpr int kScaleWorkers = 2000;
constexpr int64_t kScaleLines = 330000;
#else
constexpr int kScaleWorkers = 6000;
constexpr int64_t kScaleLines = 1000000;
#endif

TEST_F(RealKafkaTest, AMillionEventsThroughKafkaEqualReplayEvenKilledTenTimes) {
  const std::string feed = Gen(kScaleWorkers, 31);
  ASSERT_GE(Lines(feed), kScaleLines);
  CommandResult p = Produce(feed);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "file").string(), feed}, dir_).exit_code, 0);
  const std::string expected = Dump("file"), announcement = Announce("file");

  CommandResult clean = Flexwatch(RunArgs("clean", "g-clean", "3"), dir_);
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  // The operator's view of the backlog: progress lines with the lag in messages and the partition
  // most behind (its event time once it has read some of it; from the second line on, 5 s
  // apart, the rate since the one before), then a line once every partition is read.
  const size_t progress = clean.err.find("run: committed: accepted ");
  ASSERT_NE(progress, std::string::npos) << clean.err;
  const std::string line = clean.err.substr(progress, clean.err.find('\n', progress) - progress);
  EXPECT_NE(line.find("; behind by "), std::string::npos) << line;
  EXPECT_NE(line.find(" messages, most on flexwatch.events/"), std::string::npos) << line;
  if (const size_t next = clean.err.find("run: committed: accepted ", progress + 1);
      next != std::string::npos) {
    EXPECT_NE(clean.err.substr(next, clean.err.find('\n', next) - next).find(" messages/s"),
              std::string::npos)
        << clean.err;
  }
  EXPECT_NE(clean.err.find("run: caught up: every partition read to its end", progress),
            std::string::npos)
      << clean.err;
  EXPECT_EQ(Dump("clean"), expected);
  EXPECT_EQ(Announce("clean"), announcement);

  // Ten SIGKILLs at random moments, each followed by a restart on the same state.
  // A group of its own each round, so that the killed member does not hold up the next join
  // for its session (the offsets are in the state, whatever the group).
  std::mt19937 rng(17);
  int killed = 0, mid_stream = 0;
  int64_t before = 0;
  const int64_t total = Accepted("clean");
  for (int round = 0; round < 10; ++round) {
    pid_t pid = Spawn(RunArgs("killed", "g-killed-" + std::to_string(round), "60"), dir_,
                      "/dev/null", "run-");
    // Killed at a random moment after its first commit: while it consumes.
    for (int i = 0; i < 600; ++i) {
      if (ReadFile(dir_ / "run-stderr").find("so far") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Within a quarter second of it: the monitor reads a few hundred thousand events a second,
    // so later kills would mostly fall after the last message on a fast machine.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
    if (kill(pid, SIGKILL) == 0 && Wait(pid) == 128 + SIGKILL) ++killed;
    const int64_t now = Accepted("killed");
    EXPECT_GE(now, before);
    if (now > before && now < total) ++mid_stream;
    before = now;
  }
  CommandResult last = Flexwatch(RunArgs("killed", "g-killed-last", "3"), dir_);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(Dump("killed"), expected);
  EXPECT_EQ(Announce("killed"), announcement);
  EXPECT_GE(killed, 8);
  EXPECT_GE(mid_stream, 2) << "kills did not fall while the feed was being consumed";
}

// Static membership (KIP-345): an instance killed with -9 and restarted under the same name
// takes its partitions back at once, not after its old session expires (30 s here), and goes
// on where its state says.
TEST_F(RealKafkaTest, AnInstanceRestartedUnderItsNameTakesItsPartitionsBackAtOnce) {
  WriteFile(dir_ / "static.yaml",
            "kafka:\n  commit_interval_ms: 200\n  client:\n    session.timeout.ms: \"30000\"\n"
            "    heartbeat.interval.ms: \"1000\"\n");
  const std::string feed = Gen(300, 34);
  ASSERT_EQ(Produce(feed).exit_code, 0);
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "file").string(), feed}, dir_).exit_code, 0);
  auto args = [&](const std::string& idle) {
    std::vector<std::string> a = RunArgs("s", "g-static", idle);
    a[1] = (dir_ / "static.yaml").string();
    a.insert(a.end(), {"--instance", "monitor-a"});
    return a;
  };
  auto assigned_within = [&](const std::string& name, int seconds) {
    return WaitFor(std::chrono::seconds(seconds), [&] {
      return ReadFile(dir_ / (name + "stderr")).find("assigned ") != std::string::npos;
    });
  };
  pid_t first = Spawn(args("60"), dir_, "/dev/null", "first-");
  ASSERT_TRUE(assigned_within("first-", 60)) << ReadFile(dir_ / "first-stderr");
  EXPECT_NE(ReadFile(dir_ / "first-stderr").find("instance monitor-a"), std::string::npos);
  kill(first, SIGKILL);
  Wait(first);
  // Its session has 30 s to run: a new member would wait for it. The same instance does not.
  const auto restarted = std::chrono::steady_clock::now();
  pid_t second = Spawn(args("3"), dir_, "/dev/null", "second-");
  EXPECT_TRUE(assigned_within("second-", 15)) << ReadFile(dir_ / "second-stderr");
  EXPECT_LT(std::chrono::steady_clock::now() - restarted, std::chrono::seconds(15));
  EXPECT_EQ(WaitAtMost(second, 90), 0) << ReadFile(dir_ / "second-stderr");
  EXPECT_EQ(Dump("s"), Dump("file"));
}

TEST_F(RealKafkaTest, TheBrokerStoppedAndRestartedMidStreamLosesNothing) {
  const std::string feed = Gen(1500, 32);
  ASSERT_EQ(Produce(feed).exit_code, 0);
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "file").string(), feed}, dir_).exit_code, 0);
  pid_t run = Spawn(RunArgs("kafka", "g-restart", "30"), dir_, "/dev/null", "run-");
  auto says = [&](const std::string& what) {
    return WaitFor(std::chrono::seconds(60),
                   [&] { return ReadFile(dir_ / "run-stderr").find(what) != std::string::npos; });
  };
  EXPECT_TRUE(says("so far"));  // mid-stream: it has committed, and 1500 workers take longer
  StopBroker();
  EXPECT_TRUE(says("run: not ready: "));  // down until the monitor has seen it
  StartBroker();
  EXPECT_EQ(Wait(run), 0) << ReadFile(dir_ / "run-stderr");
  const std::string said = ReadFile(dir_ / "run-stderr");
  EXPECT_NE(said.find("run: not ready: "), std::string::npos) << said;
  EXPECT_LT(said.find("run: not ready: "), said.find("run: ready again")) << said;
  EXPECT_EQ(Dump("kafka"), Dump("file"));
  EXPECT_EQ(Announce("kafka"), Announce("file"));
}

// cli.md 1.1, "Reading a live state", on the real broker. While the feed flows into a running
// `run`, `inspect --dump` is a consistent snapshot: its records are exactly those of a replay of
// the messages its positions say were read (each partition's first N, as they were produced).
// Once the monitor has read everything, `announce`, `inspect --dimension` and `inspect` give
// while it runs what they give after it stops.
TEST_F(RealKafkaTest, ReadsBesideARunningMonitorAreSnapshotsAtTheOffsetsTheyHold) {
  CommandResult g = Flexwatch({"gen", "--workers", "600", "--months", "2", "--seed", "36"}, dir_);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::vector<std::vector<std::string>> by_partition(partitions_);
  std::vector<std::pair<int, std::string>> messages;
  {
    std::istringstream in(g.out);
    for (std::string line; std::getline(in, line);) {
      const int p = PlatformPartition(PlatformOf(line), partitions_);
      by_partition[p].push_back(line);
      messages.emplace_back(p, line);
    }
  }
  const std::string config =
      WriteConfig(dir_ / "live.yaml", {{"kafka.client", kShortSessions},
                                       {"kafka.commit_interval_ms", "100"},
                                       {"kafka.partition_idle_seconds", "1"}});
  // The feed in four parts, each read while the next is produced (the first before the monitor
  // starts: it makes the topic).
  auto produce = [&](int part) {
    const size_t from = messages.size() * part / 4, to = messages.size() * (part + 1) / 4;
    return ProduceToPartitions(
        bootstrap_, "flexwatch.events",
        std::vector<std::pair<int, std::string>>(messages.begin() + from, messages.begin() + to));
  };
  ASSERT_TRUE(produce(0));
  std::vector<std::string> args = RunArgs("s", "g-live", "600");
  args[1] = config;
  pid_t run = Spawn(args, dir_, "/dev/null", "run-");
  // Not left running when an assertion ends the test early (a child reaped is not killed).
  struct Reap {
    pid_t pid;
    ~Reap() {
      if (waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reap{run};
  ASSERT_TRUE(WaitFor(std::chrono::seconds(60), [&] {
    return ReadFile(dir_ / "run-stderr").find("assigned flexwatch.events") != std::string::npos;
  })) << ReadFile(dir_ / "run-stderr");
  const std::string state = (dir_ / "s").string();
  // Each snapshot's read offsets, and its records.
  auto snapshot = [&](std::vector<int64_t>& read) {
    const std::string all = DumpState(dir_ / "s", dir_, true);
    read.assign(partitions_, 0);
    const std::string pos = "default\tpos/kafka:flexwatch.events:";
    std::istringstream in(all);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(pos, 0) == 0) {
        const int p = std::stoi(line.substr(pos.size()));
        read[p] = std::stoll(line.substr(line.find("\"offset\":") + 9));
      }
    return all;
  };
  auto records = [](const std::string& dump) {
    std::string out;
    std::istringstream in(dump);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("dead\t", 0) != 0 && line.rfind("default\tpos/", 0) != 0 &&
          line.rfind("default\twatermark\t", 0) != 0)
        out += line + "\n";
    return out;
  };
  // A snapshot or two as each part is read.
  int mid_flow = 0, compared = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      ASSERT_TRUE(produce(part));
    }
    for (int k = 0; k < 2; ++k) {
      std::vector<int64_t> read;
      const std::string dump = snapshot(read);
      if (dump.empty()) continue;
      int64_t total = 0, all = 0;
      std::string prefix;
      for (int p = 0; p < partitions_; ++p) {
        ASSERT_LE(read[p], static_cast<int64_t>(by_partition[p].size()));
        for (int64_t i = 0; i < read[p]; ++i) prefix += by_partition[p][i] + "\n";
        total += read[p];
        all += static_cast<int64_t>(by_partition[p].size());
      }
      mid_flow += total > 0 && total < all;
      const std::string name = "prefix-" + std::to_string(compared++);
      WriteFile(dir_ / (name + ".ndjson"), prefix);
      ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / name).string(),
                           (dir_ / (name + ".ndjson")).string()},
                          dir_)
                    .exit_code,
                0);
      EXPECT_EQ(records(dump), Dump(name)) << "a snapshot of " << total << " messages";
      fs::remove_all(dir_ / name);
    }
  }
  EXPECT_GE(compared, 4);
  EXPECT_GE(mid_flow, 2) << "no snapshot fell while the feed was being read";
  // Read to its end and judged: the reads beside the running monitor, then after it stops.
  auto reads = [&] {
    std::string out;
    for (const std::vector<std::string>& read :
         {std::vector<std::string>{"announce", "--state", state, "--month", "2024-07"},
          {"announce", "--state", state, "--month", "2024-08", "--final"},
          {"inspect", "--state", state},
          {"inspect", "--state", state, "--platform", "p-ride-2", "--month", "2024-07",
           "--dimension", "contract_avoidance"}}) {
      CommandResult r = Flexwatch(read, dir_);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      out += r.out;
    }
    return out;
  };
  const std::string live = SettledReads(dir_ / "run-stderr", reads, 2, 120, dir_ / "s", dir_);
  ASSERT_FALSE(live.empty()) << ReadFile(dir_ / "run-stderr");
  EXPECT_NE(live.find("\"revision\": 0"), std::string::npos) << "July not sealed by the monitor";
  kill(run, SIGTERM);
  ASSERT_EQ(WaitAtMost(run, 60), 0) << ReadFile(dir_ / "run-stderr");
  EXPECT_EQ(reads(), live);
}

// Hostile events on the real broker: a month the rules cannot judge, a clock from the end of
// time, an impossible year. `run` goes on, says which month it does not judge, rejects the
// implausible with their topic, partition and offset, and judges the rest as replay does.
TEST_F(RealKafkaTest, HostileEventsNeverStopOrPoisonTheMonitor) {
  const std::string feed = Gen(60, 21);
  std::string text = ReadFile(feed);
  for (int d = 1; d <= 5; ++d)
    text += "{\"type\":\"order\",\"event_id\":\"old-" + std::to_string(d) +
            "\",\"ts\":\"2021-01-0" + std::to_string(d) +
            "T10:00:00+08:00\",\"platform_id\":\"p-meal-1\",\"worker_id\":\"w-old\","
            "\"sector\":\"food_delivery\",\"duration_min\":1400,\"earnings_cny\":10}\n";
  text +=
      "{\"type\":\"complaint\",\"event_id\":\"q-end\",\"ts\":\"9999-12-31T00:00:00+08:00\","
      "\"platform_id\":\"p-meal-1\",\"category\":\"no_contract\"}\n";
  text +=
      "{\"type\":\"order\",\"event_id\":\"o-zero\",\"ts\":\"0000-01-01T00:00:00+08:01\","
      "\"platform_id\":\"p-meal-1\",\"worker_id\":\"w-1\",\"sector\":\"food_delivery\","
      "\"duration_min\":30,\"earnings_cny\":10}\n";
  WriteFile(feed, text);
  ASSERT_EQ(Produce(feed).exit_code, 0);
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "file").string(), feed}, dir_).exit_code, 0);
  // The shipped configuration (its rules: run judges and alerts), with short sessions.
  WriteConfig(dir_ / "rules.yaml", {{"kafka.client", kShortSessions}});
  std::vector<std::string> args = RunArgs("s", "g-hostile", "5");
  args[1] = (dir_ / "rules.yaml").string();
  CommandResult run = Flexwatch(args, dir_);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("run: month 2021-01 not judged: no contribution base limits in force "
                         "for 2021-01"),
            std::string::npos)
      << run.err;
  const std::string dead = ReadFile(dir_ / "s" / "dead-letter.ndjson");
  EXPECT_NE(dead.find("\"reason_code\":\"future_timestamp\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("\"reason_code\":\"out_of_range\""), std::string::npos);
  EXPECT_NE(dead.find("\"topic\":\"flexwatch.events\",\"partition\":"), std::string::npos);
  EXPECT_EQ(Dump("s"), Dump("file"));
  EXPECT_EQ(Announce("s"), Announce("file"));
  CommandResult old =
      Flexwatch({"announce", "--state", (dir_ / "s").string(), "--month", "2021-01"}, dir_);
  EXPECT_EQ(old.exit_code, 2);
}

// Late data after the seal, on the real broker: July is sealed and published by one `run`; then a
// late order, a late contract termination and a payment after the grace are each produced and
// read by another `run` of the same group. The original files never change; the first two are
// revisions 1 and 2, each published as a correction notice in every format and language and
// each changed platform-dimension alerted once; the payment after the grace changes no count,
// only the finding kind (`paid_late`), so it is no revision.
TEST_F(RealKafkaTest, LateDataAfterTheSealIsARevisionWithACorrectionBesideTheOriginal) {
  CommandResult g = Flexwatch({"gen", "--workers", "120", "--months", "3", "--seed", "51"}, dir_);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  WriteFile(dir_ / "feed.ndjson", g.out);
  ASSERT_EQ(Produce((dir_ / "feed.ndjson").string()).exit_code, 0);
  const fs::path published = dir_ / "published";
  const std::string config = WriteConfig(dir_ / "late.yaml", {{"kafka.client", kShortSessions},
                                                              {"kafka.commit_interval_ms", "200"},
                                                              {"publish.dir", published.string()}});
  auto run = [&](const std::string& name) {
    std::vector<std::string> args = RunArgs("s", "g-late", "5");
    args[1] = config;
    CommandResult r = Flexwatch(args, dir_);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  };
  auto files = [&] {
    std::map<std::string, std::string> out;  // name -> bytes, of July's documents
    if (fs::exists(published))
      for (const auto& e : fs::directory_iterator(published))
        if (e.path().filename().string().starts_with("monthly-2024-07"))
          out[e.path().filename().string()] = ReadFile(e.path());
    return out;
  };
  auto names_of = [](const std::string& stem) {
    const std::vector<std::string> names = EveryFormatOf(stem);
    return std::set<std::string>(names.begin(), names.end());
  };

  simdjson::dom::parser parser;
  // The revision alerts on the alerts topic: (revision, platform, dimension) -> how many.
  auto revision_alerts = [&] {
    std::map<std::tuple<int64_t, std::string, std::string>, int> out;
    for (const Received& r : ReadTopic(bootstrap_, "flexwatch.alerts", partitions_)) {
      simdjson::dom::element a = parser.parse(r.payload).value();
      if (std::string_view(a["kind"]) != "revision") continue;
      ++out[{int64_t(a["revision"]), std::string(std::string_view(a["platform_id"])),
             std::string(std::string_view(a["dimension"]))}];
    }
    return out;
  };
  auto produce_late = [&](const std::string& name, const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& l : lines) text += l + "\n";
    WriteFile(dir_ / name, text);
    ASSERT_EQ(Produce((dir_ / name).string()).exit_code, 0);
  };

  run("sealed");
  const std::map<std::string, std::string> originals = files();
  std::set<std::string> names;
  for (const auto& [name, bytes] : originals) names.insert(name);
  ASSERT_EQ(names, names_of("monthly-2024-07"));
  ASSERT_NE(originals.at("monthly-2024-07.json").find("\"revision\": 0,"), std::string::npos);
  std::string platform;
  {
    simdjson::dom::element doc = parser.parse(originals.at("monthly-2024-07.json")).value();
    platform = std::string(std::string_view(doc["platforms"].at(0)["platform_id"]));
  }
  EXPECT_TRUE(revision_alerts().empty());

  const std::vector<std::vector<std::string>> late = LateJulyDeliveries(platform);
  // 1. A late order: ten long days in July of a labour relation with a labour contract.
  produce_late("late-1.ndjson", late[0]);
  run("late order");
  // 2. The contract terminated on July 2: not in force at the worker's last order.
  produce_late("late-2.ndjson", late[1]);
  run("late termination");
  // 3. A pension for July paid on October 20, after the grace.
  produce_late("late-3.ndjson", late[2]);
  run("payment after the grace");

  // The originals as they were; a correction for each of the two revisions, no third.
  const std::map<std::string, std::string> now = files();
  for (const auto& [name, bytes] : originals) EXPECT_TRUE(now.at(name) == bytes) << name;
  std::set<std::string> expected = names_of("monthly-2024-07");
  for (const char* stem : {"monthly-2024-07.r1", "monthly-2024-07.r2"})
    for (const std::string& name : names_of(stem)) expected.insert(name);
  names.clear();
  for (const auto& [name, bytes] : now) names.insert(name);
  EXPECT_EQ(names, expected);
  // Each change alerted once: the order moved contract avoidance (in scope) and underpayment
  // (unpaid), the termination contract avoidance (affected).
  using Key = std::tuple<int64_t, std::string, std::string>;
  EXPECT_EQ(revision_alerts(), (std::map<Key, int>{{{1, platform, "contract_avoidance"}, 1},
                                                   {{1, platform, "underpayment"}, 1},
                                                   {{2, platform, "contract_avoidance"}, 1}}));
  // The corrections say what changed, and link the original.
  const std::string r2 = now.at("monthly-2024-07.r2.en.md");
  EXPECT_NE(r2.find("# Correction 2 to the Monthly compliance announcement"), std::string::npos);
  // (the platform named as the shipped registry names it)
  auto shipped = ShippedConfig();
  ASSERT_TRUE(shipped.ok());
  const PlatformInfo* registered = shipped->platforms.Find(platform);
  ASSERT_NE(registered, nullptr) << platform;
  EXPECT_NE(r2.find("| " + registered->name_en + " | Contract avoidance |"), std::string::npos)
      << r2;
  EXPECT_NE(r2.find("[monthly-2024-07.en.md](monthly-2024-07.en.md)"), std::string::npos);
  EXPECT_NE(now.at("monthly-2024-07.r1.zh.html").find("第1号更正"), std::string::npos);
  // What the monitor published is what announce --revision N prints.
  for (const auto& [revision, name] : std::vector<std::pair<std::string, std::string>>{
           {"0", "monthly-2024-07.json"}, {"2", "monthly-2024-07.r2.json"}}) {
    CommandResult a = Flexwatch({"announce", "--state", (dir_ / "s").string(), "--month", "2024-07",
                                 "--revision", revision},
                                dir_);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_TRUE(a.out == now.at(name)) << name;
  }
  // The latest: the payment after the grace is counted after the seal and reported as paid
  // late, and moved no count (still revision 2).
  CommandResult latest =
      Flexwatch({"announce", "--state", (dir_ / "s").string(), "--month", "2024-07"}, dir_);
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  simdjson::dom::element doc = parser.parse(latest.out).value();
  EXPECT_EQ(int64_t(doc["revision"]), 2);
  bool seen = false;
  for (simdjson::dom::element ps : doc["platforms"].get_array()) {
    if (std::string_view(ps["platform_id"]) != platform) continue;
    seen = true;
    EXPECT_EQ(int64_t(ps["arrived_after_seal"]), 12);  // ten orders, the termination, the payment
    simdjson::dom::element findings = ps["dimensions"]["underpayment"]["findings"];
    int64_t paid_late = 0;
    EXPECT_EQ(findings["paid_late"].get(paid_late), simdjson::SUCCESS) << latest.out;
    EXPECT_EQ(paid_late, 1);
  }
  EXPECT_TRUE(seen);
  // A notice on the announcements topic for the original and for each correction.
  int corrections = 0;
  for (const Received& r : ReadTopic(bootstrap_, "flexwatch.announcements", partitions_))
    corrections += r.payload.find("\"kind\": \"correction\"") != std::string::npos;
  EXPECT_EQ(corrections, 2);
}

// A backlog on 8 partitions, half of them a month and more ahead of the others: months close on
// the slowest partition, so no month is alerted or judged final before every partition has
// delivered it, through kill -9s during the catch-up.
class RealKafkaSkewTest : public RealKafkaTest {
 public:
  RealKafkaSkewTest() { partitions_ = 8; }
};

TEST_F(RealKafkaSkewTest, PartitionsRunningAheadNeverCloseAMonthTheOthersHaveNotDelivered) {
  CommandResult g = Flexwatch({"gen", "--workers", "240", "--months", "3", "--seed", "41"}, dir_);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::string feed = (dir_ / "feed.ndjson").string();
  WriteFile(feed, g.out);
  ASSERT_EQ(Flexwatch({"replay", "--state", (dir_ / "file").string(), feed}, dir_).exit_code, 0);
  // Each platform's events on its partition (events.md 1.1); partitions 4-7 deliver July (and what
  // came before it) first and the rest only once the monitor has read everything else.
  std::vector<std::pair<int, std::string>> ahead, behind;
  std::istringstream in(g.out);
  for (std::string line; std::getline(in, line);) {
    auto field = [&](const std::string& name) {
      const size_t at = line.find("\"" + name + "\":\"");
      if (at == std::string::npos) return std::string();
      const size_t from = at + name.size() + 4;
      return line.substr(from, line.find('"', from) - from);
    };
    const int partition = PlatformPartition(field("platform_id"), 8);
    (partition >= 4 && field("ts").substr(0, 7) > "2024-07" ? behind : ahead)
        .emplace_back(partition, line);
  }
  ASSERT_GT(behind.size(), 1000u);
  ASSERT_TRUE(ProduceToPartitions(bootstrap_, "flexwatch.events", ahead));
  const std::string config =
      WriteConfig(dir_ / "skew.yaml", {{"kafka.client", kShortSessions},
                                       {"kafka.commit_interval_ms", "200"},
                                       {"kafka.partition_idle_seconds", "3600"},
                                       {"publish.dir", (dir_ / "published").string()}});
  auto run_args = [&](const std::string& group, const std::string& idle) {
    std::vector<std::string> args = RunArgs("s", group, idle);
    args[1] = config;
    return args;
  };
  auto announce = [&](const std::string& state, const std::string& month, bool close) {
    std::vector<std::string> args = {
        "announce", "--state", (dir_ / state).string(), "--month", month, "--format", "json"};
    if (close) args.push_back("--final");
    CommandResult a = Flexwatch(args, dir_);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    return a.out;
  };
  // A run of the monitor, killed with -9 at a random moment `settle` or more after its first
  // commit.
  std::mt19937 rng(5);
  int runs = 0;
  auto run_and_kill = [&](std::chrono::milliseconds settle) {
    const std::string name = "run-" + std::to_string(++runs) + "-";
    pid_t pid = Spawn(run_args("g-" + std::to_string(runs), "60"), dir_, "/dev/null", name);
    WaitFor(std::chrono::seconds(30),
            [&] { return ReadFile(dir_ / (name + "stderr")).find("so far") != std::string::npos; });
    std::this_thread::sleep_for(settle + std::chrono::milliseconds(rng() % 400));
    kill(pid, SIGKILL);
    Wait(pid);
  };
  // The monitor reads what the broker has, and goes on evaluating for a while: partitions 4-7,
  // read to their end but not quiet for long, hold July open.
  run_and_kill(std::chrono::seconds(8));
  EXPECT_NE(announce("s", "2024-07", false).find("\"final\": false"), std::string::npos);
  // Their producer catches up; the catch-up is killed twice at random moments.
  ASSERT_TRUE(ProduceToPartitions(bootstrap_, "flexwatch.events", behind));
  for (int round = 0; round < 2; ++round) run_and_kill(std::chrono::milliseconds(0));
  CommandResult last = Flexwatch(run_args("g-last", "6"), dir_);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  // Every final alert says what the final announcement of a replay of the whole feed says.
  std::map<std::string, std::string> expected;  // period -> the replay's final announcement
  for (const char* month : {"2024-07", "2024-08", "2024-09"})
    expected[month] = announce("file", month, true);
  simdjson::dom::parser parser;
  int finals = 0;
  for (const Received& r : ReadTopic(bootstrap_, "flexwatch.alerts", 8)) {
    simdjson::dom::element a = parser.parse(r.payload).value();
    if (std::string_view(a["kind"]) != "level_change" || !bool(a["final"])) continue;
    ++finals;
    const std::string period{std::string_view(a["period"])};
    simdjson::dom::parser announcement_parser;
    simdjson::dom::element doc = announcement_parser.parse(expected[period]).value();
    bool found = false;
    for (simdjson::dom::element ps : doc["platforms"].get_array()) {
      if (std::string_view(ps["platform_id"]) != std::string_view(a["platform_id"])) continue;
      simdjson::dom::element d = ps["dimensions"][std::string_view(a["dimension"])];
      EXPECT_EQ(std::string_view(d["level"]), std::string_view(a["level"])) << r.payload;
      EXPECT_EQ(int64_t(d["in_scope"]), int64_t(a["in_scope"])) << r.payload;
      EXPECT_EQ(int64_t(d["affected"]), int64_t(a["affected"])) << r.payload;
      found = true;
    }
    EXPECT_TRUE(found) << r.payload;
  }
  EXPECT_GT(finals, 0);
  // And what the monitor's state says of July, final by event time now, is the replay's, beside
  // what only a monitor says: the month sealed once, as revision 0, nothing arriving after it.
  auto without_sealing = [](const std::string& json) {
    std::string out;
    std::istringstream lines(json);
    bool in_revisions = false;
    for (std::string line; std::getline(lines, line);) {
      if (line == "  \"revisions\": [") in_revisions = true;
      const bool skip = in_revisions || line.starts_with("  \"revision\": ") ||
                        line.find("\"arrived_after_seal\": 0,") != std::string::npos;
      if (in_revisions && line == "  ],") in_revisions = false;
      if (!skip) out += line + "\n";
    }
    return out;
  };
  const std::string sealed = announce("s", "2024-07", false);
  EXPECT_NE(sealed.find("\"revision\": 0,"), std::string::npos) << sealed.substr(0, 600);
  EXPECT_EQ(sealed.find("\"revision\": 1"), std::string::npos);
  EXPECT_EQ(without_sealing(sealed), announce("file", "2024-07", false));
  // Every announcement the monitor published says of each platform what the replay's final
  // announcement of that month says (the finality block, which tells when it was published,
  // aside), and none was corrected.
  auto platforms = [&](const std::string& json) {
    const std::string part = without_sealing(json);
    return part.substr(part.find("  \"platforms\": ["));
  };
  int published = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "published")) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".r"), std::string::npos) << name << ": a correction";
    if (!name.starts_with("monthly-") || !name.ends_with(".json")) continue;
    ++published;
    const std::string month = name.substr(8, 7);
    EXPECT_EQ(platforms(ReadFile(e.path())), platforms(expected[month])) << name;
  }
  EXPECT_GE(published, 1);
  if (HasFailure())  // what each run said, to tell which one alerted what
    for (int r = 1; r <= runs; ++r)
      ADD_FAILURE() << "run " << r << ":\n"
                    << ReadFile(dir_ / ("run-" + std::to_string(r) + "-stderr"));
  if (HasFailure()) ADD_FAILURE() << "the last run:\n" << last.err;
}

}  // namespace
}  // namespace flexwatch::testing
