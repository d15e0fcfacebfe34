// `flexwatch announce`: a month's or a year's announcement, with its evidence.

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
#include "flexwatch/announce/render.h"
#include "flexwatch/core/file.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch::cli {

int RunAnnounce(const fw::Config& cfg, const AnnounceArgs& a) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("announce: " + rules.status().message());
  const auto lang = fw::LangFromName(a.lang);
  if (!lang) return Fail("announce: --lang " + a.lang + ": expected zh or en");
  const bool monthly = !a.month.empty();
  if (a.format != "json" && a.format != "md" && a.format != "html" && a.format != "csv" &&
      a.format != "all")
    return Fail("announce: --format " + a.format + ": expected json, md, html, csv or all");
  if (a.format == "all" && a.out.empty())
    return Fail("announce: --format all writes several files: give --out DIR");
  int open_rc = 0;
  auto store = OpenExistingState(cfg, a.state, "announce", open_rc);
  if (!store) return open_rc;

  std::unique_ptr<fw::Pseudonymizer> pseudonyms;
  if (!a.out.empty()) {
    auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg));
    if (!key.ok()) return Fail("announce: " + key.status().message());
    pseudonyms = std::make_unique<fw::Pseudonymizer>(*key);
  }
  std::vector<fw::Period> periods;
  if (!a.month.empty()) {
    auto p = fw::ParsePeriod(a.month);
    if (!p.ok()) return Fail("announce: --month " + a.month + ": " + p.status().message());
    periods.push_back(*p);
  } else {
    for (fw::Period p : store->Periods())
      if (fw::PeriodYear(p) == a.year) periods.push_back(p);
  }
  std::vector<fw::MonthEvaluation> months;
  std::vector<std::string> written;
  for (fw::Period p : periods) {
    fw::EvidenceCollector evidence(pseudonyms.get());
    fw::EvaluateOptions eo;
    eo.close = a.close;
    if (pseudonyms) eo.on_finding = [&evidence](const fw::Finding& f) { evidence.Add(f); };
    auto m = fw::EvaluateMonth(*store, **rules, p, eo);
    if (!m.ok()) return Fail("announce: " + m.status().message());
    if (pseudonyms) {
      auto files = evidence.Write((fs::path(a.out) / "evidence").string(), *m, **rules);
      if (!files.ok()) return Fail("announce: " + files.status().message());
      written.insert(written.end(), files->begin(), files->end());
    }
    months.push_back(std::move(*m));
  }
  for (const fw::MonthEvaluation& m : months)
    if (m.platforms.empty())
      std::fprintf(stderr, "announce: note: state holds no worker-month of %s\n",
                   fw::FormatPeriod(m.period).c_str());
  if (months.empty()) std::fprintf(stderr, "announce: note: state holds no month of %d\n", a.year);
  // Each publication: its file name and its bytes.
  const std::vector<std::string> formats =
      a.format == "all" ? std::vector<std::string>{"json", "md", "html", "csv"}
                        : std::vector<std::string>{a.format};
  auto rendered = fw::RenderPublications(*store, **rules, cfg.detectors, months,
                                         monthly ? 0 : a.year, a.close, formats, *lang);
  if (!rendered.ok()) return Fail("announce: " + rendered.status().message());
  if (int rc; ReadFailed(*store, "announce", rc)) return rc;
  const fw::Files& outputs = *rendered;
  if (a.out.empty()) {
    std::fwrite(outputs.front().second.data(), 1, outputs.front().second.size(), stdout);
    return kExitOk;
  }
  std::string paths;
  for (const auto& [name, bytes] : outputs) {
    const std::string path = (fs::path(a.out) / name).string();
    if (auto s = fw::WriteFileAtomically(path, bytes); !s.ok())
      return Fail("announce: " + s.message());
    paths += (paths.empty() ? "" : ", ") + path;
  }
  std::fprintf(stderr, "announce: wrote %s and %zu evidence files under %s\n", paths.c_str(),
               written.size(), (fs::path(a.out) / "evidence").string().c_str());
  return kExitOk;
}

}  // namespace flexwatch::cli
