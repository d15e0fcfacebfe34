// Folds validated events and rejections into the store, one WriteBatch per commit together with
// the sources' positions. De-duplication by (platform_id, event_id) covers both the state and the
// events staged in the same commit. Not thread-safe: one writer per store.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "flexwatch/core/event.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

class StateWriter {
 public:
  explicit StateWriter(Store* store);
  ~StateWriter();

  // Stages a valid event (copied). Whether it is a duplicate is decided at Commit.
  void Add(const Event& event);
  // Stages a dead letter (a JSON object, one line) under its source position.
  void AddRejection(std::string_view source, int64_t line, std::string_view raw,
                    std::string dead_letter_json);
  // Records where `source` has been read up to; written with the next commit.
  void SetPosition(std::string_view source, std::string position);
  size_t staged() const { return staged_events_ + staged_rejections_; }

  // Writes everything staged in one atomic batch and returns what it applied.
  Result<IngestCounts> Commit();

 private:
  Store* store_;
  std::vector<Event> events_;  // reused across commits to keep string capacity
  size_t staged_events_ = 0;
  size_t staged_rejections_ = 0;
  std::vector<std::pair<std::string, std::string>> dead_;  // key, json
  std::vector<std::pair<std::string, std::string>> positions_;
  std::unordered_set<std::string> platforms_known_;
};

}  // namespace flexwatch
