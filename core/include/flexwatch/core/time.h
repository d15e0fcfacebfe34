// Event time, Beijing calendar days and months. All instants are UTC epoch milliseconds; a day is
// a civil date counted from 1970-01-01; a Period is a calendar month (year * 12 + month - 1).
// Calendar days and months of an instant are taken in Beijing time (UTC+08:00).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "flexwatch/core/status.h"

namespace flexwatch {

using TimestampMs = int64_t;
using Day = int32_t;
using Period = int32_t;

inline constexpr int64_t kBeijingOffsetMs = 8LL * 3600 * 1000;
inline constexpr int64_t kMsPerDay = 86400LL * 1000;

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

Day DaysFromCivil(int year, int month, int day);
CivilDate CivilFromDays(Day d);
// As CivilFromDays, remembered for the days met lately on this thread (events out of time order
// move between a few dozen days, each met again and again).
CivilDate CivilOfDay(Day d);
int DaysInMonth(int year, int month);

inline Period MakePeriod(int year, int month) { return year * 12 + (month - 1); }
inline int PeriodYear(Period p) { return p / 12; }
inline int PeriodMonth(Period p) { return p % 12 + 1; }
Period PeriodOfDay(Day d);
Day FirstDayOfPeriod(Period p);

// Beijing calendar day of an instant.
Day BeijingDay(TimestampMs ts);
inline Period BeijingPeriod(TimestampMs ts) { return PeriodOfDay(BeijingDay(ts)); }

// RFC 3339 date-time with a mandatory offset: 2024-07-03T12:34:56+08:00, ...Z, optional fraction
// (kept to the millisecond). Returns a message describing the first problem.
Result<TimestampMs> ParseRfc3339(std::string_view s);
// YYYY-MM-DD.
Result<Day> ParseDate(std::string_view s);
// YYYY-MM.
Result<Period> ParsePeriod(std::string_view s);

std::string FormatPeriod(Period p);
std::string FormatDate(Day d);
// The instant as RFC 3339 in Beijing time, e.g. 2024-07-03T12:34:56.000+08:00.
std::string FormatBeijing(TimestampMs ts);

// CPU time the calling thread has used, in seconds (what a piece of work cost it, whatever time
// the machine gave to other threads meanwhile).
inline double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace flexwatch
