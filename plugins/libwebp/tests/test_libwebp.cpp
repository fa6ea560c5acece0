// The libwebp plugin. Every test file is made here, at test time, by
// libwebp's own tools (cwebp, img2webp, gif2webp, webpmux from Debian's
// `webp` package) from images Pillow writes; every read is compared with
// Pillow (python3-pil, which decodes through WebPAnimDecoder as well) and
// with dwebp, plus, for animations assembled with explicit blend/dispose
// options, with a reference compositor written from the WebP container
// specification over dwebp's decoding of each frame. Every write is read
// back by Pillow and checked by webpinfo.
#include <imio/imio.hpp>
#include <imio/json.hpp>
#include <imio/plugin.hpp>


#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "stderr_capture.hpp"
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
using imio_test::read_file;
using imio_test::run_python;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

bool have_tool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}
bool pillow_available() { return imio_test::python_has("PIL, numpy"); }
bool tools_available() {
  return pillow_available() && have_tool("cwebp") && have_tool("dwebp") && have_tool("img2webp") && have_tool("gif2webp") &&
         have_tool("webpmux") && have_tool("webpinfo");
}

// Runs `cmd` through the shell with its output in `log`; returns the exit status.
int shell(const imio_test::TempDir& dir, const std::string& cmd, std::string& log) {
  const fs::path out = dir / "shell.log";
  const int status = std::system((cmd + " > \"" + out.string() + "\" 2>&1").c_str());
  log = to_string(read_file(out));
  return status;
}

NDArray noise(Shape shape, unsigned seed) {
  NDArray a(std::move(shape), DType::uint8);
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < a.nbytes(); ++i) {
    x = x * 1664525u + 1013904223u;
    a.bytes()[i] = static_cast<std::byte>(x >> 24);
  }
  return a;
}

// A smooth image with a little noise (compresses like a photograph).
NDArray photo(std::size_t h, std::size_t w, std::size_t c, unsigned seed) {
  NDArray a({h, w, c}, DType::uint8);
  std::uint32_t x = seed;
  auto* p = a.data<std::uint8_t>();
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      for (std::size_t k = 0; k < c; ++k) {
        x = x * 1664525u + 1013904223u;
        const std::size_t base = k == 0 ? i * 255 / w : k == 1 ? y * 255 / h : k == 2 ? (i + y) * 127 / (w + h) : 128 + (i * 7) % 128;
        p[(y * w + i) * c + k] = static_cast<std::uint8_t>(std::min<std::size_t>(255, base + (x >> 28)));
      }
    }
  }
  return a;
}

// Frames [k] of a batch.
NDArray frame_of(const NDArray& batch, std::size_t k) {
  Shape s(batch.shape().begin() + 1, batch.shape().end());
  NDArray f(s, batch.dtype());
  std::memcpy(f.bytes(), batch.bytes() + k * f.nbytes(), f.nbytes());
  return f;
}

using imio_test::StderrCapture;

// ---------------------------------------------------------------- the fixtures

// Makes every test file with libwebp's tools and records what Pillow and
// dwebp read from each: <name>.webp, <name>.pil.npy (all frames, Pillow's
// native mode, (N,H,W,C)), <name>.pil_<MODE>.npy, <name>.dwebp.npy (stills),
// <name>.ref.npy (the specification compositor), <name>.json (Pillow's info).
constexpr const char* kFixtures = R"PY(
import sys, json, subprocess, numpy as np
from PIL import Image
d = sys.argv[1]
rs = np.random.RandomState(7)

def run(*args):
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def photo(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    planes = [x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // (w + h)]
    if c == 4:
        planes.append(np.where((x // 4 + y // 3) % 3 == 0, 0, np.where((x + y) % 5 == 0, 255, (x * 37 + y * 11) % 256)))
    a = np.stack(planes, -1) + rs.randint(0, 24, (h, w, c))
    return np.clip(a, 0, 255).astype(np.uint8)

def png(name, a):
    Image.fromarray(a).save(f'{d}/{name}.png')
    return f'{d}/{name}.png'

def read_pam(path):
    raw = open(path, 'rb').read()
    end = raw.index(b'ENDHDR\n') + 7
    head = dict(l.split(b' ', 1) for l in raw[:end].split(b'\n')[1:-2])
    w, h, c = int(head[b'WIDTH']), int(head[b'HEIGHT']), int(head[b'DEPTH'])
    return np.frombuffer(raw[end:], np.uint8).reshape(h, w, c)

def oracle(name, still):
    f = f'{d}/{name}.webp'
    im = Image.open(f)
    frames, info = [], {'mode': im.mode, 'n': im.n_frames, 'loop': im.info['loop'],
                         'background': list(im.info['background']), 'durations': [], 'timestamps': []}
    for k in ('icc_profile', 'exif', 'xmp'):
        info['has_' + k] = k in im.info
    conv = {m: [] for m in ('RGB', 'RGBA', 'L')}
    for k in range(im.n_frames):
        im.seek(k)
        im.load()
        frames.append(np.asarray(im))
        for m in conv:
            conv[m].append(np.asarray(im.convert(m)))
        info['durations'].append(im.info['duration'])
        info['timestamps'].append(im.info['timestamp'])
    np.save(f'{d}/{name}.pil.npy', np.stack(frames))
    for m in conv:
        np.save(f'{d}/{name}.pil_{m}.npy', np.stack(conv[m]))
    if still:
        run('dwebp', '-quiet', '-pam', f, '-o', f'{d}/{name}.pam')
        np.save(f'{d}/{name}.dwebp.npy', read_pam(f'{d}/{name}.pam'))
    json.dump(info, open(f'{d}/{name}.json', 'w'))

# ---- stills (odd sizes; lossy, lossless, alpha)
rgb, rgba = png('rgb', photo(23, 37, 3)), png('rgba', photo(23, 37, 4))
tiny, thin, tall = png('tiny', photo(1, 1, 3)), png('thin', photo(1, 17, 4)), png('tall', photo(31, 2, 3))
stills = {
    'lossy': ['-q', 75, rgb], 'lossless': ['-lossless', rgb], 'alpha_lossy': ['-q', 60, '-alpha_q', 50, rgba],
    'alpha_lossless': ['-lossless', '-exact', rgba], 'tiny': [tiny], 'thin': ['-lossless', thin],
    'tall': ['-q', 90, '-m', 6, tall], 'sharp_yuv': ['-sharp_yuv', '-q', 85, rgb], 'near_lossless': ['-near_lossless', 40, rgba],
}
for name, args in stills.items():
    run('cwebp', '-quiet', *args, '-o', f'{d}/{name}.webp')
    oracle(name, True)

# ---- metadata chunks through webpmux
open(f'{d}/icc.bin', 'wb').write(b'\0\0\0\x84' + bytes(32) + b'acsp' + bytes(92))  # a well-formed profile without tags
exif = b'II*\x00\x08\x00\x00\x00\x02\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x0f\x01\x02\x00\x05\x00\x00\x00\x26\x00\x00\x00\x00\x00\x00\x00imio\x00'
open(f'{d}/exif.bin', 'wb').write(exif)
open(f'{d}/xmp.bin', 'wb').write(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
run('webpmux', '-set', 'icc', f'{d}/icc.bin', f'{d}/lossy.webp', '-o', f'{d}/m1.webp')
run('webpmux', '-set', 'exif', f'{d}/exif.bin', f'{d}/m1.webp', '-o', f'{d}/m2.webp')
run('webpmux', '-set', 'xmp', f'{d}/xmp.bin', f'{d}/m2.webp', '-o', f'{d}/meta.webp')
oracle('meta', True)

# ---- img2webp: mixed lossy/lossless frames with moving opaque and transparent regions
fr = []
for k in range(6):
    a = photo(21, 33, 4)
    a[..., 3] = 255
    a[2 + k:8 + k, 3 + 2 * k:12 + 2 * k] = [255, 40 * k, 0, 255]
    if k % 2:
        a[12:18, 20:30, 3] = 0
    fr.append(png(f'a{k}', a))
run('img2webp', '-loop', 3, '-d', 80, fr[0], '-lossy', '-q', 50, fr[1], '-lossless', fr[2], '-d', 120, fr[3],
    '-lossy', fr[4], '-d', 40, '-lossless', fr[5], '-o', f'{d}/img2webp_mixed.webp')
oracle('img2webp_mixed', False)
run('img2webp', '-lossy', '-q', 70, '-d', 50, *fr, '-o', f'{d}/img2webp_lossy.webp')
oracle('img2webp_lossy', False)
same = [fr[0], fr[0], fr[1], fr[1], fr[1]]
run('img2webp', '-lossless', '-d', 30, *same, '-o', f'{d}/img2webp_repeat.webp')
oracle('img2webp_repeat', False)

# ---- gif2webp: a GIF with transparency and disposal 2 (blend and dispose in the result)
gif = []
for k in range(5):
    p = np.zeros((19, 27), np.uint8)
    p[k:k + 9, 2 * k:2 * k + 11] = 1 + k
    p[5:7, :] = 7 if k % 2 else 0
    im = Image.fromarray(p, 'P')
    im.putpalette([0, 0, 0, 250, 10, 10, 10, 250, 10, 10, 10, 250, 200, 200, 0, 0, 200, 200, 90, 90, 90, 255, 255, 255] + [0] * 744)
    gif.append(im)
gif[0].save(f'{d}/g.gif', save_all=True, append_images=gif[1:], duration=[70, 80, 90, 100, 110], loop=0,
            transparency=0, disposal=[1, 2, 1, 2, 1])
run('gif2webp', '-quiet', f'{d}/g.gif', '-o', f'{d}/gif2webp.webp')
oracle('gif2webp', False)
run('gif2webp', '-quiet', '-lossy', '-q', 60, f'{d}/g.gif', '-o', f'{d}/gif2webp_lossy.webp')
oracle('gif2webp_lossy', False)

# ---- webpmux: explicit offsets, dispose none/background, blend/no-blend
parts = [  # (size, offset, dispose, blend)
    ((30, 40), (0, 0), 0, False), ((10, 12), (4, 6), 1, True), ((12, 10), (10, 2), 0, True),
    ((8, 8), (20, 12), 1, False), ((16, 20), (16, 8), 0, True), ((30, 40), (0, 0), 0, True),
]
args, planes = [], []
for k, ((h, w), (x, y), dispose, blend) in enumerate(parts):
    a = photo(h, w, 4)
    if k == 5:
        a[..., 3] = np.where(a[..., 3] > 0, 128, 0)
    run('cwebp', '-quiet', '-lossless', '-exact', png(f'p{k}', a), '-o', f'{d}/p{k}.webp')
    args += ['-frame', f'{d}/p{k}.webp', f'+{50 + 10 * k}+{x}+{y}+{dispose}' + ('+b' if blend else '-b')]
run('webpmux', *args, '-loop', 5, '-bgcolor', '255,10,20,30', '-o', f'{d}/mux_blend.webp')
oracle('mux_blend', False)
# The reference: every frame extracted by webpmux, decoded by dwebp and
# composited as the WebP container specification says (non-premultiplied
# alpha blending; disposal clears the frame's rectangle to transparent, as
# libwebp and every browser do, ignoring the ANIM background colour).
canvas = np.zeros((30, 40, 4), np.float64)
out, prev = [], None
for k, ((h, w), (x, y), dispose, blend) in enumerate(parts):
    run('webpmux', '-get', 'frame', k + 1, f'{d}/mux_blend.webp', '-o', f'{d}/x{k}.webp')
    run('dwebp', '-quiet', '-pam', f'{d}/x{k}.webp', '-o', f'{d}/x{k}.pam')
    src = read_pam(f'{d}/x{k}.pam').astype(np.float64)
    if prev is not None and prev[2]:
        (ph, pw), (px, py) = prev[0], prev[1]
        canvas[py:py + ph, px:px + pw] = 0
    dst = canvas[y:y + h, x:x + w]
    if blend:
        sa, da = src[..., 3:] / 255, dst[..., 3:] / 255
        ba = sa + da * (1 - sa)
        rgb = np.where(ba > 0, (src[..., :3] * sa + dst[..., :3] * da * (1 - sa)) / np.maximum(ba, 1e-9), 0)
        mixed = np.concatenate([rgb, ba * 255], -1)
        canvas[y:y + h, x:x + w] = np.where(sa > 0, mixed, dst)
    else:
        canvas[y:y + h, x:x + w] = src
    out.append(np.round(canvas).astype(np.uint8))
    prev = parts[k]
np.save(f'{d}/mux_blend.ref.npy', np.stack(out))
print('fixtures ok')
)PY";

struct Fixtures {
  imio_test::TempDir dir;
  bool ok = false;
  std::string log;
};

// Made once per test run (the tools take a second or two).
Fixtures& fixtures() {
  static Fixtures f;
  static bool made = false;
  if (!made) {
    made = true;
    if (tools_available()) f.ok = run_python(f.dir, kFixtures, f.log) == 0 && contains(f.log, "fixtures ok");
  }
  return f;
}

#define REQUIRE_FIXTURES(var)                                                                 \
  Fixtures& var = fixtures();                                                                 \
  if (!tools_available()) {                                                                   \
    WARN("Pillow or libwebp's tools (Debian: python3-pil, webp) absent: skipped");            \
    return;                                                                                   \
  }                                                                                           \
  INFO(var.log);                                                                              \
  REQUIRE(var.ok)

const char* const kStills[] = {"lossy", "lossless", "alpha_lossy", "alpha_lossless", "tiny",
                               "thin",  "tall",     "sharp_yuv",   "near_lossless",  "meta"};
const char* const kAnimations[] = {"img2webp_mixed", "img2webp_lossy", "img2webp_repeat", "gif2webp", "gif2webp_lossy",
                                   "mux_blend"};

Value info_of(const Fixtures& f, const std::string& name) {
  return imio::from_json(to_string(read_file(f.dir / (name + ".json"))));
}

}  // namespace

// ---------------------------------------------------------------- reading

TEST_CASE("stills made by cwebp read exactly as Pillow and dwebp read them") {
  REQUIRE_FIXTURES(f);
  for (const std::string name : kStills) {
    INFO(name);
    const fs::path webp = f.dir / (name + ".webp");
    const NDArray pil = imio::imread(f.dir / (name + ".pil.npy"));
    const NDArray got = imio::imread(webp);
    CHECK(got == frame_of(pil, 0));
    CHECK(imio::imread(webp, {.index = imio::all}) == pil);
    // dwebp -pam: RGBA, whatever the file holds
    CHECK(imio::imread(webp, {.kwargs = {{"mode", "RGBA"}}}) == imio::imread(f.dir / (name + ".dwebp.npy")));
    const Value info = info_of(f, name);
    CHECK(imio::immeta(webp).get<std::string>("mode") == info.get<imio::Dict>().at("mode").get<std::string>());
  }
}

TEST_CASE("animations made by img2webp, gif2webp and webpmux read frame for frame as Pillow reads them") {
  REQUIRE_FIXTURES(f);
  for (const std::string name : kAnimations) {
    INFO(name);
    const fs::path webp = f.dir / (name + ".webp");
    const NDArray pil = imio::imread(f.dir / (name + ".pil.npy"));
    const NDArray all = imio::imread(webp, {.index = imio::all});
    REQUIRE(all.shape() == pil.shape());
    CHECK(all == pil);
    // imageio's pillow plugin: index omitted → frame 0 for WebP (spec §5.1.4)
    CHECK(imio::imread(webp) == frame_of(pil, 0));
    const std::size_t n = pil.shape()[0];
    for (std::size_t k = 0; k < n; ++k) CHECK(imio::imread(webp, {.index = k}) == frame_of(pil, k));
    REQUIRE_THROWS_AS(imio::imread(webp, {.index = n}), imio::IndexError);
    std::size_t k = 0;
    for (const NDArray& frame : imio::imiter(webp)) CHECK(frame == frame_of(pil, k++));
    CHECK(k == n);
  }
}

TEST_CASE("blend and dispose follow the WebP container specification") {
  REQUIRE_FIXTURES(f);
  // Reference: webpmux's frames decoded by dwebp and composited in floating
  // point (tests' Python). libwebp blends in 8-bit integer arithmetic, which
  // rounds alpha differently, and the colour of a nearly transparent pixel
  // then swings: samples are compared premultiplied by their alpha, within
  // 3/255, and alpha within 2.
  const NDArray ref = imio::imread(f.dir / "mux_blend.ref.npy");
  const NDArray got = imio::imread(f.dir / "mux_blend.webp", {.index = imio::all, .kwargs = {{"mode", "RGBA"}}});
  REQUIRE(got.shape() == ref.shape());
  const auto* g = got.data<std::uint8_t>();
  const auto* r = ref.data<std::uint8_t>();
  std::size_t exact = 0, far = 0;
  for (std::size_t i = 0; i < got.size(); i += 4) {
    exact += std::memcmp(g + i, r + i, 4) == 0 ? 1 : 0;
    if (std::abs(int(g[i + 3]) - int(r[i + 3])) > 2) ++far;
    for (std::size_t c = 0; c < 3; ++c) {
      if (std::abs(double(g[i + c]) * g[i + 3] - double(r[i + c]) * r[i + 3]) / 255.0 > 3.0) ++far;
    }
  }
  CHECK(far == 0);
  CHECK(exact > got.size() / 4 * 3 / 4);  // most pixels are opaque or untouched: exact
}

TEST_CASE("mode= converts every frame as Pillow's convert does") {
  REQUIRE_FIXTURES(f);
  std::vector<std::string> names(std::begin(kStills), std::end(kStills));
  names.insert(names.end(), std::begin(kAnimations), std::end(kAnimations));
  for (const std::string& name : names) {
    for (const char* mode : {"RGB", "RGBA", "L"}) {
      INFO(name << " mode " << mode);
      const NDArray want = imio::imread(f.dir / (name + ".pil_" + mode + ".npy"));
      CHECK(imio::imread(f.dir / (name + ".webp"), {.index = imio::all, .kwargs = {{"mode", mode}}}) == want);
    }
  }
}

TEST_CASE("improps equals imread for every index and mode, without decoding") {
  REQUIRE_FIXTURES(f);
  for (const std::string name : {"lossy", "alpha_lossless", "img2webp_mixed", "gif2webp"}) {
    const fs::path webp = f.dir / (name + ".webp");
    for (const char* mode : {"", "RGB", "RGBA", "L"}) {
      for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
        INFO(name << " mode " << mode << " index " << index.repr());
        imio::Kwargs kw;
        if (*mode) kw = {{"mode", mode}};
        const NDArray a = imio::imread(webp, {.index = index, .kwargs = kw});
        const auto p = imio::improps(webp, {.index = index, .kwargs = kw});
        CHECK(p.shape == a.shape());
        CHECK(p.dtype == a.dtype());
        CHECK(p.is_batch == index.is_all());
        if (index.is_all()) CHECK(p.n_images == a.shape()[0]);
      }
    }
  }
}

TEST_CASE("immeta: loop, background, per-frame durations and Pillow's info keys") {
  REQUIRE_FIXTURES(f);
  std::vector<std::string> names(std::begin(kStills), std::end(kStills));
  names.insert(names.end(), std::begin(kAnimations), std::end(kAnimations));
  for (const std::string& name : names) {
    INFO(name);
    const fs::path webp = f.dir / (name + ".webp");
    const imio::Dict info = info_of(f, name).get<imio::Dict>();
    const imio::Metadata m = imio::immeta(webp);
    CHECK(m.get<std::int64_t>("loop") == info.at("loop").get<std::int64_t>());
    CHECK(m.at("background") == info.at("background"));
    CHECK(m.get<std::string>("mode") == info.at("mode").get<std::string>());
    const auto n = static_cast<std::size_t>(info.at("n").get<std::int64_t>());
    CHECK(imio::improps(webp, {.index = imio::all}).n_images == n);
    for (const char* key : {"icc_profile", "exif", "xmp"}) CHECK(m.contains(key) == info.at(std::string("has_") + key).get<bool>());
    if (n == 1) continue;
    const auto& durations = info.at("durations").get<Value::List>();
    const auto& timestamps = info.at("timestamps").get<Value::List>();
    for (std::size_t k = 0; k < n; ++k) {
      const imio::Metadata mk = imio::immeta(webp, {.index = k});
      CHECK(mk.get<std::int64_t>("duration") == durations[k].get<std::int64_t>());
      CHECK(mk.get<std::int64_t>("timestamp") == timestamps[k].get<std::int64_t>());
      CHECK(mk.contains("bbox"));
      CHECK(mk.contains("lossless"));
    }
  }
  // values the tools were told to write
  const imio::Metadata mux = imio::immeta(f.dir / "mux_blend.webp", {.index = 1});
  CHECK(mux.get<std::int64_t>("loop") == 5);
  CHECK(mux.at("background") == Value(Value::List{10, 20, 30, 255}));
  CHECK(mux.at("bbox") == Value(Value::List{4, 6, 16, 16}));
  CHECK(mux.get<std::int64_t>("disposal") == 1);
  CHECK(mux.get<std::int64_t>("blend") == 1);
  CHECK(mux.get<bool>("lossless"));
  CHECK(imio::immeta(f.dir / "mux_blend.webp", {.index = 3}).get<std::int64_t>("blend") == 0);
  CHECK(imio::immeta(f.dir / "img2webp_mixed.webp").get<std::int64_t>("loop") == 3);
  CHECK_FALSE(imio::immeta(f.dir / "lossy.webp").get<bool>("lossless"));
  CHECK(imio::immeta(f.dir / "lossless.webp").get<bool>("lossless"));
  CHECK(imio::immeta(f.dir / "lossy.webp").at("shape") == Value(Value::List{37, 23}));
  CHECK_FALSE(imio::immeta(f.dir / "gif2webp_lossy.webp", {.index = 0}).get<bool>("lossless"));
}

TEST_CASE("ICC, EXIF and XMP chunks; EXIF tags through the core reader; rotate") {
  REQUIRE_FIXTURES(f);
  const fs::path webp = f.dir / "meta.webp";
  const imio::Metadata m = imio::immeta(webp);
  CHECK(m.get<Bytes>("icc_profile") == read_file(f.dir / "icc.bin"));
  CHECK(m.get<Bytes>("exif") == read_file(f.dir / "exif.bin"));
  CHECK(m.get<Bytes>("xmp") == read_file(f.dir / "xmp.bin"));
  CHECK(m.get<std::int64_t>("Orientation") == 6);  // D17: shown, the read does not rotate
  CHECK(m.get<std::string>("Make") == "imio");
  CHECK_FALSE(imio::immeta(webp, {.kwargs = {{"rotate", true}}}).contains("Orientation"));
  const NDArray plain = imio::imread(webp);
  const NDArray turned = imio::imread(webp, {.kwargs = {{"rotate", true}}});
  REQUIRE(turned.shape() == Shape{37, 23, 3});
  CHECK(imio::improps(webp, {.kwargs = {{"rotate", true}}}).shape == turned.shape());
  CHECK(imio::improps(webp, {.index = imio::all, .kwargs = {{"rotate", true}}}).shape == Shape{1, 37, 23, 3});
  // orientation 6: rotate 90° clockwise — out[i][j] = in[H-1-j][i]
  const std::size_t h = 23, w = 37;
  bool same = true;
  for (std::size_t i = 0; i < w && same; ++i) {
    for (std::size_t j = 0; j < h && same; ++j) {
      same = std::memcmp(turned.data<std::uint8_t>() + (i * h + j) * 3, plain.data<std::uint8_t>() + ((h - 1 - j) * w + i) * 3, 3) == 0;
    }
  }
  CHECK(same);
}

TEST_CASE("unknown kwargs and unknown modes are ArgumentErrors in every read method") {
  const auto bytes = *imio::imwrite("<bytes>", noise({4, 5, 3}, 1), {.extension = ".webp"});
  for (const imio::Kwargs& bad : {imio::Kwargs{{"pilmode", "L"}}, imio::Kwargs{{"mode", "CMYK"}}}) {
    REQUIRE_THROWS_AS(imio::imread(bytes, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::improps(bytes, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(imio::immeta(bytes, {.kwargs = bad}), imio::ArgumentError);
    REQUIRE_THROWS_AS(
        [&] {
          for (const NDArray& fr : imio::imiter(bytes, {.kwargs = bad})) (void)fr;
        }(),
        imio::ArgumentError);
  }
  CHECK(imio::imread(bytes, {.kwargs = {{"apply_gamma", true}, {"writeable_output", false}}}).shape() == Shape{4, 5, 3});
  REQUIRE_THROWS_AS(imio::imread(bytes, {.index = 1}), imio::IndexError);
}

TEST_CASE(".webp goes to libwebp first; pillow selects it; the signature finds it under any name") {
  REQUIRE(imio::has_plugin("libwebp"));
  const auto bytes = *imio::imwrite("<bytes>", noise({6, 7, 3}, 2), {.extension = ".webp", .kwargs = {{"lossless", true}}});
  imio_test::TempDir dir;
  write_file(dir / "x.webp", bytes);
  write_file(dir / "x", bytes);
  write_file(dir / "x.png", bytes);  // a lying extension: FFmpeg (second for .png) leaves WebP images to libwebp
  for (const fs::path& p : {dir / "x.webp", dir / "x", dir / "x.png"}) {
    auto file = imio::imopen(p, "r");
    CHECK(file.plugin_name() == "libwebp");
  }
  auto file = imio::imopen(dir / "x.webp", "r", {.plugin = "pillow"});
  CHECK(file.plugin_name() == "libwebp");
  CHECK(imio::imread(dir / "x") == noise({6, 7, 3}, 2));
}

// ---------------------------------------------------------------- writing

TEST_CASE("imio's WebP files are byte-identical to Pillow's for the same array and keywords") {
  if (!pillow_available()) {
    WARN("Pillow absent: skipped");
    return;
  }
  imio_test::TempDir dir;
  struct Case {
    std::string name;
    NDArray image;
    imio::Kwargs imio_kw;
    std::string pillow_kw;
    bool batch = false;
  };
  const NDArray rgb = photo(23, 37, 3, 1), rgba = photo(23, 37, 4, 2);
  NDArray frames({4, 21, 33, 4}, DType::uint8);
  for (std::size_t k = 0; k < 4; ++k) {
    const NDArray fr = photo(21, 33, 4, 10 + static_cast<unsigned>(k));
    std::memcpy(frames.bytes() + k * fr.nbytes(), fr.bytes(), fr.nbytes());
  }
  std::vector<Case> cases;
  const auto add = [&](std::string name, const NDArray& image, imio::Kwargs kw, std::string pillow_kw, bool batch = false) {
    cases.push_back(Case{std::move(name), image.copy(), std::move(kw), std::move(pillow_kw), batch});
  };
  add("q80", rgb, {}, "");
  add("q30m6", rgb, {{"quality", 30}, {"method", 6}}, "quality=30, method=6");
  add("lossless", rgb, {{"lossless", true}}, "lossless=True");
  add("alpha", rgba, {{"quality", 70}}, "quality=70");
  add("alpha_exact", rgba, {{"lossless", true}, {"exact", true}}, "lossless=True, exact=True");
  add("anim", frames, {{"duration", Value::List{10, 20, 30, 40}}, {"loop", 2}}, "duration=[10, 20, 30, 40], loop=2", true);
  add("anim_ll", frames, {{"duration", 70}, {"lossless", true}, {"background", Value::List{1, 2, 3, 4}}},
      "duration=70, lossless=True, background=(1, 2, 3, 4)", true);
  add("anim_min", frames, {{"minimize_size", true}, {"quality", 50}, {"method", 3}}, "minimize_size=True, quality=50, method=3",
      true);
  add("anim_k", frames, {{"kmin", 1}, {"kmax", 2}, {"allow_mixed", true}}, "kmin=1, kmax=2, allow_mixed=True", true);

  std::string script = "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n";
  for (const Case& c : cases) {
    imio::imwrite(dir / (c.name + ".npy"), c.image);
    imio::imwrite(dir / (c.name + ".webp"), c.image, {.kwargs = c.imio_kw});
    const std::string kw = c.pillow_kw.empty() ? "" : ", " + c.pillow_kw;
    script += "a = np.load(d + '/" + c.name + ".npy')\n";
    if (c.batch) {
      script += "ims = [Image.fromarray(f) for f in a]\nims[0].save(d + '/" + c.name +
                "-pil.webp', save_all=True, append_images=ims[1:]" + kw + ")\n";
    } else {
      script += "Image.fromarray(a).save(d + '/" + c.name + "-pil.webp'" + kw + ")\n";
    }
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(read_file(dir / (c.name + ".webp")) == read_file(dir / (c.name + "-pil.webp")));
  }
}

TEST_CASE("lossless writes read back exactly in imio and Pillow, and pass webpinfo") {
  struct Case {
    std::string name;
    NDArray image;
  };
  NDArray bw({9, 14}, DType::bool_);
  for (std::size_t i = 0; i < bw.size(); ++i) bw.data<bool>()[i] = (i * 7) % 3 == 0;
  NDArray opaque_la = noise({9, 14, 2}, 4);
  for (std::size_t i = 0; i < 9 * 14; ++i) opaque_la.data<std::uint8_t>()[2 * i + 1] |= 1;  // alpha > 0: RGB kept
  NDArray rgba = noise({9, 14, 4}, 5);
  std::vector<Case> cases;
  cases.push_back({"rgb", noise({9, 14, 3}, 3)});
  cases.push_back({"rgba", std::move(rgba)});
  cases.push_back({"gray", noise({9, 14}, 6)});
  cases.push_back({"la", std::move(opaque_la)});
  cases.push_back({"bw", std::move(bw)});
  cases.push_back({"one", noise({1, 1, 3}, 7)});

  imio_test::TempDir dir;
  std::string script = "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n";
  for (const Case& c : cases) {
    INFO(c.name);
    const fs::path p = dir / (c.name + ".webp");
    imio::imwrite(p, c.image, {.kwargs = {{"lossless", true}, {"exact", true}}});
    // stored as RGB(A), as Pillow stores L and LA
    NDArray back = imio::imread(p);
    const std::size_t ch = back.shape()[2], n = back.shape()[0] * back.shape()[1];
    const std::size_t src_ch = c.image.ndim() == 2 ? 1 : c.image.shape()[2];
    bool same = true;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < ch; ++k) {
        int want = 0;
        if (c.image.dtype() == DType::bool_) {
          want = c.image.data<bool>()[i] ? 255 : 0;
        } else if (src_ch <= 2) {
          want = c.image.data<std::uint8_t>()[i * src_ch + (k == 3 ? 1 : 0)];
        } else {
          want = c.image.data<std::uint8_t>()[i * src_ch + k];
        }
        same = same && back.data<std::uint8_t>()[i * ch + k] == want;
      }
    }
    CHECK(same);
    CHECK(ch == (src_ch == 2 || src_ch == 4 ? 4u : 3u));
    script += "np.save(d + '/" + c.name + ".npy', np.asarray(Image.open(d + '/" + c.name + ".webp')))\n";
  }
  if (!pillow_available() || !have_tool("webpinfo")) {
    WARN("Pillow or webpinfo absent: the independent checks are skipped");
    return;
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(imio::imread(dir / (c.name + ".npy")) == imio::imread(dir / (c.name + ".webp")));
    REQUIRE(shell(dir, "webpinfo -quiet \"" + (dir / (c.name + ".webp")).string() + "\"", log) == 0);
  }
}

TEST_CASE("lossy writes stay within a stated tolerance of the original") {
  // Tolerance (stated in the README): a smooth 12-bit-noise photo-like RGB
  // image at quality 90 comes back with PSNR ≥ 35 dB, and alpha at the
  // default alpha_quality 100 is exact.
  const NDArray a = photo(64, 96, 4, 9);
  const auto bytes = *imio::imwrite("<bytes>", a, {.extension = ".webp", .kwargs = {{"quality", 90}}});
  const NDArray back = imio::imread(bytes);
  REQUIRE(back.shape() == a.shape());
  double se = 0;
  bool alpha_exact = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a.data<std::uint8_t>()[i]) - double(back.data<std::uint8_t>()[i]);
    if (i % 4 == 3) {
      alpha_exact = alpha_exact && d == 0;
    } else {
      se += d * d;
    }
  }
  const double psnr = 10 * std::log10(255.0 * 255.0 / (se / double(a.size() / 4 * 3)));
  INFO("PSNR " << psnr);
  CHECK(psnr >= 35);
  CHECK(alpha_exact);
  CHECK(bytes.size() < a.nbytes() / 3);
  // quality orders the sizes
  const auto small = *imio::imwrite("<bytes>", a, {.extension = ".webp", .kwargs = {{"quality", 10}}});
  CHECK(small.size() < bytes.size());
}

TEST_CASE("animated writes read back in Pillow with the durations and loop written") {
  const std::size_t n = 6;
  NDArray frames({n, 17, 25, 3}, DType::uint8);
  for (std::size_t k = 0; k < n; ++k) {
    const NDArray fr = noise({17, 25, 3}, 20 + static_cast<unsigned>(k));
    std::memcpy(frames.bytes() + k * fr.nbytes(), fr.bytes(), fr.nbytes());
  }
  imio_test::TempDir dir;
  const fs::path p = dir / "anim.webp";
  const Value::List durations{100, 40, 250, 10, 0, 1234};
  imio::imwrite(p, frames, {.kwargs = {{"duration", durations}, {"loop", 7}, {"lossless", true}}});
  CHECK(imio::imread(p, {.index = imio::all}) == frames);
  CHECK(imio::improps(p, {.index = imio::all}).shape == Shape{n, 17, 25, 3});
  for (std::size_t k = 0; k < n; ++k) CHECK(imio::immeta(p, {.index = k}).get<std::int64_t>("duration") == durations[k].get<std::int64_t>());
  CHECK(imio::immeta(p).get<std::int64_t>("loop") == 7);
  // a list of frames is a batch too
  std::vector<NDArray> list;
  for (std::size_t k = 0; k < n; ++k) list.push_back(frame_of(frames, k));
  const auto from_list = *imio::imwrite("<bytes>", list, {.extension = ".webp", .kwargs = {{"lossless", true}}});
  CHECK(imio::imread(from_list, {.index = imio::all}) == frames);
  if (!pillow_available() || !have_tool("webpinfo")) {
    WARN("Pillow or webpinfo absent: the independent checks are skipped");
    return;
  }
  std::string log;
  REQUIRE(run_python(dir,
                     "import sys, numpy as np\nfrom PIL import Image\nd = sys.argv[1]\n"
                     "im = Image.open(d + '/anim.webp')\nfr, du = [], []\n"
                     "for k in range(im.n_frames):\n    im.seek(k); im.load(); fr.append(np.asarray(im.convert('RGB'))); "
                     "du.append(im.info['duration'])\n"
                     "np.save(d + '/anim.npy', np.stack(fr))\nprint('loop', im.info['loop'], 'durations', du)\n",
                     log) == 0);
  CHECK(imio::imread(dir / "anim.npy") == frames);
  CHECK(contains(log, "loop 7 durations [100, 40, 250, 10, 0, 1234]"));
  REQUIRE(shell(dir, "webpinfo \"" + p.string() + "\"", log) == 0);
  CHECK(contains(log, "No error detected"));
  CHECK(contains(log, "Loop count      : 7"));
}

TEST_CASE("metadata keywords are written as ICCP, EXIF and XMP chunks") {
  const NDArray a = noise({8, 10, 3}, 11);
  // the smallest well-formed ICC profile (header: size, 'acsp'; no tags):
  // immeta reads its description, and a malformed one is a DecodeError
  Bytes icc(132);
  icc[3] = std::byte{132};
  std::memcpy(icc.data() + 36, "acsp", 4);
  const Bytes xmp = to_bytes("<x:xmpmeta/>");
  const unsigned char exif[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
  const Bytes exif_bytes(reinterpret_cast<const std::byte*>(exif), reinterpret_cast<const std::byte*>(exif) + sizeof exif);
  Bytes app1 = to_bytes(std::string("Exif\0\0", 6));
  app1.insert(app1.end(), exif_bytes.begin(), exif_bytes.end());
  NDArray two({2, 8, 10, 3}, DType::uint8);
  std::memcpy(two.bytes(), a.bytes(), a.nbytes());
  imio_test::TempDir dir;
  for (const auto& [name, image] : {std::pair<std::string, NDArray>{"still", a.copy()}, {"anim", two.copy()}}) {
    INFO(name);
    const fs::path p = dir / (name + ".webp");
    imio::imwrite(p, image, {.kwargs = {{"icc_profile", icc}, {"exif", app1}, {"xmp", "<x:xmpmeta/>"}}});
    const imio::Metadata m = imio::immeta(p);
    CHECK(m.get<Bytes>("icc_profile") == icc);
    CHECK(m.get<Bytes>("exif") == exif_bytes);  // the APP1 prefix is removed
    CHECK(m.get<Bytes>("xmp") == xmp);
    CHECK(m.get<std::int64_t>("Orientation") == 3);
    if (!have_tool("webpinfo") || !pillow_available()) continue;
    std::string log;
    REQUIRE(shell(dir, "webpinfo \"" + p.string() + "\"", log) == 0);
    CHECK(contains(log, "Chunk ICCP"));
    CHECK(contains(log, "Chunk EXIF"));
    CHECK(contains(log, "Chunk XMP"));
    REQUIRE(run_python(dir,
                       "import sys\nfrom PIL import Image\nim = Image.open(sys.argv[1] + '/" + name +
                           ".webp')\nprint(len(im.info['icc_profile']), im.info['xmp'], im.getexif()[274])\n",
                       log) == 0);
    CHECK(contains(log, "132 b'<x:xmpmeta/>' 3"));
  }
}

TEST_CASE("several write calls on one handle make one animation (spec 5.1.6 Buffering)") {
  imio_test::TempDir dir;
  const fs::path p = dir / "calls.webp";
  const NDArray f0 = noise({9, 7, 3}, 1), f1 = noise({9, 7, 4}, 2), f23 = noise({2, 9, 7, 3}, 3);
  {
    auto file = imio::imopen(p, "w");
    file.write(f0, {{"loop", 3}, {"duration", 50}, {"lossless", true}});
    file.write(f1);
    REQUIRE_THROWS_AS(file.write(noise({9, 8, 3}, 4)), imio::ArgumentError);  // another canvas size
    file.write(f23, {{"duration", Value::List{10, 20, 30, 40}}});
    file.close();
  }
  REQUIRE(imio::improps(p, {.index = imio::all}).n_images == 4);
  const NDArray back = imio::imread(p, {.index = imio::all, .kwargs = {{"mode", "RGB"}}});
  CHECK(frame_of(back, 0) == f0);
  CHECK(frame_of(back, 2) == frame_of(f23, 0));
  CHECK(imio::immeta(p, {.index = 3}).get<std::int64_t>("duration") == 40);
  CHECK(imio::immeta(p).get<std::int64_t>("loop") == 3);
  // one frame in total: a still image, as Pillow's _save_all does
  std::vector<NDArray> single;
  single.push_back(f0.copy());
  const auto one = *imio::imwrite("<bytes>", single, {.extension = ".webp"});
  CHECK_FALSE(imio::immeta(one).contains("duration"));
  CHECK(imio::imread(one).shape() == Shape{9, 7, 3});
}

TEST_CASE("writes that cannot be WebP fail before the target is touched") {
  imio_test::TempDir dir;
  const fs::path p = dir / "keep.webp";
  write_file(p, to_bytes("previous"));
  const auto refused = [&](const NDArray& a, imio::Kwargs kw = {}) {
    REQUIRE_THROWS_AS(imio::imwrite(p, a, {.kwargs = std::move(kw)}), imio::ArgumentError);
  };
  refused(NDArray({4, 4, 1}, DType::uint8));
  refused(NDArray({4, 4}, DType::uint16));
  refused(NDArray({4, 4, 3}, DType::float32));
  refused(NDArray({4, 16384, 3}, DType::uint8));
  refused(NDArray({2, 4, 4, 5}, DType::uint8));
  refused(noise({4, 4, 3}, 1), {{"qualty", 3}});
  refused(noise({4, 4, 3}, 1), {{"quality", 101}});
  refused(noise({4, 4, 3}, 1), {{"method", 7}});
  refused(noise({4, 4, 3}, 1), {{"mode", "RGBA"}});
  refused(noise({4, 4, 3}, 1), {{"background", Value::List{1, 2, 3}}});
  refused(noise({3, 4, 4, 3}, 1), {{"duration", Value::List{1, 2}}});
  refused(noise({3, 4, 4, 3}, 1), {{"duration", -1}});
  refused(noise({3, 4, 4, 3}, 1), {{"loop", 65536}});
  CHECK(to_string(read_file(p)) == "previous");
}

// ---------------------------------------------------------------- damaged input

namespace {

Bytes small_animation() {
  NDArray frames({3, 6, 8, 4}, DType::uint8);
  for (std::size_t i = 0; i < frames.nbytes(); ++i) frames.bytes()[i] = static_cast<std::byte>((i * 37) % 251);
  return *imio::imwrite("<bytes>", frames, {.extension = ".webp", .kwargs = {{"lossless", true}, {"duration", 40}}});
}

std::uint32_t le32(const Bytes& b, std::size_t at) {
  return std::uint32_t(b[at]) | (std::uint32_t(b[at + 1]) << 8) | (std::uint32_t(b[at + 2]) << 16) | (std::uint32_t(b[at + 3]) << 24);
}
void put_le24(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 3; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (8 * i));
}
void put_le32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (8 * i));
}
// The offset of the first top-level chunk `id`.
std::size_t chunk_at(const Bytes& b, const char* id) {
  for (std::size_t pos = 12; pos + 8 <= b.size();) {
    if (std::memcmp(b.data() + pos, id, 4) == 0) return pos;
    const std::size_t size = le32(b, pos + 4);
    pos += 8 + size + (size & 1);
  }
  FAIL("no chunk " << id);
  return 0;
}

// Every call an imio error (DecodeError or LimitError, or IndexError for
// imread beyond the frames), within a second, and nothing on stderr.
void refused_everywhere(const Bytes& data, const std::string& what) {
  INFO(what);
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto t0 = std::chrono::steady_clock::now();
  int failures = 0;
  const auto attempt = [&](auto&& f) {
    try {
      f();
    } catch (const imio::DecodeError&) {
      ++failures;
    } catch (const imio::LimitError&) {
      ++failures;
    }
  };
  attempt([&] { (void)imio::imread(data, {.extension = ".webp"}); });
  attempt([&] { (void)imio::imread(data, {.index = imio::all, .extension = ".webp"}); });
  attempt([&] { (void)imio::improps(data, {.extension = ".webp"}); });
  attempt([&] { (void)imio::immeta(data, {.extension = ".webp"}); });
  attempt([&] {
    for (const NDArray& f : imio::imiter(data, {.extension = ".webp"})) (void)f;
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string printed = err.text();
  CHECK(printed.empty());
  CHECK(s < imio_test::time_bound(5.0));  // five calls, each well under a second
  CHECK(failures >= 2);  // imread(all) and imiter decode every frame
}

}  // namespace

TEST_CASE("truncated files raise DecodeError at every length, promptly and silently") {
  const Bytes anim = small_animation();
  const Bytes still = *imio::imwrite("<bytes>", photo(40, 50, 3, 3), {.extension = ".webp"});
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  for (const Bytes* file : {&anim, &still}) {
    for (std::size_t n = 12; n < file->size(); n += std::max<std::size_t>(1, file->size() / 97)) {
      INFO("cut to " << n << " of " << file->size() << " bytes");
      const Bytes cut(file->begin(), file->begin() + static_cast<std::ptrdiff_t>(n));
      const auto t0 = std::chrono::steady_clock::now();
      const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(cut, {.index = imio::all, .extension = ".webp"}); });
      CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
      CHECK(contains(msg, "libwebp"));
      CHECK(contains(msg, "truncated"));
      REQUIRE_THROWS_AS(imio::improps(cut, {.extension = ".webp"}), imio::DecodeError);
    }
  }
  CHECK(err.text().empty());
}

TEST_CASE("hostile containers: chunk sizes, frames outside the canvas, zero sizes, huge canvases and frame counts") {
  const Bytes anim = small_animation();
  SECTION("a chunk size past the end") {
    Bytes b = anim;
    put_le32(b, chunk_at(b, "ANMF") + 4, 0x7ffffff0);
    refused_everywhere(b, "ANMF size");
    CHECK(contains(imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.extension = ".webp"}); }),
                   "announces"));
  }
  SECTION("a RIFF size past the end") {
    Bytes b = anim;
    put_le32(b, 4, static_cast<std::uint32_t>(b.size() + 100));
    refused_everywhere(b, "RIFF size");
  }
  SECTION("a frame outside the canvas") {
    Bytes b = anim;
    put_le24(b, chunk_at(b, "ANMF") + 8, 2);  // x offset 4 for an 8-wide frame on an 8-wide canvas
    refused_everywhere(b, "ANMF x");
    CHECK(contains(imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.extension = ".webp"}); }),
                   "outside the 8x6 canvas"));
  }
  SECTION("a zero-sized lossy image") {
    Bytes b = *imio::imwrite("<bytes>", photo(16, 16, 3, 1), {.extension = ".webp"});
    const std::size_t vp8 = chunk_at(b, "VP8 ");
    b[vp8 + 8 + 6] = std::byte{0};  // 14-bit width after the 3-byte tag and the start code
    b[vp8 + 8 + 7] = std::byte{0};
    refused_everywhere(b, "VP8 width 0");
  }
  SECTION("a canvas beyond the default pixel limit") {
    Bytes b = anim;
    const std::size_t vp8x = chunk_at(b, "VP8X");
    put_le24(b, vp8x + 12, 20000 - 1);
    put_le24(b, vp8x + 15, 20000 - 1);
    refused_everywhere(b, "VP8X 20000x20000");
    REQUIRE_THROWS_AS(imio::improps(b, {.extension = ".webp"}), imio::LimitError);
  }
  SECTION("more frames than the limit allows") {
    REQUIRE_THROWS_AS(imio::improps(anim, {.extension = ".webp", .limits = {.max_frames = 2}}), imio::LimitError);
    REQUIRE_THROWS_AS(imio::imread(anim, {.extension = ".webp", .limits = {.max_frames = 2}}), imio::LimitError);
    REQUIRE_THROWS_AS(imio::imread(anim, {.index = imio::all, .extension = ".webp", .limits = {.max_bytes = 300}}),
                      imio::LimitError);
  }
  SECTION("a corrupt late frame on a huge, mostly empty canvas is found before compositing") {
    Bytes b = anim;
    // an 8 x 2e7 canvas: 1.6e8 pixels, within the default limit; compositing the
    // two frames before the damaged one would take seconds
    put_le24(b, chunk_at(b, "VP8X") + 15, 20'000'000 - 1);
    const std::size_t first = chunk_at(b, "ANMF");
    const std::size_t second = first + 8 + le32(b, first + 4);
    const std::size_t third = second + 8 + le32(b, second + 4);
    const std::size_t vp8l = third + 8 + 16;
    REQUIRE(std::memcmp(b.data() + vp8l, "VP8L", 4) == 0);
    for (std::size_t i = vp8l + 8 + 5; i < vp8l + 8 + le32(b, vp8l + 4); ++i) b[i] = std::byte{0xff};
    const auto t0 = std::chrono::steady_clock::now();
    const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.index = imio::all, .extension = ".webp"}); });
    CHECK(contains(msg, "frame 2"));
    REQUIRE_THROWS_AS(imio::imread(b, {.index = 2, .extension = ".webp"}), imio::DecodeError);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < imio_test::time_bound(1.0));
  }
  SECTION("a corrupt frame bitstream names the frame") {
    Bytes b = anim;
    const std::size_t anmf = chunk_at(b, "ANMF");
    const std::size_t second = anmf + 8 + le32(b, anmf + 4);
    // the second frame's VP8L data after its 5-byte header (ANMF header 8,
    // ANMF fields 16, VP8L chunk header 8)
    const std::size_t vp8l = second + 8 + 16;
    REQUIRE(std::memcmp(b.data() + vp8l, "VP8L", 4) == 0);
    for (std::size_t i = vp8l + 8 + 5; i < vp8l + 8 + le32(b, vp8l + 4); ++i) b[i] = std::byte{0xff};
    const std::string msg = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(b, {.index = imio::all, .extension = ".webp"}); });
    CHECK(contains(msg, "frame 1"));
    CHECK(imio::imread(b, {.extension = ".webp"}).shape() == Shape{6, 8, 4});  // frame 0 still decodes
  }
}

TEST_CASE("random damage never crashes, hangs or prints") {
  const Bytes seeds[] = {small_animation(), *imio::imwrite("<bytes>", photo(20, 30, 4, 5), {.extension = ".webp"}),
                         *imio::imwrite("<bytes>", photo(20, 30, 3, 6), {.extension = ".webp", .kwargs = {{"lossless", true}}})};
  imio_test::TempDir dir;
  StderrCapture err(dir / "stderr.txt");
  const auto run = imio_test::random_damage<imio::DecodeError, imio::LimitError>(
      seeds, imio_test::damage_rounds("IMIO_WEBP_FUZZ_ROUNDS", 150), 12, 12345, [](const Bytes& b) {
        const NDArray a = imio::imread(b, {.index = imio::all, .extension = ".webp"});
        CHECK(a.size() > 0);
        CHECK(imio::improps(b, {.index = imio::all, .extension = ".webp"}).shape == a.shape());
        (void)imio::immeta(b, {.index = 0, .extension = ".webp"});
        std::size_t n = 0;
        for (const NDArray& f : imio::imiter(b, {.extension = ".webp"})) n += f.size() > 0 ? 1 : 0;
        CHECK(n == a.shape()[0]);
      });
  INFO(run.summary());
  CHECK(err.text().empty());
  CHECK(run.refused > 0);
  // Damage found late costs the frames before it; a flipped canvas size can
  // also make a valid file with a canvas of many megapixels (decoded within
  // the Limits, in time proportional to it). The refusals must be prompt.
  CHECK(run.slowest_refusal < imio_test::time_bound(1.0));
}

TEST_CASE("WebP files in the corpus's corrupt and fuzz-seed folders raise imio errors") {
  const fs::path root = imio_test::corpus_dir();
  std::vector<fs::path> files;
  for (const char* sub : {"corrupt", "fuzz-seeds"}) {
    if (root.empty() || !fs::is_directory(root / sub)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / sub)) {
      if (!e.is_regular_file() || e.file_size() < 12) continue;
      const Bytes head = [&] {
        Bytes h = read_file(e.path());
        h.resize(12);
        return h;
      }();
      if (std::memcmp(head.data(), "RIFF", 4) == 0 && std::memcmp(head.data() + 8, "WEBP", 4) == 0) files.push_back(e.path());
    }
  }
  if (files.empty()) {
    WARN("the corpus holds no WebP file in corrupt/ or fuzz-seeds/: nothing to check");
    return;
  }
  for (const fs::path& p : files) {
    INFO(p.string());
    try {
      (void)imio::imread(p, {.index = imio::all});
    } catch (const imio::DecodeError&) {
    } catch (const imio::LimitError&) {
    }
  }
}
