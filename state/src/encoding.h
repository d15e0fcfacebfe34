// How the state's keys and values are laid out in bytes: big-endian integers (so that keys sort
// as numbers), timestamps and days with the sign bit flipped (so that negatives sort first), the
// (platform, worker) prefix. Internal to state/.
#pragma once

#include <rocksdb/slice.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "flexwatch/core/time.h"

namespace flexwatch::state_detail {

inline void PutBE32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutBE64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint32_t GetBE32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
inline uint64_t GetBE64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
// Signed values sort correctly as unsigned big-endian once the sign bit is flipped.
inline uint64_t OrderedTs(TimestampMs ts) { return static_cast<uint64_t>(ts) ^ (1ull << 63); }
inline TimestampMs FromOrderedTs(uint64_t v) { return static_cast<TimestampMs>(v ^ (1ull << 63)); }
inline uint32_t OrderedDay(Day d) { return static_cast<uint32_t>(d) ^ (1u << 31); }
inline Day FromOrderedDay(uint32_t v) { return static_cast<Day>(v ^ (1u << 31)); }

inline std::string PartyPrefix(std::string_view platform, std::string_view worker) {
  std::string k;
  k.reserve(platform.size() + worker.size() + 2);
  k.append(platform).push_back('\0');
  k.append(worker).push_back('\0');
  return k;
}

inline std::string_view Sv(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// FNV-1a 64: a stable content hash for dead-letter keys (not security-relevant).
inline uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace flexwatch::state_detail
