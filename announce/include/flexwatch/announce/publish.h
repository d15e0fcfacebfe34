// The one publishing path: `announce` and `run` both make a publication here and write it here.
// A publication is a month's announcement or a year's, in the formats and languages asked for,
// with the evidence of its months when a pseudonym key is given. The same state and options give
// the same bytes.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flexwatch/announce/evidence.h"
#include "flexwatch/announce/options.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/detectors/options.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct PublicationRequest {
  // The months judged: one for a monthly publication (year == 0), the year's otherwise (the
  // caller chooses them: `announce` takes every month of the year, `run` those it can judge).
  std::vector<Period> months;
  int year = 0;
  bool close = false;  // judge as if every month were final (announce --final)
  std::vector<std::string> formats = {"json", "md", "html", "csv"};
  std::vector<std::string> langs = {"zh", "en"};
  // The evidence of each month, under evidence/<period>/; null: no evidence.
  const Pseudonymizer* pseudonyms = nullptr;
  // The platforms whose evidence is written (none: every platform's).
  std::function<bool(std::string_view platform)> evidence_for;
  // A monthly publication of a sealed month as of this revision: its revisions up to it, and
  // for 1 or later the correction notice (monthly-YYYY-MM.rN.*). None: as the state stands.
  std::optional<int> revision;
  // The platforms' registered names (none: platforms are named by their ids).
  const PlatformRegistry* platforms = nullptr;
  // Who issues the announcements (none: no masthead). The date of issue and document number are
  // those recorded in the state when `run` first published the publication (none: a draft).
  const Issuer* issuer = nullptr;
};

struct Publication {
  std::vector<MonthEvaluation> months;  // as judged for it
  // File name (relative to the publication's folder) and bytes: the documents in the order json,
  // md, html, csv per language (the JSON once: it is the same in every language), then the
  // evidence files.
  Files documents;
  Files evidence;
};

// The stem of a monthly publication's documents ("monthly-2024-07", "monthly-2024-07.r1"), and
// its issue as the state recorded it (meta_keys::Issued; none: not issued).
std::string IssueStem(Period p, int revision);
// The rejected lines (dead letters) whose `ts` falls in month `p`, per platform they name.
RejectedLines RejectedLinesOf(Store& store, Period p);
std::optional<IssueRecord> IssueOf(Store& store, const std::string& stem);

// Judges the months, gathers what the renderer reads (the early warnings; the months before, for
// the change since last month and the trends; last year, for the annual comparison) and renders.
Result<Publication> MakePublication(Store& store, const RuleSet& rules,
                                    const DetectorConfig& detectors,
                                    const PublicationRequest& request);

// Writes every file of `publication` under `dir`, each whole (written aside, fsynced, renamed).
// Returns the paths written, documents first.
Result<std::vector<std::string>> WritePublication(const std::string& dir,
                                                  const Publication& publication);

// The documents of revision `revision` of month `p` as the monitor kept them when it published
// that revision (meta_keys::SealedDocument), every format and language; empty when it kept none.
// An instance that does not publish keeps them as drafts when it seals the month; once the state
// has the issue the publisher recorded (its notice, meta_keys::Issued), the Markdown and HTML
// are given that issue's masthead in place of the draft's, with `issuer`: the publisher's bytes.
Files KeptDocuments(Store& store, Period p, int revision, const Issuer* issuer = nullptr);

// What `run` publishes without anyone running a command. EvaluateAndAlert (alerts/) with
// `mark_publication` records, in the batch that remembers a month as final, that its announcement
// is due (meta_keys::PublishDue). PublishDue makes and writes every due one (and the annual
// announcement of a December, of the months of the year the rules can judge) into
// `options.dir`, with evidence when `pseudonyms` is given, then, in one batch, forgets the mark
// and puts a notice for `options.topic` in the outbox. A crash before that batch publishes again
// on the next round: the same state gives the same bytes. Returns the files written.
//
// A sealed month's documents are kept in the state (KeptDocuments) before any file is written,
// and a publication made again after a crash writes the kept bytes, so a published file never
// changes. A correction (meta_keys::CorrectionDue, revision N >= 1) is published beside the
// original as monthly-YYYY-MM.rN.*, the original left as it was. With no `options.dir` the
// documents are kept and nothing is written.
Result<std::vector<std::string>> PublishDue(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const PublishOptions& options,
                                            const Pseudonymizer* pseudonyms = nullptr);

}  // namespace flexwatch
