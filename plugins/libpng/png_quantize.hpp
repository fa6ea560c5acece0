// The `bits` write option (spec §5.1.6): imageio calls Pillow's
// Image.quantize(2**bits), i.e. its median cut for L and RGB images. This
// is an independent implementation of that algorithm with the same choices
// (histogram, heap order, split axis and point, box means, nearest-colour
// mapping), so that the palette and the indices come out as Pillow's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace imio::png {

/// Pixels reduced to a palette.
struct Quantized {
  std::vector<std::uint8_t> palette;  ///< RGB triplets, at most `colors` entries
  std::vector<std::uint8_t> alpha;    ///< one per palette entry for RGBA input, else empty
  std::vector<std::uint8_t> indices;  ///< one per pixel
};

/// Median cut of `count` pixels of `channels` bytes (1 gray, 3 RGB, 4 RGBA)
/// to at most `colors` (1…256) palette entries. An image with no more
/// distinct colours than `colors` keeps every colour exactly. For RGBA the
/// same cut runs with alpha as a fourth axis (Pillow uses its fast octree
/// there; README "Differences").
Quantized median_cut(const std::uint8_t* pixels, std::size_t count, int channels, int colors);

}  // namespace imio::png
