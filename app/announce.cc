// `flexwatch announce`: a month's or a year's announcement, with its evidence.

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
#include "flexwatch/announce/publish.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/state/meta_keys.h"

namespace flexwatch::cli {

namespace {

// `announce --month M --revision N`: the documents of revision N exactly as the monitor kept them
// when it published that revision (the original for 0, the correction notice after), issued as
// the publisher issued it (a draft kept here before its notice came gets its masthead).
int AnnounceRevision(fw::Store& store, const AnnounceArgs& a, const fw::Issuer& issuer) {
  auto p = fw::ParsePeriod(a.month);
  if (!p.ok()) return Fail("announce: --month " + a.month + ": " + p.status().message());
  const fw::Files kept = fw::KeptDocuments(store, *p, a.revision, &issuer);
  if (int rc; ReadFailed(store, "announce", rc)) return rc;
  if (kept.empty()) {
    auto revisions = fw::ReadRevisions(store, *p);
    if (!revisions.ok()) return Fail("announce: " + revisions.status().message());
    if (revisions->empty())
      return Fail("announce: " + a.month + " has no revisions: no monitor sealed it");
    if (a.revision > revisions->back().number)
      return Fail("announce: " + a.month + " has no revision " + std::to_string(a.revision) +
                  " (it has 0 to " + std::to_string(revisions->back().number) + ")");
    return Fail("announce: revision " + std::to_string(a.revision) + " of " + a.month +
                " was sealed by a monitor that kept no documents of it (an earlier version); "
                "`announce --month " +
                a.month + "` lists every revision with what it changed");
  }
  const std::vector<std::string> formats =
      a.format == "all" ? std::vector<std::string>{"json", "md", "html", "csv"}
                        : std::vector<std::string>{a.format};
  fw::Files chosen;
  for (const std::string& format : formats) {
    const std::string name =
        fw::MonthlyDocumentName(*p, a.revision, format, *fw::LangFromName(a.lang));
    auto it =
        std::find_if(kept.begin(), kept.end(), [&](const auto& f) { return f.first == name; });
    if (it == kept.end())
      return Fail("announce: revision " + std::to_string(a.revision) + " of " + a.month +
                  " was kept without " + name);
    chosen.push_back(*it);
  }
  if (a.out.empty()) {
    std::fwrite(chosen.front().second.data(), 1, chosen.front().second.size(), stdout);
    return kExitOk;
  }
  fw::Publication publication;
  publication.documents = std::move(chosen);
  auto written = fw::WritePublication(a.out, publication);
  if (!written.ok()) return Fail("announce: " + written.status().message());
  std::string paths;
  for (const std::string& path : *written) paths += (paths.empty() ? "" : ", ") + path;
  std::fprintf(stderr,
               "announce: wrote %s as published at revision %d (no evidence: it is not kept per "
               "revision; without --revision, --out writes it as the state stands)\n",
               paths.c_str(), a.revision);
  return kExitOk;
}

}  // namespace

int RunAnnounce(const fw::Config& cfg, const AnnounceArgs& a) {
  auto rules = cfg.Rules();
  if (!rules.ok()) return Fail("announce: " + rules.status().message());
  const auto lang = fw::LangFromName(a.lang);
  if (!lang) return Fail("announce: --lang " + a.lang + ": expected zh or en");
  if (a.format != "json" && a.format != "md" && a.format != "html" && a.format != "csv" &&
      a.format != "all")
    return Fail("announce: --format " + a.format + ": expected json, md, html, csv or all");
  if (a.format == "all" && a.out.empty())
    return Fail("announce: --format all writes several files: give --out DIR");
  int open_rc = 0;
  auto store = OpenExistingState(cfg, a.state, "announce", open_rc);
  if (!store) return open_rc;

  std::unique_ptr<fw::Pseudonymizer> pseudonyms;
  if (!a.out.empty() && a.revision < 0) {
    auto key = fw::LoadPseudonymKey(cfg.evidence.pseudonym_key_file, ConfigDir(cfg));
    if (!key.ok()) return Fail("announce: " + key.status().message());
    pseudonyms = std::make_unique<fw::Pseudonymizer>(*key);
  }
  if (a.revision >= 0) return AnnounceRevision(*store, a, cfg.issuer);
  fw::PublicationRequest request;
  if (!a.month.empty()) {
    auto p = fw::ParsePeriod(a.month);
    if (!p.ok()) return Fail("announce: --month " + a.month + ": " + p.status().message());
    request.months.push_back(*p);
  } else {
    request.year = a.year;
    for (fw::Period p : store->Periods())
      if (fw::PeriodYear(p) == a.year) request.months.push_back(p);
  }
  request.close = a.close;
  request.formats = a.format == "all" ? std::vector<std::string>{"json", "md", "html", "csv"}
                                      : std::vector<std::string>{a.format};
  request.langs = {a.lang};
  request.pseudonyms = pseudonyms.get();
  request.platforms = &cfg.platforms;
  request.issuer = &cfg.issuer;
  // The state of one instance of a group: evidence for the platforms it judges (cli.md 1.1,
  // "Several monitors, one city"), as of its last settled assignment; the others' is on theirs.
  std::optional<fw::Ownership> judging;
  if (pseudonyms)
    if (auto kept = store->GetMeta(fw::meta_keys::kJudging)) {
      judging = fw::Ownership::Decode(*kept);
      if (!judging)
        return Fail("announce: the state's record of the platforms it judges (" +
                    std::string(fw::meta_keys::kJudging) + ") is unreadable");
      request.evidence_for = [&judging](std::string_view platform) {
        return judging->Owns(platform);
      };
    }
  auto publication = fw::MakePublication(*store, **rules, cfg.detectors, request);
  if (!publication.ok()) return Fail("announce: " + publication.status().message());
  if (int rc; ReadFailed(*store, "announce", rc)) return rc;
  for (const fw::MonthEvaluation& m : publication->months)
    if (m.platforms.empty())
      std::fprintf(stderr, "announce: note: state holds no worker-month of %s\n",
                   fw::FormatPeriod(m.period).c_str());
  if (request.months.empty())
    std::fprintf(stderr, "announce: note: state holds no month of %d\n", a.year);
  if (a.out.empty()) {
    const std::string& bytes = publication->documents.front().second;
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return kExitOk;
  }
  auto written = fw::WritePublication(a.out, *publication);
  if (!written.ok()) return Fail("announce: " + written.status().message());
  std::string paths;
  for (size_t i = 0; i < publication->documents.size(); ++i)
    paths += (paths.empty() ? "" : ", ") + (*written)[i];
  std::fprintf(stderr, "announce: wrote %s and %zu evidence files under %s\n", paths.c_str(),
               publication->evidence.size(), (fs::path(a.out) / "evidence").string().c_str());
  if (judging) {
    std::set<std::string> platforms;
    for (const fw::MonthEvaluation& m : publication->months)
      for (const fw::PlatformScore& ps : m.platforms)
        if (judging->Owns(ps.platform_id)) platforms.insert(ps.platform_id);
    std::string list, partitions;
    for (const std::string& p : platforms) list += (list.empty() ? "" : ", ") + p;
    for (const std::string& p : judging->Assigned())
      partitions += (partitions.empty() ? "" : ", ") + p;
    std::fprintf(stderr,
                 "announce: evidence of the %zu platform(s) this instance judges, those of "
                 "partition(s) %s of its group when it last settled: %s; the other platforms' "
                 "evidence is written on the instances that judge them\n",
                 platforms.size(), partitions.empty() ? "(none)" : partitions.c_str(),
                 list.empty() ? "(none)" : list.c_str());
  }
  return kExitOk;
}

}  // namespace flexwatch::cli
