#include "flexwatch/announce/publish.h"

#include <filesystem>
#include <set>

#include "flexwatch/announce/render.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"

namespace flexwatch {

Result<std::vector<std::string>> PublishDue(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const PublishOptions& options) {
  std::vector<std::string> written;
  if (options.dir.empty()) return written;
  for (const std::string& key : store.MetaKeys(meta_keys::kPublishDuePrefix)) {
    auto period = ParsePeriod(std::string_view(key).substr(meta_keys::kPublishDuePrefix.size()));
    if (!period.ok()) return Status::Corruption("meta key " + key + ": not a month");
    const Period p = *period;
    // The month, and the year with it once December is final: judged as `announce` judges them
    // without --final (the state says they are final).
    std::vector<std::pair<int, std::vector<MonthEvaluation>>> publications;
    auto month = EvaluateMonth(store, rules, p, {});
    if (!month.ok()) return month.status();
    publications.push_back({0, {std::move(*month)}});
    if (PeriodMonth(p) == 12) {
      std::vector<MonthEvaluation> year;
      for (Period q : store.Periods()) {
        // A month the rule set cannot judge is left out of the year (run reports it).
        if (PeriodYear(q) != PeriodYear(p) || !rules.Judgeable(q).ok()) continue;
        auto m = EvaluateMonth(store, rules, q, {});
        if (!m.ok()) return m.status();
        year.push_back(std::move(*m));
      }
      publications.push_back({PeriodYear(p), std::move(year)});
    }
    std::string files;
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) return Status::IOError("cannot create " + options.dir + ": " + ec.message());
    std::set<std::string> done;
    for (const auto& [year, months] : publications)
      for (const std::string& lang_name : options.langs) {
        const Lang lang = *LangFromName(lang_name);
        auto rendered =
            RenderPublications(store, rules, detectors, months, year, false, options.formats, lang);
        if (!rendered.ok()) return rendered.status();
        for (const auto& [name, bytes] : *rendered) {
          if (!done.insert(name).second) continue;  // the JSON, the same in every language
          const std::string path = (std::filesystem::path(options.dir) / name).string();
          if (Status s = WriteFileAtomically(path, bytes); !s.ok()) return s;
          written.push_back(path);
          files +=
              (files.empty() ? "" : ", ") + JsonString(name) + ": " + JsonString(Sha256Hex(bytes));
        }
      }
    OutboxMessage notice;
    notice.topic = options.topic;
    notice.key = FormatPeriod(p);
    notice.payload = "{\"kind\": \"announcement\", \"period\": " + JsonString(FormatPeriod(p)) +
                     ", \"annual\": " +
                     (PeriodMonth(p) == 12 ? JsonString(std::to_string(PeriodYear(p))) : "null") +
                     ", \"rules\": " + RulesStampJson(rules) + ", \"files\": {" + files + "}}";
    notice.headers = {{"flexwatch.announcement", FormatPeriod(p)}};
    Batch batch;
    batch.Delete(key);
    store.PutOutbox(batch, {notice});
    if (Status s = store.Write(batch); !s.ok()) return s;
  }
  return written;
}

}  // namespace flexwatch
