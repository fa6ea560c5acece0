// The fits plugin against astropy (Debian python3-astropy): files astropy
// writes (every BITPIX, BZERO unsigned, scaled, BLANK, tile-compressed,
// several HDUs) read as astropy's `data`; files imio writes read by astropy.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::run_python;
using imio_test::write_file;

bool astropy_available() { return imio_test::python_has("astropy.io.fits"); }

#define REQUIRE_ASTROPY()                                              \
  if (!astropy_available()) {                                          \
    WARN("skipped: " << imio_test::python() << " has no astropy");     \
    return;                                                            \
  }

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The same bytes, NaN equal to NaN (astropy's BLANK → NaN).
bool same_bytes(const NDArray& a, const Bytes& b) {
  return a.nbytes() == b.size() && std::memcmp(a.bytes(), b.data(), b.size()) == 0;
}

}  // namespace

TEST_CASE("fits: files astropy wrote read as astropy's data", "[fits][astropy]") {
  REQUIRE_ASTROPY();
  imio_test::TempDir dir;
  // Each case: a file, the HDU index among image HDUs with data, astropy's
  // data as C-order little-endian bytes with dtype and shape.
  static constexpr std::string_view script = R"PY(
import os, sys
import numpy as np
from astropy.io import fits
out = sys.argv[1]
rng = np.random.default_rng(7)
lines = []
def case(name, hdul, kwargs=None):
    path = os.path.join(out, name + '.fits')
    hdul.writeto(path, overwrite=True)
    with fits.open(path, **(kwargs or {})) as f:
        k = 0
        for hdu in f:
            if hdu.is_image and hdu.data is not None:
                d = np.ascontiguousarray(hdu.data)
                d = d.astype(d.dtype.newbyteorder('<'))
                stem = '%s_%d' % (name, k)
                with open(os.path.join(out, stem + '.raw'), 'wb') as r:
                    r.write(d.tobytes())
                lines.append(' '.join([name, str(k), stem, d.dtype.name] + [str(s) for s in d.shape]))
                k += 1
for bitpix, dt in ((8, np.uint8), (16, np.int16), (32, np.int32), (64, np.int64), (-32, np.float32), (-64, np.float64)):
    a = (rng.random((5, 7)) * 100).astype(dt)
    case('bitpix%d' % abs(bitpix) + ('f' if bitpix < 0 else ''), fits.HDUList([fits.PrimaryHDU(a)]))
# BZERO unsigned (uint16, uint32, uint64) and signed bytes
for dt in (np.uint16, np.uint32, np.uint64, np.int8):
    a = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, size=(4, 6), dtype=dt, endpoint=True)
    case('bzero_' + np.dtype(dt).name, fits.HDUList([fits.PrimaryHDU(a)]))
# scaled integers: float32 (BITPIX 16) and float64 (BITPIX 32)
for bitpix, dt in ((16, np.int16), (32, np.int32)):
    h = fits.PrimaryHDU(rng.integers(-1000, 1000, size=(3, 4)).astype(dt))
    h.header['BSCALE'] = 0.25
    h.header['BZERO'] = 10.5
    case('scaled%d' % bitpix, fits.HDUList([h]))
# BLANK in an integer image: NaN in float32
b = rng.integers(0, 100, size=(3, 5)).astype(np.int16)
b[1, 2] = -32768
h = fits.PrimaryHDU(b)
h.header['BLANK'] = -32768
case('blank', fits.HDUList([h]))
# 3-D, several extensions, an empty primary, a table in between
cube = rng.integers(0, 255, size=(2, 3, 4)).astype(np.uint8)
tab = fits.BinTableHDU.from_columns([fits.Column(name='x', format='E', array=np.arange(3.0))])
case('multi', fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cube), tab, fits.ImageHDU(cube + 1)]))
# tile-compressed images (RICE and GZIP)
img = rng.integers(0, 4000, size=(40, 30)).astype(np.int16)
case('rice', fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(img, compression_type='RICE_1')]))
case('gzip', fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(img.astype(np.float32) / 7, compression_type='GZIP_1', quantize_level=0)]))
with open(os.path.join(out, 'manifest.txt'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
)PY";
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  INFO(log);
  std::ifstream manifest(dir / "manifest.txt");
  int checked = 0;
  for (std::string line; std::getline(manifest, line);) {
    const auto w = words(line);
    if (w.size() < 4) continue;
    INFO(line);
    const fs::path path = dir / (w[0] + ".fits");
    const std::size_t k = std::stoul(w[1]);
    Shape shape;
    for (std::size_t i = 4; i < w.size(); ++i) shape.push_back(std::stoull(w[i]));
    const NDArray a = imio::imread(path, {.index = k});
    CHECK(a.dtype() == imio::dtype_from_name(w[3]));
    CHECK(a.shape() == shape);
    CHECK(same_bytes(a, read_file(dir / (w[2] + ".raw"))));
    CHECK(imio::improps(path, {.index = k}) == imio::ImageProperties{.shape = shape, .dtype = a.dtype()});
    CHECK(imio::imread(read_file(path), {.index = k}) == a);  // from memory
    ++checked;
  }
  CHECK(checked == 17);
  // multi: two image extensions with data, stacked
  const fs::path multi = dir / "multi.fits";
  CHECK(imio::improps(multi, {.index = imio::all}) ==
        imio::ImageProperties{.shape = {2, 2, 3, 4}, .dtype = DType::uint8, .n_images = 2, .is_batch = true});
  CHECK_THROWS_AS(imio::imread(multi, {.index = 2}), imio::IndexError);
  // the kwargs astropy takes: uint=False scales to float32, do_not_scale keeps the stored int16
  const fs::path u16 = dir / "bzero_uint16.fits";
  CHECK(imio::imread(u16, {.kwargs = {{"uint", false}}}).dtype() == DType::float32);
  CHECK(imio::imread(u16, {.kwargs = {{"do_not_scale_image_data", true}}}).dtype() == DType::int16);
  CHECK(imio::imread(dir / "blank.fits", {.kwargs = {{"ignore_blank", true}}}).dtype() == DType::int16);
}

TEST_CASE("fits: files imio wrote read in astropy with their header", "[fits][astropy]") {
  REQUIRE_ASTROPY();
  imio_test::TempDir dir;
  const DType dtypes[] = {DType::uint8,  DType::int8,   DType::int16,   DType::uint16, DType::int32,
                          DType::uint32, DType::int64,  DType::uint64,  DType::float32, DType::float64};
  std::vector<NDArray> arrays;
  std::mt19937 rng(3);
  std::string manifest;
  for (std::size_t i = 0; i < std::size(dtypes); ++i) {
    NDArray a({3, i + 2}, dtypes[i]);
    for (std::size_t b = 0; b < a.nbytes(); ++b) a.bytes()[b] = static_cast<std::byte>(rng() & 0xFF);
    if (dtypes[i] == DType::float32) {
      for (auto& v : a.values<float>()) v = static_cast<float>(rng() % 1000) / 8.0f;
    }
    if (dtypes[i] == DType::float64) {
      for (auto& v : a.values<double>()) v = static_cast<double>(rng() % 1000) / 3.0;
    }
    write_file(dir / ("a" + std::to_string(i) + ".raw"), std::span<const std::byte>(a.bytes(), a.nbytes()));
    manifest += std::string(imio::name(dtypes[i])) + "\n";
    arrays.push_back(std::move(a));
  }
  write_file(dir / "manifest.txt", imio_test::to_bytes(manifest));
  imio::Dict header{{"OBJECT", "m51"}, {"EXPTIME", 12.5}, {"NCOMBINE", 3}, {"FLAT", true},
                    {"COMMENT", imio::Value::List{imio::Value("made by imio")}}};
  header.set("comments", imio::Dict{{"EXPTIME", "seconds"}});
  imio::imwrite(dir / "out.fits", std::span<const NDArray>(arrays), {.kwargs = {{"header", header}}});
  std::ostringstream stream;  // a stream that cannot seek
  imio::imwrite(stream, arrays[2], {.extension = ".fits"});
  write_file(dir / "stream.fits", imio_test::to_bytes(stream.str()));
  static constexpr std::string_view script = R"PY(
import os, sys
import numpy as np
from astropy.io import fits
out = sys.argv[1]
names = [l.strip() for l in open(os.path.join(out, 'manifest.txt')) if l.strip()]
with fits.open(os.path.join(out, 'out.fits')) as f:
    f.verify('exception')
    assert len(f) == len(names), len(f)
    for i, (hdu, name) in enumerate(zip(f, names)):
        raw = open(os.path.join(out, 'a%d.raw' % i), 'rb').read()
        d = np.ascontiguousarray(hdu.data)
        assert d.dtype.name == name, (i, d.dtype, name)
        assert d.astype(d.dtype.newbyteorder('<')).tobytes() == raw, i
        assert hdu.header['OBJECT'] == 'm51' and hdu.header['EXPTIME'] == 12.5, i
        assert hdu.header.comments['EXPTIME'] == 'seconds'
        assert hdu.header['NCOMBINE'] == 3 and hdu.header['FLAT'] is True
        assert 'made by imio' in str(hdu.header['COMMENT'])
with fits.open(os.path.join(out, 'stream.fits')) as f:
    assert f[0].data.dtype.name == 'int16'
print('ok')
)PY";
  std::string log;
  CHECK(run_python(dir, script, log) == 0);
  INFO(log);
  CHECK(contains(log, "ok"));
  // and the header comes back as metadata
  const imio::Metadata meta = imio::immeta(dir / "out.fits", {.index = 1});
  CHECK(meta.get<std::string>("OBJECT") == "m51");
  CHECK(meta.get<double>("EXPTIME") == 12.5);
  CHECK(meta.at("comments").get<imio::Dict>().at("EXPTIME").get<std::string>() == "seconds");
  for (std::size_t i = 0; i < arrays.size(); ++i) CHECK(imio::imread(dir / "out.fits", {.index = i}) == arrays[i]);
  // dtypes FITS cannot hold
  const NDArray b({2, 2}, DType::bool_);
  CHECK_THROWS_AS(imio::imwrite(dir / "b.fits", b), imio::ArgumentError);
  CHECK_FALSE(fs::exists(dir / "b.fits"));
}

TEST_CASE("fits: damaged files are clean errors within a second, and nothing is printed", "[fits][hostile]") {
  // a valid file made by imio, then cut and corrupted
  NDArray a({64, 64}, DType::int16);
  for (std::size_t i = 0; i < a.size(); ++i) a.values<std::int16_t>()[i] = static_cast<std::int16_t>(i * 7);
  const Bytes good = *imio::imwrite("<bytes>", a, {.extension = ".fits"});
  CHECK(imio::imread(good) == a);
  const auto start = std::chrono::steady_clock::now();
  // the header (2880 bytes) and the data (8192 bytes); the padding after them may be missing
  for (std::size_t n = 0; n < 2880 + 8192; n += 331) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      imio::imread(cut, {.plugin = "fits"});
      FAIL("a truncated FITS file of " << n << " bytes was read");
    } catch (const imio::DecodeError&) {
    } catch (const imio::NoPluginError&) {
    }
  }
  // NAXIS lying: a huge image in a small file
  std::string text = imio_test::to_string(good);
  const std::size_t at = text.find("NAXIS1  =");
  REQUIRE(at != std::string::npos);
  text.replace(at + 10, 20, "          1000000000");
  const auto msg = message_of<imio::DecodeError>([&] { imio::imread(imio_test::to_bytes(text)); });
  CHECK(contains(msg, "truncated"));
  std::mt19937 rng(1);
  for (int trial = 0; trial < 300; ++trial) {
    Bytes bad = good;
    for (int k = 0; k < 3; ++k) bad[rng() % 2880] = static_cast<std::byte>(rng() & 0xFF);
    try {
      imio::improps(bad, {.plugin = "fits"});
      imio::imread(bad, {.plugin = "fits"});
      imio::immeta(bad, {.plugin = "fits"});
    } catch (const imio::Error&) {
    }
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(10)));
}

TEST_CASE("fits: the corpus files follow imageio's FITS plugin", "[fits][corpus]") {
  IMIO_CORPUS_OR_SKIP(path, "scientific/multi.fits");
  CHECK(imio::improps(path) == imio::ImageProperties{.shape = {288, 132}, .dtype = DType::uint16});
  CHECK(imio::improps(path, {.index = imio::all, .plugin = "FITS"}).shape == Shape{3, 288, 132});
  CHECK(imio::immeta(path, {.index = 2}).get<std::string>("EXTNAME") == "SCI");
}
