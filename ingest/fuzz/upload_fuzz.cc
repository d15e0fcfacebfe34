// libFuzzer target for the self-check upload path: an uploaded body (as the API spools it to a
// file) read by the line reader, each line through the decoder (property in decoder_property.h).
// Properties: every byte is accounted for (line numbers consecutive, each line's end offset past
// its newline, the last at the body's end), an over-long line is cut to the limit and says so,
// and no line the decoder takes breaks the decoder's property.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "decoder_property.h"
#include "flexwatch/ingest/line_reader.h"

namespace {

void Fail(const std::string& what) {
  std::fprintf(stderr, "property violated: %s\n", what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static flexwatch::Decoder decoder;
  static simdjson::dom::parser parser;
  constexpr size_t kMaxLine = 256;  // small, so that the fuzzer reaches over-long lines
  const int fd = memfd_create("upload", 0);
  if (fd < 0 || write(fd, data, size) != static_cast<ssize_t>(size)) Fail("memfd");
  auto reader = flexwatch::LineReader::Open("/proc/self/fd/" + std::to_string(fd), kMaxLine,
                                            simdjson::SIMDJSON_PADDING);
  if (!reader.ok()) Fail("open: " + reader.status().message());
  flexwatch::Line line;
  int64_t number = 0;
  uint64_t offset = 0;
  while ((*reader)->Next(line)) {
    if (line.number != ++number) Fail("line numbers skip");
    if (line.end_offset <= offset || line.end_offset > size) Fail("a line's end is out of place");
    offset = line.end_offset;
    if (line.text.size() > kMaxLine) Fail("a line longer than the limit was handed out");
    if (line.too_long != (line.full_length > kMaxLine)) Fail("too_long disagrees with the length");
    if (line.too_long) continue;  // rejected unread, as the upload path does
    const std::string broken = flexwatch::CheckDecoderProperty(decoder, parser, line.text);
    if (!broken.empty()) Fail(broken);
  }
  if (!(*reader)->status().ok()) Fail("read: " + (*reader)->status().message());
  if (offset != size) Fail("bytes after the last line were not read");
  close(fd);
  return 0;
}
