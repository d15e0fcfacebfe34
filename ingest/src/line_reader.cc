#include "flexwatch/ingest/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace flexwatch {

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path, size_t max_line_bytes,
                                                     size_t padding) {
  auto r = std::unique_ptr<LineReader>(new LineReader());
  if (path == "-") {
    r->fd_ = 0;
  } else {
    r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (r->fd_ < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
    r->owns_fd_ = true;
    struct stat st;
    if (::fstat(r->fd_, &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::IOError(path + " is a directory, not a file");
      if (S_ISREG(st.st_mode)) r->size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  r->max_line_ = max_line_bytes;
  r->padding_ = padding;
  // Room for at least one maximal line plus its newline, and the padding after it.
  r->buf_.resize(std::max<size_t>(4u << 20, 2 * (max_line_bytes + 1)) + padding);
  return r;
}

LineReader::~LineReader() {
  if (owns_fd_) ::close(fd_);
}

// Moves unread bytes to the front and reads more. Returns false when nothing more can be read.
bool LineReader::Fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const size_t cap = buf_.size() - padding_;
  while (end_ < cap) {
    ssize_t n = ::read(fd_, buf_.data() + end_, cap - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = Status::IOError(std::string("read error: ") + std::strerror(errno));
      eof_ = true;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
  return end_ > 0;
}

bool LineReader::Next(Line& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    size_t avail = end_ - begin_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    if (nl == nullptr && avail > max_line_) {
      // Over-long: keep the first max_line_ bytes, skip to the newline.
      line.too_long = true;
      line.number = ++line_no_;
      uint64_t length = avail;
      std::string kept(start, max_line_);
      begin_ = end_;
      consumed_ += avail;
      for (;;) {
        if (!Fill()) break;
        const char* s = buf_.data() + begin_;
        size_t a = end_ - begin_;
        const char* n2 = static_cast<const char*>(std::memchr(s, '\n', a));
        if (n2) {
          size_t used = static_cast<size_t>(n2 - s) + 1;
          length += used - 1;
          begin_ += used;
          consumed_ += used;
          break;
        }
        length += a;
        consumed_ += a;
        begin_ = end_;
      }
      long_line_.assign(kept);
      long_line_.append(padding_, '\0');
      line.text = std::string_view(long_line_.data(), kept.size());
      line.full_length = length;
      line.end_offset = consumed_;
      return true;
    }
    if (nl == nullptr && !eof_) {
      if (!Fill()) {
        if (!status_.ok()) return false;
      }
      continue;
    }
    if (avail == 0) return false;
    size_t len = nl ? static_cast<size_t>(nl - start) : avail;
    size_t used = nl ? len + 1 : len;
    begin_ += used;
    consumed_ += used;
    ++line_no_;
    if (len > 0 && start[len - 1] == '\r') --len;
    if (line_no_ == 1 && len >= 3 && std::memcmp(start, "\xef\xbb\xbf", 3) == 0) {
      start += 3;  // a UTF-8 byte-order mark at the start of a file is not part of the data
      len -= 3;
    }
    line.too_long = len > max_line_;
    line.full_length = len;
    line.text = std::string_view(start, line.too_long ? max_line_ : len);
    line.number = line_no_;
    line.end_offset = consumed_;
    return true;
  }
}

}  // namespace flexwatch
