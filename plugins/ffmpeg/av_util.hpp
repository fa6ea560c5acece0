// Small helpers over FFmpeg's C API shared by the ffmpeg plugin: owning
// pointers, error texts, and the routing of av_log to imio's warning handler.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <imio/value.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace imio::ffmpeg {

inline constexpr std::string_view kPlugin = "ffmpeg";

struct FrameFree {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct CodecFree {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct SwsFree {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};
struct GraphFree {
  void operator()(AVFilterGraph* g) const noexcept { avfilter_graph_free(&g); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFree>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFree>;
using GraphPtr = std::unique_ptr<AVFilterGraph, GraphFree>;

/// A new frame / packet; std::bad_alloc when FFmpeg is out of memory.
FramePtr make_frame();
PacketPtr make_packet();

/// FFmpeg's text for an AVERROR code.
std::string av_error_text(int code);

/// Collects what FFmpeg logs on this thread while it lives (FFmpeg's log
/// callback is process-wide; a thread_local pointer sends each message to
/// the scope of the thread that caused it). Warnings and errors go to
/// imio's warning handler unless the scope is `quiet` (a factory probing
/// data it may refuse); the last error is kept for exception texts, as
/// PyAV's "last error log".
class LogScope {
 public:
  explicit LogScope(bool quiet = false) noexcept;
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

  /// The last message at error level or worse, or empty.
  const std::string& last_error() const noexcept { return last_error_; }
  void add(int level, std::string_view text);
  /// The innermost scope of this thread, or nullptr.
  static LogScope* current() noexcept;

 private:
  LogScope* outer_;
  bool quiet_;
  std::string last_error_;
};

/// A kwarg value as FFmpeg's option syntax wants it (str, int, float, bool → 1/0);
/// ArgumentError naming `what` for other types.
std::string option_text(const Value& value, std::string_view what);

/// Installs imio's av_log callback once per process (FFmpeg never prints).
void install_log_callback() noexcept;

/// "<what>: <FFmpeg's text> (FFmpeg: <last error logged in this thread's scope>)".
std::string describe_failure(std::string_view what, int code);

// FFmpeg API that differs between the releases imio builds against (Debian
// bookworm's 5.1 up to 7.1; docs/backend-versions.md). Each hides one
// difference behind a version guard in av_util.cpp.

/// The pixel formats `codec` accepts, ending with AV_PIX_FMT_NONE; nullptr
/// when FFmpeg does not know them (any format may do).
const AVPixelFormat* supported_pixel_formats(const AVCodec* codec) noexcept;
/// Whether a decoded frame is a key frame.
bool is_key_frame(const AVFrame& frame) noexcept;
/// Whether a decoded frame is interlaced.
bool is_interlaced(const AVFrame& frame) noexcept;

}  // namespace imio::ffmpeg
