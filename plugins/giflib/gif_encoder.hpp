// Writing GIFs through giflib's EGif API to the request's ByteSink.
#pragma once

#include <imio/plugin.hpp>

#include <optional>
#include <string>
#include <vector>

namespace imio::giflib {

/// Validated write options (spec §5.1.6, GIF rows).
struct EncodeOptions {
  std::vector<int> duration_ms;   // empty: no delay; one value: every frame; else per frame
  std::optional<int> loop;        // absent: no NETSCAPE2.0 block (as imageio)
  std::vector<int> disposal;      // as duration
  std::optional<int> transparency;  // a palette index marked transparent in every frame
  std::optional<Bytes> comment;
  int palettesize = 256;
  bool dither = false;
};

/// One frame to write: height × width pixels of 1 (gray), 2 (gray+alpha), 3
/// (RGB) or 4 (RGBA) uint8 channels, C order.
struct FrameView {
  const std::uint8_t* pixels = nullptr;
  std::size_t height = 0, width = 0;
  int channels = 0;
};

/// One frame quantized and LZW-compressed as it arrives: its image
/// descriptor, local colour table and image data (GIF89a §20–22), ready to
/// be copied into the file. It is small (the frame's share of the GIF), so
/// a writer keeps these instead of the frames' pixels.
struct EncodedFrame {
  Bytes image;           ///< from the image separator (0x2C) to the block terminator
  int transparent = -1;  ///< the palette index of transparent pixels, or -1
  bool alpha = false;    ///< the frame had an alpha channel
  std::size_t height = 0, width = 0;
};

/// Quantizes (palettesize, dither) and compresses one frame.
EncodedFrame encode_frame(const FrameView& frame, int palettesize, bool dither);

/// Writes the GIF of `frames` (at least one, all of one size): header,
/// logical screen, loop and comment extensions, and per frame its graphic
/// control extension (duration, disposal, transparency) and its encoded
/// image. Consecutive identical frames are all kept (DECISIONS D16). GIF87a
/// unless an extension is written.
void write_gif(ByteSink& sink, const std::vector<EncodedFrame>& frames, const EncodeOptions& options);

}  // namespace imio::giflib
