// Streaming GIF decoding through giflib: one GifFileType over the request's
// ByteSource, frames read one after the other (DGifGetRecordType,
// DGifGetImageDesc, then the image data), never the whole file at once
// (DGifSlurp), so imiter holds at most the canvas and one frame's indices.
// A frame on the screen has its image data collected with DGifGetCode /
// DGifGetCodeNext and decoded by the plugin's LZW decoder (gif_lzw.hpp);
// anything that decoder refuses, and frames reaching outside the screen, are
// decoded by giflib's DGifGetLine.
#pragma once

#include <imio/plugin.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gif_blocks.hpp"

struct GifFileType;

namespace imio::giflib {

/// One frame: its descriptor and extensions, and the palette indices of the
/// part that lies on the logical screen (de-interlaced, row-major, `stride`
/// columns per row), so a hostile frame size never costs more than the screen.
struct RawFrame {
  FrameInfo info;
  std::size_t stride = 0;
  std::vector<std::uint8_t> indices;
};

class Decoder {
 public:
  explicit Decoder(Request& request);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const Screen& screen() const noexcept { return screen_; }
  /// Reads the next frame into `frame` (its buffer is reused); false after the last.
  bool next(RawFrame& frame);

 private:
  struct Closer {
    void operator()(GifFileType* gif) const noexcept;
  };
  [[noreturn]] void fail(const char* what) const;
  void read_extension(FrameInfo& info);
  /// Decodes a whole on-screen frame with the plugin's LZW decoder (gif_lzw);
  /// false, with the source back at `image_start` (just after the image
  /// separator) and giflib ready to read the descriptor again, when the image
  /// data are not a regular LZW stream: giflib then decodes the frame.
  bool decode_own(RawFrame& frame, std::uint64_t image_start);

  Request& request_;
  std::unique_ptr<GifFileType, Closer> gif_;
  Screen screen_;
  std::size_t frames_ = 0;
  std::vector<std::uint8_t> row_;
  std::vector<std::uint8_t> data_;   // a frame's image data sub-blocks, concatenated (decode_own)
  std::vector<std::uint8_t> rows_;   // an interlaced frame's rows in stream order (decode_own)
  bool own_lzw_ = true;              // gif_lzw decodes (IMIO_GIF_GIFLIB_ONLY unset)
  bool done_ = false;
};

}  // namespace imio::giflib
