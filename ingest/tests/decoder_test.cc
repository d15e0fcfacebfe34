#include "flexwatch/ingest/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flexwatch {
namespace {

const std::string kOrder =
    R"({"type":"order","event_id":"o-1","ts":"2024-07-03T12:34:56+08:00","platform_id":"p-meal","worker_id":"w-1","sector":"food_delivery","duration_min":28,"earnings_cny":9.5,"district":"chaoyang"})";
const std::string kContract =
    R"({"type":"contract","event_id":"c-1","ts":"2024-06-30T09:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","action":"signed","form":"outsourcing","counterparty_id":"agency-17"})";
const std::string kPension =
    R"({"type":"contribution","event_id":"s-1","ts":"2024-08-10T10:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","period":"2024-07","scheme":"pension","payer":"employer","base_cny":6821,"amount_cny":1091.36})";
const std::string kOi =
    R"({"type":"contribution","event_id":"s-2","ts":"2024-08-05T10:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","period":"2024-07","scheme":"occupational_injury","payer":"platform","amount_cny":42.3,"orders_covered":423})";
const std::string kCoverage =
    R"({"type":"coverage","event_id":"v-1","ts":"2024-06-28T10:00:00+08:00","platform_id":"p-meal","worker_id":"w-1","product":"accident","sum_insured_cny":100000,"valid_from":"2024-07-01","valid_to":"2024-07-31"})";
const std::string kComplaint =
    R"({"type":"complaint","event_id":"q-1","ts":"2024-07-20T18:00:00+08:00","platform_id":"p-meal","category":"no_contract"})";

// Replaces the first occurrence of `from` in `s`.
std::string Sub(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

struct Outcome {
  bool ok;
  Event event;
  Rejection rej;
};

Outcome DecodeLine(const std::string& line, DecoderOptions o = {}) {
  Decoder d(o);
  Outcome out;
  out.ok = d.Decode(line, out.event, out.rej);
  return out;
}

void ExpectReject(const std::string& line, RejectCode code, const std::string& field,
                  const std::string& needle) {
  Outcome o = DecodeLine(line);
  ASSERT_FALSE(o.ok) << line;
  EXPECT_EQ(RejectCodeName(o.rej.code), RejectCodeName(code)) << o.rej.message;
  EXPECT_EQ(o.rej.field, field) << o.rej.message;
  EXPECT_NE(o.rej.message.find(needle), std::string::npos)
      << "message '" << o.rej.message << "' lacks '" << needle << "'";
}

TEST(Decoder, AcceptsTheContractExamples) {
  Outcome o = DecodeLine(kOrder);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.type, EventType::kOrder);
  EXPECT_EQ(o.event.order.sector, Sector::kFoodDelivery);
  EXPECT_EQ(o.event.order.duration, 28000);
  EXPECT_EQ(o.event.order.earnings, 950);
  EXPECT_EQ(o.event.order.district, "chaoyang");
  EXPECT_EQ(o.event.platform_id, "p-meal");

  o = DecodeLine(kContract);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.contract.form, ContractForm::kOutsourcing);
  EXPECT_EQ(o.event.contract.counterparty_id, "agency-17");

  o = DecodeLine(kPension);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.contribution.base, 682100);
  EXPECT_EQ(o.event.contribution.amount, 109136);
  EXPECT_EQ(FormatPeriod(o.event.contribution.period), "2024-07");

  o = DecodeLine(kOi);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.contribution.orders_covered, 423);
  EXPECT_EQ(o.event.contribution.amount, 4230);
  EXPECT_EQ(o.event.contribution.base, 0);

  o = DecodeLine(kCoverage);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.coverage.sum_insured, 10000000);
  EXPECT_EQ(o.event.coverage.valid_to - o.event.coverage.valid_from, 30);

  o = DecodeLine(kComplaint);
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_TRUE(o.event.worker_id.empty());
  EXPECT_EQ(o.event.complaint.category, ComplaintCategory::kNoContract);
}

TEST(Decoder, IgnoresUnknownFieldsButNotBrokenJsonInThem) {
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "}", R"(,"extra":{"a":[1,2,{"b":null}]}})")).ok);
  ExpectReject(Sub(kOrder, "\"district\"", R"("extra":[1,,2],"district")"), RejectCode::kNotJson,
               "", "not valid JSON");
}

TEST(Decoder, NotJson) {
  ExpectReject(kOrder.substr(0, kOrder.size() / 2), RejectCode::kNotJson, "", "not valid JSON");
  ExpectReject(kOrder + " trailing", RejectCode::kNotJson, "", "not valid JSON");
  ExpectReject("{'type':'order'}", RejectCode::kNotJson, "", "not valid JSON");
}

TEST(Decoder, NotObject) {
  ExpectReject("[1,2]", RejectCode::kNotObject, "", "expected a JSON object, got array");
  ExpectReject("\"order\"", RejectCode::kNotObject, "", "got string");
  ExpectReject("42", RejectCode::kNotObject, "", "got number");
}

TEST(Decoder, InvalidUtf8) {
  ExpectReject(Sub(kOrder, "chaoyang", "chao\xffyang"), RejectCode::kInvalidUtf8, "",
               "not valid UTF-8");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "chaoyang", "\xe6\x9c\x9d\xe9\x98\xb3")).ok);  // 朝阳
}

TEST(Decoder, MissingField) {
  ExpectReject(Sub(kOrder, R"("type":"order",)", ""), RejectCode::kMissingField, "type",
               "required on every event");
  ExpectReject(Sub(kOrder, R"("event_id":"o-1",)", ""), RejectCode::kMissingField, "event_id",
               "missing");
  ExpectReject(Sub(kOrder, R"("worker_id":"w-1",)", ""), RejectCode::kMissingField, "worker_id",
               "required on order events");
  ExpectReject(Sub(kOrder, R"(,"earnings_cny":9.5)", ""), RejectCode::kMissingField, "earnings_cny",
               "missing");
  ExpectReject(Sub(kPension, R"("base_cny":6821,)", ""), RejectCode::kMissingField, "base_cny",
               "missing");
  ExpectReject(Sub(kOi, R"(,"orders_covered":423)", ""), RejectCode::kMissingField,
               "orders_covered", "missing");
  ExpectReject(Sub(kCoverage, R"(,"valid_to":"2024-07-31")", ""), RejectCode::kMissingField,
               "valid_to", "missing");
  ExpectReject(Sub(kContract, R"(,"counterparty_id":"agency-17")", ""), RejectCode::kMissingField,
               "counterparty_id", "missing");
  ExpectReject(Sub(kComplaint, R"(,"category":"no_contract")", ""), RejectCode::kMissingField,
               "category", "missing");
  // Optional fields may be absent (or null).
  EXPECT_TRUE(DecodeLine(Sub(kOrder, R"(,"district":"chaoyang")", "")).ok);
  EXPECT_TRUE(DecodeLine(Sub(kOrder, R"("chaoyang")", "null")).ok);
  EXPECT_TRUE(DecodeLine(Sub(kComplaint, "}", R"(,"worker_id":"w-9"})")).ok);
}

TEST(Decoder, WrongType) {
  ExpectReject(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":\"28\""),
               RejectCode::kWrongType, "duration_min", "expected a number, got string");
  ExpectReject(Sub(kOrder, R"("platform_id":"p-meal")", R"("platform_id":7)"),
               RejectCode::kWrongType, "platform_id", "expected a string, got number");
  ExpectReject(Sub(kOrder, R"("type":"order")", R"("type":null)"), RejectCode::kWrongType, "type",
               "got null");
  ExpectReject(Sub(kOi, "423", "42.5"), RejectCode::kWrongType, "orders_covered",
               "expected an integer");
  ExpectReject(Sub(kOrder, "9.5", "true"), RejectCode::kWrongType, "earnings_cny", "got boolean");
}

TEST(Decoder, UnknownEnum) {
  ExpectReject(Sub(kOrder, R"("type":"order")", R"("type":"orders")"), RejectCode::kUnknownEnum,
               "type", "unknown value \"orders\" (expected one of: order, contract");
  ExpectReject(Sub(kOrder, "food_delivery", "drone_delivery"), RejectCode::kUnknownEnum, "sector",
               "drone_delivery");
  ExpectReject(Sub(kContract, "\"signed\"", "\"ended\""), RejectCode::kUnknownEnum, "action",
               "ended");
  ExpectReject(Sub(kContract, "outsourcing", "gig"), RejectCode::kUnknownEnum, "form", "gig");
  ExpectReject(Sub(kPension, "\"pension\"", "\"pensions\""), RejectCode::kUnknownEnum, "scheme",
               "pensions");
  ExpectReject(Sub(kPension, "\"employer\"", "\"state\""), RejectCode::kUnknownEnum, "payer",
               "state");
  ExpectReject(Sub(kCoverage, "\"accident\"", "\"life\""), RejectCode::kUnknownEnum, "product",
               "life");
  ExpectReject(Sub(kComplaint, "no_contract", "rude"), RejectCode::kUnknownEnum, "category",
               "rude");
}

TEST(Decoder, OutOfRange) {
  ExpectReject(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":1441"), RejectCode::kOutOfRange,
               "duration_min", "expected 0-1440");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":1440")).ok);
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":0")).ok);
  ExpectReject(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":-1"), RejectCode::kOutOfRange,
               "duration_min", "expected 0-1440");
  ExpectReject(Sub(kOrder, "9.5", "-0.01"), RejectCode::kOutOfRange, "earnings_cny", ">= 0");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "9.5", "0")).ok);
  ExpectReject(Sub(kOrder, "9.5", "9.505"), RejectCode::kOutOfRange, "earnings_cny",
               "more than 2 decimals");
  ExpectReject(Sub(kCoverage, "100000", "0"), RejectCode::kOutOfRange, "sum_insured_cny", "> 0");
  ExpectReject(Sub(kPension, "1091.36", "-1"), RejectCode::kOutOfRange, "amount_cny", ">= 0");
  ExpectReject(Sub(kOi, "423", "-1"), RejectCode::kOutOfRange, "orders_covered", ">= 0");
  ExpectReject(Sub(kOi, "\"amount_cny\"", "\"base_cny\":5000,\"amount_cny\""),
               RejectCode::kOutOfRange, "base_cny", "absent or 0");
  EXPECT_TRUE(DecodeLine(Sub(kOi, "\"amount_cny\"", "\"base_cny\":0,\"amount_cny\"")).ok);
  ExpectReject(Sub(kPension, "}", ",\"orders_covered\":3}"), RejectCode::kOutOfRange,
               "orders_covered", "only allowed for scheme occupational_injury");
  ExpectReject(Sub(kCoverage, "2024-07-31", "2024-06-30"), RejectCode::kOutOfRange, "valid_to",
               "before valid_from");
  EXPECT_TRUE(DecodeLine(Sub(kCoverage, "2024-07-31", "2024-07-01")).ok);
}

TEST(Decoder, MalformedTimestampDateAndPeriod) {
  ExpectReject(Sub(kOrder, "2024-07-03T12:34:56+08:00", "2024-07-03 12:34:56"),
               RejectCode::kMalformedTimestamp, "ts", "RFC 3339");
  ExpectReject(Sub(kOrder, "2024-07-03T12:34:56+08:00", "2024-07-03T12:34:56"),
               RejectCode::kMalformedTimestamp, "ts", "offset");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "2024-07-03T12:34:56+08:00", "2024-07-03T04:34:56Z")).ok);
  ExpectReject(Sub(kCoverage, "2024-07-01", "2024/07/01"), RejectCode::kMalformedDate, "valid_from",
               "YYYY-MM-DD");
  ExpectReject(Sub(kCoverage, "2024-07-31", "2024-06-31"), RejectCode::kMalformedDate, "valid_to",
               "day out of range");
  ExpectReject(Sub(kPension, "\"2024-07\"", "\"2024-7\""), RejectCode::kMalformedPeriod, "period",
               "YYYY-MM");
  ExpectReject(Sub(kPension, "\"2024-07\"", "\"2024-13\""), RejectCode::kMalformedPeriod, "period",
               "month out of range");
}

TEST(Decoder, BadIds) {
  ExpectReject(Sub(kOrder, "\"o-1\"", "\"o 1\""), RejectCode::kBadId, "event_id",
               "[A-Za-z0-9._:-]");
  ExpectReject(Sub(kOrder, "\"o-1\"", "\"\""), RejectCode::kBadId, "event_id", "1-128");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"o-1\"", "\"" + std::string(128, 'a') + "\"")).ok);
  ExpectReject(Sub(kOrder, "\"o-1\"", "\"" + std::string(129, 'a') + "\""), RejectCode::kBadId,
               "event_id", "1-128");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"p-meal\"", "\"" + std::string(64, 'p') + "\"")).ok);
  ExpectReject(Sub(kOrder, "\"p-meal\"", "\"" + std::string(65, 'p') + "\""), RejectCode::kBadId,
               "platform_id", "1-64");
  ExpectReject(Sub(kOrder, "\"w-1\"", "\"w/1\""), RejectCode::kBadId, "worker_id", "w/1");
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"w-1\"", "\"W_1.a:b-c\"")).ok);
  ExpectReject(Sub(kComplaint, "}", R"(,"worker_id":"bad id"})"), RejectCode::kBadId, "worker_id",
               "bad id");
}

TEST(Decoder, LineTooLong) {
  DecoderOptions o;
  o.max_line_bytes = 100;
  Outcome r = DecodeLine(kOrder, o);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.rej.code, RejectCode::kLineTooLong);
  EXPECT_NE(r.rej.message.find("limit of 100"), std::string::npos);
  o.max_line_bytes = kOrder.size();
  EXPECT_TRUE(DecodeLine(kOrder, o).ok);
}

TEST(Decoder, DuplicateField) {
  ExpectReject(Sub(kOrder, "\"district\"", R"("sector":"ride_hailing","district")"),
               RejectCode::kDuplicateField, "", "'sector' appears more than once");
}

TEST(Decoder, EscapedKeysAndValues) {
  Outcome o =
      DecodeLine(Sub(kOrder, "\"district\":\"chaoyang\"", R"("distri\u0063t":"chao\"yang")"));
  ASSERT_TRUE(o.ok) << o.rej.message;
  EXPECT_EQ(o.event.order.district, "chao\"yang");
}

TEST(Decoder, ReusedDecoderResetsOptionalFields) {
  Decoder d;
  Event e;
  Rejection r;
  ASSERT_TRUE(d.Decode(kOrder, e, r));
  ASSERT_TRUE(d.Decode(Sub(kOrder, R"(,"district":"chaoyang")", ""), e, r));
  EXPECT_TRUE(e.order.district.empty());
  ASSERT_TRUE(d.Decode(Sub(kComplaint, "}", R"(,"worker_id":"w-9"})"), e, r));
  ASSERT_TRUE(d.Decode(kComplaint, e, r));
  EXPECT_TRUE(e.worker_id.empty());
}

// events.md 1.1, "Plausible values", against a pinned clock.
TEST(DecoderPlausibility, EventTimesArePlausibleAgainstTheClock) {
  DecoderOptions o;
  o.now = *ParseRfc3339("2024-07-03T12:00:00+08:00");
  auto at = [&](const std::string& ts) {
    return DecodeLine(Sub(kOrder, "2024-07-03T12:34:56+08:00", ts), o);
  };
  EXPECT_TRUE(at("2024-07-03T12:59:59+08:00").ok);  // within max_future_seconds (an hour)
  Outcome late = at("2024-07-03T13:00:01+08:00");
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.rej.code, RejectCode::kFutureTimestamp);
  EXPECT_EQ(RejectCodeName(late.rej.code), "future_timestamp");
  EXPECT_EQ(late.rej.field, "ts");
  EXPECT_NE(late.rej.message.find("2024-07-03T12:00:00.000+08:00"), std::string::npos)
      << late.rej.message;
  for (const char* old :
       {"1999-12-31T23:59:59+08:00", "0000-01-01T00:00:00+08:01", "1970-01-01T00:00:00Z"}) {
    Outcome r = at(old);
    EXPECT_FALSE(r.ok) << old;
    EXPECT_EQ(r.rej.code, RejectCode::kOutOfRange) << old;
  }
  EXPECT_TRUE(at("2000-01-01T00:00:00+08:00").ok);
  o.max_future_seconds = 0;
  EXPECT_FALSE(at("2024-07-03T12:00:00.001+08:00").ok);
  EXPECT_TRUE(at("2024-07-03T12:00:00+08:00").ok);
}

TEST(DecoderPlausibility, PeriodsAndDatesAreBounded) {
  DecoderOptions o;
  o.now = *ParseRfc3339("2024-08-31T23:00:00+08:00");
  auto period = [&](const std::string& p) {
    return DecodeLine(Sub(kPension, "\"2024-07\"", "\"" + p + "\""), o);
  };
  EXPECT_TRUE(period("2024-08").ok);  // the clock's month
  EXPECT_EQ(period("2024-09").rej.code, RejectCode::kFutureTimestamp);
  EXPECT_EQ(period("1999-12").rej.code, RejectCode::kOutOfRange);
  EXPECT_TRUE(period("2000-01").ok);
  auto valid = [&](const std::string& from, const std::string& to) {
    return DecodeLine(Sub(Sub(kCoverage, "2024-07-01", from), "2024-07-31", to), o);
  };
  EXPECT_TRUE(valid("2000-01-01", "2099-12-31").ok);
  EXPECT_EQ(valid("1999-12-31", "2024-07-31").rej.code, RejectCode::kOutOfRange);
  EXPECT_EQ(valid("2024-07-01", "2100-01-01").rej.field, "valid_to");
}

TEST(DecoderPlausibility, ValuesAboveTheirLimitAreOutOfRange) {
  DecoderOptions o;
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "9.5", "100000"), o).ok);
  Outcome high = DecodeLine(Sub(kOrder, "9.5", "100000.01"), o);
  EXPECT_EQ(high.rej.code, RejectCode::kOutOfRange);
  EXPECT_NE(high.rej.message.find("ingest.limits.earnings_cny"), std::string::npos)
      << high.rej.message;
  EXPECT_EQ(DecodeLine(Sub(kOrder, "9.5", "9999999999999.99"), o).rej.code,
            RejectCode::kOutOfRange);
  EXPECT_EQ(DecodeLine(Sub(kPension, "6821", "1000000.01"), o).rej.field, "base_cny");
  EXPECT_EQ(DecodeLine(Sub(kPension, "1091.36", "1000000.01"), o).rej.field, "amount_cny");
  EXPECT_EQ(DecodeLine(Sub(kOi, "423", "1000001"), o).rej.field, "orders_covered");
  EXPECT_EQ(DecodeLine(Sub(kCoverage, "100000", "100000000.01"), o).rej.field, "sum_insured_cny");
  // The limits are the configuration's.
  o.limits.earnings = 5000;  // 50 yuan
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "9.5", "50"), o).ok);
  EXPECT_FALSE(DecodeLine(Sub(kOrder, "9.5", "50.01"), o).ok);
  o.limits.duration = 60 * 1000;
  EXPECT_EQ(DecodeLine(Sub(kOrder, "\"duration_min\":28", "\"duration_min\":61"), o).rej.field,
            "duration_min");
}

TEST(DecoderPlausibility, IdsThatWouldNameFilesBadlyAndUnprintableCounterparties) {
  for (const char* bad : {".", "..", "...", "-x", "-"}) {
    Outcome r = DecodeLine(Sub(kOrder, "\"p-meal\"", std::string("\"") + bad + "\""));
    EXPECT_EQ(r.rej.code, RejectCode::kBadId) << bad;
    EXPECT_EQ(r.rej.field, "platform_id") << bad;
  }
  EXPECT_TRUE(DecodeLine(Sub(kOrder, "\"p-meal\"", "\"p.meal-\"")).ok);
  for (const char* bad :
       {"a\\u001bb", "a\\r\\nb", "a\\u007fb", "a\\u0085b", "a\\u2028b", "a\\u202eb", "a\\u2066b"}) {
    Outcome r = DecodeLine(Sub(kContract, "agency-17", bad));
    EXPECT_EQ(r.rej.code, RejectCode::kBadId) << bad;
    EXPECT_EQ(r.rej.field, "counterparty_id") << bad;
  }
  EXPECT_TRUE(DecodeLine(Sub(kContract, "agency-17", "北京某劳务派遣有限公司 (agency 17)")).ok);
}

TEST(DecoderPlausibility, ReasonsNeverCarryTheProducersControlCharacters) {
  Outcome r = DecodeLine(Sub(kOrder, "food_delivery", "x\\u001b[2J\\r\\nFAKE"));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.rej.code, RejectCode::kUnknownEnum);
  for (char c : r.rej.message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << r.rej.message;
  EXPECT_NE(r.rej.message.find("x\\u001b[2J\\u000d\\u000aFAKE"), std::string::npos)
      << r.rej.message;
}

// The reasons of a rejected line, first and further, as "code field: message" strings.
std::vector<std::string> Reasons(const Outcome& o) {
  std::vector<std::string> out;
  if (o.ok) return out;
  out.push_back(std::string(RejectCodeName(o.rej.code)) + " " + o.rej.field + ": " + o.rej.message);
  for (const Rejection& r : o.rej.also)
    out.push_back(std::string(RejectCodeName(r.code)) + " " + r.field + ": " + r.message);
  return out;
}

TEST(DecoderErrors, ALineWithThreeMistakesTellsThreeWhenAskedAndOneOtherwise) {
  // A wrong sector, a negative duration and earnings written as a string.
  const std::string line =
      Sub(Sub(Sub(kOrder, "food_delivery", "bike"), "\"duration_min\":28", "\"duration_min\":-3"),
          "\"earnings_cny\":9.5", "\"earnings_cny\":\"9.5\"");
  const Outcome one = DecodeLine(line);
  ASSERT_EQ(Reasons(one).size(), 1u);
  EXPECT_EQ(one.rej.field, "sector");
  DecoderOptions o;
  o.max_errors_per_line = 10;
  const std::vector<std::string> all = Reasons(DecodeLine(line, o));
  ASSERT_EQ(all.size(), 3u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0].rfind("unknown_enum sector: field 'sector': unknown value \"bike\"", 0), 0u)
      << all[0];
  EXPECT_EQ(all[1].rfind("out_of_range duration_min: field 'duration_min': -3 is out of range", 0),
            0u)
      << all[1];
  EXPECT_EQ(all[2], "wrong_type earnings_cny: field 'earnings_cny': expected a number, got string");
  // The bound holds.
  o.max_errors_per_line = 2;
  EXPECT_EQ(Reasons(DecodeLine(line, o)).size(), 2u);
  // A valid line after an invalid one has no errors left over.
  Decoder d(o);
  Event ev;
  Rejection rej;
  EXPECT_FALSE(d.Decode(line, ev, rej));
  EXPECT_TRUE(d.Decode(kOrder, ev, rej)) << rej.message;
  EXPECT_FALSE(d.Decode(Sub(kOrder, "food_delivery", "bike"), ev, rej));
  EXPECT_TRUE(rej.also.empty()) << rej.also.front().message;
}

TEST(DecoderErrors, FieldsThatDependOnAFailedOneAreNotJudged) {
  DecoderOptions o;
  o.max_errors_per_line = 10;
  // An unknown type: only the fields every event has are checked.
  std::vector<std::string> r =
      Reasons(DecodeLine(Sub(Sub(kOrder, "\"order\"", "\"ordr\""), "w-1", "w 1"), o));
  ASSERT_EQ(r.size(), 2u) << ::testing::PrintToString(r);
  EXPECT_EQ(r[0].rfind("unknown_enum type:", 0), 0u) << r[0];
  EXPECT_EQ(r[1].rfind("bad_id worker_id:", 0), 0u) << r[1];
  // No type at all: "required on every event", as with one error.
  r = Reasons(DecodeLine(Sub(kOrder, R"("type":"order",)", ""), o));
  ASSERT_EQ(r.size(), 1u) << ::testing::PrintToString(r);
  EXPECT_NE(r[0].find("missing (required on every event)"), std::string::npos) << r[0];
  // An unknown scheme: base_cny and orders_covered are not judged (they depend on it); the
  // period and the amount are.
  r = Reasons(DecodeLine(
      Sub(Sub(Sub(kPension, "\"pension\"", "\"pensions\""), "2024-07", "2024-7"), "1091.36", "-1"),
      o));
  ASSERT_EQ(r.size(), 3u) << ::testing::PrintToString(r);
  EXPECT_EQ(r[0].rfind("malformed_period period:", 0), 0u) << r[0];
  EXPECT_EQ(r[1].rfind("unknown_enum scheme:", 0), 0u) << r[1];
  EXPECT_EQ(r[2].rfind("out_of_range amount_cny:", 0), 0u) << r[2];
  // A malformed date: the order of the two dates is not judged.
  r = Reasons(DecodeLine(Sub(Sub(kCoverage, "2024-07-01", "2024-13-01"), "100000", "0"), o));
  ASSERT_EQ(r.size(), 2u) << ::testing::PrintToString(r);
  EXPECT_EQ(r[0].rfind("out_of_range sum_insured_cny:", 0), 0u) << r[0];
  EXPECT_EQ(r[1].rfind("malformed_date valid_from:", 0), 0u) << r[1];
  // A duplicated field and a bad value elsewhere: both.
  r = Reasons(DecodeLine(
      Sub(Sub(kOrder, "\"district\"", R"("sector":"ride_hailing","district")"), "o-1", "o 1"), o));
  ASSERT_EQ(r.size(), 2u) << ::testing::PrintToString(r);
  EXPECT_EQ(r[0].rfind("duplicate_field :", 0), 0u) << r[0];
  EXPECT_EQ(r[1].rfind("bad_id event_id:", 0), 0u) << r[1];
  // Not JSON: one error, whatever the bound.
  EXPECT_EQ(Reasons(DecodeLine("{\"type\":", o)).size(), 1u);
}

}  // namespace
}  // namespace flexwatch
