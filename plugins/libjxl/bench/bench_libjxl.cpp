// bench_libjxl: imio's JPEG XL decode and encode against libjxl used
// directly and against imio's FFmpeg path (plugin="ffmpeg": FFmpeg's libjxl
// wrapper), and the effect of libjxl's thread pool (thread_count).
//
//   bench_libjxl [--runs N] [--only NAME]     (NAME: a part of a case name)
//
// Cases, generated here: a 12-megapixel (4000x3000) photo-like RGB image,
// lossy (distance 1, effort 7: cjxl's defaults) and lossless (effort 1,
// decode only: effort-7 lossless takes minutes at 12 MP). Best of N runs
// after a warm-up; the methods take turns in every run.
//
// The direct libjxl decode reads the file into memory and runs one
// JxlDecoder (basic info, colour encoding, full image) with a
// JxlThreadParallelRunner of libjxl's default size, straight into fresh
// memory of the image's size (new[]), as imread returns a fresh array;
// "lib-into" decodes into one reused, already touched buffer (no page
// faults: the floor). imio adds its header passes (improps' information,
// the Limits' checks) before the decode; its arrays are advised as huge
// pages (MADV_HUGEPAGE), which makes first-touch cheaper than new[].
// The direct encode uses imio's settings: distance 1, effort 7, the
// default thread pool, no container.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <jxl/decode.h>
#include <jxl/encode.h>
#include <jxl/thread_parallel_runner.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
volatile unsigned char g_sink = 0;

using imio_bench::turns_best_ms;
using imio_bench::wall;

std::vector<std::uint8_t> read_all(const fs::path& p) {
  std::vector<std::uint8_t> data(fs::file_size(p));
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr || std::fread(data.data(), 1, data.size(), f) != data.size()) std::fprintf(stderr, "cannot read %s\n", p.c_str());
  if (f != nullptr) std::fclose(f);
  return data;
}

// gradients, a fine texture and noise, like a photo
imio::NDArray photo(std::size_t h, std::size_t w, std::uint32_t seed) {
  imio::NDArray a({h, w, 3}, imio::DType::uint8);
  auto* p = a.data<std::uint8_t>();
  std::uint32_t x = seed;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const std::size_t o = (y * w + i) * 3;
      const std::size_t t = ((i / 3) ^ (y / 5)) % 24;
      p[o] = static_cast<std::uint8_t>((i * 200 / w + t + (x >> 27)) & 0xff);
      p[o + 1] = static_cast<std::uint8_t>((y * 200 / h + t + (x >> 28)) & 0xff);
      p[o + 2] = static_cast<std::uint8_t>(((i + y) * 100 / (w + h) + 2 * t + (x >> 27)) & 0xff);
    }
  }
  return a;
}

// ---------------------------------------------------------------- libjxl direct

// threads: 0 = libjxl's default pool size, 1 = no pool; `reuse`: decode
// into this (already touched) buffer instead of fresh memory
void decode_direct(const fs::path& p, unsigned threads, std::vector<std::uint8_t>* reuse = nullptr) {
  const std::vector<std::uint8_t> data = read_all(p);
  JxlDecoder* d = JxlDecoderCreate(nullptr);
  void* runner = nullptr;
  if (threads != 1) {
    runner = JxlThreadParallelRunnerCreate(nullptr, threads == 0 ? JxlThreadParallelRunnerDefaultNumWorkerThreads() : threads);
    JxlDecoderSetParallelRunner(d, JxlThreadParallelRunner, runner);
  }
  JxlDecoderSubscribeEvents(d, JXL_DEC_BASIC_INFO | JXL_DEC_COLOR_ENCODING | JXL_DEC_FULL_IMAGE);
  JxlDecoderSetInput(d, data.data(), data.size());
  JxlDecoderCloseInput(d);
  JxlPixelFormat format{3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  std::unique_ptr<std::uint8_t[]> out;
  std::size_t bytes = 0;
  for (bool done = false; !done;) {
    switch (JxlDecoderProcessInput(d)) {
      case JXL_DEC_BASIC_INFO: {
        JxlBasicInfo b;
        JxlDecoderGetBasicInfo(d, &b);
        format.num_channels = b.num_color_channels + (b.alpha_bits > 0 ? 1 : 0);
        break;
      }
      case JXL_DEC_COLOR_ENCODING: break;
      case JXL_DEC_NEED_IMAGE_OUT_BUFFER:
        JxlDecoderImageOutBufferSize(d, &format, &bytes);
        if (reuse != nullptr) {
          reuse->resize(bytes);
          JxlDecoderSetImageOutBuffer(d, &format, reuse->data(), bytes);
        } else {
          out.reset(new std::uint8_t[bytes]);
          JxlDecoderSetImageOutBuffer(d, &format, out.get(), bytes);
        }
        break;
      case JXL_DEC_FULL_IMAGE: done = true; break;
      default:
        std::fprintf(stderr, "libjxl decode failed\n");
        done = true;
        break;
    }
  }
  if (out) g_sink = g_sink + out[bytes / 2];
  if (reuse != nullptr && !reuse->empty()) g_sink = g_sink + (*reuse)[bytes / 2];
  JxlDecoderDestroy(d);
  if (runner != nullptr) JxlThreadParallelRunnerDestroy(runner);
}

std::size_t encode_direct(const imio::NDArray& a) {
  JxlEncoder* e = JxlEncoderCreate(nullptr);
  void* runner = JxlThreadParallelRunnerCreate(nullptr, JxlThreadParallelRunnerDefaultNumWorkerThreads());
  JxlEncoderSetParallelRunner(e, JxlThreadParallelRunner, runner);
  JxlBasicInfo bi;
  JxlEncoderInitBasicInfo(&bi);
  bi.xsize = static_cast<std::uint32_t>(a.shape()[1]);
  bi.ysize = static_cast<std::uint32_t>(a.shape()[0]);
  bi.bits_per_sample = 8;
  bi.num_color_channels = 3;
  bi.uses_original_profile = JXL_FALSE;
  JxlEncoderSetBasicInfo(e, &bi);
  JxlColorEncoding ce;
  JxlColorEncodingSetToSRGB(&ce, JXL_FALSE);
  JxlEncoderSetColorEncoding(e, &ce);
  JxlEncoderFrameSettings* s = JxlEncoderFrameSettingsCreate(e, nullptr);
  JxlEncoderFrameSettingsSetOption(s, JXL_ENC_FRAME_SETTING_EFFORT, 7);
  JxlEncoderSetFrameDistance(s, 1.0f);
  const JxlPixelFormat format{3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  JxlEncoderAddImageFrame(s, &format, a.bytes(), a.nbytes());
  JxlEncoderCloseInput(e);
  std::vector<std::uint8_t> out(1 << 20);
  std::size_t used = 0;
  for (;;) {
    std::uint8_t* next = out.data() + used;
    std::size_t avail = out.size() - used;
    const JxlEncoderStatus st = JxlEncoderProcessOutput(e, &next, &avail);
    used = static_cast<std::size_t>(next - out.data());
    if (st != JXL_ENC_NEED_MORE_OUTPUT) break;
    out.resize(out.size() * 2);
  }
  JxlEncoderDestroy(e);
  JxlThreadParallelRunnerDestroy(runner);
  return used;
}

void row(const char* name, const std::vector<double>& t) {
  std::printf("%-24s", name);
  for (const double v : t) {
    if (v < 0) std::printf(" %10s", "—");
    else std::printf(" %10.1f", v);
  }
  std::printf("  |");
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] < 0) std::printf(" %7s", "—");
    else std::printf(" %7.3f", t[i] / t[0]);
  }
  std::printf("\n");
}

void sink(const imio::NDArray& b) { g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]); }

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only") only = argv[i + 1];
  }
  const auto want = [&](const std::string& name) { return only.empty() || name.find(only) != std::string::npos; };
  const fs::path tmp = fs::temp_directory_path();
  const imio::NDArray still = photo(3000, 4000, 12345);
  struct Case {
    std::string name;
    imio::Kwargs kwargs;
    fs::path file;
  };
  std::vector<Case> cases;
  if (want("still_12mp_d1")) cases.push_back({"still_12mp_d1", {{"distance", 1.0}}, tmp / "imio_bench_12mp_d1.jxl"});
  if (want("still_12mp_lossless_e1")) cases.push_back({"still_12mp_lossless_e1", {{"lossless", true}, {"effort", 1}}, tmp / "imio_bench_12mp_ll.jxl"});
  for (const Case& c : cases) imio::imwrite(c.file, still, {.kwargs = c.kwargs});

  const std::uint32_t v = JxlDecoderVersion();
  std::printf("libjxl %u.%u.%u, %u default worker threads\n", v / 1000000, v / 1000 % 1000, v % 1000,
              static_cast<unsigned>(JxlThreadParallelRunnerDefaultNumWorkerThreads()));
  std::printf("decode (best of %d, ms; ratios to the first column)\n%-24s %10s %10s %10s %10s %10s %10s  | %7s %7s %7s %7s %7s\n", runs, "case",
              "libjxl", "lib-into", "imio", "ffmpeg", "libjxl-1t", "imio-1t", "into", "imio", "ffmpeg", "lib-1t", "imio-1t");
  for (const Case& c : cases) {
    std::printf("%-24s file: %zu bytes\n", "", static_cast<std::size_t>(fs::file_size(c.file)));
    std::vector<std::uint8_t> reused;
    const std::vector<double> t = turns_best_ms(
        runs, {
                  {"libjxl", wall([&] { decode_direct(c.file, 0); })},
                  {"lib-into", wall([&] { decode_direct(c.file, 0, &reused); })},
                  {"imio", wall([&] { sink(imio::imread(c.file)); })},
                  {"ffmpeg", wall([&] { sink(imio::imread(c.file, {.plugin = "ffmpeg"})); })},
                  {"libjxl-1t", wall([&] { decode_direct(c.file, 1); })},
                  {"imio-1t", wall([&] { sink(imio::imread(c.file, {.kwargs = {{"thread_count", 1}}})); })},
              });
    row(c.name.c_str(), t);
  }

  if (want("still_12mp_d1")) {
    std::printf("\nencode distance 1, effort 7 (best of %d, ms; ratios to the first column)\n%-24s %10s %10s %10s  | %7s %7s\n", runs, "case",
                "libjxl", "imio", "ffmpeg", "imio", "ffmpeg");
    std::size_t lib_size = 0, imio_size = 0, ff_size = 0;
    const std::vector<double> t = turns_best_ms(
        runs, {
                  {"libjxl", wall([&] { lib_size = encode_direct(still); })},
                  {"imio", wall([&] {
                     imio_size = imio::imwrite("<bytes>", still, {.extension = ".jxl", .kwargs = {{"distance", 1.0}}})->size();
                   })},
                  {"ffmpeg", wall([&] { ff_size = imio::imwrite("<bytes>", still, {.plugin = "ffmpeg", .extension = ".jxl"})->size(); })},
              });
    row("still_12mp_d1", t);
    std::printf("%-24s bytes: libjxl %zu, imio %zu, ffmpeg %zu\n", "", lib_size, imio_size, ff_size);
  }
  for (const Case& c : cases) fs::remove(c.file);
  return 0;
}
