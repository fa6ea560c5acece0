// The libtiff plugin's `level` (tifffile's pyramid levels stored as
// SubIFDs): every level equals tifffile.imread(level=k), for one page and
// for a stack whose pages each hold their SubIFDs; improps agrees; `crop`
// combines (the box in the level's pixels); levels beyond the last are
// IndexErrors; files without SubIFDs keep their series.
#include <imio/imio.hpp>
#include <imio/plugins/libtiff.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "tiff_series_oracle.hpp"
#include "tiff_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::contains;
using imio_test::message_of;

imio::ReadOptions tiff(imio::Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libtiff", .kwargs = std::move(kwargs)};
}

}  // namespace

TEST_CASE("libtiff: level k is each page's k-th SubIFD, as tifffile.imread(level=k)", "[libtiff][level]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(7)
def pyramid(name, data, levels, **kw):
    path = os.path.join(d, name + '.tif')
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, subifds=levels, **kw)
        for k in range(1, levels + 1):
            data = data[..., ::2, ::2, :] if kw.get('photometric') == 'rgb' else data[..., ::2, ::2]
            tif.write(data, subfiletype=1, **kw)
    with tifffile.TiffFile(path) as tif:
        n = len(tif.series[0].levels)
    for k in range(n):
        numpy.save(os.path.join(d, '%s.%d.npy' % (name, k)), tifffile.imread(path, level=k))
    open(os.path.join(d, name + '.levels'), 'w').write(str(n))
pyramid('rgb', rng.integers(0, 256, (256, 320, 3), dtype='uint8'), 2, tile=(64, 64), compression='zlib', photometric='rgb')
pyramid('stack', rng.integers(0, 65536, (3, 128, 96), dtype='uint16'), 1, photometric='minisblack')
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  for (const char* name : {"rgb", "stack"}) {
    const fs::path path = dir / (std::string(name) + ".tif");
    const int levels = std::stoi(imio_test::to_string(imio_test::read_file(dir / (std::string(name) + ".levels"))));
    REQUIRE(levels == (std::string(name) == "rgb" ? 3 : 2));
    // SubIFDs do not make series: level 0 is the file's one series, as before.
    CHECK(imio::improps(path, {.index = imio::all}).shape.front() == 1);
    for (int k = 0; k < levels; ++k) {
      INFO(name << " level " << k);
      const NDArray want = imio::imread(dir / (std::string(name) + "." + std::to_string(k) + ".npy"));
      const NDArray got = imio::imread(path, tiff({{"level", k}}));
      CHECK(got == want);
      CHECK(imio::improps(path, tiff({{"level", k}})).shape == want.shape());
    }
    CHECK(contains(message_of<imio::IndexError>([&] { imio::imread(path, tiff({{"level", levels}})); }), "level"));
    CHECK_THROWS_AS(imio::improps(path, tiff({{"level", levels}})), imio::IndexError);
  }
  // A page of the stack at level 1, and crop in the level's pixels.
  const NDArray level1 = imio::imread(dir / "stack.1.npy");
  const NDArray page2 = imio::imread(dir / "stack.tif", tiff({{"level", 1}, {"page", 2}}));
  REQUIRE(page2.shape() == Shape{64, 48});
  CHECK(std::equal(page2.bytes(), page2.bytes() + page2.nbytes(), level1.bytes() + 2 * page2.nbytes()));
  const NDArray rgb1 = imio::imread(dir / "rgb.1.npy");  // (128, 160, 3)
  const NDArray box = imio::imread(dir / "rgb.tif", tiff({{"level", 1}, {"crop", Value{10, 20, 110, 64}}}));
  REQUIRE(box.shape() == Shape{44, 100, 3});
  bool same = true;
  for (std::size_t y = 0; y < 44; ++y) {
    same = same && std::equal(box.bytes() + y * 300, box.bytes() + (y + 1) * 300, rgb1.bytes() + ((20 + y) * 160 + 10) * 3);
  }
  CHECK(same);
  CHECK_THROWS_AS(imio::imread(dir / "rgb.tif", tiff({{"level", 1}, {"crop", Value{0, 0, 161, 10}}})), imio::ArgumentError);

  // iter and iter_pages take level and crop: each series or page at its
  // level, cut to the box, equal to what read gives.
  std::size_t n = 0;
  for (const NDArray& image :
       imio::imiter(dir / "rgb.tif", {.plugin = "libtiff", .kwargs = {{"level", 1}, {"crop", Value{10, 20, 110, 64}}}})) {
    CHECK(image == box);
    ++n;
  }
  CHECK(n == 1);
  imio::ImageFile file = imio::imopen(dir / "stack.tif", "r", {.plugin = "libtiff"});
  auto pages = file.plugin_as<imio::plugin::LibTiff>().iter_pages(imio::all, {{"level", 1}, {"crop", Value{0, 1, 48, 64}}});
  for (n = 0; auto page = pages->next(); ++n) {
    REQUIRE(page->shape() == Shape{63, 48});
    CHECK(std::equal(page->bytes(), page->bytes() + page->nbytes(), level1.bytes() + n * 64 * 48 * 2 + 48 * 2));
  }
  CHECK(n == 3);
  auto beyond = file.plugin_as<imio::plugin::LibTiff>().iter_pages(imio::all, {{"level", 2}});
  CHECK_THROWS_AS(beyond->next(), imio::IndexError);
}

TEST_CASE("libtiff: a file without SubIFDs has level 0 only", "[libtiff][level]") {
  const imio::Bytes file = imio::imwrite("<bytes>", imio_test::sample({20, 30}, imio::DType::uint8), {.extension = ".tif"}).value();
  CHECK(imio::imread(file, tiff({{"level", 0}})).shape() == Shape{20, 30});
  CHECK(contains(message_of<imio::IndexError>([&] { imio::imread(file, tiff({{"level", 1}})); }), "1 level"));
  CHECK_THROWS_AS(imio::imread(file, tiff({{"level", -1}})), imio::ArgumentError);
}

// Levels in the main IFD chain, where tifffile finds them: a generic
// pyramid (reduced pages that are not SubIFDs) and an Aperio SVS layout.
// The series list, every level's shape and pixels, iter and the errors
// are compared with tifffile.
TEST_CASE("libtiff: pyramids in the main IFD chain (generic, SVS) are levels, as tifffile's series", "[libtiff][level]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(3)
a = rng.integers(0, 256, (300, 200, 3), dtype='uint8')
g = rng.integers(0, 65536, (81, 45), dtype='uint16')
kw = dict(metadata=None)
with tifffile.TiffWriter(os.path.join(d, 'generic.tif')) as t:
    t.write(a, tile=(64, 64), photometric='rgb', **kw)
    t.write(g, **kw)                                   # another image between the levels
    t.write(a[::2, ::2], tile=(64, 64), photometric='rgb', **kw)
    t.write(g[::3, ::3], **kw)                         # by 3: a level of g
    t.write(a[::4, ::4], photometric='rgb', **kw)      # stripped, still a level
    t.write(a[::3, ::3], photometric='rgb', **kw)      # not the next level by 2: a series
desc = 'Aperio Image Library v12.0.15 \n200x300 [0,0 200x300] (64x64) RAW|AppMag = 20'
with tifffile.TiffWriter(os.path.join(d, 'slide.svs')) as t:
    t.write(a, tile=(64, 64), photometric='rgb', description=desc, **kw)
    t.write(a[::8, ::8], photometric='rgb', description='Aperio thumbnail', **kw)
    t.write(a[::2, ::2], tile=(32, 32), photometric='rgb', description='Aperio level', **kw)
    t.write(a[::4, ::4], tile=(32, 32), photometric='rgb', description='Aperio level', **kw)
    t.write(a[:50, :60], photometric='rgb', subfiletype=1, description='label', **kw)
    t.write(a[:70, :60], photometric='rgb', subfiletype=9, description='macro', **kw)
)") + std::string(imio_test::kSaveTifffileSeries) + R"(
for name in ('generic.tif', 'slide.svs'):
    save_series(os.path.join(d, name))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  // tifffile's own layout first, so the test fails if its grouping changes.
  CHECK(imio_test::check_series_like_tifffile(dir / "generic.tif") == std::vector<int>{3, 2, 1});
  CHECK(imio_test::check_series_like_tifffile(dir / "slide.svs") == std::vector<int>{3, 1, 1, 1});
  // A page of a level, and crop in the level's pixels.
  const NDArray level1 = imio::imread(dir / "slide.svs.0.1.npy");  // (150, 100, 3)
  const NDArray box = imio::imread(dir / "slide.svs", tiff({{"level", 1}, {"crop", Value{10, 20, 60, 40}}}));
  REQUIRE(box.shape() == Shape{20, 50, 3});
  bool same = true;
  for (std::size_t y = 0; y < 20; ++y) {
    same = same && std::equal(box.bytes() + y * 150, box.bytes() + (y + 1) * 150, level1.bytes() + ((20 + y) * 100 + 10) * 3);
  }
  CHECK(same);
  CHECK(imio::imread(dir / "slide.svs", tiff({{"level", 2}, {"page", 0}})) == imio::imread(dir / "slide.svs.0.2.npy"));
  CHECK(contains(message_of<imio::IndexError>([&] { imio::improps(dir / "generic.tif", tiff({{"level", 1}}, imio::all)); }),
                 "series 2 has no reduced levels"));
}

// immeta's file-level `series` for the layouts without levels: tifffile's
// kind and name (a shaped description's `name`, ImageJ's none) and shape.
TEST_CASE("libtiff: immeta's series names and kinds are tifffile's for shaped and ImageJ files", "[libtiff][level]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
data = numpy.arange(2 * 4 * 5, dtype='uint8').reshape(2, 4, 5)
tifffile.imwrite(os.path.join(d, 'named.tif'), data, metadata={'name': 'cells'})
tifffile.imwrite(os.path.join(d, 'unnamed.tif'), data)
tifffile.imwrite(os.path.join(d, 'imagej.tif'), data, imagej=True)
)") + std::string(imio_test::kSaveTifffileSeries) + R"(
for name in ('named.tif', 'unnamed.tif', 'imagej.tif'):
    save_series(os.path.join(d, name))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  for (const char* name : {"named.tif", "unnamed.tif", "imagej.tif"}) {
    CHECK(imio_test::check_series_like_tifffile(dir / name) == std::vector<int>{1});
  }
  const auto series = imio::immeta(dir / "named.tif", {.plugin = "libtiff"}).get<Value::List>("series");
  REQUIRE(series.size() == 1);
  CHECK(series[0].ref<imio::Dict>().get<std::string>("name") == "cells");
}
