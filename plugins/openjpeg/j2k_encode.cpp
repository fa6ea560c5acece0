// Writing through OpenJPEG: see j2k_encode.hpp. The kwargs are Pillow's
// JPEG 2000 save options (Jpeg2KImagePlugin), mapped onto
// opj_cparameters_t as opj_compress maps its command line.
#include "j2k_encode.hpp"

#include "j2k_codec.hpp"
#include "j2k_header.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

namespace imio::openjpeg {
namespace {

constexpr std::string_view kPlugin = "openjpeg";

struct Layout {
  const NDArray* image = nullptr;
  std::size_t height = 0, width = 0, channels = 1;
  int bits = 8;           ///< stored precision
  bool is_signed = false;
};

std::string shape_text(const Shape& s) {
  std::string out;
  for (std::size_t d : s) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return "(" + out + ")";
}

// A list kwarg of exactly `n` integers in [lo, hi].
std::optional<std::vector<std::int64_t>> int_list(KwargReader& kw, std::string_view key, std::size_t n, std::int64_t lo, std::int64_t hi) {
  const auto v = kw.take<Value::List>(key);
  if (!v) return std::nullopt;
  if (v->size() != n) kw.fail(key, fmt::format("expects a list of {} integers", n));
  std::vector<std::int64_t> out;
  for (const Value& item : *v) {
    if (!item.is<std::int64_t>()) kw.fail(key, fmt::format("expects a list of {} integers, not {}", n, item.repr()));
    const std::int64_t i = item.get<std::int64_t>();
    if (i < lo || i > hi) kw.fail(key, fmt::format("expects integers from {} to {}, not {}", lo, hi, i));
    out.push_back(i);
  }
  return out;
}

// The most resolution levels for which no tile of the grid has, at a
// level the wavelet transforms, an extent along one axis of one sample at
// an odd coordinate (or none): [a0, a1) is the image's extent, t0 the grid's origin, t the
// tile size.
int safe_axis(std::int64_t a0, std::int64_t a1, std::int64_t t0, std::int64_t t) {
  int best = 32;
  for (std::int64_t start = t0; start < a1; start += t) {
    const std::int64_t lo = std::max(start, a0), hi = std::min(start + t, a1);
    if (lo >= hi) continue;
    for (int level = 0; level < best - 1; ++level) {  // transform `level + 1` works on resolution `level`'s extent
      const std::int64_t d = std::int64_t{1} << level;
      const std::int64_t s = (lo + d - 1) / d, e = (hi + d - 1) / d;
      if (e - s <= 1 && (s & 1) == 1) {
        best = level + 1;
        break;
      }
    }
  }
  return best;
}

int safe_resolutions(std::int64_t x0, std::int64_t x1, std::int64_t tx, std::int64_t tw, std::int64_t y0, std::int64_t y1, std::int64_t ty,
                     std::int64_t th) {
  return std::min(safe_axis(x0, x1, tx, tw), safe_axis(y0, y1, ty, th));
}

bool is_power_of_two(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// The one image to write: a batch of one is that image.
Layout layout_of(std::span<const NDArray> images, bool listed, const std::optional<bool>& is_batch) {
  if (images.size() != 1) throw ArgumentError(fmt::format("a JPEG 2000 file holds one image; cannot write {} images", images.size()));
  const NDArray& a = images.front();
  if (a.bytes() == nullptr && a.size() != 0) throw ArgumentError("cannot write an empty NDArray");
  Shape s = a.shape();
  const bool batch = listed ? false : is_batch.value_or(s.size() == 4);
  if (batch) {
    if (s.empty() || s[0] != 1) {
      throw ArgumentError(fmt::format("a JPEG 2000 file holds one image; cannot write a batch of {} images", s.empty() ? 0 : s[0]));
    }
    s.erase(s.begin());
  }
  if (s.size() != 2 && s.size() != 3) {
    throw ArgumentError(fmt::format("JPEG 2000 images are (H, W) or (H, W, C) arrays; got shape {}", shape_text(a.shape())));
  }
  Layout l;
  l.image = &a;
  l.height = s[0];
  l.width = s[1];
  l.channels = s.size() == 3 ? s[2] : 1;
  if (l.height == 0 || l.width == 0 || l.channels == 0) throw ArgumentError(fmt::format("cannot write an empty image of shape {}", shape_text(a.shape())));
  if (l.channels > 16384) throw ArgumentError(fmt::format("a JPEG 2000 image has at most 16384 components; got {}", l.channels));
  switch (a.dtype()) {
    case DType::bool_: l.bits = 1; break;
    case DType::uint8: l.bits = 8; break;
    case DType::int8: l.bits = 8; l.is_signed = true; break;
    case DType::uint16: l.bits = 16; break;
    case DType::int16: l.bits = 16; l.is_signed = true; break;
    default:
      throw ArgumentError(fmt::format("JPEG 2000 stores integer samples: uint8, uint16, int8, int16 or bool arrays (got {}; scale other types first)",
                                      name(a.dtype())));
  }
  return l;
}

template <class T>
void check_fits(const T* p, std::size_t n, const Layout& l, KwargReader& kw) {
  const std::int64_t lo = l.is_signed ? -(std::int64_t{1} << (l.bits - 1)) : 0;
  const std::int64_t hi = l.is_signed ? (std::int64_t{1} << (l.bits - 1)) - 1 : (std::int64_t{1} << l.bits) - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t v = p[i];
    if (v < lo || v > hi) kw.fail("bit_depth", fmt::format("the array holds {}, outside the {} range of {}-bit samples; pass a larger bit_depth or scale the values",
                                                           v, l.is_signed ? "signed" : "unsigned", l.bits));
  }
}

template <class T>
void fill_planes(const T* src, const Layout& l, opj_image_t& img) {
  const std::size_t pixels = l.height * l.width, n = l.channels;
  for (std::size_t c = 0; c < n; ++c) {
    OPJ_INT32* d = img.comps[c].data;
    const T* s = src + c;
    for (std::size_t i = 0; i < pixels; ++i) d[i] = static_cast<OPJ_INT32>(s[i * n]);
  }
}

struct Options {
  bool codestream = false;
  OPJ_PROG_ORDER progression = OPJ_LRCP;
  std::vector<float> layers;
  bool db = false;
  bool irreversible = false;
  std::optional<int> resolutions;
  std::optional<std::vector<std::int64_t>> tile_size, tile_offset, offset, codeblock, precinct;
  std::optional<int> mct;
  bool plt = false, tlm = false;
  std::optional<std::string> comment;
  std::optional<Bytes> icc;
  std::optional<std::vector<double>> dpi;
  int threads = 0;
};

Options read_options(KwargReader& kw, const Request& request) {
  Options o;
  const std::string ext = request.extension();
  o.codestream = kw.get<bool>("no_jp2") || ext == ".j2k" || ext == ".j2c" || ext == ".jpc";
  const std::string prog = kw.get<std::string>("progression");
  o.progression = prog == "RLCP" ? OPJ_RLCP : prog == "RPCL" ? OPJ_RPCL : prog == "PCRL" ? OPJ_PCRL : prog == "CPRL" ? OPJ_CPRL : OPJ_LRCP;
  o.db = kw.get<std::string>("quality_mode") == "dB";
  const auto layers = kw.take<Value::List>("quality_layers");
  const auto rate = kw.take<double>("rate");
  if (layers && rate) kw.fail("rate", "is a shorthand for quality_layers=[rate]; give one of them");
  if (rate) {
    if (o.db) kw.fail("rate", "is a compression ratio; with quality_mode='dB' give quality_layers");
    o.layers.push_back(static_cast<float>(*rate));
  }
  if (layers) {
    if (layers->empty() || layers->size() > 100) kw.fail("quality_layers", "expects 1 to 100 numbers");
    for (const Value& v : *layers) {
      if (!v.is<std::int64_t>() && !v.is<double>()) kw.fail("quality_layers", fmt::format("must be a sequence of numbers, not {}", v.repr()));
      const double d = v.get<double>();
      if (!(d >= 0 && d < 1e6)) kw.fail("quality_layers", fmt::format("holds {}; ratios and PSNRs are from 0 (lossless) up", v.repr()));
      o.layers.push_back(static_cast<float>(d));
    }
    // OpenJPEG needs the layers in order: ratios decreasing, PSNRs
    // increasing; 0 (and a ratio of 1) means lossless, the last layer.
    for (std::size_t i = 0; i + 1 < o.layers.size(); ++i) {
      const float a = o.layers[i], b = o.layers[i + 1];
      const bool a_lossless = o.db ? a == 0 : a <= 1, b_lossless = o.db ? b == 0 : b <= 1;
      if (a_lossless || (!b_lossless && (o.db ? b <= a : b >= a))) {
        kw.fail("quality_layers", o.db ? "PSNRs must increase from layer to layer (0, lossless, only last)"
                                       : "compression ratios must decrease from layer to layer (1 or 0, lossless, only last)");
      }
    }
  }
  o.irreversible = kw.get<bool>("irreversible");
  o.resolutions = kw.take<int>("num_resolutions");
  o.tile_size = int_list(kw, "tile_size", 2, 1, 0x7fffffff);
  o.tile_offset = int_list(kw, "tile_offset", 2, 0, 0x7fffffff);
  o.offset = int_list(kw, "offset", 2, 0, 0x7fffffff);
  o.codeblock = int_list(kw, "codeblock_size", 2, 4, 1024);
  if (o.codeblock && (!is_power_of_two((*o.codeblock)[0]) || !is_power_of_two((*o.codeblock)[1]) || (*o.codeblock)[0] * (*o.codeblock)[1] > 4096)) {
    kw.fail("codeblock_size", "expects powers of two from 4 to 1024 whose product is at most 4096");
  }
  o.precinct = int_list(kw, "precinct_size", 2, 1, 1 << 15);
  if (o.precinct) {
    const auto cb = o.codeblock.value_or(std::vector<std::int64_t>{64, 64});
    if (!is_power_of_two((*o.precinct)[0]) || !is_power_of_two((*o.precinct)[1])) kw.fail("precinct_size", "expects powers of two");
    if ((*o.precinct)[0] < cb[0] || (*o.precinct)[1] < cb[1]) kw.fail("precinct_size", "must be at least the code-block size");
  }
  o.mct = kw.take<int>("mct");
  o.plt = kw.get<bool>("plt");
  o.tlm = kw.get<bool>("tlm");
  if (const Value* c = kw.find("comment"); c != nullptr && !c->is_none()) {
    o.comment = c->is<Bytes>() ? std::string(reinterpret_cast<const char*>(c->ref<Bytes>().data()), c->ref<Bytes>().size()) : c->get<std::string>();
    if (o.comment->find('\0') != std::string::npos) kw.fail("comment", "cannot hold a NUL byte");
    if (o.comment->size() > 65000) kw.fail("comment", "holds at most 65000 bytes (one COM marker segment)");
  }
  o.icc = kw.take<Bytes>("icc_profile");
  if (const auto dpi = kw.take<Value::List>("dpi")) {
    if (dpi->size() != 2) kw.fail("dpi", "expects [x, y]");
    std::vector<double> d;
    for (const Value& v : *dpi) {
      if (!v.is<std::int64_t>() && !v.is<double>()) kw.fail("dpi", "expects two numbers");
      const double x = v.get<double>();
      if (!(x > 0 && x < 1e12)) kw.fail("dpi", fmt::format("expects positive numbers, not {}", v.repr()));
      d.push_back(x);
    }
    o.dpi = d;
  }
  if (o.codestream && o.icc) kw.fail("icc_profile", "is stored in a JP2 file's colr box; a raw codestream (.j2k, no_jp2) has none");
  if (o.codestream && o.dpi) kw.fail("dpi", "is stored in a JP2 file's res box; a raw codestream (.j2k, no_jp2) has none");
  o.threads = kw.get<int>("threads");
  return o;
}

}  // namespace

std::vector<std::byte> encode(std::span<const NDArray> images, bool listed, const Kwargs& kwargs, const Request& request) {
  KwargReader kw(kwargs, kPlugin, "write");
  Layout l = layout_of(images, listed, kw.take<bool>("is_batch"));
  Options o = read_options(kw, request);
  if (const auto bits = kw.take<int>("bit_depth")) {
    const int most = l.image->dtype() == DType::bool_ ? 1 : itemsize(l.image->dtype()) * 8;
    if (*bits > most) kw.fail("bit_depth", fmt::format("is at most {} for a {} array", most, name(l.image->dtype())));
    if (l.is_signed && *bits < 2) kw.fail("bit_depth", "is at least 2 for signed samples");
    l.bits = *bits;
  }
  const std::size_t pixels = l.height * l.width, samples = pixels * l.channels;
  switch (l.image->dtype()) {
    case DType::uint8: check_fits(l.image->data<std::uint8_t>(), samples, l, kw); break;
    case DType::uint16: check_fits(l.image->data<std::uint16_t>(), samples, l, kw); break;
    case DType::int8: check_fits(l.image->data<std::int8_t>(), samples, l, kw); break;
    case DType::int16: check_fits(l.image->data<std::int16_t>(), samples, l, kw); break;
    default: break;
  }

  // The reference grid: the image at `offset`, tiles from `tile_offset`.
  const std::int64_t ox = o.offset ? (*o.offset)[0] : 0, oy = o.offset ? (*o.offset)[1] : 0;
  if (ox + std::int64_t(l.width) > 0x7fffffff || oy + std::int64_t(l.height) > 0x7fffffff) {
    throw ArgumentError("the image with its offset exceeds OpenJPEG's reference grid (2^31 - 1)");
  }
  const std::int64_t tx = o.tile_offset ? (*o.tile_offset)[0] : 0, ty = o.tile_offset ? (*o.tile_offset)[1] : 0;
  std::int64_t tw = ox + std::int64_t(l.width) - tx, th = oy + std::int64_t(l.height) - ty;  // one tile: OpenJPEG's cp_tdx
  if (o.tile_size) {
    tw = (*o.tile_size)[0];
    th = (*o.tile_size)[1];
  }
  if (tx > ox || ty > oy || tx + tw <= ox || ty + th <= oy) {
    kw.fail("tile_offset", fmt::format("[{}, {}] with tiles of {} x {} must place the first tile over the image origin [{}, {}]", tx, ty, tw, th, ox, oy));
  }
  const std::int64_t tiles = ((ox + std::int64_t(l.width) - tx + tw - 1) / tw) * ((oy + std::int64_t(l.height) - ty + th - 1) / th);
  if (tiles > 65535) kw.fail("tile_size", fmt::format("makes {} tiles; a codestream holds at most 65535", tiles));
  // 2^(levels - 1) ≤ the tile's sides (OpenJPEG's encoding check).
  int most = 1;
  while (most < 32 && (std::int64_t{1} << most) <= std::min(tw, th)) ++most;
  // OpenJPEG 2.5's encoder mishandles a tile whose extent along one axis
  // is one sample at an odd coordinate at a level it transforms (the edge
  // tiles of a grid with a tile offset, a tiny image at an odd offset):
  // the 9/7 transform codes wrong samples or fails an assertion (abort),
  // the 5/3 one goes wrong at the next level. Only the levels before it
  // are used (measured with opj_compress 2.5.0: -d 7,9 -T 3,1 -t 32,32 -I
  // is wrong with -n 5 and 6, right with -n 4; -d 7,9 -T 7,9 -I aborts).
  const int safe = std::min(most, safe_resolutions(ox, ox + std::int64_t(l.width), tx, tw, oy, oy + std::int64_t(l.height), ty, th));
  int resolutions = std::min(6, safe);
  if (o.resolutions) {
    if (*o.resolutions > most) {
      kw.fail("num_resolutions", fmt::format("is at most {} for tiles of {} x {} (2^(levels-1) must fit a tile side)", most, tw, th));
    }
    if (*o.resolutions > safe) {
      kw.fail("num_resolutions", fmt::format("is at most {} here: with more, a tile of this grid has a row or column of one sample at an odd "
                                             "position at a level the wavelet transforms, which OpenJPEG 2.5 encodes wrongly (or aborts on); "
                                             "use a tile_offset of [0, 0] or fewer levels",
                                             safe));
    }
    resolutions = *o.resolutions;
  }
  const int mct = o.mct.value_or(l.channels >= 3 ? 1 : 0);
  if (mct == 1 && l.channels < 3) kw.fail("mct", "transforms the first three components; the image has fewer");

  opj_cparameters_t cp;
  opj_set_default_encoder_parameters(&cp);
  cp.tcp_numlayers = 1;
  cp.tcp_rates[0] = 0;
  cp.cp_disto_alloc = 1;
  if (!o.layers.empty()) {
    cp.tcp_numlayers = static_cast<int>(o.layers.size());
    cp.cp_disto_alloc = o.db ? 0 : 1;
    cp.cp_fixed_quality = o.db ? 1 : 0;
    for (std::size_t i = 0; i < o.layers.size(); ++i) {
      if (o.db) cp.tcp_distoratio[i] = o.layers[i];
      else cp.tcp_rates[i] = o.layers[i] <= 1 ? 0 : o.layers[i];
    }
  }
  cp.irreversible = o.irreversible ? 1 : 0;
  cp.numresolution = resolutions;
  cp.prog_order = o.progression;
  cp.tcp_mct = static_cast<char>(mct);
  cp.image_offset_x0 = static_cast<int>(ox);
  cp.image_offset_y0 = static_cast<int>(oy);
  if (o.tile_size || o.tile_offset) {
    cp.tile_size_on = OPJ_TRUE;
    cp.cp_tx0 = static_cast<int>(tx);
    cp.cp_ty0 = static_cast<int>(ty);
    cp.cp_tdx = static_cast<int>(tw);
    cp.cp_tdy = static_cast<int>(th);
  }
  if (o.codeblock) {
    cp.cblockw_init = static_cast<int>((*o.codeblock)[0]);
    cp.cblockh_init = static_cast<int>((*o.codeblock)[1]);
  }
  if (o.precinct) {
    cp.res_spec = 1;
    cp.prcw_init[0] = static_cast<int>((*o.precinct)[0]);
    cp.prch_init[0] = static_cast<int>((*o.precinct)[1]);
    cp.csty |= 0x01;
  }
  std::string comment = o.comment.value_or("");
  if (o.comment) cp.cp_comment = comment.data();

  std::vector<opj_image_cmptparm_t> params(l.channels);
  for (opj_image_cmptparm_t& p : params) {
    std::memset(&p, 0, sizeof p);
    p.dx = p.dy = 1;
    p.w = static_cast<OPJ_UINT32>(l.width);
    p.h = static_cast<OPJ_UINT32>(l.height);
    p.x0 = static_cast<OPJ_UINT32>(ox);
    p.y0 = static_cast<OPJ_UINT32>(oy);
    p.prec = static_cast<OPJ_UINT32>(l.bits);
    p.sgnd = l.is_signed ? 1 : 0;
  }
  const OPJ_COLOR_SPACE space = l.channels <= 2 ? OPJ_CLRSPC_GRAY : l.channels <= 4 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_UNSPECIFIED;
  ImagePtr image(opj_image_create(static_cast<OPJ_UINT32>(l.channels), params.data(), space));
  if (!image) throw EncodeError(fmt::format("OpenJPEG could not allocate the {} x {} x {} image", l.height, l.width, l.channels));
  image->x0 = static_cast<OPJ_UINT32>(ox);
  image->y0 = static_cast<OPJ_UINT32>(oy);
  image->x1 = static_cast<OPJ_UINT32>(ox + std::int64_t(l.width));
  image->y1 = static_cast<OPJ_UINT32>(oy + std::int64_t(l.height));
  // Gray + alpha and RGB + alpha: the last component is opacity (a cdef box in JP2).
  if (l.channels == 2 || l.channels == 4) image->comps[l.channels - 1].alpha = 1;
  switch (l.image->dtype()) {
    case DType::bool_: fill_planes(l.image->data<bool>(), l, *image); break;
    case DType::uint8: fill_planes(l.image->data<std::uint8_t>(), l, *image); break;
    case DType::uint16: fill_planes(l.image->data<std::uint16_t>(), l, *image); break;
    case DType::int8: fill_planes(l.image->data<std::int8_t>(), l, *image); break;
    case DType::int16: fill_planes(l.image->data<std::int16_t>(), l, *image); break;
    default: break;
  }
  // The ICC profile goes into the colr box after encoding: OpenJPEG 2.5
  // announces a method-2 colr box for an image with a profile but never
  // copies the profile into it (jp2.c asserts, or writes an empty box).
  Messages messages;
  CodecPtr codec = make_encoder(o.codestream ? OPJ_CODEC_J2K : OPJ_CODEC_JP2, messages);
  if (!opj_setup_encoder(codec.get(), &cp, image.get())) throw EncodeError(messages.text("OpenJPEG refused the encoding parameters"));
  std::vector<const char*> extra;
  if (o.plt) extra.push_back("PLT=YES");
  if (o.tlm) extra.push_back("TLM=YES");
  extra.push_back(nullptr);
  if (extra.size() > 1 && !opj_encoder_set_extra_options(codec.get(), extra.data())) {
    throw EncodeError(messages.text("OpenJPEG refused the PLT/TLM options"));
  }
  opj_codec_set_threads(codec.get(), thread_count(o.threads));
  MemoryOutput out;
  StreamPtr stream = make_output_stream(out);
  if (!opj_start_compress(codec.get(), image.get(), stream.get()) || !opj_encode(codec.get(), stream.get()) ||
      !opj_end_compress(codec.get(), stream.get())) {
    throw EncodeError(messages.text("OpenJPEG could not encode the image"));
  }
  stream.reset();
  const bool icc = o.icc && !o.icc->empty();
  if (icc || o.dpi) {
    const std::vector<std::byte> res = o.dpi ? resolution_box((*o.dpi)[0], (*o.dpi)[1]) : std::vector<std::byte>{};
    return edit_jp2h(out.data, icc ? std::span<const std::byte>(*o.icc) : std::span<const std::byte>{}, res);
  }
  return std::move(out.data);
}

}  // namespace imio::openjpeg
