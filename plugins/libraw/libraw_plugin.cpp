// The libraw plugin: camera RAW files developed through LibRaw, behaving
// like imageio's rawpy plugin (spec §5.4; DECISIONS D1, D6, D9, D11). A
// file holds one image: index none or 0 gives it, imio::all a batch of one.
// Read-only: the factory refuses every write (D7: never a TIFF named .dng).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <libraw/libraw.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "raw_metadata.hpp"
#include "raw_options.hpp"
#include "raw_session.hpp"
#include "raw_sniff.hpp"

namespace imio {
namespace libraw {
namespace {

bool wants_batch(const Index& index) { return single_image_wants_batch(index, "a RAW file"); }

class RawReader final : public Plugin {
 public:
  explicit RawReader(Request& request) : request_(request) {
    // LibRaw decodes from memory (as rawpy does with file objects).
    data_ = whole_data(request.source(), owned_, request.limits().max_bytes);
    session_ = std::make_unique<RawSession>(data_, request.limits());
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadSettings s = take_read_settings(kwargs, "read");
    const bool batch = wants_batch(index);
    NDArray image = produce(s);
    if (!batch) return image;
    Shape shape = with_batch_axis(image.shape());
    return std::move(image).reshaped(std::move(shape));
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    return one_frame([this, s = take_read_settings(kwargs, "iter")] { return produce(s); });
  }

  // D11: what read returns for the same kwargs, without developing.
  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadSettings s = take_read_settings(kwargs, "properties");
    const bool batch = wants_batch(index);
    ImageProperties p = describe_output(s);
    if (batch) {
      p.shape = with_batch_axis(p.shape);
      p.n_images = 1;
      p.is_batch = true;
    }
    return p;
  }

  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata").finish();
    (void)wants_batch(index);
    // LibRaw names the thumbnail's format only once it has unpacked it; a
    // failed unpack_thumb recycles LibRaw's data (0.20: every field zero),
    // so the header is described before.
    Metadata header = describe(session_->processor(), exclude_applied, session_->exif_block());
    try {
      (void)session_->thumbnail();
    } catch (const Error&) {
      return header;  // no thumbnail, or an unreadable one: the keys say what is known
    }
    return describe(session_->processor(), exclude_applied, session_->exif_block());
  }

 private:
  NDArray produce(const ReadSettings& s) {
    switch (s.output) {
      case Output::raw: return session_->raw_visible(request_);
      case Output::thumbnail: return decode_thumbnail();
      case Output::developed: break;
    }
    return session_->develop(s.develop, request_);
  }

  ImageProperties describe_output(const ReadSettings& s) {
    if (s.output != Output::thumbnail) {
      // Only reading the sensor data shows whether the file holds them (a
      // truncated or stripped file): improps raises what read raises (D11).
      // They are unpacked, not developed, and kept for a read that follows.
      session_->unpack(request_);
    }
    switch (s.output) {
      case Output::raw: return {.shape = session_->raw_shape(), .dtype = DType::uint16};
      case Output::thumbnail: return thumbnail_properties();
      case Output::developed: break;
    }
    return {.shape = session_->developed_shape(s.develop),
            .dtype = s.develop.output_bps == 16 ? DType::uint16 : DType::uint8};
  }

  // A JPEG preview is decoded by the libjpeg plugin, through the public API
  // (plugins never include each other): libraw depends on libjpeg for
  // JPEG thumbnails (README), and says so when this build lacks it.
  static ReadOptions jpeg_options(const Request& request) {
    if (has_plugin("libjpeg")) return {.plugin = "libjpeg", .extension = ".jpg", .limits = request.limits()};
    throw DecodeError("the embedded thumbnail is a JPEG, and this build of imio has no libjpeg plugin to decode it "
                      "(CMake option IMIO_WITH_LIBJPEG)");
  }

  NDArray decode_thumbnail() {
    const Thumbnail t = session_->thumbnail();
    if (t.format == Thumbnail::Format::jpeg) return imread(t.data, jpeg_options(request_));
    const Shape shape = bitmap_shape(t);
    NDArray out = request_.allocate(shape, t.format == Thumbnail::Format::bitmap16 ? DType::uint16 : DType::uint8);
    std::copy_n(t.data.data(), out.nbytes(), out.bytes());
    return out;
  }

  ImageProperties thumbnail_properties() {
    const Thumbnail t = session_->thumbnail();
    if (t.format == Thumbnail::Format::jpeg) return improps(t.data, jpeg_options(request_));
    return {.shape = bitmap_shape(t),
            .dtype = t.format == Thumbnail::Format::bitmap16 ? DType::uint16 : DType::uint8};
  }

  Shape bitmap_shape(const Thumbnail& t) const {
    if (t.format != Thumbnail::Format::bitmap && t.format != Thumbnail::Format::bitmap16) {
      throw DecodeError(fmt::format("the embedded thumbnail is in LibRaw's '{}' format, which imio does not decode",
                                    t.format_name));
    }
    const std::size_t item = t.format == Thumbnail::Format::bitmap16 ? 2 : 1;
    const std::size_t channels = t.colors == 0 ? 3 : t.colors;
    request_.check_pixels(t.width, t.height);
    if (t.width == 0 || t.height == 0 || t.data.size() / item / channels / t.width / t.height == 0) {
      throw DecodeError(fmt::format("the embedded {}x{} thumbnail has only {} bytes", t.width, t.height, t.data.size()));
    }
    if (channels == 1) return {t.height, t.width};
    return {t.height, t.width, channels};
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  std::unique_ptr<RawSession> session_;  // after the data it reads
};

std::unique_ptr<Plugin> open_raw(Request& request, const Kwargs& kwargs) {
  if (request.mode() == IoMode::write) {
    throw InitializationError("LibRaw reads camera RAW files; writing them is not supported");
  }
  // Without a sniff, every plugin-less, extension-less read reaches this
  // factory. LibRaw needs the whole data in memory, so a stream of unknown
  // length is only buffered when the caller pointed at a RAW format; else
  // reading a long video stream to the end just to be refused would cost
  // its whole size in memory.
  if (!request.source().contiguous() && !request.source().size() && request.requested_plugin().empty() &&
      request.extension().empty()) {
    throw InitializationError("a stream of unknown length is only read as camera RAW with plugin= or extension=");
  }
  // Reached by the fallback phase (no plugin named, no RAW extension), the
  // data must carry a magic number LibRaw identifies: LibRaw 0.20 parses
  // garbage at length (and, for some, without end), and formats known by
  // size alone need the caller to say they are RAW. TIFF-based RAWs share
  // TIFF's magic; libtiff comes earlier in the fallback order, so a plain
  // TIFF is read as TIFF.
  const bool pointed_at_raw = !request.requested_plugin().empty() || is_raw_extension(request.extension());
  if (!pointed_at_raw && !has_raw_signature(request.first_bytes(64))) {
    throw InitializationError(
        "the data carry no magic number of a RAW format LibRaw identifies (name plugin=\"libraw\" or a RAW "
        "extension for formats known by size alone)");
  }
  auto reader = std::make_unique<RawReader>(request);
  // After LibRaw has identified the data: an unknown kwarg is an error of
  // this plugin only when it is the one that opens the resource.
  KwargReader(kwargs, kPlugin, "open").finish();
  return reader;
}

}  // namespace
}  // namespace libraw

namespace builtin {
PluginSpec libraw_plugin_spec() {
  PluginSpec spec;
  // What libraw is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  // No sniff here: LibRaw identifies some formats by file size alone, so
  // the factory checks magic numbers only when neither plugin= nor a RAW
  // extension points at it (raw_sniff.hpp).
  spec.factory = libraw::open_raw;
  spec.backend = fmt::format("LibRaw {}", LibRaw::version());
  return spec;
}
}  // namespace builtin
}  // namespace imio
