// Hostile and odd input through the real binary, where a platform or an operator would meet it:
// implausible values, a far-future clock, a month the rules cannot judge, overflowing sums, a full
// disk, a corrupted table file, failed writes, a signal mid-check, and states that must read the
// same whatever was delivered twice. Each case failed (hung, aborted, exited 0 on a partial
// answer, or poisoned the state) before the issue that added it.
#include <httplib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "cli_helpers.h"

namespace flexwatch::testing {
namespace {

// The shipped configuration with the clock pinned (events.md: tests pin the clock, never the
// calendar), so that "the future" is the same whenever the test runs.
std::string PinnedConfig(const fs::path& dir, const std::string& now) {
  return WriteConfig(dir / "pinned.yaml", {{"ingest.now", "\"" + now + "\""}});
}

std::string Order(const std::string& id, const std::string& ts, const std::string& platform,
                  const std::string& worker, const std::string& earnings = "10",
                  const std::string& minutes = "30") {
  return "{\"type\":\"order\",\"event_id\":\"" + id + "\",\"ts\":\"" + ts +
         "\",\"platform_id\":\"" + platform + "\",\"worker_id\":\"" + worker +
         "\",\"sector\":\"food_delivery\",\"duration_min\":" + minutes +
         ",\"earnings_cny\":" + earnings + "}\n";
}

// Each dead letter's line number and reason code.
std::map<int64_t, std::string> DeadLetters(const fs::path& state) {
  std::map<int64_t, std::string> out;
  std::istringstream in(ReadFile(state / "dead-letter.ndjson"));
  const std::regex line_re("\"line\":(\\d+)"), code_re("\"reason_code\":\"([a-z_]+)\"");
  for (std::string l; std::getline(in, l);) {
    std::smatch line, code;
    if (std::regex_search(l, line, line_re) && std::regex_search(l, code, code_re))
      out[std::stoll(line[1])] = code[1];
  }
  return out;
}

// Runs the binary with a time bound; the child's exit code (-1 when it had to be killed) and its
// peak resident memory in KiB.
struct Bounded {
  int exit_code = -1;
  long max_rss_kb = 0;
  std::string out, err;
};
Bounded RunBounded(const std::vector<std::string>& args, const fs::path& dir, int seconds) {
  Bounded b;
  const pid_t pid = Spawn(args, dir);
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, WNOHANG, &usage) == pid) {
      b.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      b.max_rss_kb = usage.ru_maxrss;
      b.out = ReadFile(dir / "stdout");
      b.err = ReadFile(dir / "stderr");
      return b;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  Wait(pid);
  b.err = ReadFile(dir / "stderr");
  return b;
}

class HostileCliTest : public TempDirTest {};

TEST_F(HostileCliTest, ImplausibleValuesAreRejectedWithTheirReasonAndTheRestIsKept) {
  const std::string config = PinnedConfig(dir_, "2024-12-01T00:00:00+08:00");
  const std::string ok = "2024-08-03T12:00:00+08:00";
  std::string feed;
  feed += Order("o-1", "0000-01-01T00:00:00+08:01", "p-a", "w-1");  // out_of_range
  feed += Order("o-2", "1999-12-31T23:59:59+08:00", "p-a", "w-1");  // out_of_range
  feed += Order("o-3", "2024-12-01T01:00:01+08:00", "p-a", "w-1");  // future
  feed += Order("o-4", "2024-12-01T00:59:59+08:00", "p-a", "w-1");  // within the hour
  feed += Order("o-5", "9999-12-31T00:00:00+08:00", "p-a", "w-1");  // future
  feed += Order("o-6", ok, "p-a", "w-1", "100000.01");              // above the limit
  feed += Order("o-7", ok, "p-a", "w-1", "100000");                 // at the limit
  feed += Order("o-8", ok, "..", "w-1");                            // bad_id
  feed += Order("o-9", ok, "-x", "w-1");                            // bad_id
  feed += Order("o-10", ok, ".", "w-1");                            // bad_id
  auto contribution = [](const std::string& id, const std::string& period, const std::string& base,
                         const std::string& extra = "") {
    return "{\"type\":\"contribution\",\"event_id\":\"" + id +
           "\",\"ts\":\"2024-09-10T10:00:00+08:00\",\"platform_id\":\"p-a\",\"worker_id\":\"w-1\","
           "\"period\":\"" +
           period + "\",\"scheme\":\"pension\",\"payer\":\"employer\",\"base_cny\":" + base +
           ",\"amount_cny\":100" + extra + "}\n";
  };
  feed += contribution("s-1", "2024-12", "6821");        // 11: the clock's month
  feed += contribution("s-2", "2025-01", "6821");        // 12: future
  feed += contribution("s-3", "1999-12", "6821");        // 13: out_of_range
  feed += contribution("s-4", "2024-08", "1000000.01");  // 14: above the limit
  feed +=
      "{\"type\":\"contribution\",\"event_id\":\"s-5\",\"ts\":\"2024-09-10T10:00:00+08:00\","
      "\"platform_id\":\"p-a\",\"worker_id\":\"w-1\",\"period\":\"2024-08\",\"scheme\":"
      "\"occupational_injury\",\"payer\":\"platform\",\"amount_cny\":1,\"orders_covered\":"
      "1000001}\n";  // 15: above the limit
  auto coverage = [](const std::string& id, const std::string& to, const std::string& sum) {
    return "{\"type\":\"coverage\",\"event_id\":\"" + id +
           "\",\"ts\":\"2024-08-01T10:00:00+08:00\",\"platform_id\":\"p-a\",\"worker_id\":\"w-1\","
           "\"product\":\"accident\",\"sum_insured_cny\":" +
           sum + ",\"valid_from\":\"2024-08-01\",\"valid_to\":\"" + to + "\"}\n";
  };
  feed += coverage("v-1", "2100-01-01", "100000");        // 16: out_of_range
  feed += coverage("v-2", "2099-12-31", "100000");        // 17: valid
  feed += coverage("v-3", "2024-08-31", "100000000.01");  // 18: above the limit
  auto contract = [](const std::string& id, const std::string& counterparty) {
    return "{\"type\":\"contract\",\"event_id\":\"" + id +
           "\",\"ts\":\"2024-08-01T10:00:00+08:00\",\"platform_id\":\"p-a\",\"worker_id\":\"w-1\","
           "\"action\":\"signed\",\"form\":\"outsourcing\",\"counterparty_id\":\"" +
           counterparty + "\"}\n";
  };
  feed += contract("c-1", "agency\\u001b[31m\\r\\nFAKE");  // 19: control characters
  feed += contract("c-2", "agency\\u2028x");               // 20: a line separator
  feed += contract("c-3", "北京某劳务公司");               // 21: valid
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "s").string();
  CommandResult r = Flexwatch({"--config", config, "replay", "--state", state, "--stats-json",
                               (dir_ / "stats.json").string(), (dir_ / "feed.ndjson").string()},
                              dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "stats.json"),
            "{\"accepted\": 5, \"duplicates\": 0, \"rejected\": 16, \"rewritten\": 0}\n");
  const std::map<int64_t, std::string> expected = {
      {1, "out_of_range"},     {2, "out_of_range"},  {3, "future_timestamp"},
      {5, "future_timestamp"}, {6, "out_of_range"},  {8, "bad_id"},
      {9, "bad_id"},           {10, "bad_id"},       {12, "future_timestamp"},
      {13, "out_of_range"},    {14, "out_of_range"}, {15, "out_of_range"},
      {16, "out_of_range"},    {18, "out_of_range"}, {19, "bad_id"},
      {20, "bad_id"}};
  EXPECT_EQ(DeadLetters(dir_ / "s"), expected);
  // The reasons name the limit and where it is set.
  const std::string dead = ReadFile(dir_ / "s" / "dead-letter.ndjson");
  EXPECT_NE(dead.find("ingest.limits.earnings_cny"), std::string::npos);
  EXPECT_NE(dead.find("ingest.max_future_seconds"), std::string::npos);
  // The state holds only plausible months, and every reader finishes.
  CommandResult inspect = Flexwatch({"--config", config, "inspect", "--state", state}, dir_);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("\"periods\": [\"2024-08\", \"2024-12\"]"), std::string::npos)
      << inspect.out;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"announce", "--state", state, "--month", "2024-08"},
        {"announce", "--state", state, "--year", "2024"},
        {"series", "--state", state},
        {"inspect", "--state", state, "--dump"}}) {
    std::vector<std::string> full = {"--config", config};
    full.insert(full.end(), args.begin(), args.end());
    Bounded b = RunBounded(full, dir_, 60);
    EXPECT_EQ(b.exit_code, 0) << args[0] << ": " << b.err;
  }
}

TEST_F(HostileCliTest, AFarFutureEventCannotCloseAnyMonth) {
  const std::string config = PinnedConfig(dir_, "2024-09-10T00:00:00+08:00");
  std::string feed;
  for (int w = 0; w < 30; ++w)
    for (int d = 1; d <= 28; ++d)
      feed +=
          Order("o-" + std::to_string(w) + "-" + std::to_string(d),
                "2024-08-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + "T10:00:00+08:00",
                "p-a", "w-" + std::to_string(w), "30", "300");
  // One complaint dated at the end of time, from any platform.
  feed +=
      "{\"type\":\"complaint\",\"event_id\":\"q-1\",\"ts\":\"9999-12-31T00:00:00+08:00\","
      "\"platform_id\":\"p-other\",\"category\":\"no_contract\"}\n";
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "s").string();
  ASSERT_EQ(
      Flexwatch({"--config", config, "replay", "--state", state, (dir_ / "feed.ndjson").string()},
                dir_)
          .exit_code,
      0);
  CommandResult a =
      Flexwatch({"--config", config, "announce", "--state", state, "--month", "2024-08"}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  // August stays open: its missing contributions are pending, not unpaid.
  EXPECT_NE(a.out.find("\"final\": false"), std::string::npos) << a.out.substr(0, 600);
  EXPECT_NE(a.out.find("\"status\": \"open\""), std::string::npos);
  EXPECT_NE(a.out.find("\"underpayment\": {\"in_scope\": 30, \"affected\": 0"), std::string::npos)
      << a.out;
  EXPECT_EQ(DeadLetters(dir_ / "s").at(static_cast<int64_t>(30 * 28 + 1)), "future_timestamp");
}

TEST_F(HostileCliTest, AMonthTheRulesCannotJudgeIsReportedAndTheOthersAreJudged) {
  std::string feed;
  // Labour-relation worker-months (5 days of 1,400 minutes: 116 h), one in January 2021, before
  // the shipped base-limit table begins.
  for (int d = 1; d <= 5; ++d) {
    feed += Order("o-old-" + std::to_string(d), "2021-01-0" + std::to_string(d) + "T10:00:00+08:00",
                  "p-a", "w-1", "10", "1400");
    for (int w = 0; w < 25; ++w)
      feed += Order("o-" + std::to_string(w) + "-" + std::to_string(d),
                    "2024-08-0" + std::to_string(d) + "T10:00:00+08:00", "p-a",
                    "w-" + std::to_string(w), "300", "1400");
  }
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "s").string();
  ASSERT_EQ(
      Flexwatch({"replay", "--state", state, (dir_ / "feed.ndjson").string()}, dir_).exit_code, 0);
  // The month without rules: announce says what is missing (exit 2), whichever workers it holds.
  CommandResult old = Flexwatch({"announce", "--state", state, "--month", "2021-01"}, dir_);
  EXPECT_EQ(old.exit_code, 2);
  EXPECT_NE(old.err.find("no contribution base limits in force for 2021-01"), std::string::npos)
      << old.err;
  // Every other month is judged as usual, its detectors' history leaving 2021-01 out.
  CommandResult now = Flexwatch({"announce", "--state", state, "--month", "2024-08"}, dir_);
  EXPECT_EQ(now.exit_code, 0) << now.err;
  EXPECT_NE(now.out.find("\"platform_id\": \"p-a\""), std::string::npos);
  // selfcheck gives its whole report, the month not judged named with its reason.
  CommandResult check =
      Flexwatch({"selfcheck", "--format", "json", (dir_ / "feed.ndjson").string()}, dir_);
  EXPECT_NE(check.exit_code, 2) << check.err;
  EXPECT_NE(check.out.find("\"months_not_judged\": [\n    {\"period\": \"2021-01\", \"reason\": "
                           "\"no contribution base limits in force for 2021-01"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("\"period\": \"2024-08\", \"platforms\""), std::string::npos);
  CommandResult text = Flexwatch({"selfcheck", (dir_ / "feed.ndjson").string()}, dir_);
  EXPECT_NE(text.out.find("months not judged"), std::string::npos) << text.out;
}

TEST_F(HostileCliTest, SumsAtTheLimitsStayExactAndPositive) {
  // 10,000 orders at the per-order limit for one worker-month: a billion yuan, exactly.
  std::string feed;
  for (int i = 0; i < 10000; ++i)
    feed +=
        Order("o-" + std::to_string(i), "2024-08-05T10:00:00+08:00", "p-a", "w-1", "100000", "1");
  feed += Order("o-x", "2024-08-05T10:00:00+08:00", "p-a", "w-1", "9999999999999.99", "1");
  WriteFile(dir_ / "feed.ndjson", feed);
  const std::string state = (dir_ / "s").string();
  ASSERT_EQ(
      Flexwatch({"replay", "--state", state, (dir_ / "feed.ndjson").string()}, dir_).exit_code, 0);
  CommandResult r = Flexwatch(
      {"inspect", "--state", state, "--platform", "p-a", "--worker", "w-1", "--month", "2024-08"},
      dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"earnings_cny\": 1000000000.00"), std::string::npos) << r.out;
  EXPECT_EQ(DeadLetters(dir_ / "s").at(10001), "out_of_range");
}

// A small tmpfs (a private mount namespace: nothing outside the test sees it) as a full disk.
TEST_F(HostileCliTest, AFullDiskIsAClearErrorNeverAnAbort) {
  CommandResult g = Flexwatch({"gen", "--workers", "300", "--months", "2", "--seed", "5"}, dir_);
  ASSERT_EQ(g.exit_code, 0);
  WriteFile(dir_ / "feed.ndjson", g.out);
  // Commits of 5,000 lines: some are made before the disk fills.
  WriteFile(dir_ / "small.yaml", "ingest:\n  commit_every: 5000\n");
  fs::create_directories(dir_ / "disk");
  const std::string bin = FLEXWATCH_BINARY, disk = (dir_ / "disk").string();
  const std::string dir = dir_.string();
  std::string script = "mount -t tmpfs -o size=512k tmpfs " + disk + " || exit 99; ";
  script += bin + " --config " + dir + "/small.yaml replay --state " + disk + "/s " + dir +
            "/feed.ndjson 2> " + dir + "/replay.err; echo replay $?; ";
  script += bin + " inspect --state " + disk + "/s > " + dir + "/inspect.out 2> " + dir +
            "/inspect.err; echo inspect $?; ";
  script += bin + " announce --state " + disk + "/s --month 2024-07 > /dev/null 2> " + dir +
            "/announce.err; echo announce $?";
  const std::vector<std::string> unshare =
      geteuid() == 0 ? std::vector<std::string>{"-m", "sh", "-c", script}
                     : std::vector<std::string>{"-rm", "sh", "-c", script};
  const pid_t pid =
      SpawnProgram("/usr/bin/unshare", unshare, (dir_ / "out").string(), (dir_ / "err").string());
  ASSERT_EQ(WaitAtMost(pid, 300), 0) << ReadFile(dir_ / "err");
  const std::string out = ReadFile(dir_ / "out");
  EXPECT_NE(out.find("replay 2\n"), std::string::npos) << out << ReadFile(dir_ / "replay.err");
  const std::string err = ReadFile(dir_ / "replay.err");
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;  // one line
  EXPECT_NE(err.find(disk + "/s/"), std::string::npos) << err;    // the file it could not write
  // The state left behind holds the commits made before the disk filled, and reads (read-only,
  // nothing to write): never an abort.
  EXPECT_NE(ReadFile(dir_ / "inspect.out").find("\"accepted\": "), std::string::npos);
  EXPECT_EQ(ReadFile(dir_ / "inspect.out").find("\"accepted\": 0,"), std::string::npos);
  for (const char* reader : {"inspect", "announce"}) {
    const std::regex rc(std::string(reader) + " (\\d+)\n");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, rc)) << out;
    EXPECT_TRUE(m[1] == "0" || m[1] == "2")
        << reader << " exited " << m[1] << ": " << ReadFile(dir_ / (std::string(reader) + ".err"));
  }
}

TEST_F(HostileCliTest, ACorruptedTableFileFailsEveryReaderNamingIt) {
  CommandResult g = Flexwatch({"gen", "--workers", "200", "--months", "1", "--seed", "9"}, dir_);
  ASSERT_EQ(g.exit_code, 0);
  WriteFile(dir_ / "feed.ndjson", g.out);
  // Small memtables and commits, so that most of the state is in table files.
  WriteConfig(dir_ / "small.yaml", {{"ingest.commit_every", "5000"},
                                    {"state.write_buffer_total_mb", "2"},
                                    {"state.write_buffer_mb", "1"}});
  const fs::path state = dir_ / "s";
  ASSERT_EQ(Flexwatch({"--config", (dir_ / "small.yaml").string(), "replay", "--state",
                       state.string(), (dir_ / "feed.ndjson").string()},
                      dir_)
                .exit_code,
            0);
  // Opened again for writing (an empty feed), the state moves what its log holds to table files.
  WriteFile(dir_ / "empty.ndjson", "");
  ASSERT_EQ(Flexwatch({"replay", "--state", state.string(), (dir_ / "empty.ndjson").string()}, dir_)
                .exit_code,
            0);
  CommandResult before =
      Flexwatch({"announce", "--state", state.string(), "--month", "2024-07"}, dir_);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  // Garbage over the middle of every table file (closing the state flushed them).
  int corrupted = 0;
  for (const auto& f : fs::directory_iterator(state)) {
    if (f.path().extension() != ".sst") continue;
    std::fstream io(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(fs::file_size(f.path()) / 3));
    io << std::string(256, '\x5a');
    ++corrupted;
  }
  ASSERT_GT(corrupted, 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"announce", "--state", state.string(), "--month", "2024-07"},
        {"series", "--state", state.string()},
        {"inspect", "--state", state.string(), "--dump"}}) {
    Bounded b = RunBounded(args, dir_, 60);
    EXPECT_EQ(b.exit_code, 2) << args[0] << " gave an answer on a corrupted state:\n"
                              << b.out.substr(0, 300);
    EXPECT_NE(b.err.find(".sst"), std::string::npos) << args[0] << ": " << b.err;
    EXPECT_NE(b.err.find("Corruption"), std::string::npos) << args[0] << ": " << b.err;
  }
}

TEST_F(HostileCliTest, FailedWritesAreErrors) {
  WriteFile(dir_ / "feed.ndjson", Order("o-1", "2024-08-05T10:00:00+08:00", "p-a", "w-1") +
                                      Order("o-2", "2024-08-06T10:00:00+08:00", "p-a", "w-2"));
  const std::string state = (dir_ / "s").string();
  CommandResult r = Flexwatch(
      {"replay", "--state", state, "--stats-json", "/dev/full", (dir_ / "feed.ndjson").string()},
      dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << r.err;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"announce", "--state", state, "--month", "2024-08"},
        {"announce", "--state", state, "--month", "2024-08", "--format", "md"},
        {"inspect", "--state", state, "--dump"},
        {"inspect", "--state", state},
        {"series", "--state", state},
        {"gen", "--workers", "20"}}) {
    const pid_t pid = SpawnProgram(FLEXWATCH_BINARY, args, "/dev/full", (dir_ / "err").string());
    EXPECT_EQ(WaitAtMost(pid, 60), 2) << args[0];
    EXPECT_NE(ReadFile(dir_ / "err").find("No space left on device"), std::string::npos)
        << args[0] << ": " << ReadFile(dir_ / "err");
  }
}

TEST_F(HostileCliTest, ASignalDuringSelfcheckLeavesNoTemporaryState) {
  CommandResult g = Flexwatch({"gen", "--workers", "1500", "--months", "2", "--seed", "2"}, dir_);
  ASSERT_EQ(g.exit_code, 0);
  WriteFile(dir_ / "feed.ndjson", g.out);
  fs::create_directories(dir_ / "tmp");
  setenv("TMPDIR", (dir_ / "tmp").c_str(), 1);
  const pid_t pid = Spawn({"selfcheck", (dir_ / "feed.ndjson").string()}, dir_);
  // Wait until the throwaway state exists, then stop the check.
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    started = !fs::is_empty(dir_ / "tmp");
  }
  kill(pid, SIGTERM);
  const int code = WaitAtMost(pid, 60);
  unsetenv("TMPDIR");
  ASSERT_TRUE(started);
  EXPECT_EQ(code, 2) << ReadFile(dir_ / "stderr");
  EXPECT_NE(ReadFile(dir_ / "stderr").find("stopped by a signal"), std::string::npos)
      << ReadFile(dir_ / "stderr");
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(HostileCliTest, RunSaysPlainlyWhenItIsOnTheEmbeddedBroker) {
  const pid_t pid = Spawn({"run", "--state", (dir_ / "s").string(), "--metrics-listen",
                           "127.0.0.1:0", "--idle-exit", "4"},
                          dir_);
  std::string address;
  for (int i = 0; i < 200 && address.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::smatch m;
    const std::string err = ReadFile(dir_ / "stderr");
    if (std::regex_search(err, m, std::regex("metrics at http://([0-9.:]+)/metrics")))
      address = m[1];
  }
  ASSERT_FALSE(address.empty()) << ReadFile(dir_ / "stderr");
  httplib::Client c("http://" + address);
  std::string ready;
  for (int i = 0; i < 100 && ready.find("EMBEDDED") == std::string::npos; ++i) {
    if (auto r = c.Get("/readyz")) ready = r->body;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(WaitAtMost(pid, 60), 0);
  EXPECT_NE(ready.find("EMBEDDED broker"), std::string::npos) << ready;
  EXPECT_NE(ReadFile(dir_ / "stderr").find("running on the EMBEDDED broker"), std::string::npos);
}

TEST_F(HostileCliTest, AStateReadsTheSameHoweverOftenItsDataWasDelivered) {
  CommandResult g = Flexwatch({"gen", "--workers", "80", "--months", "1", "--seed", "4"}, dir_);
  ASSERT_EQ(g.exit_code, 0);
  WriteFile(dir_ / "feed.ndjson", g.out);
  const std::string once = (dir_ / "once").string(), twice = (dir_ / "twice").string();
  const std::string feed = (dir_ / "feed.ndjson").string();
  ASSERT_EQ(Flexwatch({"replay", "--state", once, feed}, dir_).exit_code, 0);
  ASSERT_EQ(Flexwatch({"replay", "--state", twice, feed}, dir_).exit_code, 0);
  ASSERT_EQ(Flexwatch({"replay", "--state", twice, feed}, dir_).exit_code, 0);
  const std::string a = Flexwatch({"inspect", "--state", once}, dir_).out;
  const std::string b = Flexwatch({"inspect", "--state", twice}, dir_).out;
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST_F(HostileCliTest, ConfigAndTokenMistakesAreNamedAndContained) {
  // kafka.client may not undo the exactly-once design: run refuses to start, naming the key.
  WriteFile(dir_ / "eo.yaml", "kafka:\n  client:\n    enable.auto.commit: \"true\"\n");
  CommandResult r = Flexwatch(
      {"--config", (dir_ / "eo.yaml").string(), "run", "--state", (dir_ / "s").string()}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kafka.client.enable.auto.commit: may not be overridden"), std::string::npos)
      << r.err;
  // Tokens: an id never revokes a platform of that name; a spoiled line locks nobody else out.
  const std::string file = (dir_ / "tokens.tsv").string();
  CommandResult a = Flexwatch({"token", "add", "p-meal-1", "--file", file}, dir_);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string id = Flexwatch({"token", "list", "--file", file}, dir_).out.substr(9, 12);
  ASSERT_EQ(Flexwatch({"token", "add", id, "--file", file}, dir_).exit_code, 0);
  ASSERT_EQ(Flexwatch({"token", "revoke", id, "--file", file}, dir_).exit_code, 0);
  CommandResult list = Flexwatch({"token", "list", "--file", file}, dir_);
  EXPECT_EQ(list.out.rfind(id + "\t", 0), 0u) << list.out;  // the platform of that name stays
  {
    std::ofstream out(file, std::ios::app);
    out << "p-ride-2\tbroken-line\n";
  }
  list = Flexwatch({"token", "list", "--file", file}, dir_);
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.err.find(file + ":3: skipped"), std::string::npos) << list.err;
  EXPECT_NE(list.out.find(id + "\t"), std::string::npos);
  for (const char* bad : {"..", "-x", "."})
    EXPECT_EQ(Flexwatch({"token", "add", bad, "--file", file}, dir_).exit_code, 2) << bad;
  // The self-check service with no token file where its config says (relative to the config
  // file, not to where it starts) does not start: it names the file, instead of answering every
  // token 401.
  fs::create_directories(dir_ / "etc");
  WriteFile(dir_ / "etc" / "api.yaml",
            "selfcheck_api: {listen: \"127.0.0.1:0\", tokens_file: tokens.tsv}\n");
  CommandResult api =
      Flexwatch({"--config", (dir_ / "etc" / "api.yaml").string(), "selfcheck-api"}, dir_);
  EXPECT_EQ(api.exit_code, 2);
  EXPECT_NE(api.err.find("no token file at " + (dir_ / "etc" / "tokens.tsv").string()),
            std::string::npos)
      << api.err;
}

// Every subcommand over the decoder's fuzz corpus and the hostile lines: each finishes within a
// bound, with bounded memory, whatever the input.
TEST_F(HostileCliTest, NoSubcommandHangsOrGrowsOnAnyCorpus) {
  std::string feed;
  for (const auto& f :
       fs::directory_iterator(fs::path(FLEXWATCH_SOURCE_DIR) / "ingest" / "fuzz" / "corpus"))
    feed += ReadFile(f.path()) + "\n";
  for (const auto& f : fs::directory_iterator(fs::path(FLEXWATCH_SOURCE_DIR) / "tests" / "hostile"))
    if (f.path().extension() == ".ndjson") feed += ReadFile(f.path()) + "\n";
  WriteFile(dir_ / "corpus.ndjson", feed);
  const std::string state = (dir_ / "s").string(), corpus = (dir_ / "corpus.ndjson").string();
  const std::string shipped = std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml";
  std::vector<std::vector<std::string>> commands = {
      {"replay", "--state", state, corpus},
      {"inspect", "--state", state},
      {"inspect", "--state", state, "--dump"},
      {"series", "--state", state},
      {"selfcheck", corpus},
      {"selfcheck", "--format", "json", "--platform", "p-meal-1", corpus},
      {"backtest", "--state", state, "--with", shipped},
  };
  Bounded first = RunBounded(commands[0], dir_, 120);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // Every month the corpus left in the state, and every year.
  CommandResult summary = Flexwatch({"inspect", "--state", state}, dir_);
  std::set<std::string> years;
  const std::regex period("\"(\\d{4})-(\\d{2})\"");
  const std::string periods = summary.out.substr(
      summary.out.find("\"periods\""),
      summary.out.find("\n", summary.out.find("\"periods\"")) - summary.out.find("\"periods\""));
  for (std::sregex_iterator it(periods.begin(), periods.end(), period), end; it != end; ++it) {
    commands.push_back(
        {"announce", "--state", state, "--month", (*it)[1].str() + "-" + (*it)[2].str()});
    commands.push_back({"announce", "--state", state, "--month",
                        (*it)[1].str() + "-" + (*it)[2].str(), "--final", "--format", "md"});
    years.insert((*it)[1]);
  }
  for (const std::string& y : years)
    commands.push_back({"announce", "--state", state, "--year", y});
  EXPECT_GT(commands.size(), 8u);
  // The monitor too: the corpus through an embedded broker into `run`.
  const pid_t broker = Spawn({"broker"}, dir_, "/dev/null", "broker-");
  const std::string bootstrap = WaitForFirstLine(dir_ / "broker-stdout", 5);
  ASSERT_FALSE(bootstrap.empty()) << ReadFile(dir_ / "broker-stderr");
  Bounded produced = RunBounded({"produce", "--brokers", bootstrap, corpus}, dir_, 120);
  EXPECT_EQ(produced.exit_code, 0) << produced.err;
  Bounded run = RunBounded(
      {"run", "--brokers", bootstrap, "--state", (dir_ / "live").string(), "--idle-exit", "3"},
      dir_, 120);
  kill(broker, SIGTERM);
  WaitAtMost(broker, 20);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_LT(run.max_rss_kb, 1024 * 1024);
  for (size_t i = 1; i < commands.size(); ++i) {
    Bounded b = RunBounded(commands[i], dir_, 120);
    std::string shown;
    for (const std::string& a : commands[i]) shown += a + " ";
    EXPECT_NE(b.exit_code, -1) << shown << "did not finish";
    // 0, or 1 for a self-check that found something, or 2 for a month the rules cannot judge:
    // never a crash.
    EXPECT_LE(b.exit_code, 2) << shown << b.err;
    EXPECT_LT(b.max_rss_kb, 1024 * 1024) << shown;
  }
}

}  // namespace
}  // namespace flexwatch::testing
