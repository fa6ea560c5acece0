#include "gif_encoder.hpp"

#include <cstring>
#include <exception>
#include <memory>
#include <span>

#include <fmt/format.h>
#include <gif_lib.h>

#include "gif_quantize.hpp"

namespace imio::giflib {
namespace {

struct OutputContext {
  ByteSink* sink = nullptr;
  std::exception_ptr error;
};

int write_output(GifFileType* gif, const GifByteType* src, int n) {
  auto* ctx = static_cast<OutputContext*>(gif->UserData);
  if (ctx->error) return 0;
  try {
    ctx->sink->write(src, static_cast<std::size_t>(n));
    return n;
  } catch (...) {
    ctx->error = std::current_exception();
    return 0;
  }
}

// Where a frame is compressed on its own before it joins the file.
// giflib only appends, so the sink never seeks.
class MemorySink final : public ByteSink {
 public:
  void write(const void* data, std::size_t n) override {
    const auto* p = static_cast<const std::byte*>(data);
    bytes.insert(bytes.end(), p, p + n);
  }
  void seek(std::uint64_t pos) override {
    if (pos != bytes.size()) throw IOError("a GIF frame is encoded front to back");
  }
  std::uint64_t tell() const override { return bytes.size(); }
  Bytes bytes;
};

struct MapDeleter {
  void operator()(ColorMapObject* map) const noexcept { GifFreeMapObject(map); }
};
using ColorMap = std::unique_ptr<ColorMapObject, MapDeleter>;

// The writer's handle; closing it writes the trailer, so a normal close is
// explicit (finish) and the destructor only frees after a failure.
class Encoder {
 public:
  explicit Encoder(ByteSink& sink) {
    ctx_.sink = &sink;
    int err = 0;
    gif_ = EGifOpen(&ctx_, write_output, &err);
    if (gif_ == nullptr) throw EncodeError(fmt::format("giflib cannot start a GIF: {}", reason(err)));
  }
  ~Encoder() {
    if (gif_ != nullptr) {
      int err = 0;
      EGifCloseFile(gif_, &err);
    }
  }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  GifFileType* get() const noexcept { return gif_; }

  /// Bytes giflib did not make (an image encoded before), in stream order.
  void write_raw(std::span<const std::byte> bytes) {
    if (ctx_.error) std::rethrow_exception(ctx_.error);
    ctx_.sink->write(bytes.data(), bytes.size());
  }

  void check(int status, const char* what) {
    if (status != GIF_ERROR) return;
    if (ctx_.error) std::rethrow_exception(ctx_.error);
    throw EncodeError(fmt::format("giflib failed {}: {}", what, reason(gif_->Error)));
  }

  void finish() {
    int err = 0;
    GifFileType* gif = std::exchange(gif_, nullptr);
    if (EGifCloseFile(gif, &err) == GIF_ERROR) {
      if (ctx_.error) std::rethrow_exception(ctx_.error);
      throw EncodeError(fmt::format("giflib failed writing the trailer: {}", reason(err)));
    }
  }

 private:
  static const char* reason(int err) {
    const char* r = GifErrorString(err);
    return r ? r : "unknown error";
  }
  OutputContext ctx_;
  GifFileType* gif_ = nullptr;
};

int per_frame(const std::vector<int>& values, std::size_t i) {
  if (values.empty()) return 0;
  return values.size() == 1 ? values[0] : values[i];
}

ColorMap make_map(const std::vector<std::uint8_t>& rgb) {
  // giflib wants a power-of-two table of at least 2 entries.
  const int colors = static_cast<int>(rgb.size() / 3);
  int size = 2;
  while (size < colors) size *= 2;
  std::vector<GifColorType> entries(static_cast<std::size_t>(size), GifColorType{0, 0, 0});
  for (int i = 0; i < colors; ++i) {
    entries[static_cast<std::size_t>(i)] = {rgb[3 * static_cast<std::size_t>(i)], rgb[3 * static_cast<std::size_t>(i) + 1],
                                            rgb[3 * static_cast<std::size_t>(i) + 2]};
  }
  ColorMap map(GifMakeMapObject(size, entries.data()));
  if (!map) throw EncodeError("giflib cannot allocate a colour table");
  return map;
}

}  // namespace

EncodedFrame encode_frame(const FrameView& f, int palettesize, bool dither) {
  const Quantized q = quantize(f.pixels, f.width, f.height, f.channels, palettesize, dither);
  EncodedFrame out;
  out.transparent = q.transparent;
  out.alpha = f.channels == 2 || f.channels == 4;
  out.height = f.height;
  out.width = f.width;
  // A GIF of this frame alone, in memory; its image part is kept.
  MemorySink memory;
  Encoder enc(memory);
  GifFileType* gif = enc.get();
  enc.check(EGifPutScreenDesc(gif, static_cast<int>(f.width), static_cast<int>(f.height), 8, 0, nullptr),
            "writing the logical screen descriptor");
  const std::size_t image_start = memory.bytes.size();
  const ColorMap map = make_map(q.palette);
  enc.check(EGifPutImageDesc(gif, 0, 0, static_cast<int>(f.width), static_cast<int>(f.height), false, map.get()),
            "writing an image descriptor");
  std::vector<GifPixelType> row(f.width);
  for (std::size_t y = 0; y < f.height; ++y) {
    std::memcpy(row.data(), q.indices.data() + y * f.width, f.width);
    enc.check(EGifPutLine(gif, row.data(), static_cast<int>(f.width)), "compressing a frame");
  }
  const std::size_t image_end = memory.bytes.size();  // before the trailer finish() writes
  enc.finish();
  out.image.assign(memory.bytes.begin() + static_cast<std::ptrdiff_t>(image_start),
                   memory.bytes.begin() + static_cast<std::ptrdiff_t>(image_end));
  return out;
}

void write_gif(ByteSink& sink, const std::vector<EncodedFrame>& frames, const EncodeOptions& options) {
  const EncodedFrame& first = frames.front();
  bool any_alpha = false;
  for (const EncodedFrame& f : frames) any_alpha = any_alpha || f.alpha;
  const bool gce = !options.duration_ms.empty() || !options.disposal.empty() || options.transparency || any_alpha;
  const bool gif89 = gce || options.loop || options.comment;

  Encoder enc(sink);
  GifFileType* gif = enc.get();
  EGifSetGifVersion(gif, gif89);
  enc.check(EGifPutScreenDesc(gif, static_cast<int>(first.width), static_cast<int>(first.height), 8, 0, nullptr),
            "writing the logical screen descriptor");
  if (options.loop) {
    const GifByteType app[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
    const GifByteType sub[] = {1, static_cast<GifByteType>(*options.loop & 0xFF), static_cast<GifByteType>(*options.loop >> 8)};
    enc.check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), "writing the loop extension");
    enc.check(EGifPutExtensionBlock(gif, sizeof app, app), "writing the loop extension");
    enc.check(EGifPutExtensionBlock(gif, sizeof sub, sub), "writing the loop extension");
    enc.check(EGifPutExtensionTrailer(gif), "writing the loop extension");
  }
  if (options.comment && !options.comment->empty()) {
    enc.check(EGifPutExtensionLeader(gif, COMMENT_EXT_FUNC_CODE), "writing the comment");
    const auto* text = reinterpret_cast<const GifByteType*>(options.comment->data());
    for (std::size_t done = 0; done < options.comment->size();) {
      const std::size_t n = std::min<std::size_t>(255, options.comment->size() - done);
      enc.check(EGifPutExtensionBlock(gif, static_cast<int>(n), text + done), "writing the comment");
      done += n;
    }
    enc.check(EGifPutExtensionTrailer(gif), "writing the comment");
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const EncodedFrame& f = frames[i];
    const int transparent = f.transparent >= 0 ? f.transparent : options.transparency.value_or(-1);
    if (gce) {
      // Graphic control extension (GIF89a §23): disposal, delay in 1/100 s, transparent index.
      const int delay = per_frame(options.duration_ms, i) / 10;
      GifByteType block[4] = {static_cast<GifByteType>((per_frame(options.disposal, i) & 7) << 2 | (transparent >= 0 ? 1 : 0)),
                              static_cast<GifByteType>(delay & 0xFF), static_cast<GifByteType>((delay >> 8) & 0xFF),
                              static_cast<GifByteType>(transparent >= 0 ? transparent : 0)};
      enc.check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, sizeof block, block), "writing a graphic control extension");
    }
    // giflib writes straight through to the sink (no buffer of its own), so
    // the encoded image goes in between its calls.
    enc.write_raw(f.image);
  }
  enc.finish();
}

}  // namespace imio::giflib
