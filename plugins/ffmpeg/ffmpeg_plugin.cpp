// The ffmpeg plugin: video (and FFmpeg's still-image formats) through
// libavformat/libavcodec/libavfilter/libswscale, mirroring imageio's pyav
// plugin (spec §5.2; DECISIONS D4, D5, D9, D11, D12, D19–D23).
#include <imio/plugin.hpp>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/version.h>
#include <libavformat/version.h>
}

#include "av_util.hpp"
#include "ffmpeg_plugins.hpp"

namespace imio {
namespace ffmpeg {
namespace {

std::unique_ptr<Plugin> open_ffmpeg(Request& request, const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "open");
  if (request.mode() == IoMode::write) {
    const auto container = kw.take<std::string>("container");
    const AVOutputFormat* muxer = guess_muxer(request, container);
    if (muxer == nullptr) {
      if (container) throw ArgumentError(fmt::format("'{}' is not a muxer FFmpeg knows (kwarg container)", *container));
      throw InitializationError(fmt::format("FFmpeg has no container for the extension '{}'", request.extension()));
    }
    kw.finish();
    return make_writer(request, muxer);
  }
  OpenArgs args;
  args.format = kw.take<std::string>("format");
  args.options = kw.take<Dict>("options", Dict{});
  // D4: accept only what decodes; FFmpeg's complaints about data it cannot
  // read are the refusal's reason, not warnings.
  LogScope quiet(true);
  auto input = std::make_unique<Input>(request, std::move(args));
  // Unknown kwargs are this plugin's error only once FFmpeg has accepted the
  // data: before that, the resource may belong to another plugin.
  kw.finish();
  if (is_still_codec(input->stream()->codecpar->codec_id)) return make_still_reader(request, std::move(input));
  // Named as imageio's pillow plugin, it serves only Pillow's still formats.
  if (request.requested_plugin() == "pillow") throw InitializationError("pillow reads still images, not video (use plugin 'pyav')");
  return make_video_reader(request, std::move(input));
}

}  // namespace
}  // namespace ffmpeg

namespace builtin {

PluginSpec ffmpeg_plugin_spec() {
  PluginSpec spec;
  spec.name = "ffmpeg";
  spec.aliases = {"pyav", "pillow"};  // D1; pillow for BMP/WebP/TGA/PNM (D23)
  spec.can_read = true;
  spec.can_write = true;
  spec.factory = ffmpeg::open_ffmpeg;
  spec.backend = fmt::format("FFmpeg (libavformat {}, libavcodec {})", LIBAVFORMAT_IDENT, LIBAVCODEC_IDENT);
  return spec;
}

}  // namespace builtin
}  // namespace imio
