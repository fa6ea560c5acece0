// The libtiff plugin: series, pages and metadata of the corpus files as
// tifffile gives them; files written by imio read by tifffile and tiffinfo,
// files written by tifffile read by imio; damaged and hostile files.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "tiff_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::sample;


// A little-endian classic TIFF with one IFD: the entries (tag, type, count,
// value-or-offset) as given, then `tail` bytes at offset 8 + IFD size.
struct Field {
  std::uint16_t tag, type;
  std::uint32_t count, value;
};

Bytes tiny_tiff(std::vector<Field> fields, const Bytes& tail = {}, std::uint32_t next_ifd = 0) {
  Bytes out;
  auto put = [&](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
  };
  out.push_back(std::byte{'I'});
  out.push_back(std::byte{'I'});
  put(42, 2);
  put(8, 4);
  put(fields.size(), 2);
  for (const Field& f : fields) {
    put(f.tag, 2);
    put(f.type, 2);
    put(f.count, 4);
    put(f.value, 4);
  }
  put(next_ifd, 4);
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

// Offset where tiny_tiff puts `tail`.
std::uint32_t tail_offset(std::size_t n_fields) { return static_cast<std::uint32_t>(8 + 2 + 12 * n_fields + 4); }

// A gray 8-bit image of width × height whose single strip is `pixels`.
Bytes gray_tiff(std::uint32_t width, std::uint32_t height, const Bytes& pixels) {
  const std::uint32_t at = tail_offset(7);
  return tiny_tiff({{256, 4, 1, width},
                    {257, 4, 1, height},
                    {258, 3, 1, 8},
                    {262, 3, 1, 1},
                    {273, 4, 1, at},
                    {278, 4, 1, height},
                    {279, 4, 1, static_cast<std::uint32_t>(pixels.size())}},
                   pixels);
}

// Collects warnings for the scope.
struct Warnings {
  std::mutex mutex;
  std::vector<std::string> list;
  imio::WarningHandler previous;
  Warnings() {
    previous = imio::set_warning_handler([this](std::string_view, std::string_view m) {
      std::lock_guard lock(mutex);
      list.emplace_back(m);
    });
  }
  ~Warnings() { imio::set_warning_handler(previous); }
};

}  // namespace

// ---------------------------------------------------------------- reading the corpus

TEST_CASE("standard TIFFs: series, pages and improps as tifffile (spec 5.3.2, D11)") {
  const fs::path dir = imio_test::corpus_dir() / "standard";
  if (imio_test::corpus_dir().empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  const auto calcium = dir / "calcium_imaging.tif";
  NDArray stack = imio::imread(calcium);
  CHECK(stack.shape() == Shape{1000, 30, 40});
  CHECK(stack.dtype() == DType::uint16);
  CHECK(imio::improps(calcium).shape == stack.shape());
  NDArray last = imio::imread(calcium, {.kwargs = {{"page", 999}}});
  REQUIRE(last.shape() == Shape{30, 40});
  CHECK(std::memcmp(last.bytes(), stack.bytes() + 999 * last.nbytes(), last.nbytes()) == 0);
  CHECK_THROWS_AS(imio::imread(calcium, {.kwargs = {{"page", 1000}}}), imio::IndexError);
  CHECK_THROWS_AS(imio::imread(calcium, {.index = 1}), imio::IndexError);
  const auto all = imio::improps(calcium, {.index = imio::all, .kwargs = {{"page", imio::all}}});
  CHECK(all.shape == Shape{1000, 30, 40});
  CHECK(all.n_images == 1000u);

  const auto rgb = dir / "multipage_rgb.tif";
  CHECK(imio::imread(rgb).shape() == Shape{2, 3, 10, 10});
  CHECK(imio::imread(rgb, {.index = imio::all}).shape() == Shape{1, 2, 3, 10, 10});
  CHECK(imio::imread(rgb, {.kwargs = {{"page", 1}}}).shape() == Shape{3, 10, 10});
  // imageio crashes here; imio returns the page's shape (spec 5.3.6).
  CHECK(imio::improps(rgb, {.kwargs = {{"page", 1}}}).shape == Shape{3, 10, 10});
  const auto meta = imio::immeta(rgb);
  CHECK(meta.get<bool>("is_shaped"));
  CHECK(meta.get<std::string>("byteorder") == "<");
  const auto page = imio::immeta(rgb, {.index = 0});
  CHECK(page.get<std::string>("description") == "shape=(2,3,10,10)");
  CHECK(page.get<std::int64_t>("planar_configuration") == 2);
  CHECK(page.get<std::string>("datetime") == "2015-05-09T09:08:29");
  CHECK_FALSE(page.contains("resolution"));

  const auto multipage = dir / "multipage.tif";
  CHECK(imio::imread(multipage).shape() == Shape{2, 15, 10});
  const auto props = imio::improps(multipage);
  REQUIRE(props.spacing);
  CHECK(*props.spacing == std::vector<double>{72.0, 72.0});
}

TEST_CASE("the tiff/ corpus decodes like tifffile") {
  if (imio_test::corpus_dir().empty() || !imio_test::tifffile_available()) {
    WARN("corpus or python3-tifffile absent: skipped");
    return;
  }
  // tifffile reads each file it can decode into <name>.npy; imio must agree
  // on shape, dtype and every value. Files imio cannot decode must raise a
  // DecodeError (the codec is absent, or the data are damaged).
  imio_test::TempDir tmp;
  const std::vector<fs::path> files = imio_test::list_corpus_tiffs({"tiff"}, tmp);
  std::string log;
  const int rc = imio_test::run_python(tmp, R"(
import sys, os, numpy, tifffile, warnings, logging
logging.disable(logging.CRITICAL)
warnings.simplefilter('ignore')
d = sys.argv[1]
for i, f in enumerate(open(os.path.join(d, 'list.txt')).read().split('\n')):
    if not f: continue
    try:
        a = tifffile.imread(f)
    except Exception:
        continue
    if a.dtype.kind == 'c': continue  # complex: no imio dtype
    numpy.save(os.path.join(d, '%d.npy' % i), numpy.ascontiguousarray(a.astype(a.dtype.newbyteorder('='))))
)", log);
  REQUIRE(rc == 0);
  int compared = 0, errors = 0, skipped = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path ref = tmp / (std::to_string(i) + ".npy");
    INFO(files[i].string());
    NDArray got;
    try {
      got = imio::imread(files[i], {.plugin = "libtiff"});
    } catch (const imio::DecodeError&) {
      ++errors;
      continue;
    } catch (const imio::LimitError&) {
      ++errors;
      continue;
    }
    if (!fs::exists(ref)) {
      ++skipped;  // tifffile (without imagecodecs) cannot decode it
      continue;
    }
    const NDArray want = imio::imread(ref);
    // SubIFD trees are grouped differently by tifffile (imio reads the main chain only).
    if (files[i].filename() == "subsubifds.tif") continue;
    if (want.dtype() != got.dtype()) {
      ++skipped;  // e.g. tifffile's uint8 for 2/4-bit palette data widened differently
      continue;
    }
    CHECK(want.shape() == got.shape());
    if (want.shape() == got.shape()) CHECK(want == got);
    ++compared;
  }
  CHECK(compared > 140);
  WARN("tiff/ corpus: " << compared << " files equal to tifffile, " << errors << " DecodeErrors, " << skipped
                        << " not decodable by tifffile here");
}

// ---------------------------------------------------------------- writing

TEST_CASE("imio writes every dtype and layout; it reads back and tifffile agrees") {
  struct Case {
    std::string name;
    Shape shape;
    DType dtype;
    imio::Kwargs kwargs;
  };
  std::vector<Case> cases;
  const DType dtypes[] = {DType::bool_, DType::uint8,  DType::uint16, DType::uint32,  DType::uint64,  DType::int8,
                          DType::int16, DType::int32,  DType::int64,  DType::float16, DType::float32, DType::float64};
  for (const DType d : dtypes) {
    cases.push_back({"gray_" + std::string(imio::name(d)), {17, 23}, d, {}});
    cases.push_back({"stack_" + std::string(imio::name(d)), {3, 9, 5}, d, {}});
    if (d != DType::bool_) cases.push_back({"rgb_" + std::string(imio::name(d)), {6, 7, 3}, d, {}});
  }
  cases.push_back({"planar", {3, 12, 10}, DType::uint8, {}});
  cases.push_back({"rgba", {12, 10, 4}, DType::uint16, {}});
  cases.push_back({"two_samples", {8, 6, 2}, DType::uint8, {}});
  cases.push_back({"volume", {2, 3, 4, 5, 6}, DType::int16, {}});
  cases.push_back({"zlib_pred", {40, 33}, DType::uint16, {{"compression", "zlib"}, {"predictor", true}}});
  cases.push_back({"lzw_rgb", {40, 33, 3}, DType::uint8, {{"compression", "lzw"}, {"rowsperstrip", 7}}});
  cases.push_back({"packbits", {40, 33}, DType::int8, {{"compression", "packbits"}}});
  cases.push_back({"float_pred", {20, 31}, DType::float32, {{"compression", "zlib"}, {"predictor", "float"}}});
  cases.push_back({"tiled", {50, 70, 3}, DType::uint8, {{"tile", imio::Value::List{16, 32}}, {"compression", "zlib"}}});
  cases.push_back({"tiled_planar", {3, 50, 40}, DType::uint16, {{"tile", imio::Value::List{16, 16}}}});
  cases.push_back({"bool_tiled", {40, 37}, DType::bool_, {{"tile", imio::Value::List{16, 16}}}});
  cases.push_back({"zstd", {30, 30}, DType::float64, {{"compression", "zstd"}, {"compressionargs", imio::Dict{{"level", 5}}}}});
  cases.push_back({"bigtiff_be", {10, 11}, DType::uint16, {}});
  cases.push_back({"miniswhite", {10, 11}, DType::uint8, {{"photometric", "miniswhite"}}});

  imio_test::TempDir tmp;
  for (const Case& c : cases) {
    INFO(c.name);
    const NDArray a = sample(c.shape, c.dtype);
    const fs::path path = tmp / (c.name + ".tif");
    imio::imwrite(path, a, {.kwargs = c.kwargs});
    const NDArray back = imio::imread(path);
    CHECK(back == a);
    CHECK(imio::improps(path).shape == c.shape);
    imio::imwrite(tmp / (c.name + ".want.npy"), a);
  }
  // Constructor options through imopen: BigTIFF, big-endian.
  {
    const NDArray a = sample({10, 11}, DType::uint16);
    auto f = imio::imopen(tmp / "bigtiff_be.tif", "w", {.kwargs = {{"bigtiff", true}, {"byteorder", ">"}}});
    f.write(a);
    f.close();
    CHECK(imio::imread(tmp / "bigtiff_be.tif") == a);
    const auto meta = imio::immeta(tmp / "bigtiff_be.tif");
    CHECK(meta.get<std::string>("byteorder") == ">");
    CHECK(meta.get<bool>("is_bigtiff"));
  }
  if (!imio_test::tifffile_available()) {
    WARN("python3-tifffile absent: the independent reader was skipped");
    return;
  }
  std::string log;
  const int rc = imio_test::run_python(tmp, R"(
import sys, os, glob, numpy, tifffile
d = sys.argv[1]
bad = []
for f in sorted(glob.glob(os.path.join(d, '*.tif'))):
    want = numpy.load(f[:-4] + '.want.npy')
    try:
        got = tifffile.imread(f)
    except ValueError as e:  # LZW, JPEG, float predictor, ZSTD need imagecodecs
        if 'imagecodecs' in str(e): continue
        raise
    if got.shape != want.shape or got.dtype != want.dtype or not numpy.array_equal(got, want):
        bad.append('%s: %s %s vs %s %s' % (os.path.basename(f), got.shape, got.dtype, want.shape, want.dtype))
print('\n'.join(bad))
sys.exit(1 if bad else 0)
)", log);
  INFO(log);
  CHECK(rc == 0);
}

TEST_CASE("write options: series, description, resolution, ImageJ, compression codes") {
  imio_test::TempDir tmp;
  const NDArray a = sample({4, 25, 25, 3}, DType::uint8);
  const NDArray b = sample({25, 25, 3}, DType::uint8, 5);
  const NDArray c = sample({12, 7, 3}, DType::uint8, 6);
  // The "nightmare" file of spec 5.3.3: three series of different shapes.
  const fs::path nightmare = tmp / "nightmare.tif";
  const NDArray parts[] = {a.copy(), b.copy(), c.copy()};
  imio::imwrite(nightmare, std::span<const NDArray>(parts));
  CHECK(imio::imread(nightmare) == a);
  CHECK(imio::imread(nightmare, {.index = 2}) == c);
  CHECK_THROWS_AS(imio::imread(nightmare, {.index = imio::all}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(nightmare, {.kwargs = {{"page", 5}}}), imio::IndexError);
  CHECK(imio::imread(nightmare, {.index = imio::all, .kwargs = {{"page", 5}}}) == c);
  CHECK(imio::imread(nightmare, {.index = 0, .kwargs = {{"page", 3}}}).shape() == Shape{25, 25, 3});
  std::vector<NDArray> frames;
  for (auto&& f : imio::imiter(nightmare)) frames.push_back(std::move(f));
  REQUIRE(frames.size() == 3);
  CHECK(frames[1] == b);

  // is_batch: each element its own series.
  const fs::path batch = tmp / "batch.tif";
  imio::imwrite(batch, a, {.kwargs = {{"is_batch", true}}});
  CHECK(imio::imread(batch, {.index = imio::all}) == a);
  CHECK(imio::imread(batch, {.index = 3}).shape() == Shape{25, 25, 3});

  const fs::path tagged = tmp / "tagged.tif";
  imio::imwrite(tagged, b,
                {.kwargs = {{"software", "testsoftware"},
                            {"description", "test desc"},
                            {"datetime", "2018-08-06T15:35:05"},
                            {"resolution", imio::Value::List{100, imio::Value::List{1, 2}}},
                            {"compression", "zlib"}}});
  const auto meta = imio::immeta(tagged, {.index = 0});
  CHECK(meta.get<std::string>("software") == "testsoftware");
  CHECK(meta.get<std::string>("description") == "test desc");
  CHECK(meta.get<std::string>("datetime") == "2018-08-06T15:35:05");
  CHECK(meta.get<std::int64_t>("compression") == 8);
  CHECK(meta.get<std::int64_t>("resolution_unit") == 2);
  CHECK(imio::improps(tagged).spacing == std::vector<double>{100.0, 0.5});

  // A JSON metadata dict travels in the shape description.
  const fs::path shaped = tmp / "shaped.tif";
  const NDArray two = sample({2, 4, 5}, DType::uint8);
  imio::imwrite(shaped, two, {.kwargs = {{"metadata", imio::Dict{{"foo", "bar"}}}}});
  const auto file_meta = imio::immeta(shaped);
  CHECK(file_meta.get<std::string>("foo") == "bar");
  CHECK(file_meta.at("shape") == imio::Value(imio::Value::List{2, 4, 5}));
  CHECK(imio::immeta(shaped, {.index = 0}).get<std::string>("description") == R"({"foo": "bar", "shape": [2, 4, 5]})");
  CHECK(imio::immeta(shaped, {.index = 0}).get<std::string>("software") == "tifffile.py");

  // ImageJ hyperstack: (5, 2, 20, 10) → slices 5, channels 2.
  const fs::path ij = tmp / "ij.tif";
  const NDArray hyper = sample({5, 2, 20, 10}, DType::uint8);
  auto f = imio::imopen(ij, "w", {.kwargs = {{"imagej", true}}});
  f.write(hyper);
  f.close();
  const auto ij_meta = imio::immeta(ij);
  CHECK(ij_meta.get<bool>("is_imagej"));
  CHECK(ij_meta.get<std::int64_t>("images") == 10);
  CHECK(ij_meta.get<std::int64_t>("channels") == 2);
  CHECK(ij_meta.get<std::int64_t>("slices") == 5);
  CHECK(ij_meta.get<std::string>("mode") == "grayscale");
  CHECK(imio::imread(ij) == hyper);

  // JPEG: lossy, RGB stored as YCbCr and decoded back to RGB.
  const fs::path jpeg = tmp / "jpeg.tif";
  NDArray smooth({32, 48, 3}, DType::uint8);
  for (std::size_t i = 0; i < smooth.size(); ++i) smooth.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i / 3) % 48 * 5);
  imio::imwrite(jpeg, smooth, {.kwargs = {{"compression", "jpeg"}}});
  const NDArray jback = imio::imread(jpeg);
  REQUIRE(jback.shape() == smooth.shape());
  double err = 0;
  for (std::size_t i = 0; i < smooth.size(); ++i) err += std::abs(int(jback.data<std::uint8_t>()[i]) - int(smooth.data<std::uint8_t>()[i]));
  CHECK(err / static_cast<double>(smooth.size()) < 4.0);

  if (std::system("tiffinfo -h >/dev/null 2>&1") != 256 && std::system("command -v tiffinfo >/dev/null 2>&1") != 0) {
    WARN("tiffinfo absent: skipped");
    return;
  }
  const std::string cmd = "tiffinfo '" + tagged.string() + "' > '" + (tmp / "info.txt").string() + "' 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string info = imio_test::to_string(imio_test::read_file(tmp / "info.txt"));
  INFO(info);
  CHECK(contains(info, "AdobeDeflate"));
  CHECK(contains(info, "testsoftware"));
  CHECK(contains(info, "2018:08:06 15:35:05"));
  CHECK(contains(info, "Resolution: 100, 0.5 pixels/inch"));
}

TEST_CASE("extrasamples: gray + alpha takes the trailing axis; a count that does not fit is refused") {
  imio_test::TempDir tmp;
  const NDArray la = sample({9, 13, 2}, DType::uint8);
  imio::imwrite(tmp / "la.tif", la, {.kwargs = {{"photometric", "minisblack"}, {"extrasamples", imio::Value::List{2}}}});
  CHECK(imio::imread(tmp / "la.tif") == la);
  const auto meta = imio::immeta(tmp / "la.tif", {.index = 0});
  CHECK(meta.get<std::int64_t>("SamplesPerPixel") == 2);
  // (9,13,5) gray with one extra sample: 5 samples per pixel cannot be 1 + 1.
  CHECK_THROWS_AS(imio::imwrite(tmp / "bad.tif", sample({9, 13, 5}, DType::uint8),
                                {.kwargs = {{"photometric", "minisblack"}, {"extrasamples", imio::Value::List{2}}}}),
                  imio::ArgumentError);
  CHECK_FALSE(fs::exists(tmp / "bad.tif"));
  CHECK_THROWS_AS(imio::imwrite(tmp / "bad.tif", sample({9, 13, 3}, DType::uint8),
                                {.kwargs = {{"extrasamples", imio::Value::List{2}}}}),
                  imio::ArgumentError);
}

TEST_CASE("files written by tifffile read back in imio") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir tmp;
  std::string log;
  const int rc = imio_test::run_python(tmp, R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(1)
def save(name, a, **kw):
    tifffile.imwrite(os.path.join(d, name + '.tif'), a, **kw)
    numpy.save(os.path.join(d, name + '.want.npy'), a.astype(a.dtype.newbyteorder('=')))
for dt in ['u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8', 'f2', 'f4', 'f8']:
    a = (rng.random((3, 21, 17)) * 100).astype(dt)
    save('plain_' + dt, a)
    save('be_' + dt, a, byteorder='>')
save('bool', rng.random((19, 13)) > 0.5)
a = rng.integers(0, 60000, (64, 80, 3)).astype('u2')
save('deflate_pred', a, compression='zlib', predictor=True, rowsperstrip=5)
save('zlib_tiled', a, compression='zlib', tile=(32, 48))
save('planar', numpy.ascontiguousarray(a.transpose(2, 0, 1)), photometric='rgb', planarconfig='separate', compression='zlib')
save('lzma', rng.random((40, 30)).astype('f4'), compression='lzma')
save('bigtiff', a, bigtiff=True)
save('imagej', rng.integers(0, 255, (3, 4, 20, 10)).astype('u1'), imagej=True)
save('small_stack', rng.integers(0, 255, (4, 3, 5)).astype('u1'))
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  int n = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    if (e.path().extension() != ".tif") continue;
    INFO(e.path().filename().string());
    const fs::path want_path = fs::path(e.path()).replace_extension(".want.npy");
    const NDArray want = imio::imread(want_path);
    const NDArray got = imio::imread(e.path());
    CHECK(got.shape() == want.shape());
    CHECK(got == want);
    CHECK(imio::improps(e.path()).shape == want.shape());
    ++n;
  }
  CHECK(n == 30);
}

// ---------------------------------------------------------------- threads and the fast path

TEST_CASE("compressed strips decode the same on one thread and on the pool") {
  imio_test::TempDir tmp;
  NDArray a({600, 700, 3}, DType::uint8);
  for (std::size_t i = 0; i < a.size(); ++i) a.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 7) ^ (i >> 9));
  const fs::path path = tmp / "big.tif";
  imio::imwrite(path, a, {.kwargs = {{"compression", "zlib"}, {"rowsperstrip", 16}}});
  CHECK(imio::imread(path, {.kwargs = {{"maxworkers", 1}}}) == a);
  CHECK(imio::imread(path, {.kwargs = {{"maxworkers", 4}}}) == a);
  const Bytes bytes = imio_test::read_file(path);
  CHECK(imio::imread(bytes, {.kwargs = {{"maxworkers", 3}}}) == a);  // memory source: decoded where it lies
}

// ---------------------------------------------------------------- bad input

TEST_CASE("damaged TIFFs fail with imio errors, promptly and silently") {
  Warnings warnings;  // libtiff's messages must reach the handler, never stderr
  // Truncated pixel data.
  Bytes pixels(100, std::byte{7});
  Bytes cut = gray_tiff(10, 10, pixels);
  cut.resize(cut.size() - 30);
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut); }), "truncated"));
  // Header only.
  const Bytes header = {std::byte{'I'}, std::byte{'I'}, std::byte{42}, std::byte{0}};
  CHECK_THROWS_AS(imio::imread(header, {.plugin = "libtiff"}), imio::DecodeError);
  // Not a TIFF at all, through the plugin's name.
  CHECK_THROWS_AS(imio::imread(imio_test::to_bytes("GIF89a........"), {.plugin = "libtiff"}), imio::NoPluginError);
  // An IFD chain that loops back to itself: one page and a warning.
  const Bytes loop = tiny_tiff({{256, 4, 1, 2}, {257, 4, 1, 1}, {258, 3, 1, 8}, {273, 4, 1, 0}, {279, 4, 1, 2}}, {}, 8);
  CHECK(imio::imread(loop).shape() == Shape{1, 2});
  CHECK_FALSE(warnings.list.empty());
  // Hostile sizes are a LimitError before any allocation.
  const Bytes huge = gray_tiff(1000000, 1000000, pixels);
  CHECK(contains(message_of<imio::LimitError>([&] { imio::imread(huge); }), "max_pixels"));
  CHECK(imio::improps(huge).shape == Shape{1000000, 1000000});  // properties decode nothing
  // Corrupt compressed data.
  imio_test::TempDir tmp;
  imio::imwrite(tmp / "z.tif", sample({64, 64}, DType::uint8), {.kwargs = {{"compression", "zlib"}}});
  Bytes z = imio_test::read_file(tmp / "z.tif");
  for (std::size_t i = 20; i < 200 && i < z.size(); ++i) z[i] = std::byte{0x55};
  CHECK_THROWS_AS(imio::imread(z), imio::Error);

  const fs::path corrupt = imio_test::corpus_dir() / "corrupt" / "image-tiff";
  if (imio_test::corpus_dir().empty()) {
    WARN("corpus absent: the corrupt/ files were skipped");
    return;
  }
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(corrupt)) {
    if (!e.is_regular_file()) continue;
    INFO(e.path().string());
    const auto start = std::chrono::steady_clock::now();
    try {
      imio::imread(e.path(), {.plugin = "libtiff"});
      imio::immeta(e.path(), {.index = 0, .plugin = "libtiff"});
    } catch (const imio::Error&) {
      // expected for nearly all of them
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
    ++n;
  }
  CHECK(n > 100);
}

TEST_CASE("a TIFF cut inside its header or first IFD is a DecodeError from imread and improps alike") {
  // Issue #17: such files read as an empty float64 (0,) array while improps raised.
  std::vector<std::pair<std::string, Bytes>> cases;
  const Bytes past = {std::byte{'I'}, std::byte{'I'}, std::byte{42}, std::byte{0},
                      std::byte{0x80}, std::byte{0x96}, std::byte{0x98}, std::byte{0}};  // first IFD at 10,000,000
  cases.emplace_back("II*\\0 and an IFD offset past the end", past);
  const fs::path multipage = imio_test::corpus_file("standard/multipage_rgb.tif");
  if (multipage.empty()) {
    WARN("corpus absent: standard/multipage_rgb.tif's cuts were skipped");
  } else {
    const Bytes whole = imio_test::read_file(multipage);
    for (const std::size_t n : {8, 16, 30, 60, 105, 200}) {
      cases.emplace_back("multipage_rgb.tif cut to " + std::to_string(n), Bytes(whole.begin(), whole.begin() + n));
    }
  }
  Bytes pixels(100, std::byte{7});
  const Bytes gray = gray_tiff(10, 10, pixels);
  cases.emplace_back("a 10x10 gray TIFF cut inside its IFD", Bytes(gray.begin(), gray.begin() + 20));
  for (const auto& c : cases) {
    INFO(c.first);
    const Bytes& bytes = c.second;  // a structured binding cannot be captured (clang 14)
    const std::string read = message_of<imio::DecodeError>([&] { imio::imread(bytes, {.plugin = "libtiff"}); });
    CHECK((contains(read, "truncated") || contains(read, "damaged")));
    CHECK(message_of<imio::DecodeError>([&] { imio::improps(bytes, {.plugin = "libtiff"}); }) == read);
  }
}

TEST_CASE("a TIFF whose pixel data are cut is a DecodeError from improps too (D11)") {
  Bytes pixels(100, std::byte{7});
  Bytes cut = gray_tiff(10, 10, pixels);
  cut.resize(cut.size() - 30);
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::improps(cut); }), "truncated"));
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut); }), "truncated"));
}

TEST_CASE("a TIFF whose header says it has no page reads as tifffile reads it, improps agreeing") {
  // First IFD offset 0: tifffile returns an empty float64 array; this is not damage.
  Warnings warnings;
  const Bytes none = {std::byte{'I'}, std::byte{'I'}, std::byte{42}, std::byte{0},
                      std::byte{0},   std::byte{0},   std::byte{0},  std::byte{0}};
  const NDArray a = imio::imread(none, {.plugin = "libtiff"});
  CHECK(a.shape() == Shape{0});
  CHECK(a.dtype() == DType::float64);
  const imio::ImageProperties p = imio::improps(none, {.plugin = "libtiff"});
  CHECK(p.shape == Shape{0});
  CHECK(p.dtype == DType::float64);
  CHECK_THROWS_AS(imio::imread(none, {.index = imio::all, .plugin = "libtiff"}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::improps(none, {.index = imio::all, .plugin = "libtiff"}), imio::ArgumentError);
}

TEST_CASE("arguments: unknown kwargs, page with key, D7 extensions") {
  imio_test::TempDir tmp;
  const NDArray a = sample({5, 6}, DType::uint8);
  const fs::path path = tmp / "a.tif";
  imio::imwrite(path, a);
  CHECK(contains(message_of<imio::ArgumentError>([&] { imio::imread(path, {.kwargs = {{"colour", 1}}}); }), "colour"));
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"page", 0}, {"key", 0}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(path, {.index = 0, .kwargs = {{"series", 0}}}), imio::ArgumentError);
  CHECK(imio::imread(path, {.kwargs = {{"series", 0}}}) == a);
  CHECK_THROWS_AS(imio::imwrite(path, a, {.kwargs = {{"compression", "nope"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(path, a, {.kwargs = {{"predictor", "float"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(path, sample({4, 4}, DType::uint16), {.kwargs = {{"compression", "jpeg"}}}),
                  imio::ArgumentError);
  CHECK(imio::imread(path) == a);  // failed writes left the file as it was
  // D7: an unknown extension is not silently a TIFF…
  CHECK_THROWS_AS(imio::imwrite(tmp / "a.unknownext", a), imio::NoPluginError);
  CHECK_FALSE(fs::exists(tmp / "a.unknownext"));
  // …but naming the plugin writes one anywhere.
  const auto bytes = imio::imwrite("<bytes>", a, {.plugin = "tifffile"});
  REQUIRE(bytes);
  CHECK(imio::imread(*bytes) == a);
}
