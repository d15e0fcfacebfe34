// The property the decoder fuzzer checks, shared with the corpus regression test: any bytes
// either decode to an event within the contract's bounds or are rejected with a reason whose
// dead letter is valid UTF-8 JSON; asked for every error of a line (the self-check), the decoder
// judges the line the same and tells the same first reason, and every further one has a reason
// too. Returns an empty string when it holds, else what broke.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "flexwatch/core/json.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/ingest/replay.h"

namespace flexwatch {

inline std::string CheckDecoderProperty(Decoder& decoder, simdjson::dom::parser& parser,
                                        std::string_view line) {
  Event event;
  Rejection rej;
  const bool valid = decoder.Decode(line, event, rej);
  static thread_local Decoder every([&decoder] {
    DecoderOptions o = decoder.options();
    o.max_errors_per_line = 10;
    return o;
  }());
  Event again;
  Rejection all;
  if (every.Decode(line, again, all) != valid) return "judged otherwise when every error is told";
  // The same first reason; a future timestamp's quotes the clock as each decoder last read it,
  // which may be a millisecond apart.
  if (!valid && (all.code != rej.code || all.field != rej.field ||
                 (all.code != RejectCode::kFutureTimestamp && all.message != rej.message)))
    return "another first reason when every error is told: " + all.message;
  if (all.also.size() > 9) return "more errors told than asked for";
  for (const Rejection& r : all.also)
    if (r.message.empty()) return "a further error without a reason";
  if (valid) {
    if (!IsValidId(event.event_id, 128)) return "accepted a bad event_id";
    if (!IsValidId(event.platform_id, 64)) return "accepted a bad platform_id";
    if (event.type != EventType::kComplaint && !IsValidId(event.worker_id, 64))
      return "accepted a bad worker_id";
    if (event.type == EventType::kOrder &&
        (event.order.duration < 0 || event.order.duration > 1440000 || event.order.earnings < 0))
      return "accepted an order out of range";
    if (event.type == EventType::kCoverage &&
        (event.coverage.sum_insured <= 0 || event.coverage.valid_to < event.coverage.valid_from))
      return "accepted a coverage out of range";
    return "";
  }
  if (rej.message.empty()) return "rejected without a reason";
  std::string dead = DeadLetterJson(rej, "fuzz", 1, line, false);
  simdjson::dom::element e;
  if (parser.parse(dead).get(e) != simdjson::SUCCESS) return "dead letter is not JSON: " + dead;
  if (!IsUtf8(dead)) return "dead letter is not UTF-8";
  return "";
}

}  // namespace flexwatch
