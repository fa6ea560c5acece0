// bench_libtiff: imio::imread of TIFF against
//   libtiff direct  TIFFReadDirectory per page + TIFFReadEncodedStrip/Tile
//                   into a fresh buffer (the plain libtiff loop; tiles are
//                   not rearranged into an image, so it is a lower bound)
//   tifffile        tifffile.imread timed in the system Python (when present)
//   cv::imreadmulti OpenCV (when found at configure time)
//
//   bench_libtiff [--runs N]
//
// Workloads: calcium_imaging.tif (1000 pages of 30×40 uint16, corpus), a
// 12-megapixel uncompressed RGB file, the same deflate-compressed (strips of
// 256 KiB) and tiled (256×256, deflate), generated here. Best of N runs.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <tiffio.h>

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

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
volatile unsigned char g_sink = 0;

using imio_bench::best_ms;

extern "C" void quiet(const char*, const char*, va_list) {}

// Every page of the file, decoded with libtiff's own loop.
void libtiff_direct(const fs::path& path, std::vector<unsigned char>& buf) {
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  if (tif == nullptr) return;
  std::size_t at = 0;
  do {
    if (TIFFIsTiled(tif)) {
      const tmsize_t n = TIFFTileSize(tif);
      for (std::uint32_t t = 0; t < TIFFNumberOfTiles(tif); ++t) {
        if (buf.size() < at + static_cast<std::size_t>(n)) buf.resize(at + static_cast<std::size_t>(n));
        at += static_cast<std::size_t>(std::max<tmsize_t>(0, TIFFReadEncodedTile(tif, t, buf.data() + at, n)));
      }
    } else {
      const tmsize_t n = TIFFStripSize(tif);
      for (std::uint32_t s = 0; s < TIFFNumberOfStrips(tif); ++s) {
        if (buf.size() < at + static_cast<std::size_t>(n)) buf.resize(at + static_cast<std::size_t>(n));
        at += static_cast<std::size_t>(std::max<tmsize_t>(0, TIFFReadEncodedStrip(tif, s, buf.data() + at, n)));
      }
    }
  } while (TIFFReadDirectory(tif));
  TIFFClose(tif);
  if (!buf.empty()) g_sink = g_sink ^ buf[0];
}

double python_ms(const fs::path& path, int runs) {
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return -1;
  const fs::path out = fs::temp_directory_path() / "imio_bench_tiff_py.txt";
  const std::string script =
      "import sys,time,tifffile\n"
      "f=sys.argv[1]; n=int(sys.argv[2]); tifffile.imread(f); b=1e30\n"
      "for i in range(n):\n"
      "  t=time.perf_counter(); tifffile.imread(f); b=min(b,time.perf_counter()-t)\n"
      "print(b*1000)\n";
  const std::string cmd = "\"" + py + "\" -c '" + script + "' \"" + path.string() + "\" " + std::to_string(runs) +
                          " > \"" + out.string() + "\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return -1;
  std::ifstream f(out);
  double ms = -1;
  f >> ms;
  return ms;
}

void row(const char* name, const fs::path& path, int runs) {
  // The loop gets a fresh buffer per read, as any reader returning a new image.
  std::vector<unsigned char> buf;
  const double imio_ms = best_ms(runs, [&] { g_sink = g_sink ^ std::to_integer<unsigned char>(imio::imread(path).bytes()[0]); });
  const double direct = best_ms(runs, [&] {
    buf = std::vector<unsigned char>();
    libtiff_direct(path, buf);
  });
  const double tf = python_ms(path, runs);
  std::printf("%-26s imio %8.2f ms | libtiff loop %8.2f ms (imio/libtiff %.2f)", name, imio_ms, direct, imio_ms / direct);
  if (tf > 0) std::printf(" | tifffile %8.2f ms (imio/tifffile %.2f)", tf, imio_ms / tf);
#ifdef IMIO_BENCH_OPENCV
  std::vector<cv::Mat> mats;
  const double cv_ms = best_ms(runs, [&] {
    mats.clear();
    cv::imreadmulti(path.string(), mats, cv::IMREAD_UNCHANGED);
  });
  std::printf(" | cv::imreadmulti %8.2f ms (imio/cv %.2f)", cv_ms, imio_ms / cv_ms);
#endif
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  TIFFSetWarningHandler(quiet);
  const fs::path tmp = fs::temp_directory_path() / "imio_bench_tiff";
  fs::create_directories(tmp);
  imio::NDArray rgb({3000, 4000, 3}, imio::DType::uint8);
  for (std::size_t y = 0; y < 3000; ++y) {
    for (std::size_t x = 0; x < 12000; ++x) {
      rgb.bytes()[y * 12000 + x] = static_cast<std::byte>((x * 3 + y * 5 + (x * y >> 7)) & 0xFF);
    }
  }
  imio::imwrite(tmp / "rgb12mp.tif", rgb);
  imio::imwrite(tmp / "rgb12mp_deflate.tif", rgb, {.kwargs = {{"compression", "zlib"}}});
  imio::imwrite(tmp / "rgb12mp_tiled.tif", rgb, {.kwargs = {{"compression", "zlib"}, {"tile", imio::Value::List{256, 256}}}});
  const fs::path calcium = fs::path(IMIO_BENCH_CORPUS) / "standard" / "calcium_imaging.tif";
  std::printf("best of %d runs\n", runs);
  if (fs::exists(calcium)) row("calcium_imaging (1000 p.)", calcium, runs);
  row("12 MP RGB uncompressed", tmp / "rgb12mp.tif", runs);
  row("12 MP RGB deflate strips", tmp / "rgb12mp_deflate.tif", runs);
  row("12 MP RGB deflate tiles", tmp / "rgb12mp_tiled.tif", runs);
  fs::remove_all(tmp);
  return 0;
}
