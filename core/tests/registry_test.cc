#include "flexwatch/core/registry.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

// GB 32100-2015's check character, against values worked out independently: a code given as
// valid in python-stdnum's documentation, and the check characters another implementation gives
// for three codes issued before the standard (whose printed last characters differ from them).
TEST(CreditCodeTest, TheCheckCharacterOfGB32100IsVerified) {
  EXPECT_TRUE(IsCreditCode("91110000600037341L"));
  EXPECT_EQ(CreditCodeCheck("91350100M0001TGQX"), '1');
  EXPECT_EQ(CreditCodeCheck("91350211M0000XUF4"), 'R');
  EXPECT_EQ(CreditCodeCheck("91350203M0001FUE2"), 'J');
  EXPECT_FALSE(IsCreditCode("91350100M0001TGQXM"));  // as printed, not as the standard says
  EXPECT_FALSE(IsCreditCode("91110000600037342L"));  // one character changed
  EXPECT_FALSE(IsCreditCode("91110000600037341"));   // 17 characters
  EXPECT_FALSE(IsCreditCode("911100006000373I1L"));  // I is not in the alphabet
  EXPECT_FALSE(IsCreditCode("91110000600037341l"));  // lower case
}

TEST(IssuerTest, TheDocumentNumberFillsTheYearAndSequence) {
  Issuer i;
  i.document_number = "京人社监〔{year}〕{seq}号";
  EXPECT_EQ(i.DocumentNumber(2024, 12), "京人社监〔2024〕12号");
}

TEST(IssueRecordTest, EncodedAndReadBackAndInWords) {
  IssueRecord r;
  r.day = DaysFromCivil(2024, 10, 20);
  r.seq = 3;
  EXPECT_EQ(r.Encode(), "2024-10-20 3");
  const std::optional<IssueRecord> back = IssueRecord::Decode(r.Encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->day, r.day);
  EXPECT_EQ(back->seq, 3);
  EXPECT_EQ(back->Year(), 2024);
  EXPECT_EQ(r.DateWords(Lang::kZh), "2024年10月20日");
  EXPECT_EQ(r.DateWords(Lang::kEn), "20 October 2024");
  for (const char* bad : {"", "2024-10-20", "2024-10-20 0", "2024-13-01 1", "2024-10-20 x"})
    EXPECT_FALSE(IssueRecord::Decode(bad)) << bad;
}

}  // namespace
}  // namespace flexwatch
