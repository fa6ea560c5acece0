// The libheif plugin: HEIC and AVIF still images as imageio reads them
// through pillow-heif's Pillow plugin (the primary image, RGB or RGBA,
// transformations applied), with 10/12-bit samples as uint16; writes
// through libheif's x265 (HEIC) and aom (AVIF) encoders.
#include <imio/buffered_writer.hpp>
#include <imio/plugin.hpp>
#include <imio/exif.hpp>
#include <imio/single_image.hpp>

#include <array>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "heif_boxes.hpp"
#include "heif_decode.hpp"
#include "heif_encode.hpp"

namespace imio {
namespace heif {
namespace {

constexpr std::string_view kPlugin = "libheif";

struct ReadArgs {
  std::optional<std::string> mode;
  std::optional<std::string> av1_decoder;  // None: dav1d where it is kept quiet (heif_decode.cpp)
  Depth depth = Depth::native;
  bool transform = true;
};

// The EXIF orientation (1…8) that the irot and imir properties amount to,
// applied in their order (ISO/IEC 23008-12 §6.5.10: irot turns
// anti-clockwise by quarter turns; §6.5.12 imir: axis 0 mirrors
// top-bottom, axis 1 left-right, as libheif 1.15 writes and applies them
// — the specification's "vertical axis" has been read both ways; the
// tests check the result against libheif's decoding). Each is a 2×2
// integer matrix on (x right, y down); 1 without any.
int orientation_of(const std::vector<std::string>& transforms) {
  using M = std::array<int, 4>;  // row-major
  const auto times = [](const M& a, const M& b) {
    return M{a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
  };
  M m{1, 0, 0, 1};
  for (const std::string& t : transforms) {
    if (t.starts_with("irot ")) {
      for (int turns = std::stoi(t.substr(5)) / 90; turns > 0; --turns) m = times(M{0, 1, -1, 0}, m);
    } else if (t == "imir 0") {
      m = times(M{1, 0, 0, -1}, m);
    } else if (t == "imir 1") {
      m = times(M{-1, 0, 0, 1}, m);
    }
  }
  // EXIF 2.32 §4.6.4 A Orientation 1…8 as the same matrices.
  constexpr M kOrientations[] = {{1, 0, 0, 1},  {-1, 0, 0, 1},  {-1, 0, 0, -1}, {1, 0, 0, -1},
                                 {0, 1, 1, 0},  {0, -1, 1, 0},  {0, -1, -1, 0}, {0, 1, -1, 0}};
  for (int k = 0; k < 8; ++k) {
    if (kOrientations[k] == m) return k + 1;
  }
  return 1;  // unreachable: the matrices form the group of the eight orientations
}

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  a.mode = kw.take<std::string>("mode");  // plugin.json: RGB, RGBA or L
  const std::string depth = kw.get<std::string>("high_bit_depth");
  a.depth = depth == "scaled" ? Depth::scaled : depth == "8bit" ? Depth::eight : Depth::native;
  a.transform = kw.get<bool>("apply_transformations");
  a.av1_decoder = kw.take<std::string>("av1_decoder");
  kw.find("apply_gamma");
  kw.find("writeable_output");
  return a;
}

std::string shape_text(const Shape& s) {
  std::string out;
  for (std::size_t d : s) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return "(" + out + ")";
}

class HeifReader final : public Plugin {
 public:
  explicit HeifReader(Request& request, Container boxes, std::span<const std::byte> file, Bytes owned)
      : request_(request), owned_(std::move(owned)), file_(file), boxes_(std::move(boxes)), ctx_(file_, boxes_, request) {}

  // index omitted → the primary image; k → the k-th top-level image in file
  // order; imio::all → every top-level image stacked (same shapes only).
  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    ctx_.set_av1_decoder(a.av1_decoder);
    if (index.is_all()) return read_all(a);
    const std::size_t k = image_index(index);
    return ctx_.decode(k, layout_of(k, a), a.depth, a.transform, request_);
  }

  // Every top-level image in file order, each decoded when it is reached.
  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    struct Images final : FrameSource {
      HeifReader& r;
      ReadArgs a;
      std::size_t k = 0;
      Images(HeifReader& reader, ReadArgs args) : r(reader), a(std::move(args)) {}
      std::optional<NDArray> next() override {
        if (k == r.ctx_.images().size()) return std::nullopt;
        const std::size_t i = k++;
        r.ctx_.set_av1_decoder(a.av1_decoder);
        return r.ctx_.decode(i, r.layout_of(i, a), a.depth, a.transform, r.request_);
      }
    };
    return std::make_unique<Images>(*this, read_args(kwargs, "iter"));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    if (index.is_all()) {
      const auto [shape, dtype] = common_shape(a);
      const std::size_t n = ctx_.images().size();
      return {.shape = with_batch_axis(shape, n), .dtype = dtype, .n_images = n, .is_batch = true};
    }
    const std::size_t k = image_index(index);
    return {.shape = shape_of(ctx_.images()[k], layout_of(k, a), a.transform), .dtype = dtype_of(ctx_.images()[k], a.depth)};
  }

  // imio::all → image 0's (D13).
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata");
    const std::size_t k = index.is_all() ? 0 : image_index(index);
    const ImageInfo& info = ctx_.images()[k];
    Metadata m;
    m.set("format", format_of(file_));
    m.set("brand", boxes_.major_brand);
    Value::List brands;
    for (const std::string& b : boxes_.compatible_brands) brands.emplace_back(b);
    m.set("compatible_brands", Value(std::move(brands)));
    m.set("mode", info.has_alpha ? "RGBA" : "RGB");
    m.set("shape", Value{std::int64_t{info.width}, std::int64_t{info.height}});
    m.set("stored_shape", Value{std::int64_t{info.ispe_width}, std::int64_t{info.ispe_height}});
    Value::List transforms;
    for (const std::string& t : transformations_of(boxes_, info.id)) transforms.emplace_back(t);
    m.set("transformations", Value(std::move(transforms)));
    m.set("bit_depth", std::int64_t{info.bits});
    m.set("chroma_bit_depth", std::int64_t{info.chroma_bits});
    if (const std::string chroma = chroma_of(boxes_, info.id); !chroma.empty()) m.set("chroma", chroma);
    m.set("has_alpha", info.has_alpha);
    m.set("premultiplied_alpha", info.premultiplied_alpha);
    m.set("n_images", static_cast<std::int64_t>(ctx_.images().size()));
    m.set("primary_index", static_cast<std::int64_t>(ctx_.primary_index()));
    m.set("primary", info.primary);
    m.set("thumbnails", std::int64_t{info.thumbnails});
    m.set("depth_images", std::int64_t{info.depth_images});
    m.set("auxiliary_images", std::int64_t{info.auxiliary_images});
    ctx_.metadata(k, m);
    if (m.contains("exif")) {
      for (const auto& [key, value] : read_exif(m.get<Bytes>("exif"))) {
        if (!m.contains(key)) m.set(key, value);
      }
    }
    // HEIF's irot/imir are the orientation a reader applies (ISO/IEC
    // 23008-12 §6.5.10–12); an EXIF Orientation beside them describes the
    // same turn and must not be applied on top: hidden when the read it
    // describes applies the transformations (D17).
    // Beyond imageio (docs/metadata.md): `orientation` is the one irot and
    // imir give, an EXIF Orientation beside them being ignored.
    add_photo_metadata(m, orientation_of(transformations_of(boxes_, info.id)));
    if (exclude_applied && a.transform) {
      m.erase("Orientation");
      m.erase("orientation");
    }
    return m;
  }

 private:
  Layout layout_of(std::size_t k, const ReadArgs& a) const {
    if (!a.mode) return ctx_.images()[k].has_alpha ? Layout::rgba : Layout::rgb;
    if (*a.mode == "RGBA") return Layout::rgba;
    if (*a.mode == "L") return Layout::gray;
    return Layout::rgb;
  }

  std::size_t image_index(const Index& index) const {
    const std::size_t n = ctx_.images().size();
    if (index.is_none()) return ctx_.primary_index();
    const auto k = static_cast<std::size_t>(index.value());
    if (k >= n) throw IndexError(fmt::format("index {} is out of range: the file holds {} top-level image(s)", index.repr(), n));
    return k;
  }

  // imio::all: every image must give the same shape and dtype.
  std::pair<Shape, DType> common_shape(const ReadArgs& a) const {
    const auto& images = ctx_.images();
    request_.check_frames(images.size());
    const Shape first = shape_of(images[0], layout_of(0, a), a.transform);
    const DType dtype = dtype_of(images[0], a.depth);
    for (std::size_t k = 1; k < images.size(); ++k) {
      const Shape s = shape_of(images[k], layout_of(k, a), a.transform);
      const DType d = dtype_of(images[k], a.depth);
      if (s != first || d != dtype) {
        throw ArgumentError(fmt::format("index=imio::all stacks the top-level images, but image 0 is {} {} and image {} is {} {}; "
                                        "read them one by one (index=k or imiter)",
                                        shape_text(first), name(dtype), k, shape_text(s), name(d)));
      }
    }
    return {first, dtype};
  }

  NDArray read_all(const ReadArgs& a) {
    const auto [shape, dtype] = common_shape(a);
    const std::size_t n = ctx_.images().size();
    NDArray out = request_.allocate(with_batch_axis(shape, n), dtype);
    const std::size_t each = out.nbytes() / n;
    for (std::size_t k = 0; k < n; ++k) {
      const ImageInfo& info = ctx_.images()[k];
      request_.check_array(Shape{info.height, info.width, 4}, dtype);  // libheif's own buffer
      ctx_.decode_into(k, layout_of(k, a), a.depth, a.transform, out.bytes() + k * each);
    }
    return out;
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> file_;
  Container boxes_;
  Context ctx_;
};

constexpr std::size_t kSniffBytes = 64;

// Sizes the file states, against the Limits, before libheif reads them:
// every item's ispe, every grid's output size, and a grid's tile count
// against the tiles it references (libheif 1.15 would allocate the grid's
// output before finding tiles missing).
void check_items(const Container& boxes, std::span<const std::byte> file, const Request& request) {
  for (const auto& [id, item] : boxes.items) {
    if (const auto size = ispe_of(boxes, id)) request.check_pixels(size->first, size->second);
    if (item.type != "grid") continue;
    const auto grid = grid_of(boxes, file, id);
    if (!grid) continue;
    request.check_pixels(grid->width, grid->height);
    auto refs = item.refs.find("dimg");
    const std::size_t tiles = refs == item.refs.end() ? 0 : refs->second.size();
    if (std::uint64_t{grid->rows} * grid->columns != tiles) {
      throw DecodeError(fmt::format("grid item {} declares {}x{} tiles but references {} tile image(s)", id, grid->rows, grid->columns, tiles));
    }
    if (grid->width == 0 || grid->height == 0) throw DecodeError(fmt::format("grid item {} declares an output of {}x{} pixels", id, grid->width, grid->height));
  }
}

std::unique_ptr<Plugin> open_heif(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  // Every write call goes into one file, encoded at close (one image: a still HEIC/AVIF; several: a collection of top-level images).
  if (request.mode() == IoMode::write) return std::make_unique<BufferedWriter<PendingHeif>>(request);
  if (!has_signature(request.first_bytes(kSniffBytes))) {
    throw InitializationError("not a HEIF file (it does not start with an 'ftyp' box naming a HEIC, AVIF or HEIF brand)");
  }
  Bytes owned;
  const std::span<const std::byte> file = whole_data(request.source(), owned, request.limits().max_bytes);
  Container boxes = parse(file);  // from here the file is a HEIF: damage is a DecodeError (D4)
  if (!boxes.has_meta) {
    if (boxes.has_moov) {
      throw InitializationError("the HEIF file holds no 'meta' box, so no still image (an image sequence is read by the ffmpeg plugin)");
    }
    throw DecodeError("the file is truncated: it ends before the 'meta' box that holds its images");
  }
  check_items(boxes, file, request);
  return std::make_unique<HeifReader>(request, std::move(boxes), file, std::move(owned));
}

}  // namespace
}  // namespace heif

namespace builtin {

PluginSpec libheif_plugin_spec() {
  PluginSpec spec;
  // What libheif is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = heif::has_signature;
  spec.sniff_bytes = heif::kSniffBytes;
  spec.factory = heif::open_heif;
  spec.backend = heif::libheif_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
