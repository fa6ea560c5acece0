#include "av_util.hpp"

#include <imio/plugin.hpp>

#include <cctype>
#include <cstdio>
#include <string>
#include <mutex>
#include <new>

#include <fmt/format.h>

extern "C" {
#include <libavutil/log.h>
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

}  // namespace imio::ffmpeg
