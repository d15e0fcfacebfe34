// Helpers for tests that run the real flexwatch binary as a child process.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"

namespace flexwatch::testing {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// Starts `program` with `args`, stdin from `stdin_path`, stdout and stderr to the files given.
// Returns the child's pid.
inline pid_t SpawnProgram(const std::string& program, const std::vector<std::string>& args,
                          const std::string& stdout_path, const std::string& stderr_path,
                          const std::string& stdin_path = "/dev/null") {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    std::string bin = program;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Starts the flexwatch binary with `args`, stdin from `stdin_path` (or /dev/null), stdout and
// stderr to files in `dir`. Returns the child's pid.
// `name` prefixes the output files' names (`name`stdout, `name`stderr), so that a long-running
// child keeps its own.
inline pid_t Spawn(const std::vector<std::string>& args, const fs::path& dir,
                   const std::string& stdin_path = "/dev/null", const std::string& name = "") {
  return SpawnProgram(FLEXWATCH_BINARY, args, (dir / (name + "stdout")).string(),
                      (dir / (name + "stderr")).string(), stdin_path);
}

inline int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// Wait, but a child still running after `seconds` is killed (-9) and reported as -1, so that a
// hang fails the test instead of stalling the suite.
inline int WaitAtMost(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    usleep(50 * 1000);
  }
  kill(pid, SIGKILL);
  Wait(pid);
  return -1;
}

// The first line a child writes to `path` (a server's address), waiting up to `seconds` for it;
// empty when none came.
inline std::string WaitForFirstLine(const fs::path& path, double seconds) {
  for (int i = 0; i < seconds * 40; ++i) {
    const std::string out = ReadFile(path);
    if (out.find('\n') != std::string::npos) return out.substr(0, out.find('\n'));
    usleep(25 * 1000);
  }
  return "";
}

inline CommandResult Flexwatch(const std::vector<std::string>& args, const fs::path& dir,
                               const std::string& stdin_path = "/dev/null") {
  CommandResult r;
  r.exit_code = Wait(Spawn(args, dir, stdin_path));
  r.out = ReadFile(dir / "stdout");
  r.err = ReadFile(dir / "stderr");
  return r;
}

// `inspect --dump` of a state: every record, or (everything = false) all but dead letters,
// source positions, which name their source (a file's line, a topic's partition and offset), and
// the closing watermark (a replay closes on every file read to its end, a consumer on its slowest
// partition), which differ between two routes to the same state.
inline std::string DumpState(const fs::path& state, const fs::path& dir, bool everything) {
  CommandResult r = Flexwatch({"inspect", "--state", state.string(), "--dump"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (everything) return r.out;
  std::string out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("dead\t", 0) != 0 && line.rfind("default\tpos/", 0) != 0 &&
        line.rfind("default\twatermark\t", 0) != 0)
      out += line + "\n";
  return out;
}

// The events a state has applied (its `accepted` counter; 0 for a state not made yet).
inline int64_t AcceptedCount(const fs::path& state, const fs::path& dir) {
  if (!fs::exists(state / "CURRENT")) return 0;
  CommandResult r = Flexwatch({"inspect", "--state", state.string()}, dir);
  const size_t at = r.out.find("\"accepted\": ");
  return at == std::string::npos ? 0 : std::stoll(r.out.substr(at + 12));
}

// The names of one monthly document in every format and language (`stem`: "monthly-2024-07",
// "monthly-2024-07.r1"), sorted.
inline std::vector<std::string> EveryFormatOf(const std::string& stem) {
  std::vector<std::string> names = {stem + ".json"};
  for (const char* lang : {"en", "zh"})
    for (const char* format : {"md", "html", "csv"})
      names.push_back(stem + "." + lang + "." + format);
  std::sort(names.begin(), names.end());
  return names;
}

// Events of July 2024 that arrive after the month was sealed, of a worker "w-late" of `platform`
// (the sealed-month tests), in three deliveries:
// 1. ten days of 12 hours in July as a live streamer, with a labour contract signed in June: one
//    more worker-month in scope of contract avoidance (not affected) and one more unpaid;
// 2. that contract terminated on July 2: not in force at the last order, so affected;
// 3. July's pension paid on October 20, after the grace: paid late, and no count moves.
inline std::vector<std::vector<std::string>> LateJulyDeliveries(const std::string& platform) {
  const std::string head = "{\"platform_id\":\"" + platform + "\",\"worker_id\":\"w-late\",";
  std::vector<std::vector<std::string>> out(3);
  for (int day = 1; day <= 10; ++day)
    out[0].push_back(head + "\"type\":\"order\",\"event_id\":\"late-" + std::to_string(day) +
                     "\",\"ts\":\"2024-07-" + (day < 10 ? "0" : "") + std::to_string(day) +
                     "T10:00:00+08:00\",\"sector\":\"live_streaming\",\"duration_min\":720,"
                     "\"earnings_cny\":500}");
  out[0].push_back(head +
                   "\"type\":\"contract\",\"event_id\":\"late-sign\",\"ts\":"
                   "\"2024-06-01T09:00:00+08:00\",\"action\":\"signed\",\"form\":"
                   "\"labor_contract\",\"counterparty_id\":\"" +
                   platform + "\"}");
  out[1].push_back(head +
                   "\"type\":\"contract\",\"event_id\":\"late-end\",\"ts\":"
                   "\"2024-07-02T09:00:00+08:00\",\"action\":\"terminated\",\"form\":"
                   "\"labor_contract\",\"counterparty_id\":\"" +
                   platform + "\"}");
  out[2].push_back(head +
                   "\"type\":\"contribution\",\"event_id\":\"late-pay\",\"ts\":"
                   "\"2024-10-20T10:00:00+08:00\",\"period\":\"2024-07\",\"scheme\":\"pension\","
                   "\"payer\":\"employer\",\"base_cny\":6821,\"amount_cny\":1091.36}");
  return out;
}

// What `reads` gives beside a running `run` once its stderr (`run_stderr`) says it has caught up
// and two reads `apart` seconds apart agree (its rounds done); empty when that does not happen
// within `seconds`. The reading tests compare it with what the same reads give after it stops.
inline std::string SettledReads(const fs::path& run_stderr,
                                const std::function<std::string()>& reads, int apart, int seconds,
                                const fs::path& state, const fs::path& dir) {
  std::string live;
  const bool settled = WaitFor(std::chrono::seconds(seconds), [&] {
    if (ReadFile(run_stderr).find("caught up: every partition") == std::string::npos) return false;
    const std::string first = reads();
    std::this_thread::sleep_for(std::chrono::seconds(apart));
    live = reads();
    return live == first && AcceptedCount(state, dir) > 0;
  });
  return settled ? live : std::string();
}

}  // namespace flexwatch::testing
