// Writing through libtiff into memory: libtiff seeks back to link
// directories, so the file is assembled in a buffer and handed to the sink
// at close() (the core then renames it over the target, atomically).
#include "tiff_writer.hpp"

#include <imio/exif.hpp>
#include <imio/json.hpp>
#include <imio/metadata_write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tiffio.h>

#include "tiff_exif_write.hpp"
#include "tiff_messages.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";
// ---------------------------------------------------------------- memory file

struct MemoryFile {
  Bytes data;
  std::uint64_t pos = 0;
  std::string error;
};

extern "C" tmsize_t mem_read(thandle_t h, void* buf, tmsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  if (f->pos >= f->data.size()) return 0;
  const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(n), f->data.size() - f->pos));
  std::memcpy(buf, f->data.data() + f->pos, k);
  f->pos += k;
  return static_cast<tmsize_t>(k);
}

extern "C" tmsize_t mem_write(thandle_t h, void* buf, tmsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  try {
    const std::size_t k = static_cast<std::size_t>(n);
    if (f->data.size() < f->pos + k) f->data.resize(static_cast<std::size_t>(f->pos + k));
    std::memcpy(f->data.data() + f->pos, buf, k);
    f->pos += k;
    return n;
  } catch (const std::exception& e) {
    if (f->error.empty()) f->error = e.what();
    return -1;
  }
}

extern "C" toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  if (whence == SEEK_SET) f->pos = off;
  else if (whence == SEEK_CUR) f->pos += off;
  else f->pos = f->data.size() + off;
  return f->pos;
}

extern "C" int mem_close(thandle_t) { return 0; }
extern "C" toff_t mem_size(thandle_t h) { return static_cast<MemoryFile*>(h)->data.size(); }
extern "C" int mem_map(thandle_t, void**, toff_t*) { return 0; }
extern "C" void mem_unmap(thandle_t, void*, toff_t) {}

// ---------------------------------------------------------------- options

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::uint16_t parse_compression(KwargReader& kw, const Value* v) {
  if (v == nullptr || v->is_none()) return COMPRESSION_NONE;
  if (v->is<std::int64_t>()) return v->get<std::uint16_t>();
  if (v->is<bool>()) return v->get<bool>() ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE;
  const std::string s = lower(v->get<std::string>());
  if (s == "none") return COMPRESSION_NONE;
  if (s == "zlib" || s == "deflate" || s == "adobe_deflate") return COMPRESSION_ADOBE_DEFLATE;
  if (s == "lzw") return COMPRESSION_LZW;
  if (s == "packbits") return COMPRESSION_PACKBITS;
  if (s == "jpeg") return COMPRESSION_JPEG;
  if (s == "zstd") return COMPRESSION_ZSTD;
  if (s == "lzma") return COMPRESSION_LZMA;
  if (s == "webp") return COMPRESSION_WEBP;
  kw.fail("compression", fmt::format("unknown compression '{}' (none, zlib, deflate, lzw, packbits, jpeg, zstd, lzma, webp)", s));
}

std::uint16_t parse_predictor(KwargReader& kw, const Value* v) {
  if (v == nullptr || v->is_none()) return PREDICTOR_NONE;
  if (v->is<bool>()) return v->get<bool>() ? PREDICTOR_HORIZONTAL : PREDICTOR_NONE;
  if (v->is<std::int64_t>()) {
    const auto p = v->get<std::int64_t>();
    if (p >= 1 && p <= 3) return static_cast<std::uint16_t>(p);
    kw.fail("predictor", fmt::format("predictor {} is not 1, 2 or 3", p));
  }
  const std::string s = lower(v->get<std::string>());
  if (s == "none") return PREDICTOR_NONE;
  if (s == "horizontal") return PREDICTOR_HORIZONTAL;
  if (s == "float" || s == "floatingpoint") return PREDICTOR_FLOATINGPOINT;
  kw.fail("predictor", fmt::format("unknown predictor '{}' (horizontal, float)", s));
}

std::optional<std::uint16_t> parse_photometric(KwargReader& kw, const Value* v) {
  if (v == nullptr || v->is_none()) return std::nullopt;
  if (v->is<std::int64_t>()) return v->get<std::uint16_t>();
  const std::string s = lower(v->get<std::string>());
  if (s == "minisblack") return PHOTOMETRIC_MINISBLACK;
  if (s == "miniswhite") return PHOTOMETRIC_MINISWHITE;
  if (s == "rgb") return PHOTOMETRIC_RGB;
  if (s == "palette") return PHOTOMETRIC_PALETTE;
  if (s == "separated" || s == "cmyk") return PHOTOMETRIC_SEPARATED;
  kw.fail("photometric", fmt::format("unknown photometric '{}' (minisblack, miniswhite, rgb, palette, separated)", s));
}

std::optional<std::uint16_t> parse_planar(KwargReader& kw, const Value* v) {
  if (v == nullptr || v->is_none()) return std::nullopt;
  if (v->is<std::int64_t>()) {
    const auto p = v->get<std::int64_t>();
    if (p == 1 || p == 2) return static_cast<std::uint16_t>(p);
  } else {
    const std::string s = lower(v->get<std::string>());
    if (s == "contig") return PLANARCONFIG_CONTIG;
    if (s == "separate") return PLANARCONFIG_SEPARATE;
  }
  kw.fail("planarconfig", "expected 'contig' or 'separate'");
}

// A resolution number: a float, or a (numerator, denominator) pair.
double parse_ratio(KwargReader& kw, const Value& v) {
  if (v.is<Value::List>()) {
    const auto& l = v.ref<Value::List>();
    if (l.size() != 2 || l[1].get<double>() == 0) kw.fail("resolution", "a pair must be (numerator, denominator)");
    return l[0].get<double>() / l[1].get<double>();
  }
  return v.get<double>();
}

std::string parse_datetime(KwargReader& kw, const Value* v) {
  if (v == nullptr || v->is_none()) return {};
  if (v->is<bool>()) {
    if (!v->get<bool>()) return {};
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y:%m:%d %H:%M:%S", &tm);
    return buf;
  }
  const std::string s = v->get<std::string>();
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  char sep1 = 0, sep2 = 0, t = 0;
  if (std::sscanf(s.c_str(), "%4d%c%2d%c%2d%c%2d:%2d:%2d", &y, &sep1, &mo, &sep2, &d, &t, &h, &mi, &se) == 9 &&
      sep1 == sep2 && (sep1 == ':' || sep1 == '-') && (t == ' ' || t == 'T')) {
    return fmt::format("{:04}:{:02}:{:02} {:02}:{:02}:{:02}", y, mo, d, h, mi, se);
  }
  kw.fail("datetime", fmt::format("'{}' is not a date-time (YYYY:MM:DD HH:MM:SS or ISO 8601)", s));
}

struct WriteArgs {
  bool is_batch = false;
  std::uint16_t compression = COMPRESSION_NONE;
  std::optional<Dict> compressionargs;
  std::uint16_t predictor = PREDICTOR_NONE;
  std::optional<std::uint16_t> photometric, planar;
  std::optional<std::array<std::uint32_t, 2>> tile;
  std::optional<std::uint32_t> rowsperstrip;
  std::optional<std::array<double, 2>> resolution;
  std::optional<std::uint16_t> resolutionunit;
  std::optional<std::string> description;
  std::string software = "tifffile.py";
  std::string datetime;
  bool shaped = true;           // write the JSON shape description
  std::optional<Dict> metadata;  // extra entries of the JSON description
  std::optional<Value::List> colormap;
  std::vector<std::uint16_t> extrasamples;
  bool extrasamples_given = false;
  std::optional<Bytes> xmp, iptc, icc_profile;  // tags 700, 33723, 34675 of the first page
  std::optional<Dict> exif;                      // read_exif_tags's form: its IFDs go with the first page
  std::optional<int> orientation;                // tag 274 of the first page
  std::set<std::uint16_t> exif_replaceable;      // tags holding the writer's default, which the EXIF's IFD0 replaces
};

WriteArgs parse_write_args(const Kwargs& kwargs, bool shaped_default) {
  KwargReader kw(kwargs, kPlugin, "write");
  WriteArgs a;
  a.is_batch = kw.get<bool>("is_batch");
  a.compression = parse_compression(kw, kw.find("compression"));
  if (a.compression != COMPRESSION_NONE && !TIFFIsCODECConfigured(a.compression)) {
    kw.fail("compression", fmt::format("compression {} is not built into this libtiff", a.compression));
  }
  a.compressionargs = kw.take<Dict>("compressionargs");
  a.predictor = parse_predictor(kw, kw.find("predictor"));
  a.photometric = parse_photometric(kw, kw.find("photometric"));
  a.planar = parse_planar(kw, kw.find("planarconfig"));
  if (auto t = kw.take<Value::List>("tile")) {
    if (t->size() != 2) kw.fail("tile", "expected (tile_length, tile_width)");
    const auto th = (*t)[0].get<std::uint32_t>(), tw = (*t)[1].get<std::uint32_t>();
    if (th == 0 || tw == 0 || th % 16 != 0 || tw % 16 != 0) kw.fail("tile", "tile sizes must be positive multiples of 16");
    a.tile = std::array<std::uint32_t, 2>{th, tw};
  }
  a.rowsperstrip = kw.take<std::uint32_t>("rowsperstrip");  // plugin.json: 1…2^32-1
  if (const Value* r = kw.find("resolution"); r != nullptr && !r->is_none()) {
    if (!r->is<Value::List>() || r->ref<Value::List>().size() != 2) kw.fail("resolution", "expected (x, y)");
    const auto& l = r->ref<Value::List>();
    a.resolution = std::array<double, 2>{parse_ratio(kw, l[0]), parse_ratio(kw, l[1])};
  }
  if (const Value* u = kw.find("resolutionunit"); u != nullptr && !u->is_none()) {
    if (u->is<std::int64_t>()) {
      const auto k = u->get<std::int64_t>();
      if (k < 1 || k > 3) kw.fail("resolutionunit", "expected 1 (none), 2 (inch) or 3 (centimeter)");
      a.resolutionunit = static_cast<std::uint16_t>(k);
    } else {
      const std::string s = lower(u->get<std::string>());
      if (s == "none") a.resolutionunit = RESUNIT_NONE;
      else if (s == "inch") a.resolutionunit = RESUNIT_INCH;
      else if (s == "centimeter" || s == "cm") a.resolutionunit = RESUNIT_CENTIMETER;
      else kw.fail("resolutionunit", "expected 'none', 'inch' or 'centimeter'");
    }
  }
  a.description = kw.take<std::string>("description");
  const Value* software = kw.find("software");
  if (software != nullptr) a.software = software->is_none() ? std::string() : software->get<std::string>();
  const Value* datetime = kw.find("datetime");
  a.datetime = parse_datetime(kw, datetime);
  // The EXIF's IFD0 replaces what the writer would write by default, not a
  // kwarg (docs/metadata.md, "EXIF in TIFF").
  if (!a.description) a.exif_replaceable.insert(TIFFTAG_IMAGEDESCRIPTION);
  if (software == nullptr) a.exif_replaceable.insert(TIFFTAG_SOFTWARE);
  if (datetime == nullptr) a.exif_replaceable.insert(TIFFTAG_DATETIME);
  if (!a.resolution) a.exif_replaceable.insert({TIFFTAG_XRESOLUTION, TIFFTAG_YRESOLUTION});
  if (!a.resolution && !a.resolutionunit) a.exif_replaceable.insert(TIFFTAG_RESOLUTIONUNIT);
  a.shaped = shaped_default;
  if (const Value* m = kw.find("metadata"); m != nullptr) {
    if (m->is_none()) a.shaped = false;
    else a.metadata = m->get<Dict>();
  }
  a.colormap = kw.take<Value::List>("colormap");
  if (auto e = kw.take<Value::List>("extrasamples")) {
    a.extrasamples_given = true;
    for (const Value& v : *e) a.extrasamples.push_back(v.get<std::uint16_t>());
  }
  a.xmp = take_xmp_kwarg(kw);
  a.iptc = take_iptc_kwarg(kw);
  a.icc_profile = take_icc_kwarg(kw);
  std::optional<Bytes> exif = take_exif_kwarg(kw);
  // One orientation (<imio/metadata_write.hpp>): the kwarg, else the EXIF's.
  a.orientation = reconcile_orientation(exif, kw.take<int>("orientation"), false);
  if (exif) {
    try {
      a.exif = read_exif_tags(*exif);
    } catch (const DecodeError& e) {
      kw.fail("exif", e.reason());
    }
  }
  kw.finish();
  return a;
}

// ---------------------------------------------------------------- layout

// How one array becomes pages (spec §5.3.4).
struct Layout {
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  std::uint32_t width = 0, height = 0;
  std::uint16_t spp = 1;
  std::size_t pages = 1;
  std::uint16_t bps = 8, sample_format = SAMPLEFORMAT_UINT;
};

Layout layout_of(const Shape& shape, DType dtype, const WriteArgs& a) {
  if (shape.empty()) throw ArgumentError("cannot write a 0-dimensional array as TIFF");
  Layout l;
  Shape s = shape;
  if (s.size() == 1) s.insert(s.begin(), 1);
  const std::size_t nd = s.size();
  const auto last = s.back();
  const auto third = nd >= 3 ? s[nd - 3] : 0;
  std::optional<std::uint16_t> planar = a.planar;
  l.photometric = a.photometric.value_or(PHOTOMETRIC_MINISBLACK);
  if (!a.photometric && !a.planar && nd >= 3) {
    // imageio's defaults: a trailing 3/4 axis is RGB(A), else a third-from-last one is planar RGB.
    if (last == 3 || last == 4) {
      l.photometric = PHOTOMETRIC_RGB;
      planar = PLANARCONFIG_CONTIG;
    } else if (third == 3 || third == 4) {
      l.photometric = PHOTOMETRIC_RGB;
      planar = PLANARCONFIG_SEPARATE;
    }
  }
  if (!planar && (l.photometric == PHOTOMETRIC_RGB || l.photometric == PHOTOMETRIC_SEPARATED)) {
    const std::size_t want = l.photometric == PHOTOMETRIC_RGB ? 3 : 4;
    if (nd >= 3 && last >= want && last <= 8) planar = PLANARCONFIG_CONTIG;
    else if (nd >= 3 && third >= want && third <= 8) planar = PLANARCONFIG_SEPARATE;
    else throw ArgumentError(fmt::format("photometric {} needs a sample axis of at least {} (shape ({}))", l.photometric, want, fmt::join(shape, ", ")));
  }
  const std::size_t colour = l.photometric == PHOTOMETRIC_RGB ? 3 : l.photometric == PHOTOMETRIC_SEPARATED ? 4 : 1;
  // Gray or palette with extrasamples (gray + alpha): the trailing axis of
  // 1 + len(extrasamples) holds the samples, as tifffile infers it.
  if (!planar && colour == 1 && !a.extrasamples.empty() && nd >= 3 && last == 1 + a.extrasamples.size()) {
    planar = PLANARCONFIG_CONTIG;
  }
  std::size_t page_dims = 2;
  if (planar && nd >= 3) {
    l.planar = *planar;
    l.spp = static_cast<std::uint16_t>(std::min<std::size_t>(*planar == PLANARCONFIG_CONTIG ? last : third, 0xFFFF));
    page_dims = 3;
  }
  if (l.planar == PLANARCONFIG_CONTIG && page_dims == 3) {
    l.height = static_cast<std::uint32_t>(s[nd - 3]);
    l.width = static_cast<std::uint32_t>(s[nd - 2]);
  } else {
    l.height = static_cast<std::uint32_t>(s[nd - 2]);
    l.width = static_cast<std::uint32_t>(s[nd - 1]);
  }
  if (l.spp == 1) l.planar = PLANARCONFIG_CONTIG;
  // A page whose ExtraSamples leave fewer samples than the photometric's
  // colour samples is not a valid TIFF (readers refuse it): refuse to write it.
  if (a.extrasamples_given && l.spp < colour + a.extrasamples.size()) {
    throw ArgumentError(fmt::format("extrasamples lists {} extra sample(s), but the pages have {} sample(s) of which "
                                    "photometric {} needs {} (shape ({}))",
                                    a.extrasamples.size(), l.spp, l.photometric, colour, fmt::join(shape, ", ")));
  }
  for (std::size_t i = 0; i + page_dims < nd; ++i) l.pages *= s[i];
  for (std::size_t i = nd - page_dims; i < nd; ++i) {
    if (s[i] > 0xFFFFFFFFu) throw ArgumentError("an image axis exceeds TIFF's 2**32 - 1");
  }
  switch (dtype) {
    case DType::bool_: l.bps = 1; break;
    case DType::uint8: break;
    case DType::int8: l.sample_format = SAMPLEFORMAT_INT; break;
    case DType::uint16: l.bps = 16; break;
    case DType::int16: l.bps = 16; l.sample_format = SAMPLEFORMAT_INT; break;
    case DType::uint32: l.bps = 32; break;
    case DType::int32: l.bps = 32; l.sample_format = SAMPLEFORMAT_INT; break;
    case DType::uint64: l.bps = 64; break;
    case DType::int64: l.bps = 64; l.sample_format = SAMPLEFORMAT_INT; break;
    case DType::float16: l.bps = 16; l.sample_format = SAMPLEFORMAT_IEEEFP; break;
    case DType::float32: l.bps = 32; l.sample_format = SAMPLEFORMAT_IEEEFP; break;
    case DType::float64: l.bps = 64; l.sample_format = SAMPLEFORMAT_IEEEFP; break;
  }
  return l;
}

// ---------------------------------------------------------------- the writer

class TiffWriter final : public Plugin {
 public:
  TiffWriter(Request& request, bool bigtiff, bool big_endian, bool imagej, bool shaped)
      : request_(request), bigtiff_(bigtiff), big_endian_(big_endian), imagej_(imagej), shaped_(shaped) {}

  ~TiffWriter() override {
    if (tif_ != nullptr) {
      ErrorScope scope(file_.error);
      TIFFCleanup(tif_);
    }
  }

  void write(const NDArray& image, const Kwargs& kwargs) override {
    const WriteArgs a = parse_write_args(kwargs, shaped_);
    check(image);
    if (a.is_batch) {
      if (image.ndim() < 1) throw ArgumentError("is_batch=true needs a leading batch axis");
      const Shape inner(image.shape().begin() + 1, image.shape().end());
      const std::size_t step = image.shape()[0] == 0 ? 0 : image.nbytes() / image.shape()[0];
      start(image.nbytes());
      for (std::size_t i = 0; i < image.shape()[0]; ++i) write_series(image.bytes() + i * step, inner, image.dtype(), a);
      return;
    }
    start(image.nbytes());
    write_series(image.bytes(), image.shape(), image.dtype(), a);
  }

  // Equal arrays form one series (stacked, as imageio does) unless is_batch;
  // arrays of different shapes become one series each.
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    const WriteArgs a = parse_write_args(kwargs, shaped_);
    std::uint64_t total = 0;
    bool same = true;
    for (const NDArray& im : images) {
      check(im);
      total += im.nbytes();
      same = same && im.shape() == images.front().shape() && im.dtype() == images.front().dtype();
    }
    start(total);
    if (!a.is_batch && same) {
      const NDArray stacked = NDArray::stack(images);
      write_series(stacked.bytes(), stacked.shape(), stacked.dtype(), a);
      return;
    }
    for (const NDArray& im : images) write_series(im.bytes(), im.shape(), im.dtype(), a);
  }

  void close() override {
    if (tif_ == nullptr) return;
    {
      ErrorScope scope(file_.error);
      if (TIFFFlush(tif_) != 1) fail("cannot finish the file");
      TIFFCleanup(tif_);
      tif_ = nullptr;
    }
    if (exif_) add_exif(file_.data, *exif_);
    request_.sink().write(file_.data.data(), file_.data.size());
  }


 private:
  static void check(const NDArray& a) {
    if (a.bytes() == nullptr && a.size() != 0) throw ArgumentError("cannot write an empty (default-constructed) NDArray");
    if (a.ndim() == 0) throw ArgumentError("cannot write a 0-dimensional array as TIFF");
  }

  [[noreturn]] void fail(std::string_view what) {
    if (file_.error.empty()) throw EncodeError(std::string(what));
    throw EncodeError(fmt::format("{}: {}", what, file_.error));
  }

  // BigTIFF when asked for, or automatically when the data approach 4 GiB.
  void start(std::uint64_t data_bytes) {
    if (tif_ != nullptr) return;
    const bool big = bigtiff_ || data_bytes > (std::uint64_t{1} << 32) - (std::uint64_t{1} << 25);
    std::string mode = "w";
    if (big) mode += '8';
    mode += big_endian_ ? 'b' : 'l';
    ErrorScope scope(file_.error);
    TIFFOpenOptions* opts = make_open_options(&file_.error, request_.limits().max_bytes);
    tif_ = TIFFClientOpenExt("tiff", mode.c_str(), &file_, mem_read, mem_write, mem_seek, mem_close, mem_size, mem_map,
                             mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (tif_ == nullptr) fail("libtiff cannot create the file");
  }

  std::string imagej_description(const Shape& shape, const Layout& l, DType dtype) const {
    if (dtype != DType::uint8 && dtype != DType::uint16 && dtype != DType::float32) {
      throw ArgumentError(fmt::format("imagej=true stores uint8, uint16 or float32 only, not {}", name(dtype)));
    }
    const bool rgb = l.photometric == PHOTOMETRIC_RGB;
    if (rgb && (dtype != DType::uint8 || l.planar != PLANARCONFIG_CONTIG)) {
      throw ArgumentError("imagej=true stores RGB only as contiguous uint8");
    }
    const std::size_t image_dims = rgb ? 3 : 2;
    if (shape.size() > image_dims + 3) {
      throw ArgumentError(fmt::format("imagej=true stores at most 5 dimensions (TZCYX), got ({})", fmt::join(shape, ", ")));
    }
    // The leading axes are T, Z, C right-aligned: (Z, C, Y, X) has T = 1.
    std::array<std::size_t, 3> tzc{1, 1, 1};
    const std::size_t lead = shape.size() - image_dims;
    for (std::size_t i = 0; i < lead; ++i) tzc[3 - lead + i] = shape[i];
    std::string d = fmt::format("ImageJ=1.11a\nimages={}\n", tzc[0] * tzc[1] * tzc[2]);
    if (tzc[2] > 1) d += fmt::format("channels={}\n", tzc[2]);
    if (tzc[1] > 1) d += fmt::format("slices={}\n", tzc[1]);
    if (tzc[0] > 1) d += fmt::format("frames={}\n", tzc[0]);
    d += "hyperstack=true\n";
    if (!rgb) d += "mode=grayscale\n";
    if (tzc[0] > 1) d += "loop=false\n";
    return d;
  }

  std::string shape_description(const Shape& shape, const WriteArgs& a) const {
    Dict d;
    if (a.metadata) {
      for (const auto& [k, v] : *a.metadata) {
        if (k != "shape") d.set(k, v);
      }
    }
    Value::List s;
    for (const std::size_t x : shape) s.emplace_back(x);
    d.set("shape", std::move(s));
    return to_json(d, JsonStyle::strict);  // read back by tifffile's json.loads
  }

  void set_tags(const Layout& l, const WriteArgs& a, std::uint32_t rps, bool first_page, const std::string& description) {
    TIFF* t = tif_;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, l.width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, l.height);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, l.bps);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, l.spp);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, l.sample_format);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, l.planar);
    TIFFSetField(t, TIFFTAG_COMPRESSION, a.compression);
    const bool ycbcr = a.compression == COMPRESSION_JPEG && l.photometric == PHOTOMETRIC_RGB && l.spp == 3 &&
                       l.planar == PLANARCONFIG_CONTIG;
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, ycbcr ? PHOTOMETRIC_YCBCR : l.photometric);
    if (a.compression == COMPRESSION_JPEG) {
      if (ycbcr) TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
      if (a.compressionargs) {
        if (auto q = a.compressionargs->find<std::int64_t>("level")) TIFFSetField(t, TIFFTAG_JPEGQUALITY, static_cast<int>(*q));
      }
    } else if (a.compressionargs) {
      if (auto q = a.compressionargs->find<std::int64_t>("level")) {
        if (a.compression == COMPRESSION_ADOBE_DEFLATE) TIFFSetField(t, TIFFTAG_ZIPQUALITY, static_cast<int>(*q));
        if (a.compression == COMPRESSION_ZSTD) TIFFSetField(t, TIFFTAG_ZSTD_LEVEL, static_cast<int>(*q));
        if (a.compression == COMPRESSION_LZMA) TIFFSetField(t, TIFFTAG_LZMAPRESET, static_cast<int>(*q));
        if (a.compression == COMPRESSION_WEBP) TIFFSetField(t, TIFFTAG_WEBP_LEVEL, static_cast<int>(*q));
      }
    }
    if (a.predictor != PREDICTOR_NONE) TIFFSetField(t, TIFFTAG_PREDICTOR, a.predictor);
    if (a.tile) {
      TIFFSetField(t, TIFFTAG_TILELENGTH, (*a.tile)[0]);
      TIFFSetField(t, TIFFTAG_TILEWIDTH, (*a.tile)[1]);
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rps);
    }
    std::vector<std::uint16_t> extra = a.extrasamples;
    const std::uint16_t colour = l.photometric == PHOTOMETRIC_RGB ? 3 : l.photometric == PHOTOMETRIC_SEPARATED ? 4 : 1;
    if (!a.extrasamples_given && l.spp > colour) {
      extra.assign(l.spp - colour, EXTRASAMPLE_UNSPECIFIED);
      if (l.photometric == PHOTOMETRIC_RGB) extra[0] = EXTRASAMPLE_UNASSALPHA;
    }
    if (!extra.empty()) TIFFSetField(t, TIFFTAG_EXTRASAMPLES, static_cast<std::uint16_t>(extra.size()), extra.data());
    if (l.photometric == PHOTOMETRIC_PALETTE) set_colormap(l, a);
    if (l.photometric == PHOTOMETRIC_SEPARATED) TIFFSetField(t, TIFFTAG_INKSET, INKSET_CMYK);
    const double xr = a.resolution ? (*a.resolution)[0] : 1.0, yr = a.resolution ? (*a.resolution)[1] : 1.0;
    const std::uint16_t unit = a.resolutionunit.value_or(a.resolution ? RESUNIT_INCH : RESUNIT_NONE);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, xr);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, yr);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, unit);
    if (first_page) {
      if (!description.empty()) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
      if (!a.software.empty()) TIFFSetField(t, TIFFTAG_SOFTWARE, a.software.c_str());
      if (!a.datetime.empty()) TIFFSetField(t, TIFFTAG_DATETIME, a.datetime.c_str());
      set_metadata_blocks(a);
      if (series_written_ == 0) set_exif(a);
    }
  }

  // EXIF in TIFF (EXIF 2.32 §4.6.2): the Orientation is the page's (one
  // rule, reconcile_orientation); the EXIF's other IFD0 tags and its Exif,
  // GPS and interoperability IFDs are added to the finished file at close()
  // (add_exif).
  void set_exif(const WriteArgs& a) {
    if (a.orientation) TIFFSetField(tif_, TIFFTAG_ORIENTATION, static_cast<std::uint16_t>(*a.orientation));
    if (!a.exif) return;
    Dict tags = *a.exif;
    if (const Value* ifd0 = tags.lookup("IFD0")) {
      Dict d = ifd0->ref<Dict>();
      d.erase("Orientation");  // the page's, as reconciled
      tags.set("IFD0", std::move(d));
    }
    std::set<std::uint16_t> replaceable = a.exif_replaceable;
    if (imagej_) replaceable.erase(TIFFTAG_IMAGEDESCRIPTION);  // ImageJ's description is structure
    exif_ = ExifOnPage{std::move(tags), std::move(replaceable)};
  }

  // XMP (XMP Part 3 §1.1.5: tag 700, BYTE), IPTC (tag 33723, as
  // Photoshop and exiftool write it) and the ICC profile (tag 34675).
  void set_metadata_blocks(const WriteArgs& a) {
    TIFF* t = tif_;
    if (a.xmp) TIFFSetField(t, TIFFTAG_XMLPACKET, static_cast<std::uint32_t>(a.xmp->size()), a.xmp->data());
    if (a.icc_profile) {
      TIFFSetField(t, TIFFTAG_ICCPROFILE, static_cast<std::uint32_t>(a.icc_profile->size()), a.icc_profile->data());
    }
    if (a.iptc) {
      // libtiff declares 33723 as LONGs (counted in 4-byte units) or as
      // bytes, by version: the IIM block is padded with NULs to whole LONGs.
      const TIFFField* f = TIFFFieldWithTag(t, TIFFTAG_RICHTIFFIPTC);
      if (f != nullptr && TIFFFieldDataType(f) == TIFF_LONG) {
        std::vector<std::uint32_t> words((a.iptc->size() + 3) / 4, 0);
        std::memcpy(words.data(), a.iptc->data(), a.iptc->size());
        TIFFSetField(t, TIFFTAG_RICHTIFFIPTC, static_cast<std::uint32_t>(words.size()), words.data());
      } else {
        TIFFSetField(t, TIFFTAG_RICHTIFFIPTC, static_cast<std::uint32_t>(a.iptc->size()), a.iptc->data());
      }
    }
  }

  void set_colormap(const Layout& l, const WriteArgs& a) {
    if (l.sample_format != SAMPLEFORMAT_UINT || (l.bps != 8 && l.bps != 16)) {
      throw ArgumentError("photometric='palette' needs uint8 or uint16 data");
    }
    const std::size_t n = std::size_t{1} << l.bps;
    std::vector<std::uint16_t> map(3 * n);
    if (a.colormap) {
      if (a.colormap->size() != 3) throw ArgumentError("colormap must be 3 lists (red, green, blue)");
      for (std::size_t c = 0; c < 3; ++c) {
        const auto& row = (*a.colormap)[c].ref<Value::List>();
        if (row.size() != n) throw ArgumentError(fmt::format("each colormap row needs {} entries", n));
        for (std::size_t i = 0; i < n; ++i) map[c * n + i] = row[i].get<std::uint16_t>();
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) map[i] = map[n + i] = map[2 * n + i] = static_cast<std::uint16_t>(i * 65535 / (n - 1));
    }
    TIFFSetField(tif_, TIFFTAG_COLORMAP, map.data(), map.data() + n, map.data() + 2 * n);
  }

  // Rows per strip: one strip per plane when uncompressed (the fastest file
  // to read), about 256 KiB per strip when compressed (parallel decoding).
  static std::uint32_t default_rows(const Layout& l, const WriteArgs& a) {
    if (a.rowsperstrip) return std::min(*a.rowsperstrip, std::max<std::uint32_t>(l.height, 1));
    if (a.compression == COMPRESSION_NONE) return std::max<std::uint32_t>(l.height, 1);
    const std::uint64_t row = std::max<std::uint64_t>(1, (std::uint64_t{l.width} * (l.planar == 1 ? l.spp : 1) * l.bps + 7) / 8);
    std::uint64_t rows = std::max<std::uint64_t>(1, (std::uint64_t{1} << 18) / row);
    if (a.compression == COMPRESSION_JPEG) rows = std::max<std::uint64_t>(16, rows / 16 * 16);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(rows, std::max<std::uint32_t>(l.height, 1)));
  }

  void write_series(const std::byte* data, const Shape& shape, DType dtype, const WriteArgs& a) {
    const Layout l = layout_of(shape, dtype, a);
    if (l.width == 0 || l.height == 0) throw ArgumentError(fmt::format("cannot write an empty image of shape ({})", fmt::join(shape, ", ")));
    if (a.compression == COMPRESSION_JPEG && dtype != DType::uint8) {
      throw ArgumentError(fmt::format("JPEG compression stores uint8 data only, not {}", name(dtype)));
    }
    if (a.predictor == PREDICTOR_FLOATINGPOINT && l.sample_format != SAMPLEFORMAT_IEEEFP) {
      throw ArgumentError("predictor='float' needs floating-point data");
    }
    if (a.predictor == PREDICTOR_HORIZONTAL && (l.sample_format == SAMPLEFORMAT_IEEEFP || l.bps == 1)) {
      throw ArgumentError("the horizontal predictor needs integer data of 8 bits or more (use predictor='float' for floats)");
    }
    if (imagej_ && series_written_ > 0) throw ArgumentError("an ImageJ file holds one series");
    std::string description;
    if (imagej_) description = imagej_description(shape, l, dtype);
    else if (a.description) description = *a.description;
    else if (a.shaped) description = shape_description(shape, a);

    std::uint32_t rps = default_rows(l, a);
    const std::size_t page_bytes = shape.empty() ? 0 : std::size_t{l.width} * l.height * l.spp * itemsize(dtype);
    // tifffile reads an uncompressed shaped series as one contiguous block
    // when the first IFD's offset plus the series size lies before the
    // second IFD, which libtiff's layout (data, IFD, data, IFD…) satisfies
    // for small pages although the data are not contiguous. Such pages are
    // written as two strips in reverse order: not contiguous, so tifffile
    // reads every page where it lies.
    reverse_strips_ = false;
    if (a.compression == COMPRESSION_NONE && !a.tile && l.pages > 1 && a.shaped && !imagej_ &&
        (l.pages - 1) * page_bytes < 4096 + description.size()) {
      if (l.height >= 2 && !a.rowsperstrip) rps = (l.height + 1) / 2;
      reverse_strips_ = l.height >= 2 || l.planar == PLANARCONFIG_SEPARATE;
    }
    ErrorScope scope(file_.error);
    for (std::size_t p = 0; p < l.pages; ++p) {
      set_tags(l, a, rps, p == 0, description);
      write_page(data + p * page_bytes, l, dtype, a, rps);
      if (TIFFWriteDirectory(tif_) != 1) fail(fmt::format("cannot write page {}", p));
    }
    ++series_written_;
  }

  // Rows of one plane as TIFF stores them (1-bit rows packed MSB first).
  static void pack_rows(const std::byte* src, std::byte* dst, std::size_t rows, std::size_t samples, DType dtype) {
    if (dtype != DType::bool_) {
      std::memcpy(dst, src, rows * samples * itemsize(dtype));
      return;
    }
    const std::size_t row_bytes = (samples + 7) / 8;
    std::memset(dst, 0, rows * row_bytes);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t i = 0; i < samples; ++i) {
        if (src[r * samples + i] != std::byte{0}) dst[r * row_bytes + i / 8] |= std::byte{static_cast<unsigned char>(0x80u >> (i % 8))};
      }
    }
  }

  void write_page(const std::byte* page, const Layout& l, DType dtype, const WriteArgs& a, std::uint32_t rps) {
    const std::size_t item = itemsize(dtype);
    const std::size_t plane_samples = l.planar == PLANARCONFIG_CONTIG ? l.spp : 1;
    const std::size_t planes = l.planar == PLANARCONFIG_CONTIG ? 1 : l.spp;
    const std::size_t row_samples = std::size_t{l.width} * plane_samples;
    const std::size_t plane_bytes = row_samples * l.height * item;
    const std::size_t packed_row = dtype == DType::bool_ ? (row_samples + 7) / 8 : row_samples * item;
    std::vector<std::byte> buf;
    if (a.tile) {
      const std::uint32_t th = (*a.tile)[0], tw = (*a.tile)[1];
      const std::size_t tile_row = dtype == DType::bool_ ? (std::size_t{tw} * plane_samples + 7) / 8 : std::size_t{tw} * plane_samples * item;
      std::vector<std::byte> tmp;
      for (std::size_t pl = 0; pl < planes; ++pl) {
        for (std::uint32_t y = 0; y < l.height; y += th) {
          for (std::uint32_t x = 0; x < l.width; x += tw) {
            buf.assign(tile_row * th, std::byte{0});
            const std::uint32_t rows = std::min(th, l.height - y), cols = std::min(tw, l.width - x);
            tmp.assign(std::size_t{tw} * plane_samples * item, std::byte{0});
            for (std::uint32_t r = 0; r < rows; ++r) {
              std::memcpy(tmp.data(), page + pl * plane_bytes + ((std::size_t{y} + r) * l.width + x) * plane_samples * item,
                          std::size_t{cols} * plane_samples * item);
              pack_rows(tmp.data(), buf.data() + r * tile_row, 1, std::size_t{tw} * plane_samples, dtype);
            }
            const std::uint32_t tile = TIFFComputeTile(tif_, x, y, 0, static_cast<std::uint16_t>(pl));
            if (TIFFWriteEncodedTile(tif_, tile, buf.data(), static_cast<tmsize_t>(buf.size())) < 0) {
              fail(fmt::format("cannot write tile {}", tile));
            }
          }
        }
      }
      return;
    }
    const std::uint32_t per_plane = (l.height + rps - 1) / rps;
    const std::size_t n_strips = planes * per_plane;
    for (std::size_t k = 0; k < n_strips; ++k) {
      const std::size_t index = reverse_strips_ ? n_strips - 1 - k : k;
      const std::size_t pl = index / per_plane;
      const auto s = static_cast<std::uint32_t>(index % per_plane);
      {
        const std::uint32_t y = s * rps, rows = std::min(rps, l.height - y);
        // libtiff swaps bytes and applies predictors in place: it gets a copy.
        buf.resize(packed_row * rows);
        pack_rows(page + pl * plane_bytes + std::size_t{y} * row_samples * item, buf.data(), rows, row_samples, dtype);
        const auto strip = static_cast<std::uint32_t>(pl * per_plane + s);
        if (TIFFWriteEncodedStrip(tif_, strip, buf.data(), static_cast<tmsize_t>(buf.size())) < 0) {
          fail(fmt::format("cannot write strip {}", strip));
        }
      }
    }
  }

  Request& request_;
  bool bigtiff_, big_endian_, imagej_, shaped_;
  MemoryFile file_;
  TIFF* tif_ = nullptr;
  std::size_t series_written_ = 0;
  std::optional<ExifOnPage> exif_;  // the EXIF close() adds to the first page
  bool reverse_strips_ = false;
};

}  // namespace

std::unique_ptr<Plugin> open_writer(Request& request, const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "open", "write");
  if (kw.get<bool>("append")) kw.fail("append", "appending to an existing TIFF is not supported");
  if (kw.get<bool>("ome")) kw.fail("ome", "OME-TIFF is not written by imio");
  const bool bigtiff = kw.get<bool>("bigtiff");
  const std::string byteorder = kw.get<std::string>("byteorder");  // plugin.json: <, > or =
  const bool imagej = kw.get<bool>("imagej");
  const bool shaped = kw.get<bool>("shaped");
  // D7: the core allowed only TIFF extensions, or any target when
  // libtiff/tifffile was named (plugin.json's write_extensions).
  return std::make_unique<TiffWriter>(request, bigtiff, byteorder == ">", imagej, shaped);
}

}  // namespace imio::tiff
