// A fake in-memory format for testing the core without any backend.
//
// Encoded form: "FAKE", then uint32 LE frame count, height, width, then the
// frames as uint8 (H,W) rasters where pixel (y,x) of frame f is (f + y*W + x) % 256.
#pragma once

#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <atomic>
#include <cstdint>

namespace fake {

/// Counters the tests read.
struct Stats {
  std::atomic<int> decodes{0};        ///< frames decoded (read or iter)
  std::atomic<int> live_frames{0};    ///< frame buffers alive now
  std::atomic<int> max_live_frames{0};
  std::atomic<int> opens{0};          ///< factory calls that accepted
  std::atomic<int> closes{0};
  void reset() {
    decodes = 0;
    live_frames = 0;
    max_live_frames = 0;
    opens = 0;
    closes = 0;
  }
};
Stats& stats();

/// Registers "fake" (alias "fakealias", .fake priority 10), "fake2" (alias
/// "fakealias", .fake priority 20, also accepts FAKE data), and "picky"
/// (.fake priority 5, refuses everything with "picky says no"). Idempotent.
void register_fakes();

/// The encoded form of `frames` frames of h × w.
imio::Bytes encode(std::uint32_t frames, std::uint32_t h, std::uint32_t w);
/// The expected pixel of frame f at (y, x).
inline std::uint8_t pixel(std::size_t f, std::size_t y, std::size_t x, std::size_t w) {
  return static_cast<std::uint8_t>((f + y * w + x) % 256);
}

}  // namespace fake
