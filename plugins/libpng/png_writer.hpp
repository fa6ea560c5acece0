// PNG and APNG writing (spec §5.1.6): arrays → libpng, a batch → APNG with
// acTL/fcTL/fdAT assembled here.
#pragma once

#include <imio/plugin.hpp>

#include <span>

namespace imio::png {

/// Validates `images` (one ndimage, or a batch when `batch`) and `kwargs`
/// completely, then writes them to request.sink(). Throws ArgumentError
/// before touching the sink.
void write_png(Request& request, std::span<const NDArray> images, bool batch, const Kwargs& kwargs);

}  // namespace imio::png
