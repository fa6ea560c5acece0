// bench_giflib: reading every frame of a GIF, and writing an animation.
//
//   bench_giflib [--runs N] [--dir FOLDER] [--decode-only]
//
// Decode inputs: the corpus's newtonscradle.gif (36 frames, 200x150, each
// frame a whole screen with its own colour table) and a long animation
// generated here (300 full frames, 320x240, a square moving over a static
// background). Methods take turns within each run (best of N after one
// warm-up each), so a load swing on the shared machine hits them alike:
//   giflib direct  DGifSlurp of the file in memory, then a plain compositing
//                  loop (global/local palette, transparency, disposal 2/3)
//                  into one preallocated (N,H,W,3) buffer: the floor imio
//                  builds on
//   imio imread    imio::imread(path): all frames, (N,H,W,3)
//   imio imiter    imio::imiter(path), one frame at a time
//   ... (giflib LZW)  the same with IMIO_GIF_GIFLIB_ONLY=1: every frame
//                  decoded by giflib's DGifGetLine instead of the plugin's
//                  own LZW decoder (what imio did before it had one)
//   OpenCV         cv::VideoCapture(path) reading every frame (BGR) through
//                  its FFmpeg backend, when OpenCV's videoio is found: 4.6's
//                  imread/imreadmulti have no GIF decoder at all
//   Pillow         as imageio's pillow plugin reads GIFs
//                  (RGB_AFTER_DIFFERENT_PALETTE_ONLY, every frame to RGB,
//                  np.stack), one Python process per turn timing one run
//                  after a warm-up with perf_counter
// Before timing, every method's frames are checked equal to imio's (a
// method that decodes to other pixels would not measure the same work).
// Encode: imio::imwrite of the generated animation (exact palettes) and of a
// photo-like 256x256 x 30 frame animation (median cut) vs Pillow's
// save(save_all=True).
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <gif_lib.h>

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/videoio.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
volatile unsigned char g_sink = 0;

using imio_bench::best_ms;

std::vector<unsigned char> slurp_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct MemReader {
  const unsigned char* data;
  std::size_t size, pos;
};

int mem_read(GifFileType* gif, GifByteType* dst, int n) {
  auto* r = static_cast<MemReader*>(gif->UserData);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), r->size - r->pos);
  std::memcpy(dst, r->data + r->pos, k);
  r->pos += k;
  return static_cast<int>(k);
}

// giflib used directly: slurp, then composite every frame into out.
void giflib_direct(const std::vector<unsigned char>& file, std::vector<unsigned char>& out) {
  MemReader reader{file.data(), file.size(), 0};
  int err = 0;
  GifFileType* gif = DGifOpen(&reader, mem_read, &err);
  if (!gif || DGifSlurp(gif) != GIF_OK) std::abort();
  const std::size_t w = static_cast<std::size_t>(gif->SWidth), h = static_cast<std::size_t>(gif->SHeight);
  out.resize(static_cast<std::size_t>(gif->ImageCount) * w * h * 3);
  std::vector<unsigned char> canvas(w * h * 3, 0), saved;
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& im = gif->SavedImages[i];
    GraphicsControlBlock gcb{DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
    DGifSavedExtensionToGCB(gif, i, &gcb);
    const ColorMapObject* map = im.ImageDesc.ColorMap ? im.ImageDesc.ColorMap : gif->SColorMap;
    const std::size_t x0 = static_cast<std::size_t>(im.ImageDesc.Left), y0 = static_cast<std::size_t>(im.ImageDesc.Top);
    const std::size_t fw = static_cast<std::size_t>(im.ImageDesc.Width), fh = static_cast<std::size_t>(im.ImageDesc.Height);
    if (gcb.DisposalMode == DISPOSE_PREVIOUS) saved = canvas;
    for (std::size_t y = 0; y < fh && y0 + y < h; ++y) {
      for (std::size_t x = 0; x < fw && x0 + x < w; ++x) {
        const int v = im.RasterBits[y * fw + x];
        if (v == gcb.TransparentColor || !map || v >= map->ColorCount) continue;
        unsigned char* px = &canvas[((y0 + y) * w + x0 + x) * 3];
        px[0] = map->Colors[v].Red;
        px[1] = map->Colors[v].Green;
        px[2] = map->Colors[v].Blue;
      }
    }
    std::memcpy(out.data() + static_cast<std::size_t>(i) * w * h * 3, canvas.data(), canvas.size());
    if (gcb.DisposalMode == DISPOSE_BACKGROUND) {
      for (std::size_t y = y0; y < std::min(h, y0 + fh); ++y) std::memset(&canvas[(y * w + x0) * 3], 0, std::min(fw, w - x0) * 3);
    } else if (gcb.DisposalMode == DISPOSE_PREVIOUS) {
      canvas = saved;
    }
  }
  DGifCloseFile(gif, &err);
  g_sink = out[out.size() / 2];
}

// A long animation: a static background, then a small moving square per frame.
imio::NDArray long_animation(std::size_t n, std::size_t h, std::size_t w) {
  imio::NDArray a({n, h, w, 3}, imio::DType::uint8);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t f = 0; f < n; ++f)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        std::uint8_t* px = p + ((f * h + y) * w + x) * 3;
        const bool square = x >= (f * 3) % (w - 40) && x < (f * 3) % (w - 40) + 40 && y >= 100 && y < 140;
        px[0] = square ? 250 : static_cast<std::uint8_t>((x / 8) * 16 % 256);
        px[1] = square ? 30 : static_cast<std::uint8_t>((y / 8) * 12 % 256);
        px[2] = square ? 30 : 90;
      }
  return a;
}

imio::NDArray photo_like(std::size_t n, std::size_t h, std::size_t w) {
  imio::NDArray a({n, h, w, 3}, imio::DType::uint8);
  auto* p = a.data<std::uint8_t>();
  unsigned s = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    s = s * 1103515245u + 12345u;
    const std::size_t px = i / 3, x = px % w, y = (px / w) % h;
    p[i] = static_cast<std::uint8_t>((x + y * (i % 3 + 1)) / 2 + ((s >> 16) & 15));
  }
  return a;
}

std::string python() { return IMIO_BENCH_PYTHON; }

// Best-of-N milliseconds measured by Pillow itself, or a negative value.
double pillow_ms(const std::string& body, const fs::path& dir, int runs) {
  if (python().empty()) return -1;
  const fs::path script = dir / "bench_pil.py", out = dir / "bench_pil.txt";
  std::ofstream(script) << "import time, sys\nimport numpy as np\nfrom PIL import Image, ImageSequence\n"
                        << body << "\nwork()\nbest = 1e300\nfor _ in range(" << runs
                        << "):\n    t = time.perf_counter(); work(); best = min(best, time.perf_counter() - t)\n"
                        << "open(r'" << out.string() << "', 'w').write(str(best * 1000))\n";
  const std::string cmd = "\"" + python() + "\" \"" + script.string() + "\" >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return -1;
  std::ifstream in(out);
  double ms = -1;
  in >> ms;
  return ms;
}

// Pillow reading `path` as imageio does: one process, a warm-up, one timed
// run; its time in ms (< 0: no Python with Pillow and numpy). With `check`
// (imio's frames as .npy) it also says whether its frames are those.
double pillow_decode_ms(const fs::path& path, const fs::path& dir, const fs::path& check = {}, bool* same = nullptr) {
  if (python().empty()) return -1;
  const fs::path script = dir / "bench_pil_decode.py";
  if (!fs::exists(script)) {
    std::ofstream(script) << "import sys, time\nimport numpy as np\nfrom PIL import Image, ImageSequence, GifImagePlugin\n"
                             "GifImagePlugin.LOADING_STRATEGY = GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY\n"
                             "def work():\n    with Image.open(sys.argv[1]) as im:\n"
                             "        return np.stack([np.asarray(f.convert('RGB')) for f in ImageSequence.Iterator(im)])\n"
                             "a = work()\nt = time.perf_counter()\nwork()\nms = (time.perf_counter() - t) * 1000\n"
                             "same = len(sys.argv) < 3 or np.array_equal(a, np.load(sys.argv[2]))\n"
                             "print(ms, int(same))\n";
  }
  std::string cmd = "\"" + python() + "\" \"" + script.string() + "\" \"" + path.string() + "\"";
  if (!check.empty()) cmd += " \"" + check.string() + "\"";
  FILE* pipe = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return -1;
  double ms = -1;
  int equal = 0;
  if (std::fscanf(pipe, "%lf %d", &ms, &equal) != 2) ms = -1;
  if (::pclose(pipe) != 0) ms = -1;
  if (same != nullptr) *same = equal == 1;
  return ms;
}

#ifdef IMIO_BENCH_OPENCV
// Every frame through cv::VideoCapture, the only GIF reader OpenCV 4.6 has;
// `frames` (when given) receives them as RGB for the pixel check.
bool opencv_read(const fs::path& path, std::vector<unsigned char>* frames) {
  cv::VideoCapture cap(path.string(), cv::CAP_FFMPEG);
  if (!cap.isOpened()) return false;
  cv::Mat f;
  while (cap.read(f)) {
    g_sink = f.data[0];
    if (frames == nullptr) continue;
    for (int y = 0; y < f.rows; ++y) {
      const unsigned char* row = f.ptr<unsigned char>(y);
      for (int x = 0; x < f.cols; ++x) frames->insert(frames->end(), {row[3 * x + 2], row[3 * x + 1], row[3 * x]});
    }
  }
  return true;
}
#endif

bool equal_bytes(const std::vector<unsigned char>& a, const imio::NDArray& b) {
  return a.size() == b.nbytes() && std::memcmp(a.data(), b.bytes(), a.size()) == 0;
}

const char* verdict(bool same) { return same ? "same frames as imio" : "FRAMES DIFFER from imio's"; }

void row(const char* what, double ms, double base, const char* note = "") {
  if (ms < 0) {
    std::printf("  %-22s %10s\n", what, "n/a");
    return;
  }
  std::printf("  %-22s %10.2f ms  %6.2fx  %s\n", what, ms, ms / base, note);
}

// Returns false when a method's frames differ from imio's.
bool bench_decode(const char* title, const fs::path& path, const fs::path& dir, int runs) {
  const auto file = slurp_file(path);
  // Like for like: every method must produce imio's frames.
  const imio::NDArray ref = imio::imread(path);
  std::vector<unsigned char> out;
  giflib_direct(file, out);
  const bool direct_same = equal_bytes(out, ref);
  std::vector<unsigned char> iterated;
  for (const imio::NDArray& f : imio::imiter(path)) iterated.insert(iterated.end(), f.data<unsigned char>(), f.data<unsigned char>() + f.nbytes());
  const bool iter_same = equal_bytes(iterated, ref);
  ::setenv("IMIO_GIF_GIFLIB_ONLY", "1", 1);
  const bool giflib_lzw_same = imio::imread(path) == ref;
  ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
  const fs::path npy = dir / "imio_frames.npy";
  imio::imwrite(npy, ref);
  bool pil_same = false;
  const bool has_pil = pillow_decode_ms(path, dir, npy, &pil_same) >= 0;
  bool cv_same = false;
  bool has_cv = false;
#ifdef IMIO_BENCH_OPENCV
  std::vector<unsigned char> cv_frames;
  has_cv = opencv_read(path, &cv_frames);
  cv_same = equal_bytes(cv_frames, ref);
#endif
  std::vector<imio_bench::Method> methods{
      {"giflib direct", imio_bench::wall([&] { giflib_direct(file, out); })},
      {"imio imread", imio_bench::wall([&] { g_sink = static_cast<unsigned char>(imio::imread(path).bytes()[0]); })},
      {"imio imiter", imio_bench::wall([&] {
         for (const imio::NDArray& f : imio::imiter(path)) g_sink = static_cast<unsigned char>(f.bytes()[0]);
       })},
      {"imio imread (giflib LZW)", imio_bench::wall([&] {
         ::setenv("IMIO_GIF_GIFLIB_ONLY", "1", 1);
         g_sink = static_cast<unsigned char>(imio::imread(path).bytes()[0]);
         ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
       })},
      {"imio imiter (giflib LZW)", imio_bench::wall([&] {
         ::setenv("IMIO_GIF_GIFLIB_ONLY", "1", 1);
         for (const imio::NDArray& f : imio::imiter(path)) g_sink = static_cast<unsigned char>(f.bytes()[0]);
         ::unsetenv("IMIO_GIF_GIFLIB_ONLY");
       })},
#ifdef IMIO_BENCH_OPENCV
      {"cv::VideoCapture", imio_bench::wall([&] { (void)opencv_read(path, nullptr); })},
#endif
      {"Pillow (as imageio)", [&] { return has_pil ? pillow_decode_ms(path, dir) : -1; }},
  };
  const auto best = imio_bench::turns_best_ms(runs, methods);
  std::printf("decode %s (%zu frames, %zux%zu), best of %d, methods taking turns:\n", title, ref.shape()[0], ref.shape()[2],
              ref.shape()[1], runs);
  row("giflib direct", best[0], best[0], verdict(direct_same));
  row("imio imread", best[1], best[0]);
  row("imio imiter", best[2], best[0], verdict(iter_same));
  row("imread (giflib LZW)", best[3], best[0], verdict(giflib_lzw_same));
  row("imiter (giflib LZW)", best[4], best[0]);
  std::size_t next = 5;
#ifdef IMIO_BENCH_OPENCV
  row("cv::VideoCapture", has_cv ? best[next] : -1, best[0], verdict(cv_same));
  ++next;
#else
  std::printf("  %-22s %10s  (OpenCV's videoio not found; 4.6's imread cannot read GIF)\n", "OpenCV", "n/a");
#endif
  row("Pillow (as imageio)", best[next], best[0], has_pil ? verdict(pil_same) : "");
  return direct_same && iter_same && giflib_lzw_same && (!has_pil || pil_same) && (!has_cv || cv_same);
}

void bench_encode(const char* title, const imio::NDArray& frames, const fs::path& dir, int runs) {
  const fs::path npy = dir / "frames.npy";
  imio::imwrite(npy, frames);
  const double mine = best_ms(runs, [&] { g_sink = imio::imwrite("<bytes>", frames, {.extension = ".gif"})->at(10) == std::byte{0}; });
  const double pil = pillow_ms("import io\na = np.load(r'" + npy.string() +
                                   "')\nims = [Image.fromarray(f) for f in a]\ndef work():\n    b = io.BytesIO()\n"
                                   "    ims[0].save(b, format='GIF', save_all=True, append_images=ims[1:], duration=40)\n",
                               dir, runs);
  std::printf("encode %s (%zu frames, %zux%zu), best of %d:\n", title, frames.shape()[0], frames.shape()[2], frames.shape()[1], runs);
  row("imio imwrite", mine, mine);
  row("Pillow save", pil, mine);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool decode_only = false;
  fs::path dir = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
    else if (std::strcmp(argv[i], "--decode-only") == 0) decode_only = true;
  }
  dir /= "imio-bench-giflib";
  fs::create_directories(dir);
  const fs::path cradle = fs::path(IMIO_BENCH_CORPUS) / "standard" / "newtonscradle.gif";
  bool same = true;
  if (fs::exists(cradle)) same = bench_decode("newtonscradle.gif", cradle, dir, runs * 4);
  const imio::NDArray anim = long_animation(300, 240, 320);
  const fs::path long_gif = dir / "long.gif";
  imio::imwrite(long_gif, anim, {.kwargs = {{"duration", 40}, {"loop", 0}}});
  same = bench_decode("generated long animation", long_gif, dir, runs) && same;
  if (!decode_only) {
    bench_encode("generated long animation", anim, dir, runs);
    bench_encode("photo-like (median cut)", photo_like(30, 256, 256), dir, runs);
  }
  fs::remove_all(dir);
  return same ? 0 : 1;
}
