// TIFF read as imageio's pillow plugin reads it (Pillow 9.4's
// TiffImagePlugin, then imageio's conversion of "P" images to their palette
// mode). Pillow sees a file as a sequence of pages (IFD0, IFD1, … of the
// main chain), never as tifffile's series, and gives each page one of its
// modes, chosen from (byte order, photometric, sample format, bits per
// sample, extra samples). Pages are decoded by the same code as the
// tifffile-style reader (tiff_decode) and then converted to that mode.
#include "tiff_pillow.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tiff_decode.hpp"
#include "tiff_ifd.hpp"
#include "tiff_meta.hpp"
#include "tiff_pages.hpp"
#include "tiff_photo.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";  // serving imageio's `pillow` alias

constexpr std::uint16_t kOrientation = 274;

// How a decoded page (tifffile's layout) becomes Pillow's array.
enum class Op {
  copy,        // same values (planar pages become contiguous, extra samples beyond `channels` dropped)
  invert,      // MINISWHITE: bool → !v, 8-bit → 255 - v ("1;I", "L;I")
  scale,       // 2/4-bit gray → 0…255 ("L;2", "L;4", × 85 / × 17), inverted for MINISWHITE
  high_byte,   // 16-bit RGB(A)/CMYK → 8 bits ("RGB;16L" and friends keep the high byte)
  to_int32,    // int16 / uint32 → Pillow's "I" (int32; uint32 wraps as Pillow's "I;32N")
  palette,     // "P" → RGB through the ColorMap (imageio converts P to its palette mode)
  lab,         // "LAB": a and b stored signed, Pillow stores them offset by 128
};

struct Mode {
  std::string problem;  // non-empty: Pillow has no mode for the page
  DType dtype = DType::uint8;
  std::size_t channels = 0;  // 0: a 2-D image
  Op op = Op::copy;
  bool inverted = false;       // for Op::scale
  bool unpremultiply = false;  // ExtraSamples 1 (associated alpha): Pillow's "RGBa" → "RGBA"
};

Mode no_mode(const Page& p, const Structure& st) {
  Mode m;
  m.problem = fmt::format(
      "Pillow has no mode for this page (photometric {}, {} sample(s) of {} bits, sample format {}, {} byte order)",
      p.photometric, p.spp, p.bps, p.sample_format, st.little ? "little-endian" : "big-endian");
  return m;
}

Mode make(DType dtype, std::size_t channels, Op op = Op::copy) {
  Mode m;
  m.dtype = dtype;
  m.channels = channels;
  m.op = op;
  return m;
}

std::vector<std::uint64_t> extra_samples(const Ifd& ifd) {
  std::vector<std::uint64_t> out;
  if (const Entry* e = ifd.find(kExtraSamples)) {
    for (std::size_t i = 0; i < e->size(); ++i) out.push_back(e->u(i));
  }
  return out;
}

// Pillow 9.4's OPEN_INFO table, restated as rules (sample format is one
// value: tiff_pages refuses pages whose samples differ).
Mode pillow_mode(const Structure& st, const Page& p) {
  if (!p.problem.empty()) {
    Mode m;
    m.problem = p.problem;
    return m;
  }
  const Ifd& ifd = st.ifds[p.ifd];
  const auto extras = extra_samples(ifd);
  const bool ii = st.little;
  const std::uint16_t ph = p.photometric, sf = p.sample_format, bps = p.bps, spp = p.spp;
  if ((ph == 0 || ph == 1) && spp == 1 && extras.empty()) {
    const bool white = ph == 0;
    if (sf == 1 && bps == 1) return make(DType::bool_, 0, white ? Op::invert : Op::copy);
    if (sf == 1 && (bps == 2 || bps == 4)) {
      Mode m = make(DType::uint8, 0, Op::scale);
      m.inverted = white;
      return m;
    }
    if (sf == 1 && bps == 8) return make(DType::uint8, 0, white ? Op::invert : Op::copy);
    if (sf == 1 && bps == 12 && ii && !white) return make(DType::uint16, 0);
    // Pillow does not invert 16-bit MINISWHITE ("I;16" for both photometrics).
    if (sf == 1 && bps == 16 && (ii || !white)) return make(DType::uint16, 0);
    if (sf == 2 && bps == 16 && !white) return make(DType::int32, 0, Op::to_int32);
    if (sf == 3 && bps == 32) return make(DType::float32, 0);
    if (sf == 1 && bps == 32 && ii && !white) return make(DType::int32, 0, Op::to_int32);
    if (sf == 2 && bps == 32 && !white) return make(DType::int32, 0);
    return no_mode(p, st);
  }
  if (sf != 1) return no_mode(p, st);
  if (ph == 1 && spp == 2 && bps == 8 && extras == std::vector<std::uint64_t>{2}) return make(DType::uint8, 2);
  if (ph == 2 && bps == 8) {
    if (spp == 3 && extras.empty()) return make(DType::uint8, 3);
    const std::size_t more = spp > 4 ? spp - 4u : 0u;  // the "XX" samples Pillow skips
    if (spp >= 4 && spp <= 6 && (extras.size() == 1u + more || (spp == 4 && extras.empty()))) {
      const std::uint64_t first = extras.empty() ? 2 : extras.front();
      const bool rest_unspecified =
          std::all_of(extras.begin() + (extras.empty() ? 0 : 1), extras.end(), [](std::uint64_t e) { return e == 0; });
      if (rest_unspecified && (first <= 2 || (first == 999 && spp == 4))) {
        Mode m = make(DType::uint8, 4);
        m.unpremultiply = first == 1;
        return m;
      }
    }
    return no_mode(p, st);
  }
  if (ph == 2 && bps == 16) {
    if (spp == 3 && extras.empty()) return make(DType::uint8, 3, Op::high_byte);
    if (spp == 4 && (extras.empty() || (extras.size() == 1 && extras.front() <= 2))) {
      Mode m = make(DType::uint8, 4, Op::high_byte);
      m.unpremultiply = !extras.empty() && extras.front() == 1;
      return m;
    }
    return no_mode(p, st);
  }
  if (ph == 3 && spp == 1 && extras.empty() && (bps == 1 || bps == 2 || bps == 4 || bps == 8)) {
    const Entry* map = ifd.find(kColorMap);
    if (map == nullptr || map->size() < 3u * (std::size_t{1} << bps)) {
      Mode m;
      m.problem = "the palette page has no complete ColorMap";
      return m;
    }
    return make(DType::uint8, 3, Op::palette);
  }
  if (ph == 5 && bps == 8 && ((spp == 4 && extras.empty()) || (spp > 4 && spp <= 6 && extras.size() == spp - 4u &&
                                                                std::all_of(extras.begin(), extras.end(),
                                                                            [](std::uint64_t e) { return e == 0; })))) {
    return make(DType::uint8, 4);
  }
  if (ph == 5 && bps == 16 && spp == 4 && extras.empty() && ii) return make(DType::uint8, 4, Op::high_byte);
  // YCbCr: Pillow lets libtiff convert JPEG-compressed pages to RGB.
  if (ph == 6 && (p.jpeg_rgb || p.ojpeg_rgb) && bps == 8) return make(DType::uint8, 3);
  if (ph == 8 && spp == 3 && bps == 8 && extras.empty()) return make(DType::uint8, 3, Op::lab);
  return no_mode(p, st);
}

Shape mode_shape(const Page& p, const Mode& m) {
  if (m.channels == 0) return Shape{p.height, p.width};
  return Shape{p.height, p.width, m.channels};
}

// The sample layout of a decoded page (tifffile's: contiguous (H,W,S) or planar (S,H,W)).
struct Layout {
  std::size_t h, w, s;
  bool planar;
  std::size_t at(std::size_t y, std::size_t x, std::size_t c) const noexcept {
    return planar ? (c * h + y) * w + x : (y * w + x) * s + c;
  }
};

template <class In, class Out, class F>
void transform(const std::byte* raw, std::byte* dst, const Layout& l, std::size_t channels, F f) {
  const In* in = reinterpret_cast<const In*>(raw);
  Out* out = reinterpret_cast<Out*>(dst);
  const std::size_t c_out = std::max<std::size_t>(channels, 1);
  for (std::size_t y = 0; y < l.h; ++y) {
    for (std::size_t x = 0; x < l.w; ++x) {
      for (std::size_t c = 0; c < c_out; ++c) *out++ = f(in[l.at(y, x, c)], c);
    }
  }
}

// Pillow's "RGBa" unpacker: colour × 255 / alpha, clipped; alpha 0 → all 0.
void unpremultiply(std::byte* data, std::size_t pixels) {
  auto* px = reinterpret_cast<std::uint8_t*>(data);
  for (std::size_t i = 0; i < pixels; ++i, px += 4) {
    const unsigned a = px[3];
    if (a == 255) continue;
    for (int c = 0; c < 3; ++c) px[c] = a == 0 ? 0 : static_cast<std::uint8_t>(std::min(255u, px[c] * 255u / a));
  }
}

// Converts one decoded page (`raw`, tifffile's dtype and layout) to `m` in `dst`.
void convert(const Structure& st, const Page& p, const Mode& m, const std::byte* raw, std::byte* dst) {
  const Layout l{p.height, p.width, p.spp, p.planar == 2 && p.spp > 1};
  switch (m.op) {
    case Op::copy:
      switch (itemsize(m.dtype)) {
        case 1: transform<std::uint8_t, std::uint8_t>(raw, dst, l, m.channels, [](auto v, auto) { return v; }); break;
        case 2: transform<std::uint16_t, std::uint16_t>(raw, dst, l, m.channels, [](auto v, auto) { return v; }); break;
        default: transform<std::uint32_t, std::uint32_t>(raw, dst, l, m.channels, [](auto v, auto) { return v; });
      }
      break;
    case Op::invert:
      if (m.dtype == DType::bool_) {
        transform<std::uint8_t, std::uint8_t>(raw, dst, l, 0, [](auto v, auto) { return std::uint8_t(v ? 0 : 1); });
      } else {
        transform<std::uint8_t, std::uint8_t>(raw, dst, l, 0, [](auto v, auto) { return std::uint8_t(255 - v); });
      }
      break;
    case Op::scale: {
      const unsigned top = (1u << p.bps) - 1u, step = 255u / top;
      const bool inv = m.inverted;
      transform<std::uint8_t, std::uint8_t>(raw, dst, l, 0, [=](auto v, auto) {
        return static_cast<std::uint8_t>((inv ? top - std::min<unsigned>(v, top) : v) * step);
      });
      break;
    }
    case Op::high_byte:
      transform<std::uint16_t, std::uint8_t>(raw, dst, l, m.channels,
                                             [](auto v, auto) { return static_cast<std::uint8_t>(v >> 8); });
      break;
    case Op::to_int32:
      if (p.sample_format == 2) {
        transform<std::int16_t, std::int32_t>(raw, dst, l, 0, [](auto v, auto) { return std::int32_t{v}; });
      } else {
        transform<std::uint32_t, std::int32_t>(raw, dst, l, 0, [](auto v, auto) { return static_cast<std::int32_t>(v); });
      }
      break;
    case Op::palette: {
      // Pillow keeps the high byte of each 16-bit ColorMap entry (b // 256).
      const Entry& map = *st.ifds[p.ifd].find(kColorMap);
      const std::size_t n = std::size_t{1} << p.bps;
      std::vector<std::uint8_t> rgb(3 * n);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < 3; ++c) rgb[3 * i + c] = static_cast<std::uint8_t>(map.u(c * n + i) >> 8);
      }
      const auto* in = reinterpret_cast<const std::uint8_t*>(raw);
      auto* out = reinterpret_cast<std::uint8_t*>(dst);
      const std::size_t pixels = std::size_t{p.width} * p.height;
      for (std::size_t i = 0; i < pixels; ++i) {
        const std::size_t k = std::min<std::size_t>(in[i], n - 1);
        std::copy_n(&rgb[3 * k], 3, out + 3 * i);
      }
      break;
    }
    case Op::lab:
      transform<std::uint8_t, std::uint8_t>(raw, dst, l, 3, [](auto v, auto c) {
        return static_cast<std::uint8_t>(c == 0 ? v : v ^ 0x80u);
      });
      break;
  }
  if (m.unpremultiply) unpremultiply(dst, std::size_t{p.width} * p.height);
}

// What a read returns: these pages (each converted by its mode), as `shape`.
struct Selection {
  std::vector<std::size_t> pages;
  Shape shape;
  DType dtype = DType::uint8;
  bool batch = false;
};

class PillowTiffReader final : public Plugin {
 public:
  explicit PillowTiffReader(Request& request) : request_(request) {
    st_ = parse_structure(request.source(), request.limits());
    for (std::size_t i = 0; i < st_.ifds.size(); ++i) {
      pages_.push_back(make_page(st_, i));
      modes_.push_back(pillow_mode(st_, pages_.back()));
    }
    // Pillow's open() reads the first page's mode: without one it cannot open the file.
    if (pages_.empty()) throw InitializationError("Pillow cannot open a TIFF without a readable page");
    if (!modes_.front().problem.empty()) throw InitializationError(modes_.front().problem);
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const bool rotate = parse_args(kwargs, "read");
    const Selection sel = select(index);
    return decode(sel, rotate);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const bool rotate = parse_args(kwargs, "iter");
    struct Pages final : FrameSource {
      PillowTiffReader& reader;
      bool rotate;
      std::size_t next_page = 0;
      Pages(PillowTiffReader& r, bool rot) : reader(r), rotate(rot) {}
      std::optional<NDArray> next() override {
        if (next_page >= reader.pages_.size()) return std::nullopt;
        return reader.decode(reader.select(Index(next_page++)), rotate);
      }
    };
    return std::make_unique<Pages>(*this, rotate);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const bool rotate = parse_args(kwargs, "properties");
    const Selection sel = select(index, /*for_read=*/false);
    Shape shape = sel.shape;
    if (rotate) shape = oriented_shape(shape, orientation(sel.pages.front()), sel.batch ? 1 : 0);
    std::optional<std::size_t> n;
    if (sel.batch) n = sel.pages.size();
    return ImageProperties{.shape = shape, .dtype = sel.dtype, .n_images = n, .is_batch = sel.batch};
  }

  // Pillow's info dict has no counterpart here: the page's tags as the
  // tifffile-style reader names them (README, "Pillow semantics").
  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata", "pillow").finish();
    const std::size_t k = index.is_integer() ? page_number(index) : 0;
    Metadata m = page_metadata(request_.source(), st_, pages_[k]);
    add_photo_entries(m, request_.source(), st_, st_.ifds[pages_[k].ifd]);  // docs/metadata.md
    return m;
  }

 private:
  // Pillow's read kwargs: rotate (EXIF orientation), and apply_gamma /
  // writeable_output, which change nothing for TIFF; `mode` conversions are
  // not offered for TIFF.
  static bool parse_args(const Kwargs& kwargs, std::string_view method) {
    KwargReader kw(kwargs, kPlugin, method, "pillow");
    if (const auto mode = kw.take<std::string>("mode")) {
      kw.fail("mode", "converting TIFF pages to another Pillow mode is not supported (omit `mode`)");
    }
    kw.find("apply_gamma");
    kw.find("writeable_output");
    return kw.get<bool>("rotate");
  }

  std::size_t page_number(const Index& index) const {
    const auto k = static_cast<std::size_t>(index.value());
    if (k >= pages_.size()) {
      throw IndexError(fmt::format("index {} is out of range: the file holds {} pages", k, pages_.size()));
    }
    return k;
  }

  int orientation(std::size_t page) const {
    const auto v = st_.ifds[pages_[page].ifd].get(kOrientation, 1);
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
  }

  const Mode& mode_of(std::size_t k) const {
    if (!modes_[k].problem.empty()) throw DecodeError(fmt::format("page {}: {}", k, modes_[k].problem));
    return modes_[k];
  }

  // index none → page 0 (imageio's default for TIFF), k → page k, all → every page stacked.
  Selection select(const Index& index, bool for_read = true) const {
    if (!index.is_all()) {
      const std::size_t k = index.is_none() ? 0 : page_number(index);
      const Mode& m = mode_of(k);
      return Selection{{k}, mode_shape(pages_[k], m), m.dtype, false};
    }
    const Mode& m0 = mode_of(0);
    const Shape first = mode_shape(pages_[0], m0);
    Selection sel{{}, Shape{pages_.size()}, m0.dtype, true};
    sel.shape.insert(sel.shape.end(), first.begin(), first.end());
    for (std::size_t k = 0; k < pages_.size(); ++k) {
      if (for_read) {
        const Mode& m = mode_of(k);
        if (mode_shape(pages_[k], m) != first || m.dtype != m0.dtype) {
          throw ArgumentError(fmt::format("page {} ({}, {}) differs from page 0 ({}, {}): the pages cannot be stacked",
                                          k, fmt::join(mode_shape(pages_[k], m), "x"), name(m.dtype),
                                          fmt::join(first, "x"), name(m0.dtype)));
        }
      }
      sel.pages.push_back(k);
    }
    return sel;
  }

  NDArray decode(const Selection& sel, bool rotate) {
    std::vector<const Page*> pages;
    for (std::size_t k : sel.pages) pages.push_back(&pages_[k]);
    check_read(request_, pages);
    NDArray out = request_.allocate(sel.shape, sel.dtype);
    const std::size_t per_page = out.nbytes() / sel.pages.size();
    NDArray raw;
    for (std::size_t i = 0; i < sel.pages.size(); ++i) {
      const Page& p = *pages[i];
      const Mode& m = modes_[sel.pages[i]];
      std::byte* dst = out.bytes() + i * per_page;
      const bool direct = m.op == Op::copy && !m.unpremultiply && p.dtype == m.dtype && (p.planar != 2 || p.spp == 1) &&
                          (m.channels == 0 ? p.spp == 1 : m.channels == p.spp);
      if (direct) {
        decode_pages(request_, st_, std::span<const Page* const>(&pages[i], 1), dst);
        continue;
      }
      if (raw.nbytes() < p.nbytes()) raw = request_.allocate(Shape{p.nbytes()}, DType::uint8);
      decode_pages(request_, st_, std::span<const Page* const>(&pages[i], 1), raw.bytes());
      convert(st_, p, m, raw.bytes(), dst);
    }
    if (rotate) out = apply_orientation(std::move(out), orientation(sel.pages.front()), sel.batch ? 1 : 0);
    return out;
  }

  Request& request_;
  Structure st_;
  std::vector<Page> pages_;
  std::vector<Mode> modes_;
};

}  // namespace

std::unique_ptr<Plugin> open_pillow_reader(Request& request) { return std::make_unique<PillowTiffReader>(request); }

}  // namespace imio::tiff
