// Frames as imageio's pillow plugin shows them (Pillow 9.4 GifImagePlugin,
// with imageio's LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY): every
// frame is the whole logical screen after drawing it over the previous
// result (spec §5.1.5).
//
// The rules reproduced, each checked against the corpus goldens:
// - frame 0 is drawn in palette space onto a canvas filled with its
//   transparent index, or index 0 when it has none (not the background);
//   its transparent pixels are drawn like any other;
// - the canvas stays in palette space (frame 0's palette, frame 0's
//   transparent index) until a later frame has a local colour table; from
//   then on it is RGB, or RGBA when frame 0 had a transparent index; later
//   frames skip their transparent pixels (also with a gray-ramp local
//   table, where Pillow shows palette indices as gray: GIF89a wins);
// - a frame's disposal (GIF89a §23) is applied just before the next frame;
//   a GCE disposal of 0 (or no GCE) keeps the previous frame's method;
//   2 fills the frame's rectangle with the transparent colour (alpha 0) or
//   else the background colour; 3 and above restore what was under it;
//   for frame 0, 3 fills with its transparent index when it has one;
// - a file whose first frame has no palette Pillow needs (no table, or a
//   gray ramp i → (i, i, i)) stays gray "L" throughout, indices as levels.
//
// One canvas is kept, in the bytes the layout needs: palette indices for
// mode "P" (and for gray files read as gray), else colours (RGB, or RGBA for
// mode "RGBA"). In palette space the colour canvas holds frame 0's colour of
// every index, so the switch to RGB(A) costs nothing and rendering a frame is
// one copy (a luma pass for mode "L") rather than a palette lookup per pixel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "gif_blocks.hpp"
#include "gif_decoder.hpp"

namespace imio::giflib {

/// The array layout of every frame (DECISIONS D15).
enum class Layout { rgb, rgba, gray, indices };
std::size_t channels(Layout layout) noexcept;

/// True when Pillow opens the file as "L": frame 0's palette is absent or a gray ramp.
bool opens_as_gray(const Screen& screen, const FrameInfo& frame0) noexcept;

class Compositor {
 public:
  /// `layout` decides which canvas is kept (palette indices only on request).
  Compositor(const Screen& screen, bool gray_file, Layout layout);
  /// Draws the next frame of the file.
  void add(const RawFrame& frame);
  /// Writes the current canvas in the layout, H × W × channels bytes.
  void render(std::uint8_t* dst) const;

 private:
  /// 256 colours as 4 bytes each (RGB and alpha), for 4-byte stores.
  using Lut = std::array<std::uint8_t, 1024>;
  struct Pending {
    enum Kind { none, fill, restore } kind = none;
    std::size_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::array<std::uint8_t, 4> value{};  // what a fill writes: an index (byte 0) or a colour
    std::vector<std::uint8_t> saved;
  };

  void apply_pending();
  void to_rgba();
  void plan_disposal(const RawFrame& frame, const Lut& lut);
  void draw(const RawFrame& frame, const Lut& lut);
  void fill_rect(std::size_t x0, std::size_t y0, std::size_t x1, std::size_t y1, const std::uint8_t* value);

  std::size_t width_, height_;
  const Screen& screen_;
  bool gray_file_;
  Layout layout_;
  std::size_t bpp_;  // canvas bytes per pixel: 1 (indices), 3 (RGB, also for "L") or 4 (RGBA)
  std::size_t frame_ = 0;
  int disposal_method_ = 0;
  std::optional<std::uint8_t> info_transparency_;  // frame 0's, until the canvas turns RGB(A)
  bool has_alpha_ = false;
  bool converted_ = false;  // the canvas is RGB(A) (a frame after the first brought a colour table)
  Lut lut0_{};              // palette space: frame 0's colours, alpha 0 at its transparent index
  std::vector<std::uint8_t> canvas_;
  Pending pending_;
};

}  // namespace imio::giflib
