// The radiance plugin: Radiance HDR pictures (RGBE or XYZE, flat or
// run-length coded, any of the eight scanline orders) read as float32
// (H, W, 3) and written with adaptive run-length coding, by imio itself.
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>

#include "hdr_header.hpp"
#include "hdr_pixels.hpp"

namespace imio {
namespace radiance {
namespace {

constexpr std::string_view kPlugin = "radiance";

class HdrReader final : public Plugin {
 public:
  explicit HdrReader(Request& request)
      : request_(request), data_(whole_data(request.source(), owned_, request.limits().max_bytes)), header_(parse_header(data_)) {
    request_.check_pixels(header_.width(), header_.height());
    // Every scanline takes at least 4 bytes (one pixel) or 8 (a pixel and
    // a run): a file too short for its scanlines is refused before the
    // array is allocated.
    const std::uint64_t least = std::uint64_t{header_.major.size} * (header_.minor.size == 1 ? 4 : 8);
    if (data_.size() - header_.data_offset < least) {
      throw DecodeError(fmt::format("the file is truncated: {} scanlines of {} pixels need at least {} bytes, {} follow the header",
                                    header_.major.size, header_.minor.size, least, data_.size() - header_.data_offset));
    }
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const bool exposure = read_args(kwargs, "read");
    const bool batch = single_image_wants_batch(index, "a Radiance HDR file");
    return decoded(batch, exposure);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const bool exposure = read_args(kwargs, "iter");
    return one_frame([this, exposure] { return decoded(false, exposure); });
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    read_args(kwargs, "properties");
    const bool batch = single_image_wants_batch(index, "a Radiance HDR file");
    const Shape s = shape();
    if (batch) return {.shape = with_batch_axis(s), .dtype = DType::float32, .n_images = 1, .is_batch = true};
    return {.shape = s, .dtype = DType::float32};
  }

  Metadata metadata(const Index& index, bool, const Kwargs& kwargs) override {
    read_args(kwargs, "metadata");
    single_image_wants_batch(index, "a Radiance HDR file");
    const Header& h = header_;
    Metadata m;
    m.set("program", h.program);
    m.set("format", h.format);
    if (h.exposure) m.set("exposure", *h.exposure);
    if (h.colorcorr) m.set("colorcorr", Value{(*h.colorcorr)[0], (*h.colorcorr)[1], (*h.colorcorr)[2]});
    if (h.primaries) m.set("primaries", Value(*h.primaries));
    if (h.pixaspect) m.set("pixaspect", *h.pixaspect);
    if (h.gamma) m.set("gamma", *h.gamma);
    if (h.software) m.set("software", *h.software);
    if (h.view) m.set("view", *h.view);
    m.set("orientation", h.orientation());
    m.set("header", Value(h.lines));
    m.set("shape", Value{static_cast<std::int64_t>(h.width()), static_cast<std::int64_t>(h.height())});
    return m;
  }

 private:
  static bool read_args(const Kwargs& kwargs, std::string_view method) {
    KwargReader kw(kwargs, kPlugin, method);
    const bool e = kw.get<bool>("apply_exposure");
    kw.finish();
    return e;
  }

  Shape shape() const { return {header_.height(), header_.width(), 3}; }

  NDArray decoded(bool batch, bool exposure) {
    NDArray out = request_.allocate(batch ? with_batch_axis(shape()) : shape(), DType::float32);
    float* px = out.data<float>();
    decode(data_, header_, px);
    if (exposure && (header_.exposure || header_.colorcorr)) {
      // Radiance: the stored value is the radiance × EXPOSURE × COLORCORR.
      const double e = header_.exposure.value_or(1.0);
      const std::array<double, 3> c = header_.colorcorr.value_or(std::array<double, 3>{1, 1, 1});
      const float f[3] = {static_cast<float>(1.0 / (e * c[0])), static_cast<float>(1.0 / (e * c[1])), static_cast<float>(1.0 / (e * c[2]))};
      for (std::size_t i = 0; i < out.size(); ++i) px[i] *= f[i % 3];
    }
    return out;
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  Header header_;
};

// One picture per file: float32 (H, W, 3) (float16 and float64 converted),
// or (H, W) gray written as R = G = B.
class HdrWriter final : public Plugin {
 public:
  explicit HdrWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override {
    if (written_) throw ArgumentError("a Radiance HDR file holds one image; this handle has written it");
    KwargReader kw(kwargs, kPlugin, "write");
    EncodeOptions options;
    options.rle = kw.get<bool>("rle");
    options.clip = kw.get<bool>("clip");
    const bool xyze = kw.get<std::string>("format") == "xyze";
    const auto exposure = kw.take<double>("exposure");
    if (exposure && !(*exposure > 0 && std::isfinite(*exposure))) kw.fail("exposure", "expects a positive number");
    std::optional<std::array<double, 8>> primaries;
    if (const Value* p = kw.find("primaries"); p != nullptr && !p->is_none()) {
      const auto& l = p->ref<Value::List>();
      if (l.size() != 8) kw.fail("primaries", "expects 8 numbers: the x, y of red, green, blue and white");
      std::array<double, 8> v{};
      for (std::size_t i = 0; i < 8; ++i) {
        if (!l[i].is<double>() && !l[i].is<std::int64_t>()) kw.fail("primaries", "expects 8 numbers");
        v[i] = l[i].get<double>();
      }
      primaries = v;
    }
    const std::string software = kw.take<std::string>("software").value_or("imio");
    if (software.find('\n') != std::string::npos) kw.fail("software", "must be one line");
    kw.finish();

    check_layout(image);
    const std::size_t h = image.shape()[0], w = image.shape()[1];
    std::optional<NDArray> converted;
    if (image.dtype() != DType::float32 || image.ndim() == 2) converted = as_rgb_float32(image);
    const float* rgb = converted ? converted->data<float>() : image.data<float>();
    Bytes out;
    std::string head = fmt::format("#?RADIANCE\nSOFTWARE={}\nFORMAT={}\n", software, xyze ? "32-bit_rle_xyze" : "32-bit_rle_rgbe");
    if (exposure) head += fmt::format("EXPOSURE={}\n", *exposure);
    if (primaries) head += fmt::format("PRIMARIES={}\n", fmt::join(*primaries, " "));
    head += fmt::format("\n-Y {} +X {}\n", h, w);
    const auto* hb = reinterpret_cast<const std::byte*>(head.data());
    out.insert(out.end(), hb, hb + head.size());
    encode(rgb, h, w, options, out);
    encoded_ = std::move(out);
    written_ = true;
  }

  void close() override {
    if (encoded_) request_.sink().write(encoded_->data(), encoded_->size());
    encoded_.reset();
  }

 private:
  static void check_layout(const NDArray& image) {
    const Shape& s = image.shape();
    if (!(s.size() == 2 || (s.size() == 3 && s[2] == 3))) {
      throw ArgumentError(fmt::format("a Radiance HDR image is (H, W, 3) RGB or (H, W) gray; got shape ({})", fmt::join(s, ", ")));
    }
    if (s[0] == 0 || s[1] == 0) throw ArgumentError("cannot write an empty image");
    if (s[0] > 0x7fffffff || s[1] > 0x7fffffff) throw ArgumentError("Radiance HDR images have at most 2^31 − 1 pixels per side");
    if (image.dtype() != DType::float32 && image.dtype() != DType::float16 && image.dtype() != DType::float64) {
      throw ArgumentError(fmt::format("Radiance HDR stores float samples; got {} (convert to float32 first)", name(image.dtype())));
    }
  }

  NDArray as_rgb_float32(const NDArray& image) const {
    const Shape& s = image.shape();
    const bool gray = s.size() == 2;
    NDArray f = image.dtype() == DType::float32 ? image.copy() : image.astype(DType::float32);
    if (!gray) return f;
    NDArray rgb = request_.allocate({s[0], s[1], 3}, DType::float32);
    const float* g = f.data<float>();
    float* o = rgb.data<float>();
    for (std::size_t i = 0; i < f.size(); ++i) o[i * 3] = o[i * 3 + 1] = o[i * 3 + 2] = g[i];
    return rgb;
  }

  Request& request_;
  std::optional<Bytes> encoded_;
  bool written_ = false;
};

std::unique_ptr<Plugin> open_hdr(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  if (request.mode() == IoMode::write) return std::make_unique<HdrWriter>(request);
  if (!has_signature(request.first_bytes(3))) throw InitializationError("not a Radiance HDR file (it does not start with '#?' and a program name)");
  return std::make_unique<HdrReader>(request);
}

}  // namespace
}  // namespace radiance

namespace builtin {

PluginSpec radiance_plugin_spec() {
  PluginSpec spec;
  spec.sniff = radiance::has_signature;
  spec.sniff_bytes = 3;
  spec.factory = radiance::open_hdr;
  spec.backend = "imio (no library)";
  return spec;
}

}  // namespace builtin
}  // namespace imio
