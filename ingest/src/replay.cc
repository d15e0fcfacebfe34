#include "flexwatch/ingest/replay.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "flexwatch/core/file.h"
#include "flexwatch/core/json.h"
#include "flexwatch/ingest/line_reader.h"
#include "flexwatch/state/writer.h"

namespace flexwatch {
namespace {

bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

void Accumulate(IngestCounts& total, const IngestCounts& c) {
  total.accepted += c.accepted;
  total.duplicates += c.duplicates;
  total.rewritten += c.rewritten;
  total.rejected += c.rejected;
}

}  // namespace

std::string SourceName(const std::string& input) { return input == "-" ? "<stdin>" : input; }

std::string DeadLetterJsonAt(const Rejection& rej, std::string_view source,
                             std::string_view position, std::string_view raw, bool truncated) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kCompact).Key("reason").String(rej.message);
  w.Key("reason_code").String(RejectCodeName(rej.code));
  if (!rej.field.empty()) w.Key("field").String(rej.field);
  w.Key("source").String(source).Members(position).Key("raw").String(raw);
  if (!IsUtf8(raw)) w.Key("raw_base64").String(Base64(raw));
  if (truncated) w.Key("raw_truncated").Bool(true);
  return w.EndObject().Take();
}

std::string DeadLetterJson(const Rejection& rej, std::string_view source, int64_t line,
                           std::string_view raw, bool truncated) {
  JsonWriter position;
  position.BeginObject(JsonWriter::kCompact).Key("line").Int(line).EndObject();
  return DeadLetterJsonAt(rej, source, position.str(), raw, truncated);
}

Result<IngestCounts> ReplayFiles(Store& store, const std::vector<std::string>& inputs,
                                 const ReplayOptions& options,
                                 const std::function<void(const ReplayProgress&)>& progress) {
  IngestCounts total;
  Decoder decoder(options.decoder);
  StateWriter writer(&store);
  Rejection rej;
  const std::map<std::string, TimestampMs> watermarks = store.SourceWatermarks();
  for (const std::string& input : inputs) {
    auto reader = LineReader::Open(input, options.decoder.max_line_bytes, Decoder::Padding());
    if (!reader.ok()) return reader.status();
    const std::string source = SourceName(input);
    ReplayProgress prog{source, 0, (*reader)->size(), 0};
    Line line;
    // The file's own watermark: the largest event time it has delivered (rules.md section 4).
    TimestampMs event_time = INT64_MIN;
    if (auto it = watermarks.find(source); it != watermarks.end()) event_time = it->second;
    auto commit = [&]() -> Status {
      std::string position = "{\"line\":" + std::to_string(line.number) +
                             ",\"offset\":" + std::to_string(line.end_offset);
      if (event_time != INT64_MIN) position += ",\"event_time\":" + std::to_string(event_time);
      writer.SetPosition(source, position + "}");
      auto c = writer.Commit();
      if (!c.ok()) return c.status();
      Accumulate(total, *c);
      return Status::OK();
    };
    while ((*reader)->Next(line)) {
      if ((line.number & 0x3ff) == 0 && options.stop && options.stop->load())
        return Status::IOError(source + ": stopped by a signal at line " +
                               std::to_string(line.number));
      if (line.too_long) {
        rej = Rejection{RejectCode::kLineTooLong,
                        "",
                        "line of " + std::to_string(line.full_length) +
                            " bytes is longer than the limit of " +
                            std::to_string(options.decoder.max_line_bytes),
                        {}};
        if (options.on_reject) options.on_reject(rej, source, line.number);
        writer.AddRejection(source, line.number, line.text,
                            DeadLetterJson(rej, source, line.number, line.text, true));
      } else if (IsBlank(line.text)) {
        // Blank lines carry no event: skipped, neither accepted nor rejected.
      } else {
        Event& event = writer.NextEvent();  // decoded in place: Add() need not copy it
        bool valid = decoder.DecodePadded(line.text, event, rej);
        if (valid && !options.only_platform.empty() && event.platform_id != options.only_platform) {
          valid = false;
          rej = Rejection{RejectCode::kForeignPlatform,
                          "platform_id",
                          "platform_id \"" + event.platform_id +
                              "\" is not the platform under check (\"" + options.only_platform +
                              "\")",
                          {}};
        }
        if (valid) {
          event_time = std::max(event_time, event.ts);
          if (Status s = writer.AddNext(); !s.ok()) return s;
        } else {
          if (options.on_reject) options.on_reject(rej, source, line.number);
          writer.AddRejection(source, line.number, line.text,
                              DeadLetterJson(rej, source, line.number, line.text, false));
        }
      }
      if (writer.staged() >= options.commit_every ||
          writer.pending_bytes() >= options.commit_max_bytes) {
        if (Status s = commit(); !s.ok()) return s;
      }
      if (progress && (line.number & 0xffff) == 0) {  // every 65,536 lines
        prog.bytes_done = (*reader)->offset();
        prog.lines = line.number;
        progress(prog);
      }
    }
    if (!(*reader)->status().ok())
      return Status::IOError(source + ": " + (*reader)->status().message());
    // Read to its end, the file holds no other source back: months close up to its watermark.
    if (event_time != INT64_MIN) writer.AdvanceClosingWatermark(event_time);
    if (Status s = commit(); !s.ok()) return s;
    if (progress) {
      prog.bytes_done = (*reader)->offset();
      prog.lines = line.number;
      progress(prog);
    }
  }
  return total;
}

Status WriteDeadLetterFile(Store& store, const std::string& path) {
  return WriteFileAtomically(path, [&](const AppendFn& append) {
    return store.ForEachDeadLetter([&](std::string_view json) {
      append(json);
      append("\n");
    });
  });
}

}  // namespace flexwatch
