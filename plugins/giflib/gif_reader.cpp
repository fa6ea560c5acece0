#include "gif_reader.hpp"

#include <fmt/format.h>

#include "gif_blocks.hpp"
#include "gif_compositor.hpp"
#include "gif_decoder.hpp"

namespace imio::giflib {
namespace {

constexpr std::string_view kPlugin = "giflib";

// What read, iter and properties accept (spec §5.1.2); rotate, apply_gamma
// and writeable_output have nothing to act on in a GIF and are accepted as
// imageio accepts them.
struct ReadArgs {
  std::optional<std::string> mode;
};

ReadArgs take_read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs args;
  args.mode = kw.take<std::string>("mode");  // plugin.json: RGB, RGBA, L or P
  kw.finish();
  return args;
}

// D15: one layout for every frame; gray-ramp files stay 2-D as in imageio.
Layout layout_of(const ReadArgs& args, bool gray_file) {
  if (!args.mode) return gray_file ? Layout::gray : Layout::rgb;
  if (*args.mode == "RGB") return Layout::rgb;
  if (*args.mode == "RGBA") return Layout::rgba;
  if (*args.mode == "L") return Layout::gray;
  return Layout::indices;
}

Shape frame_shape(const Screen& s, Layout layout) {
  Shape shape{s.height, s.width};
  if (channels(layout) > 1) shape.push_back(channels(layout));
  return shape;
}

[[noreturn]] void out_of_range(std::int64_t k, std::size_t n) {
  throw IndexError(fmt::format("index {} is out of range: the GIF holds {} frame{}", k, n, n == 1 ? "" : "s"));
}

// The XMP packet of an "XMP DataXMP" extension: its data without the magic
// trailer (0x01, then 0xFF down to 0x00; XMP Part 3 §1.1.2). Without the
// trailer the data are kept whole, as exiftool does.
Bytes xmp_packet(const Bytes& raw) {
  constexpr std::size_t kTrailer = 257;  // the 258th byte is the block terminator
  if (raw.size() < kTrailer) return raw;
  const std::size_t start = raw.size() - kTrailer;
  bool trailer = raw[start] == std::byte{0x01};
  for (std::size_t i = 1; i < kTrailer && trailer; ++i) trailer = raw[start + i] == static_cast<std::byte>(256 - i);
  return trailer ? Bytes(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(start)) : raw;
}

class GifReader final : public Plugin {
 public:
  explicit GifReader(Request& request) : request_(request) {}

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs args = take_read_args(kwargs, "read");
    if (index.is_integer()) return read_one(static_cast<std::size_t>(index.value()), args);
    return read_all(args);  // spec §4.2: index omitted means every frame for GIF
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const ReadArgs args = take_read_args(kwargs, "iter");
    struct Frames final : FrameSource {
      Request& request;
      ReadArgs args;
      Decoder decoder;
      RawFrame raw;
      std::unique_ptr<Compositor> compositor;
      Layout layout = Layout::rgb;
      Frames(Request& r, ReadArgs a) : request(r), args(std::move(a)), decoder(r) {}
      std::optional<NDArray> next() override {
        if (!decoder.next(raw)) return std::nullopt;
        if (!compositor) {
          check_canvas(request, decoder.screen());
          const bool gray = opens_as_gray(decoder.screen(), raw.info);
          layout = layout_of(args, gray);
          compositor = std::make_unique<Compositor>(decoder.screen(), gray, layout);
        }
        compositor->add(raw);
        NDArray out = request.allocate(frame_shape(decoder.screen(), layout), DType::uint8);
        compositor->render(reinterpret_cast<std::uint8_t*>(out.bytes()));
        return out;
      }
    };
    return std::make_unique<Frames>(request_, args);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs args = take_read_args(kwargs, "properties");
    BlockWalker walker(request_.source());
    check_canvas(request_, walker.screen());
    auto frame0 = walker.next();
    if (!frame0) throw DecodeError("the GIF holds no image");
    const Layout layout = layout_of(args, opens_as_gray(walker.screen(), *frame0));
    const Shape shape = frame_shape(walker.screen(), layout);
    if (index.is_integer()) {
      walk_to(walker, static_cast<std::size_t>(index.value()));
      check_not_cut(walker, static_cast<std::size_t>(index.value()));
      return {.shape = shape, .dtype = DType::uint8};
    }
    std::size_t n = 1;
    while (walker.next()) ++n;
    check_not_cut(walker, n - 1);
    Shape batch{n};
    batch.insert(batch.end(), shape.begin(), shape.end());
    return {.shape = batch, .dtype = DType::uint8, .n_images = n, .is_batch = true};
  }

  // Pillow's info of the selected frame (spec §5.1.8); index none and all
  // give frame 0's (D13).
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata").finish();
    BlockWalker walker(request_.source());
    const Screen& screen = walker.screen();
    auto frame0 = walker.next();
    if (!frame0) throw DecodeError("the GIF holds no image");
    const bool gray = opens_as_gray(screen, *frame0);
    const std::size_t k = index.is_integer() ? static_cast<std::size_t>(index.value()) : 0;
    FrameInfo frame = *frame0;
    // Pillow keeps the last non-empty comment seen up to frame k.
    Bytes comment = frame0->comment ? *frame0->comment : Bytes{};
    for (std::size_t i = 1; i <= k; ++i) {
      auto f = walker.next();
      if (!f) out_of_range(static_cast<std::int64_t>(k), i);
      if (f->comment && !f->comment->empty()) comment = *f->comment;
      frame = std::move(*f);
    }
    Metadata meta;
    meta.set("version", Bytes(reinterpret_cast<const std::byte*>(screen.version.data()),
                              reinterpret_cast<const std::byte*>(screen.version.data()) + 6));
    if (screen.global) meta.set("background", static_cast<std::int64_t>(screen.background));
    if (frame0->loop) meta.set("loop", static_cast<std::int64_t>(*frame0->loop));
    if (frame.has_gce) meta.set("duration", static_cast<std::int64_t>(frame.delay_cs) * 10);
    if (!comment.empty()) meta.set("comment", std::move(comment));
    if (frame0->xmp) meta.set("xmp", xmp_packet(*frame0->xmp));  // beyond imageio: docs/metadata.md
    // Pillow forgets frame 0's transparency when the canvas turns RGB(A) at frame 1.
    if (frame0->transparency && (k == 0 || gray)) meta.set("transparency", static_cast<std::int64_t>(*frame0->transparency));
    std::string mode = gray ? "L" : "P";
    if (k > 0 && !gray) mode = frame0->transparency ? "RGBA" : "RGB";
    meta.set("mode", mode);
    meta.set("shape", Value::List{Value(screen.width), Value(screen.height)});
    if (mode == "P" && !exclude_applied) {
      const ColorTable& table = frame0->local ? *frame0->local : *screen.global;
      meta.set("palette", table.distinct_colors());
    }
    add_photo_metadata(meta);
    return meta;
  }

 private:
  static void check_canvas(Request& request, const Screen& s) {
    if (s.width == 0 || s.height == 0) {
      throw DecodeError(fmt::format("the logical screen is {}x{} pixels: nothing to draw on", s.width, s.height));
    }
    request.check_pixels(s.width, s.height, 4);
  }

  // Frame k exists, found without decoding.
  // A frame whose image data the file does not hold cannot be read: improps
  // says so as imread does (D11), without decoding.
  static void check_not_cut(const BlockWalker& walker, std::size_t frame) {
    if (walker.data_cut()) {
      throw DecodeError(fmt::format("truncated GIF: the image data of frame {} are cut short", frame));
    }
  }

  static void walk_to(BlockWalker& walker, std::size_t k) {
    for (std::size_t i = 1; i <= k; ++i) {
      if (!walker.next()) out_of_range(static_cast<std::int64_t>(k), i);
    }
  }

  // Decodes frames 0 … k only.
  NDArray read_one(std::size_t k, const ReadArgs& args) {
    Decoder decoder(request_);
    check_canvas(request_, decoder.screen());
    RawFrame raw;
    std::unique_ptr<Compositor> compositor;
    Layout layout = Layout::rgb;
    for (std::size_t i = 0; i <= k; ++i) {
      if (!decoder.next(raw)) out_of_range(static_cast<std::int64_t>(k), i);
      if (!compositor) {
        const bool gray = opens_as_gray(decoder.screen(), raw.info);
        layout = layout_of(args, gray);
        compositor = std::make_unique<Compositor>(decoder.screen(), gray, layout);
      }
      compositor->add(raw);
    }
    NDArray out = request_.allocate(frame_shape(decoder.screen(), layout), DType::uint8);
    compositor->render(reinterpret_cast<std::uint8_t*>(out.bytes()));
    return out;
  }

  // Counts the frames by walking the blocks, allocates (N, H, W[, C]) once and
  // composites each frame straight into its slot.
  NDArray read_all(const ReadArgs& args) {
    std::size_t n = 0;
    bool gray = false;
    {
      BlockWalker walker(request_.source());
      check_canvas(request_, walker.screen());
      auto frame0 = walker.next();
      if (!frame0) throw DecodeError("the GIF holds no image");
      gray = opens_as_gray(walker.screen(), *frame0);
      n = 1;
      while (walker.next()) {
        ++n;
        request_.check_frames(n);
      }
    }
    request_.check_frames(n);
    Decoder decoder(request_);
    const Layout layout = layout_of(args, gray);
    const Shape shape = frame_shape(decoder.screen(), layout);
    Shape batch{n};
    batch.insert(batch.end(), shape.begin(), shape.end());
    NDArray out = request_.allocate(batch, DType::uint8);
    const std::size_t frame_bytes = out.nbytes() / n;
    Compositor compositor(decoder.screen(), gray, layout);
    RawFrame raw;
    for (std::size_t i = 0; i < n; ++i) {
      if (!decoder.next(raw)) {
        throw DecodeError(fmt::format("the GIF's blocks announce {} frames but giflib finds only {}", n, i));
      }
      compositor.add(raw);
      compositor.render(reinterpret_cast<std::uint8_t*>(out.bytes()) + i * frame_bytes);
    }
    return out;
  }

  Request& request_;
};

}  // namespace

std::unique_ptr<Plugin> make_reader(Request& request) { return std::make_unique<GifReader>(request); }

}  // namespace imio::giflib
