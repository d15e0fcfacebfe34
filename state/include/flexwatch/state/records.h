// Aggregate records kept in state and folded by RocksDB merge operators. A record is a schema id
// byte followed by zigzag varints; each field has a fold (sum, max, min, or) so that applying
// events in any order gives the same record (arrival order never matters).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/event.h"

namespace flexwatch {

enum class Fold : uint8_t { kSum, kMax, kMin, kOr };

enum class RecordKind : uint8_t {
  kWorkerMonth = 1,
  kContribution = 2,
  kCounter = 3,
  kSeenSet = 4,
  kMaximum = 5,
  kIdSet = 6  // id_set.h
};

// One worker x platform x Beijing calendar month, from `order` events.
struct WorkerMonth {
  MilliMinutes duration = 0;
  Fen earnings = 0;
  std::array<int64_t, kSectorCount> orders{};
  uint32_t active_days = 0;                          // bit d-1 set: worked on day d of the month
  std::array<uint32_t, kSectorCount> sector_days{};  // per sector, days with an order of it
  TimestampMs first_order = INT64_MAX;
  TimestampMs last_order = INT64_MIN;

  int64_t TotalOrders() const;
  // Folds one order in (the same fold the merge operator applies to encoded records).
  void AddOrder(const Event& e);
  std::string Encode() const;
  static bool Decode(std::string_view in, WorkerMonth& out);
  static WorkerMonth FromOrder(const Event& e);
};

// Contributions of one worker, platform, period, scheme and payer, summed over payment events.
struct ContributionTotal {
  Fen amount = 0;
  Fen base = 0;  // the largest declared base (a payment made in parts declares it each time)
  int64_t orders_covered = 0;
  int64_t payments = 0;
  TimestampMs first_paid = INT64_MAX;
  TimestampMs last_paid = INT64_MIN;

  void AddPayment(const Event& e);
  // Folds another total of the same scheme and payer in (the merge operator's fold).
  void Add(const ContributionTotal& o);
  std::string Encode() const;
  static bool Decode(std::string_view in, ContributionTotal& out);
};

// The earlier layout of the seen ids, read only to carry a state over to the index (id_set.h):
// the ids that share all but their last two characters under one key, the platform, \0 and those
// characters; its value the sorted set of the last two characters, two bytes each.
std::string EncodeSeenSet(const uint16_t* sorted_suffixes, size_t n);
// Every suffix of a set of the earlier layout, in order (false: not one).
bool SeenSetSuffixes(std::string_view encoded, std::vector<uint16_t>& out);

std::string EncodeCounter(int64_t n);
bool DecodeCounter(std::string_view in, int64_t& out);
// A value folded by maximum (the event-time watermark).
std::string EncodeMaximum(int64_t v);
bool DecodeMaximum(std::string_view in, int64_t& out);

// Folds `b` into `a` (both encoded records of the same kind). Returns false on corruption.
bool FoldRecords(std::string_view a, std::string_view b, std::string& out);
// Folds `n` (at least one) encoded records of one kind with fields (not seen-id sets, which
// FoldRecords unions), oldest first, into `out`: each decoded once and the result encoded once.
// Returns false on corruption.
bool FoldAllRecords(const std::string_view* records, size_t n, std::string& out);

}  // namespace flexwatch
