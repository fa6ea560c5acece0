// The libjpeg plugin: decoding the corpus (jpeg/, corrupt/, synthetic/),
// EXIF orientation, Pillow's mode conversions, kwargs and index rules,
// metadata (spec §5.1.8, D17), and writes read back by Pillow when the
// system Python has it.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/registry.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <streambuf>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "python_oracle.hpp"
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
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

fs::path corpus(const std::string& sub) {
  const fs::path root = imio_test::corpus_dir();
  return root.empty() ? fs::path() : root / sub;
}

#define SKIP_WITHOUT_CORPUS(dir)                                                  \
  if ((dir).empty() || !fs::exists(dir)) {                                        \
    WARN("corpus folder " << (dir).string() << " absent: test skipped");          \
    return;                                                                       \
  }

bool has_jpeg_signature(const fs::path& p) {
  const Bytes b = read_file(p);
  return b.size() >= 3 && b[0] == std::byte{0xFF} && b[1] == std::byte{0xD8} && b[2] == std::byte{0xFF};
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

imio::ReadOptions jpeg(imio::Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libjpeg", .kwargs = std::move(kwargs)};
}

// Collects warnings for the duration of a test (nothing may reach stderr).
struct WarningLog {
  std::mutex m;
  std::vector<std::string> lines;
  imio::WarningHandler previous;
  WarningLog() {
    previous = imio::set_warning_handler([this](std::string_view s, std::string_view msg) {
      std::lock_guard lock(m);
      lines.push_back(std::string(s) + ": " + std::string(msg));
    });
  }
  ~WarningLog() { imio::set_warning_handler(previous); }
};

double mean_abs_diff(const NDArray& a, const NDArray& b) {
  REQUIRE(a.shape() == b.shape());
  const auto* x = a.data<std::uint8_t>();
  const auto* y = b.data<std::uint8_t>();
  const std::size_t n = a.size();  // once: NDArray::size multiplies the shape, slow in sanitizer builds at -O0
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::abs(int(x[i]) - int(y[i]));
  return sum / static_cast<double>(n);
}

NDArray gradient(std::size_t h, std::size_t w, std::size_t c) {
  Shape shape{h, w};
  if (c > 1) shape.push_back(c);
  NDArray a(shape, DType::uint8);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t k = 0; k < c; ++k) p[(y * w + x) * c + k] = static_cast<std::uint8_t>(x * 120 / w + y * 100 / h + k * 30);
  return a;
}

// ---------------------------------------------------------------- Pillow

using imio_test::python;
using imio_test::run_python;
bool pillow_available() { return imio_test::python_has("PIL.Image"); }

}  // namespace

// ---------------------------------------------------------------- corpus

// libjpeg-turbo 3.0 decodes lossless JPEG, and 12-bit and 16-bit data
// through its jpeg12_/jpeg16_ functions (ChangeLog, 3.0 beta2): the refusals
// below are those of 2.x. The plugin's backend string names the version.
static bool libjpeg_turbo_before_3() {
  for (const imio::PluginInfo& p : imio::plugins()) {
    if (p.name == "libjpeg") return p.backend.rfind("libjpeg-turbo 2.", 0) == 0 || p.backend.rfind("libjpeg-turbo 1.", 0) == 0;
  }
  return true;
}

TEST_CASE("libjpeg: every file of corpus/jpeg decodes, or says why libjpeg-turbo cannot", "[libjpeg][corpus]") {
  const fs::path dir = corpus("jpeg");
  SKIP_WITHOUT_CORPUS(dir);
  const bool turbo2 = libjpeg_turbo_before_3();
  WarningLog log;
  int decoded = 0, refused = 0;
  for (const fs::path& p : files_under(dir)) {
    if (!has_jpeg_signature(p)) continue;
    INFO(p.string());
    const std::string name = p.string();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const NDArray a = imio::imread(p, jpeg());
      const imio::ImageProperties props = imio::improps(p, jpeg());
      CHECK(props.shape == a.shape());  // D11
      CHECK(a.dtype() == DType::uint8);
      ++decoded;
    } catch (const imio::DecodeError& e) {
      const std::string what = e.what();
      INFO(what);
      ++refused;
      if (contains(name, "/12bit/") || contains(name, "12.jpg") || contains(name, "LJPGT-PT-23-01")) {
        CHECK(contains(what, "12-bit"));
        CHECK(contains(what, turbo2 ? "libjpeg-turbo 2." : "libjpeg-turbo "));
      } else if (contains(name, "/lossless/")) {
        // libjpeg-turbo 3 decodes 8-bit lossless files; those it refuses, it refuses for its own reason.
        if (turbo2) {
          CHECK(contains(what, "lossless"));
          CHECK(contains(what, "libjpeg-turbo 2."));
        }
      } else {
        CHECK(contains(name, "8x8_420_tables.jpg"));  // an abbreviated (tables-only) stream: no image
        CHECK(contains(what, "no image"));
      }
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(imio_test::time_bound(1)));
  }
  CHECK(decoded >= 85);
  CHECK(refused <= 80);
}

TEST_CASE("libjpeg: every JPEG in corpus/corrupt fails with an imio error within a second", "[libjpeg][corpus]") {
  const fs::path dir = corpus("corrupt");
  SKIP_WITHOUT_CORPUS(dir);
  WarningLog log;
  int failed = 0;
  for (const fs::path& p : files_under(dir)) {
    if (!has_jpeg_signature(p)) continue;
    INFO(p.string());
    const auto t0 = std::chrono::steady_clock::now();
    try {
      (void)imio::immeta(p, {.plugin = "libjpeg"});
      const NDArray a = imio::imread(p, jpeg());
      // Two seeds of the fuzzing campaigns are valid images (Pillow loads
      // them too); every other reproducer must fail.
      CHECK((contains(p.string(), "kitty2.jpg") || contains(p.string(), "id_000001_init")));
    } catch (const imio::DecodeError&) {
      ++failed;
    } catch (const imio::LimitError&) {
      ++failed;
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(imio_test::time_bound(1)));
  }
  CHECK(failed >= 30);
}

TEST_CASE("libjpeg: truncated, bad Huffman and SOI-only files are DecodeErrors, never gray padding", "[libjpeg]") {
  const fs::path dir = corpus("synthetic");
  SKIP_WITHOUT_CORPUS(dir);
  WarningLog log;
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(dir / "jpeg_truncated.jpg"); }), "truncated"));
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(dir / "jpeg_bad_huffman.jpg"); }), "corrupt JPEG data"));
  CHECK_THROWS_AS(imio::imread(dir / "jpeg_soi_only.jpg"), imio::DecodeError);
  // improps agrees with imread (D11; issue #17): the cut is found by walking
  // the markers, without decoding; with strict=false both describe the pixels.
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::improps(dir / "jpeg_truncated.jpg"); }), "truncated"));
  CHECK(imio::improps(dir / "jpeg_truncated.jpg", {.kwargs = {{"strict", false}}}).shape == Shape{48, 64, 3});
  CHECK(imio::imread(dir / "jpeg_truncated.jpg", {.kwargs = {{"strict", false}}}).shape() == Shape{48, 64, 3});
  // immeta reads the header, which is intact.
  CHECK(imio::immeta(dir / "jpeg_truncated.jpg").get<std::string>("mode") == "RGB");
  // A JPEG cut in the middle of its scan, made here from a valid file.
  const Bytes whole = imio::imwrite("<bytes>", gradient(64, 64, 3), {.extension = ".jpg"}).value();
  const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() * 2 / 3));
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut); }), "truncated"));
}

// Each thread keeps its libjpeg decompressors between calls (issue #26
// item 5, jpeg_abort_decompress): whatever the calls before it did — fail,
// warn, crop, scale, decode progressively — a read equals the same read by
// a thread that never decoded before.
TEST_CASE("libjpeg: a read after failed, cropped and scaled reads equals a first read", "[libjpeg]") {
  const Bytes plain = imio::imwrite("<bytes>", gradient(67, 93, 3), {.extension = ".jpg"}).value();
  const Bytes progressive =
      imio::imwrite("<bytes>", gradient(40, 50, 3), {.extension = ".jpg", .kwargs = {{"progressive", true}, {"subsampling", "4:4:4"}}})
          .value();
  const Bytes gray = imio::imwrite("<bytes>", gradient(33, 21, 1), {.extension = ".jpg"}).value();
  const Bytes cut(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(plain.size() * 9 / 10));  // in the scan
  std::vector<NDArray> first;
  std::thread([&] {
    for (const Bytes* b : {&plain, &progressive, &gray}) first.push_back(imio::imread(*b));
    first.push_back(imio::imread(plain, jpeg({{"scale", 0.5}})));
  }).join();
  REQUIRE(first.size() == 4);
  WarningLog log;
  for (int round = 0; round < 3; ++round) {
    CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut); }), "truncated"));
    CHECK(imio::imread(cut, jpeg({{"strict", false}})).shape() == Shape{67, 93, 3});
    CHECK(imio::imread(progressive, jpeg({{"crop", imio::Value{std::int64_t{3}, std::int64_t{5}, std::int64_t{30}, std::int64_t{27}}}})).shape() == Shape{22, 27, 3});
    CHECK(imio::imread(plain, jpeg({{"scale", 0.25}, {"mode", "L"}})).shape() == Shape{17, 24});
    CHECK(imio::imread(plain) == first[0]);
    CHECK(imio::imread(progressive) == first[1]);
    CHECK(imio::imread(gray) == first[2]);
    CHECK(imio::imread(plain, jpeg({{"scale", 0.5}})) == first[3]);
  }
  CHECK_FALSE(log.lines.empty());  // strict=false passed libjpeg's warnings on
}

TEST_CASE("libjpeg: the 8 EXIF orientations come out upright and alike with rotate=true", "[libjpeg][corpus]") {
  const fs::path dir = corpus("jpeg/exif-orientation-examples");
  SKIP_WITHOUT_CORPUS(dir);
  for (const std::string kind : {"Landscape", "Portrait"}) {
    const NDArray ref = imio::imread(dir / (kind + "_1.jpg"), jpeg({{"rotate", true}}));
    // The test can tell orientations apart: the unrotated mirror image is far off.
    CHECK(mean_abs_diff(imio::imread(dir / (kind + "_2.jpg")), ref) > 20.0);
    const Shape upright = kind == "Landscape" ? Shape{1200, 1800, 3} : Shape{1800, 1200, 3};
    CHECK(ref.shape() == upright);
    for (int k = 2; k <= 8; ++k) {
      const fs::path p = dir / (kind + "_" + std::to_string(k) + ".jpg");
      INFO(p.string());
      const NDArray a = imio::imread(p, jpeg({{"rotate", true}}));
      REQUIRE(a.shape() == upright);
      CHECK(mean_abs_diff(a, ref) < 6.0);  // identical up to JPEG noise (each file is encoded separately)
      CHECK(imio::improps(p, jpeg({{"rotate", true}})).shape == upright);
      const NDArray raw = imio::imread(p, jpeg());
      if (k >= 5) CHECK(raw.shape() == Shape{upright[1], upright[0], 3});
    }
  }
}

TEST_CASE("libjpeg: index semantics (spec §4.2, D9)", "[libjpeg]") {
  const Bytes file = imio::imwrite("<bytes>", gradient(10, 12, 3), {.extension = ".jpg"}).value();
  CHECK(imio::imread(file).shape() == Shape{10, 12, 3});
  CHECK(imio::imread(file, jpeg({}, 0)).shape() == Shape{10, 12, 3});
  CHECK(imio::imread(file, jpeg({}, imio::all)).shape() == Shape{1, 10, 12, 3});
  const auto props = imio::improps(file, jpeg({}, imio::all));
  CHECK(props.shape == Shape{1, 10, 12, 3});
  CHECK(props.n_images == std::optional<std::size_t>(1));
  CHECK(props.is_batch);
  CHECK_THROWS_AS(imio::imread(file, jpeg({}, 1)), imio::IndexError);
  CHECK_THROWS_AS(imio::improps(file, jpeg({}, 1)), imio::IndexError);
  CHECK_THROWS_AS(imio::immeta(file, {.index = 1, .plugin = "libjpeg"}), imio::IndexError);
  int n = 0;
  for (const NDArray& a : imio::imiter(file)) {
    CHECK(a.shape() == Shape{10, 12, 3});
    ++n;
  }
  CHECK(n == 1);
}

TEST_CASE("libjpeg: unknown kwargs are ArgumentErrors in every method (D10)", "[libjpeg]") {
  const Bytes file = imio::imwrite("<bytes>", gradient(8, 8, 3), {.extension = ".jpg"}).value();
  const imio::Kwargs bad{{"qualiti", 90}};
  CHECK(contains(message_of<imio::ArgumentError>([&] { imio::imread(file, jpeg(bad)); }), "qualiti"));
  CHECK_THROWS_AS(imio::improps(file, jpeg(bad)), imio::ArgumentError);
  CHECK_THROWS_AS(imio::immeta(file, {.plugin = "libjpeg", .kwargs = bad}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imiter(file, {.plugin = "libjpeg", .kwargs = bad}).begin(), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite("<bytes>", gradient(8, 8, 3), {.extension = ".jpg", .kwargs = bad}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"mode", "P"}})), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"scale", 0.3}})), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"pilmode", "L"}})), imio::ArgumentError);  // no deprecated aliases
  // Accepted as imageio accepts them.
  CHECK(imio::imread(file, jpeg({{"apply_gamma", true}, {"writeable_output", false}})).shape() == Shape{8, 8, 3});
}

TEST_CASE("libjpeg: mode conversions follow Pillow's rules", "[libjpeg]") {
  const NDArray rgb = imio::imread(imio::imwrite("<bytes>", gradient(16, 24, 3), {.extension = ".jpg"}).value());
  const Bytes file = imio::imwrite("<bytes>", gradient(16, 24, 3), {.extension = ".jpg"}).value();
  const NDArray l = imio::imread(file, jpeg({{"mode", "L"}}));
  REQUIRE(l.shape() == Shape{16, 24});
  const auto* p = rgb.data<std::uint8_t>();
  for (std::size_t i = 0; i < l.size(); ++i) {
    const unsigned want = (19595u * p[3 * i] + 38470u * p[3 * i + 1] + 7471u * p[3 * i + 2] + 0x8000u) >> 16;
    REQUIRE(l.data<std::uint8_t>()[i] == want);
  }
  const NDArray rgba = imio::imread(file, jpeg({{"mode", "RGBA"}}));
  REQUIRE(rgba.shape() == Shape{16, 24, 4});
  for (std::size_t i = 0; i < l.size(); ++i) {
    REQUIRE(rgba.data<std::uint8_t>()[4 * i] == p[3 * i]);
    REQUIRE(rgba.data<std::uint8_t>()[4 * i + 3] == 255);
  }
  const NDArray cmyk = imio::imread(file, jpeg({{"mode", "CMYK"}}));
  REQUIRE(cmyk.shape() == Shape{16, 24, 4});
  CHECK(cmyk.data<std::uint8_t>()[0] == 255 - p[0]);
  CHECK(cmyk.data<std::uint8_t>()[3] == 0);
  // Gray to RGB replicates.
  const Bytes gray = imio::imwrite("<bytes>", gradient(9, 7, 1), {.extension = ".jpg"}).value();
  const NDArray g = imio::imread(gray);
  const NDArray g3 = imio::imread(gray, jpeg({{"mode", "RGB"}}));
  REQUIRE(g3.shape() == Shape{9, 7, 3});
  for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(g3.data<std::uint8_t>()[3 * i + 2] == g.data<std::uint8_t>()[i]);
  CHECK(imio::improps(gray, jpeg({{"mode", "RGBA"}})).shape == Shape{9, 7, 4});
}

TEST_CASE("libjpeg: CMYK and its conversions equal Pillow's", "[libjpeg][pillow]") {
  const fs::path file = corpus("synthetic") / "jpeg_cmyk.jpg";
  SKIP_WITHOUT_CORPUS(file);
  if (!pillow_available()) {
    WARN("Pillow not available: Pillow comparison skipped");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  const std::string script = "import sys\nfrom PIL import Image\nim = Image.open('" + file.string() +
                             "')\nfor m in ('CMYK', 'RGB', 'L', 'RGBA'):\n    open(sys.argv[1] + '/' + m, 'wb').write("
                             "im.convert(m).tobytes())\n";
  REQUIRE(run_python(dir, script, log) == 0);
  for (const std::string mode : {"CMYK", "RGB", "L", "RGBA"}) {
    INFO(mode);
    const NDArray a = imio::imread(file, jpeg({{"mode", mode}}));
    const Bytes want = read_file(dir / mode);
    REQUIRE(a.nbytes() == want.size());
    CHECK(std::equal(want.begin(), want.end(), a.bytes()));
  }
}

// A small image is decoded through scratch rows placed off libjpeg-turbo's
// 32-byte alignment and copied, a large one straight into its array
// (jpeg_rows.hpp, kScratchDecodeLimit = 256 KiB of output): both sides of the
// limit, odd widths (rows of any length), gray and RGB, and the same file
// again in one thread (scratch reused by nothing stale) equal Pillow's pixels.
TEST_CASE("libjpeg: small and large images, either side of the scratch-row limit, equal Pillow's", "[libjpeg][pillow]") {
  if (!pillow_available()) {
    WARN("Pillow not available: Pillow comparison skipped");
    return;
  }
  struct Case {
    const char* name;
    std::size_t h, w, c;
  };
  const std::vector<Case> cases{
      {"tiny", 1, 1, 3},           {"odd", 17, 33, 3},        {"small", 64, 64, 3},
      {"below", 291, 300, 3},      // 261,900 bytes: scratch rows
      {"above", 292, 300, 3},      // 262,800 bytes: straight into the array
      {"gray_at", 512, 512, 1},    // 262,144 bytes, the limit itself: scratch rows
      {"gray_above", 437, 600, 1}  // 262,200 bytes
  };
  imio_test::TempDir dir;
  std::mt19937 rng(26);
  for (const Case& k : cases) {
    NDArray a = gradient(k.h, k.w, k.c);
    auto* p = a.data<std::uint8_t>();
    for (std::size_t i = 0; i < a.size(); i += 7) p[i] = static_cast<std::uint8_t>(rng());  // detail for every block
    imio::imwrite(dir / (std::string(k.name) + ".jpg"), a, {.kwargs = {{"quality", 90}}});
  }
  std::string log;
  const std::string script =
      "import sys, glob\nfrom PIL import Image\nfor f in glob.glob(sys.argv[1] + '/*.jpg'):\n"
      "    open(f[:-4] + '.raw', 'wb').write(Image.open(f).tobytes())\n";
  REQUIRE(run_python(dir, script, log) == 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (const Case& k : cases) {
      INFO(k.name << " pass " << pass);
      const NDArray got = imio::imread(dir / (std::string(k.name) + ".jpg"));
      CHECK(got.shape() == (k.c == 1 ? Shape{k.h, k.w} : Shape{k.h, k.w, k.c}));
      const Bytes want = read_file(dir / (std::string(k.name) + ".raw"));
      REQUIRE(got.nbytes() == want.size());
      CHECK(std::equal(want.begin(), want.end(), got.bytes()));
    }
  }
}

TEST_CASE("libjpeg: scale uses libjpeg's DCT scaling and improps agrees", "[libjpeg]") {
  const Bytes file = imio::imwrite("<bytes>", gradient(101, 203, 3), {.extension = ".jpg"}).value();
  for (const auto& [scale, denom] : std::vector<std::pair<imio::Value, std::size_t>>{
           {1, 1}, {0.5, 2}, {0.25, 4}, {0.125, 8}, {"1/4", 4}}) {
    const NDArray a = imio::imread(file, jpeg({{"scale", scale}}));
    const Shape want{(101 + denom - 1) / denom, (203 + denom - 1) / denom, 3};
    CHECK(a.shape() == want);
    CHECK(imio::improps(file, jpeg({{"scale", scale}, {"mode", "L"}})).shape == Shape{want[0], want[1]});
    CHECK(imio::imread(file, jpeg({{"scale", scale}, {"mode", "L"}})).shape() == Shape{want[0], want[1]});
  }
}

TEST_CASE("libjpeg: metadata keys of spec §5.1.8 and Orientation per D17", "[libjpeg]") {
  const fs::path file = corpus("synthetic") / "jpeg_exif_orient6.jpg";
  SKIP_WITHOUT_CORPUS(file);
  const imio::Metadata plain = imio::immeta(file, {.plugin = "libjpeg"});
  CHECK(plain.get<std::int64_t>("Orientation") == 6);  // shown: the default read does not rotate
  CHECK(plain.get<std::string>("mode") == "RGB");
  CHECK(plain.contains("exif"));
  CHECK(plain.get<std::int64_t>("jfif") == 257);
  const imio::Metadata rotated = imio::immeta(file, {.plugin = "libjpeg", .kwargs = {{"rotate", true}}});
  CHECK_FALSE(rotated.contains("Orientation"));
  const imio::Metadata all =
      imio::immeta(file, {.plugin = "libjpeg", .exclude_applied = false, .kwargs = {{"rotate", true}}});
  CHECK(all.contains("Orientation"));

  // Written metadata come back: dpi, comment, ICC (several APP2 chunks), EXIF, progressive.
  Bytes icc(150000);
  for (std::size_t i = 0; i < icc.size(); ++i) icc[i] = static_cast<std::byte>(i * 7);
  // a tag table of no tags (ICC.1 §7.3): immeta parses the profile for its
  // description and refuses one whose table lies (docs/metadata.md)
  for (std::size_t i = 128; i < 132; ++i) icc[i] = std::byte{0};
  const Bytes exif_block = read_file(file);  // any bytes will do for the raw segment test below
  const Bytes out = imio::imwrite("<bytes>", gradient(20, 30, 3),
                                  {.extension = ".jpg",
                                   .kwargs = {{"dpi", imio::Value{300, 150}},
                                              {"comment", "hello"},
                                              {"icc_profile", icc},
                                              {"progressive", true}}})
                        .value();
  const imio::Metadata m = imio::immeta(out);
  CHECK(m.get<Bytes>("icc_profile") == icc);
  CHECK(m.get<std::string>("icc_description").empty());  // no 'desc' tag
  CHECK(m.get<Bytes>("comment") == to_bytes("hello"));
  CHECK(m.get<std::int64_t>("progressive") == 1);
  CHECK(m.get<std::int64_t>("jfif_unit") == 1);
  CHECK(m.at("dpi") == imio::Value{300, 150});
  CHECK(m.at("shape") == imio::Value{30, 20});
}

// ---------------------------------------------------------------- writing

TEST_CASE("libjpeg: bad writes are refused before the target is touched (D8)", "[libjpeg]") {
  imio_test::TempDir dir;
  const fs::path target = dir / "out.jpg";
  CHECK_THROWS_AS(imio::imwrite(target, gradient(8, 8, 4)), imio::ArgumentError);  // RGBA
  CHECK_THROWS_AS(imio::imwrite(target, gradient(8, 8, 2)), imio::ArgumentError);  // LA
  CHECK_THROWS_AS(imio::imwrite(target, NDArray(Shape{8, 8, 1}, DType::uint8)), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, NDArray(Shape{8, 8, 3}, DType::uint16)), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, NDArray(Shape{2, 8, 8, 3}, DType::uint8)), imio::ArgumentError);
  const NDArray two[] = {gradient(8, 8, 3), gradient(8, 8, 3)};
  CHECK(contains(message_of<imio::ArgumentError>([&] { imio::imwrite(target, std::span<const NDArray>(two)); }), "2 images"));
  CHECK_THROWS_AS(imio::imwrite(target, gradient(8, 8, 3), {.kwargs = {{"quality", 101}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, gradient(8, 8, 3), {.kwargs = {{"subsampling", "4:1:1"}}}), imio::ArgumentError);
  CHECK_FALSE(fs::exists(target));
  // A batch of one is that image.
  imio::imwrite(target, NDArray(Shape{1, 8, 8, 3}, DType::uint8));
  CHECK(imio::imread(target).shape() == Shape{8, 8, 3});
}

TEST_CASE("libjpeg: writes round-trip through imio and read back in Pillow", "[libjpeg][pillow]") {
  imio_test::TempDir dir;
  const NDArray rgb = gradient(48, 64, 3);
  const NDArray gray = gradient(33, 17, 1);
  NDArray cmyk = gradient(16, 16, 4);
  imio::imwrite(dir / "default.jpg", rgb);
  imio::imwrite(dir / "q95.jpg", rgb, {.kwargs = {{"quality", 95}, {"subsampling", "4:4:4"}, {"optimize", true}}});
  imio::imwrite(dir / "s422.jpg", rgb, {.kwargs = {{"subsampling", 1}}});
  imio::imwrite(dir / "gray.jpg", gray, {.kwargs = {{"comment", "a comment"}, {"dpi", imio::Value{72.4, 96}}}});
  imio::imwrite(dir / "cmyk.jpg", cmyk, {.kwargs = {{"mode", "CMYK"}, {"quality", 100}}});
  imio::imwrite(dir / "prog.jpg", rgb, {.kwargs = {{"progressive", true}}});

  CHECK(mean_abs_diff(imio::imread(dir / "default.jpg"), rgb) < 4.0);
  CHECK(mean_abs_diff(imio::imread(dir / "q95.jpg"), rgb) < 1.5);
  CHECK(mean_abs_diff(imio::imread(dir / "gray.jpg"), gray) < 4.0);
  CHECK(mean_abs_diff(imio::imread(dir / "cmyk.jpg"), cmyk) < 3.0);
  CHECK(imio::imread(dir / "prog.jpg") == imio::imread(dir / "default.jpg"));  // same coefficients, other order
  CHECK(fs::file_size(dir / "q95.jpg") > fs::file_size(dir / "default.jpg"));

  if (!pillow_available()) {
    WARN("Pillow not available: independent read-back skipped");
    return;
  }
  // Pillow decodes what imio wrote to the same pixels, with the same layout and markers.
  std::string log;
  const std::string script = R"(import sys, os
from PIL import Image, JpegImagePlugin
d = sys.argv[1]
for name in ('default', 'q95', 's422', 'gray', 'cmyk', 'prog'):
    im = Image.open(os.path.join(d, name + '.jpg'))
    im.load()
    open(os.path.join(d, name + '.raw'), 'wb').write(im.tobytes())
    print(name, im.mode, im.size[0], im.size[1], JpegImagePlugin.get_sampling(im),
          im.info.get('jfif_unit'), im.info.get('jfif_density'), im.info.get('progressive', 0), im.info.get('comment', b'').decode())
)";
  REQUIRE(run_python(dir, script, log) == 0);
  INFO(log);
  CHECK(contains(log, "default RGB 64 48 2 0 (1, 1) 0"));  // Pillow's defaults: 4:2:0, JFIF 1:1
  CHECK(contains(log, "q95 RGB 64 48 0 0 (1, 1) 0"));
  CHECK(contains(log, "s422 RGB 64 48 1 "));
  CHECK(contains(log, "gray L 17 33 -1 1 (72, 96) 0 a comment"));
  CHECK(contains(log, "cmyk CMYK 16 16 "));
  CHECK(contains(log, "prog RGB 64 48 2 0 (1, 1) 1"));
  for (const std::string name : {"default", "q95", "s422", "gray", "cmyk", "prog"}) {
    INFO(name);
    const NDArray a = imio::imread(dir / (name + ".jpg"));
    const Bytes raw = read_file(dir / (name + ".raw"));
    REQUIRE(raw.size() == a.nbytes());
    CHECK(std::equal(raw.begin(), raw.end(), a.bytes()));  // same libjpeg, same settings: bit-exact
  }
}

TEST_CASE("libjpeg: hostile dimensions are a LimitError before any allocation", "[libjpeg]") {
  Bytes file = imio::imwrite("<bytes>", gradient(16, 16, 3), {.extension = ".jpg"}).value();
  // Patch the SOF0 frame size to 65000 × 65000.
  bool patched = false;
  for (std::size_t i = 2; i + 9 < file.size(); ++i) {
    if (file[i] == std::byte{0xFF} && file[i + 1] == std::byte{0xC0}) {
      for (std::size_t k : {i + 5, i + 7}) {
        file[k] = std::byte{0xFD};
        file[k + 1] = std::byte{0xE8};
      }
      patched = true;
      break;
    }
  }
  REQUIRE(patched);
  CHECK(imio::improps(file).shape == Shape{65000, 65000, 3});
  CHECK_THROWS_AS(imio::imread(file), imio::LimitError);
  imio::Limits small{.max_pixels = 100};
  CHECK_THROWS_AS(imio::imread(imio::imwrite("<bytes>", gradient(16, 16, 3), {.extension = ".jpg"}).value(),
                               {.limits = small}),
                  imio::LimitError);
}

namespace {
// A stream buffer that accepts `room` bytes, then fails.
struct FullDisk : std::streambuf {
  std::size_t room;
  explicit FullDisk(std::size_t n) : room(n) {}
  std::streamsize xsputn(const char*, std::streamsize n) override {
    if (static_cast<std::size_t>(n) > room) return 0;
    room -= static_cast<std::size_t>(n);
    return n;
  }
  int_type overflow(int_type c) override { return room-- > 0 ? c : traits_type::eof(); }
};
}  // namespace

TEST_CASE("libjpeg: a failing sink is reported as the sink's error, carried across libjpeg", "[libjpeg]") {
  // Noise compresses badly: the output passes through several 256 KiB
  // buffers, so the failure happens inside libjpeg's empty_output_buffer.
  NDArray noise(Shape{1024, 1024, 3}, DType::uint8);
  std::minstd_rand rng(7);
  for (std::size_t i = 0; i < noise.nbytes(); ++i) noise.bytes()[i] = static_cast<std::byte>(rng() & 0xFF);
  for (const std::size_t room : {std::size_t{0}, std::size_t{300000}}) {
    FullDisk buf(room);
    std::ostream os(&buf);
    CHECK_THROWS_AS(imio::imwrite(os, noise, {.extension = ".jpg", .kwargs = {{"quality", 100}}}), imio::IOError);
  }
  FullDisk small(10);  // the failure in term_destination (jpeg_finish_compress)
  std::ostream os(&small);
  CHECK_THROWS_AS(imio::imwrite(os, gradient(16, 16, 3), {.extension = ".jpg"}), imio::IOError);
}

TEST_CASE("libjpeg: warnings go to the handler, never to stderr", "[libjpeg]") {
  // Extraneous bytes between two markers: libjpeg warns and decodes.
  const Bytes good = imio::imwrite("<bytes>", gradient(16, 16, 3), {.extension = ".jpg"}).value();
  Bytes file;
  bool inserted = false;
  for (std::size_t i = 0; i < good.size(); ++i) {
    if (!inserted && i > 2 && good[i] == std::byte{0xFF} && good[i + 1] == std::byte{0xDB}) {
      file.push_back(std::byte{0x00});
      file.push_back(std::byte{0x00});
      inserted = true;
    }
    file.push_back(good[i]);
  }
  REQUIRE(inserted);
  WarningLog log;
  CHECK(imio::imread(file) == imio::imread(good));
  REQUIRE(log.lines.size() == 1);
  CHECK(contains(log.lines[0], "libjpeg: Corrupt JPEG data: 2 extraneous bytes"));
}
