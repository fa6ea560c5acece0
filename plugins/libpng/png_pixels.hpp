// From the decoded canvas (RawLayout) to the array imageio's pillow plugin
// returns: the default layouts of spec §5.1.4 after DECISIONS D14, and
// Pillow's conversions for mode= (spec §5.1.3).
#pragma once

#include <imio/plugin.hpp>

#include <array>
#include <cstdint>
#include <memory>
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

class Native;

/// Converts rows of decoded samples (RawLayout) into rows of the result
/// (laid out as out_spec says), one row at a time: what `convert` does to a
/// canvas, for decoders that hand over rows (png_sinks.hpp). Built once per
/// read; holds the palette and transparency tables.
class RowConverter {
 public:
  /// `mode` must be one out_spec accepts for `c`.
  RowConverter(const Chunks& c, const RawLayout& raw, const std::optional<std::string>& mode);
  ~RowConverter();
  RowConverter(const RowConverter&) = delete;
  RowConverter& operator=(const RowConverter&) = delete;

  /// Bytes of one decoded pixel and of one result pixel.
  std::size_t in_pixel_bytes() const { return in_bytes_; }
  std::size_t out_pixel_bytes() const { return out_bytes_; }

  /// Converts `n` pixels from `src` into `dst`. Pixels are read before their
  /// results are written, left to right, so `src` may be the last
  /// n × in_pixel_bytes() bytes of dst's n × out_pixel_bytes() when the
  /// result is at least as wide (conversion in place).
  void operator()(const std::byte* src, std::byte* dst, std::size_t n) const;

  enum class Kind;  ///< what a row conversion does (png_pixels.cpp)

 private:
  std::unique_ptr<Native> native_;
  std::size_t in_bytes_ = 1, out_bytes_ = 1;
  Kind kind_{};
  bool gray_ = false, transparent_ = false;
  std::array<std::uint8_t, 256 * 4> table_{};  ///< one-byte sources: each value's result
};

/// Converts one decoded canvas into `dst` (laid out as out_spec says).
void convert(const Chunks& c, const RawLayout& raw, const std::byte* src, const std::optional<std::string>& mode,
             std::byte* dst);

/// spec §5.1.9: out = round(((v / S) ** g) * S + 0.4999) cast to uint8.
NDArray apply_gamma(const NDArray& image, double gamma, const Request& request);

}  // namespace imio::png
