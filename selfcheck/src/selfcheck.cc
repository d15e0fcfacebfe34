#include "flexwatch/selfcheck/selfcheck.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "flexwatch/core/json.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/rules/explain.h"
#include "flexwatch/rules/words.h"

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
  std::vector<Rejection> errors;  // the first, then the further ones
};

struct Example {
  std::string worker_id, text, details;
};

std::string Pct(int64_t affected, int64_t in_scope) {
  if (in_scope == 0) return "-";
  const int64_t tenths = (affected * 1000 + in_scope / 2) / in_scope;  // per mille
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

using Examples = std::map<std::tuple<Period, std::string, int>, std::vector<Example>>;

// The text report, in English or Chinese. The English verdict is a table; the Chinese one is a
// list (a fixed-width table does not hold Chinese words).
std::string ReportText(const RuleSet& rules, const SelfcheckOptions& options,
                       const IngestCounts& counts, const std::vector<Rejected>& rejected,
                       const std::vector<MonthEvaluation>& months,
                       const std::vector<std::pair<Period, std::string>>& not_judged,
                       const Examples& examples, bool passed, bool levels_ok) {
  const Lang l = options.lang;
  const bool zh = l == Lang::kZh;
  // A dimension judged on fewer worker-months in scope than the announcement ranks on.
  const auto few = [&rules](const DimensionScore& ds) {
    return ds.in_scope > 0 && ds.in_scope < rules.min_ranked_workers;
  };
  const auto T = [zh](const char* en, const char* cn) { return std::string(zh ? cn : en); };
  std::string t;
  t = "flexwatch selfcheck" + T(": ", "：") +
      (passed ? T("PASSED", "通过") : T("FAILED", "未通过")) + "\n";
  t += zh ? "规则集 " + rules.id + " " + rules.version + "（指纹 " + rules.fingerprint +
                "）；数据中的每个月均按终版判定\n"
          : "rules " + rules.id + " " + rules.version + " (fingerprint " + rules.fingerprint +
                "); every month of the feed is judged as final\n";
  if (!options.platform.empty())
    t += T("platform under check: ", "受检平台：") + options.platform + "\n";
  const int64_t lines = counts.accepted + counts.duplicates + counts.rejected;
  t += zh ? "\n输入：共 " + N(lines) + " 行，接收 " + N(counts.accepted) + " 行，重复 " +
                N(counts.duplicates) + " 行（event_id 相同，已忽略），拒收 " + N(counts.rejected) +
                " 行\n"
          : "\ninput: " + N(lines) + " lines, " + N(counts.accepted) + " accepted, " +
                N(counts.duplicates) + " duplicates (ignored: same event_id), " +
                N(counts.rejected) + " rejected\n";
  if (!rejected.empty()) {
    t += T("\nrejected lines (fix these first; every line must be valid):\n",
           "\n拒收的数据行（请先修正；每一行都必须有效）：\n");
    const size_t shown = std::min<size_t>(rejected.size(), 100);
    for (size_t i = 0; i < shown; ++i)
      for (const Rejection& e : rejected[i].errors) {
        t += "  " + rejected[i].source + ":" + N(rejected[i].line) + ": ";
        const std::string code(RejectCodeName(e.code));
        // In Chinese the class in words first; the detail, which quotes the contract's field
        // names and values, as the decoder gives it.
        if (zh)
          t += std::string(RejectCodeWords(e.code, l)) + "（" + code + "）：" + e.message + "\n";
        else
          t += code + (e.field.empty() ? "" : " (" + e.field + ")") + ": " + e.message + "\n";
      }
    if (shown < rejected.size()) {
      const std::string more = N(static_cast<int64_t>(rejected.size() - shown));
      t += zh ? "  ……另有 " + more + " 行（--format json 列出全部）\n"
              : "  ... and " + more + " more (all of them in --format json)\n";
    }
  }
  if (zh) {
    t += "\n判定（存在问题人月/纳入核查人月，问题比例，等级）：\n";
    for (const MonthEvaluation& m : months)
      for (const PlatformScore& ps : m.platforms) {
        t += "  " + ps.platform_id + " " + FormatPeriod(m.period) + "，人月数 " +
             N(ps.worker_months) + "，综合等级：" + words::LevelWord(ps.level, l) + "\n";
        for (int d = 0; d < kDimensionCount; ++d) {
          const DimensionScore& ds = ps.dimensions[d];
          t += "    " + std::string(words::DimensionWord(static_cast<Dimension>(d), l)) + " " +
               N(ds.affected) + "/" + N(ds.in_scope) + "（" + Pct(ds.affected, ds.in_scope) +
               "），" + words::LevelWord(ds.level, l) + (few(ds) ? " *" : "") + "\n";
        }
      }
  } else {
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
                     " " + std::string(NameOf(ds.level)) + (few(ds) ? " *" : "");
        }
        std::snprintf(buf, sizeof buf, "  %-20s %-8s %7lld  %-24s %-24s %-24s %s\n",
                      ps.platform_id.c_str(), FormatPeriod(m.period).c_str(),
                      static_cast<long long>(ps.worker_months), cells[0].c_str(), cells[1].c_str(),
                      cells[2].c_str(), std::string(NameOf(ps.level)).c_str());
        t += buf;
      }
  }
  bool small = false, any_few = false;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms) {
      small = small || !ps.ranked;
      for (const DimensionScore& ds : ps.dimensions) any_few = any_few || few(ds);
    }
  if (any_few)
    t += zh ? "\n* 该维度纳入核查的人月少于 " + N(rules.min_ranked_workers) +
                  " 个：每一个人月都会使问题比例变动超过5个百分点，等级可能因个别人月而变化\n"
            : "\n* the dimension rests on fewer than " + N(rules.min_ranked_workers) +
                  " worker-months in scope: each of them moves its rate by more than 5 points, so "
                  "one worker-month can change its level\n";
  if (small)
    t += zh ? "\n注：纳入核查的劳动者少于 " + N(rules.min_ranked_workers) +
                  " 人的平台月份，在监管部门的公告中不纳入排名（列为“未纳入排名”，无论等级如何）；"
                  "上面的等级仍是规则对本数据的判定，退出码也据此确定\n"
            : "\nnote: a platform-month with fewer than " + N(rules.min_ranked_workers) +
                  " workers in scope is not ranked in the regulator's announcement (it is listed "
                  "as not ranked, whatever its levels); the levels above show what the rules find "
                  "in this feed all the same, and the exit code follows them\n";
  if (!not_judged.empty()) {
    t += T("\nmonths not judged (the rule set has no figures for them; the lines were accepted):\n",
           "\n未判定的月份（规则集没有这些月份的参数；数据行已接收）：\n");
    for (const auto& [period, why] : not_judged)
      t += "  " + FormatPeriod(period) + T(": ", "：") + why + "\n";
  }
  bool any_finding = false;
  for (const MonthEvaluation& m : months)
    for (const PlatformScore& ps : m.platforms)
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        if (ds.affected == 0) continue;
        if (!any_finding) t += T("\nwhat to fix:\n", "\n需要整改的问题：\n");
        any_finding = true;
        const auto dim = static_cast<Dimension>(d);
        std::string kinds;
        for (const auto& [name, n] : ds.findings)
          kinds += (kinds.empty() ? "" : T(", ", "，")) +
                   (zh ? std::string(words::FindingWord(name, l)) : name) + " " + N(n);
        t += zh ? "  " + ps.platform_id + " " + FormatPeriod(m.period) + " " +
                      words::DimensionWord(dim, l) + "：" + N(ds.affected) + " 人月（" + kinds +
                      "）\n"
                : "  " + ps.platform_id + " " + FormatPeriod(m.period) + " " +
                      std::string(kDimensionNames[d]) + ": " + N(ds.affected) + " worker-months (" +
                      kinds + ")\n";
        if (dim == Dimension::kContractAvoidance && ps.dispatched > ps.dispatch_cap)
          t += zh ? "    劳务派遣：" + N(ps.tiers[2]) + " 个劳动关系人月中派遣 " +
                        N(ps.dispatched) + " 人月，上限 " + N(ps.dispatch_cap) + " 人月\n"
                  : "    dispatch: " + N(ps.dispatched) + " dispatched of " + N(ps.tiers[2]) +
                        " labour-relation worker-months, cap " + N(ps.dispatch_cap) + "\n";
        const auto it = examples.find({m.period, ps.platform_id, d});
        if (it == examples.end()) continue;
        for (const Example& e : it->second)
          if (!e.text.empty()) t += "    " + e.worker_id + T(": ", "：") + e.text + "\n";
        if (static_cast<int64_t>(it->second.size()) < ds.affected) {
          const std::string first = N(static_cast<int64_t>(it->second.size()));
          t += zh ? "    （仅列出前 " + first + " 个）\n" : "    (first " + first + " shown)\n";
        }
      }
  if (passed)
    t += T("\nresult: every line is valid and every dimension is green or yellow.\n",
           "\n结论：每一行均有效，各维度均为绿色或黄色。\n");
  else
    t += T("\nresult: ", "\n结论：") +
         (rejected.empty() ? "" : T("some lines are invalid; ", "部分数据行无效；")) +
         (levels_ok ? "" : T("some dimension is orange or red; ", "有维度为橙色或红色；")) +
         T("exit code 1.\n", "退出码为 1。\n");
  return t;
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
  replay.decoder.max_errors_per_line = std::max(1, options.max_errors_per_line);
  replay.on_reject = [&](const Rejection& r, std::string_view source, int64_t line) {
    Rejected& out = rejected.emplace_back(Rejected{shown(source), line, {r}});
    out.errors.front().also.clear();
    out.errors.insert(out.errors.end(), r.also.begin(), r.also.end());
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
            list.push_back(
                Example{row.wm.worker_id,
                        ExplainText(rules, row, v, static_cast<Dimension>(d), options.lang),
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
  // One entry per line, with its first error's members (as a dead letter has them) and every
  // error told, the first included, in `errors`.
  const auto error_members = [&j](const Rejection& e) {
    j.Key("reason_code").String(RejectCodeName(e.code)).Key("field");
    if (e.field.empty())
      j.Null();
    else
      j.String(e.field);
    j.Key("reason").String(e.message);
  };
  for (const Rejected& r : rejected) {
    j.BeginObject().Key("source").String(r.source).Key("line").Int(r.line);
    error_members(r.errors.front());
    j.Key("errors").BeginArray();
    for (const Rejection& e : r.errors) {
      j.BeginObject();
      error_members(e);
      j.EndObject();
    }
    j.EndArray().EndObject();
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
        j.Key("level").String(NameOf(ds.level));
        // A rate on fewer worker-months than the announcement ranks a platform on moves by more
        // than one point in twenty with each of them.
        j.Key("few_in_scope").Bool(ds.in_scope > 0 && ds.in_scope < rules.min_ranked_workers);
        j.Key("examples").BeginArray(JsonWriter::kBlock);
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

  report.text = ReportText(rules, options, counts, rejected, months, not_judged, examples,
                           report.passed, levels_ok);
  return report;
}

}  // namespace flexwatch
