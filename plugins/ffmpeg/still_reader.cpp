// Still images FFmpeg decodes (BMP, WebP, TGA, PNM/PAM, …) with the
// semantics of imageio's pillow plugin (DECISIONS D23, spec §5.1): index
// omitted → (H,W[,C]); the file's layout (gray 2-D, alpha kept, 1-bit →
// bool, gray-ramp palettes → 2-D); Pillow's `mode` conversions; the Pillow
// metadata keys that can be known (mode, shape, and dpi/compression for BMP).
#include <imio/plugin.hpp>

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "ffmpeg_plugins.hpp"
#include "pixel_layout.hpp"

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

// The decoded image in one of Pillow's modes.
struct Base {
  std::string mode;  // "1", "L", "P", "RGB", "RGBA", "LA", "I;16"
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;          // 8-bit modes, row-major, channels interleaved
  std::vector<std::uint16_t> pixels16;       // "I;16"
  std::array<std::uint8_t, 256 * 3> palette{};
};

std::size_t channels_of(std::string_view mode) {
  if (mode == "RGB") return 3;
  if (mode == "RGBA") return 4;
  if (mode == "LA") return 2;
  return 1;
}

const std::uint32_t* palette_of(const AVFrame& f) { return reinterpret_cast<const std::uint32_t*>(f.data[1]); }

Base to_base(const AVFrame& f, AVCodecID codec, const BmpHeader& bmp, FrameConverter& converter) {
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
        b.pixels[y * w + x] = (bit != (fmt == AV_PIX_FMT_MONOWHITE)) ? 255 : 0;
      }
    }
    return b;
  }
  if (fmt == AV_PIX_FMT_GRAY16LE || fmt == AV_PIX_FMT_GRAY16BE) {
    b.mode = "I;16";
    const PixelLayout l = layout_of(fmt);
    NDArray tmp(l.shape(f.width, f.height), l.dtype);
    converter.convert(f, l, tmp.bytes());
    b.pixels16.assign(tmp.data<std::uint16_t>(), tmp.data<std::uint16_t>() + tmp.size());
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
  if (mode == b.mode && mode == "I;16") {
    NDArray out = request.allocate({h, w}, DType::uint16);
    std::memcpy(out.bytes(), b.pixels16.data(), n * 2);
    return out;
  }
  if (b.mode == "I;16") throw ArgumentError(fmt::format("mode '{}' is not available for a 16-bit gray image", mode));
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

class StillReader final : public Plugin {
 public:
  StillReader(Request& request, std::unique_ptr<Input> input) : request_(request), input_(std::move(input)) {
    codec_ = input_->stream()->codecpar->codec_id;
    // Pillow's BMP metadata come from the file header (for a URL this
    // fetches the body once through imio's download: a still image is small).
    if (codec_ == AV_CODEC_ID_BMP) bmp_ = parse_bmp(request_.first_bytes(70));
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const auto mode = mode_arg(kwargs, "read");
    check_index(index);
    check_truncation();
    const Base& b = base();
    NDArray out = convert(b, mode.value_or(default_mode(b.mode)), request_);
    if (!index.is_all()) return out;
    Shape s = out.shape();
    s.insert(s.begin(), 1);
    return std::move(out).reshaped(s);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    struct One final : FrameSource {
      StillReader& r;
      std::optional<std::string> mode;
      bool done = false;
      One(StillReader& reader, std::optional<std::string> m) : r(reader), mode(std::move(m)) {}
      std::optional<NDArray> next() override {
        if (done) return std::nullopt;
        done = true;
        r.check_truncation();
        const Base& b = r.base();
        return convert(b, mode.value_or(default_mode(b.mode)), r.request_);
      }
    };
    return std::make_unique<One>(*this, mode_arg(kwargs, "iter"));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const auto mode = mode_arg(kwargs, "properties");
    check_index(index);
    check_truncation();  // found from the header and the file's size, as read finds it (D11)
    // The mode needs the palette (gray ramps are 2-D) but not the pixels of a BMP.
    const std::string m = mode.value_or(default_mode(header_mode()));
    const auto w = static_cast<std::size_t>(input_->width()), h = static_cast<std::size_t>(input_->height());
    Shape shape{h, w};
    if (channels_of(m) > 1) shape.push_back(channels_of(m));
    const DType dtype = m == "1" ? DType::bool_ : m == "I;16" ? DType::uint16 : DType::uint8;
    if (index.is_all()) {
      shape.insert(shape.begin(), 1);
      return {.shape = shape, .dtype = dtype, .n_images = 1, .is_batch = true};
    }
    return {.shape = shape, .dtype = dtype};
  }

  // Pillow's info (spec §5.1.8); with exclude_applied=false a palette image
  // also lists its distinct colours, as the libpng plugin does.
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata", "still").finish();
    check_index(index);
    Metadata m;
    if (bmp_.valid) {
      m.set("compression", static_cast<std::int64_t>(bmp_.compression));
      if (bmp_.dpi) m.set("dpi", Value::List{Value((*bmp_.dpi)[0]), Value((*bmp_.dpi)[1])});
    }
    const std::string mode = header_mode();
    m.set("mode", mode);
    m.set("shape", Value::List{Value(input_->width()), Value(input_->height())});
    if (mode == "P" && !exclude_applied) m.set("palette", distinct_palette(base()));
    return m;
  }

 private:
  std::optional<std::string> mode_arg(const Kwargs& kwargs, std::string_view method) {
    KwargReader kw(kwargs, kPlugin, method, "still");
    // rotate, apply_gamma, writeable_output: accepted as imageio's pillow
    // plugin accepts them; nothing to act on.
    return kw.take<std::string>("mode");
  }

  // D9: one image; index 0, none or all.
  static void check_index(const Index& index) {
    if (index.is_integer() && index.value() != 0) {
      throw IndexError(fmt::format("index {} is out of range: the file holds 1 image", index.value()));
    }
  }

  // The mode from what the factory decoded (the first frame is kept), or
  // from the stream header when the body is damaged.
  std::string header_mode() {
    if (!input_->body_error()) return base().mode;
    const AVPixelFormat f = input_->pixel_format();
    if (f == AV_PIX_FMT_PAL8) return "P";
    if (f == AV_PIX_FMT_GRAY8) return "L";
    if (f == AV_PIX_FMT_MONOWHITE || f == AV_PIX_FMT_MONOBLACK) return "1";
    if (f == AV_PIX_FMT_GRAY16LE || f == AV_PIX_FMT_GRAY16BE) return "I;16";
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    const bool alpha = d != nullptr && (d->flags & AV_PIX_FMT_FLAG_ALPHA) != 0 && !(bmp_.valid && bmp_.alpha_mask == 0);
    return alpha ? "RGBA" : "RGB";
  }

  const Base& base() {
    if (!base_) {
      if (input_->body_error()) throw DecodeError(*input_->body_error());
      LogScope log;
      FramePtr f = make_frame();
      if (input_->next_index() != 0) input_->rewind();
      if (!input_->next_frame(f.get())) throw DecodeError("the image does not decode");
      base_ = to_base(*f, codec_, bmp_, converter_);
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
  AVCodecID codec_ = AV_CODEC_ID_NONE;
  BmpHeader bmp_;
  FrameConverter converter_;
  std::optional<Base> base_;
};

}  // namespace

bool is_still_codec(AVCodecID codec) noexcept {
  switch (codec) {
    case AV_CODEC_ID_BMP:
    case AV_CODEC_ID_WEBP:
    case AV_CODEC_ID_TARGA:
    case AV_CODEC_ID_PPM:
    case AV_CODEC_ID_PGM:
    case AV_CODEC_ID_PGMYUV:
    case AV_CODEC_ID_PBM:
    case AV_CODEC_ID_PAM:
    case AV_CODEC_ID_PCX:
    case AV_CODEC_ID_SGI:
    case AV_CODEC_ID_SUNRAST:
    case AV_CODEC_ID_XBM:
    case AV_CODEC_ID_XWD:
    case AV_CODEC_ID_DDS:
    case AV_CODEC_ID_QOI:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<Plugin> make_still_reader(Request& request, std::unique_ptr<Input> input) {
  return std::make_unique<StillReader>(request, std::move(input));
}

}  // namespace imio::ffmpeg
