// Decoding and validation of one input line (a file line or a Kafka message) into an Event, every
// rule of spec/events.md enforced. The one path by which every event enters flexwatch.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "flexwatch/core/event.h"

namespace flexwatch {

// The class of a rejection: stable names, used in dead letters and metrics.
enum class RejectCode : uint8_t {
  kNotJson,
  kNotObject,
  kInvalidUtf8,
  kMissingField,
  kWrongType,
  kUnknownEnum,
  kOutOfRange,
  kMalformedTimestamp,
  kMalformedDate,
  kMalformedPeriod,
  kBadId,
  kLineTooLong,
  kDuplicateField,
  kForeignPlatform,  // a self-check feed naming a platform other than the one under check
};
inline constexpr int kRejectCodeCount = 14;
std::string_view RejectCodeName(RejectCode c);

struct Rejection {
  RejectCode code = RejectCode::kNotJson;
  std::string field;    // the offending field, empty when the line as a whole is at fault
  std::string message;  // readable: which field, what was wrong, what was expected
};

struct DecoderOptions {
  // Lines longer than this are rejected unread (protects memory against a runaway producer).
  size_t max_line_bytes = 64 * 1024;
};

// Reusable decoder. Not thread-safe: one per thread.
class Decoder {
 public:
  explicit Decoder(DecoderOptions options = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Bytes that must be readable (any value) after a line passed to DecodePadded.
  static size_t Padding();

  // Decodes `line` into `event` (overwritten). Returns true when valid; otherwise fills
  // `rejection`. REQUIRES: Padding() readable bytes after line.data() + line.size().
  bool DecodePadded(std::string_view line, Event& event, Rejection& rejection);
  // As DecodePadded, copying the line into an internal padded buffer first.
  bool Decode(std::string_view line, Event& event, Rejection& rejection);

  const DecoderOptions& options() const { return options_; }

 private:
  struct Impl;
  DecoderOptions options_;
  std::unique_ptr<Impl> impl_;
};

// True when s is 1..max_len characters of [A-Za-z0-9._:-].
bool IsValidId(std::string_view s, size_t max_len);

}  // namespace flexwatch
