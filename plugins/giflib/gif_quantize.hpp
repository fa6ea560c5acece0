// Colour reduction for the GIF writer: an exact palette when a frame has few
// enough colours, else median cut (Heckbert 1982) over a 5-bit-per-channel
// histogram, with optional Floyd–Steinberg error diffusion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace imio::giflib {

/// One frame reduced to a palette.
struct Quantized {
  std::vector<std::uint8_t> palette;  // RGB triplets, at most max_colors (+1 transparent)
  std::vector<std::uint8_t> indices;  // one per pixel
  int transparent = -1;               // the index of transparent pixels, or -1
};

/// `pixels` holds width × height pixels of `channels` bytes (1 gray, 2 gray+alpha,
/// 3 RGB, 4 RGBA); pixels with alpha < 128 become one transparent index.
/// `max_colors` (2 … 256) bounds the palette including that index.
Quantized quantize(const std::uint8_t* pixels, std::size_t width, std::size_t height, int channels, int max_colors,
                   bool dither);

}  // namespace imio::giflib
