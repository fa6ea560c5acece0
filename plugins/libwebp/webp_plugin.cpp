// The libwebp plugin: WebP and animated WebP as imageio's pillow plugin
// reads and writes them (spec §5.1; Pillow's WebPImagePlugin over libwebp).
#include <imio/buffered_writer.hpp>
#include <imio/plugin.hpp>
#include <imio/array_recycler.hpp>
#include <imio/single_image.hpp>

#include <fmt/format.h>

#include "webp_container.hpp"
#include "webp_decode.hpp"
#include "webp_writer.hpp"

namespace imio {
namespace webp {
namespace {

constexpr std::string_view kPlugin = "libwebp";

// The read-side kwargs (spec §5.1.2, declared in plugin.json); apply_gamma
// and writeable_output are accepted and have nothing to act on.
struct ReadArgs {
  std::optional<std::string> mode;
  bool rotate = false;
};

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  a.mode = kw.take<std::string>("mode");  // plugin.json: RGB, RGBA or L
  a.rotate = kw.get<bool>("rotate");
  kw.find("apply_gamma");
  kw.find("writeable_output");
  kw.finish();
  return a;
}

class WebPReader final : public Plugin {
 public:
  explicit WebPReader(Request& request)
      : request_(request), file_(whole_data(request.source(), owned_, request.limits().max_bytes)), c_(parse(file_, request)) {}

  // spec §5.1.2: index omitted → frame 0 for WebP (imageio reads all
  // frames by default only for GIF and APNG); imio::all → every frame.
  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    const Layout layout = layout_of(a);
    if (index.is_all()) return read_all(a, layout);
    const std::size_t k = frame_index(index);
    if (!c_.animated && layout != Layout::gray && orientation(a) <= 1) {
      // Under read_into with a row-padded view, libwebp writes the caller's
      // rows itself (its output buffer takes a stride, negative too).
      if (auto rows = request_.row_target(frame_shape(layout), DType::uint8)) {
        decode_still_rows(file_, c_.canvas_width, c_.canvas_height, channels(layout), *rows);
        return request_.rows_written(*rows);
      }
    }
    NDArray out = request_.allocate(frame_shape(layout), DType::uint8);
    if (!c_.animated) {
      decode_still_into(layout, out.bytes());
    } else {
      check_canvas_memory();
      check_small_frames(k);
      AnimDecoder dec(file_);
      const std::uint8_t* canvas = nullptr;
      while (dec.decoded() <= k) canvas = dec.next();
      convert_rgba(canvas, pixels(), layout, out.bytes());
    }
    return orient(std::move(out), a, 0);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "iter");
    const Layout layout = layout_of(a);
    if (!c_.animated) {
      return one_frame([this, a, layout] {
        NDArray out = request_.allocate(frame_shape(layout), DType::uint8);
        decode_still_into(layout, out.bytes());
        return orient(std::move(out), a, 0);
      });
    }
    // One composited frame per next(): memory is libwebp's two canvases and
    // the frame handed out (recycled once the caller drops it).
    struct Frames final : FrameSource {
      WebPReader& r;
      ReadArgs a;
      Layout layout;
      Shape shape;
      std::optional<AnimDecoder> dec;
      ArrayRecycler recycler;
      Frames(WebPReader& reader, ReadArgs args, Layout l)
          : r(reader), a(std::move(args)), layout(l), shape(reader.frame_shape(l)) {}
      std::optional<NDArray> next() override {
        if (dec && dec->decoded() == r.c_.frames.size()) return std::nullopt;
        if (!dec) {
          r.check_canvas_memory();
          dec.emplace(r.file_);
        }
        const std::uint8_t* canvas = dec->next();
        r.request_.check_array(shape, DType::uint8);
        NDArray out = recycler.allocate(shape, DType::uint8);
        convert_rgba(canvas, r.pixels(), layout, out.bytes());
        return r.orient(std::move(out), a, 0);
      }
    };
    return std::make_unique<Frames>(*this, a, layout);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    Shape frame = frame_shape(layout_of(a));
    if (const int o = orientation(a)) frame = oriented_shape(frame, o);
    if (index.is_all()) {
      const std::size_t n = c_.frames.size();
      return {.shape = with_batch_axis(frame, n), .dtype = DType::uint8, .n_images = n, .is_batch = true};
    }
    frame_index(index);
    return {.shape = std::move(frame), .dtype = DType::uint8};
  }

  // Pillow's info (loop, background, icc_profile, exif, xmp), the frame's
  // timing and rectangle for an animation, mode, shape and the EXIF tags;
  // imio::all → frame 0's (D13).
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata");
    const std::size_t k = index.is_all() ? 0 : frame_index(index);
    Metadata m;
    m.set("loop", std::int64_t{c_.loop_count});
    // ANIM stores the colour as bytes B, G, R, A; Pillow reports (r, g, b, a).
    const std::uint32_t bg = c_.bgcolor;
    m.set("background", Value{std::int64_t{(bg >> 16) & 0xff}, std::int64_t{(bg >> 8) & 0xff}, std::int64_t{bg & 0xff},
                              std::int64_t{bg >> 24}});
    if (c_.icc) m.set("icc_profile", *c_.icc);
    if (c_.exif) m.set("exif", *c_.exif);
    if (c_.xmp) m.set("xmp", *c_.xmp);
    const FrameInfo& f = c_.frames[k];
    if (c_.animated) {
      std::int64_t start = 0;
      for (std::size_t i = 0; i < k; ++i) start += c_.frames[i].duration;
      m.set("timestamp", start);
      m.set("duration", std::int64_t{f.duration});
      m.set("bbox", Value{std::int64_t{f.x}, std::int64_t{f.y}, std::int64_t{f.x} + f.width, std::int64_t{f.y} + f.height});
      m.set("disposal", std::int64_t{f.dispose_background ? 1 : 0});  // as APNG: 0 none, 1 background
      m.set("blend", std::int64_t{f.blend ? 1 : 0});                   // as APNG: 0 source, 1 over
    }
    if (f.lossless) m.set("lossless", *f.lossless);
    m.set("mode", c_.has_alpha ? "RGBA" : "RGB");
    m.set("shape", Value{std::int64_t{c_.canvas_width}, std::int64_t{c_.canvas_height}});
    if (c_.exif) {
      for (const auto& [key, value] : read_exif(*c_.exif)) m.set(key, value);
    }
    add_photo_metadata(m);  // beyond imageio: docs/metadata.md
    // D17: Orientation is hidden only when the read it describes applies it.
    if (exclude_applied && a.rotate) {
      m.erase("Orientation");
      m.erase("orientation");
    }
    return m;
  }

 private:
  Layout layout_of(const ReadArgs& a) const {
    if (!a.mode) return c_.has_alpha ? Layout::rgba : Layout::rgb;
    if (*a.mode == "RGBA") return Layout::rgba;
    if (*a.mode == "L") return Layout::gray;
    return Layout::rgb;
  }

  Shape frame_shape(Layout layout) const {
    Shape s{c_.canvas_height, c_.canvas_width};
    if (layout != Layout::gray) s.push_back(static_cast<std::size_t>(channels(layout)));
    return s;
  }

  std::size_t pixels() const { return std::size_t{c_.canvas_width} * c_.canvas_height; }

  std::size_t frame_index(const Index& index) const {
    const std::size_t n = c_.frames.size();
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= n) throw IndexError(fmt::format("index {} is out of range: the file holds {} frame(s)", index.repr(), n));
    return k;
  }

  int orientation(const ReadArgs& a) const { return a.rotate && c_.exif ? exif_orientation(*c_.exif) : 0; }

  // spec §5.1.3 step 5: the EXIF orientation, on the spatial axes only (D18).
  NDArray orient(NDArray image, const ReadArgs& a, std::size_t height_axis) const {
    const int o = orientation(a);
    if (o > 1) return apply_orientation(std::move(image), o, height_axis);
    return image;
  }

  // WebPAnimDecoder keeps two RGBA canvases.
  void check_canvas_memory() const {
    request_.check_array(Shape{2, c_.canvas_height, c_.canvas_width, 4}, DType::uint8);
  }

  // WebPAnimDecoder copies the whole canvas for every frame, so damage in a
  // late frame of a large canvas would be found only after compositing the
  // frames before it (seconds for a 100-megapixel canvas that a hostile
  // 500-byte file declares). When the frames are small against that work,
  // their bitstreams are decoded on their own first — at most 1/64 of it.
  void check_small_frames(std::size_t last) const {
    const std::uint64_t composite = std::uint64_t{pixels()} * (last + 1);
    std::uint64_t frames = 0;
    for (std::size_t k = 0; k <= last; ++k) frames += std::uint64_t{c_.frames[k].width} * c_.frames[k].height;
    if (composite >= (std::uint64_t{1} << 26) && frames * 64 <= composite) check_frame_bitstreams(file_, last);
  }

  void decode_still_into(Layout layout, std::byte* dst) {
    if (layout != Layout::gray) {
      decode_still(file_, c_.canvas_width, c_.canvas_height, channels(layout), dst);
      return;
    }
    NDArray rgb = request_.allocate(frame_shape(Layout::rgb), DType::uint8);
    decode_still(file_, c_.canvas_width, c_.canvas_height, 3, rgb.bytes());
    convert_rgb(rgb.data<std::uint8_t>(), pixels(), Layout::gray, dst);
  }

  // Every frame composited straight into its slot of one (N, H, W[, C]) array.
  NDArray read_all(const ReadArgs& a, Layout layout) {
    const std::size_t n = c_.frames.size();
    request_.check_frames(n);
    NDArray out = request_.allocate(with_batch_axis(frame_shape(layout), n), DType::uint8);
    if (!c_.animated) {
      decode_still_into(layout, out.bytes());
    } else {
      check_canvas_memory();
      check_small_frames(n - 1);
      const std::size_t frame_bytes = out.nbytes() / n;
      AnimDecoder dec(file_);
      for (std::size_t k = 0; k < n; ++k) convert_rgba(dec.next(), pixels(), layout, out.bytes() + k * frame_bytes);
    }
    return orient(std::move(out), a, 1);
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> file_;
  Container c_;
};

std::unique_ptr<Plugin> open_webp(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  // Every write call goes into one file, encoded at close (one frame: a still WebP; several: an animation).
  if (request.mode() == IoMode::write) return std::make_unique<BufferedWriter<PendingWebP>>(request);  // the extension: plugin.json
  if (!has_signature(request.first_bytes(12))) {
    throw InitializationError("not a WebP file (it does not start with a RIFF header of form WEBP)");
  }
  // From here the file claims to be a WebP: damage is a DecodeError (D4).
  return std::make_unique<WebPReader>(request);
}

}  // namespace
}  // namespace webp

namespace builtin {

PluginSpec libwebp_plugin_spec() {
  PluginSpec spec;
  // What libwebp is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = webp::has_signature;
  spec.sniff_bytes = 12;
  spec.factory = webp::open_webp;
  spec.backend = webp::libwebp_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
