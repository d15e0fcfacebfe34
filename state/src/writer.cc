#include "flexwatch/state/writer.h"

#include <rocksdb/write_batch.h>
#include <xxhash.h>

#include <algorithm>

namespace flexwatch {

uint32_t KeyIndex::Intern(std::string_view key) {
  const uint64_t h = XXH3_64bits(key.data(), key.size());
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

std::vector<uint32_t> KeyIndex::InKeyOrder() const {
  // Keys of one kind share a long prefix (period, platform): sort on the 8 bytes that follow the
  // prefix common to all keys, as an integer, and compare whole keys only on a tie.
  const size_t n = size();
  size_t common = n ? key(0).size() : 0;
  for (uint32_t id = 1; id < n && common > 0; ++id) {
    std::string_view a = key(0), b = key(id);
    size_t i = 0;
    while (i < common && i < b.size() && a[i] == b[i]) ++i;
    common = i;
  }
  std::vector<std::pair<uint64_t, uint32_t>> order(n);
  for (uint32_t id = 0; id < n; ++id) {
    std::string_view k = key(id);
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; ++i)
      prefix = prefix << 8 | (common + i < k.size() ? static_cast<uint8_t>(k[common + i]) : 0);
    order[id] = {prefix, id};
  }
  std::sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return key(a.second) < key(b.second);
  });
  std::vector<uint32_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = order[i].second;
  return ids;
}

void KeyIndex::Clear() {
  arena_.clear();
  offsets_.assign(1, 0);
  slots_.assign(slots_.size(), Slot{});
}

// Memory a distinct key of a commit costs beyond its bytes: two hash slots and an offset.
constexpr size_t kKeyOverhead = 2 * 16 + 4;

StateWriter::StateWriter(Store* store) : store_(store) {}
StateWriter::~StateWriter() = default;

Status StateWriter::Add(const Event& e) {
  ++staged_;
  keys::AppendSeenBucket(scratch_, e.platform_id, e.event_id);
  const uint32_t b = bucket_keys_.Intern(scratch_);
  if (b == buckets_.size()) {
    buckets_.emplace_back();
    pending_bytes_ += kKeyOverhead + scratch_.size() + sizeof(SeenBucket);
    if (Status s = store_->GetSeenSet(scratch_, buckets_[b].stored); !s.ok()) return s;
  }
  SeenBucket& bucket = buckets_[b];
  const uint16_t suffix = keys::SeenSuffix(e.event_id);
  bool seen = SeenSetContains(bucket.stored, suffix);
  for (uint32_t a = bucket.added; !seen && a != kNone; a = added_[a].next)
    seen = added_[a].suffix == suffix;
  if (seen) {
    ++pending_.duplicates;  // the first arrival was applied; this one is only counted
    return Status::OK();
  }
  added_.push_back(Added{suffix, bucket.added});
  bucket.added = static_cast<uint32_t>(added_.size() - 1);
  ++pending_.accepted;
  Fold(e);
  return Status::OK();
}

void StateWriter::Fold(const Event& e) {
  if (e.platform_id != last_platform_) {
    if (platforms_known_.insert(e.platform_id).second) new_platforms_.push_back(e.platform_id);
    last_platform_ = e.platform_id;
  }
  switch (e.type) {
    case EventType::kOrder: {
      keys::AppendWorkerMonthKey(scratch_, BeijingPeriod(e.ts), e.platform_id, e.worker_id);
      const uint32_t k = wm_keys_.Intern(scratch_);
      if (k == wms_.size()) {
        wms_.emplace_back();
        pending_bytes_ += kKeyOverhead + scratch_.size() + sizeof(WorkerMonth);
      }
      wms_[k].AddOrder(e);
      break;
    }
    case EventType::kContract:
      contracts_.emplace_back(keys::Contract(e.platform_id, e.worker_id, e.ts, e.event_id),
                              EncodeContract(e));
      pending_bytes_ += contracts_.back().first.size() + contracts_.back().second.size();
      break;
    case EventType::kContribution: {
      scratch_ = keys::Contribution(e.contribution.period, e.platform_id, e.worker_id,
                                    e.contribution.scheme, e.contribution.payer);
      const uint32_t k = contrib_keys_.Intern(scratch_);
      if (k == contribs_.size()) {
        contribs_.emplace_back();
        pending_bytes_ += kKeyOverhead + scratch_.size() + sizeof(ContributionTotal);
      }
      contribs_[k].AddPayment(e);
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

void StateWriter::AddRejection(std::string_view source, int64_t line, std::string_view raw,
                               std::string dead_letter_json) {
  dead_.emplace_back(keys::DeadLetter(source, line, raw), std::move(dead_letter_json));
  pending_bytes_ += dead_.back().first.size() + dead_.back().second.size();
  ++staged_;
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
  IngestCounts counts = pending_;
  counts.rejected = static_cast<int64_t>(dead_.size());
  // Each column family's entries in key order, which keeps memtable inserts cheap.
  std::sort(contracts_.begin(), contracts_.end());
  std::sort(policies_.begin(), policies_.end());
  rocksdb::WriteBatch batch;
  // The writer read every bucket it adds to, so it writes the whole new set (no merge operands
  // pile up for later reads to fold).
  std::vector<uint16_t> sorted;
  std::string set;
  for (uint32_t k : bucket_keys_.InKeyOrder()) {
    const SeenBucket& b = buckets_[k];
    if (b.added == kNone) continue;
    sorted.clear();
    for (uint32_t a = b.added; a != kNone; a = added_[a].next) sorted.push_back(added_[a].suffix);
    std::sort(sorted.begin(), sorted.end());
    set = EncodeSeenSet(sorted.data(), sorted.size());
    if (!b.stored.empty() && !FoldRecords(b.stored, std::string(set), set))
      return Status::Corruption("seen-id set of bucket " + std::string(bucket_keys_.key(k)));
    batch.Put(store_->cf(Cf::kSeen), bucket_keys_.key(k), set);
  }
  for (uint32_t k : wm_keys_.InKeyOrder())
    batch.Merge(store_->cf(Cf::kWm), wm_keys_.key(k), wms_[k].Encode());
  for (uint32_t k : contrib_keys_.InKeyOrder())
    batch.Merge(store_->cf(Cf::kContrib), contrib_keys_.key(k), contribs_[k].Encode());
  for (const auto& [key, count] : complaints_)
    batch.Merge(store_->cf(Cf::kComplaints), key, EncodeCounter(count));
  for (const auto& [key, value] : contracts_) batch.Put(store_->cf(Cf::kContracts), key, value);
  for (const auto& [key, value] : policies_) batch.Put(store_->cf(Cf::kCoverage), key, value);
  for (const std::string& p : new_platforms_)
    batch.Put(store_->cf(Cf::kMeta), "platform/" + p, rocksdb::Slice());
  for (auto& [key, json] : dead_) batch.Put(store_->cf(Cf::kDead), key, json);
  for (auto& [source, pos] : positions_)
    batch.Put(store_->cf(Cf::kMeta), keys::PositionKey(source), pos);
  if (counts.accepted)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("accepted"),
                EncodeCounter(counts.accepted));
  if (counts.duplicates)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("duplicates"),
                EncodeCounter(counts.duplicates));
  if (counts.rejected)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("rejected"),
                EncodeCounter(counts.rejected));
  if (batch.Count() > 0) {
    if (Status s = store_->Write(batch); !s.ok()) {
      // Nothing of this commit is in state: forget the platforms it would have recorded.
      for (const std::string& p : new_platforms_) platforms_known_.erase(p);
      last_platform_.clear();
      Clear();
      return s;
    }
  }
  Clear();
  return counts;
}

void StateWriter::Clear() {
  staged_ = 0;
  pending_bytes_ = 0;
  pending_ = IngestCounts{};
  bucket_keys_.Clear();
  wm_keys_.Clear();
  contrib_keys_.Clear();
  buckets_.clear();
  added_.clear();
  wms_.clear();
  contribs_.clear();
  complaints_.clear();
  contracts_.clear();
  policies_.clear();
  dead_.clear();
  positions_.clear();
  new_platforms_.clear();
}

}  // namespace flexwatch
