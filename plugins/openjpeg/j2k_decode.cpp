// Reading: the plan from the header and the decode by OpenJPEG: see
// j2k_decode.hpp.
#include "j2k_decode.hpp"

#include "j2k_codec.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

namespace imio::openjpeg {
namespace {

// ceil(a / d) reduced by 2^r, rounding up: the coordinate of `a` on a
// component grid of subsampling `d` at resolution reduction `r` (B.5,
// as OpenJPEG computes the decoded components' bounds).
std::uint32_t reduced(std::uint32_t a, std::uint32_t d, int r) {
  const std::uint64_t c = (std::uint64_t{a} + d - 1) / d;
  return static_cast<std::uint32_t>((c + (std::uint64_t{1} << r) - 1) >> r);
}

std::uint32_t span_of(std::uint32_t lo, std::uint32_t hi, std::uint32_t d, int r) { return reduced(hi, d, r) - reduced(lo, d, r); }

// OpenJPEG 2.5's cost of a tile, measured: about 10 KB and 40 µs for the
// tile, 1 KB and 30 µs more per component (its coding parameters, the
// codestream index, the tile's decoder set-up), whatever the tile's size.
constexpr std::uint64_t kTileBytes = 10 * 1024;
constexpr std::uint64_t kTileComponentBytes = 1152;
// So tiny tiles in large numbers cost seconds before a sample is decoded
// (65535 tiles of 1 x 1 pixels: 2.5 s and 650 MB for a 1 MB file). A
// codestream may have up to this many tile-components of any size, more
// only when they average at least kMinTileSamples samples (32 x 32).
constexpr std::uint64_t kFreeTileComponents = 4096;
constexpr std::uint64_t kMinTileSamples = 1024;

DType native_dtype(const std::vector<Channel>& channels) {
  int ubits = 0, sbits = 0;
  bool any_signed = false;
  for (const Channel& c : channels) {
    if (c.is_signed) {
      any_signed = true;
      sbits = std::max(sbits, c.precision);
    } else {
      ubits = std::max(ubits, c.precision);
    }
  }
  if (!any_signed) return ubits <= 8 ? DType::uint8 : ubits <= 16 ? DType::uint16 : DType::uint32;
  const int need = std::max(sbits, ubits + 1);
  return need <= 8 ? DType::int8 : need <= 16 ? DType::int16 : DType::int32;
}

// Whether the three first channels hold Y, Cb, Cr: the JP2 colour space
// says sYCC (enumerated 18), or a file that names no colour space has
// three or four components with subsampled chroma (opj_decompress's and
// Pillow's guess: RGB is never subsampled).
bool is_ycc(const Header& h, const std::vector<Channel>& ch) {
  if (ch.size() < 3) return false;
  for (std::size_t c = 0; c < 3; ++c) {
    if (ch[c].is_signed) return false;
  }
  if (h.jp2 && h.boxes.colr_method == 1) return h.boxes.enumcs == 18;
  if (h.jp2 && h.boxes.colr_method != 0) return false;
  const bool chroma_subsampled = (ch[1].dx > 1 || ch[1].dy > 1) && (ch[2].dx > 1 || ch[2].dy > 1);
  return (ch.size() == 3 || ch.size() == 4) && ch[0].dx == 1 && ch[0].dy == 1 && chroma_subsampled;
}

// ---- conversion of OpenJPEG's int32 planes into the array ----

// A sample's way into the array: offset, shift (left when positive), clamp.
struct Transform {
  std::int64_t add = 0;
  int shift = 0;
  std::int64_t lo = 0, hi = 255;
  std::int64_t operator()(std::int32_t v) const {
    std::int64_t t = std::int64_t{v} + add;
    t = shift >= 0 ? t * (std::int64_t{1} << shift) : t >> -shift;
    return std::clamp(t, lo, hi);
  }
};

Transform transform_of(const Channel& c, Depth depth, DType stored) {
  Transform t;
  if (depth == Depth::native) {
    if (c.is_signed) {
      t.lo = -(std::int64_t{1} << (c.precision - 1));
      t.hi = (std::int64_t{1} << (c.precision - 1)) - 1;
    } else {
      t.hi = (std::int64_t{1} << c.precision) - 1;
    }
    return t;
  }
  // Pillow's unpacking: signed samples offset to unsigned, then shifted to
  // the target depth, rounding to nearest when shifted right (Pillow then
  // wraps the top values, 4088…4095 of 12 bits, to 0; imio clamps them).
  const int target = stored == DType::uint16 ? 16 : 8;
  if (c.is_signed) t.add = std::int64_t{1} << (c.precision - 1);
  t.shift = target - c.precision;
  if (t.shift < 0) t.add += std::int64_t{1} << (-t.shift - 1);
  t.hi = (std::int64_t{1} << target) - 1;
  return t;
}

struct Source {
  const std::int32_t* data = nullptr;
  std::uint32_t w = 0, h = 0;
  std::vector<std::uint32_t> xmap;  ///< output column → sample column (upsampling)
  std::vector<std::uint32_t> ymap;
};

template <class T>
void write_planes(const opj_image_t& img, const Plan& p, T* out) {
  const std::size_t n = p.channels.size(), W = p.width, H = p.height;
  std::vector<Source> src(n);
  std::vector<Transform> xf(n);
  for (std::size_t c = 0; c < n; ++c) {
    const opj_image_comp_t& comp = img.comps[c];
    src[c].data = comp.data;
    src[c].w = comp.w;
    src[c].h = comp.h;
    xf[c] = transform_of(p.ycc && c < 3 ? Channel{p.channels[0].precision, false, 1, 1} : p.channels[c], p.depth, p.stored);
    if (p.upsample) {
      // Nearest sample: the one whose area on the reduced grid holds the
      // output pixel (as opj_decompress -upsample replicates).
      const std::uint32_t gx0 = reduced(p.win_x0, 1, p.reduce), gy0 = reduced(p.win_y0, 1, p.reduce);
      const std::uint32_t cx0 = reduced(p.dec_x0, comp.dx, p.reduce), cy0 = reduced(p.dec_y0, comp.dy, p.reduce);
      src[c].xmap.resize(W);
      src[c].ymap.resize(H);
      for (std::size_t x = 0; x < W; ++x) {
        const std::int64_t i = std::int64_t((gx0 + x) / comp.dx) - cx0;
        src[c].xmap[x] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(i, 0, std::int64_t{comp.w} - 1));
      }
      for (std::size_t y = 0; y < H; ++y) {
        const std::int64_t i = std::int64_t((gy0 + y) / comp.dy) - cy0;
        src[c].ymap[y] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(i, 0, std::int64_t{comp.h} - 1));
      }
    }
  }
  // Samples written as they are, clamped (every 8- and 16-bit image at its
  // native depth): a pixel at a time in 32-bit arithmetic, its channels side
  // by side. The general loop below (64-bit transform, a strided pass per
  // channel) made a 12 MP RGB decode 1.02-1.03x OpenJPEG's own.
  const bool plain = std::all_of(xf.begin(), xf.end(), [](const Transform& t) { return t.add == 0 && t.shift == 0; });
  if (!p.upsample && !p.ycc && plain && sizeof(T) <= 2) {
    std::vector<std::int32_t> lo(n), hi(n);
    for (std::size_t c = 0; c < n; ++c) {
      lo[c] = static_cast<std::int32_t>(xf[c].lo);
      hi[c] = static_cast<std::int32_t>(xf[c].hi);
    }
    if (n == 3) {
      const std::int32_t *r = src[0].data, *g = src[1].data, *b = src[2].data;
      for (std::size_t i = 0, count = W * H; i < count; ++i) {
        out[3 * i] = static_cast<T>(std::clamp(r[i], lo[0], hi[0]));
        out[3 * i + 1] = static_cast<T>(std::clamp(g[i], lo[1], hi[1]));
        out[3 * i + 2] = static_cast<T>(std::clamp(b[i], lo[2], hi[2]));
      }
      return;
    }
    for (std::size_t i = 0, count = W * H; i < count; ++i) {
      for (std::size_t c = 0; c < n; ++c) out[i * n + c] = static_cast<T>(std::clamp(src[c].data[i], lo[c], hi[c]));
    }
    return;
  }
  if (!p.upsample && !p.ycc) {
    for (std::size_t y = 0; y < H; ++y) {
      T* row = out + y * W * n;
      for (std::size_t c = 0; c < n; ++c) {
        const std::int32_t* s = src[c].data + y * W;
        const Transform& t = xf[c];
        T* d = row + c;
        for (std::size_t x = 0; x < W; ++x) d[x * n] = static_cast<T>(t(s[x]));
      }
    }
    return;
  }
  // Rows gathered (and upsampled) into int32 buffers, converted from YCC, then written.
  std::vector<std::vector<std::int32_t>> rows(n, std::vector<std::int32_t>(W));
  const int prec = p.channels[0].precision;
  const std::int32_t offset = std::int32_t{1} << (prec - 1), upb = static_cast<std::int32_t>((std::int64_t{1} << prec) - 1);
  for (std::size_t y = 0; y < H; ++y) {
    for (std::size_t c = 0; c < n; ++c) {
      if (p.upsample) {
        const std::int32_t* s = src[c].data + std::size_t{src[c].ymap[y]} * src[c].w;
        for (std::size_t x = 0; x < W; ++x) rows[c][x] = s[src[c].xmap[x]];
      } else {
        std::memcpy(rows[c].data(), src[c].data + y * W, W * sizeof(std::int32_t));
      }
    }
    if (p.ycc) {
      // sYCC to RGB (IEC 61966-2-1 Amd. 1), with OpenJPEG's own rounding
      // (truncation, as its opj_decompress converts).
      for (std::size_t x = 0; x < W; ++x) {
        const std::int32_t yy = rows[0][x], cb = rows[1][x] - offset, cr = rows[2][x] - offset;
        const auto r = yy + static_cast<std::int32_t>(1.402 * cr);
        const auto g = yy - static_cast<std::int32_t>(0.344 * cb + 0.714 * cr);
        const auto b = yy + static_cast<std::int32_t>(1.772 * cb);
        rows[0][x] = std::clamp(r, 0, upb);
        rows[1][x] = std::clamp(g, 0, upb);
        rows[2][x] = std::clamp(b, 0, upb);
      }
    }
    T* row = out + y * W * n;
    for (std::size_t c = 0; c < n; ++c) {
      const Transform& t = xf[c];
      for (std::size_t x = 0; x < W; ++x) row[x * n + c] = static_cast<T>(t(rows[c][x]));
    }
  }
}

void write_array(const opj_image_t& img, const Plan& p, NDArray& out) {
  switch (p.stored) {
    case DType::uint8: write_planes(img, p, out.data<std::uint8_t>()); break;
    case DType::uint16: write_planes(img, p, out.data<std::uint16_t>()); break;
    case DType::uint32: write_planes(img, p, out.data<std::uint32_t>()); break;
    case DType::int8: write_planes(img, p, out.data<std::int8_t>()); break;
    case DType::int16: write_planes(img, p, out.data<std::int16_t>()); break;
    case DType::int32: write_planes(img, p, out.data<std::int32_t>()); break;
    default: throw Error("openjpeg: unexpected dtype");
  }
}

// ---- Pillow's conversions (mode=) from its own mode of the file ----

std::uint8_t luma(std::uint32_t r, std::uint32_t g, std::uint32_t b) {
  return static_cast<std::uint8_t>((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16);  // ITU-R 601-2 in Pillow's fixed point
}

std::size_t mode_channels(std::string_view mode) {
  return mode == "LA" ? 2 : mode == "RGB" ? 3 : mode == "RGBA" ? 4 : 1;
}

void convert_mode(const NDArray& in, std::string_view from, std::string_view to, NDArray& out) {
  const std::size_t pixels = in.shape()[0] * in.shape()[1];
  const std::size_t ci = mode_channels(from), co = mode_channels(to);
  if (from == "I;16") {
    const std::uint16_t* s = in.data<std::uint16_t>();
    if (to == "I;16") {
      std::memcpy(out.bytes(), in.bytes(), in.nbytes());
      return;
    }
    std::uint8_t* d = out.data<std::uint8_t>();  // Pillow's I;16 → L clips at 255
    for (std::size_t i = 0; i < pixels; ++i) {
      const auto v = static_cast<std::uint8_t>(std::min<std::uint32_t>(s[i], 255));
      for (std::size_t k = 0; k < co; ++k) d[i * co + k] = (to == "LA" || to == "RGBA") && k == co - 1 ? 255 : v;
    }
    return;
  }
  const std::uint8_t* s = in.data<std::uint8_t>();
  if (to == "I;16") {  // from L only (planned)
    std::uint16_t* d = out.data<std::uint16_t>();
    for (std::size_t i = 0; i < pixels; ++i) d[i] = s[i];
    return;
  }
  std::uint8_t* d = out.data<std::uint8_t>();
  const bool from_alpha = from == "LA" || from == "RGBA";
  const bool to_alpha = to == "LA" || to == "RGBA";
  for (std::size_t i = 0; i < pixels; ++i) {
    const std::uint8_t* px = s + i * ci;
    const std::uint8_t alpha = from_alpha ? px[ci - 1] : 255;
    std::uint8_t* o = d + i * co;
    if (co <= 2) {
      o[0] = ci <= 2 ? px[0] : luma(px[0], px[1], px[2]);
    } else {
      for (std::size_t k = 0; k < 3; ++k) o[k] = ci <= 2 ? px[0] : px[k];
    }
    if (to_alpha) o[co - 1] = alpha;
  }
}

}  // namespace

std::string pillow_mode(const std::vector<Channel>& channels) {
  switch (channels.size()) {
    case 1: return channels[0].precision > 8 ? "I;16" : "L";
    case 2: return "LA";
    case 3: return "RGB";
    case 4: return "RGBA";
    default: return "";
  }
}

std::vector<Channel> output_channels(const Header& h) {
  std::vector<Channel> out;
  const auto& comps = h.cs.components;
  if (!h.jp2 || !h.boxes.palette) {
    for (const Component& c : comps) out.push_back({c.precision, c.is_signed, c.dx, c.dy});
    return out;
  }
  const Palette& pal = *h.boxes.palette;
  for (const Palette::Channel& m : pal.channels) {
    if (m.component >= comps.size()) {
      throw DecodeError(fmt::format("the component mapping (cmap) names component {} of {}", m.component, comps.size()));
    }
    const Component& c = comps[m.component];
    if (!m.from_palette) {
      out.push_back({c.precision, c.is_signed, c.dx, c.dy});
      continue;
    }
    if (m.column >= pal.column_bits.size()) {
      throw DecodeError(fmt::format("the component mapping (cmap) names palette column {} of {}", m.column, pal.column_bits.size()));
    }
    const int bits = pal.column_bits[m.column];
    out.push_back({(bits & 0x7f) + 1, (bits & 0x80) != 0, c.dx, c.dy});
  }
  if (out.empty()) throw DecodeError("the component mapping (cmap) maps no channel");
  return out;
}

Plan plan(const Header& h, const ReadArgs& a) {
  const Codestream& cs = h.cs;
  Plan p;
  const int resolutions = cs.min_resolutions();
  if (a.reduce >= resolutions) {
    throw ArgumentError(fmt::format("reduce={} discards more resolution levels than the codestream has: {} (reduce 0…{})", a.reduce, resolutions,
                                    resolutions - 1));
  }
  p.reduce = a.reduce;
  p.win_x0 = cs.x0;
  p.win_y0 = cs.y0;
  p.win_x1 = cs.x1;
  p.win_y1 = cs.y1;
  if (a.area) {
    const auto [left, top, right, bottom] = *a.area;
    if (left >= right || top >= bottom || right > cs.width() || bottom > cs.height()) {
      throw ArgumentError(fmt::format("area=[{}, {}, {}, {}] is not a region of the {} x {} image ([left, top, right, bottom], right and bottom exclusive)",
                                      left, top, right, bottom, cs.width(), cs.height()));
    }
    p.win_x0 = cs.x0 + left;
    p.win_y0 = cs.y0 + top;
    p.win_x1 = cs.x0 + right;
    p.win_y1 = cs.y0 + bottom;
  }
  p.channels = output_channels(h);
  for (const Channel& c : p.channels) {
    if (c.dx != p.channels[0].dx || c.dy != p.channels[0].dy) p.upsample = true;
  }
  p.dec_x0 = p.win_x0;
  p.dec_y0 = p.win_y0;
  if (p.upsample && a.area) {
    std::uint64_t mx = std::uint64_t{1} << p.reduce, my = mx;
    for (const Channel& c : p.channels) {
      mx = std::lcm(mx, std::uint64_t{c.dx} << p.reduce);
      my = std::lcm(my, std::uint64_t{c.dy} << p.reduce);
    }
    p.dec_x0 = static_cast<std::uint32_t>(std::max<std::uint64_t>(cs.x0, p.win_x0 / mx * mx));
    p.dec_y0 = static_cast<std::uint32_t>(std::max<std::uint64_t>(cs.y0, p.win_y0 / my * my));
  }
  const std::uint32_t gdx = p.upsample ? 1 : p.channels[0].dx, gdy = p.upsample ? 1 : p.channels[0].dy;
  p.width = span_of(p.win_x0, p.win_x1, gdx, p.reduce);
  p.height = span_of(p.win_y0, p.win_y1, gdy, p.reduce);
  if (p.width == 0 || p.height == 0) {
    throw ArgumentError(fmt::format("the region read holds no pixel at reduce={} (it is {} x {} at full resolution); take a larger area", p.reduce,
                                    p.win_x1 - p.win_x0, p.win_y1 - p.win_y0));
  }
  p.ycc = is_ycc(h, p.channels);
  p.native_mode = pillow_mode(p.channels);
  p.mode = a.mode;
  p.depth = a.depth;
  std::vector<Channel> stored_channels = p.channels;
  if (p.ycc) {
    for (std::size_t c = 0; c < 3; ++c) stored_channels[c] = {p.channels[0].precision, false, 1, 1};
  }
  if (p.mode) {
    if (p.native_mode.empty()) {
      throw ArgumentError(fmt::format("mode='{}' converts images of 1 to 4 components (Pillow's modes); this one has {}", *p.mode, p.channels.size()));
    }
    if (*p.mode == "I;16" && p.native_mode != "L" && p.native_mode != "I;16") {
      throw ArgumentError(fmt::format("conversion from {} to I;16 not supported (mode='I;16' reads one-component images)", p.native_mode));
    }
    p.depth = p.native_mode == "I;16" ? Depth::scaled : Depth::eight;
  }
  if (p.depth == Depth::native) {
    p.stored = native_dtype(stored_channels);
  } else if (p.depth == Depth::eight) {
    p.stored = DType::uint8;
  } else {
    const bool deep = std::any_of(stored_channels.begin(), stored_channels.end(), [](const Channel& c) { return c.precision > 8; });
    p.stored = deep ? DType::uint16 : DType::uint8;
  }
  const std::size_t channels = p.mode ? mode_channels(*p.mode) : p.channels.size();
  p.shape = {p.height, p.width};
  if (channels > 1) p.shape.push_back(channels);
  p.dtype = p.mode ? (*p.mode == "I;16" ? DType::uint16 : DType::uint8) : p.stored;

  std::uint64_t full_samples = 0;
  for (const Component& c : cs.components) full_samples += std::uint64_t{span_of(cs.x0, cs.x1, c.dx, 0)} * span_of(cs.y0, cs.y1, c.dy, 0);
  const std::uint64_t tile_components = cs.tiles() * cs.components.size();
  if (tile_components > kFreeTileComponents && tile_components * kMinTileSamples > full_samples) {
    throw LimitError(fmt::format("the codestream cuts its {} x {} image into {} tiles of {} x {} ({} components each): OpenJPEG spends about 10 KB "
                                 "and 40 µs per tile before decoding a sample, so imio reads more than {} tile-components only when they average "
                                 "{} samples",
                                 cs.width(), cs.height(), cs.tiles(), cs.tile_w, cs.tile_h, cs.components.size(), kFreeTileComponents, kMinTileSamples));
  }

  // OpenJPEG's buffers: the decoded window of every component and, for a
  // tiled image, one tile's, 4 bytes per sample; its coding parameters for
  // every tile and component.
  std::uint64_t samples = 0, tile_samples = 0;
  const std::uint32_t tw = std::min(cs.tile_w, cs.width()), th = std::min(cs.tile_h, cs.height());
  for (const Component& c : cs.components) {
    samples += std::uint64_t{span_of(p.dec_x0, p.win_x1, c.dx, p.reduce)} * span_of(p.dec_y0, p.win_y1, c.dy, p.reduce);
    tile_samples += std::uint64_t{reduced(tw, c.dx, p.reduce) + 1} * (reduced(th, c.dy, p.reduce) + 1);
  }
  p.opj_bytes = 4 * samples + (cs.tiles() > 1 ? 4 * tile_samples : 0) + cs.tiles() * kTileBytes + tile_components * kTileComponentBytes;
  return p;
}

void check_limits(const Plan& p, const Request& request) {
  request.check_pixels(p.width, p.height, p.channels.size());
  const std::uint64_t max_bytes = request.limits().max_bytes;
  if (p.opj_bytes > max_bytes) {
    throw LimitError(fmt::format("decoding needs about {} bytes of OpenJPEG buffers (4 per sample of every component, and per tile), more than "
                                 "max_bytes={}; a smaller area or a larger reduce needs less",
                                 p.opj_bytes, max_bytes));
  }
}

NDArray decode(std::span<const std::byte> file, const Header& h, const Plan& p, const ReadArgs& a, const Request& request) {
  const Codestream& cs = h.cs;
  check_limits(p, request);
  NDArray out = request.allocate(p.shape, p.dtype);

  Messages messages;
  CodecPtr codec = make_decoder(h.jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K, messages);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  params.cp_reduce = static_cast<OPJ_UINT32>(p.reduce);
  params.cp_layer = static_cast<OPJ_UINT32>(a.layers);
  if (!opj_setup_decoder(codec.get(), &params)) throw DecodeError(messages.text("OpenJPEG refused the decoding parameters"));
  // Strict: a codestream cut short is an error, not an image with holes
  // (OpenJPEG 2.5's default, said explicitly).
  opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);
  opj_codec_set_threads(codec.get(), thread_count(a.threads));

  MemoryInput in{file, 0};
  StreamPtr stream = make_input_stream(in);
  opj_image_t* raw = nullptr;
  const bool header_ok = opj_read_header(stream.get(), codec.get(), &raw) != 0;
  ImagePtr image(raw);
  if (!header_ok || !image) throw DecodeError(messages.text("OpenJPEG could not read the header"));
  if (image->numcomps != cs.components.size()) {
    throw DecodeError(fmt::format("OpenJPEG read {} components where the SIZ marker declares {}", image->numcomps, cs.components.size()));
  }
  // Always set (0, 0, 0, 0: the whole image, as opj_decompress does): a
  // reduced image decoded without it is ceil(W / 2^r) wide, not the
  // resolution level's ceil(x1 / 2^r) - ceil(x0 / 2^r) (B.5) when the image
  // origin is odd.
  const bool whole = !a.area;
  if (!opj_set_decode_area(codec.get(), image.get(), whole ? 0 : static_cast<OPJ_INT32>(p.dec_x0), whole ? 0 : static_cast<OPJ_INT32>(p.dec_y0),
                           whole ? 0 : static_cast<OPJ_INT32>(p.win_x1), whole ? 0 : static_cast<OPJ_INT32>(p.win_y1))) {
    throw DecodeError(messages.text("OpenJPEG refused the decoding area"));
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
    throw DecodeError(messages.text("OpenJPEG could not decode the codestream"));
  }

  // What OpenJPEG returned must be what the header announced (and improps said).
  if (image->numcomps != p.channels.size()) {
    throw DecodeError(fmt::format("OpenJPEG returned {} components where the header announces {}", image->numcomps, p.channels.size()));
  }
  for (std::size_t c = 0; c < p.channels.size(); ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    const std::uint32_t w = span_of(p.dec_x0, p.win_x1, comp.dx, p.reduce), hh = span_of(p.dec_y0, p.win_y1, comp.dy, p.reduce);
    if (comp.data == nullptr || comp.w != w || comp.h != hh || comp.dx != p.channels[c].dx || comp.dy != p.channels[c].dy) {
      throw DecodeError(fmt::format("OpenJPEG returned component {} as {} x {} samples where the header announces {} x {}", c, comp.w, comp.h, w, hh));
    }
    if (static_cast<int>(comp.prec) > p.channels[c].precision || (comp.sgnd != 0) != p.channels[c].is_signed) {
      throw DecodeError(fmt::format("OpenJPEG returned component {} with {}-bit samples where the header announces {}", c, comp.prec,
                                    p.channels[c].precision));
    }
    if (!p.upsample && (w != p.width || hh != p.height)) throw DecodeError("OpenJPEG returned components of different sizes");
  }
  if (!p.mode || *p.mode == p.native_mode) {
    write_array(*image, p, out);
    return out;
  }
  NDArray native = request.allocate(p.native_mode == "L" || p.native_mode == "I;16" ? Shape{p.height, p.width} : Shape{p.height, p.width, p.channels.size()},
                                    p.stored);
  write_array(*image, p, native);
  image.reset();
  convert_mode(native, p.native_mode, *p.mode, out);
  return out;
}

}  // namespace imio::openjpeg
