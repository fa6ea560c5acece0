// From the decoded canvas (RawLayout) to the array imageio's pillow plugin
// returns: the default layouts of spec §5.1.4 after DECISIONS D14, and
// Pillow's conversions for mode= (spec §5.1.3).
#pragma once

#include <imio/plugin.hpp>

#include <optional>
#include <string>

#include "png_chunks.hpp"
#include "png_codec.hpp"

namespace imio::png {

/// Shape tail and dtype of one returned frame.
struct OutSpec {
  DType dtype = DType::uint8;
  int channels = 0;  ///< 0: a 2-D array
  Shape frame_shape(std::size_t height, std::size_t width) const;
};

/// Pillow's native mode of the file ("1", "L", "I", "LA", "RGB", "RGBA", "P").
std::string native_mode(const Header& h);

/// What a frame becomes, with `mode` (nullopt: the default). Throws
/// ArgumentError for a mode imio cannot produce from this file.
OutSpec out_spec(const Chunks& c, const std::optional<std::string>& mode);

/// Converts one decoded canvas into `dst` (laid out as out_spec says).
void convert(const Chunks& c, const RawLayout& raw, const std::byte* src, const std::optional<std::string>& mode,
             std::byte* dst);

/// spec §5.1.9: out = round(((v / S) ** g) * S + 0.4999) cast to uint8.
NDArray apply_gamma(const NDArray& image, double gamma, const Request& request);

}  // namespace imio::png
