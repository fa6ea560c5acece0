// imread_into a row-padded view (Request::row_target): libjpeg, libwebp and npy
// write the rows of a region of a larger canvas, of a flipped image, of the
// padded slots of a batch straight into the caller's memory — the pixels are
// those of the contiguous read, the bytes around and between the rows stay
// untouched, and no image-sized array is allocated. Reads those plugins
// cannot do in place (a rotated JPEG, gray WebP, Fortran-order npy) still land
// right, by a copy.
#include <imio/imio.hpp>
#include <imio/registry.hpp>
#include <imio/strided_view.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"
#include "test_util.hpp"

namespace {

using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::StridedArrayView;

constexpr std::byte kGuard{0xA5};

// A smooth picture with some detail (what a JPEG encodes without surprises).
NDArray picture(std::size_t h, std::size_t w, std::size_t c) {
  NDArray a = NDArray::uninitialized(c == 1 ? Shape{h, w} : Shape{h, w, c}, DType::uint8);
  std::byte* p = a.bytes();
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      for (std::size_t k = 0; k < c; ++k) {
        *p++ = static_cast<std::byte>((x * (k + 1) * 3 + y * 2 + ((x / 8 + y / 8) % 2) * 40) % 256);
      }
    }
  }
  return a;
}

struct Encoded {
  std::string label;
  Bytes file;
  imio::ReadOptions read;
  bool in_place;  // docs/many-files.md: written into the caller's rows
};

// A version 1.0 .npy file of `descr` written here, byte by byte (no writer
// of imio's makes big-endian or Fortran-order files).
Bytes npy_file(const std::string& descr, bool fortran, std::size_t h, std::size_t w, const std::vector<std::uint8_t>& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" +
                       std::to_string(h) + ", " + std::to_string(w) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size() & 0xFF);
  file += static_cast<char>(header.size() >> 8);
  file += header;
  file.append(reinterpret_cast<const char*>(data.data()), data.size());
  return imio_test::to_bytes(file);
}

std::vector<std::uint8_t> ramp(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 37 + i / 11);
  return v;
}

std::vector<Encoded> files() {
  std::vector<Encoded> out;
  auto add = [&](std::string plugin, std::string label, const NDArray& image, const char* ext, imio::Kwargs write,
                 imio::ReadOptions read, bool in_place) {
    if (!imio::has_plugin(plugin)) return;
    Bytes file = imio::imwrite("<bytes>", image, {.extension = ext, .kwargs = std::move(write)}).value();
    out.push_back({plugin + ":" + label, std::move(file), std::move(read), in_place});
  };
  const imio::Value crop{std::int64_t{13}, std::int64_t{7}, std::int64_t{90}, std::int64_t{61}};
  add("libjpeg", "small rgb", picture(45, 67, 3), ".jpg", {}, {}, true);
  add("libjpeg", "gray", picture(45, 67, 1), ".jpg", {}, {}, true);
  // Above libjpeg's scratch limit (jpeg_rows.hpp): all rows in one libjpeg call.
  add("libjpeg", "large rgb", picture(300, 410, 3), ".jpg", {}, {}, true);
  add("libjpeg", "progressive 4:4:4", picture(45, 67, 3), ".jpg", {{"progressive", true}, {"subsampling", "4:4:4"}}, {}, true);
  add("libjpeg", "crop", picture(80, 120, 3), ".jpg", {}, {.kwargs = {{"crop", crop}}}, true);
  // Restart intervals of 3 MCUs, five column bands of 48 pixels: the crop
  // decodes a smaller image of bands 0…2 (jpeg_restart_columns.hpp).
  add("libjpeg", "crop, column bands", picture(200, 240, 3), ".jpg", {{"restart_marker_blocks", 3}},
      {.kwargs = {{"crop", crop}}}, true);
  add("libjpeg", "scale 1/2", picture(80, 120, 3), ".jpg", {}, {.kwargs = {{"scale", 0.5}}}, true);
  add("libjpeg", "crop and scale", picture(200, 240, 3), ".jpg", {}, {.kwargs = {{"crop", crop}, {"scale", 0.5}}}, true);
  add("libjpeg", "as gray", picture(45, 67, 3), ".jpg", {}, {.kwargs = {{"mode", "L"}}}, true);
  add("libwebp", "lossless rgb", picture(45, 67, 3), ".webp", {{"lossless", true}}, {}, true);
  add("libwebp", "lossy rgb", picture(45, 67, 3), ".webp", {}, {}, true);
  add("libwebp", "lossless rgba", picture(45, 67, 4), ".webp", {{"lossless", true}}, {}, true);
  add("libwebp", "large lossy", picture(300, 410, 3), ".webp", {}, {}, true);
  // libwebp has no gray output: converted from RGB, then copied.
  add("libwebp", "as gray", picture(45, 67, 3), ".webp", {{"lossless", true}}, {.kwargs = {{"mode", "L"}}}, false);
  if (imio::has_plugin("npy")) {
    add("npy", "uint8 rgb", picture(45, 67, 3), ".npy", {}, {}, true);
    out.push_back({"npy:big-endian uint16", npy_file(">u2", false, 45, 67, ramp(45 * 67 * 2)), {}, true});
    out.push_back({"npy:bool", npy_file("|b1", false, 45, 67, ramp(45 * 67)), {}, true});
    // Transposed on the way: an array of its own, then one copy.
    out.push_back({"npy:fortran order", npy_file("<u2", true, 45, 67, ramp(45 * 67 * 2)), {}, false});
  }
  return out;
}

std::size_t row_bytes(const NDArray& image) { return image.nbytes() / image.shape()[0]; }

// The strides of a C-ordered array of `shape` and `dtype`, but `pitch` bytes between rows.
std::vector<std::ptrdiff_t> strides_with_pitch(const Shape& shape, std::ptrdiff_t pitch, DType dtype) {
  std::vector<std::ptrdiff_t> s(shape.size(), static_cast<std::ptrdiff_t>(itemsize(dtype)));
  for (std::size_t i = shape.size() - 1; i-- > 1;) s[i] = s[i + 1] * static_cast<std::ptrdiff_t>(shape[i + 1]);
  s[0] = pitch;
  return s;
}

// Memory of `rows` rows of `pitch` bytes plus `margin` guard bytes on each
// side, every byte the guard value.
struct Canvas {
  std::size_t margin, pitch, rows;
  std::vector<std::byte> bytes;
  Canvas(std::size_t margin_, std::size_t pitch_, std::size_t rows_)
      : margin(margin_), pitch(pitch_), rows(rows_), bytes(2 * margin_ + pitch_ * rows_, kGuard) {}
  std::byte* at(std::size_t row, std::size_t offset) { return bytes.data() + margin + row * pitch + offset; }
};

// Row y of `want` is at `first + y * stride`; every other byte of `canvas` is the guard.
void check_rows(const Canvas& canvas, const std::byte* first, std::ptrdiff_t stride, const NDArray& want) {
  const std::size_t rb = row_bytes(want);
  std::vector<bool> inside(canvas.bytes.size(), false);
  bool same = true;
  for (std::size_t y = 0; y < want.shape()[0]; ++y) {
    const std::byte* row = first + static_cast<std::ptrdiff_t>(y) * stride;
    same = same && std::memcmp(row, want.bytes() + y * rb, rb) == 0;
    const auto begin = static_cast<std::size_t>(row - canvas.bytes.data());
    for (std::size_t i = 0; i < rb; ++i) inside[begin + i] = true;
  }
  bool untouched = true;
  for (std::size_t i = 0; i < canvas.bytes.size(); ++i) untouched = untouched && (inside[i] || canvas.bytes[i] == kGuard);
  CHECK(same);
  CHECK(untouched);
}

// imread_into `view`, counting arrays of at least the image's size.
std::size_t read_counting(const Encoded& e, const StridedArrayView& view, std::size_t image_bytes) {
  imio_test::LargeAllocations counter(image_bytes);
  imio::imread_into(e.file, view, e.read);
  return counter.count();
}

}  // namespace

TEST_CASE("imread_into a region of a larger canvas: the rows land in place, the rest is untouched", "[read_into][rows]") {
  std::vector<std::string> in_place, copied;
  for (const Encoded& e : files()) {
    INFO(e.label);
    const NDArray want = imio::imread(e.file, e.read);
    const Shape& shape = want.shape();
    const std::size_t rb = row_bytes(want), h = shape[0];
    // The region starts at an odd column of a canvas 23 pixels wider and 9 rows taller.
    const std::size_t pixel = rb / shape[1], left = 5 * pixel, pitch = rb + 23 * pixel;
    Canvas canvas(64, pitch, h + 9);
    std::byte* first = canvas.at(4, left);
    const auto stride = static_cast<std::ptrdiff_t>(pitch);
    const std::size_t allocations = read_counting(e, StridedArrayView(first, shape, want.dtype(), strides_with_pitch(shape, stride, want.dtype())), want.nbytes());
    check_rows(canvas, first, stride, want);
    (allocations == 0 ? in_place : copied).push_back(e.label);
    CHECK((allocations == 0) == e.in_place);
  }
  std::string table = "rows in place:";
  for (const auto& s : in_place) table += " [" + s + "]";
  table += "\none copy:";
  for (const auto& s : copied) table += " [" + s + "]";
  WARN(table);
  if (imio::has_plugin("libjpeg") && imio::has_plugin("libwebp")) CHECK(in_place.size() >= 12);
}

TEST_CASE("imread_into a flipped view (negative row stride) writes the image upside down in place", "[read_into][rows]") {
  for (const Encoded& e : files()) {
    INFO(e.label);
    const NDArray want = imio::imread(e.file, e.read);
    const Shape& shape = want.shape();
    const std::size_t rb = row_bytes(want), h = shape[0];
    // Packed rows (the whole block flipped) and padded rows.
    for (const std::size_t pad : {std::size_t{0}, std::size_t{7}}) {
      INFO("padding " << pad);
      Canvas canvas(32, rb + pad, h);
      std::byte* first = canvas.at(h - 1, 0);
      const auto stride = -static_cast<std::ptrdiff_t>(rb + pad);
      const std::size_t allocations = read_counting(e, StridedArrayView(first, shape, want.dtype(), strides_with_pitch(shape, stride, want.dtype())), want.nbytes());
      check_rows(canvas, first, stride, want);
      CHECK((allocations == 0) == e.in_place);
    }
  }
}

TEST_CASE("imread_into the padded slots of a batch, several files one after another", "[read_into][rows]") {
  if (!imio::has_plugin("libjpeg") || !imio::has_plugin("libwebp")) return;  // needs libjpeg and libwebp
  // Three 40 x 50 RGB images in slots of 48 rows of 64 pixels (a padded batch).
  const std::size_t h = 40, w = 50, slot_rows = 48, slot_pitch = 64 * 3;
  std::vector<Bytes> sources;
  sources.push_back(imio::imwrite("<bytes>", picture(h, w, 3), {.extension = ".jpg"}).value());
  sources.push_back(imio::imwrite("<bytes>", picture(h, w, 3), {.extension = ".webp", .kwargs = {{"lossless", true}}}).value());
  sources.push_back(imio::imwrite("<bytes>", picture(h, w, 3), {.extension = ".webp"}).value());
  Canvas batch(0, slot_pitch, 3 * slot_rows);
  for (std::size_t k = 0; k < sources.size(); ++k) {
    const StridedArrayView slot(batch.at(k * slot_rows, 0), {h, w, 3}, DType::uint8, {static_cast<std::ptrdiff_t>(slot_pitch), 3, 1});
    imio_test::LargeAllocations counter(h * w * 3);
    imio::imread_into(sources[k], slot);
    CHECK(counter.count() == 0);
  }
  std::vector<bool> inside(batch.bytes.size(), false);
  for (std::size_t k = 0; k < sources.size(); ++k) {
    INFO("slot " << k);
    const NDArray want = imio::imread(sources[k]);
    bool same = true;
    for (std::size_t y = 0; y < h; ++y) {
      same = same && std::memcmp(batch.at(k * slot_rows + y, 0), want.bytes() + y * w * 3, w * 3) == 0;
      for (std::size_t i = 0; i < w * 3; ++i) inside[(k * slot_rows + y) * slot_pitch + i] = true;
    }
    CHECK(same);
  }
  bool untouched = true;
  for (std::size_t i = 0; i < batch.bytes.size(); ++i) untouched = untouched && (inside[i] || batch.bytes[i] == kGuard);
  CHECK(untouched);
}

TEST_CASE("imread_into a row-padded view of a rotated JPEG copies the rotated image", "[read_into][rows]") {
  if (!imio::has_plugin("libjpeg")) return;
  // EXIF orientation 6 (a little-endian EXIF block holding only Orientation).
  const unsigned char exif[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
  Bytes block(sizeof exif);
  std::memcpy(block.data(), exif, sizeof exif);
  const Bytes file = imio::imwrite("<bytes>", picture(30, 50, 3), {.extension = ".jpg", .kwargs = {{"exif", block}}}).value();
  const imio::ReadOptions rotate{.kwargs = {{"rotate", true}}};
  const NDArray want = imio::imread(file, rotate);
  REQUIRE(want.shape() == Shape{50, 30, 3});
  Canvas canvas(16, 40 * 3, 50);
  std::byte* first = canvas.at(0, 6);
  imio::imread_into(file, StridedArrayView(first, {50, 30, 3}, DType::uint8, {40 * 3, 3, 1}), rotate);
  check_rows(canvas, first, 40 * 3, want);
}

TEST_CASE("imread_into a row-padded view: wrong shape or dtype is refused untouched, bad data give imio errors", "[read_into][rows]") {
  for (const Encoded& e : files()) {
    INFO(e.label);
    const NDArray want = imio::imread(e.file, e.read);
    const Shape& shape = want.shape();
    const std::size_t rb = row_bytes(want), h = shape[0];
    Canvas canvas(16, rb + 16, h + 2);
    Shape taller = shape;
    taller[0] += 1;
    const auto stride = static_cast<std::ptrdiff_t>(rb + 16);
    const std::string m = imio_test::message_of<imio::ArgumentError>(
        [&] { imio::imread_into(e.file, StridedArrayView(canvas.at(0, 0), taller, want.dtype(), strides_with_pitch(taller, stride, want.dtype()))); });
    CHECK(imio_test::contains(m, "this read gives"));
    CHECK_THROWS_AS(imio::imread_into(e.file, StridedArrayView(canvas.at(0, 0), shape, DType::int8, strides_with_pitch(shape, stride, want.dtype())), e.read),
                    imio::ArgumentError);
    bool untouched = true;
    for (const std::byte b : canvas.bytes) untouched = untouched && b == kGuard;
    CHECK(untouched);
    // Cut in the middle of the pixel data: the header still gives the shape,
    // the decode fails part way, with an imio error naming the plugin.
    const Bytes cut(e.file.begin(), e.file.begin() + static_cast<std::ptrdiff_t>(e.file.size() * 3 / 4));
    const std::string plugin = e.label.substr(0, e.label.find(':'));
    const std::string why = imio_test::message_of<imio::DecodeError>(
        [&] { imio::imread_into(cut, StridedArrayView(canvas.at(0, 0), shape, want.dtype(), strides_with_pitch(shape, stride, want.dtype())), e.read); });
    CHECK(imio_test::contains(why, plugin));
  }
}
