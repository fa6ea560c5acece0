// bench_many: throughput beyond one call (issue #26).
//
//   1. 500 small files (64x64 and 512x512 JPEG and PNG, written at start):
//      imread_many on the hardware's threads, one thread, and stacked,
//      against a sequential imread loop and cv::imread (when OpenCV's
//      imgcodecs was found at configure time); then both again from the
//      encoded bytes in memory (the decode without the per-call cost of a
//      path). Every method keeps its 500 arrays, as a loader filling a batch
//      does. The load average is printed: on a shared machine the other
//      core may not be free, and the speed-up is bounded by what is.
//   2. imread_into a preallocated array against imread allocating a fresh
//      one, into a region of a twice-as-wide canvas (a StridedArrayView:
//      rows written in place by libjpeg, libwebp and npy, decoded then copied by
//      the others), and imread followed by a copy into that region (what a
//      caller without imread_into does), for large PNG, JPEG, WebP, TIFF
//      and npy files and a 640x480 JPEG and WebP.
//
// Methods take turns (turns_best_ms); ratio = time / the sequential loop
// (1) or / imread (2). Usage: bench_many [runs] [files] [into]; "into" runs
// part 2 only.
#include <imio/imio.hpp>
#include <imio/many.hpp>
#include <imio/strided_view.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

#include "bench_timing.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio_bench::Method;
using imio_bench::wall;

// A photo-like image: smooth gradients plus a little noise, so that the
// encoders do the work they do on real photos.
NDArray photo(std::size_t h, std::size_t w, unsigned seed) {
  NDArray a({h, w, 3}, DType::uint8);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-6, 6);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      for (std::size_t c = 0; c < 3; ++c) {
        const int v = static_cast<int>((x * (c + 1) * 255) / w + (y * (3 - c) * 255) / h) / 2 + static_cast<int>(seed % 40) + noise(rng);
        p[(y * w + x) * 3 + c] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
      }
    }
  }
  return a;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("imio-bench-many-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

volatile std::size_t g_sink = 0;

imio::Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  imio::Bytes out(fs::file_size(path));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

void row(const char* name, double ms, double base, std::size_t files) {
  if (ms < 0) {
    std::printf("  %-34s %10s\n", name, "n/a");
    return;
  }
  std::printf("  %-34s %9.1f ms %8.1f us/file  %6.3fx  (speed-up %.2f)\n", name, ms, 1000.0 * ms / static_cast<double>(files),
              ms / base, base / ms);
}

void many_files(const fs::path& dir, const char* ext, std::size_t side, std::size_t count, int runs) {
  std::vector<imio::ImageResource> resources;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < count; ++i) {
    const fs::path p = dir / (std::to_string(side) + "_" + std::to_string(i) + ext);
    imio::imwrite(p, photo(side, side, static_cast<unsigned>(i)));
    paths.push_back(p.string());
    resources.emplace_back(p);
  }
  std::uintmax_t bytes = 0;
  for (const auto& p : paths) bytes += fs::file_size(p);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("\n%zu %s files of %zux%zu RGB (%.1f KB each on average; load average %.2f before timing)\n", count, ext, side,
              side, static_cast<double>(bytes) / 1024.0 / static_cast<double>(count), load[0]);
  // The same files as encoded bytes in memory: the decode alone, without
  // the per-call cost of a path (open, map, unmap).
  std::vector<imio::Bytes> data;
  std::vector<imio::ImageResource> in_memory;
  for (const auto& p : paths) data.push_back(read_all(p));
  for (const auto& d : data) in_memory.emplace_back(d);

  // The pixels must agree before anything is timed.
  {
    const imio::ManyResult r = imio::imread_many(resources, {.stack = true});
    for (std::size_t i = 0; i < count; ++i) {
      if (!r.items[i].ok() || !(r.batch[i].copy() == imio::imread(paths[i]))) {
        std::printf("bench_many: item %zu differs from imread\n", i);
        std::exit(1);
      }
    }
  }
  // A batch allocated once, as a loader reading batch after batch keeps it.
  NDArray reused = NDArray::uninitialized({count, side, side, 3}, DType::uint8);
  imio::imread_many(resources, {.stack = true, .out = reused});
  std::vector<Method> methods = {
      {"sequential imread loop", wall([&] {
         std::vector<NDArray> out;
         out.reserve(count);
         for (const auto& p : paths) out.push_back(imio::imread(p));
         g_sink = out.back().nbytes();
       })},
      {"imread_many (hardware threads)", wall([&] { g_sink = imio::imread_many(resources).items.size(); })},
      {"imread_many (threads=1)", wall([&] { g_sink = imio::imread_many(resources, {.threads = 1}).items.size(); })},
      {"imread_many stack=true", wall([&] { g_sink = imio::imread_many(resources, {.stack = true}).batch.nbytes(); })},
      {"imread_many stack, reused out=", wall([&] {
         const imio::ManyResult r = imio::imread_many(resources, {.stack = true, .out = reused});
         g_sink = r.items.size();
       })},
      {"sequential loop from memory", wall([&] {
         std::vector<NDArray> out;
         out.reserve(count);
         for (const auto& r : in_memory) out.push_back(imio::imread(r));
         g_sink = out.back().nbytes();
       })},
      {"imread_many from memory", wall([&] { g_sink = imio::imread_many(in_memory).items.size(); })},
      {"cv::imread loop", [&]() -> double {
#ifdef IMIO_BENCH_OPENCV
         return wall([&] {
           std::vector<cv::Mat> out;
           out.reserve(count);
           for (const auto& p : paths) out.push_back(cv::imread(p, cv::IMREAD_COLOR));
           g_sink = out.back().total();
         })();
#else
         return -1;
#endif
       }},
  };
  const std::vector<double> t = imio_bench::turns_best_ms(runs, methods);
  for (std::size_t i = 0; i < methods.size(); ++i) row(methods[i].name, t[i], t[0], count);
}

void into_vs_allocate(const fs::path& dir, const char* ext, imio::Kwargs write_kwargs, int runs, std::size_t width = 4000,
                      std::size_t height = 3000) {
  const fs::path p = dir / (std::to_string(width) + "x" + std::to_string(height) + ext);
  imio::imwrite(p, photo(height, width, 7), {.kwargs = std::move(write_kwargs)});
  const imio::ImageProperties props = imio::improps(p);
  NDArray out = NDArray::uninitialized(props.shape, props.dtype);
  imio::imread_into(p, out);
  if (!(out == imio::imread(p))) {
    std::printf("bench_many: imread_into differs from imread for %s\n", p.c_str());
    std::exit(1);
  }
  // The same image as a region of a canvas twice as wide (a row stride:
  // Request::row_target's rows, or the decode-then-copy path), allocated once.
  const std::size_t row = props.shape[1] * props.shape[2] * itemsize(props.dtype);
  // An NDArray's memory, as imread's and the preallocated array's (huge
  // pages where the system gives them): only the layout differs.
  NDArray canvas(imio::Shape{2 * row * props.shape[0]}, DType::uint8);
  const imio::StridedArrayView region(canvas.bytes() + row / 2, props.shape, props.dtype,
                                      {static_cast<std::ptrdiff_t>(2 * row),
                                       static_cast<std::ptrdiff_t>(props.shape[2] * itemsize(props.dtype)),
                                       static_cast<std::ptrdiff_t>(itemsize(props.dtype))});
  std::vector<Method> methods = {
      {"imread (allocates)", wall([&] { g_sink = imio::imread(p).nbytes(); })},
      {"imread_into (preallocated)", wall([&] {
         imio::imread_into(p, out);
         g_sink = out.nbytes();
       })},
      {"imread_into a canvas region (strided)", wall([&] {
         imio::imread_into(p, region);
         g_sink = canvas.nbytes();
       })},
      {"imread + copy into the region", wall([&] {
         const NDArray image = imio::imread(p);
         region.assign(image);
         g_sink = canvas.nbytes();
       })},
  };
  const std::vector<double> t = imio_bench::turns_best_ms(runs, methods);
  std::printf("\n%s %zux%zu RGB (%.2f MB file)\n", ext, width, height, static_cast<double>(fs::file_size(p)) / 1e6);
  for (std::size_t i = 0; i < methods.size(); ++i) {
    std::printf("  %-38s %9.2f ms  %6.3fx\n", methods[i].name, t[i], t[i] / t[0]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::size_t files = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 500;
  if (argc > 4 || (argc == 4 && std::string(argv[3]) != "into") || runs < 1 || files < 1) {
    std::fprintf(stderr, "usage: bench_many [runs >= 1, default 5] [files >= 1, default 500] [into]\n");
    return 2;
  }
  const bool into_only = argc > 3 && std::string(argv[3]) == "into";
  std::printf("bench_many: best of %d runs, methods taking turns; %u hardware threads\n", runs,
              std::thread::hardware_concurrency());
#ifndef IMIO_BENCH_OPENCV
  std::printf("(OpenCV's imgcodecs was not found at configure time: no cv::imread row)\n");
#endif
  TempDir dir;
  if (!into_only) {
    std::printf("\n== many files: ratio = time / sequential loop\n");
    for (std::size_t side : {std::size_t{64}, std::size_t{512}}) {
      many_files(dir.path, ".jpg", side, files, runs);
      many_files(dir.path, ".png", side, files, runs);
    }
  }
  std::printf("\n== decode into caller memory: ratio = time / imread\n");
  // A format this build does not write is reported, not measured.
  const auto measure = [&](const char* ext, imio::Kwargs kw, std::size_t width = 4000, std::size_t height = 3000) {
    try {
      into_vs_allocate(dir.path, ext, std::move(kw), runs, width, height);
    } catch (const imio::Error& e) {
      std::printf("\n%s %zux%zu: not measured (%s)\n", ext, width, height, e.what());
    }
  };
  measure(".png", {});
  measure(".jpg", {{"quality", 90}});
  measure(".jpg", {{"quality", 90}}, 640, 480);
  measure(".webp", {{"quality", 90}});
  measure(".webp", {{"quality", 90}}, 640, 480);
  measure(".tif", {});
  measure(".npy", {});
  return 0;
}
