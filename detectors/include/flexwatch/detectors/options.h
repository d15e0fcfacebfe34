// The early-warning detectors' parameters, from the `detectors` section of flexwatch.yaml
// (domain/rules.md section 6). Each detector is named by its section's key (its id) and carries
// a version that every warning it raises is stamped with.
#pragma once

#include <string>
#include <vector>

namespace flexwatch {

// The monthly series of a platform that the detectors watch (detectors/series.h computes them).
enum class SeriesId : int {
  kLaborContractShare,       // labour-relation worker-months on a labour or dispatch contract
  kContractExitShare,        // workers on labour contracts last month now with an agency,
                             // freelance or as an individual business
  kContributionRatio,        // employer contributions over earnings, labour-relation months
  kContributionToDue,        // employer contributions over what the rules make due on them
  kPremiumPerOrder,          // occupational-injury premium per pilot order, yuan
  kPilotCoveredShare,        // pilot orders covered by a premium
  kSumInsuredPerRiskWorker,  // commercial sum insured per high-risk worker, yuan
  kComplaintsPer10k,         // complaints of every category per 10,000 active workers
  kActiveWorkers,
  kCount
};
inline constexpr const char* kSeriesNames[] = {
    "labor_contract_share",        "contract_exit_share", "contribution_ratio",
    "contribution_to_due",         "premium_per_order",   "pilot_covered_share",
    "sum_insured_per_risk_worker", "complaints_per_10k",  "active_workers"};

// A detector's common part.
struct DetectorBase {
  bool enabled = false;
  std::string version;
};

// A step or drift against the platform's own past: a self-starting CUSUM over the last
// `history_months` (final months only where the series depends on contributions).
struct OwnHistoryConfig : DetectorBase {
  int min_history_months = 0;     // points before the first judged one
  double slack_sigmas = 0;        // k
  double threshold_sigmas = 0;    // h
  double min_relative_sigma = 0;  // floor on the spread, as a share of the history's mean
  double min_share_sigma = 0;     // floor on the spread of a share (besides its binomial error)
  // Where the platform's same month last year is in the window (history_months of 13 or more),
  // a month is judged less that month's departure from the rest of the window: a season (the
  // Spring Festival's trough) seen a year before is not taken for a shift.
  bool seasonal = false;
  std::vector<SeriesId> series;
};

// A robust z-score (median, MAD) against the platforms of the same main sector that month.
struct SectorPeersConfig : DetectorBase {
  int min_peers = 0;
  int min_workers = 0;  // a platform (or peer) with fewer in the series' scope is not compared
  double threshold_z = 0;
  double min_relative_sigma = 0;
  double min_share_sigma = 0;
  std::vector<SeriesId> series;
};

// Worker-months piling up just below the tier thresholds (the rule set's hours).
struct HoursBunchingConfig : DetectorBase {
  int below_hours = 0;   // the band just below the threshold that capping fills
  int above_hours = 0;   // the band just above it that capping empties (left out of the fit)
  int window_hours = 0;  // hours on each side of the bands the smooth shape is fitted on
  // The exact Poisson tail of the band's count under the fitted expectation, below which it
  // warns: on a few worker-months a z-score overstates how rare a small excess is.
  double p_value = 0;
  double min_excess_ratio = 0;  // observed over expected, less one
  int min_worker_months = 0;    // in the band below, before it speaks
};

// Complaints of one category beyond what the platform's own past rate makes likely.
struct ComplaintSpikeConfig : DetectorBase {
  int min_history_months = 0;
  double p_value = 0;           // Poisson tail probability below which it warns
  int min_complaints = 0;       // fewer in the month: never a warning
  double prior_complaints = 0;  // pseudo-count added to the history, per category
};

struct DetectorConfig {
  bool present = false;  // the config has a `detectors` section
  int history_months = 0;
  OwnHistoryConfig own_history;
  SectorPeersConfig sector_peers;
  HoursBunchingConfig hours_bunching;
  ComplaintSpikeConfig complaint_spike;
};

}  // namespace flexwatch
