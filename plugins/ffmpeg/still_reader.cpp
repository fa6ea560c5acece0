// Still images FFmpeg decodes (BMP, WebP, TGA, PNM/PAM, …) with the
// semantics of imageio's pillow plugin (DECISIONS D23, spec §5.1): index
// omitted → (H,W[,C]); the file's layout (gray 2-D, alpha kept, 1-bit →
// bool, gray-ramp palettes → 2-D); Pillow's `mode` conversions; the Pillow
// metadata keys that can be known (mode, shape, and dpi/compression for BMP).
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/version.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include "ffmpeg_plugins.hpp"
#include "pixel_layout.hpp"
#include "still_formats.hpp"

namespace imio::ffmpeg {
namespace {

// Pillow's luma: L = R·299/1000 + G·587/1000 + B·114/1000, in its fixed point.
std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
  if (at + 4 > b.size()) return 0;
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
std::uint16_t le16(std::span<const std::byte> b, std::size_t at) {
  if (at + 2 > b.size()) return 0;
  return static_cast<std::uint16_t>(static_cast<unsigned>(b[at]) | static_cast<unsigned>(b[at + 1]) << 8);
}

// What Pillow's BmpImagePlugin reads from the headers.
struct BmpHeader {
  bool valid = false;
  std::uint32_t data_offset = 0, header_size = 0, compression = 0, colors = 0, alpha_mask = 0;
  std::int32_t width = 0, height = 0;
  std::uint16_t bits = 0;
  std::optional<std::array<double, 2>> dpi;
};

BmpHeader parse_bmp(std::span<const std::byte> b) {
  BmpHeader h;
  if (b.size() < 26 || b[0] != std::byte{'B'} || b[1] != std::byte{'M'}) return h;
  h.data_offset = le32(b, 10);
  h.header_size = le32(b, 14);
  if (h.header_size == 12) {  // OS/2 1.x core header
    h.width = le16(b, 18);
    h.height = le16(b, 20);
    h.bits = le16(b, 24);
  } else {
    h.width = static_cast<std::int32_t>(le32(b, 18));
    h.height = static_cast<std::int32_t>(le32(b, 22));
    h.bits = le16(b, 28);
    h.compression = le32(b, 30);
    // Pillow: dpi = pixels per metre / 39.3701
    h.dpi = std::array<double, 2>{static_cast<std::int32_t>(le32(b, 38)) / 39.3701, static_cast<std::int32_t>(le32(b, 42)) / 39.3701};
    h.colors = le32(b, 46);
    if (h.header_size >= 56) h.alpha_mask = le32(b, 66);
  }
  if (h.colors == 0 && h.bits <= 8) h.colors = 1u << h.bits;
  h.valid = true;
  return h;
}

// The decoded image in one of Pillow's modes, or, beyond 8 bits, in one of
// imio's: "I;16", "LA;16", "RGB;16", "RGBA;16" (uint16) and "F", "RGB;F",
// "RGBA;F" (float32), which Pillow has no mode for (issue #18).
struct Base {
  std::string mode;  // "1", "L", "P", "RGB", "RGBA", "LA", or a wide mode
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // 8-bit modes, row-major, channels interleaved
  std::array<std::uint8_t, 256 * 3> palette{};
  std::optional<NDArray> wide;       // the array of a wide mode
};

struct ModeShape {
  std::size_t channels = 1;
  DType dtype = DType::uint8;
};

ModeShape shape_of_mode(std::string_view mode) {
  const auto semi = mode.find(';');
  const std::string_view base = mode.substr(0, semi);
  const std::string_view depth = semi == std::string_view::npos ? std::string_view{} : mode.substr(semi + 1);
  ModeShape s;
  if (mode == "1") return {1, DType::bool_};
  if (mode == "F") return {1, DType::float32};
  if (mode == "I;16") return {1, DType::uint16};
  s.channels = base == "RGBA" ? 4 : base == "RGB" ? 3 : base == "LA" ? 2 : 1;
  s.dtype = depth == "16" ? DType::uint16 : depth == "F" ? DType::float32 : DType::uint8;
  return s;
}

std::size_t channels_of(std::string_view mode) { return shape_of_mode(mode).channels; }

const std::uint32_t* palette_of(const AVFrame& f) { return reinterpret_cast<const std::uint32_t*>(f.data[1]); }

int max_depth(const AVPixFmtDescriptor& d) {
  int depth = 0;
  for (int c = 0; c < d.nb_components; ++c) depth = std::max(depth, d.comp[c].depth);
  return depth;
}

bool is_gray_format(const AVPixFmtDescriptor& d) {
  return (d.flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) == 0 && d.nb_components <= 2;
}

// A format whose samples need more than 8 bits, or floats: returned as
// uint16 / float32 arrays (issue #18: 16-bit DPX, JPEG 2000, PNM, TIFF;
// float EXR, PFM, PHM), never cut to 8 bits.
bool is_wide_format(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  if (d == nullptr || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL)) != 0) return false;
  return (d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0 || max_depth(*d) > 8;
}

// The mode of a wide format: gray or colour, with or without alpha.
std::string wide_mode(AVPixelFormat f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
  const bool alpha = (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
  const bool floating = (d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0;
  if (is_gray_format(*d)) {
    if (!alpha) return floating ? "F" : "I;16";
    return floating ? "LA;F" : "LA;16";
  }
  return std::string(alpha ? "RGBA" : "RGB") + (floating ? ";F" : ";16");
}

// Float samples, planar or packed, to an interleaved (H,W[,C]) float32
// array; FFmpeg's planar gbrpf32 lists its components R, G, B (, A) with
// their planes, so the channels come out in RGB order.
void read_float(const AVFrame& f, const AVPixFmtDescriptor& d, NDArray& out) {
  const auto w = static_cast<std::size_t>(f.width), h = static_cast<std::size_t>(f.height);
  const auto ch = static_cast<std::size_t>(d.nb_components);
  const bool swap = ((d.flags & AV_PIX_FMT_FLAG_BE) != 0) != (std::endian::native == std::endian::big);
  auto* o = out.data<float>();
  for (std::size_t c = 0; c < ch; ++c) {
    const AVComponentDescriptor& comp = d.comp[c];
    for (std::size_t y = 0; y < h; ++y) {
      const std::uint8_t* row = f.data[comp.plane] + static_cast<std::ptrdiff_t>(y) * f.linesize[comp.plane] + comp.offset;
      for (std::size_t x = 0; x < w; ++x) {
        std::uint32_t bits;
        std::memcpy(&bits, row + x * static_cast<std::size_t>(comp.step), 4);
        if (swap) bits = (bits >> 24) | ((bits >> 8) & 0xff00u) | ((bits << 8) & 0xff0000u) | (bits << 24);
        std::memcpy(o + (y * w + x) * ch + c, &bits, 4);
      }
    }
  }
}

// Integer samples of 9 to 16 bits of a gray or RGB format, read exactly
// (av_read_image_line2) and scaled to the 16-bit range: v · 65535 / (2^d − 1),
// rounded, as OpenImageIO reads 10- and 12-bit DPX.
void read_wide(const AVFrame& f, const AVPixFmtDescriptor& d, NDArray& out) {
  const auto w = static_cast<std::size_t>(f.width), h = static_cast<std::size_t>(f.height);
  const auto ch = static_cast<std::size_t>(d.nb_components);
  std::vector<std::uint16_t> line(w);
  auto* o = out.data<std::uint16_t>();
  const std::uint8_t* planes[4] = {f.data[0], f.data[1], f.data[2], f.data[3]};
  for (std::size_t c = 0; c < ch; ++c) {
    const std::uint32_t max = (1u << d.comp[c].depth) - 1;
    for (std::size_t y = 0; y < h; ++y) {
      av_read_image_line2(line.data(), planes, f.linesize, &d, 0, static_cast<int>(y), static_cast<int>(c), static_cast<int>(w), 0, 2);
      for (std::size_t x = 0; x < w; ++x) {
        const std::uint32_t v = line[x];
        o[(y * w + x) * ch + c] = max == 65535 ? static_cast<std::uint16_t>(v) : static_cast<std::uint16_t>((v * 65535u + max / 2) / max);
      }
    }
  }
}

NDArray to_wide(const AVFrame& f, FrameConverter& converter) {
  const auto fmt = static_cast<AVPixelFormat>(f.format);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  const ModeShape s = shape_of_mode(wide_mode(fmt));
  const auto w = static_cast<std::size_t>(f.width), h = static_cast<std::size_t>(f.height);
  Shape shape{h, w};
  if (s.channels > 1) shape.push_back(s.channels);
  NDArray out(shape, s.dtype);
  if ((d->flags & AV_PIX_FMT_FLAG_FLOAT) != 0) {
    read_float(f, *d, out);
  } else if ((d->flags & AV_PIX_FMT_FLAG_RGB) != 0 || is_gray_format(*d)) {
    read_wide(f, *d, out);
  } else {
    // YUV or XYZ beyond 8 bits (JPEG 2000, AVIF 10-bit): swscale's RGB, 16 bits.
    const PixelLayout l = layout_of(s.channels == 4 ? AV_PIX_FMT_RGBA64 : AV_PIX_FMT_RGB48);
    converter.convert(f, l, out.bytes());
  }
  return out;
}

// FFmpeg 5.1 (libavcodec 59) reads and writes PFM/PHM rows top-down; the
// format stores them bottom-up (netpbm's PFM page; Pillow, OpenImageIO and
// GIMP read them so): imio turns them over on both sides.
constexpr bool kFfmpegPfmTopDown = LIBAVCODEC_VERSION_MAJOR <= 59;

void flip_rows(NDArray& a) {
  const std::size_t h = a.shape()[0], row = a.nbytes() / h;
  std::vector<std::byte> tmp(row);
  for (std::size_t y = 0; y < h / 2; ++y) {
    std::byte* top = a.bytes() + y * row;
    std::byte* bottom = a.bytes() + (h - 1 - y) * row;
    std::memcpy(tmp.data(), top, row);
    std::memcpy(top, bottom, row);
    std::memcpy(bottom, tmp.data(), row);
  }
}

// PCX header bytes 3 (bits per plane) and 65 (planes), which decide
// Pillow's mode for a palette PCX.
struct PcxHeader {
  int bits = 0, planes = 0;
};

Base to_base(const AVFrame& f, AVCodecID codec, const BmpHeader& bmp, FrameConverter& converter, const PcxHeader& pcx = {}) {
  Base b;
  b.width = f.width;
  b.height = f.height;
  const auto w = static_cast<std::size_t>(f.width), h = static_cast<std::size_t>(f.height);
  const auto fmt = static_cast<AVPixelFormat>(f.format);
  auto copy_rows = [&](std::size_t row_bytes) {
    b.pixels.resize(row_bytes * h);
    for (std::size_t y = 0; y < h; ++y) std::memcpy(b.pixels.data() + y * row_bytes, f.data[0] + static_cast<std::ptrdiff_t>(y) * f.linesize[0], row_bytes);
  };
  if (fmt == AV_PIX_FMT_PAL8) {
    copy_rows(w);
    const std::uint32_t* pal = palette_of(f);
    for (int i = 0; i < 256; ++i) {
      b.palette[3 * i] = static_cast<std::uint8_t>(pal[i] >> 16);
      b.palette[3 * i + 1] = static_cast<std::uint8_t>(pal[i] >> 8);
      b.palette[3 * i + 2] = static_cast<std::uint8_t>(pal[i]);
    }
    b.mode = "P";
    if (codec == AV_CODEC_ID_BMP && bmp.valid && bmp.colors >= 1 && bmp.colors <= 256) {
      // Pillow drops a palette that is all gray ramp: 2 colours black/white → "1", else index i = gray i → "L".
      bool grey = true;
      for (std::uint32_t i = 0; i < bmp.colors && grey; ++i) {
        const std::uint8_t v = bmp.colors == 2 ? static_cast<std::uint8_t>(i == 0 ? 0 : 255) : static_cast<std::uint8_t>(i);
        grey = b.palette[3 * i] == v && b.palette[3 * i + 1] == v && b.palette[3 * i + 2] == v;
      }
      if (grey) {
        b.mode = bmp.colors == 2 ? "1" : "L";
        for (auto& p : b.pixels) p = b.palette[3 * p];
      }
    }
    if (codec == AV_CODEC_ID_PCX && pcx.planes == 1) {
      // Pillow: a 1-bit PCX is mode "1" (the bit itself, whatever the
      // palette); an 8-bit one whose palette is the gray ramp is "L".
      bool ramp = pcx.bits == 8;
      for (int i = 0; i < 256 && ramp; ++i) ramp = b.palette[3 * i] == i && b.palette[3 * i + 1] == i && b.palette[3 * i + 2] == i;
      if (pcx.bits == 1) {
        b.mode = "1";
        for (auto& p : b.pixels) p = p != 0 ? 255 : 0;
      } else if (ramp) {
        b.mode = "L";
      }
    }
    return b;
  }
  if (fmt == AV_PIX_FMT_GRAY8) {
    b.mode = "L";
    copy_rows(w);
    return b;
  }
  if (fmt == AV_PIX_FMT_MONOWHITE || fmt == AV_PIX_FMT_MONOBLACK) {
    b.mode = "1";
    b.pixels.resize(w * h);
    for (std::size_t y = 0; y < h; ++y) {
      const std::uint8_t* row = f.data[0] + static_cast<std::ptrdiff_t>(y) * f.linesize[0];
      for (std::size_t x = 0; x < w; ++x) {
        const bool bit = ((row[x >> 3] >> (7 - (x & 7))) & 1) != 0;
        // Pillow reads an XBM's set bit as white, FFmpeg as black (monowhite).
        const bool white_is_zero = fmt == AV_PIX_FMT_MONOWHITE && codec != AV_CODEC_ID_XBM;
        b.pixels[y * w + x] = (bit != white_is_zero) ? 255 : 0;
      }
    }
    return b;
  }
  if (is_wide_format(fmt)) {
    b.mode = wide_mode(fmt);
    b.wide = to_wide(f, converter);
    if (kFfmpegPfmTopDown && (codec == AV_CODEC_ID_PFM || codec == AV_CODEC_ID_PHM)) flip_rows(*b.wide);
    return b;
  }
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  bool alpha = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0;
  // Pillow keeps a 32-bit BMP's fourth byte only when a bit field says it is alpha.
  if (codec == AV_CODEC_ID_BMP && bmp.valid && bmp.alpha_mask == 0) alpha = false;
  AVPixelFormat target = alpha ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
  if (fmt == AV_PIX_FMT_YA8) target = AV_PIX_FMT_YA8;
  b.mode = target == AV_PIX_FMT_YA8 ? "LA" : alpha ? "RGBA" : "RGB";
  const PixelLayout l = layout_of(target);
  NDArray tmp(l.shape(f.width, f.height), l.dtype);
  converter.convert(f, l, tmp.bytes());
  b.pixels.assign(reinterpret_cast<const std::uint8_t*>(tmp.bytes()), reinterpret_cast<const std::uint8_t*>(tmp.bytes()) + tmp.nbytes());
  return b;
}

// The distinct palette colours in palette order, each [R, G, B].
Value distinct_palette(const Base& b) {
  Value::List out;
  std::vector<std::uint32_t> seen;
  std::array<bool, 256> used{};
  for (std::uint8_t i : b.pixels) used[i] = true;
  for (int i = 0; i < 256; ++i) {
    if (!used[i]) continue;
    const std::uint32_t rgb = static_cast<std::uint32_t>(b.palette[3 * i]) << 16 | static_cast<std::uint32_t>(b.palette[3 * i + 1]) << 8 | b.palette[3 * i + 2];
    if (std::find(seen.begin(), seen.end(), rgb) != seen.end()) continue;
    seen.push_back(rgb);
    out.push_back(Value::List{Value(b.palette[3 * i]), Value(b.palette[3 * i + 1]), Value(b.palette[3 * i + 2])});
  }
  return out;
}

// imageio's default for a mode: palettes become RGB (BMP/TGA palettes carry no transparency).
std::string default_mode(const std::string& mode) { return mode == "P" ? "RGB" : mode; }

// The array of `b` in `mode` (Pillow's convert()).
NDArray convert(const Base& b, const std::string& mode, Request& request) {
  const auto w = static_cast<std::size_t>(b.width), h = static_cast<std::size_t>(b.height);
  const std::size_t n = w * h;
  if (b.wide) {
    if (mode != b.mode) {
      throw ArgumentError(fmt::format("mode '{}' is not available for a {} image (mode '{}'): the ffmpeg plugin keeps its samples as they are",
                                      mode, name(b.wide->dtype()), b.mode));
    }
    NDArray out = request.allocate(b.wide->shape(), b.wide->dtype());
    std::memcpy(out.bytes(), b.wide->bytes(), b.wide->nbytes());
    return out;
  }
  const std::size_t ch = channels_of(mode);
  if (mode == "1" && b.mode == "1") {
    NDArray out = request.allocate({h, w}, DType::bool_);
    auto* o = reinterpret_cast<std::uint8_t*>(out.bytes());
    for (std::size_t i = 0; i < n; ++i) o[i] = b.pixels[i] != 0 ? 1 : 0;
    return out;
  }
  const bool known = mode == "L" || mode == "RGB" || mode == "RGBA" || (mode == "P" && b.mode == "P") || (mode == "LA" && b.mode == "LA");
  if (!known) {
    throw ArgumentError(fmt::format("conversion from '{}' to '{}' is not supported (the ffmpeg plugin converts to L, RGB, RGBA, and keeps P, 1, LA)", b.mode, mode));
  }
  Shape shape{h, w};
  if (ch > 1) shape.push_back(ch);
  NDArray out = request.allocate(shape, DType::uint8);
  auto* o = reinterpret_cast<std::uint8_t*>(out.bytes());
  const std::size_t in_ch = b.mode == "P" || b.mode == "1" ? 1 : channels_of(b.mode);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = b.pixels.data() + i * in_ch;
    std::uint8_t r = 0, g = 0, bl = 0, a = 255;
    if (b.mode == "P") {
      if (mode == "P") {
        o[i] = p[0];
        continue;
      }
      r = b.palette[3 * p[0]], g = b.palette[3 * p[0] + 1], bl = b.palette[3 * p[0] + 2];
    } else if (in_ch <= 2) {
      r = g = bl = p[0];
      if (in_ch == 2) a = p[1];
    } else {
      r = p[0], g = p[1], bl = p[2];
      if (in_ch == 4) a = p[3];
    }
    std::uint8_t* q = o + i * ch;
    if (mode == "L") {
      q[0] = in_ch <= 2 && b.mode != "P" ? r : luma(r, g, bl);
    } else if (mode == "LA") {
      q[0] = r, q[1] = a;
    } else {
      q[0] = r, q[1] = g, q[2] = bl;
      if (ch == 4) q[3] = a;
    }
  }
  return out;
}

// One image of an ICO directory, as Pillow's IcoFile reads it.
struct IcoEntry {
  int stream = 0;  // its place in the directory: FFmpeg's stream index
  int width = 0, height = 0, bpp = 0, color_depth = 0;
  std::uint32_t size = 0, offset = 0;
};

// The directory in Pillow's order: largest area first, then deepest colour
// (Pillow sorts by colour depth, then by area, and reverses).
std::vector<IcoEntry> parse_ico(std::span<const std::byte> b) {
  std::vector<IcoEntry> out;
  if (b.size() < 6) return out;
  const std::size_t n = le16(b, 4);
  for (std::size_t i = 0; i < n && 6 + 16 * (i + 1) <= b.size(); ++i) {
    const std::size_t at = 6 + 16 * i;
    IcoEntry e;
    e.stream = static_cast<int>(i);
    e.width = static_cast<int>(b[at]) == 0 ? 256 : static_cast<int>(b[at]);
    e.height = static_cast<int>(b[at + 1]) == 0 ? 256 : static_cast<int>(b[at + 1]);
    const int colors = static_cast<int>(b[at + 2]);
    e.bpp = le16(b, at + 6);
    e.size = le32(b, at + 8);
    e.offset = le32(b, at + 12);
    e.color_depth = e.bpp != 0 ? e.bpp : colors != 0 ? static_cast<int>(std::ceil(std::log2(colors))) : 256;
    if (e.color_depth == 0) e.color_depth = 256;  // Pillow's `or 256` for one colour
    out.push_back(e);
  }
  std::stable_sort(out.begin(), out.end(), [](const IcoEntry& x, const IcoEntry& y) { return x.color_depth < y.color_depth; });
  std::stable_sort(out.begin(), out.end(), [](const IcoEntry& x, const IcoEntry& y) { return x.width * x.height < y.width * y.height; });
  std::reverse(out.begin(), out.end());
  return out;
}

// Pillow reads a BMP entry of an ICO as RGBA: the alpha of a 32-bit entry
// is each pixel's fourth byte, else the AND mask after the colours (a set
// bit is transparent). Rows are stored bottom-up.
void apply_ico_alpha(Base& b, std::span<const std::byte> data, const IcoEntry& e, Request& request) {
  const auto w = static_cast<std::size_t>(b.width), h = static_cast<std::size_t>(b.height);
  std::vector<std::uint8_t> alpha(w * h);
  auto cut = [] { return DecodeError("the ICO image's transparency data are cut short"); };
  if (e.bpp == 32) {
    const std::uint32_t header = le32(data, e.offset);
    const std::uint64_t start = static_cast<std::uint64_t>(e.offset) + header;
    if (start + 4 * w * h > data.size()) throw cut();
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) alpha[(h - 1 - y) * w + x] = static_cast<std::uint8_t>(data[start + 4 * (y * w + x) + 3]);
  } else {
    const std::size_t row = ((w + 31) / 32) * 4;
    const std::uint64_t end = static_cast<std::uint64_t>(e.offset) + e.size;
    if (end > data.size() || row * h > end) throw cut();
    const std::uint64_t start = end - row * h;
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        const auto byte = static_cast<unsigned>(data[start + y * row + x / 8]);
        alpha[(h - 1 - y) * w + x] = ((byte >> (7 - x % 8)) & 1) != 0 ? 0 : 255;
      }
  }
  NDArray rgb = convert(b, "RGB", request);
  const auto* p = rgb.data<std::uint8_t>();
  b.pixels.resize(w * h * 4);
  for (std::size_t i = 0; i < w * h; ++i) {
    b.pixels[4 * i] = p[3 * i], b.pixels[4 * i + 1] = p[3 * i + 1], b.pixels[4 * i + 2] = p[3 * i + 2];
    b.pixels[4 * i + 3] = alpha[i];
  }
  b.mode = "RGBA";
}

class StillReader final : public Plugin {
 public:
  StillReader(Request& request, std::unique_ptr<Input> input, const StillFormat& format)
      : request_(request), input_(std::move(input)), format_(format) {
    codec_ = input_->stream()->codecpar->codec_id;
    // Pillow's BMP metadata come from the file header (for a URL this
    // fetches the body once through imio's download: a still image is small).
    if (codec_ == AV_CODEC_ID_BMP && !format_.several) bmp_ = parse_bmp(request_.first_bytes(70));
    if (codec_ == AV_CODEC_ID_PCX) {
      const auto head = request_.first_bytes(66);
      if (head.size() == 66) pcx_ = {static_cast<int>(head[3]), static_cast<int>(head[65])};
    }
    if (format_.several) {
      ico_data_ = whole_data(request_.source(), ico_storage_, request_.limits().max_bytes);
      ico_ = parse_ico(ico_data_);
      // Only the entries FFmpeg made a video stream of.
      const AVFormatContext* c = input_->container();
      std::erase_if(ico_, [&](const IcoEntry& e) {
        return e.stream >= static_cast<int>(c->nb_streams) || c->streams[e.stream]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO;
      });
      if (ico_.empty()) throw DecodeError("the ICO directory lists no image");
    }
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const auto mode = mode_arg(kwargs, "read");
    if (index.is_all() && images() > 1) {
      std::vector<NDArray> all;
      for (std::size_t k = 0; k < images(); ++k) all.push_back(image(k, mode));
      check_same_shapes(all);
      return NDArray::stack(all);
    }
    NDArray out = image(image_index(index), mode);
    if (!index.is_all()) return out;
    Shape s = out.shape();
    s.insert(s.begin(), 1);
    return std::move(out).reshaped(s);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    struct Each final : FrameSource {
      StillReader& r;
      std::optional<std::string> mode;
      std::size_t next_image = 0;
      Each(StillReader& reader, std::optional<std::string> m) : r(reader), mode(std::move(m)) {}
      std::optional<NDArray> next() override {
        if (next_image >= r.images()) return std::nullopt;
        return r.image(next_image++, mode);
      }
    };
    return std::make_unique<Each>(*this, mode_arg(kwargs, "iter"));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const auto mode = mode_arg(kwargs, "properties");
    check_truncation();  // found from the header and the file's size, as read finds it (D11)
    if (index.is_all()) {
      std::vector<Shape> shapes;
      DType dtype = DType::uint8;
      for (std::size_t k = 0; k < images(); ++k) {
        const ImageProperties p = one_properties(k, mode);
        shapes.push_back(p.shape);
        dtype = p.dtype;
      }
      for (const Shape& s : shapes) {
        if (s != shapes[0]) throw ArgumentError(unequal_shapes_text());
      }
      Shape shape = shapes[0];
      shape.insert(shape.begin(), images());
      return {.shape = shape, .dtype = dtype, .n_images = images(), .is_batch = true};
    }
    return one_properties(image_index(index), mode);
  }

  // Pillow's info (spec §5.1.8); with exclude_applied=false a palette image
  // also lists its distinct colours, as the libpng plugin does.
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata", "still").finish();
    select(index.is_all() ? 0 : image_index(index));
    Metadata m;
    if (bmp_.valid) {
      m.set("compression", static_cast<std::int64_t>(bmp_.compression));
      if (bmp_.dpi) m.set("dpi", Value::List{Value((*bmp_.dpi)[0]), Value((*bmp_.dpi)[1])});
    }
    if (format_.several) {
      // Pillow's info["sizes"]: the (width, height) pairs of the directory.
      Value::List sizes;
      for (const IcoEntry& e : ico_) sizes.push_back(Value::List{Value(e.width), Value(e.height)});
      m.set("sizes", std::move(sizes));
    }
    const std::string mode = header_mode();
    m.set("mode", mode);
    m.set("shape", Value::List{Value(input_->width()), Value(input_->height())});
    if (mode == "P" && !exclude_applied) m.set("palette", distinct_palette(base()));
    return m;
  }

 private:
  std::size_t images() const { return format_.several ? ico_.size() : 1; }

  std::optional<std::string> mode_arg(const Kwargs& kwargs, std::string_view method) {
    KwargReader kw(kwargs, kPlugin, method, "still");
    // rotate, apply_gamma, writeable_output: accepted as imageio's pillow
    // plugin accepts them; nothing to act on.
    return kw.take<std::string>("mode");
  }

  // D9: index none → the first image (an ICO's largest, as Pillow opens it).
  std::size_t image_index(const Index& index) const {
    if (!index.is_integer()) return 0;
    if (index.value() < 0 || static_cast<std::uint64_t>(index.value()) >= images()) {
      throw IndexError(fmt::format("index {} is out of range: the file holds {} image{}", index.value(), images(), images() == 1 ? "" : "s"));
    }
    return static_cast<std::size_t>(index.value());
  }

  std::string unequal_shapes_text() const {
    std::string sizes;
    for (const IcoEntry& e : ico_) sizes += fmt::format("{}{}x{}", sizes.empty() ? "" : ", ", e.width, e.height);
    return fmt::format("the {} images have different shapes ({}) and cannot be stacked: read them one by one (index= or imiter)",
                       format_.name, sizes);
  }

  static void check_same_shapes(const std::vector<NDArray>& all) {
    for (const NDArray& a : all) {
      if (a.shape() != all[0].shape() || a.dtype() != all[0].dtype()) {
        throw ArgumentError("the images have different shapes and cannot be stacked: read them one by one (index= or imiter)");
      }
    }
  }

  NDArray image(std::size_t k, const std::optional<std::string>& mode) {
    select(k);
    check_truncation();
    const Base& b = base();
    return convert(b, mode.value_or(default_mode(b.mode)), request_);
  }

  ImageProperties one_properties(std::size_t k, const std::optional<std::string>& mode) {
    select(k);
    // The mode needs the palette (gray ramps are 2-D) but not the pixels of a BMP.
    const std::string m = mode.value_or(default_mode(header_mode()));
    const auto w = static_cast<std::size_t>(input_->width()), h = static_cast<std::size_t>(input_->height());
    const ModeShape ms = shape_of_mode(m);
    Shape shape{h, w};
    if (ms.channels > 1) shape.push_back(ms.channels);
    return {.shape = shape, .dtype = ms.dtype};
  }

  // Puts the Input on image k's stream (ICO).
  void select(std::size_t k) {
    if (!format_.several || current_ == k) return;
    LogScope log;
    input_->use_stream(ico_[k].stream);
    codec_ = input_->stream()->codecpar->codec_id;
    current_ = k;
    base_.reset();
  }

  // The mode from what the factory decoded (the first frame is kept), or
  // from the stream header when the body is damaged.
  std::string header_mode() {
    if (!input_->body_error()) return base().mode;
    const AVPixelFormat f = input_->pixel_format();
    if (format_.several && codec_ == AV_CODEC_ID_BMP) return "RGBA";
    if (f == AV_PIX_FMT_PAL8) return "P";
    if (f == AV_PIX_FMT_GRAY8) return "L";
    if (f == AV_PIX_FMT_MONOWHITE || f == AV_PIX_FMT_MONOBLACK) return "1";
    if (is_wide_format(f)) return wide_mode(f);
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    const bool alpha = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0 && !(bmp_.valid && bmp_.alpha_mask == 0);
    if (f == AV_PIX_FMT_YA8) return "LA";
    return alpha ? "RGBA" : "RGB";
  }

  const Base& base() {
    if (!base_) {
      if (input_->body_error()) throw DecodeError(*input_->body_error());
      LogScope log;
      FramePtr f = make_frame();
      if (input_->next_index() != 0) input_->rewind();
      if (!input_->next_frame(f.get())) throw DecodeError("the image does not decode");
      Base b = to_base(*f, codec_, bmp_, converter_, pcx_);
      if (format_.several && codec_ == AV_CODEC_ID_BMP) apply_ico_alpha(b, ico_data_, ico_[current_], request_);
      base_ = std::move(b);
    }
    return *base_;
  }

  // FFmpeg decodes a cut BMP "anyway", leaving rows undefined; Pillow
  // raises "image file is truncated": so does imio.
  void check_truncation() {
    if (!bmp_.valid || (bmp_.compression != 0 && bmp_.compression != 3)) return;
    const auto size = request_.source().size();
    if (!size) return;
    const std::uint64_t stride = ((static_cast<std::uint64_t>(std::abs(bmp_.width)) * bmp_.bits + 31) / 32) * 4;
    const std::uint64_t need = bmp_.data_offset + stride * static_cast<std::uint64_t>(std::abs(static_cast<std::int64_t>(bmp_.height)));
    if (need > *size) throw DecodeError(fmt::format("image file is truncated ({} bytes of pixel data missing)", need - *size));
  }

  Request& request_;
  std::unique_ptr<Input> input_;
  const StillFormat& format_;
  AVCodecID codec_ = AV_CODEC_ID_NONE;
  BmpHeader bmp_;
  PcxHeader pcx_;
  FrameConverter converter_;
  std::optional<Base> base_;
  // ICO: the directory in Pillow's order, the image the Input is on.
  Bytes ico_storage_;
  std::span<const std::byte> ico_data_;
  std::vector<IcoEntry> ico_;
  std::size_t current_ = SIZE_MAX;  // none chosen yet: the Input is on the first stream
};

}  // namespace

bool is_still_codec(AVCodecID codec) noexcept {
  const AVCodecDescriptor* d = avcodec_descriptor_get(codec);
  return d != nullptr && still_format_of_codec(d->name) != nullptr;
}

const StillFormat* still_format_of(const Input& input) {
  const std::string_view demuxer = input.container()->iformat->name;
  if (demuxer == "ico") return still_format_of_extension(".ico");
  const AVCodecDescriptor* d = avcodec_descriptor_get(input.stream()->codecpar->codec_id);
  const StillFormat* f = d != nullptr ? still_format_of_codec(d->name) : nullptr;
  if (f == nullptr || !f->image_demuxer_only) return f;
  // JPEG 2000 in an MJ2 file, AV1 in an MP4 are videos; AVIF is an image
  // (the mov demuxer's major brand; "avis" is an AVIF sequence).
  if (demuxer == "image2" || demuxer.ends_with("_pipe")) return f;
  if (demuxer.starts_with("mov,")) {
    const AVDictionaryEntry* brand = av_dict_get(input.container()->metadata, "major_brand", nullptr, 0);
    if (brand != nullptr && std::string_view(brand->value) == "avif") return f;
  }
  return nullptr;
}

std::unique_ptr<Plugin> make_still_reader(Request& request, std::unique_ptr<Input> input, const StillFormat& format) {
  return std::make_unique<StillReader>(request, std::move(input), format);
}

}  // namespace imio::ffmpeg
