// FFmpeg's still formats (issue #18, DECISIONS D8, D23): the still table
// walked row by row; the write/read-back matrix of every writable still
// extension; and reads compared with readers and writers imio did not
// write — Pillow (what imageio's pillow plugin returns), OpenImageIO's
// oiiotool (EXR, DPX), tifffile, and PFM/PHM/PNM files written by hand.
// Every test file is made at test time.
#include <imio/imio.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "still_formats.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::TempDir;

bool have(const char* tool) { return std::system((std::string(tool) + " >/dev/null 2>&1").c_str()) == 0; }
bool have_ffmpeg() { return have("ffmpeg -version"); }
bool have_encoder(std::string_view name) {
  return have(("ffmpeg -hide_banner -h encoder=" + std::string(name) + " | grep -q 'Supported pixel formats'").c_str());
}
bool have_pillow() { return imio_test::python_has("PIL.Image") && imio_test::python_has("numpy"); }

std::vector<std::string> words(std::string_view list) {
  std::vector<std::string> out;
  std::istringstream in{std::string(list)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// A smooth test image (lossy codecs keep it close): gray, gray+alpha, RGB
// or RGBA of `dtype` (bool: gray only).
NDArray test_image(std::size_t channels, DType dtype, std::size_t h = 24, std::size_t w = 32) {
  Shape shape{h, w};
  if (channels > 1) shape.push_back(channels);
  NDArray a(shape, dtype);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t c = 0; c < channels; ++c) {
        // 0..1 per channel: R along x, G along y, B diagonal; gray is R; alpha falls along x.
        const bool alpha = (channels == 2 && c == 1) || (channels == 4 && c == 3);
        double v = alpha ? 1.0 - 0.8 * x / (w - 1) : c == 0 ? 0.1 + 0.8 * x / (w - 1) : c == 1 ? 0.9 - 0.7 * y / (h - 1) : 0.3 + 0.3 * (x + y) / (w + h);
        const std::size_t i = (y * w + x) * channels + c;
        switch (dtype) {
          case DType::bool_: reinterpret_cast<std::uint8_t*>(a.bytes())[i] = (x / 3 + y / 2) % 2; break;
          case DType::uint8: a.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(std::lround(v * 255)); break;
          case DType::uint16: a.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(std::lround(v * 65535)); break;
          default: a.data<float>()[i] = static_cast<float>(v * 1.5 - 0.1); break;  // beyond 0..1: HDR values
        }
      }
  return a;
}

// `v` of `in` as the dtype `out` stores it (an integer written to a float
// format is normalised: v / 255, v / 65535; bool to 8 bits is 0 / 255).
double as_stored(double v, DType in, DType out) {
  if (in == out) return v;
  if (out == DType::float32) return in == DType::uint8 ? static_cast<float>(v) / 255.0f : in == DType::uint16 ? static_cast<float>(v) / 65535.0f : v;
  if (in == DType::bool_ && out == DType::uint8) return v * 255;
  return std::nan("");
}

double element(const NDArray& a, std::size_t i) {
  switch (a.dtype()) {
    case DType::bool_: return reinterpret_cast<const std::uint8_t*>(a.bytes())[i];
    case DType::uint8: return a.data<std::uint8_t>()[i];
    case DType::uint16: return a.data<std::uint16_t>()[i];
    case DType::int32: return a.data<std::int32_t>()[i];
    default: return a.data<float>()[i];
  }
}

// Compares a read-back with what was written, allowing only what keeps
// information: gray repeated into RGB, an opaque alpha added, integers
// normalised into floats. Returns the mean absolute error in units of the
// input's full range, or -1 when the read-back has fewer channels or a
// dtype that cannot hold the input.
double read_back_error(const NDArray& in, const NDArray& out) {
  const std::size_t h = in.shape()[0], w = in.shape()[1];
  const std::size_t cin = in.ndim() == 2 ? 1 : in.shape()[2];
  const std::size_t cout = out.ndim() == 2 ? 1 : out.shape()[2];
  if (out.shape()[0] != h || out.shape()[1] != w || cout < cin) return -1;
  const bool in_alpha = cin == 2 || cin == 4, out_alpha = cout == 2 || cout == 4;
  if (in_alpha && !out_alpha) return -1;
  if ((cin >= 3) && cout < 3) return -1;
  const double range = in.dtype() == DType::uint8 || (in.dtype() == DType::bool_ && out.dtype() == DType::uint8) ? 255
                      : in.dtype() == DType::uint16                                                     ? 65535
                                                                                                        : 1;
  const double opaque = out.dtype() == DType::uint8 ? 255 : out.dtype() == DType::uint16 ? 65535 : 1;
  double sum = 0;
  for (std::size_t p = 0; p < h * w; ++p)
    for (std::size_t c = 0; c < cout; ++c) {
      const bool alpha_c = out_alpha && c == cout - 1;
      double want;
      if (alpha_c) {
        want = in_alpha ? as_stored(element(in, p * cin + cin - 1), in.dtype(), out.dtype()) : opaque;
      } else {
        const std::size_t src = cin >= 3 ? c : 0;
        want = as_stored(element(in, p * cin + src), in.dtype(), out.dtype());
      }
      if (std::isnan(want)) return -1;
      const double scale = out.dtype() == DType::float32 && in.dtype() != DType::float32 ? 1 : range;
      sum += std::abs(element(out, p * cout + c) - want) / scale;
    }
  return sum / static_cast<double>(h * w * cout);
}

std::string shape_text(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

std::string layout_name(std::size_t channels) {
  static const char* names[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
  return names[channels];
}

}  // namespace

TEST_CASE("ffmpeg stills: every row of the still table reads as one (H,W[,C]) image", "[ffmpeg][stills]") {
  if (!have_ffmpeg()) {
    WARN("skipped: no ffmpeg command");
    return;
  }
  TempDir tmp;
  std::size_t made = 0;
  for (const imio::ffmpeg::StillFormat& row : imio::ffmpeg::kStillFormats) {
    INFO(row.name);
    const auto exts = words(row.extensions);
    const auto encoders = words(row.encoders);
    std::string encoder;
    for (const auto& e : encoders) {
      if (encoder.empty() && have_encoder(e)) encoder = e;
    }
    if (exts.empty() || encoder.empty()) {
      // Read-only rows (XPM, DDS, PSD, PGX, …) are made by hand or by Pillow below.
      continue;
    }
    const fs::path file = tmp / ("t" + exts[0]);
    // OpenJPEG needs 2^(resolutions-1) <= the smaller side.
    std::string extra = encoder == "libopenjpeg" ? " -numresolution 4" : "";
    if (!row.pixel_formats.empty()) extra += " -pix_fmt " + words(row.pixel_formats)[0];
    const std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc=s=32x24 -frames:v 1 -c:v " + encoder + extra + " \"" + file.string() + "\"";
    REQUIRE(std::system(cmd.c_str()) == 0);
    ++made;
    // The row is FFmpeg's: TIFF, WebP, FITS, … go to their own plugins first when those are built.
    const imio::ReadOptions opts{.plugin = "ffmpeg"};
    const NDArray a = imio::imread(file, opts);
    CHECK((a.ndim() == 2 || a.ndim() == 3));
    CHECK(a.shape()[0] == 24);
    CHECK(a.shape()[1] == 32);
    const auto props = imio::improps(file, opts);
    CHECK(props.shape == a.shape());
    CHECK(props.dtype == a.dtype());
    CHECK_FALSE(props.is_batch);
    imio::ReadOptions all_opts = opts;
    all_opts.index = imio::all;
    const NDArray all = imio::imread(file, all_opts);
    CHECK(all.ndim() == a.ndim() + 1);
    CHECK(all.shape()[0] == 1);
    imio::ReadOptions one = opts;
    one.index = 1;
    CHECK_THROWS_AS(imio::imread(file, one), imio::IndexError);
    CHECK(imio::immeta(file, {.plugin = opts.plugin}).contains("mode"));
  }
  CHECK(made >= 20);
}

TEST_CASE("ffmpeg stills: the write/read-back matrix never loses channels or precision without an ArgumentError", "[ffmpeg][stills][write]") {
  TempDir tmp;
  const DType dtypes[] = {DType::uint8, DType::uint16, DType::float32};
  std::size_t exact = 0, lossy = 0, refused = 0;
  for (const imio::ffmpeg::StillFormat& row : imio::ffmpeg::kStillFormats) {
    bool writable = false;
    for (const auto& e : words(row.encoders)) writable = writable || have_encoder(e);
    if (!writable) continue;
    for (const std::string& ext : words(row.extensions)) {
      std::vector<NDArray> inputs;
      for (DType dt : dtypes)
        for (std::size_t c = 1; c <= 4; ++c) inputs.push_back(test_image(c, dt));
      inputs.push_back(test_image(1, DType::bool_));
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        const NDArray& in = inputs[i];
        const std::size_t c = in.ndim() == 2 ? 1 : in.shape()[2];
        INFO(ext << " " << layout_name(c) << " " << in.dtype());
        const fs::path file = tmp / ("m" + std::to_string(i) + ext);
        try {
          imio::imwrite(file, in, {.plugin = "ffmpeg"});
        } catch (const imio::ArgumentError& e) {
          // What would be lost, and the formats that keep it.
          CHECK(contains(e.what(), "would be lost"));
          CHECK(contains(e.what(), "Formats that keep it: ."));
          CHECK_FALSE(fs::exists(file));
          ++refused;
          continue;
        }
        const NDArray out = imio::imread(file, {.plugin = "ffmpeg"});
        const double err = read_back_error(in, out);
        INFO("read back " << shape_text(out.shape()) << " " << out.dtype() << ", mean error " << err);
        REQUIRE(err >= 0);  // never fewer channels, never a narrower dtype
        if (row.floats == imio::ffmpeg::FloatStorage::half && in.dtype() != DType::float32) {
          // Integers normalised into half floats: within half's precision
          // (2^-11), so round(v · 255) gives the 8-bit input back.
          CHECK(err <= 0.0005);
          ++exact;
        } else if (row.lossless) {
          CHECK(err == 0);
          ++exact;
        } else {
          // Lossy codecs at their default quality on a smooth 32x24 image:
          // mean error within 2 % of the full range.
          CHECK(err <= 0.02);
          ++lossy;
        }
        fs::remove(file);
      }
    }
  }
  INFO(exact << " exact, " << lossy << " lossy, " << refused << " refused");
  CHECK(exact > 100);
  CHECK(refused > 100);
}

TEST_CASE("ffmpeg stills: the issue's cases — RGB to EXR and DPX stays RGB, float32 RGB(A) round-trips", "[ffmpeg][stills][write]") {
  TempDir tmp;
  const NDArray rgb = test_image(3, DType::uint8);
  for (const char* ext : {".exr", ".dpx"}) {
    INFO(ext);
    // .exr goes to the openexr plugin first when it is built (float samples only)
    imio::imwrite(tmp / (std::string("t") + ext), rgb, {.plugin = "ffmpeg"});
    const NDArray back = imio::imread(tmp / (std::string("t") + ext), {.plugin = "ffmpeg"});
    REQUIRE(back.shape() == rgb.shape());
    CHECK(read_back_error(rgb, back) == 0);
  }
  for (std::size_t c : {1u, 3u, 4u}) {
    const NDArray f = test_image(c, DType::float32);
    imio::imwrite(tmp / "f.exr", f, {.plugin = "ffmpeg"});
    CHECK(imio::imread(tmp / "f.exr", {.plugin = "ffmpeg"}) == f);
  }
  // uint16 into an 8-bit format: refused, naming the loss and the keepers.
  const std::string msg = message_of<imio::ArgumentError>([&] { imio::imwrite(tmp / "t.bmp", test_image(3, DType::uint16)); });
  CHECK(contains(msg, "16-bit precision"));
  CHECK(contains(msg, ".dpx"));
  CHECK(contains(msg, "BMP"));
  // A still format holds one image (D8); ICO several.
  NDArray two({2, 16, 16, 4}, DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(tmp / "two.qoi", two, {.kwargs = {{"is_batch", true}}}), imio::ArgumentError);
  CHECK_FALSE(fs::exists(tmp / "two.qoi"));
  std::vector<NDArray> sizes;
  sizes.push_back(test_image(4, DType::uint8, 32, 32));
  sizes.push_back(test_image(4, DType::uint8, 16, 16));
  imio::imwrite(tmp / "two.ico", sizes);
  CHECK(imio::imread(tmp / "two.ico") == sizes[0]);
  CHECK(imio::imread(tmp / "two.ico", {.index = 1}) == sizes[1]);
  CHECK_THROWS_AS(imio::imread(tmp / "two.ico", {.index = imio::all}), imio::ArgumentError);
  std::size_t n = 0;
  for (const NDArray& a : imio::imiter(tmp / "two.ico")) CHECK(a == sizes[n++]);
  CHECK(n == 2);
}

TEST_CASE("ffmpeg stills: reads equal Pillow's, oiiotool's, tifffile's and hand-written files", "[ffmpeg][stills][oracle]") {
  if (!have_pillow()) {
    WARN("skipped: no Python with Pillow and numpy");
    return;
  }
  TempDir tmp;
  // Each case: a file and <file>.want.npy, the array the independent
  // reader (or the hand-written data) gives; cases.txt lists them.
  const std::string script = R"PY(
import sys, os, subprocess, numpy as np
from PIL import Image
d = sys.argv[1]
h, w = 24, 32
yy, xx = np.mgrid[0:h, 0:w]
rgb = np.stack([(xx * 8) % 256, (yy * 10) % 256, ((xx + yy) * 4) % 256], -1).astype(np.uint8)
alpha = ((xx * 5 + yy * 3) % 256).astype(np.uint8)
gray = rgb[..., 0].copy()
cases = []
def want(name, a):
    np.save(os.path.join(d, name + '.want.npy'), np.ascontiguousarray(a))
    cases.append(name)
# Pillow writes, Pillow reads: what imageio's pillow plugin returns
# (palettes expanded to RGB; 16-bit "I" values kept, as uint16 in imio).
def pillow(name, im, **kw):
    try:
        im.save(os.path.join(d, name), **kw)
    except Exception as e:
        print('no', name, e)
        return
    back = Image.open(os.path.join(d, name))
    if back.mode == 'P':
        back = back.convert('RGB')
    a = np.asarray(back)
    if back.mode == 'I':
        a = a.astype(np.uint16)
    want(name, a)
L = Image.fromarray(gray, 'L'); RGB = Image.fromarray(rgb, 'RGB')
RGBA = Image.fromarray(np.dstack([rgb, alpha]), 'RGBA'); LA = Image.fromarray(np.dstack([gray, alpha]), 'LA')
ONE = Image.fromarray((xx + yy) % 3 == 0); P = RGB.quantize(16)
for name, im in [('L.bmp', L), ('RGB.bmp', RGB), ('1.bmp', ONE), ('P.bmp', P), ('L.tga', L), ('RGB.tga', RGB),
                 ('RGBA.tga', RGBA), ('P.tga', P), ('L.pcx', L), ('RGB.pcx', RGB), ('1.pcx', ONE), ('P.pcx', P),
                 ('L.sgi', L), ('RGB.sgi', RGB), ('RGBA.sgi', RGBA), ('L.pgm', L), ('RGB.ppm', RGB), ('1.pbm', ONE),
                 ('1.xbm', ONE), ('RGBA.ico', RGBA), ('L.jp2', L), ('RGB.jp2', RGB), ('RGBA.jp2', RGBA), ('LA.jp2', LA),
                 ('RGB.dds', RGB), ('RGBA.dds', RGBA)]:
    pillow(name, im)
pillow('bmp-entries.ico', RGBA, bitmap_format='bmp')
pillow('I16.jp2', Image.fromarray((gray.astype(np.uint16) * 257), 'I;16'))
# Hand-written: PFM/PHM (rows bottom-up, little-endian), 16-bit PNM and PAM.
f3 = np.stack([xx / 31.0 * 2.5 - 0.5, yy / 23.0, (xx + yy) / 55.0 * 100.0], -1).astype(np.float32)
def pfm(name, magic, a, dtype):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b'%s\n%d %d\n-1.0\n' % (magic, a.shape[1], a.shape[0]))
        f.write(np.ascontiguousarray(a[::-1]).astype('<' + dtype).tobytes())
    want(name, a.astype(dtype).astype(np.float32))
pfm('rgb.pfm', b'PF', f3, 'f4'); pfm('gray.pfm', b'Pf', f3[..., 0], 'f4')
pfm('rgb.phm', b'PH', f3, 'f2'); pfm('gray.phm', b'Ph', f3[..., 1], 'f2')
r16 = (rgb.astype(np.uint16) * 257 + 3).astype(np.uint16)
for name, magic, a in [('rgb16.ppm', b'P6', r16), ('gray16.pgm', b'P5', np.ascontiguousarray(r16[..., 1]))]:
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b'%s\n%d %d\n65535\n' % (magic, w, h) + a.astype('>u2').tobytes())
    want(name, a)
rgba16 = np.dstack([r16, (alpha.astype(np.uint16) * 250)])
with open(os.path.join(d, 'rgba16.pam'), 'wb') as f:
    f.write(b'P7\nWIDTH %d\nHEIGHT %d\nDEPTH 4\nMAXVAL 65535\nTUPLTYPE RGB_ALPHA\nENDHDR\n' % (w, h) + rgba16.astype('>u2').tobytes())
want('rgba16.pam', rgba16)
# tifffile: 16-bit RGB TIFF, read through FFmpeg (plugin ffmpeg).
try:
    import tifffile
    tifffile.imwrite(os.path.join(d, 'rgb16.tif'), r16, photometric='rgb')
    want('rgb16.tif', r16)
except ImportError:
    print('no tifffile')
# OpenImageIO: EXR float RGB / half RGBA, 16-bit DPX; values from --dumpdata.
def oiio(name, channels, fmt):
    fill = 'fill:topleft=0.1,0.5,2.5,1:topright=0.9,0.25,0.125,0.5:bottomleft=-0.5,1,0.75,0.25:bottomright=0.3,0.7,0.2,0'
    if fmt == 'uint16':
        fill = fill.replace('2.5', '0.95').replace('-0.5', '0.05')
    pat = 'fill:' + ':'.join(p.split('=')[0] + '=' + ','.join(p.split('=')[1].split(',')[:channels]) for p in fill.split(':')[1:])
    out = os.path.join(d, name)
    if subprocess.run(['oiiotool', '--pattern', pat, '%dx%d' % (w, h), str(channels), '-d', fmt, '-o', out]).returncode:
        print('no', name); return
    dump = subprocess.run(['oiiotool', '--dumpdata', out], capture_output=True, text=True).stdout
    vals = [[float(v) for v in line.split(':', 1)[1].split('(')[0].split()] for line in dump.splitlines() if 'Pixel (' in line]
    a = np.array(vals).reshape(h, w, channels)
    if channels == 1:
        a = a[..., 0]
    want(name, a.astype(np.uint16) if fmt == 'uint16' else a.astype(np.float32))
if subprocess.run(['sh', '-c', 'command -v oiiotool'], capture_output=True).returncode == 0:
    oiio('rgb-float.exr', 3, 'float'); oiio('rgba-half.exr', 4, 'half'); oiio('gray-float.exr', 1, 'float')
    oiio('rgb16.dpx', 3, 'uint16'); oiio('rgba16.dpx', 4, 'uint16')
else:
    print('no oiiotool')
open(os.path.join(d, 'cases.txt'), 'w').write('\n'.join(cases))
)PY";
  std::string log;
  const int status = imio_test::run_python(tmp, script, log);
  INFO(log);
  REQUIRE(status == 0);
  std::ifstream list(tmp / "cases.txt");
  std::string name;
  std::size_t n = 0;
  while (std::getline(list, name)) {
    if (name.empty()) continue;
    INFO(name);
    const fs::path file = tmp / name;
    const NDArray want = imio::imread(tmp / (name + ".want.npy"));
    imio::ReadOptions opts;
    // libtiff reads .tif first, openexr .exr
    if (fs::path(name).extension() == ".tif" || fs::path(name).extension() == ".exr") opts.plugin = "ffmpeg";
    const NDArray got = imio::imread(file, opts);
    INFO("imio " << shape_text(got.shape()) << " " << got.dtype() << ", want " << shape_text(want.shape()) << " "
                 << want.dtype());
    CHECK(got.shape() == want.shape());
    if (want.dtype() == DType::bool_) {
      CHECK(got.dtype() == DType::bool_);
    } else {
      CHECK(got.dtype() == want.dtype());
    }
    if (got.shape() == want.shape()) {
      std::size_t differ = 0;
      // oiiotool --dumpdata prints floats with 9 decimals: within half a unit of the 9th.
      const bool printed = fs::path(name).extension() == ".exr";
      for (std::size_t i = 0; i < got.size(); ++i) {
        const double d = std::abs(element(got, i) - element(want, i));
        differ += printed ? d > 5.1e-10 + 1e-7 * std::abs(element(want, i)) : d != 0;
      }
      CHECK(differ == 0);
    }
    CHECK(imio::improps(file, opts).shape == got.shape());
    ++n;
  }
  CHECK(n >= 30);
}

TEST_CASE("ffmpeg stills: EXR and PFM written by imio are read by oiiotool and by hand", "[ffmpeg][stills][oracle]") {
  if (!imio_test::python_has("numpy")) {
    WARN("skipped: no Python with numpy");
    return;
  }
  TempDir tmp;
  const NDArray f3 = test_image(3, DType::float32), f4 = test_image(4, DType::float32), f1 = test_image(1, DType::float32);
  imio::imwrite(tmp / "rgb.exr", f3);
  imio::imwrite(tmp / "rgba.exr", f4);
  imio::imwrite(tmp / "rgb.pfm", f3);
  imio::imwrite(tmp / "gray.pfm", f1);
  imio::imwrite(tmp / "rgb.npy", f3);
  imio::imwrite(tmp / "rgba.npy", f4);
  imio::imwrite(tmp / "gray.npy", f1);
  const std::string script = R"PY(
import sys, os, subprocess, numpy as np
d = sys.argv[1]
def pfm(path):
    data = open(path, 'rb').read()
    magic, size, scale, rest = data.split(b'\n', 3)
    w, h = map(int, size.split())
    c = 3 if magic == b'PF' else 1
    a = np.frombuffer(rest, '<f4' if float(scale) < 0 else '>f4').reshape(h, w, c)[::-1]
    return a[..., 0] if c == 1 else a
assert (pfm(os.path.join(d, 'rgb.pfm')) == np.load(os.path.join(d, 'rgb.npy'))).all()
assert (pfm(os.path.join(d, 'gray.pfm')) == np.load(os.path.join(d, 'gray.npy'))).all()
if subprocess.run(['sh', '-c', 'command -v oiiotool'], capture_output=True).returncode == 0:
    for name, c in (('rgb', 3), ('rgba', 4)):
        dump = subprocess.run(['oiiotool', '--dumpdata', os.path.join(d, name + '.exr')], capture_output=True, text=True).stdout
        assert '%d channel, float' % c in dump, dump[:200]
        vals = [[float(v) for v in l.split(':', 1)[1].split()] for l in dump.splitlines() if 'Pixel (' in l]
        want = np.load(os.path.join(d, name + '.npy'))
        got = np.array(vals, np.float32).reshape(want.shape)
        assert np.allclose(got, want, rtol=1e-7, atol=0), (name, np.abs(got - want).max())
else:
    print('no oiiotool')
)PY";
  std::string log;
  const int status = imio_test::run_python(tmp, script, log);
  INFO(log);
  CHECK(status == 0);
}

TEST_CASE("ffmpeg stills: .hdr is refused naming the missing decoder; a cursor is no ICO", "[ffmpeg][stills]") {
  TempDir tmp;
  imio_test::write_file(tmp / "x.hdr", imio_test::to_bytes("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n\x02\x02\x02\x80"));
  // the radiance plugin reads .hdr first when it is built
  const std::string msg = message_of<imio::NoPluginError>([&] { imio::imread(tmp / "x.hdr", {.plugin = "ffmpeg"}); });
  CHECK(contains(msg, "hdr decoder"));
}
