// The command line (docs/cli.md): one file per subcommand, each a few lines over the libraries;
// main.cc holds the options of all of them.
#pragma once

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/inspect.h"
#include "flexwatch/state/store.h"

namespace flexwatch::cli {

namespace fw = flexwatch;
namespace fs = std::filesystem;

inline constexpr const char* kFlexwatchVersion = FLEXWATCH_VERSION;
// Exit codes (docs/cli.md): done; done and something was found (a self-check that failed);
// usage, input or system error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFound = 1;
inline constexpr int kExitUsage = 2;

// --- common.cc ---
// Says "flexwatch: MSG" on stderr; returns kExitUsage.
int Fail(const std::string& msg);
// The state read whole? A read error (a corrupted or unreadable file) met on the way fails the
// command, naming the file, instead of giving a partial answer.
bool ReadFailed(fw::Store& store, const char* command, int& rc);
// --config, else $FLEXWATCH_CONFIG, else config/flexwatch.yaml beside the build directory, else
// the copy of the shipped file compiled into the binary.
fw::Result<fw::Config> ResolveConfig(const std::string& flag);
// The state a reading command works on: `dir` must hold one (else "COMMAND: DIR holds no
// flexwatch state"), opened read-only (nothing is written, not even on a full disk, and a running
// monitor's lock is no obstacle). On error, says so naming `command` and returns null with `rc`.
std::unique_ptr<fw::Store> OpenExistingState(const fw::Config& cfg, const std::string& dir,
                                             const char* command, int& rc);
// The folder of the config file, for paths it names (empty for the compiled-in copy).
std::string ConfigDir(const fw::Config& cfg);
// Raised by SIGTERM and SIGINT once InstallStopHandlers has run.
extern std::atomic<bool> g_stop;
void InstallStopHandlers();

// --- one per subcommand ---
struct ReplayArgs {
  std::string state, stats_json;
  std::vector<std::string> inputs;
  bool progress = true;
};
int RunReplay(const fw::Config& cfg, const ReplayArgs& a, fw::IngestCounts* out = nullptr);

struct InspectArgs {
  std::string state, platform, worker, month, dimension, pseudonym, lang = "en";
  bool dump = false;
  bool close = false;  // --final
};
int RunInspect(const fw::Config& cfg, const InspectArgs& a);
// The detectors' monthly series of each platform, one JSON object per platform and month.
int RunSeries(const fw::Config& cfg, const std::string& state, const std::string& platform,
              const std::string& month);

struct AnnounceArgs {
  std::string state, month, format = "json", lang = "en", out;
  int year = 0;
  int revision = -1;  // >= 0: the documents of that revision of --month, as the monitor kept them
  bool close = false;
};
int RunAnnounce(const fw::Config& cfg, const AnnounceArgs& a);

struct BacktestArgs {
  std::string state, with, from, to, platform, format = "text";
  bool close = false;
};
// What another rule set or detector configuration would have done to the months in the state.
int RunBacktest(const fw::Config& cfg, const BacktestArgs& a);

int RunSelfcheck(const fw::Config& cfg, const std::vector<std::string>& feeds,
                 const std::string& platform, const std::string& format, const std::string& lang);
// The platforms' self-check service, until SIGTERM or SIGINT.
int RunSelfcheckApi(fw::Config cfg, const std::string& listen, const std::string& brokers);
// `flexwatch token add|revoke|list`: the self-check API's tokens.
int RunToken(const fw::Config& cfg, const std::string& action, const std::string& what,
             std::string file);

struct RunArgs {
  std::string brokers, group, instance, state = "flexwatch-state", metrics_listen;
  std::vector<std::string> topics;
  double idle_exit = 0;
};
// The long-running monitor: consumes the topics into the state until stopped (or idle).
int RunMonitor(const fw::Config& cfg, const RunArgs& a);

// A standalone embedded broker for other processes to produce into and consume from.
int RunBroker(const fw::Config& cfg, std::vector<std::string> topics, int partitions);
int RunProduce(const fw::Config& cfg, const std::string& brokers, const std::string& topic,
               const std::vector<std::string>& inputs);

int RunGen(const fw::GenOptions& o, const std::string& truth_path, std::ostream& out);
// The main job on the embedded default: generate a feed, send it through the embedded Kafka
// broker into the monitor, announce each month and show the verdict.
int RunDemo(const fw::Config& cfg, const std::string& dir, fw::GenOptions o);

}  // namespace flexwatch::cli
