// Durable state in RocksDB. Column families:
//   seen        0xff platform \0 id class, bucket           -> IdSet (id_set.h; merged)
//   wm          period(4B BE) platform \0 worker             -> WorkerMonth (merge)
//   contracts   platform \0 worker \0 ts(8B) event_id        -> action, form, counterparty
//   contrib     period(4B BE) platform \0 worker \0 scheme payer day(4B) -> ContributionTotal
//                                                               (merge; the day it was paid)
//   coverage    platform \0 worker \0 valid_from(4B) event_id -> product, sum, valid_to
//   complaints  period(4B BE) platform \0 category           -> counter (merge)
//   dead        source \0 line(8B) hash(8B)                  -> dead-letter JSON
//   outbox      sequence(8B BE)                              -> a message to deliver (at least
//                                                               once)
//   default     bookkeeping, each kind of key listed with its owner in meta_keys.h
// All writes of one commit go in one WriteBatch with the sources' positions, so a crash at any
// instant leaves a consistent prefix. Thread-safety: reads from any thread; one writer at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/event.h"
#include "flexwatch/core/status.h"
#include "flexwatch/state/records.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace flexwatch {

struct StoreOptions {
  // Shared block cache for reads; the main lever on read memory.
  size_t block_cache_bytes = 128ull << 20;
  // All memtables of all column families together stay under this (WriteBufferManager).
  size_t write_buffer_total_bytes = 256ull << 20;
  // One memtable's size: larger means fewer, bigger flushes.
  size_t write_buffer_bytes = 64ull << 20;
  // Sync the WAL on each commit: survives power loss, at a large cost in throughput. Without it
  // a process crash (kill -9) still loses nothing, since the WAL is in the OS's page cache.
  bool sync_commits = false;
  // Background flush and compaction threads.
  int background_jobs = 2;
  // The writer's cache of the seen-id index (StateWriter): the buckets met lately, decoded. Past
  // it, the buckets met longest ago are let go and read again from state when next met.
  size_t seen_cache_bytes = 192ull << 20;
  // Open for reading only (RocksDB's read-only mode): nothing is written, not even the files a
  // writable open creates, and a running monitor's lock does not stand in the way. Writes fail.
  bool read_only = false;
};

enum class Cf : int {
  kSeen,
  kWm,
  kContracts,
  kContrib,
  kCoverage,
  kComplaints,
  kDead,
  kOutbox,
  kDefault,  // RocksDB's default column family: bookkeeping (meta_keys.h)
  kCount
};

struct ContractRecord {
  TimestampMs ts = 0;
  std::string event_id;
  ContractAction action = ContractAction::kSigned;
  ContractForm form = ContractForm::kFreelance;
  std::string counterparty_id;
};

struct PolicyRecord {
  std::string event_id;
  TimestampMs ts = 0;
  Product product = Product::kAccident;
  Fen sum_insured = 0;
  Day valid_from = 0;
  Day valid_to = 0;
};

// The payments of one scheme and payer made on one day (Beijing time) for a period. A state
// written before payments were kept per day holds one record per scheme and payer, dated by its
// last payment.
struct ContributionRecord {
  Scheme scheme = Scheme::kPension;
  Payer payer = Payer::kEmployer;
  Day paid_on = 0;
  ContributionTotal total;
};

struct WorkerMonthRecord {
  Period period = 0;
  std::string platform_id;
  std::string worker_id;
  WorkerMonth wm;
};

// A worker-month with every record its evaluation needs.
struct MonthRow {
  WorkerMonthRecord wm;
  std::vector<ContractRecord> contracts;          // of the worker and platform, any time
  std::vector<ContributionRecord> contributions;  // for the period
  std::vector<PolicyRecord> policies;             // of the worker and platform, any time
};

// A message written to the outbox in the same batch as the state that caused it, and delivered
// to its topic at least once afterwards (dead letters, alerts).
struct OutboxMessage {
  std::string topic;
  std::string key;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;

  std::string Encode() const;
  static bool Decode(std::string_view in, OutboxMessage& out);
};

// Counts of one commit or one run.
struct IngestCounts {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  // Of the duplicates, those whose content differs from the first arrival of their event_id (a
  // record rewritten after it was delivered); a content tag of 4 bits tells them apart, so one in
  // 15 such rewrites is taken for a re-delivery.
  int64_t rewritten = 0;
};

// Writes applied together or not at all. Only the default column family's bookkeeping
// (meta_keys.h) and the outbox (Store::PutOutbox) are written this way from outside the state;
// the events' records are the writer's (writer.h).
class Batch {
 public:
  void Put(std::string_view meta_key, std::string_view value) {
    ops_.push_back({Cf::kDefault, std::string(meta_key), std::string(value)});
  }
  void Delete(std::string_view meta_key) {
    ops_.push_back({Cf::kDefault, std::string(meta_key), std::nullopt});
  }
  bool empty() const { return ops_.empty(); }

 private:
  friend class Store;
  struct Op {
    Cf cf;
    std::string key;
    std::optional<std::string> value;  // none: delete
  };
  std::vector<Op> ops_;
};

// The RocksDB library this build runs on, e.g. "RocksDB 7.8.3" (flexwatch --version).
std::string StoreLibraryVersion();

class Store {
 public:
  // Opens (creating if needed) the state in `dir`. Fails with a clear message when the directory
  // cannot be used.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return dir_; }
  const StoreOptions& options() const { return options_; }

  // --- write path (one writer) ---
  // The values stored under `keys` in one column family (*values[i] empty when none), in one
  // MultiGet. REQUIRES: keys sorted, values.size() == keys.size().
  Status GetMany(Cf which, const std::vector<std::string_view>& keys,
                 const std::vector<std::string*>& values);
  // Applies the batch atomically (synced when StoreOptions::sync_commits).
  Status Write(Batch& batch);

  // --- read path ---
  // OK, or the first read error met by a read that returns values rather than a Status (a
  // corrupted or unreadable table file): an answer built after one is partial and must not be
  // given with success. Thread-safe.
  Status ReadStatus();
  // The months with any worker-month, and with any contribution, ascending.
  std::vector<Period> Periods();
  std::vector<Period> ContributionPeriods();
  // Worker-months of a period, optionally of one platform, in key order.
  Status ForEachWorkerMonth(Period p, std::string_view platform,
                            const std::function<void(const WorkerMonthRecord&)>& fn);
  // As ForEachWorkerMonth, with each worker-month's contracts, contributions and policies,
  // read by walking the four column families side by side (they share the key order).
  Status ScanMonth(Period p, std::string_view platform,
                   const std::function<void(const MonthRow&)>& fn);
  Result<std::optional<WorkerMonth>> GetWorkerMonth(Period p, std::string_view platform,
                                                    std::string_view worker);
  std::vector<ContractRecord> Contracts(std::string_view platform, std::string_view worker);
  std::vector<PolicyRecord> Policies(std::string_view platform, std::string_view worker);
  std::vector<ContributionRecord> Contributions(Period p, std::string_view platform,
                                                std::string_view worker);
  std::vector<std::pair<ComplaintCategory, int64_t>> Complaints(Period p,
                                                                std::string_view platform);
  // Platforms with any worker-month, contract, policy or complaint.
  std::vector<std::string> Platforms();
  // Workers of a platform with any worker-month, contract or policy.
  std::vector<std::string> Workers(std::string_view platform);
  // Every source's committed position, by source name.
  std::vector<std::pair<std::string, std::string>> Positions();
  int64_t Counter(std::string_view name);
  // A value of the default column family's bookkeeping (meta_keys.h), if present.
  std::optional<std::string> GetMeta(std::string_view key);
  // The keys of the default column family that start with `prefix`, in order.
  std::vector<std::string> MetaKeys(std::string_view prefix);
  // Bytes the state takes: its live table files and its memtables (RocksDB's own figures).
  uint64_t ApproximateBytes();
  // --- changes, in this process ---
  // The writer notes the platforms whose events a commit applied, once the commit is written; a
  // long-running evaluation re-judges only the platforms changed since it last looked. Not kept
  // on disk: a new process starts from a full evaluation.
  void NoteChanged(const std::vector<std::string>& platforms);
  // The number of commits noted so far (0 for a store just opened).
  uint64_t ChangeSequence();
  // The platforms noted after sequence `since`, in order.
  std::vector<std::string> ChangedSince(uint64_t since);
  // Flushes the memtables and compacts every column family fully: the state as it settles (for
  // measuring what it takes on disk; RocksDB does the same in the background over time).
  Status CompactAll();
  // Each column family's name and the size of its live table files.
  std::vector<std::pair<std::string, uint64_t>> LiveBytesByFamily();
  // The largest event time of any accepted event (none before the first one).
  std::optional<TimestampMs> MaxEventTime();
  // The event time that closes months (meta_keys::kClosingWatermark); none while the sources
  // have not all delivered; for a state written before sources kept their own watermarks (no
  // position holds one), MaxEventTime(). Store::Open (writable) keeps the latter in the key, so
  // that such a state stays closed as far as it was once its sources keep their own.
  std::optional<TimestampMs> ClosingWatermark();
  // Each source's own watermark (the "event_time" of its position), by source name.
  std::map<std::string, TimestampMs> SourceWatermarks();
  // --- outbox ---
  // Adds the messages to `batch` under the next sequence numbers, in order, with the outbox's
  // next sequence. (One writer at a time.)
  void PutOutbox(Batch& batch, const std::vector<OutboxMessage>& messages);
  // Up to `limit` undelivered messages from sequence `from` on, oldest first.
  Status ForEachOutbox(uint64_t from, size_t limit,
                       const std::function<void(uint64_t seq, const OutboxMessage&)>& fn);
  // Forgets delivered messages.
  Status DeleteOutbox(const std::vector<uint64_t>& seqs);
  // The sequence the next message put in the outbox gets (what was put before it is older).
  uint64_t NextOutboxSequence() const { return next_outbox_; }

  // Dead letters in key order (source, line).
  Status ForEachDeadLetter(const std::function<void(std::string_view json)>& fn);
  // Every record of every data column family (not the run counters, nor the outbox, its sequence
  // the alerts' remembered levels and warnings and the publications due, which are delivery
  // bookkeeping), one line each, in
  // key order: a canonical dump for comparing two states.
  Status Dump(const std::function<void(std::string_view line)>& fn);

 private:
  friend class StateWriter;  // writes the events' records in its own RocksDB batches
  Status Write(rocksdb::WriteBatch& batch);
  // Carries the seen ids of the earlier layout (a bucket per id but its last 2 characters) over
  // into the seen-id index (id_set.h), a batch of them at a time, each batch deleting what it
  // carried: a crash leaves some carried, the rest to carry at the next open.
  Status CarryOverSeenIds();
  // A state written before sources kept their own watermarks closed months on its largest event
  // time: kept as its closing watermark, which its sources' own then only advance.
  Status CarryOverClosingWatermark();
  void PutOutbox(rocksdb::WriteBatch& batch, const std::vector<OutboxMessage>& messages);
  rocksdb::ColumnFamilyHandle* cf(Cf which) const;
  Store() = default;
  std::vector<Period> PeriodsOf(Cf which);  // REQUIRES: a column family keyed period-first
  struct Impl;
  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<Impl> impl_;
  uint64_t next_outbox_ = 0;
  std::mutex changes_mu_;
  uint64_t change_seq_ = 0;
  std::map<std::string, uint64_t, std::less<>> changed_at_;  // platform -> last sequence
};

// --- keys (exposed for the writer and tests) ---
namespace keys {
// As WorkerMonthKey, into `out` (overwritten), reusing its capacity.
void AppendWorkerMonthKey(std::string& out, Period p, std::string_view platform,
                          std::string_view worker);
std::string WorkerMonthKey(Period p, std::string_view platform, std::string_view worker);
std::string Contract(std::string_view platform, std::string_view worker, TimestampMs ts,
                     std::string_view event_id);
// Payments are summed per day they were made (Beijing time): whether a payment came by the end of
// the period's grace is the rules' to say, at any grace the configuration gives.
std::string Contribution(Period p, std::string_view platform, std::string_view worker,
                         Scheme scheme, Payer payer, Day paid_on);
std::string Policy(std::string_view platform, std::string_view worker, Day valid_from,
                   std::string_view event_id);
std::string Complaint(Period p, std::string_view platform, ComplaintCategory c);
std::string DeadLetter(std::string_view source, int64_t line, std::string_view raw);
}  // namespace keys

std::string EncodeContract(const Event& e);
std::string EncodePolicy(const Event& e);

}  // namespace flexwatch
