// The three Plugin classes of the ffmpeg plugin, made by its factory, and
// the extras of imio::plugin::FFmpeg that read handles share.
#pragma once

#include <imio/plugin.hpp>
#include <imio/plugins/ffmpeg.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "av_filter.hpp"
#include "av_input.hpp"
#include "still_formats.hpp"

namespace imio::ffmpeg {

using plugin::Tags;
using plugin::VideoStreamOptions;

/// The file's tags in `dict` (an AVDictionary's entries, in order).
Tags tags_of(const AVDictionary* dict);

/// Runs an extra of imio::plugin::FFmpeg as the core runs plugin calls: FFmpeg's
/// log goes to this thread's scope, and what it throws names the plugin, the
/// operation and the resource (the core does not see calls on plugin_as()).
template <class F>
decltype(auto) run_extra(const Request& request, std::string_view operation, F&& f) {
  LogScope log;
  return with_error_context(kPlugin, operation, request.describe(), std::forward<F>(f));
}

/// The extras of a video read handle (spec §5.2.6): the file's container
/// and stream tags, and the filter read()/iter() use when their kwargs name
/// none; the write-only extras throw IOError.
class ReadHandle : public plugin::FFmpeg {
 public:
  ReadHandle(Request& request, const Input& input);
  void init_video_stream(std::string_view codec, const VideoStreamOptions& options) override;
  void write_frame(const NDArray& frame, std::string_view pixel_format) override;
  void set_video_filter(const Value& filter_sequence, const Value& filter_graph) override;
  Tags& container_metadata() override { return container_tags_; }
  Tags& video_stream_metadata() override { return stream_tags_; }

 protected:
  /// The filters a read call uses: its own kwargs when it gives any, else
  /// the handle's (set_video_filter()).
  FilterSpec filters_for(FilterSpec call) const { return call.empty() ? filters_ : call; }

 private:
  Request& request_;
  FilterSpec filters_;
  Tags container_tags_, stream_tags_;
};

/// Video semantics (spec §5.2): index omitted → every frame.
std::unique_ptr<Plugin> make_video_reader(Request& request, std::unique_ptr<Input> input);

/// Whether `codec` is one of the still formats' (still_formats.hpp) in
/// some container (BMP, WebP, TGA, PNM, EXR, JPEG 2000, …; DECISIONS D23).
bool is_still_codec(AVCodecID codec) noexcept;
/// The still format `input` holds, or null for a video: the codec's row of
/// the table, from an image demuxer where the row asks for one (JPEG 2000
/// in MJ2 is a video), and ICO by its demuxer.
const StillFormat* still_format_of(const Input& input);
/// Pillow semantics for those formats (D23).
std::unique_ptr<Plugin> make_still_reader(Request& request, std::unique_ptr<Input> input, const StillFormat& format);

/// The muxer for a write: `container` when given, else guessed from the
/// file name (D22: `extension=` decides when given). Empty when none fits.
const AVOutputFormat* guess_muxer(Request& request, const std::optional<std::string>& container);
/// Writes through the muxer (spec §5.2.5, D19, D21).
std::unique_ptr<Plugin> make_writer(Request& request, const AVOutputFormat* muxer);
/// Writes one still image (an ICO several) of the format `row` (D8, D23,
/// issue #18: nothing is lost without an ArgumentError).
std::unique_ptr<Plugin> make_still_writer(Request& request, const AVOutputFormat* muxer, const StillFormat& row);

}  // namespace imio::ffmpeg
