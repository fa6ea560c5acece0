// ArrayRecycler (<imio/array_recycler.hpp>): buffers of dropped arrays are
// handed out again; kept arrays are not; memory is bounded.
#include <imio/array_recycler.hpp>
#include <imio/error.hpp>

#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "catch.hpp"

using imio::ArrayRecycler;
using imio::DType;
using imio::NDArray;
using imio::Shape;

TEST_CASE("ArrayRecycler reuses the buffer of a dropped array of the same byte size", "[recycler]") {
  ArrayRecycler recycler;
  const std::byte* first = nullptr;
  {
    NDArray a = recycler.allocate(Shape{720, 1280, 3}, DType::uint8);
    CHECK(a.shape() == Shape{720, 1280, 3});
    CHECK(a.dtype() == DType::uint8);
    CHECK(reinterpret_cast<std::uintptr_t>(a.bytes()) % NDArray::alignment == 0);
    first = a.bytes();
  }
  NDArray b = recycler.allocate(Shape{720, 1280, 3}, DType::uint8);
  CHECK(b.bytes() == first);
  // Same byte size, other shape and dtype: the buffer still serves.
  const std::byte* second = b.bytes();
  b = NDArray();
  NDArray c = recycler.allocate(Shape{720, 640, 3}, DType::uint16);
  CHECK(c.bytes() == second);
  CHECK(c.shape() == Shape{720, 640, 3});
  CHECK(c.dtype() == DType::uint16);
}

TEST_CASE("ArrayRecycler never hands out a buffer an array still uses", "[recycler]") {
  ArrayRecycler recycler;
  std::vector<NDArray> kept;
  for (int i = 0; i < 5; ++i) kept.push_back(recycler.allocate(Shape{64, 64}, DType::uint8));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    for (std::size_t j = i + 1; j < kept.size(); ++j) CHECK(kept[i].bytes() != kept[j].bytes());
  }
  // A different size never takes an idle buffer of another size.
  kept.clear();
  NDArray other = recycler.allocate(Shape{32, 32}, DType::uint8);
  CHECK(other.nbytes() == 32 * 32);
}

TEST_CASE("ArrayRecycler: arrays may outlive it and die on other threads", "[recycler]") {
  std::vector<NDArray> survivors;
  {
    ArrayRecycler recycler(1);
    for (int i = 0; i < 3; ++i) survivors.push_back(recycler.allocate(Shape{1000}, DType::float32));
    NDArray moved = recycler.allocate(Shape{10}, DType::uint8);
    std::thread([a = std::move(moved)]() mutable { a = NDArray(); }).join();
  }
  for (NDArray& a : survivors) a.values<float>()[999] = 1.0f;  // still valid memory (ASan checks)
  survivors.clear();
}

TEST_CASE("ArrayRecycler: an overflowing shape is a LimitError", "[recycler]") {
  ArrayRecycler recycler;
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  CHECK_THROWS_AS(recycler.allocate(Shape{huge, 4}, DType::uint8), imio::LimitError);
}
