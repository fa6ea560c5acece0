#include "av_util.hpp"

#include <imio/plugin.hpp>

#include <cctype>
#include <cstdio>
#include <string>
#include <mutex>
#include <new>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/version.h>
#include <libavutil/log.h>
#include <libavutil/version.h>
}

namespace imio::ffmpeg {
namespace {

thread_local LogScope* t_scope = nullptr;

// FFmpeg prefixes a message with its context, "[png @ 0x55f8131d9a00] ": the
// address is different in every run and means nothing to a user, so messages
// (and the errors quoting them) keep only "[png] ".
std::string without_context_addresses(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 5, " @ 0x") == 0) {
      std::size_t j = i + 5;
      while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
      if (j > i + 5 && j < text.size() && text[j] == ']') {
        i = j;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// FFmpeg calls this from whichever thread logs, including its own decoder
// threads (which have no scope: their messages go straight to the handler).
void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_WARNING) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, vl);
  const int n = av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  if (n <= 0) return;
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return;
  const std::string message = without_context_addresses(text);
  if (t_scope != nullptr) {
    t_scope->add(level, message);
  } else {
    warn(kPlugin, message);
  }
}

}  // namespace

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) throw std::bad_alloc();
  return p;
}

std::string av_error_text(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(code, buf, sizeof buf) < 0) return fmt::format("FFmpeg error {}", code);
  return buf;
}

LogScope::LogScope(bool quiet) noexcept : outer_(t_scope), quiet_(quiet) {
  install_log_callback();
  t_scope = this;
}

LogScope::~LogScope() { t_scope = outer_; }

void LogScope::add(int level, std::string_view text) {
  if (level <= AV_LOG_ERROR) last_error_.assign(text);
  if (!quiet_) warn(kPlugin, text);
}

void install_log_callback() noexcept {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(log_callback); });
}

std::string option_text(const Value& v, std::string_view what) {
  if (v.is<std::string>()) return v.get<std::string>();
  if (v.is<bool>()) return v.get<bool>() ? "1" : "0";
  if (v.is<std::int64_t>()) return std::to_string(v.get<std::int64_t>());
  if (v.is<double>()) return fmt::format("{}", v.get<double>());
  throw ArgumentError(fmt::format("{} values must be str, int, float or bool, not {}", what, v.type_name()));
}

LogScope* LogScope::current() noexcept { return t_scope; }

std::string describe_failure(std::string_view what, int code) {
  std::string s = fmt::format("{}: {}", what, av_error_text(code));
  if (t_scope != nullptr && !t_scope->last_error().empty()) s += fmt::format(" (FFmpeg: {})", t_scope->last_error());
  return s;
}

const AVPixelFormat* supported_pixel_formats(const AVCodec* codec) noexcept {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(61, 13, 100)
  // FFmpeg 7.1 (lavc 61.13.100, doc/APIchanges 2024-09-08) marks
  // AVCodec.pix_fmts attribute_deprecated in favour of
  // avcodec_get_supported_config(); the field goes at the next major bump.
  // With no context FFmpeg answers for the default options, as the field did.
  const void* formats = nullptr;
  if (avcodec_get_supported_config(nullptr, codec, AV_CODEC_CONFIG_PIX_FORMAT, 0, &formats, nullptr) < 0) {
    return nullptr;
  }
  return static_cast<const AVPixelFormat*>(formats);
#else
  return codec->pix_fmts;
#endif
}

// FFmpeg 6.1 (lavu 58.7.100, doc/APIchanges 2023-05-04) deprecates
// AVFrame.key_frame and AVFrame.interlaced_frame for the AV_FRAME_FLAG_KEY and
// AV_FRAME_FLAG_INTERLACED bits of AVFrame.flags; FFmpeg 8.0 (lavu 60)
// removes the fields (FF_API_FRAME_KEY, FF_API_INTERLACED_FRAME).
bool is_key_frame(const AVFrame& frame) noexcept {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
  return (frame.flags & AV_FRAME_FLAG_KEY) != 0;
#else
  return frame.key_frame != 0;
#endif
}

bool is_interlaced(const AVFrame& frame) noexcept {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
  return (frame.flags & AV_FRAME_FLAG_INTERLACED) != 0;
#else
  return frame.interlaced_frame != 0;
#endif
}

}  // namespace imio::ffmpeg
