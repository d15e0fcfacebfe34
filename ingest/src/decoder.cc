#include "flexwatch/ingest/decoder.h"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "flexwatch/core/decimal.h"

namespace flexwatch {
namespace {

namespace od = simdjson::ondemand;

constexpr std::array<std::string_view, kRejectCodeCount> kRejectCodeNames = {
    "not_json",        "not_object",       "invalid_utf8",     "missing_field",
    "wrong_type",      "unknown_enum",     "out_of_range",     "malformed_timestamp",
    "malformed_date",  "malformed_period", "bad_id",           "line_too_long",
    "duplicate_field", "foreign_platform", "future_timestamp", "misrouted"};

// Every field name the contract defines, for any event type.
enum Field : int {
  kType,
  kEventId,
  kTs,
  kPlatformId,
  kWorkerId,
  kSector,
  kDurationMin,
  kEarningsCny,
  kDistrict,
  kAction,
  kForm,
  kCounterpartyId,
  kPeriod,
  kScheme,
  kPayer,
  kBaseCny,
  kAmountCny,
  kOrdersCovered,
  kProduct,
  kSumInsuredCny,
  kValidFrom,
  kValidTo,
  kCategory,
  kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "type",         "event_id",        "ts",         "platform_id", "worker_id",  "sector",
    "duration_min", "earnings_cny",    "district",   "action",      "form",       "counterparty_id",
    "period",       "scheme",          "payer",      "base_cny",    "amount_cny", "orders_covered",
    "product",      "sum_insured_cny", "valid_from", "valid_to",    "category"};

// The field a key names, or -1. Length, first and last byte tell the contract's field names apart,
// so one table lookup finds the only candidate and one comparison confirms it.
struct FieldTable {
  int8_t slot[16][26][2] = {};
  alignas(16) char padded[kFieldCount][16] = {};  // each name, zero-padded to 16 bytes
  constexpr FieldTable() {
    for (auto& a : slot)
      for (auto& b : a) b[0] = b[1] = -1;
    for (int f = 0; f < kFieldCount; ++f) {
      std::string_view n = kFieldNames[f];
      int8_t* s = slot[n.size()][n[0] - 'a'];
      s[s[0] < 0 ? 0 : 1] = static_cast<int8_t>(f);
      for (size_t i = 0; i < n.size(); ++i) padded[f][i] = n[i];
    }
  }
};
constexpr FieldTable kFields;

int FieldIndex(std::string_view k) {
  const FieldTable& table = kFields;
  if (k.size() < 2 || k.size() >= 16 || k[0] < 'a' || k[0] > 'z') return -1;
  const int8_t* s = table.slot[k.size()][k[0] - 'a'];
  for (int i = 0; i < 2 && s[i] >= 0; ++i) {
    std::string_view n = kFieldNames[s[i]];
    if (n.back() == k.back() && EqualShort(n, k)) return s[i];
  }
  return -1;
}

// A key read in place from the line: the raw bytes after its opening quote, of which at least 16
// are readable (the parser's padding follows the line). Finds the closing quote and the field in
// a few vector instructions. Returns false when the key holds an escape or is 16 bytes or longer
// (the caller unescapes it and uses FieldIndex); else sets `key` and returns its field or -1.
bool FieldOfRawKey(const char* raw, std::string_view& key, int& field) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw));
  const unsigned quotes =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
  const unsigned escapes =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  if (quotes == 0) return false;
  const unsigned before = (quotes & (0u - quotes)) - 1;  // the bytes before the first quote
  if (escapes & before) return false;
  const size_t len = static_cast<size_t>(__builtin_popcount(before));
  key = std::string_view(raw, len);
  field = -1;
  if (len < 2 || raw[0] < 'a' || raw[0] > 'z') return true;
  const FieldTable& table = kFields;
  const int8_t* s = table.slot[len][raw[0] - 'a'];
  for (int i = 0; i < 2 && s[i] >= 0; ++i) {
    const __m128i name = _mm_load_si128(reinterpret_cast<const __m128i*>(table.padded[s[i]]));
    const unsigned same = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, name)));
    if ((same & before) == before) {
      field = s[i];
      break;
    }
  }
  return true;
#else
  size_t len = 0;
  while (len < 16 && raw[len] != '"' && raw[len] != '\\') ++len;
  if (len == 16 || raw[len] != '"') return false;
  key = std::string_view(raw, len);
  field = FieldIndex(key);
  return true;
#endif
}

constexpr size_t kIdMax = 128;
constexpr size_t kPartyIdMax = 64;
constexpr size_t kCounterpartyMax = 128;
constexpr Day kEarliestDay = 10957;  // 2000-01-01
constexpr Day kLatestDay = 47481;    // 2099-12-31
constexpr Period kEarliestPeriod = 2000 * 12;

// The bounds a line is judged against: the configured limits and the clock's ceilings. The clock
// is read again only when a value passes the ceiling last read (time only moves forward), so a
// valid line costs no clock read.
struct Bounds {
  const DecoderOptions& options;
  TimestampMs max_ts = 0;  // the clock plus the margin
  Period max_period = 0;   // the clock's month
  TimestampMs now = 0;

  explicit Bounds(const DecoderOptions& o) : options(o) { Refresh(); }
  // Reads the clock again; true when it moved.
  bool Refresh() {
    const TimestampMs t = options.now ? *options.now : SystemNowMs();
    if (t == now && max_ts != 0) return false;
    now = t;
    max_ts = t + options.max_future_seconds * 1000;
    max_period = BeijingPeriod(t);
    return true;
  }
  bool TsTooLate(TimestampMs ts) { return ts > max_ts && (!Refresh() || ts > max_ts); }
  bool PeriodTooLate(Period p) { return p > max_period && (!Refresh() || p > max_period); }
};

// A known field's value as read from the line; valid only where its bit is set in the line's
// `present` mask (slots are not cleared between lines).
struct Slot {
  od::json_type type = od::json_type::null;
  std::string_view text;  // unescaped string, or the raw number token
};

std::string_view TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Walks a value completely so that malformed JSON inside fields we do not use is still caught.
simdjson::error_code WalkValue(od::value v, int depth) {
  if (depth > 64) return simdjson::DEPTH_ERROR;
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::array: {
      od::array arr;
      if (auto e = v.get_array().get(arr)) return e;
      for (auto child : arr) {
        od::value cv;
        if (auto e = child.get(cv)) return e;
        if (auto e = WalkValue(cv, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object obj;
      if (auto e = v.get_object().get(obj)) return e;
      for (auto field : obj) {
        std::string_view k;
        if (auto e = field.unescaped_key().get(k)) return e;
        if (auto e = WalkValue(field.value(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::TAPE_ERROR;
}

// What a field common to every type is required on, in a message.
constexpr std::string_view kEveryType = "every";

// Validates the slots of one line for its type. Each check returns false after telling its error
// (Fail): the first in `rej`, further ones, up to `max_errors` in all, in `rej.also`.
class Validator {
 public:
  Validator(const std::array<Slot, kFieldCount>& s, uint32_t present, Rejection& rej,
            int max_errors, int told)
      : s_(s), present_(present), rej_(rej), max_errors_(max_errors), errors_(told) {}

  [[gnu::cold, gnu::noinline]] bool Fail(RejectCode code, int f, std::string msg) {
    Rejection& r = errors_ == 0 ? rej_ : rej_.also.emplace_back();
    ++errors_;
    r.code = code;
    r.field = f >= 0 ? std::string(kFieldNames[f]) : std::string();
    r.message = f >= 0 ? "field '" + std::string(kFieldNames[f]) + "': " + msg : msg;
    return false;
  }
  // After a failed check: true when the line has told all the errors it may (stop), false to go
  // on with the next field.
  bool Enough() const { return errors_ >= max_errors_; }
  bool Valid() const { return errors_ == 0; }
  // The error told last. REQUIRES: !Valid().
  Rejection& Last() { return rej_.also.empty() ? rej_ : rej_.also.back(); }
  [[gnu::cold, gnu::noinline]] bool Missing(int f, std::string_view type) {
    return Fail(RejectCode::kMissingField, f,
                type == kEveryType ? std::string("missing (required on every event)")
                                   : "missing (required on " + std::string(type) + " events)");
  }
  bool Has(int f) const { return (present_ >> f) & 1u; }
  bool Present(int f) const { return Has(f) && s_[f].type != od::json_type::null; }

  bool String(int f, std::string_view for_type, std::string_view& out) {
    if (!Has(f)) return Missing(f, for_type);
    if (s_[f].type != od::json_type::string) return WrongType(f, "a string");
    out = s_[f].text;
    return true;
  }
  bool Id(int f, std::string_view for_type, size_t max_len, std::string& out) {
    std::string_view v;
    if (!String(f, for_type, v)) return false;
    if (!IsValidId(v, max_len)) return BadId(f, v, max_len);
    out.assign(v);
    return true;
  }
  template <typename E, size_t N>
  bool Enum(int f, std::string_view for_type, const std::array<std::string_view, N>& names,
            E& out) {
    std::string_view v;
    if (!String(f, for_type, v)) return false;
    auto e = EnumFromName<E>(names, v);
    if (!e) return UnknownEnum(f, v, names.data(), N);
    out = *e;
    return true;
  }
  // A number scaled by 10^scale. `what` describes the accepted range for messages.
  bool Number(int f, std::string_view for_type, int scale, ExcessDigits excess, int64_t& out) {
    if (!Has(f)) return Missing(f, for_type);
    if (s_[f].type != od::json_type::number) return WrongType(f, "a number");
    auto r = ParseScaledDecimal(s_[f].text, scale, excess);
    if (!r.ok()) return BadNumber(f, r.status().message());
    out = *r;
    return true;
  }
  // Money in fen, at most `max` (ingest.limits.<field>).
  bool Money(int f, std::string_view for_type, bool strictly_positive, Fen max, Fen& out) {
    if (!Number(f, for_type, 2, ExcessDigits::kReject, out)) return false;
    if (out < 0 || (strictly_positive && out == 0))
      return Fail(RejectCode::kOutOfRange, f,
                  std::string(s_[f].text) + " is out of range (expected " +
                      (strictly_positive ? "> 0" : ">= 0") + " yuan)");
    if (out > max) return AboveLimit(f, FormatFen(max) + " yuan");
    return true;
  }
  [[gnu::cold, gnu::noinline]] bool AboveLimit(int f, const std::string& limit) {
    return Fail(RejectCode::kOutOfRange, f,
                Clip(s_[f].text) + " is above the plausible limit of " + limit +
                    " (ingest.limits." + std::string(kFieldNames[f]) + ")");
  }
  static std::string FormatFen(Fen v) {
    std::string out = std::to_string(v / 100);
    if (v % 100) out += (v % 100 < 10 ? ".0" : ".") + std::to_string(v % 100);
    return out;
  }

  // The failure paths, out of line so that the checks above stay small enough to inline.
  [[gnu::cold, gnu::noinline]] bool WrongType(int f, const char* expected) {
    return Fail(RejectCode::kWrongType, f,
                std::string("expected ") + expected + ", got " + std::string(TypeName(s_[f].type)));
  }
  [[gnu::cold, gnu::noinline]] bool BadId(int f, std::string_view v, size_t max_len) {
    return Fail(RejectCode::kBadId, f,
                "\"" + Clip(v) + "\" is not 1-" + std::to_string(max_len) +
                    " characters of [A-Za-z0-9._:-]");
  }
  [[gnu::cold, gnu::noinline]] bool UnknownEnum(int f, std::string_view v,
                                                const std::string_view* names, size_t n) {
    std::string allowed;
    for (size_t i = 0; i < n; ++i) allowed += (allowed.empty() ? "" : ", ") + std::string(names[i]);
    return Fail(RejectCode::kUnknownEnum, f,
                "unknown value \"" + Clip(v) + "\" (expected one of: " + allowed + ")");
  }
  // A value that is not of its format: "\"2024-7\" is not a month YYYY-MM", with the parser's
  // detail only when it says more than the format (`plain`, its own words for "not the format").
  [[gnu::cold, gnu::noinline]] bool Malformed(RejectCode code, int f, std::string_view v,
                                              std::string_view format, const std::string& detail,
                                              std::string_view plain) {
    return Fail(code, f,
                "\"" + Clip(v) + "\" is not " + std::string(format) +
                    (detail == plain ? std::string() : " (" + detail + ")"));
  }
  [[gnu::cold, gnu::noinline]] bool BadNumber(int f, const std::string& m) {
    const bool range =
        m.find("decimals") != std::string::npos || m.find("too large") != std::string::npos;
    return Fail(range ? RejectCode::kOutOfRange : RejectCode::kNotJson, f,
                Clip(s_[f].text) + ": " + (range ? m : "not a valid JSON number (" + m + ")"));
  }

  // A value quoted in a reason: at most 64 bytes, quotes and backslashes escaped, and control
  // characters written as \u00XX, so that a reason printed in a text report or a log can never
  // carry a line break or a terminal escape of the producer's.
  static std::string Clip(std::string_view v) {
    std::string out;
    for (char c : v.substr(0, 64)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", u);
        out += esc;
        continue;
      }
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    if (v.size() > 64) out += "...";
    return out;
  }

 private:
  const std::array<Slot, kFieldCount>& s_;
  const uint32_t present_;
  Rejection& rej_;
  const int max_errors_;
  int errors_;
};

// A valid id that may also name a file or a topic suffix: it neither starts with '-' (an option)
// nor is only dots ("." and ".." name folders). REQUIRES: s not empty.
bool SafeAsFileName(std::string_view s) {
  return s[0] != '-' && (s[0] != '.' || s.find_first_not_of('.') != std::string_view::npos);
}

// Text a report prints as it is (counterparty_id): no control characters (C0, DEL, C1), no line
// or paragraph separators and no bidirectional overrides, which would forge or hide a report's
// lines. REQUIRES: valid UTF-8.
bool IsPrintableText(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0)
      return false;  // U+0080..U+009F
    if (c == 0xe2 && i + 2 < s.size()) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]),
                 b2 = static_cast<unsigned char>(s[i + 2]);
      if (b1 == 0x80 && b2 >= 0xa8 && b2 <= 0xae) return false;  // U+2028..U+202E
      if (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9) return false;  // U+2066..U+2069
    }
  }
  return true;
}

[[gnu::cold, gnu::noinline]] bool FutureTimestamp(Validator& v, int f, std::string_view text,
                                                  const Bounds& b) {
  return v.Fail(RejectCode::kFutureTimestamp, f,
                "\"" + Validator::Clip(text) + "\" is later than the receiving clock (" +
                    FormatBeijing(b.now) + ") plus " +
                    std::to_string(b.options.max_future_seconds) +
                    " s (ingest.max_future_seconds): a wrong clock must not close months");
}

// Checks the fields of one line for its type, in the contract's order. A failed check ends the
// line when it has told all the errors it may (Validator::Enough); else the fields that do not
// depend on the failed one are checked too (a bad type leaves only the common fields, a bad
// scheme leaves base_cny and orders_covered unchecked). True when the line is valid.
bool ValidateEvent(const std::array<Slot, kFieldCount>& s, uint32_t present, Event& ev,
                   Rejection& rej, Bounds& bounds, int max_errors, int told) {
  const ValueLimits& limits = bounds.options.limits;
  Validator v(s, present, rej, max_errors, told);
  if (!v.Valid() && v.Enough()) return false;
  const bool typed = v.Enum(kType, kEveryType, kEventTypeNames, ev.type);
  if (!typed && v.Enough()) return false;
  const std::string_view tn = typed ? NameOf(ev.type) : kEveryType;
  if (!v.Id(kEventId, tn, kIdMax, ev.event_id) && v.Enough()) return false;
  const auto check_ts = [&] {
    std::string_view ts;
    if (!v.String(kTs, tn, ts)) return false;
    auto parsed_ts = ParseRfc3339(ts);
    if (!parsed_ts.ok())
      return v.Fail(RejectCode::kMalformedTimestamp, kTs,
                    "\"" + Validator::Clip(ts) + "\" is not an RFC 3339 date-time with offset (" +
                        parsed_ts.status().message() + "), e.g. 2024-07-03T12:34:56+08:00");
    ev.ts = *parsed_ts;
    if (ev.ts < kEarliestEventTime)
      return v.Fail(RejectCode::kOutOfRange, kTs,
                    "\"" + Validator::Clip(ts) +
                        "\" is before 2000-01-01T00:00:00+08:00 (not a plausible event time)");
    if (bounds.TsTooLate(ev.ts)) return FutureTimestamp(v, kTs, ts, bounds);
    return true;
  };
  if (!check_ts() && v.Enough()) return false;
  const auto check_platform = [&] {
    if (!v.Id(kPlatformId, tn, kPartyIdMax, ev.platform_id)) return false;
    if (!SafeAsFileName(ev.platform_id))
      return v.Fail(RejectCode::kBadId, kPlatformId,
                    "\"" + Validator::Clip(ev.platform_id) +
                        "\" may not start with '-' or be only dots (it names files and topics)");
    return true;
  };
  if (!check_platform() && v.Enough()) return false;
  if (typed && ev.type == EventType::kComplaint && !v.Present(kWorkerId)) {
    ev.worker_id.clear();
  } else if (!v.Id(kWorkerId, tn, kPartyIdMax, ev.worker_id) && v.Enough()) {
    return false;
  }
  if (!typed) return false;

  switch (ev.type) {
    case EventType::kOrder: {
      OrderFields& o = ev.order;
      if (!v.Enum(kSector, tn, kSectorNames, o.sector) && v.Enough()) return false;
      const auto check_duration = [&] {
        if (!v.Number(kDurationMin, tn, 3, ExcessDigits::kRound, o.duration)) return false;
        if (o.duration < 0 || o.duration > limits.duration)
          return v.Fail(RejectCode::kOutOfRange, kDurationMin,
                        Validator::Clip(s[kDurationMin].text) + " is out of range (expected 0-" +
                            std::to_string(limits.duration / 1000) +
                            ", ingest.limits.duration_min)");
        return true;
      };
      if (!check_duration() && v.Enough()) return false;
      if (!v.Money(kEarningsCny, tn, false, limits.earnings, o.earnings) && v.Enough())
        return false;
      o.district.clear();
      if (v.Present(kDistrict)) {
        std::string_view d;
        if (!v.String(kDistrict, tn, d)) return false;
        o.district.assign(d);
      }
      return v.Valid();
    }
    case EventType::kContract: {
      ContractFields& c = ev.contract;
      if (!v.Enum(kAction, tn, kContractActionNames, c.action) && v.Enough()) return false;
      if (!v.Enum(kForm, tn, kContractFormNames, c.form) && v.Enough()) return false;
      std::string_view cp;
      if (!v.String(kCounterpartyId, tn, cp)) return false;
      if (cp.empty() || cp.size() > kCounterpartyMax)
        return v.Fail(RejectCode::kBadId, kCounterpartyId,
                      "must be 1-" + std::to_string(kCounterpartyMax) + " bytes");
      if (!IsPrintableText(cp))
        return v.Fail(RejectCode::kBadId, kCounterpartyId,
                      "contains a control, line-separator or bidirectional-override character");
      c.counterparty_id.assign(cp);
      return v.Valid();
    }
    case EventType::kContribution: {
      ContributionFields& c = ev.contribution;
      const auto check_period = [&] {
        std::string_view p;
        if (!v.String(kPeriod, tn, p)) return false;
        auto period = ParsePeriod(p);
        if (!period.ok())
          return v.Malformed(RejectCode::kMalformedPeriod, kPeriod, p, "a month YYYY-MM",
                             period.status().message(), "not YYYY-MM");
        c.period = *period;
        if (c.period < kEarliestPeriod)
          return v.Fail(RejectCode::kOutOfRange, kPeriod,
                        "\"" + Validator::Clip(p) + "\" is before 2000-01 (not a plausible month)");
        if (bounds.PeriodTooLate(c.period))
          return v.Fail(RejectCode::kFutureTimestamp, kPeriod,
                        "\"" + Validator::Clip(p) + "\" is after the receiving clock's month (" +
                            FormatPeriod(bounds.max_period) + ")");
        return true;
      };
      if (!check_period() && v.Enough()) return false;
      const bool schemed = v.Enum(kScheme, tn, kSchemeNames, c.scheme);
      if (!schemed && v.Enough()) return false;
      if (!v.Enum(kPayer, tn, kPayerNames, c.payer) && v.Enough()) return false;
      const bool oi = schemed && c.scheme == Scheme::kOccupationalInjury;
      c.base = 0;
      const auto check_base = [&] {
        if (!v.Money(kBaseCny, tn, false, limits.contribution_base, c.base)) return false;
        if (oi && c.base != 0)
          return v.Fail(RejectCode::kOutOfRange, kBaseCny,
                        "must be absent or 0 for scheme occupational_injury");
        return true;
      };
      if (schemed && (!oi || v.Present(kBaseCny)) && !check_base() && v.Enough()) return false;
      if (!v.Money(kAmountCny, tn, false, limits.contribution_amount, c.amount) && v.Enough())
        return false;
      c.orders_covered = 0;
      if (!schemed) return false;
      if (oi) {
        if (!v.Number(kOrdersCovered, "occupational_injury contribution", 0, ExcessDigits::kReject,
                      c.orders_covered)) {
          Rejection& last = v.Last();
          if (last.code == RejectCode::kOutOfRange &&
              last.message.find("decimals") != std::string::npos) {
            last.code = RejectCode::kWrongType;
            last.message = "field 'orders_covered': expected an integer, got " +
                           std::string(s[kOrdersCovered].text);
          }
          return false;
        }
        if (c.orders_covered < 0)
          return v.Fail(RejectCode::kOutOfRange, kOrdersCovered,
                        std::string(s[kOrdersCovered].text) + " is out of range (expected >= 0)");
        if (c.orders_covered > limits.orders_covered)
          return v.AboveLimit(kOrdersCovered, std::to_string(limits.orders_covered));
      } else if (v.Present(kOrdersCovered)) {
        return v.Fail(RejectCode::kOutOfRange, kOrdersCovered,
                      "only allowed for scheme occupational_injury");
      }
      return v.Valid();
    }
    case EventType::kCoverage: {
      CoverageFields& c = ev.coverage;
      if (!v.Enum(kProduct, tn, kProductNames, c.product) && v.Enough()) return false;
      if (!v.Money(kSumInsuredCny, tn, true, limits.sum_insured, c.sum_insured) && v.Enough())
        return false;
      bool dated = true;
      for (int f : {kValidFrom, kValidTo}) {
        const auto check_date = [&] {
          std::string_view d;
          if (!v.String(f, tn, d)) return false;
          auto day = ParseDate(d);
          if (!day.ok())
            return v.Malformed(RejectCode::kMalformedDate, f, d, "a date YYYY-MM-DD",
                               day.status().message(), "not YYYY-MM-DD");
          if (*day < kEarliestDay || *day > kLatestDay)
            return v.Fail(RejectCode::kOutOfRange, f,
                          "\"" + Validator::Clip(d) + "\" is outside 2000-01-01..2099-12-31");
          (f == kValidFrom ? c.valid_from : c.valid_to) = *day;
          return true;
        };
        if (!check_date()) {
          if (v.Enough()) return false;
          dated = false;
        }
      }
      if (dated && c.valid_to < c.valid_from)
        return v.Fail(RejectCode::kOutOfRange, kValidTo,
                      "valid_to " + FormatDate(c.valid_to) + " is before valid_from " +
                          FormatDate(c.valid_from));
      return v.Valid();
    }
    case EventType::kComplaint:
      return v.Enum(kCategory, tn, kComplaintCategoryNames, ev.complaint.category) && v.Valid();
  }
  return v.Fail(RejectCode::kUnknownEnum, kType, "unhandled type");
}

}  // namespace

std::string_view RejectCodeName(RejectCode c) { return kRejectCodeNames[static_cast<int>(c)]; }

std::string_view RejectCodeWords(RejectCode c, Lang lang) {
  static constexpr std::array<std::string_view, kRejectCodeCount> kEn = {
      "not valid JSON",
      "not a JSON object",
      "not valid UTF-8",
      "a required field is missing",
      "a field has the wrong type",
      "a value outside the contract's list",
      "a value outside its plausible range",
      "a malformed timestamp",
      "a malformed date",
      "a malformed month",
      "a malformed id",
      "the line is too long",
      "a field appears twice",
      "another platform's event",
      "later than the receiving clock",
      "on another partition than its platform's"};
  static constexpr std::array<std::string_view, kRejectCodeCount> kZh = {
      "不是有效的 JSON", "不是 JSON 对象",       "不是有效的 UTF-8 编码", "缺少必填字段",
      "字段类型错误",    "取值不在规定的范围内", "数值超出合理范围",      "时间格式错误",
      "日期格式错误",    "月份格式错误",         "标识符格式错误",        "数据行过长",
      "字段重复出现",    "不属于受检平台的事件", "时间晚于接收方时钟",    "所在分区与平台不符"};
  return (lang == Lang::kZh ? kZh : kEn)[static_cast<int>(c)];
}

bool IsValidPlatformId(std::string_view s) {
  return IsValidId(s, kPartyIdMax) && SafeAsFileName(s);
}

TimestampMs SystemNowMs() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<TimestampMs>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

struct Decoder::Impl {
  explicit Impl(const DecoderOptions& o) : bounds(o) {}
  Bounds bounds;
  od::parser parser;
  std::string scratch;
  std::array<Slot, kFieldCount> slots;
};

Decoder::Decoder(DecoderOptions options)
    : options_(options), impl_(std::make_unique<Impl>(options_)) {}
Decoder::~Decoder() = default;

size_t Decoder::Padding() { return simdjson::SIMDJSON_PADDING; }

bool Decoder::Decode(std::string_view line, Event& event, Rejection& rejection) {
  // Too long: refused before anything is read or copied.
  if (line.size() > options_.max_line_bytes) return DecodePadded(line, event, rejection);
  // Copied into a buffer with room for the padding after it (read, whatever it holds).
  std::string& buf = impl_->scratch;
  if (buf.size() < line.size() + Padding()) buf.resize(line.size() + Padding());
  std::memcpy(buf.data(), line.data(), line.size());
  return DecodePadded(std::string_view(buf.data(), line.size()), event, rejection);
}

bool Decoder::DecodePadded(std::string_view line, Event& event, Rejection& rej) {
  if (!rej.also.empty()) rej.also.clear();
  // Errors of the line as a whole (after a duplicated field, when every error is told, they come
  // second: the decoder stops at them).
  int told = 0;
  auto fail = [&rej, &told](RejectCode code, std::string msg) {
    Rejection& r = told++ == 0 ? rej : rej.also.emplace_back();
    r.code = code;
    r.field.clear();
    r.message = std::move(msg);
    return false;
  };
  if (line.size() > options_.max_line_bytes)
    return fail(RejectCode::kLineTooLong, "line of " + std::to_string(line.size()) +
                                              " bytes is longer than the limit of " +
                                              std::to_string(options_.max_line_bytes));

  auto& slots = impl_->slots;
  uint32_t present = 0;
  od::document doc;
  // The parser's first stage validates the whole line's UTF-8 and fails on an invalid byte, but
  // may name another fault first (an unclosed string): a failing line is checked on its own, so
  // that invalid UTF-8 is always reported as such, without a second pass over every valid line.
  auto json_error = [&](simdjson::error_code e) {
    if (!simdjson::validate_utf8(line.data(), line.size()))
      return fail(RejectCode::kInvalidUtf8, "line is not valid UTF-8");
    return fail(RejectCode::kNotJson, std::string("not valid JSON: ") + simdjson::error_message(e));
  };
  if (auto e = impl_->parser
                   .iterate(simdjson::padded_string_view(line.data(), line.size(),
                                                         line.size() + Padding()))
                   .get(doc))
    return json_error(e);
  od::json_type top;
  if (auto e = doc.type().get(top)) return json_error(e);
  if (top != od::json_type::object)
    return fail(RejectCode::kNotObject,
                "expected a JSON object, got " + std::string(TypeName(top)));
  od::object obj;
  if (auto e = doc.get_object().get(obj)) return json_error(e);
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e);
    // Keys are read in place; only a key with an escape in it, or of 16 bytes or more (the
    // contract's names are at most 15), is unescaped.
    std::string_view key;
    int idx = -1;
    if (!FieldOfRawKey(field.key().raw(), key, idx)) {
      if (auto e = field.unescaped_key().get(key)) return json_error(e);
      idx = FieldIndex(key);
    }
    od::value value = field.value();
    if (idx < 0) {  // unknown field: ignored, but it must still be valid JSON
      if (auto e = WalkValue(value, 1)) return json_error(e);
      continue;
    }
    Slot& slot = slots[idx];
    if (present & (1u << idx)) {
      fail(RejectCode::kDuplicateField, "field '" + std::string(key) + "' appears more than once");
      if (told >= options_.max_errors_per_line) return false;
      // The first value stands; the line's other fields are still checked.
      if (auto e = WalkValue(value, 1)) return json_error(e);
      continue;
    }
    present |= 1u << idx;
    if (auto e = value.type().get(slot.type)) return json_error(e);
    if (slot.type == od::json_type::string) {
      if (auto e = value.get_string().get(slot.text)) return json_error(e);
    } else if (slot.type == od::json_type::number) {
      // The raw token: our own exact decimal parser checks its grammar and range.
      slot.text = TrimRight(value.raw_json_token());
    } else if (auto e = WalkValue(value, 1)) {
      return json_error(e);
    }
  }
  // Past the object's end there must be nothing but whitespace.
  if (auto after = doc.current_location(); after.error() != simdjson::OUT_OF_BOUNDS)
    return fail(RejectCode::kNotJson, "not valid JSON: trailing content after the object");
  return ValidateEvent(slots, present, event, rej, impl_->bounds, options_.max_errors_per_line,
                       told);
}

}  // namespace flexwatch
