#include "gif_writer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gif_encoder.hpp"

namespace imio::giflib {
namespace {

constexpr std::string_view kPlugin = "giflib";

// A number or a list of numbers, in milliseconds or disposal codes. A
// scalar's range is checked against plugin.json; a list's items here.
std::vector<int> int_list(KwargReader& kw, std::string_view key, int lo, int hi) {
  const Value* v = kw.find(key);
  if (v == nullptr || v->is_none()) return {};
  if (!v->is<Value::List>()) return {static_cast<int>(v->get<double>())};
  std::vector<int> out;
  for (const Value& x : v->ref<Value::List>()) {
    if (!x.is<std::int64_t>() && !x.is<double>()) kw.fail(key, fmt::format("expected a number or a list of numbers, got {}", x.type_name()));
    const double d = x.get<double>();
    if (!(d >= lo && d <= hi)) kw.fail(key, fmt::format("{} is outside {} … {}", x.repr(), lo, hi));
    out.push_back(static_cast<int>(d));
  }
  if (out.empty()) kw.fail(key, "an empty list");
  return out;
}

struct WriteArgs {
  EncodeOptions encode;
  std::optional<bool> is_batch;
};

WriteArgs take_write_args(const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "write");
  WriteArgs a;
  // GIF delays are 16-bit hundredths of a second.
  a.encode.duration_ms = int_list(kw, "duration", 0, 655350);
  a.encode.disposal = int_list(kw, "disposal", 0, 7);
  // Types and ranges: plugin.json.
  if (const Value* v = kw.find("loop"); v && !v->is_none()) a.encode.loop = v->get<int>();
  if (const Value* v = kw.find("transparency"); v && !v->is_none()) a.encode.transparency = v->get<int>();
  if (const Value* c = kw.find("comment"); c && !c->is_none()) {
    if (c->is<std::string>()) {
      const auto& s = c->ref<std::string>();
      a.encode.comment = Bytes(reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data()) + s.size());
    } else {
      a.encode.comment = c->ref<Bytes>();
    }
  }
  a.encode.palettesize = kw.get<int>("palettesize");
  a.encode.dither = kw.get<bool>("dither");
  a.is_batch = kw.take<bool>("is_batch");
  kw.finish();
  return a;
}

// One frame's layout (spec §5.1.6 without `mode`): uint8 (H,W), (H,W,2|3|4); bool (H,W).
void check_frame_shape(const Shape& s, DType dtype) {
  if (dtype != DType::uint8 && dtype != DType::bool_) {
    throw ArgumentError(fmt::format("GIF frames are uint8 (or bool gray), not {}", name(dtype)));
  }
  const bool ok = s.size() == 2 || (s.size() == 3 && s[2] >= 2 && s[2] <= 4 && dtype == DType::uint8);
  if (!ok) {
    throw ArgumentError(fmt::format("cannot write a frame of shape ({}) {} to GIF: expected (H, W) gray, (H, W, 2) gray+alpha, "
                                    "(H, W, 3) RGB or (H, W, 4) RGBA",
                                    fmt::join(s, ", "), name(dtype)));
  }
  if (s[0] == 0 || s[1] == 0 || s[0] > 65535 || s[1] > 65535) {
    throw ArgumentError(fmt::format("a GIF frame is 1 … 65535 pixels on each side, not {}x{}", s[1], s[0]));
  }
}

class GifWriter final : public Plugin {
 public:
  explicit GifWriter(Request& request) : request_(request) {}

  // Batch detection of imageio's pillow writer (spec §5.1.6).
  void write(const NDArray& image, const Kwargs& kwargs) override {
    WriteArgs args = take_write_args(kwargs);
    const Shape& s = image.shape();
    if (image.ndim() < 2) throw ArgumentError(fmt::format("cannot write a {}-D array as a GIF image", image.ndim()));
    bool batch = false;
    if (args.is_batch) batch = *args.is_batch;
    else if (s.size() == 3 && s[2] == 1) throw ArgumentError("cannot write an image with a single explicit colour channel (H, W, 1): drop the last axis");
    else batch = !(s.size() == 2 || (s.size() == 3 && s[2] >= 2 && s[2] <= 4));
    std::vector<Pending> frames;
    if (batch) {
      if (s.size() < 3) throw ArgumentError("a batch of GIF frames needs at least 3 axes (N, H, W)");
      const Shape frame(s.begin() + 1, s.end());
      check_frame_shape(frame, image.dtype());
      const std::size_t bytes = s[0] == 0 ? 0 : image.nbytes() / s[0];
      if (s[0] == 0) throw ArgumentError("cannot write an empty batch of frames to GIF");
      for (std::size_t i = 0; i < s[0]; ++i) frames.push_back({&image, i * bytes, frame});
    } else {
      check_frame_shape(s, image.dtype());
      frames.push_back({&image, 0, s});
    }
    add(frames, std::move(args));
  }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    WriteArgs args = take_write_args(kwargs);
    if (images.empty()) throw ArgumentError("cannot write an empty list of frames to GIF");
    std::vector<Pending> frames;
    for (const NDArray& a : images) {
      check_frame_shape(a.shape(), a.dtype());
      if (a.shape() != images.front().shape() || a.dtype() != images.front().dtype()) {
        throw ArgumentError(fmt::format("all frames of a GIF have one shape: ({}) and ({})", fmt::join(images.front().shape(), ", "),
                                        fmt::join(a.shape(), ", ")));
      }
      frames.push_back({&a, 0, a.shape()});
    }
    add(frames, std::move(args));
  }

  // Frames of several write calls make one animation (spec §5.1.6
  // "Buffering"): each is compressed when it is written, and the file is
  // assembled here, with the options of every call merged.
  void close() override {
    if (frames_.empty()) return;
    check_lists(frames_.size());
    write_gif(request_.sink(), frames_, args_.encode);
    frames_.clear();
  }


 private:
  struct Pending {
    const NDArray* array;
    std::size_t offset;
    Shape shape;
  };
  void add(const std::vector<Pending>& frames, WriteArgs args) {
    const std::size_t total = frames_.size() + frames.size();
    if (!frames_.empty() && (frames.front().shape[0] != frames_.front().height || frames.front().shape[1] != frames_.front().width)) {
      throw ArgumentError(fmt::format("all frames of a GIF have one size: {}x{} after {}x{}", frames.front().shape[1],
                                      frames.front().shape[0], frames_.front().width, frames_.front().height));
    }
    // A per-frame list covers every frame written so far.
    for (const auto* list : {&args.encode.duration_ms, &args.encode.disposal}) {
      if (list->size() > 1 && list->size() != total) {
        throw ArgumentError(fmt::format("{} per-frame values for {} frames", list->size(), total));
      }
    }
    // Frames are quantized when written: the palette options of a later
    // call cannot reach the frames before it.
    if (!frames_.empty() && ((args.encode.palettesize != 256 && args.encode.palettesize != args_.encode.palettesize) ||
                             (args.encode.dither && !args_.encode.dither))) {
      throw ArgumentError("palettesize and dither apply to every frame of a GIF: give them in the first write call");
    }
    request_.check_frames(total);
    merge(std::move(args));
    std::vector<std::uint8_t> widened;  // bool gray as 0/255
    for (const Pending& p : frames) {
      const int channels = p.shape.size() == 3 ? static_cast<int>(p.shape[2]) : 1;
      const std::size_t n = p.shape[0] * p.shape[1] * static_cast<std::size_t>(channels);
      const auto* src = reinterpret_cast<const std::uint8_t*>(p.array->bytes()) + p.offset;
      if (p.array->dtype() == DType::bool_) {
        widened.resize(n);
        for (std::size_t i = 0; i < n; ++i) widened[i] = src[i] ? 255 : 0;
        src = widened.data();
      }
      frames_.push_back(encode_frame({src, p.shape[0], p.shape[1], channels}, args_.encode.palettesize, args_.encode.dither));
    }
  }

  // Options of several calls are merged, later ones winning (spec §5.1.6).
  void merge(WriteArgs args) {
    EncodeOptions& e = args_.encode;
    if (!args.encode.duration_ms.empty()) e.duration_ms = args.encode.duration_ms;
    if (!args.encode.disposal.empty()) e.disposal = args.encode.disposal;
    if (args.encode.loop) e.loop = args.encode.loop;
    if (args.encode.transparency) e.transparency = args.encode.transparency;
    if (args.encode.comment) e.comment = args.encode.comment;
    if (args.encode.palettesize != 256) e.palettesize = args.encode.palettesize;
    if (args.encode.dither) e.dither = true;
  }

  void check_lists(std::size_t total) const {
    for (const auto* list : {&args_.encode.duration_ms, &args_.encode.disposal}) {
      if (list->size() > 1 && list->size() != total) {
        throw ArgumentError(fmt::format("{} per-frame values of {} for {} frames", list->size(),
                                        list == &args_.encode.duration_ms ? "duration" : "disposal", total));
      }
    }
  }

  Request& request_;
  std::vector<EncodedFrame> frames_;
  WriteArgs args_;
};

}  // namespace

std::unique_ptr<Plugin> make_writer(Request& request) { return std::make_unique<GifWriter>(request); }

}  // namespace imio::giflib
