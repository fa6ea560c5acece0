// Regions of interest for the crop tests of the plugins that read a part of
// an image (libjpeg, libpng, libtiff): the box, its kwarg form, its text,
// the boxes worth trying, the reference cut of a whole decode and the loop
// that compares cropped reads with it.
#pragma once

#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"

namespace imio_test {

/// A box in pixels, [left, right) × [top, bottom), as the `crop` kwarg takes it.
struct Box {
  std::size_t left, top, right, bottom;
};

/// The `crop` kwarg's value for `b`.
inline imio::Value box_value(const Box& b) {
  return imio::Value{static_cast<std::int64_t>(b.left), static_cast<std::int64_t>(b.top),
                     static_cast<std::int64_t>(b.right), static_cast<std::int64_t>(b.bottom)};
}

/// `b` as the test messages print it: "[left, top, right, bottom]".
inline std::string box_text(const Box& b) {
  return "[" + std::to_string(b.left) + ", " + std::to_string(b.top) + ", " + std::to_string(b.right) + ", " +
         std::to_string(b.bottom) + "]";
}

/// The boxes as a Python list of (left, top, right, bottom) tuples, for a
/// script that crops with Pillow's Image.crop.
inline std::string python_boxes(const std::vector<Box>& list) {
  std::string out = "[";
  for (const Box& b : list) {
    out += "(" + std::to_string(b.left) + "," + std::to_string(b.top) + "," + std::to_string(b.right) + "," +
           std::to_string(b.bottom) + "),";
  }
  return out + "]";
}

/// Boxes inside a w × h image: the whole image, single pixels at the corners,
/// boxes on and off 16-pixel (JPEG iMCU, TIFF tile) boundaries, whole rows and
/// columns, then `random_count` random ones from `seed`.
inline std::vector<Box> boxes(std::size_t w, std::size_t h, unsigned seed, int random_count) {
  std::vector<Box> out{{0, 0, w, h},       {0, 0, 1, 1},         {w - 1, h - 1, w, h}, {16, 16, 32, 32},
                       {15, 15, 33, 33},   {15, 3, 33, 35},      {17, 9, 18, 10},      {0, 5, w, 6},
                       {7, 0, 8, h},       {1, 1, w - 1, h - 1}, {w / 2, h / 2, w, h}, {w / 3, h / 2, w, h},
                       {0, h - 3, 5, h}};
  std::erase_if(out, [&](const Box& b) { return b.right > w || b.bottom > h || b.left >= b.right || b.top >= b.bottom; });
  std::mt19937 rng(seed);
  for (int i = 0; i < random_count; ++i) {
    const std::size_t x0 = rng() % w, y0 = rng() % h;
    const std::size_t x1 = x0 + 1 + rng() % (w - x0), y1 = y0 + 1 + rng() % (h - y0);
    out.push_back({x0, y0, x1, y1});
  }
  return out;
}

/// The box `b` of an array whose rows are axis `y_axis` and columns the
/// next one (a leading page axis, a trailing channel axis), copied.
inline imio::NDArray cut(const imio::NDArray& a, const Box& b, std::size_t y_axis = 0) {
  const imio::Shape& s = a.shape();
  imio::Shape shape = s;
  shape[y_axis] = b.bottom - b.top;
  shape[y_axis + 1] = b.right - b.left;
  std::size_t outer = 1, inner = imio::itemsize(a.dtype());
  for (std::size_t i = 0; i < y_axis; ++i) outer *= s[i];
  for (std::size_t i = y_axis + 2; i < s.size(); ++i) inner *= s[i];
  imio::NDArray out(shape, a.dtype());
  std::byte* dst = out.bytes();
  const std::size_t n = (b.right - b.left) * inner;
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t y = b.top; y < b.bottom; ++y, dst += n) {
      std::memcpy(dst, a.bytes() + ((o * s[y_axis] + y) * s[y_axis + 1] + b.left) * inner, n);
    }
  }
  return out;
}

/// For each box of `list`: `read(kwargs)` with `base` plus the box as
/// `crop` equals the box `to_whole(b)` (the box itself when empty) of
/// `whole`, pixel for pixel, and `shape_of(kwargs)` (improps) gives its
/// shape. `label` names the case in failure messages. Stops at the first
/// box whose pixels differ.
inline void check_crops(const imio::NDArray& whole, const std::vector<Box>& list, const imio::Kwargs& base,
                        std::string_view label, const std::function<imio::NDArray(const imio::Kwargs&)>& read,
                        const std::function<imio::Shape(const imio::Kwargs&)>& shape_of,
                        const std::function<Box(const Box&)>& to_whole = {}) {
  for (const Box& b : list) {
    INFO(label << " crop " << box_text(b));
    imio::Kwargs kw = base;
    kw.emplace_back("crop", box_value(b));
    const imio::NDArray got = read(kw);
    const imio::NDArray want = cut(whole, to_whole ? to_whole(b) : b);
    REQUIRE(got.shape() == want.shape());
    REQUIRE(got.dtype() == want.dtype());
    REQUIRE(std::memcmp(got.bytes(), want.bytes(), got.nbytes()) == 0);
    CHECK(shape_of(kw) == got.shape());
  }
}

}  // namespace imio_test
