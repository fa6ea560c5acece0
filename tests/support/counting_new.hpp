// Counts the arrays imio allocates: NDArray's buffers come from the aligned
// global operator new, replaced in this test executable (the shared library
// and its plugins bind to the executable's definition). The plain operator
// new is replaced too, to see the largest working buffer (std::vector) a
// call makes.
#pragma once

#include <cstddef>

namespace imio_test {

/// Aligned allocations of at least `min_bytes` made while it lives (the
/// blocks imio keeps from destroyed arrays are freed first, so that every
/// new array shows).
class LargeAllocations {
 public:
  explicit LargeAllocations(std::size_t min_bytes);
  ~LargeAllocations();
  LargeAllocations(const LargeAllocations&) = delete;
  LargeAllocations& operator=(const LargeAllocations&) = delete;
  /// How many were made so far.
  std::size_t count() const;
};

/// The largest plain (unaligned) allocation made while it lives: a working
/// copy of an image would show here.
class PlainAllocations {
 public:
  PlainAllocations();
  ~PlainAllocations();
  PlainAllocations(const PlainAllocations&) = delete;
  PlainAllocations& operator=(const PlainAllocations&) = delete;
  /// Bytes of the largest so far (0: none).
  std::size_t largest() const;
};

}  // namespace imio_test
