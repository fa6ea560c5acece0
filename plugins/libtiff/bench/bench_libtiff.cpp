// bench_libtiff: imio::imread of TIFF against
//   libtiff direct  the loop a user writes: the full output allocated fresh
//                   (not zero-filled), TIFFReadEncodedStrip straight into it,
//                   TIFFReadEncodedTile into a tile buffer copied into place
//   tifffile        tifffile.imread timed in the system Python (when present)
//   OpenCV          cv::imread (one page) / cv::imreadmulti (stacks), when found
//
//   bench_libtiff [--runs N]
//
// Workloads: calcium_imaging.tif (1000 pages of 30×40 uint16, corpus), a
// 12-megapixel uncompressed RGB file, the same deflate-compressed (strips of
// 256 KiB) and tiled (256×256, deflate), and a 12-megapixel 1-bit file
// (bool; the libtiff loop unpacks each sample into a byte), generated here.
// Best of N runs.
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
#include <memory>
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

// What a user writes with libtiff to get the whole file as one array:
// count the pages, allocate the full output once (fresh, not zero-filled),
// then read each page's strips with TIFFReadEncodedStrip straight into it,
// or decode each tile with TIFFReadEncodedTile into a tile buffer and copy
// its rows into place. Returns the bytes produced (0 on failure).
std::size_t libtiff_direct(const fs::path& path) {
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  if (tif == nullptr) return 0;
  std::uint32_t width = 0, height = 0;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
  std::uint16_t bits = 8, channels = 1;
  TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetField(tif, TIFFTAG_SAMPLESPERPIXEL, &channels);
  const std::size_t row = static_cast<std::size_t>(TIFFScanlineSize64(tif));
  const std::size_t samples = std::size_t{width} * channels;
  const std::size_t page = bits < 8 ? samples * height : row * height;  // packed samples: a byte each
  const std::size_t pages = TIFFNumberOfDirectories(tif);
  std::unique_ptr<std::uint8_t[]> out(new std::uint8_t[page * pages]);
  std::size_t done = 0;
  for (std::size_t p = 0; p < pages; ++p) {
    if (p > 0 && !TIFFReadDirectory(tif)) break;
    std::uint8_t* dst = out.get() + p * page;
    if (TIFFIsTiled(tif)) {
      std::uint32_t tw = 0, th = 0;
      TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
      const std::size_t pixel = row / width, tile_row = tw * pixel;
      std::unique_ptr<std::uint8_t[]> tile(new std::uint8_t[static_cast<std::size_t>(TIFFTileSize64(tif))]);
      for (std::uint32_t y = 0; y < height; y += th) {
        for (std::uint32_t x = 0; x < width; x += tw) {
          if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), tile.get(), -1) < 0) return 0;
          const std::size_t rows = std::min<std::size_t>(th, height - y);
          const std::size_t bytes = std::min<std::size_t>(tw, width - x) * pixel;
          for (std::size_t r = 0; r < rows; ++r) std::memcpy(dst + (y + r) * row + x * pixel, tile.get() + r * tile_row, bytes);
        }
      }
    } else if (bits < 8) {
      // Packed samples (a bilevel scan): the strips into a packed page,
      // then each sample into a byte of its own, as tifffile gives them.
      std::unique_ptr<std::uint8_t[]> packed(new std::uint8_t[row * height]);
      std::size_t at = 0;
      for (std::uint32_t s = 0; s < TIFFNumberOfStrips(tif); ++s) {
        const tmsize_t n = TIFFReadEncodedStrip(tif, s, packed.get() + at, -1);
        if (n < 0) return 0;
        at += static_cast<std::size_t>(n);
      }
      const unsigned mask = (1u << bits) - 1u;
      for (std::uint32_t y = 0; y < height; ++y) {
        const std::uint8_t* src = packed.get() + y * row;
        for (std::size_t x = 0; x < samples; ++x) {
          const std::size_t bit = x * bits;
          dst[y * samples + x] = static_cast<std::uint8_t>((src[bit / 8] >> (8 - bits - bit % 8)) & mask);
        }
      }
    } else {
      std::size_t at = 0;
      for (std::uint32_t s = 0; s < TIFFNumberOfStrips(tif); ++s) {
        const tmsize_t n = TIFFReadEncodedStrip(tif, s, dst + at, -1);
        if (n < 0) return 0;
        at += static_cast<std::size_t>(n);
      }
    }
    done += page;
  }
  TIFFClose(tif);
  g_sink = g_sink ^ out[0];
  return done;
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
  const double imio_ms = best_ms(runs, [&] { g_sink = g_sink ^ std::to_integer<unsigned char>(imio::imread(path).bytes()[0]); });
  const std::size_t want = imio::imread(path).nbytes();
  if (libtiff_direct(path) != want) std::printf("(the libtiff loop decoded a different size) ");
  const double direct = best_ms(runs, [&] { libtiff_direct(path); });
  const double tf = python_ms(path, runs);
  std::printf("%-26s imio %8.2f ms | libtiff loop %8.2f ms (imio/libtiff %.2f)", name, imio_ms, direct, imio_ms / direct);
  if (tf > 0) std::printf(" | tifffile %8.2f ms (imio/tifffile %.2f)", tf, imio_ms / tf);
#ifdef IMIO_BENCH_OPENCV
  // One page: cv::imread; a stack: cv::imreadmulti (a Mat per page).
  std::vector<cv::Mat> mats;
  const bool multi = imio::improps(path).shape.size() == 3 && imio::improps(path).shape.back() != 3;
  const double cv_ms = best_ms(runs, [&] {
    if (multi) {
      mats.clear();
      cv::imreadmulti(path.string(), mats, cv::IMREAD_UNCHANGED);
    } else {
      const cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
      g_sink = g_sink ^ (m.empty() ? 0 : m.data[0]);
    }
  });
  std::printf(" | OpenCV %s %8.2f ms (imio/cv %.2f)", multi ? "imreadmulti" : "imread", cv_ms, imio_ms / cv_ms);
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
  imio::NDArray bilevel({3000, 4000}, imio::DType::bool_);
  for (std::size_t i = 0; i < bilevel.nbytes(); ++i) {
    bilevel.bytes()[i] = static_cast<std::byte>((i % 4000 / 13 + i / 4000 / 7) % 3 == 0);
  }
  imio::imwrite(tmp / "bilevel12mp.tif", bilevel);
  const fs::path calcium = fs::path(IMIO_BENCH_CORPUS) / "standard" / "calcium_imaging.tif";
  std::printf("best of %d runs\n", runs);
  if (fs::exists(calcium)) row("calcium_imaging (1000 p.)", calcium, runs);
  row("12 MP RGB uncompressed", tmp / "rgb12mp.tif", runs);
  row("12 MP RGB deflate strips", tmp / "rgb12mp_deflate.tif", runs);
  row("12 MP RGB deflate tiles", tmp / "rgb12mp_tiled.tif", runs);
  row("12 MP bilevel uncompressed", tmp / "bilevel12mp.tif", runs);
  fs::remove_all(tmp);
  return 0;
}
