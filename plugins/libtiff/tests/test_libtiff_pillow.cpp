// TIFF read through imageio's `pillow` alias: Pillow 9.4's modes (the
// libtiff plugin's tiff_pillow), checked against the synthetic corpus
// goldens' facts and against Pillow itself (python3-pil) as the independent
// reader on the corpus and on files written in every layout.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "tiff_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;

const imio::ReadOptions kPillow{.plugin = "pillow"};

imio::ReadOptions pillow_at(imio::Index index) { return {.index = index, .plugin = "pillow"}; }

fs::path synthetic(const std::string& name) { return imio_test::corpus_dir() / "synthetic" / name; }


}  // namespace

TEST_CASE("pillow alias: the synthetic TIFFs in Pillow's modes (goldens of imread(plugin='pillow'))") {
  if (imio_test::corpus_dir().empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  // Same pixels as tifffile where Pillow's mode keeps them.
  for (const char* name : {"tiff_1bit.tif", "tiff_uint16.tif", "tiff_bigendian.tif", "tiff_float32.tif",
                           "tiff_uncompressed_rgb.tif", "tiff_rgba.tif", "tiff_tiled.tif", "tiff_bigtiff.tif"}) {
    INFO(name);
    CHECK(imio::imread(synthetic(name), kPillow) == imio::imread(synthetic(name)));
  }
  // LZW (golden of Pillow: the pixels of the uncompressed RGB file).
  CHECK(imio::imread(synthetic("tiff_lzw.tif"), kPillow) == imio::imread(synthetic("tiff_uncompressed_rgb.tif")));
  // MINISWHITE: Pillow's "L;I" inverts (golden min 0 max 234; tifffile 21…255).
  const NDArray white = imio::imread(synthetic("tiff_miniswhite.tif"), kPillow);
  const NDArray raw = imio::imread(synthetic("tiff_miniswhite.tif"));
  REQUIRE(white.shape() == Shape{6, 7});
  for (std::size_t i = 0; i < raw.size(); ++i) CHECK(white.data<std::uint8_t>()[i] == 255 - raw.data<std::uint8_t>()[i]);
  // int16 → Pillow's "I" (int32), same values.
  const NDArray i32 = imio::imread(synthetic("tiff_int16.tif"), kPillow);
  const NDArray i16 = imio::imread(synthetic("tiff_int16.tif"));
  REQUIRE(i32.dtype() == DType::int32);
  REQUIRE(i32.shape() == i16.shape());
  for (std::size_t i = 0; i < i16.size(); ++i) CHECK(i32.data<std::int32_t>()[i] == i16.data<std::int16_t>()[i]);
  // Planar → contiguous (H,W,S).
  const NDArray planar = imio::imread(synthetic("tiff_planar.tif"));
  const NDArray contig = imio::imread(synthetic("tiff_planar.tif"), kPillow);
  REQUIRE(planar.shape() == Shape{3, 10, 12});
  REQUIRE(contig.shape() == Shape{10, 12, 3});
  bool same = true;
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t p = 0; p < 120; ++p) same = same && contig.bytes()[p * 3 + c] == planar.bytes()[c * 120 + p];
  }
  CHECK(same);
  // Palette → RGB through the ColorMap (golden: (8,9,3) uint8, 30…225).
  const NDArray pal = imio::imread(synthetic("tiff_palette.tif"), kPillow);
  CHECK(pal.shape() == Shape{8, 9, 3});
  CHECK(imio::improps(synthetic("tiff_palette.tif"), kPillow).shape == Shape{8, 9, 3});
  // JPEG-in-TIFF → RGB; float64 has no Pillow mode (Pillow cannot open it).
  CHECK(imio::imread(synthetic("tiff_jpeg.tif"), kPillow).shape() == Shape{20, 24, 3});
  CHECK_THROWS_AS(imio::imread(synthetic("tiff_float64.tif"), kPillow), imio::NoPluginError);
  // Its first IFD offset points past the end: damage, not a file without pages.
  CHECK_THROWS_AS(imio::imread(synthetic("tiff_bad_ifd_offset.tif"), kPillow), imio::DecodeError);
  CHECK_THROWS_AS(imio::imread(synthetic("tiff_truncated.tif"), kPillow), imio::DecodeError);
}

TEST_CASE("pillow alias: pages, not series; improps equals imread (D11)") {
  if (imio_test::corpus_dir().empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  // An ImageJ stack of 5 pages: tifffile gives one (5,6,8) series, Pillow one page at a time.
  const fs::path ij = synthetic("tiff_imagej.tif");
  const NDArray series = imio::imread(ij);
  REQUIRE(series.shape() == Shape{5, 6, 8});
  for (std::int64_t k = 0; k < 5; ++k) {
    INFO(k);
    const NDArray page = imio::imread(ij, pillow_at(k));
    REQUIRE(page.shape() == Shape{6, 8});
    CHECK(std::memcmp(page.bytes(), series.bytes() + k * 48, 48) == 0);
  }
  CHECK(imio::imread(ij, kPillow) == imio::imread(ij, pillow_at(0)));
  CHECK(imio::imread(ij, pillow_at(imio::all)) == series);
  CHECK_THROWS_AS(imio::imread(ij, pillow_at(5)), imio::IndexError);
  const auto props = imio::improps(ij, pillow_at(imio::all));
  CHECK(props.shape == Shape{5, 6, 8});
  CHECK(props.is_batch);
  CHECK(props.n_images == 5u);
  CHECK(imio::improps(ij, kPillow).shape == Shape{6, 8});
  CHECK_FALSE(imio::improps(ij, kPillow).is_batch);
  CHECK_THROWS_AS(imio::improps(ij, pillow_at(5)), imio::IndexError);

  // Pages of different shapes: one at a time; stacking them is an error.
  const fs::path shapes = synthetic("tiff_multipage_shapes.tif");
  std::vector<Shape> seen;
  for (auto it = imio::imiter(shapes, {.plugin = "pillow"}); const NDArray& page : it) seen.push_back(page.shape());
  REQUIRE(seen.size() == 3);
  for (std::int64_t k = 0; k < 3; ++k) CHECK(imio::improps(shapes, pillow_at(k)).shape == seen[k]);
  CHECK_THROWS_AS(imio::imread(shapes, pillow_at(imio::all)), imio::ArgumentError);

  // kwargs: Pillow's read kwargs; `mode` and unknown ones are ArgumentErrors.
  const fs::path rgb = synthetic("tiff_uncompressed_rgb.tif");
  CHECK(imio::imread(rgb, {.plugin = "pillow", .kwargs = {{"rotate", true}, {"apply_gamma", false}}}).shape() ==
        Shape{20, 24, 3});
  CHECK_THROWS_AS(imio::imread(rgb, {.plugin = "pillow", .kwargs = {{"mode", "L"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(rgb, {.plugin = "pillow", .kwargs = {{"page", 0}}}), imio::ArgumentError);
  CHECK(imio::immeta(rgb, {.plugin = "pillow"}).contains("ImageWidth"));
}

TEST_CASE("pillow alias: conversions written by imio agree with Pillow (python3-pil)") {
  if (!imio_test::python_has("PIL, numpy, tifffile")) {
    WARN("python3-pil or python3-tifffile absent: the independent reader was skipped");
    return;
  }
  imio_test::TempDir tmp;
  struct Case {
    std::string name;
    Shape shape;
    DType dtype;
    imio::Kwargs kwargs;
  };
  const std::vector<Case> cases = {
      {"bool", {9, 13}, DType::bool_, {}},
      {"bool_white", {9, 13}, DType::bool_, {{"photometric", "miniswhite"}}},
      {"gray_white", {9, 13}, DType::uint8, {{"photometric", "miniswhite"}}},
      {"u16_white", {9, 13}, DType::uint16, {{"photometric", "miniswhite"}}},
      {"u16_be", {9, 13}, DType::uint16, {}},
      {"i16_be", {9, 13}, DType::int16, {}},
      {"u32", {9, 13}, DType::uint32, {}},
      {"i32", {9, 13}, DType::int32, {}},
      {"f32_be", {9, 13}, DType::float32, {}},
      {"rgb16", {9, 13, 3}, DType::uint16, {}},
      {"rgba16", {9, 13, 4}, DType::uint16, {}},
      {"rgba", {9, 13, 4}, DType::uint8, {}},
      {"rgba_assoc", {9, 13, 4}, DType::uint8, {{"extrasamples", imio::Value::List{1}}}},
      {"rgbx", {9, 13, 4}, DType::uint8, {{"extrasamples", imio::Value::List{0}}}},
      {"la_imio", {9, 13, 2}, DType::uint8, {{"photometric", "minisblack"}, {"extrasamples", imio::Value::List{2}}}},
      {"planar_rgb", {3, 9, 13}, DType::uint8, {{"photometric", "rgb"}, {"planarconfig", "separate"}}},
      {"cmyk", {9, 13, 4}, DType::uint8, {{"photometric", "separated"}}},
      {"palette", {9, 13}, DType::uint8, {{"photometric", "palette"}}},
      {"tiled_deflate", {40, 50, 3}, DType::uint8, {{"tile", imio::Value::List{16, 16}}, {"compression", "zlib"}}},
      {"stack", {3, 9, 13}, DType::uint8, {{"photometric", "minisblack"}}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const bool be = c.name.size() > 3 && c.name.substr(c.name.size() - 3) == "_be";
    const fs::path path = tmp / (c.name + ".tif");
    auto f = imio::imopen(path, "w", {.kwargs = be ? imio::Kwargs{{"byteorder", ">"}} : imio::Kwargs{}});
    f.write(imio_test::sample(c.shape, c.dtype), {.kwargs = c.kwargs});
    f.close();
  }
  std::string log;
  const int rc = imio_test::run_python(tmp, R"(
import sys, os, glob, numpy
from PIL import Image
d = sys.argv[1]
# Gray + alpha ("LA") as tifffile writes it.
import tifffile
tifffile.imwrite(os.path.join(d, 'la.tif'), numpy.arange(234, dtype=numpy.uint8).reshape(9, 13, 2),
                 photometric='minisblack', extrasamples=[2])
for f in sorted(glob.glob(os.path.join(d, '*.tif'))):
    base = f[:-4]
    try:
        im = Image.open(f)
        for k in range(getattr(im, 'n_frames', 1)):
            im.seek(k)
            page = im.convert(im.palette.mode) if im.mode == 'P' else im
            a = numpy.asarray(page)
            numpy.save('%s.%d.npy' % (base, k), numpy.ascontiguousarray(a.astype(a.dtype.newbyteorder('='))))
    except Exception as e:
        open(base + '.err', 'w').write(repr(e))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  int compared = 0;
  std::vector<Case> all = cases;
  all.push_back({"la", {9, 13, 2}, DType::uint8, {}});
  for (const Case& c : all) {
    INFO(c.name);
    const fs::path path = tmp / (c.name + ".tif");
    REQUIRE_FALSE(fs::exists(tmp / (c.name + ".err")));
    for (std::int64_t k = 0; fs::exists(tmp / (c.name + "." + std::to_string(k) + ".npy")); ++k) {
      INFO("page " << k);
      const NDArray want = imio::imread(tmp / (c.name + "." + std::to_string(k) + ".npy"));
      const NDArray got = imio::imread(path, pillow_at(k));
      CHECK(got.shape() == want.shape());
      CHECK(got.dtype() == want.dtype());
      CHECK(got == want);
      CHECK(imio::improps(path, pillow_at(k)).shape == want.shape());
      ++compared;
    }
  }
  CHECK(compared == static_cast<int>(all.size()) + 2);
}

TEST_CASE("pillow alias: the tiff/ and synthetic corpora agree with Pillow (python3-pil)") {
  if (imio_test::corpus_dir().empty() || !imio_test::python_has("PIL, numpy")) {
    WARN("corpus or python3-pil absent: skipped");
    return;
  }
  imio_test::TempDir tmp;
  const std::vector<fs::path> files = imio_test::list_corpus_tiffs({"tiff", "synthetic"}, tmp);
  std::string log;
  // Page 0 of each file Pillow opens and decodes, as imageio's pillow plugin returns it.
  const int rc = imio_test::run_python(tmp, R"(
import sys, os, numpy, warnings
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
warnings.simplefilter('ignore')
d = sys.argv[1]
for i, f in enumerate(open(os.path.join(d, 'list.txt')).read().split('\n')):
    if not f: continue
    try:
        im = Image.open(f)
        if im.format != 'TIFF': continue  # e.g. a JPEG named .tif: another plugin's file
        if im.mode == 'P': im = im.convert(im.palette.mode)
        a = numpy.asarray(im)
        if a.ndim < 2: continue
    except Exception:
        continue
    numpy.save(os.path.join(d, '%d.npy' % i), numpy.ascontiguousarray(a.astype(a.dtype.newbyteorder('='))))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  // The documented differences (README): Pillow converts YCbCr without JPEG
  // through libtiff's RGBA interface and reads SGI ImageDepth pages, imio
  // refuses both; Pillow 9.4 misreads 16-bit planar RGB (one byte per sample
  // from the plane's byte stream), imio keeps each sample's high byte.
  const std::vector<std::string> known = {"smallliz.tif", "zackthecat.tif", "ycbcr-cat.tif", "gray.depth.u1.tif",
                                          "gray.depth.deflate.u1.tif", "flower-rgb-planar-16.tif"};
  int compared = 0, differ = 0, refused = 0, known_seen = 0;
  std::string differences;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path ref = tmp / (std::to_string(i) + ".npy");
    if (!fs::exists(ref)) continue;
    INFO(files[i].string());
    if (std::find(known.begin(), known.end(), files[i].filename().string()) != known.end()) {
      ++known_seen;
      continue;
    }
    NDArray got;
    try {
      got = imio::imread(files[i], kPillow);
    } catch (const imio::Error& e) {
      // Pillow decodes it, imio does not: a difference to list.
      ++refused;
      differences += files[i].filename().string() + ": " + e.what() + "\n";
      continue;
    }
    const NDArray want = imio::imread(ref);
    if (got.shape() != want.shape() || got.dtype() != want.dtype() || !(got == want)) {
      ++differ;
      differences += files[i].filename().string() + ": " + std::string(imio::name(got.dtype())) + " vs " +
                     std::string(imio::name(want.dtype())) + "\n";
      continue;
    }
    ++compared;
  }
  INFO(differences);
  CHECK(compared > 100);
  CHECK(differ == 0);
  CHECK(refused == 0);
  CHECK(known_seen == static_cast<int>(known.size()));
}
