#include "flexwatch/state/writer.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>

namespace flexwatch {

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
  // Group the staged ids by seen bucket; within a bucket by suffix, then arrival (so the first
  // arrival of a repeated id is the one applied).
  struct Id {
    std::string bucket;
    uint16_t suffix;
    uint32_t index;
  };
  std::vector<Id> ids(n);
  for (size_t i = 0; i < n; ++i)
    ids[i] = Id{keys::SeenBucket(events_[i].platform_id, events_[i].event_id),
                keys::SeenSuffix(events_[i].event_id), static_cast<uint32_t>(i)};
  std::sort(ids.begin(), ids.end(), [](const Id& a, const Id& b) {
    if (int c = a.bucket.compare(b.bucket); c != 0) return c < 0;
    return a.suffix != b.suffix ? a.suffix < b.suffix : a.index < b.index;
  });
  std::vector<std::string> buckets;
  for (const Id& id : ids)
    if (buckets.empty() || buckets.back() != id.bucket) buckets.push_back(id.bucket);
  std::vector<std::string> sets;
  if (Status s = store_->LoadSeenSets(buckets, sets); !s.ok()) return s;
  std::vector<bool> apply(n, false);
  std::vector<std::string> new_sets(buckets.size());
  {
    std::vector<uint16_t> added;
    size_t b = 0;
    for (size_t j = 0; j < n; ++j) {
      const Id& id = ids[j];
      while (buckets[b] != id.bucket) ++b;
      const bool repeat = j > 0 && ids[j - 1].bucket == id.bucket && ids[j - 1].suffix == id.suffix;
      if (!repeat && !SeenSetContains(sets[b], id.suffix)) {
        apply[id.index] = true;
        added.push_back(id.suffix);
      }
      if (j + 1 == n || ids[j + 1].bucket != id.bucket) {
        if (!added.empty()) new_sets[b] = EncodeSeenSet(added.data(), added.size());
        added.clear();
      }
    }
  }

  // Fold the applied events per key first: one merge per worker-month (or contribution, or
  // complaint cell) per commit, and each column family's entries written in key order, which
  // keeps memtable inserts cheap.
  std::map<std::string, WorkerMonth> wms;
  std::map<std::string, ContributionTotal> contribs;
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
      case EventType::kOrder:
        wms[keys::WorkerMonthKey(BeijingPeriod(e.ts), e.platform_id, e.worker_id)].AddOrder(e);
        break;
      case EventType::kContract:
        contracts.emplace_back(keys::Contract(e.platform_id, e.worker_id, e.ts, e.event_id),
                               EncodeContract(e));
        break;
      case EventType::kContribution:
        contribs[keys::Contribution(e.contribution.period, e.platform_id, e.worker_id,
                                    e.contribution.scheme, e.contribution.payer)]
            .AddPayment(e);
        break;
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
  for (size_t k = 0; k < buckets.size(); ++k)
    if (!new_sets[k].empty()) batch.Merge(store_->cf(Cf::kSeen), buckets[k], new_sets[k]);
  for (const auto& [key, wm] : wms) batch.Merge(store_->cf(Cf::kWm), key, wm.Encode());
  for (const auto& [key, total] : contribs)
    batch.Merge(store_->cf(Cf::kContrib), key, total.Encode());
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
