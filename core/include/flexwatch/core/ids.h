// Identifiers as the event contract defines them (docs/events.md): event, platform and worker
// ids, topic names and version strings all share one alphabet.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace flexwatch {

// True when s is 1..max_len characters of [A-Za-z0-9._:-].
bool IsValidId(std::string_view s, size_t max_len);

// The part of a file name derived from an id: the id itself, led by '_' when it would start
// with '-' (an option) or '.' (a hidden file, or "." and ".."), as ids accepted before version
// 1.1 of the contract may.
std::string FileStem(std::string_view id);

}  // namespace flexwatch
