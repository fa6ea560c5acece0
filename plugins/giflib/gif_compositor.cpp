#include "gif_compositor.hpp"

#include <algorithm>
#include <cstring>

namespace imio::giflib {
namespace {

// ITU-R 601-2 luma in Pillow's 16-bit fixed point (spec §5.1.3).
inline std::uint8_t luma(const std::uint8_t* rgb) noexcept {
  return static_cast<std::uint8_t>((19595u * rgb[0] + 38470u * rgb[1] + 7471u * rgb[2] + 32768u) >> 16);
}

// The colours a frame's indices stand for, alpha 0 at `transparent` (-1:
// none). Pillow drops gray-ramp tables and its palettes start as the gray
// ramp, so indices without a colour (no table, a gray-ramp table, entries
// past the table) are gray levels.
std::array<std::uint8_t, 1024> colours_of(const Screen& screen, const FrameInfo& f, int transparent) {
  const ColorTable* table = nullptr;
  if (f.local) {
    if (!f.local->is_gray_ramp()) table = &*f.local;
  } else if (screen.global && !screen.global->is_gray_ramp()) {
    table = &*screen.global;
  }
  const std::size_t count = table ? std::min<std::size_t>(table->count(), 256) : 0;
  std::array<std::uint8_t, 1024> lut{};
  for (std::size_t i = 0; i < 256; ++i) {
    std::uint8_t* c = &lut[4 * i];
    if (i < count) std::memcpy(c, &table->rgb[3 * i], 3);
    else c[0] = c[1] = c[2] = static_cast<std::uint8_t>(i);
    c[3] = static_cast<int>(i) == transparent ? 0 : 255;
  }
  return lut;
}

// One row of indices drawn as colours, skipping index `t` (-1: none).
void draw_rgb_row(std::uint8_t* dst, const std::uint8_t* src, std::size_t w, int t, const std::uint8_t* lut) {
  if (w == 0) return;
  if (t < 0) {
    // 4-byte stores, each one's fourth byte overwritten by the next pixel.
    for (std::size_t x = 0; x + 1 < w; ++x) std::memcpy(dst + 3 * x, lut + 4 * src[x], 4);
    std::memcpy(dst + 3 * (w - 1), lut + 4 * src[w - 1], 3);
    return;
  }
  for (std::size_t x = 0; x < w; ++x) {
    if (src[x] != t) std::memcpy(dst + 3 * x, lut + 4 * src[x], 3);
  }
}

void draw_rgba_row(std::uint8_t* dst, const std::uint8_t* src, std::size_t w, int t, const std::uint8_t* lut) {
  for (std::size_t x = 0; x < w; ++x) {
    if (src[x] != t) std::memcpy(dst + 4 * x, lut + 4 * src[x], 4);
  }
}

}  // namespace

std::size_t channels(Layout layout) noexcept {
  switch (layout) {
    case Layout::rgb: return 3;
    case Layout::rgba: return 4;
    default: return 1;
  }
}

bool opens_as_gray(const Screen& screen, const FrameInfo& frame0) noexcept {
  if (frame0.local) return frame0.local->is_gray_ramp();
  return !screen.global || screen.global->is_gray_ramp();
}

Compositor::Compositor(const Screen& screen, bool gray_file, Layout layout)
    : width_(screen.width),
      height_(screen.height),
      screen_(screen),
      gray_file_(gray_file),
      layout_(layout),
      bpp_(layout == Layout::indices || (gray_file && layout == Layout::gray) ? 1 : layout == Layout::rgba ? 4 : 3),
      canvas_(width_ * height_ * bpp_) {}

void Compositor::add(const RawFrame& frame) {
  // A later frame's own colours: alpha 255 (Pillow's RGBA canvas has alpha
  // 0 only from frame 0's transparency and from disposal).
  const Lut lut = colours_of(screen_, frame.info, -1);
  if (frame_ == 0) {
    // Frame 0's canvas: its transparent index, else index 0 (Pillow's new image).
    info_transparency_ = frame.info.transparency;
    lut0_ = colours_of(screen_, frame.info, info_transparency_ ? *info_transparency_ : -1);
    const std::uint8_t start = frame.info.transparency.value_or(0);
    fill_rect(0, 0, width_, height_, bpp_ == 1 ? &start : &lut0_[4 * start]);
  } else {
    apply_pending();
    // imageio reads GIFs with Pillow's RGB_AFTER_DIFFERENT_PALETTE_ONLY: the
    // canvas stays in palette space (frame 0's palette and transparent
    // index) until a frame brings its own colour table. Pillow ignores a
    // local gray-ramp table there and shows the palette indices as gray
    // levels; imio converts for it too, so its gray pixels are drawn and its
    // transparent ones keep the previous frame (GIF89a §23).
    if (!converted_ && !gray_file_ && frame.info.local) to_rgba();
  }
  if (frame.info.disposal != 0) disposal_method_ = frame.info.disposal;
  plan_disposal(frame, lut);
  draw(frame, lut);
  ++frame_;
}

void Compositor::fill_rect(std::size_t x0, std::size_t y0, std::size_t x1, std::size_t y1, const std::uint8_t* value) {
  if (x0 >= x1 || y0 >= y1) return;
  const std::size_t row_bytes = (x1 - x0) * bpp_;
  std::uint8_t* first = canvas_.data() + (y0 * width_ + x0) * bpp_;
  for (std::size_t x = 0; x < x1 - x0; ++x) std::memcpy(first + x * bpp_, value, bpp_);
  for (std::size_t y = y0 + 1; y < y1; ++y) std::memcpy(canvas_.data() + (y * width_ + x0) * bpp_, first, row_bytes);
}

void Compositor::apply_pending() {
  Pending& p = pending_;
  if (p.kind == Pending::fill) fill_rect(p.x0, p.y0, p.x1, p.y1, p.value.data());
  if (p.kind == Pending::restore) {
    const std::size_t row_bytes = (p.x1 - p.x0) * bpp_;
    for (std::size_t y = p.y0; y < p.y1; ++y) {
      std::memcpy(canvas_.data() + (y * width_ + p.x0) * bpp_, p.saved.data() + (y - p.y0) * row_bytes, row_bytes);
    }
  }
  p.kind = Pending::none;
}

// Pillow converts the palette canvas when frame 1 is sought: to RGBA with
// frame 0's transparent index as alpha 0 when it had one, else to RGB. The
// colour canvas already holds those colours (lut0_), so only the rules change.
void Compositor::to_rgba() {
  has_alpha_ = info_transparency_.has_value();
  info_transparency_.reset();
  converted_ = true;
}

void Compositor::plan_disposal(const RawFrame& frame, const Lut& lut) {
  Pending& p = pending_;
  p.kind = Pending::none;
  const FrameInfo& f = frame.info;
  p.x0 = std::min<std::size_t>(f.left, width_);
  p.y0 = std::min<std::size_t>(f.top, height_);
  p.x1 = std::min<std::size_t>(std::size_t{f.left} + f.width, width_);
  p.y1 = std::min<std::size_t>(std::size_t{f.top} + f.height, height_);
  if (disposal_method_ < 2 || p.x0 == p.x1 || p.y0 == p.y1) return;
  if (disposal_method_ == 2) {
    // "by convention, attempt to use transparency first" — frame 0's while
    // the canvas is in palette space (Pillow keeps it in info), else this
    // frame's — then the background (Pillow's info["background"], present
    // only with a global colour table, else 0).
    const auto t = info_transparency_ ? info_transparency_ : f.transparency;
    const std::uint8_t index = t ? *t : (screen_.global ? screen_.background : std::uint8_t{0});
    p.kind = Pending::fill;
    if (bpp_ == 1) {
      p.value[0] = index;
    } else if (!converted_) {
      std::memcpy(p.value.data(), &lut0_[4 * index], 4);  // palette space: as frame 0's colours show it
    } else {
      std::memcpy(p.value.data(), &lut[4 * index], 3);
      p.value[3] = t && has_alpha_ ? 0 : 255;  // an RGB canvas (no alpha) is opaque
    }
    return;
  }
  if (frame_ == 0) {
    // Nothing to restore before the first frame: its transparent index if any.
    if (!f.transparency) return;
    p.kind = Pending::fill;
    if (bpp_ == 1) p.value[0] = *f.transparency;
    else std::memcpy(p.value.data(), &lut0_[4 * *f.transparency], 4);
    return;
  }
  p.kind = Pending::restore;
  const std::size_t row_bytes = (p.x1 - p.x0) * bpp_;
  p.saved.resize(row_bytes * (p.y1 - p.y0));
  for (std::size_t y = p.y0; y < p.y1; ++y) {
    std::memcpy(p.saved.data() + (y - p.y0) * row_bytes, canvas_.data() + (y * width_ + p.x0) * bpp_, row_bytes);
  }
}

void Compositor::draw(const RawFrame& frame, const Lut& lut) {
  const FrameInfo& f = frame.info;
  const std::size_t x0 = f.left, y0 = f.top;
  // The decoder kept only the part on the screen (Pillow 9.4 refuses frames reaching outside it).
  const std::size_t w = frame.stride;
  const std::size_t h = w == 0 ? 0 : frame.indices.size() / w;
  // Frame 0 is drawn whole; later frames skip their transparent index.
  const int t = frame_ > 0 && f.transparency ? *f.transparency : -1;
  // In palette space an index shows frame 0's colour (and alpha).
  const std::uint8_t* colours = converted_ ? lut.data() : lut0_.data();
  for (std::size_t y = 0; y < h; ++y) {
    const std::uint8_t* src = frame.indices.data() + y * w;
    std::uint8_t* dst = canvas_.data() + ((y0 + y) * width_ + x0) * bpp_;
    if (bpp_ == 3) {
      draw_rgb_row(dst, src, w, t, colours);
    } else if (bpp_ == 4) {
      draw_rgba_row(dst, src, w, t, colours);
    } else if (t < 0) {
      std::memcpy(dst, src, w);
    } else {
      for (std::size_t x = 0; x < w; ++x) {
        if (src[x] != t) dst[x] = src[x];
      }
    }
  }
}

void Compositor::render(std::uint8_t* dst) const {
  if (layout_ == Layout::gray && bpp_ == 3) {
    const std::size_t n = width_ * height_;
    for (std::size_t i = 0; i < n; ++i) dst[i] = luma(&canvas_[3 * i]);
    return;
  }
  std::memcpy(dst, canvas_.data(), canvas_.size());
}

}  // namespace imio::giflib
