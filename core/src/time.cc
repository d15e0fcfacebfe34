#include "flexwatch/core/time.h"

#include <array>
#include <climits>
#include <cstdio>

namespace flexwatch {
namespace {

// Reads exactly n decimal digits at s[pos]. Returns -1 when any is not a digit.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

Status CheckYmd(int y, int m, int d) {
  if (y < 0 || m < 1 || m > 12) return Status::InvalidArgument("month out of range 01-12");
  if (d < 1 || d > DaysInMonth(y, m)) return Status::InvalidArgument("day out of range for month");
  return Status::OK();
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Civil-date <-> day-count conversion over the proleptic Gregorian calendar, using 400-year eras.
Day DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

CivilDate CivilFromDays(Day z) {
  int64_t zz = static_cast<int64_t>(z) + 719468;
  const int64_t era = (zz >= 0 ? zz : zz - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(zz - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

CivilDate CivilOfDay(Day d) {
  struct Entry {
    Day day = INT32_MIN;
    CivilDate date{};
  };
  thread_local std::array<Entry, 64> seen;
  Entry& e = seen[static_cast<uint32_t>(d) % seen.size()];
  if (e.day != d) e = {d, CivilFromDays(d)};
  return e.date;
}

Period PeriodOfDay(Day d) {
  CivilDate c = CivilOfDay(d);
  return MakePeriod(c.year, c.month);
}

Day FirstDayOfPeriod(Period p) { return DaysFromCivil(PeriodYear(p), PeriodMonth(p), 1); }

Day BeijingDay(TimestampMs ts) {
  int64_t local = ts + kBeijingOffsetMs;
  int64_t day = local / kMsPerDay;
  if (local % kMsPerDay < 0) --day;
  return static_cast<Day>(day);
}

Result<TimestampMs> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return Status::InvalidArgument("too short for YYYY-MM-DDTHH:MM:SS+HH:MM");
  int y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  if (y < 0 || s[4] != '-' || mo < 0 || s[7] != '-' || d < 0)
    return Status::InvalidArgument("date part is not YYYY-MM-DD");
  if (s[10] != 'T' && s[10] != 't') return Status::InvalidArgument("expected 'T' after the date");
  int h = Digits(s, 11, 2), mi = Digits(s, 14, 2), se = Digits(s, 17, 2);
  if (h < 0 || s[13] != ':' || mi < 0 || s[16] != ':' || se < 0)
    return Status::InvalidArgument("time part is not HH:MM:SS");
  if (Status st = CheckYmd(y, mo, d); !st.ok()) return st;
  if (h > 23 || mi > 59 || se > 60) return Status::InvalidArgument("time of day out of range");
  if (se == 60) se = 59;  // a leap second is kept inside its minute
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return Status::InvalidArgument("empty fraction of a second");
  }
  if (pos >= s.size()) return Status::InvalidArgument("missing offset (Z or +HH:MM)");
  int64_t offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || s[pos + 3] != ':')
      return Status::InvalidArgument("offset is not +HH:MM or -HH:MM");
    if (oh > 23 || om > 59) return Status::InvalidArgument("offset out of range");
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return Status::InvalidArgument("missing offset (Z or +HH:MM)");
  }
  if (pos != s.size()) return Status::InvalidArgument("unexpected characters after the offset");
  int64_t secs = static_cast<int64_t>(DaysFromCivil(y, mo, d)) * 86400 + h * 3600 + mi * 60 + se -
                 offset_min * 60;
  return secs * 1000 + millis;
}

Result<Day> ParseDate(std::string_view s) {
  if (s.size() != 10) return Status::InvalidArgument("not YYYY-MM-DD");
  int y = Digits(s, 0, 4), m = Digits(s, 5, 2), d = Digits(s, 8, 2);
  if (y < 0 || s[4] != '-' || m < 0 || s[7] != '-' || d < 0)
    return Status::InvalidArgument("not YYYY-MM-DD");
  if (Status st = CheckYmd(y, m, d); !st.ok()) return st;
  return DaysFromCivil(y, m, d);
}

Result<Period> ParsePeriod(std::string_view s) {
  if (s.size() != 7) return Status::InvalidArgument("not YYYY-MM");
  int y = Digits(s, 0, 4), m = Digits(s, 5, 2);
  if (y < 0 || s[4] != '-' || m < 0) return Status::InvalidArgument("not YYYY-MM");
  if (m < 1 || m > 12) return Status::InvalidArgument("month out of range 01-12");
  return MakePeriod(y, m);
}

std::string FormatPeriod(Period p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", PeriodYear(p), PeriodMonth(p));
  return buf;
}

std::string FormatDate(Day d) {
  CivilDate c = CivilFromDays(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", c.year, c.month, c.day);
  return buf;
}

std::string FormatBeijing(TimestampMs ts) {
  int64_t local = ts + kBeijingOffsetMs;
  Day day = BeijingDay(ts);
  int64_t in_day = local - static_cast<int64_t>(day) * kMsPerDay;
  CivilDate c = CivilFromDays(day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00", c.year, c.month, c.day,
                static_cast<int>(in_day / 3600000), static_cast<int>(in_day / 60000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
  return buf;
}

}  // namespace flexwatch
