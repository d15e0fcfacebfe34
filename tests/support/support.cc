#include "support.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace flexwatch::testing {

TempDir::TempDir(const std::string& name)
    : path_(fs::temp_directory_path() / ("flexwatch-" + std::to_string(::getpid()) + "-" + name)) {
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!keep_) fs::remove_all(path_, ignored);
}

void TempDirTest::SetUp() {
  dir_ =
      fs::temp_directory_path() / ("flexwatch-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir_);
  fs::create_directories(dir_);
}

void TempDirTest::TearDown() {
  if (!HasFailure()) fs::remove_all(dir_);
}

namespace {

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string OverlayYaml(const std::string& base, const Overlay& overlay) {
  YAML::Node root = YAML::Load(base);
  for (const auto& [path, value] : overlay) {
    std::vector<std::string> keys;
    std::stringstream ss(path);
    for (std::string k; std::getline(ss, k, '.');) keys.push_back(k);
    // Walks with fresh handles (YAML::Node assignment would write through a reference).
    std::vector<YAML::Node> chain{root};
    bool ok = true;
    for (size_t i = 0; i + 1 < keys.size() && ok; ++i) {
      const YAML::Node& at = chain.back();
      if (at.IsSequence()) {
        ok = AllDigits(keys[i]) && std::stoul(keys[i]) < at.size();
        if (ok) chain.push_back(at[std::stoul(keys[i])]);
      } else {
        chain.push_back(at[keys[i]]);
      }
    }
    EXPECT_TRUE(ok) << "overlay path " << path << " runs past a sequence's end";
    if (!ok) continue;
    YAML::Node parent = chain.back();
    if (parent.IsSequence() && AllDigits(keys.back()))
      parent[std::stoul(keys.back())] = YAML::Load(value);
    else
      parent[keys.back()] = YAML::Load(value);
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

std::string WriteConfig(const fs::path& path, const Overlay& overlay) {
  std::ifstream in(fs::path(FLEXWATCH_SOURCE_DIR) / "config" / "flexwatch.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::ofstream(path, std::ios::trunc) << OverlayYaml(ss.str(), overlay);
  return path.string();
}

bool WaitFor(std::chrono::milliseconds deadline, const std::function<bool()>& ok,
             std::chrono::milliseconds poll) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (ok()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace flexwatch::testing
