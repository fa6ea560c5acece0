// imio — ArrayRecycler: buffers of same-sized arrays handed out again by an
// iterator, for plugins whose FrameSource yields one large array per frame.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <cstddef>
#include <memory>

namespace imio {

/// Hands out arrays whose buffers come back to it when the arrays die, so a
/// loop that drops each frame before asking for the next reuses memory that
/// is already mapped instead of page-faulting a fresh multi-megabyte buffer
/// per frame (for 720p video that fault cost was 7–30 % of an imiter loop).
/// Memory stays bounded: at most `keep` idle buffers are held; arrays the
/// caller keeps are simply not recycled.
///
/// Thread-safety: allocate() on one thread at a time; the arrays may die on
/// any thread, and may outlive the recycler (their buffers are then freed).
class IMIO_EXPORT ArrayRecycler {
 public:
  /// A recycler holding at most `keep` idle buffers.
  explicit ArrayRecycler(std::size_t keep = 2);
  /// Drops the idle buffers; arrays still alive free theirs when they die.
  ~ArrayRecycler();
  /// Takes `other`'s buffers; `other` may then only be destroyed or assigned.
  ArrayRecycler(ArrayRecycler&& other) noexcept;
  /// Drops this recycler's idle buffers and takes `other`'s.
  ArrayRecycler& operator=(ArrayRecycler&& other) noexcept;
  ArrayRecycler(const ArrayRecycler&) = delete;
  ArrayRecycler& operator=(const ArrayRecycler&) = delete;

  /// An array of `shape` and `dtype` with unspecified contents (as
  /// NDArray::uninitialized), in an idle buffer of the same byte size when
  /// there is one. The caller checks Limits first (Request::check_array).
  /// @throws LimitError when the byte size overflows; std::bad_alloc
  NDArray allocate(Shape shape, DType dtype);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace imio
