// What a state takes on disk, for the benchmarks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "flexwatch/ingest/replay.h"
#include "flexwatch/state/store.h"

namespace flexwatch::bench {

// Bytes of every file under `dir`.
inline uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// Bytes of the state in `dir`: every file but the dead-letter export (kDeadLetterFileName, the
// dead-letter family's content as JSON for the platforms: an output, not the state).
inline uint64_t StateBytes(const std::string& dir, uint64_t* dead_letter_file = nullptr) {
  std::error_code ec;
  const auto exported = std::filesystem::path(dir) / kDeadLetterFileName;
  uint64_t export_bytes = 0;
  if (std::filesystem::is_regular_file(exported, ec))
    export_bytes = std::filesystem::file_size(exported, ec);
  if (dead_letter_file) *dead_letter_file = export_bytes;
  return DirBytes(dir) - export_bytes;
}

struct SettledSize {
  uint64_t bytes = 0;  // the directory, once flushed and compacted, less the export below
  uint64_t dead_letter_file = 0;  // the dead-letter export's bytes
  std::string families;  // "name": bytes of each column family with any, JSON object members
};

// The state as it settles: memtables flushed, every level compacted (Store::CompactAll), then its
// directory's size and each column family's live table files.
inline Result<SettledSize> Settle(Store& store) {
  if (Status s = store.CompactAll(); !s.ok()) return s;
  SettledSize out;
  out.bytes = StateBytes(store.dir(), &out.dead_letter_file);
  for (const auto& [name, bytes] : store.LiveBytesByFamily())
    if (bytes > 0)
      out.families += std::string(out.families.empty() ? "" : ", ") + "\"" + name +
                      "\": " + std::to_string(bytes);
  return out;
}

}  // namespace flexwatch::bench
