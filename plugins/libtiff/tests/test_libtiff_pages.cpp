// imio::plugin::LibTiff, the libtiff plugin's public extras class: reached
// through ImageFile::plugin_as from this executable, which links the imio
// library (shared in the default build, so the dynamic_cast crosses the
// library boundary); iter_pages as tifffile's (spec §5.3.3).
#include <imio/imio.hpp>
#include <imio/plugins/libtiff.hpp>

#include <cstring>
#include <filesystem>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::NDArray;
using imio::Shape;

std::vector<NDArray> drain(imio::FrameSource& source) {
  std::vector<NDArray> out;
  while (auto page = source.next()) out.push_back(std::move(*page));
  return out;
}

NDArray ramp(const Shape& shape, DType dtype, int start) {
  NDArray a(shape, dtype);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>((start + i * 7) & 0xFF);
  return a;
}

}  // namespace

TEST_CASE("LibTiff::iter_pages: every page, or the pages of one series") {
  imio_test::TempDir tmp;
  const auto path = tmp / "series.tif";
  // Series 0: a (5,20,30) uint8 stack; series 1: one (12,7,3) RGB page.
  const NDArray stack = ramp({5, 20, 30}, DType::uint8, 1);
  const NDArray rgb = ramp({12, 7, 3}, DType::uint8, 5);
  {
    auto w = imio::imopen(path, "w");
    w.write(stack);
    w.write(rgb);
    w.close();
  }
  auto file = imio::imopen(path, "r");
  auto& tiff = file.plugin_as<imio::plugin::LibTiff>();

  auto all = tiff.iter_pages();
  const auto pages = drain(*all);
  REQUIRE(pages.size() == 6);
  for (std::size_t k = 0; k < 5; ++k) {
    INFO(k);
    REQUIRE(pages[k].shape() == Shape{20, 30});
    CHECK(std::memcmp(pages[k].bytes(), stack.bytes() + k * 600, 600) == 0);
    CHECK(pages[k] == file.read({.index = imio::all, .kwargs = {{"page", static_cast<int>(k)}}}));
  }
  CHECK(pages[5] == rgb);
  CHECK_FALSE(all->next());  // stays at the end

  auto none = tiff.iter_pages(imio::Index(), {{"maxworkers", 1}});
  CHECK(drain(*none).size() == 6);

  auto second = tiff.iter_pages(1);
  const auto s1 = drain(*second);
  REQUIRE(s1.size() == 1);
  CHECK(s1[0] == rgb);
  CHECK(drain(*tiff.iter_pages(0)).size() == 5);

  CHECK_THROWS_AS(tiff.iter_pages(2), imio::IndexError);
  CHECK_THROWS_AS(tiff.iter_pages(-1), imio::IndexError);
  CHECK_THROWS_AS(tiff.iter_pages(imio::all, {{"page", 0}}), imio::ArgumentError);
  // The handle keeps working as a Plugin after the extras.
  CHECK(file.read().shape() == Shape{5, 20, 30});
}

TEST_CASE("LibTiff: plugin_as on other handles is an ArgumentError") {
  imio_test::TempDir tmp;
  const auto path = tmp / "one.tif";
  imio::imwrite(path, ramp({4, 5}, DType::uint16, 0));
  auto pillow = imio::imopen(path, "r", {.plugin = "pillow"});
  CHECK(pillow.plugin_name() == "libtiff");
  CHECK_THROWS_AS(pillow.plugin_as<imio::plugin::LibTiff>(), imio::ArgumentError);
  auto writer = imio::imopen(tmp / "w.tif", "w");
  CHECK_THROWS_AS(writer.plugin_as<imio::plugin::LibTiff>(), imio::ArgumentError);
  writer.write(ramp({4, 5}, DType::uint8, 0));
  writer.close();
}

TEST_CASE("LibTiff::iter_pages on the corpus: calcium_imaging's 1000 pages") {
  const auto calcium = imio_test::corpus_dir() / "standard" / "calcium_imaging.tif";
  if (imio_test::corpus_dir().empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  auto file = imio::imopen(calcium, "r");
  const NDArray stack = file.read();
  auto pages = file.plugin_as<imio::plugin::LibTiff>().iter_pages();
  std::size_t n = 0;
  bool same = true;
  while (auto page = pages->next()) {
    same = same && page->shape() == Shape{30, 40} &&
           std::memcmp(page->bytes(), stack.bytes() + n * page->nbytes(), page->nbytes()) == 0;
    ++n;
  }
  CHECK(n == 1000);
  CHECK(same);
}
