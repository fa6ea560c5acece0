// Reading TIFF as imageio's `pillow` plugin does (Pillow 9.4): one page per
// image, converted to Pillow's mode (palette → RGB, MINISWHITE inverted,
// int16 → int32, …), selected when a read names the plugin `pillow`.
#pragma once

#include <imio/plugin.hpp>

#include <memory>

namespace imio::tiff {

/// Opens a TIFF (header already recognised) for reading with Pillow's
/// semantics. InitializationError when the first page has no Pillow mode
/// (Pillow cannot open the file, e.g. float64 or a file without pages).
std::unique_ptr<Plugin> open_pillow_reader(Request& request);

}  // namespace imio::tiff
