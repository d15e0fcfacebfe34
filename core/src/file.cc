#include "flexwatch/core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace flexwatch {
namespace {

std::string Why(int err) { return err ? ": " + std::string(std::strerror(err)) : ""; }

// Writes all of `piece` to `fd`, across short writes and interruptions.
bool WriteAll(int fd, std::string_view piece) {
  while (!piece.empty()) {
    const ssize_t n = ::write(fd, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    piece.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Flushes the folder holding `path`, so that a rename into it is on the disk. Folders that
// cannot be opened or flushed (some file systems refuse) are left as they are: the file itself
// is already flushed.
void SyncFolderOf(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const AppendFn& append)>& fill) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp + Why(errno));
  int err = 0;
  std::string buffer;  // small pieces are written 64 KiB at a time
  auto flush = [&] {
    if (err == 0 && !WriteAll(fd, buffer)) err = errno ? errno : EIO;
    buffer.clear();
  };
  Status filled = fill([&](std::string_view piece) {
    if (buffer.size() + piece.size() > (64u << 10)) flush();
    if (piece.size() > (64u << 10)) {
      if (err == 0 && !WriteAll(fd, piece)) err = errno ? errno : EIO;
    } else {
      buffer.append(piece);
    }
    return err == 0;
  });
  flush();
  if (filled.ok() && err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0 && filled.ok()) err = errno;
  if (!filled.ok() || err != 0) {
    ::unlink(tmp.c_str());
    return filled.ok() ? Status::IOError("cannot write " + tmp + Why(err)) : filled;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    return Status::IOError("cannot rename " + tmp + " to " + path + Why(err));
  }
  SyncFolderOf(path);
  return Status::OK();
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  return WriteFileAtomically(path, [&](const AppendFn& append) {
    append(content);
    return Status::OK();
  });
}

}  // namespace flexwatch
