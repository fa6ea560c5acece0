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

/// Quantizes and writes every frame; consecutive identical frames are all
/// kept (DECISIONS D16). GIF87a unless an extension is written.
void encode_gif(ByteSink& sink, const std::vector<FrameView>& frames, const EncodeOptions& options);

}  // namespace imio::giflib
