// Counts the arrays imio allocates: NDArray's buffers come from the aligned
// global operator new, replaced in this test executable (the shared library
// and its plugins bind to the executable's definition).
#pragma once

#include <cstddef>

namespace imio_test {

/// Aligned allocations of at least `min_bytes` made while it lives.
class LargeAllocations {
 public:
  explicit LargeAllocations(std::size_t min_bytes);
  ~LargeAllocations();
  LargeAllocations(const LargeAllocations&) = delete;
  LargeAllocations& operator=(const LargeAllocations&) = delete;
  /// How many were made so far.
  std::size_t count() const;
};

}  // namespace imio_test
