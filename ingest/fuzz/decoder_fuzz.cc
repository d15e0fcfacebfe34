// libFuzzer target for the decoder (property in decoder_property.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "decoder_property.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static flexwatch::Decoder decoder;
  static simdjson::dom::parser parser;
  std::string broken = flexwatch::CheckDecoderProperty(
      decoder, parser, std::string_view(reinterpret_cast<const char*>(data), size));
  if (!broken.empty()) {
    std::fprintf(stderr, "property violated: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
