#include "flexwatch/state/records.h"

#include <algorithm>
#include <vector>

#include "flexwatch/core/arith.h"
#include "flexwatch/state/id_set.h"

namespace flexwatch {
namespace {

constexpr size_t kWorkerMonthFields = 2 + kSectorCount + 1 + kSectorCount + 2;
constexpr size_t kContributionFields = 6;
constexpr size_t kMaxFields = kWorkerMonthFields;

const Fold* FoldsOf(RecordKind kind, size_t& n) {
  static const std::array<Fold, kWorkerMonthFields> kWm = [] {
    std::array<Fold, kWorkerMonthFields> f{};
    size_t i = 0;
    f[i++] = Fold::kSum;  // duration
    f[i++] = Fold::kSum;  // earnings
    for (int s = 0; s < kSectorCount; ++s) f[i++] = Fold::kSum;
    f[i++] = Fold::kOr;  // active days
    for (int s = 0; s < kSectorCount; ++s) f[i++] = Fold::kOr;
    f[i++] = Fold::kMin;  // first order
    f[i++] = Fold::kMax;  // last order
    return f;
  }();
  static const std::array<Fold, kContributionFields> kContrib = {
      Fold::kSum, Fold::kMax, Fold::kSum, Fold::kSum, Fold::kMin, Fold::kMax};
  static const std::array<Fold, 1> kCounter = {Fold::kSum};
  static const std::array<Fold, 1> kMaximum = {Fold::kMax};
  switch (kind) {
    case RecordKind::kWorkerMonth:
      n = kWm.size();
      return kWm.data();
    case RecordKind::kContribution:
      n = kContrib.size();
      return kContrib.data();
    case RecordKind::kCounter:
      n = kCounter.size();
      return kCounter.data();
    case RecordKind::kMaximum:
      n = kMaximum.size();
      return kMaximum.data();
    case RecordKind::kSeenSet:  // not records of fields: folded by set union
    case RecordKind::kIdSet:
      break;
  }
  n = 0;
  return nullptr;
}

void PutVarint(std::string& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<char>(z | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));
}

bool GetVarint(std::string_view& in, int64_t& v) {
  uint64_t z = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    z |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      return true;
    }
  }
  return false;
}

std::string EncodeFields(RecordKind kind, const int64_t* fields, size_t n) {
  std::string out;
  out.reserve(1 + n * 2);
  out.push_back(static_cast<char>(kind));
  for (size_t i = 0; i < n; ++i) PutVarint(out, fields[i]);
  return out;
}

// Decodes a record of the expected kind into `fields`; returns the number of fields or 0.
size_t DecodeFields(std::string_view in, RecordKind& kind, int64_t* fields) {
  if (in.empty()) return 0;
  kind = static_cast<RecordKind>(in.front());
  size_t n = 0;
  if (!FoldsOf(kind, n) || n == 0) return 0;
  in.remove_prefix(1);
  for (size_t i = 0; i < n; ++i)
    if (!GetVarint(in, fields[i])) return 0;
  return in.empty() ? n : 0;
}

}  // namespace

int64_t WorkerMonth::TotalOrders() const {
  int64_t n = 0;
  for (int64_t o : orders) n = SaturatingAdd(n, o);
  return n;
}

std::string WorkerMonth::Encode() const {
  std::array<int64_t, kWorkerMonthFields> f{};
  size_t i = 0;
  f[i++] = duration;
  f[i++] = earnings;
  for (int64_t o : orders) f[i++] = o;
  f[i++] = active_days;
  for (uint32_t d : sector_days) f[i++] = d;
  f[i++] = first_order;
  f[i++] = last_order;
  return EncodeFields(RecordKind::kWorkerMonth, f.data(), f.size());
}

bool WorkerMonth::Decode(std::string_view in, WorkerMonth& out) {
  std::array<int64_t, kMaxFields> f{};
  RecordKind kind;
  if (DecodeFields(in, kind, f.data()) != kWorkerMonthFields || kind != RecordKind::kWorkerMonth)
    return false;
  size_t i = 0;
  out.duration = f[i++];
  out.earnings = f[i++];
  for (auto& o : out.orders) o = f[i++];
  out.active_days = static_cast<uint32_t>(f[i++]);
  for (auto& d : out.sector_days) d = static_cast<uint32_t>(f[i++]);
  out.first_order = f[i++];
  out.last_order = f[i++];
  return true;
}

void WorkerMonth::AddOrder(const Event& e) {
  const int s = static_cast<int>(e.order.sector);
  duration = SaturatingAdd(duration, e.order.duration);
  earnings = SaturatingAdd(earnings, e.order.earnings);
  orders[s] = SaturatingAdd(orders[s], 1);
  const uint32_t bit = 1u << (CivilOfDay(BeijingDay(e.ts)).day - 1);
  active_days |= bit;
  sector_days[s] |= bit;
  first_order = std::min(first_order, e.ts);
  last_order = std::max(last_order, e.ts);
}

WorkerMonth WorkerMonth::FromOrder(const Event& e) {
  WorkerMonth wm;
  wm.AddOrder(e);
  return wm;
}

std::string ContributionTotal::Encode() const {
  std::array<int64_t, kContributionFields> f = {amount,   base,       orders_covered,
                                                payments, first_paid, last_paid};
  return EncodeFields(RecordKind::kContribution, f.data(), f.size());
}

bool ContributionTotal::Decode(std::string_view in, ContributionTotal& out) {
  std::array<int64_t, kMaxFields> f{};
  RecordKind kind;
  if (DecodeFields(in, kind, f.data()) != kContributionFields || kind != RecordKind::kContribution)
    return false;
  out = ContributionTotal{f[0], f[1], f[2], f[3], f[4], f[5]};
  return true;
}

void ContributionTotal::AddPayment(const Event& e) {
  const ContributionFields& c = e.contribution;
  amount = SaturatingAdd(amount, c.amount);
  base = std::max(base, c.base);
  orders_covered = SaturatingAdd(orders_covered, c.orders_covered);
  payments = SaturatingAdd(payments, 1);
  first_paid = std::min(first_paid, e.ts);
  last_paid = std::max(last_paid, e.ts);
}

void ContributionTotal::Add(const ContributionTotal& o) {
  amount = SaturatingAdd(amount, o.amount);
  base = std::max(base, o.base);
  orders_covered = SaturatingAdd(orders_covered, o.orders_covered);
  payments = SaturatingAdd(payments, o.payments);
  first_paid = std::min(first_paid, o.first_paid);
  last_paid = std::max(last_paid, o.last_paid);
}

std::string EncodeCounter(int64_t n) { return EncodeFields(RecordKind::kCounter, &n, 1); }

namespace {
// A record of one field of the given kind.
bool DecodeSingle(std::string_view in, RecordKind want, int64_t& out) {
  RecordKind kind;
  std::array<int64_t, kMaxFields> f{};
  if (DecodeFields(in, kind, f.data()) != 1 || kind != want) return false;
  out = f[0];
  return true;
}
}  // namespace

bool DecodeCounter(std::string_view in, int64_t& out) {
  return DecodeSingle(in, RecordKind::kCounter, out);
}

std::string EncodeMaximum(int64_t v) { return EncodeFields(RecordKind::kMaximum, &v, 1); }

bool DecodeMaximum(std::string_view in, int64_t& out) {
  return DecodeSingle(in, RecordKind::kMaximum, out);
}

std::string EncodeSeenSet(const uint16_t* sorted_suffixes, size_t n) {
  std::string out;
  out.reserve(1 + 2 * n);
  out.push_back(static_cast<char>(RecordKind::kSeenSet));
  for (size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>(sorted_suffixes[i] >> 8));
    out.push_back(static_cast<char>(sorted_suffixes[i] & 0xff));
  }
  return out;
}

namespace {
uint16_t SuffixAt(std::string_view set, size_t i) {
  return static_cast<uint16_t>((static_cast<uint8_t>(set[1 + 2 * i]) << 8) |
                               static_cast<uint8_t>(set[2 + 2 * i]));
}
bool IsSeenSet(std::string_view s) {
  return !s.empty() && static_cast<RecordKind>(s[0]) == RecordKind::kSeenSet && s.size() % 2 == 1;
}
}  // namespace

bool SeenSetSuffixes(std::string_view set, std::vector<uint16_t>& out) {
  if (!IsSeenSet(set)) return false;
  out.clear();
  for (size_t i = 0; i < (set.size() - 1) / 2; ++i) out.push_back(SuffixAt(set, i));
  return true;
}

bool FoldRecords(std::string_view a, std::string_view b, std::string& out) {
  const std::string_view both[2] = {a, b};
  return FoldAllRecords(both, 2, out);
}

bool FoldAllRecords(const std::string_view* records, size_t count, std::string& out) {
  if (count == 0) return false;
  if (IsIdSet(records[0])) return FoldIdSets(records, count, out);
  std::array<int64_t, kMaxFields> fa{}, fb{};
  RecordKind ka, kb;
  const size_t n = DecodeFields(records[0], ka, fa.data());
  if (n == 0) return false;
  size_t unused = 0;
  const Fold* folds = FoldsOf(ka, unused);
  for (size_t r = 1; r < count; ++r) {
    if (DecodeFields(records[r], kb, fb.data()) != n || kb != ka) return false;
    for (size_t i = 0; i < n; ++i) {
      switch (folds[i]) {
        case Fold::kSum:
          fa[i] = SaturatingAdd(fa[i], fb[i]);
          break;
        case Fold::kMax:
          fa[i] = std::max(fa[i], fb[i]);
          break;
        case Fold::kMin:
          fa[i] = std::min(fa[i], fb[i]);
          break;
        case Fold::kOr:
          fa[i] |= fb[i];
          break;
      }
    }
  }
  out = EncodeFields(ka, fa.data(), n);
  return true;
}

}  // namespace flexwatch
