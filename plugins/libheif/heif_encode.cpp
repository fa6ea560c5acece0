// The HEIF writer: see heif_encode.hpp.
#include "heif_encode.hpp"

#include "heif_boxes.hpp"
#include "heif_errors.hpp"

#include <imio/byte_source.hpp>
#include <imio/error.hpp>
#include <imio/metadata_write.hpp>

#include <libheif/heif.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <memory>

namespace imio::heif {
namespace {

constexpr std::string_view kPlugin = "libheif";
constexpr std::size_t kMaxSide = 65535;  // what the plugin accepts per side (HEVC and AV1 levels go lower still)

struct ContextFree {
  void operator()(heif_context* c) const { heif_context_free(c); }
};
struct EncoderRelease {
  void operator()(heif_encoder* e) const { heif_encoder_release(e); }
};
struct ImageRelease {
  void operator()(heif_image* i) const { heif_image_release(i); }
};
struct HandleRelease {
  void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};
struct OptionsFree {
  void operator()(heif_encoding_options* o) const { heif_encoding_options_free(o); }
};
struct NclxFree {
  void operator()(heif_color_profile_nclx* n) const { heif_nclx_color_profile_free(n); }
};

// "(H, W, C) uint8", for messages.
std::string describe(const NDArray& a) {
  std::string dims;
  for (std::size_t d : a.shape()) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  return fmt::format("({}{}) {}", dims, a.ndim() == 1 ? "," : "", name(a.dtype()));
}


EncodeOptions read_options(const Kwargs& kwargs, const Request& request, std::size_t images) {
  KwargReader kw(kwargs, kPlugin, "write");
  EncodeOptions o;
  const auto codec = kw.take<std::string>("codec");
  o.codec = codec ? (*codec == "av1" ? Codec::av1 : Codec::hevc) : (request.extension() == ".avif" ? Codec::av1 : Codec::hevc);
  o.quality = kw.take<int>("quality");
  o.lossless = kw.get<bool>("lossless");
  o.chroma = kw.take<std::string>("chroma");
  o.bit_depth = kw.take<int>("bit_depth");
  o.primary_index = kw.take<int>("primary_index");
  o.icc_profile = take_icc_kwarg(kw);
  o.exif = take_exif_kwarg(kw);
  // One orientation (<imio/metadata_write.hpp>): the kwarg, written into the
  // EXIF too, else the EXIF's; irot/imir store it.
  o.orientation = reconcile_orientation(o.exif, kw.take<int>("orientation"), false);
  o.xmp = take_xmp_kwarg(kw);
  kw.find("is_batch");
  if (o.lossless && o.chroma && *o.chroma != "444") {
    kw.fail("chroma", fmt::format("'{}' cannot be lossless: lossless coding needs chroma '444' (the default with lossless=true)", *o.chroma));
  }
  if (o.primary_index && static_cast<std::size_t>(*o.primary_index) >= images) {
    kw.fail("primary_index", fmt::format("is {} but {} image(s) are written", *o.primary_index, images));
  }
  return o;
}

// The bit depth an image is coded with.
int depth_for(const NDArray& a, const EncodeOptions& o) {
  if (a.dtype() == DType::uint8) return o.bit_depth.value_or(8);
  return o.bit_depth.value_or(10);
}

void check_image(const NDArray& a, const EncodeOptions& o, std::size_t k) {
  const auto where = [&] { return fmt::format("image {} {}", k, describe(a)); };
  if (a.dtype() != DType::uint8 && a.dtype() != DType::uint16) {
    throw ArgumentError(fmt::format("{}: HEIF images are uint8 (8-bit) or uint16 (10/12-bit samples); {} is not supported", where(),
                                    name(a.dtype())));
  }
  const std::size_t nd = a.ndim();
  if (nd != 2 && !(nd == 3 && a.shape()[2] >= 1 && a.shape()[2] <= 4)) {
    throw ArgumentError(fmt::format("{}: expects (H, W) gray, (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA", where()));
  }
  if (a.shape()[0] == 0 || a.shape()[1] == 0 || a.shape()[0] > kMaxSide || a.shape()[1] > kMaxSide) {
    throw ArgumentError(fmt::format("{}: each side must be 1…{} pixels", where(), kMaxSide));
  }
  const int bits = depth_for(a, o);
  if (a.dtype() == DType::uint8 && bits != 8) {
    throw ArgumentError(fmt::format("{}: bit_depth {} needs uint16 samples (0…{}); uint8 is written with 8 bits", where(), bits, (1 << bits) - 1));
  }
  if (a.dtype() == DType::uint16) {
    if (bits == 8) throw ArgumentError(fmt::format("{}: uint16 samples are written with 10 or 12 bits (bit_depth), not 8", where()));
    const auto* p = a.data<std::uint16_t>();
    const std::uint16_t top = static_cast<std::uint16_t>((1u << bits) - 1);
    const std::size_t n = a.size();
    std::uint16_t hi = 0;
    for (std::size_t i = 0; i < n; ++i) hi = std::max(hi, p[i]);
    if (hi > top) {
      throw ArgumentError(fmt::format("{}: holds the sample value {}, above {}, the largest of {} bits (the samples are written as they "
                                      "are, not scaled: pass bit_depth=12, or shift the values right)",
                                      where(), hi, top, bits));
    }
  }
  // Debian 12's libheif 1.15 makes libaom code 10-bit 4:2:0 and 4:4:4 with
  // AV1 profile 2, which libaom only accepts for 4:2:2 and 12 bits (its
  // build asserts, ending the process); newer libheif choose the profile
  // from the bit depth correctly.
  if (o.codec == Codec::av1 && bits == 10 && heif_get_version_number() < 0x01100000) {
    const std::string chroma = o.chroma.value_or(o.lossless ? "444" : "420");
    const bool gray = nd == 2 || a.shape()[2] <= 2;
    if (!gray && chroma != "422") {
      throw ArgumentError(fmt::format("{}: libheif {} cannot code 10-bit AVIF with chroma {} (its AV1 profile choice makes libaom abort); "
                                      "use chroma='422', bit_depth=12, or HEIC",
                                      where(), heif_get_version(), chroma));
    }
  }
}

// The array as a heif_image: RGB(A) interleaved, or monochrome Y (+ alpha) planes.
std::unique_ptr<heif_image, ImageRelease> make_image(const NDArray& a, int bits) {
  const int w = static_cast<int>(a.shape()[1]), h = static_cast<int>(a.shape()[0]);
  const std::size_t c = a.ndim() == 2 ? 1 : a.shape()[2];
  const bool wide = a.dtype() == DType::uint16;
  const std::size_t bps = wide ? 2 : 1;
  heif_image* raw = nullptr;
  std::unique_ptr<heif_image, ImageRelease> img;
  const auto copy_rows = [&](heif_channel ch, std::size_t channels, std::size_t first, std::size_t count) {
    int stride = 0;
    std::uint8_t* dst = heif_image_get_plane(img.get(), ch, &stride);
    if (dst == nullptr) throw EncodeError("libheif: could not allocate the image plane");
    const std::byte* src = a.bytes();
    for (std::size_t y = 0; y < static_cast<std::size_t>(h); ++y) {
      std::uint8_t* row = dst + y * static_cast<std::size_t>(stride);
      if (count == channels) {
        std::memcpy(row, src + y * static_cast<std::size_t>(w) * channels * bps, static_cast<std::size_t>(w) * channels * bps);
        continue;
      }
      for (std::size_t x = 0; x < static_cast<std::size_t>(w); ++x) {
        std::memcpy(row + x * count * bps, src + ((y * static_cast<std::size_t>(w) + x) * channels + first) * bps, count * bps);
      }
    }
  };
  if (c >= 3) {
    heif_chroma chroma = c == 4 ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB;
    if (wide) {
      const bool le = std::endian::native == std::endian::little;
      chroma = c == 4 ? (le ? heif_chroma_interleaved_RRGGBBAA_LE : heif_chroma_interleaved_RRGGBBAA_BE)
                      : (le ? heif_chroma_interleaved_RRGGBB_LE : heif_chroma_interleaved_RRGGBB_BE);
    }
    check_encode(heif_image_create(w, h, heif_colorspace_RGB, chroma, &raw), "creating the image");
    img.reset(raw);
    check_encode(heif_image_add_plane(img.get(), heif_channel_interleaved, w, h, bits), "adding the RGB plane");
    copy_rows(heif_channel_interleaved, c, 0, c);
  } else {
    check_encode(heif_image_create(w, h, heif_colorspace_monochrome, heif_chroma_monochrome, &raw), "creating the image");
    img.reset(raw);
    check_encode(heif_image_add_plane(img.get(), heif_channel_Y, w, h, bits), "adding the gray plane");
    copy_rows(heif_channel_Y, c, 0, 1);
    if (c == 2) {
      check_encode(heif_image_add_plane(img.get(), heif_channel_Alpha, w, h, bits), "adding the alpha plane");
      copy_rows(heif_channel_Alpha, c, 1, 1);
    }
  }
  return img;
}

// heif_context_write's callback: the file into memory.
heif_error write_to_memory(heif_context*, const void* data, size_t size, void* userdata) {
  auto* out = static_cast<Bytes*>(userdata);
  try {
    const auto* p = static_cast<const std::byte*>(data);
    out->insert(out->end(), p, p + size);
  } catch (...) {
    return heif_error{heif_error_Encoding_error, heif_suberror_Cannot_write_output_data, "out of memory"};
  }
  return heif_error{heif_error_Ok, heif_suberror_Unspecified, "Success"};
}

// libheif 1.15 writes the ispe of an image it was asked to turn by 90° or
// 270° (heif_encoding_options.image_orientation) already turned: the
// displayed size instead of the stored one that ISO/IEC 23008-12 §6.5.3
// asks for, so a reader that turns by irot gets the wrong size. The ispe
// of such an item is put back to the stored size of the array it holds
// (recognised by its swapped size; a square needs nothing).
void fix_turned_ispe(Bytes& file, const std::vector<NDArray>& images) {
  const Container c = parse(file);
  for (const auto& [id, item] : c.items) {
    const auto turns = transformations_of(c, id);
    const bool quarter = std::find(turns.begin(), turns.end(), "irot 90") != turns.end() ||
                         std::find(turns.begin(), turns.end(), "irot 270") != turns.end();
    if (!quarter) continue;
    for (const Property& p : item.properties) {
      if (p.type != "ispe" || p.payload.size() < 12) continue;
      const auto be = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(p.payload[at + i]);
        return v;
      };
      const std::uint32_t w = be(4), h = be(8);
      const auto stored = [&](std::uint32_t sw, std::uint32_t sh) {
        return std::any_of(images.begin(), images.end(), [&](const NDArray& a) { return a.shape()[1] == sw && a.shape()[0] == sh; });
      };
      if (w == h || stored(w, h) || !stored(h, w)) continue;
      const std::size_t at = static_cast<std::size_t>(p.payload.data() - file.data()) + 4;
      std::byte tmp[4];
      std::memcpy(tmp, file.data() + at, 4);
      std::memmove(file.data() + at, file.data() + at + 4, 4);
      std::memcpy(file.data() + at + 4, tmp, 4);
    }
  }
}

heif_compression_format format_of(Codec c) { return c == Codec::av1 ? heif_compression_AV1 : heif_compression_HEVC; }

}  // namespace

std::string encoder_name(Codec codec) {
  ensure_initialised();
  const heif_encoder_descriptor* d = nullptr;
  if (heif_get_encoder_descriptors(format_of(codec), nullptr, &d, 1) < 1 || d == nullptr) return "none";
  return heif_encoder_descriptor_get_name(d);
}

void PendingHeif::add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request) {
  Kwargs merged = kwargs_;
  for (const auto& entry : kwargs) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& e) { return e.first == entry.first; });
    if (it != merged.end()) it->second = entry.second;
    else merged.push_back(entry);
  }
  // Which axis holds images: a list holds images; else is_batch; else a
  // 4-D array, or a 3-D one whose last axis is no channel count (1…4).
  std::vector<NDArray> add;
  std::optional<bool> is_batch;
  {
    KwargReader kw(kwargs, kPlugin, "write");
    is_batch = kw.take<bool>("is_batch");
  }
  for (const NDArray& a : images) {
    const bool batch = !list && (is_batch ? *is_batch : (a.ndim() == 4 || (a.ndim() == 3 && a.shape()[2] > 4)));
    if (!batch) {
      add.push_back(a.copy());
      continue;
    }
    if (a.ndim() < 3) throw ArgumentError(fmt::format("is_batch=true needs an array of 3 or 4 axes, not {}", describe(a)));
    for (std::size_t k = 0; k < a.shape()[0]; ++k) add.push_back(a[k].copy());
  }
  if (add.empty()) throw ArgumentError("no images to write");
  request.check_frames(images_.size() + add.size());
  const EncodeOptions o = read_options(merged, request, images_.size() + add.size());
  for (std::size_t k = 0; k < add.size(); ++k) check_image(add[k], o, images_.size() + k);
  for (NDArray& a : add) images_.push_back(std::move(a));
  kwargs_ = std::move(merged);
}

void PendingHeif::flush(Request& request) {
  if (images_.empty()) return;
  ensure_initialised();
  const EncodeOptions o = read_options(kwargs_, request, images_.size());
  std::unique_ptr<heif_context, ContextFree> ctx(heif_context_alloc());
  if (!ctx) throw EncodeError("libheif could not allocate a context");
  heif_encoder* raw = nullptr;
  check_encode(heif_context_get_encoder_for_format(ctx.get(), format_of(o.codec), &raw),
               o.codec == Codec::av1 ? "finding an AV1 encoder" : "finding an HEVC encoder");
  std::unique_ptr<heif_encoder, EncoderRelease> encoder(raw);
  if (o.quality) check_encode(heif_encoder_set_lossy_quality(encoder.get(), *o.quality), "setting the quality");
  check_encode(heif_encoder_set_lossless(encoder.get(), o.lossless ? 1 : 0), "setting lossless coding");
  const std::string chroma = o.chroma.value_or(o.lossless ? "444" : "420");
  check_encode(heif_encoder_set_parameter_string(encoder.get(), "chroma", chroma.c_str()), "setting the chroma format");

  std::unique_ptr<heif_encoding_options, OptionsFree> options(heif_encoding_options_alloc());
  std::unique_ptr<heif_color_profile_nclx, NclxFree> nclx;
  if (o.lossless) {
    // Lossless RGB: no YCbCr conversion (matrix coefficients 0, identity), full range.
    nclx.reset(heif_nclx_color_profile_alloc());
    nclx->matrix_coefficients = heif_matrix_coefficients_RGB_GBR;
    nclx->full_range_flag = 1;
    options->output_nclx_profile = nclx.get();
    // libheif 1.15 leaves the nclx box out of HEIC files by default (a macOS
    // workaround); without it a reader assumes BT.601 YCbCr and the RGB
    // samples would not come back.
    options->macOS_compatibility_workaround_no_nclx_profile = 0;
  }
  if (o.orientation) options->image_orientation = static_cast<heif_orientation>(*o.orientation);  // see fix_turned_ispe

  std::vector<std::unique_ptr<heif_image_handle, HandleRelease>> handles;
  for (std::size_t k = 0; k < images_.size(); ++k) {
    const NDArray& a = images_[k];
    const bool gray = a.ndim() == 2 || a.shape()[2] <= 2;
    // A gray image is coded 4:0:0; lossless gray needs no matrix.
    options->output_nclx_profile = gray ? nullptr : nclx.get();
    auto img = make_image(a, depth_for(a, o));
    if (nclx && !gray) check_encode(heif_image_set_nclx_color_profile(img.get(), nclx.get()), "setting the colour description");
    if (o.icc_profile) {
      check_encode(heif_image_set_raw_color_profile(img.get(), "prof", o.icc_profile->data(), o.icc_profile->size()), "adding the ICC profile");
    }
    heif_image_handle* h = nullptr;
    check_encode(heif_context_encode_image(ctx.get(), img.get(), encoder.get(), options.get(), &h), fmt::format("encoding image {}", k));
    handles.emplace_back(h);
  }
  heif_image_handle* primary = handles[static_cast<std::size_t>(o.primary_index.value_or(0))].get();
  check_encode(heif_context_set_primary_image(ctx.get(), primary), "setting the primary image");
  if (o.exif) check_encode(heif_context_add_exif_metadata(ctx.get(), primary, o.exif->data(), static_cast<int>(o.exif->size())), "adding EXIF");
  if (o.xmp) check_encode(heif_context_add_XMP_metadata(ctx.get(), primary, o.xmp->data(), static_cast<int>(o.xmp->size())), "adding XMP");

  Bytes file;
  heif_writer writer{};
  writer.writer_api_version = 1;
  writer.write = write_to_memory;
  check_encode(heif_context_write(ctx.get(), &writer, &file), "writing the file");
  if (o.orientation && *o.orientation >= 5) fix_turned_ispe(file, images_);
  request.sink().write(file.data(), file.size());
  images_.clear();
}

}  // namespace imio::heif
