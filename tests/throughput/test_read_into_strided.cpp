// imread_into a StridedArrayView: a region of a larger canvas, one plane per
// channel, a flipped image, every other column: each element lands where the
// strides say and nothing outside the view is written; a contiguous view
// allocates nothing; wrong shapes and impossible strides are refused.
#include <imio/imio.hpp>
#include <imio/strided_view.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::StridedArrayView;

NDArray gradient(const Shape& shape, DType dtype) {
  NDArray a = NDArray::uninitialized(shape, dtype);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>((i * 31 + i / 7) % 253);
  return a;
}

std::vector<std::byte> poisoned(std::size_t n) { return std::vector<std::byte>(n, std::byte{0xA5}); }

std::ptrdiff_t pd(std::size_t v) { return static_cast<std::ptrdiff_t>(v); }

}  // namespace

TEST_CASE("imread_into a strided view puts each element where the strides say", "[read_into][strided]") {
  imio_test::TempDir dir;
  const auto path = dir / "a.png";
  const std::size_t h = 37, w = 53;
  imio::imwrite(path, gradient({h, w, 3}, DType::uint8));
  const NDArray want = imio::imread(path);
  REQUIRE(want.shape() == Shape{h, w, 3});
  const auto px = [&](std::size_t y, std::size_t x, std::size_t c) { return want.bytes()[(y * w + x) * 3 + c]; };

  SECTION("a region of a larger canvas (a row pitch, as an OpenCV Mat ROI)") {
    const std::size_t ch = 60, cw = 90, top = 10, left = 20, pitch = cw * 3;
    std::vector<std::byte> canvas = poisoned(ch * pitch);
    imio::imread_into(path, StridedArrayView(canvas.data() + top * pitch + left * 3, {h, w, 3}, DType::uint8, {pd(pitch), 3, 1}));
    bool inside = true, outside = true;
    for (std::size_t y = 0; y < ch; ++y) {
      for (std::size_t x = 0; x < cw; ++x) {
        for (std::size_t c = 0; c < 3; ++c) {
          const std::byte got = canvas[y * pitch + x * 3 + c];
          if (y >= top && y < top + h && x >= left && x < left + w) {
            inside = inside && got == px(y - top, x - left, c);
          } else {
            outside = outside && got == std::byte{0xA5};
          }
        }
      }
    }
    CHECK(inside);
    CHECK(outside);
  }
  SECTION("one plane per channel (planar memory seen as H, W, C)") {
    std::vector<std::byte> planes = poisoned(3 * h * w);
    imio::imread_into(path, StridedArrayView(planes.data(), {h, w, 3}, DType::uint8, {pd(w), 1, pd(h * w)}));
    bool same = true;
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) same = same && planes[c * h * w + y * w + x] == px(y, x, c);
      }
    }
    CHECK(same);
  }
  SECTION("flipped upside down by a negative row stride, into every other column") {
    const std::size_t pitch = 2 * w * 3;
    std::vector<std::byte> memory = poisoned(h * pitch);
    // Element (y, x, c) at row h-1-y, pixel 2x: the last axis is not packed
    // either, so the copy goes element by element.
    imio::imread_into(path, StridedArrayView(memory.data() + (h - 1) * pitch, {h, w, 3}, DType::uint8, {-pd(pitch), 6, 1}));
    bool same = true, gaps = true;
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < 2 * w; ++x) {
        for (std::size_t c = 0; c < 3; ++c) {
          const std::byte got = memory[(h - 1 - y) * pitch + x * 3 + c];
          if (x % 2 == 0) {
            same = same && got == px(y, x / 2, c);
          } else {
            gaps = gaps && got == std::byte{0xA5};
          }
        }
      }
    }
    CHECK(same);
    CHECK(gaps);
  }
}

TEST_CASE("imread_into a contiguous strided view allocates no array, as the ArrayView overload", "[read_into][strided]") {
  imio_test::TempDir dir;
  const auto path = dir / "big.png";
  imio::imwrite(path, gradient({256, 320, 3}, DType::uint8));
  NDArray out(Shape{256, 320, 3}, DType::uint8);
  const StridedArrayView view(out.bytes(), out.shape(), out.dtype(), out.strides());
  REQUIRE(view.is_c_contiguous());
  std::size_t allocations = 0;
  {
    imio_test::LargeAllocations counter(out.nbytes());
    imio::imread_into(path, view);
    allocations = counter.count();
  }
  CHECK(allocations == 0);
  CHECK(out == imio::imread(path));
  // A strided view that is not contiguous costs the one array it copies from.
  std::vector<std::byte> planes(out.nbytes());
  {
    imio_test::LargeAllocations counter(out.nbytes());
    imio::imread_into(path, StridedArrayView(planes.data(), {256, 320, 3}, DType::uint8, {320, 1, 256 * 320}));
    allocations = counter.count();
  }
  CHECK(allocations == 1);
}

TEST_CASE("imread_into a strided view refuses another shape or dtype and impossible strides", "[read_into][strided]") {
  imio_test::TempDir dir;
  const auto path = dir / "a.png";
  imio::imwrite(path, gradient({40, 50, 3}, DType::uint8));
  std::vector<std::byte> memory = poisoned(3 * 40 * 50 * 2);
  const StridedArrayView wrong(memory.data(), {50, 40, 3}, DType::uint8, {1, 50, 2000});
  const std::string m = imio_test::message_of<imio::ArgumentError>([&] { imio::imread_into(path, wrong); });
  CHECK(imio_test::contains(m, "shape (50, 40, 3) and dtype uint8"));
  CHECK(imio_test::contains(m, "shape (40, 50, 3) and dtype uint8"));
  CHECK(imio_test::contains(m, "a.png"));
  CHECK_THROWS_AS(imio::imread_into(path, StridedArrayView(memory.data(), {40, 50, 3}, DType::uint16, {1, 40, 2000})),
                  imio::ArgumentError);
  CHECK(memory == poisoned(memory.size()));

  CHECK(imio_test::contains(
      imio_test::message_of<imio::ArgumentError>([&] { StridedArrayView(memory.data(), {40, 50, 3}, DType::uint8, {150, 3}); }),
      "needs 3 strides, not 2"));
  CHECK(imio_test::contains(
      imio_test::message_of<imio::ArgumentError>([&] { StridedArrayView(memory.data(), {40, 50, 3}, DType::uint8, {0, 3, 1}); }),
      "stride 0 along axis 0"));
  // A zero stride along an axis of one element is no overlap.
  CHECK(StridedArrayView(memory.data(), {1, 50, 3}, DType::uint8, {0, 3, 1}).is_c_contiguous());
}

TEST_CASE("StridedArrayView::assign copies a C-ordered array through any strides", "[strided]") {
  // uint16 elements in a (2, 3, 4) view transposed into (4, 3, 2) memory.
  const NDArray source = gradient({2, 3, 4}, DType::uint16);
  std::vector<std::uint16_t> memory(24, 0xFFFF);
  const StridedArrayView view(reinterpret_cast<std::byte*>(memory.data()), {2, 3, 4}, DType::uint16, {2, 4, 12});
  CHECK_FALSE(view.is_c_contiguous());
  view.assign(source);
  bool same = true;
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t k = 0; k < 4; ++k) same = same && memory[k * 6 + j * 2 + i] == source.at<std::uint16_t>(i, j, k);
    }
  }
  CHECK(same);
  // Size-1 axes with any stride, last: only the outer axis steps.
  std::vector<std::uint8_t> column(5 * 7, 0);
  const NDArray five = gradient({5, 1}, DType::uint8);
  StridedArrayView(reinterpret_cast<std::byte*>(column.data()), {5, 1}, DType::uint8, {7, 99}).assign(five);
  bool stepped = true;
  for (std::size_t i = 0; i < 5; ++i) stepped = stepped && column[i * 7] == five.at<std::uint8_t>(i, 0);
  CHECK(stepped);
  // A scalar, and an empty view.
  const NDArray scalar = gradient({}, DType::float64);
  double target = 0;
  StridedArrayView(reinterpret_cast<std::byte*>(&target), {}, DType::float64, {}).assign(scalar);
  CHECK(std::memcmp(&target, scalar.bytes(), sizeof target) == 0);
  const NDArray empty(Shape{0, 3}, DType::uint8);
  CHECK_NOTHROW(StridedArrayView(nullptr, {0, 3}, DType::uint8, {3, 1}).assign(empty));
  const NDArray bytes = gradient({2, 3, 4}, DType::uint8);
  CHECK_THROWS_AS(view.assign(bytes), imio::ArgumentError);
}
