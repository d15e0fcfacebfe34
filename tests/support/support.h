// What every test shares: a temporary folder that cleans up after a passing test, the shipped
// configuration with some values changed (an overlay, not text surgery), and waiting on a
// condition with a deadline instead of sleeping a fixed time.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace flexwatch::testing {

namespace fs = std::filesystem;

// A fresh folder under the system's temporary folder, named after the process and `name`;
// removed on destruction unless `keep` is set (a failing test keeps what it left, to look at).
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  fs::path path_;
  bool keep_ = false;
};

// A fixture with `dir_`: a fresh folder per test, removed when the test passes.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  fs::path dir_;
};

// `key.path` (mapping keys, and sequence indices as numbers: "rules.contributions.base_limits.0
// .from") set to `value`, a YAML value ("1", "\"text\"", "{a: 1}"). A path that does not exist in
// the base is added, unless it runs through a sequence.
using Overlay = std::vector<std::pair<std::string, std::string>>;
// The YAML `base` with the overlay applied. Fails the current test on a path it cannot follow.
std::string OverlayYaml(const std::string& base, const Overlay& overlay);
// The shipped config/flexwatch.yaml with the overlay applied, written to `path`; returns `path`.
std::string WriteConfig(const fs::path& path, const Overlay& overlay);

// kafka.client settings with short sessions, so that a consumer killed with -9 leaves its group in
// seconds.
inline constexpr const char* kShortSessions =
    "{session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\"}";

// Calls `ok` every `poll` until it returns true (then true) or `deadline` has passed (then false).
bool WaitFor(std::chrono::milliseconds deadline, const std::function<bool()>& ok,
             std::chrono::milliseconds poll = std::chrono::milliseconds(50));

}  // namespace flexwatch::testing
