#include "flexwatch/state/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "flexwatch/state/meta_keys.h"

namespace flexwatch {
namespace {

constexpr std::array<const char*, static_cast<int>(Cf::kCount)> kCfNames = {
    "seen", "wm", "contracts", "contrib", "coverage", "complaints", "dead", "outbox", "default"};

// Folds a key's value and merge operands in one pass: each record decoded once and the result
// encoded once. (Two at a time, a key read with n operands in the memtables, one per commit
// since the last flush, cost n decodes, encodes and allocations of the whole record.)
class FoldOperator : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    if (!in.existing_value && in.operand_list.size() == 1) {
      out->existing_operand = in.operand_list[0];
      return true;
    }
    std::vector<std::string_view> records;
    records.reserve(in.operand_list.size() + 1);
    if (in.existing_value)
      records.emplace_back(in.existing_value->data(), in.existing_value->size());
    for (const rocksdb::Slice& op : in.operand_list) records.emplace_back(op.data(), op.size());
    return FoldAllRecords(records.data(), records.size(), out->new_value);
  }
  bool PartialMergeMulti(const rocksdb::Slice&, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    std::vector<std::string_view> records;
    records.reserve(operands.size());
    for (const rocksdb::Slice& op : operands) records.emplace_back(op.data(), op.size());
    return FoldAllRecords(records.data(), records.size(), *new_value);
  }
  // The same records and folds as the pairwise operator of earlier versions: the same name.
  const char* Name() const override { return "flexwatch.fold.v1"; }
};

void PutBE32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutBE64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetBE32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
uint64_t GetBE64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
// Signed values sort correctly as unsigned big-endian once the sign bit is flipped.
uint64_t OrderedTs(TimestampMs ts) { return static_cast<uint64_t>(ts) ^ (1ull << 63); }
TimestampMs FromOrderedTs(uint64_t v) { return static_cast<TimestampMs>(v ^ (1ull << 63)); }
uint32_t OrderedDay(Day d) { return static_cast<uint32_t>(d) ^ (1u << 31); }
Day FromOrderedDay(uint32_t v) { return static_cast<Day>(v ^ (1u << 31)); }

std::string PartyPrefix(std::string_view platform, std::string_view worker) {
  std::string k;
  k.reserve(platform.size() + worker.size() + 2);
  k.append(platform).push_back('\0');
  k.append(worker).push_back('\0');
  return k;
}

std::string_view Sv(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// FNV-1a 64: a stable content hash for dead-letter keys (not security-relevant).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Escape(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x21 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

namespace keys {
void AppendSeenBucket(std::string& out, std::string_view platform, std::string_view event_id) {
  const size_t keep = event_id.size() > 2 ? event_id.size() - 2 : 0;
  out.assign(platform).push_back('\0');
  out.append(event_id.substr(0, keep));
}
std::string SeenBucket(std::string_view platform, std::string_view event_id) {
  std::string k;
  AppendSeenBucket(k, platform, event_id);
  return k;
}
uint16_t SeenSuffix(std::string_view event_id) {
  // The last two characters (or fewer, padded with \0, which no id contains).
  std::string_view tail = event_id.size() > 2 ? event_id.substr(event_id.size() - 2) : event_id;
  uint16_t hi = tail.size() > 0 ? static_cast<uint8_t>(tail[0]) : 0;
  uint16_t lo = tail.size() > 1 ? static_cast<uint8_t>(tail[1]) : 0;
  return static_cast<uint16_t>(hi << 8 | lo);
}
void AppendWorkerMonthKey(std::string& out, Period p, std::string_view platform,
                          std::string_view worker) {
  out.clear();
  PutBE32(out, static_cast<uint32_t>(p));
  out.append(platform).push_back('\0');
  out.append(worker);
}
std::string WorkerMonthKey(Period p, std::string_view platform, std::string_view worker) {
  std::string k;
  AppendWorkerMonthKey(k, p, platform, worker);
  return k;
}
std::string Contract(std::string_view platform, std::string_view worker, TimestampMs ts,
                     std::string_view event_id) {
  std::string k = PartyPrefix(platform, worker);
  PutBE64(k, OrderedTs(ts));
  k.append(event_id);
  return k;
}
std::string Contribution(Period p, std::string_view platform, std::string_view worker,
                         Scheme scheme, Payer payer) {
  std::string k;
  PutBE32(k, static_cast<uint32_t>(p));
  k += PartyPrefix(platform, worker);
  k.push_back(static_cast<char>(scheme));
  k.push_back(static_cast<char>(payer));
  return k;
}
std::string Policy(std::string_view platform, std::string_view worker, Day valid_from,
                   std::string_view event_id) {
  std::string k = PartyPrefix(platform, worker);
  PutBE32(k, OrderedDay(valid_from));
  k.append(event_id);
  return k;
}
std::string Complaint(Period p, std::string_view platform, ComplaintCategory c) {
  std::string k;
  PutBE32(k, static_cast<uint32_t>(p));
  k.append(platform).push_back('\0');
  k.push_back(static_cast<char>(c));
  return k;
}
std::string DeadLetter(std::string_view source, int64_t line, std::string_view raw) {
  std::string k(source);
  k.push_back('\0');
  PutBE64(k, static_cast<uint64_t>(line));
  PutBE64(k, Fnv1a(raw));
  return k;
}
}  // namespace keys

std::string EncodeContract(const Event& e) {
  std::string v;
  v.push_back(static_cast<char>(e.contract.action));
  v.push_back(static_cast<char>(e.contract.form));
  v += e.contract.counterparty_id;
  return v;
}

std::string EncodePolicy(const Event& e) {
  std::string v;
  v.push_back(static_cast<char>(e.coverage.product));
  PutBE64(v, static_cast<uint64_t>(e.coverage.sum_insured));
  PutBE32(v, OrderedDay(e.coverage.valid_to));
  PutBE64(v, OrderedTs(e.ts));
  return v;
}

// RocksDB's messages of the level set (FATAL), one line each on stderr.
class StderrLogger : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::FATAL_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    const int n = std::vsnprintf(line, sizeof line, format, ap);
    size_t len = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof line - 1);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ')) --len;
    std::fprintf(stderr, "flexwatch: rocksdb: %.*s\n", static_cast<int>(len), line);
  }
};

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

Status Store::ReadStatus() {
  std::lock_guard lock(impl_->read_error_mu);
  if (!impl_->read_error) return Status::OK();
  const rocksdb::Status& s = *impl_->read_error;
  const std::string what = "reading state " + dir_ + ": " + s.ToString();
  return s.IsCorruption() ? Status::Corruption(what) : Status::IOError(what);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
    return Status::IOError("state dir " + dir + " exists and is not a directory");
  if (!options.read_only) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create state dir " + dir + ": " + ec.message());
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  auto wbm = std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_total_bytes, cache);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.max_background_jobs = options.background_jobs;
  db_options.write_buffer_manager = wbm;
  // RocksDB's own log goes to stderr, fatal messages only, never to a file in the state: this
  // build of RocksDB asserts (aborts) on the second write to a log file whose first write failed,
  // so a full disk would abort every command instead of failing it with the disk named. Its
  // errors reach us as Status values, each said once in one line by the command that met it.
  db_options.info_log = std::make_shared<StderrLogger>();
  db_options.info_log_level = rocksdb::InfoLogLevel::FATAL_LEVEL;
  // One writer per store: no concurrent memtable inserts to coordinate.
  db_options.allow_concurrent_memtable_write = false;

  auto fold = std::make_shared<FoldOperator>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = options.write_buffer_bytes;
    cf.max_write_buffer_number = 3;
    cf.compression = rocksdb::kLZ4Compression;
    cf.bottommost_compression = rocksdb::kZSTD;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Index and filter blocks live in the block cache, so that memory stays bounded by it
    // whatever the data's size.
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    Cf which = static_cast<Cf>(i);
    if (which == Cf::kSeen) {
      // The one family looked up key by key, for every new bucket, nearly all absent: a file's
      // whole filter is megabytes, more than a cache shard holds, so it was read from the file
      // again on every lookup (a replay of 7 million worker-months in one month took 1.7x the
      // CPU time). Partitioned, its pieces are a few kilobytes, cached like data blocks and found
      // by a small top-level index that stays pinned. (The scanned families keep whole
      // indexes: a two-level index costs their scans ~15%.)
      table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
      table.partition_filters = true;
      table.metadata_block_size = 4096;
      table.pin_top_level_index_and_filter = true;
    }
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // Aggregates and counters are merged; seen-id sets are written whole (the writer reads
    // each bucket before adding to it), records of single events are put.
    if (which == Cf::kWm || which == Cf::kContrib || which == Cf::kComplaints ||
        which == Cf::kDefault)
      cf.merge_operator = fold;
    if (which == Cf::kSeen) {
      // Nearly every lookup misses: let the memtable answer from a bloom filter too.
      cf.memtable_whole_key_filtering = true;
      cf.memtable_prefix_bloom_size_ratio = 0.05;
    }
    descriptors.emplace_back(kCfNames[i], cf);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
                        : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) {
    std::string msg = s.ToString();
    if (s.IsIOError() && msg.find("lock") != std::string::npos)
      return Status::IOError("state dir " + dir + " is in use by another process (" + msg + ")");
    return Status::IOError("cannot open state dir " + dir + ": " + msg);
  }
  auto store = std::unique_ptr<Store>(new Store());
  store->dir_ = dir;
  store->impl_ = std::make_unique<Impl>();
  store->impl_->db.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) store->impl_->cfs[i] = handles[i];
  store->impl_->write_options.sync = options.sync_commits;
  {
    std::string v;
    if (store->impl_->db
            ->Get(rocksdb::ReadOptions(), store->cf(Cf::kDefault), meta_keys::kOutboxNext, &v)
            .ok() &&
        v.size() == 8)
      store->next_outbox_ = GetBE64(v);
  }
  return store;
}

Store::~Store() = default;

rocksdb::ColumnFamilyHandle* Store::cf(Cf which) const {
  return impl_->cfs[static_cast<int>(which)];
}

Status Store::GetMany(Cf which, const std::vector<std::string_view>& keys,
                      const std::vector<std::string*>& values) {
  const size_t n = keys.size();
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) slices[i] = rocksdb::Slice(keys[i].data(), keys[i].size());
  std::vector<rocksdb::PinnableSlice> found(n);
  std::vector<rocksdb::Status> statuses(n);
  impl_->db->MultiGet(rocksdb::ReadOptions(), cf(which), n, slices.data(), found.data(),
                      statuses.data(), /*sorted_input=*/true);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) {
      values[i]->assign(found[i].data(), found[i].size());
    } else if (statuses[i].IsNotFound()) {
      values[i]->clear();
    } else {
      return Status::IOError(std::string("reading ") + kCfNames[static_cast<int>(which)] + ": " +
                             statuses[i].ToString());
    }
  }
  return Status::OK();
}

Status Store::Write(Batch& batch) {
  rocksdb::WriteBatch rep;
  for (const Batch::Op& op : batch.ops_) {
    if (op.value)
      rep.Put(cf(op.cf), op.key, *op.value);
    else
      rep.Delete(cf(op.cf), op.key);
  }
  return Write(rep);
}

Status Store::Write(rocksdb::WriteBatch& batch) {
  // Per-thread statistics cost a thread-local lookup per key comparison: not on the write path.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  rocksdb::Status s = impl_->db->Write(impl_->write_options, &batch);
  if (!s.ok()) return Status::IOError("committing state: " + s.ToString());
  return Status::OK();
}

std::vector<Period> Store::Periods() { return PeriodsOf(Cf::kWm); }
std::vector<Period> Store::ContributionPeriods() { return PeriodsOf(Cf::kContrib); }

std::vector<Period> Store::PeriodsOf(Cf which) {
  std::vector<Period> out;
  auto it = impl_->Iter(which);
  std::string k;
  PutBE32(k, 0);
  // Unsigned arithmetic on the key's 32 bits: a period the decoder never lets through (a negative
  // one in a state written before the plausibility rules) ends the walk instead of wrapping it.
  for (it->Seek(k); it->Valid() && it->key().size() >= 4;) {
    const uint32_t p = GetBE32(Sv(it->key()));
    out.push_back(static_cast<Period>(p));
    if (p == UINT32_MAX) break;
    k.clear();
    PutBE32(k, p + 1);
    it->Seek(k);
  }
  return out;
}

namespace {

// The keys of period `p`'s worker-months, of one platform when given.
std::string MonthPrefix(Period p, std::string_view platform) {
  std::string prefix;
  PutBE32(prefix, static_cast<uint32_t>(p));
  if (!platform.empty()) prefix.append(platform).push_back('\0');
  return prefix;
}

// Decodes the worker-month under the iterator into `rec` (its period already set).
Status DecodeWorkerMonthEntry(const rocksdb::Iterator& it, WorkerMonthRecord& rec) {
  std::string_view key = Sv(it.key()).substr(4);
  size_t z = key.find('\0');
  if (z == std::string_view::npos) return Status::Corruption("worker-month key without worker");
  rec.platform_id.assign(key.substr(0, z));
  rec.worker_id.assign(key.substr(z + 1));
  if (!WorkerMonth::Decode(Sv(it.value()), rec.wm))
    return Status::Corruption("worker-month record of " + rec.platform_id + "/" + rec.worker_id);
  return Status::OK();
}

}  // namespace

Status Store::ForEachWorkerMonth(Period p, std::string_view platform,
                                 const std::function<void(const WorkerMonthRecord&)>& fn) {
  const std::string prefix = MonthPrefix(p, platform);
  auto it = impl_->Iter(Cf::kWm);
  WorkerMonthRecord rec;
  rec.period = p;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (Status s = DecodeWorkerMonthEntry(*it, rec); !s.ok()) return s;
    fn(rec);
  }
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
  return Status::OK();
}

Result<std::optional<WorkerMonth>> Store::GetWorkerMonth(Period p, std::string_view platform,
                                                         std::string_view worker) {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), cf(Cf::kWm),
                                     keys::WorkerMonthKey(p, platform, worker), &value);
  if (s.IsNotFound()) return std::optional<WorkerMonth>();
  if (!s.ok()) return Status::IOError(s.ToString());
  WorkerMonth wm;
  if (!WorkerMonth::Decode(value, wm)) return Status::Corruption("worker-month record");
  return std::optional<WorkerMonth>(wm);
}

namespace {

// Record decoders: `key` is what follows the party (platform \0 worker \0) prefix.
bool DecodeContract(std::string_view key, std::string_view v, ContractRecord& r) {
  if (key.size() < 8 || v.size() < 2) return false;
  r.ts = FromOrderedTs(GetBE64(key));
  r.event_id.assign(key.substr(8));
  r.action = static_cast<ContractAction>(v[0]);
  r.form = static_cast<ContractForm>(v[1]);
  r.counterparty_id.assign(v.substr(2));
  return true;
}

bool DecodePolicy(std::string_view key, std::string_view v, PolicyRecord& r) {
  if (key.size() < 4 || v.size() != 21) return false;
  r.valid_from = FromOrderedDay(GetBE32(key));
  r.event_id.assign(key.substr(4));
  r.product = static_cast<Product>(v[0]);
  r.sum_insured = static_cast<Fen>(GetBE64(v.substr(1)));
  r.valid_to = FromOrderedDay(GetBE32(v.substr(9)));
  r.ts = FromOrderedTs(GetBE64(v.substr(13)));
  return true;
}

bool DecodeContribution(std::string_view key, std::string_view v, ContributionRecord& r) {
  if (key.size() != 2) return false;
  r.scheme = static_cast<Scheme>(key[0]);
  r.payer = static_cast<Payer>(key[1]);
  return ContributionTotal::Decode(v, r.total);
}

// Collects the records under `prefix` into `out` (cleared first), moving `it` forward to them.
// Keys are visited in ascending order across calls, so a short walk with Next() usually gets
// there; a longer gap is crossed with one Seek.
template <typename R, typename D>
Status Collect(rocksdb::Iterator& it, bool& started, std::string_view prefix, std::vector<R>& out,
               D decode) {
  out.clear();
  const rocksdb::Slice target(prefix.data(), prefix.size());
  if (!started) {
    it.Seek(target);
    started = true;
  } else {
    int steps = 0;
    while (it.Valid() && it.key().compare(target) < 0) {
      if (++steps > 8) {
        it.Seek(target);
        break;
      }
      it.Next();
    }
  }
  for (; it.Valid() && it.key().starts_with(target); it.Next()) {
    out.emplace_back();
    if (!decode(Sv(it.key()).substr(prefix.size()), Sv(it.value()), out.back()))
      return Status::Corruption("unreadable record under " + std::string(prefix));
  }
  return it.status().ok() ? Status::OK() : Status::IOError(it.status().ToString());
}

}  // namespace

std::vector<ContractRecord> Store::Contracts(std::string_view platform, std::string_view worker) {
  std::vector<ContractRecord> out;
  auto it = impl_->Iter(Cf::kContracts);
  bool started = false;
  (void)Collect(*it, started, PartyPrefix(platform, worker), out, DecodeContract);
  return out;
}

std::vector<PolicyRecord> Store::Policies(std::string_view platform, std::string_view worker) {
  std::vector<PolicyRecord> out;
  auto it = impl_->Iter(Cf::kCoverage);
  bool started = false;
  (void)Collect(*it, started, PartyPrefix(platform, worker), out, DecodePolicy);
  return out;
}

std::vector<ContributionRecord> Store::Contributions(Period p, std::string_view platform,
                                                     std::string_view worker) {
  std::vector<ContributionRecord> out;
  std::string prefix;
  PutBE32(prefix, static_cast<uint32_t>(p));
  prefix += PartyPrefix(platform, worker);
  auto it = impl_->Iter(Cf::kContrib);
  bool started = false;
  (void)Collect(*it, started, prefix, out, DecodeContribution);
  return out;
}

Status Store::ScanMonth(Period p, std::string_view platform,
                        const std::function<void(const MonthRow&)>& fn) {
  const std::string prefix = MonthPrefix(p, platform);
  auto wm = impl_->Iter(Cf::kWm);
  auto contracts = impl_->Iter(Cf::kContracts);
  auto contrib = impl_->Iter(Cf::kContrib);
  auto policies = impl_->Iter(Cf::kCoverage);
  bool contracts_started = false, contrib_started = false, policies_started = false;
  MonthRow row;
  row.wm.period = p;
  std::string party, contrib_prefix;
  for (wm->Seek(prefix); wm->Valid() && wm->key().starts_with(prefix); wm->Next()) {
    if (Status s = DecodeWorkerMonthEntry(*wm, row.wm); !s.ok()) return s;
    party.assign(Sv(wm->key()).substr(4)).push_back('\0');  // platform \0 worker \0
    contrib_prefix.assign(Sv(wm->key()).substr(0, 4)).append(party);
    if (Status s = Collect(*contracts, contracts_started, party, row.contracts, DecodeContract);
        !s.ok())
      return s;
    if (Status s = Collect(*contrib, contrib_started, contrib_prefix, row.contributions,
                           DecodeContribution);
        !s.ok())
      return s;
    if (Status s = Collect(*policies, policies_started, party, row.policies, DecodePolicy); !s.ok())
      return s;
    fn(row);
  }
  return wm->status().ok() ? Status::OK() : Status::IOError(wm->status().ToString());
}

std::vector<std::pair<ComplaintCategory, int64_t>> Store::Complaints(Period p,
                                                                     std::string_view platform) {
  std::vector<std::pair<ComplaintCategory, int64_t>> out;
  std::string prefix;
  PutBE32(prefix, static_cast<uint32_t>(p));
  prefix.append(platform).push_back('\0');
  auto it = impl_->Iter(Cf::kComplaints);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view key = Sv(it->key()).substr(prefix.size());
    int64_t n = 0;
    if (key.size() != 1 || !DecodeCounter(Sv(it->value()), n)) continue;
    out.emplace_back(static_cast<ComplaintCategory>(key[0]), n);
  }
  return out;
}

std::vector<std::string> Store::Platforms() {
  std::vector<std::string> out;
  auto it = impl_->Iter(Cf::kDefault);
  const std::string prefix = meta_keys::Platform("");
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.emplace_back(Sv(it->key()).substr(prefix.size()));
  return out;
}

std::vector<std::string> Store::Workers(std::string_view platform) {
  std::vector<std::string> out;
  std::string pp(platform);
  pp.push_back('\0');
  for (Cf which : {Cf::kContracts, Cf::kCoverage}) {
    auto it = impl_->Iter(which);
    it->Seek(pp);
    while (it->Valid() && it->key().starts_with(pp)) {
      std::string_view rest = Sv(it->key()).substr(pp.size());
      std::string worker(rest.substr(0, rest.find('\0')));
      it->Seek(pp + worker + '\x01');  // past every record of this worker
      out.push_back(std::move(worker));
    }
  }
  for (Period p : Periods())
    ForEachWorkerMonth(p, platform,
                       [&](const WorkerMonthRecord& r) { out.push_back(r.worker_id); });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> Store::Positions() {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string prefix = meta_keys::Position("");
  auto it = impl_->Iter(Cf::kDefault);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.emplace_back(std::string(Sv(it->key()).substr(prefix.size())),
                     std::string(Sv(it->value())));
  return out;
}

int64_t Store::Counter(std::string_view name) {
  std::string value;
  int64_t n = 0;
  if (impl_->Get(Cf::kDefault, meta_keys::Counter(name), value)) DecodeCounter(value, n);
  return n;
}

std::optional<std::string> Store::GetMeta(std::string_view key) {
  std::string value;
  if (!impl_->Get(Cf::kDefault, rocksdb::Slice(key.data(), key.size()), value)) return std::nullopt;
  return value;
}

std::vector<std::string> Store::MetaKeys(std::string_view prefix) {
  std::vector<std::string> out;
  auto it = impl_->Iter(Cf::kDefault);
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Next())
    out.push_back(it->key().ToString());
  return out;
}

uint64_t Store::ApproximateBytes() {
  uint64_t total = 0;
  for (auto* h : impl_->cfs) {
    uint64_t v = 0;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) total += v;
    if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

Status Store::CompactAll() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (auto* h : impl_->cfs) {
    if (auto st = impl_->db->Flush(flush, h); !st.ok()) return Status::IOError(st.ToString());
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (auto st = impl_->db->CompactRange(compact, h, nullptr, nullptr); !st.ok())
      return Status::IOError(st.ToString());
  }
  return Status::OK();
}

std::vector<std::pair<std::string, uint64_t>> Store::LiveBytesByFamily() {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    uint64_t v = 0;
    impl_->db->GetIntProperty(impl_->cfs[static_cast<size_t>(i)],
                              rocksdb::DB::Properties::kLiveSstFilesSize, &v);
    out.emplace_back(kCfNames[static_cast<size_t>(i)], v);
  }
  return out;
}

std::optional<TimestampMs> Store::MaxEventTime() {
  std::string value;
  int64_t v = 0;
  if (!impl_->Get(Cf::kDefault,
                  rocksdb::Slice(meta_keys::kWatermark.data(), meta_keys::kWatermark.size()),
                  value) ||
      !DecodeMaximum(value, v))
    return std::nullopt;
  return v;
}

namespace {
void PutVarString(std::string& out, std::string_view s) {
  uint64_t n = s.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out.append(s);
}
bool GetVarString(std::string_view& in, std::string& out) {
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (in.empty() || shift > 35) return false;
    const uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    n |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
}  // namespace

std::string OutboxMessage::Encode() const {
  std::string out;
  PutVarString(out, topic);
  PutVarString(out, key);
  PutVarString(out, payload);
  for (const auto& [name, value] : headers) {
    PutVarString(out, name);
    PutVarString(out, value);
  }
  return out;
}

bool OutboxMessage::Decode(std::string_view in, OutboxMessage& out) {
  out.headers.clear();
  if (!GetVarString(in, out.topic) || !GetVarString(in, out.key) || !GetVarString(in, out.payload))
    return false;
  while (!in.empty()) {
    std::pair<std::string, std::string> h;
    if (!GetVarString(in, h.first) || !GetVarString(in, h.second)) return false;
    out.headers.push_back(std::move(h));
  }
  return true;
}

void Store::PutOutbox(rocksdb::WriteBatch& batch, const std::vector<OutboxMessage>& messages) {
  Batch ours;
  PutOutbox(ours, messages);
  for (const Batch::Op& op : ours.ops_) batch.Put(cf(op.cf), op.key, *op.value);
}

void Store::PutOutbox(Batch& batch, const std::vector<OutboxMessage>& messages) {
  if (messages.empty()) return;
  for (const OutboxMessage& m : messages) {
    std::string key;
    PutBE64(key, next_outbox_++);
    batch.ops_.push_back({Cf::kOutbox, std::move(key), m.Encode()});
  }
  std::string next;
  PutBE64(next, next_outbox_);
  batch.Put(meta_keys::kOutboxNext, next);
}

Status Store::ForEachOutbox(uint64_t from, size_t limit,
                            const std::function<void(uint64_t, const OutboxMessage&)>& fn) {
  auto it = impl_->Iter(Cf::kOutbox);
  OutboxMessage m;
  size_t n = 0;
  std::string start;
  PutBE64(start, from);
  for (it->Seek(start); it->Valid() && n < limit; it->Next(), ++n) {
    if (it->key().size() != 8 || !OutboxMessage::Decode(Sv(it->value()), m))
      return Status::Corruption("unreadable outbox record");
    fn(GetBE64(Sv(it->key())), m);
  }
  return it->status().ok() ? Status::OK() : Status::IOError(it->status().ToString());
}

Status Store::DeleteOutbox(const std::vector<uint64_t>& seqs) {
  if (seqs.empty()) return Status::OK();
  rocksdb::WriteBatch batch;
  for (uint64_t seq : seqs) {
    std::string key;
    PutBE64(key, seq);
    batch.Delete(cf(Cf::kOutbox), key);
  }
  return Write(batch);
}

Status Store::ForEachDeadLetter(const std::function<void(std::string_view json)>& fn) {
  auto it = impl_->Iter(Cf::kDead);
  for (it->SeekToFirst(); it->Valid(); it->Next()) fn(Sv(it->value()));
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
  return Status::OK();
}

Status Store::Dump(const std::function<void(std::string_view line)>& fn) {
  std::string line;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    auto it = impl_->Iter(static_cast<Cf>(i));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (static_cast<Cf>(i) == Cf::kOutbox) break;
      if (static_cast<Cf>(i) == Cf::kDefault &&
          meta_keys::IsBookkeeping(std::string_view(it->key().data(), it->key().size())))
        continue;
      line = kCfNames[i];
      line += '\t';
      line += Escape(Sv(it->key()));
      line += '\t';
      line += Escape(Sv(it->value()));
      fn(line);
    }
    if (!it->status().ok()) return Status::IOError(it->status().ToString());
  }
  return Status::OK();
}

void Store::NoteChanged(const std::vector<std::string>& platforms) {
  std::lock_guard<std::mutex> lock(changes_mu_);
  ++change_seq_;
  for (const std::string& p : platforms) changed_at_[p] = change_seq_;
}

uint64_t Store::ChangeSequence() {
  std::lock_guard<std::mutex> lock(changes_mu_);
  return change_seq_;
}

std::vector<std::string> Store::ChangedSince(uint64_t since) {
  std::lock_guard<std::mutex> lock(changes_mu_);
  std::vector<std::string> out;
  for (const auto& [platform, seq] : changed_at_)
    if (seq > since) out.push_back(platform);
  return out;
}

}  // namespace flexwatch
