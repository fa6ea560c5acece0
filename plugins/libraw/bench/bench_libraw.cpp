// bench_libraw: imio::imread of camera RAW against the same LibRaw calls
// made directly — the file read into memory, open_buffer, unpack,
// dcraw_process with rawpy's gamma, dcraw_make_mem_image into an array —
// on the largest real RAW of the corpus (Blackmagic.dng, 9 MP); half_size
// and the embedded thumbnail against full development (the thumbnail on
// Nikon_uncompressed.nef: the DNG has none).
//
//   bench_libraw [--runs N]
//
// Best of N runs after a warm-up.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <libraw/libraw.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
volatile unsigned char g_sink = 0;

using imio_bench::best_ms;

void quiet_data(void*, const char*, const int) {}

// The calls imio makes, without imio: what a careful direct user writes.
void develop_direct(const fs::path& path, bool half_size) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto p = std::make_unique<LibRaw>(LIBRAW_OPIONS_NO_MEMERR_CALLBACK | LIBRAW_OPIONS_NO_DATAERR_CALLBACK);
  p->set_dataerror_handler(&quiet_data, nullptr);
  if (p->open_buffer(data.data(), data.size()) != LIBRAW_SUCCESS || p->unpack() != LIBRAW_SUCCESS) std::abort();
  p->imgdata.params.gamm[0] = 1 / 2.222;
  p->imgdata.params.gamm[1] = 4.5;
  p->imgdata.params.half_size = half_size ? 1 : 0;
  if (p->dcraw_process() != LIBRAW_SUCCESS) std::abort();
  int err = 0;
  libraw_processed_image_t* img = p->dcraw_make_mem_image(&err);
  if (img == nullptr) std::abort();
  std::vector<unsigned char> out(img->data, img->data + img->data_size);
  g_sink = out[out.size() / 2];
  LibRaw::dcraw_clear_mem(img);
}

void run_imio(const fs::path& path, imio::Kwargs kwargs) {
  const imio::NDArray a = imio::imread(path, {.plugin = "libraw", .kwargs = std::move(kwargs)});
  g_sink = static_cast<unsigned char>(a.bytes()[a.nbytes() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  }
  const fs::path raw = fs::path(IMIO_BENCH_CORPUS) / "raw";
  const fs::path dng = raw / "imageio/Blackmagic.dng";
  const fs::path nef = raw / "imageio/Nikon_uncompressed.nef";
  if (!fs::exists(dng) || !fs::exists(nef)) {
    std::fprintf(stderr, "bench_libraw: corpus files under %s missing\n", raw.c_str());
    return 1;
  }
  std::printf("bench_libraw (LibRaw %s), best of %d runs, ms\n\n", LibRaw::version(), runs);
  const double direct = best_ms(runs, [&] { develop_direct(dng, false); });
  const double full = best_ms(runs, [&] { run_imio(dng, {}); });
  const double direct_half = best_ms(runs, [&] { develop_direct(dng, true); });
  const double half = best_ms(runs, [&] { run_imio(dng, {{"half_size", true}}); });
  const double props = best_ms(runs, [&] {
    g_sink = static_cast<unsigned char>(imio::improps(dng, {.plugin = "libraw"}).shape[0]);
  });
  const double nef_full = best_ms(runs, [&] { run_imio(nef, {}); });
  const double nef_thumb = best_ms(runs, [&] { run_imio(nef, {{"thumbnail", true}}); });
  const double nef_raw = best_ms(runs, [&] { run_imio(nef, {{"raw", true}}); });

  std::printf("%-44s %10s %10s %8s\n", "case", "imio", "direct", "ratio");
  std::printf("%-44s %10.1f %10.1f %8.3f\n", "Blackmagic.dng 4128x2176 full (AHD)", full, direct, full / direct);
  std::printf("%-44s %10.1f %10.1f %8.3f\n", "Blackmagic.dng half_size", half, direct_half, half / direct_half);
  std::printf("\n%-44s %10s %10s\n", "case", "imio", "vs full");
  std::printf("%-44s %10.1f %10.3f\n", "Blackmagic.dng half_size", half, half / full);
  std::printf("%-44s %10.2f %10.4f\n", "Blackmagic.dng improps (no development)", props, props / full);
  std::printf("%-44s %10.1f %10s\n", "Nikon_uncompressed.nef full", nef_full, "1");
  std::printf("%-44s %10.2f %10.4f\n", "Nikon_uncompressed.nef thumbnail=true", nef_thumb, nef_thumb / nef_full);
  std::printf("%-44s %10.2f %10.4f\n", "Nikon_uncompressed.nef raw=true", nef_raw, nef_raw / nef_full);
  return 0;
}
