// The outbox: messages written in the batch of the change they report, delivered and deleted by
// the consumer (ingest/src/consumer.cc).

#include "flexwatch/state/meta_keys.h"
#include "store_impl.h"

namespace flexwatch {

using namespace state_detail;

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

}  // namespace flexwatch
