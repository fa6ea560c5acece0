// The pixels of a Radiance picture: 4-byte RGBE (or XYZE) pixels, each
// scanline flat, in the old run-length form (1,1,1,n repeats), or in the
// adaptive form (2,2,width: each of the four components run-length coded on
// its own); shared-exponent floats as rgbe.c defines them (OpenCV and
// OpenImageIO decode the same way).
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <span>

#include "hdr_header.hpp"

namespace imio::radiance {

/// Decodes the scanlines after the header into `out`, float32 (H, W, 3) in
/// display order (top row first, left column first) whatever the resolution
/// string's order. Throws DecodeError naming the scanline for truncated or
/// damaged data.
void decode(std::span<const std::byte> file, const Header& header, float* out);

struct EncodeOptions {
  bool rle = true;
  bool clip = false;
};

/// Appends the scanlines of `rgb` (float32, H × W × 3, C order) to `out`
/// (top-down, "-Y H +X W"). Throws ArgumentError for samples RGBE cannot
/// hold (negative, NaN, inf) unless `clip`.
void encode(const float* rgb, std::size_t height, std::size_t width, const EncodeOptions& options, Bytes& out);

}  // namespace imio::radiance
