// The libtiff plugin's `level` (tifffile's pyramid levels stored as
// SubIFDs): every level equals tifffile.imread(level=k), for one page and
// for a stack whose pages each hold their SubIFDs; improps agrees; `crop`
// combines (the box in the level's pixels); levels beyond the last are
// IndexErrors; files without SubIFDs keep their series.
#include <imio/imio.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
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
}

TEST_CASE("libtiff: a file without SubIFDs has level 0 only", "[libtiff][level]") {
  const imio::Bytes file = imio::imwrite("<bytes>", imio_test::sample({20, 30}, imio::DType::uint8), {.extension = ".tif"}).value();
  CHECK(imio::imread(file, tiff({{"level", 0}})).shape() == Shape{20, 30});
  CHECK(contains(message_of<imio::IndexError>([&] { imio::imread(file, tiff({{"level", 1}})); }), "1 level"));
  CHECK_THROWS_AS(imio::imread(file, tiff({{"level", -1}})), imio::ArgumentError);
}
