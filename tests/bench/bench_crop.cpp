// bench_crop: only the pixels you need (issue #26 item 3): a region of 1/16
// of a 12.6-megapixel image (a quarter of each side) read with `crop`
// against the whole image.
//
//   JPEG (4096×3072 from the real photo meadow_cube.jpg, q90 4:2:0, baseline
//   and progressive, and baseline with a restart marker every MCU row and
//   every 16 MCUs): crop at the top-left corner, the centre and the
//   bottom-right corner (libjpeg-turbo entropy-decodes every row above the
//   region unless the decoder can start at a restart marker, and every
//   column of the rows it decodes unless the intervals split the rows into
//   column bands or imio's entropy index walks the scan, so the position
//   matters), the same with the index's walk on one thread (maxworkers=1;
//   the others take the default, one thread per core), crop with
//   scale=1/4, and crops through one imopen handle.
//   TIFF (the same pixels, deflate, tiled 256×256 and striped 16 rows; and
//   uncompressed striped): crop at the centre.
//   PNG (the same pixels, imio's writer at level 6): crop at the top-left
//   corner, the centre and the bottom-right corner (the rows above the
//   region are inflated and unfiltered, those below are not), each also with
//   the inflate forced to libdeflate on the whole stream ("whole") or to zlib
//   a batch of rows at a time ("stream"), the choice the plugin makes by the
//   region's last row (IMIO_PNG_IDAT_PATH).
//   TIFF pyramid (the same pixels, deflate tiles of 256×256, two SubIFD
//   levels of 1/2 and 1/4, written by tifffile when the system Python has
//   it): `level` 1 and 2 against level 0, the whole page.
//
// Methods take turns (turns_best_ms), one thread for TIFF (maxworkers=1) so
// that the ratio is the work saved, not the threads. speed-up = whole / crop.
//   Usage: bench_crop [runs] [jpeg|png|tiff]   (a format: only its tables)
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_timing.hpp"

namespace {

namespace fs = std::filesystem;
using imio::NDArray;
using imio::Value;
using imio_bench::Method;
using imio_bench::wall;

volatile std::size_t g_sink = 0;

// 4096 × 3072: the first four 2048² faces of meadow_cube (two rows of two),
// the last row cut to 1024 lines.
NDArray photo_12mp(const fs::path& meadow_path) {
  const NDArray meadow = imio::imread(meadow_path);
  const std::size_t face = meadow.shape()[1];  // 2048
  const std::size_t w = 2 * face, h = face + face / 2;
  NDArray out({h, w, 3}, imio::DType::uint8);
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t half = 0; half < 2; ++half) {
      const std::size_t f = (y / face) * 2 + half;  // faces 0, 1 then 2, 3
      const std::size_t src_row = f * face + y % face;
      std::memcpy(out.bytes() + (y * w + half * face) * 3, meadow.bytes() + src_row * face * 3, face * 3);
    }
  }
  return out;
}

struct Case {
  std::string name;
  imio::Kwargs kwargs;
  const char* idat_path = nullptr;  // PNG: IMIO_PNG_IDAT_PATH for this method
  // JPEG: read through one imopen handle that has already read two crops
  // at the bottom-right corner (a slide viewer's later crops: the second
  // built the handle's entropy index, which covers the whole scan).
  bool on_open_handle = false;
};

void run(const char* title, const imio::Bytes& file, const std::vector<Case>& cases, int runs) {
  std::vector<Method> methods;
  std::vector<std::unique_ptr<imio::ImageFile>> handles;
  for (const Case& c : cases) {
    if (c.on_open_handle) {
      imio::ImageFile& f = *handles.emplace_back(std::make_unique<imio::ImageFile>(imio::imopen(file, "r")));
      const std::vector<std::size_t> shape = imio::improps(file).shape;
      const auto h = static_cast<std::int64_t>(shape[0]), w = static_cast<std::int64_t>(shape[1]);
      for (int i = 0; i < 2; ++i) g_sink = g_sink + f.read({.kwargs = {{"crop", Value{w - 1, h - 1, w, h}}}}).nbytes();
      methods.push_back({c.name.c_str(), wall([&f, &c] {
                           const NDArray b = f.read({.kwargs = c.kwargs});
                           g_sink = g_sink + b.nbytes();
                         })});
      continue;
    }
    methods.push_back({c.name.c_str(), wall([&file, &c] {
                         if (c.idat_path != nullptr) ::setenv("IMIO_PNG_IDAT_PATH", c.idat_path, 1);
                         const NDArray a = imio::imread(file, {.kwargs = c.kwargs});
                         if (c.idat_path != nullptr) ::unsetenv("IMIO_PNG_IDAT_PATH");
                         g_sink = g_sink + a.nbytes();
                       })});
  }
  const std::vector<double> ms = imio_bench::turns_best_ms(runs, methods);
  std::printf("\n%s (%.1f MB)\n%-34s %10s %10s\n", title, static_cast<double>(file.size()) / 1e6, "method", "ms",
              "speed-up");
  for (std::size_t i = 0; i < methods.size(); ++i) {
    std::printf("%-34s %10.2f %9.2fx\n", methods[i].name, ms[i], ms[0] / ms[i]);
  }
}

Value box(std::size_t left, std::size_t top, std::size_t w, std::size_t h) {
  return Value{static_cast<std::int64_t>(left), static_cast<std::int64_t>(top), static_cast<std::int64_t>(left + w),
               static_cast<std::int64_t>(top + h)};
}

imio::Bytes slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  imio::Bytes out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

// tifffile writes the pyramid (imio's writer has no SubIFDs).
void bench_pyramid(const NDArray& img, int runs) {
  const std::string python = IMIO_BENCH_PYTHON;
  if (python.empty()) return;
  const fs::path dir = fs::temp_directory_path() / ("imio-bench-crop-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  imio::imwrite(dir / "img.npy", img);
  const std::string script =
      "import sys, numpy, tifffile\nd = sys.argv[1]\na = numpy.load(d + '/img.npy')\n"
      "with tifffile.TiffWriter(d + '/pyramid.tif') as t:\n"
      "    kw = dict(tile=(256, 256), compression='zlib', photometric='rgb')\n"
      "    t.write(a, subifds=2, **kw)\n    t.write(a[::2, ::2], subfiletype=1, **kw)\n"
      "    t.write(a[::4, ::4], subfiletype=1, **kw)\n";
  {
    std::FILE* f = std::fopen((dir / "write.py").c_str(), "w");
    if (f == nullptr) return;
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  const std::string cmd = "\"" + python + "\" \"" + (dir / "write.py").string() + "\" \"" + dir.string() + "\" >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::printf("\nTIFF pyramid: tifffile cannot write it here, skipped\n");
    fs::remove_all(dir);
    return;
  }
  const imio::Bytes file = slurp(dir / "pyramid.tif");
  fs::remove_all(dir);
  const std::size_t h = img.shape()[0], w = img.shape()[1];
  run("TIFF pyramid (deflate tiles 256x256, SubIFD levels 1/2, 1/4)", file,
      {{"level 0 (whole page)", {{"maxworkers", 1}}},
       {"level 1 (1/4 of the pixels)", {{"level", 1}, {"maxworkers", 1}}},
       {"level 2 (1/16 of the pixels)", {{"level", 2}, {"maxworkers", 1}}},
       {"level 0 crop centre 1/16", {{"crop", box((w - w / 4) / 2, (h - h / 4) / 2, w / 4, h / 4)}, {"maxworkers", 1}}}},
      runs);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const std::string only = argc > 2 ? argv[2] : "";
  const auto wanted = [&only](const char* format, const char* plugin) {
    return (only.empty() || only == format) && imio::has_plugin(plugin);
  };
  const fs::path meadow = fs::path(IMIO_BENCH_CORPUS) / "standard" / "meadow_cube.jpg";
  if (!fs::exists(meadow)) {
    std::printf("bench_crop: %s not found\n", meadow.c_str());
    return 1;
  }
  const NDArray img = photo_12mp(meadow);
  const std::size_t h = img.shape()[0], w = img.shape()[1];
  const std::size_t bw = w / 4, bh = h / 4;  // 1/16 of the area
  std::printf("bench_crop: %zux%zu (%.1f MP), region %zux%zu (1/16), best of %d runs, methods taking turns\n", w, h,
              static_cast<double>(w * h) / 1e6, bw, bh, runs);

  if (wanted("png", "libpng")) {
    const imio::Bytes file = imio::imwrite("<bytes>", img, {.extension = ".png"}).value();
    std::vector<Case> png_cases{{"whole image", {}}, {"whole image (whole)", {}, "whole"}, {"whole image (stream)", {}, "stream"}};
    const std::pair<const char*, Value> places[] = {{"top-left", box(0, 0, bw, bh)},
                                                    {"centre", box((w - bw) / 2, (h - bh) / 2, bw, bh)},
                                                    {"bottom-right", box(w - bw, h - bh, bw, bh)}};
    for (const auto& [where, b] : places) {
      png_cases.push_back({std::string("crop ") + where, {{"crop", b}}});
      png_cases.push_back({std::string("crop ") + where + " (whole)", {{"crop", b}}, "whole"});
      png_cases.push_back({std::string("crop ") + where + " (stream)", {{"crop", b}}, "stream"});
    }
    run("PNG RGB 8-bit, zlib level 6", file, png_cases, runs);
  }
  if (wanted("jpeg", "libjpeg")) {
    const imio::Bytes baseline = imio::imwrite("<bytes>", img, {.extension = ".jpg", .kwargs = {{"quality", 90}}}).value();
    const imio::Bytes progressive =
        imio::imwrite("<bytes>", img, {.extension = ".jpg", .kwargs = {{"quality", 90}, {"progressive", true}}}).value();
    const std::vector<Case> jpeg_cases{
        {"whole image", {}},
        {"crop top-left", {{"crop", box(0, 0, bw, bh)}}},
        {"crop centre", {{"crop", box((w - bw) / 2, (h - bh) / 2, bw, bh)}}},
        {"crop bottom-right", {{"crop", box(w - bw, h - bh, bw, bh)}}},
        {"crop centre, maxworkers=1", {{"crop", box((w - bw) / 2, (h - bh) / 2, bw, bh)}, {"maxworkers", 1}}},
        {"crop bottom-right, maxworkers=1", {{"crop", box(w - bw, h - bh, bw, bh)}, {"maxworkers", 1}}},
        {"whole image scale=1/4", {{"scale", "1/4"}}},
        {"crop centre scale=1/4", {{"crop", box((w - bw) / 2, (h - bh) / 2, bw, bh)}, {"scale", "1/4"}}},
        {"open handle: crop top-left", {{"crop", box(0, 0, bw, bh)}}, nullptr, true},
        {"open handle: crop centre", {{"crop", box((w - bw) / 2, (h - bh) / 2, bw, bh)}}, nullptr, true},
        {"open handle: crop bottom-right", {{"crop", box(w - bw, h - bh, bw, bh)}}, nullptr, true},
        {"open handle: crop centre 1/4", {{"crop", box((w - bw) / 2, (h - bh) / 2, bw, bh)}, {"scale", "1/4"}}, nullptr, true},
    };
    run("JPEG baseline q90 4:2:0", baseline, jpeg_cases, runs);
    run("JPEG progressive q90 4:2:0", progressive, jpeg_cases, runs);
    const imio::Bytes restarts =
        imio::imwrite("<bytes>", img, {.extension = ".jpg", .kwargs = {{"quality", 90}, {"restart_marker_rows", 1}}}).value();
    run("JPEG baseline q90 4:2:0, a restart marker every MCU row", restarts, jpeg_cases, runs);
    // 256 MCUs per row: 16 intervals of 256 pixels, the column bands a crop
    // decodes alone (jpeg_restart_columns.hpp).
    const imio::Bytes bands =
        imio::imwrite("<bytes>", img, {.extension = ".jpg", .kwargs = {{"quality", 90}, {"restart_marker_blocks", 16}}}).value();
    run("JPEG baseline q90 4:2:0, a restart marker every 16 MCUs", bands, jpeg_cases, runs);
  }
  if (!wanted("tiff", "libtiff")) return 0;

  const Value centre = box((w - bw) / 2, (h - bh) / 2, bw, bh);
  const std::vector<Case> tiff_cases{{"whole image", {{"maxworkers", 1}}},
                                     {"crop centre", {{"crop", centre}, {"maxworkers", 1}}}};
  run("TIFF deflate, tiles 256x256", imio::imwrite("<bytes>", img, {.extension = ".tif", .kwargs = {{"compression", "zlib"}, {"tile", Value{256, 256}}}}).value(),
      tiff_cases, runs);
  run("TIFF deflate, strips of 16 rows", imio::imwrite("<bytes>", img, {.extension = ".tif", .kwargs = {{"compression", "zlib"}, {"rowsperstrip", 16}}}).value(),
      tiff_cases, runs);
  bench_pyramid(img, runs);
  run("TIFF uncompressed, strips of 16 rows", imio::imwrite("<bytes>", img, {.extension = ".tif", .kwargs = {{"rowsperstrip", 16}}}).value(),
      tiff_cases, runs);
  return 0;
}
