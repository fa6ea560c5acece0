// imread_into of PNGs allocates no array, whatever the image's size: imio's
// IDAT decoder keeps buffers of up to 4 MiB per thread and inflates larger
// images a few rows at a time, straight into the caller's rows. Counted by
// the replaced aligned operator new that NDArray's buffers come from
// (tests/support/counting_new.cpp, built into this executable).
#include <imio/imio.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "counting_new.hpp"
#include "crop_box.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;

// Smooth gradients with noise (compresses like a photo, every filter type used).
NDArray photo_like(const Shape& shape, DType dtype) {
  NDArray a(shape, dtype);
  const std::size_t w = shape[1], c = shape.size() > 2 ? shape[2] : 1;
  std::uint32_t x = 12345;
  for (std::size_t i = 0, n = a.size(); i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    const std::size_t col = (i / c) % w, row = i / (c * w);
    const std::uint32_t v = static_cast<std::uint32_t>(col * 3 + row * 2 + (i % c) * 50) + (x >> 29);
    if (dtype == DType::uint16) {
      a.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(v * 97 + (x >> 24));
    } else {
      a.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v);
    }
  }
  return a;
}

NDArray poisoned(const Shape& shape, DType dtype) {
  NDArray a(shape, dtype);
  std::memset(a.bytes(), 0xA5, a.nbytes());
  return a;
}

}  // namespace

TEST_CASE("libpng: imread_into of an image beyond the kept buffers allocates no array", "[libpng][read_into]") {
  imio_test::TempDir dir;
  struct Case {
    Shape shape;
    DType dtype;
    imio::Kwargs kwargs;
  };
  // 8 MiB and 16 MiB of pixels: above the 4 MiB a thread keeps.
  const std::vector<Case> cases{{{1024, 2048, 4}, DType::uint8, {}},
                                {{1024, 2048, 4}, DType::uint8, {{"crop", imio::Value{100, 200, 1900, 1000}}}},
                                {{1024, 1024, 4}, DType::uint16, {}},
                                {{2048, 2048}, DType::uint16, {}}};
  for (const Case& c : cases) {
    const fs::path path = dir / "big.png";
    imio::imwrite(path, photo_like(c.shape, c.dtype));
    const imio::ReadOptions options{.plugin = "libpng", .kwargs = c.kwargs};
    const NDArray expected = imio::imread(path, options);
    const Shape shape = imio::improps(path, options).shape;
    REQUIRE(shape == expected.shape());
    for (const bool from_memory : {false, true}) {
      INFO(expected.nbytes() << " bytes of " << imio::name(c.dtype) << (c.kwargs.empty() ? "" : ", cropped")
                             << (from_memory ? ", from memory" : ", from the path"));
      const imio::Bytes file = imio_test::read_file(path);
      NDArray out = poisoned(shape, c.dtype);
      // The first call may create the thread's kept buffers and inflate state.
      if (from_memory) {
        imio::imread_into(file, out, options);
      } else {
        imio::imread_into(path, out, options);
      }
      std::memset(out.bytes(), 0xA5, out.nbytes());
      std::size_t into = 0, with_imread = 0;
      {
        imio_test::LargeAllocations counter(1);  // every aligned allocation, whatever its size
        if (from_memory) {
          imio::imread_into(file, out, options);
        } else {
          imio::imread_into(path, out, options);
        }
        into = counter.count();
      }
      CHECK(into == 0);
      CHECK(out == expected);
      {
        imio_test::LargeAllocations counter(1);
        const NDArray a = from_memory ? imio::imread(file, options) : imio::imread(path, options);
        with_imread = counter.count();
      }
      CHECK(with_imread >= 1);  // the counter sees NDArray's buffers
    }
  }
}
