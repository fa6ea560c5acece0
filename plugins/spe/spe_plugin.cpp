// The spe plugin: Princeton Instruments SPE files (2.x binary header, 3.0
// with LightField's XML footer) read as imageio's SpePlugin reads them:
// frames (N, H, W) in the stored dtype, index=None reading every frame.
#include <imio/plugin.hpp>
#include <imio/warnings.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "spe_header.hpp"

namespace imio {
namespace spe {
namespace {

constexpr std::string_view kPlugin = "spe";
constexpr std::uint64_t kMaxFooter = 64u << 20;  // LightField's footers are a few hundred KiB

struct Options {
  bool check_filesize = true;
  std::optional<std::string> char_encoding;
  std::optional<bool> sdt_meta;
  std::int64_t roi = 0;
};

// The kwargs every method shares (imageio takes them in the constructor).
Options read_options(KwargReader& kw, const Options& base, bool pixels = true) {
  Options o = base;
  if (auto c = kw.take<bool>("check_filesize")) o.check_filesize = *c;
  if (auto e = kw.take<std::string>("char_encoding")) o.char_encoding = std::move(e);
  if (auto s = kw.take<bool>("sdt_meta")) o.sdt_meta = s;
  if (pixels) {
    if (auto r = kw.take<std::int64_t>("roi")) o.roi = *r;
  }
  return o;
}

class SpeReader final : public Plugin {
 public:
  SpeReader(Request& request, Options options) : request_(request), open_(std::move(options)) {
    ByteSource& src = request.source();
    size_ = *src.size();
    src.seek(0);
    src.read_exact(header_.data(), header_.size());
    if (field_ver() >= 3) {
      const std::uint64_t at = xml_offset();
      const std::uint64_t len = size_ - at;
      if (len > kMaxFooter) {
        throw DecodeError(fmt::format("SPE 3.0 XML footer of {} bytes (imio reads up to {})", len, kMaxFooter));
      }
      footer_.resize(static_cast<std::size_t>(len));
      src.seek(at);
      src.read_exact(footer_.data(), footer_.size());
    }
    layout_ = parse_layout(header_, footer_);
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "read");
    const Options o = read_options(kw, open_);
    const Geometry g = geometry(o);
    if (index.is_integer()) {
      check_index(index, g);
      NDArray out = request_.allocate({g.region.height, g.region.width}, layout_.dtype);
      read_frame(g, static_cast<std::uint64_t>(index.value()), out.bytes());
      return out;
    }
    request_.check_frames(g.frames);
    NDArray out = request_.allocate({g.frames, g.region.height, g.region.width}, layout_.dtype);
    const std::size_t step = g.frame_bytes;
    for (std::uint64_t k = 0; k < g.frames; ++k) read_frame(g, k, out.bytes() + k * step);
    return out;
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "iter");
    struct Frames final : FrameSource {
      SpeReader& r;
      Geometry g;
      std::uint64_t k = 0;
      Frames(SpeReader& reader, Geometry geometry) : r(reader), g(geometry) {}
      std::optional<NDArray> next() override {
        if (k >= g.frames) return std::nullopt;
        NDArray out = r.request_.allocate({g.region.height, g.region.width}, r.layout_.dtype);
        r.read_frame(g, k++, out.bytes());
        return out;
      }
    };
    return std::make_unique<Frames>(*this, geometry(read_options(kw, open_)));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "properties");
    const Geometry g = geometry(read_options(kw, open_));
    if (index.is_integer()) {
      check_index(index, g);
      return {.shape = {g.region.height, g.region.width}, .dtype = layout_.dtype};
    }
    return {.shape = {g.frames, g.region.height, g.region.width},
            .dtype = layout_.dtype,
            .n_images = g.frames,
            .is_batch = true};
  }

  // SPE 2.x: the header's fields under imageio's keys; SPE 3.0: the XML
  // footer as `__xml` (bytes, as imageio gives it). The same for every index.
  Metadata metadata(const Index& /*index*/, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "metadata");
    bool sdt_control = kw.get<bool>("sdt_control");
    const Options o = read_options(kw, open_, false);
    if (o.sdt_meta) sdt_control = *o.sdt_meta;  // imageio: the constructor's sdt_meta wins
    if (layout_.file_header_ver >= 3) {
      return Metadata{{"__xml", Value(std::span<const std::byte>(
                                    reinterpret_cast<const std::byte*>(footer_.data()), footer_.size()))}};
    }
    return metadata_v2(header_, o.char_encoding.value_or("latin1"), sdt_control);
  }

 private:
  struct Geometry {
    Region region;
    std::uint64_t frames = 0;
    std::size_t frame_bytes = 0;  // of the region
  };

  float field_ver() const {
    float v = 0;
    std::memcpy(&v, header_.data() + 1992, sizeof v);
    return v;
  }
  std::uint64_t xml_offset() const {
    std::uint64_t v = 0;
    std::memcpy(&v, header_.data() + 678, sizeof v);
    if (v < kHeaderSize || v > size_) {
      throw DecodeError(fmt::format("the SPE 3.0 XML footer offset {} lies outside the file of {} bytes", v, size_));
    }
    return v;
  }

  // The region read, the frame count (checked against the data when asked)
  // and the bytes of one region.
  Geometry geometry(const Options& o) const {
    if (o.roi < 0 || static_cast<std::size_t>(o.roi) >= layout_.regions.size()) {
      throw ArgumentError(fmt::format("spe: keyword 'roi': {} is out of range: the file has {} region{} of interest",
                                      o.roi, layout_.regions.size(), layout_.regions.size() == 1 ? "" : "s"));
    }
    Geometry g;
    g.region = layout_.regions[static_cast<std::size_t>(o.roi)];
    g.frame_bytes = static_cast<std::size_t>(request_.check_array({g.region.height, g.region.width}, layout_.dtype));
    if (layout_.declared_frames < 0) throw DecodeError(fmt::format("negative SPE frame count {}", layout_.declared_frames));
    g.frames = static_cast<std::uint64_t>(layout_.declared_frames);
    const std::uint64_t data_end = layout_.file_header_ver >= 3 ? layout_.xml_footer_offset : size_;
    const std::uint64_t data = data_end > kHeaderSize ? data_end - kHeaderSize : 0;
    // frames whose region lies wholly in the data
    std::uint64_t present = 0;
    if (layout_.frame_stride > 0) {
      const std::uint64_t last = g.region.offset + g.frame_bytes;
      present = data >= last ? (data - last) / layout_.frame_stride + 1 : 0;
    }
    if (o.check_filesize && layout_.frame_stride > 0) {
      const std::uint64_t by_size = data / layout_.frame_stride;
      if (by_size != g.frames) {
        imio::warn("spe", fmt::format("the file header of {} claims there are {} frames, but there are actually {} "
                                      "frames",
                                      request_.describe(), g.frames, by_size));
        g.frames = std::min(by_size, g.frames);
      }
    }
    if (g.frames > present && g.frame_bytes > 0) {
      throw DecodeError(fmt::format("truncated SPE file: the header promises {} frames of {} bytes, the data hold {} "
                                    "(check_filesize=true counts the frames in the data)",
                                    g.frames, layout_.frame_stride, present));
    }
    return g;
  }

  static void check_index(const Index& index, const Geometry& g) {
    if (static_cast<std::uint64_t>(index.value()) >= g.frames) {
      throw IndexError(fmt::format("index {} is out of range: the file holds {} frame{}", index.value(), g.frames,
                                   g.frames == 1 ? "" : "s"));
    }
  }

  void read_frame(const Geometry& g, std::uint64_t k, std::byte* dst) {
    ByteSource& src = request_.source();
    src.seek(kHeaderSize + k * layout_.frame_stride + g.region.offset);
    if (src.read(dst, g.frame_bytes) != g.frame_bytes) {
      throw DecodeError(fmt::format("truncated SPE file: frame {} ends past the end of the data", k));
    }
  }

  Request& request_;
  Options open_;
  std::uint64_t size_ = 0;
  std::array<std::byte, kHeaderSize> header_{};
  std::string footer_;
  Layout layout_;
};

std::unique_ptr<Plugin> open_spe(Request& request, const Kwargs& kwargs) {
  if (request.mode() == IoMode::write) throw InitializationError("cannot write SPE files");
  // SPE files have no signature: the plugin reads what is named .spe, or
  // what it is asked to read by name, when the header is plausible.
  if (request.extension() != ".spe" && request.requested_plugin().empty()) {
    throw InitializationError("SPE files have no signature: imio reads them when named .spe or with plugin=\"spe\"");
  }
  const auto first = request.first_bytes(kHeaderSize);
  const auto size = request.source().size();
  if (!size || !plausible(first, *size)) {
    throw InitializationError(first.size() < kHeaderSize
                                  ? fmt::format("not an SPE file: {} bytes, shorter than the {}-byte header",
                                                first.size(), kHeaderSize)
                                  : std::string("not an SPE file: its header's data type, frame count or version "
                                                "field is not an SPE header's"));
  }
  // The kwargs once the data are SPE's: another plugin's open kwargs must
  // not stop the search here.
  KwargReader kw(kwargs, kPlugin, "open");
  return std::make_unique<SpeReader>(request, read_options(kw, Options{}, false));
}

}  // namespace
}  // namespace spe

namespace builtin {

PluginSpec spe_plugin_spec() {
  PluginSpec spec;
  // What spe is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.factory = spe::open_spe;
  spec.backend = "imio (built-in)";
  return spec;
}

}  // namespace builtin
}  // namespace imio
