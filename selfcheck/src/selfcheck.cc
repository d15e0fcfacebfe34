#include "flexwatch/selfcheck/selfcheck.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/json.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

std::string Q(std::string_view s) { return JsonString(s); }
std::string N(int64_t v) { return std::to_string(v); }

// Removes the directory when it goes out of scope, whatever happened.
class TempDir {
 public:
  static Result<std::unique_ptr<TempDir>> Make(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* t = std::getenv("TMPDIR");
      base = t && *t ? t : "/tmp";
    }
    std::string tmpl = (fs::path(base) / "flexwatch-selfcheck-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      return Status::IOError("cannot create a throwaway state under " + base);
    return std::unique_ptr<TempDir>(new TempDir(tmpl));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

struct Rejected {
  std::string source;
  int64_t line;
  std::string code, field, reason;
};

struct Example {
  std::string worker_id, text, details;
};

std::string Pct(int64_t affected, int64_t in_scope) {
  if (in_scope == 0) return "-";
  const int64_t tenths = (affected * 1000 + in_scope / 2) / in_scope;  // per mille
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

}  // namespace

Result<SelfcheckReport> RunSelfcheck(const SelfcheckSetup& setup,
                                     const std::vector<std::string>& feeds,
                                     const SelfcheckOptions& options) {
  const RuleSet& rules = setup.rules;
  auto dir = TempDir::Make(options.temp_parent);
  if (!dir.ok()) return dir.status();

  std::vector<Rejected> rejected;
  ReplayOptions replay = setup.ingest;
  replay.only_platform = options.platform;
  replay.stop = options.stop;
  // The name a feed goes by in the report: its path, or the one the caller gave.
  auto shown = [&](std::string_view source) {
    for (size_t i = 0; i < feeds.size() && i < options.names.size(); ++i)
      if (SourceName(feeds[i]) == source) return options.names[i];
    return std::string(source);
  };
  replay.on_reject = [&](const Rejection& r, std::string_view source, int64_t line) {
    rejected.push_back(
        Rejected{shown(source), line, std::string(RejectCodeName(r.code)), r.field, r.message});
  };
  std::vector<MonthEvaluation> months;
  std::vector<std::pair<Period, std::string>> not_judged;  // the rule set has no figures for them
  std::map<std::tuple<Period, std::string, int>, std::vector<Example>> examples;
  IngestCounts counts;
  {
    StoreOptions small = setup.store;  // a test feed is small, and so is its state's memory
    small.block_cache_bytes = 8u << 20;
    small.write_buffer_total_bytes = 32u << 20;
    small.write_buffer_bytes = 8u << 20;
    auto store = Store::Open((*dir)->path() + "/state", small);
    if (!store.ok()) return store.status();
    auto c = ReplayFiles(**store, feeds, replay);
    if (!c.ok()) return c.status();
    counts = *c;
    for (Period p : (*store)->Periods()) {
      if (options.stop && options.stop->load()) return Status::IOError("stopped by a signal");
      if (Status judgeable = rules.Judgeable(p); !judgeable.ok()) {
        not_judged.push_back({p, judgeable.message()});
        continue;
      }
      EvaluateOptions eo;
      eo.close = true;  // the feed is all there is: every month is judged as final
      eo.on_verdict = [&](const MonthRow& row, const Verdict& v) {
        for (int d = 0; d < kDimensionCount; ++d) {
          if (v.outcome[d] != Outcome::kAffected) continue;
          auto& list = examples[{p, row.wm.platform_id, d}];
          if (list.size() < options.max_examples)
            list.push_back(Example{row.wm.worker_id,
                                   ExplainText(rules, row, v, static_cast<Dimension>(d)),
                                   FindingJson(v, static_cast<Dimension>(d))});
        }
      };
      auto m = EvaluateMonth(**store, rules, p, eo);
      if (!m.ok()) return m.status();
      months.push_back(std::move(*m));
    }
  }

  bool levels_ok = true;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms)
      if (ps.level > Level::kYellow) levels_ok = false;
  SelfcheckReport report;
  report.passed = rejected.empty() && levels_ok;

  // JSON.
  std::string& j = report.json;
  j = "{\n  \"kind\": \"selfcheck\",\n  \"passed\": " +
      std::string(report.passed ? "true" : "false") + ",\n  \"rules\": " + RulesStampJson(rules) +
      ",\n  \"platform\": " + (options.platform.empty() ? "null" : Q(options.platform)) +
      ",\n  \"months_judged_as\": \"final\",\n  \"input\": {\"files\": [";
  for (size_t i = 0; i < feeds.size(); ++i) j += (i ? ", " : "") + Q(shown(SourceName(feeds[i])));
  j += "], \"lines\": " + N(counts.accepted + counts.duplicates + counts.rejected) +
       ", \"accepted\": " + N(counts.accepted) + ", \"duplicates\": " + N(counts.duplicates) +
       ", \"rejected\": " + N(counts.rejected) + "},\n  \"rejections\": [";
  for (size_t i = 0; i < rejected.size(); ++i) {
    const Rejected& r = rejected[i];
    j += std::string(i ? "," : "") + "\n    {\"source\": " + Q(r.source) +
         ", \"line\": " + N(r.line) + ", \"reason_code\": " + Q(r.code) +
         ", \"field\": " + (r.field.empty() ? "null" : Q(r.field)) +
         ", \"reason\": " + Q(r.reason) + "}";
  }
  j += rejected.empty() ? "],\n  \"months\": [" : "\n  ],\n  \"months\": [";
  for (size_t mi = 0; mi < months.size(); ++mi) {
    const MonthEvaluation& m = months[mi];
    j += std::string(mi ? "," : "") + "\n    {\"period\": " + Q(FormatPeriod(m.period)) +
         ", \"platforms\": [";
    for (size_t pi = 0; pi < m.platforms.size(); ++pi) {
      const PlatformScore& ps = m.platforms[pi];
      j += std::string(pi ? "," : "") + "\n      {\"platform_id\": " + Q(ps.platform_id) +
           ", \"worker_months\": " + N(ps.worker_months) + ", \"level\": " + Q(NameOf(ps.level)) +
           ", \"dimensions\": {";
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        j += std::string(d ? "," : "") + "\n        " + Q(kDimensionNames[d]) +
             ": {\"in_scope\": " + N(ds.in_scope) + ", \"affected\": " + N(ds.affected) +
             ", \"rate\": " + RateText(ds.affected, ds.in_scope) +
             ", \"level\": " + Q(NameOf(ds.level)) + ", \"examples\": [";
        const auto it = examples.find({m.period, ps.platform_id, d});
        if (it != examples.end())
          for (size_t k = 0; k < it->second.size(); ++k) {
            const Example& e = it->second[k];
            j += std::string(k ? "," : "") + "\n          {\"worker_id\": " + Q(e.worker_id) +
                 ", \"explanation\": " + Q(e.text) + ", \"facts\": " + e.details + "}";
          }
        j += it != examples.end() && !it->second.empty() ? "\n        ]}" : "]}";
      }
      j += "\n      }}";
    }
    j += m.platforms.empty() ? "]}" : "\n    ]}";
  }
  j += months.empty() ? "]" : "\n  ]";
  j += ",\n  \"months_not_judged\": [";
  for (size_t i = 0; i < not_judged.size(); ++i)
    j += std::string(i ? "," : "") + "\n    {\"period\": " + Q(FormatPeriod(not_judged[i].first)) +
         ", \"reason\": " + Q(not_judged[i].second) + "}";
  j += not_judged.empty() ? "]\n}\n" : "\n  ]\n}\n";

  // Text.
  std::string& t = report.text;
  t = std::string("flexwatch selfcheck: ") + (report.passed ? "PASSED" : "FAILED") + "\n";
  t += "rules " + rules.id + " " + rules.version + " (fingerprint " + rules.fingerprint +
       "); every month of the feed is judged as final\n";
  if (!options.platform.empty()) t += "platform under check: " + options.platform + "\n";
  t += "\ninput: " + N(counts.accepted + counts.duplicates + counts.rejected) + " lines, " +
       N(counts.accepted) + " accepted, " + N(counts.duplicates) +
       " duplicates (ignored: same event_id), " + N(counts.rejected) + " rejected\n";
  if (!rejected.empty()) {
    t += "\nrejected lines (fix these first; every line must be valid):\n";
    const size_t shown = std::min<size_t>(rejected.size(), 100);
    for (size_t i = 0; i < shown; ++i) {
      const Rejected& r = rejected[i];
      t += "  " + r.source + ":" + N(r.line) + ": " + r.code +
           (r.field.empty() ? "" : " (" + r.field + ")") + ": " + r.reason + "\n";
    }
    if (shown < rejected.size())
      t += "  ... and " + N(static_cast<int64_t>(rejected.size() - shown)) +
           " more (all of them in --format json)\n";
  }
  t += "\nverdict (affected/in scope, rate, level):\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "  %-20s %-8s %7s  %-24s %-24s %-24s %s\n", "platform", "month",
                "workers", "contract_avoidance", "underpayment", "coverage_mismatch", "level");
  t += buf;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms) {
      std::string cells[kDimensionCount];
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        cells[d] = N(ds.affected) + "/" + N(ds.in_scope) + " " + Pct(ds.affected, ds.in_scope) +
                   " " + std::string(NameOf(ds.level));
      }
      std::snprintf(buf, sizeof buf, "  %-20s %-8s %7lld  %-24s %-24s %-24s %s\n",
                    ps.platform_id.c_str(), FormatPeriod(m.period).c_str(),
                    static_cast<long long>(ps.worker_months), cells[0].c_str(), cells[1].c_str(),
                    cells[2].c_str(), std::string(NameOf(ps.level)).c_str());
      t += buf;
    }
  if (!not_judged.empty()) {
    t += "\nmonths not judged (the rule set has no figures for them; the lines were accepted):\n";
    for (const auto& [period, why] : not_judged)
      t += "  " + FormatPeriod(period) + ": " + why + "\n";
  }
  bool any_finding = false;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms)
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        if (ds.affected == 0) continue;
        if (!any_finding) t += "\nwhat to fix:\n";
        any_finding = true;
        t += "  " + ps.platform_id + " " + FormatPeriod(m.period) + " " +
             std::string(kDimensionNames[d]) + ": " + N(ds.affected) + " worker-months (";
        bool first = true;
        for (const auto& [name, n] : ds.findings) {
          t += (first ? "" : ", ") + name + " " + N(n);
          first = false;
        }
        t += ")\n";
        if (d == 0 && ps.dispatched > ps.dispatch_cap)
          t += "    dispatch: " + N(ps.dispatched) + " dispatched of " + N(ps.tiers[2]) +
               " labour-relation worker-months, cap " + N(ps.dispatch_cap) + "\n";
        const auto it = examples.find({m.period, ps.platform_id, d});
        if (it == examples.end()) continue;
        for (const Example& e : it->second)
          if (!e.text.empty()) t += "    " + e.worker_id + ": " + e.text + "\n";
        if (static_cast<int64_t>(it->second.size()) < ds.affected)
          t += "    (first " + N(static_cast<int64_t>(it->second.size())) + " shown)\n";
      }
  if (report.passed)
    t += "\nresult: every line is valid and every dimension is green or yellow.\n";
  else
    t += std::string("\nresult: ") + (rejected.empty() ? "" : "some lines are invalid; ") +
         (levels_ok ? "" : "some dimension is orange or red; ") + "exit code 1.\n";
  return report;
}

}  // namespace flexwatch
