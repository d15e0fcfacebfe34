// Evaluation of one month against the replay that built its state, measured in one run.
//
//   eval_bench [--worker-months N] [--platforms P] [--dir DIR] [--json FILE]
//
// 1. writes a feed of one month (2024-07) with N worker-months over P platforms: 30% labour
//    relations (contract, 5 orders, the four employer contributions, a pilot premium or a
//    commercial policy), 35% managed (agreement, 3 orders), 35% independent (1 order); about
//    6 events per worker-month. Real months have far more orders per worker-month (about 180 in
//    the generator's mix), which makes replay longer and leaves evaluation as it is: the ratio
//    reported here is the conservative one;
// 2. replays it in process into a fresh state (the library `flexwatch replay` runs), CPU and wall
//    time (CPU of all threads, RocksDB's background work included);
// 3. reopens the state and evaluates the month (every worker-month judged, every platform
//    scored, as `announce --final` does) three times: the first run and the fastest are reported,
//    as the CPU time of the thread that evaluates (and of the one that scans, for the floor), so
//    that the compactions RocksDB may run in the background after the reopen are not counted.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_clock.h"
#include "flexwatch/announce/announcement.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/settings/config.h"
#include "state_size.h"

namespace fs = std::filesystem;
namespace fw = flexwatch;

namespace {

using flexwatch::bench::CpuSeconds;
using flexwatch::bench::ThreadCpuSeconds;
using flexwatch::bench::WallSeconds;
long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

constexpr const char* kSectors[] = {"food_delivery", "ride_hailing",     "instant_delivery",
                                    "freight",       "express_delivery", "home_services",
                                    "live_streaming"};

int64_t WriteFeed(const std::string& path, int64_t worker_months, int platforms) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  int64_t events = 0, id = 0;
  std::string line;
  auto head = [&](const char* type, const std::string& p, const std::string& w, const char* ts) {
    line = "{\"type\":\"";
    line += type;
    line += "\",\"event_id\":\"e-" + std::to_string(++id) + "\",\"ts\":\"" + ts +
            "\",\"platform_id\":\"" + p + "\",\"worker_id\":\"" + w + "\"";
  };
  auto emit = [&]() {
    line += "}\n";
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    ++events;
  };
  char ts[40], w[24], p[16];
  for (int64_t i = 0; i < worker_months; ++i) {
    std::snprintf(w, sizeof w, "w-%08lld", static_cast<long long>(i));
    const int pi = static_cast<int>(i % platforms);
    std::snprintf(p, sizeof p, "p-%03d", pi);
    const char* sector = kSectors[pi % 7];
    const int kind = static_cast<int>((i * 7919) % 100);  // 0-29 labour, 30-64 managed, else indep.
    const int orders = kind < 30 ? 5 : kind < 65 ? 3 : 1;
    const int minutes = kind < 30 ? 1300 : kind < 65 ? 1000 : 600;
    if (kind < 65) {
      head("contract", p, w, "2024-06-20T09:00:00+08:00");
      line += std::string(",\"action\":\"signed\",\"form\":\"") +
              (kind < 27   ? "labor_contract"
               : kind < 30 ? "outsourcing"
                           : "written_agreement") +
              "\",\"counterparty_id\":\"" + p + "\"";
      emit();
    }
    for (int d = 1; d <= orders; ++d) {
      std::snprintf(ts, sizeof ts, "2024-07-%02dT%02d:00:00+08:00", d + static_cast<int>(i % 20),
                    8 + d);
      head("order", p, w, ts);
      line += std::string(",\"sector\":\"") + sector +
              "\",\"duration_min\":" + std::to_string(minutes) + ",\"earnings_cny\":1000";
      emit();
    }
    if (kind < 30) {
      const char* paid[][2] = {{"pension", "1091.36"},
                               {"medical", "668.46"},
                               {"unemployment", "34.11"},
                               {"work_injury", "27.28"}};
      for (int s = 0; s < 4 - (kind == 0); ++s) {  // a few labour relations miss one scheme
        head("contribution", p, w, "2024-08-10T10:00:00+08:00");
        line += std::string(",\"period\":\"2024-07\",\"scheme\":\"") + paid[s][0] +
                "\",\"payer\":\"employer\",\"base_cny\":6821,\"amount_cny\":" + paid[s][1];
        emit();
      }
    }
    if (pi % 7 < 4) {  // pilot sectors: the per-order premium
      head("contribution", p, w, "2024-08-05T10:00:00+08:00");
      line +=
          ",\"period\":\"2024-07\",\"scheme\":\"occupational_injury\",\"payer\":\"platform\","
          "\"amount_cny\":0.5,\"orders_covered\":" +
          std::to_string(orders - (kind % 10 == 1));
      emit();
    } else if (pi % 7 < 6) {  // high-risk sectors: a policy for the month
      head("coverage", p, w, "2024-06-28T10:00:00+08:00");
      line += std::string(",\"product\":\"accident\",\"sum_insured_cny\":") +
              (kind % 10 == 2 ? "200000" : "600000") +
              ",\"valid_from\":\"2024-07-01\",\"valid_to\":\"2024-07-31\"";
      emit();
    }
  }
  return events;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t worker_months = 1000000;
  int platforms = 20;
  std::string dir, json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--worker-months"))
      worker_months = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--platforms"))
      platforms = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--json"))
      json_path = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: eval_bench [--worker-months N] [--platforms P] [--dir DIR] "
                   "[--json FILE]\n");
      return 2;
    }
  }
  if (dir.empty())
    dir =
        (fs::temp_directory_path() / ("flexwatch-eval-bench-" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto config = fw::ShippedConfig();
  if (!config.ok()) return 1;
  const fw::RuleSet& rules = *config->rules;
  const std::string feed = dir + "/feed.ndjson", state = dir + "/state";
  std::fprintf(stderr, "writing %lld worker-months...\n", static_cast<long long>(worker_months));
  const int64_t events = WriteFeed(feed, worker_months, platforms);

  // The replay's time includes closing the state (its memtables flushed), as `flexwatch replay`
  // does before it exits: a small month otherwise leaves its flushing outside the figure and a
  // large one (flushed and compacted as it goes) does not.
  double replay_cpu = 0, replay_wall = 0;
  {
    const double c0 = CpuSeconds(), w0 = WallSeconds();
    {
      auto store = fw::Store::Open(state, config->store);
      if (!store.ok()) return 1;
      auto counts = fw::ReplayFiles(**store, {feed}, config->ingest);
      if (!counts.ok() || counts->accepted != events) {
        std::fprintf(stderr, "replay failed\n");
        return 1;
      }
    }  // closed: flushed, as a later `announce` finds it
    replay_cpu = CpuSeconds() - c0;
    replay_wall = WallSeconds() - w0;
  }
  const uint64_t state_bytes = flexwatch::bench::StateBytes(state);

  auto store = fw::Store::Open(state, config->store);
  if (!store.ok()) return 1;
  // The floor: reading every worker-month of the month with its contracts, contributions and
  // policies, as the evaluation reads them, judging nothing. Best of three.
  double scan_cpu = 1e30;
  int64_t scanned = 0;
  for (int run = 0; run < 3; ++run) {
    const double c0 = ThreadCpuSeconds();
    int64_t rows = 0, orders = 0;
    if (!(*store)
             ->ScanMonth(fw::MakePeriod(2024, 7), "",
                         [&](const fw::MonthRow& row) {
                           ++rows;
                           orders +=
                               row.wm.wm.TotalOrders() +
                               static_cast<int64_t>(row.contracts.size() +
                                                    row.contributions.size() + row.policies.size());
                         })
             .ok())
      return 1;
    scan_cpu = std::min(scan_cpu, ThreadCpuSeconds() - c0);
    scanned = rows + (orders < 0);
  }
  double first_cpu = 0, first_wall = 0, best_cpu = 1e30, best_wall = 1e30;
  int64_t judged = 0, affected = 0;
  size_t json_bytes = 0;
  for (int run = 0; run < 3; ++run) {
    const double c0 = ThreadCpuSeconds(), w0 = WallSeconds();
    fw::EvaluateOptions eo;
    eo.close = true;
    auto m = fw::EvaluateMonth(**store, rules, fw::MakePeriod(2024, 7), eo);
    if (!m.ok()) {
      std::fprintf(stderr, "evaluation failed: %s\n", m.status().ToString().c_str());
      return 1;
    }
    json_bytes = fw::MonthlyJson(*m, rules).size();
    const double cpu = ThreadCpuSeconds() - c0, wall = WallSeconds() - w0;
    if (run == 0) first_cpu = cpu, first_wall = wall;
    best_cpu = std::min(best_cpu, cpu);
    best_wall = std::min(best_wall, wall);
    judged = affected = 0;
    for (const fw::PlatformScore& ps : m->platforms) {
      judged += ps.worker_months;
      for (const fw::DimensionScore& d : ps.dimensions) affected += d.affected;
    }
  }
  if (judged != worker_months) {
    std::fprintf(stderr, "judged %lld worker-months, expected %lld\n",
                 static_cast<long long>(judged), static_cast<long long>(worker_months));
    return 1;
  }
  std::printf(
      "| worker-months | events | replay CPU s (wall) | evaluate CPU s (wall), first | "
      "evaluate CPU s (wall), best | evaluate / replay (CPU) | worker-months/s | peak RSS "
      "|\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %lld | %lld | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %.3f | %.0f | %ld MiB |\n",
              static_cast<long long>(judged), static_cast<long long>(events), replay_cpu,
              replay_wall, first_cpu, first_wall, best_cpu, best_wall, best_cpu / replay_cpu,
              static_cast<double>(judged) / best_cpu, MaxRssKb() / 1024);
  std::printf("(%lld findings across %d platforms; announcement %zu bytes)\n",
              static_cast<long long>(affected), platforms, json_bytes);
  auto settled = flexwatch::bench::Settle(**store);
  if (!settled.ok()) {
    std::fprintf(stderr, "compaction failed: %s\n", settled.status().ToString().c_str());
    return 1;
  }
  const uint64_t compacted_bytes = settled->bytes;
  const std::string& families = settled->families;
  std::printf(
      "scan-only floor (every row read, nothing judged): %.2f s CPU for %lld rows; "
      "evaluation %.2fx of it\n",
      scan_cpu, static_cast<long long>(scanned), best_cpu / scan_cpu);
  std::printf(
      "state on disk after the replay: %.1f MB, %.1f bytes per worker-month; compacted: %.1f MB, "
      "%.1f bytes per worker-month (by column family: %s)\n",
      static_cast<double>(state_bytes) / 1e6,
      static_cast<double>(state_bytes) / static_cast<double>(judged),
      static_cast<double>(compacted_bytes) / 1e6,
      static_cast<double>(compacted_bytes) / static_cast<double>(judged), families.c_str());
  if (!json_path.empty()) {
    std::ofstream j(json_path);
    j << "{\"worker_months\": " << judged << ", \"events\": " << events
      << ", \"replay_cpu_s\": " << replay_cpu << ", \"replay_wall_s\": " << replay_wall
      << ", \"evaluate_first_cpu_s\": " << first_cpu << ", \"evaluate_best_cpu_s\": " << best_cpu
      << ", \"evaluate_best_wall_s\": " << best_wall
      << ", \"ratio_evaluate_to_replay\": " << best_cpu / replay_cpu
      << ", \"scan_cpu_s\": " << scan_cpu << ", \"ratio_evaluate_to_scan\": " << best_cpu / scan_cpu
      << ", \"max_rss_kib\": " << MaxRssKb() << ", \"state_bytes\": " << state_bytes
      << ", \"state_bytes_per_worker_month\": "
      << static_cast<double>(state_bytes) / static_cast<double>(judged)
      << ", \"compacted_bytes\": " << compacted_bytes << ", \"compacted_bytes_per_worker_month\": "
      << static_cast<double>(compacted_bytes) / static_cast<double>(judged)
      << ", \"compacted_by_family\": {" << families << "}}\n";
  }
  store->reset();
  fs::remove_all(dir);
  return 0;
}
