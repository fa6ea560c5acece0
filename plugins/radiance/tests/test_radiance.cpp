// The radiance plugin. Test files are made here, at test time: by OpenCV
// (cv2.imwrite, run-length coded and flat), by OpenImageIO, and by hand from
// RGBE bytes for the old run-length form and every scanline order. Reads
// are compared with cv2.imread and OpenImageIO; imio's files are read back
// by both.
#include <imio/imio.hpp>
#include <imio/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "stderr_capture.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "random_damage.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::contains;
using imio_test::StderrCapture;
using imio_test::read_file;
using imio_test::run_python;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

bool oracles_available() { return imio_test::python_has("cv2, OpenImageIO, numpy"); }

// <name>.hdr with <name>.cv.npy (cv2.imread, RGB) and <name>.oiio.npy
// (OpenImageIO), or <name>.want.npy for the hand-made files.
constexpr const char* kFixtures = R"PY(
import sys, os, numpy as np, cv2
import OpenImageIO as oiio
d = sys.argv[1]
rs = np.random.RandomState(5)
names = []

def radiance(h, w):
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([np.exp(np.sin(x * 0.2) * 6), np.exp(np.cos(y * 0.15) * 4) * 0.01, (x + y) * 0.5 + 1e-3], -1)
    a *= np.exp(rs.standard_normal((h, w, 1)) * 0.3)
    a[0, 0] = 0
    a[1, 1] = [1e-20, 0, 0]
    a[2, 2] = [3e30, 1, 0]
    a[3, 0:w // 2] = 7.25  # runs
    return a.astype(np.float32)

def oracle(name):
    f = f'{d}/{name}.hdr'
    np.save(f'{d}/{name}.cv.npy', cv2.imread(f, cv2.IMREAD_UNCHANGED)[..., ::-1].copy())
    inp = oiio.ImageInput.open(f)
    np.save(f'{d}/{name}.oiio.npy', inp.read_image('float'))
    names.append(name)

for name, (h, w) in {'cv_rle': (33, 47), 'cv_narrow': (9, 5), 'cv_wide': (4, 300)}.items():
    cv2.imwrite(f'{d}/{name}.hdr', radiance(h, w)[..., ::-1])
    oracle(name)
out = oiio.ImageOutput.create(f'{d}/oiio.hdr')
out.open(f'{d}/oiio.hdr', oiio.ImageSpec(40, 25, 3, 'float'))
out.write_image(radiance(25, 40))
out.close()
oracle('oiio')

# ---- hand-made: RGBE bytes in the eight scanline orders, flat and old RLE
h, w = 6, 11
rgbe = rs.randint(0, 256, (h, w, 4)).astype(np.uint8)
rgbe[..., 3] = rs.randint(100, 160, (h, w))
rgbe[0, 0, 3] = 0
want = np.where(rgbe[..., 3:] == 0, 0, rgbe[..., :3] * np.ldexp(1.0, rgbe[..., 3:].astype(np.int32) - 136)).astype(np.float32)
np.save(f'{d}/orient.want.npy', want)
orders = {  # resolution string: the scanlines as stored
    '-Y {h} +X {w}': rgbe, '+Y {h} +X {w}': rgbe[::-1], '-Y {h} -X {w}': rgbe[:, ::-1], '+Y {h} -X {w}': rgbe[::-1, ::-1],
    '+X {w} -Y {h}': rgbe.transpose(1, 0, 2), '+X {w} +Y {h}': rgbe[::-1].transpose(1, 0, 2),
    '-X {w} -Y {h}': rgbe[:, ::-1].transpose(1, 0, 2), '-X {w} +Y {h}': rgbe[::-1, ::-1].transpose(1, 0, 2)}
for k, (res, data) in enumerate(orders.items()):
    head = f'#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n{res.format(h=h, w=w)}\n'.encode()
    open(f'{d}/orient{k}.hdr', 'wb').write(head + np.ascontiguousarray(data).tobytes())
oracle('orient0')  # flat scanlines, as OpenCV and OpenImageIO read them
# old run-length form: (1,1,1,n) repeats the previous pixel; runs in a row shift by 8
row = [bytes([10, 20, 30, 130]), bytes([1, 1, 1, 4]), bytes([40, 50, 60, 129]), bytes([1, 1, 1, 1]), bytes([1, 1, 1, 1])]
old = b''.join(row) * 2  # two scanlines of 1 + 4 + 1 + (1 + 256) pixels
open(f'{d}/oldrle.hdr', 'wb').write(b'#?RGBE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 263\n' + old)
px = np.array([[10, 20, 30, 130]] * 5 + [[40, 50, 60, 129]] * 258, np.float64)
np.save(f'{d}/oldrle.want.npy', np.stack([(px[:, :3] * np.ldexp(1.0, px[:, 3:].astype(np.int32) - 136)).astype(np.float32)] * 2))
# header variables
open(f'{d}/vars.hdr', 'wb').write(b'#?RADIANCE\n# a comment\nEXPOSURE=2.0\nEXPOSURE=0.25\nCOLORCORR=1 2 4\n'
    b'PRIMARIES=0.64 0.33 0.29 0.60 0.15 0.06 0.3127 0.3290\nPIXASPECT=1.5\nSOFTWARE=hand made 1.0\nVIEW=-vtv -vp 0 0 0\n'
    b'FORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n' + bytes([128, 64, 32, 129, 0, 0, 0, 0]))
open(f'{d}/xyze.hdr', 'wb').write(b'#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n' + bytes([128, 128, 128, 128]))
open(f'{d}/names.txt', 'w').write('\n'.join(names))
print('fixtures ok')
)PY";

struct Fixtures {
  imio_test::TempDir dir;
  bool ok = false;
  std::string log;
};

Fixtures& fixtures() {
  static Fixtures f;
  static bool made = false;
  if (!made) {
    made = true;
    if (oracles_available()) f.ok = run_python(f.dir, kFixtures, f.log) == 0 && contains(f.log, "fixtures ok");
  }
  return f;
}

#define REQUIRE_FIXTURES(var)                                                                        \
  Fixtures& var = fixtures();                                                                        \
  if (!oracles_available()) {                                                                        \
    WARN("OpenCV's or OpenImageIO's Python bindings (python3-opencv, python3-openimageio) absent: skipped"); \
    return;                                                                                          \
  }                                                                                                  \
  INFO(var.log);                                                                                     \
  REQUIRE(var.ok)

bool same_bits(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

NDArray radiance_image(std::size_t h, std::size_t w, unsigned seed) {
  NDArray a({h, w, 3}, DType::float32);
  auto* p = a.data<float>();
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < h * w * 3; ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = std::exp(std::sin(static_cast<float>(i % (w * 3)) * 0.07f) * 8.0f) * static_cast<float>((x >> 16) + 1) / 65536.0f;
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(w, 9) * 3; ++i) p[3 * w * 3 / 3 + i] = 0.5f;  // a run
  return a;
}

}  // namespace

TEST_CASE("files written by OpenCV and OpenImageIO read exactly as both read them") {
  REQUIRE_FIXTURES(f);
  for (const std::string name : {"cv_rle", "cv_narrow", "cv_wide", "oiio", "orient0"}) {
    INFO(name);
    const fs::path file = f.dir / (name + ".hdr");
    const NDArray got = imio::imread(file);
    CHECK(got.dtype() == DType::float32);
    CHECK(same_bits(got, imio::imread(f.dir / (name + ".cv.npy"))));
    CHECK(same_bits(got, imio::imread(f.dir / (name + ".oiio.npy"))));
    const auto p = imio::improps(file);
    CHECK(p.shape == got.shape());
    CHECK(p.dtype == DType::float32);
    CHECK(imio::improps(file, {.index = imio::all}).shape == Shape{1, got.shape()[0], got.shape()[1], 3});
    CHECK(same_bits(imio::imread(file, {.index = imio::all}).reshaped(got.shape()), got));
    REQUIRE_THROWS_AS(imio::imread(file, {.index = 1}), imio::IndexError);
    std::size_t n = 0;
    for (const NDArray& frame : imio::imiter(file)) n += same_bits(frame, got) ? 1 : 0;
    CHECK(n == 1);
  }
}

TEST_CASE("the eight scanline orders and the old run-length form read in display order") {
  REQUIRE_FIXTURES(f);
  const NDArray want = imio::imread(f.dir / "orient.want.npy");
  const char* orders[] = {"-Y +X", "+Y +X", "-Y -X", "+Y -X", "+X -Y", "+X +Y", "-X -Y", "-X +Y"};
  for (int k = 0; k < 8; ++k) {
    INFO(orders[k]);
    const fs::path file = f.dir / ("orient" + std::to_string(k) + ".hdr");
    CHECK(same_bits(imio::imread(file), want));
    CHECK(imio::improps(file).shape == want.shape());
    CHECK(imio::immeta(file).get<std::string>("orientation") == orders[k]);
  }
  CHECK(same_bits(imio::imread(f.dir / "oldrle.hdr"), imio::imread(f.dir / "oldrle.want.npy")));
}

TEST_CASE("immeta: the header's variables; apply_exposure divides by EXPOSURE and COLORCORR") {
  REQUIRE_FIXTURES(f);
  const fs::path file = f.dir / "vars.hdr";
  const imio::Metadata m = imio::immeta(file);
  CHECK(m.get<std::string>("program") == "RADIANCE");
  CHECK(m.get<std::string>("format") == "32-bit_rle_rgbe");
  CHECK(m.get<double>("exposure") == 0.5);
  CHECK(m.at("colorcorr") == Value{1.0, 2.0, 4.0});
  CHECK(m.at("primaries") == Value{0.64, 0.33, 0.29, 0.60, 0.15, 0.06, 0.3127, 0.3290});
  CHECK(m.get<double>("pixaspect") == 1.5);
  CHECK(m.get<std::string>("software") == "hand made 1.0");
  CHECK(m.get<std::string>("view") == "-vtv -vp 0 0 0");
  CHECK(m.at("shape") == Value{2, 1});
  CHECK(m.at("header").ref<Value::List>().size() == 9);
  const NDArray raw = imio::imread(file);
  REQUIRE(raw.shape() == Shape{1, 2, 3});
  // 128, 64, 32 with exponent 129: 1.0, 0.5, 0.25
  CHECK(raw.data<float>()[0] == 1.0f);
  CHECK(raw.data<float>()[1] == 0.5f);
  CHECK(raw.data<float>()[2] == 0.25f);
  const NDArray radiance = imio::imread(file, {.kwargs = {{"apply_exposure", true}}});
  CHECK(radiance.data<float>()[0] == 2.0f);   // 1 / (0.5 × 1)
  CHECK(radiance.data<float>()[1] == 0.5f);   // 0.5 / (0.5 × 2)
  CHECK(radiance.data<float>()[2] == 0.125f);  // 0.25 / (0.5 × 4)
  CHECK(imio::immeta(f.dir / "xyze.hdr").get<std::string>("format") == "32-bit_rle_xyze");
  CHECK(imio::imread(f.dir / "xyze.hdr").shape() == Shape{1, 1, 3});
}

TEST_CASE("imio's files read back in OpenCV and OpenImageIO as imio reads them, within RGBE's precision of the source") {
  if (!oracles_available()) return;
  imio_test::TempDir dir;
  const NDArray src = radiance_image(37, 61, 3);
  struct Case {
    std::string name;
    imio::Kwargs kw;
    std::size_t w;
  };
  const Case cases[] = {{"rle", {}, 61}, {"flat", {{"rle", false}}, 61}, {"narrow", {}, 5}, {"wide", {}, 40000}};
  for (const Case& c : cases) {
    INFO(c.name);
    const NDArray image = c.w == 61 ? src.copy() : radiance_image(c.w == 5 ? 9 : 2, c.w, 7);
    const fs::path file = dir / (c.name + ".hdr");
    imio::imwrite(file, image, {.kwargs = c.kw});
    const NDArray back = imio::imread(file);
    REQUIRE(back.shape() == image.shape());
    // RGBE keeps 8 bits of mantissa for the largest component
    const float* a = image.data<float>();
    const float* b = back.data<float>();
    std::size_t far = 0;
    for (std::size_t i = 0; i < image.size(); i += 3) {
      const float m = std::max({a[i], a[i + 1], a[i + 2]});
      for (std::size_t k = 0; k < 3; ++k) far += std::abs(a[i + k] - b[i + k]) > m / 128.0f ? 1 : 0;
    }
    CHECK(far == 0);
    const std::string script = "import sys, numpy as np, cv2\nimport OpenImageIO as oiio\nf = sys.argv[1] + '/" + c.name +
                               ".hdr'\nnp.save(f + '.cv.npy', cv2.imread(f, cv2.IMREAD_UNCHANGED)[..., ::-1].copy())\n"
                               "np.save(f + '.oiio.npy', oiio.ImageInput.open(f).read_image('float'))\nprint('ok')\n";
    std::string log;
    REQUIRE(run_python(dir, script, log) == 0);
    CHECK(same_bits(back, imio::imread(fs::path(file.string() + ".cv.npy"))));
    CHECK(same_bits(back, imio::imread(fs::path(file.string() + ".oiio.npy"))));
  }
  // RLE makes the file smaller for an image with runs
  NDArray flat({64, 64, 3}, DType::float32);
  std::fill(flat.data<float>(), flat.data<float>() + flat.size(), 0.75f);
  CHECK(imio::imwrite("<bytes>", flat, {.extension = ".hdr"})->size() < 64 * 64);
  CHECK(imio::imwrite("<bytes>", flat, {.extension = ".hdr", .kwargs = {{"rle", false}}})->size() > 64 * 64 * 4);
}

TEST_CASE("write kwargs: header lines, gray, other float types; samples RGBE cannot hold are refused unless clip") {
  imio_test::TempDir dir;
  const fs::path file = dir / "k.hdr";
  imio::imwrite(file, radiance_image(4, 9, 1),
                {{"exposure", 0.5}, {"primaries", Value{0.7, 0.3, 0.2, 0.7, 0.1, 0.05, 0.32, 0.33}}, {"software", "tests"}, {"format", "xyze"}});
  const imio::Metadata m = imio::immeta(file);
  CHECK(m.get<double>("exposure") == 0.5);
  CHECK(m.at("primaries") == Value{0.7, 0.3, 0.2, 0.7, 0.1, 0.05, 0.32, 0.33});
  CHECK(m.get<std::string>("software") == "tests");
  CHECK(m.get<std::string>("format") == "32-bit_rle_xyze");
  // gray is written as R = G = B; float16 and float64 are converted
  NDArray gray({3, 10}, DType::float32);
  for (std::size_t i = 0; i < gray.size(); ++i) gray.data<float>()[i] = static_cast<float>(i) * 0.25f;
  imio::imwrite(file, gray);
  const NDArray g = imio::imread(file);
  REQUIRE(g.shape() == Shape{3, 10, 3});
  for (std::size_t i = 0; i < gray.size(); ++i) {
    CHECK(g.data<float>()[i * 3] == gray.data<float>()[i]);
    CHECK(g.data<float>()[i * 3 + 2] == gray.data<float>()[i]);
  }
  imio::imwrite(file, radiance_image(4, 9, 2).astype(DType::float64));
  CHECK(same_bits(imio::imread(file), [&] {
    imio::imwrite(dir / "f32.hdr", radiance_image(4, 9, 2));
    return imio::imread(dir / "f32.hdr");
  }()));
  write_file(file, to_bytes("previous"));
  NDArray bad = radiance_image(4, 9, 3);
  bad.data<float>()[7] = -1.0f;
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { imio::imwrite(file, bad); });
  CHECK(contains(msg, "clip"));
  bad.data<float>()[8] = std::numeric_limits<float>::quiet_NaN();
  bad.data<float>()[9] = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(imio::imwrite(file, bad), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(file, NDArray({4, 4, 4}, DType::float32)), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(file, NDArray({4, 4, 3}, DType::uint8)), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(file, radiance_image(2, 2, 1), {{"exposure", 0}}), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imwrite(file, radiance_image(2, 2, 1), {{"primaries", Value{1, 2}}}), imio::ArgumentError);
  CHECK(to_string(read_file(file)) == "previous");
  imio::imwrite(file, bad, {{"clip", true}});
  const NDArray clipped = imio::imread(file);
  CHECK(clipped.data<float>()[7] == 0.0f);
  CHECK(clipped.data<float>()[8] == 0.0f);
  CHECK(clipped.data<float>()[9] > 1e38f);
}

TEST_CASE(".hdr goes to radiance first; the signature finds it under any name") {
  imio_test::TempDir dir;
  imio::imwrite(dir / "a.hdr", radiance_image(5, 9, 1));
  fs::copy_file(dir / "a.hdr", dir / "a.bin");
  CHECK(same_bits(imio::imread(dir / "a.bin"), imio::imread(dir / "a.hdr")));
  CHECK(imio::imopen(dir / "a.hdr", "r").plugin_name() == "radiance");
  imio::imwrite(dir / "a.pic", radiance_image(5, 9, 1));
  CHECK(same_bits(imio::imread(dir / "a.pic"), imio::imread(dir / "a.hdr")));
  REQUIRE_THROWS_AS(imio::imread(dir / "a.hdr", {.kwargs = {{"mode", "RGB"}}}), imio::ArgumentError);
}

// ---------------------------------------------------------------- damaged and hostile input

TEST_CASE("truncated and damaged files raise DecodeError promptly and silently") {
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const Bytes files[] = {*imio::imwrite("<bytes>", radiance_image(20, 30, 1), {.extension = ".hdr"}),
                         *imio::imwrite("<bytes>", radiance_image(20, 30, 1), {.extension = ".hdr", .kwargs = {{"rle", false}}})};
  for (const Bytes& file : files) {
    for (std::size_t n = 3; n < file.size(); n += std::max<std::size_t>(1, file.size() / 113)) {
      INFO("cut to " << n << " of " << file.size());
      const Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(cut, {.extension = ".hdr"}); });
      CHECK(contains(msg, "radiance"));
      CHECK(contains(msg, "truncated"));
    }
  }
  const auto refused = [&](const std::string& text, const std::string& reason) {
    INFO(text.substr(0, 60));
    const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(to_bytes(text), {.extension = ".hdr"}); });
    CHECK(contains(msg, reason));
  };
  const std::string head = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n";
  refused("#?RADIANCE\nFORMAT=32-bit_rle_cmyk\n\n-Y 1 +X 1\n0000", "FORMAT");
  refused(head + "-Y 1 -Y 1\n0000", "resolution");
  refused(head + "+Z 1 +X 1\n0000", "resolution");
  refused(head + "-Y 0 +X 1\n0000", "resolution");
  refused("#?RADIANCE\nEXPOSURE=abc\n\n-Y 1 +X 1\n0000", "not a number");
  using namespace std::string_literals;  // the scanlines hold NUL bytes
  refused(head + "-Y 1 +X 8\n\x02\x02\x00\x09"s + std::string(40, '\x01'), "width");
  refused(head + "-Y 1 +X 8\n\x02\x02\x00\x08\xff\x01"s + std::string(40, '\x01'), "overruns");
  refused(head + "-Y 1 +X 8\n\x02\x02\x00\x08\x00"s + std::string(40, '\x01'), "length 0");
  refused(head + "-Y 1 +X 3\n\x01\x01\x01\x02" + std::string(8, '\x05'), "before the first pixel");
  refused(head + "-Y 1 +X 3\n\x05\x05\x05\x85\x01\x01\x01\x09", "overruns");
  // sizes: the pixel limit before any allocation, and scanlines the file cannot hold
  const std::string huge = head + "-Y 30000 +X 30000\n" + std::string(64, '\x01');
  REQUIRE_THROWS_AS(imio::imread(to_bytes(huge), {.extension = ".hdr"}), imio::LimitError);
  REQUIRE_THROWS_AS(imio::improps(to_bytes(huge), {.extension = ".hdr"}), imio::LimitError);
  const auto t0 = std::chrono::steady_clock::now();
  refused(head + "-Y 16000 +X 16000\n" + std::string(64, '\x01'), "truncated");
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
  CHECK(err.text().empty());
}

TEST_CASE("random damage never crashes, hangs or prints") {
  const Bytes seeds[] = {*imio::imwrite("<bytes>", radiance_image(12, 40, 1), {.extension = ".hdr"}),
                         *imio::imwrite("<bytes>", radiance_image(7, 5, 2), {.extension = ".hdr"}),
                         *imio::imwrite("<bytes>", radiance_image(9, 20, 3), {.extension = ".hdr", .kwargs = {{"rle", false}}})};
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto run = imio_test::random_damage<imio::DecodeError, imio::LimitError>(
      seeds, imio_test::damage_rounds("IMIO_HDR_FUZZ_ROUNDS", 300), 3, 99, [](const Bytes& b) {
        const NDArray a = imio::imread(b, {.extension = ".hdr"});
        CHECK(imio::improps(b, {.extension = ".hdr"}).shape == a.shape());
        (void)imio::immeta(b, {.extension = ".hdr"});
      });
  INFO(run.summary());
  CHECK(err.text().empty());
  CHECK(run.refused > 0);
  CHECK(run.decoded > 0);
  CHECK(run.slowest < imio_test::time_bound(1.0));
}
