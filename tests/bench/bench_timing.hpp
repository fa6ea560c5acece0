// The benchmarks' one timing rule: run once to warm up (page cache, lazy
// initialisation), then report the best of `runs` wall-clock times in ms.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

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

}  // namespace imio_bench
