#include "flexwatch/selfcheck/selfcheck.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "flexwatch/core/json.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/rules/explain.h"

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

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
  JsonWriter j;
  j.BeginObject(JsonWriter::kBlock)
      .Key("kind")
      .String("selfcheck")
      .Key("passed")
      .Bool(report.passed);
  j.Key("rules").Raw(RulesStampJson(rules)).Key("platform");
  if (options.platform.empty())
    j.Null();
  else
    j.String(options.platform);
  j.Key("months_judged_as").String("final").Key("input").BeginObject().Key("files").BeginArray();
  for (const std::string& feed : feeds) j.String(shown(SourceName(feed)));
  j.EndArray().Key("lines").Int(counts.accepted + counts.duplicates + counts.rejected);
  j.Key("accepted").Int(counts.accepted).Key("duplicates").Int(counts.duplicates);
  j.Key("rejected")
      .Int(counts.rejected)
      .EndObject()
      .Key("rejections")
      .BeginArray(JsonWriter::kBlock);
  for (const Rejected& r : rejected) {
    j.BeginObject().Key("source").String(r.source).Key("line").Int(r.line);
    j.Key("reason_code").String(r.code).Key("field");
    if (r.field.empty())
      j.Null();
    else
      j.String(r.field);
    j.Key("reason").String(r.reason).EndObject();
  }
  j.EndArray().Key("months").BeginArray(JsonWriter::kBlock);
  for (const MonthEvaluation& m : months) {
    j.BeginObject().Key("period").String(FormatPeriod(m.period));
    j.Key("platforms").BeginArray(JsonWriter::kBlock);
    for (const PlatformScore& ps : m.platforms) {
      j.BeginObject().Key("platform_id").String(ps.platform_id);
      j.Key("worker_months").Int(ps.worker_months).Key("level").String(NameOf(ps.level));
      // Whether a platform of this size would be ranked in the announcement (below the minimum
      // of workers in scope it would be listed as not ranked, whatever its levels).
      j.Key("in_scope_workers").Int(ps.in_scope_workers).Key("would_be_ranked").Bool(ps.ranked);
      j.Key("dimensions").BeginObject(JsonWriter::kBlock);
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        j.Key(kDimensionNames[d]).BeginObject().Key("in_scope").Int(ds.in_scope);
        j.Key("affected").Int(ds.affected).Key("rate").Raw(RateText(ds.affected, ds.in_scope));
        j.Key("level").String(NameOf(ds.level)).Key("examples").BeginArray(JsonWriter::kBlock);
        if (const auto it = examples.find({m.period, ps.platform_id, d}); it != examples.end())
          for (const Example& e : it->second) {
            j.BeginObject().Key("worker_id").String(e.worker_id);
            j.Key("explanation").String(e.text).Key("facts").Raw(e.details).EndObject();
          }
        j.EndArray().EndObject();
      }
      j.EndObject().EndObject();
    }
    j.EndArray().EndObject();
  }
  j.EndArray().Key("months_not_judged").BeginArray(JsonWriter::kBlock);
  for (const auto& [period, reason] : not_judged)
    j.BeginObject()
        .Key("period")
        .String(FormatPeriod(period))
        .Key("reason")
        .String(reason)
        .EndObject();
  report.json = j.EndArray().EndObject().Take() + "\n";

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
  bool small = false;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms) small = small || !ps.ranked;
  if (small)
    t += "\nnote: a platform-month with fewer than " + N(rules.min_ranked_workers) +
         " workers in scope is not ranked in the regulator's announcement (it is listed as not "
         "ranked, whatever its levels); the levels above show what the rules find in this feed "
         "all the same, and the exit code follows them\n";
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
