#include "flexwatch/state/writer.h"

#include <rocksdb/write_batch.h>
#include <xxhash.h>

#include <algorithm>
#include <tuple>

#include "flexwatch/state/meta_keys.h"

namespace flexwatch {

uint64_t KeyIndex::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

uint32_t KeyIndex::Intern(std::string_view key, uint64_t h) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id == kEmpty) {
      const uint32_t id = static_cast<uint32_t>(size());
      s = Slot{h, id};
      arena_.append(key);
      offsets_.push_back(static_cast<uint32_t>(arena_.size()));
      if (size() * 2 > slots_.size()) Grow();
      return id;
    }
    if (s.hash == h && this->key(s.id) == key) return s.id;
  }
}

void KeyIndex::Grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kEmpty) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

namespace {

// Sorts key ids by their keys (byte order), most significant 8 bytes first: integers are compared,
// and only runs that tie on 8 bytes are sorted again on the next 8, so keys sharing long prefixes
// (platform, period) cost no byte-by-byte comparisons.
struct Entry {
  uint64_t word;  // key bytes [depth, depth + 8), zero-padded
  uint32_t rest;  // bytes left from depth, capped at 9 (9: longer than this word)
  uint32_t id;
};

template <typename KeyOf>
void SortByKey(Entry* begin, Entry* end, size_t depth, const KeyOf& key_of) {
  for (Entry* e = begin; e != end; ++e) {
    std::string_view k = key_of(e->id);
    uint64_t w = 0;
    for (size_t i = 0; i < 8; ++i)
      w = w << 8 | (depth + i < k.size() ? static_cast<uint8_t>(k[depth + i]) : 0);
    e->word = w;
    e->rest = static_cast<uint32_t>(k.size() > depth + 8 ? 9 : k.size() - depth);
  }
  std::sort(begin, end, [](const Entry& a, const Entry& b) {
    return a.word != b.word ? a.word < b.word : a.rest < b.rest;
  });
  for (Entry* run = begin; run != end;) {
    Entry* next = run + 1;
    while (next != end && next->word == run->word && next->rest == run->rest) ++next;
    if (next - run > 1 && run->rest == 9) SortByKey(run, next, depth + 8, key_of);
    run = next;
  }
}

}  // namespace

std::vector<uint32_t> KeyIndex::InKeyOrder() const {
  std::vector<Entry> entries(size());
  for (uint32_t id = 0; id < entries.size(); ++id) entries[id].id = id;
  SortByKey(entries.data(), entries.data() + entries.size(), 0,
            [this](uint32_t id) { return key(id); });
  std::vector<uint32_t> ids(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) ids[i] = entries[i].id;
  return ids;
}

void KeyIndex::Clear() {
  arena_.clear();
  offsets_.assign(1, 0);
  slots_.assign(slots_.size(), Slot{});
}

// Memory a distinct key of a commit costs beyond its bytes: two hash slots and an offset.
constexpr size_t kKeyOverhead = 2 * 16 + 4;
// Memory an id added to the seen-id index by a commit costs until it is written (IdEntry).
constexpr size_t kAddedIdBytes = 8;
// Buckets of at most 2^12 values keep a commit's additions as a map of their tags (2 KiB).
constexpr int kBitmapShift = 12;
// Larger ones keep up to this many additions of a commit in order, each put in its place (a
// bucket of hashed ids gets a few hundred a commit at most: moving them costs less than a hash
// set's cache miss), and more in the commit's hash set (AddedIds), where a commit's shuffled
// counter or snowflake ids crowd into a few buckets.
constexpr size_t kPlacedAdditions = 512;
// A bucket keeps the room its additions took in a commit for the next one up to this many.
constexpr size_t kKeptAdditions = 64;

StateWriter::StateWriter(Store* store) : store_(store) {}
StateWriter::~StateWriter() = default;

Event& StateWriter::NextEvent() {
  if (micro_size_ == micro_.size()) {
    micro_.emplace_back();
    tags_.push_back(0);
  }
  return micro_[micro_size_];
}

Status StateWriter::AddNext(uint32_t tag) {
  ++staged_;
  tags_[micro_size_++] = tag;
  return micro_size_ >= kMicroBatch ? Resolve() : Status::OK();
}

Status StateWriter::Add(const Event& e, uint32_t tag) {
  NextEvent() = e;
  return AddNext(tag);
}

void StateWriter::Tally(uint32_t tag, EventType type, bool duplicate) {
  const size_t at =
      (size_t{tag} * kEventTypeNames.size() + static_cast<size_t>(type)) * 2 + (duplicate ? 1 : 0);
  if (at >= tally_.size()) tally_.resize((size_t{tag} + 1) * kEventTypeNames.size() * 2);
  ++tally_[at];
}

int64_t StateWriter::resolved(uint32_t tag, EventType type, bool duplicate) const {
  const size_t at =
      (size_t{tag} * kEventTypeNames.size() + static_cast<size_t>(type)) * 2 + (duplicate ? 1 : 0);
  return at < tally_.size() ? tally_[at] : 0;
}

Status StateWriter::Resolve() {
  if (sealed_stale_) {
    sealed_stale_ = false;
    sealed_.clear();
    for (const std::string& key : store_->MetaKeys(meta_keys::kRevisionsPrefix))
      if (auto p = meta_keys::PeriodOfRevision(key)) sealed_.insert(*p);
  }
  // 0. Every key the micro-batch will look up, hashed first, with its slot prefetched, so that
  //    the lookups below overlap their cache misses instead of taking them one by one.
  bucket_of_.resize(micro_size_);
  micro_front_.resize(micro_size_);
  micro_values_.resize(micro_size_);
  micro_tags_.resize(micro_size_);
  micro_shifts_.resize(micro_size_);
  if (batch_wm_.size() < micro_size_) batch_wm_.resize(micro_size_);
  for (size_t i = 0; i < micro_size_; ++i) {
    const Event& e = micro_[i];
    IdSlotOf(e.event_id, slot_);
    micro_front_[i] = BucketFront::Key(ClassOf(e.platform_id, slot_), BucketNumber(slot_));
    id_front_.Prefetch(micro_front_[i]);
    micro_values_[i] = KeptBits(slot_);
    micro_tags_[i] = ContentTag(e);
    micro_shifts_[i] = static_cast<uint8_t>(slot_.shift);
    if (e.type == EventType::kOrder) {
      HashedKey& w = batch_wm_[i];
      keys::AppendWorkerMonthKey(w.key, MonthOf(e.ts), e.platform_id, e.worker_id);
      w.hash = KeyIndex::Hash(w.key);
      wm_keys_.Prefetch(w.hash);
    }
  }
  // 1. Each event's seen-id bucket; those the writer does not hold yet are read from state
  //    together, in key order, with one MultiGet.
  std::vector<uint32_t> fresh;
  for (size_t i = 0; i < micro_size_; ++i) {
    uint32_t b = id_front_.Find(micro_front_[i]);
    if (b != BucketFront::kNone) {
      if (b & BucketFront::kEvicted) {  // let go since it was last met: read again
        b &= ~BucketFront::kEvicted;
        id_front_.Set(micro_front_[i], b);
        fresh.push_back(b);
      }
    } else {  // a bucket the writer has not seen: keyed in state
      IdSlotOf(micro_[i].event_id, slot_);
      AppendIdBucketKey(scratch_, micro_[i].platform_id, slot_);
      b = id_keys_.Intern(scratch_);
      id_buckets_.emplace_back();
      pending_bytes_ += kKeyOverhead + scratch_.size() + sizeof(CachedBucket);
      id_buckets_.back().shift = micro_shifts_[i];
      id_buckets_.back().front = micro_front_[i];
      id_front_.Put(micro_front_[i], b);
      fresh.push_back(b);
    }
    bucket_of_[i] = b;
    const char* line = reinterpret_cast<const char*>(&id_buckets_[b]);
    __builtin_prefetch(line);
    __builtin_prefetch(line + 64);
  }
  if (!fresh.empty()) {
    std::sort(fresh.begin(), fresh.end(),
              [this](uint32_t a, uint32_t b) { return id_keys_.key(a) < id_keys_.key(b); });
    std::vector<std::string_view> keys(fresh.size());
    std::vector<std::string> stored(fresh.size());
    std::vector<std::string*> into(fresh.size());
    for (size_t k = 0; k < fresh.size(); ++k) {
      keys[k] = id_keys_.key(fresh[k]);
      into[k] = &stored[k];
    }
    if (Status s = store_->GetMany(Cf::kSeen, keys, into); !s.ok()) {
      DropIdCache();
      return s;
    }
    for (size_t k = 0; k < fresh.size(); ++k) {
      if (stored[k].empty()) continue;
      IdBucket& set = id_buckets_[fresh[k]].stored;
      if (!DecodeIdSet(stored[k], set)) {
        DropIdCache();
        return Status::Corruption("unreadable seen-id set in state under " + std::string(keys[k]));
      }
      set.Index();
      id_cached_ += set.bytes();
    }
  }
  // 2. In arrival order: the first arrival of an id is applied, later ones only counted.
  //    Prefetched in two steps ahead: the bucket itself (2 * kAhead), then where its stored set
  //    and the commit's additions to it will be looked at (kAhead), so that no miss is in line.
  constexpr size_t kAhead = 8;
  static_assert(sizeof(CachedBucket) <= 128);
  auto prefetch_bucket = [this](size_t i) {
    const char* b = reinterpret_cast<const char*>(&id_buckets_[bucket_of_[i]]);
    __builtin_prefetch(b);
    __builtin_prefetch(b + 64);
  };
  auto prefetch = [this](size_t i) {
    const CachedBucket& b = id_buckets_[bucket_of_[i]];
    if (!b.stored.entries.empty()) __builtin_prefetch(b.stored.Guess(micro_values_[i], b.shift));
    if (b.added_hashed) {
      added_ids_.Prefetch(bucket_of_[i], micro_values_[i]);
    } else if (!b.added.empty()) {  // the last addition, and where a search by halves starts
      __builtin_prefetch(&b.added.back());
      __builtin_prefetch(&b.added[b.added.size() / 2]);
    }
  };
  for (size_t i = 0; i < micro_size_ && i < 2 * kAhead; ++i) prefetch_bucket(i);
  for (size_t i = 0; i < micro_size_ && i < kAhead; ++i) prefetch(i);
  for (size_t i = 0; i < micro_size_; ++i) {
    if (i + 2 * kAhead < micro_size_) prefetch_bucket(i + 2 * kAhead);
    if (i + kAhead < micro_size_) prefetch(i + kAhead);
    const Event& e = micro_[i];
    CachedBucket& bucket = id_buckets_[bucket_of_[i]];
    bucket.used = commits_;
    const uint64_t v = micro_values_[i];
    const uint8_t tag = micro_tags_[i];
    int first_tag = -1;   // the first arrival's tag, when the id is a duplicate
    bool placed = false;  // added in its place among the commit's additions
    if (const ptrdiff_t at = bucket.stored.Find(v, bucket.shift); at >= 0)
      first_tag = IdTag(bucket.stored.entries[at]);
    if (first_tag < 0) {
      const uint32_t b = bucket_of_[i];
      if (bucket.shift <= kBitmapShift) {  // a small bucket: the commit's additions as a map
        if (bucket.added_nibbles.empty()) {
          bucket.added_nibbles.assign((size_t{1} << bucket.shift) / 16 + 1, 0);
          pending_bytes_ += bucket.added_nibbles.size() * sizeof(uint64_t);
        }
        uint64_t& word = bucket.added_nibbles[v >> 4];
        const int at = static_cast<int>(v & 15) * 4;
        if (const int was = static_cast<int>(word >> at & 15); was != 0) {
          first_tag = was;
        } else {
          word |= uint64_t{tag} << at;
          bucket.added_in_order =
              bucket.added_in_order && (bucket.added.empty() || v > IdValue(bucket.added.back()));
        }
      } else if (bucket.added_in_order &&
                 (bucket.added.empty() || v > IdValue(bucket.added.back()))) {
        // in order and past the last: new
      } else if (bucket.added_in_order) {  // in order so far, and v before the last
        std::vector<uint64_t>& added = bucket.added;
        const auto at = std::lower_bound(added.begin(), added.end(), v,
                                         [](uint64_t e, uint64_t x) { return IdValue(e) < x; });
        if (IdValue(*at) == v) {
          first_tag = IdTag(*at);
        } else if (added.size() < kPlacedAdditions) {  // put in its place
          added.insert(at, IdEntry(v, tag));
          pending_bytes_ += kAddedIdBytes;
          placed = true;
        } else {  // too many to keep in order: the bucket's ids to the hash set
          bucket.added_in_order = false;
          first_tag = ToAddedIds(b, v, tag);
        }
      } else {
        first_tag = added_ids_.Insert(b, v, tag);
      }
      if (first_tag < 0 && !placed) {  // appended
        if (bucket.added.empty()) {
          id_touched_.push_back(b);
          bucket.added.reserve(8);  // a bucket of hashed ids gets a few dozen a commit
        }
        bucket.added.push_back(IdEntry(v, tag));
        pending_bytes_ += kAddedIdBytes;
      }
    }
    const bool duplicate = first_tag >= 0;
    if (duplicate && first_tag != 0 && first_tag != tag) {
      // The same id, other content: a record rewritten after it was delivered. Counted for the
      // month the rewrite speaks of (its period for a contribution).
      ++pending_.rewritten;
      ++rewritten_[{
          e.type == EventType::kContribution ? e.contribution.period : BeijingPeriod(e.ts),
          e.platform_id}];
    }
    Tally(tags_[i], e.type, duplicate);
    if (duplicate) {
      ++pending_.duplicates;
      continue;
    }
    ++pending_.accepted;
    Fold(e, i);
  }
  micro_size_ = 0;
  return Status::OK();
}

uint32_t StateWriter::ClassOf(std::string_view platform, const IdSlot& slot) {
  // Platforms interleave: the pairs met last are remembered in a few slots, chosen by the
  // platform's length and last byte (ids like "p-ride-2", "p-meal-1" differ there).
  const size_t n = platform.size();
  RecentClass& recent = recent_classes_[(n * 7 + (n ? static_cast<uint8_t>(platform.back()) : 0) +
                                         static_cast<uint8_t>(slot.cls.back())) %
                                        recent_classes_.size()];
  const std::string_view key = recent.key;
  if (key.size() == n + 1 + slot.cls.size() && key.substr(0, n) == platform && key[n] == '\0' &&
      key.substr(n + 1) == slot.cls)
    return recent.number;
  recent.key.assign(platform);
  recent.key.push_back('\0');
  recent.key.append(slot.cls);
  const auto [it, added] =
      id_classes_.try_emplace(recent.key, static_cast<uint32_t>(id_classes_.size()));
  if (added) pending_bytes_ += kKeyOverhead + recent.key.size();
  return recent.number = it->second;
}

void StateWriter::BucketFront::Put(uint64_t key, uint32_t bucket) {
  if (2 * (size_ + 1) > slots_.size()) {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& o : old)
      if (o.bucket != kNone) Put(o.key, o.bucket);
  }
  size_t i = Hash(key) & (slots_.size() - 1);
  while (slots_[i].bucket != kNone) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = Slot{key, bucket};
  ++size_;
}

void StateWriter::BucketFront::Clear() {
  if (size_ == 0) return;
  slots_.assign(slots_.size(), Slot{});
  size_ = 0;
}

int StateWriter::ToAddedIds(uint32_t b, uint64_t v, uint8_t tag) {
  CachedBucket& bucket = id_buckets_[b];
  bucket.added_hashed = true;
  for (uint64_t e : bucket.added) added_ids_.Insert(b, IdValue(e), IdTag(e));
  return added_ids_.Insert(b, v, tag);
}

int StateWriter::AddedIds::Insert(uint32_t bucket, uint64_t value, uint8_t tag) {
  if (2 * (size_ + 1) > slots_.size()) {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& o : old)
      if (o.used) Insert(o.bucket, o.value, o.tag);
  }
  const size_t mask = slots_.size() - 1;
  for (size_t i = Hash(bucket, value) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (!s.used) {
      s = Slot{value, bucket, true, tag};
      ++size_;
      return -1;
    }
    if (s.value == value && s.bucket == bucket) return s.tag;
  }
}

void StateWriter::AddedIds::Clear() {
  if (size_ == 0) return;
  std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
}

void StateWriter::DropIdCache() {
  added_ids_.Clear();
  id_front_.Clear();
  id_classes_.clear();
  for (RecentClass& r : recent_classes_) r.key.clear();
  id_keys_.Clear();
  id_buckets_.clear();
  id_touched_.clear();
  id_cached_ = 0;
}

void StateWriter::EvictIds() {
  // The buckets held (one let go holds nothing), met longest ago first; of those met as lately,
  // the larger first (random ids meet every bucket at every commit: then any will do, and fewer
  // reads bring them back).
  std::vector<uint32_t> held;
  for (uint32_t b = 0; b < id_buckets_.size(); ++b)
    if (id_buckets_[b].stored.bytes() > 0) held.push_back(b);
  std::sort(held.begin(), held.end(), [this](uint32_t a, uint32_t b) {
    const CachedBucket &x = id_buckets_[a], &y = id_buckets_[b];
    return x.used != y.used ? x.used < y.used : x.stored.bytes() > y.stored.bytes();
  });
  const size_t keep = store_->options().seen_cache_bytes / 4 * 3;
  for (uint32_t b : held) {
    if (id_cached_ <= keep) break;
    CachedBucket& bucket = id_buckets_[b];
    id_cached_ -= bucket.stored.bytes();
    bucket.stored = IdBucket();
    id_front_.Set(bucket.front, b | BucketFront::kEvicted);
  }
}

template <typename T>
T& StateWriter::AggregateFor(KeyIndex& index, std::vector<T>& aggregates, std::string_view key,
                             uint64_t hash) {
  const uint32_t k = index.Intern(key, hash);
  if (k == aggregates.size()) {
    aggregates.emplace_back();
    pending_bytes_ += kKeyOverhead + key.size() + sizeof(T);
  }
  return aggregates[k];
}

Period StateWriter::MonthOf(TimestampMs ts) {
  if (const Day day = BeijingDay(ts); day != last_day_) {
    last_day_ = day;
    last_period_ = PeriodOfDay(day);
  }
  return last_period_;
}

void StateWriter::Fold(const Event& e, size_t i) {
  if (e.ts > max_ts_) max_ts_ = e.ts;
  const Period month = e.type == EventType::kContribution ? e.contribution.period : MonthOf(e.ts);
  if (!sealed_.empty() && sealed_.count(month)) ++after_seal_[{month, e.platform_id}];
  if (e.platform_id != last_platform_) {
    // A platform the commit has touched is known: one probe in the common case.
    auto [touched, first] = month_events_.try_emplace(e.platform_id);
    if (first && platforms_known_.insert(e.platform_id).second)
      new_platforms_.push_back(e.platform_id);
    last_platform_ = e.platform_id;
    month_counts_ = &touched->second;
  }
  auto counted = std::find_if(month_counts_->begin(), month_counts_->end(),
                              [month](const auto& c) { return c.first == month; });
  if (counted == month_counts_->end())
    month_counts_->emplace_back(month, 1);
  else
    ++counted->second;
  switch (e.type) {
    case EventType::kOrder: {
      AggregateFor(wm_keys_, wms_, batch_wm_[i].key, batch_wm_[i].hash).AddOrder(e);
      break;
    }
    case EventType::kContract:
      contracts_.emplace_back(keys::Contract(e.platform_id, e.worker_id, e.ts, e.event_id),
                              EncodeContract(e));
      pending_bytes_ += contracts_.back().first.size() + contracts_.back().second.size();
      break;
    case EventType::kContribution: {
      scratch_ = keys::Contribution(e.contribution.period, e.platform_id, e.worker_id,
                                    e.contribution.scheme, e.contribution.payer, BeijingDay(e.ts));
      AggregateFor(contrib_keys_, contribs_, scratch_, KeyIndex::Hash(scratch_)).AddPayment(e);
      break;
    }
    case EventType::kCoverage:
      policies_.emplace_back(
          keys::Policy(e.platform_id, e.worker_id, e.coverage.valid_from, e.event_id),
          EncodePolicy(e));
      pending_bytes_ += policies_.back().first.size() + policies_.back().second.size();
      break;
    case EventType::kComplaint:
      complaints_[keys::Complaint(BeijingPeriod(e.ts), e.platform_id, e.complaint.category)] += 1;
      break;
  }
}

template <typename T>
Status StateWriter::WriteAggregates(rocksdb::WriteBatch& batch, Cf cf, const KeyIndex& index,
                                    const std::vector<T>& aggregates) {
  const std::vector<uint32_t> order = index.InKeyOrder();
  if (!whole_aggregates_) {
    for (uint32_t k : order) batch.Merge(store_->cf(cf), index.key(k), aggregates[k].Encode());
    return Status::OK();
  }
  std::vector<std::string_view> keys(order.size());
  std::vector<std::string> stored(order.size());
  std::vector<std::string*> into(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    keys[i] = index.key(order[i]);
    into[i] = &stored[i];
  }
  if (Status s = store_->GetMany(cf, keys, into); !s.ok()) return s;
  std::string whole;
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string added = aggregates[order[i]].Encode();
    if (stored[i].empty()) {
      batch.Put(store_->cf(cf), keys[i], added);
    } else if (FoldRecords(stored[i], added, whole)) {
      batch.Put(store_->cf(cf), keys[i], whole);
    } else {
      return Status::Corruption("unreadable aggregate in state under " + std::string(keys[i]));
    }
  }
  return Status::OK();
}

void StateWriter::AddRejection(std::string_view source, int64_t line, std::string_view raw,
                               std::string dead_letter_json) {
  dead_.emplace_back(keys::DeadLetter(source, line, raw), std::move(dead_letter_json));
  pending_bytes_ += dead_.back().first.size() + dead_.back().second.size();
  ++staged_;
}

void StateWriter::AddOutbox(OutboxMessage m) {
  pending_bytes_ += m.topic.size() + m.key.size() + m.payload.size() + 64;
  outbox_.push_back(std::move(m));
}

void StateWriter::SetPosition(std::string_view source, std::string position) {
  for (auto& p : positions_) {
    if (p.first == source) {
      p.second = std::move(position);
      return;
    }
  }
  positions_.emplace_back(std::string(source), std::move(position));
}

Result<IngestCounts> StateWriter::Commit() {
  if (Status s = Resolve(); !s.ok()) return s;
  IngestCounts counts = pending_;
  counts.rejected = static_cast<int64_t>(dead_.size());
  // Each column family's entries in key order, which keeps memtable inserts cheap.
  std::sort(contracts_.begin(), contracts_.end());
  std::sort(policies_.begin(), policies_.end());
  rocksdb::WriteBatch batch;
  // What the commit adds to each seen-id bucket, as a merge operand: the state folds it into
  // the bucket's set (the writer's copy is already up to date).
  // In key order: buckets of one class by their number (the key's last two bytes, big-endian),
  // and only buckets of two classes by their keys.
  std::sort(id_touched_.begin(), id_touched_.end(), [this](uint32_t a, uint32_t b) {
    const uint64_t fa = id_buckets_[a].front, fb = id_buckets_[b].front;
    return BucketFront::ClassOfKey(fa) == BucketFront::ClassOfKey(fb)
               ? fa < fb
               : id_keys_.key(a) < id_keys_.key(b);
  });
  std::string encoded;  // one buffer for every bucket's operand (the batch copies it)
  for (uint32_t k : id_touched_) {
    CachedBucket& b = id_buckets_[k];
    if (!b.added_in_order) std::sort(b.added.begin(), b.added.end());  // values distinct
    encoded.clear();
    AppendIdSet(encoded, b.added.data(), b.added.size());
    batch.Merge(store_->cf(Cf::kSeen), id_keys_.key(k), encoded);
  }
  if (Status s = WriteAggregates(batch, Cf::kWm, wm_keys_, wms_); !s.ok()) return s;
  if (Status s = WriteAggregates(batch, Cf::kContrib, contrib_keys_, contribs_); !s.ok()) return s;
  for (const auto& [key, count] : complaints_)
    batch.Merge(store_->cf(Cf::kComplaints), key, EncodeCounter(count));
  for (const auto& [key, value] : contracts_) batch.Put(store_->cf(Cf::kContracts), key, value);
  for (const auto& [key, value] : policies_) batch.Put(store_->cf(Cf::kCoverage), key, value);
  for (const std::string& p : new_platforms_)
    batch.Put(store_->cf(Cf::kDefault), meta_keys::Platform(p), rocksdb::Slice());
  for (auto& [key, json] : dead_) batch.Put(store_->cf(Cf::kDead), key, json);
  for (auto& [source, pos] : positions_)
    batch.Put(store_->cf(Cf::kDefault), meta_keys::Position(source), pos);
  for (auto& [key, value] : meta_)
    if (value)
      batch.Put(store_->cf(Cf::kDefault), key, *value);
    else
      batch.Delete(store_->cf(Cf::kDefault), key);
  if (counts.accepted)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::Counter("accepted"),
                EncodeCounter(counts.accepted));
  if (counts.duplicates)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::Counter("duplicates"),
                EncodeCounter(counts.duplicates));
  if (counts.rejected)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::Counter("rejected"),
                EncodeCounter(counts.rejected));
  if (max_ts_ != INT64_MIN)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::kWatermark, EncodeMaximum(max_ts_));
  for (const auto& [key, n] : after_seal_) {
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::SeenAfterSeal(key.first, key.second),
                EncodeCounter(n));
    if (count_after_seal_)
      batch.Merge(store_->cf(Cf::kDefault), meta_keys::AfterSeal(key.first, key.second),
                  EncodeCounter(n));
  }
  for (const auto& [key, n] : rewritten_)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::Rewritten(key.first, key.second),
                EncodeCounter(n));
  for (const auto& [platform, months] : month_events_)
    for (const auto& [month, n] : months)
      batch.Merge(store_->cf(Cf::kDefault), meta_keys::MonthEvents(month, platform),
                  EncodeCounter(n));
  if (counts.rewritten)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::Counter("rewritten"),
                EncodeCounter(counts.rewritten));
  if (closing_ != INT64_MIN)
    batch.Merge(store_->cf(Cf::kDefault), meta_keys::kClosingWatermark, EncodeMaximum(closing_));
  store_->PutOutbox(batch, outbox_);
  if (batch.Count() > 0) {
    if (Status s = store_->Write(batch); !s.ok()) {
      // Nothing of this commit is in state: forget the platforms it would have recorded, and
      // the ids it added.
      for (const std::string& p : new_platforms_) platforms_known_.erase(p);
      DropIdCache();
      Clear();
      return s;
    }
  }
  // The ids added are in state now: into each bucket's set as stored.
  for (uint32_t k : id_touched_) {
    CachedBucket& b = id_buckets_[k];
    // Merged in place from the back (no value is in both), the set grown by a quarter at a
    // time: no allocation per bucket and commit, and at most a quarter of the memory unused.
    std::vector<uint64_t>& s = b.stored.entries;
    size_t i = s.size(), j = b.added.size(), to = i + j;
    id_cached_ -= b.stored.bytes();
    if (s.capacity() < to) s.reserve(to + to / 4);
    s.resize(to);
    while (j > 0) s[--to] = i > 0 && s[i - 1] > b.added[j - 1] ? s[--i] : b.added[--j];
    b.stored.Index();
    id_cached_ += b.stored.bytes();
    // Room for the next commit's additions is kept only where it is small (a bucket of hashed
    // ids gets a few dozen a commit): a counter's bucket takes thousands in one commit, and
    // would hold that room for good, past any bound of the cache.
    if (b.added.capacity() > kKeptAdditions)
      std::vector<uint64_t>().swap(b.added);
    else
      b.added.clear();
    b.added_in_order = true;
    b.added_hashed = false;
    std::vector<uint64_t>().swap(b.added_nibbles);
  }
  id_touched_.clear();
  added_ids_.Clear();
  ++commits_;
  if (id_buckets_.size() > kCachedBuckets)
    DropIdCache();
  else if (id_cached_ > store_->options().seen_cache_bytes)
    EvictIds();
  if (!month_events_.empty()) {
    std::vector<std::string> touched;
    touched.reserve(month_events_.size());
    for (const auto& [platform, months] : month_events_) touched.push_back(platform);
    store_->NoteChanged(std::move(touched));
  }
  Clear();
  return counts;
}

void StateWriter::Clear() {
  staged_ = 0;
  pending_bytes_ = 0;
  pending_ = IngestCounts{};
  wm_keys_.Clear();
  contrib_keys_.Clear();
  micro_size_ = 0;
  wms_.clear();
  contribs_.clear();
  complaints_.clear();
  contracts_.clear();
  policies_.clear();
  dead_.clear();
  positions_.clear();
  meta_.clear();
  new_platforms_.clear();
  last_platform_.clear();
  max_ts_ = INT64_MIN;
  closing_ = INT64_MIN;
  after_seal_.clear();
  month_events_.clear();
  month_counts_ = nullptr;
  rewritten_.clear();
  sealed_stale_ = true;
  outbox_.clear();
}

}  // namespace flexwatch
