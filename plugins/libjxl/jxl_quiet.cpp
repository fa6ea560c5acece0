// libjxl without stderr output: see jxl_quiet.hpp.
//
// Debian 12's libjxl 0.7 keeps libjxl's failure tracing, so every failure
// inside libjxl (damaged or truncated data, a refused setting) prints a
// trace line such as "./lib/jxl/decode.cc:2123: invalid signature" to
// stderr, and libjxl 0.7 has no API to route or mute it. The core's
// silence_library_output (<imio/quiet_library.hpp>, with its guards) points
// libjxl's own printf-family slots at silent functions. Only Debian's 0.7
// was seen printing; another build is patched where it imports those
// functions and left alone where it does not.
#include "jxl_quiet.hpp"

#include <imio/quiet_library.hpp>

#include <atomic>
#include <mutex>

namespace imio::jxl {
namespace {
std::atomic<bool> silenced{false};
}  // namespace

void silence_libjxl() noexcept {
  static std::once_flag once;
  try {
    std::call_once(once, [] { silenced = silence_library_output("JxlDecoderCreate", "libjxl", "IMIO_LIBJXL_DEBUG"); });
  } catch (...) {
  }
}

bool libjxl_silenced() noexcept { return silenced; }

}  // namespace imio::jxl
