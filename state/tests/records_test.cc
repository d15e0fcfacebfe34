#include "flexwatch/state/records.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "flexwatch/core/arith.h"

namespace flexwatch {
namespace {

TEST(Records, WorkerMonthRoundTripAndFold) {
  Event e;
  e.type = EventType::kOrder;
  e.ts = *ParseRfc3339("2024-07-03T12:00:00+08:00");
  e.order.sector = Sector::kExpressDelivery;
  e.order.duration = 28500;
  e.order.earnings = 950;
  WorkerMonth a = WorkerMonth::FromOrder(e);
  e.ts = *ParseRfc3339("2024-07-09T12:00:00+08:00");
  e.order.sector = Sector::kFoodDelivery;
  WorkerMonth b = WorkerMonth::FromOrder(e);
  std::string ab, ba;
  ASSERT_TRUE(FoldRecords(a.Encode(), b.Encode(), ab));
  ASSERT_TRUE(FoldRecords(b.Encode(), a.Encode(), ba));
  EXPECT_EQ(ab, ba);  // order does not matter
  WorkerMonth m;
  ASSERT_TRUE(WorkerMonth::Decode(ab, m));
  EXPECT_EQ(m.duration, 57000);
  EXPECT_EQ(m.earnings, 1900);
  EXPECT_EQ(m.TotalOrders(), 2);
  EXPECT_EQ(m.active_days, (1u << 2) | (1u << 8));
  EXPECT_EQ(m.sector_days[static_cast<int>(Sector::kExpressDelivery)], 1u << 2);
  EXPECT_EQ(m.first_order, *ParseRfc3339("2024-07-03T12:00:00+08:00"));
  EXPECT_EQ(m.last_order, *ParseRfc3339("2024-07-09T12:00:00+08:00"));
}

TEST(Records, ContributionFoldsSumsAndMaxBase) {
  ContributionTotal a{1000, 682100, 0, 1, 5, 5}, b{500, 700000, 0, 1, 3, 9};
  std::string out;
  ASSERT_TRUE(FoldRecords(a.Encode(), b.Encode(), out));
  ContributionTotal c;
  ASSERT_TRUE(ContributionTotal::Decode(out, c));
  EXPECT_EQ(c.amount, 1500);
  EXPECT_EQ(c.base, 700000);
  EXPECT_EQ(c.payments, 2);
  EXPECT_EQ(c.first_paid, 3);
  EXPECT_EQ(c.last_paid, 9);
}

TEST(Records, CorruptOrMismatchedRecordsAreRefused) {
  std::string out;
  EXPECT_FALSE(FoldRecords(EncodeCounter(1), ContributionTotal{}.Encode(), out));
  EXPECT_FALSE(FoldRecords("", EncodeCounter(1), out));
  EXPECT_FALSE(FoldRecords(std::string("\x03\xff", 2), EncodeCounter(1), out));
  int64_t n;
  ASSERT_TRUE(FoldRecords(EncodeCounter(2), EncodeCounter(40), out));
  ASSERT_TRUE(DecodeCounter(out, n));
  EXPECT_EQ(n, 42);
}

TEST(Records, FoldingManyAtOnceEqualsFoldingTwoAtATime) {
  std::vector<std::string> encoded;
  for (int i = 0; i < 9; ++i)
    encoded.push_back(
        ContributionTotal{100 * i, 600000 + 37 * (i % 4), i, 1, 50 - i, 50 + i}.Encode());
  std::string pairwise = encoded[0], folded;
  for (size_t i = 1; i < encoded.size(); ++i) {
    ASSERT_TRUE(FoldRecords(pairwise, encoded[i], folded));
    pairwise = folded;
  }
  const std::vector<std::string_view> all(encoded.begin(), encoded.end());
  std::string at_once;
  ASSERT_TRUE(FoldAllRecords(all.data(), all.size(), at_once));
  EXPECT_EQ(at_once, pairwise);
  ContributionTotal c;
  ASSERT_TRUE(ContributionTotal::Decode(at_once, c));
  EXPECT_EQ(c.amount, 3600);
  EXPECT_EQ(c.base, 600000 + 37 * 3);
  EXPECT_EQ(c.payments, 9);
  EXPECT_EQ(c.first_paid, 42);
  EXPECT_EQ(c.last_paid, 58);
  ASSERT_TRUE(FoldAllRecords(all.data(), 1, at_once));
  EXPECT_EQ(at_once, encoded[0]);
  // One record of another kind, or unreadable, anywhere refuses the whole fold.
  const std::string counter = EncodeCounter(1);
  std::vector<std::string_view> mixed = all;
  mixed[4] = counter;
  EXPECT_FALSE(FoldAllRecords(mixed.data(), mixed.size(), at_once));
  mixed[4] = std::string_view(encoded[4]).substr(0, 3);
  EXPECT_FALSE(FoldAllRecords(mixed.data(), mixed.size(), at_once));
  EXPECT_FALSE(FoldAllRecords(all.data(), 0, at_once));
}

TEST(Records, SeenSetsOfTheEarlierLayoutReadBack) {
  const uint16_t a[] = {1, 5, 0x6f31};
  std::vector<uint16_t> out;
  ASSERT_TRUE(SeenSetSuffixes(EncodeSeenSet(a, 3), out));
  EXPECT_EQ(out, (std::vector<uint16_t>{1, 5, 0x6f31}));
  EXPECT_FALSE(SeenSetSuffixes("", out));
  EXPECT_FALSE(SeenSetSuffixes(EncodeCounter(1), out));
}

TEST(Records, SumsSaturateInsteadOfWrapping) {
  WorkerMonth a, b;
  a.earnings = std::numeric_limits<int64_t>::max() - 10;
  b.earnings = 100;
  a.orders[0] = b.orders[0] = 1;
  std::string folded;
  const std::string ea = a.Encode(), eb = b.Encode();
  const std::string_view records[2] = {ea, eb};
  ASSERT_TRUE(FoldAllRecords(records, 2, folded));
  WorkerMonth out;
  ASSERT_TRUE(WorkerMonth::Decode(folded, out));
  EXPECT_EQ(out.earnings, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out.orders[0], 2);
  EXPECT_EQ(SaturatingAdd(std::numeric_limits<int64_t>::max(), 1),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(SaturatingAdd(3, 4), 7);
}

}  // namespace
}  // namespace flexwatch
