// The seen-id index's pieces: each id shape's class and value, the encoded sets (every gap size,
// the escape, the tags), their union as the merge operator folds it, and what they cost.
#include "flexwatch/state/id_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

IdSlot Slot(std::string_view id) {
  IdSlot s;
  IdSlotOf(id, s);
  return s;
}

TEST(IdSlot, EachShapeHasItsClassAndTheCommonOnesMapExactly) {
  EXPECT_EQ(Slot("o-123").cls, std::string("d\x03o-", 4));
  EXPECT_EQ(Slot("o-123").value, 123u);
  EXPECT_EQ(Slot("o-0123").cls, std::string("d\x04o-", 4));  // leading zeros: another class
  EXPECT_EQ(Slot("595407289714450435").cls, std::string("d\x12", 2));  // a snowflake
  EXPECT_EQ(Slot("595407289714450435").value, 595407289714450435u);
  EXPECT_EQ(Slot("9f86d081884c7d65").cls, std::string("x\x10", 2));
  EXPECT_EQ(Slot("9f86d081884c7d65").value, 0x9f86d081884c7d65u);
  EXPECT_EQ(Slot("9F86D081884C7D65").cls, std::string("X\x10", 2));
  EXPECT_EQ(Slot("1b4e28ba-2fa1-4d2b-883f-0016d3cca427").cls, "h");  // a UUID: hashed
  EXPECT_EQ(Slot("ord-17-3").cls, "h");                              // digits in the prefix: hashed
  EXPECT_EQ(Slot("99999999999999999999").cls, "h");                  // 20 digits: hashed
  EXPECT_EQ(Slot("a-very-long-prefix-1").cls, "h");  // a prefix over 16 bytes: hashed
  EXPECT_NE(Slot("o-1").value, Slot("o-2").value);
  // Ids of one class never share a value; the same id always has the same slot.
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const char* id : {"1", "01", "001", "a", "A", "0a", "0A", "x1", "x01", "1x", "ff", "FF",
                         "fF", "-1", "+1", " 1"})
    EXPECT_TRUE(seen.insert({Slot(id).cls, Slot(id).value}).second) << id;
  EXPECT_EQ(Slot("abc").value, Slot("abc").value);
}

TEST(IdSlot, BucketsSplitAClassByItsTopBitsAtMost4096WaysAndNeverFinerThan4096Values) {
  std::set<std::string> buckets;
  std::string key;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
    IdSlot s = Slot(hex);
    if (s.cls[0] != 'x') continue;  // all digits: decimal, another class
    AppendIdBucketKey(key, "p-1", s);
    buckets.insert(key);
    EXPECT_LT(KeptBits(s), uint64_t{1} << 52);
  }
  EXPECT_EQ(buckets.size(), 4096u);
  buckets.clear();
  for (int i = 1; i <= 100000; ++i) {  // a producer's counter: consecutive ids share buckets
    AppendIdBucketKey(key, "p-1", Slot("o-" + std::to_string(i)));
    buckets.insert(key);
  }
  EXPECT_LT(buckets.size(), 40u);
}

std::vector<uint64_t> Entries(const std::vector<uint64_t>& values,
                              const std::vector<uint8_t>& tags) {
  std::vector<uint64_t> entries;
  for (size_t i = 0; i < values.size(); ++i) entries.push_back(IdEntry(values[i], tags[i]));
  return entries;
}

constexpr uint64_t kLargest = (uint64_t{1} << kIdValueBits) - 1;

void RoundTrip(const std::vector<uint64_t>& values) {
  std::vector<uint8_t> tags(values.size());
  for (size_t i = 0; i < values.size(); ++i) tags[i] = static_cast<uint8_t>(i % 16);
  const std::vector<uint64_t> entries = Entries(values, tags);
  const std::string encoded = EncodeIdSet(entries.data(), entries.size());
  EXPECT_TRUE(IsIdSet(encoded));
  IdBucket back;
  ASSERT_TRUE(DecodeIdSet(encoded, back));
  EXPECT_EQ(back.entries, entries);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(IdValue(back.entries[i]), values[i]);
    EXPECT_EQ(IdTag(back.entries[i]), tags[i]);
    EXPECT_EQ(back.Find(values[i], kIdValueBits), ptrdiff_t(i));
  }
}

// Find guesses a place from the value and the bucket's width: right whatever the spread (even,
// clustered, one value, the extremes of 64 bits), for values there and values not.
TEST(IdSet, FindIsRightWhateverTheSpread) {
  std::mt19937_64 rng(9);
  std::vector<std::vector<uint64_t>> sets = {
      {}, {7}, {0, kLargest}, {1, 2, 3, 1000000, 1000001, kLargest - 1}};
  std::set<uint64_t> even, clustered;
  while (even.size() < 5000) even.insert(rng() >> 12);
  for (uint64_t c = 0; c < 5; ++c)
    for (uint64_t i = 0; i < 300; ++i) clustered.insert((c << 40) + i * (c + 1));
  sets.emplace_back(even.begin(), even.end());
  sets.emplace_back(clustered.begin(), clustered.end());
  for (const std::vector<uint64_t>& values : sets) {
    IdBucket b;
    b.entries = Entries(values, std::vector<uint8_t>(values.size(), 5));
    std::vector<uint64_t> probes = values;
    for (int i = 0; i < 2000; ++i) probes.push_back(rng() >> (i % 3 == 0 ? 4 : 12));
    for (uint64_t v : values) probes.insert(probes.end(), {v - 1, v + 1});
    for (bool indexed : {false, true}) {  // the large sets searched through `skip` too
      if (indexed) b.Index();
      ASSERT_EQ(!b.skip.empty(), indexed && values.size() >= IdBucket::kSkipFrom);
      for (uint64_t v : probes) {
        const auto it = std::lower_bound(values.begin(), values.end(), v);
        const ptrdiff_t want = it != values.end() && *it == v ? it - values.begin() : -1;
        for (int shift : {12, 52, 60})  // the width right or wrong: only the cost differs
          ASSERT_EQ(b.Find(v, shift), want) << v << " in a set of " << values.size();
      }
    }
  }
}

TEST(IdSet, EverySetComesBackAsItWent) {
  RoundTrip({});
  RoundTrip({0});
  RoundTrip({kLargest});
  RoundTrip({0, 1, 2, 3, 4, 5});
  RoundTrip({0, kLargest});                                          // the largest gap
  RoundTrip({5, 6, 7, uint64_t{1} << 40, (uint64_t{1} << 40) + 1});  // an escape between small gaps
  std::mt19937_64 rng(3);
  for (int bits : {1, 8, 20, 40, 52, 60})
    for (size_t n : {1u, 2u, 3u, 17u, 1000u}) {
      if (bits < 12 && n > (1u << bits)) continue;
      std::set<uint64_t> v;
      while (v.size() < n) v.insert(rng() >> (64 - bits));
      RoundTrip(std::vector<uint64_t>(v.begin(), v.end()));
    }
}

// The layout on disk, worked out by hand from EncodeIdSet's comment: values 5, 6, 1000 with tags
// 1, 2, 15. Mean gap (1000 + 1) / 3, so k = 7; tags 0x12 0xf0; gaps 5, 0 and 993 (q = 7, low
// bits 97): 0|0000101 0|0000000 1111111|0|1100001, padded with a zero.
TEST(IdSet, TheLayoutIsAsDocumented) {
  const std::vector<uint64_t> e = {IdEntry(5, 1), IdEntry(6, 2), IdEntry(1000, 15)};
  const std::string want = {
      static_cast<char>(RecordKind::kIdSet), 3, 7, '\x12', '\xf0', '\x05', '\x00', '\xfe', '\xc2'};
  EXPECT_EQ(EncodeIdSet(e.data(), e.size()), want);
}

TEST(IdSet, ABrokenSetIsRefused) {
  const std::vector<uint64_t> v = Entries({1, 1000, 1000000}, {1, 2, 3});
  const std::string encoded = EncodeIdSet(v.data(), v.size());
  IdBucket out;
  EXPECT_FALSE(DecodeIdSet("", out));
  EXPECT_FALSE(DecodeIdSet(encoded.substr(0, 3), out));
  std::string other = encoded;
  other[0] = static_cast<char>(RecordKind::kCounter);
  EXPECT_FALSE(DecodeIdSet(other, out));
  // One value of 2^62 (an escape: 64 ones, then the gap in 64 bits), wider than an entry holds;
  // and two values whose gaps add up past it.
  std::string wide = {static_cast<char>(RecordKind::kIdSet), 1, 0, 0};
  wide.append(8, '\xff');
  wide.append(1, '\x40');
  wide.append(7, '\0');
  EXPECT_FALSE(DecodeIdSet(wide, out));
  std::string sum = {static_cast<char>(RecordKind::kIdSet), 2, 0, 0};
  for (int i = 0; i < 2; ++i) {
    sum.append(8, '\xff');
    sum.append(1, '\x08');  // 2^59 each
    sum.append(7, '\0');
  }
  EXPECT_FALSE(DecodeIdSet(sum, out));
  wide[wide.size() - 8] = '\x08';
  IdBucket fits;
  ASSERT_TRUE(DecodeIdSet(wide, fits));
  EXPECT_EQ(fits.entries, std::vector<uint64_t>{IdEntry(uint64_t{1} << 59, 0)});
}

TEST(IdSet, TheUnionKeepsTheFirstArrivalsTag) {
  const std::vector<uint64_t> a = {1, 5, 9}, b = {2, 5, 10}, c = {5, 11};
  const std::vector<uint8_t> ta = {1, 1, 1}, tb = {2, 2, 2}, tc = {3, 3};
  const std::vector<uint64_t> ea = Entries(a, ta), eb = Entries(b, tb), ec = Entries(c, tc);
  const std::string sets[3] = {EncodeIdSet(ea.data(), 3), EncodeIdSet(eb.data(), 3),
                               EncodeIdSet(ec.data(), 2)};
  const std::string_view views[3] = {sets[0], sets[1], sets[2]};
  std::string folded;
  ASSERT_TRUE(FoldIdSets(views, 3, folded));
  IdBucket u;
  ASSERT_TRUE(DecodeIdSet(folded, u));
  EXPECT_EQ(u.entries, Entries({1, 2, 5, 9, 10, 11}, {1, 2, 1, 1, 2, 3}));
  // As the merge operator folds them, two at a time or all at once.
  std::string pair;
  ASSERT_TRUE(FoldRecords(sets[1], sets[2], pair));
  std::string again;
  ASSERT_TRUE(FoldRecords(sets[0], pair, again));
  EXPECT_EQ(again, folded);
  const std::string counter = EncodeCounter(1);
  const std::string_view mixed[2] = {sets[0], counter};
  EXPECT_FALSE(FoldIdSets(mixed, 2, folded));
}

// What a set costs per id: a producer's counter a few bits, random 52-bit values (a hex id or a
// hash, below its bucket's 12 bits) about 52 - log2(n) + 2 bits, each with its 4-bit tag.
TEST(IdSet, DenseIdsCostBitsAndRandomOnesTheirEntropy) {
  std::vector<uint64_t> dense;
  for (uint64_t i = 0; i < 4000; ++i) dense.push_back(i * 6);  // one id in six is this platform's
  const std::vector<uint8_t> tags(4000, 7);
  const std::vector<uint64_t> dense_entries = Entries(dense, tags);
  const double dense_bits = 8.0 * EncodeIdSet(dense_entries.data(), 4000).size() / 4000;
  EXPECT_LT(dense_bits, 4 + 5);
  std::mt19937_64 rng(11);
  std::set<uint64_t> random;
  while (random.size() < 4000) random.insert(rng() >> 12);
  const std::vector<uint64_t> r = Entries({random.begin(), random.end()}, tags);
  const double random_bits = 8.0 * EncodeIdSet(r.data(), 4000).size() / 4000;
  EXPECT_LT(random_bits, 52 - 11.96 + 2 + 4 + 1);
  EXPECT_GT(random_bits, 52 - 11.96 + 4);
}

TEST(ContentTag, TellsARewriteFromARedelivery) {
  Event e;
  e.type = EventType::kOrder;
  e.event_id = "o-1";
  e.ts = 1720000000000;
  e.platform_id = "p";
  e.worker_id = "w";
  e.order.duration = 60000;
  const uint8_t tag = ContentTag(e);
  EXPECT_GE(tag, 1);
  EXPECT_LE(tag, 15);
  Event same = e;
  same.event_id = "o-1";
  EXPECT_EQ(ContentTag(same), tag);
  // Over many rewrites of the duration, all but about one in 15 get another tag.
  int differ = 0;
  for (int i = 1; i <= 1500; ++i) {
    Event edited = e;
    edited.order.duration = 60000 - i;
    differ += ContentTag(edited) != tag;
  }
  EXPECT_GT(differ, 1300);
}

}  // namespace
}  // namespace flexwatch
