// Minimal JSON output helpers: exact string escaping and a lossy view of bytes that are not UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace flexwatch {

// True when `s` is valid UTF-8.
bool IsUtf8(std::string_view s);
// Appends `s` as a JSON string literal (quotes included). Bytes that are not valid UTF-8 are
// replaced with U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);
std::string Base64(std::string_view bytes);

}  // namespace flexwatch
