// How an FFmpeg pixel format becomes an ndimage (spec §5.2.2): packed
// formats → (H,W[,C]), planar ones → channel-first (P,H,W), and the
// conversion of decoded frames through libswscale as PyAV does it.
#pragma once

#include <imio/ndarray.hpp>

#include <string_view>

#include "av_util.hpp"

namespace imio::ffmpeg {

/// The array form of one pixel format.
struct PixelLayout {
  AVPixelFormat format = AV_PIX_FMT_NONE;
  DType dtype = DType::uint8;
  std::size_t components = 0;
  bool planar = false;
  bool big_endian = false;

  /// (H,W), (H,W,C) or (P,H,W).
  Shape shape(int width, int height) const;
  /// Bytes of one row of one plane in the array.
  std::size_t row_bytes(int width) const;
};

/// The format named `name` ("rgb24", "gray", …); ArgumentError when FFmpeg
/// knows no such pixel format.
AVPixelFormat pixel_format_by_name(std::string_view name);

/// The layout of `format`; IOError naming the format when it cannot be
/// expressed as a strided array (chroma subsampling, bit-packed, mixed
/// component layouts, hardware formats), suggesting `format=`.
PixelLayout layout_of(AVPixelFormat format);
/// Same test without throwing.
bool is_strided(AVPixelFormat format) noexcept;

/// Turns decoded frames into array memory. Converts with libswscale using
/// SWS_BILINEAR and default colour details (BT.601, the range of the
/// format), which is what PyAV's reformat() does, so pixels match imageio.
class FrameConverter {
 public:
  /// Writes `frame` in `layout` to `dst` (layout.shape(frame.width, frame.height) elements).
  void convert(const AVFrame& frame, const PixelLayout& layout, std::byte* dst);

 private:
  SwsPtr sws_;
  int sws_w_ = 0, sws_h_ = 0;
  AVPixelFormat sws_src_ = AV_PIX_FMT_NONE, sws_dst_ = AV_PIX_FMT_NONE;
  FramePtr scratch_;
};

}  // namespace imio::ffmpeg
