// imio — the batch rule of Pillow-semantics writers: whether an array handed
// to write() is one image or a stack of frames along its first axis.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <optional>

namespace imio {

/// Whether `array` holds several frames along its first axis, as imageio's
/// pillow plugin decides it (spec §5.1.6): an array of a list is one frame;
/// else `is_batch` decides when given; else the `mode` kwarg's band count
/// (`single_band_mode`: a single-band mode makes more than 2 axes a batch,
/// any other mode more than 3); else (N,H,W,C) and (N,H,W) with W above 4
/// (no channel count) are batches.
///
/// @param array            one array of the write call
/// @param from_list        whether the call passed a list of arrays
/// @param is_batch         the `is_batch` kwarg, when given
/// @param single_band_mode whether the `mode` kwarg names a single-band mode
///                         ("L", "1", …), when `mode` was given
IMIO_EXPORT bool pillow_write_is_batch(const NDArray& array, bool from_list, std::optional<bool> is_batch,
                                       std::optional<bool> single_band_mode);

}  // namespace imio
