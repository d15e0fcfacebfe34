// Platform self-check (spec/cli.md `selfcheck`): a test feed validated line by line and evaluated
// on its own, every month closed as final, in a throwaway state that is removed afterwards and
// never touches the regulator's.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "flexwatch/core/lang.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/rule_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

// What a self-check judges with (flexwatch.yaml's `rules`, `ingest` and `state` sections).
struct SelfcheckSetup {
  RuleSet rules;
  ReplayOptions ingest;
  StoreOptions store;
};

struct SelfcheckOptions {
  std::string platform;          // when set, lines of any other platform are refused
  size_t max_examples = 20;      // affected worker-months shown per platform, month, dimension
  int max_errors_per_line = 10;  // errors told of one rejected line (its first ones)
  Lang lang = Lang::kEn;         // of the text report and the examples' explanations
  std::string temp_parent;       // where the throwaway state goes (default: $TMPDIR or /tmp)
  // Names the report gives the feeds, by position (default: their paths), e.g. "upload" for a
  // feed that came over HTTP and was spooled to a temporary file.
  std::vector<std::string> names;
  // When set and raised (a signal handler), the check stops early with an error; its throwaway
  // state is removed all the same.
  const std::atomic<bool>* stop = nullptr;
};

struct SelfcheckReport {
  bool passed = false;  // every line valid, every dimension green or yellow
  std::string json;
  std::string text;
};

// Fails only when an input cannot be read or the throwaway state cannot be made.
Result<SelfcheckReport> RunSelfcheck(const SelfcheckSetup& setup,
                                     const std::vector<std::string>& feeds,
                                     const SelfcheckOptions& options);

}  // namespace flexwatch
