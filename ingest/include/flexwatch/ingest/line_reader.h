// Buffered NDJSON line reader over a file or stdin. Lines are handed out with the decoder's padding
// readable after them, so decoding needs no copy. An over-long line is reported (its first bytes
// kept) and skipped to its end without being held in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/status.h"

namespace flexwatch {

struct Line {
  std::string_view text;    // without the newline (and without a trailing '\r')
  int64_t number = 0;       // 1-based
  uint64_t end_offset = 0;  // byte offset just past this line's newline
  bool too_long = false;    // text holds only the first max_line_bytes bytes
  uint64_t full_length = 0;
};

class LineReader {
 public:
  // `path` "-" reads standard input. `padding` bytes are readable after every line's text.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path, size_t max_line_bytes,
                                                  size_t padding);
  ~LineReader();

  // Next line; false at the end of input or on a read error (see status()).
  bool Next(Line& line);
  const Status& status() const { return status_; }
  // Total size when known (a regular file), else 0. For progress display.
  uint64_t size() const { return size_; }
  uint64_t offset() const { return consumed_; }

 private:
  LineReader() = default;
  bool Fill();

  int fd_ = -1;
  bool owns_fd_ = false;
  size_t max_line_ = 0;
  size_t padding_ = 0;
  std::vector<char> buf_;
  std::string long_line_;       // the kept prefix of an over-long line, padded
  size_t begin_ = 0, end_ = 0;  // unread bytes are buf_[begin_, end_)
  bool eof_ = false;
  int64_t line_no_ = 0;
  uint64_t consumed_ = 0;
  uint64_t size_ = 0;
  Status status_;
};

}  // namespace flexwatch
