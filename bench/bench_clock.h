// CPU and wall clocks for the benchmarks.
#pragma once

#include <chrono>
#include <ctime>

#include "flexwatch/core/time.h"

namespace flexwatch::bench {

// CPU time of the whole process (every thread), in seconds.
inline double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the calling thread alone (RocksDB's background work left out).
using flexwatch::ThreadCpuSeconds;

inline double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace flexwatch::bench
