// bench_libwebp: imio's WebP decode/encode against libwebp used directly,
// Pillow (timed by the system Python in the same run), OpenCV (stills;
// when found at configure time) and imio's FFmpeg path (plugin="ffmpeg",
// stills: FFmpeg 5.1 cannot decode animated WebP).
//
//   bench_libwebp [--runs N] [--only NAME]     (NAME: a part of a case name)
//
// Cases, generated here: a 12-megapixel photo-like RGB image (lossy q80
// and lossless), and a 120-frame 480x270 animation (a moving object on a
// noisy background, lossy q80, Pillow's animation defaults). Best of N runs
// after a warm-up; the methods take turns in every run.
//
// The direct libwebp decode of a still is WebPDecodeRGB(A) (the simple API:
// fresh memory per call, as imread returns a fresh array) and
// WebPDecodeRGB(A)Into a reused buffer; of an animation, WebPAnimDecoder
// with each canvas copied into one preallocated (N,H,W,C) buffer, as imio
// returns it. Direct encodes use the same WebPConfig as imio (Pillow's).
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace {

namespace fs = std::filesystem;
volatile unsigned char g_sink = 0;

using imio_bench::best_ms;
using imio_bench::turns_best_ms;
using imio_bench::wall;

// The whole file in one read (imio maps it instead).
std::vector<std::uint8_t> read_all(const fs::path& p) {
  std::vector<std::uint8_t> data(fs::file_size(p));
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr || std::fread(data.data(), 1, data.size(), f) != data.size()) std::fprintf(stderr, "cannot read %s\n", p.c_str());
  if (f != nullptr) std::fclose(f);
  return data;
}

// ---------------------------------------------------------------- test data

imio::NDArray photo(std::size_t h, std::size_t w, std::uint32_t seed) {
  imio::NDArray a({h, w, 3}, imio::DType::uint8);
  auto* p = a.data<std::uint8_t>();
  std::uint32_t x = seed;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const std::size_t o = (y * w + i) * 3;
      // gradients, a fine texture and noise: about 1.3 bits per pixel at q80, like a photo
      const std::size_t t = ((i / 3) ^ (y / 5)) % 24;
      p[o] = static_cast<std::uint8_t>((i * 200 / w + t + (x >> 27)) & 0xff);
      p[o + 1] = static_cast<std::uint8_t>((y * 200 / h + t + (x >> 28)) & 0xff);
      p[o + 2] = static_cast<std::uint8_t>(((i + y) * 100 / (w + h) + 2 * t + (x >> 27)) & 0xff);
    }
  }
  return a;
}

imio::NDArray animation(std::size_t n, std::size_t h, std::size_t w) {
  const imio::NDArray bg = photo(h, w, 7);
  imio::NDArray a({n, h, w, 3}, imio::DType::uint8);
  for (std::size_t k = 0; k < n; ++k) {
    auto* f = a.data<std::uint8_t>() + k * h * w * 3;
    std::memcpy(f, bg.bytes(), bg.nbytes());
    const std::size_t x0 = (k * 3) % (w - 64), y0 = (k * 2) % (h - 48);
    for (std::size_t y = y0; y < y0 + 48; ++y) {
      for (std::size_t x = x0; x < x0 + 64; ++x) {
        std::uint8_t* px = f + (y * w + x) * 3;
        px[0] = static_cast<std::uint8_t>(200 + k % 50);
        px[1] = static_cast<std::uint8_t>(x + y);
        px[2] = 40;
      }
    }
  }
  return a;
}

// ---------------------------------------------------------------- libwebp direct

void decode_simple(const fs::path& p, int channels) {
  const std::vector<std::uint8_t> data = read_all(p);
  int w = 0, h = 0;
  uint8_t* px = channels == 4 ? WebPDecodeRGBA(data.data(), data.size(), &w, &h) : WebPDecodeRGB(data.data(), data.size(), &w, &h);
  if (px == nullptr) std::fprintf(stderr, "WebPDecode failed\n");
  g_sink = g_sink + px[std::size_t(w) * std::size_t(h) / 2];
  WebPFree(px);
}

void decode_into(const fs::path& p, int channels, std::vector<std::uint8_t>& dst, int w) {
  const std::vector<std::uint8_t> data = read_all(p);
  const int stride = w * channels;
  const uint8_t* ok = channels == 4 ? WebPDecodeRGBAInto(data.data(), data.size(), dst.data(), dst.size(), stride)
                                    : WebPDecodeRGBInto(data.data(), data.size(), dst.data(), dst.size(), stride);
  if (ok == nullptr) std::fprintf(stderr, "WebPDecodeInto failed\n");
  g_sink = g_sink + dst[dst.size() / 2];
}

// WebPAnimDecoder, every canvas into its slot of (N,H,W,C): `dst`, or fresh
// (uninitialised) memory of that size when `dst` is null.
void decode_animation(const fs::path& p, int channels, std::vector<std::uint8_t>* reuse, std::size_t bytes) {
  std::unique_ptr<std::uint8_t[]> fresh;
  std::uint8_t* dst = reuse != nullptr ? reuse->data() : (fresh = std::unique_ptr<std::uint8_t[]>(new std::uint8_t[bytes])).get();
  const std::vector<std::uint8_t> data = read_all(p);
  const WebPData wd{data.data(), data.size()};
  WebPAnimDecoderOptions o;
  WebPAnimDecoderOptionsInit(&o);
  o.color_mode = MODE_RGBA;
  WebPAnimDecoder* dec = WebPAnimDecoderNew(&wd, &o);
  WebPAnimInfo info;
  WebPAnimDecoderGetInfo(dec, &info);
  const std::size_t pixels = std::size_t(info.canvas_width) * info.canvas_height;
  std::uint8_t* out = dst;
  while (WebPAnimDecoderHasMoreFrames(dec)) {
    uint8_t* canvas = nullptr;
    int ts = 0;
    WebPAnimDecoderGetNext(dec, &canvas, &ts);
    if (channels == 4) {
      std::memcpy(out, canvas, pixels * 4);
    } else {
      for (std::size_t i = 0; i < pixels; ++i) std::memcpy(out + 3 * i, canvas + 4 * i, 3);
    }
    out += pixels * static_cast<std::size_t>(channels);
  }
  WebPAnimDecoderDelete(dec);
  g_sink = g_sink + dst[bytes / 2];
}

WebPConfig pillow_config(int method) {
  WebPConfig c;
  WebPConfigInit(&c);
  c.quality = 80;
  c.method = method;
  return c;
}

std::size_t encode_still(const imio::NDArray& a) {
  const WebPConfig c = pillow_config(4);
  WebPPicture pic;
  WebPPictureInit(&pic);
  pic.width = static_cast<int>(a.shape()[1]);
  pic.height = static_cast<int>(a.shape()[0]);
  pic.use_argb = 1;
  WebPPictureImportRGB(&pic, a.data<std::uint8_t>(), pic.width * 3);
  WebPMemoryWriter w;
  WebPMemoryWriterInit(&w);
  pic.writer = WebPMemoryWrite;
  pic.custom_ptr = &w;
  WebPEncode(&c, &pic);
  const std::size_t n = w.size;
  WebPMemoryWriterClear(&w);
  WebPPictureFree(&pic);
  return n;
}

std::size_t encode_animation(const imio::NDArray& a) {
  const std::size_t n = a.shape()[0], h = a.shape()[1], w = a.shape()[2];
  WebPAnimEncoderOptions eo;
  WebPAnimEncoderOptionsInit(&eo);
  eo.anim_params.loop_count = 0;
  eo.anim_params.bgcolor = 0;
  eo.kmin = 3;
  eo.kmax = 5;
  WebPAnimEncoder* enc = WebPAnimEncoderNew(static_cast<int>(w), static_cast<int>(h), &eo);
  const WebPConfig c = pillow_config(0);
  for (std::size_t k = 0; k < n; ++k) {
    WebPPicture pic;
    WebPPictureInit(&pic);
    pic.width = static_cast<int>(w);
    pic.height = static_cast<int>(h);
    pic.use_argb = 1;
    WebPPictureImportRGB(&pic, a.data<std::uint8_t>() + k * h * w * 3, static_cast<int>(w) * 3);
    WebPAnimEncoderAdd(enc, &pic, static_cast<int>(k) * 40, &c);
    WebPPictureFree(&pic);
  }
  WebPAnimEncoderAdd(enc, nullptr, static_cast<int>(n) * 40, nullptr);
  WebPData out;
  WebPDataInit(&out);
  WebPAnimEncoderAssemble(enc, &out);
  const std::size_t size = out.size;
  WebPDataClear(&out);
  WebPAnimEncoderDelete(enc);
  return size;
}

// ---------------------------------------------------------------- OpenCV

double opencv_decode(const fs::path& f, int runs) {
#ifdef IMIO_BENCH_OPENCV
  return best_ms(runs, [&] {
    const cv::Mat m = cv::imread(f.string(), cv::IMREAD_UNCHANGED);
    g_sink = g_sink + m.data[m.total() / 2];
  });
#else
  (void)f;
  (void)runs;
  return -1;
#endif
}

double opencv_encode(const imio::NDArray& a, int runs) {
#ifdef IMIO_BENCH_OPENCV
  const cv::Mat m(static_cast<int>(a.shape()[0]), static_cast<int>(a.shape()[1]), CV_8UC3, const_cast<std::byte*>(a.bytes()));
  std::vector<unsigned char> out;
  return best_ms(runs, [&] { cv::imencode(".webp", m, out, {cv::IMWRITE_WEBP_QUALITY, 80}); });
#else
  (void)a;
  (void)runs;
  return -1;
#endif
}

// ---------------------------------------------------------------- Pillow

struct PillowTimes {
  double decode = -1, encode = -1;
};

// `npy`: the array to encode; `animated`: save_all with Pillow's defaults.
PillowTimes pillow(const fs::path& webp, const fs::path& npy, bool animated, bool lossless, int runs) {
  PillowTimes t;
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return t;
  const fs::path script = fs::temp_directory_path() / "imio_bench_webp_pillow.py";
  const fs::path out = fs::temp_directory_path() / "imio_bench_webp_pillow.txt";
  std::ofstream(script) << "import sys, time, io\nimport numpy as np\nfrom PIL import Image\n"
                           "p, a, runs, anim, ll = sys.argv[1], np.load(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1', "
                           "sys.argv[5] == '1'\n"
                           "def best(f):\n    f(); b = 1e300\n    for _ in range(runs):\n"
                           "        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)\n    return b * 1000\n"
                           "def dec():\n    im = Image.open(p)\n    if not anim: return np.asarray(im)\n"
                           "    fr = []\n    for k in range(im.n_frames):\n        im.seek(k); fr.append(np.asarray(im))\n"
                           "    return np.stack(fr)\n"
                           "def enc():\n    buf = io.BytesIO()\n"
                           "    if anim:\n        ims = [Image.fromarray(f) for f in a]\n"
                           "        ims[0].save(buf, 'WEBP', save_all=True, append_images=ims[1:], duration=40, quality=80)\n"
                           "    else:\n        Image.fromarray(a).save(buf, 'WEBP', quality=80, lossless=ll)\n"
                           "    return buf\n"
                           "d = best(dec)\ne = best(enc) if not ll else -1\nprint(d, e)\n";
  const std::string cmd = "\"" + py + "\" \"" + script.string() + "\" \"" + webp.string() + "\" \"" + npy.string() + "\" " +
                          std::to_string(runs) + (animated ? " 1" : " 0") + (lossless ? " 1" : " 0") + " > \"" + out.string() +
                          "\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return t;
  std::ifstream(out) >> t.decode >> t.encode;
  return t;
}

void row(const char* name, const std::vector<double>& t, double base) {
  std::printf("%-22s", name);
  for (const double v : t) {
    if (v < 0) {
      std::printf(" %10s", "—");
    } else {
      std::printf(" %10.1f", v);
    }
  }
  std::printf("  |");
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] < 0) {
      std::printf(" %7s", "—");
    } else {
      std::printf(" %7.3f", t[i] / base);
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only") only = argv[i + 1];
  }
  const fs::path tmp = fs::temp_directory_path();
  struct Case {
    std::string name;
    imio::NDArray image;
    bool animated, lossless;
    fs::path webp, npy;
  };
  std::vector<Case> cases;
  const auto want = [&](const std::string& name) { return name.find(only) != std::string::npos; };
  if (want("still_12mp_lossy") || want("still_12mp_lossless")) {
    const imio::NDArray still = photo(3000, 4000, 12345);
    if (want("still_12mp_lossy")) cases.push_back({"still_12mp_lossy", still.copy(), false, false, {}, {}});
    if (want("still_12mp_lossless")) cases.push_back({"still_12mp_lossless", still.copy(), false, true, {}, {}});
  }
  if (want("anim_120x480x270")) cases.push_back({"anim_120x480x270", animation(120, 270, 480), true, false, {}, {}});
  for (Case& c : cases) {
    c.webp = tmp / ("imio_bench_" + c.name + ".webp");
    c.npy = tmp / ("imio_bench_" + c.name + ".npy");
    imio::imwrite(c.npy, c.image);
    imio::Kwargs kw{{"quality", 80}};
    if (c.lossless) kw = {{"lossless", true}, {"method", 0}};
    if (c.animated) kw.push_back({"duration", 40});
    imio::imwrite(c.webp, c.image, {.kwargs = kw});
  }

  std::printf("decode (best of %d, ms; ratios to the first column)\n%-22s %10s %10s %10s %10s %10s %10s  | %7s %7s %7s %7s %7s\n",
              runs, "case", "libwebp", "lib-into", "imio", "ffmpeg", "Pillow", "OpenCV", "into", "imio", "ffmpeg",
              "Pillow", "OpenCV");
  for (const Case& c : cases) {
    const int channels = static_cast<int>(imio::improps(c.webp).shape.back());  // 4 when the file has alpha
    const std::size_t h = c.image.shape()[c.animated ? 1 : 0], w = c.image.shape()[c.animated ? 2 : 1];
    std::vector<std::uint8_t> dst(c.image.nbytes() / 3 * static_cast<std::size_t>(channels));
    std::vector<imio_bench::Method> methods;
    if (c.animated) {
      methods.push_back({"libwebp", wall([&] { decode_animation(c.webp, channels, nullptr, dst.size()); })});
      methods.push_back({"lib-into", wall([&] { decode_animation(c.webp, channels, &dst, dst.size()); })});
    } else {
      methods.push_back({"libwebp", wall([&] { decode_simple(c.webp, channels); })});
      methods.push_back({"lib-into", wall([&] { decode_into(c.webp, channels, dst, static_cast<int>(w)); })});
    }
    const imio::Index index = c.animated ? imio::Index(imio::all) : imio::Index();
    methods.push_back({"imio", wall([&] {
                         const imio::NDArray b = imio::imread(c.webp, {.index = index});
                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                       })});
    if (c.animated) {
      methods.push_back({"ffmpeg", [] { return -1.0; }});
    } else {
      methods.push_back({"ffmpeg", wall([&] {
                           const imio::NDArray b = imio::imread(c.webp, {.plugin = "ffmpeg"});
                           g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                         })});
    }
    std::vector<double> t = turns_best_ms(runs, methods);
    const PillowTimes pil = pillow(c.webp, c.npy, c.animated, c.lossless, runs);
    t.push_back(pil.decode);
    t.push_back(c.animated ? -1 : opencv_decode(c.webp, runs));
    (void)h;
    row(c.name.c_str(), t, t[0]);
  }

  std::printf("\nencode at quality 80 (best of %d, ms; ratios to the first column)\n%-22s %10s %10s %10s %10s %10s  | %7s %7s %7s %7s\n",
              runs, "case", "libwebp", "imio", "ffmpeg", "Pillow", "OpenCV", "imio", "ffmpeg", "Pillow", "OpenCV");
  for (const Case& c : cases) {
    if (c.lossless) continue;
    std::size_t lib_size = 0, imio_size = 0;
    std::vector<imio_bench::Method> methods;
    methods.push_back({"libwebp", wall([&] { lib_size = c.animated ? encode_animation(c.image) : encode_still(c.image); })});
    imio::Kwargs kw{{"quality", 80}};
    if (c.animated) kw.push_back({"duration", 40});
    methods.push_back({"imio", wall([&] { imio_size = imio::imwrite("<bytes>", c.image, {.extension = ".webp", .kwargs = kw})->size(); })});
    if (c.animated) {
      methods.push_back({"ffmpeg", [] { return -1.0; }});
    } else {
      methods.push_back({"ffmpeg", wall([&] {
                           (void)imio::imwrite("<bytes>", c.image, {.plugin = "ffmpeg", .extension = ".webp"});
                         })});
    }
    std::vector<double> t = turns_best_ms(runs, methods);
    const PillowTimes pil = pillow(c.webp, c.npy, c.animated, c.lossless, runs);
    t.push_back(pil.encode);
    t.push_back(c.animated ? -1 : opencv_encode(c.image, runs));
    row(c.name.c_str(), t, t[0]);
    std::printf("%-22s bytes: libwebp %zu, imio %zu\n", "", lib_size, imio_size);
  }
  for (const Case& c : cases) {
    fs::remove(c.webp);
    fs::remove(c.npy);
  }
  return 0;
}
