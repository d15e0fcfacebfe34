#include "flexwatch/state/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "flexwatch/state/id_set.h"
#include "flexwatch/state/meta_keys.h"
#include "fold_operator.h"
#include "store_impl.h"

namespace flexwatch {

using namespace state_detail;

namespace {

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

}  // namespace

Status Store::ReadStatus() {
  std::lock_guard lock(impl_->read_error_mu);
  if (!impl_->read_error) return Status::OK();
  const rocksdb::Status& s = *impl_->read_error;
  const std::string what = "reading state " + dir_ + ": " + s.ToString();
  return s.IsCorruption() ? Status::Corruption(what) : Status::IOError(what);
}

std::string StoreLibraryVersion() {
  return "RocksDB " + rocksdb::GetRocksVersionAsString(/*with_patch=*/true);
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
    // A commit writes each family's keys in increasing order: each insert starts from where the
    // one before it went, not from the top of the memtable's skip list. A commit of random ids
    // touches every seen-id bucket (4,096 per platform and class), and `run` commits every
    // commit_interval_ms: without the hint, those inserts took half a commit's time.
    cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
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
    // Aggregates, counters and what each commit adds to a seen-id set are merged, records of
    // single events are put.
    if (which == Cf::kWm || which == Cf::kContrib || which == Cf::kComplaints ||
        which == Cf::kDefault || which == Cf::kSeen)
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
  store->options_ = options;
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
  if (!options.read_only) {
    if (Status carried = store->CarryOverSeenIds(); !carried.ok()) return carried;
    if (Status carried = store->CarryOverClosingWatermark(); !carried.ok()) return carried;
  }
  return store;
}

Status Store::CarryOverClosingWatermark() {
  std::string value;
  if (impl_->Get(
          Cf::kDefault,
          rocksdb::Slice(meta_keys::kClosingWatermark.data(), meta_keys::kClosingWatermark.size()),
          value))
    return Status::OK();
  const std::optional<TimestampMs> closing = ClosingWatermark();
  if (!closing) return Status::OK();  // a state of this layout, or one without events
  rocksdb::WriteBatch batch;
  batch.Merge(cf(Cf::kDefault), meta_keys::kClosingWatermark, EncodeMaximum(*closing));
  return Write(batch);
}

Status Store::CarryOverSeenIds() {
  auto it = impl_->Iter(Cf::kSeen);
  std::map<std::string, std::vector<uint64_t>> adds;  // bucket key -> values
  rocksdb::WriteBatch batch;
  size_t ids = 0;
  auto flush = [&]() -> Status {
    for (auto& [key, values] : adds) {
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      for (uint64_t& v : values) v = IdEntry(v, 0);  // tag 0: their content was not kept
      batch.Merge(cf(Cf::kSeen), key, EncodeIdSet(values.data(), values.size()));
    }
    adds.clear();
    ids = 0;
    if (batch.Count() == 0) return Status::OK();
    Status s = Write(batch);
    batch.Clear();
    return s;
  };
  IdSlot slot;
  std::string bucket, id;
  std::vector<uint16_t> suffixes;
  // The earlier layout's keys start with a platform id (UTF-8): all before the index's 0xff.
  for (it->SeekToFirst(); it->Valid() && it->key()[0] != kIdBucketMark; it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const size_t nul = key.find('\0');
    if (nul == std::string_view::npos ||
        !SeenSetSuffixes(std::string_view(it->value().data(), it->value().size()), suffixes))
      return Status::Corruption("seen-id bucket of the earlier layout unreadable: " +
                                std::string(key));
    const std::string_view platform = key.substr(0, nul), prefix = key.substr(nul + 1);
    for (uint16_t suffix : suffixes) {
      id.assign(prefix);
      if (suffix >> 8) id.push_back(static_cast<char>(suffix >> 8));
      if (suffix & 0xff) id.push_back(static_cast<char>(suffix & 0xff));
      IdSlotOf(id, slot);
      AppendIdBucketKey(bucket, platform, slot);
      adds[bucket].push_back(KeptBits(slot));
    }
    batch.Delete(cf(Cf::kSeen), it->key());
    ids += suffixes.size();
    if (ids >= (1 << 20))
      if (Status s = flush(); !s.ok()) return s;
  }
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
  return flush();
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
  if (key.size() != 2 && key.size() != 6) return false;
  r.scheme = static_cast<Scheme>(key[0]);
  r.payer = static_cast<Payer>(key[1]);
  if (!ContributionTotal::Decode(v, r.total)) return false;
  // A record of the earlier layout (no day) is dated by its last payment.
  r.paid_on =
      key.size() == 6 ? FromOrderedDay(GetBE32(key.substr(2))) : BeijingDay(r.total.last_paid);
  return true;
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

std::optional<TimestampMs> Store::ClosingWatermark() {
  std::string value;
  int64_t v = 0;
  if (impl_->Get(
          Cf::kDefault,
          rocksdb::Slice(meta_keys::kClosingWatermark.data(), meta_keys::kClosingWatermark.size()),
          value) &&
      DecodeMaximum(value, v))
    return v;
  // None kept yet. A state whose sources keep their own watermarks has closed nothing yet (its
  // sources have not all delivered): the largest event time of one of them closes nothing. A
  // state written before either was kept closed months on that largest time.
  for (const auto& [source, position] : Positions())
    if (position.find("\"event_time\":") != std::string::npos) return std::nullopt;
  return MaxEventTime();
}

std::map<std::string, TimestampMs> Store::SourceWatermarks() {
  std::map<std::string, TimestampMs> out;
  for (const auto& [source, position] : Positions()) {
    const size_t at = position.find("\"event_time\":");
    if (at != std::string::npos) out[source] = std::atoll(position.c_str() + at + 13);
  }
  return out;
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
