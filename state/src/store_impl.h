// What a Store holds: the RocksDB database and its column families, and the first read error.
// Internal to state/.
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "encoding.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

inline constexpr std::array<const char*, static_cast<int>(Cf::kCount)> kCfNames = {
    "seen", "wm", "contracts", "contrib", "coverage", "complaints", "dead", "outbox", "default"};

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(Cf::kCount)> cfs{};
  rocksdb::WriteOptions write_options;
  ~Impl() {
    if (db) {
      for (auto* h : cfs)
        if (h) db->DestroyColumnFamilyHandle(h);
      db->Close();
    }
  }
  // The first read error (a corrupted or unreadable file): reads that return values rather than
  // a Status note it here, and ReadStatus() reports it, so that no answer built on a partial
  // read passes for a whole one.
  std::mutex read_error_mu;
  std::optional<rocksdb::Status> read_error;
  void NoteRead(const rocksdb::Status& s) {
    if (s.ok() || s.IsNotFound()) return;
    std::lock_guard lock(read_error_mu);
    if (!read_error) read_error = s;
  }
  // An iterator whose final status is noted when it is dropped: a scan that stopped on a read
  // error is never taken for the end of the data.
  struct NoteOnDelete {
    Impl* impl;
    void operator()(rocksdb::Iterator* it) const {
      impl->NoteRead(it->status());
      delete it;
    }
  };
  using Iterator = std::unique_ptr<rocksdb::Iterator, NoteOnDelete>;
  Iterator Iter(Cf which) {
    return Iterator(db->NewIterator(rocksdb::ReadOptions(), cfs[static_cast<int>(which)]),
                    NoteOnDelete{this});
  }
  // A point read; a read error is noted and read as absent.
  bool Get(Cf which, const rocksdb::Slice& key, std::string& value) {
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cfs[static_cast<int>(which)], key, &value);
    NoteRead(s);
    return s.ok();
  }
};

}  // namespace flexwatch
