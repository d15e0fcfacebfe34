#include "flexwatch/announce/publish.h"

#include <filesystem>
#include <set>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"

namespace flexwatch {

namespace fs = std::filesystem;

namespace {

// The months of `store` that `pick` accepts, judged as the publication judges them.
Result<std::vector<MonthEvaluation>> Judged(Store& store, const RuleSet& rules, bool close,
                                            const std::function<bool(Period)>& pick,
                                            bool skip_unjudgeable) {
  std::vector<MonthEvaluation> out;
  EvaluateOptions eo;
  eo.close = close;
  for (Period q : store.Periods()) {
    if (!pick(q)) continue;
    auto e = EvaluateMonth(store, rules, q, eo);
    if (!e.ok()) {
      if (skip_unjudgeable) continue;
      return e.status();
    }
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace

Result<Publication> MakePublication(Store& store, const RuleSet& rules,
                                    const DetectorConfig& detectors,
                                    const PublicationRequest& request) {
  Publication pub;
  if (request.year == 0 && request.months.size() != 1)
    return Status::InvalidArgument("a monthly publication is one month");
  std::vector<Lang> langs;
  for (const std::string& name : request.langs) {
    auto lang = LangFromName(name);
    if (!lang) return Status::InvalidArgument("language " + name + ": expected zh or en");
    langs.push_back(*lang);
  }
  for (Period p : request.months) {
    EvidenceCollector evidence(request.pseudonyms);
    EvaluateOptions eo;
    eo.close = request.close;
    if (request.pseudonyms) eo.on_finding = [&evidence](const Finding& f) { evidence.Add(f); };
    auto m = EvaluateMonth(store, rules, p, eo);
    if (!m.ok()) return m.status();
    if (request.pseudonyms)
      for (auto& [name, bytes] : evidence.Render(*m, rules))
        pub.evidence.emplace_back("evidence/" + name, std::move(bytes));
    pub.months.push_back(std::move(*m));
  }
  std::set<std::string> named;
  auto add = [&](Files files) {
    for (auto& file : files)
      if (named.insert(file.first).second) pub.documents.push_back(std::move(file));
  };
  if (request.year == 0) {
    const Period p = pub.months.front().period;
    SeriesCache cache;
    auto warnings = DetectWarnings(store, rules, detectors, p, request.close, cache);
    if (!warnings.ok()) return warnings.status();
    // The year before: the change since last month, and the trends (a month the rules cannot
    // judge is left out).
    auto before = Judged(
        store, rules, request.close, [p](Period q) { return q >= p - 11 && q < p; }, true);
    if (!before.ok()) return before.status();
    MonthSealing sealing;
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    sealing.revisions = std::move(*revisions);
    sealing.arrived_after_seal = ArrivedAfterSeal(store, p);
    MonthlyInputs in{&pub.months.front(), nullptr, &*warnings, &rules, {}, &sealing};
    for (const MonthEvaluation& e : *before) {
      in.history.push_back(&e);
      if (e.period == p - 1) in.previous = &e;
    }
    for (Lang lang : langs) add(RenderMonthly(in, request.formats, lang));
  } else {
    // The year before, for the comparison with last year.
    const int year = request.year;
    auto last_year = Judged(
        store, rules, request.close, [year](Period q) { return PeriodYear(q) == year - 1; }, false);
    if (!last_year.ok()) return last_year.status();
    const AnnualInputs in{year, &pub.months, last_year->empty() ? nullptr : &*last_year, &rules};
    for (Lang lang : langs) add(RenderAnnual(in, request.formats, lang));
  }
  return pub;
}

Result<std::vector<std::string>> WritePublication(const std::string& dir,
                                                  const Publication& publication) {
  std::vector<std::string> written;
  for (const Files* files : {&publication.documents, &publication.evidence})
    for (const auto& [name, bytes] : *files) {
      const fs::path path = fs::path(dir) / name;
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      if (ec)
        return Status::IOError("cannot create " + path.parent_path().string() + ": " +
                               ec.message());
      if (Status s = WriteFileAtomically(path.string(), bytes); !s.ok()) return s;
      written.push_back(path.string());
    }
  return written;
}

Result<std::vector<std::string>> PublishDue(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const PublishOptions& options,
                                            const Pseudonymizer* pseudonyms) {
  std::vector<std::string> written;
  if (options.dir.empty()) return written;
  for (const std::string& key : store.MetaKeys(meta_keys::kPublishDuePrefix)) {
    auto period = ParsePeriod(std::string_view(key).substr(meta_keys::kPublishDuePrefix.size()));
    if (!period.ok()) return Status::Corruption("meta key " + key + ": not a month");
    const Period p = *period;
    // The month, and the year with it once December is final: judged as `announce` judges them
    // without --final (the state says they are final).
    PublicationRequest month;
    month.months = {p};
    month.formats = options.formats;
    month.langs = options.langs;
    month.pseudonyms = pseudonyms;
    std::vector<PublicationRequest> requests = {month};
    if (PeriodMonth(p) == 12) {
      PublicationRequest year = month;
      year.year = PeriodYear(p);
      year.months.clear();
      year.pseudonyms = nullptr;  // each month's evidence went out with the month
      // A month the rule set cannot judge is left out of the year (run reports it).
      for (Period q : store.Periods())
        if (PeriodYear(q) == year.year && rules.Judgeable(q).ok()) year.months.push_back(q);
      requests.push_back(std::move(year));
    }
    JsonWriter notice_json;
    notice_json.BeginObject()
        .Key("kind")
        .String("announcement")
        .Key("period")
        .String(FormatPeriod(p));
    notice_json.Key("annual");
    if (PeriodMonth(p) == 12)
      notice_json.String(std::to_string(PeriodYear(p)));
    else
      notice_json.Null();
    notice_json.Key("rules").Raw(RulesStampJson(rules)).Key("files").BeginObject();
    for (const PublicationRequest& request : requests) {
      auto publication = MakePublication(store, rules, detectors, request);
      if (!publication.ok()) return publication.status();
      auto paths = WritePublication(options.dir, *publication);
      if (!paths.ok()) return paths.status();
      written.insert(written.end(), paths->begin(), paths->end());
      // The notice names the documents (the evidence is for inspectors, not the public).
      for (const auto& [name, bytes] : publication->documents)
        notice_json.Key(name).String(Sha256Hex(bytes));
    }
    OutboxMessage notice;
    notice.topic = options.topic;
    notice.key = FormatPeriod(p);
    notice.payload = notice_json.EndObject().EndObject().Take();
    notice.headers = {{"flexwatch.announcement", FormatPeriod(p)}};
    Batch batch;
    batch.Delete(key);
    store.PutOutbox(batch, {notice});
    if (Status s = store.Write(batch); !s.ok()) return s;
  }
  return written;
}

}  // namespace flexwatch
