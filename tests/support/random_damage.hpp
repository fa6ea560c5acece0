// Random damage for the plugin tests: bytes flipped and files cut in valid
// seeds, each damaged copy handed to a reader that must return pixels or
// refuse with one of the expected imio errors, promptly. The fuzz targets
// (tests/fuzz) search wider; this is the deterministic check every ctest
// run makes, the same mutations on every machine.
#pragma once

#include <imio/ndarray.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <span>
#include <sstream>
#include <string>

#include "test_util.hpp"

namespace imio_test {

/// Mutations per seed: the environment variable `env` when set (e.g. for a
/// longer run under the sanitizers), else `fallback`.
inline int damage_rounds(const char* env, int fallback) {
  const char* value = std::getenv(env);
  return value != nullptr ? std::max(1, std::atoi(value)) : fallback;
}

/// What a random-damage run saw.
struct DamageRun {
  std::size_t decoded = 0;
  std::size_t refused = 0;
  double slowest = 0;          ///< seconds, any call
  double slowest_refusal = 0;  ///< seconds, calls that refused
  std::string slowest_case;    ///< "seed S round R"
  imio::Bytes slowest_bytes;   ///< the damaged file of the slowest call

  std::string summary() const {
    std::ostringstream s;
    s << decoded << " decoded, " << refused << " refused; slowest call " << slowest << " s (" << slowest_case
      << "), slowest refusal " << slowest_refusal << " s";
    return s.str();
  }
};

namespace detail {
template <class First, class... Rest>
bool is_refusal(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const First&) {
    return true;
  } catch (...) {
  }
  if constexpr (sizeof...(Rest) > 0) {
    return is_refusal<Rest...>(e);
  } else {
    return false;
  }
}
}  // namespace detail

/// For each seed, `rounds` damaged copies: 1 to 4 bytes at or after `keep`
/// (the signature survives, so the plugin under test is the one chosen)
/// set to pseudo-random values from `state`, and every fifth copy also cut
/// at a pseudo-random length of at least `keep`. `read(bytes)` either
/// returns (decoded) or throws one of `Refusals` (refused); any other
/// exception escapes and fails the test.
template <class... Refusals, class Read>
DamageRun random_damage(std::span<const imio::Bytes> seeds, int rounds, std::size_t keep, std::uint32_t state,
                        Read&& read) {
  DamageRun run;
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    for (int round = 0; round < rounds; ++round) {
      imio::Bytes b = seeds[s];
      for (int flips = 0; flips < 1 + round % 4; ++flips) {
        state = state * 1664525u + 1013904223u;
        const std::size_t at = keep + (state >> 8) % (b.size() - keep);
        state = state * 1664525u + 1013904223u;
        b[at] = static_cast<std::byte>(state >> 24);
      }
      if (round % 5 == 4) b.resize(keep + (state >> 4) % (b.size() - keep));
      const auto t0 = std::chrono::steady_clock::now();
      bool refused = false;
      try {
        read(b);
        ++run.decoded;
      } catch (...) {
        if (!detail::is_refusal<Refusals...>(std::current_exception())) throw;
        refused = true;
        ++run.refused;
      }
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (refused) run.slowest_refusal = std::max(run.slowest_refusal, took);
      if (took > run.slowest) {
        run.slowest = took;
        run.slowest_case = "seed " + std::to_string(s) + " round " + std::to_string(round);
        run.slowest_bytes = std::move(b);
      }
    }
  }
  return run;
}

}  // namespace imio_test
