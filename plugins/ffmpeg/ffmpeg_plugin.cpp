// The ffmpeg plugin: video (and FFmpeg's still-image formats) through
// libavformat/libavcodec/libavfilter/libswscale, mirroring imageio's pyav
// plugin (spec §5.2; DECISIONS D4, D5, D9, D11, D12, D19–D23).
#include <imio/plugin.hpp>
#include <imio/plugins/ffmpeg.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>

extern "C" {
#include <libavcodec/codec_id.h>
#include <libavformat/avformat.h>
#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/avutil.h>
}

#include "av_util.hpp"
#include "ffmpeg_plugins.hpp"

namespace imio {
namespace ffmpeg {
namespace {

bool is_image_with_own_plugin(const Request& request, const Input& input) {
  const std::string_view demuxer = input.container()->iformat->name;
  // MNG (PNG-coded frames) reaches FFmpeg's image2 demuxer by extension; no
  // other imio plugin reads it.
  if (request.extension() == ".mng") return false;
  // A HEIF still image (AVIF, or HEVC in HEIF) is a one-frame "video" to
  // the mov demuxer; the libheif plugin reads it as an image (alpha, 10/12
  // bits, transformations). Image sequences (avis, msf1) stay FFmpeg's.
  if (demuxer.starts_with("mov,")) {
    const AVDictionaryEntry* brand = av_dict_get(input.container()->metadata, "major_brand", nullptr, 0);
    const std::string_view b = brand != nullptr ? brand->value : "";
    return (b == "avif" || b == "heic" || b == "heix" || b == "mif1") && has_plugin("libheif");
  }
  const bool single_image = demuxer == "image2" || demuxer == "gif" || demuxer == "apng" ||
                            (demuxer.size() > 5 && demuxer.substr(demuxer.size() - 5) == "_pipe");
  if (!single_image) return false;
  // Only when that plugin is part of the build: without it FFmpeg serves the
  // format (its extensions list .png, .jpg, .gif, .tif after their own plugins').
  switch (input.stream()->codecpar->codec_id) {
    case AV_CODEC_ID_PNG:
    case AV_CODEC_ID_APNG: return has_plugin("libpng");
    case AV_CODEC_ID_MJPEG: return has_plugin("libjpeg");
    case AV_CODEC_ID_GIF: return has_plugin("giflib");
    case AV_CODEC_ID_TIFF: return has_plugin("libtiff");
    case AV_CODEC_ID_WEBP: return has_plugin("libwebp");
    case AV_CODEC_ID_JPEG2000: return has_plugin("openjpeg");
    case AV_CODEC_ID_JPEGXL: return has_plugin("libjxl");
    case AV_CODEC_ID_EXR: return has_plugin("openexr");
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 0, 0)
    case AV_CODEC_ID_RADIANCE_HDR: return has_plugin("radiance");
#endif
    default: return false;
  }
}

// Formats of the still table FFmpeg only decodes from a later version:
// said plainly rather than left to a probe that finds nothing.
void refuse_unsupported_stills(Request& request) {
  if (!request.url().empty()) return;  // not fetched before FFmpeg's own protocol has tried
  const auto head = request.first_bytes(10);
  const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
  const bool radiance = text.starts_with("#?RADIANCE") || text.starts_with("#?RGBE");
  if (radiance && avcodec_find_decoder_by_name("hdr") == nullptr) {
    throw InitializationError(fmt::format("Radiance HDR (.hdr) images need FFmpeg's hdr decoder (FFmpeg 6.0 and later); this FFmpeg ({}) has none",
                                          av_version_info()));
  }
}

// JPEG XL data FFmpeg must not see. FFmpeg 5.1's libjxl wrapper loops
// forever when libjxl stops before the end of a packet asking for more
// input (measured with Debian 12's ffmpeg CLI: a .jxl cut to 1 byte, or a
// container cut inside its first boxes, never returns). So a .jxl too
// short to hold a signature is refused here; and when the libjxl plugin is
// built, every file with a JPEG XL signature is its business alone (it
// raises DecodeError for a damaged one), and so is anything named .jxl
// (FFmpeg would hand it to its libjxl wrapper by the extension alone),
// unless FFmpeg is asked for by name.
void refuse_jpegxl(Request& request) {
  if (!request.url().empty()) return;
  static constexpr unsigned char kCodestream[] = {0xff, 0x0a};
  static constexpr unsigned char kContainer[] = {0, 0, 0, 0x0c, 'J', 'X', 'L', ' ', 0x0d, 0x0a, 0x87, 0x0a};
  const auto head = request.first_bytes(sizeof kContainer);
  const auto starts = [&](const unsigned char* sig, std::size_t n) {
    const std::size_t m = std::min(n, head.size());
    for (std::size_t i = 0; i < m; ++i) {
      if (std::to_integer<unsigned char>(head[i]) != sig[i]) return false;
    }
    return m > 0;
  };
  const bool codestream = starts(kCodestream, sizeof kCodestream), container = starts(kContainer, sizeof kContainer);
  if (request.requested_plugin().empty() && has_plugin("libjxl") && request.extension() == ".jxl") {
    throw InitializationError("JPEG XL files (.jxl) are read by the libjxl plugin, not by FFmpeg");
  }
  if (!codestream && !container) return;
  const bool whole = codestream ? head.size() >= sizeof kCodestream : head.size() >= sizeof kContainer;
  if (!whole && request.extension() == ".jxl") {
    throw InitializationError(fmt::format("{} bytes are too few for a JPEG XL file (FFmpeg's libjxl wrapper would wait for more forever)", head.size()));
  }
  if (whole && request.requested_plugin().empty() && has_plugin("libjxl")) {
    throw InitializationError("JPEG XL files are read by the libjxl plugin, not by FFmpeg");
  }
}

std::unique_ptr<Plugin> open_ffmpeg(Request& request, const Kwargs& kwargs) {
  if (request.mode() == IoMode::write) {
    KwargReader kw(kwargs, kPlugin, "open", "write");
    const auto container = kw.take<std::string>("container");
    const AVOutputFormat* muxer = guess_muxer(request, container);
    if (muxer == nullptr) {
      if (container) throw ArgumentError(fmt::format("'{}' is not a muxer FFmpeg knows (kwarg container)", *container));
      throw InitializationError(fmt::format(
          "it writes the video containers and image formats FFmpeg has a muxer for; FFmpeg has none for {}",
          request.extension().empty() ? std::string("a target without extension") : "'" + request.extension() + "'"));
    }
    // The still formats' muxers: image2's pipe twin, and the formats with a muxer of their own.
    const std::string_view mux = muxer->name;
    const bool image_muxer = mux == "image2pipe" || mux.ends_with("_pipe") || mux == "ico" || mux == "fits" || mux == "avif" || mux == "webp";
    const StillFormat* still = request.extension().empty() ? nullptr : still_format_of_extension(request.extension());
    if (image_muxer && still != nullptr && !still->encoders.empty()) return make_still_writer(request, muxer, *still);
    return make_writer(request, muxer);
  }
  // Unknown or mistyped kwargs are this plugin's error only once FFmpeg has
  // accepted the data: before that, the resource may belong to another
  // plugin. So the two it needs are looked up here, checked below.
  auto given = [&](std::string_view key) -> const Value* {
    for (const auto& [k, v] : kwargs) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  OpenArgs args;
  if (const Value* f = given("format"); f && f->is<std::string>()) args.format = f->ref<std::string>();
  if (const Value* o = given("options"); o && o->is<Dict>()) args.options = o->ref<Dict>();
  // D4: accept only what decodes; FFmpeg's complaints about data it cannot
  // read are the refusal's reason, not warnings.
  LogScope quiet(true);
  refuse_unsupported_stills(request);
  refuse_jpegxl(request);
  auto input = std::make_unique<Input>(request, std::move(args));
  // PNG, JPEG, GIF, TIFF, WebP, EXR and Radiance images (not MJPEG or PNG video in a real
  // container) belong to their own plugins when built, which read them as imageio's
  // pillow/tifffile do. FFmpeg would also decode them, as a one-frame video,
  // and win the fallback for a file whose extension lies (a JPEG named .tif
  // reaches this plugin through .tif before libjpeg's signature is tried).
  if (request.requested_plugin().empty() && is_image_with_own_plugin(request, *input)) {
    throw InitializationError(fmt::format("{} images are read by their own plugin, not by FFmpeg",
                                          input->container()->iformat->name));
  }
  KwargReader(kwargs, kPlugin, "open", "read").finish();
  if (const StillFormat* still = still_format_of(*input)) return make_still_reader(request, std::move(input), *still);
  // Named as imageio's pillow plugin, it serves only Pillow's still formats.
  if (request.requested_plugin() == "pillow") throw InitializationError("pillow reads still images, not video (use plugin 'pyav')");
  return make_video_reader(request, std::move(input));
}

}  // namespace

Tags tags_of(const AVDictionary* dict) {
  Tags tags;
  const AVDictionaryEntry* e = nullptr;
  while ((e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX)) != nullptr) tags[e->key] = e->value;
  return tags;
}

ReadHandle::ReadHandle(Request& request, const Input& input)
    : request_(request),
      container_tags_(tags_of(input.container()->metadata)),
      stream_tags_(tags_of(input.stream()->metadata)) {}

void ReadHandle::init_video_stream(std::string_view, const VideoStreamOptions&) {
  run_extra(request_, "init the video stream of", [] { throw IOError("the file is open for reading"); });
}

void ReadHandle::write_frame(const NDArray&, std::string_view) {
  run_extra(request_, "write a frame to", [] { throw IOError("the file is open for reading"); });
}

void ReadHandle::set_video_filter(const Value& filter_sequence, const Value& filter_graph) {
  run_extra(request_, "set the video filter of", [&] {
    FilterSpec spec{filter_sequence, filter_graph};
    check_filter_spec(spec);
    filters_ = std::move(spec);
  });
}

}  // namespace ffmpeg

namespace builtin {

PluginSpec ffmpeg_plugin_spec() {
  PluginSpec spec;
  // What ffmpeg is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.factory = ffmpeg::open_ffmpeg;
  spec.backend = fmt::format("FFmpeg (libavformat {}, libavcodec {})", LIBAVFORMAT_IDENT, LIBAVCODEC_IDENT);
  return spec;
}

}  // namespace builtin
}  // namespace imio
