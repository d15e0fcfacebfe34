// `flexwatch inspect` and `flexwatch series`: what the state holds.

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
#include "flexwatch/announce/evidence.h"
#include "flexwatch/core/json.h"
#include "flexwatch/detectors/series.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/rules/explain.h"

namespace flexwatch::cli {

namespace {

// A platform's month as the announcement judges it: its level, whether it is ranked, and each
// dimension's counts, level and kinds of fault.
fw::Result<std::string> ScoreJson(fw::Store& store, const fw::RuleSet& rules, fw::Period p,
                                  const std::string& platform, bool close) {
  fw::EvaluateOptions eo;
  eo.close = close;
  eo.platform = platform;
  auto m = fw::EvaluateMonth(store, rules, p, eo);
  if (!m.ok()) return m.status();
  if (m->platforms.empty()) return std::string("null");
  const fw::PlatformScore& ps = m->platforms.front();
  fw::JsonWriter w;
  w.BeginObject().Key("final").Bool(m->final).Key("ranked").Bool(ps.ranked);
  w.Key("level").String(fw::NameOf(ps.level)).Key("dimensions").BeginObject();
  for (int d = 0; d < fw::kDimensionCount; ++d) {
    const fw::DimensionScore& ds = ps.dimensions[d];
    w.Key(fw::kDimensionNames[d]).BeginObject().Key("in_scope").Int(ds.in_scope);
    w.Key("affected").Int(ds.affected).Key("pending").Int(ds.pending);
    w.Key("rate").Raw(fw::RateText(ds.affected, ds.in_scope)).Key("level").String(NameOf(ds.level));
    w.Key("findings").BeginObject();
    for (const auto& [name, n] : ds.findings) w.Key(name).Int(n);
    w.EndObject().EndObject();
  }
  return w.EndObject().EndObject().Take();
}

bool IsPseudonym(const std::string& s) {
  if (s.size() != 34 || s.compare(0, 2, "w_") != 0) return false;
  for (size_t i = 2; i < s.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(s[i])) || std::isupper(s[i])) return false;
  return true;
}

// `inspect --pseudonym`: the worker whose evidence pseudonym it is, under the configured key, and
// what the state holds of it (as `inspect --worker`, on the platforms it worked for).
int InspectPseudonym(const fw::Config& cfg, fw::Store& store, const InspectArgs& a,
                     fw::InspectQuery q) {
  if (!IsPseudonym(a.pseudonym))
    return Fail("inspect: --pseudonym " + a.pseudonym +
                ": not an evidence pseudonym (w_ and 32 lower-case hex digits)");
  auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg));
  if (!key.ok())
    return Fail("inspect: --pseudonym needs the pseudonym key the evidence was written with: " +
                key.status().message());
  const fw::Pseudonymizer pseudonyms(*key);
  std::string worker;
  std::vector<std::string> platforms;
  std::map<std::string, std::string> seen;  // worker -> pseudonym (a worker on several platforms)
  for (const std::string& platform : store.Platforms()) {
    if (!a.platform.empty() && platform != a.platform) continue;
    for (const std::string& w : store.Workers(platform)) {
      auto [it, fresh] = seen.emplace(w, std::string());
      if (fresh) it->second = pseudonyms.Of(w);
      if (it->second != a.pseudonym) continue;
      worker = w;
      platforms.push_back(platform);
    }
  }
  if (int rc; ReadFailed(store, "inspect", rc)) return rc;
  if (worker.empty())
    return Fail("inspect: no worker in " + a.state + " has the pseudonym " + a.pseudonym +
                " under the configured key (key id " + pseudonyms.key_id() +
                "); evidence written with another key names its key id in each file");
  q.worker = worker;
  q.platform = platforms.size() == 1 ? platforms.front() : a.platform;
  auto records = fw::InspectJson(store, q);
  if (!records.ok()) return Fail("inspect: " + records.status().message());
  if (int rc; ReadFailed(store, "inspect", rc)) return rc;
  fw::JsonWriter w;
  w.BeginObject(fw::JsonWriter::kBlock).Key("pseudonym").String(a.pseudonym);
  w.Key("key_id").String(pseudonyms.key_id()).Key("worker_id").String(worker);
  w.Key("platforms").BeginArray();
  for (const std::string& p : platforms) w.String(p);
  while (!records->empty() && records->back() == '\n') records->pop_back();
  std::string nested;  // indented one level more, as a member of the object around it
  for (char c : *records) nested += c == '\n' ? std::string("\n  ") : std::string(1, c);
  *records = std::move(nested);
  const std::string out = w.EndArray().Key("records").Raw(*records).EndObject().Take() + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

// `inspect --platform P --month M --dimension D`: the affected worker-months with their reasons.
int InspectDimension(const fw::Config& cfg, fw::Store& store, const InspectArgs& a, fw::Period p,
                     fw::Lang lang) {
  std::optional<fw::Dimension> dim;
  for (int d = 0; d < fw::kDimensionCount; ++d)
    if (fw::kDimensionNames[d] == a.dimension) dim = static_cast<fw::Dimension>(d);
  if (!dim)
    return Fail("inspect: --dimension " + a.dimension +
                ": not a dimension (contract_avoidance, underpayment, coverage_mismatch)");
  if (a.platform.empty() || a.month.empty())
    return Fail("inspect: --dimension needs --platform and --month");
  if (!cfg.rules) return Fail("inspect: --dimension needs the rule set of the configuration");
  // The evidence pseudonyms beside the worker ids when the key is there (no key: ids only).
  std::unique_ptr<fw::Pseudonymizer> pseudonyms;
  if (auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg)); key.ok())
    pseudonyms = std::make_unique<fw::Pseudonymizer>(*key);
  std::function<std::string(std::string_view)> named;
  if (pseudonyms) named = [&pseudonyms](std::string_view w) { return pseudonyms->Of(w); };
  auto json =
      fw::AffectedWorkerMonthsJson(store, *cfg.rules, p, a.platform, *dim, a.close, lang, named);
  if (int rc; ReadFailed(store, "inspect", rc)) return rc;
  if (!json.ok()) return Fail("inspect: " + json.status().message());
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

}  // namespace

int RunInspect(const fw::Config& cfg, const InspectArgs& a) {
  const std::optional<fw::Lang> lang = fw::LangFromName(a.lang);
  if (!lang) return Fail("inspect: --lang " + a.lang + ": give en or zh");
  fw::InspectQuery q;
  q.platform = a.platform;
  q.worker = a.worker;
  if (!a.month.empty()) {
    auto p = fw::ParsePeriod(a.month);
    if (!p.ok()) return Fail("inspect: --month " + a.month + ": " + p.status().message());
    q.month = *p;
  }
  if (!a.pseudonym.empty() && !a.worker.empty())
    return Fail("inspect: give --pseudonym or --worker, not both");
  int open_rc = 0;
  auto store = OpenExistingState(cfg, a.state, "inspect", open_rc);
  if (!store) return open_rc;
  if (a.dump) {
    auto s = store->Dump([](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    });
    if (int rc; ReadFailed(*store, "inspect", rc)) return rc;
    return s.ok() ? kExitOk : Fail("inspect: " + s.message());
  }
  if (!a.dimension.empty()) return InspectDimension(cfg, *store, a, *q.month, *lang);
  if (cfg.rules) {
    fw::Store* st = store.get();
    const fw::RuleSet* rules = &*cfg.rules;
    const bool close = a.close;
    const fw::Lang l = *lang;
    q.explain = [st, rules, close, l](fw::Period p, const std::string& platform,
                                      const std::string& worker) {
      return fw::ExplainWorkerMonth(*st, *rules, p, platform, worker, close, l);
    };
    q.score = [st, rules, close](fw::Period p, const std::string& platform) {
      return ScoreJson(*st, *rules, p, platform, close);
    };
  }
  if (!a.pseudonym.empty()) return InspectPseudonym(cfg, *store, a, q);
  auto json = fw::InspectJson(*store, q);
  if (!json.ok()) return Fail("inspect: " + json.status().message());
  if (int rc; ReadFailed(*store, "inspect", rc)) return rc;
  std::fwrite(json->data(), 1, json->size(), stdout);
  return kExitOk;
}

int RunSeries(const fw::Config& cfg, const std::string& state, const std::string& platform,
              const std::string& month) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("series: " + rules.status().message());
  int open_rc = 0;
  auto store = OpenExistingState(cfg, state, "series", open_rc);
  if (!store) return open_rc;
  std::vector<fw::Period> periods = store->Periods();
  if (!month.empty()) {
    auto p = fw::ParsePeriod(month);
    if (!p.ok()) return Fail("series: --month " + month + ": " + p.status().message());
    periods = {*p};
  }
  for (fw::Period p : periods) {
    auto m = fw::ComputeSeries(*store, **rules, p, false);
    if (!m.ok()) return Fail("series: " + m.status().message());
    for (const fw::PlatformMonth& pm : m->platforms)
      if (platform.empty() || pm.platform_id == platform)
        std::printf("%s\n", fw::SeriesJson(pm).c_str());
  }
  if (int rc; ReadFailed(*store, "series", rc)) return rc;
  return kExitOk;
}

}  // namespace flexwatch::cli
