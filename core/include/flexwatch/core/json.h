// JSON output: exact string escaping (bytes that are not UTF-8 replaced, so the output is always
// valid JSON), and a small writer that keeps commas, colons and indentation right.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flexwatch {

// True when `s` is valid UTF-8.
bool IsUtf8(std::string_view s);
// Appends `s` as a JSON string literal (quotes included). Bytes that are not valid UTF-8 are
// replaced with U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);
std::string Base64(std::string_view bytes);

// Writes one JSON document into a string, value by value. Each object or array is laid out
// inline (`{"a": 1, "b": [2, 3]}`) or as a block, each member on a line of its own indented two
// spaces per block it is in (inline objects and arrays around a block do not indent it):
//
//   JsonWriter w;
//   w.BeginObject(JsonWriter::kBlock).Key("kind").String("monthly").Key("rules").BeginObject();
//   w.Key("id").String("beijing").EndObject().Key("platforms").BeginArray(JsonWriter::kBlock);
//   ...
//   w.EndArray().EndObject();
//   std::string json = w.Take();  // {\n  "kind": "monthly",\n  "rules": {"id": ...}, ...\n}
//
// An empty block is written `{}` or `[]`. Misuse (a value where a key is due, an unbalanced end)
// is a programming error, checked by assertions in debug builds.
class JsonWriter {
 public:
  // kCompact: inline without spaces (`{"a":1,"b":[2,3]}`), for lines other programs read.
  enum Layout { kInline, kBlock, kCompact };

  JsonWriter& BeginObject(Layout layout = kInline);
  JsonWriter& EndObject();
  JsonWriter& BeginArray(Layout layout = kInline);
  JsonWriter& EndArray();
  // In an object: the next member's name; its value follows.
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // A value already written as JSON (a number in its own format, a document made elsewhere).
  JsonWriter& Raw(std::string_view json);
  // The members of an object already written as JSON (`{...}`), spliced into the current object.
  JsonWriter& Members(std::string_view object_json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  struct Frame {
    Layout layout;
    int count = 0;
  };
  void BeforeValue();
  JsonWriter& Begin(char open, Layout layout);
  JsonWriter& End(char close);

  std::string out_;
  std::vector<Frame> frames_;
  size_t blocks_ = 0;  // blocks open: the indentation, two spaces each
  bool after_key_ = false;
};

}  // namespace flexwatch
