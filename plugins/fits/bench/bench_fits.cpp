// bench_fits: a 4096 x 4096 FITS image (float32 and BZERO-unsigned uint16)
// read by imio and by astropy.io.fits (`fits.getdata`, timed by Python's
// perf_counter in a subprocess per turn), the methods taking turns.
//   bench_fits [runs]
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

// astropy's time for one read of `path` in ms (< 0: no python3 with astropy).
double astropy_ms(const fs::path& path) {
  const std::string python = IMIO_BENCH_PYTHON;
  if (python.empty()) return -1;
  const std::string cmd = "\"" + python +
                          "\" -c \"import sys, time\nfrom astropy.io import fits\nimport numpy as np\n"
                          "t = time.perf_counter()\nd = np.ascontiguousarray(fits.getdata(sys.argv[1]))\n"
                          "print((time.perf_counter() - t) * 1000)\" \"" +
                          path.string() + "\" 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  double ms = -1;
  if (std::fscanf(pipe, "%lf", &ms) != 1) ms = -1;
  return ::pclose(pipe) == 0 ? ms : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const fs::path dir = fs::temp_directory_path() / "imio_bench_fits";
  fs::create_directories(dir);
  imio::NDArray f32({4096, 4096}, imio::DType::float32);
  imio::NDArray u16({4096, 4096}, imio::DType::uint16);
  for (std::size_t i = 0; i < f32.size(); ++i) {
    f32.values<float>()[i] = static_cast<float>(i % 65521) * 0.5f;
    u16.values<std::uint16_t>()[i] = static_cast<std::uint16_t>(i * 2654435761u >> 16);
  }
  const fs::path pf = dir / "f32.fits", pu = dir / "u16.fits";
  imio::imwrite(pf, f32);
  imio::imwrite(pu, u16);
  std::printf("%-26s %10s %10s %8s\n", "file", "imio ms", "astropy ms", "ratio");
  for (const auto& [label, path] : {std::pair{"4096x4096 float32", pf}, std::pair{"4096x4096 uint16 (BZERO)", pu}}) {
    const auto best = imio_bench::turns_best_ms(
        runs, {{"imio", imio_bench::wall([&] { (void)imio::imread(path); })}, {"astropy", [&] { return astropy_ms(path); }}});
    if (best[1] < 0) {
      std::printf("%-26s %10.1f %10s\n", label, best[0], "(no astropy)");
    } else {
      std::printf("%-26s %10.1f %10.1f %7.1fx\n", label, best[0], best[1], best[1] / best[0]);
    }
  }
  fs::remove_all(dir);
  return 0;
}
