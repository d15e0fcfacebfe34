#include "flexwatch/ingest/line_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace flexwatch {
namespace {

std::string WriteTemp(const std::string& content) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("lr-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                         .string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::vector<Line> ReadAll(const std::string& path, size_t max, std::vector<std::string>& texts) {
  auto r = LineReader::Open(path, max, 64);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<Line> lines;
  Line l;
  while ((*r)->Next(l)) {
    lines.push_back(l);
    texts.emplace_back(l.text);
  }
  EXPECT_TRUE((*r)->status().ok());
  return lines;
}

TEST(LineReader, NumbersLinesAndStripsCrAndBom) {
  std::string path = WriteTemp("\xef\xbb\xbf{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}");
  std::vector<std::string> t;
  auto lines = ReadAll(path, 1024, t);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(t[0], "{\"a\":1}");
  EXPECT_EQ(t[1], "");
  EXPECT_EQ(t[2], "{\"b\":2}");
  EXPECT_EQ(lines[2].number, 3);
  EXPECT_EQ(t[3], "{\"c\":3}");  // last line without a newline
  EXPECT_EQ(lines[3].end_offset, std::filesystem::file_size(path));
  std::filesystem::remove(path);
}

TEST(LineReader, OverLongLineIsCutAndSkipped) {
  std::string big(5000, 'x');
  std::string path = WriteTemp("{\"a\":1}\n" + big + "\n{\"b\":2}\n");
  std::vector<std::string> t;
  auto lines = ReadAll(path, 300, t);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].full_length, 5000u);
  EXPECT_EQ(t[1].size(), 300u);
  EXPECT_EQ(t[2], "{\"b\":2}");
  EXPECT_EQ(lines[2].number, 3);
  std::filesystem::remove(path);
}

TEST(LineReader, ManyLinesAcrossBufferRefills) {
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "{\"i\":" + std::to_string(i) + "}\n";
  std::string path = WriteTemp(content);
  std::vector<std::string> t;
  auto lines = ReadAll(path, 1024, t);
  ASSERT_EQ(lines.size(), 200000u);
  EXPECT_EQ(t[123456], "{\"i\":123456}");
  std::filesystem::remove(path);
}

TEST(LineReader, MissingFileIsAnError) {
  auto r = LineReader::Open("/nonexistent/feed.ndjson", 1024, 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot open /nonexistent/feed.ndjson"), std::string::npos);
}

}  // namespace
}  // namespace flexwatch
