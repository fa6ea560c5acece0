// bench_npy: how close imio::imread of a .npy file comes to the fastest way
// to get a file's bytes into memory, and how it compares with numpy.load.
//
//   bench_npy [--runs N] [--dir FOLDER]
//
// For a ~256 MiB and a ~1 MiB file (written once by imio into FOLDER, by
// default the system's temporary folder) it times, best of N runs after one
// warm-up run (so every method reads from the page cache):
//   read(2)       open + fstat + read into a fresh 64-byte aligned buffer
//   mmap+memcpy   open + fstat + mmap + memcpy into a fresh aligned buffer
//   read(2) THP   read(2) into a buffer advised to use transparent huge
//                 pages, as numpy's allocator does for large arrays (shows
//                 how much of the time is page faults on the destination)
//   imio::imread  the full call: resource, plugin selection, header, array
//   numpy.load    timed by Python's own perf_counter loop (when the system
//                 Python has numpy)
// and prints a table with each method's ratio to read(2).
#include <imio/imio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Keeps the compiler from dropping work whose result is otherwise unused.
volatile unsigned char g_sink = 0;

struct AlignedBuffer {
  explicit AlignedBuffer(std::size_t n)
      : data(static_cast<unsigned char*>(::operator new(n == 0 ? 64 : n, std::align_val_t{64}))) {}
  ~AlignedBuffer() { ::operator delete(data, std::align_val_t{64}); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  unsigned char* data;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_npy: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

std::size_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) die("fstat");
  return static_cast<std::size_t>(st.st_size);
}

// The floor: the kernel copies the page cache into our buffer.
void read_whole_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path.string());
  const std::size_t n = file_size(fd);
  AlignedBuffer buf(n);
  for (std::size_t done = 0; done < n;) {
    const ssize_t got = ::read(fd, buf.data + done, n - done);
    if (got <= 0) die("read");
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  g_sink = buf.data[n / 2];
}

// What imio's file source does underneath: map, then one memcpy.
void map_and_copy(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path.string());
  const std::size_t n = file_size(fd);
  void* map = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  ::close(fd);
  AlignedBuffer buf(n);
  std::memcpy(buf.data, map, n);
  ::munmap(map, n);
  g_sink = buf.data[n / 2];
}

// read(2) into 2 MiB-aligned memory advised MADV_HUGEPAGE: one page fault per
// 2 MiB instead of per 4 KiB (numpy's default allocator does this on Linux).
void read_into_huge_pages(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path.string());
  const std::size_t n = file_size(fd);
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  void* mem = nullptr;
  if (::posix_memalign(&mem, kHuge, (n + kHuge - 1) / kHuge * kHuge) != 0) die("posix_memalign");
  auto* buf = static_cast<unsigned char*>(mem);
#ifdef MADV_HUGEPAGE
  ::madvise(buf, (n + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
#endif
  for (std::size_t done = 0; done < n;) {
    const ssize_t got = ::read(fd, buf + done, n - done);
    if (got <= 0) die("read");
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  g_sink = buf[n / 2];
  std::free(mem);
}

void imio_read(const fs::path& path) {
  const imio::NDArray a = imio::imread(path);
  g_sink = static_cast<unsigned char>(a.bytes()[a.nbytes() / 2]);
}

// Best wall time in seconds over `runs` runs, after one warm-up run.
double best_of(int runs, const std::function<void()>& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// numpy.load timed inside Python (so interpreter start-up is not counted):
// the script prints the best time in seconds.
std::optional<double> numpy_load_seconds(const fs::path& dir, const fs::path& npy, int runs) {
  const std::string python = IMIO_BENCH_PYTHON;
  if (python.empty()) return std::nullopt;
  const fs::path script = dir / "time_numpy_load.py";
  std::ofstream(script) << "import sys, time\n"
                           "import numpy as np\n"
                           "path, runs = sys.argv[1], int(sys.argv[2])\n"
                           "np.load(path)\n"
                           "best = float('inf')\n"
                           "for _ in range(runs):\n"
                           "    t0 = time.perf_counter()\n"
                           "    a = np.load(path)\n"
                           "    best = min(best, time.perf_counter() - t0)\n"
                           "    del a\n"
                           "print('%.9f' % best)\n";
  const std::string cmd = "\"" + python + "\" \"" + script.string() + "\" \"" + npy.string() + "\" " +
                          std::to_string(runs) + " 2>/dev/null";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  char line[128] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = ::pclose(pipe);
  if (!got || status != 0) return std::nullopt;
  return std::strtod(line, nullptr);
}

struct Case {
  const char* label;
  imio::Shape shape;
  int runs;
};

fs::path write_case(const fs::path& dir, const Case& c) {
  imio::NDArray a(c.shape, imio::DType::float32);
  std::mt19937 rng(42);
  for (float& v : a.values<float>()) v = static_cast<float>(rng() % 4096) / 16.0f;
  const fs::path path = dir / (std::string(c.label) + ".npy");
  imio::imwrite(path, a);
  return path;
}

void print_row(const char* label, double mib, const char* method, double seconds, double floor) {
  std::printf("%-10s %9.1f  %-14s %10.3f %9.2f %8.2fx\n", label, mib, method, seconds * 1e3, mib / 1024.0 / seconds,
              seconds / floor);
}

}  // namespace

int main(int argc, char** argv) {
  int runs_scale = 1;
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs_scale = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_npy [--runs N] [--dir FOLDER]\n");
      return 2;
    }
  }
  const fs::path dir = base / ("imio-bench-npy-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  // (8192, 8192) float32 is 256 MiB; (512, 512) float32 is 1 MiB.
  const Case cases[] = {{"256MiB", {8192, 8192}, 10 * runs_scale}, {"1MiB", {512, 512}, 200 * runs_scale}};
  std::printf("%-10s %9s  %-14s %10s %9s %9s\n", "file", "MiB", "method", "best ms", "GiB/s", "vs read");
  for (const Case& c : cases) {
    const fs::path path = write_case(dir, c);
    const double mib = static_cast<double>(fs::file_size(path)) / (1024.0 * 1024.0);
    const double floor = best_of(c.runs, [&] { read_whole_file(path); });
    print_row(c.label, mib, "read(2)", floor, floor);
    print_row(c.label, mib, "mmap+memcpy", best_of(c.runs, [&] { map_and_copy(path); }), floor);
    print_row(c.label, mib, "read(2) THP", best_of(c.runs, [&] { read_into_huge_pages(path); }), floor);
    print_row(c.label, mib, "imio::imread", best_of(c.runs, [&] { imio_read(path); }), floor);
    if (const auto numpy = numpy_load_seconds(dir, path, c.runs)) {
      print_row(c.label, mib, "numpy.load", *numpy, floor);
    } else {
      std::printf("%-10s %9.1f  %-14s (skipped: no python3 with numpy)\n", c.label, mib, "numpy.load");
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
