// The WebP writer. Everything a call asks for is checked before the first
// byte reaches the sink; the file is encoded in memory and written at close.
#include "webp_writer.hpp"

#include <imio/metadata_write.hpp>
#include <imio/write_batch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "webp_encode.hpp"

namespace imio::webp {
namespace {

constexpr std::string_view kPlugin = "libwebp";
constexpr std::size_t kMaxDimension = 16383;  // WEBP_MAX_DIMENSION
constexpr std::int64_t kMaxDuration = 0xffffff;  // ANMF: 24 bits of milliseconds

const Value::List* as_list(const Value& v) { return v.is<Value::List>() ? &v.ref<Value::List>() : nullptr; }

std::optional<double> as_number(const Value& x) {
  if (x.is<std::int64_t>()) return static_cast<double>(x.ref<std::int64_t>());
  if (x.is<double>()) return x.ref<double>();
  return std::nullopt;
}

// One duration per frame, rounded to whole ms. `frames` is the final count
// only when `complete` (a later write call may still add frames).
std::vector<int> durations(KwargReader& kw, std::size_t frames, bool complete) {
  const Value* v = kw.find("duration");
  if (v == nullptr || v->is_none()) return std::vector<int>(frames, 0);
  const auto one = [&](const Value& x) {
    const auto d = as_number(x);
    if (!d || !(*d >= 0) || std::round(*d) > double(kMaxDuration)) {
      kw.fail("duration", fmt::format("expects numbers of milliseconds 0…{}", kMaxDuration));
    }
    return static_cast<int>(std::lround(*d));
  };
  std::vector<int> out;
  if (const auto* list = as_list(*v)) {
    for (const Value& x : *list) out.push_back(one(x));
    if (complete && out.size() != frames) kw.fail("duration", fmt::format("has {} values for {} frames", out.size(), frames));
  } else {
    out.assign(frames, one(*v));
  }
  std::int64_t total = 0;
  for (const int d : out) total += d;
  if (total > INT_MAX) kw.fail("duration", "adds up to more than 2^31 - 1 ms");
  return out;
}

std::uint32_t background(KwargReader& kw) {
  const Value* v = kw.find("background");
  if (v == nullptr || v->is_none()) return 0;  // Pillow: (0, 0, 0, 0)
  const auto* list = as_list(*v);
  std::int64_t c[4] = {};
  bool ok = list != nullptr && list->size() == 4;
  for (std::size_t i = 0; ok && i < 4; ++i) {
    ok = (*list)[i].is<std::int64_t>() && (*list)[i].ref<std::int64_t>() >= 0 && (*list)[i].ref<std::int64_t>() <= 255;
    if (ok) c[i] = (*list)[i].ref<std::int64_t>();
  }
  if (!ok) kw.fail("background", "expects [r, g, b, a] with integers 0…255");
  return (std::uint32_t(c[3]) << 24) | (std::uint32_t(c[0]) << 16) | (std::uint32_t(c[1]) << 8) | std::uint32_t(c[2]);
}

// Pillow's WebP keywords. `frames`: how many frames the file gets so far.
EncodeOptions read_options(KwargReader& kw, std::size_t frames, bool complete) {
  EncodeOptions o;
  const bool animation = frames > 1;
  o.allow_mixed = kw.get<bool>("allow_mixed");
  o.lossless = kw.get<bool>("lossless") && !o.allow_mixed;  // Pillow: allow_mixed turns lossless off
  o.quality = kw.get<float>("quality");
  o.alpha_quality = kw.get<int>("alpha_quality");
  o.method = kw.take<int>("method").value_or(animation ? 0 : 4);  // Pillow: _save_all 0, _save 4
  o.exact = kw.get<bool>("exact");
  o.durations = durations(kw, frames, complete);
  o.loop = kw.get<int>("loop");
  o.bgcolor = background(kw);
  o.minimize_size = kw.get<bool>("minimize_size");
  // Pillow's key-frame defaults (from gif2webp); libwebp adjusts
  // inconsistent pairs itself (kmin < kmax, kmin ≥ kmax / 2 + 1).
  o.kmin = kw.take<int>("kmin").value_or(o.lossless ? 9 : 3);
  o.kmax = kw.take<int>("kmax").value_or(o.lossless ? 17 : 5);
  o.icc = take_icc_kwarg(kw);
  // The EXIF chunk holds the TIFF structure (Pillow strips a JPEG APP1
  // prefix; take_exif_kwarg too); `orientation` is written into it.
  o.exif = take_exif_kwarg(kw);
  reconcile_orientation(o.exif, kw.take<int>("orientation"));
  o.xmp = take_xmp_kwarg(kw);
  return o;
}

EncodeOptions parse(const Kwargs& kwargs, std::size_t frames, bool complete) {
  KwargReader kw(kwargs, kPlugin, "write");
  kw.find("is_batch");
  kw.find("mode");
  EncodeOptions o = read_options(kw, frames, complete);
  kw.finish();
  return o;
}

bool single_band(const std::string& mode) { return mode == "1" || mode == "L"; }

// spec §5.1.6: the channel-last layouts a WebP frame is made from. With
// `mode`, the array must already be in that mode (imio converts nothing).
FrameView frame_of(const NDArray& a, std::size_t index, bool batch, const std::optional<std::string>& mode) {
  const Shape& s = a.shape();
  const std::size_t lead = batch ? 1 : 0;
  const std::size_t nd = s.size() - lead;
  FrameView f;
  if (nd == 2) {
    f.channels = 1;
  } else if (nd == 3 && s[lead + 2] >= 2 && s[lead + 2] <= 4) {
    f.channels = static_cast<int>(s[lead + 2]);
  } else if (nd == 3 && s[lead + 2] == 1) {
    throw ArgumentError("cannot write an image with a single explicit colour channel (H, W, 1): pass (H, W)");
  } else {
    throw ArgumentError(fmt::format(
        "cannot write shape ({}) as WebP: frames are (H, W), (H, W, 2), (H, W, 3) or (H, W, 4)", fmt::join(s, ", ")));
  }
  f.height = s[lead];
  f.width = s[lead + 1];
  if (f.height == 0 || f.width == 0 || f.height > kMaxDimension || f.width > kMaxDimension) {
    throw ArgumentError(fmt::format("cannot write a {}x{} image as WebP (1…{} pixels per side)", f.width, f.height,
                                    kMaxDimension));
  }
  if (a.dtype() == DType::bool_) {
    if (f.channels != 1) throw ArgumentError("bool images are written as black and white: shape (H, W)");
    f.bilevel = true;
  } else if (a.dtype() != DType::uint8) {
    throw ArgumentError(fmt::format("cannot write dtype {} as WebP (uint8, or bool for black and white)", name(a.dtype())));
  }
  if (mode) {
    static constexpr const char* kModes[] = {"", "L", "LA", "RGB", "RGBA"};
    const std::string natural = f.bilevel ? "1" : kModes[f.channels];
    if (*mode != natural) {
      throw ArgumentError(fmt::format("mode '{}' does not describe a {} array of shape ({}) (it is mode '{}'); imio does "
                                      "not convert on write",
                                      *mode, name(a.dtype()),
                                      fmt::join(Shape(s.begin() + static_cast<std::ptrdiff_t>(lead), s.end()), ", "), natural));
    }
  }
  const std::size_t frame_bytes = f.height * f.width * static_cast<std::size_t>(f.channels);
  f.data = a.bytes() + index * frame_bytes;
  return f;
}

// Later calls override earlier ones, key by key.
Kwargs merged(const Kwargs& before, const Kwargs& now) {
  Kwargs out = before;
  for (const auto& given : now) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == given.first; });
    if (it == out.end()) {
      out.push_back(given);
    } else {
      it->second = given.second;
    }
  }
  return out;
}

}  // namespace

void PendingWebP::add(std::span<const NDArray> images, bool list, const Kwargs& kwargs, const Request& request) {
  // is_batch and mode describe this call's arrays; the rest are encoder options.
  KwargReader call(kwargs, kPlugin, "write");
  const auto is_batch = call.take<bool>("is_batch");
  const auto mode = call.take<std::string>("mode");
  Kwargs options;
  for (const auto& kv : kwargs) {
    if (kv.first != "is_batch" && kv.first != "mode") options.push_back(kv);
  }
  std::vector<FrameView> frames;
  for (const NDArray& a : images) {
    if (a.bytes() == nullptr && a.size() != 0) throw ArgumentError("cannot write an empty NDArray");
    if (a.ndim() < 2) throw ArgumentError(fmt::format("cannot write a {}-D array as WebP", a.ndim()));
    const bool b = pillow_write_is_batch(a, list, is_batch, mode ? std::optional<bool>(single_band(*mode)) : std::nullopt);
    const std::size_t n = b ? a.shape()[0] : 1;
    for (std::size_t k = 0; k < n; ++k) frames.push_back(frame_of(a, k, b, mode));
  }
  if (frames.empty()) throw ArgumentError("no frames to write");
  const std::size_t height = frames_.empty() ? frames[0].height : frames_[0].height;
  const std::size_t width = frames_.empty() ? frames[0].width : frames_[0].width;
  for (const FrameView& f : frames) {
    if (f.height != height || f.width != width) {
      throw ArgumentError(fmt::format("the frames of an animated WebP share the canvas size: a {}x{} frame after {}x{}",
                                      f.width, f.height, width, height));
    }
  }
  const std::size_t total = frames_.size() + frames.size();
  request.check_frames(total);
  Kwargs all = merged(merged_, options);
  parse(all, total, false);  // complete checks; per-frame list lengths wait for flush()
  for (const FrameView& f : frames) {
    Frame kept{Bytes(f.height * f.width * static_cast<std::size_t>(f.channels)), f.height, f.width, f.channels, f.bilevel};
    std::memcpy(kept.pixels.data(), f.data, kept.pixels.size());
    frames_.push_back(std::move(kept));
  }
  merged_ = std::move(all);
}

void PendingWebP::flush(Request& request) {
  if (frames_.empty()) return;
  std::vector<FrameView> views;
  for (const Frame& f : frames_) views.push_back({f.pixels.data(), f.height, f.width, f.channels, f.bilevel});
  const EncodeOptions o = parse(merged_, views.size(), true);
  // Pillow's _save_all writes one frame as a still image (_save).
  const Bytes file = views.size() == 1 ? encode_still(views[0], o) : encode_animation(views, o);
  frames_.clear();
  request.sink().write(file.data(), file.size());
}

}  // namespace imio::webp
