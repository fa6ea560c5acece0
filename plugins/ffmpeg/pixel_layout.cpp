#include "pixel_layout.hpp"

#include <imio/error.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include <fmt/format.h>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace imio::ffmpeg {
namespace {

// Rows of converted frames start on 64-byte boundaries: the alignment
// FFmpeg's own frame buffers use on this platform, so swscale takes the same
// SIMD paths (and gives the same pixels) as in PyAV.
constexpr int kAlign = 64;

std::string_view format_name(AVPixelFormat f) {
  const char* n = av_get_pix_fmt_name(f);
  return n != nullptr ? n : "unknown";
}

// Channels of a packed format in memory: rgb0/bgr0 carry a padding byte,
// which PyAV returns as a fourth channel.
int packed_channels(const AVPixFmtDescriptor* d) {
  const bool padded = d->nb_components == 3 && (d->flags & AV_PIX_FMT_FLAG_ALPHA) == 0 &&
                      d->comp[0].step == 4 * ((d->comp[0].depth + 7) / 8);
  return padded ? 4 : d->nb_components;
}

// Why `f` has no strided array form, or empty when it has one.
std::string_view unstrided_reason(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  if (d == nullptr) return "unknown";
  if ((d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL)) != 0) return "layout";
  if (d->nb_components == 0) return "layout";
  if (d->nb_components > 1 && (d->log2_chroma_w != 0 || d->log2_chroma_h != 0)) return "subsampled";
  const int depth = d->comp[0].depth;
  const int bytes = (depth + 7) / 8;
  const bool planar = (d->flags & AV_PIX_FMT_FLAG_PLANAR) != 0 && d->nb_components > 1;
  int planes_seen = 0;
  for (int c = 0; c < d->nb_components; ++c) {
    const AVComponentDescriptor& comp = d->comp[c];
    if (comp.depth != depth || comp.shift != 0) return "mixed";
    if (planar) {
      // One component per plane, in any order: gbrp lists R, G, B on planes
      // 2, 0, 1, and the array holds the planes in their order (G, B, R).
      if (comp.plane >= d->nb_components || (planes_seen & (1 << comp.plane)) != 0 || comp.offset != 0 || comp.step != bytes) return "mixed";
      planes_seen |= 1 << comp.plane;
    } else if (comp.plane != 0 || comp.step != bytes * packed_channels(d)) {
      return "mixed";  // bit-packed components (rgb565)
    }
  }
  if (bytes != 1 && bytes != 2 && !((d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0 && bytes == 4)) return "mixed";
  return {};
}

void swap_bytes(std::byte* p, std::size_t n, std::size_t item) {
  if (item == 2) {
    for (std::size_t i = 0; i + 1 < n; i += 2) std::swap(p[i], p[i + 1]);
  } else if (item == 4) {
    for (std::size_t i = 0; i + 3 < n; i += 4) {
      std::swap(p[i], p[i + 3]);
      std::swap(p[i + 1], p[i + 2]);
    }
  }
}

// Copies `rows` rows of `row_bytes` from a strided plane to packed memory.
void copy_plane(const std::uint8_t* src, int linesize, std::byte* dst, std::size_t row_bytes, int rows) {
  if (static_cast<std::size_t>(linesize) == row_bytes) {
    std::memcpy(dst, src, row_bytes * static_cast<std::size_t>(rows));
    return;
  }
  for (int y = 0; y < rows; ++y) {
    std::memcpy(dst + static_cast<std::size_t>(y) * row_bytes, src + static_cast<std::ptrdiff_t>(y) * linesize, row_bytes);
  }
}

}  // namespace

Shape PixelLayout::shape(int width, int height) const {
  const auto w = static_cast<std::size_t>(width), h = static_cast<std::size_t>(height);
  if (components == 1) return {h, w};
  if (planar) return {components, h, w};
  return {h, w, components};
}

std::size_t PixelLayout::row_bytes(int width) const {
  return static_cast<std::size_t>(width) * itemsize(dtype) * (planar ? 1 : components);
}

AVPixelFormat pixel_format_by_name(std::string_view name) {
  const AVPixelFormat f = av_get_pix_fmt(std::string(name).c_str());
  if (f == AV_PIX_FMT_NONE) throw ArgumentError(fmt::format("'{}' is not a pixel format FFmpeg knows", name));
  return f;
}

bool is_strided(AVPixelFormat format) noexcept { return unstrided_reason(format).empty(); }

PixelLayout layout_of(AVPixelFormat format) {
  if (!is_strided(format)) {
    // The spec's OSError text (§5.2.2), as imageio words it.
    throw IOError(fmt::format("{} can't be expressed as a strided array. Use `format=` to select a format to convert into.",
                              format_name(format)));
  }
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  PixelLayout l;
  l.format = format;
  l.planar = (d->flags & AV_PIX_FMT_FLAG_PLANAR) != 0 && d->nb_components > 1;
  l.components = static_cast<std::size_t>(d->nb_components);
  // rgb0/bgr0 (ffv1 RGB): three channels as imageio shows them, the padding
  // byte dropped by converting to the matching 24-bit layout.
  if (format == AV_PIX_FMT_BGR0 || format == AV_PIX_FMT_0BGR) l.format = AV_PIX_FMT_BGR24;
  if (format == AV_PIX_FMT_RGB0 || format == AV_PIX_FMT_0RGB) l.format = AV_PIX_FMT_RGB24;
  l.big_endian = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
  const int bytes = (d->comp[0].depth + 7) / 8;
  if ((d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0) {
    l.dtype = DType::float32;
  } else {
    l.dtype = bytes == 1 ? DType::uint8 : DType::uint16;
  }
  return l;
}

void FrameConverter::convert(const AVFrame& frame, const PixelLayout& layout, std::byte* dst) {
  const int w = frame.width, h = frame.height;
  const auto src_format = static_cast<AVPixelFormat>(frame.format);
  const std::size_t row = layout.row_bytes(w);
  const int planes = layout.planar ? static_cast<int>(layout.components) : 1;
  const std::size_t plane_bytes = row * static_cast<std::size_t>(h);
  if (src_format == layout.format) {
    // PyAV hands the decoded frame over unconverted when the format matches.
    for (int p = 0; p < planes; ++p) copy_plane(frame.data[p], frame.linesize[p], dst + p * plane_bytes, row, h);
  } else {
    if (!sws_ || sws_w_ != w || sws_h_ != h || sws_src_ != src_format || sws_dst_ != layout.format) {
      sws_.reset(sws_getContext(w, h, src_format, w, h, layout.format, SWS_BILINEAR, nullptr, nullptr, nullptr));
      if (!sws_) {
        throw DecodeError(fmt::format("libswscale cannot convert {} to {}", format_name(src_format), format_name(layout.format)));
      }
      sws_w_ = w, sws_h_ = h, sws_src_ = src_format, sws_dst_ = layout.format;
    }
    const bool direct = row % kAlign == 0 && reinterpret_cast<std::uintptr_t>(dst) % kAlign == 0;
    std::uint8_t* out[4] = {};
    int out_lines[4] = {};
    if (direct) {
      for (int p = 0; p < planes; ++p) {
        out[p] = reinterpret_cast<std::uint8_t*>(dst + p * plane_bytes);
        out_lines[p] = static_cast<int>(row);
      }
    } else {
      if (!scratch_ || scratch_->width != w || scratch_->height != h || scratch_->format != layout.format) {
        scratch_ = make_frame();
        scratch_->width = w;
        scratch_->height = h;
        scratch_->format = layout.format;
        if (av_frame_get_buffer(scratch_.get(), kAlign) < 0) throw std::bad_alloc();
      }
      for (int p = 0; p < planes; ++p) {
        out[p] = scratch_->data[p];
        out_lines[p] = scratch_->linesize[p];
      }
    }
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, h, out, out_lines);
    if (!direct) {
      for (int p = 0; p < planes; ++p) copy_plane(scratch_->data[p], scratch_->linesize[p], dst + p * plane_bytes, row, h);
    }
  }
  // D20: arrays are native-endian whatever the pixel format says.
  const bool native_big = std::endian::native == std::endian::big;
  if (itemsize(layout.dtype) > 1 && layout.big_endian != native_big) {
    swap_bytes(dst, plane_bytes * static_cast<std::size_t>(planes), itemsize(layout.dtype));
  }
}

}  // namespace imio::ffmpeg
