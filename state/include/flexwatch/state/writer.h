// Folds validated events and rejections into the store, one WriteBatch per commit together with
// the sources' positions. Each event is de-duplicated by (platform_id, event_id) as it is added,
// against the state and the events already added to the same commit, and folded at once into the
// commit's aggregates (one merge per worker-month per commit). Not thread-safe: one writer per
// store, and nothing else may write the seen ids meanwhile.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "flexwatch/core/event.h"
#include "flexwatch/state/id_set.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

// Dense numbering of distinct keys: Intern(key) gives 0, 1, 2... in order of first sight, and
// the keys can be visited in key order. Open addressing over (hash, id) slots: a repeated key
// costs one hash and, nearly always, one key comparison; no allocation.
class KeyIndex {
 public:
  uint32_t Intern(std::string_view key) { return Intern(key, Hash(key)); }
  // As Intern, with the key's Hash() computed beforehand (see Prefetch).
  uint32_t Intern(std::string_view key, uint64_t hash);
  static uint64_t Hash(std::string_view key);
  // Starts loading the slot where a key of this hash begins its probe, so that a batch of
  // lookups overlaps its cache misses.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]); }
  std::string_view key(uint32_t id) const {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  size_t size() const { return offsets_.size() - 1; }
  std::vector<uint32_t> InKeyOrder() const;
  void Clear();

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kEmpty;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  void Grow();

  std::string arena_;                 // all keys, back to back
  std::vector<uint32_t> offsets_{0};  // key i is arena_[offsets_[i], offsets_[i + 1])
  std::vector<Slot> slots_ = std::vector<Slot>(1024);
};

class StateWriter {
 public:
  explicit StateWriter(Store* store);
  ~StateWriter();

  // Adds a valid event (a copy) to the pending commit, or counts it as a duplicate. Events are
  // resolved in micro-batches, so that the seen-id buckets a batch needs and the writer does
  // not hold yet are read from state in one MultiGet. Fails only when the state cannot be read.
  // `tag` (small: a source's number) only sorts the counts of resolved().
  Status Add(const Event& event, uint32_t tag = 0);
  // The place the next event goes: decode straight into it and call AddNext(), which saves
  // Add()'s copy. What it holds before is unspecified (an earlier event); not followed by
  // AddNext(), it is simply reused.
  Event& NextEvent();
  // As Add(NextEvent()).
  Status AddNext(uint32_t tag = 0);
  // Events of `tag` and `type` resolved as applied (or as duplicates) since the writer was made;
  // after Commit(), every one added before it is resolved.
  int64_t resolved(uint32_t tag, EventType type, bool duplicate) const;
  // Stages a dead letter (a JSON object, one line) under its source position.
  void AddRejection(std::string_view source, int64_t line, std::string_view raw,
                    std::string dead_letter_json);
  // Stages a message for the outbox, written with the next commit.
  void AddOutbox(OutboxMessage m);
  // Records where `source` has been read up to; written with the next commit.
  void SetPosition(std::string_view source, std::string position);
  // Stages a value of the state's bookkeeping (meta_keys.h; none: deletes it), written with the
  // next commit: what a source read besides events says (alerts another instance sent, say).
  void PutMeta(std::string key, std::optional<std::string> value) {
    pending_bytes_ += key.size() + (value ? value->size() : 0) + 32;
    meta_.emplace_back(std::move(key), std::move(value));
  }
  // Advances the event time that closes months (meta_keys::kClosingWatermark) to at least `t`,
  // with the next commit (which this alone makes worth writing).
  void AdvanceClosingWatermark(TimestampMs t) { closing_ = std::max(closing_, t); }
  // Whether events for a sealed month are counted as arrived after its seal (meta_keys::AfterSeal;
  // on by default). An instance of a group that does not seal takes the counts of the one that
  // does, read back with its seals, and counts only what it saw itself (meta_keys::SeenAfterSeal,
  // counted always).
  void CountAfterSeal(bool on) { count_after_seal_ = on; }
  // Events and rejections added since the last commit.
  size_t staged() const { return staged_; }
  // Bytes of seen ids held decoded between commits (at most StoreOptions::seen_cache_bytes after
  // a commit).
  size_t seen_cached_bytes() const { return id_cached_; }
  // Approximate bytes held for the pending commit: dead letters, contracts, policies, the
  // distinct keys with their aggregates, and the ids added to the seen-id index.
  size_t pending_bytes() const { return pending_bytes_; }

  // Worker-month and contribution aggregates are merged (the stored value is folded in when
  // read). When set, each commit reads the aggregates it adds to (one MultiGet per family) and
  // writes them whole instead, so that no merge operands, one per commit, pile up between
  // flushes for every read to fold: for a long-running consumer whose evaluation rounds read
  // the same worker-months after each commit.
  void WriteAggregatesWhole(bool whole) { whole_aggregates_ = whole; }

  // Writes everything pending in one atomic batch and returns what it applied.
  Result<IngestCounts> Commit();

 private:
  void Fold(const Event& e, size_t i);  // i: the event's place in the micro-batch
  Period MonthOf(TimestampMs ts);       // BeijingPeriod, cached for a run of events of one day
  // The commit's aggregate under `key`, created (and its memory counted) if new.
  template <typename T>
  T& AggregateFor(KeyIndex& index, std::vector<T>& aggregates, std::string_view key, uint64_t hash);
  struct HashedKey {
    std::string key;
    uint64_t hash = 0;
  };
  std::vector<HashedKey> batch_wm_;  // per micro-batch event, reused
  Status Resolve();                  // de-duplicates and folds the micro-batch
  // Adds the commit's aggregates of one family to `batch`, merged or whole (above).
  template <typename T>
  Status WriteAggregates(rocksdb::WriteBatch& batch, Cf cf, const KeyIndex& index,
                         const std::vector<T>& aggregates);
  bool whole_aggregates_ = false;

  static constexpr size_t kMicroBatch = 1024;
  std::vector<Event> micro_;    // reused, so that its strings keep their capacity
  std::vector<uint32_t> tags_;  // each micro-batch event's tag
  std::vector<int64_t> tally_;  // [tag][type][duplicate]
  void Tally(uint32_t tag, EventType type, bool duplicate);
  size_t micro_size_ = 0;
  std::vector<uint32_t> bucket_of_;
  void Clear();

  Store* store_;
  std::string scratch_;
  size_t staged_ = 0;
  size_t pending_bytes_ = 0;
  IngestCounts pending_;
  KeyIndex wm_keys_, contrib_keys_;
  // The seen-id index (id_set.h), kept from commit to commit: each bucket met as it is in state,
  // and what the pending commit adds to it. The single writer of the store keeps it true. Past
  // StoreOptions::seen_cache_bytes of ids, the buckets met longest ago are let go (EvictIds) and
  // read again when next met; the whole is dropped past kCachedBuckets buckets and when a commit
  // fails.
  // Two cache lines, both prefetched before the bucket is looked at.
  struct alignas(64) CachedBucket {
    IdBucket stored;
    uint32_t used = 0;  // the commit that met it last (commits_)
    // This commit's additions (IdEntry), in arrival order (sorted at the commit).
    std::vector<uint64_t> added;
    // Whether `added` is in increasing order: in a larger bucket, each addition put in its place
    // while there are few (kPlacedAdditions); past them, appended, and their ids in added_ids_
    // (added_hashed). In a small bucket, while they arrive in order (else sorted at the commit).
    bool added_in_order = true;
    bool added_hashed = false;
    // A bucket of at most 4096 values (a counter's): what the commit added, as a map of 4-bit
    // tags (0: not added), 16 to a word.
    int shift = 0;
    std::vector<uint64_t> added_nibbles;
    uint64_t front = 0;  // its BucketFront::Key: (class number, bucket number)
  };
  // (bucket, value, tag) of the ids this commit added to the buckets past kPlacedAdditions:
  // membership in one probe.
  class AddedIds {
   public:
    // -1 when `value` was not there (it is now, with `tag`), else the tag it was added with.
    int Insert(uint32_t bucket, uint64_t value, uint8_t tag);
    void Prefetch(uint32_t bucket, uint64_t value) const {
      __builtin_prefetch(&slots_[Hash(bucket, value) & (slots_.size() - 1)]);
    }
    void Clear();

   private:
    struct alignas(16) Slot {
      uint64_t value = 0;
      uint32_t bucket = 0;
      bool used = false;
      uint8_t tag = 0;
    };
    // Ids of one bucket that differ only in their last two bits share a cache line (4 slots):
    // a producer's counter then costs one miss per four ids, not one each.
    static size_t Hash(uint32_t bucket, uint64_t value) {
      uint64_t h = (value >> 2) + uint64_t{bucket} * 0x9e3779b97f4a7c15ull;
      h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
      h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
      return static_cast<size_t>((h ^ (h >> 31)) << 2 | (value & 3));
    }
    std::vector<Slot> slots_ = std::vector<Slot>(1 << 12);
    size_t size_ = 0;
  };
  AddedIds added_ids_;
  // Moves bucket `b`'s additions to added_ids_, and adds `v` (AddedIds::Insert's answer).
  int ToAddedIds(uint32_t b, uint64_t v, uint8_t tag);
  static constexpr size_t kCachedBuckets = size_t{1} << 20;  // ids of many shapes: many buckets
  KeyIndex id_keys_;                                         // each bucket's key in state
  // Each event's bucket found without its key: the (platform, class) pair numbered once
  // (id_classes_, the pairs met last remembered), then (that number, bucket number) in a table of
  // integers, so that ids of many buckets cost no key built, hashed and compared per event.
  class BucketFront {
   public:
    static constexpr uint32_t kNone = UINT32_MAX;
    // Set beside a bucket's number while its set is let go (EvictIds): known without a look at
    // the bucket itself.
    static constexpr uint32_t kEvicted = 0x80000000u;
    static uint64_t Key(uint32_t cls, uint64_t bucket) { return uint64_t{cls} << 20 | bucket; }
    static uint64_t ClassOfKey(uint64_t key) { return key >> 20; }
    uint32_t Find(uint64_t key) const {
      for (size_t i = Hash(key) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1))
        if (slots_[i].bucket == kNone || slots_[i].key == key) return slots_[i].bucket;
    }
    void Put(uint64_t key, uint32_t bucket);
    // The number stored for `key`, which is there, set to `bucket`.
    void Set(uint64_t key, uint32_t bucket) {
      for (size_t i = Hash(key) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1))
        if (slots_[i].key == key && slots_[i].bucket != kNone) {
          slots_[i].bucket = bucket;
          return;
        }
    }
    void Prefetch(uint64_t key) const {
      __builtin_prefetch(&slots_[Hash(key) & (slots_.size() - 1)]);
    }
    void Clear();

   private:
    struct Slot {
      uint64_t key = 0;
      uint32_t bucket = kNone;
    };
    static uint64_t Hash(uint64_t key) { return (key * 0x9e3779b97f4a7c15ull) >> 20; }
    std::vector<Slot> slots_ = std::vector<Slot>(1 << 12);
    size_t size_ = 0;
  };
  BucketFront id_front_;
  std::unordered_map<std::string, uint32_t> id_classes_;  // platform \0 class -> its number
  struct RecentClass {
    std::string key;  // platform \0 class, empty: none
    uint32_t number = 0;
  };
  std::array<RecentClass, 16> recent_classes_;
  uint32_t ClassOf(std::string_view platform, const IdSlot& slot);
  std::vector<uint64_t> micro_front_;  // each micro-batch event's BucketFront::Key
  std::vector<CachedBucket> id_buckets_;
  std::vector<uint32_t> id_touched_;  // the buckets this commit adds to
  size_t id_cached_ = 0;              // bytes of the buckets' stored sets (their capacity)
  uint32_t commits_ = 0;              // commits written, for CachedBucket::used
  void DropIdCache();
  // Lets go of the buckets met longest ago until the stored sets take at most 3/4 of the cache.
  void EvictIds();
  IdSlot slot_;
  std::vector<uint64_t> micro_values_;  // each micro-batch event's value in its bucket
  std::vector<uint8_t> micro_tags_;     // and its content tag
  std::vector<uint8_t> micro_shifts_;   // and its bucket's width (IdSlot::shift)
  TimestampMs max_ts_ = INT64_MIN;      // largest event time of the commit's accepted events
  TimestampMs closing_ = INT64_MIN;     // the closing watermark to merge in (none: INT64_MIN)
  Day last_day_ = INT32_MIN;            // MonthOf's cache: the previous event's day
  Period last_period_ = 0;
  std::vector<WorkerMonth> wms_;
  std::vector<ContributionTotal> contribs_;
  std::map<std::string, int64_t> complaints_;
  std::vector<std::pair<std::string, std::string>> contracts_, policies_;
  std::vector<std::pair<std::string, std::string>> dead_;  // key, json
  std::vector<OutboxMessage> outbox_;
  std::vector<std::pair<std::string, std::string>> positions_;
  std::vector<std::pair<std::string, std::optional<std::string>>> meta_;  // in order
  std::vector<std::string> new_platforms_;
  std::unordered_set<std::string> platforms_known_;
  // platforms_known_ and month_events_ hold it: the common case costs one comparison. Cleared with
  // each commit, so that the commit's first event of each platform is looked at.
  std::string last_platform_;
  // Sealed months (meta_keys::Revision), read again at the start of each commit: the monitor
  // seals between commits. An event for one is counted per platform (meta_keys::AfterSeal).
  std::set<Period> sealed_;
  bool sealed_stale_ = true;
  bool count_after_seal_ = true;
  std::map<std::pair<Period, std::string>, int64_t> after_seal_;
  // Events applied, per platform and month (meta_keys::MonthEvents): per platform the months of
  // this commit with their counts (a few: looked through), and the current platform's. Its keys
  // are the platforms this commit applies events of (noted in the store once it is written).
  std::unordered_map<std::string, std::vector<std::pair<Period, int64_t>>> month_events_;
  std::vector<std::pair<Period, int64_t>>* month_counts_ = nullptr;
  // Repeated event ids whose content differs from the first arrival's, per month and platform
  // (meta_keys::Rewritten).
  std::map<std::pair<Period, std::string>, int64_t> rewritten_;
};

}  // namespace flexwatch
