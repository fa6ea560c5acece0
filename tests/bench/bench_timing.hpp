// The benchmarks' one timing rule: run once to warm up (page cache, lazy
// initialisation), then report the best of `runs` wall-clock times in ms;
// methods compared with each other take turns (turns_best_ms).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

namespace imio_bench {

inline double best_ms(int runs, const std::function<void()>& fn) {
  using Clock = std::chrono::steady_clock;
  fn();  // warm-up
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

/// One method of a comparison: returns its time in ms (a method timed by
/// another process reports that process's own measurement), < 0 when it
/// cannot run on this machine.
struct Method {
  const char* name;
  std::function<double()> run;
};

/// `fn` timed by the wall clock, as a Method's run.
inline std::function<double()> wall(std::function<void()> fn) {
  return [fn = std::move(fn)] {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
}

/// Best of `runs` per method (-1 for one that cannot run), the methods
/// taking turns within each run after one warm-up each: a load swing on a
/// busy machine then hits every method of the comparison alike, instead of
/// the one that happens to run during it.
inline std::vector<double> turns_best_ms(int runs, const std::vector<Method>& methods) {
  std::vector<double> best(methods.size(), 1e300);
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (methods[i].run() < 0) best[i] = -1;
  }
  for (int r = 0; r < runs; ++r) {
    for (std::size_t i = 0; i < methods.size(); ++i) {
      if (best[i] >= 0) best[i] = std::min(best[i], methods[i].run());
    }
  }
  return best;
}

}  // namespace imio_bench
