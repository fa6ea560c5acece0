// bench_libpng: imio::imread / imio::imwrite of PNG against libpng's classic
// API used directly (decode into a preallocated buffer; encode at zlib level
// 6 into memory), against OpenCV (cv::imread / cv::imdecode IMREAD_UNCHANGED,
// cv::imencode at PNG compression 6), stb_image (stbi_load /
// stbi_load_from_memory) — each when found at configure time — and Pillow.
// imio also runs with IMIO_PNG_LIBPNG_ONLY set ("imio/libpng": libpng
// decodes the image data, as before imio's own IDAT decoder).
//
//   bench_libpng [--runs N] [--only NAME] [--small] [--decode] [--convert]
//     NAME: a part of a file name; --small: only the 500 small files;
//     --decode: only the decode tables; --convert: only the conversions
//
// "imio into" is imio::imread_into an array allocated once.
//
// Files: hubble_deep_field.png, astronaut.png and chelsea.png from the
// corpus, and a 12-megapixel RGB PNG generated here. Best of N runs after a
// warm-up; all decoders take turns in every run, from the path and then
// from the file's bytes in memory. Then the per-call cost from a
// path (issue #26 item 5): 500 PNGs of 64×64 RGB (tiles of astronaut.png)
// read by imio::imread against a libpng FILE* loop, methods taking turns.
// Then the conversions (palette images, `mode`): 12-megapixel images
// generated here, imread and imread_into against libpng decoding the same
// file (palette expanded to RGB by libpng), from memory.
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
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif
#ifdef IMIO_BENCH_STB
#include <stb/stb_image.h>
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

// Decodes with the input already set (png_init_io or png_set_read_fn).
int read_direct(png_structp png, png_infop info, unsigned char* dst, std::size_t dst_size, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return 0;
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
  png_init_io(png, f);
  if (!read_direct(png, info, dst.data(), dst.size(), rows.data())) std::fprintf(stderr, "libpng direct failed\n");
  png_destroy_read_struct(&png, &info, nullptr);
  std::fclose(f);
  g_sink = g_sink + dst[dst.size() / 2];
}

struct Memory {
  const unsigned char* data;
  std::size_t size, pos;
};

extern "C" void read_memory(png_structp png, png_bytep out, size_t n) {
  auto* m = static_cast<Memory*>(png_get_io_ptr(png));
  if (n > m->size - m->pos) png_error(png, "truncated");
  std::memcpy(out, m->data + m->pos, n);
  m->pos += n;
}

void decode_direct_memory(const std::vector<unsigned char>& file, std::vector<unsigned char>& dst, std::vector<png_bytep>& rows) {
  Memory m{file.data(), file.size(), 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, quiet);
  png_infop info = png_create_info_struct(png);
  png_set_read_fn(png, &m, read_memory);
  if (!read_direct(png, info, dst.data(), dst.size(), rows.data())) std::fprintf(stderr, "libpng direct failed\n");
  png_destroy_read_struct(&png, &info, nullptr);
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

// The decoders compared, from a path and from memory, as Methods taking
// turns. OpenCV keeps BGR(A): its decode swaps channels (same work, other
// order); stb_image returns the file's channels at 8 bits.
void keep(const imio::NDArray& a) { g_sink = g_sink + static_cast<unsigned char>(a.bytes()[a.nbytes() / 2]); }

// imio with libpng decoding the image data (IMIO_PNG_LIBPNG_ONLY), as before its own IDAT decoder.
imio::NDArray imread_libpng_only(const imio::ImageResource& r) {
  ::setenv("IMIO_PNG_LIBPNG_ONLY", "1", 1);
  imio::NDArray a = imio::imread(r);
  ::unsetenv("IMIO_PNG_LIBPNG_ONLY");
  return a;
}

std::vector<imio_bench::Method> path_decoders(const fs::path& f, std::vector<unsigned char>& dst, std::vector<png_bytep>& rows,
                                              imio::NDArray& into) {
  std::vector<imio_bench::Method> m{{"libpng", wall([&dst, &rows, f] { decode_direct(f, dst, rows); })},
                                    {"imio", wall([f] { keep(imio::imread(f)); })},
                                    {"imio into", wall([f, &into] {
                                       imio::imread_into(f, into);
                                       keep(into);
                                     })},
                                    {"imio/libpng", wall([f] { keep(imread_libpng_only(f)); })}};
#ifdef IMIO_BENCH_OPENCV
  m.push_back({"OpenCV", wall([f] {
                 const cv::Mat im = cv::imread(f.string(), cv::IMREAD_UNCHANGED);
                 g_sink = g_sink + im.data[im.total() / 2];
               })});
#endif
#ifdef IMIO_BENCH_STB
  m.push_back({"stb", wall([f] {
                 int w = 0, h = 0, c = 0;
                 unsigned char* p = stbi_load(f.c_str(), &w, &h, &c, 0);
                 g_sink = g_sink + p[w / 2];
                 stbi_image_free(p);
               })});
#endif
  return m;
}

std::vector<imio_bench::Method> memory_decoders(const std::vector<unsigned char>& file, std::vector<unsigned char>& dst,
                                                std::vector<png_bytep>& rows, imio::NDArray& into) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(file.data()), file.size());
  std::vector<imio_bench::Method> m{{"libpng", wall([&] { decode_direct_memory(file, dst, rows); })},
                                    {"imio", wall([bytes] { keep(imio::imread(bytes)); })},
                                    {"imio into", wall([bytes, &into] {
                                       imio::imread_into(bytes, into);
                                       keep(into);
                                     })},
                                    {"imio/libpng", wall([bytes] { keep(imread_libpng_only(bytes)); })}};
#ifdef IMIO_BENCH_OPENCV
  m.push_back({"OpenCV", wall([&file] {
                 const cv::Mat im = cv::imdecode(cv::Mat(1, static_cast<int>(file.size()), CV_8U, const_cast<unsigned char*>(file.data())),
                                                 cv::IMREAD_UNCHANGED);
                 g_sink = g_sink + im.data[im.total() / 2];
               })});
#endif
#ifdef IMIO_BENCH_STB
  m.push_back({"stb", wall([&file] {
                 int w = 0, h = 0, c = 0;
                 unsigned char* p = stbi_load_from_memory(file.data(), static_cast<int>(file.size()), &w, &h, &c, 0);
                 g_sink = g_sink + p[w / 2];
                 stbi_image_free(p);
               })});
#endif
  return m;
}

// One table: a row per file, a column per decoder, then each decoder's time over libpng's.
void print_decode_table(const char* title, int runs, const std::vector<imio_bench::Method>& names) {
  std::printf("\n%s (best of %d, ms; ratios to libpng)\n%-24s", title, runs, "file");
  for (const auto& m : names) std::printf(" %11s", m.name);
  for (std::size_t i = 1; i < names.size(); ++i) std::printf(" %11s", names[i].name);
  std::printf("\n");
}

void print_decode_row(const fs::path& f, const std::vector<double>& t) {
  std::printf("%-24s", f.filename().c_str());
  for (const double v : t) std::printf(" %11.2f", v);
  for (std::size_t i = 1; i < t.size(); ++i) std::printf(" %11.3f", t[i] / t[0]);
  std::printf("\n");
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

PillowTimes pillow(const fs::path& file, int runs, bool encode = true) {
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
                           "e = best(enc) if sys.argv[3] == '1' else -1\nprint(d, e, len(enc().getvalue()) if e >= 0 else -1)\n";
  const std::string cmd = "\"" + py + "\" \"" + script.string() + "\" \"" + file.string() + "\" " + std::to_string(runs) +
                          (encode ? " 1" : " 0") + " > \"" + out.string() + "\" 2>/dev/null";
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

// A 3000 × 4000 image of `channels` samples: synthetic_12mp's gradients.
imio::NDArray synthetic_12mp_channels(std::size_t channels) {
  const imio::NDArray rgb = synthetic_12mp();
  imio::NDArray a(channels == 1 ? imio::Shape{3000, 4000} : imio::Shape{3000, 4000, channels}, imio::DType::uint8);
  const auto* s = rgb.data<std::uint8_t>();
  auto* d = a.data<std::uint8_t>();
  for (std::size_t i = 0, n = 3000 * 4000; i < n; ++i) {
    for (std::size_t k = 0; k < channels; ++k) d[i * channels + k] = k < 3 ? s[i * 3 + k] : static_cast<std::uint8_t>(s[i * 3] ^ 0x5a);
  }
  return a;
}

// Palette images and `mode` conversions, from memory: imread and
// imread_into against libpng decoding the file (palette → RGB), taking turns.
void bench_conversions(int runs) {
  struct Case {
    const char* name;
    std::size_t channels;
    imio::Kwargs write, read;
  };
  const std::vector<Case> cases{{"P 8-bit -> RGB", 1, {{"mode", "P"}}, {}},
                                {"P 4-bit -> RGB", 3, {{"bits", 4}}, {}},
                                {"P 8-bit -> RGBA", 1, {{"mode", "P"}}, {{"mode", "RGBA"}}},
                                {"P 8-bit -> L", 1, {{"mode", "P"}}, {{"mode", "L"}}},
                                {"L -> RGB", 1, {}, {{"mode", "RGB"}}},
                                {"RGB -> RGBA", 3, {}, {{"mode", "RGBA"}}},
                                {"RGBA -> RGB", 4, {}, {{"mode", "RGB"}}},
                                {"RGB -> L", 3, {}, {{"mode", "L"}}}};
  std::printf("\nconversions, 12 MP from memory (best of %d, ms; ratios to libpng)\n%-18s %9s %9s %9s %9s %9s\n", runs,
              "case", "libpng", "imio", "imio into", "imio/lib", "into/lib");
  for (const Case& c : cases) {
    const imio::Bytes png =
        imio::imwrite("<bytes>", synthetic_12mp_channels(c.channels), {.extension = ".png", .kwargs = c.write}).value();
    const std::vector<unsigned char> file(reinterpret_cast<const unsigned char*>(png.data()),
                                          reinterpret_cast<const unsigned char*>(png.data()) + png.size());
    const imio::ReadOptions options{.plugin = "libpng", .kwargs = c.read};
    const imio::NDArray first = imio::imread(png, options);
    imio::NDArray into(first.shape(), first.dtype());
    std::vector<unsigned char> dst(3000 * 4000 * 4);
    std::vector<png_bytep> rows(3000);
    const std::vector<double> t =
        turns_best_ms(runs, {{"libpng", wall([&] { decode_direct_memory(file, dst, rows); })},
                             {"imio", wall([&] { keep(imio::imread(png, options)); })},
                             {"imio into", wall([&] {
                                imio::imread_into(png, into, options);
                                keep(into);
                              })}});
    std::printf("%-18s %9.2f %9.2f %9.2f %9.3f %9.3f\n", c.name, t[0], t[1], t[2], t[1] / t[0], t[2] / t[0]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  bool small_only = false, decode_only = false, convert_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only" && i + 1 < argc) only = argv[i + 1];
    if (std::string(argv[i]) == "--small") small_only = true;
    if (std::string(argv[i]) == "--decode") decode_only = true;
    if (std::string(argv[i]) == "--convert") convert_only = true;
  }
  const fs::path corpus = IMIO_BENCH_CORPUS;
  if (small_only) {
    bench_small_files(corpus, runs);
    return 0;
  }
  if (convert_only) {
    bench_conversions(runs);
    return 0;
  }
  const fs::path tmp = fs::temp_directory_path() / "imio_bench_12mp.png";
  imio::imwrite(tmp, synthetic_12mp());
  std::vector<fs::path> files;
  for (const fs::path& f : {corpus / "standard/hubble_deep_field.png", corpus / "standard/astronaut.png",
                            corpus / "standard/chelsea.png", tmp}) {
    if (f.filename().string().find(only) != std::string::npos) files.push_back(f);
  }

  std::vector<imio::NDArray> images;
  std::vector<fs::path> present;
  for (const fs::path& f : files) {
    if (!fs::exists(f)) {
      std::printf("%-24s (absent)\n", f.filename().c_str());
      continue;
    }
    images.push_back(imio::imread(f));
    present.push_back(f);
  }
  for (const bool memory : {false, true}) {
    for (std::size_t k = 0; k < present.size(); ++k) {
      const fs::path& f = present[k];
      std::vector<unsigned char> dst(images[k].nbytes());
      std::vector<png_bytep> rows(images[k].shape()[0]);
      std::ifstream in(f, std::ios::binary);
      const std::vector<unsigned char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      imio::NDArray into(images[k].shape(), images[k].dtype());
      const auto methods = memory ? memory_decoders(file, dst, rows, into) : path_decoders(f, dst, rows, into);
      if (k == 0) print_decode_table(memory ? "decode from memory" : "decode from the path", runs, methods);
      print_decode_row(f, turns_best_ms(runs, methods));
    }
  }
  std::printf("\nPillow decode from the path (another process, best of %d, ms)\n", runs);
  for (const fs::path& f : present) std::printf("%-24s %10.2f\n", f.filename().c_str(), pillow(f, runs, false).decode);

  if (decode_only) {
    fs::remove(tmp);
    return 0;
  }
  std::printf("\nencode at level 6 (best of %d, ms; bytes)\n%-24s %10s %10s %10s %10s %8s %8s %11s %11s %11s %11s\n", runs,
              "file", "libpng", "imio", "OpenCV", "Pillow", "imio/lib", "cv/lib", "lib bytes", "imio bytes", "cv bytes",
              "Pil bytes");
  for (std::size_t k = 0; k < present.size(); ++k) {
    const fs::path& f = present[k];
    const imio::NDArray& a = images[k];
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
  bench_conversions(runs);
  return 0;
}
