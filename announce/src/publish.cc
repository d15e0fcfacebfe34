#include "flexwatch/announce/publish.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "document.h"
#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"
#include "terms.h"

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

namespace {

// What a rejected line says of itself, read leniently: the line may not be JSON at all.
void LineNames(std::string_view raw, std::string& platform, std::optional<Period>& month) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view ts;
  if (!parser.parse(raw.data(), raw.size()).get(doc) && doc.is_object()) {
    std::string_view id;
    if (!doc["platform_id"].get(id)) platform = std::string(id);
    if (doc["ts"].get(ts)) ts = {};
  } else {
    static const std::regex kPlatform(R"re("platform_id"\s*:\s*"([^"\\]{1,64})")re");
    static const std::regex kTs(R"re("ts"\s*:\s*"([^"\\]{10,40})")re");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(raw.begin(), raw.end(), m, kPlatform)) platform = m[1].str();
    if (std::regex_search(raw.begin(), raw.end(), m, kTs))
      ts = std::string_view(&*m[1].first, static_cast<size_t>(m[1].length()));
  }
  if (auto t = ParseRfc3339(ts); !ts.empty() && t.ok()) month = BeijingPeriod(*t);
}

}  // namespace

RejectedLines RejectedLinesOf(Store& store, Period p) {
  RejectedLines out;
  simdjson::dom::parser parser;
  (void)store.ForEachDeadLetter([&](std::string_view json) {
    simdjson::dom::element letter;
    std::string_view raw;
    if (parser.parse(json.data(), json.size()).get(letter) || letter["raw"].get(raw)) return;
    std::string platform;
    std::optional<Period> month;
    LineNames(raw, platform, month);
    if (month != p) return;
    if (!IsValidId(platform, 64))  // none, or not one a platform can have (printed nowhere)
      ++out.unnamed;
    else
      ++out.by_platform[platform];
  });
  return out;
}

std::string IssueStem(Period p, int revision) {
  std::string stem = "monthly-" + FormatPeriod(p);
  if (revision > 0) stem += ".r" + std::to_string(revision);
  return stem;
}

std::optional<IssueRecord> IssueOf(Store& store, const std::string& stem) {
  const std::optional<std::string> v = store.GetMeta(meta_keys::Issued(stem));
  return v ? IssueRecord::Decode(*v) : std::nullopt;
}

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
      for (auto& [name, bytes] :
           evidence.Render(*m, rules, request.evidence_for, request.platforms))
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
    if (request.revision) {
      const int n = *request.revision;
      if (n < 0 || n >= static_cast<int>(sealing.revisions.size()))
        return Status::NotFound(
            FormatPeriod(p) + " has no revision " + std::to_string(n) +
            (sealing.revisions.empty()
                 ? " (no monitor sealed it)"
                 : " (it has 0 to " + std::to_string(sealing.revisions.back().number) + ")"));
      sealing.revisions.resize(n + 1);
    }
    sealing.arrived_after_seal = ArrivedAfterSeal(store, p);
    MonthlyInputs in;
    in.month = &pub.months.front();
    in.warnings = &*warnings;
    in.rules = &rules;
    in.sealing = &sealing;
    in.correction = request.revision && *request.revision > 0;
    in.platforms = request.platforms;
    in.issuer = request.issuer;
    in.issue = IssueOf(store, IssueStem(p, in.correction ? *request.revision : 0));
    const RejectedLines rejected = RejectedLinesOf(store, p);
    in.rejected = &rejected;
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
    const AnnualInputs in{year,
                          &pub.months,
                          last_year->empty() ? nullptr : &*last_year,
                          &rules,
                          request.platforms,
                          request.issuer,
                          IssueOf(store, "annual-" + std::to_string(year))};
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

Files KeptDocuments(Store& store, Period p, int revision, const Issuer* issuer) {
  Files kept;
  const std::string prefix = meta_keys::SealedDocument(p, revision, "");
  for (const std::string& key : store.MetaKeys(prefix))
    if (auto bytes = store.GetMeta(key)) kept.emplace_back(key.substr(prefix.size()), *bytes);
  const std::optional<IssueRecord> issue = IssueOf(store, IssueStem(p, revision));
  if (!issue || !issuer || issuer->empty()) return kept;
  // Kept as a draft, issued since: the masthead's second line (the only one that differs) as
  // the issue prints it.
  for (auto& [name, bytes] : kept) {
    const bool md = name.ends_with(".md"), html = name.ends_with(".html");
    if (!md && !html) continue;
    const Lang l = name.find(".zh.") != std::string::npos ? Lang::kZh : Lang::kEn;
    const std::string draft = render_detail::Masthead(issuer, std::nullopt, l).back();
    const std::string issued = render_detail::Masthead(issuer, issue, l).back();
    const std::string from = md ? "\n" + draft + "  \n"
                                : "<p class=\"masthead\">" + render_detail::Escape(draft) + "</p>";
    const std::string to = md ? "\n" + issued + "  \n"
                              : "<p class=\"masthead\">" + render_detail::Escape(issued) + "</p>";
    if (const size_t at = bytes.find(from); at != std::string::npos)
      bytes.replace(at, from.size(), to);
  }
  return kept;
}

namespace {

// Whether `options` publishes the document `name` (monthly-YYYY-MM[.rN][.<lang>].<format>).
bool Publishes(const PublishOptions& options, const std::string& name) {
  auto has = [](const std::vector<std::string>& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  const size_t dot = name.rfind('.');
  const std::string_view format = std::string_view(name).substr(dot + 1);
  if (!has(options.formats, format)) return false;
  if (format == "json") return true;
  const size_t lang_dot = name.rfind('.', dot - 1);
  return has(options.langs, std::string_view(name).substr(lang_dot + 1, dot - lang_dot - 1));
}

}  // namespace

Result<std::vector<std::string>> PublishDue(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const PublishOptions& options,
                                            const Pseudonymizer* pseudonyms) {
  std::vector<std::string> written;
  const bool writes = !options.dir.empty() && !options.another_publishes;
  const std::string sender = store.GetMeta(meta_keys::kStateId).value_or("");
  for (const std::string& key : store.MetaKeys(meta_keys::kPublishDuePrefix)) {
    const auto due = meta_keys::ParseDue(key);
    if (!due) return Status::Corruption("meta key " + key + ": not a month or a revision of one");
    const Period p = due->period;
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    // The revision published: the correction's, or 0 for the original of a sealed month (a
    // month marked due by an earlier build may be unsealed: published as it stands, not kept).
    std::optional<int> revision;
    if (due->revision > 0 || !revisions->empty()) revision = due->revision;
    // Issued now (by the instance that writes the files): its date and number recorded before
    // its documents are made, so that they print them, and whatever makes them again does too.
    const bool annual = writes && due->revision == 0 && PeriodMonth(p) == 12;
    std::vector<std::string> stems = {IssueStem(p, due->revision)};
    if (annual) stems.push_back("annual-" + std::to_string(PeriodYear(p)));
    std::string issued;       // "stem=record;..." for the notice
    bool issued_now = false;  // documents kept before (by an instance that did not publish)
    if (writes) {
      Batch issue;
      const Day today = BeijingDay(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
      for (const std::string& stem : stems) {
        std::optional<IssueRecord> record = IssueOf(store, stem);
        if (!record) {
          record.emplace();
          record->day = today;
          const std::string seq_key = meta_keys::IssueSeq(record->Year());
          int last = 0;
          if (auto v = store.GetMeta(seq_key)) last = std::atoi(v->c_str());
          record->seq = last + 1;
          issue.Put(seq_key, std::to_string(record->seq));
          issue.Put(meta_keys::Issued(stem), record->Encode());
          if (Status s = store.Write(issue); !s.ok()) return s;  // each number once
          issue = Batch();
          issued_now = true;
        }
        issued += (issued.empty() ? "" : ";") + stem + "=" + record->Encode();
      }
    }
    // The month's documents: those kept when this revision was first published, or made now
    // and kept before any is written.
    Publication month;
    // (kept before it was issued: drafts, never published; made again with the issue)
    if (revision && !issued_now)
      month.documents = KeptDocuments(store, p, *revision, options.issuer);
    const bool kept = !month.documents.empty();
    const bool evidence = writes && pseudonyms && due->revision == 0;
    if (!kept || evidence) {
      PublicationRequest request;
      request.months = {p};
      request.revision = revision;
      request.pseudonyms = evidence ? pseudonyms : nullptr;
      request.platforms = options.platforms;
      request.issuer = options.issuer;
      auto made = MakePublication(store, rules, detectors, request);
      if (!made.ok()) return made.status();
      if (kept) made->documents = std::move(month.documents);
      month = std::move(*made);
      if (revision && !kept) {
        Batch keep;
        for (const auto& [name, bytes] : month.documents)
          keep.Put(meta_keys::SealedDocument(p, *revision, name), bytes);
        if (Status s = store.Write(keep); !s.ok()) return s;
      }
    }
    if (options.another_publishes) continue;  // kept; due until the publisher's notice
    std::erase_if(month.documents,
                  [&](const auto& file) { return !Publishes(options, file.first); });
    std::vector<Publication> publications;
    publications.push_back(std::move(month));
    // With the original of a December, the year: the months of it the rule set can judge (run
    // reports the others), each month's evidence having gone out with the month.
    if (annual) {
      PublicationRequest year;
      year.year = PeriodYear(p);
      year.formats = options.formats;
      year.langs = options.langs;
      year.platforms = options.platforms;
      year.issuer = options.issuer;
      for (Period q : store.Periods())
        if (PeriodYear(q) == year.year && rules.Judgeable(q).ok()) year.months.push_back(q);
      auto made = MakePublication(store, rules, detectors, year);
      if (!made.ok()) return made.status();
      publications.push_back(std::move(*made));
    }
    Batch batch;
    batch.Delete(key);
    if (writes) {
      JsonWriter notice_json;
      notice_json.BeginObject()
          .Key("kind")
          .String(due->revision > 0 ? "correction" : "announcement")
          .Key("period")
          .String(FormatPeriod(p));
      if (due->revision > 0)
        notice_json.Key("revision")
            .Int(due->revision)
            .Key("original")
            .String(MonthlyDocumentName(p, 0, "json", Lang::kEn));
      notice_json.Key("annual");
      if (due->revision == 0 && PeriodMonth(p) == 12)
        notice_json.String(std::to_string(PeriodYear(p)));
      else
        notice_json.Null();
      notice_json.Key("rules").Raw(RulesStampJson(rules)).Key("files").BeginObject();
      for (const Publication& publication : publications) {
        auto paths = WritePublication(options.dir, publication);
        if (!paths.ok()) return paths.status();
        written.insert(written.end(), paths->begin(), paths->end());
        // The notice names the documents (the evidence is for inspectors, not the public).
        for (const auto& [name, bytes] : publication.documents)
          notice_json.Key(name).String(Sha256Hex(bytes));
      }
      OutboxMessage notice;
      notice.topic = options.topic;
      notice.key = FormatPeriod(p);
      notice.payload = notice_json.EndObject().EndObject().Take();
      notice.headers = {{"flexwatch.announcement", FormatPeriod(p)}};
      if (due->revision > 0)
        notice.headers.push_back({"flexwatch.revision", std::to_string(due->revision)});
      if (!sender.empty()) notice.headers.push_back({"flexwatch.sender", sender});
      notice.headers.push_back({"flexwatch.issued", issued});
      store.PutOutbox(batch, {notice});
    }
    if (Status s = store.Write(batch); !s.ok()) return s;
  }
  return written;
}

}  // namespace flexwatch
