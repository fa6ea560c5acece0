// libjxl's reading side: see jxl_decode.hpp.
#include "jxl_decode.hpp"

#include "jxl_quiet.hpp"
#include "jxl_runner.hpp"

#include <imio/checked_math.hpp>
#include <imio/error.hpp>

#include <jxl/decode.h>
#include <jxl/thread_parallel_runner.h>
#include <jxl/version.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace imio::jxl {
namespace {

struct DecoderFree {
  void operator()(JxlDecoder* d) const { JxlDecoderDestroy(d); }
};
using DecoderPtr = std::unique_ptr<JxlDecoder, DecoderFree>;

// A decoder over the whole file: libjxl reads from imio's view of the data
// (never copied) and is told that nothing follows, so that data cut off
// are an error rather than a request for more.
DecoderPtr open_decoder(std::span<const std::byte> file) {
  silence_libjxl();
  DecoderPtr d(JxlDecoderCreate(nullptr));
  if (!d) throw std::bad_alloc();
  JxlDecoderSetInput(d.get(), reinterpret_cast<const std::uint8_t*>(file.data()), file.size());
  JxlDecoderCloseInput(d.get());
  return d;
}

void subscribe(JxlDecoder* d, int events) {
  if (JxlDecoderSubscribeEvents(d, events) != JXL_DEC_SUCCESS) throw DecodeError("libjxl refused the decoder's settings");
}

std::string channel_type(JxlExtraChannelType t) {
  switch (t) {
    case JXL_CHANNEL_ALPHA: return "alpha";
    case JXL_CHANNEL_DEPTH: return "depth";
    case JXL_CHANNEL_SPOT_COLOR: return "spot_color";
    case JXL_CHANNEL_SELECTION_MASK: return "selection_mask";
    case JXL_CHANNEL_BLACK: return "black";
    case JXL_CHANNEL_CFA: return "cfa";
    case JXL_CHANNEL_THERMAL: return "thermal";
    case JXL_CHANNEL_OPTIONAL: return "optional";
    default: return "unknown";
  }
}

Value xy(const double (&v)[2]) { return Value{v[0], v[1]}; }

// The colour encoding as a dict of its enumerated fields (ISO/IEC 18181-1
// ColourEncoding; the names are CICP's where it has them).
Dict color_dict(const JxlColorEncoding& c) {
  Dict d;
  switch (c.color_space) {
    case JXL_COLOR_SPACE_RGB: d.set("color_space", "RGB"); break;
    case JXL_COLOR_SPACE_GRAY: d.set("color_space", "gray"); break;
    case JXL_COLOR_SPACE_XYB: d.set("color_space", "XYB"); break;
    default: d.set("color_space", "unknown"); break;
  }
  switch (c.white_point) {
    case JXL_WHITE_POINT_D65: d.set("white_point", "D65"); break;
    case JXL_WHITE_POINT_E: d.set("white_point", "E"); break;
    case JXL_WHITE_POINT_DCI: d.set("white_point", "DCI"); break;
    default: d.set("white_point", xy(c.white_point_xy)); break;
  }
  if (c.color_space != JXL_COLOR_SPACE_GRAY) {
    switch (c.primaries) {
      case JXL_PRIMARIES_SRGB: d.set("primaries", "sRGB"); break;
      case JXL_PRIMARIES_2100: d.set("primaries", "BT.2100"); break;
      case JXL_PRIMARIES_P3: d.set("primaries", "P3"); break;
      default:
        d.set("primaries", Value{xy(c.primaries_red_xy), xy(c.primaries_green_xy), xy(c.primaries_blue_xy)});
        break;
    }
  }
  switch (c.transfer_function) {
    case JXL_TRANSFER_FUNCTION_709: d.set("transfer_function", "BT.709"); break;
    case JXL_TRANSFER_FUNCTION_LINEAR: d.set("transfer_function", "linear"); break;
    case JXL_TRANSFER_FUNCTION_SRGB: d.set("transfer_function", "sRGB"); break;
    case JXL_TRANSFER_FUNCTION_PQ: d.set("transfer_function", "PQ"); break;
    case JXL_TRANSFER_FUNCTION_DCI: d.set("transfer_function", "DCI"); break;
    case JXL_TRANSFER_FUNCTION_HLG: d.set("transfer_function", "HLG"); break;
    case JXL_TRANSFER_FUNCTION_GAMMA: d.set("transfer_function", "gamma"); d.set("gamma", c.gamma); break;
    default: d.set("transfer_function", "unknown"); break;
  }
  static constexpr const char* kIntents[] = {"perceptual", "relative", "saturation", "absolute"};
  const auto intent = static_cast<std::size_t>(c.rendering_intent);
  d.set("rendering_intent", intent < 4 ? kIntents[intent] : "unknown");
  return d;
}

void read_basic_info(JxlDecoder* d, Info& info, const Request& request) {
  JxlBasicInfo b{};
  if (JxlDecoderGetBasicInfo(d, &b) != JXL_DEC_SUCCESS) throw DecodeError("libjxl could not read the image header");
  info.width = b.xsize;
  info.height = b.ysize;
  info.orientation = std::clamp(static_cast<int>(b.orientation), 1, 8);
  info.bits = b.bits_per_sample;
  info.exponent_bits = b.exponent_bits_per_sample;
  info.color_channels = b.num_color_channels;
  info.alpha = b.alpha_bits > 0;
  info.alpha_bits = b.alpha_bits;
  info.alpha_premultiplied = b.alpha_premultiplied != 0;
  info.uses_original_profile = b.uses_original_profile != 0;
  info.have_preview = b.have_preview != 0;
  info.intensity_target = b.intensity_target;
  info.animated = b.have_animation != 0;
  if (info.animated) {
    info.tps_numerator = b.animation.tps_numerator;
    info.tps_denominator = b.animation.tps_denominator;
    info.loops = b.animation.num_loops;
  }
  if (info.color_channels != 1 && info.color_channels != 3) {
    throw DecodeError(fmt::format("the image header declares {} colour channels (JPEG XL has 1 or 3)", info.color_channels));
  }
  // The image against the Limits before libjxl allocates anything for it.
  request.check_pixels(info.width, info.height);
  for (std::uint32_t k = 0; k < b.num_extra_channels; ++k) {
    JxlExtraChannelInfo e{};
    if (JxlDecoderGetExtraChannelInfo(d, k, &e) != JXL_DEC_SUCCESS) throw DecodeError(fmt::format("libjxl could not read extra channel {}", k));
    ExtraChannel ch;
    ch.type = channel_type(e.type);
    ch.bits = e.bits_per_sample;
    ch.exponent_bits = e.exponent_bits_per_sample;
    ch.dim_shift = e.dim_shift;
    if (e.name_length > 0 && e.name_length < 65536) {
      std::string name(e.name_length + 1, '\0');
      if (JxlDecoderGetExtraChannelName(d, k, name.data(), name.size()) == JXL_DEC_SUCCESS) {
        name.resize(e.name_length);
        ch.name = std::move(name);
      }
    }
    info.extra_channels.push_back(std::move(ch));
  }
}

// libjxl 0.9 dropped the unused pixel-format argument of the colour
// queries (JxlDecoderGetColorAsEncodedProfile, JxlDecoderGetICCProfileSize,
// JxlDecoderGetColorAsICCProfile): 0.7 and 0.8 take it, as nullptr.
#if JPEGXL_NUMERIC_VERSION < JPEGXL_COMPUTE_NUMERIC_VERSION(0, 9, 0)
JxlDecoderStatus encoded_profile(JxlDecoder* d, JxlColorEncoding* c) {
  return JxlDecoderGetColorAsEncodedProfile(d, nullptr, JXL_COLOR_PROFILE_TARGET_ORIGINAL, c);
}
JxlDecoderStatus icc_size(JxlDecoder* d, std::size_t* n) { return JxlDecoderGetICCProfileSize(d, nullptr, JXL_COLOR_PROFILE_TARGET_ORIGINAL, n); }
JxlDecoderStatus icc_profile(JxlDecoder* d, std::uint8_t* p, std::size_t n) {
  return JxlDecoderGetColorAsICCProfile(d, nullptr, JXL_COLOR_PROFILE_TARGET_ORIGINAL, p, n);
}
#else
JxlDecoderStatus encoded_profile(JxlDecoder* d, JxlColorEncoding* c) { return JxlDecoderGetColorAsEncodedProfile(d, JXL_COLOR_PROFILE_TARGET_ORIGINAL, c); }
JxlDecoderStatus icc_size(JxlDecoder* d, std::size_t* n) { return JxlDecoderGetICCProfileSize(d, JXL_COLOR_PROFILE_TARGET_ORIGINAL, n); }
JxlDecoderStatus icc_profile(JxlDecoder* d, std::uint8_t* p, std::size_t n) {
  return JxlDecoderGetColorAsICCProfile(d, JXL_COLOR_PROFILE_TARGET_ORIGINAL, p, n);
}
#endif

void read_color(JxlDecoder* d, Info& info, const Request& request) {
  JxlColorEncoding c{};
  if (encoded_profile(d, &c) == JXL_DEC_SUCCESS) {
    info.color_encoding = color_dict(c);
    return;
  }
  std::size_t n = 0;
  if (icc_size(d, &n) != JXL_DEC_SUCCESS || n == 0) return;
  request.check_bytes(n);
  Bytes icc(n);
  if (icc_profile(d, reinterpret_cast<std::uint8_t*>(icc.data()), n) == JXL_DEC_SUCCESS) {
    info.icc = std::move(icc);
  }
}

std::string box_type(JxlDecoder* d) {
  JxlBoxType t{};
  if (JxlDecoderGetBoxType(d, t, JXL_TRUE) != JXL_DEC_SUCCESS) return "????";
  return std::string(t, 4);
}

[[noreturn]] void damaged(const Info& info, bool have_basic_info, std::size_t frames, bool truncated) {
  const char* why = truncated ? "the data end too early" : "the data are damaged or end too early";
  if (!have_basic_info) throw DecodeError(fmt::format("libjxl cannot read the image header ({})", why));
  if (info.animated) throw DecodeError(fmt::format("libjxl cannot read the header of frame {} ({})", frames, why));
  throw DecodeError(fmt::format("libjxl cannot read the frame header ({})", why));
}

// Every layer (coalescing off: each frame as stored, before blending) is
// allocated by libjxl at its own size, which may exceed the image's: a
// crafted 1×1 image can declare an 8163×2954 layer (libjxl issue #528).
// Each is held to max_pixels before any pixel is decoded.
void check_layers(std::span<const std::byte> file, const Request& request) {
  DecoderPtr d = open_decoder(file);
  JxlDecoderSetKeepOrientation(d.get(), JXL_TRUE);
  if (JxlDecoderSetCoalescing(d.get(), JXL_FALSE) != JXL_DEC_SUCCESS) return;
  subscribe(d.get(), JXL_DEC_FRAME);
  const std::uint64_t max_pixels = request.limits().max_pixels;
  std::uint64_t layers = 0;
  for (;;) {
    const JxlDecoderStatus st = JxlDecoderProcessInput(d.get());
    if (st != JXL_DEC_FRAME) return;  // the first pass has judged the file already
    JxlFrameHeader h{};
    if (JxlDecoderGetFrameHeader(d.get(), &h) != JXL_DEC_SUCCESS) return;
    const std::uint64_t pixels = std::uint64_t{h.layer_info.xsize} * h.layer_info.ysize;
    if (pixels > max_pixels) {
      throw LimitError(fmt::format("layer {} of the file is {}x{} pixels, more than max_pixels ({}); raise Limits.max_pixels to read it",
                                   layers, h.layer_info.xsize, h.layer_info.ysize, max_pixels));
    }
    // Zero-duration layers are composited into one frame: each costs a
    // blend of the whole canvas, so they count against max_frames too.
    if (++layers > request.limits().max_frames) {
      throw LimitError(fmt::format("the file holds more than {} layers (Limits.max_frames)", request.limits().max_frames));
    }
  }
}

}  // namespace

std::string libjxl_version() {
  const std::uint32_t v = JxlDecoderVersion();
  return fmt::format("libjxl {}.{}.{}", v / 1000000, v / 1000 % 1000, v % 1000);
}

bool has_signature(std::span<const std::byte> first) {
  const JxlSignature s = JxlSignatureCheck(reinterpret_cast<const std::uint8_t*>(first.data()), first.size());
  return s == JXL_SIG_CODESTREAM || s == JXL_SIG_CONTAINER;
}

DType dtype_of(Sample s) {
  switch (s) {
    case Sample::uint16: return DType::uint16;
    case Sample::float16: return DType::float16;
    case Sample::float32: return DType::float32;
    default: return DType::uint8;
  }
}

Shape frame_shape(const Info& info, bool rotate) {
  const bool turned = rotate && info.orientation >= 5;
  Shape s{turned ? info.width : info.height, turned ? info.height : info.width};
  const std::size_t c = info.color_channels + (info.alpha ? 1 : 0);
  if (c > 1) s.push_back(c);
  return s;
}

Info probe(std::span<const std::byte> file, const Request& request) {
  Info info;
  const auto head = file.first(std::min<std::size_t>(file.size(), 12));
  info.container = JxlSignatureCheck(reinterpret_cast<const std::uint8_t*>(head.data()), head.size()) == JXL_SIG_CONTAINER;
  DecoderPtr d = open_decoder(file);
  // The stored orientation and size: the read applies the orientation or not.
  JxlDecoderSetKeepOrientation(d.get(), JXL_TRUE);
  subscribe(d.get(), JXL_DEC_BASIC_INFO | JXL_DEC_COLOR_ENCODING | JXL_DEC_FRAME | JXL_DEC_BOX);
  bool have_basic_info = false;
  for (;;) {
    const JxlDecoderStatus st = JxlDecoderProcessInput(d.get());
    switch (st) {
      case JXL_DEC_BASIC_INFO:
        read_basic_info(d.get(), info, request);
        have_basic_info = true;
        break;
      case JXL_DEC_COLOR_ENCODING: read_color(d.get(), info, request); break;
      case JXL_DEC_FRAME: {
        JxlFrameHeader h{};
        if (JxlDecoderGetFrameHeader(d.get(), &h) != JXL_DEC_SUCCESS) damaged(info, have_basic_info, info.frames.size(), false);
        Frame f;
        f.duration = h.duration;
        if (h.name_length > 0 && h.name_length < 65536) {
          std::string name(h.name_length + 1, '\0');
          if (JxlDecoderGetFrameName(d.get(), name.data(), name.size()) == JXL_DEC_SUCCESS) {
            name.resize(h.name_length);
            f.name = std::move(name);
          }
        }
        info.frames.push_back(std::move(f));
        if (info.frames.size() > request.limits().max_frames) {
          throw LimitError(fmt::format("the animation holds more than {} frames (Limits.max_frames)", request.limits().max_frames));
        }
        break;
      }
      case JXL_DEC_BOX: {
        std::string type = box_type(d.get());
        if (type == "jbrd") info.jpeg_reconstruction = true;
        if (info.boxes.size() < 4096) info.boxes.push_back(std::move(type));
        break;
      }
      case JXL_DEC_SUCCESS:
        if (!have_basic_info || info.frames.empty()) damaged(info, have_basic_info, info.frames.size(), true);
        check_layers(file, request);
        return info;
      case JXL_DEC_NEED_MORE_INPUT: damaged(info, have_basic_info, info.frames.size(), true);
      default: damaged(info, have_basic_info, info.frames.size(), false);
    }
  }
}

// ---------------------------------------------------------------- frames

struct FrameDecoder::State {
  DecoderPtr dec;
  Runner runner;
  JxlPixelFormat format{};
  const Info* info = nullptr;
  State(std::span<const std::byte> file, unsigned threads) : dec(open_decoder(file)), runner(threads) {}
};

FrameDecoder::FrameDecoder(std::span<const std::byte> file, const Info& info, const DecodeOptions& options)
    : s_(std::make_unique<State>(file, options.threads)) {
  JxlDecoder* d = s_->dec.get();
  s_->info = &info;
  if (s_->runner.opaque() != nullptr &&
      JxlDecoderSetParallelRunner(d, JxlThreadParallelRunner, s_->runner.opaque()) != JXL_DEC_SUCCESS) {
    throw DecodeError("libjxl refused its thread pool");
  }
  JxlDecoderSetKeepOrientation(d, options.rotate ? JXL_FALSE : JXL_TRUE);
  // Straight (unassociated) alpha, as PNG, Pillow and djxl's PNG have it.
  JxlDecoderSetUnpremultiplyAlpha(d, JXL_TRUE);
  subscribe(d, JXL_DEC_COLOR_ENCODING | JXL_DEC_FULL_IMAGE);
  s_->format.num_channels = info.color_channels + (info.alpha ? 1 : 0);
  switch (options.sample) {
    case Sample::uint8: s_->format.data_type = JXL_TYPE_UINT8; break;
    case Sample::uint16: s_->format.data_type = JXL_TYPE_UINT16; break;
    case Sample::float16: s_->format.data_type = JXL_TYPE_FLOAT16; break;
    case Sample::float32: s_->format.data_type = JXL_TYPE_FLOAT; break;
  }
  s_->format.endianness = JXL_NATIVE_ENDIAN;
  s_->format.align = 0;
}

FrameDecoder::~FrameDecoder() = default;

void FrameDecoder::skip(std::size_t n) {
  if (n == 0) return;
  JxlDecoderSkipFrames(s_->dec.get(), n);
  position_ += n;
}

void FrameDecoder::next(std::byte* dst, std::size_t bytes) {
  JxlDecoder* d = s_->dec.get();
  const Info& info = *s_->info;
  const std::size_t k = position_;
  const auto fail = [&](const char* why) -> DecodeError {
    if (info.animated) return DecodeError(fmt::format("libjxl cannot decode frame {} of {} ({})", k, info.frames.size(), why));
    return DecodeError(fmt::format("libjxl cannot decode the image ({})", why));
  };
  for (;;) {
    switch (JxlDecoderProcessInput(d)) {
      case JXL_DEC_COLOR_ENCODING:
        // An XYB image whose original colour is an ICC profile: without a
        // colour management system libjxl would give linear sRGB; sRGB
        // (gray: the sRGB transfer curve) is what integer samples expect.
        if (!info.uses_original_profile && info.icc) {
          JxlColorEncoding srgb{};
          srgb.color_space = info.color_channels == 1 ? JXL_COLOR_SPACE_GRAY : JXL_COLOR_SPACE_RGB;
          srgb.white_point = JXL_WHITE_POINT_D65;
          srgb.primaries = JXL_PRIMARIES_SRGB;
          srgb.transfer_function = JXL_TRANSFER_FUNCTION_SRGB;
          srgb.rendering_intent = JXL_RENDERING_INTENT_PERCEPTUAL;
          JxlDecoderSetPreferredColorProfile(d, &srgb);
        }
        break;
      case JXL_DEC_NEED_IMAGE_OUT_BUFFER: {
        std::size_t need = 0;
        if (JxlDecoderImageOutBufferSize(d, &s_->format, &need) != JXL_DEC_SUCCESS || need != bytes) {
          throw fail("the frame's size differs from the image header's");
        }
        if (JxlDecoderSetImageOutBuffer(d, &s_->format, dst, bytes) != JXL_DEC_SUCCESS) throw fail("libjxl refused the output buffer");
        break;
      }
      case JXL_DEC_FULL_IMAGE: ++position_; return;
      case JXL_DEC_SUCCESS: throw fail("the file ends before this frame");
      case JXL_DEC_NEED_MORE_INPUT: throw fail("the data end too early");
      default: throw fail("the data are damaged or end too early");
    }
  }
}

// ---------------------------------------------------------------- boxes

Boxes read_boxes(std::span<const std::byte> file, const Request& request) {
  Boxes out;
  if (file.size() < 12) return out;
  DecoderPtr d = open_decoder(file);
  JxlDecoderSetDecompressBoxes(d.get(), JXL_TRUE);  // brob boxes: Brotli is part of libjxl
  subscribe(d.get(), JXL_DEC_BOX);
  Bytes buffer;
  std::optional<Bytes>* target = nullptr;
  const auto finish = [&] {
    if (target == nullptr) return;
    buffer.resize(buffer.size() - JxlDecoderReleaseBoxBuffer(d.get()));
    if (!*target) *target = std::move(buffer);  // the first box of a type
    buffer = Bytes();
    target = nullptr;
  };
  for (;;) {
    const JxlDecoderStatus st = JxlDecoderProcessInput(d.get());
    if (st == JXL_DEC_BOX) {
      finish();
      const std::string type = box_type(d.get());
      target = type == "Exif" ? &out.exif : type == "xml " ? &out.xmp : type == "jumb" ? &out.jumbf : nullptr;
      if (target == nullptr) continue;
      buffer.resize(4096);
      JxlDecoderSetBoxBuffer(d.get(), reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size());
    } else if (st == JXL_DEC_BOX_NEED_MORE_OUTPUT) {
      const std::size_t used = buffer.size() - JxlDecoderReleaseBoxBuffer(d.get());
      request.check_bytes(std::uint64_t{buffer.size()} * 2);
      buffer.resize(buffer.size() * 2);
      JxlDecoderSetBoxBuffer(d.get(), reinterpret_cast<std::uint8_t*>(buffer.data()) + used, buffer.size() - used);
    } else {
      // SUCCESS, or the codestream's own damage (which the pixel reads report)
      if (st == JXL_DEC_SUCCESS) finish();
      break;
    }
  }
  // ISO/IEC 18181-2 §9.1: the Exif box starts with the offset of the TIFF header.
  if (out.exif) {
    if (out.exif->size() < 4) {
      out.exif.reset();
    } else {
      std::uint32_t offset = 0;
      for (std::size_t i = 0; i < 4; ++i) offset = (offset << 8) | std::to_integer<std::uint32_t>((*out.exif)[i]);
      if (offset > out.exif->size() - 4) out.exif.reset();
      else out.exif->erase(out.exif->begin(), out.exif->begin() + 4 + static_cast<std::ptrdiff_t>(offset));
    }
  }
  return out;
}

// ---------------------------------------------------------------- JPEG

Bytes reconstruct_jpeg(std::span<const std::byte> file, const Info& info, const Request& request, unsigned threads) {
  if (!info.jpeg_reconstruction) {
    throw ArgumentError("jpeg_reconstruction=true: the file holds no JPEG reconstruction data (no jbrd box): it was not made from a JPEG "
                        "file, or made without cjxl's --jpeg_store_metadata");
  }
  DecoderPtr d = open_decoder(file);
  Runner runner(threads);
  if (runner.opaque() != nullptr) JxlDecoderSetParallelRunner(d.get(), JxlThreadParallelRunner, runner.opaque());
  subscribe(d.get(), JXL_DEC_JPEG_RECONSTRUCTION | JXL_DEC_FULL_IMAGE);
  Bytes jpeg;
  bool started = false;
  const auto grow = [&](std::size_t used) {
    const std::uint64_t size = std::max<std::uint64_t>(std::uint64_t{jpeg.size()} * 2, 1 << 16);
    request.check_bytes(size);
    jpeg.resize(size);
    JxlDecoderSetJPEGBuffer(d.get(), reinterpret_cast<std::uint8_t*>(jpeg.data()) + used, jpeg.size() - used);
  };
  for (;;) {
    switch (JxlDecoderProcessInput(d.get())) {
      case JXL_DEC_JPEG_RECONSTRUCTION:
        started = true;
        jpeg.resize(std::max<std::size_t>(file.size() * 2, 1 << 16));
        request.check_bytes(jpeg.size());
        JxlDecoderSetJPEGBuffer(d.get(), reinterpret_cast<std::uint8_t*>(jpeg.data()), jpeg.size());
        break;
      case JXL_DEC_JPEG_NEED_MORE_OUTPUT: {
        const std::size_t used = jpeg.size() - JxlDecoderReleaseJPEGBuffer(d.get());
        grow(used);
        break;
      }
      case JXL_DEC_FULL_IMAGE: {
        if (!started) throw DecodeError("libjxl decoded pixels instead of reconstructing the JPEG file");
        jpeg.resize(jpeg.size() - JxlDecoderReleaseJPEGBuffer(d.get()));
        // libjxl 0.7 can report success for a cut-off file without writing
        // the JPEG (fixed upstream in 2024): a JPEG starts with SOI.
        if (jpeg.size() < 4 || jpeg[0] != std::byte{0xff} || jpeg[1] != std::byte{0xd8}) {
          throw DecodeError("libjxl could not reconstruct the JPEG file (the data are damaged or end too early)");
        }
        return jpeg;
      }
      case JXL_DEC_NEED_IMAGE_OUT_BUFFER:
        throw DecodeError("the JPEG reconstruction data (jbrd box) do not match the codestream");
      case JXL_DEC_SUCCESS:
      case JXL_DEC_NEED_MORE_INPUT: throw DecodeError("libjxl could not reconstruct the JPEG file (the data end too early)");
      default: throw DecodeError("libjxl could not reconstruct the JPEG file (the data are damaged or end too early)");
    }
  }
}

}  // namespace imio::jxl
