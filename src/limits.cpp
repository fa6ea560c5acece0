#include <imio/options.hpp>

#include <atomic>

namespace imio {
namespace {

constexpr Limits kBuiltIn{
    .max_pixels = std::uint64_t{1} << 28,  // 268 megapixels (16384 × 16384)
    .max_frames = std::uint64_t{1} << 20,
    .max_bytes = std::uint64_t{4} << 30,  // 4 GiB
};

std::atomic<std::uint64_t> g_max_pixels{kBuiltIn.max_pixels};
std::atomic<std::uint64_t> g_max_frames{kBuiltIn.max_frames};
std::atomic<std::uint64_t> g_max_bytes{kBuiltIn.max_bytes};

}  // namespace

Limits default_limits() noexcept {
  return {.max_pixels = g_max_pixels.load(), .max_frames = g_max_frames.load(), .max_bytes = g_max_bytes.load()};
}

void set_default_limits(const Limits& limits) noexcept {
  g_max_pixels = limits.max_pixels ? limits.max_pixels : kBuiltIn.max_pixels;
  g_max_frames = limits.max_frames ? limits.max_frames : kBuiltIn.max_frames;
  g_max_bytes = limits.max_bytes ? limits.max_bytes : kBuiltIn.max_bytes;
}

Limits effective_limits(const Limits& limits) noexcept {
  const Limits d = default_limits();
  return {.max_pixels = limits.max_pixels ? limits.max_pixels : d.max_pixels,
          .max_frames = limits.max_frames ? limits.max_frames : d.max_frames,
          .max_bytes = limits.max_bytes ? limits.max_bytes : d.max_bytes};
}

}  // namespace imio
