// libtiff's error and warning messages, routed: each handle gets its own
// handlers (TIFFOpenOptions, libtiff ≥ 4.5) that keep the first error for the
// exception and pass warnings to imio's warning handler; messages libtiff
// emits without a handle reach process-wide handlers (installed once) that
// route them to the calling thread's current ErrorScope, or to imio::warn.
// libtiff never prints.
#pragma once

#include <cstdint>
#include <string>

#include <tiffio.h>

namespace imio::tiff {

/// Open options whose handlers write the first error into `*error_slot`;
/// single allocations are capped at `max_alloc` bytes. Free with TIFFOpenOptionsFree.
TIFFOpenOptions* make_open_options(std::string* error_slot, std::uint64_t max_alloc);

/// While alive, handle-less libtiff errors of this thread land in `slot`.
class ErrorScope {
 public:
  explicit ErrorScope(std::string& slot);
  ~ErrorScope();
  ErrorScope(const ErrorScope&) = delete;
  ErrorScope& operator=(const ErrorScope&) = delete;

 private:
  std::string* previous_;
};

}  // namespace imio::tiff
