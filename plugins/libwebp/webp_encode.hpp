// Encoding as Pillow's WebP writer does it: one frame through WebPEncode
// (Pillow's _save), several through WebPAnimEncoder (Pillow's _save_all),
// then the ICCP/EXIF/XMP chunks added by WebPMux.
#pragma once

#include <imio/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace imio::webp {

/// One frame to encode: uint8 rows of width × channels (1 gray, 2 gray +
/// alpha, 3 RGB, 4 RGBA); `bilevel`: bool samples (0/1), stored as RGB.
struct FrameView {
  const std::byte* data = nullptr;
  std::size_t height = 0, width = 0;
  int channels = 3;
  bool bilevel = false;
};

/// The encoder settings, already validated.
struct EncodeOptions {
  bool lossless = false;
  float quality = 80;
  int alpha_quality = 100;
  int method = 4;
  bool exact = false;
  // animations
  std::vector<int> durations;  ///< one per frame, ms
  int loop = 0;
  std::uint32_t bgcolor = 0;  ///< (a << 24) | (r << 16) | (g << 8) | b
  bool minimize_size = false, allow_mixed = false;
  int kmin = 3, kmax = 5;
  // chunks
  std::optional<Bytes> icc, exif, xmp;
};

/// A still WebP file.
Bytes encode_still(const FrameView& frame, const EncodeOptions& o);
/// An animated WebP file (every frame has the canvas size). libwebp's
/// WebPAnimEncoder may merge a frame that does not change the canvas into
/// the previous one (their durations add up), as it does for Pillow.
Bytes encode_animation(std::span<const FrameView> frames, const EncodeOptions& o);

}  // namespace imio::webp
