// libpng behind a C++ surface: decode one PNG stream from memory into a
// caller's buffer, encode one image to a byte callback. setjmp/longjmp stays
// in png_codec.cpp, in functions that own no C++ objects.
#pragma once

#include <imio/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imio::png {

/// The layout libpng fills: one byte per sample below 8 bits (gray 1-bit as
/// 0/1, 2/4-bit gray scaled to 0…255 as Pillow's L, palette indices as
/// stored), native-endian uint16 for 16-bit.
struct RawLayout {
  std::uint32_t width = 0, height = 0;
  int channels = 1;  ///< 1 gray/palette, 2 gray+alpha, 3 RGB, 4 RGBA
  int sample_bytes = 1;
  std::size_t row_bytes() const { return std::size_t{width} * static_cast<std::size_t>(channels * sample_bytes); }
  std::size_t total_bytes() const { return row_bytes() * height; }
};

RawLayout raw_layout(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type);

/// A box of the image in pixels: columns [left, right), rows [top, bottom).
struct Region {
  std::uint32_t left = 0, top = 0, right = 0, bottom = 0;
  std::uint32_t width() const { return right - left; }
  std::uint32_t height() const { return bottom - top; }
  /// The region's layout: RawLayout's samples for its columns and rows.
  RawLayout layout(const RawLayout& whole) const { return {width(), height(), whole.channels, whole.sample_bytes}; }
  bool covers(const RawLayout& whole) const { return left == 0 && top == 0 && right == whole.width && bottom == whole.height; }
};

/// The whole image as a Region.
inline Region whole_region(const RawLayout& l) { return {0, 0, l.width, l.height}; }

/// Where a decode lays out the rows of its region (RawLayout's samples,
/// region.layout(layout).row_bytes() each): in one block, at the end of the
/// rows of a wider result, or through a bounded band (png_sinks.hpp).
class RowSink {
 public:
  virtual ~RowSink() = default;
  /// Where region row `y` goes.
  virtual std::byte* row(std::size_t y) = 0;
  /// Rows below `n` are complete and the decoder reads them no more (it
  /// reads back the row above the one it unfilters). `n` never decreases
  /// between restarts; the last call gives the region's height.
  virtual void done(std::size_t n) = 0;
  /// The decode starts over from row 0 (libpng takes over from imio's
  /// decoder): rows already handed over will be written again.
  virtual void restart() = 0;
  /// True when every row(y) is memory of its own for the whole decode, as
  /// libpng's decode of an interlaced image needs.
  virtual bool rows_stay() const = 0;
};

/// A RowSink for rows one after the other in one block.
class BlockSink final : public RowSink {
 public:
  BlockSink(std::byte* dst, std::size_t row_bytes) : dst_(dst), row_bytes_(row_bytes) {}
  std::byte* row(std::size_t y) override { return dst_ + y * row_bytes_; }
  void done(std::size_t) override {}
  void restart() override {}
  bool rows_stay() const override { return true; }

 private:
  std::byte* dst_;
  std::size_t row_bytes_;
};

/// Decodes the complete PNG stream `png` into `dst` (layout.total_bytes()).
/// Throws DecodeError with libpng's reason.
void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type, std::byte* dst);

/// Decodes the region `region` of the image (a valid box of it) into `dst`
/// (region.layout(layout).total_bytes()). imio's decoder stops after the
/// region's last row; libpng (interlaced images, and any image imio's
/// decoder hands back) decodes every row, a non-interlaced image one row
/// at a time, an interlaced one whole (into a buffer of its own when only a
/// region is wanted), and the region's rows are cut from them. With
/// `bounded_memory` (imread_into) imio's decoder allocates nothing in
/// proportion to the image.
void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type,
            const Region& region, std::byte* dst, bool bounded_memory = false);

/// The same, each row of the region handed to `sink`. libpng's decode of an
/// interlaced image into a sink whose rows do not stay goes through a
/// buffer of the whole image.
void decode(std::span<const std::byte> png, const RawLayout& layout, int bit_depth, int color_type,
            const Region& region, RowSink& sink, bool bounded_memory);

/// A text chunk to write.
struct TextChunk {
  std::string key, value;
  bool utf8 = false;  ///< iTXt instead of tEXt
};

/// What one encode writes. Pixels: rows of width × channels samples, one
/// byte per sample for depths ≤ 8 (packed by libpng), native uint16 for 16.
struct EncodeJob {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 8, color_type = 0;
  const std::byte* pixels = nullptr;
  std::size_t row_bytes = 0;
  int compress_level = 6;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> phys_per_meter;
  std::optional<Bytes> icc_profile;
  std::optional<Bytes> exif;  ///< TIFF structure, without "Exif\0\0"
  std::vector<TextChunk> text;
  std::optional<std::vector<std::uint16_t>> trns;  ///< gray: 1 value, RGB: 3, palette: alphas
  std::vector<std::uint8_t> palette;               ///< RGB triplets
  /// Called after IHDR and the ancillary chunks, before IDAT (APNG's acTL).
  std::function<void()> before_idat{};
};

/// Encodes `job`; every output byte goes to `out` (which may throw: the
/// exception is carried across libpng and rethrown here).
void encode(const EncodeJob& job, const std::function<void(const std::byte*, std::size_t)>& out);

std::string libpng_version();

}  // namespace imio::png
