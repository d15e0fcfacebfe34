#include "flexwatch/core/file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "flexwatch/core/ids.h"
#include "support.h"

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using FileTest = testing::TempDirTest;

TEST_F(FileTest, ReplacesTheFileWholeAndLeavesNoTemporary) {
  const std::string path = (dir_ / "a.json").string();
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string(200000, 'x') + "end").ok());
  EXPECT_EQ(Slurp(path), std::string(200000, 'x') + "end");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(FileTest, PiecesOfAnySizeArriveInOrder) {
  const std::string path = (dir_ / "pieces").string();
  std::string expected;
  ASSERT_TRUE(WriteFileAtomically(path, [&](const AppendFn& append) {
                for (int i = 0; i < 5000; ++i) {
                  const std::string piece =
                      std::to_string(i) + (i % 997 ? "," : std::string(70000, 'y'));
                  expected += piece;
                  if (!append(piece)) return Status::IOError("append");
                }
                return Status::OK();
              }).ok());
  EXPECT_EQ(Slurp(path), expected);
}

TEST_F(FileTest, AnErrorLeavesTheOldFile) {
  const std::string path = (dir_ / "kept").string();
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  Status s = WriteFileAtomically(path, [](const AppendFn& append) {
    append("half");
    return Status::InvalidArgument("the producer failed");
  });
  EXPECT_EQ(s.message(), "the producer failed");
  EXPECT_EQ(Slurp(path), "old");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  // A folder that does not exist is named in the error.
  s = WriteFileAtomically((dir_ / "missing" / "f").string(), "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing/f.tmp"), std::string::npos) << s.ToString();
}

TEST_F(FileTest, AFullDeviceIsAnError) {
  // /dev/full takes the place of the temporary file: every write fails with ENOSPC.
  const std::string path = (dir_ / "f").string();
  fs::create_symlink("/dev/full", path + ".tmp");
  Status s = WriteFileAtomically(path, "content");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.ToString();
  EXPECT_FALSE(fs::exists(path));
}

TEST(IdsTest, TheContractsAlphabetAndLength) {
  EXPECT_TRUE(IsValidId("p-meal_1.a:b", 64));
  EXPECT_FALSE(IsValidId("", 64));
  EXPECT_FALSE(IsValidId("abc", 2));
  EXPECT_FALSE(IsValidId("a b", 64));
  EXPECT_FALSE(IsValidId("a/b", 64));
  EXPECT_FALSE(IsValidId("\xe4\xb8\xad", 64));
  EXPECT_EQ(FileStem("p-1"), "p-1");
  EXPECT_EQ(FileStem("-rf"), "_-rf");
  EXPECT_EQ(FileStem(".."), "_..");
}

}  // namespace
}  // namespace flexwatch
