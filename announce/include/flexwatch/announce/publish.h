// What `run` publishes without anyone running a command: the announcements of the months that
// became final, written whole into the publication folder, each with a notice in the outbox.
#pragma once

#include <string>
#include <vector>

#include "flexwatch/announce/options.h"
#include "flexwatch/detectors/options.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

// EvaluateAndAlert (alerts/) with `mark_publication` records, in the batch that remembers a
// month as final, that its announcement is due (meta_keys::PublishDue). PublishDue writes every due
// one (and the annual announcement of a December) into `options.dir`, each file whole (written
// aside and renamed), then, in one batch, forgets the mark and puts a notice for `options.topic` in
// the outbox. A crash before that batch publishes again on the next round: the same state gives the
// same bytes. Returns the files written.
Result<std::vector<std::string>> PublishDue(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const PublishOptions& options);

}  // namespace flexwatch
