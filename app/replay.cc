// `flexwatch replay`: NDJSON files into the state.

#include <unistd.h>

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
#include "flexwatch/core/json.h"

namespace flexwatch::cli {

namespace {

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

}  // namespace

int RunReplay(const fw::Config& cfg, const ReplayArgs& a, fw::IngestCounts* out) {
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
          fw::WriteDeadLetterFile(**store, (fs::path(a.state) / fw::kDeadLetterFileName).string());
      !s.ok())
    return Fail("replay: " + s.message());
  fw::JsonWriter json;
  json.BeginObject()
      .Key("accepted")
      .Int(counts->accepted)
      .Key("duplicates")
      .Int(counts->duplicates)
      .Key("rejected")
      .Int(counts->rejected);
  const std::string stats = json.Key("rewritten").Int(counts->rewritten).EndObject().Take();
  if (!a.stats_json.empty()) {
    std::ofstream f(a.stats_json, std::ios::trunc);
    f << stats << "\n";
    f.close();
    if (!f) return Fail("replay: cannot write " + a.stats_json + ": " + std::strerror(errno));
  }
  std::fprintf(
      stderr, "replay: accepted %lld, duplicates %lld (%lld with other content), rejected %lld%s\n",
      static_cast<long long>(counts->accepted), static_cast<long long>(counts->duplicates),
      static_cast<long long>(counts->rewritten), static_cast<long long>(counts->rejected),
      counts->rejected
          ? (" (see " + (fs::path(a.state) / fw::kDeadLetterFileName).string() + ")").c_str()
          : "");
  if (out) *out = *counts;
  return kExitOk;
}

}  // namespace flexwatch::cli
