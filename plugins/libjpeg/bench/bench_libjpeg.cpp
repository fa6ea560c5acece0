// bench_libjpeg: imio's JPEG decode and encode against the backend called
// directly, and against peers.
//
//   bench_libjpeg [--runs N] [--small]     (--small: only the 500 small files)
//
// Files: the large standard images (meadow_cube.jpg 2048×12288, rommel.jpg
// 3072×2304) and a 12-megapixel photo made from meadow_cube (its left half, 1024×12288,
// written by imio at quality 90 into a temporary folder). Best of N runs
// after a warm-up (page cache hot); each decoder reads the file itself:
//   imio::imread          the full call (resource, plugin selection, header, array)
//   imio::imread_into     the same into one array reused from call to call
//   libjpeg direct        fread + jpeg_mem_src + read_scanlines into a preallocated buffer
//                         whose rows start 16 bytes off a 32-byte boundary (at_phase),
//                         reused, and (", fresh buffer") allocated for each call
//   (these four take turns; the peers below are timed one after another)
//   tjDecompress2         TurboJPEG into a preallocated buffer (ACCURATEDCT = ISLOW)
//   cv::imread            OpenCV (when found at configure time)
//   Pillow                Image.open().load() timed in the system Python
// plus imread(scale=1/4) vs full, and imwrite q90 vs libjpeg / tjCompress2.
// Ratios are to "libjpeg direct".
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <jpeglib.h>
#ifdef IMIO_BENCH_TURBOJPEG
#include <turbojpeg.h>
#endif
#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile unsigned char g_sink = 0;

using imio_bench::best_ms;

std::vector<unsigned char> slurp(const fs::path& p) {
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) std::exit(1);
  std::fseek(f, 0, SEEK_END);
  std::vector<unsigned char> data(static_cast<std::size_t>(std::ftell(f)));
  std::fseek(f, 0, SEEK_SET);
  if (std::fread(data.data(), 1, data.size(), f) != data.size()) std::exit(1);
  std::fclose(f);
  return data;
}

// `n` bytes of `buf` starting at `phase` mod 32. libjpeg-turbo's AVX2 colour
// conversion writes a 32-byte-aligned output chunk with non-temporal stores
// (see plugins/libjpeg/jpeg_rows.hpp), which makes a small image's decode
// up to 1.7× slower; a std::vector's buffer is 16-byte aligned, so a plain
// loop was fast or slow depending on where malloc put it, and its time
// depended on what ran before it in the process. The loops below place
// their output explicitly: phase 16 is libjpeg's fast case, the baseline.
unsigned char* at_phase(std::vector<unsigned char>& buf, std::size_t n, std::size_t phase) {
  buf.resize(n + 64);
  const auto address = reinterpret_cast<std::uintptr_t>(buf.data());
  return buf.data() + (32 + phase - address % 32) % 32;
}

// The plain libjpeg decode a C program would write (no error recovery needed
// for these known-good files), into output rows at `phase` mod 32: into
// `out`, reused from call to call, or with `fresh` into memory allocated for
// this call and not zero-filled, as an imread's array is.
void libjpeg_decode(const fs::path& p, std::vector<unsigned char>& out, std::size_t phase = 16, bool fresh = false) {
  const std::vector<unsigned char> data = slurp(p);
  jpeg_decompress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_decompress(&c);
  jpeg_mem_src(&c, data.data(), static_cast<unsigned long>(data.size()));
  jpeg_read_header(&c, TRUE);
  jpeg_start_decompress(&c);
  const std::size_t row = static_cast<std::size_t>(c.output_width) * static_cast<std::size_t>(c.output_components);
  std::unique_ptr<unsigned char[]> own;
  unsigned char* pixels = nullptr;
  if (fresh) {
    own.reset(new unsigned char[row * c.output_height + 32]);
    pixels = own.get() + (48 - reinterpret_cast<std::uintptr_t>(own.get()) % 32) % 32;
  } else {
    pixels = at_phase(out, row * c.output_height, phase);
  }
  std::vector<JSAMPROW> rows(c.output_height);
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = pixels + y * row;
  while (c.output_scanline < c.output_height) {
    jpeg_read_scanlines(&c, rows.data() + c.output_scanline, c.output_height - c.output_scanline);
  }
  jpeg_finish_decompress(&c);
  jpeg_destroy_decompress(&c);
  g_sink = pixels[row * c.output_height / 2];
}

std::size_t libjpeg_encode(const unsigned char* pixels, int w, int h, int quality) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<JSAMPROW> rows(static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y) rows[static_cast<std::size_t>(y)] = const_cast<unsigned char*>(pixels) + static_cast<std::size_t>(y) * static_cast<std::size_t>(w) * 3;
  while (c.next_scanline < c.image_height) jpeg_write_scanlines(&c, rows.data() + c.next_scanline, c.image_height - c.next_scanline);
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return size;
}

double pillow_ms(const fs::path& p, int runs) {
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return -1;
  const fs::path out = fs::temp_directory_path() / "imio-bench-pillow.txt";
  const std::string script =
      "import time,sys\nfrom PIL import Image\nb=1e9\nfor i in range(" + std::to_string(runs + 1) +
      "):\n t=time.perf_counter(); im=Image.open(sys.argv[1]); im.load(); b=min(b,time.perf_counter()-t)\nprint(b*1000)\n";
  const std::string cmd = "\"" + py + "\" -c \"" + script + "\" \"" + p.string() + "\" > \"" + out.string() + "\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return -1;
  std::ifstream in(out);
  double ms = -1;
  in >> ms;
  fs::remove(out);
  return ms;
}

void row(const char* name, double ms, double base) {
  if (ms < 0) return;
  std::printf("  %-28s %10.2f ms   %6.3fx\n", name, ms, ms / base);
}

void bench_decode(const fs::path& p, int runs) {
  const imio::ImageProperties props = imio::improps(p);
  std::printf("\n%s  (%zux%zu, %.1f MP, %ju bytes)\n", p.filename().c_str(), props.shape[1], props.shape[0],
              static_cast<double>(props.shape[0] * props.shape[1]) / 1e6, static_cast<std::uintmax_t>(fs::file_size(p)));
  std::vector<unsigned char> out;
  imio::NDArray into(props.shape, props.dtype);
  // The four take turns: a reused buffer against fresh memory, for libjpeg
  // and for imio (imread's array is fresh, imread_into's is the caller's).
  const std::vector<double> t = imio_bench::turns_best_ms(
      runs, {{"libjpeg direct", imio_bench::wall([&] { libjpeg_decode(p, out); })},
             {"libjpeg direct, fresh buffer", imio_bench::wall([&] { libjpeg_decode(p, out, 16, true); })},
             {"imio::imread", imio_bench::wall([&] { g_sink = imio::imread(p).data<unsigned char>()[0]; })},
             {"imio::imread_into (reused)", imio_bench::wall([&] {
                imio::imread_into(p, into);
                g_sink = into.data<unsigned char>()[0];
              })}});
  const double direct = t[0];
  row("libjpeg direct", t[0], direct);
  row("libjpeg direct, fresh buffer", t[1], direct);
  row("imio::imread", t[2], direct);
  row("imio::imread_into (reused)", t[3], direct);
#ifdef IMIO_BENCH_TURBOJPEG
  {
    const double ms = best_ms(runs, [&] {
      const std::vector<unsigned char> data = slurp(p);
      tjhandle h = tjInitDecompress();
      int w = 0, hh = 0, ss = 0, cs = 0;
      tjDecompressHeader3(h, data.data(), data.size(), &w, &hh, &ss, &cs);
      unsigned char* px = at_phase(out, static_cast<std::size_t>(w) * static_cast<std::size_t>(hh) * 3, 16);
      tjDecompress2(h, data.data(), data.size(), px, w, 0, hh, TJPF_RGB, TJFLAG_ACCURATEDCT);
      tjDestroy(h);
      g_sink = px[0];
    });
    row("tjDecompress2", ms, direct);
  }
#endif
#ifdef IMIO_BENCH_OPENCV
  row("cv::imread", best_ms(runs, [&] { g_sink = cv::imread(p.string(), cv::IMREAD_COLOR).data[0]; }), direct);
#endif
  row("Pillow open+load", pillow_ms(p, runs), direct);
  const imio::ReadOptions quarter{.kwargs = {{"scale", 0.25}}};
  row("imio::imread scale=1/4", best_ms(runs, [&] { g_sink = imio::imread(p, quarter).data<unsigned char>()[0]; }), direct);
}

// Per-call cost from a path (issue #26 item 5): 500 small files, each read
// from its path and decoded, against the loop a C program would write
// (read the file, decode it). Methods take turns.
void bench_small_files(const fs::path& dir, const imio::NDArray& source, int runs) {
  constexpr std::size_t kFiles = 500, kSide = 64;
  std::vector<fs::path> paths;
  for (std::size_t i = 0; i < kFiles; ++i) {
    imio::NDArray tile(imio::Shape{kSide, kSide, 3}, imio::DType::uint8);
    const std::size_t x0 = (i * 97) % (source.shape()[1] - kSide), y0 = (i * 61) % (source.shape()[0] - kSide);
    for (std::size_t y = 0; y < kSide; ++y) {
      std::memcpy(tile.bytes() + y * kSide * 3, source.bytes() + ((y0 + y) * source.shape()[1] + x0) * 3, kSide * 3);
    }
    paths.push_back(dir / ("small" + std::to_string(i) + ".jpg"));
    imio::imwrite(paths.back(), tile, {.kwargs = {{"quality", 90}}});
  }
  std::vector<unsigned char> out;
  std::vector<imio_bench::Method> methods{
      {"libjpeg: fread + decode", imio_bench::wall([&] {
         for (const fs::path& p : paths) libjpeg_decode(p, out);
       })},
      {"the same, 32-byte-aligned rows", imio_bench::wall([&] {
         for (const fs::path& p : paths) libjpeg_decode(p, out, 0);
       })},
      {"imio::imread", imio_bench::wall([&] {
         for (const fs::path& p : paths) g_sink = imio::imread(p).data<unsigned char>()[0];
       })},
#ifdef IMIO_BENCH_TURBOJPEG
      {"fread + tjDecompress2", imio_bench::wall([&] {
         tjhandle h = tjInitDecompress();
         for (const fs::path& p : paths) {
           const std::vector<unsigned char> data = slurp(p);
           int w = 0, hh = 0, ss = 0, cs = 0;
           tjDecompressHeader3(h, data.data(), data.size(), &w, &hh, &ss, &cs);
           unsigned char* px = at_phase(out, static_cast<std::size_t>(w) * static_cast<std::size_t>(hh) * 3, 16);
           tjDecompress2(h, data.data(), data.size(), px, w, 0, hh, TJPF_RGB, TJFLAG_ACCURATEDCT);
           g_sink = px[0];
         }
         tjDestroy(h);
       })},
#endif
#ifdef IMIO_BENCH_OPENCV
      {"cv::imread", imio_bench::wall([&] {
         for (const fs::path& p : paths) g_sink = cv::imread(p.string(), cv::IMREAD_COLOR).data[0];
       })},
#endif
  };
  const std::vector<double> t = imio_bench::turns_best_ms(runs, methods);
  std::printf("\n%zu files of %zux%zu RGB q90 from paths (%ju bytes the first)\n", kFiles, kSide, kSide,
              static_cast<std::uintmax_t>(fs::file_size(paths[0])));
  for (std::size_t i = 0; i < methods.size(); ++i) row(methods[i].name, t[i], t[0]);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool small_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--small") small_only = true;
  }
  const fs::path standard = fs::path(IMIO_BENCH_CORPUS) / "standard";
  if (!fs::exists(standard / "meadow_cube.jpg")) {
    std::printf("bench_libjpeg: %s not found\n", (standard / "meadow_cube.jpg").c_str());
    return 1;
  }
  const fs::path tmp = fs::temp_directory_path() / ("imio-bench-jpeg-" + std::to_string(std::random_device{}()));
  fs::create_directories(tmp);

  // A 12.6-megapixel photo: the left half of meadow_cube (1024×12288), re-encoded at q90.
  const imio::NDArray meadow = imio::imread(standard / "meadow_cube.jpg");
  if (small_only) {
    std::printf("bench_libjpeg: best of %d runs; ratio = time / libjpeg direct\n", runs);
    bench_small_files(tmp, meadow, runs);
    fs::remove_all(tmp);
    return 0;
  }
  const std::size_t h = meadow.shape()[0], w = meadow.shape()[1] / 2;
  imio::NDArray photo(imio::Shape{h, w, 3}, imio::DType::uint8);
  for (std::size_t y = 0; y < h; ++y) {
    std::memcpy(photo.bytes() + y * w * 3, meadow.bytes() + y * meadow.shape()[1] * 3, w * 3);
  }
  const fs::path photo_path = tmp / "photo12mp.jpg";
  imio::imwrite(photo_path, photo, {.kwargs = {{"quality", 90}}});

  std::printf("bench_libjpeg: best of %d runs; ratio = time / libjpeg direct\n", runs);
  for (const fs::path& p : {standard / "meadow_cube.jpg", standard / "rommel.jpg", photo_path}) bench_decode(p, runs);
  bench_small_files(tmp, meadow, runs);

  std::printf("\nwrite q90, 4:2:0, %zux%zu RGB to memory\n", w, h);
  const unsigned char* px = reinterpret_cast<const unsigned char*>(photo.bytes());
  const double direct = best_ms(runs, [&] { g_sink = static_cast<unsigned char>(libjpeg_encode(px, static_cast<int>(w), static_cast<int>(h), 90)); });
  row("libjpeg direct", direct, direct);
  const imio::WriteOptions q90{.extension = ".jpg", .kwargs = {{"quality", 90}}};
  row("imio::imwrite <bytes>", best_ms(runs, [&] { g_sink = static_cast<unsigned char>(imio::imwrite("<bytes>", photo, q90)->size()); }), direct);
#ifdef IMIO_BENCH_TURBOJPEG
  row("tjCompress2", best_ms(runs, [&] {
        tjhandle t = tjInitCompress();
        unsigned char* buf = nullptr;
        unsigned long size = 0;
        tjCompress2(t, px, static_cast<int>(w), 0, static_cast<int>(h), TJPF_RGB, &buf, &size, TJSAMP_420, 90, TJFLAG_ACCURATEDCT);
        tjFree(buf);
        tjDestroy(t);
        g_sink = static_cast<unsigned char>(size);
      }), direct);
#endif
  fs::remove_all(tmp);
  return 0;
}
