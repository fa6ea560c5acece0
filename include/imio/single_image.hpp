// imio — helpers for plugins whose resources hold exactly one ndimage (a
// JPEG, a RAW, a .npy file): the index rules, the batch axis, a one-frame
// iterator and the whole encoded data as one view.
#pragma once

#include <imio/export.hpp>
#include <imio/plugin.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

namespace imio {

/// Whether `index` asks for a batch of the one ndimage: true for imio::all,
/// false for none or 0.
///
/// @param index     the index the core passed to read() or properties()
/// @param container what holds the one ndimage, for the message ("a JPEG file")
/// @throws IndexError for any other integer, naming the index and saying
///         that `container` holds 1 image
IMIO_EXPORT bool single_image_wants_batch(const Index& index, std::string_view container);

/// `shape` with a leading batch axis of `n` (1 for imio::all on one image).
IMIO_EXPORT Shape with_batch_axis(const Shape& shape, std::size_t n = 1);

/// A FrameSource that yields `produce()` once, called at the first next()
/// (nothing is decoded before the iteration starts), then ends.
IMIO_EXPORT std::unique_ptr<FrameSource> one_frame(std::function<NDArray()> produce);

/// The whole encoded data from position 0 as one view: the source's own view
/// when it is in memory or memory-mapped, else read into `storage`, which
/// must outlive the view.
///
/// @throws LimitError when the data exceed `max_bytes`; IOError when reading fails
IMIO_EXPORT std::span<const std::byte> whole_data(ByteSource& source, Bytes& storage, std::uint64_t max_bytes);

}  // namespace imio
