// The openjpeg plugin: JPEG 2000 — JP2 files (and the JPX/JPF files whose
// first codestream is contiguous) and raw J2K codestreams — through
// OpenJPEG, as imageio reads and writes them through Pillow's
// Jpeg2KImagePlugin (itself over OpenJPEG), with the samples kept at
// their precision and OpenJPEG's reduced resolutions, regions and
// quality layers as kwargs.
#include <imio/pixel_box.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <fmt/format.h>

#include "j2k_codec.hpp"
#include "j2k_decode.hpp"
#include "j2k_encode.hpp"
#include "j2k_header.hpp"

namespace imio {
namespace openjpeg {
namespace {

constexpr std::string_view kPlugin = "openjpeg";

ReadArgs read_args(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadArgs a;
  a.reduce = kw.get<int>("reduce");
  a.layers = kw.get<int>("layers");
  if (const auto box = take_pixel_box(kw, "area")) {
    // OpenJPEG takes OPJ_INT32 coordinates.
    constexpr std::uint64_t kMax = 0x7fffffff;
    if (box->left > kMax || box->top > kMax || box->right > kMax || box->bottom > kMax) {
      kw.fail("area", fmt::format("coordinates above {} are beyond any JPEG 2000 image", kMax));
    }
    a.area = std::array<std::uint32_t, 4>{static_cast<std::uint32_t>(box->left), static_cast<std::uint32_t>(box->top),
                                          static_cast<std::uint32_t>(box->right), static_cast<std::uint32_t>(box->bottom)};
  }
  const std::string depth = kw.get<std::string>("high_bit_depth");
  a.depth = depth == "scaled" ? Depth::scaled : depth == "8bit" ? Depth::eight : Depth::native;
  a.threads = kw.get<int>("threads");
  a.mode = kw.take<std::string>("mode");
  kw.find("apply_gamma");
  kw.find("writeable_output");
  return a;
}

std::string progression_name(int p) {
  static constexpr const char* kNames[] = {"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"};
  return p >= 0 && p < 5 ? kNames[p] : "unknown";
}

std::string color_space_name(const Header& h) {
  if (!h.jp2 || h.boxes.colr_method == 0) return "unspecified";
  if (h.boxes.colr_method != 1) return "icc";
  switch (h.boxes.enumcs) {
    case 16: return "sRGB";
    case 17: return "greyscale";
    case 18: return "sYCC";
    case 12: return "CMYK";
    case 14: return "CIELab";
    case 24: return "e-sYCC";
    default: return fmt::format("enumerated {}", h.boxes.enumcs);
  }
}

class J2kReader final : public Plugin {
 public:
  J2kReader(Request& request, Bytes owned, std::span<const std::byte> file, Header header)
      : request_(request), owned_(std::move(owned)), file_(file), h_(std::move(header)) {}

  // One image: index none or 0 → (H, W[, C]); imio::all → (1, H, W[, C]).
  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    const bool batch = single_image_wants_batch(index, "a JPEG 2000 file");
    const Plan p = plan(h_, a);
    NDArray out = decode(file_, h_, p, a, request_);
    if (batch) out = std::move(out).reshaped(with_batch_axis(out.shape()));
    return out;
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "iter");
    const Plan p = plan(h_, a);  // kwarg errors before the iteration starts
    return one_frame([this, a, p] { return decode(file_, h_, p, a, request_); });
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    const bool batch = single_image_wants_batch(index, "a JPEG 2000 file");
    const Plan p = plan(h_, a);
    check_limits(p, request_);  // what imread would refuse, improps refuses (D11)
    if (batch) return {.shape = with_batch_axis(p.shape), .dtype = p.dtype, .n_images = 1, .is_batch = true};
    return {.shape = p.shape, .dtype = p.dtype};
  }

  Metadata metadata(const Index& index, bool, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata");
    if (!index.is_all()) single_image_wants_batch(index, "a JPEG 2000 file");
    const Codestream& cs = h_.cs;
    const std::vector<Channel> channels = output_channels(h_);
    Metadata m;
    m.set("codec", h_.jp2 ? "jp2" : "j2k");
    if (h_.jp2 && !h_.boxes.brand.empty()) m.set("brand", h_.boxes.brand);
    m.set("mode", pillow_mode(channels));
    m.set("shape", Value{std::int64_t{cs.width()}, std::int64_t{cs.height()}});
    m.set("offset", Value{std::int64_t{cs.x0}, std::int64_t{cs.y0}});
    Value::List bits, sub;
    bool any_signed = false;
    for (const Channel& c : channels) {
      bits.emplace_back(std::int64_t{c.precision});
      sub.emplace_back(Value{std::int64_t{c.dx}, std::int64_t{c.dy}});
      any_signed = any_signed || c.is_signed;
    }
    m.set("components", static_cast<std::int64_t>(channels.size()));
    m.set("bit_depth", Value(std::move(bits)));
    m.set("signed", any_signed);
    m.set("subsampling", Value(std::move(sub)));
    m.set("color_space", color_space_name(h_));
    if (h_.jp2 && h_.boxes.palette) m.set("palette_entries", std::int64_t{h_.boxes.palette->entries});
    m.set("num_resolutions", std::int64_t{cs.min_resolutions()});
    m.set("layers", std::int64_t{cs.layers});
    m.set("progression", progression_name(cs.progression));
    m.set("irreversible", !cs.style.reversible);
    m.set("mct", std::int64_t{cs.mct});
    m.set("codeblock_size", Value{std::int64_t{cs.style.codeblock_w}, std::int64_t{cs.style.codeblock_h}});
    m.set("tile_size", Value{std::int64_t{cs.tile_w}, std::int64_t{cs.tile_h}});
    m.set("tile_offset", Value{std::int64_t{cs.tile_x0}, std::int64_t{cs.tile_y0}});
    m.set("tiles", static_cast<std::int64_t>(cs.tiles()));
    m.set("htj2k", (cs.rsiz & 0x4000) != 0 || (cs.style.codeblock_style & 0x40) != 0);
    if (!cs.comments.empty()) m.set("comment", cs.comments.front());
    if (h_.boxes.capture_dpi) m.set("dpi", Value{h_.boxes.capture_dpi->first, h_.boxes.capture_dpi->second});
    if (h_.boxes.display_dpi) m.set("display_dpi", Value{h_.boxes.display_dpi->first, h_.boxes.display_dpi->second});
    if (!h_.boxes.icc.empty()) m.set("icc_profile", Bytes(h_.boxes.icc.begin(), h_.boxes.icc.end()));
    if (!h_.boxes.xmp.empty()) m.set("xmp", Bytes(h_.boxes.xmp.begin(), h_.boxes.xmp.end()));
    if (!h_.boxes.xml.empty()) m.set("xml", h_.boxes.xml.front());
    // Beyond imageio (docs/metadata.md): EXIF and IPTC uuid boxes, parsed.
    if (!h_.boxes.exif.empty()) m.set("exif", Bytes(h_.boxes.exif.begin(), h_.boxes.exif.end()));
    if (!h_.boxes.iptc.empty()) m.set("iptc", Bytes(h_.boxes.iptc.begin(), h_.boxes.iptc.end()));
    add_photo_metadata(m);
    (void)a;
    return m;
  }

 private:
  Request& request_;
  Bytes owned_;
  std::span<const std::byte> file_;
  Header h_;
};

// One image per file: encoded and written by the write call (D8: checked
// before the target is touched; the core completes it at close).
class J2kWriter final : public Plugin {
 public:
  explicit J2kWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override { write_images(std::span<const NDArray>(&image, 1), false, kwargs); }
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override { write_images(images, true, kwargs); }

 private:
  void write_images(std::span<const NDArray> images, bool listed, const Kwargs& kwargs) {
    if (written_) throw ArgumentError("a JPEG 2000 file holds one image and it was already written");
    const std::vector<std::byte> file = encode(images, listed, kwargs, request_);
    request_.sink().write(file.data(), file.size());
    written_ = true;
  }

  Request& request_;
  bool written_ = false;
};

constexpr std::size_t kSniffBytes = 12;

std::unique_ptr<Plugin> open_j2k(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  if (request.mode() == IoMode::write) return std::make_unique<J2kWriter>(request);
  if (!has_signature(request.first_bytes(kSniffBytes))) {
    throw InitializationError("not a JPEG 2000 file (it starts with neither the JP2 signature box nor a codestream's SOC and SIZ markers)");
  }
  // From here the data claim to be JPEG 2000: damage is a DecodeError (D4).
  Bytes owned;
  const std::span<const std::byte> file = whole_data(request.source(), owned, request.limits().max_bytes);
  Header header = parse(file);
  return std::make_unique<J2kReader>(request, std::move(owned), file, std::move(header));
}

}  // namespace
}  // namespace openjpeg

namespace builtin {

PluginSpec openjpeg_plugin_spec() {
  PluginSpec spec;
  // What openjpeg is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = openjpeg::has_signature;
  spec.sniff_bytes = openjpeg::kSniffBytes;
  spec.factory = openjpeg::open_j2k;
  spec.backend = openjpeg::openjpeg_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
