// GIFs of the real world that imio used to misread (issue #19 classes 8, 9,
// 10, 16): disposal to background in a file without local palettes, a later
// frame with a local gray palette and transparency, an LZW minimum code size
// above 8, a frame wholly off the screen. The files are written here byte by
// byte (a small GIF writer in Python, LZW with a clear code every few
// hundred codes) and Pillow 9.4, read as imageio reads GIFs, is the oracle
// where it follows GIF89a.
#include <imio/imio.hpp>

#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>

#include "catch.hpp"
#include "oracle_compare.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::NDArray;

bool pillow_available() { return imio_test::python_has("numpy, PIL"); }

// gif(w, h, frames): frames are dicts with 'pixels' (2-D index array),
// optional 'left', 'top', 'transparency', 'disposal', 'local' (768 bytes),
// 'code_size', 'interlace'. The global table is a colour (non-gray) palette.
constexpr const char* kGifWriter = R"(
import sys, os, struct, numpy, warnings
from PIL import Image, ImageSequence, GifImagePlugin
d = sys.argv[1]
p = lambda n: os.path.join(d, n)
PALETTE = bytes((i * 7 % 256, 255 - i, i * 13 % 256)[k] for i in range(256) for k in range(3))
GRAY = bytes(i for i in range(256) for _ in range(3))
def lzw(indices, mcs):
    clear, width = 1 << mcs, mcs + 1
    limit = (1 << width) - clear - 4
    codes, run = [clear], 0
    for v in indices:
        if run == limit:
            codes.append(clear)
            run = 0
        codes.append(int(v))
        run += 1
    codes.append(clear + 1)
    bits, nbits, out = 0, 0, bytearray()
    for c in codes:
        bits |= c << nbits
        nbits += width
        while nbits >= 8:
            out.append(bits & 255)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 255)
    blocks = bytearray()
    for i in range(0, len(out), 255):
        blocks += bytes([len(out[i:i + 255])]) + out[i:i + 255]
    return bytes(blocks) + b'\0'
def gif(w, h, frames):
    o = bytearray(b'GIF89a' + struct.pack('<HHBBB', w, h, 0xF7, 0, 0) + PALETTE)
    for f in frames:
        px = numpy.asarray(f['pixels'], numpy.uint8)
        t = f.get('transparency')
        flags = (f.get('disposal', 0) << 2) | (1 if t is not None else 0)
        o += b'\x21\xf9\x04' + struct.pack('<BHB', flags, 10, t or 0) + b'\0'
        local = f.get('local')
        o += b'\x2c' + struct.pack('<HHHHB', f.get('left', 0), f.get('top', 0), px.shape[1], px.shape[0],
                                   (0x87 if local else 0) | (0x40 if f.get('interlace') else 0))
        if local:
            o += local
        if f.get('interlace'):  # GIF89a Appendix E: rows in four passes
            h = px.shape[0]
            px = px[list(range(0, h, 8)) + list(range(4, h, 8)) + list(range(2, h, 4)) + list(range(1, h, 2))]
        mcs = f.get('code_size', 8)
        o += bytes([mcs]) + lzw(px.ravel(), mcs)
    return bytes(o + b'\x3b')
def pillow_frames(name, strategy=GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY, mode='RGB'):
    # imageio's pillow plugin: this strategy, and every frame converted to the mode
    GifImagePlugin.LOADING_STRATEGY = strategy
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        im = Image.open(p(name))
        return numpy.stack([numpy.asarray(f.convert(mode)) for f in ImageSequence.Iterator(im)])
)";

void run(const imio_test::TempDir& dir, const std::string& body) {
  std::string log;
  const int rc = imio_test::run_python(dir, std::string(kGifWriter) + body, log);
  INFO(log);
  REQUIRE(rc == 0);
}

}  // namespace

TEST_CASE("giflib: disposal to background fills with frame 0's transparent colour while no frame has a local palette") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // Frame 0 (transparent index 1) fills the screen; frame 1 (transparent
  // index 2, disposal 2) covers the left half; frame 2 touches one pixel.
  // Pillow keeps frame 0's index in info["transparency"] while the image
  // stays "P", so the disposed half shows palette[1], not palette[2].
  run(dir, R"(
f0 = numpy.full((6, 8), 7); f0[0, 0] = 1
f1 = numpy.full((6, 4), 9); f1[1, 1] = 2
f2 = numpy.full((1, 1), 11)
open(p('dispose.gif'), 'wb').write(gif(8, 6, [
    dict(pixels=f0, transparency=1),
    dict(pixels=f1, transparency=2, disposal=2),
    dict(pixels=f2, left=7, top=5)]))
want = pillow_frames('dispose.gif')
assert tuple(want[2, 3, 0]) == tuple(PALETTE[3:6]), want[2, 3, 0]
numpy.save(p('dispose.npy'), want)
)");
  const NDArray got = imio::imread(dir / "dispose.gif");
  CHECK(got == imio::imread(dir / "dispose.npy"));
  CHECK(imio::improps(dir / "dispose.gif").shape == got.shape());
}

TEST_CASE("giflib: a later frame with a local gray palette keeps the previous frame under its transparent pixels") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // GIF89a §23: pixels of the transparent index are not drawn. Pillow 9.4,
  // read as imageio reads it, ignores a gray-ramp local table and shows the
  // whole canvas's palette indices as gray levels instead (asserted below,
  // so this test notices when Pillow changes); imio follows GIF89a: frame 1
  // shows frame 0's colours where frame 1 is transparent, gray levels elsewhere.
  run(dir, R"(
f0 = (numpy.arange(6 * 8).reshape(6, 8) % 5 + 20)
f1 = numpy.full((6, 8), 200); f1[:, :3] = 5
open(p('gray_local.gif'), 'wb').write(gif(8, 6, [
    dict(pixels=f0),
    dict(pixels=f1, transparency=5, local=GRAY)]))
pal = numpy.frombuffer(PALETTE, numpy.uint8).reshape(256, 3)
want = numpy.stack([pal[f0], pal[f0]])
want[1][f1 != 5] = 200
numpy.save(p('gray_local.npy'), want)
pillow = pillow_frames('gray_local.gif')
assert not (pillow == want).all()  # Pillow shows indices as gray levels
assert (pillow[0] == want[0]).all()
)");
  const NDArray got = imio::imread(dir / "gray_local.gif");
  CHECK(got == imio::imread(dir / "gray_local.npy"));
  // imio's own palette view agrees: the transparent pixels keep frame 0's indices.
  const NDArray indices = imio::imread(dir / "gray_local.gif", {.index = 1, .kwargs = {{"mode", "P"}}});
  CHECK(std::to_integer<int>(indices.bytes()[0]) == 20);
  CHECK(std::to_integer<int>(indices.bytes()[7]) == 200);
}

TEST_CASE("giflib: an LZW minimum code size above 8 is a DecodeError that says so, in every call") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // Valid LZW data with 11-bit minimum code size (seen in the wild): Pillow
  // decodes them; giflib 5.2.1 refuses any size above 8.
  run(dir, R"(
f0 = numpy.arange(6 * 8).reshape(6, 8) % 200
f1 = f0[::-1]
open(p('mcs11.gif'), 'wb').write(gif(8, 6, [dict(pixels=f0), dict(pixels=f1, code_size=11)]))
pal = numpy.frombuffer(PALETTE, numpy.uint8).reshape(256, 3)
assert (pillow_frames('mcs11.gif')[1] == pal[f1]).all()
)");
  const fs::path file = dir / "mcs11.gif";
  for (const auto& call : std::initializer_list<std::function<void()>>{
           [&] { imio::imread(file); }, [&] { imio::improps(file); }, [&] { imio::imread(file, {.index = 1}); },
           [&] {
             for (const NDArray& f : imio::imiter(file)) (void)f;
           }}) {
    const std::string what = imio_test::message_of<imio::DecodeError>(call);
    CHECK(imio_test::contains(what, "LZW minimum code size of 11"));
  }
  // Frame 0 is fine on its own.
  CHECK(imio::imread(file, {.index = 0}).shape() == imio::Shape{6, 8, 3});
}

TEST_CASE("giflib: a frame wholly off the screen changes nothing") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // Frame 0 lies right of the 8x6 screen (left = 20): nothing of it is kept,
  // and its index buffer was never allocated (under UBSan the old code
  // copied 0 bytes into that null buffer). Frame 1 lies off-screen too.
  run(dir, R"(
f = numpy.full((3, 3), 9)
open(p('offscreen.gif'), 'wb').write(gif(8, 6, [dict(pixels=f, left=20, top=1), dict(pixels=f, left=9, top=0)]))
)");
  const NDArray got = imio::imread(dir / "offscreen.gif");
  REQUIRE(got.shape() == imio::Shape{2, 6, 8, 3});
  // Nothing was drawn: both frames are the initial canvas (index 0 of the palette).
  CHECK(std::memcmp(got.bytes(), got.bytes() + got.nbytes() / 2, got.nbytes() / 2) == 0);
  CHECK(std::to_integer<int>(got.bytes()[0]) == 0);
}

TEST_CASE("giflib: disposal, transparency, frames smaller than the screen and interlacing match Pillow in every layout") {
  if (!pillow_available()) {
    WARN("skipped: Python with Pillow is not available");
    return;
  }
  imio_test::TempDir dir;
  // Four animations on a 24x19 screen: palette space throughout (frame 0
  // with and without a transparent index), and turning RGB(A) at a frame
  // with a local table (again with and without frame 0's transparency).
  // Between them: disposal 0 (keeps the method before), 1, 2 and 3 (also on
  // frame 0), transparent pixels, sub-screen and interlaced frames. imio's
  // RGB, RGBA and L frames must be Pillow's, read as imageio reads GIFs.
  run(dir, R"(
rng = numpy.random.default_rng(26)
px = lambda h, w: rng.integers(0, 12, (h, w))
W, H = 24, 19
LOCAL = bytes((255 - i * 9 % 256, i * 5 % 256, (40 + i) % 256)[k] for i in range(256) for k in range(3))
later = [
    dict(pixels=px(7, 9), left=3, top=2, transparency=4, disposal=2),
    dict(pixels=px(8, 10), left=10, top=9, transparency=5, disposal=3),
    dict(pixels=px(11, 13), left=1, top=5, interlace=True, disposal=1),
    dict(pixels=px(5, 6), left=18, top=14, transparency=6),
    dict(pixels=px(6, 7), left=0, top=0, disposal=2),
    dict(pixels=px(9, 8), left=15, top=1, transparency=2, interlace=True, disposal=3),
    dict(pixels=px(H, W), transparency=7)]
def with_local(frames):
    return [dict(f, local=LOCAL) if i % 2 == 0 else f for i, f in enumerate(frames)]
scenes = {
    'palette_alpha': [dict(pixels=px(H, W), transparency=3, disposal=3)] + later,
    'palette_opaque': [dict(pixels=px(H, W), interlace=True)] + later,
    'local_alpha': [dict(pixels=px(H, W), transparency=3)] + with_local(later),
    'local_opaque': [dict(pixels=px(H, W), disposal=2)] + with_local(later),
}
for name, frames in scenes.items():
    open(p(name + '.gif'), 'wb').write(gif(W, H, frames))
    for mode in ('RGB', 'RGBA', 'L'):
        numpy.save(p(name + '_' + mode + '.npy'), pillow_frames(name + '.gif', mode=mode))
)");
  for (const char* scene : {"palette_alpha", "palette_opaque", "local_alpha", "local_opaque"}) {
    for (const char* mode : {"RGB", "RGBA", "L"}) {
      INFO(scene << " mode " << mode);
      const fs::path file = dir / (std::string(scene) + ".gif");
      const imio::Kwargs kwargs{{"mode", mode}};
      const NDArray got = imio::imread(file, {.kwargs = kwargs});
      const NDArray want = imio::imread(dir / (std::string(scene) + "_" + mode + ".npy"));
      REQUIRE(got.shape() == want.shape());
      CHECK(got == want);
      // imiter composites the same frames one at a time.
      std::size_t k = 0;
      for (const NDArray& f : imio::imiter(file, {.kwargs = kwargs})) {
        INFO("frame " << k);
        REQUIRE(k < got.shape()[0]);
        CHECK(std::memcmp(f.bytes(), got.bytes() + k * f.nbytes(), f.nbytes()) == 0);
        ++k;
      }
      CHECK(k == got.shape()[0]);
    }
  }
}
