#include "flexwatch/announce/render.h"

#include <algorithm>

#include "flexwatch/announce/announcement.h"

namespace flexwatch {

namespace {

bool Wants(const std::vector<std::string>& formats, const char* format) {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

const char* Suffix(Lang lang) { return lang == Lang::kZh ? ".zh" : ".en"; }

}  // namespace

std::string MonthlyDocumentName(Period p, int revision, std::string_view format, Lang lang) {
  std::string name = "monthly-" + FormatPeriod(p);
  if (revision > 0) name += ".r" + std::to_string(revision);
  if (format != "json") name += Suffix(lang);
  return name + "." + std::string(format);
}

Files RenderMonthly(const MonthlyInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const int revision = in.correction ? in.sealing->revisions.back().number : 0;
  auto name = [&](const char* format) {
    return MonthlyDocumentName(in.month->period, revision, format, lang);
  };
  if (Wants(formats, "json"))
    out.emplace_back(name("json"),
                     MonthlyJson(*in.month, *in.rules, *in.warnings, in.sealing, in.platforms));
  if (Wants(formats, "md")) out.emplace_back(name("md"), MonthlyMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(name("html"), MonthlyHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(name("csv"), MonthlyCsv(in, lang));
  return out;
}

Files RenderAnnual(const AnnualInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const std::string stem = "annual-" + std::to_string(in.year);
  const std::string suffix = Suffix(lang);
  if (Wants(formats, "json"))
    out.emplace_back(stem + ".json", AnnualJson(in.year, *in.months, *in.rules, in.platforms));
  if (Wants(formats, "md")) out.emplace_back(stem + suffix + ".md", AnnualMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(stem + suffix + ".html", AnnualHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(stem + suffix + ".csv", AnnualCsv(in, lang));
  return out;
}

}  // namespace flexwatch
