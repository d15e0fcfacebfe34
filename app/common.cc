// What every subcommand shares: errors, the configuration, stop signals.

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cli.h"

namespace flexwatch::cli {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "flexwatch: %s\n", msg.c_str());
  return kExitUsage;
}

bool ReadFailed(fw::Store& store, const char* command, int& rc) {
  fw::Status s = store.ReadStatus();
  if (s.ok()) return false;
  rc = Fail(std::string(command) + ": " + s.message());
  return true;
}

fw::Result<fw::Config> ResolveConfig(const std::string& flag) {
  if (!flag.empty()) return fw::LoadConfig(flag);
  if (const char* env = std::getenv("FLEXWATCH_CONFIG"); env && *env) return fw::LoadConfig(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path candidate = exe.parent_path().parent_path() / "config" / "flexwatch.yaml";
    if (fs::exists(candidate, ec)) return fw::LoadConfig(candidate.string());
  }
  return fw::ShippedConfig();
}

std::unique_ptr<fw::Store> OpenExistingState(const fw::Config& cfg, const std::string& dir,
                                             const char* command, int& rc) {
  if (!fs::exists(fs::path(dir) / "CURRENT")) {
    rc = Fail(std::string(command) + ": " + dir + " holds no flexwatch state");
    return nullptr;
  }
  fw::StoreOptions options = cfg.store;
  options.read_only = true;
  auto store = fw::Store::Open(dir, options);
  // Beside a running `run` (cli.md 1.1, live reads), a file the open listed may be gone by the
  // time it is read (a log flushed, a table compacted away): opened again, a few times.
  for (int again = 0; !store.ok() && store.status().IsIOError() && again < 3; ++again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    store = fw::Store::Open(dir, options);
  }
  if (!store.ok()) {
    rc = Fail(std::string(command) + ": " + store.status().message());
    return nullptr;
  }
  return std::move(*store);
}

std::string ConfigDir(const fw::Config& cfg) {
  std::error_code ec;
  if (!fs::is_regular_file(cfg.path, ec)) return "";
  return fs::absolute(cfg.path, ec).parent_path().string();
}

std::atomic<bool> g_stop{false};

namespace {
void OnStopSignal(int) { g_stop.store(true); }
}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace flexwatch::cli
