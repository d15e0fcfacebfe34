#include "flexwatch/core/json.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

TEST(JsonWriter, InlineObjectsAndArraysSeparateWithCommaAndSpace) {
  JsonWriter w;
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().Int(2).String("x").Null().EndArray();
  w.Key("c").Bool(false).Key("d").Raw("0.125").EndObject();
  EXPECT_EQ(w.str(), R"({"a": 1, "b": [2, "x", null], "c": false, "d": 0.125})");
}

TEST(JsonWriter, BlocksPutEachMemberOnItsOwnLineIndentedByNesting) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kBlock).Key("kind").String("monthly");
  w.Key("platforms").BeginArray(JsonWriter::kBlock);
  w.BeginObject(JsonWriter::kBlock).Key("id").String("p").Key("tiers").BeginObject();
  w.Key("a").Int(1).EndObject().EndObject();
  w.EndArray().EndObject();
  EXPECT_EQ(w.str(),
            "{\n"
            "  \"kind\": \"monthly\",\n"
            "  \"platforms\": [\n"
            "    {\n"
            "      \"id\": \"p\",\n"
            "      \"tiers\": {\"a\": 1}\n"
            "    }\n"
            "  ]\n"
            "}");
}

TEST(JsonWriter, ABlockInsideAnInlineObjectIsIndentedByTheBlocksAroundIt) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kBlock).Key("platforms").BeginArray(JsonWriter::kBlock);
  w.BeginObject().Key("id").String("p").Key("months").BeginArray(JsonWriter::kBlock);
  w.BeginObject().Key("n").Int(1).EndObject().EndArray().EndObject().EndArray().EndObject();
  EXPECT_EQ(w.str(),
            "{\n"
            "  \"platforms\": [\n"
            "    {\"id\": \"p\", \"months\": [\n"
            "      {\"n\": 1}\n"
            "    ]}\n"
            "  ]\n"
            "}");
}

TEST(JsonWriter, CompactLayoutsHaveNoSpaces) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kCompact).Key("a").Int(1).Key("b").BeginArray(JsonWriter::kCompact);
  w.Int(2).Int(3).EndArray().Members(R"({"c":4})").EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[2,3],"c":4})");
}

TEST(JsonWriter, EmptyBlocksAreWrittenClosed) {
  JsonWriter w;
  w.BeginObject(JsonWriter::kBlock).Key("list").BeginArray(JsonWriter::kBlock).EndArray();
  w.Key("map").BeginObject(JsonWriter::kBlock).EndObject().EndObject();
  EXPECT_EQ(w.str(), "{\n  \"list\": [],\n  \"map\": {}\n}");
}

TEST(JsonWriter, StringsAndKeysAreEscapedAndAlwaysValidUtf8) {
  JsonWriter w;
  w.BeginObject().Key("q\"k").String("line\n\t\\ \x01 \xff").EndObject();
  EXPECT_EQ(w.str(), "{\"q\\\"k\": \"line\\n\\t\\\\ \\u0001 \xef\xbf\xbd\"}");
}

TEST(JsonWriter, MembersOfAWrittenObjectAreSplicedIn) {
  JsonWriter w;
  w.BeginArray().BeginObject().Key("worker").String("w_1").Members(R"({"a": 1, "b": [2]})");
  w.EndObject().BeginObject().Members("{}").Key("c").Int(3).EndObject().EndArray();
  EXPECT_EQ(w.str(), R"([{"worker": "w_1", "a": 1, "b": [2]}, {"c": 3}])");
}

TEST(JsonWriter, ATopLevelValueStandsAlone) {
  JsonWriter w;
  w.String("x");
  EXPECT_EQ(w.Take(), "\"x\"");
}

}  // namespace
}  // namespace flexwatch
