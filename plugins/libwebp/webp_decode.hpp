// Pixels: a still image decoded straight into the caller's buffer
// (WebPDecode), an animation composited frame by frame by libwebp's own
// WebPAnimDecoder (so blend and dispose are exactly libwebp's), and the
// conversions of a decoded RGBA canvas to the layouts imio returns.
#pragma once

#include <imio/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

struct WebPAnimDecoder;  // libwebp's demux.h

namespace imio::webp {

/// The layout of one returned frame (Pillow modes).
enum class Layout { rgb, rgba, gray };

inline int channels(Layout l) { return l == Layout::rgba ? 4 : l == Layout::rgb ? 3 : 1; }

/// Decodes a still (not animated) image into `dst`, rows of width ×
/// `out_channels` (3: RGB, 4: RGBA) bytes. Throws DecodeError with libwebp's
/// status.
void decode_still(std::span<const std::byte> file, std::uint32_t width, std::uint32_t height, int out_channels,
                  std::byte* dst);
/// The same into rows at any stride (a region of the caller's canvas, a
/// flipped view: libwebp's output buffer takes a stride, negative too).
void decode_still_rows(std::span<const std::byte> file, std::uint32_t width, std::uint32_t height, int out_channels,
                       const RowTarget& rows);

/// An RGBA canvas converted to `layout`: RGB drops alpha, gray is Pillow's
/// L = (19595 R + 38470 G + 7471 B + 32768) >> 16 (alpha ignored).
void convert_rgba(const std::uint8_t* rgba, std::size_t pixels, Layout layout, std::byte* dst);
/// The same from packed RGB (gray only; RGB is copied).
void convert_rgb(const std::uint8_t* rgb, std::size_t pixels, Layout layout, std::byte* dst);

/// Decodes the bitstreams of frames 0 … `last` on their own (no canvas),
/// throwing DecodeError "frame k: …" for the first that does not decode.
void check_frame_bitstreams(std::span<const std::byte> file, std::size_t last);

/// libwebp's WebPAnimDecoder over a whole file (MODE_RGBA, not
/// premultiplied, as Pillow creates it). The data must outlive it.
/// Memory: two canvases of width × height × 4 bytes (checked by the caller).
class AnimDecoder {
 public:
  explicit AnimDecoder(std::span<const std::byte> file);

  /// Frames composited so far.
  std::size_t decoded() const { return decoded_; }
  /// Composites the next frame and returns the RGBA canvas (valid until the
  /// next call). Throws DecodeError naming the frame when it does not decode.
  const std::uint8_t* next();

 private:
  struct Delete {
    void operator()(WebPAnimDecoder* d) const noexcept;
  };
  std::unique_ptr<WebPAnimDecoder, Delete> dec_;
  std::span<const std::byte> file_;
  std::size_t decoded_ = 0;
};

}  // namespace imio::webp
