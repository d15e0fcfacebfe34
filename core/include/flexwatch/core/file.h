// Files written whole or not at all: a crash (or a full disk) leaves the file as it was or as it
// was meant to be, never a part of it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flexwatch/core/status.h"

namespace flexwatch {

// Files made in memory before they are written: each name (a path relative to where they go) and
// its bytes, in order.
using Files = std::vector<std::pair<std::string, std::string>>;

// Writes `content` to `path` through `path`.tmp: written, flushed to the disk (fsync), renamed
// over `path`, and the folder flushed so that the rename itself survives a power cut. On error
// the temporary file is removed and `path` is untouched; the error names the file and the cause.
Status WriteFileAtomically(const std::string& path, std::string_view content);

// The same, for content too large to hold at once: `fill` is given a function that appends a
// piece (and returns false once a write has failed), and returns its own error, if any.
using AppendFn = std::function<bool(std::string_view piece)>;
Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const AppendFn& append)>& fill);

}  // namespace flexwatch
