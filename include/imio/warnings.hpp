// imio — warnings: imio never prints; backends' warnings go to a handler.
#pragma once

#include <imio/export.hpp>

#include <functional>
#include <string_view>

namespace imio {

/// Receives warnings: the source ("libpng", "core", …) and the text.
using WarningHandler = std::function<void(std::string_view source, std::string_view message)>;
/// Installs the process-wide warning handler (an empty one discards warnings,
/// the default: imio never prints). Returns the previous handler. The handler
/// may be called from any thread, also concurrently. Thread-safe.
IMIO_EXPORT WarningHandler set_warning_handler(WarningHandler handler);
/// Sends a warning to the installed handler. Thread-safe; never throws.
IMIO_EXPORT void warn(std::string_view source, std::string_view message) noexcept;

}  // namespace imio
