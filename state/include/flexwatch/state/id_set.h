// The seen-id index: which (platform, event_id) the state has applied, at a cost that does not
// depend on the shape of the ids.
//
// Each id becomes a 64-bit value in a class of ids of one shape:
//   'd'  up to 16 bytes without a digit, then 1-19 decimal digits ("o-123", a snowflake id):
//        the number; the class is the prefix and the digit count, so the mapping is exact
//   'x'  1-16 lowercase hex digits, at least one of them a letter ("9f86d081884c7d65"): the
//        number, exact; 'X' the same in uppercase
//   'h'  any other id (a UUID, "<order>-<n>", ...): a 64-bit hash (XXH3), the one place two
//        different ids can meet: see IdCollisionNote
// A class's values are split by their top bits into at most 4096 buckets per platform, none
// narrower than 4096 values (a class of up to 12 bits is one bucket), each a sorted set of the
// values' low bits, delta-coded (Rice), with a 4-bit tag of each id's content
// (ContentTag) to tell a re-delivery from a rewrite. Dense ids (a producer's counter, a
// snowflake's clock) cost a few bits each; random 64-bit values about 64 - log2(ids per bucket)
// + 2 bits, plus the tag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/event.h"

namespace flexwatch {

struct IdSlot {
  std::string cls;     // kind, digit count, prefix ('d')
  uint64_t value = 0;  // the id's value in its class
  int shift = 0;       // value >> shift is the bucket; the low `shift` bits are kept in it
};

// The slot of `id` (out's string keeps its capacity).
void IdSlotOf(std::string_view id, IdSlot& out);

// The index key of `slot`'s bucket: 0xff platform \0 class-length class bucket(2 bytes,
// big-endian), in the `seen` column family. The leading byte, which no UTF-8 text holds, keeps the
// keys apart from the buckets of the earlier layout (platform \0 id-but-2-chars), which
// Store::Open carries over.
inline constexpr char kIdBucketMark = '\xff';
void AppendIdBucketKey(std::string& out, std::string_view platform, const IdSlot& slot);

// The bucket's number in its class: the value's top bits.
inline uint64_t BucketNumber(const IdSlot& slot) {
  return slot.shift >= 64 ? 0 : slot.value >> slot.shift;
}

// The value kept in the bucket: the low bits.
inline uint64_t KeptBits(const IdSlot& slot) {
  return slot.shift >= 64 ? slot.value : slot.value & ((uint64_t{1} << slot.shift) - 1);
}

// A 4-bit digest (1-15) of what the event says besides its id; 0 is kept for "not known" (an id
// carried over from an earlier layout).
uint8_t ContentTag(const Event& e);

// An id as a bucket keeps it in memory: its value (at most kIdValueBits wide; a bucket keeps at
// most 52 bits) above its 4-bit tag, so that one array, ordered by value, holds both.
inline constexpr int kIdValueBits = 60;
inline uint64_t IdEntry(uint64_t value, uint8_t tag) { return value << 4 | (tag & 15u); }
inline uint64_t IdValue(uint64_t entry) { return entry >> 4; }
inline uint8_t IdTag(uint64_t entry) { return static_cast<uint8_t>(entry & 15); }

// A bucket's set: entries (IdEntry) with values strictly increasing. Encoded as a record of kind
// RecordKind::kIdSet (records.h).
struct IdBucket {
  std::vector<uint64_t> entries;
  // In a bucket of kSkipFrom entries or more, the value of every kSkipStep-th entry (Index), so
  // that a lookup whose guess is far off (a snowflake's clock fills its bucket unevenly) walks a
  // small array the caches hold, then one short run of entries.
  static constexpr size_t kSkipStep = 32;
  static constexpr size_t kSkipFrom = 1024;
  std::vector<uint64_t> skip;
  size_t size() const { return entries.size(); }
  // Rebuilds `skip` after `entries` changed.
  void Index();
  // Memory held (capacities).
  size_t bytes() const { return (entries.capacity() + skip.capacity()) * sizeof(uint64_t); }
  // The place of value `v`, or -1. `shift`: the bucket's width (IdSlot::shift), which its values
  // fill about evenly.
  ptrdiff_t Find(uint64_t v, int shift) const;
  // Where Find looks first, to prefetch (REQUIRES: not empty).
  const uint64_t* Guess(uint64_t v, int shift) const;
};
// `n` entries, values strictly increasing and below 2^kIdValueBits.
std::string EncodeIdSet(const uint64_t* entries, size_t n);
// As EncodeIdSet, appended to `out` (a buffer reused from set to set).
void AppendIdSet(std::string& out, const uint64_t* entries, size_t n);
// Appends the set encoded in `in` to `out`, which must then be merged if it was not empty.
// False when `in` is not an id set (or holds a value of more than kIdValueBits).
bool DecodeIdSet(std::string_view in, IdBucket& out);
bool IsIdSet(std::string_view in);
// The union of `n` encoded sets; where several hold a value, the first's tag (the earliest
// arrival) is kept. False when one is not an id set.
bool FoldIdSets(const std::string_view* sets, size_t n, std::string& out);

// What the README says of the chance that two different ids of the hashed class meet.
inline constexpr const char* kIdCollisionNote =
    "two different ids of the hashed class (neither a counter nor hex) are taken for one with a "
    "chance of at most n^2 / 2^65 for a platform with n such ids in the state (README)";

}  // namespace flexwatch
