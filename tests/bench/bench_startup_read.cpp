// bench_startup_read: a one-call program, `imio::imread(argv[1])`, for
// timing a process's start-up (tests/bench/bench_startup.py runs it with
// `imio --version` and `imio props`: docs/performance.md, start-up).
#include <imio/imio.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_startup_read FILE\n");
    return 2;
  }
  const imio::NDArray image = imio::imread(argv[1]);
  std::printf("%zu dims, %zu bytes\n", image.shape().size(), image.nbytes());
  return 0;
}
