// bench_libpng: imio::imread / imio::imwrite of PNG against libpng's classic
// API used directly (decode into a preallocated buffer; encode at zlib level
// 6 into memory), against OpenCV (cv::imread IMREAD_UNCHANGED, cv::imencode
// at PNG compression 6; when found at configure time) and against Pillow.
//
//   bench_libpng [--runs N] [--only NAME] [--small]   (NAME: a part of a file name;
//                                                      --small: only the 500 small files)
//
// Files: hubble_deep_field.png and astronaut.png from the corpus, and a
// 12-megapixel RGB PNG generated here. Best of N runs after a warm-up;
// libpng and imio take turns in every run. Then the per-call cost from a
// path (issue #26 item 5): 500 PNGs of 64×64 RGB (tiles of astronaut.png)
// read by imio::imread against a libpng FILE* loop, methods taking turns.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <png.h>

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

#include <unistd.h>

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
volatile unsigned char g_sink = 0;

using imio_bench::best_ms;
using imio_bench::turns_best_ms;
using imio_bench::wall;

// ---------------------------------------------------------------- libpng direct

// libpng's own warnings (e.g. astronaut.png's "known incorrect sRGB
// profile") would go to stderr; the bench keeps stderr for its errors.
extern "C" void quiet(png_structp, png_const_charp) {}

int read_direct(png_structp png, png_infop info, FILE* f, unsigned char* dst, std::size_t dst_size, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return 0;
  png_init_io(png, f);
  png_read_info(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (depth < 8) png_set_packing(png);
  if (depth == 16) png_set_swap(png);
  if (png_get_color_type(png, info) == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const std::size_t rb = png_get_rowbytes(png, info), h = png_get_image_height(png, info);
  if (rb * h > dst_size) return 0;
  for (std::size_t y = 0; y < h; ++y) rows[y] = dst + y * rb;
  png_read_image(png, rows);
  return 1;
}

void decode_direct(const fs::path& path, std::vector<unsigned char>& dst, std::vector<png_bytep>& rows) {
  FILE* f = std::fopen(path.c_str(), "rb");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, quiet);
  png_infop info = png_create_info_struct(png);
  if (!read_direct(png, info, f, dst.data(), dst.size(), rows.data())) std::fprintf(stderr, "libpng direct failed\n");
  png_destroy_read_struct(&png, &info, nullptr);
  std::fclose(f);
  g_sink = g_sink + dst[dst.size() / 2];
}

extern "C" void write_vec(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<std::vector<unsigned char>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
extern "C" void flush_none(png_structp) {}

int write_direct(png_structp png, png_infop info, const unsigned char* px, std::size_t w, std::size_t h, int ch,
                 std::vector<unsigned char>* out, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return 0;
  png_set_write_fn(png, out, write_vec, flush_none);
  const int ct = ch == 1 ? PNG_COLOR_TYPE_GRAY : ch == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8, ct, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (std::size_t y = 0; y < h; ++y) rows[y] = const_cast<unsigned char*>(px) + y * w * static_cast<std::size_t>(ch);
  png_write_image(png, rows);
  png_write_end(png, info);
  return 1;
}

std::size_t encode_direct(const imio::NDArray& a, std::vector<png_bytep>& rows) {
  std::vector<unsigned char> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, quiet);
  png_infop info = png_create_info_struct(png);
  const int ch = a.ndim() == 2 ? 1 : static_cast<int>(a.shape()[2]);
  write_direct(png, info, reinterpret_cast<const unsigned char*>(a.bytes()), a.shape()[1], a.shape()[0], ch, &out, rows.data());
  png_destroy_write_struct(&png, &info);
  return out.size();
}

// ---------------------------------------------------------------- OpenCV

// Best-of-N milliseconds, or -1 without OpenCV. OpenCV keeps BGR(A): its
// decode swaps channels, its encode gets the RGB array as if it were BGR
// (same work, other channel order).
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

double opencv_encode(const imio::NDArray& a, int runs, std::size_t& size) {
#ifdef IMIO_BENCH_OPENCV
  const int ch = a.ndim() == 2 ? 1 : static_cast<int>(a.shape()[2]);
  const int depth = a.dtype() == imio::DType::uint16 ? CV_16U : CV_8U;
  const cv::Mat m(static_cast<int>(a.shape()[0]), static_cast<int>(a.shape()[1]), CV_MAKETYPE(depth, ch),
                  const_cast<std::byte*>(a.bytes()));
  std::vector<unsigned char> out;
  const double ms = best_ms(runs, [&] { cv::imencode(".png", m, out, {cv::IMWRITE_PNG_COMPRESSION, 6}); });
  size = out.size();
  return ms;
#else
  (void)a;
  (void)runs;
  size = 0;
  return -1;
#endif
}

// ---------------------------------------------------------------- Pillow

// Best-of-N milliseconds for decode and encode, and Pillow's encoded size.
struct PillowTimes {
  double decode = -1, encode = -1;
  long size = -1;
};

PillowTimes pillow(const fs::path& file, int runs) {
  PillowTimes t;
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return t;
  const fs::path script = fs::temp_directory_path() / "imio_bench_pillow.py";
  const fs::path out = fs::temp_directory_path() / "imio_bench_pillow.txt";
  std::ofstream(script) << "import sys, time, io\nimport numpy as np\nfrom PIL import Image\n"
                           "p, runs = sys.argv[1], int(sys.argv[2])\n"
                           "def best(f):\n    f(); b = 1e300\n    for _ in range(runs):\n"
                           "        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)\n    return b * 1000\n"
                           "a = np.asarray(Image.open(p))\n"
                           "d = best(lambda: np.asarray(Image.open(p)))\n"
                           "def enc():\n    buf = io.BytesIO(); Image.fromarray(a).save(buf, 'PNG', compress_level=6); return buf\n"
                           "e = best(enc)\nprint(d, e, len(enc().getvalue()))\n";
  const std::string cmd = "\"" + py + "\" \"" + script.string() + "\" \"" + file.string() + "\" " + std::to_string(runs) +
                          " > \"" + out.string() + "\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return t;
  std::ifstream(out) >> t.decode >> t.encode >> t.size;
  return t;
}

imio::NDArray synthetic_12mp() {
  const std::size_t h = 3000, w = 4000;
  imio::NDArray a({h, w, 3}, imio::DType::uint8);
  auto* p = a.data<std::uint8_t>();
  std::uint32_t x = 12345;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const std::size_t o = (y * w + i) * 3;
      // smooth gradients with a little noise: compresses like a photo
      p[o] = static_cast<std::uint8_t>((i * 255 / w + (x >> 29)) & 0xff);
      p[o + 1] = static_cast<std::uint8_t>((y * 255 / h + (x >> 30)) & 0xff);
      p[o + 2] = static_cast<std::uint8_t>(((i + y) * 127 / (w + h) + (x >> 28)) & 0xff);
    }
  }
  return a;
}

// Per-call cost from a path: 500 small files, each read from its path and
// decoded, against the loop a C program would write (fopen, libpng through
// png_init_io, a buffer reused). Methods take turns.
void bench_small_files(const fs::path& corpus, int runs) {
  constexpr std::size_t kFiles = 500, kSide = 64;
  const fs::path source_path = corpus / "standard/astronaut.png";
  if (!fs::exists(source_path)) return;
  const imio::NDArray source = imio::imread(source_path);
  const std::size_t channels = source.ndim() == 3 ? source.shape()[2] : 1;
  const fs::path dir = fs::temp_directory_path() / ("imio_bench_small_png_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<fs::path> paths;
  for (std::size_t i = 0; i < kFiles; ++i) {
    imio::NDArray tile(imio::Shape{kSide, kSide, channels}, imio::DType::uint8);
    const std::size_t x0 = (i * 97) % (source.shape()[1] - kSide), y0 = (i * 61) % (source.shape()[0] - kSide);
    for (std::size_t y = 0; y < kSide; ++y) {
      std::memcpy(tile.bytes() + y * kSide * channels, source.bytes() + ((y0 + y) * source.shape()[1] + x0) * channels,
                  kSide * channels);
    }
    paths.push_back(dir / ("small" + std::to_string(i) + ".png"));
    imio::imwrite(paths.back(), tile);
  }
  std::vector<unsigned char> dst(kSide * kSide * channels);
  std::vector<png_bytep> rows(kSide);
  std::vector<imio_bench::Method> methods{
      {"libpng: FILE* + decode", wall([&] {
         for (const fs::path& p : paths) decode_direct(p, dst, rows);
       })},
      {"imio::imread", wall([&] {
         for (const fs::path& p : paths) g_sink = static_cast<unsigned char>(imio::imread(p).bytes()[0]);
       })},
#ifdef IMIO_BENCH_OPENCV
      {"cv::imread", wall([&] {
         for (const fs::path& p : paths) g_sink = cv::imread(p.string(), cv::IMREAD_UNCHANGED).data[0];
       })},
#endif
  };
  const std::vector<double> t = turns_best_ms(runs, methods);
  std::printf("\n%zu files of %zux%zu (%zu channels) from paths (%ju bytes the first; best of %d, ms)\n", kFiles, kSide,
              kSide, channels, static_cast<std::uintmax_t>(fs::file_size(paths[0])), runs);
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (t[i] >= 0) std::printf("  %-28s %10.2f ms   %6.3fx\n", methods[i].name, t[i], t[i] / t[0]);
  }
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  bool small_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only" && i + 1 < argc) only = argv[i + 1];
    if (std::string(argv[i]) == "--small") small_only = true;
  }
  const fs::path corpus = IMIO_BENCH_CORPUS;
  if (small_only) {
    bench_small_files(corpus, runs);
    return 0;
  }
  const fs::path tmp = fs::temp_directory_path() / "imio_bench_12mp.png";
  imio::imwrite(tmp, synthetic_12mp());
  std::vector<fs::path> files;
  for (const fs::path& f : {corpus / "standard/hubble_deep_field.png", corpus / "standard/astronaut.png", tmp}) {
    if (f.filename().string().find(only) != std::string::npos) files.push_back(f);
  }

  std::printf("decode (best of %d, ms)\n%-24s %10s %10s %10s %10s %8s %8s %8s\n", runs, "file", "libpng", "imio",
              "OpenCV", "Pillow", "imio/lib", "cv/lib", "Pil/lib");
  std::vector<imio::NDArray> images;
  for (const fs::path& f : files) {
    if (!fs::exists(f)) {
      std::printf("%-24s (absent)\n", f.filename().c_str());
      continue;
    }
    imio::NDArray a = imio::imread(f);
    std::vector<unsigned char> dst(a.nbytes());
    std::vector<png_bytep> rows(a.shape()[0]);
    const std::vector<double> t = turns_best_ms(runs, {{"libpng", wall([&] { decode_direct(f, dst, rows); })},
                                                      {"imio", wall([&] {
                                                         const imio::NDArray b = imio::imread(f);
                                                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                                                       })}});
    const double lib = t[0], im = t[1];
    const double cv = opencv_decode(f, runs);
    const PillowTimes pil = pillow(f, runs);
    std::printf("%-24s %10.2f %10.2f %10.2f %10.2f %8.3f %8.3f %8.3f\n", f.filename().c_str(), lib, im, cv, pil.decode,
                im / lib, cv / lib, pil.decode / lib);
    images.push_back(std::move(a));
  }

  std::printf("\nencode at level 6 (best of %d, ms; bytes)\n%-24s %10s %10s %10s %10s %8s %8s %11s %11s %11s %11s\n", runs,
              "file", "libpng", "imio", "OpenCV", "Pillow", "imio/lib", "cv/lib", "lib bytes", "imio bytes", "cv bytes",
              "Pil bytes");
  std::size_t k = 0;
  for (const fs::path& f : files) {
    if (!fs::exists(f)) continue;
    const imio::NDArray& a = images[k++];
    std::vector<png_bytep> rows(a.shape()[0]);
    std::size_t lib_size = 0, imio_size = 0;
    const std::vector<double> t =
        turns_best_ms(runs, {{"libpng", wall([&] { lib_size = encode_direct(a, rows); })},
                             {"imio", wall([&] { imio_size = imio::imwrite("<bytes>", a, {.extension = ".png"})->size(); })}});
    const double lib = t[0], im = t[1];
    std::size_t cv_size = 0;
    const double cv = opencv_encode(a, runs, cv_size);
    const PillowTimes pil = pillow(f, runs);
    std::printf("%-24s %10.2f %10.2f %10.2f %10.2f %8.3f %8.3f %11zu %11zu %11zu %11ld\n", f.filename().c_str(), lib, im, cv,
                pil.encode, im / lib, cv / lib, lib_size, imio_size, cv_size, pil.size);
  }
  fs::remove(tmp);
  bench_small_files(corpus, runs);
  return 0;
}
