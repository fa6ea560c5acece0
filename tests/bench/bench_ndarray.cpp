// bench_ndarray: what checked element access costs. A loop over
// at<T>(y, x, c) of a 12-megapixel RGB image against the same loop over a
// raw pointer, and over frame views of a batch (a[i]) — compiled at -O2
// (CMakeLists.txt), the methods taking turns.
//
//   bench_ndarray [--runs N]
#include <imio/imio.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench_timing.hpp"

namespace {

// Keeps the sums observable, so the loops are not optimised away.
volatile std::uint64_t sink = 0;

}  // namespace

int main(int argc, char** argv) {
  int runs = 15;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
  }
  const std::size_t h = 3000, w = 4000, c = 3;
  imio::NDArray img({h, w, c}, imio::DType::uint8);
  auto v = img.values<std::uint8_t>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 31);
  imio::NDArray batch({16, 480, 640, 3}, imio::DType::uint8);

  const std::vector<imio_bench::Method> methods{
      {"pointer loop", imio_bench::wall([&] {
         const std::uint8_t* p = img.data<std::uint8_t>();
         std::uint64_t s = 0;
         for (std::size_t y = 0; y < h; ++y)
           for (std::size_t x = 0; x < w; ++x)
             for (std::size_t k = 0; k < c; ++k) s += p[(y * w + x) * c + k];
         sink = s;
       })},
      {"at<T>(y, x, c)", imio_bench::wall([&] {
         std::uint64_t s = 0;
         for (std::size_t y = 0; y < h; ++y)
           for (std::size_t x = 0; x < w; ++x)
             for (std::size_t k = 0; k < c; ++k) s += img.at<std::uint8_t>(y, x, k);
         sink = s;
       })},
      {"a[y].at<T>(x, c)", imio_bench::wall([&] {
         std::uint64_t s = 0;
         for (std::size_t y = 0; y < h; ++y) {
           const imio::ConstArrayView row = std::as_const(img)[y];
           for (std::size_t x = 0; x < w; ++x)
             for (std::size_t k = 0; k < c; ++k) s += row.at<std::uint8_t>(x, k);
         }
         sink = s;
       })},
      {"frames a[i].values<T>()", imio_bench::wall([&] {
         std::uint64_t s = 0;
         for (std::size_t i = 0; i < 16; ++i)
           for (const std::uint8_t x : std::as_const(batch)[i].values<std::uint8_t>()) s += x;
         sink = s;
       })},
  };
  const std::vector<double> best = imio_bench::turns_best_ms(runs, methods);
  std::printf("NDArray element access, 12 MP RGB uint8 (and a 16-frame 640x480 batch), -O2, best of %d:\n", runs);
  for (std::size_t i = 0; i < methods.size(); ++i) {
    std::printf("  %-26s %8.2f ms", methods[i].name, best[i]);
    if (i == 1 || i == 2) std::printf("  (%.2fx the pointer loop)", best[i] / best[0]);
    std::printf("\n");
  }
  return 0;
}
