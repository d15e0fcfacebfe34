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

TEST_F(TokenStoreTest, AMalformedLineIsSkippedAndNamedWithoutLockingOthersOut) {
  auto store = TokenStore::Load(path_.string());
  ASSERT_TRUE(store.ok());
  auto token = store->Add("p-meal-2");
  ASSERT_TRUE(token.ok());
  {
    std::ofstream out(path_, std::ios::app);
    out << "p-meal-1\tabc\tnot-a-hash\n..\tabc\t" << std::string(64, 'a') << "\n";
  }
  auto loaded = TokenStore::Load(path_.string());
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->problems().size(), 2u);
  EXPECT_NE(loaded->problems()[0].find(path_.string() + ":3:"), std::string::npos)
      << loaded->problems()[0];
  EXPECT_NE(loaded->problems()[1].find(path_.string() + ":4:"), std::string::npos);
  EXPECT_EQ(loaded->Verify(*token), std::optional<std::string>("p-meal-2"));
}

TEST_F(TokenStoreTest, RevokingATokenIdNeverRevokesAPlatformOfThatName) {
  auto store = TokenStore::Load(path_.string());
  ASSERT_TRUE(store.ok());
  auto a = store->Add("p-meal-1");
  ASSERT_TRUE(a.ok());
  const std::string id = store->entries()[0].id;
  auto b = store->Add(id);  // a platform named like the first token's id
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*store->Revoke(id), 1);
  auto after = TokenStore::Load(path_.string());
  EXPECT_FALSE(after->Verify(*a).has_value());
  EXPECT_EQ(after->Verify(*b), std::optional<std::string>(id));
  EXPECT_EQ(*store->Revoke(id), 1);  // now no token has that id: the platform's go
  EXPECT_FALSE(TokenStore::Load(path_.string())->Verify(*b).has_value());
}

TEST_F(TokenStoreTest, PlatformIdsThatWouldNameFilesBadlyAreRefused) {
  auto store = TokenStore::Load(path_.string());
  for (const char* bad : {".", "..", "-x", "...", "a/b"}) EXPECT_FALSE(store->Add(bad).ok()) << bad;
  EXPECT_TRUE(store->Add("p.meal-1").ok());
}

}  // namespace
}  // namespace flexwatch
