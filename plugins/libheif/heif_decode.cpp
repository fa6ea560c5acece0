// libheif's reading side: see heif_decode.hpp.
#include "heif_decode.hpp"

#include "heif_errors.hpp"

#include <imio/checked_math.hpp>
#include <imio/error.hpp>
#include <imio/quiet_library.hpp>
#include <imio/warnings.hpp>

#include <libheif/heif.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <limits>
#include <tuple>

namespace imio::heif {
namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

int channels_of(Layout layout) { return layout == Layout::rgba ? 4 : layout == Layout::gray ? 1 : 3; }

// Pillow's ITU-R 601-2 luma in its fixed point (Convert.c L24).
template <class T>
T luma(std::uint32_t r, std::uint32_t g, std::uint32_t b) {
  return static_cast<T>((std::uint64_t{r} * 19595 + std::uint64_t{g} * 38470 + std::uint64_t{b} * 7471 + 0x8000) >> 16);
}

struct ImageRelease {
  void operator()(heif_image* img) const { heif_image_release(img); }
};
using ImagePtr = std::unique_ptr<heif_image, ImageRelease>;

struct OptionsFree {
  void operator()(heif_decoding_options* o) const { heif_decoding_options_free(o); }
};

// Whether libheif has the AV1 decoder `name` ("aom", "dav1d").
bool has_av1_decoder(std::string_view name) {
  const heif_decoder_descriptor* d[8] = {};
  const int n = heif_get_decoder_descriptors(heif_compression_AV1, d, 8);
  for (int i = 0; i < n; ++i) {
    if (name == heif_decoder_descriptor_get_id_name(d[i])) return true;
  }
  return false;
}

// libheif leaves dav1d's logger at its default, which prints "Error parsing
// OBU data" and the like to stderr for damaged data, and offers no way to
// set it: libdav1d's own printf-family slots are pointed at silent
// functions (<imio/quiet_library.hpp>, as for libjxl; IMIO_DAV1D_DEBUG=1
// keeps the messages). FFmpeg sets its own dav1d logger: unaffected.
bool dav1d_silenced() {
  static const bool silenced = silence_library_output("dav1d_version", "libdav1d", "IMIO_DAV1D_DEBUG");
  return silenced;
}

// Decodes the alpha image(s) of `h` with libaom (monochrome, as stored).
void check_alpha_with_aom(heif_image_handle* h, std::size_t k) {
  const int all = heif_image_handle_get_number_of_auxiliary_images(h, 0);
  const int rest = heif_image_handle_get_number_of_auxiliary_images(h, LIBHEIF_AUX_IMAGE_FILTER_OMIT_ALPHA);
  if (all <= 0 || all == rest) return;
  std::vector<heif_item_id> ids(static_cast<std::size_t>(all)), others(static_cast<std::size_t>(std::max(rest, 0)));
  heif_image_handle_get_list_of_auxiliary_image_IDs(h, 0, ids.data(), all);
  if (rest > 0) heif_image_handle_get_list_of_auxiliary_image_IDs(h, LIBHEIF_AUX_IMAGE_FILTER_OMIT_ALPHA, others.data(), rest);
  for (heif_item_id id : ids) {
    if (std::find(others.begin(), others.end(), id) != others.end()) continue;
    heif_image_handle* alpha = nullptr;
    check(heif_image_handle_get_auxiliary_image_handle(h, id, &alpha), fmt::format("opening the alpha image of image {}", k));
    std::unique_ptr<heif_decoding_options, OptionsFree> options(heif_decoding_options_alloc());
    options->ignore_transformations = 1;
    options->decoder_id = "aom";
    heif_image* img = nullptr;
    const heif_error err = heif_decode_image(alpha, &img, heif_colorspace_monochrome, heif_chroma_monochrome, options.get());
    if (img != nullptr) heif_image_release(img);
    heif_image_handle_release(alpha);
    check(err, fmt::format("decoding the alpha image of image {}", k));
  }
}

}  // namespace

std::string libheif_version() { return fmt::format("libheif {}", heif_get_version()); }

std::string format_of(std::span<const std::byte> file) {
  const char* mime = heif_get_file_mime_type(reinterpret_cast<const std::uint8_t*>(file.data()), static_cast<int>(std::min<std::size_t>(file.size(), 4096)));
  const std::string_view type = mime != nullptr ? mime : "";
  return type.starts_with("image/avif") ? "AVIF" : type.starts_with("image/heic") ? "HEIC" : "HEIF";
}

struct Context::Decoded {
  ImagePtr image;
  const std::uint8_t* plane = nullptr;
  std::size_t stride = 0;
  std::size_t width = 0, height = 0;
  int channels = 3;   // of the plane libheif returned (3 or 4)
  bool wide = false;  // 16-bit samples
};

Context::Context(std::span<const std::byte> file, const Container& boxes, const Request& request) {
  // A constructor that throws runs no destructor: release what was taken.
  try {
    read_structure(file, boxes, request);
  } catch (...) {
    release();
    throw;
  }
}

void Context::read_structure(std::span<const std::byte> file, const Container& boxes, const Request& request) {
  ensure_initialised();
  ctx_ = heif_context_alloc();
  if (ctx_ == nullptr) throw DecodeError("libheif could not allocate a context");
  // libheif's own limit, from the same number: before 1.19 each side (an
  // ispe larger than it is refused when the file is read); 1.19 made it part
  // of its security limits, a pixel count: the value itself in 1.19.0, its
  // square from 1.19.1 (libheif issue #1359). The function is deprecated there
  // in a comment only, no attribute. Never stricter than imio's own pixel
  // count, checked below, per image.
  const std::uint64_t side = std::min<std::uint64_t>(request.limits().max_pixels, INT_MAX);
  heif_context_set_maximum_image_size_limit(ctx_, static_cast<int>(side));
  check(heif_context_read_from_memory_without_copy(ctx_, file.data(), file.size(), nullptr), "reading the file's structure");

  const int n = heif_context_get_number_of_top_level_images(ctx_);
  if (n <= 0) throw DecodeError("the file holds no top-level image");
  request.check_frames(static_cast<std::uint64_t>(n));
  std::vector<heif_item_id> ids(static_cast<std::size_t>(n));
  heif_context_get_list_of_top_level_image_IDs(ctx_, ids.data(), n);
  heif_item_id primary = 0;
  check(heif_context_get_primary_image_ID(ctx_, &primary), "finding the primary image");
  images_.reserve(ids.size());
  handles_.reserve(ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    heif_image_handle* h = nullptr;
    check(heif_context_get_image_handle(ctx_, ids[k], &h), fmt::format("opening image {}", k));
    handles_.push_back(h);
    ImageInfo info;
    info.id = ids[k];
    info.primary = ids[k] == primary;
    if (info.primary) primary_ = k;
    const int w = heif_image_handle_get_width(h), hh = heif_image_handle_get_height(h);
    if (w <= 0 || hh <= 0) throw DecodeError(fmt::format("image {} has no size (ispe property missing or zero)", k));
    info.width = static_cast<std::uint32_t>(w);
    info.height = static_cast<std::uint32_t>(hh);
    const int iw = heif_image_handle_get_ispe_width(h), ih = heif_image_handle_get_ispe_height(h);
    info.ispe_width = iw > 0 ? static_cast<std::uint32_t>(iw) : info.width;
    info.ispe_height = ih > 0 ? static_cast<std::uint32_t>(ih) : info.height;
    // libheif 1.15 reports the ispe size as the handle's size, without the
    // turn of an irot; the displayed size follows the transformations.
    info.av1 = is_av1(boxes, info.id);
    if (const auto stored = ispe_of(boxes, info.id)) std::tie(info.ispe_width, info.ispe_height) = *stored;
    if (const auto shown = displayed_size(boxes, info.id)) std::tie(info.width, info.height) = *shown;
    if (info.width == 0 || info.height == 0) throw DecodeError(fmt::format("image {} has a size of {}x{} pixels", k, info.width, info.height));
    info.has_alpha = heif_image_handle_has_alpha_channel(h) != 0;
    info.premultiplied_alpha = heif_image_handle_is_premultiplied_alpha(h) != 0;
    info.bits = heif_image_handle_get_luma_bits_per_pixel(h);
    info.chroma_bits = heif_image_handle_get_chroma_bits_per_pixel(h);
    if (info.bits <= 0) info.bits = 8;
    if (info.chroma_bits <= 0) info.chroma_bits = info.bits;
    if (info.bits > 16) throw DecodeError(fmt::format("image {} declares {} bits per sample (at most 16 are supported)", k, info.bits));
    info.thumbnails = heif_image_handle_get_number_of_thumbnails(h);
    info.depth_images = heif_image_handle_get_number_of_depth_images(h);
    info.auxiliary_images = heif_image_handle_get_number_of_auxiliary_images(h, 0);
    // The Limits, for the stored and the displayed size, before any pixel is decoded.
    request.check_pixels(info.width, info.height);
    request.check_pixels(info.ispe_width, info.ispe_height);
    images_.push_back(info);
  }
}

Context::~Context() { release(); }

void Context::release() noexcept {
  for (heif_image_handle* h : handles_) heif_image_handle_release(h);
  handles_.clear();
  if (ctx_ != nullptr) heif_context_free(ctx_);
  ctx_ = nullptr;
}

Shape shape_of(const ImageInfo& info, Layout layout, bool transform) {
  Shape s = transform ? Shape{info.height, info.width} : Shape{info.ispe_height, info.ispe_width};
  if (layout != Layout::gray) s.push_back(static_cast<std::size_t>(channels_of(layout)));
  return s;
}

DType dtype_of(const ImageInfo& info, Depth depth) { return info.bits > 8 && depth != Depth::eight ? DType::uint16 : DType::uint8; }

Context::Decoded Context::decode_raw(std::size_t k, Layout layout, Depth depth, bool transform) const {
  const ImageInfo& info = images_[k];
  const bool wide = dtype_of(info, depth) == DType::uint16;
  // libheif's plane: RGBA only when the file has alpha and it is wanted.
  const bool alpha = info.has_alpha && layout == Layout::rgba;
  heif_chroma chroma = heif_chroma_interleaved_RGB;
  if (wide) {
    if (kLittleEndian) chroma = alpha ? heif_chroma_interleaved_RRGGBBAA_LE : heif_chroma_interleaved_RRGGBB_LE;
    else chroma = alpha ? heif_chroma_interleaved_RRGGBBAA_BE : heif_chroma_interleaved_RRGGBB_BE;
  } else if (alpha) {
    chroma = heif_chroma_interleaved_RGBA;
  }
  std::unique_ptr<heif_decoding_options, OptionsFree> options(heif_decoding_options_alloc());
  options->ignore_transformations = transform ? 0 : 1;
  options->convert_hdr_to_8bit = wide ? 0 : 1;
  // AV1: dav1d (libheif's first choice, about twice as fast as libaom) when
  // it is kept quiet (dav1d_silenced), else libaom, which reports through
  // return codes only; or the decoder asked for.
  if (info.av1) {
    static const bool quiet_dav1d = dav1d_silenced(), have_aom = has_av1_decoder("aom"),
                      have_dav1d = has_av1_decoder("dav1d");
    const std::string_view chosen = av1_decoder_ ? std::string_view(*av1_decoder_)
                                    : (quiet_dav1d && have_dav1d) || !have_aom ? "dav1d" : "aom";
    if (av1_decoder_ || have_aom || have_dav1d) options->decoder_id = chosen == "dav1d" ? "dav1d" : "aom";
    // libheif 1.15 decodes an alpha image with its first decoder (dav1d)
    // whatever decoder_id says: with dav1d not silenced, the alpha
    // bitstream is checked by libaom first, so that damage there is refused
    // before dav1d could print.
    if (chosen == "aom" && !quiet_dav1d && info.has_alpha) check_alpha_with_aom(handles_[k], k);
  }
  heif_image* raw = nullptr;
  check(heif_decode_image(handles_[k], &raw, heif_colorspace_RGB, chroma, options.get()), fmt::format("decoding image {}", k));
  Decoded d;
  d.image.reset(raw);
  // libheif's non-strict decoding notes what it repaired.
  heif_error warnings[8];
  const int nw = heif_image_get_decoding_warnings(raw, 0, warnings, 8);
  for (int i = 0; i < nw; ++i) warn("libheif", fmt::format("image {}: {}", k, warnings[i].message));
  int stride = 0;
  d.plane = heif_image_get_plane_readonly(raw, heif_channel_interleaved, &stride);
  const int w = heif_image_get_width(raw, heif_channel_interleaved), h = heif_image_get_height(raw, heif_channel_interleaved);
  const Shape want = shape_of(info, layout, transform);
  if (d.plane == nullptr || stride <= 0 || w < 0 || h < 0 || static_cast<std::size_t>(h) != want[0] || static_cast<std::size_t>(w) != want[1]) {
    throw DecodeError(fmt::format("image {}: libheif decoded {}x{} pixels where the file declares {}x{}", k, w, h, want[1], want[0]));
  }
  d.stride = static_cast<std::size_t>(stride);
  d.width = static_cast<std::size_t>(w);
  d.height = static_cast<std::size_t>(h);
  d.channels = alpha ? 4 : 3;
  d.wide = wide;
  if (d.stride < d.width * static_cast<std::size_t>(d.channels) * (wide ? 2 : 1)) throw DecodeError(fmt::format("image {}: libheif returned a short row", k));
  return d;
}

namespace {

// One row of libheif's plane into the result's layout: alpha added
// (opaque) or dropped, luma, and the left shift of `Depth::scaled`.
template <class T>
void convert_row(const T* src, int src_channels, T* dst, Layout layout, std::size_t width, int shift, T opaque) {
  const int out = channels_of(layout);
  for (std::size_t x = 0; x < width; ++x, src += src_channels, dst += out) {
    const auto s = [&](int c) { return static_cast<T>(src[c] << shift); };
    if (layout == Layout::gray) {
      dst[0] = luma<T>(s(0), s(1), s(2));
      continue;
    }
    dst[0] = s(0);
    dst[1] = s(1);
    dst[2] = s(2);
    if (out == 4) dst[3] = src_channels == 4 ? s(3) : opaque;
  }
}

}  // namespace

void Context::decode_into(std::size_t k, Layout layout, Depth depth, bool transform, std::byte* dst) const {
  const Decoded d = decode_raw(k, layout, depth, transform);
  const ImageInfo& info = images_[k];
  const int out = channels_of(layout);
  const std::size_t row_bytes = d.width * static_cast<std::size_t>(out) * (d.wide ? 2 : 1);
  const int shift = d.wide && depth == Depth::scaled ? 16 - info.bits : 0;
  if (out == d.channels && shift == 0) {
    for (std::size_t y = 0; y < d.height; ++y) std::memcpy(dst + y * row_bytes, d.plane + y * d.stride, row_bytes);
    return;
  }
  for (std::size_t y = 0; y < d.height; ++y) {
    if (d.wide) {
      const auto opaque = static_cast<std::uint16_t>(depth == Depth::scaled ? 0xffff : (1u << info.bits) - 1);
      convert_row(reinterpret_cast<const std::uint16_t*>(d.plane + y * d.stride), d.channels,
                  reinterpret_cast<std::uint16_t*>(dst + y * row_bytes), layout, d.width, shift, opaque);
    } else {
      convert_row(d.plane + y * d.stride, d.channels, reinterpret_cast<std::uint8_t*>(dst + y * row_bytes), layout, d.width, 0,
                  std::uint8_t{255});
    }
  }
}

NDArray Context::decode(std::size_t k, Layout layout, Depth depth, bool transform, const Request& request) const {
  const ImageInfo& info = images_[k];
  const Shape shape = shape_of(info, layout, transform);
  const DType dtype = dtype_of(info, depth);
  // libheif's own RGB(A) buffer, then (when it cannot be handed over) the result.
  const int planes = info.has_alpha && layout == Layout::rgba ? 4 : 3;
  request.check_array(Shape{shape[0], shape[1], static_cast<std::size_t>(planes)}, dtype);
  const int out = channels_of(layout);
  const int shift = dtype == DType::uint16 && depth == Depth::scaled ? 16 - info.bits : 0;
  if (out == planes && shift == 0) {
    // libheif's plane is the result when its rows have no padding: handed
    // over without a copy (heif_image_release runs when the array dies).
    Decoded d = decode_raw(k, layout, depth, transform);
    const std::size_t row_bytes = d.width * static_cast<std::size_t>(out) * (d.wide ? 2 : 1);
    if (d.stride == row_bytes) {
      heif_image* img = d.image.release();
      return NDArray::adopt(const_cast<std::uint8_t*>(d.plane), shape, dtype, [img](void*) { heif_image_release(img); });
    }
    NDArray a = request.allocate(shape, dtype);
    for (std::size_t y = 0; y < d.height; ++y) std::memcpy(a.bytes() + y * row_bytes, d.plane + y * d.stride, row_bytes);
    return a;
  }
  NDArray a = request.allocate(shape, dtype);
  decode_into(k, layout, depth, transform, a.bytes());
  return a;
}

void Context::metadata(std::size_t k, Dict& m) const {
  heif_image_handle* h = handles_[k];
  // nclx (colour description) and the ICC profile; libheif 1.15 exposes one
  // colr box per image, the ICC profile when both are present.
  heif_color_profile_nclx* nclx = nullptr;
  if (heif_image_handle_get_nclx_color_profile(h, &nclx).code == heif_error_Ok && nclx != nullptr) {
    m.set("color_primaries", std::int64_t{nclx->color_primaries});
    m.set("transfer_characteristics", std::int64_t{nclx->transfer_characteristics});
    m.set("matrix_coefficients", std::int64_t{nclx->matrix_coefficients});
    m.set("full_range", nclx->full_range_flag != 0);
    heif_nclx_color_profile_free(nclx);
  }
  const heif_color_profile_type type = heif_image_handle_get_color_profile_type(h);
  if (type == heif_color_profile_type_prof || type == heif_color_profile_type_rICC) {
    const std::size_t n = heif_image_handle_get_raw_color_profile_size(h);
    if (n > 0) {
      Bytes icc(n);
      if (heif_image_handle_get_raw_color_profile(h, icc.data()).code == heif_error_Ok) m.set("icc_profile", std::move(icc));
    }
  }
  const int blocks = heif_image_handle_get_number_of_metadata_blocks(h, nullptr);
  std::vector<heif_item_id> ids(static_cast<std::size_t>(std::max(blocks, 0)));
  if (blocks > 0) heif_image_handle_get_list_of_metadata_block_IDs(h, nullptr, ids.data(), blocks);
  for (heif_item_id id : ids) {
    const std::string_view type_name = heif_image_handle_get_metadata_type(h, id);
    const std::string_view content = heif_image_handle_get_metadata_content_type(h, id);
    const bool exif = type_name == "Exif";
    const bool xmp = type_name == "mime" && content == "application/rdf+xml";
    if ((!exif || m.contains("exif")) && (!xmp || m.contains("xmp"))) continue;
    const std::size_t n = heif_image_handle_get_metadata_size(h, id);
    Bytes data(n);
    if (n == 0 || heif_image_handle_get_metadata(h, id, data.data()).code != heif_error_Ok) continue;
    if (exif) {
      // ISO/IEC 23008-12 A.2.1: a 32-bit offset to the TIFF header, then the block.
      if (n < 4) continue;
      const std::uint32_t offset = (std::to_integer<std::uint32_t>(data[0]) << 24) | (std::to_integer<std::uint32_t>(data[1]) << 16) |
                                   (std::to_integer<std::uint32_t>(data[2]) << 8) | std::to_integer<std::uint32_t>(data[3]);
      if (offset > n - 4) continue;
      m.set("exif", Bytes(data.begin() + 4 + offset, data.end()));
    } else {
      m.set("xmp", std::move(data));
    }
  }
}

}  // namespace imio::heif
