// `flexwatch selfcheck`, `selfcheck-api` and `token`: the platforms' self-check.

#include "flexwatch/selfcheck/selfcheck.h"

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
#include "flexwatch/core/ids.h"
#include "flexwatch/server/selfcheck_api.h"
#include "flexwatch/server/tokens.h"

namespace flexwatch::cli {

int RunSelfcheck(const fw::Config& cfg, const std::vector<std::string>& feeds,
                 const std::string& platform, const std::string& format, const std::string& lang) {
  if (format != "text" && format != "json")
    return Fail("selfcheck: --format " + format + ": expected json or text");
  const std::optional<fw::Lang> language = fw::LangFromName(lang);
  if (!language) return Fail("selfcheck: --lang " + lang + ": expected en or zh");
  if (!platform.empty() && !fw::IsValidId(platform, 64))
    return Fail("selfcheck: --platform " + platform + ": not a valid platform id");
  for (const std::string& in : feeds) {
    std::error_code ec;
    if (in != "-" && !fs::exists(in, ec)) return Fail("selfcheck: feed not found: " + in);
  }
  fw::SelfcheckOptions o;
  o.platform = platform;
  o.lang = *language;
  o.stop = &g_stop;  // SIGTERM or SIGINT: stop, and remove the throwaway state on the way out
  InstallStopHandlers();
  auto setup = fw::SelfcheckSetupOf(cfg);
  if (!setup.ok()) return Fail("selfcheck: " + setup.status().message());
  auto report = fw::RunSelfcheck(*setup, feeds, o);
  if (!report.ok()) return Fail("selfcheck: " + report.status().message());
  const std::string& out = format == "json" ? report->json : report->text;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report->passed ? kExitOk : kExitFound;
}

int RunSelfcheckApi(fw::Config cfg, const std::string& listen, const std::string& brokers) {
  if (!listen.empty()) cfg.selfcheck_api.listen = listen;
  auto say = [](const std::string& line) {
    std::fprintf(stderr, "selfcheck-api: %s\n", line.c_str());
  };
  // Without a token file it can read, every request would be refused: an error now, naming it.
  {
    const std::string& file = cfg.selfcheck_api.tokens_file;
    std::error_code ec;
    if (!fs::exists(file, ec))
      return Fail(
          "selfcheck-api: no token file at " + file +
          " (`flexwatch token add PLATFORM` creates it; selfcheck_api.tokens_file names it, "
          "relative to the config file)");
    auto tokens = fw::TokenStore::Load(file);
    if (!tokens.ok()) return Fail("selfcheck-api: " + tokens.status().message());
    if (tokens->entries().empty())
      say("warning: " + file + " holds no token: every request is refused until `token add`");
  }
  auto service = fw::SelfcheckServiceOf(cfg);
  if (!service.ok()) return Fail("selfcheck-api: " + service.status().message());
  auto api = fw::SelfcheckApi::Start(*service, say);
  if (!api.ok()) return Fail("selfcheck-api: " + api.status().message());
  // Test feeds over Kafka too, when there is a cluster.
  std::unique_ptr<fw::SelfcheckKafka> kafka;
  const std::string cluster = brokers.empty() ? cfg.kafka.brokers : brokers;
  if (!cluster.empty()) {
    auto k = fw::SelfcheckKafka::Start(*service, cluster, say);
    if (!k.ok()) return Fail("selfcheck-api: " + k.status().message());
    kafka = std::move(*k);
    std::fprintf(stderr, "selfcheck-api: test feeds from %s* on %s, reports to %s<platform>\n",
                 cfg.selfcheck_api.test_topic_prefix.c_str(), cluster.c_str(),
                 cfg.selfcheck_api.results_topic_prefix.c_str());
  }
  InstallStopHandlers();
  std::printf("%s://%s\n", (*api)->tls() ? "https" : "http", (*api)->address().c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "selfcheck-api: serving %s://%s/api/v1/selfcheck (tokens %s, reports in %s); "
               "stop with SIGTERM or Ctrl-C\n",
               (*api)->tls() ? "https" : "http", (*api)->address().c_str(),
               cfg.selfcheck_api.tokens_file.c_str(), cfg.selfcheck_api.reports_dir.c_str());
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return kExitOk;
}

int RunToken(const fw::Config& cfg, const std::string& action, const std::string& what,
             std::string file) {
  if (file.empty()) file = cfg.selfcheck_api.tokens_file;
  // Only `add` makes the file: listing or revoking in one that is not there is a wrong path.
  if (std::error_code ec; action != "add" && !fs::exists(file, ec))
    return Fail("token " + action + ": no token file at " + file +
                " (token add creates it; --file or selfcheck_api.tokens_file names it)");
  auto store = fw::TokenStore::Load(file);
  if (!store.ok()) return Fail("token: " + store.status().message());
  for (const std::string& problem : store->problems())
    std::fprintf(stderr, "token: warning: %s%s\n", problem.c_str(),
                 action == "list" ? "" : " (left out when the file is written now)");
  if (action == "add") {
    auto token = store->Add(what);
    if (!token.ok()) return Fail("token add: " + token.status().message());
    std::printf("%s\n", token->c_str());
    std::fprintf(stderr,
                 "token: added for %s (id %s) in %s; give it to the platform now: only its hash "
                 "is kept\n",
                 what.c_str(), store->entries().back().id.c_str(), file.c_str());
    return kExitOk;
  }
  if (action == "revoke") {
    auto gone = store->Revoke(what);
    if (!gone.ok()) return Fail("token revoke: " + gone.status().message());
    if (*gone == 0) return Fail("token revoke: no token with id or platform " + what);
    std::fprintf(stderr, "token: revoked %d\n", *gone);
    return kExitOk;
  }
  for (const fw::TokenEntry& e : store->entries())
    std::printf("%s\t%s\n", e.platform.c_str(), e.id.c_str());
  return kExitOk;
}

}  // namespace flexwatch::cli
