#include <imio/plugin.hpp>

#include <memory>
#include <mutex>

namespace imio {
namespace {

// The handler is replaced rarely and called often: readers copy a shared_ptr
// under a short lock and call it outside, so a slow handler blocks nobody.
std::mutex g_mutex;
std::shared_ptr<const WarningHandler> g_handler;

}  // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  auto next = handler ? std::make_shared<const WarningHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(g_mutex);
  auto previous = std::exchange(g_handler, std::move(next));
  return previous ? *previous : WarningHandler{};
}

void warn(std::string_view source, std::string_view message) noexcept {
  std::shared_ptr<const WarningHandler> handler;
  {
    std::lock_guard lock(g_mutex);
    handler = g_handler;
  }
  if (!handler) return;
  try {
    (*handler)(source, message);
  } catch (...) {
    // A warning must never turn into a failure of the call that issued it.
  }
}

}  // namespace imio
