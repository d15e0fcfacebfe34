// Decoding and validation of one input line (a file line or a Kafka message) into an Event, every
// rule of spec/events.md enforced. The one path by which every event enters flexwatch.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/core/event.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/core/lang.h"

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
  // A self-check feed naming a platform other than the one under check, or an event on a
  // platform's own topic (flexwatch.events.<platform_id>) naming another platform.
  kForeignPlatform,
  kFutureTimestamp,  // event time or period after the receiving machine's clock (plus a margin)
  // On a shared topic, on another partition than its platform_id's (murmur2, events.md 1.1).
  kMisrouted,
};
inline constexpr int kRejectCodeCount = 16;
std::string_view RejectCodeName(RejectCode c);
// What a rejection's class means, in a few words of `lang` (the self-check's Chinese report).
std::string_view RejectCodeWords(RejectCode c, Lang lang);

struct Rejection {
  RejectCode code = RejectCode::kNotJson;
  std::string field;    // the offending field, empty when the line as a whole is at fault
  std::string message;  // readable: which field, what was wrong, what was expected
  // The line's further errors, in the contract's field order, when the decoder was asked for more
  // than one (DecoderOptions::max_errors_per_line); empty otherwise.
  std::vector<Rejection> also;
};

// Upper bounds on the values of events.md 1.1 ("Plausible values"): above them an event is
// out_of_range, so that one typo can never overflow a sum or move a month's verdict.
struct ValueLimits {
  Fen earnings = 100'000'00;             // per order
  Fen contribution_base = 1'000'000'00;  // a contribution's declared base
  Fen contribution_amount = 1'000'000'00;
  Fen sum_insured = 100'000'000'00;
  int64_t orders_covered = 1'000'000;
  MilliMinutes duration = 1440'000;  // the contract's own bound (a day)
};

struct DecoderOptions {
  // Lines longer than this are rejected unread (protects memory against a runaway producer).
  size_t max_line_bytes = 64 * 1024;
  ValueLimits limits;
  // An event time later than the clock plus this is future_timestamp (a wrong clock must not
  // close every month); a contribution's period after the clock's month is too.
  int64_t max_future_seconds = 3600;
  // The clock, pinned (tests, reproducible runs); unset: the machine's clock.
  std::optional<TimestampMs> now;
  // Errors told per rejected line: 1 stops at the first (ingest: one reason per dead letter);
  // more (the self-check) goes on with the fields that do not depend on a failed one, so that a
  // line with three mistakes is reported with three. A line that is not JSON has one error.
  int max_errors_per_line = 1;
};

// Event times before this (2000-01-01T00:00 Beijing) are out_of_range, and so are periods
// before 2000-01 and dates outside 2000-01-01..2099-12-31.
inline constexpr TimestampMs kEarliestEventTime = 946656000000LL;  // 1999-12-31T16:00:00Z
// The machine's clock, UTC epoch milliseconds.
TimestampMs SystemNowMs();

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

// A platform id (spec/events.md) that is also safe as a file name and a topic suffix: a valid id
// of at most 64 characters that neither starts with '-' (an option) nor is only dots ("." and
// ".." name folders).
bool IsValidPlatformId(std::string_view s);

}  // namespace flexwatch
