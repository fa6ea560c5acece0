// Fresh memory for an array a plugin fills piece by piece over a long decode
// (Request::allocate_gradually), and the batched page faults that go with it.
#pragma once

#include <imio/ndarray.hpp>

#include <cstddef>

namespace imio::detail {

/// An uninitialized array of `nbytes` (shape × dtype, already checked) in
/// 4 KiB pages: never offered as transparent huge pages.
NDArray small_page_array(Shape shape, DType dtype, std::size_t nbytes);

/// Maps the pages of [data, data + n) for writing in one call.
void prefault_pages(std::byte* data, std::size_t n) noexcept;

}  // namespace imio::detail
