// The fuzzer's kept corpus as a regression test: every input still satisfies the property.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../fuzz/decoder_property.h"

namespace flexwatch {
namespace {

TEST(DecoderCorpus, EveryKeptInputSatisfiesTheProperty) {
  namespace fs = std::filesystem;
  Decoder decoder;
  simdjson::dom::parser parser;
  int files = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(FLEXWATCH_SOURCE_DIR) / "ingest/fuzz/corpus")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(CheckDecoderProperty(decoder, parser, ss.str()), "") << entry.path();
    ++files;
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace flexwatch
