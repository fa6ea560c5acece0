// Writing: the images of one write call (one: a single-part file; a list
// or a batch: a multi-part file) validated against the kwargs, encoded by
// OpenEXR into memory, then handed to the target.
#pragma once

#include <imio/plugin.hpp>

#include <span>

namespace imio::exr {

/// Encodes `images` (a list or batch when `several`) as one OpenEXR file.
/// ArgumentError for what the format cannot hold; nothing is written then.
Bytes encode(std::span<const NDArray> images, bool several, const Kwargs& kwargs, const Request& request);

}  // namespace imio::exr
