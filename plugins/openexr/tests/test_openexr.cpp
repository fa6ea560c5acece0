// The openexr plugin. Every test file is made here, at test time: by
// OpenImageIO's Python bindings and oiiotool (scanline, tiled, multi-part,
// windows, every compression) and by OpenEXR's own tools (exrmaketiled for
// mipmap and ripmap levels, exrmultipart, exrstdattr for attributes). Every
// read is compared with what OpenImageIO reads from the same file (saved as
// .npy, read back through imio's npy plugin); every write is read back by
// OpenImageIO and described by exrheader.
#include <imio/imio.hpp>
#include <imio/json.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#if IMIO_TEST_OPENEXR_DIRECT
#include <ImfRgba.h>
#include <ImfTiledRgbaFile.h>
#endif

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
using imio_test::to_string;
using imio_test::write_file;

bool have_tool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}
bool tools_available() {
  return imio_test::python_has("OpenImageIO, numpy") && have_tool("oiiotool") && have_tool("exrmaketiled") && have_tool("exrheader") &&
         have_tool("exrmultipart") && have_tool("exrstdattr");
}

// fd 2 redirected into a file for the life of the object.
// Makes the test files and saves OpenImageIO's reading of each:
// <name>.exr, <name>.<channel>.npy (one plane per channel, the file's own
// sample type), <name>.json (channel names in OIIO's order, shape, windows).
constexpr const char* kFixtures = R"PY(
import sys, json, subprocess, numpy as np
import OpenImageIO as oiio
d = sys.argv[1]
rs = np.random.RandomState(11)

def run(*args):
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def image(h, w, c, dtype):
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for k in range(c):
        p = np.sin(x * (0.11 + 0.03 * k)) * np.cos(y * (0.07 + 0.02 * k)) * (4.0 + k) + (x - y) * 0.01 * (k + 1)
        planes.append(p + rs.standard_normal((h, w)) * 0.05)
    a = np.stack(planes, -1)
    if dtype == np.uint32:
        a = (np.abs(a) * 100000).astype(np.uint32) + np.uint32(3_000_000_000) * (rs.randint(0, 2, a.shape).astype(np.uint32))
    a = a.astype(dtype)
    a[0, 0, 0] = -0.0 if dtype != np.uint32 else 0
    if dtype != np.uint32:
        a[1 % h, 2 % w, 0] = np.inf
        a[2 % h, 1 % w, -1] = 65504 if dtype == np.float16 else 1e30
    return a

TYPES = {np.float16: 'half', np.float32: 'float', np.uint32: 'uint'}

def write(name, arrays, names, compression='zip', tile=None, origin=(0, 0), full=None, attrs=None):
    # arrays: one (h, w, c) array per subimage (part)
    out = oiio.ImageOutput.create(f'{d}/{name}.exr')
    specs = []
    for k, a in enumerate(arrays):
        h, w, c = a.shape
        s = oiio.ImageSpec(w, h, c, TYPES[a.dtype.type])
        s.channelnames = tuple(names[k] if isinstance(names[0], (list, tuple)) else names)
        s.x, s.y = origin
        if full:
            s.full_x, s.full_y, s.full_width, s.full_height = full
        s.attribute('compression', compression)
        if tile:
            s.tile_width, s.tile_height = tile
        if len(arrays) > 1:
            s.attribute('name', f'layer{k}')
        for key, v in (attrs or {}).items():
            s.attribute(key, v)
        specs.append(s)
    assert out.open(f'{d}/{name}.exr', tuple(specs)) if len(specs) > 1 else out.open(f'{d}/{name}.exr', specs[0]), oiio.geterror()
    for k, a in enumerate(arrays):
        if k:
            assert out.open(f'{d}/{name}.exr', specs[k], 'AppendSubimage'), out.geterror()
        assert out.write_image(a), out.geterror()
    out.close()

def oracle(name):
    inp = oiio.ImageInput.open(f'{d}/{name}.exr')
    info = {'subimages': [], 'name': name}
    s = 0
    while inp.seek_subimage(s, 0):
        spec = inp.spec()
        levels = []
        m = 0
        while inp.seek_subimage(s, m):
            spec = inp.spec()
            px = inp.read_image(s, m, 0, spec.nchannels, oiio.UNKNOWN)
            assert px is not None, inp.geterror()
            px = px.reshape(spec.height, spec.width, spec.nchannels)
            for c, ch in enumerate(spec.channelnames):
                t = str(spec.channelformat(c))
                np.save(f'{d}/{name}.{s}.{m}.{ch}.npy', px[..., c].astype({'half': np.float16, 'float': np.float32, 'uint': np.uint32}[t]))
            levels.append([spec.width, spec.height])
            m += 1
        spec = inp.spec_dimensions(s, 0)
        inp.seek_subimage(s, 0)
        spec = inp.spec()
        info['subimages'].append({'channels': list(spec.channelnames), 'levels': levels,
                                  'data': [spec.x, spec.y, spec.width, spec.height],
                                  'display': [spec.full_x, spec.full_y, spec.full_width, spec.full_height],
                                  'formats': [str(spec.channelformat(c)) for c in range(spec.nchannels)]})
        s += 1
    json.dump(info, open(f'{d}/{name}.json', 'w'))

# ---- every compression, half RGBA (lossy ones: OIIO's decoding is the reference)
src = image(37, 53, 4, np.float16)
for comp in ['none', 'rle', 'zips', 'zip', 'piz', 'pxr24', 'b44', 'b44a', 'dwaa', 'dwab']:
    write(f'half_{comp}', [src], ['R', 'G', 'B', 'A'], comp)
    oracle(f'half_{comp}')
np.save(f'{d}/half_source.npy', src)
# ---- float RGB, uint gray, float gray+alpha
write('float_rgb', [image(29, 31, 3, np.float32)], ['R', 'G', 'B'], 'piz'); oracle('float_rgb')
write('uint_id', [image(17, 23, 1, np.uint32)], ['id'], 'zip'); oracle('uint_id')
write('float_ya', [image(17, 23, 2, np.float32)], ['Y', 'A'], 'rle'); oracle('float_ya')
# ---- mixed types: RGB half + Z float (OIIO writes per-channel formats)
mixed = oiio.ImageSpec(41, 19, 4, 'half')
mixed.channelnames = ('R', 'G', 'B', 'Z')
mixed.channelformats = ('half', 'half', 'half', 'float')
mixed.attribute('compression', 'zip')
out = oiio.ImageOutput.create(f'{d}/mixed.exr')
out.open(f'{d}/mixed.exr', mixed)
out.write_image(image(19, 41, 4, np.float32))
out.close()
oracle('mixed')
# ---- layers, channel names in a random order
write('layers', [image(13, 15, 7, np.float16)], ['specular.G', 'A', 'diffuse.B', 'diffuse.R', 'specular.R', 'diffuse.G', 'Z'], 'zips')
oracle('layers')
# ---- windows: a data window inside, and one reaching outside, the display window
write('window_inside', [image(10, 20, 3, np.float16)], ['R', 'G', 'B'], 'zip', origin=(5, 3), full=(0, 0, 40, 30))
oracle('window_inside')
write('window_outside', [image(10, 20, 3, np.float16)], ['R', 'G', 'B'], 'piz', origin=(-4, 25), full=(0, 0, 40, 30))
oracle('window_outside')
# ---- tiled (oiiotool) and levels (exrmaketiled)
run('oiiotool', f'{d}/float_rgb.exr', '--tile', 8, 8, '--compression', 'zip', '-o', f'{d}/tiled.exr')
oracle('tiled')
write('base', [image(45, 70, 3, np.float16)], ['R', 'G', 'B'], 'zip')
run('exrmaketiled', '-m', '-t', 16, 16, f'{d}/base.exr', f'{d}/mipmap.exr'); oracle('mipmap')
run('exrmaketiled', '-m', '-u', '-t', 16, 16, f'{d}/base.exr', f'{d}/mipmap_up.exr'); oracle('mipmap_up')
run('exrmaketiled', '-r', '-t', 16, 16, f'{d}/base.exr', f'{d}/ripmap.exr')
# ---- multi-part: oiiotool --siappend (equal shapes) and OIIO subimages (different shapes)
run('oiiotool', f'{d}/half_zip.exr', f'{d}/half_piz.exr', '--siappend', '-o', f'{d}/multi_same.exr'); oracle('multi_same')
write('multi_diff', [image(9, 12, 3, np.float16), image(14, 6, 1, np.float32), image(5, 5, 4, np.uint32)], [['R', 'G', 'B'], ['Z'], ['R', 'G', 'B', 'A']], 'zip', full=(0, 0, 12, 14))
oracle('multi_diff')
run('exrmultipart', '-combine', '-i', f'{d}/float_rgb.exr', f'{d}/tiled.exr', '-o', f'{d}/exrmultipart.exr')
# ---- attributes: exrstdattr
run('exrstdattr', '-owner', 'imio tests', '-comments', 'a comment', '-chromaticities', 0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329,
    '-pixelAspectRatio', 1.5, '-string', 'custom_string', 'hello', '-int', 'custom_int', 42, '-float', 'custom_float', 2.5,
    '-framesPerSecond', 24000, 1001, f'{d}/float_rgb.exr', f'{d}/attrs.exr')
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
    if (tools_available()) f.ok = run_python(f.dir, kFixtures, f.log) == 0 && contains(f.log, "fixtures ok");
  }
  return f;
}

#define REQUIRE_FIXTURES(var)                                                                                   \
  Fixtures& var = fixtures();                                                                                   \
  if (!tools_available()) {                                                                                     \
    WARN("OpenImageIO's Python bindings or OpenEXR's tools (python3-openimageio, openexr) absent: skipped"); \
    return;                                                                                                     \
  }                                                                                                             \
  INFO(var.log);                                                                                                \
  REQUIRE(var.ok)

Value info_of(const Fixtures& f, const std::string& name) { return imio::from_json(to_string(read_file(f.dir / (name + ".json")))); }

const imio::Dict& subimage(const Value& info, std::size_t k) {
  return info.ref<imio::Dict>().at("subimages").ref<Value::List>()[k].ref<imio::Dict>();
}

std::vector<std::string> strings(const Value& v) {
  std::vector<std::string> out;
  for (const Value& s : v.ref<Value::List>()) out.push_back(s.ref<std::string>());
  return out;
}

// Plane c of an (H, W[, C]) array.
NDArray plane(const NDArray& a, std::size_t c) {
  const std::size_t h = a.shape()[0], w = a.shape()[1], n = a.ndim() == 3 ? a.shape()[2] : 1;
  const std::size_t e = imio::itemsize(a.dtype());
  NDArray p({h, w}, a.dtype());
  for (std::size_t i = 0; i < h * w; ++i) std::memcpy(p.bytes() + i * e, a.bytes() + (i * n + c) * e, e);
  return p;
}

// Bitwise equality (NaN and -0.0 included).
bool same_bits(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

std::string fmt_name(const std::string& name, int s, int m, const std::string& channel) {
  return name + "." + std::to_string(s) + "." + std::to_string(m) + "." + channel + ".npy";
}

// Every channel of `got` equals OIIO's plane of the same name (part s, level m).
void check_planes(const Fixtures& f, const std::string& name, const NDArray& got, const std::vector<std::string>& channels, int s = 0,
                  int m = 0) {
  for (std::size_t c = 0; c < channels.size(); ++c) {
    INFO(name << " channel " << channels[c]);
    const NDArray want = imio::imread(f.dir / fmt_name(name, s, m, channels[c]));
    NDArray p = channels.size() == 1 ? got.copy() : plane(got, c);
    if (p.dtype() != want.dtype()) p = p.astype(want.dtype());
    CHECK(same_bits(p, want));
  }
}

#if IMIO_TEST_OPENEXR_DIRECT
// Level (lx, ly) of a tiled RGB(A) half file through OpenEXR's RGBA
// interface: (H, W, 3) float16.
NDArray rgba_level(const fs::path& path, int lx, int ly) {
  Imf::TiledRgbaInputFile in(path.c_str());
  const Imath::Box2i dw = in.dataWindowForLevel(lx, ly);
  const int w = dw.max.x - dw.min.x + 1, h = dw.max.y - dw.min.y + 1;
  std::vector<Imf::Rgba> px(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  in.setFrameBuffer(px.data() - dw.min.x - static_cast<std::ptrdiff_t>(dw.min.y) * w, 1, static_cast<std::size_t>(w));
  in.readTiles(0, in.numXTiles(lx) - 1, 0, in.numYTiles(ly) - 1, lx, ly);
  NDArray out({static_cast<std::size_t>(h), static_cast<std::size_t>(w), 3}, DType::float16);
  for (std::size_t i = 0; i < px.size(); ++i) {
    const std::uint16_t rgb[3] = {px[i].r.bits(), px[i].g.bits(), px[i].b.bits()};
    std::memcpy(out.bytes() + i * 6, rgb, 6);
  }
  return out;
}
#endif

}  // namespace

// ---------------------------------------------------------------- reading

TEST_CASE("every compression reads as OpenImageIO reads it; lossless ones equal the source bit for bit") {
  REQUIRE_FIXTURES(f);
  const NDArray source = imio::imread(f.dir / "half_source.npy");
  for (const std::string comp : {"none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"}) {
    const std::string name = "half_" + comp;
    INFO(name);
    const NDArray got = imio::imread(f.dir / (name + ".exr"));
    REQUIRE(got.shape() == Shape{37, 53, 4});
    REQUIRE(got.dtype() == DType::float16);
    check_planes(f, name, got, {"R", "G", "B", "A"});
    if (comp == "none" || comp == "rle" || comp == "zips" || comp == "zip" || comp == "piz") CHECK(same_bits(got, source));
    CHECK(imio::immeta(f.dir / (name + ".exr")).get<std::string>("compression") == comp);
  }
}

TEST_CASE("float, uint and gray+alpha files: dtypes and layouts") {
  REQUIRE_FIXTURES(f);
  const NDArray rgb = imio::imread(f.dir / "float_rgb.exr");
  CHECK(rgb.shape() == Shape{29, 31, 3});
  CHECK(rgb.dtype() == DType::float32);
  check_planes(f, "float_rgb", rgb, {"R", "G", "B"});
  const NDArray id = imio::imread(f.dir / "uint_id.exr");
  CHECK(id.shape() == Shape{17, 23});  // one channel: (H, W)
  CHECK(id.dtype() == DType::uint32);
  check_planes(f, "uint_id", id, {"id"});
  const NDArray ya = imio::imread(f.dir / "float_ya.exr");
  CHECK(ya.shape() == Shape{17, 23, 2});
  check_planes(f, "float_ya", ya, {"Y", "A"});
}

TEST_CASE("mixed channel types read as float32; channels= selects and orders, dtype= converts") {
  REQUIRE_FIXTURES(f);
  const fs::path file = f.dir / "mixed.exr";
  const NDArray all = imio::imread(file);
  CHECK(all.shape() == Shape{19, 41, 4});
  CHECK(all.dtype() == DType::float32);
  check_planes(f, "mixed", all, {"R", "G", "B", "Z"});
  const NDArray z = imio::imread(file, {.kwargs = {{"channels", Value{"Z"}}}});
  CHECK(z.shape() == Shape{19, 41});
  CHECK(z.dtype() == DType::float32);
  check_planes(f, "mixed", z, {"Z"});
  CHECK(same_bits(imio::imread(file, {.kwargs = {{"channels", "Z"}}}), z));
  const NDArray br = imio::imread(file, {.kwargs = {{"channels", Value{"B", "R"}}}});
  CHECK(br.dtype() == DType::float16);  // both half
  check_planes(f, "mixed", br, {"B", "R"});
  const NDArray as_half = imio::imread(file, {.kwargs = {{"dtype", "float16"}}});
  CHECK(as_half.dtype() == DType::float16);
  CHECK(same_bits(plane(as_half, 0), imio::imread(f.dir / "mixed.0.0.R.npy")));
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { (void)imio::imread(file, {.kwargs = {{"channels", Value{"R", "X"}}}}); });
  CHECK(contains(msg, "no channel 'X'"));
  CHECK(contains(msg, "B, G, R, Z"));
}

TEST_CASE("default channel order: R, G, B, A, then the others; layers each in that order") {
  REQUIRE_FIXTURES(f);
  const fs::path file = f.dir / "layers.exr";
  const NDArray got = imio::imread(file);
  // the file stores them alphabetically: A diffuse.B diffuse.G diffuse.R specular.G specular.R Z
  const std::vector<std::string> order{"A", "Z", "diffuse.R", "diffuse.G", "diffuse.B", "specular.R", "specular.G"};
  REQUIRE(got.shape() == Shape{13, 15, 7});
  check_planes(f, "layers", got, order);
  const NDArray diffuse = imio::imread(file, {.kwargs = {{"channels", Value{"diffuse.R", "diffuse.G", "diffuse.B"}}}});
  check_planes(f, "layers", diffuse, {"diffuse.R", "diffuse.G", "diffuse.B"});
  const Value chl = imio::immeta(file).at("channels");
  CHECK(chl.ref<Value::List>().size() == 7);
  CHECK(chl.ref<Value::List>()[0].ref<imio::Dict>().get<std::string>("type") == "half");
}

TEST_CASE("imread returns the data window; window='display' places it in the display window") {
  REQUIRE_FIXTURES(f);
  for (const std::string name : {"window_inside", "window_outside"}) {
    INFO(name);
    const fs::path file = f.dir / (name + ".exr");
    const NDArray data = imio::imread(file);
    CHECK(data.shape() == Shape{10, 20, 3});
    check_planes(f, name, data, {"R", "G", "B"});
    const NDArray disp = imio::imread(file, {.kwargs = {{"window", "display"}}});
    REQUIRE(disp.shape() == Shape{30, 40, 3});
    CHECK(imio::improps(file, {.kwargs = {{"window", "display"}}}).shape == disp.shape());
    const auto& m = imio::immeta(file);
    const auto dw = m.at("dataWindow").ref<Value::List>();
    const std::int64_t x0 = dw[0].ref<std::int64_t>(), y0 = dw[1].ref<std::int64_t>();
    const auto* d = data.data<imio::float16>();
    const auto* p = disp.data<imio::float16>();
    std::size_t mismatches = 0;
    for (std::int64_t y = 0; y < 30; ++y) {
      for (std::int64_t x = 0; x < 40; ++x) {
        for (std::size_t c = 0; c < 3; ++c) {
          const bool in = x >= x0 && x < x0 + 20 && y >= y0 && y < y0 + 10;
          const imio::float16 want = in ? d[(static_cast<std::size_t>(y - y0) * 20 + static_cast<std::size_t>(x - x0)) * 3 + c] : imio::float16{};
          if (!(p[(static_cast<std::size_t>(y) * 40 + static_cast<std::size_t>(x)) * 3 + c] == want)) ++mismatches;
        }
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("tiled files and mipmap levels read as OpenImageIO reads them; ripmap levels by [lx, ly]") {
  REQUIRE_FIXTURES(f);
  const NDArray tiled = imio::imread(f.dir / "tiled.exr");
  check_planes(f, "tiled", tiled, {"R", "G", "B"});
  CHECK(same_bits(tiled, imio::imread(f.dir / "float_rgb.exr")));
  CHECK(imio::immeta(f.dir / "tiled.exr").at("tiles").ref<imio::Dict>().get<std::int64_t>("x_size") == 8);
  for (const std::string name : {"mipmap", "mipmap_up"}) {
    const Value info = info_of(f, name);
    const auto& levels = subimage(info, 0).at("levels").ref<Value::List>();
    REQUIRE(levels.size() > 3);
    for (std::size_t m = 0; m < levels.size(); ++m) {
      INFO(name << " level " << m);
      const NDArray got = imio::imread(f.dir / (name + ".exr"), {.kwargs = {{"level", m}}});
      const auto& wh = levels[m].ref<Value::List>();
      CHECK(got.shape() == Shape{static_cast<std::size_t>(wh[1].ref<std::int64_t>()), static_cast<std::size_t>(wh[0].ref<std::int64_t>()), 3});
      CHECK(imio::improps(f.dir / (name + ".exr"), {.kwargs = {{"level", m}}}).shape == got.shape());
      check_planes(f, name, got, {"R", "G", "B"}, 0, static_cast<int>(m));
    }
    const std::string msg = imio_test::message_of<imio::ArgumentError>(
        [&] { (void)imio::imread(f.dir / (name + ".exr"), {.kwargs = {{"level", levels.size()}}}); });
    CHECK(contains(msg, "out of range"));
  }
  // ripmap (exrmaketiled -r): every level [lx, ly] as OpenEXR's RGBA
  // interface reads it; [2, 0] is a quarter as wide and full height
  const fs::path rip = f.dir / "ripmap.exr";
#if IMIO_TEST_OPENEXR_DIRECT
  for (int ly = 0; ly < 6; ++ly) {
    for (int lx = 0; lx < 7; ++lx) {
      INFO("ripmap level " << lx << ", " << ly);
      CHECK(same_bits(imio::imread(rip, {.kwargs = {{"level", Value{lx, ly}}}}), rgba_level(rip, lx, ly)));
    }
  }
  REQUIRE_THROWS_AS(imio::imread(rip, {.kwargs = {{"level", Value{7, 0}}}}), imio::ArgumentError);
  REQUIRE_THROWS_AS(imio::imread(rip, {.kwargs = {{"level", Value{0, 6}}}}), imio::ArgumentError);
#endif
  CHECK(imio::imread(rip, {.kwargs = {{"level", Value{2, 0}}}}).shape() == Shape{45, 17, 3});
  CHECK(imio::improps(rip, {.kwargs = {{"level", Value{0, 3}}}}).shape == Shape{5, 70, 3});
  REQUIRE_THROWS_AS(imio::imread(f.dir / "base.exr", {.kwargs = {{"level", 1}}}), imio::ArgumentError);
}

TEST_CASE("multi-part files: index is the part, imio::all stacks equal parts, imiter yields each") {
  REQUIRE_FIXTURES(f);
  const fs::path same = f.dir / "multi_same.exr";
  const NDArray all = imio::imread(same, {.index = imio::all});
  REQUIRE(all.shape() == Shape{2, 37, 53, 4});
  for (std::size_t s = 0; s < 2; ++s) {
    const NDArray part = imio::imread(same, {.index = s});
    check_planes(f, "multi_same", part, {"R", "G", "B", "A"}, static_cast<int>(s));
    CHECK(std::memcmp(all.bytes() + s * part.nbytes(), part.bytes(), part.nbytes()) == 0);
  }
  CHECK(imio::improps(same, {.index = imio::all}).shape == all.shape());
  CHECK(imio::improps(same, {.index = imio::all}).n_images == 2);
  const fs::path diff = f.dir / "multi_diff.exr";
  const Value info = info_of(f, "multi_diff");
  std::size_t k = 0;
  for (const NDArray& part : imio::imiter(diff)) {
    INFO("part " << k);
    check_planes(f, "multi_diff", part, strings(subimage(info, k).at("channels")), static_cast<int>(k));
    CHECK(imio::improps(diff, {.index = k}).shape == part.shape());
    CHECK(imio::improps(diff, {.index = k}).dtype == part.dtype());
    CHECK(imio::immeta(diff, {.index = k}).get<std::string>("name") == "layer" + std::to_string(k));
    ++k;
  }
  CHECK(k == 3);
  CHECK(imio::imread(diff, {.index = 2}).dtype() == DType::uint32);
  CHECK(contains(imio_test::message_of<imio::ArgumentError>([&] { (void)imio::imread(diff, {.index = imio::all}); }), "differ"));
  CHECK(contains(imio_test::message_of<imio::IndexError>([&] { (void)imio::imread(diff, {.index = 3}); }), "3 part(s)"));
  // exrmultipart (OpenEXR's own tool): a scanline and a tiled part
  const fs::path em = f.dir / "exrmultipart.exr";
  CHECK(same_bits(imio::imread(em, {.index = 0}), imio::imread(f.dir / "float_rgb.exr")));
  CHECK(same_bits(imio::imread(em, {.index = 1}), imio::imread(f.dir / "tiled.exr")));
  CHECK(imio::improps(em, {.index = imio::all}).n_images == 2);
}

TEST_CASE("immeta: every header attribute by name, standard and custom") {
  REQUIRE_FIXTURES(f);
  const imio::Metadata m = imio::immeta(f.dir / "attrs.exr");
  CHECK(m.get<std::string>("owner") == "imio tests");
  CHECK(m.get<std::string>("comments") == "a comment");
  CHECK(m.get<std::string>("custom_string") == "hello");
  CHECK(m.get<std::int64_t>("custom_int") == 42);
  CHECK(m.get<double>("custom_float") == 2.5);
  CHECK(m.get<double>("pixelAspectRatio") == 1.5);
  CHECK(m.get<std::string>("lineOrder") == "increasing_y");
  CHECK(m.get<std::string>("compression") == "piz");
  CHECK(m.at("framesPerSecond") == Value{24000, 1001});
  const auto& chroma = m.at("chromaticities").ref<Value::List>();
  REQUIRE(chroma.size() == 8);
  CHECK(std::abs(chroma[6].get<double>() - 0.3127) < 1e-6);
  CHECK(m.at("dataWindow") == Value{0, 0, 30, 28});
  CHECK(m.at("displayWindow") == Value{0, 0, 30, 28});
  CHECK(m.get<std::int64_t>("n_images") == 1);
  const imio::Metadata w = imio::immeta(f.dir / "window_outside.exr");
  CHECK(w.at("dataWindow") == Value{-4, 25, 15, 34});
  CHECK(w.at("displayWindow") == Value{0, 0, 39, 29});
}

TEST_CASE("improps equals imread's shape and dtype for every kwarg, without decoding") {
  REQUIRE_FIXTURES(f);
  const std::vector<std::pair<std::string, imio::Kwargs>> cases = {
      {"half_dwab", {}},        {"mixed", {}},         {"mixed", {{"channels", Value{"G"}}}}, {"mixed", {{"dtype", "uint32"}}},
      {"window_outside", {{"window", "display"}}}, {"mipmap", {{"level", 3}}}, {"uint_id", {}}, {"multi_same", {}}};
  for (const auto& [name, kw] : cases) {
    for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
      INFO(name << " index " << index.repr());
      const fs::path file = f.dir / (name + ".exr");
      const NDArray a = imio::imread(file, {.index = index, .kwargs = kw});
      const auto p = imio::improps(file, {.index = index, .kwargs = kw});
      CHECK(p.shape == a.shape());
      CHECK(p.dtype == a.dtype());
    }
  }
}

TEST_CASE(".exr goes to openexr first, ffmpeg second; the magic number finds it under any name") {
  REQUIRE_FIXTURES(f);
  const fs::path renamed = f.dir / "renamed.bin";
  fs::copy_file(f.dir / "float_rgb.exr", renamed, fs::copy_options::overwrite_existing);
  CHECK(same_bits(imio::imread(renamed), imio::imread(f.dir / "float_rgb.exr")));
  CHECK(imio::imopen(f.dir / "float_rgb.exr", "r").plugin_name() == "openexr");
  const std::string msg = imio_test::message_of<imio::ArgumentError>([&] { (void)imio::imread(f.dir / "float_rgb.exr", {.kwargs = {{"quality", 3}}}); });
  CHECK(contains(msg, "openexr"));
}

// ---------------------------------------------------------------- writing

namespace {

// A smooth float image with inf, NaN-free specials (-0.0, large values).
NDArray float_image(std::size_t h, std::size_t w, std::size_t c, DType dtype, unsigned seed) {
  NDArray a = c == 1 ? NDArray({h, w}, DType::float32) : NDArray({h, w, c}, DType::float32);
  auto* p = a.data<float>();
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < h * w * c; ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = std::sin(static_cast<float>(i % (w * c)) * 0.05f) * 3.0f + static_cast<float>(x >> 20) / 4096.0f - 64.0f;
  }
  p[0] = -0.0f;
  p[1] = std::numeric_limits<float>::infinity();
  return dtype == DType::float32 ? std::move(a) : a.astype(dtype);
}

NDArray uint_image(std::size_t h, std::size_t w, std::size_t c, unsigned seed) {
  NDArray a = c == 1 ? NDArray({h, w}, DType::uint32) : NDArray({h, w, c}, DType::uint32);
  auto* p = a.data<std::uint32_t>();
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < h * w * c; ++i) p[i] = x = x * 1664525u + 1013904223u;
  return a;
}

// OpenImageIO's description of files imio wrote: channel names, formats,
// compression, tiles, parts; and the pixels of part s as <out>.<s>.npy
// (float64). Arguments: file, out, file, out, ... (one Python start for
// many files: the import alone takes a third of a second).
constexpr const char* kDescribe = R"PY(
import sys, json, numpy as np
import OpenImageIO as oiio
def describe(f, out):
  inp = oiio.ImageInput.open(f)
  assert inp, oiio.geterror()
  parts = []
  s = 0
  while inp.seek_subimage(s, 0):
      spec = inp.spec()
      px = inp.read_image(s, 0, 0, spec.nchannels, oiio.UNKNOWN).astype(np.float64)  # native: OIIO scales integers read as floats
      np.save(f'{out}.{s}.npy', px.reshape(spec.height, spec.width, spec.nchannels))
      parts.append({'channels': list(spec.channelnames), 'formats': [str(spec.channelformat(c)) for c in range(spec.nchannels)],
                    'compression': spec.get_string_attribute('compression'), 'tile': [spec.tile_width, spec.tile_height],
                    'name': spec.get_string_attribute('name'), 'owner': spec.get_string_attribute('Copyright'),
                    'custom': spec.get_string_attribute('custom'), 'number': spec.get_int_attribute('number', -1),
                    'display': [spec.full_x, spec.full_y, spec.full_width, spec.full_height], 'origin': [spec.x, spec.y]})
      s += 1
  json.dump(parts, open(out + '.json', 'w'))
for f, out in zip(sys.argv[1::2], sys.argv[2::2]):
  describe(f, out)
print('described')
)PY";

struct Described {
  std::vector<imio::Dict> parts;
  std::vector<NDArray> pixels;  // float64 (H, W, C), OIIO's channel order
};

std::vector<Described> describe(const imio_test::TempDir& dir, const std::vector<fs::path>& files) {
  const fs::path script = dir / "describe.py";
  write_file(script, imio_test::to_bytes(kDescribe));
  std::string command = imio_test::python() + " \"" + script.string() + "\"";
  for (const fs::path& file : files) {
    command += " \"" + file.string() + "\" \"" + (dir / (file.stem().string() + ".oiio")).string() + "\"";
  }
  const int status = std::system((command + " > \"" + (dir / "describe.log").string() + "\" 2>&1").c_str());
  INFO(to_string(read_file(dir / "describe.log")));
  REQUIRE(status == 0);
  std::vector<Described> all;
  for (const fs::path& file : files) {
    const std::string out = (dir / (file.stem().string() + ".oiio")).string();
    Described& d = all.emplace_back();
    const Value json = imio::from_json(to_string(read_file(fs::path(out + ".json"))));
    for (std::size_t s = 0; s < json.ref<Value::List>().size(); ++s) {
      d.parts.push_back(json.ref<Value::List>()[s].ref<imio::Dict>());
      d.pixels.push_back(imio::imread(fs::path(out + "." + std::to_string(s) + ".npy")));
    }
  }
  return all;
}

Described describe(const imio_test::TempDir& dir, const fs::path& file) {
  return std::move(describe(dir, std::vector<fs::path>{file}).front());
}

// Whether OIIO's float64 plane (its channel `name`) equals plane c of `a`.
bool oiio_plane_equals(const Described& d, std::size_t part, const std::string& name, const NDArray& a, std::size_t c) {
  const auto chans = strings(d.parts[part].at("channels"));
  const auto it = std::find(chans.begin(), chans.end(), name);
  if (it == chans.end()) return false;
  const std::size_t oc = static_cast<std::size_t>(it - chans.begin());
  const NDArray mine = (a.ndim() == 2 ? a.copy() : plane(a, c)).astype(DType::float64);
  const NDArray& o = d.pixels[part];
  const std::size_t n = o.shape()[2];
  const auto* m = mine.data<double>();
  const auto* p = o.data<double>();
  if (mine.size() * n != o.size()) return false;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (std::memcmp(&m[i], &p[i * n + oc], 8) != 0 && !(std::isnan(m[i]) && std::isnan(p[i * n + oc]))) return false;
  }
  return true;
}

// `oiiotool --info -v file`: size, channel count and type, channel list, compression.
// `oiiotool --info -v` of several files in one run (its start-up is a
// quarter of a second), split into each file's part of the output: a file's
// part begins with a line that starts with its path.
std::vector<std::string> oiiotool_info(const imio_test::TempDir& dir, const std::vector<fs::path>& files) {
  const fs::path out = dir / "oiiotool_info.txt";
  std::string command = "oiiotool --info -v";
  for (const fs::path& file : files) command += " \"" + file.string() + "\"";
  const int status = std::system((command + " > \"" + out.string() + "\" 2>&1").c_str());
  const std::string text = to_string(read_file(out));
  std::vector<std::string> parts(files.size(), status != 0 ? text + "\n(oiiotool failed)" : std::string());
  if (status != 0) return parts;
  std::size_t current = files.size();
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    const std::size_t line_end = std::min(text.find('\n', line_start), text.size());
    const std::string line = text.substr(line_start, line_end - line_start);
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (line.rfind(files[i].string() + " ", 0) == 0) current = i;
    }
    if (current < files.size()) parts[current] += line + "\n";
    line_start = line_end + 1;
  }
  return parts;
}

}  // namespace

TEST_CASE("float16, float32 and uint32 images round-trip exactly; OpenImageIO reads the channels, types and compression written") {
  if (!tools_available()) return;
  imio_test::TempDir dir;
  struct Case {
    NDArray image;
    std::vector<std::string> names;
    std::string type;
  };
  std::vector<Case> cases;
  cases.push_back({float_image(21, 34, 4, DType::float16, 1), {"R", "G", "B", "A"}, "half"});
  cases.push_back({float_image(21, 34, 3, DType::float32, 2), {"R", "G", "B"}, "float"});
  cases.push_back({float_image(13, 9, 1, DType::float32, 3), {"Y"}, "float"});
  cases.push_back({float_image(13, 9, 2, DType::float16, 4), {"Y", "A"}, "half"});
  cases.push_back({uint_image(11, 17, 1, 5), {"Y"}, "uint"});
  cases.push_back({float_image(15, 22, 4, DType::float32, 6), {"R", "G", "B", "A"}, "float"});
  cases.back().image.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  cases.push_back({float_image(15, 22, 4, DType::float16, 7), {"R", "G", "B", "A"}, "half"});
  cases.back().image.data<imio::float16>()[6] = imio::float16::from_float(std::numeric_limits<float>::quiet_NaN());
  // Every file is written first, so that OpenImageIO and oiiotool each read
  // them all in one process.
  struct Written {
    std::string comp;
    const Case* c;
    fs::path file;
    NDArray back;
  };
  std::vector<Written> written;
  std::vector<fs::path> files;
  for (const std::string comp : {"none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"}) {
    for (const Case& c : cases) {
      INFO(comp << " " << c.type << " " << c.names.size() << " channels");
      const fs::path file = dir / ("w_" + comp + "_" + std::to_string(files.size()) + ".exr");
      imio::imwrite(file, c.image, {{"compression", comp}});
      NDArray back = imio::imread(file);
      REQUIRE(back.shape() == c.image.shape());
      CHECK(back.dtype() == c.image.dtype());
      const bool lossless = comp == "none" || comp == "rle" || comp == "zips" || comp == "zip" || comp == "piz" || c.type == "uint" ||
                            (comp == "pxr24" && c.type == "half");
      if (lossless) CHECK(same_bits(back, c.image));
      CHECK(imio::immeta(file).get<std::string>("compression") == comp);
      written.push_back({comp, &c, file, std::move(back)});
      files.push_back(file);
    }
  }
  const std::vector<Described> described = describe(dir, files);
  const std::vector<std::string> infos = oiiotool_info(dir, files);
  for (std::size_t w = 0; w < written.size(); ++w) {
    const std::string& comp = written[w].comp;
    const Case& c = *written[w].c;
    const NDArray& back = written[w].back;
    INFO(comp << " " << c.type << " " << c.names.size() << " channels");
    const Described& d = described[w];
    REQUIRE(d.parts.size() == 1);
    CHECK(d.parts[0].get<std::string>("compression") == comp);
    const auto formats = strings(d.parts[0].at("formats"));
    CHECK(std::all_of(formats.begin(), formats.end(), [&](const std::string& t) { return t == c.type; }));
    for (std::size_t k = 0; k < c.names.size(); ++k) {
      INFO("channel " << c.names[k]);
      CHECK(oiio_plane_equals(d, 0, c.names[k], back, k));  // OIIO decodes what imio decodes
    }
    // oiiotool (the command-line tool) sees the channels, sample type and compression written
    const std::string& info = infos[w];
    INFO(info);
    CHECK(contains(info, " " + std::to_string(c.image.shape()[0]) + ", " + std::to_string(c.names.size()) + " channel, " + c.type + " openexr"));
    std::string list;
    for (const std::string& n : c.names) list += (list.empty() ? "" : ", ") + n;
    CHECK(contains(info, "channel list: " + list));
    CHECK(contains(info, "compression: \"" + comp + "\""));
  }
}

TEST_CASE("pixel_type, channel names, tiles, line order and attributes are written as asked") {
  if (!tools_available()) return;
  imio_test::TempDir dir;
  const NDArray f32 = float_image(19, 27, 3, DType::float32, 9);
  SECTION("pixel_type='half' rounds float32 to nearest even, as astype does") {
    const fs::path file = dir / "half.exr";
    imio::imwrite(file, f32, {{"pixel_type", "half"}});
    const NDArray back = imio::imread(file);
    CHECK(back.dtype() == DType::float16);
    CHECK(same_bits(back, f32.astype(DType::float16)));
    CHECK(strings(describe(dir, file).parts[0].at("formats")) == std::vector<std::string>{"half", "half", "half"});
    // float64 needs a pixel type; float16 stored as float widens exactly
    REQUIRE_THROWS_AS(imio::imwrite(dir / "d.exr", f32.astype(DType::float64)), imio::ArgumentError);
    imio::imwrite(dir / "d.exr", f32.astype(DType::float64), {{"pixel_type", "float"}});
    CHECK(same_bits(imio::imread(dir / "d.exr"), f32));
    imio::imwrite(dir / "w.exr", back, {{"pixel_type", "float"}});
    CHECK(same_bits(imio::imread(dir / "w.exr"), f32.astype(DType::float16).astype(DType::float32)));
  }
  SECTION("channel names") {
    const fs::path file = dir / "names.exr";
    imio::imwrite(file, f32, {{"channels", Value{"diffuse.R", "diffuse.G", "Z"}}});
    const Described d = describe(dir, file);
    for (std::size_t k = 0; k < 3; ++k) CHECK(oiio_plane_equals(d, 0, std::vector<std::string>{"diffuse.R", "diffuse.G", "Z"}[k], f32, k));
    CHECK(same_bits(imio::imread(file, {.kwargs = {{"channels", Value{"diffuse.R", "diffuse.G", "Z"}}}}), f32));
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", f32, {{"channels", Value{"R", "G"}}}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", f32, {{"channels", Value{"R", "R", "B"}}}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", float_image(4, 4, 5, DType::float32, 1)), imio::ArgumentError);
    CHECK_FALSE(fs::exists(dir / "x.exr"));
  }
  SECTION("tiles") {
    const fs::path file = dir / "tiled.exr";
    imio::imwrite(file, f32, {{"tile_size", Value{16, 8}}, {"compression", "piz"}});
    const Described d = describe(dir, file);
    CHECK(d.parts[0].at("tile") == Value{16, 8});
    CHECK(same_bits(imio::imread(file), f32));
    CHECK(oiio_plane_equals(d, 0, "G", f32, 1));
    imio::imwrite(file, f32, {{"tile_size", 64}});
    CHECK(describe(dir, file).parts[0].at("tile") == Value{64, 64});
  }
  SECTION("line order") {
    const fs::path file = dir / "dec.exr";
    imio::imwrite(file, f32, {{"line_order", "decreasing_y"}});
    CHECK(imio::immeta(file).get<std::string>("lineOrder") == "decreasing_y");
    CHECK(same_bits(imio::imread(file), f32));
  }
  SECTION("attributes: custom ones, windows and chromaticities, read back by exrheader and OpenImageIO") {
    const fs::path file = dir / "attrs.exr";
    imio::Dict attrs{{"owner", "someone"}, {"custom", "text"}, {"number", 7}, {"ratio", 0.25},
                     {"dataWindow", Value{10, 20, 36, 38}}, {"displayWindow", Value{0, 0, 99, 49}},
                     {"chromaticities", Value{0.7, 0.3, 0.2, 0.7, 0.1, 0.05, 0.32, 0.33}}, {"names", Value{"a", "b"}},
                     {"vec", Value{1.5, 2.5, 3.5}}, {"framesPerSecond", Value{30, 1}}};
    imio::imwrite(file, f32, {{"attributes", attrs}});
    const imio::Metadata m = imio::immeta(file);
    CHECK(m.get<std::string>("owner") == "someone");
    CHECK(m.get<std::int64_t>("number") == 7);
    CHECK(m.get<double>("ratio") == 0.25);
    CHECK(m.at("dataWindow") == Value{10, 20, 36, 38});
    CHECK(m.at("names") == Value{"a", "b"});
    CHECK(m.at("vec") == Value{1.5, 2.5, 3.5});
    CHECK(m.at("framesPerSecond") == Value{30, 1});
    const Described d = describe(dir, file);
    CHECK(d.parts[0].get<std::string>("owner") == "someone");
    CHECK(d.parts[0].get<std::string>("custom") == "text");
    CHECK(d.parts[0].get<std::int64_t>("number") == 7);
    CHECK(d.parts[0].at("origin") == Value{10, 20});
    CHECK(d.parts[0].at("display") == Value{0, 0, 100, 50});
    std::string log;
    REQUIRE(std::system(("exrheader \"" + file.string() + "\" > \"" + (dir / "h.txt").string() + "\" 2>&1").c_str()) == 0);
    log = to_string(read_file(dir / "h.txt"));
    CHECK(contains(log, "chromaticities (type chromaticities)"));
    CHECK(contains(log, "vec (type v3f)"));
    CHECK(same_bits(imio::imread(file), f32));
    CHECK(imio::imread(file, {.kwargs = {{"window", "display"}}}).shape() == Shape{50, 100, 3});
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", f32, {{"attributes", imio::Dict{{"dataWindow", Value{0, 0, 5, 5}}}}}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", f32, {{"attributes", imio::Dict{{"channels", "x"}}}}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", f32, {{"attributes", imio::Dict{{"odd", Value{1, 2, 3, 4, 5}}}}}), imio::ArgumentError);
    CHECK_FALSE(fs::exists(dir / "x.exr"));
  }
}

TEST_CASE("a list or a batch is written as a multi-part file that OpenImageIO reads part by part") {
  if (!tools_available()) return;
  imio_test::TempDir dir;
  std::vector<NDArray> images;
  images.push_back(float_image(10, 12, 3, DType::float16, 1));
  images.push_back(float_image(7, 5, 1, DType::float32, 2));
  images.push_back(uint_image(4, 4, 4, 3));
  const fs::path file = dir / "multi.exr";
  imio::imwrite(file, images, {{"attributes", Value{imio::Dict{{"name", "beauty"}}, imio::Dict{{"name", "depth"}}, imio::Dict{{"name", "ids"}}}}});
  const Described d = describe(dir, file);
  REQUIRE(d.parts.size() == 3);
  CHECK(d.parts[0].get<std::string>("name") == "beauty");
  CHECK(d.parts[1].get<std::string>("name") == "depth");
  CHECK(d.parts[2].at("display") == Value{0, 0, 12, 10});  // the shared display window: around every part
  std::size_t k = 0;
  for (const NDArray& part : imio::imiter(file)) {
    INFO("part " << k);
    CHECK(same_bits(part, images[k]));
    ++k;
  }
  CHECK(oiio_plane_equals(d, 1, "Y", images[1], 0));
  // a batch: is_batch=True
  const NDArray batch = imio::imread(file, {.index = 0}).astype(DType::float16);
  NDArray two({2, 10, 12, 3}, DType::float16);
  std::memcpy(two.bytes(), images[0].bytes(), images[0].nbytes());
  std::memcpy(two.bytes() + images[0].nbytes(), images[0].bytes(), images[0].nbytes());
  imio::imwrite(dir / "batch.exr", two, {{"is_batch", true}});
  CHECK(same_bits(imio::imread(dir / "batch.exr", {.index = imio::all}), two));
  CHECK(describe(dir, dir / "batch.exr").parts.size() == 2);
  // part names must differ
  REQUIRE_THROWS_AS(imio::imwrite(dir / "x.exr", images, {{"attributes", imio::Dict{{"name", "same"}}}}), imio::ArgumentError);
}

TEST_CASE("arrays OpenEXR cannot hold are refused before the target is touched") {
  imio_test::TempDir dir;
  const fs::path file = dir / "keep.exr";
  write_file(file, imio_test::to_bytes("previous"));
  const auto refused = [&](const NDArray& a, imio::Kwargs kw = {}) {
    REQUIRE_THROWS_AS(imio::imwrite(file, a, {.kwargs = std::move(kw)}), imio::ArgumentError);
    CHECK(to_string(read_file(file)) == "previous");
  };
  refused(NDArray({4, 4, 3}, DType::uint8));
  refused(NDArray({4, 4, 3}, DType::uint16));
  refused(NDArray({4, 4, 3}, DType::float64));
  refused(NDArray({4, 4, 3}, DType::uint32), {{"pixel_type", "half"}});
  refused(NDArray({4, 4, 3}, DType::float32), {{"pixel_type", "uint"}});
  refused(NDArray({4}, DType::float32));
  refused(NDArray({0, 4, 3}, DType::float32));
  refused(NDArray({4, 4, 3}, DType::float32), {{"tile_size", 0}});
  refused(NDArray({4, 4, 3}, DType::float32), {{"compression", "jpeg"}});
}

// ---------------------------------------------------------------- damaged and hostile input

namespace {

std::vector<NDArray> two(NDArray a, NDArray b) {
  std::vector<NDArray> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  return v;
}

Bytes encoded(const NDArray& a, imio::Kwargs kw = {}) { return *imio::imwrite("<bytes>", a, {.extension = ".exr", .kwargs = std::move(kw)}); }

// The offset of the value of attribute `name` (of `type`) in the header.
std::size_t attribute_value(const Bytes& b, const std::string& name, const std::string& type) {
  const std::string key = name + std::string(1, '\0') + type + std::string(1, '\0');
  const std::string text = to_string(b);
  const std::size_t at = text.find(key);
  REQUIRE(at != std::string::npos);
  return at + key.size() + 4;
}

void put_le32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

template <class E>
std::string refused(const Bytes& b, imio::Limits limits = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = imio_test::message_of<E>([&] { (void)imio::imread(b, {.extension = ".exr", .limits = limits}); });
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
  CHECK(contains(msg, "openexr"));
  REQUIRE_THROWS_AS(imio::improps(b, {.extension = ".exr", .limits = limits}), E);
  return msg;
}

}  // namespace

TEST_CASE("truncated files raise DecodeError at every length, promptly and silently") {
  const Bytes files[] = {encoded(float_image(40, 50, 3, DType::float16, 1)),
                         encoded(float_image(40, 50, 4, DType::float32, 2), {{"compression", "piz"}, {"tile_size", 16}}),
                         *imio::imwrite("<bytes>", two(float_image(9, 8, 3, DType::float16, 3), float_image(9, 8, 3, DType::float16, 4)),
                                        {.extension = ".exr"}),
                         encoded(float_image(64, 40, 3, DType::float16, 5), {{"compression", "none"}})};
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  for (const Bytes& file : files) {
    for (std::size_t n = 0; n < file.size(); n += std::max<std::size_t>(1, file.size() / 97)) {
      INFO("cut to " << n << " of " << file.size() << " bytes");
      const Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
      const auto t0 = std::chrono::steady_clock::now();
      if (n < 4) {
        REQUIRE_THROWS_AS(imio::imread(cut, {.index = imio::all, .extension = ".exr"}), imio::NoPluginError);
        continue;
      }
      const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(cut, {.index = imio::all, .extension = ".exr"}); });
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
      CHECK(contains(msg, "openexr"));
    }
  }
  CHECK(err.text().empty());
}

TEST_CASE("hostile headers: huge data windows, tiles, chunk counts and channel lists are refused before OpenEXR allocates") {
  const Bytes scan = encoded(float_image(8, 8, 3, DType::float16, 1));
  SECTION("a data window beyond max_pixels") {
    Bytes b = scan;
    const std::size_t dw = attribute_value(b, "dataWindow", "box2i");
    put_le32(b, dw + 8, 99999);
    put_le32(b, dw + 12, 99999);
    CHECK(contains(refused<imio::LimitError>(b), "max_pixels"));
  }
  SECTION("a data window within max_pixels whose offset table the file cannot hold") {
    Bytes b = scan;
    const std::size_t dw = attribute_value(b, "dataWindow", "box2i");
    put_le32(b, dw + 12, 8'000'000);  // 8 x 8e6 pixels: 500000 chunks of 16 lines
    CHECK(contains(refused<imio::DecodeError>(b), "truncated"));
  }
  SECTION("an empty or inverted data window") {
    Bytes b = scan;
    const std::size_t dw = attribute_value(b, "dataWindow", "box2i");
    put_le32(b, dw + 8, static_cast<std::uint32_t>(-5));
    CHECK(contains(refused<imio::DecodeError>(b), "empty"));
  }
  SECTION("1 x 1 tiles on a large data window") {
    Bytes b = encoded(float_image(8, 8, 3, DType::float16, 1), {{"tile_size", 4}});
    const std::size_t tiles = attribute_value(b, "tiles", "tiledesc");
    put_le32(b, tiles, 1);
    put_le32(b, tiles + 4, 1);
    const std::size_t dw = attribute_value(b, "dataWindow", "box2i");
    put_le32(b, dw + 8, 9999);
    put_le32(b, dw + 12, 9999);
    CHECK(contains(refused<imio::DecodeError>(b), "offset tables"));
  }
  SECTION("huge tiles") {
    Bytes b = encoded(float_image(8, 8, 3, DType::float16, 1), {{"tile_size", 4}});
    const std::size_t tiles = attribute_value(b, "tiles", "tiledesc");
    put_le32(b, tiles, 0x7fffffff);
    put_le32(b, tiles + 4, 0x7fffffff);
    const std::size_t dw = attribute_value(b, "dataWindow", "box2i");
    put_le32(b, dw + 8, 9999);
    put_le32(b, dw + 12, 9999);
    refused<imio::LimitError>(b);
  }
  SECTION("tiles far larger than the data window (OpenEXR would size its tile buffers by them)") {
    Bytes b = encoded(float_image(20, 17, 3, DType::float32, 2), {{"tile_size", 8}});
    const std::size_t tiles = attribute_value(b, "tiles", "tiledesc");
    put_le32(b, tiles + 4, 15597576);  // 8 x 15597576 tiles on 17 x 20 pixels: 1.5 GB per tile buffer
    CHECK(contains(refused<imio::DecodeError>(b), "tiles of 8 x 15597576 pixels for a data window of 17 x 20"));
  }
  SECTION("a chunk count that disagrees with the data window") {
    Bytes b = *imio::imwrite("<bytes>", two(float_image(9, 8, 3, DType::float16, 3), float_image(9, 8, 3, DType::float16, 4)),
                             {.extension = ".exr"});
    put_le32(b, attribute_value(b, "chunkCount", "int"), 0x7ffffff0);
    CHECK(contains(refused<imio::DecodeError>(b), "chunkCount"));
  }
  SECTION("an attribute size past the end, a bad pixel type, an unknown compression, a bad version") {
    Bytes b = scan;
    put_le32(b, attribute_value(b, "dataWindow", "box2i") - 4, 0x7ffffff0);
    CHECK(contains(refused<imio::DecodeError>(b), "truncated"));
    b = scan;
    b[attribute_value(b, "compression", "compression")] = std::byte{42};
    CHECK(contains(refused<imio::DecodeError>(b), "compression"));
    b = scan;
    b[4] = std::byte{3};
    CHECK(contains(refused<imio::DecodeError>(b), "version"));
    b = scan;
    const std::size_t chl = attribute_value(b, "channels", "chlist");
    put_le32(b, chl + 2, 7);  // "B\0" then the pixel type
    CHECK(contains(refused<imio::DecodeError>(b), "pixel type"));
  }
  SECTION("limits: parts, bytes and pixels") {
    const Bytes multi = *imio::imwrite("<bytes>", two(float_image(9, 8, 3, DType::float16, 3), float_image(9, 8, 3, DType::float16, 4)),
                                       {.extension = ".exr"});
    refused<imio::LimitError>(multi, {.max_frames = 1});
    REQUIRE_THROWS_AS(imio::imread(scan, {.extension = ".exr", .limits = {.max_pixels = 63}}), imio::LimitError);
    REQUIRE_THROWS_AS(imio::imread(scan, {.extension = ".exr", .limits = {.max_bytes = 300}}), imio::LimitError);
  }
}

TEST_CASE("random damage never crashes, hangs or prints") {
  const Bytes seeds[] = {encoded(float_image(24, 30, 4, DType::float16, 1), {{"compression", "piz"}}),
                         encoded(float_image(20, 17, 3, DType::float32, 2), {{"compression", "dwaa"}, {"tile_size", 8}}),
                         encoded(float_image(20, 17, 3, DType::float16, 2), {{"compression", "b44"}}),
                         encoded(uint_image(9, 11, 1, 3), {{"compression", "rle"}}),
                         *imio::imwrite("<bytes>", two(float_image(9, 8, 3, DType::float16, 3), float_image(5, 6, 1, DType::float32, 4)),
                                        {.extension = ".exr", .kwargs = {{"compression", "pxr24"}}})};
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto run = imio_test::random_damage<imio::DecodeError, imio::LimitError>(
      seeds, imio_test::damage_rounds("IMIO_EXR_FUZZ_ROUNDS", 150), 8, 4242, [](const Bytes& b) {
        for (const NDArray& part : imio::imiter(b, {.extension = ".exr"})) CHECK(part.size() > 0);
        (void)imio::immeta(b, {.extension = ".exr"});
        (void)imio::improps(b, {.extension = ".exr"});
      });
  // IMIO_EXR_FUZZ_SAVE=path keeps the slowest damaged file for a profiler.
  if (const char* save = std::getenv("IMIO_EXR_FUZZ_SAVE")) write_file(save, run.slowest_bytes);
  INFO(run.summary());
  CHECK(err.text().empty());
  CHECK(run.refused > 0);
  CHECK(run.slowest < imio_test::time_bound(1.0));
}
