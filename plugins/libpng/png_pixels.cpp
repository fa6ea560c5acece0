// Pixel layouts and Pillow's mode conversions (Pillow 9.4 Convert.c rules,
// checked against the corpus goldens).
#include "png_pixels.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace imio::png {
namespace {

// ITU-R 601-2 luma in Pillow's 16-bit fixed point (spec §5.1.3).
std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

}  // namespace

// Outside the anonymous namespace: RowConverter (png_pixels.hpp) holds one.
struct Rgba {
  std::uint8_t r, g, b, a;
};

// Pillow's native 8-bit view of every pixel, with its transparency rules.
class Native {
 public:
  Native(const Chunks& c, const RawLayout& raw) : c_(c), raw_(raw) {
    const Header& h = c.ihdr;
    for (int i = 0; i < 256; ++i) {
      // Pillow's palette starts as a gray ramp; PLTE overwrites its head.
      const auto v = static_cast<std::uint8_t>(i);
      pal_[static_cast<std::size_t>(i)] = {v, v, v, 255};
    }
    for (std::size_t i = 0; i < c.palette.size(); ++i) {
      pal_[i] = {c.palette[i][0], c.palette[i][1], c.palette[i][2], 255};
    }
    if (c.trns && h.color_type == 3) {
      for (std::size_t i = 0; i < c.trns->size() && i < 256; ++i) pal_[i].a = static_cast<std::uint8_t>((*c.trns)[i]);
    }
    if (c.trns && h.color_type == 0 && c.trns->size() >= 2) trns_gray_ = be16(c.trns->data());
    if (c.trns && h.color_type == 2 && c.trns->size() >= 6) {
      trns_rgb_ = {be16(c.trns->data()), be16(c.trns->data() + 2), be16(c.trns->data() + 4)};
    }
  }

  bool is_gray() const { return c_.ihdr.color_type == 0 || c_.ihdr.color_type == 4; }

  std::uint32_t sample(const std::byte* src, std::size_t i, int k) const {
    if (raw_.sample_bytes == 2) {
      std::uint16_t v;
      std::memcpy(&v, src + (i * static_cast<std::size_t>(raw_.channels) + static_cast<std::size_t>(k)) * 2, 2);
      return v;
    }
    return static_cast<std::uint8_t>(src[i * static_cast<std::size_t>(raw_.channels) + static_cast<std::size_t>(k)]);
  }


  // The pixel as Pillow's convert() sees it (16-bit colour → high byte,
  // 16-bit gray "I" clipped to 255, 1-bit → 0/255). `transparent` applies
  // convert_transparent (L/1/I → LA/RGBA, RGB → RGBA) or palette alpha.
  Rgba pixel(const std::byte* src, std::size_t i, bool transparent) const {
    const Header& h = c_.ihdr;
    switch (h.color_type) {
      case 0: {
        const std::uint32_t s = sample(src, i, 0);
        std::uint8_t v = h.bit_depth == 1 ? (s ? 255 : 0) : static_cast<std::uint8_t>(std::min<std::uint32_t>(s, 255));
        const bool clear = transparent && trns_gray_ && *trns_gray_ == v;
        return {v, v, v, static_cast<std::uint8_t>(clear ? 0 : 255)};
      }
      case 4: {
        const int shift = raw_.sample_bytes == 2 ? 8 : 0;
        const auto v = static_cast<std::uint8_t>(sample(src, i, 0) >> shift);
        return {v, v, v, static_cast<std::uint8_t>(sample(src, i, 1) >> shift)};
      }
      case 2:
      case 6: {
        const int shift = raw_.sample_bytes == 2 ? 8 : 0;
        const auto r = static_cast<std::uint8_t>(sample(src, i, 0) >> shift), g = static_cast<std::uint8_t>(sample(src, i, 1) >> shift),
                   b = static_cast<std::uint8_t>(sample(src, i, 2) >> shift);
        std::uint8_t a = h.color_type == 6 ? static_cast<std::uint8_t>(sample(src, i, 3) >> shift) : 255;
        if (transparent && trns_rgb_ && (*trns_rgb_)[0] == r && (*trns_rgb_)[1] == g && (*trns_rgb_)[2] == b) a = 0;
        return {r, g, b, a};
      }
      default: {
        Rgba p = pal_[static_cast<std::uint8_t>(src[i])];
        if (!transparent) p.a = 255;
        return p;
      }
    }
  }

  const Chunks& c_;
  RawLayout raw_;
  std::array<Rgba, 256> pal_{};
  std::optional<std::uint16_t> trns_gray_;
  std::optional<std::array<std::uint16_t, 3>> trns_rgb_;
};

namespace {

[[noreturn]] void unsupported(const std::string& from, const std::string& to) {
  throw ArgumentError(fmt::format("mode '{}': conversion from {} to {} is not supported by the libpng plugin", to, from, to));
}

}  // namespace

Shape OutSpec::frame_shape(std::size_t height, std::size_t width) const {
  Shape s{height, width};
  if (channels > 0) s.push_back(static_cast<std::size_t>(channels));
  return s;
}

std::string native_mode(const Header& h) {
  switch (h.color_type) {
    case 0: return h.bit_depth == 1 ? "1" : h.bit_depth == 16 ? "I" : "L";
    case 2: return "RGB";
    case 3: return "P";
    case 4: return h.bit_depth == 16 ? "RGBA" : "LA";
    default: return "RGBA";
  }
}

OutSpec out_spec(const Chunks& c, const std::optional<std::string>& mode) {
  const Header& h = c.ihdr;
  const DType deep = h.bit_depth == 16 ? DType::uint16 : DType::uint8;
  if (!mode) {
    switch (h.color_type) {
      case 0: return {h.bit_depth == 1 ? DType::bool_ : deep, 0};
      case 2: return {deep, 3};
      case 3: return {DType::uint8, 3};  // palette expanded, tRNS not applied (spec §5.1.3)
      case 4: return {deep, 2};          // D14: 16-bit gray+alpha stays (H,W,2) uint16
      default: return {deep, 4};
    }
  }
  const std::string native = native_mode(h);
  if (*mode == "L") return {DType::uint8, 0};
  if (*mode == "LA") return {DType::uint8, 2};
  if (*mode == "RGB") return {DType::uint8, 3};
  if (*mode == "RGBA") return {DType::uint8, 4};
  if (*mode == "P") {
    if (native == "P" || native == "L") return {DType::uint8, 0};
    unsupported(native, *mode);  // Pillow would quantize to the web palette
  }
  if (*mode == "1") {
    if (native == "1") return {DType::bool_, 0};
    unsupported(native, *mode);  // Pillow would Floyd-Steinberg dither
  }
  if (*mode == "I;16") {
    if (native == "I") return {DType::uint16, 0};
    unsupported(native, *mode);
  }
  throw ArgumentError(fmt::format("mode '{}' is not one the libpng plugin produces (L, LA, RGB, RGBA, P, 1, I;16)", *mode));
}

// What a row conversion does, decided once per read. `lookup`: a source of
// one byte per pixel (palette indices, gray up to 8 bits) whose results
// come from a table of 256.
enum class RowConverter::Kind { copy, bilevel_p, lookup, l, la, rgb, rgba };

namespace {

// The result of one pixel for the kinds l, la, rgb and rgba.
void put_pixel(RowConverter::Kind kind, bool gray, const Rgba& p, std::uint8_t* out) {
  using Kind = RowConverter::Kind;
  const std::uint8_t l = gray ? p.r : luma(p.r, p.g, p.b);
  switch (kind) {
    case Kind::l: out[0] = l; return;
    case Kind::la: out[0] = l; out[1] = p.a; return;
    case Kind::rgb: out[0] = p.r; out[1] = p.g; out[2] = p.b; return;
    default: out[0] = p.r; out[1] = p.g; out[2] = p.b; out[3] = p.a; return;
  }
}

// N result bytes per source byte, from the table (4 bytes an entry). The
// source byte is read before its result is written (in place).
template <std::size_t N>
void lookup_row(const std::uint8_t* table, const std::byte* src, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) std::memcpy(out + N * i, table + 4 * static_cast<std::uint8_t>(src[i]), N);
}

// The kinds l, la, rgb and rgba pixel by pixel, with the tables in a local
// copy: stores through `out` (bytes) may alias anything else, which would
// reload every table and flag each pixel.
template <RowConverter::Kind K>
void generic_row(Native px, bool gray, bool transparent, const std::byte* src, std::uint8_t* out, std::size_t n) {
  constexpr std::size_t N = K == RowConverter::Kind::l ? 1 : K == RowConverter::Kind::la ? 2 : K == RowConverter::Kind::rgb ? 3 : 4;
  for (std::size_t i = 0; i < n; ++i) put_pixel(K, gray, px.pixel(src, i, transparent), out + N * i);
}

}  // namespace

RowConverter::RowConverter(const Chunks& c, const RawLayout& raw, const std::optional<std::string>& mode)
    : native_(std::make_unique<Native>(c, raw)), in_bytes_(static_cast<std::size_t>(raw.channels * raw.sample_bytes)) {
  const Header& h = c.ihdr;
  const OutSpec spec = out_spec(c, mode);
  out_bytes_ = static_cast<std::size_t>(std::max(spec.channels, 1)) * itemsize(spec.dtype);
  gray_ = h.color_type == 0 || h.color_type == 4;
  if (!mode) {
    kind_ = h.color_type == 3 ? Kind::rgb : Kind::copy;  // palette expanded, tRNS not applied
  } else if (*mode == "1" || *mode == "P" || *mode == "I;16") {
    // Same samples, reinterpreted; 1-bit gray as P is 0/255.
    kind_ = *mode == "P" && h.color_type == 0 && h.bit_depth == 1 ? Kind::bilevel_p : Kind::copy;
  } else {
    kind_ = *mode == "L" ? Kind::l : *mode == "LA" ? Kind::la : *mode == "RGB" ? Kind::rgb : Kind::rgba;
    // RGB → LA drops a tRNS colour; gray and palette sources keep it.
    transparent_ = (kind_ == Kind::la && h.color_type != 2) || kind_ == Kind::rgba;
  }
  if (kind_ == Kind::copy || kind_ == Kind::bilevel_p) return;
  if (in_bytes_ == 1) {
    // A whole pixel's room (8 bytes): the compiler cannot see that a
    // one-byte source reads one.
    std::array<std::byte, 8> b{};
    for (int v = 0; v < 256; ++v) {
      b[0] = static_cast<std::byte>(v);
      put_pixel(kind_, gray_, native_->pixel(b.data(), 0, transparent_), table_.data() + 4 * v);
    }
    kind_ = Kind::lookup;
  }
}

RowConverter::~RowConverter() = default;

void RowConverter::operator()(const std::byte* src, std::byte* dst, std::size_t n) const {
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  switch (kind_) {
    case Kind::copy:
      if (src != dst) std::memmove(dst, src, n * in_bytes_);
      return;
    case Kind::bilevel_p:
      for (std::size_t i = 0; i < n; ++i) out[i] = src[i] != std::byte{0} ? 255 : 0;
      return;
    case Kind::lookup:
      switch (out_bytes_) {
        case 1: return lookup_row<1>(table_.data(), src, out, n);
        case 2: return lookup_row<2>(table_.data(), src, out, n);
        case 3: return lookup_row<3>(table_.data(), src, out, n);
        default: return lookup_row<4>(table_.data(), src, out, n);
      }
    case Kind::l: return generic_row<Kind::l>(*native_, gray_, transparent_, src, out, n);
    case Kind::la: return generic_row<Kind::la>(*native_, gray_, transparent_, src, out, n);
    case Kind::rgb: return generic_row<Kind::rgb>(*native_, gray_, transparent_, src, out, n);
    case Kind::rgba: return generic_row<Kind::rgba>(*native_, gray_, transparent_, src, out, n);
  }
}

void convert(const Chunks& c, const RawLayout& raw, const std::byte* src, const std::optional<std::string>& mode,
             std::byte* dst) {
  // Every conversion is pixel by pixel: the canvas is one long row.
  RowConverter(c, raw, mode)(src, dst, std::size_t{raw.width} * raw.height);
}

NDArray apply_gamma(const NDArray& image, double gamma, const Request& request) {
  NDArray out = request.allocate(image.shape(), DType::uint8);
  const double scale = image.dtype() == DType::uint16 ? 65536.0 : 255.0;
  auto* o = out.data<std::uint8_t>();
  auto value = [&](std::size_t i) -> double {
    switch (image.dtype()) {
      case DType::uint16: return image.data<std::uint16_t>()[i];
      case DType::bool_: return image.data<bool>()[i] ? 1.0 : 0.0;
      default: return image.data<std::uint8_t>()[i];
    }
  };
  // A table per possible input value: 256 or 65536 entries.
  const std::size_t levels = image.dtype() == DType::uint16 ? 65536 : 256;
  std::vector<std::uint8_t> table(levels);
  for (std::size_t v = 0; v < levels; ++v) {
    const double x = std::pow(static_cast<double>(v) / scale, gamma) * scale + 0.4999;
    // numpy: np.round (half to even), then astype(uint8) wraps modulo 256.
    const double r = std::nearbyint(x);
    table[v] = static_cast<std::uint8_t>(static_cast<std::int64_t>(r) & 0xff);
  }
  for (std::size_t i = 0; i < image.size(); ++i) o[i] = table[static_cast<std::size_t>(value(i))];
  return out;
}

}  // namespace imio::png
