// The publications made from an evaluation, in Chinese and English: Markdown for reading and
// CSV for spreadsheets (the JSON of spec/cli.md is announcement.h). Deterministic: the same
// inputs give the same bytes. The terms are those of announce/glossary.md.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/lang.h"
#include "flexwatch/detectors/detectors.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

// The month's rejected lines (the dead letters whose `ts` falls in it), per platform where the
// line names one, for the data-quality section.
struct RejectedLines {
  std::map<std::string, int64_t> by_platform;
  int64_t unnamed = 0;  // no readable platform_id
};

struct MonthlyInputs {
  const MonthEvaluation* month = nullptr;
  const MonthEvaluation* previous = nullptr;  // the month before, when the state has it
  const std::vector<EarlyWarning>* warnings = nullptr;
  const RuleSet* rules = nullptr;
  // The months before (up to a year, ascending), for the trends of the platforms listed.
  std::vector<const MonthEvaluation*> history;
  // What the monitor sealed of the month (none: not sealed), up to the revision shown.
  const MonthSealing* sealing = nullptr;
  // The documents are the correction notice of the last of `sealing`'s revisions (1 or later):
  // named monthly-YYYY-MM.rN.*, saying what changed and why, and linking the original.
  bool correction = false;
  // The platforms' registered names (none: platforms are named by their ids).
  const PlatformRegistry* platforms = nullptr;
  // Who issues it, and when it was issued with its number (none: a draft, not issued).
  const Issuer* issuer = nullptr;
  std::optional<IssueRecord> issue;
  const RejectedLines* rejected = nullptr;  // none: not counted
};

// The file name of a month's document: monthly-YYYY-MM[.rN][.<lang>].<format> (`revision` 0:
// the original; the JSON has no language).
std::string MonthlyDocumentName(Period p, int revision, std::string_view format, Lang lang);

std::string MonthlyMarkdown(const MonthlyInputs& in, Lang lang);
// A self-contained page (inline CSS and SVG charts: the level distribution, each listed
// platform's trend), readable on a phone and printable on A4.
std::string MonthlyHtml(const MonthlyInputs& in, Lang lang);
// One row per platform and dimension.
std::string MonthlyCsv(const MonthlyInputs& in, Lang lang);

struct AnnualInputs {
  int year = 0;
  const std::vector<MonthEvaluation>* months = nullptr;         // the year's, in order
  const std::vector<MonthEvaluation>* previous_year = nullptr;  // the year before's, if any
  const RuleSet* rules = nullptr;
  const PlatformRegistry* platforms = nullptr;  // registered names (none: ids)
  const Issuer* issuer = nullptr;               // who issues it
  std::optional<IssueRecord> issue;             // when, and its number (none: a draft)
};

// The lists with their criteria, and each platform's months per dimension.
std::string AnnualMarkdown(const AnnualInputs& in, Lang lang);
// A self-contained page, with each listed platform's trend.
std::string AnnualHtml(const AnnualInputs& in, Lang lang);
// One row per platform, month and dimension (and the overall level as dimension "overall").
std::string AnnualCsv(const AnnualInputs& in, Lang lang);

// Every document of one publication in one language: name and bytes, in the order json, md,
// html, csv (those of `formats` that apply; the JSON is the same in every language). Pure: reads
// only its inputs (announce/publish.h gathers them from a state).
Files RenderMonthly(const MonthlyInputs& in, const std::vector<std::string>& formats, Lang lang);
Files RenderAnnual(const AnnualInputs& in, const std::vector<std::string>& formats, Lang lang);

}  // namespace flexwatch
