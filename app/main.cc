// flexwatch: the command line (spec/cli.md). Each subcommand is a few lines over the libraries.

#include <CLI/CLI.hpp>
#include <algorithm>
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
#include "flexwatch/ingest/kafka.h"

namespace flexwatch::cli {
namespace {

void AddGenOptions(CLI::App* cmd, fw::GenOptions& o, std::string& start,
                   std::vector<std::string>& drifts) {
  cmd->add_option("--workers", o.workers, "number of workers")->check(CLI::Range(1, 100000000));
  cmd->add_option("--platforms", o.platforms, "number of platforms")->check(CLI::Range(1, 10000));
  cmd->add_option("--months", o.months, "number of months")->check(CLI::Range(1, 120));
  cmd->add_option("--seed", o.seed, "random seed: same seed, same bytes");
  cmd->add_option("--start", start, "first month, YYYY-MM (default 2024-07)");
  cmd->add_option("--drift", drifts,
                  "plant a drift KIND:PLATFORM:YYYY-MM (repeatable; kinds: agency, contribution, "
                  "premium, capping, complaints; PLATFORM the number its id ends in)");
  cmd->add_option("--drifts", o.auto_drifts,
                  "plant this many drifts, kinds in turn, on platforms drawn from the seed")
      ->check(CLI::Range(0, 10000));
  std::map<std::string, fw::IdShape> shapes;
  for (size_t i = 0; i < fw::kIdShapeNames.size(); ++i)
    shapes[std::string(fw::kIdShapeNames[i])] = static_cast<fw::IdShape>(i);
  cmd->add_option("--ids", o.ids, "event id shape: sequential (default), uuid, hex, snowflake")
      ->transform(CLI::CheckedTransformer(shapes));
  std::map<std::string, fw::FeedOrder> orders;
  for (size_t i = 0; i < fw::kFeedOrderNames.size(); ++i)
    orders[std::string(fw::kFeedOrderNames[i])] = static_cast<fw::FeedOrder>(i);
  cmd->add_option("--order", o.order,
                  "line order: time (default; by day, a few out of order) or shuffled (the whole "
                  "feed in a random order, held in memory)")
      ->transform(CLI::CheckedTransformer(orders));
  cmd->add_flag_callback(
      "--honest", [&o]() { o.static_violations = false; },
      "no fixed violations: every platform honest but for its drifts");
  cmd->add_flag("--seasons", o.seasons,
                "real workforces' shapes: sizes and levels of their own, churn, a Spring Festival "
                "trough, a fast-growing platform, summer part-timers, a seasonal sector mix");
}

std::string SubcommandNames(CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({}))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

// Edits (insert, delete, substitute, swap two neighbours) that make `a` into `b`.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// When the command line's first word (past --config FILE) is no subcommand: a line naming it and
// the subcommand it is closest to, or the list of them; empty otherwise.
std::string SubcommandHint(CLI::App& app, int argc, char** argv) {
  std::string word;
  for (int i = 1; i < argc && word.empty(); ++i) {
    const std::string arg = argv[i];
    if (arg == "--config")
      ++i;  // its value
    else if (arg.empty() || arg[0] != '-')
      word = arg;
  }
  if (word.empty()) return "";
  std::string best;
  size_t best_distance = std::string::npos;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return "";  // a subcommand: its own error stands
    const size_t d = EditDistance(word, sub->get_name());
    if (d < best_distance) best_distance = d, best = sub->get_name();
  }
  if (best_distance <= 2)
    return "no subcommand " + word + ": did you mean " + best + "? (see --help)";
  return "no subcommand " + word + " (subcommands: " + SubcommandNames(app) + "; see --help)";
}

// flexwatch --version: the version, the rule set it judges with (from --config, or the file found
// as for any command), and the build.
int RunVersion(const std::string& config_path) {
  auto cfg = ResolveConfig(config_path);
  if (!cfg.ok()) return Fail(cfg.status().message());
  auto rules = cfg->Rules();
  if (!rules.ok()) return Fail(rules.status().message());
  std::cout << "flexwatch " << kFlexwatchVersion << "\n";
  std::cout << "rules: " << (*rules)->id << " " << (*rules)->version << " (fingerprint "
            << (*rules)->fingerprint << ") from "
            << (cfg->path.empty() ? std::string("the shipped configuration") : cfg->path) << "\n";
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("g++ ") + __VERSION__;
#else
  const std::string compiler = "an unnamed compiler";
#endif
  std::cout << "build: " << compiler << ", " << FLEXWATCH_BUILD_TYPE
            << (FLEXWATCH_SANITIZED ? ", AddressSanitizer and UndefinedBehaviorSanitizer" : "")
            << "; " << fw::KafkaLibraryVersion() << ", " << fw::StoreLibraryVersion() << "\n";
  return kExitOk;
}

}  // namespace
}  // namespace flexwatch::cli

using namespace flexwatch::cli;

int Main(int argc, char** argv) {
  CLI::App app{"flexwatch: platform-compliance early warning for flexibly employed workers"};
  app.require_subcommand(0, 1);  // none only with --version
  std::string config_path;
  app.add_option("--config", config_path, "configuration file (default: the shipped one)");
  bool show_version = false;
  app.add_flag("--version", show_version, "print the version, the rule set and the build");

  ReplayArgs replay;
  auto* replay_cmd = app.add_subcommand("replay", "ingest NDJSON files (- is stdin) into state");
  replay_cmd->add_option("--state", replay.state, "state directory")->required();
  replay_cmd->add_option("--stats-json", replay.stats_json, "write this run's counts as JSON");
  replay_cmd->add_flag("!--no-progress", replay.progress, "no progress bar even on a terminal");
  replay_cmd->add_option("--config", config_path, "configuration file");
  replay_cmd->add_option("inputs", replay.inputs, "NDJSON files")->required();

  InspectArgs inspect;
  auto* inspect_cmd = app.add_subcommand("inspect", "show what state holds");
  inspect_cmd->add_option("--state", inspect.state, "state directory")->required();
  inspect_cmd->add_option("--platform", inspect.platform, "one platform");
  inspect_cmd->add_option("--worker", inspect.worker, "one worker");
  inspect_cmd->add_option("--month", inspect.month, "one month, YYYY-MM");
  inspect_cmd->add_option("--dimension", inspect.dimension,
                          "with --platform and --month: that dimension's affected worker-months, "
                          "each with its reason (contract_avoidance, underpayment, "
                          "coverage_mismatch)");
  inspect_cmd->add_option("--pseudonym", inspect.pseudonym,
                          "the worker behind an evidence pseudonym (w_ and 32 hex digits); needs "
                          "the pseudonym key the evidence was written with");
  inspect_cmd->add_option("--lang", inspect.lang, "language of the explanations: en (default), zh");
  inspect_cmd->add_flag("--dump", inspect.dump,
                        "every record, canonical text (for comparing states)");
  inspect_cmd->add_flag("--final", inspect.close,
                        "judge the month as closed (missing contributions count as unpaid)");
  inspect_cmd->add_option("--config", config_path, "configuration file");

  AnnounceArgs announce;
  auto* announce_cmd =
      app.add_subcommand("announce", "evaluate a month or a year and write the announcement");
  announce_cmd->add_option("--state", announce.state, "state directory")->required();
  auto* month_opt = announce_cmd->add_option("--month", announce.month, "the month, YYYY-MM");
  auto* year_opt = announce_cmd->add_option("--year", announce.year, "the year, YYYY")
                       ->check(CLI::Range(1970, 9999));
  month_opt->excludes(year_opt);
  auto* final_opt = announce_cmd->add_flag(
      "--final", announce.close, "close the period now: missing contributions count as unpaid");
  announce_cmd
      ->add_option("--revision", announce.revision,
                   "a sealed month's revision N (0: as first published final), exactly as the "
                   "monitor published it; with --month")
      ->check(CLI::Range(0, 9999))
      ->needs(month_opt)
      ->excludes(final_opt);
  announce_cmd->add_option("--format", announce.format,
                           "json (default), md, html, csv, or all of them (with --out)");
  announce_cmd->add_option("--lang", announce.lang, "zh or en (default en)");
  announce_cmd->add_option("--out", announce.out,
                           "write the announcement and the evidence files here, not to stdout "
                           "(on an instance of a group: the evidence of the platforms it judges)");
  announce_cmd->add_option("--config", config_path, "configuration file");

  std::string series_state, series_platform, series_month;
  auto* series_cmd = app.add_subcommand(
      "series", "the early-warning detectors' monthly series per platform (JSON lines)");
  series_cmd->add_option("--state", series_state, "state directory")->required();
  series_cmd->add_option("--platform", series_platform, "one platform");
  series_cmd->add_option("--month", series_month, "one month, YYYY-MM");
  series_cmd->add_option("--config", config_path, "configuration file");

  BacktestArgs backtest;
  auto* backtest_cmd = app.add_subcommand(
      "backtest",
      "show what another rule or detector configuration would have changed in the months in "
      "state (levels and warnings, before and after); publishes nothing");
  backtest_cmd->add_option("--state", backtest.state, "state directory")->required();
  backtest_cmd
      ->add_option("--with", backtest.with,
                   "the configuration to try (a section it lacks is the current one's)")
      ->required();
  backtest_cmd->add_option("--from", backtest.from, "first month, YYYY-MM (default: the first)");
  backtest_cmd->add_option("--to", backtest.to, "last month, YYYY-MM (default: the last)");
  backtest_cmd->add_option("--platform", backtest.platform, "one platform");
  backtest_cmd->add_flag("--final", backtest.close, "judge every month as closed");
  backtest_cmd->add_option("--format", backtest.format, "text (default) or json");
  backtest_cmd->add_option("--config", config_path, "the current configuration");

  std::string selfcheck_platform, selfcheck_format = "text", selfcheck_lang = "en";
  std::vector<std::string> selfcheck_feeds;
  auto* selfcheck_cmd = app.add_subcommand(
      "selfcheck", "check a platform's test feed: every line, and the rules on the feed alone");
  selfcheck_cmd->add_option("--platform", selfcheck_platform,
                            "the platform under check: lines of any other are refused");
  selfcheck_cmd->add_option("--format", selfcheck_format, "text (default) or json");
  selfcheck_cmd->add_option("--lang", selfcheck_lang,
                            "language of the text report and the explanations: en (default), zh");
  selfcheck_cmd->add_option("--config", config_path, "configuration file");
  selfcheck_cmd->add_option("feeds", selfcheck_feeds, "NDJSON files (- is stdin)")->required();

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "the long-running monitor: consume Kafka into state");
  run_cmd->add_option("--brokers", run.brokers,
                      "bootstrap servers (default: the config's; none: "
                      "an embedded broker)");
  run_cmd->add_option("--topic", run.topics, "a topic to consume (repeatable)");
  run_cmd->add_option("--group", run.group, "consumer group id");
  run_cmd->add_option("--instance", run.instance,
                      "this instance's name in the group (static membership: a restart takes "
                      "its partitions back at once; overrides kafka.instance_id)");
  run_cmd->add_option("--state", run.state, "state directory (default ./flexwatch-state)");
  run_cmd->add_option("--metrics-listen", run.metrics_listen,
                      "serve Prometheus /metrics, /healthz and /readyz on host:port "
                      "(e.g. 127.0.0.1:9464; overrides metrics.listen)");
  run_cmd
      ->add_option("--idle-exit", run.idle_exit,
                   "stop after S seconds with no new message and none left to read; brokers "
                   "that do not answer for max(S, 30) seconds end the run with exit 2")
      ->check(CLI::Range(0.0, 1e9));
  run_cmd->add_option("--config", config_path, "configuration file");

  std::vector<std::string> broker_topics;
  int broker_partitions = 0;
  auto* broker_cmd = app.add_subcommand(
      "broker", "run an embedded broker (librdkafka's mock cluster) and print its address");
  broker_cmd->add_option("--topic", broker_topics, "a topic to create (repeatable)");
  broker_cmd->add_option("--partitions", broker_partitions, "partitions per topic")
      ->check(CLI::Range(1, 64));
  broker_cmd->add_option("--config", config_path, "configuration file");

  std::string api_listen, api_brokers;
  auto* api_cmd = app.add_subcommand(
      "selfcheck-api", "serve the platforms' self-check over HTTP (tokens, isolation, limits)");
  api_cmd->add_option("--listen", api_listen, "host:port (overrides selfcheck_api.listen)");
  api_cmd->add_option("--brokers", api_brokers,
                      "Kafka cluster of the platforms' test topics (overrides kafka.brokers)");
  api_cmd->add_option("--config", config_path, "configuration file");

  std::string token_action, token_what, token_file;
  auto* token_cmd = app.add_subcommand("token", "manage the self-check API's platform tokens");
  token_cmd
      ->add_option("action", token_action,
                   "add PLATFORM (prints a new token), revoke ID|PLATFORM, or list")
      ->required()
      ->check(CLI::IsMember({"add", "revoke", "list"}));
  token_cmd->add_option("what", token_what, "the platform (add), or a token id or platform");
  token_cmd->add_option("--file", token_file, "the token file (default selfcheck_api.tokens_file)");
  token_cmd->add_option("--config", config_path, "configuration file");

  std::string produce_brokers, produce_topic;
  std::vector<std::string> produce_inputs;
  auto* produce_cmd = app.add_subcommand(
      "produce", "produce NDJSON lines to a topic, keyed by platform_id (a test producer)");
  produce_cmd->add_option("--brokers", produce_brokers, "bootstrap servers");
  produce_cmd->add_option("--topic", produce_topic, "topic (default: the config's first)");
  produce_cmd->add_option("--config", config_path, "configuration file");
  produce_cmd->add_option("inputs", produce_inputs, "NDJSON files (- is stdin)")->required();

  fw::GenOptions gen;
  std::string truth_path, gen_start;
  auto* gen_cmd = app.add_subcommand("gen", "write a synthetic feed with planted violations");
  std::vector<std::string> gen_drifts, demo_drifts;
  AddGenOptions(gen_cmd, gen, gen_start, gen_drifts);
  gen_cmd->add_option("--truth", truth_path, "write the planted violations' ground truth here");
  gen_cmd->add_option("--config", config_path, "configuration file (its rules)");

  fw::GenOptions demo_gen;
  std::string demo_dir = "flexwatch-demo", demo_start;
  auto* demo_cmd = app.add_subcommand("demo", "generate a feed, replay it and show the state");
  AddGenOptions(demo_cmd, demo_gen, demo_start, demo_drifts);
  demo_cmd->add_option("--dir", demo_dir, "where the demo writes (default ./flexwatch-demo)");
  demo_cmd->add_option("--config", config_path, "configuration file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (std::string hint = SubcommandHint(app, argc, argv); !hint.empty()) return Fail(hint);
    std::string msg = e.what();
    return Fail(msg + " (see --help)");
  }
  if (show_version) return RunVersion(config_path);
  if (app.get_subcommands().empty())
    return Fail("give a subcommand (" + SubcommandNames(app) + "; see --help)");

  auto cfg = ResolveConfig(config_path);
  if (!cfg.ok()) return Fail(cfg.status().message());
  for (auto* o : {&gen, &demo_gen}) {
    const std::string& start = o == &gen ? gen_start : demo_start;
    if (start.empty()) continue;
    auto p = fw::ParsePeriod(start);
    if (!p.ok()) return Fail("--start " + start + ": " + p.status().message());
    o->start = *p;
  }
  for (auto* o : {&gen, &demo_gen})
    for (const std::string& text : o == &gen ? gen_drifts : demo_drifts) {
      auto d = fw::ParseDrift(text);
      if (!d.ok()) return Fail("--drift: " + d.status().message());
      o->drifts.push_back(*d);
    }

  if (*replay_cmd) return RunReplay(*cfg, replay);
  if (*inspect_cmd) return RunInspect(*cfg, inspect);
  if (*announce_cmd) {
    if (announce.month.empty() && announce.year == 0)
      return Fail("announce: give --month YYYY-MM or --year YYYY");
    return RunAnnounce(*cfg, announce);
  }
  if (*run_cmd) return RunMonitor(*cfg, run);
  if (*series_cmd) return RunSeries(*cfg, series_state, series_platform, series_month);
  if (*backtest_cmd) return RunBacktest(*cfg, backtest);
  if (*broker_cmd) return RunBroker(*cfg, broker_topics, broker_partitions);
  if (*api_cmd) return RunSelfcheckApi(*cfg, api_listen, api_brokers);
  if (*token_cmd) {
    if (token_action != "list" && token_what.empty())
      return Fail("token " + token_action + ": give the " +
                  (token_action == "add" ? "platform" : "token id or platform"));
    return RunToken(*cfg, token_action, token_what, token_file);
  }
  if (*produce_cmd) return RunProduce(*cfg, produce_brokers, produce_topic, produce_inputs);
  if (*selfcheck_cmd)
    return RunSelfcheck(*cfg, selfcheck_feeds, selfcheck_platform, selfcheck_format,
                        selfcheck_lang);
  if (*gen_cmd) {
    auto rules = cfg->Rules();
    if (!rules.ok()) return Fail("gen: " + rules.status().message());
    gen.rules = *rules;
    std::ios::sync_with_stdio(false);
    return RunGen(gen, truth_path, std::cout);
  }
  if (*demo_cmd) return RunDemo(*cfg, demo_dir, demo_gen);
  return Fail("no subcommand (see --help)");
}

// Every subcommand's output is checked once written: a full disk or a closed pipe is an error
// (exit 2), never a partial answer with exit 0.
int main(int argc, char** argv) {
  int rc = Main(argc, argv);
  std::cout.flush();
  const bool flushed = std::fflush(stdout) == 0;
  if (!flushed || std::ferror(stdout) || !std::cout) {
    // errno still holds the failed write's reason (nothing succeeding clears it); named when it
    // is one a write gives, else left general rather than naming an older, unrelated failure.
    const int err = errno;
    const bool write_error = err == ENOSPC || err == EPIPE || err == EIO || err == EDQUOT ||
                             err == EFBIG || err == EBADF || err == EROFS;
    std::fprintf(stderr, "flexwatch: writing standard output: %s\n",
                 write_error ? std::strerror(err) : "write error");
    return kExitUsage;
  }
  return rc;
}