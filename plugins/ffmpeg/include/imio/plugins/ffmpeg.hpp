// imio — the ffmpeg plugin's extras on an imopen handle: what imageio's pyav
// plugin offers beyond read/iter/write/properties/metadata (spec §1.7
// "plugin-specific extras", §5.2.6). Installed only when imio is built with
// the ffmpeg plugin (IMIO_WITH_FFMPEG).
//
//   auto file = imio::imopen("out.mp4", "w");
//   auto& ff = file.plugin_as<imio::plugin::FFmpeg>();
//   ff.init_video_stream("libx264", {.fps = 30, .max_keyframe_interval = 5});
//   ff.container_metadata()["comment"] = "made by imio";
//   for (const imio::NDArray& frame : frames) ff.write_frame(frame);
//   file.close();  // flushes the filter and the encoder, writes the trailer
//
// The namespace is imio::plugin (singular): imio::plugins() is the function
// listing the registered plugins, and a namespace cannot share its name.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>
#include <imio/plugin.hpp>
#include <imio/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace imio::plugin {

/// Keyword arguments of FFmpeg::init_video_stream(), as designated
/// initializers: `{.fps = 29.97, .max_keyframe_interval = 5}`.
struct VideoStreamOptions {
  /// Frames per second; fractional rates are stored as the nearest rational
  /// with a denominator ≤ 65535 (29.97002997 → 30000/1001). Time base 1/fps.
  double fps = 24;
  /// The encoder's pixel format ("yuv420p", "yuv444p", …); nullopt → the
  /// encoder's default (libx264: yuv420p), as imageio's `pixel_format=None`.
  std::optional<std::string> pixel_format{};
  /// GOP size: at most this many frames from one keyframe to the next
  /// (AVCodecContext::gop_size); nullopt → the encoder's default.
  std::optional<int> max_keyframe_interval{};
  /// true sets the encoder's closed-GOP flag (AV_CODEC_FLAG_CLOSED_GOP),
  /// false clears it; nullopt leaves the encoder's default.
  std::optional<bool> force_keyframes{};
};

/// A mutable string mapping of FFmpeg tags (an AVDictionary's contents).
using Tags = std::map<std::string, std::string>;

/// The ffmpeg plugin's handle as a type: `file.plugin_as<imio::plugin::FFmpeg>()`
/// on an ImageFile that imopen() gave for a video (read or write). Mirrors
/// the extra methods of imageio's `PyAVPlugin`.
///
/// The reference plugin_as() returns is valid until the ImageFile is closed,
/// moved from or destroyed. Errors are imio exceptions naming the plugin
/// ("ffmpeg"), the operation and the resource, like those of ImageFile's
/// methods. The still-image formats (BMP, WebP, …; DECISIONS D23) are not
/// served by this class: plugin_as<FFmpeg>() on them throws ArgumentError.
///
/// Thread-safety: as ImageFile, one thread at a time per handle.
class IMIO_EXPORT FFmpeg : public Plugin {
 public:
  /// Defined in the library: its vtable and typeinfo live there, so the
  /// dynamic_cast of plugin_as() works across the shared library's boundary.
  ~FFmpeg() override;

  /// Creates the video stream of a write handle explicitly (imageio's
  /// `init_video_stream(codec, *, fps=24, pixel_format=None,
  /// max_keyframe_interval=None, force_keyframes=None)`). The encoder opens
  /// with the first frame that reaches it, taking that frame's size (after
  /// the video filter, so a filter may change the size).
  /// @param codec   an encoder ("libx264", "libvpx-vp9", "mpeg4", …) or a
  ///                codec whose default encoder is used ("h264", "vp9", …)
  /// @param options fps, pixel format, GOP size, closed GOP
  /// @throws ArgumentError for an unknown codec or pixel format, a codec that
  ///         is not a video encoder, fps ≤ 0 or not finite, a keyframe
  ///         interval < 1; IOError on a read handle or when the stream
  ///         already exists (a previous init_video_stream() or write()).
  virtual void init_video_stream(std::string_view codec, const VideoStreamOptions& options = {}) = 0;

  /// Appends one frame (imageio's `write_frame(frame, *, pixel_format="rgb24")`).
  /// The frame passes through the video filter (set_video_filter()), is
  /// converted to the encoder's pixel format and encoded; frames may stay
  /// buffered in the filter or encoder until close().
  /// @param frame        (H,W,C) / (H,W) for packed formats, (P,H,W) for
  ///                     planar ones, of the dtype the format implies
  ///                     (uint8 for "rgb24"/"yuv444p", uint16 for "rgb48le", …)
  /// @param pixel_format FFmpeg's name of the frame's layout
  /// @throws IOError when no stream exists (call init_video_stream() or
  ///         write() first), on a read handle, or after a "<bytes>" write
  ///         finalized the file; ArgumentError for a shape, dtype or format
  ///         that does not fit, or a frame of another size than the first;
  ///         EncodeError when FFmpeg's encoder or muxer fails.
  virtual void write_frame(const NDArray& frame, std::string_view pixel_format = "rgb24") = 0;

  /// Installs the libavfilter filter used by the handle's later reads and
  /// writes, or removes it when both are none (imageio's
  /// `set_video_filter(filter_sequence=None, filter_graph=None)`; spec §5.2.7
  /// for the syntax). On a write handle, frames still queued in the previous
  /// filter are flushed into the encoder first (imageio loses them). A
  /// read(), iter() or write() call that passes filter_sequence/filter_graph
  /// kwargs uses those instead (and write() keeps them for later frames).
  /// @param filter_sequence list of [filter_name, args], args an FFmpeg
  ///                        option string or a Dict; none → no sequence
  /// @param filter_graph    [nodes, edges], nodes a Dict name → [filter, args],
  ///                        edges [from, to, out_pad, in_pad] with the reserved
  ///                        nodes "video_in" / "video_out"; none → no graph
  /// @throws ArgumentError for values of the wrong shape (unknown filters
  ///         and bad arguments are reported when the graph is built, by the
  ///         next frame); EncodeError when flushing the previous filter fails.
  virtual void set_video_filter(const Value& filter_sequence = {}, const Value& filter_graph = {}) = 0;

  /// The container's tags (imageio's `container_metadata`, PyAV's
  /// `container.metadata`). Read handle: the file's tags (changing them
  /// changes nothing in the file). Write handle: empty at first; entries set
  /// before close() are stored in the file where the container can hold
  /// them (mp4/mov keep known keys such as "title", "comment", "artist";
  /// Matroska keeps any key) and immeta() returns them afterwards.
  /// @returns a reference valid as long as the handle
  /// @throws nothing
  virtual Tags& container_metadata() = 0;

  /// The video stream's tags (imageio's `video_stream_metadata`, PyAV's
  /// `stream.metadata`), with the same rules as container_metadata().
  /// @returns a reference valid as long as the handle
  /// @throws nothing
  virtual Tags& video_stream_metadata() = 0;
};

}  // namespace imio::plugin
