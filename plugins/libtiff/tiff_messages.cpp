#include "tiff_messages.hpp"

#include <imio/plugin.hpp>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <new>
#include <string_view>

#include <fmt/format.h>

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

thread_local std::string* t_error_slot = nullptr;

std::string format_message(const char* module, const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap);
  if (module == nullptr || *module == '\0') return buf;
  return fmt::format("{}: {}", module, buf);
}

extern "C" int on_handle_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* slot = static_cast<std::string*>(user);
  // The first error is the cause; later ones ("Read error …") only repeat it.
  if (slot->empty()) *slot = format_message(module, fmt, ap);
  return 1;
}

// libtiff's "Unknown field with tag …" is no news: imio reads every tag
// itself (immeta gives them all), and tifffile does not warn about private
// tags (NDPI's 65420–65458, vendors' own) either.
bool unknown_tag_notice(const char* fmt) {
  return fmt != nullptr && std::string_view(fmt).starts_with("Unknown field with tag");
}

extern "C" int on_handle_warning(TIFF*, void*, const char* module, const char* fmt, va_list ap) {
  if (!unknown_tag_notice(fmt)) warn(kPlugin, format_message(module, fmt, ap));
  return 1;
}

extern "C" void on_global_error(const char* module, const char* fmt, va_list ap) {
  std::string msg = format_message(module, fmt, ap);
  if (t_error_slot != nullptr) {
    if (t_error_slot->empty()) *t_error_slot = std::move(msg);
  } else {
    warn(kPlugin, msg);
  }
}

extern "C" void on_global_warning(const char* module, const char* fmt, va_list ap) {
  if (!unknown_tag_notice(fmt)) warn(kPlugin, format_message(module, fmt, ap));
}

void install_global_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_global_error);
    TIFFSetWarningHandler(on_global_warning);
  });
}

}  // namespace

TIFFOpenOptions* make_open_options(std::string* error_slot, std::uint64_t max_alloc) {
  install_global_handlers();
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) throw std::bad_alloc();
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, static_cast<tmsize_t>(std::min<std::uint64_t>(max_alloc, INT64_MAX)));
  TIFFOpenOptionsSetErrorHandlerExtR(opts, on_handle_error, error_slot);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, on_handle_warning, nullptr);
  return opts;
}

ErrorScope::ErrorScope(std::string& slot) : previous_(t_error_slot) { t_error_slot = &slot; }
ErrorScope::~ErrorScope() { t_error_slot = previous_; }

}  // namespace imio::tiff
