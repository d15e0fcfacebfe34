// Helpers for tests that run the real flexwatch binary as a child process.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace flexwatch::testing
