#include "flexwatch/server/tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("flexwatch-tokens-" + std::to_string(::getpid()));
    fs::remove(path_);
  }
  void TearDown() override { fs::remove(path_); }
  fs::path path_;
};

TEST_F(TokenStoreTest, ATokenIsShownOnceAndOnlyItsHashKept) {
  auto store = TokenStore::Load(path_.string());
  ASSERT_TRUE(store.ok());
  auto a = store->Add("p-meal-1");
  auto b = store->Add("p-ride-2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->substr(0, 5), "fwst_");
  EXPECT_EQ(a->size(), 5u + 43u);
  EXPECT_NE(*a, *b);
  std::ifstream in(path_);
  const std::string file((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(file.find(*a), std::string::npos);  // never the token itself
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Read again: each token names its own platform, nothing else does.
  auto again = TokenStore::Load(path_.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Verify(*a), "p-meal-1");
  EXPECT_EQ(again->Verify(*b), "p-ride-2");
  EXPECT_FALSE(again->Verify("").has_value());
  EXPECT_FALSE(again->Verify(a->substr(0, a->size() - 1) + "x").has_value());
  EXPECT_FALSE(again->Add("not a platform").ok());
}

TEST_F(TokenStoreTest, RevokedByIdOrPlatform) {
  auto store = TokenStore::Load(path_.string());
  auto a1 = store->Add("p-meal-1");
  auto a2 = store->Add("p-meal-1");
  auto b = store->Add("p-ride-2");
  const std::string id = store->entries()[2].id;
  EXPECT_EQ(*store->Revoke(id), 1);
  EXPECT_FALSE(TokenStore::Load(path_.string())->Verify(*b).has_value());
  EXPECT_EQ(*store->Revoke("p-meal-1"), 2);
  EXPECT_EQ(*store->Revoke("p-meal-1"), 0);
  auto after = TokenStore::Load(path_.string());
  EXPECT_FALSE(after->Verify(*a1).has_value());
  EXPECT_FALSE(after->Verify(*a2).has_value());
}

TEST_F(TokenStoreTest, AMalformedFileNamesItsLine) {
  std::ofstream(path_) << "# comment\np-meal-1\tabc\tnot-a-hash\n";
  auto store = TokenStore::Load(path_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path_.string() + ":2:"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace flexwatch
