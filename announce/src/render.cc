#include "flexwatch/announce/render.h"

#include <algorithm>

#include "flexwatch/announce/announcement.h"

namespace flexwatch {

std::optional<Lang> LangFromName(std::string_view name) {
  if (name == "en") return Lang::kEn;
  if (name == "zh") return Lang::kZh;
  return std::nullopt;
}

namespace {

bool Wants(const std::vector<std::string>& formats, const char* format) {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

const char* Suffix(Lang lang) { return lang == Lang::kZh ? ".zh" : ".en"; }

}  // namespace

Files RenderMonthly(const MonthlyInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const std::string stem = "monthly-" + FormatPeriod(in.month->period);
  const std::string suffix = Suffix(lang);
  if (Wants(formats, "json"))
    out.emplace_back(stem + ".json", MonthlyJson(*in.month, *in.rules, *in.warnings, in.sealing));
  if (Wants(formats, "md")) out.emplace_back(stem + suffix + ".md", MonthlyMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(stem + suffix + ".html", MonthlyHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(stem + suffix + ".csv", MonthlyCsv(in, lang));
  return out;
}

Files RenderAnnual(const AnnualInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const std::string stem = "annual-" + std::to_string(in.year);
  const std::string suffix = Suffix(lang);
  if (Wants(formats, "json"))
    out.emplace_back(stem + ".json", AnnualJson(in.year, *in.months, *in.rules));
  if (Wants(formats, "md")) out.emplace_back(stem + suffix + ".md", AnnualMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(stem + suffix + ".html", AnnualHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(stem + suffix + ".csv", AnnualCsv(in, lang));
  return out;
}

}  // namespace flexwatch
