// What a state takes on disk, for the benchmarks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "flexwatch/state/store.h"

namespace flexwatch::bench {

// Bytes of every file under `dir`.
inline uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

struct SettledSize {
  uint64_t bytes = 0;    // the directory, once flushed and compacted
  std::string families;  // "name": bytes of each column family with any, JSON object members
};

// The state as it settles: memtables flushed, every level compacted (Store::CompactAll), then its
// directory's size and each column family's live table files.
inline Result<SettledSize> Settle(Store& store) {
  if (Status s = store.CompactAll(); !s.ok()) return s;
  SettledSize out;
  out.bytes = DirBytes(store.dir());
  for (const auto& [name, bytes] : store.LiveBytesByFamily())
    if (bytes > 0)
      out.families += std::string(out.families.empty() ? "" : ", ") + "\"" + name +
                      "\": " + std::to_string(bytes);
  return out;
}

}  // namespace flexwatch::bench
