// File replay: NDJSON files (or stdin) through the decoder into the state, exactly as the Kafka
// path does, committing every `commit_every` lines with the file's position.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "flexwatch/ingest/decoder.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct ReplayOptions {
  DecoderOptions decoder;
  // Lines per atomic commit: larger batches fold more events into each worker-month write,
  // smaller ones bound the work a crash throws away (it is redone, never double-counted, on the
  // next run). Pending state is compact (aggregates), so large batches cost little memory.
  size_t commit_every = 1 << 20;
  // A commit is also made once the pending state (dead letters, contracts, policies, distinct
  // keys and aggregates) reaches this many bytes: memory stays bounded whatever the feed, e.g.
  // random event ids or a feed full of bad lines.
  size_t commit_max_bytes = 64u << 20;
  // When set, a valid event of any other platform is rejected (reason_code foreign_platform):
  // a platform's self-check may only speak of itself.
  std::string only_platform;
  // Called for each rejected line (optional), besides its dead letter.
  std::function<void(const Rejection&, std::string_view source, int64_t line)> on_reject;
  // When set and raised (a signal handler), the replay stops within a thousand lines, with an
  // error and without committing what it read since its last commit.
  const std::atomic<bool>* stop = nullptr;
};

struct ReplayProgress {
  std::string source;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0 when unknown (stdin)
  int64_t lines = 0;
};

// The dead letter of one rejected line: a JSON object with reason, reason_code, field, source,
// line, raw (always valid JSON; lossy when the input was not UTF-8), raw_base64 (exact bytes,
// only when the input was not UTF-8) and raw_truncated (only for an over-long line).
std::string DeadLetterJson(const Rejection& rej, std::string_view source, int64_t line,
                           std::string_view raw, bool truncated);
// As DeadLetterJson, with the members of `position` (a JSON object) where the line goes: a Kafka
// message's topic, partition and offset.
std::string DeadLetterJsonAt(const Rejection& rej, std::string_view source,
                             std::string_view position, std::string_view raw, bool truncated);

// Replays `inputs` ("-" is stdin) into `store`. Stops only on an unreadable input or a state
// error; bad lines are dead letters. `progress` (optional) is called now and then.
Result<IngestCounts> ReplayFiles(Store& store, const std::vector<std::string>& inputs,
                                 const ReplayOptions& options,
                                 const std::function<void(const ReplayProgress&)>& progress = {});

// The file, in the state's directory, that `replay` and `run` export the dead letters to.
inline constexpr const char* kDeadLetterFileName = "dead-letter.ndjson";

// Rewrites `path` atomically with every dead letter in state, in (source, line) order.
Status WriteDeadLetterFile(Store& store, const std::string& path);

// The name a source is recorded under: the path as given, or "<stdin>" for "-".
std::string SourceName(const std::string& input);

}  // namespace flexwatch
