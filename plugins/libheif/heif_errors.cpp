// libheif's status codes as imio exceptions: see heif_errors.hpp.
#include "heif_errors.hpp"

#include <imio/error.hpp>

#include <libheif/heif.h>

#include <fmt/format.h>

namespace imio::heif {

void ensure_initialised() {
  static const bool done = [] {
    heif_init(nullptr);
    return true;
  }();
  (void)done;
}

void check(const heif_error& err, std::string_view what) {
  if (err.code == heif_error_Ok) return;
  const std::string text = fmt::format("libheif: {} ({})", err.message != nullptr ? err.message : "unknown error", what);
  if (err.code == heif_error_Memory_allocation_error && err.subcode == heif_suberror_Security_limit_exceeded) throw LimitError(text);
  throw DecodeError(text);
}

void check_encode(const heif_error& err, std::string_view what) {
  if (err.code == heif_error_Ok) return;
  const std::string text = fmt::format("libheif: {} ({})", err.message != nullptr ? err.message : "unknown error", what);
  if (err.code == heif_error_Usage_error || err.code == heif_error_Unsupported_feature) throw ArgumentError(text);
  throw EncodeError(text);
}

}  // namespace imio::heif
