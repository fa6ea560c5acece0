#include "gif_compositor.hpp"

#include <algorithm>
#include <cstring>

namespace imio::giflib {
namespace {

// ITU-R 601-2 luma in Pillow's 16-bit fixed point (spec §5.1.3).
inline std::uint8_t luma(const std::uint8_t* rgb) noexcept {
  return static_cast<std::uint8_t>((19595u * rgb[0] + 38470u * rgb[1] + 7471u * rgb[2] + 32768u) >> 16);
}

// A palette the frame needs (Pillow drops gray-ramp tables), as 256 entries;
// Pillow's palettes start as the gray ramp, so entries past the table are gray.
std::optional<std::array<std::uint8_t, 768>> effective_palette(const Screen& screen, const FrameInfo& f) {
  const ColorTable* table = nullptr;
  if (f.local) {
    if (f.local->is_gray_ramp()) return std::nullopt;
    table = &*f.local;
  } else if (screen.global && !screen.global->is_gray_ramp()) {
    table = &*screen.global;
  }
  if (table == nullptr) return std::nullopt;
  std::array<std::uint8_t, 768> p{};
  for (std::size_t i = 0; i < 256; ++i) p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = static_cast<std::uint8_t>(i);
  std::memcpy(p.data(), table->rgb.data(), std::min<std::size_t>(table->rgb.size(), 768));
  return p;
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
      keep_index_(gray_file || layout == Layout::indices),
      index_(width_ * height_) {}

void Compositor::add(const RawFrame& frame) {
  const auto palette = effective_palette(screen_, frame.info);
  if (frame_ == 0) {
    // Frame 0's canvas: its transparent index, else index 0 (Pillow's new image).
    std::fill(index_.begin(), index_.end(), frame.info.transparency.value_or(0));
    info_transparency_ = frame.info.transparency;
    palette0_ = palette;
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
  plan_disposal(frame, palette);
  draw(frame, palette);
  ++frame_;
}

void Compositor::apply_pending() {
  Pending& p = pending_;
  if (p.kind == Pending::none) return;
  const std::size_t w = p.x1 - p.x0;
  for (std::size_t y = p.y0; y < p.y1; ++y) {
    const std::size_t row = y - p.y0;
    const bool index_space = !p.rgba_space || keep_index_;
    if (index_space) {
      std::uint8_t* dst = index_.data() + y * width_ + p.x0;
      if (p.kind == Pending::fill) std::memset(dst, p.fill_index, w);
      else std::memcpy(dst, p.saved_index.data() + row * w, w);
    }
    if (p.rgba_space) {
      std::uint8_t* dst = rgba_.data() + (y * width_ + p.x0) * 4;
      if (p.kind == Pending::fill) {
        for (std::size_t x = 0; x < w; ++x) std::memcpy(dst + 4 * x, p.fill_rgba.data(), 4);
      } else {
        std::memcpy(dst, p.saved_rgba.data() + row * w * 4, w * 4);
      }
    }
  }
  p.kind = Pending::none;
}

// Pillow converts the palette canvas when frame 1 is sought: to RGBA with
// frame 0's transparent index as alpha 0 when it had one, else to RGB.
void Compositor::to_rgba() {
  rgba_.resize(width_ * height_ * 4);
  const auto& pal = *palette0_;
  has_alpha_ = info_transparency_.has_value();
  const int t = info_transparency_ ? *info_transparency_ : -1;
  for (std::size_t i = 0; i < index_.size(); ++i) {
    const std::uint8_t v = index_[i];
    std::memcpy(&rgba_[4 * i], &pal[3 * v], 3);
    rgba_[4 * i + 3] = v == t ? 0 : 255;
  }
  info_transparency_.reset();
  converted_ = true;
}

void Compositor::plan_disposal(const RawFrame& frame, const std::optional<Palette>& palette) {
  Pending& p = pending_;
  p.kind = Pending::none;
  const FrameInfo& f = frame.info;
  p.x0 = std::min<std::size_t>(f.left, width_);
  p.y0 = std::min<std::size_t>(f.top, height_);
  p.x1 = std::min<std::size_t>(std::size_t{f.left} + f.width, width_);
  p.y1 = std::min<std::size_t>(std::size_t{f.top} + f.height, height_);
  if (disposal_method_ < 2 || p.x0 == p.x1 || p.y0 == p.y1) return;
  p.rgba_space = converted_;
  auto rgb = [&](std::uint8_t c, std::uint8_t* out) {
    if (palette) std::memcpy(out, &(*palette)[3 * c], 3);
    else out[0] = out[1] = out[2] = c;
  };
  if (disposal_method_ == 2) {
    // "by convention, attempt to use transparency first" — frame 0's while
    // the canvas is in palette space (Pillow keeps it in info), else this
    // frame's — then the background (Pillow's info["background"], present
    // only with a global colour table, else 0).
    const auto t = info_transparency_ ? info_transparency_ : f.transparency;
    p.kind = Pending::fill;
    p.fill_index = t ? *t : (screen_.global ? screen_.background : std::uint8_t{0});
    rgb(p.fill_index, p.fill_rgba.data());
    p.fill_rgba[3] = t ? 0 : 255;
    return;
  }
  if (frame_ == 0) {
    // Nothing to restore before the first frame: its transparent index if any.
    if (!f.transparency) return;
    p.kind = Pending::fill;
    p.fill_index = *f.transparency;
    return;
  }
  p.kind = Pending::restore;
  const std::size_t w = p.x1 - p.x0;
  if (!p.rgba_space || keep_index_) {
    p.saved_index.resize(w * (p.y1 - p.y0));
    for (std::size_t y = p.y0; y < p.y1; ++y) {
      std::memcpy(p.saved_index.data() + (y - p.y0) * w, index_.data() + y * width_ + p.x0, w);
    }
  }
  if (p.rgba_space) {
    p.saved_rgba.resize(w * 4 * (p.y1 - p.y0));
    for (std::size_t y = p.y0; y < p.y1; ++y) {
      std::memcpy(p.saved_rgba.data() + (y - p.y0) * w * 4, rgba_.data() + (y * width_ + p.x0) * 4, w * 4);
    }
  }
}

void Compositor::draw(const RawFrame& frame, const std::optional<Palette>& palette) {
  const FrameInfo& f = frame.info;
  const std::size_t x0 = f.left, y0 = f.top;
  // The decoder kept only the part on the screen (Pillow 9.4 refuses frames reaching outside it).
  const std::size_t fw = frame.stride;
  const std::size_t w = fw;
  const std::size_t h = fw == 0 ? 0 : frame.indices.size() / fw;
  // Frame 0 is drawn whole; later frames skip their transparent index.
  const int t = frame_ > 0 && f.transparency ? *f.transparency : -1;
  const bool rgba_space = converted_;
  for (std::size_t y = 0; y < h; ++y) {
    const std::uint8_t* src = frame.indices.data() + y * fw;
    if (!rgba_space || keep_index_) {
      std::uint8_t* dst = index_.data() + (y0 + y) * width_ + x0;
      if (t < 0) {
        std::memcpy(dst, src, w);
      } else {
        for (std::size_t x = 0; x < w; ++x) {
          if (src[x] != t) dst[x] = src[x];
        }
      }
    }
    if (!rgba_space) continue;
    std::uint8_t* dst = rgba_.data() + ((y0 + y) * width_ + x0) * 4;
    if (!palette) {
      // A gray-ramp table (or none): the indices are the gray levels; the
      // transparent index keeps the previous frame (GIF89a §23).
      for (std::size_t x = 0; x < w; ++x) {
        if (src[x] == t) continue;
        dst[4 * x] = dst[4 * x + 1] = dst[4 * x + 2] = src[x];
        dst[4 * x + 3] = 255;
      }
      continue;
    }
    const std::uint8_t* pal = palette->data();
    for (std::size_t x = 0; x < w; ++x) {
      const std::uint8_t v = src[x];
      if (v == t) continue;
      std::memcpy(dst + 4 * x, pal + 3 * v, 3);
      dst[4 * x + 3] = 255;
    }
  }
}

void Compositor::render(std::uint8_t* dst) const {
  const std::size_t n = width_ * height_;
  if (layout_ == Layout::indices) {
    std::memcpy(dst, index_.data(), n);
    return;
  }
  if (gray_file_ || !converted_) {
    // Still in palette (or gray) space: no frame brought its own colour table yet, or a gray file.
    std::array<std::uint8_t, 768> gray{};
    for (std::size_t i = 0; i < 256; ++i) gray[3 * i] = gray[3 * i + 1] = gray[3 * i + 2] = static_cast<std::uint8_t>(i);
    const std::uint8_t* pal = (!gray_file_ && palette0_) ? palette0_->data() : gray.data();
    const int t = info_transparency_ ? *info_transparency_ : -1;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t v = index_[i];
      const std::uint8_t* c = pal + 3 * v;
      switch (layout_) {
        case Layout::rgb: std::memcpy(dst + 3 * i, c, 3); break;
        case Layout::rgba:
          std::memcpy(dst + 4 * i, c, 3);
          dst[4 * i + 3] = v == t ? 0 : 255;
          break;
        default: dst[i] = gray_file_ ? v : luma(c); break;
      }
    }
    return;
  }
  const std::uint8_t* src = rgba_.data();
  switch (layout_) {
    case Layout::rgb:
      for (std::size_t i = 0; i < n; ++i) std::memcpy(dst + 3 * i, src + 4 * i, 3);
      break;
    case Layout::rgba:
      std::memcpy(dst, src, n * 4);
      if (!has_alpha_) {
        for (std::size_t i = 0; i < n; ++i) dst[4 * i + 3] = 255;
      }
      break;
    default:
      for (std::size_t i = 0; i < n; ++i) dst[i] = luma(src + 4 * i);
      break;
  }
}

}  // namespace imio::giflib
