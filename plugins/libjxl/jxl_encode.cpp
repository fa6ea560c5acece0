// The JPEG XL writer: see jxl_encode.hpp.
#include "jxl_encode.hpp"

#include "jxl_quiet.hpp"
#include "jxl_runner.hpp"

#include <imio/byte_source.hpp>
#include <imio/error.hpp>
#include <imio/metadata_write.hpp>
#include <imio/write_batch.hpp>

#include <jxl/encode.h>
#include <jxl/thread_parallel_runner.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

namespace imio::jxl {
namespace {

constexpr std::string_view kPlugin = "libjxl";
constexpr std::size_t kMaxSide = std::size_t{1} << 30;  // ISO/IEC 18181-1 level 10

struct EncoderFree {
  void operator()(JxlEncoder* e) const { JxlEncoderDestroy(e); }
};

// "(H, W, C) uint8", for messages.
std::string describe(const NDArray& a) {
  std::string dims;
  for (std::size_t d : a.shape()) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  return fmt::format("({}{}) {}", dims, a.ndim() == 1 ? "," : "", name(a.dtype()));
}


// What the write kwargs ask for (plugin.json's `write` method).
struct Options {
  bool lossless = false;
  double distance = 1.0;
  int effort = 7;
  std::optional<Value> duration;
  std::uint32_t loop = 0;
  int orientation = 1;
  std::optional<Bytes> icc_profile, exif, xmp;
  bool from_jpeg = false;
  unsigned threads = 0;
};

Options read_options(const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "write");
  Options o;
  o.lossless = kw.get<bool>("lossless");
  const auto distance = kw.take<double>("distance");
  const auto quality = kw.take<double>("quality");
  if (distance && quality) kw.fail("quality", "is given with `distance`: give one of them (quality maps to a distance as cjxl's -q)");
  if (distance) o.distance = *distance;
  if (quality) o.distance = distance_from_quality(*quality);
  // Distance 0 is mathematically lossless (cjxl's -d 0, -q 100).
  if ((distance || quality) && o.distance == 0) o.lossless = true;
  if (o.lossless && (distance || quality) && o.distance != 0) {
    kw.fail(distance ? "distance" : "quality", "asks for lossy coding, but lossless=true");
  }
  o.effort = kw.get<int>("effort");
  if (const Value* d = kw.find("duration"); d != nullptr && !d->is_none()) o.duration = *d;
  o.loop = static_cast<std::uint32_t>(kw.get<std::int64_t>("loop"));
  o.icc_profile = take_icc_kwarg(kw);
  o.exif = take_exif_kwarg(kw);
  // One orientation (<imio/metadata_write.hpp>): the kwarg, written into the
  // EXIF too, else the EXIF's; the codestream header stores it.
  o.orientation = reconcile_orientation(o.exif, kw.take<int>("orientation"), false).value_or(1);
  o.xmp = take_xmp_kwarg(kw);
  kw.find("is_batch");
  o.from_jpeg = kw.get<bool>("from_jpeg");
  o.threads = static_cast<unsigned>(kw.get<int>("thread_count"));
  if (o.from_jpeg) {
    // A recompressed JPEG keeps the JPEG's own coding and metadata: what a
    // bit-exact reconstruction needs.
    for (const char* key : {"lossless", "distance", "quality", "duration", "orientation", "icc_profile", "exif", "xmp", "is_batch"}) {
      for (const auto& [k, v] : kwargs) {
        if (k == key && !v.is_none()) kw.fail(key, "does not apply with from_jpeg=true (the JPEG's coding and metadata are kept as they are)");
      }
    }
  }
  if (o.duration) {
    const auto check = [&](const Value& v) {
      if (!v.is<std::int64_t>() && !v.is<double>()) kw.fail("duration", fmt::format("expects numbers of ms, not {}", v.type_name()));
      const double ms = v.get<double>();
      if (!(ms >= 0 && ms <= 4294967295.0)) kw.fail("duration", fmt::format("{} ms is outside 0 … 4294967295", ms));
    };
    if (o.duration->is<Value::List>()) {
      for (const Value& v : o.duration->ref<Value::List>()) check(v);
    } else {
      check(*o.duration);
    }
  }
  return o;
}

// The duration of frame k in ticks of 1 ms.
std::uint32_t duration_of(const Options& o, std::size_t k, std::size_t frames) {
  if (!o.duration) return 100;
  if (o.duration->is<Value::List>()) {
    const auto& list = o.duration->ref<Value::List>();
    if (list.size() != frames) {
      throw ArgumentError(fmt::format("libjxl.write(): keyword 'duration': holds {} durations for {} frames", list.size(), frames));
    }
    return static_cast<std::uint32_t>(std::llround(list[k].get<double>()));
  }
  return static_cast<std::uint32_t>(std::llround(o.duration->get<double>()));
}

std::size_t channels_of(const NDArray& a) { return a.ndim() == 2 ? 1 : a.shape()[2]; }

void check_frame(const NDArray& a, std::size_t k) {
  const auto where = [&] { return fmt::format("frame {} {}", k, describe(a)); };
  const DType t = a.dtype();
  if (t != DType::uint8 && t != DType::uint16 && t != DType::float16 && t != DType::float32) {
    throw ArgumentError(fmt::format("{}: JPEG XL stores uint8, uint16, float16 or float32 samples; {} is not supported (astype first)", where(),
                                    name(t)));
  }
  const std::size_t nd = a.ndim();
  if (nd != 2 && !(nd == 3 && a.shape()[2] >= 1 && a.shape()[2] <= 4)) {
    throw ArgumentError(fmt::format("{}: expects (H, W) gray, (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA", where()));
  }
  if (a.shape()[0] == 0 || a.shape()[1] == 0 || a.shape()[0] > kMaxSide || a.shape()[1] > kMaxSide) {
    throw ArgumentError(fmt::format("{}: each side must be 1…{} pixels", where(), kMaxSide));
  }
  // libjxl: float samples "are not allowed to be NaN or ±infinity".
  const auto finite = [&](auto* p, auto to_float) {
    for (std::size_t i = 0, n = a.size(); i < n; ++i) {
      if (!std::isfinite(to_float(p[i]))) {
        throw ArgumentError(fmt::format("{}: sample {} is {} (JPEG XL stores finite values only)", where(), i, to_float(p[i])));
      }
    }
  };
  if (t == DType::float32) finite(a.data<float>(), [](float v) { return v; });
  if (t == DType::float16) finite(a.data<float16>(), [](float16 v) { return v.to_float(); });
}

// The error of a failed encoder call: what libjxl says went wrong.
[[noreturn]] void fail(JxlEncoder* enc, std::string_view what) {
  switch (JxlEncoderGetError(enc)) {
    case JXL_ENC_ERR_OOM: throw EncodeError(fmt::format("libjxl ran out of memory {}", what));
    case JXL_ENC_ERR_JBRD:
      throw EncodeError(fmt::format("libjxl cannot keep the JPEG file reconstructible {} (its structure is beyond what a jbrd box "
                                    "records, e.g. too much data after the image): recompress it without from_jpeg",
                                    what));
    case JXL_ENC_ERR_BAD_INPUT: throw EncodeError(fmt::format("libjxl refused the input {} (not a JPEG file it can recompress?)", what));
    case JXL_ENC_ERR_NOT_SUPPORTED: throw EncodeError(fmt::format("libjxl does not support this {}", what));
    default: throw EncodeError(fmt::format("libjxl failed {}", what));
  }
}

void check(JxlEncoder* enc, JxlEncoderStatus st, std::string_view what) {
  if (st != JXL_ENC_SUCCESS) fail(enc, what);
}

Bytes drain(JxlEncoder* enc, const Request& request) {
  Bytes out(1 << 16);
  std::size_t used = 0;
  for (;;) {
    auto* next = reinterpret_cast<std::uint8_t*>(out.data()) + used;
    std::size_t avail = out.size() - used;
    const JxlEncoderStatus st = JxlEncoderProcessOutput(enc, &next, &avail);
    used = static_cast<std::size_t>(next - reinterpret_cast<std::uint8_t*>(out.data()));
    if (st == JXL_ENC_SUCCESS) break;
    if (st != JXL_ENC_NEED_MORE_OUTPUT) fail(enc, "encoding");
    request.check_bytes(std::uint64_t{out.size()} * 2);
    out.resize(out.size() * 2);
  }
  out.resize(used);
  return out;
}

std::unique_ptr<JxlEncoder, EncoderFree> make_encoder(const Runner& runner) {
  silence_libjxl();
  std::unique_ptr<JxlEncoder, EncoderFree> enc(JxlEncoderCreate(nullptr));
  if (!enc) throw std::bad_alloc();
  if (runner.opaque() != nullptr) check(enc.get(), JxlEncoderSetParallelRunner(enc.get(), JxlThreadParallelRunner, runner.opaque()), "setting its threads");
  return enc;
}

Bytes encode_jpeg(const NDArray& jpeg, const Options& o, const Request& request) {
  Runner runner(o.threads);
  auto enc = make_encoder(runner);
  check(enc.get(), JxlEncoderStoreJPEGMetadata(enc.get(), JXL_TRUE), "keeping the JPEG reconstruction data");
  JxlEncoderFrameSettings* settings = JxlEncoderFrameSettingsCreate(enc.get(), nullptr);
  check(enc.get(), JxlEncoderFrameSettingsSetOption(settings, JXL_ENC_FRAME_SETTING_EFFORT, o.effort), "setting the effort");
  // cjxl's default Brotli effort (9; libjxl's own is 4 for the brob box
  // holding the JPEG's EXIF): imio and cjxl then make the same file.
  check(enc.get(), JxlEncoderFrameSettingsSetOption(settings, JXL_ENC_FRAME_SETTING_BROTLI_EFFORT, 9), "setting the Brotli effort");
  check(enc.get(), JxlEncoderAddJPEGFrame(settings, reinterpret_cast<const std::uint8_t*>(jpeg.bytes()), jpeg.nbytes()),
        "recompressing the JPEG file");
  JxlEncoderCloseInput(enc.get());
  return drain(enc.get(), request);
}

struct Layout {
  std::uint32_t bits = 8, exponent_bits = 0;
  JxlDataType type = JXL_TYPE_UINT8;
};

Layout layout_of(DType t) {
  switch (t) {
    case DType::uint16: return {16, 0, JXL_TYPE_UINT16};
    case DType::float16: return {16, 5, JXL_TYPE_FLOAT16};
    case DType::float32: return {32, 8, JXL_TYPE_FLOAT};
    default: return {8, 0, JXL_TYPE_UINT8};
  }
}

Bytes encode_frames(const std::vector<NDArray>& frames, const Options& o, const Request& request) {
  const NDArray& first = frames.front();
  const std::size_t c = channels_of(first);
  const bool gray = c <= 2, alpha = c == 2 || c == 4;
  const Layout lay = layout_of(first.dtype());
  const bool animated = frames.size() > 1;

  Runner runner(o.threads);
  auto enc = make_encoder(runner);
  JxlEncoder* e = enc.get();

  JxlBasicInfo bi;
  JxlEncoderInitBasicInfo(&bi);
  bi.xsize = static_cast<std::uint32_t>(first.shape()[1]);
  bi.ysize = static_cast<std::uint32_t>(first.shape()[0]);
  bi.bits_per_sample = lay.bits;
  bi.exponent_bits_per_sample = lay.exponent_bits;
  bi.num_color_channels = gray ? 1 : 3;
  bi.num_extra_channels = alpha ? 1 : 0;
  bi.alpha_bits = alpha ? lay.bits : 0;
  bi.alpha_exponent_bits = alpha ? lay.exponent_bits : 0;
  // Lossless coding keeps the samples in their own colour space; lossy
  // coding works in XYB.
  bi.uses_original_profile = o.lossless ? JXL_TRUE : JXL_FALSE;
  bi.orientation = static_cast<JxlOrientation>(o.orientation);  // xsize/ysize stay the stored size
  if (animated) {
    bi.have_animation = JXL_TRUE;
    bi.animation.tps_numerator = 1000;  // ticks of 1 ms
    bi.animation.tps_denominator = 1;
    bi.animation.num_loops = o.loop;
    bi.animation.have_timecodes = JXL_FALSE;
  }
  check(e, JxlEncoderSetBasicInfo(e, &bi), "setting the image header");
  if (alpha) {
    JxlExtraChannelInfo ec;
    JxlEncoderInitExtraChannelInfo(JXL_CHANNEL_ALPHA, &ec);
    ec.bits_per_sample = lay.bits;
    ec.exponent_bits_per_sample = lay.exponent_bits;
    check(e, JxlEncoderSetExtraChannelInfo(e, 0, &ec), "describing the alpha channel");
  }
  // Level 5 holds up to 16-bit samples and 2^28 pixels; beyond, level 10.
  const int level = JxlEncoderGetRequiredCodestreamLevel(e);
  if (level < 0) throw ArgumentError(fmt::format("{}: no JPEG XL codestream level holds this image", describe(first)));
  if (level == 10) check(e, JxlEncoderSetCodestreamLevel(e, 10), "choosing codestream level 10");

  if (o.icc_profile) {
    check(e, JxlEncoderSetICCProfile(e, reinterpret_cast<const std::uint8_t*>(o.icc_profile->data()), o.icc_profile->size()),
          "storing the ICC profile (is it a valid profile?)");
  } else {
    // libjxl's own assumption for samples without a profile: sRGB for
    // integers, linear sRGB for floats — stated, so that readers see it.
    JxlColorEncoding ce;
    if (lay.exponent_bits > 0) JxlColorEncodingSetToLinearSRGB(&ce, gray ? JXL_TRUE : JXL_FALSE);
    else JxlColorEncodingSetToSRGB(&ce, gray ? JXL_TRUE : JXL_FALSE);
    check(e, JxlEncoderSetColorEncoding(e, &ce), "setting the colour encoding");
  }
  if (o.exif || o.xmp) {
    check(e, JxlEncoderUseBoxes(e), "adding metadata boxes");
    if (o.exif) {
      // ISO/IEC 18181-2 §9.1: a 4-byte offset to the TIFF header, here 0.
      Bytes box(4 + o.exif->size());
      std::memcpy(box.data() + 4, o.exif->data(), o.exif->size());
      check(e, JxlEncoderAddBox(e, "Exif", reinterpret_cast<const std::uint8_t*>(box.data()), box.size(), JXL_FALSE), "adding the Exif box");
    }
    if (o.xmp) {
      check(e, JxlEncoderAddBox(e, "xml ", reinterpret_cast<const std::uint8_t*>(o.xmp->data()), o.xmp->size(), JXL_FALSE),
            "adding the XMP box");
    }
    JxlEncoderCloseBoxes(e);
  }

  JxlEncoderFrameSettings* settings = JxlEncoderFrameSettingsCreate(e, nullptr);
  check(e, JxlEncoderFrameSettingsSetOption(settings, JXL_ENC_FRAME_SETTING_EFFORT, o.effort), "setting the effort");
  if (o.lossless) {
    check(e, JxlEncoderSetFrameLossless(settings, JXL_TRUE), "choosing lossless coding");
  } else {
    check(e, JxlEncoderSetFrameDistance(settings, static_cast<float>(std::min(o.distance, 25.0))), "setting the distance");
  }
  const JxlPixelFormat format{static_cast<std::uint32_t>(c), lay.type, JXL_NATIVE_ENDIAN, 0};
  for (std::size_t k = 0; k < frames.size(); ++k) {
    if (animated) {
      JxlFrameHeader fh;
      JxlEncoderInitFrameHeader(&fh);
      fh.duration = duration_of(o, k, frames.size());
      check(e, JxlEncoderSetFrameHeader(settings, &fh), fmt::format("setting the header of frame {}", k));
    }
    check(e, JxlEncoderAddImageFrame(settings, &format, frames[k].bytes(), frames[k].nbytes()), fmt::format("adding frame {}", k));
  }
  JxlEncoderCloseInput(e);
  return drain(e, request);
}

}  // namespace

double distance_from_quality(double quality) {
  if (quality >= 100) return 0;
  if (quality >= 30) return 0.1 + (100 - quality) * 0.09;
  return 6.4 + std::pow(2.5, (30 - quality) / 5.0) / 6.25;
}

void PendingJxl::add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request) {
  Kwargs merged = kwargs_;
  for (const auto& entry : kwargs) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& e) { return e.first == entry.first; });
    if (it != merged.end()) it->second = entry.second;
    else merged.push_back(entry);
  }
  const Options o = read_options(merged);
  if (o.from_jpeg || from_jpeg_) {
    if (!frames_.empty() || list || images.size() != 1) {
      throw ArgumentError("from_jpeg=true writes one JPEG file per JPEG XL file: one write call with one array of its bytes");
    }
    const NDArray& a = images[0];
    if (a.dtype() != DType::uint8 || a.ndim() != 1) {
      throw ArgumentError(fmt::format("from_jpeg=true expects the JPEG file's bytes as a 1-D uint8 array, not {}", describe(a)));
    }
    if (a.nbytes() < 4 || a.bytes()[0] != std::byte{0xff} || a.bytes()[1] != std::byte{0xd8}) {
      throw ArgumentError("from_jpeg=true: the array does not start with a JPEG file's SOI marker (FF D8)");
    }
    request.check_bytes(a.nbytes());
    frames_.push_back(a.copy());
    from_jpeg_ = true;
    kwargs_ = std::move(merged);
    return;
  }
  // Which axis holds frames: a list holds frames; else is_batch; else a
  // 4-D array, or a 3-D one whose last axis is no channel count (1…4).
  std::optional<bool> is_batch;
  {
    KwargReader kw(kwargs, kPlugin, "write");
    is_batch = kw.take<bool>("is_batch");
  }
  std::vector<NDArray> add;
  for (const NDArray& a : images) {
    const bool batch = pillow_write_is_batch(a, list, is_batch, std::nullopt);
    if (!batch) {
      add.push_back(a.copy());
      continue;
    }
    if (a.ndim() < 3) throw ArgumentError(fmt::format("is_batch=true needs an array of 3 or 4 axes, not {}", describe(a)));
    for (std::size_t k = 0; k < a.shape()[0]; ++k) add.push_back(a[k].copy());
  }
  if (add.empty()) throw ArgumentError("no images to write");
  request.check_frames(frames_.size() + add.size());
  for (std::size_t k = 0; k < add.size(); ++k) {
    const NDArray& a = add[k];
    check_frame(a, frames_.size() + k);
    const NDArray& first = frames_.empty() ? add.front() : frames_.front();
    if (a.shape() != first.shape() || a.dtype() != first.dtype()) {
      throw ArgumentError(fmt::format("frame {} is {} but frame 0 is {}: the frames of a JPEG XL animation share one size and sample type",
                                      frames_.size() + k, describe(a), describe(first)));
    }
  }
  for (NDArray& a : add) frames_.push_back(std::move(a));
  kwargs_ = std::move(merged);
}

void PendingJxl::flush(Request& request) {
  if (frames_.empty()) return;
  const Options o = read_options(kwargs_);
  const Bytes file = from_jpeg_ ? encode_jpeg(frames_.front(), o, request) : encode_frames(frames_, o, request);
  request.sink().write(file.data(), file.size());
  frames_.clear();
}

}  // namespace imio::jxl
