// The libjxl plugin: JPEG XL stills and animations through libjxl, read
// with still-image semantics ((H,W[,C]) with the file's channels and sample
// type, frame 0 unless `index` says otherwise), written from uint8, uint16,
// float16 or float32 arrays, and JPEG files recompressed losslessly and
// reconstructed bit-exactly.
#include <imio/plugin.hpp>
#include <imio/array_recycler.hpp>
#include <imio/buffered_writer.hpp>
#include <imio/exif.hpp>
#include <imio/single_image.hpp>

#include <fmt/format.h>

#include <cstring>

#include "jxl_decode.hpp"
#include "jxl_encode.hpp"

namespace imio {
namespace jxl {
namespace {

constexpr std::string_view kPlugin = "libjxl";

struct ReadArgs {
  std::optional<std::string> dtype;
  bool rotate = true;
  bool jpeg = false;
  unsigned threads = 0;
};

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  a.dtype = kw.take<std::string>("dtype");  // plugin.json: uint8, uint16, float16, float32
  a.rotate = kw.get<bool>("rotate");
  a.jpeg = kw.get<bool>("jpeg_reconstruction");
  a.threads = static_cast<unsigned>(kw.get<int>("thread_count"));
  if (a.jpeg && a.dtype && *a.dtype != "uint8") {
    kw.fail("dtype", "jpeg_reconstruction=true returns the JPEG file's bytes, which are uint8");
  }
  return a;
}

std::string mode_of(const Info& info) {
  if (info.color_channels == 1) return info.alpha ? "LA" : "L";
  return info.alpha ? "RGBA" : "RGB";
}

class JxlReader final : public Plugin {
 public:
  JxlReader(Request& request, std::span<const std::byte> file, Bytes owned)
      : request_(request), owned_(std::move(owned)), file_(file), info_(probe(file_, request)) {}

  // index omitted → frame 0 (a still image's only frame), as imageio's
  // pillow plugin reads animated WebP; k → frame k; imio::all → every
  // frame stacked.
  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    if (a.jpeg) return read_jpeg(index, a);
    const Shape shape = frame_shape(info_, a.rotate);
    const DType dtype = dtype_of(sample_of(a));
    check_working_memory();
    if (index.is_all()) {
      const std::size_t n = info_.frames.size();
      request_.check_frames(n);
      NDArray out = request_.allocate(with_batch_axis(shape, n), dtype);
      const std::size_t each = out.nbytes() / n;
      FrameDecoder dec(file_, info_, options(a));
      for (std::size_t k = 0; k < n; ++k) dec.next(out.bytes() + k * each, each);
      return out;
    }
    const std::size_t k = frame_index(index);
    NDArray out = request_.allocate(shape, dtype);
    FrameDecoder dec(file_, info_, options(a));
    dec.skip(k);
    dec.next(out.bytes(), out.nbytes());
    return out;
  }

  // One frame per next(): libjxl's decoder keeps its reference frames, the
  // caller holds the frame handed out (recycled once dropped).
  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "iter");
    if (a.jpeg) {
      return one_frame([this, a] { return read_jpeg(Index(), a); });
    }
    struct Frames final : FrameSource {
      JxlReader& r;
      ReadArgs a;
      Shape shape;
      DType dtype;
      std::optional<FrameDecoder> dec;
      ArrayRecycler recycler;
      Frames(JxlReader& reader, ReadArgs args)
          : r(reader), a(std::move(args)), shape(frame_shape(r.info_, a.rotate)), dtype(dtype_of(r.sample_of(a))) {}
      std::optional<NDArray> next() override {
        if (dec && dec->position() == r.info_.frames.size()) return std::nullopt;
        if (!dec) {
          r.check_working_memory();
          dec.emplace(r.file_, r.info_, r.options(a));
        }
        r.request_.check_array(shape, dtype);
        NDArray out = recycler.allocate(shape, dtype);
        dec->next(out.bytes(), out.nbytes());
        return out;
      }
    };
    return std::make_unique<Frames>(*this, a);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    if (a.jpeg) {
      // The JPEG's size is known once it is rebuilt (entropy coding only,
      // no pixels); the read that follows on this handle reuses it.
      const bool batch = single_image_wants_batch(index, "a JPEG XL file's JPEG reconstruction");
      const Shape s{jpeg_bytes(a).size()};
      if (batch) return {.shape = with_batch_axis(s, 1), .dtype = DType::uint8, .n_images = 1, .is_batch = true};
      return {.shape = s, .dtype = DType::uint8};
    }
    const Shape shape = frame_shape(info_, a.rotate);
    const DType dtype = dtype_of(sample_of(a));
    if (index.is_all()) {
      const std::size_t n = info_.frames.size();
      return {.shape = with_batch_axis(shape, n), .dtype = dtype, .n_images = n, .is_batch = true};
    }
    frame_index(index);
    return {.shape = shape, .dtype = dtype};
  }

  // The image header, the colour, the container's boxes (EXIF parsed) and,
  // for an animation, frame k's timing; imio::all → frame 0's (D13).
  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata");
    const std::size_t k = index.is_all() ? 0 : frame_index(index);
    const Info& i = info_;
    Metadata m;
    m.set("mode", mode_of(i));
    const Shape shape = frame_shape(i, a.rotate);
    m.set("shape", Value{static_cast<std::int64_t>(shape[1]), static_cast<std::int64_t>(shape[0])});
    m.set("bit_depth", std::int64_t{i.bits});
    m.set("sample_format", i.exponent_bits > 0 ? "float" : "int");
    m.set("exponent_bits", std::int64_t{i.exponent_bits});
    m.set("has_alpha", i.alpha);
    m.set("alpha_bits", std::int64_t{i.alpha_bits});
    m.set("alpha_premultiplied", i.alpha_premultiplied);
    Value::List extra;
    for (const ExtraChannel& e : i.extra_channels) {
      Dict d;
      d.set("type", e.type);
      d.set("bit_depth", std::int64_t{e.bits});
      d.set("exponent_bits", std::int64_t{e.exponent_bits});
      d.set("dim_shift", std::int64_t{e.dim_shift});
      d.set("name", e.name);
      extra.emplace_back(std::move(d));
    }
    m.set("extra_channels", Value(std::move(extra)));
    m.set("n_images", static_cast<std::int64_t>(i.frames.size()));
    m.set("animated", i.animated);
    if (i.animated) {
      m.set("loop", std::int64_t{i.loops});
      m.set("tps_numerator", std::int64_t{i.tps_numerator});
      m.set("tps_denominator", std::int64_t{i.tps_denominator});
      const double tps = i.tps_denominator == 0 ? 0.0 : double(i.tps_numerator) / i.tps_denominator;
      m.set("tps", tps);
      const auto ms = [&](std::uint64_t ticks) { return tps == 0 ? 0.0 : double(ticks) * 1000.0 / tps; };
      std::uint64_t start = 0;
      for (std::size_t f = 0; f < k; ++f) start += i.frames[f].duration;
      m.set("timestamp", ms(start));
      m.set("duration", ms(i.frames[k].duration));
      m.set("duration_ticks", std::int64_t{i.frames[k].duration});
    }
    if (!i.frames[k].name.empty()) m.set("frame_name", i.frames[k].name);
    if (i.icc) m.set("icc_profile", *i.icc);
    if (i.color_encoding) m.set("color_encoding", Value(*i.color_encoding));
    m.set("uses_original_profile", i.uses_original_profile);
    m.set("intensity_target", double(i.intensity_target));
    m.set("have_preview", i.have_preview);
    m.set("container", i.container);
    Value::List boxes;
    for (const std::string& b : i.boxes) boxes.emplace_back(b);
    m.set("boxes", Value(std::move(boxes)));
    m.set("jpeg_reconstruction", i.jpeg_reconstruction);
    if (i.container) {
      Boxes b = read_boxes(file_, request_);
      if (b.xmp) m.set("xmp", std::move(*b.xmp));
      if (b.jumbf) m.set("jumbf", std::move(*b.jumbf));
      if (b.exif) {
        for (const auto& [key, value] : read_exif(*b.exif)) {
          if (!m.contains(key)) m.set(key, value);
        }
        m.set("exif", std::move(*b.exif));
      }
    }
    // ISO/IEC 18181-2 §9.1: the codestream's orientation is the one that
    // counts (an EXIF Orientation beside it is to be ignored). D17: hidden
    // when the read it describes applies it.
    m.set("Orientation", std::int64_t{i.orientation});
    add_photo_metadata(m, i.orientation);  // beyond imageio: docs/metadata.md
    if (exclude_applied && a.rotate) {
      m.erase("Orientation");
      m.erase("orientation");
    }
    return m;
  }

 private:
  Sample sample_of(const ReadArgs& a) const {
    if (a.dtype) {
      if (*a.dtype == "uint16") return Sample::uint16;
      if (*a.dtype == "float16") return Sample::float16;
      if (*a.dtype == "float32") return Sample::float32;
      return Sample::uint8;
    }
    if (info_.exponent_bits > 0) return Sample::float32;
    return info_.bits <= 8 ? Sample::uint8 : Sample::uint16;
  }

  DecodeOptions options(const ReadArgs& a) const { return {.rotate = a.rotate, .sample = sample_of(a), .threads = a.threads}; }

  std::size_t frame_index(const Index& index) const {
    const std::size_t n = info_.frames.size();
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= n) throw IndexError(fmt::format("index {} is out of range: the file holds {} frame(s)", index.repr(), n));
    return k;
  }

  // libjxl decodes into frames of float samples of its own (colour and
  // extra channels) before converting into the array.
  void check_working_memory() const {
    request_.check_array(Shape{info_.height, info_.width, info_.color_channels + info_.extra_channels.size()}, DType::float32);
  }

  const Bytes& jpeg_bytes(const ReadArgs& a) {
    if (!jpeg_) jpeg_ = reconstruct_jpeg(file_, info_, request_, a.threads);
    return *jpeg_;
  }

  NDArray read_jpeg(const Index& index, const ReadArgs& a) {
    const bool batch = single_image_wants_batch(index, "a JPEG XL file's JPEG reconstruction");
    const Bytes& jpeg = jpeg_bytes(a);
    const Shape s{jpeg.size()};
    NDArray out = request_.allocate(batch ? with_batch_axis(s, 1) : s, DType::uint8);
    std::memcpy(out.bytes(), jpeg.data(), jpeg.size());
    return out;
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> file_;
  Info info_;
  std::optional<Bytes> jpeg_;
};

constexpr std::size_t kSniffBytes = 12;

std::unique_ptr<Plugin> open_jxl(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  // Every write call's frames make one file, encoded at close (one frame: a
  // still image; several: an animation).
  if (request.mode() == IoMode::write) return std::make_unique<BufferedWriter<PendingJxl>>(request);
  if (!has_signature(request.first_bytes(kSniffBytes))) {
    throw InitializationError("not a JPEG XL file (it starts neither with a codestream's FF 0A nor with the container's 'JXL ' box)");
  }
  // From here the file claims to be JPEG XL: damage is a DecodeError (D4).
  Bytes owned;
  const std::span<const std::byte> file = whole_data(request.source(), owned, request.limits().max_bytes);
  return std::make_unique<JxlReader>(request, file, std::move(owned));
}

}  // namespace
}  // namespace jxl

namespace builtin {

PluginSpec libjxl_plugin_spec() {
  PluginSpec spec;
  // What libjxl is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = jxl::has_signature;
  spec.sniff_bytes = jxl::kSniffBytes;
  spec.factory = jxl::open_jxl;
  spec.backend = jxl::libjxl_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
