#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "flexwatch/state/writer.h"

namespace flexwatch {
namespace {

TEST(KeyIndex, InternsDenselyAndOrdersLikeByteStrings) {
  // Keys over a tiny alphabet including \0, with long shared prefixes and every length, so that
  // ties on 8-byte words, prefixes of other keys and zero bytes all occur.
  std::mt19937 rng(42);
  const std::string alphabet("\0ab\xff", 4);
  std::set<std::string> unique;
  KeyIndex index;
  std::vector<std::string> by_id;
  for (int i = 0; i < 20000; ++i) {
    std::string k = i % 3 ? "p-meal-1" : "";
    size_t len = rng() % 24;
    for (size_t j = 0; j < len; ++j) k.push_back(alphabet[rng() % alphabet.size()]);
    uint32_t id = index.Intern(k);
    if (unique.insert(k).second) {
      EXPECT_EQ(id, by_id.size());
      by_id.push_back(k);
    } else {
      EXPECT_EQ(by_id[id], k);
    }
  }
  ASSERT_EQ(index.size(), unique.size());
  std::vector<std::string> ordered;
  for (uint32_t id : index.InKeyOrder()) ordered.emplace_back(index.key(id));
  EXPECT_EQ(ordered, std::vector<std::string>(unique.begin(), unique.end()));
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Intern("x"), 0u);
}

}  // namespace
}  // namespace flexwatch
