// The libpng plugin: PNG and APNG as imageio's pillow plugin reads and
// writes them (spec §5.1), with DECISIONS D14 (16-bit stays uint16) and D17.
#include <imio/buffered_writer.hpp>
#include <imio/pixel_box.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "png_apng.hpp"
#include "png_chunks.hpp"
#include "png_codec.hpp"
#include "png_metadata.hpp"
#include "png_pixels.hpp"
#include "png_sinks.hpp"
#include "png_writer.hpp"

namespace imio {
namespace png {
namespace {

constexpr std::string_view kPlugin = "libpng";

// `crop`: Pillow's box (<imio/pixel_box.hpp>), right and bottom exclusive.
using Box = PixelBox;

// The read-side kwargs (spec §5.1.2, declared in plugin.json);
// writeable_output is accepted and ignored.
struct ReadArgs {
  std::optional<std::string> mode;
  bool rotate = false, apply_gamma = false;
  std::optional<Box> crop;  // in the pixels of the image as read returns it without crop (upright with rotate)
};

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  a.mode = kw.take<std::string>("mode");
  a.rotate = kw.get<bool>("rotate");
  a.apply_gamma = kw.get<bool>("apply_gamma");
  a.crop = take_pixel_box(kw, "crop");
  kw.find("writeable_output");
  kw.finish();
  return a;
}

class PngReader final : public Plugin {
 public:
  explicit PngReader(Request& request) : request_(request), chunks_(scan(request.source(), request.limits().max_bytes)) {
    request_.check_pixels(chunks_.ihdr.width, chunks_.ihdr.height, 1);
    if (chunks_.animated) request_.check_frames(chunks_.n_images());
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    const OutSpec spec = out_spec(chunks_, a.mode);
    if (batch(index)) return read_all(a, spec);
    const std::size_t k = frame_index(index);
    if (!chunks_.animated) return finish(decode_still(a, spec), a);
    FrameDecoder frames(chunks_, file(), a.mode.has_value());
    const std::byte* canvas = nullptr;
    while (frames.next_index() <= k) canvas = frames.next();
    return finish(from_canvas(frames.layout(), canvas, a, spec), a);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    struct Frames final : FrameSource {
      PngReader& r;
      ReadArgs a;
      OutSpec spec;
      FrameDecoder dec;
      Frames(PngReader& reader, ReadArgs args)
          : r(reader), a(std::move(args)), spec(out_spec(r.chunks_, a.mode)), dec(r.chunks_, r.file(), a.mode.has_value()) {}
      std::optional<NDArray> next() override {
        if (dec.next_index() >= dec.count()) return std::nullopt;
        if (!r.chunks_.animated) {
          dec.next();  // only counts; the still path decodes straight into the result
          return r.finish(r.decode_still(a, spec), a);
        }
        const std::byte* canvas = dec.next();
        return r.finish(r.from_canvas(dec.layout(), canvas, a, spec), a);
      }
    };
    ReadArgs a = read_args(kwargs, "iter");
    if (!chunks_.animated) {
      // The still image decodes lazily: make next() not touch the decoder.
      return one_frame([this, a = std::move(a)] { return finish(decode_still(a, out_spec(chunks_, a.mode)), a); });
    }
    return std::make_unique<Frames>(*this, std::move(a));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    // Cut image data: the error read gives (D11), found by the chunk walk.
    if (chunks_.truncated) throw DecodeError("the image data are cut off (image file is truncated)");
    const OutSpec spec = out_spec(chunks_, a.mode);
    const Region r = stored_region(a);
    Shape frame = spec.frame_shape(r.height(), r.width());
    if (a.rotate && chunks_.exif) frame = oriented_shape(frame, exif_orientation(*chunks_.exif));
    const DType dtype = (a.apply_gamma && chunks_.gamma) ? DType::uint8 : spec.dtype;
    if (batch(index)) {
      Shape s{chunks_.n_images()};
      s.insert(s.end(), frame.begin(), frame.end());
      return {.shape = std::move(s), .dtype = dtype, .n_images = chunks_.n_images(), .is_batch = true};
    }
    frame_index(index);
    return {.shape = std::move(frame), .dtype = dtype};
  }

  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata");
    const std::size_t k = batch(index) ? 0 : frame_index(index);  // D13: imio::all → the global (frame 0) info
    if (chunks_.truncated) throw DecodeError("the image data are cut off (image file is truncated)");
    Metadata m = chunks_.info;
    if (chunks_.hidden_default) m.set("default_image", true);
    if (chunks_.animated) {
      FrameDecoder frames(chunks_, {});
      if (const FrameControl* fc = frames.control(k)) {
        m.set("bbox", Value{std::int64_t{fc->x}, std::int64_t{fc->y}, std::int64_t{fc->x} + fc->width,
                            std::int64_t{fc->y} + fc->height});
        m.set("duration", fc->duration_ms());
        m.set("disposal", static_cast<std::int64_t>(fc->dispose_op));
        m.set("blend", static_cast<std::int64_t>(fc->blend_op));
      }
    }
    const std::string mode = native_mode(chunks_.ihdr);
    m.set("mode", mode);
    m.set("shape", Value{std::int64_t{chunks_.ihdr.width}, std::int64_t{chunks_.ihdr.height}});
    if (mode == "P" && !exclude_applied) m.set("palette", distinct_palette());
    if (chunks_.exif) {
      for (const auto& [key, value] : read_exif(*chunks_.exif)) m.set(key, value);
    }
    add_photo_entries(m, chunks_);  // beyond imageio: docs/metadata.md
    // D17: Orientation is hidden only when the read it describes applies it.
    if (exclude_applied && a.rotate) {
      m.erase("Orientation");
      m.erase("orientation");
    }
    return m;
  }

 private:
  bool batch(const Index& index) const { return index.is_all() || (index.is_none() && chunks_.animated); }

  std::size_t frame_index(const Index& index) const {
    const std::size_t n = chunks_.n_images();
    const auto k = static_cast<std::size_t>(index.value());
    if (k >= n) throw IndexError(fmt::format("index {} is out of range: the file holds {} image(s)", index.repr(), n));
    return k;
  }

  int applied_orientation(const ReadArgs& a) const { return a.rotate && chunks_.exif ? exif_orientation(*chunks_.exif) : 0; }

  // The stored image's pixels that `a.crop` asks for (all without crop).
  // The box is given in the image as this read returns it without crop
  // (upright when rotate applies an Orientation), so the result always
  // equals the same box of the whole read.
  Region stored_region(const ReadArgs& a) const {
    const Header& h = chunks_.ihdr;
    if (!a.crop) return {0, 0, h.width, h.height};
    const int orientation = applied_orientation(a);
    const bool swap = orientation >= 5 && orientation <= 8;
    const std::uint64_t full_w = swap ? h.height : h.width, full_h = swap ? h.width : h.height;
    const Box& c = *a.crop;
    if (c.left >= c.right || c.top >= c.bottom || c.right > full_w || c.bottom > full_h) {
      throw ArgumentError(fmt::format("crop=[{}, {}, {}, {}] is not a region of the {} x {} image ([left, top, right, "
                                      "bottom], right and bottom exclusive, in pixels{})",
                                      c.left, c.top, c.right, c.bottom, full_w, full_h,
                                      orientation >= 2 && orientation <= 8 ? " of the rotated image" : ""));
    }
    const PixelBox s = stored_box(orientation, h.height, h.width, c);
    return {static_cast<std::uint32_t>(s.left), static_cast<std::uint32_t>(s.top), static_cast<std::uint32_t>(s.right),
            static_cast<std::uint32_t>(s.bottom)};
  }

  std::span<const std::byte> file() {
    if (!file_) {
      file_.emplace(whole_data(request_.source(), owned_, request_.limits().max_bytes));
    }
    return *file_;
  }

  // The still image (its crop region), straight into the result: each row
  // converted as it is decoded (png_sinks.hpp) when a conversion is needed.
  NDArray decode_still(const ReadArgs& a, const OutSpec& spec) {
    const Header& h = chunks_.ihdr;
    const RawLayout layout = raw_layout(h.width, h.height, h.bit_depth, h.color_type);
    const Region r = stored_region(a);
    const RawLayout part = r.layout(layout);
    NDArray out = request_.allocate(spec.frame_shape(part.height, part.width), spec.dtype);
    const bool into = request_.fills_caller_memory();
    if (!a.mode && h.color_type != 3) {
      decode(file(), layout, h.bit_depth, h.color_type, r, out.bytes(), into);
      return out;
    }
    const RowConverter convert(chunks_, part, a.mode);
    if (convert.out_pixel_bytes() >= convert.in_pixel_bytes()) {
      InPlaceSink sink(out.bytes(), part.width, convert);
      decode(file(), layout, h.bit_depth, h.color_type, r, sink, into);
    } else {
      BandSink sink(out.bytes(), part.width, part.height, convert);
      decode(file(), layout, h.bit_depth, h.color_type, r, sink, into);
    }
    return out;
  }

  // Converts the crop region of an APNG canvas into `dst`.
  void convert_region(const RawLayout& layout, const std::byte* canvas, const ReadArgs& a, std::byte* dst) {
    const Region r = stored_region(a);
    if (r.covers(layout)) return convert(chunks_, layout, canvas, a.mode, dst);
    const RawLayout part = r.layout(layout);
    region_.resize(part.total_bytes());
    const std::size_t px = static_cast<std::size_t>(layout.channels * layout.sample_bytes);
    for (std::size_t y = 0; y < part.height; ++y) {
      std::memcpy(region_.data() + y * part.row_bytes(), canvas + (r.top + y) * layout.row_bytes() + r.left * px,
                  part.row_bytes());
    }
    convert(chunks_, part, region_.data(), a.mode, dst);
  }

  NDArray from_canvas(const RawLayout& layout, const std::byte* canvas, const ReadArgs& a, const OutSpec& spec) {
    const Region r = stored_region(a);
    NDArray out = request_.allocate(spec.frame_shape(r.height(), r.width()), spec.dtype);
    convert_region(layout, canvas, a, out.bytes());
    return out;
  }

  // spec §5.1.3 steps 5 and 6: orientation, then gamma.
  NDArray finish(NDArray frame, const ReadArgs& a) {
    if (a.rotate && chunks_.exif) frame = apply_orientation(std::move(frame), exif_orientation(*chunks_.exif));
    if (a.apply_gamma && chunks_.gamma) frame = apply_gamma(frame, *chunks_.gamma, request_);
    return frame;
  }

  NDArray read_all(const ReadArgs& a, const OutSpec& spec) {
    const std::size_t n = chunks_.n_images();
    request_.check_frames(n);
    if (!chunks_.animated) {
      NDArray one = finish(decode_still(a, spec), a);
      Shape s{1};
      s.insert(s.end(), one.shape().begin(), one.shape().end());
      return std::move(one).reshaped(std::move(s));
    }
    const bool plain = !(a.rotate && chunks_.exif) && !(a.apply_gamma && chunks_.gamma);
    FrameDecoder frames(chunks_, file(), a.mode.has_value());
    if (!plain) {
      std::vector<NDArray> list;
      while (frames.next_index() < n) list.push_back(finish(from_canvas(frames.layout(), frames.next(), a, spec), a));
      return NDArray::stack(list);
    }
    // Stacked in place: one allocation at the final size.
    Shape s{n};
    const Region r = stored_region(a);
    const Shape f = spec.frame_shape(r.height(), r.width());
    s.insert(s.end(), f.begin(), f.end());
    NDArray out = request_.allocate(s, spec.dtype);
    const std::size_t frame_bytes = out.nbytes() / n;
    for (std::size_t k = 0; k < n; ++k) {
      const std::byte* canvas = frames.next();
      convert_region(frames.layout(), canvas, a, out.bytes() + k * frame_bytes);
    }
    return out;
  }

  // spec §5.1.8: the distinct palette colours, in palette order.
  Value distinct_palette() const {
    Value::List out;
    std::set<std::array<std::uint8_t, 3>> seen;
    for (const auto& c : chunks_.palette) {
      if (!seen.insert(c).second) continue;
      out.emplace_back(Value{std::int64_t{c[0]}, std::int64_t{c[1]}, std::int64_t{c[2]}});
    }
    return Value(std::move(out));
  }

  Request& request_;
  Chunks chunks_;
  std::optional<std::span<const std::byte>> file_;
  Bytes owned_;
  std::vector<std::byte> region_;  // an APNG canvas's crop region before conversion
};

std::unique_ptr<Plugin> open_png(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  // Every write call goes into one file, encoded at close (one frame: PNG; several: APNG).
  if (request.mode() == IoMode::write) return std::make_unique<BufferedWriter<PendingPng>>(request);  // the extension: plugin.json
  const auto first = request.first_bytes(32);
  if (!has_signature(first) && !looks_like_damaged_png(first)) {
    throw InitializationError("not a PNG file (it does not start with the PNG signature)");
  }
  // From here the file claims to be a PNG: damage is a DecodeError (D4).
  return std::make_unique<PngReader>(request);
}

}  // namespace
}  // namespace png

namespace builtin {

PluginSpec libpng_plugin_spec() {
  PluginSpec spec;
  // What libpng is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  // A damaged signature still selects libpng, so the read fails as a
  // DecodeError naming the damage (PngSuite xs*, xcr*, xlf*; D4).
  spec.sniff = [](std::span<const std::byte> first) {
    return png::has_signature(first) || png::looks_like_damaged_png(first);
  };
  spec.sniff_bytes = 32;
  spec.factory = png::open_png;
  spec.backend = png::libpng_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
