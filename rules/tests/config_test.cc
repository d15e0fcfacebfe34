#include "flexwatch/rules/config.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

TEST(Config, ShippedFileLoads) {
  auto c = LoadConfig(std::string(FLEXWATCH_SOURCE_DIR) + "/config/flexwatch.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingest.decoder.max_line_bytes, 65536u);
  EXPECT_EQ(c->store.block_cache_bytes, 128ull << 20);
}

TEST(Config, ErrorsNameTheKey) {
  auto c = ParseConfig("ingest:\n  max_line_bytes: 10\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("f.yaml: ingest.max_line_bytes: 10 is out of range"),
            std::string::npos)
      << c.status().message();
  c = ParseConfig("ingest:\n  max_line_byte: 1000\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("ingest.max_line_byte: unknown key"), std::string::npos)
      << c.status().message();
  c = ParseConfig("state:\n  sync_commits: maybe\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("state.sync_commits"), std::string::npos);
  c = ParseConfig("state: [1, 2\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not valid YAML"), std::string::npos);
  c = ParseConfig("state:\n  write_buffer_mb: 512\n  write_buffer_total_mb: 256\n", "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("exceeds"), std::string::npos);
}

TEST(Config, ValuesOverrideDefaults) {
  auto c = ParseConfig("ingest:\n  commit_every: 10\nstate:\n  sync_commits: true\n", "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ingest.commit_every, 10u);
  EXPECT_TRUE(c->store.sync_commits);
}

}  // namespace
}  // namespace flexwatch
