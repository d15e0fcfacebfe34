// flexwatch: the command line (spec/cli.md). Each subcommand is a few lines over the libraries.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "flexwatch/core/decimal.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/config.h"
#include "flexwatch/state/inspect.h"
#include "flexwatch/state/store.h"
#include "shipped_config.h"

namespace fw = flexwatch;
namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "flexwatch: %s\n", msg.c_str());
  return kExitUsage;
}

// --config, else $FLEXWATCH_CONFIG, else config/flexwatch.yaml beside the build directory, else
// the copy of the shipped file compiled into the binary.
fw::Result<fw::Config> ResolveConfig(const std::string& flag) {
  if (!flag.empty()) return fw::LoadConfig(flag);
  if (const char* env = std::getenv("FLEXWATCH_CONFIG"); env && *env) return fw::LoadConfig(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path candidate = exe.parent_path().parent_path() / "config" / "flexwatch.yaml";
    if (fs::exists(candidate, ec)) return fw::LoadConfig(candidate.string());
  }
  return fw::ParseConfig(fw::kShippedConfig, "shipped config/flexwatch.yaml");
}

void DrawProgress(const fw::ReplayProgress& p) {
  static auto last = std::chrono::steady_clock::time_point();
  auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::milliseconds(200) && p.bytes_done != p.bytes_total) return;
  last = now;
  if (p.bytes_total > 0) {
    int pct = static_cast<int>(100.0 * static_cast<double>(p.bytes_done) /
                               static_cast<double>(p.bytes_total));
    int bar = pct / 4;
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %lld lines", p.source.c_str(), bar,
                 "=========================", 25 - bar, "", pct, static_cast<long long>(p.lines));
  } else {
    std::fprintf(stderr, "\r%s %lld lines", p.source.c_str(), static_cast<long long>(p.lines));
  }
  std::fflush(stderr);
}

struct ReplayArgs {
  std::string state, stats_json;
  std::vector<std::string> inputs;
  bool progress = true;
};

int RunReplay(const fw::Config& cfg, const ReplayArgs& a, fw::IngestCounts* out = nullptr) {
  for (const std::string& in : a.inputs) {
    std::error_code ec;
    if (in != "-" && !fs::is_regular_file(in, ec) && !fs::exists(in, ec))
      return Fail("replay: input file not found: " + in);
  }
  auto store = fw::Store::Open(a.state, cfg.store);
  if (!store.ok()) return Fail("replay: " + store.status().message());
  const bool tty = a.progress && ::isatty(2);
  auto counts =
      fw::ReplayFiles(**store, a.inputs, cfg.ingest,
                      tty ? std::function<void(const fw::ReplayProgress&)>(DrawProgress) : nullptr);
  if (tty) std::fputc('\n', stderr);
  if (!counts.ok()) return Fail("replay: " + counts.status().message());
  if (auto s =
          fw::WriteDeadLetterFile(**store, (fs::path(a.state) / "dead-letter.ndjson").string());
      !s.ok())
    return Fail("replay: " + s.message());
  const std::string stats = "{\"accepted\": " + std::to_string(counts->accepted) +
                            ", \"duplicates\": " + std::to_string(counts->duplicates) +
                            ", \"rejected\": " + std::to_string(counts->rejected) + "}";
  if (!a.stats_json.empty()) {
    std::ofstream f(a.stats_json, std::ios::trunc);
    f << stats << "\n";
    if (!f) return Fail("replay: cannot write " + a.stats_json);
  }
  std::fprintf(stderr, "replay: accepted %lld, duplicates %lld, rejected %lld%s\n",
               static_cast<long long>(counts->accepted), static_cast<long long>(counts->duplicates),
               static_cast<long long>(counts->rejected),
               counts->rejected
                   ? (" (see " + (fs::path(a.state) / "dead-letter.ndjson").string() + ")").c_str()
                   : "");
  if (out) *out = *counts;
  return kExitOk;
}

int RunInspect(const fw::Config& cfg, const std::string& state, fw::InspectQuery q,
               const std::string& month, bool dump) {
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("inspect: --month " + month + ": " + p.status().message());
    q.month = *p;
  }
  if (!fs::exists(fs::path(state) / "CURRENT"))
    return Fail("inspect: " + state + " holds no flexwatch state");
  auto store = fw::Store::Open(state, cfg.store);
  if (!store.ok()) return Fail("inspect: " + store.status().message());
  if (dump) {
    auto s = (*store)->Dump([](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    });
    return s.ok() ? kExitOk : Fail("inspect: " + s.message());
  }
  auto json = fw::InspectJson(**store, q);
  if (!json.ok()) return Fail("inspect: " + json.status().message());
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

int RunGen(const fw::GenOptions& o, const std::string& truth_path, std::ostream& out) {
  std::ofstream truth;
  if (!truth_path.empty()) {
    truth.open(truth_path, std::ios::trunc);
    if (!truth) return Fail("gen: cannot write " + truth_path);
  }
  auto s = fw::Generate(o, out, truth_path.empty() ? nullptr : &truth);
  return s.ok() ? kExitOk : Fail("gen: " + s.message());
}

// The main job on the embedded default: generate a feed, replay it, show what state holds.
int RunDemo(const fw::Config& cfg, const std::string& dir, const fw::GenOptions& o) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("demo: cannot create " + dir + ": " + ec.message());
  const std::string feed = (fs::path(dir) / "feed.ndjson").string();
  const std::string truth = (fs::path(dir) / "truth.json").string();
  const std::string state = (fs::path(dir) / "state").string();
  fs::remove_all(state, ec);
  {
    std::ofstream f(feed, std::ios::trunc);
    std::printf("1. generating a feed: %d workers, %d platforms, %d months -> %s\n", o.workers,
                o.platforms, o.months, feed.c_str());
    if (int rc = RunGen(o, truth, f); rc != kExitOk) return rc;
  }
  std::printf("2. replaying it into %s\n", state.c_str());
  std::fflush(stdout);
  fw::IngestCounts counts;
  if (int rc = RunReplay(cfg, ReplayArgs{state, "", {feed}, true}, &counts); rc != kExitOk)
    return rc;
  auto store = fw::Store::Open(state, cfg.store);
  if (!store.ok()) return Fail("demo: " + store.status().message());
  std::printf("3. state now holds:\n\n");
  std::printf("  %-18s %-8s %8s %9s %10s %10s\n", "platform", "month", "workers", "orders", "hours",
              "complaints");
  for (fw::Period p : (*store)->Periods()) {
    std::map<std::string, std::array<int64_t, 3>> rows;
    (void)(*store)->ForEachWorkerMonth(p, "", [&](const fw::WorkerMonthRecord& r) {
      auto& row = rows[r.platform_id];
      row[0] += 1;
      row[1] += r.wm.TotalOrders();
      row[2] += r.wm.duration;
    });
    for (const auto& [platform, row] : rows) {
      int64_t complaints = 0;
      for (const auto& [cat, n] : (*store)->Complaints(p, platform)) complaints += n;
      std::printf("  %-18s %-8s %8lld %9lld %10s %10lld\n", platform.c_str(),
                  fw::FormatPeriod(p).c_str(), static_cast<long long>(row[0]),
                  static_cast<long long>(row[1]), fw::FormatScaled(row[2] / 60000, 0).c_str(),
                  static_cast<long long>(complaints));
    }
  }
  std::printf("\n  events accepted %lld, duplicates ignored %lld, rejected %lld\n",
              static_cast<long long>(counts.accepted), static_cast<long long>(counts.duplicates),
              static_cast<long long>(counts.rejected));
  std::printf(
      "\nFeed: %s\nGround truth of planted violations: %s\nState: %s\n"
      "Rejected lines: %s/dead-letter.ndjson\n"
      "Look closer: build/flexwatch inspect --state %s --platform ID [--worker ID] "
      "[--month YYYY-MM]\n",
      feed.c_str(), truth.c_str(), state.c_str(), state.c_str(), state.c_str());
  return kExitOk;
}

void AddGenOptions(CLI::App* cmd, fw::GenOptions& o, std::string& start) {
  cmd->add_option("--workers", o.workers, "number of workers")->check(CLI::Range(1, 100000000));
  cmd->add_option("--platforms", o.platforms, "number of platforms")->check(CLI::Range(1, 10000));
  cmd->add_option("--months", o.months, "number of months")->check(CLI::Range(1, 120));
  cmd->add_option("--seed", o.seed, "random seed: same seed, same bytes");
  cmd->add_option("--start", start, "first month, YYYY-MM (default 2024-07)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flexwatch: platform-compliance early warning for flexibly employed workers"};
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("--config", config_path, "configuration file (default: the shipped one)");

  ReplayArgs replay;
  auto* replay_cmd = app.add_subcommand("replay", "ingest NDJSON files (- is stdin) into state");
  replay_cmd->add_option("--state", replay.state, "state directory")->required();
  replay_cmd->add_option("--stats-json", replay.stats_json, "write this run's counts as JSON");
  replay_cmd->add_flag("!--no-progress", replay.progress, "no progress bar even on a terminal");
  replay_cmd->add_option("--config", config_path, "configuration file");
  replay_cmd->add_option("inputs", replay.inputs, "NDJSON files")->required();

  std::string inspect_state, inspect_month;
  fw::InspectQuery query;
  bool dump = false;
  auto* inspect_cmd = app.add_subcommand("inspect", "show what state holds");
  inspect_cmd->add_option("--state", inspect_state, "state directory")->required();
  inspect_cmd->add_option("--platform", query.platform, "one platform");
  inspect_cmd->add_option("--worker", query.worker, "one worker");
  inspect_cmd->add_option("--month", inspect_month, "one month, YYYY-MM");
  inspect_cmd->add_flag("--dump", dump, "every record, canonical text (for comparing states)");
  inspect_cmd->add_option("--config", config_path, "configuration file");

  fw::GenOptions gen;
  std::string truth_path, gen_start;
  auto* gen_cmd = app.add_subcommand("gen", "write a synthetic feed with planted violations");
  AddGenOptions(gen_cmd, gen, gen_start);
  gen_cmd->add_option("--truth", truth_path, "write the planted violations' ground truth here");

  fw::GenOptions demo_gen;
  std::string demo_dir = "flexwatch-demo", demo_start;
  auto* demo_cmd = app.add_subcommand("demo", "generate a feed, replay it and show the state");
  AddGenOptions(demo_cmd, demo_gen, demo_start);
  demo_cmd->add_option("--dir", demo_dir, "where the demo writes (default ./flexwatch-demo)");
  demo_cmd->add_option("--config", config_path, "configuration file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    return Fail(msg + " (see --help)");
  }

  auto cfg = ResolveConfig(config_path);
  if (!cfg.ok()) return Fail(cfg.status().message());
  for (auto* o : {&gen, &demo_gen}) {
    const std::string& start = o == &gen ? gen_start : demo_start;
    if (start.empty()) continue;
    auto p = fw::ParsePeriod(start);
    if (!p.ok()) return Fail("--start " + start + ": " + p.status().message());
    o->start = *p;
  }

  if (*replay_cmd) return RunReplay(*cfg, replay);
  if (*inspect_cmd) return RunInspect(*cfg, inspect_state, query, inspect_month, dump);
  if (*gen_cmd) {
    std::ios::sync_with_stdio(false);
    return RunGen(gen, truth_path, std::cout);
  }
  if (*demo_cmd) return RunDemo(*cfg, demo_dir, demo_gen);
  return Fail("no subcommand (see --help)");
}
