// Load on the self-check API over loopback: 8 clients posting a 10,000-line feed of one platform,
// a bounded number of requests each; self-checks per second and latency (p50, p99). Baseline in
// the same process: the same self-check called directly (RunSelfcheck), one at a time, whose
// latency is the floor an HTTP request adds to.
//   build/bench/selfcheck_load [--clients 8] [--requests 10] [--concurrent 4]
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "flexwatch/gen/generator.h"
#include "flexwatch/selfcheck/selfcheck.h"
#include "flexwatch/server/selfcheck_api.h"
#include "flexwatch/server/tokens.h"
#include "flexwatch/settings/config.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using flexwatch::Config;

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int main(int argc, char** argv) {
  int clients = 8, requests = 10, concurrent = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--concurrent")) concurrent = std::atoi(argv[i + 1]);
  }
  auto cfg = flexwatch::ShippedConfig();
  if (!cfg.ok()) return std::fprintf(stderr, "%s\n", cfg.status().message().c_str()), 2;
  const fs::path dir = fs::temp_directory_path() / ("flexwatch-load-" + std::to_string(getpid()));
  fs::create_directories(dir);
  // A 10,000-line feed of one platform.
  flexwatch::GenOptions g;
  g.workers = 400;
  g.platforms = 3;
  g.months = 1;
  std::stringstream all;
  g.rules = &*cfg->rules;
  if (auto s = flexwatch::Generate(g, all, nullptr); !s.ok())
    return std::fprintf(stderr, "gen: %s\n", s.message().c_str()), 2;
  std::string feed;
  int lines = 0;
  for (std::string l; lines < 10000 && std::getline(all, l);)
    if (l.find("\"p-meal-1\"") != std::string::npos) {
      feed += l + "\n";
      ++lines;
    }
  std::ofstream(dir / "feed.ndjson") << feed;
  std::printf("feed: %d lines of p-meal-1, %zu bytes\n", lines, feed.size());

  auto setup = flexwatch::SelfcheckSetupOf(*cfg);
  if (!setup.ok()) return std::fprintf(stderr, "%s\n", setup.status().message().c_str()), 2;
  // Baseline: the self-check called directly, one at a time.
  std::vector<double> direct;
  for (int i = 0; i < 5; ++i) {
    const auto t = Clock::now();
    flexwatch::SelfcheckOptions o;
    o.platform = "p-meal-1";
    auto r = flexwatch::RunSelfcheck(*setup, {(dir / "feed.ndjson").string()}, o);
    if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().message().c_str()), 2;
    direct.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }

  // The API on loopback, `clients` clients with a token each.
  Config api_cfg = *cfg;
  api_cfg.selfcheck_api.listen = "127.0.0.1:0";
  api_cfg.selfcheck_api.tokens_file = (dir / "tokens.tsv").string();
  api_cfg.selfcheck_api.reports_dir = (dir / "reports").string();
  api_cfg.selfcheck_api.max_concurrent = concurrent;
  api_cfg.selfcheck_api.requests_per_minute = 100000;
  auto tokens = flexwatch::TokenStore::Load(api_cfg.selfcheck_api.tokens_file);
  std::vector<std::string> keys;
  for (int c = 0; c < clients; ++c) keys.push_back(*tokens->Add("p-meal-1"));
  auto service = flexwatch::SelfcheckServiceOf(api_cfg);
  if (!service.ok()) return std::fprintf(stderr, "%s\n", service.status().message().c_str()), 2;
  auto api = flexwatch::SelfcheckApi::Start(*service, {});
  if (!api.ok()) return std::fprintf(stderr, "%s\n", api.status().message().c_str()), 2;
  const std::string address = (*api)->address();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  std::vector<std::vector<double>> latencies(clients);
  std::vector<int> busy(clients, 0), failed(clients, 0);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(120, 0);
      for (int done = 0; done < requests;) {
        const auto t = Clock::now();
        auto r = client.Post("/api/v1/selfcheck", {{"Authorization", "Bearer " + keys[c]}}, feed,
                             "application/x-ndjson");
        if (r && r->status == 503) {  // over max_concurrent: wait as told, then again
          ++busy[c];
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (!r || r->status != 200) ++failed[c];
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        ++done;
      }
    });
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all_latencies;
  int busy_total = 0, failed_total = 0;
  for (int c = 0; c < clients; ++c) {
    all_latencies.insert(all_latencies.end(), latencies[c].begin(), latencies[c].end());
    busy_total += busy[c];
    failed_total += failed[c];
  }
  const double per_second = static_cast<double>(all_latencies.size()) / seconds;
  std::printf(
      "direct (baseline): median %.0f ms per self-check, %.2f self-checks/s on one thread\n"
      "api: %d clients x %d requests, max_concurrent %d: %.2f self-checks/s (%.2fx the baseline), "
      "p50 %.0f ms, p99 %.0f ms (%.1fx the baseline's median); %d answered 503 busy and retried, "
      "%d failed\n",
      Percentile(direct, 0.5), 1000.0 / Percentile(direct, 0.5), clients, requests, concurrent,
      per_second, per_second * Percentile(direct, 0.5) / 1000.0, Percentile(all_latencies, 0.5),
      Percentile(all_latencies, 0.99), Percentile(all_latencies, 0.99) / Percentile(direct, 0.5),
      busy_total, failed_total);
  api->reset();
  fs::remove_all(dir);
  return failed_total == 0 ? 0 : 1;
}
