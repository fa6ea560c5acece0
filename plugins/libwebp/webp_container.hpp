// The WebP container (RIFF 'WEBP', WebP Container Specification): what
// libwebp's demuxer reports about a file — canvas, frames, animation
// parameters, metadata chunks — read without decoding any pixels.
#pragma once

#include <imio/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::webp {

/// Whether `first` (at least 12 bytes) starts with "RIFF", a size, "WEBP".
bool has_signature(std::span<const std::byte> first) noexcept;

/// One frame as the demuxer lists it (a still image is one frame covering
/// the canvas).
struct FrameInfo {
  std::uint32_t x = 0, y = 0, width = 0, height = 0;
  int duration = 0;               ///< ms (ANMF; 0 for a still image)
  bool dispose_background = false;  ///< WEBP_MUX_DISPOSE_BACKGROUND
  bool blend = true;              ///< WEBP_MUX_BLEND (alpha-blend onto the canvas)
  bool has_alpha = false;
  std::optional<bool> lossless;   ///< VP8L (true) or VP8 (false); unknown when the header does not parse
};

/// Everything imio reports about a file before decoding.
struct Container {
  std::uint32_t canvas_width = 0, canvas_height = 0;
  std::uint32_t flags = 0;    ///< VP8X feature flags (0 for a simple file)
  bool animated = false;      ///< the VP8X ANIMATION flag
  bool has_alpha = false;     ///< Pillow's rule: WebPGetFeatures' has_alpha, true when that fails
  std::uint32_t loop_count = 1;        ///< ANIM; libwebp reports 1 for a still image
  std::uint32_t bgcolor = 0xffffffff;  ///< ANIM, as stored: bytes B, G, R, A from the low end
  std::vector<FrameInfo> frames;
  std::optional<Bytes> icc, exif, xmp;  ///< the first ICCP, EXIF and "XMP " chunks
};

/// Parses `file` with libwebp's demuxer. Throws DecodeError naming what is
/// wrong (a truncated RIFF, a chunk running past the end, a frame outside
/// the canvas, …) and LimitError when the canvas or the frame count exceeds
/// the request's Limits — before any pixel memory is allocated.
Container parse(std::span<const std::byte> file, const Request& request);

/// "libwebp 1.2.4 (demux 1.2.4, mux 1.2.4)".
std::string libwebp_version();

}  // namespace imio::webp
