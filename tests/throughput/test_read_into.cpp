// imread_into: the caller's array receives exactly what imread returns, for
// every format this build reads; the formats that decode in place do so
// without allocating an array; a wrong shape or dtype is refused before
// anything is written.
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::NDArray;

NDArray pattern(imio::Shape shape, DType dtype, int seed) {
  NDArray a = NDArray::uninitialized(std::move(shape), dtype);
  std::byte* b = a.bytes();
  for (std::size_t i = 0; i < a.nbytes(); ++i) b[i] = static_cast<std::byte>((i * 7 + static_cast<std::size_t>(seed) * 13 + i / 97) % 251);
  if (dtype == DType::float32) {
    auto v = a.values<float>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7 + static_cast<std::size_t>(seed)) % 256) / 255.0f;
  }
  return a;
}

// An array of `shape`/`dtype` whose bytes are all 0xA5: what the read must overwrite.
NDArray poisoned(const imio::Shape& shape, DType dtype) {
  NDArray a = NDArray::uninitialized(shape, dtype);
  std::memset(a.bytes(), 0xA5, a.nbytes());
  return a;
}

// A little-endian EXIF block holding only Orientation.
imio::Bytes exif_orientation(std::uint8_t o) {
  const unsigned char b[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0};
  imio::Bytes out(sizeof b);
  std::memcpy(out.data(), b, sizeof b);
  return out;
}

struct Case {
  std::string plugin;     // the plugin that must serve it (skipped when not built)
  std::string name;       // written (or corpus) file
  std::vector<NDArray> frames;  // empty: a corpus file
  imio::Kwargs write_kwargs;
  imio::ReadOptions read;
  bool zero_copy;         // claimed in docs/many-files.md: decoded in place
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](std::string plugin, std::string name, std::vector<NDArray> frames, imio::Kwargs kw, imio::ReadOptions read,
                 bool zero_copy) {
    out.push_back({std::move(plugin), std::move(name), std::move(frames), std::move(kw), std::move(read), zero_copy});
  };
  auto one = [](imio::Shape s, DType d = DType::uint8) {
    std::vector<NDArray> v;
    v.push_back(pattern(std::move(s), d, 1));
    return v;
  };
  auto many = [](std::size_t n, imio::Shape s) {
    std::vector<NDArray> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(pattern(s, DType::uint8, static_cast<int>(i)));
    return v;
  };
  add("npy", "a.npy", one({96, 128, 3}), {}, {}, true);
  add("npy", "f.npy", one({96, 128}, DType::float32), {}, {}, true);
  add("libpng", "a.png", one({96, 128, 3}), {}, {}, true);
  add("libpng", "g16.png", one({96, 128}, DType::uint16), {}, {}, true);
  add("libpng", "anim.png", many(3, {96, 128, 4}), {}, {.index = imio::all}, true);
  // Converted row by row into the result (png_sinks.hpp): a palette image, a widening and a narrowing mode.
  add("libpng", "p.png", one({96, 128}), {{"mode", "P"}}, {}, true);
  add("libpng", "p4.png", one({96, 128, 3}), {{"bits", 4}}, {.kwargs = {{"mode", "RGBA"}}}, true);
  add("libpng", "rgba.png", one({96, 128, 4}), {}, {.kwargs = {{"mode", "RGB"}}}, true);
  add("libjpeg", "a.jpg", one({96, 128, 3}), {}, {}, true);
  add("libjpeg", "gray.jpg", one({96, 128}), {}, {}, true);
  add("libjpeg", "scaled.jpg", one({96, 128, 3}), {}, {.kwargs = {{"scale", 0.5}}}, true);
  // EXIF orientation applied: the plugin's rotated copy is copied into the
  // caller's array (orientation 3 keeps the shape, so the caller's memory
  // first serves as the unrotated scratch; 6 swaps the axes).
  add("libjpeg", "rot3.jpg", one({96, 128, 3}), {{"exif", exif_orientation(3)}}, {.kwargs = {{"rotate", true}}}, false);
  add("libjpeg", "rot6.jpg", one({96, 128, 3}), {{"exif", exif_orientation(6)}}, {.kwargs = {{"rotate", true}}}, false);
  add("libtiff", "a.tif", one({96, 128, 3}), {}, {}, true);
  add("libtiff", "pages.tif", many(3, {96, 128, 3}), {}, {.index = imio::all}, true);
  add("libtiff", "page1.tif", many(3, {96, 128, 3}), {}, {.kwargs = {{"page", 1}}}, true);
  add("giflib", "anim.gif", many(3, {96, 128, 3}), {}, {}, true);
  add("giflib", "frame.gif", many(3, {96, 128, 3}), {}, {.index = 2}, true);
  add("libwebp", "a.webp", one({96, 128, 3}), {{"lossless", true}}, {}, true);
  // libheif's own buffer is handed over when its rows have no padding: then one copy.
  add("libheif", "a.heic", one({96, 128, 3}), {}, {}, false);
  add("libjxl", "a.jxl", one({96, 128, 3}), {}, {}, true);
  add("openexr", "a.exr", one({96, 128, 3}, DType::float32), {}, {}, true);
  add("openjpeg", "a.jp2", one({96, 128, 3}), {}, {}, true);
  add("radiance", "a.hdr", one({96, 128, 3}, DType::float32), {}, {}, true);
  add("fits", "a.fits", one({96, 128}, DType::float32), {}, {}, true);
  // Written in place, but decoded through a scratch image of FFmpeg's.
  add("ffmpeg", "a.bmp", one({96, 128, 3}), {}, {}, false);
  add("ffmpeg", "a.mp4", many(6, {96, 128, 3}), {{"codec", "mpeg4"}}, {}, true);
  add("ffmpeg", "frame.mp4", many(6, {96, 128, 3}), {{"codec", "mpeg4"}}, {.index = 3}, true);
  // Read-only formats, from the shared corpus.
  add("spe", "scientific/test_000_.SPE", {}, {}, {}, true);
  add("dicom", "scientific/dicom/01/dicom_file01.dcm", {}, {}, {}, true);
  add("libraw", "raw/rawpy/RAW_KODAK_DC50.KDC", {}, {}, {}, true);
  return out;
}

}  // namespace

TEST_CASE("imread_into gives imread's pixels for every format, in place where the plugin decodes in place", "[read_into]") {
  imio_test::TempDir dir;
  std::vector<std::string> copied, in_place;
  for (Case& c : cases()) {
    if (!imio::has_plugin(c.plugin)) continue;
    std::filesystem::path path;
    if (c.frames.empty()) {
      path = imio_test::corpus_file(c.name);
      if (path.empty()) continue;
    } else {
      path = dir / c.name;
      if (c.frames.size() == 1) {
        imio::imwrite(path, c.frames[0], {.kwargs = c.write_kwargs});
      } else {
        imio::imwrite(path, std::span<const NDArray>(c.frames), {.kwargs = c.write_kwargs});
      }
    }
    INFO(c.plugin << " " << c.name);
    const NDArray expected = imio::imread(path, c.read);
    const imio::ImageProperties props = imio::improps(path, c.read);
    REQUIRE(props.shape == expected.shape());
    NDArray out = poisoned(props.shape, props.dtype);
    std::size_t allocations = 0;
    {
      imio_test::LargeAllocations counter(expected.nbytes());
      imio::imread_into(path, out, c.read);
      allocations = counter.count();
    }
    CHECK(out == expected);
    (allocations == 0 ? in_place : copied).push_back(c.plugin + ":" + c.name);
    if (c.zero_copy) CHECK(allocations == 0);
    if (c.name.starts_with("rot")) CHECK(allocations >= 1);  // the rotation really ran
  }
  // The table docs/many-files.md gives.
  std::string table = "in place:";
  for (const auto& s : in_place) table += " " + s;
  table += "\none copy:";
  for (const auto& s : copied) table += " " + s;
  WARN(table);
  // The core formats are always built: the test cannot pass by skipping them all.
  CHECK(in_place.size() >= 8);
}

TEST_CASE("imread_into allocates no array where imread allocates one", "[read_into]") {
  imio_test::TempDir dir;
  const auto path = dir / "big.png";
  imio::imwrite(path, pattern({512, 640, 3}, DType::uint8, 3));
  NDArray out = poisoned({512, 640, 3}, DType::uint8);
  std::size_t with_imread = 0, with_into = 0;
  {
    imio_test::LargeAllocations counter(out.nbytes());
    const NDArray a = imio::imread(path);
    with_imread = counter.count();
  }
  {
    imio_test::LargeAllocations counter(out.nbytes());
    imio::imread_into(path, out);
    with_into = counter.count();
  }
  CHECK(with_imread == 1);  // the counter sees NDArray's buffers
  CHECK(with_into == 0);
  CHECK(out == imio::imread(path));
}

TEST_CASE("imread_into refuses an array of another shape or dtype, naming both, and leaves it untouched", "[read_into]") {
  imio_test::TempDir dir;
  const auto path = dir / "a.png";
  imio::imwrite(path, pattern({40, 50, 3}, DType::uint8, 2));

  NDArray wrong_shape = poisoned({50, 40, 3}, DType::uint8);
  const std::string m1 = imio_test::message_of<imio::ArgumentError>([&] { imio::imread_into(path, wrong_shape); });
  CHECK_THROWS_AS(imio::imread_into(path, wrong_shape), imio::ArgumentError);
  CHECK(imio_test::contains(m1, "shape (50, 40, 3) and dtype uint8"));
  CHECK(imio_test::contains(m1, "shape (40, 50, 3) and dtype uint8"));
  CHECK(imio_test::contains(m1, "a.png"));
  CHECK(wrong_shape == poisoned({50, 40, 3}, DType::uint8));

  NDArray wrong_dtype = poisoned({40, 50, 3}, DType::uint16);
  CHECK_THROWS_AS(imio::imread_into(path, wrong_dtype), imio::ArgumentError);
  const std::string m2 = imio_test::message_of<imio::ArgumentError>([&] { imio::imread_into(path, wrong_dtype); });
  CHECK(imio_test::contains(m2, "dtype uint16"));
  CHECK(wrong_dtype == poisoned({40, 50, 3}, DType::uint16));

  NDArray empty;
  CHECK_THROWS_AS(imio::imread_into(path, empty), imio::ArgumentError);
}

TEST_CASE("imread_into fills slots of a batch, aligned (in place) or not (one copy)", "[read_into]") {
  imio_test::TempDir dir;
  // 64x64x3 bytes per slot keep every slot 64-byte aligned; 5x7x3 does not.
  for (const imio::Shape& shape : {imio::Shape{64, 64, 3}, imio::Shape{5, 7, 3}}) {
    std::vector<NDArray> expected;
    NDArray batch = poisoned({4, shape[0], shape[1], shape[2]}, DType::uint8);
    for (int i = 0; i < 4; ++i) {
      const auto path = dir / ("s" + std::to_string(i) + ".png");
      imio::imwrite(path, pattern(shape, DType::uint8, i));
      expected.push_back(imio::imread(path));
      imio::imread_into(path, batch[static_cast<std::size_t>(i)]);
    }
    CHECK(batch == NDArray::stack(expected));
  }
}

TEST_CASE("ImageFile::read_into reads pages of an open file into a batch", "[read_into]") {
  if (!imio::has_plugin("libtiff")) return;
  imio_test::TempDir dir;
  const auto path = dir / "pages.tif";
  std::vector<NDArray> pages;
  for (int i = 0; i < 3; ++i) pages.push_back(pattern({32, 48, 3}, DType::uint8, i));
  imio::imwrite(path, std::span<const NDArray>(pages));
  NDArray batch = poisoned({3, 32, 48, 3}, DType::uint8);
  auto file = imio::imopen(path, "r");
  // tifffile's semantics: the list is one series; `page` picks a page of it.
  for (std::size_t i = 0; i < 3; ++i) file.read_into(batch[i], {.kwargs = {{"page", static_cast<std::int64_t>(i)}}});
  CHECK(batch == NDArray::stack(pages));
  NDArray small = poisoned({32, 48}, DType::uint8);
  CHECK_THROWS_AS(file.read_into(small, {{"page", 0}}), imio::ArgumentError);
}

TEST_CASE("imread_into takes the kwargs shorthand and the options struct alike", "[read_into][call-forms]") {
  if (!imio::has_plugin("libjpeg")) return;
  imio_test::TempDir dir;
  const auto path = dir / "a.jpg";
  imio::imwrite(path, pattern({64, 80, 3}, DType::uint8, 5));
  const NDArray expected = imio::imread(path, {{"mode", "L"}});
  NDArray a = poisoned({64, 80}, DType::uint8), b = poisoned({64, 80}, DType::uint8);
  imio::imread_into(path, a, {{"mode", "L"}});
  imio::imread_into(path, b, {.kwargs = {{"mode", "L"}}});
  CHECK(a == expected);
  CHECK(b == expected);
  NDArray c = poisoned({64, 80, 3}, DType::uint8);
  imio::imread_into(path, c, {});
  CHECK(c == imio::imread(path));
}
