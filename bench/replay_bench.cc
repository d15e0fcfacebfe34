// Replay throughput against the parse-only floor, measured in one run on one file.
//
//   replay_bench [--events N] [--ids sequential|uuid|hex|snowflake] [--order time|shuffled]
//                [--flexwatch PATH] [--dir DIR] [--json FILE]
//
// --ids gives the events ids of a shape real producers use instead of the generator's sequence
// (gen --ids), and --order shuffled puts the whole feed in a random order (gen --order);
// --random-ids 1 is --ids hex.
//
// 1. generates a feed of about N events with `flexwatch gen`'s library (same seed each time);
// 2. parse-only: reads the file with the same line reader and parses every field of every line
//    with simdjson On-Demand, strings unescaped and numbers converted (the floor: no validation,
//    no event built, no state);
// 3. decode-only: the full decoder and validation of spec/events.md, no state;
// 4. replay: `flexwatch replay` as a child process into a fresh state directory (durable state,
//    de-duplication, dead letters), its CPU time, wall time and peak RSS from wait4();
// 5. parse-only again, decode again and replay again (into a fresh state): for each, the smaller
//    of its two CPU times is reported, and the smaller parse-only time is the floor, so that the
//    drift of a shared machine weighs less on the ratios.
// Prints a Markdown table and, with --json, writes the figures as JSON.
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_clock.h"
#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/ingest/line_reader.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/store.h"
#include "state_size.h"

namespace fs = std::filesystem;
using flexwatch::Decoder;

namespace {

using flexwatch::bench::CpuSeconds;
using flexwatch::bench::Settle;
using flexwatch::bench::WallSeconds;

struct Run {
  double cpu = 0, wall = 0;
  int64_t lines = 0, ok = 0;
  long max_rss_kb = 0;
};

Run ParseOnly(const std::string& path) {
  Run r;
  double c0 = CpuSeconds(), w0 = WallSeconds();
  auto reader = flexwatch::LineReader::Open(path, 1 << 20, simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  flexwatch::Line line;
  size_t sink = 0;
  while ((*reader)->Next(line)) {
    ++r.lines;
    simdjson::ondemand::document doc;
    if (parser
            .iterate(simdjson::padded_string_view(line.text.data(), line.text.size(),
                                                  line.text.size() + simdjson::SIMDJSON_PADDING))
            .get(doc))
      continue;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) continue;
    // Parse every value to what it denotes: strings unescaped, numbers converted.
    bool good = true;
    for (auto field : obj) {
      std::string_view key, str;
      simdjson::ondemand::json_type type;
      if (field.unescaped_key().get(key) || field.value().type().get(type)) {
        good = false;
        break;
      }
      sink += key.size();
      if (type == simdjson::ondemand::json_type::string) {
        if (field.value().get_string().get(str)) good = false;
        sink += str.size();
      } else if (type == simdjson::ondemand::json_type::number) {
        double d = 0;
        if (field.value().get_double().get(d)) good = false;
        sink += d > 0;
      }
    }
    r.ok += good;
  }
  r.cpu = CpuSeconds() - c0;
  r.wall = WallSeconds() - w0;
  if (sink == 42) std::puts("");  // keep the loop's work observable
  return r;
}

Run DecodeOnly(const std::string& path) {
  Run r;
  double c0 = CpuSeconds(), w0 = WallSeconds();
  Decoder decoder;
  auto reader =
      flexwatch::LineReader::Open(path, decoder.options().max_line_bytes, Decoder::Padding());
  flexwatch::Line line;
  flexwatch::Event event;
  flexwatch::Rejection rej;
  while ((*reader)->Next(line)) {
    ++r.lines;
    r.ok += !line.too_long && decoder.DecodePadded(line.text, event, rej);
  }
  r.cpu = CpuSeconds() - c0;
  r.wall = WallSeconds() - w0;
  return r;
}

Run ReplayChild(const std::string& flexwatch, const std::string& state, const std::string& feed,
                const std::string& stats) {
  Run r;
  double w0 = WallSeconds();
  pid_t pid = fork();
  if (pid == 0) {
    execl(flexwatch.c_str(), flexwatch.c_str(), "replay", "--no-progress", "--state", state.c_str(),
          "--stats-json", stats.c_str(), feed.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  r.wall = WallSeconds() - w0;
  r.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  r.max_rss_kb = ru.ru_maxrss;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "replay failed (status %d)\n", status);
    std::exit(1);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 5'000'000;
  std::string flexwatch = FLEXWATCH_BINARY, dir, json_out;
  flexwatch::IdShape ids = flexwatch::IdShape::kSequential;
  flexwatch::FeedOrder order = flexwatch::FeedOrder::kTime;
  auto parse_name = [](const auto& names, const std::string& name, auto& into) {
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name) {
        into = static_cast<std::remove_reference_t<decltype(into)>>(k);
        return true;
      }
    std::fprintf(stderr, "unknown value %s\n", name.c_str());
    return false;
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events")
      events = std::stoll(argv[i + 1]);
    else if (a == "--flexwatch")
      flexwatch = argv[i + 1];
    else if (a == "--dir")
      dir = argv[i + 1];
    else if (a == "--json")
      json_out = argv[i + 1];
    else if (a == "--random-ids" && std::string(argv[i + 1]) == "1")
      ids = flexwatch::IdShape::kHex;
    else if (a == "--ids" && !parse_name(flexwatch::kIdShapeNames, argv[i + 1], ids))
      return 2;
    else if (a == "--order" && !parse_name(flexwatch::kFeedOrderNames, argv[i + 1], order))
      return 2;
  }
  if (dir.empty())
    dir = (fs::temp_directory_path() / ("flexwatch-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  const std::string feed = dir + "/feed.ndjson", state = dir + "/state",
                    stats = dir + "/stats.json";

  // About 180 events per worker-month in the generated mix; three months.
  const flexwatch::Config config = *flexwatch::ShippedConfig();
  flexwatch::GenOptions g;
  g.rules = &*config.rules;
  g.months = 3;
  g.workers = static_cast<int>(std::max<int64_t>(100, events / (180 * 3)));
  g.seed = 20240701;
  g.ids = ids;
  g.order = order;
  {
    // Generated in a child of its own: a shuffled feed is held whole in memory, and a replay
    // forked from a process that held it would report that memory as its own peak RSS (the
    // child's ru_maxrss counts what it shared with its parent before its exec).
    const pid_t pid = fork();
    if (pid == 0) {
      std::ofstream out(feed, std::ios::binary | std::ios::trunc);
      _exit(flexwatch::Generate(g, out, nullptr).ok() && out.flush() ? 0 : 1);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "replay_bench: generating the feed failed\n");
      return 1;
    }
  }
  const uint64_t feed_bytes = fs::file_size(feed);

  // Interleaved, each measured twice: the smaller CPU time of each is reported, which keeps
  // the ratios meaningful on a machine whose speed drifts.
  auto faster = [](const Run& a, const Run& b) { return a.cpu <= b.cpu ? a : b; };
  Run parse1 = ParseOnly(feed);
  Run decode = DecodeOnly(feed);
  fs::remove_all(state);
  Run replay = ReplayChild(flexwatch, state, feed, stats);
  Run parse2 = ParseOnly(feed);
  decode = faster(decode, DecodeOnly(feed));
  const uint64_t state_bytes = flexwatch::bench::StateBytes(state);
  fs::remove_all(state);
  Run replay2 = ReplayChild(flexwatch, state, feed, stats);
  replay2.max_rss_kb = std::max(replay.max_rss_kb, replay2.max_rss_kb);
  flexwatch::bench::SettledSize settled;
  {
    auto store = flexwatch::Store::Open(state, config.store);
    auto size = store.ok() ? Settle(**store) : store.status();
    if (!size.ok()) {
      std::fprintf(stderr, "could not compact the replayed state: %s\n",
                   size.status().ToString().c_str());
      return 1;
    }
    settled = *size;
  }
  const uint64_t compacted_bytes = settled.bytes;
  // The events the replay accepted (its --stats-json): the unit of the state-size target.
  int64_t accepted = 0;
  {
    std::ifstream in(stats);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find("\"accepted\":");
    if (at != std::string::npos) accepted = std::atoll(text.c_str() + at + 11);
  }
  const std::string& families = settled.families;
  replay = faster(replay, replay2);

  const double parse_cpu = std::min(parse1.cpu, parse2.cpu);
  const std::string ids_name = std::string(flexwatch::kIdShapeNames[static_cast<int>(ids)]) + ", " +
                               std::string(flexwatch::kFeedOrderNames[static_cast<int>(order)]);
  const double n = static_cast<double>(parse1.lines);
  std::printf("| run | lines | CPU s | wall s | events/s (CPU) | ratio to parse-only |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  auto row = [&](const char* name, const Run& r) {
    std::printf("| %s | %lld | %.2f | %.2f | %.0f | %.2f |\n", name,
                static_cast<long long>(parse1.lines), r.cpu, r.wall, n / r.cpu, r.cpu / parse_cpu);
  };
  row("parse-only (before)", parse1);
  row("decode + validate", decode);
  row("replay (durable state, dedup)", replay);
  row("parse-only (after)", parse2);
  std::printf(
      "\nfeed %.1f MB (%s ids), %d workers x 3 months; replay peak RSS %.0f MiB; state on disk"
      " %.1f MB (%.1f bytes per event)\n",
      static_cast<double>(feed_bytes) / 1e6, ids_name.c_str(), g.workers,
      static_cast<double>(replay.max_rss_kb) / 1024.0, static_cast<double>(state_bytes) / 1e6,
      static_cast<double>(state_bytes) / n);
  std::printf(
      "compacted: %.1f MB (%.1f bytes per worker-month; by column family: %s); beside it, the "
      "export of the rejected lines (%s): %.1f MB\n",
      static_cast<double>(compacted_bytes) / 1e6,
      static_cast<double>(compacted_bytes) / (static_cast<double>(g.workers) * g.months),
      families.c_str(), flexwatch::kDeadLetterFileName,
      static_cast<double>(settled.dead_letter_file) / 1e6);
  std::printf(
      "compacted state per accepted event: %.2f bytes (%lld accepted)\n",
      static_cast<double>(compacted_bytes) / static_cast<double>(std::max<int64_t>(1, accepted)),
      static_cast<long long>(accepted));
  if (!json_out.empty()) {
    std::ofstream j(json_out, std::ios::trunc);
    j << "{\"lines\": " << parse1.lines << ", \"feed_bytes\": " << feed_bytes
      << ", \"parse_cpu_s\": " << parse_cpu << ", \"decode_cpu_s\": " << decode.cpu
      << ", \"replay_cpu_s\": " << replay.cpu << ", \"replay_wall_s\": " << replay.wall
      << ", \"replay_events_per_cpu_s\": " << n / replay.cpu
      << ", \"replay_to_parse_ratio\": " << replay.cpu / parse_cpu << ", \"ids\": \""
      << flexwatch::kIdShapeNames[static_cast<int>(ids)] << "\", \"order\": \""
      << flexwatch::kFeedOrderNames[static_cast<int>(order)] << "\""
      << ", \"replay_max_rss_kib\": " << replay.max_rss_kb << ", \"state_bytes\": " << state_bytes
      << ", \"worker_months\": " << int64_t{g.workers} * g.months
      << ", \"decode_to_parse_ratio\": " << decode.cpu / parse_cpu << ", \"accepted\": " << accepted
      << ", \"compacted_bytes\": " << compacted_bytes << ", \"compacted_by_family\": {" << families
      << "}, \"dead_letter_file_bytes\": " << settled.dead_letter_file << "}\n";
  }
  if (!getenv("FLEXWATCH_BENCH_KEEP")) fs::remove_all(dir);
  return 0;
}
