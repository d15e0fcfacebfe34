#include "flexwatch/state/writer.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <numeric>

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
  std::vector<std::string> seen_keys(n);
  for (size_t i = 0; i < n; ++i)
    seen_keys[i] = keys::Seen(events_[i].platform_id, events_[i].event_id);
  // Sort indices by key (stable, so the first arrival of a repeated id is the one applied).
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return seen_keys[a] < seen_keys[b]; });
  std::vector<std::string> sorted_keys;
  sorted_keys.reserve(n);
  std::vector<bool> apply(n, false);
  for (size_t j = 0; j < n; ++j) {
    uint32_t i = order[j];
    if (!sorted_keys.empty() && sorted_keys.back() == seen_keys[i]) continue;  // in-batch repeat
    sorted_keys.push_back(seen_keys[i]);
    apply[i] = true;
  }
  std::vector<bool> found;
  if (Status s = store_->LookupSeen(sorted_keys, found); !s.ok()) return s;
  {
    size_t k = 0;
    for (size_t j = 0; j < n; ++j) {
      uint32_t i = order[j];
      if (!apply[i]) continue;
      if (found[k++]) apply[i] = false;
    }
  }

  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < n; ++i) {
    if (!apply[i]) {
      ++counts.duplicates;
      continue;
    }
    ++counts.accepted;
    const Event& e = events_[i];
    batch.Put(store_->cf(Cf::kSeen), seen_keys[i], rocksdb::Slice());
    if (platforms_known_.insert(e.platform_id).second)
      batch.Put(store_->cf(Cf::kMeta), "platform/" + e.platform_id, rocksdb::Slice());
    switch (e.type) {
      case EventType::kOrder:
        batch.Merge(store_->cf(Cf::kWm),
                    keys::WorkerMonthKey(BeijingPeriod(e.ts), e.platform_id, e.worker_id),
                    WorkerMonth::FromOrder(e).Encode());
        break;
      case EventType::kContract:
        batch.Put(store_->cf(Cf::kContracts),
                  keys::Contract(e.platform_id, e.worker_id, e.ts, e.event_id),
                  EncodeContract(e));
        break;
      case EventType::kContribution:
        batch.Merge(store_->cf(Cf::kContrib),
                    keys::Contribution(e.contribution.period, e.platform_id, e.worker_id,
                                       e.contribution.scheme, e.contribution.payer),
                    ContributionTotal::FromEvent(e).Encode());
        break;
      case EventType::kCoverage:
        batch.Put(store_->cf(Cf::kCoverage),
                  keys::Policy(e.platform_id, e.worker_id, e.coverage.valid_from, e.event_id),
                  EncodePolicy(e));
        break;
      case EventType::kComplaint:
        batch.Merge(store_->cf(Cf::kComplaints),
                    keys::Complaint(BeijingPeriod(e.ts), e.platform_id, e.complaint.category),
                    EncodeCounter(1));
        break;
    }
  }
  for (auto& [key, json] : dead_) batch.Put(store_->cf(Cf::kDead), key, json);
  counts.rejected = static_cast<int64_t>(dead_.size());
  for (auto& [source, pos] : positions_)
    batch.Put(store_->cf(Cf::kMeta), keys::PositionKey(source), pos);
  if (counts.accepted)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("accepted"), EncodeCounter(counts.accepted));
  if (counts.duplicates)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("duplicates"),
                EncodeCounter(counts.duplicates));
  if (counts.rejected)
    batch.Merge(store_->cf(Cf::kMeta), keys::CounterKey("rejected"), EncodeCounter(counts.rejected));

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
