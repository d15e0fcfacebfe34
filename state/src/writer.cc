#include "flexwatch/state/writer.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>

namespace flexwatch {
namespace {

// Dense numbering of the distinct keys of one commit: Intern(key) gives 0, 1, 2... in order of
// first sight; the keys can then be visited in key order. Lookups take the key by view, so a
// repeated key costs no allocation.
class KeyIndex {
 public:
  uint32_t Intern(std::string_view key) {
    auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    keys_.push_back(std::make_unique<std::string>(key));
    const uint32_t id = static_cast<uint32_t>(keys_.size() - 1);
    index_.emplace(*keys_.back(), id);
    return id;
  }
  const std::string& key(uint32_t id) const { return *keys_[id]; }
  // rank[id]: the position of key(id) among all keys in sorted order.
  std::vector<uint32_t> SortedRanks() const {
    std::vector<uint32_t> order = InKeyOrder(), rank(order.size());
    for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
    return rank;
  }
  std::vector<std::string> SortedKeys(const std::vector<uint32_t>& rank) const {
    std::vector<std::string> out(keys_.size());
    for (uint32_t id = 0; id < keys_.size(); ++id) out[rank[id]] = *keys_[id];
    return out;
  }
  std::vector<uint32_t> InKeyOrder() const {
    std::vector<uint32_t> order(keys_.size());
    for (uint32_t id = 0; id < order.size(); ++id) order[id] = id;
    std::sort(order.begin(), order.end(),
              [this](uint32_t a, uint32_t b) { return *keys_[a] < *keys_[b]; });
    return order;
  }

 private:
  std::vector<std::unique_ptr<std::string>> keys_;
  std::unordered_map<std::string_view, uint32_t> index_;
};

}  // namespace

StateWriter::StateWriter(Store* store) : store_(store) {}
StateWriter::~StateWriter() = default;

void StateWriter::Add(const Event& event) {
  if (staged_events_ == events_.size()) events_.emplace_back();
  events_[staged_events_++] = event;
}

void StateWriter::AddRejection(std::string_view source, int64_t line, std::string_view raw,
                               std::string dead_letter_json) {
  dead_.emplace_back(keys::DeadLetter(source, line, raw), std::move(dead_letter_json));
  ++staged_rejections_;
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
  IngestCounts counts;
  const size_t n = staged_events_;

  // 1. Group the staged ids by seen bucket (hash map, then the few unique buckets sorted), and
  //    within a bucket by suffix and arrival, so the first arrival of a repeated id is applied.
  KeyIndex buckets;
  struct Id {
    uint32_t bucket, suffix, index;
  };
  std::vector<Id> ids(n);
  std::string scratch;
  for (size_t i = 0; i < n; ++i) {
    keys::AppendSeenBucket(scratch, events_[i].platform_id, events_[i].event_id);
    ids[i] = Id{buckets.Intern(scratch), keys::SeenSuffix(events_[i].event_id),
                static_cast<uint32_t>(i)};
  }
  const std::vector<uint32_t> rank = buckets.SortedRanks();
  std::sort(ids.begin(), ids.end(), [&rank](const Id& a, const Id& b) {
    if (a.bucket != b.bucket) return rank[a.bucket] < rank[b.bucket];
    return a.suffix != b.suffix ? a.suffix < b.suffix : a.index < b.index;
  });
  const std::vector<std::string> sorted_buckets = buckets.SortedKeys(rank);
  std::vector<std::string> sets;
  if (Status s = store_->LoadSeenSets(sorted_buckets, sets); !s.ok()) return s;
  std::vector<bool> apply(n, false);
  std::vector<std::string> new_sets(sorted_buckets.size());
  {
    std::vector<uint16_t> added;
    for (size_t j = 0; j < n; ++j) {
      const Id& id = ids[j];
      const uint32_t r = rank[id.bucket];
      const bool repeat = j > 0 && ids[j - 1].bucket == id.bucket && ids[j - 1].suffix == id.suffix;
      if (!repeat && !SeenSetContains(sets[r], static_cast<uint16_t>(id.suffix))) {
        apply[id.index] = true;
        added.push_back(static_cast<uint16_t>(id.suffix));
      }
      if (j + 1 == n || ids[j + 1].bucket != id.bucket) {
        if (!added.empty()) new_sets[r] = EncodeSeenSet(added.data(), added.size());
        added.clear();
      }
    }
  }

  // 2. Fold the applied events per key: one merge per worker-month (or contribution, or
  //    complaint cell) per commit, each column family written in key order, which keeps
  //    memtable inserts cheap.
  KeyIndex wm_keys, contrib_keys;
  std::vector<WorkerMonth> wms;
  std::vector<ContributionTotal> contribs;
  std::map<std::string, int64_t> complaints;
  std::vector<std::pair<std::string, std::string>> contracts, policies;
  std::vector<std::string> new_platforms;
  for (size_t i = 0; i < n; ++i) {
    if (!apply[i]) {
      ++counts.duplicates;
      continue;
    }
    ++counts.accepted;
    const Event& e = events_[i];
    if (platforms_known_.insert(e.platform_id).second) new_platforms.push_back(e.platform_id);
    switch (e.type) {
      case EventType::kOrder: {
        keys::AppendWorkerMonthKey(scratch, BeijingPeriod(e.ts), e.platform_id, e.worker_id);
        uint32_t k = wm_keys.Intern(scratch);
        if (k == wms.size()) wms.emplace_back();
        wms[k].AddOrder(e);
        break;
      }
      case EventType::kContract:
        contracts.emplace_back(keys::Contract(e.platform_id, e.worker_id, e.ts, e.event_id),
                               EncodeContract(e));
        break;
      case EventType::kContribution: {
        scratch = keys::Contribution(e.contribution.period, e.platform_id, e.worker_id,
                                     e.contribution.scheme, e.contribution.payer);
        uint32_t k = contrib_keys.Intern(scratch);
        if (k == contribs.size()) contribs.emplace_back();
        contribs[k].AddPayment(e);
        break;
      }
      case EventType::kCoverage:
        policies.emplace_back(
            keys::Policy(e.platform_id, e.worker_id, e.coverage.valid_from, e.event_id),
            EncodePolicy(e));
        break;
      case EventType::kComplaint:
        complaints[keys::Complaint(BeijingPeriod(e.ts), e.platform_id, e.complaint.category)] += 1;
        break;
    }
  }
  std::sort(contracts.begin(), contracts.end());
  std::sort(policies.begin(), policies.end());

  rocksdb::WriteBatch batch;
  for (size_t k = 0; k < sorted_buckets.size(); ++k)
    if (!new_sets[k].empty()) batch.Merge(store_->cf(Cf::kSeen), sorted_buckets[k], new_sets[k]);
  for (uint32_t k : wm_keys.InKeyOrder())
    batch.Merge(store_->cf(Cf::kWm), wm_keys.key(k), wms[k].Encode());
  for (uint32_t k : contrib_keys.InKeyOrder())
    batch.Merge(store_->cf(Cf::kContrib), contrib_keys.key(k), contribs[k].Encode());
  for (const auto& [key, count] : complaints)
    batch.Merge(store_->cf(Cf::kComplaints), key, EncodeCounter(count));
  for (const auto& [key, value] : contracts) batch.Put(store_->cf(Cf::kContracts), key, value);
  for (const auto& [key, value] : policies) batch.Put(store_->cf(Cf::kCoverage), key, value);
  for (const std::string& p : new_platforms)
    batch.Put(store_->cf(Cf::kMeta), "platform/" + p, rocksdb::Slice());
  for (auto& [key, json] : dead_) batch.Put(store_->cf(Cf::kDead), key, json);
  counts.rejected = static_cast<int64_t>(dead_.size());
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
    if (Status s = store_->Write(batch); !s.ok()) return s;
  }
  staged_events_ = 0;
  staged_rejections_ = 0;
  dead_.clear();
  positions_.clear();
  return counts;
}

}  // namespace flexwatch
