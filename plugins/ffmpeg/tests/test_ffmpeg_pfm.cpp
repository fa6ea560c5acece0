// PFM through the ffmpeg plugin's still path (issue #23: PFM needs no plugin
// of its own because this path is exact): files written here by numpy as the
// PFM convention defines them — "PF" colour / "Pf" gray, the scale's sign
// giving the byte order (negative: little endian), rows stored bottom-up —
// read bit for bit as numpy wrote them and as OpenCV reads them; imio's
// files parsed back by the same few lines of numpy and by OpenCV.
#include <imio/imio.hpp>

#include <cstring>
#include <filesystem>
#include <string>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;

bool same_bits(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

constexpr const char* kFixtures = R"PY(
import sys, numpy as np, cv2
d = sys.argv[1]
rs = np.random.RandomState(3)
def pfm(path, a, big, scale=1.0):
    h, w = a.shape[:2]
    head = (b'PF' if a.ndim == 3 else b'Pf') + b'\n%d %d\n%s\n' % (w, h, (b'%g' % (scale if big else -scale)))
    open(path, 'wb').write(head + np.flipud(a).astype('>f4' if big else '<f4').tobytes())
rgb = (rs.standard_normal((13, 17, 3)) * 1000).astype(np.float32)
rgb[0, 0] = [np.inf, -np.inf, -0.0]
rgb[1, 1] = [1e-40, -3.4e38, 0.0]  # a subnormal, the float range's end
gray = (rs.standard_normal((7, 5)) * 0.01).astype(np.float32)
for name, a in (('rgb', rgb), ('gray', gray)):
    np.save(f'{d}/{name}.npy', a)
    for order, big in (('le', False), ('be', True)):
        f = f'{d}/{name}_{order}.pfm'
        pfm(f, a, big)
        c = cv2.imread(f, cv2.IMREAD_UNCHANGED)
        np.save(f + '.cv.npy', c[..., ::-1].copy() if c.ndim == 3 else c)
pfm(f'{d}/scaled.pfm', rgb, False, 4.0)
print('fixtures ok')
)PY";

constexpr const char* kParse = R"PY(
import sys, numpy as np, cv2
d = sys.argv[1]
for name in ('w_rgb', 'w_gray'):
    f = f'{d}/{name}.pfm'
    raw = open(f, 'rb').read()
    lines = raw.split(b'\n', 3)
    kind, (w, h), scale = lines[0], map(int, lines[1].split()), float(lines[2])
    a = np.frombuffer(lines[3], '<f4' if scale < 0 else '>f4').reshape((h, w, 3) if kind == b'PF' else (h, w))
    np.save(f + '.np.npy', np.flipud(a).astype(np.float32))
    c = cv2.imread(f, cv2.IMREAD_UNCHANGED)
    np.save(f + '.cv.npy', c[..., ::-1].copy() if c.ndim == 3 else c)
print('parsed')
)PY";

}  // namespace

TEST_CASE("ffmpeg PFM: numpy-written files read bit for bit, both byte orders, rows bottom-up, as OpenCV reads them") {
  if (!imio_test::python_has("cv2, numpy")) {
    WARN("OpenCV's Python bindings (python3-opencv) absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kFixtures, log) == 0);
  for (const std::string name : {"rgb", "gray"}) {
    const NDArray want = imio::imread(dir / (name + ".npy"));
    for (const std::string order : {"le", "be"}) {
      INFO(name << " " << order);
      const fs::path file = dir / (name + "_" + order + ".pfm");
      const NDArray got = imio::imread(file);
      CHECK(got.dtype() == DType::float32);
      CHECK(same_bits(got, want));
      CHECK(same_bits(got, imio::imread(fs::path(file.string() + ".cv.npy"))));
      CHECK(imio::improps(file).shape == want.shape());
      CHECK(imio::imopen(file, "r").plugin_name() == "ffmpeg");
    }
  }
  // |scale| != 1: FFmpeg divides the samples by it, as OpenCV does
  // (OpenImageIO multiplies; most writers store ±1).
  const NDArray scaled = imio::imread(dir / "scaled.pfm");
  const NDArray rgb = imio::imread(dir / "rgb.npy");
  CHECK(scaled.data<float>()[3 * 17 * 5 + 4] == rgb.data<float>()[3 * 17 * 5 + 4] / 4.0f);
}

TEST_CASE("ffmpeg PFM: imio's files parse back exactly with numpy and OpenCV") {
  if (!imio_test::python_has("cv2, numpy")) return;
  imio_test::TempDir dir;
  NDArray rgb({9, 14, 3}, DType::float32), gray({6, 11}, DType::float32);
  for (NDArray* a : {&rgb, &gray}) {
    for (std::size_t i = 0; i < a->size(); ++i) a->data<float>()[i] = static_cast<float>(i) * 0.37f - 20.0f;
    a->data<float>()[0] = -0.0f;
  }
  imio::imwrite(dir / "w_rgb.pfm", rgb);
  imio::imwrite(dir / "w_gray.pfm", gray);
  std::string log;
  REQUIRE(imio_test::run_python(dir, kParse, log) == 0);
  CHECK(same_bits(imio::imread(dir / "w_rgb.pfm.np.npy"), rgb));
  CHECK(same_bits(imio::imread(dir / "w_rgb.pfm.cv.npy"), rgb));
  CHECK(same_bits(imio::imread(dir / "w_gray.pfm.np.npy"), gray));
  CHECK(same_bits(imio::imread(dir / "w_gray.pfm.cv.npy"), gray));
  CHECK(same_bits(imio::imread(dir / "w_rgb.pfm"), rgb));
}
