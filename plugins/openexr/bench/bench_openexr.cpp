// bench_openexr: decode of a 12-megapixel (4000 x 3000) RGB image stored as
// half floats with piz, zip and dwaa compression (and as a Radiance HDR
// file), by imio, by OpenEXR used directly, by imio's ffmpeg plugin, and by
// OpenCV and OpenImageIO (Python bindings, timed by the system Python in
// the same run; they return float32 / float16 numpy arrays).
//
//   bench_openexr [--runs N] [--only NAME]
//
// The direct OpenEXR decode is Imf::InputFile with a frame buffer of three
// interleaved HALF slices into a fresh (H, W, 3) buffer (as imread returns
// a fresh array), with OpenEXR's global thread pool at the machine's core
// count, as imio sizes it, in two forms: on the path (OpenEXR's own
// ifstream: what a program using the library usually does) and on the file
// mapped into memory through a memory-mapped Imf::IStream (what imio does:
// the decode then reads the chunks in place). Best of N runs after a
// warm-up; the methods take turns in every run.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfIO.h>
#include <ImfInputFile.h>
#include <ImfThreading.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
volatile unsigned char g_sink = 0;

using imio_bench::turns_best_ms;
using imio_bench::wall;

// A photo-like linear-light image: gradients, texture, noise, a few highlights.
imio::NDArray scene(std::size_t h, std::size_t w) {
  imio::NDArray a({h, w, 3}, imio::DType::float32);
  float* p = a.data<float>();
  std::uint32_t x = 1;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const float t = static_cast<float>(((i / 3) ^ (y / 5)) % 24) / 24.0f;
      const float n = static_cast<float>(x >> 24) / 2048.0f;
      const float sky = static_cast<float>(h - y) / static_cast<float>(h);
      const float sun = (i > w / 2 && i < w / 2 + 40 && y < 40) ? 50.0f : 0.0f;
      float* o = p + (y * w + i) * 3;
      o[0] = 0.2f + 0.6f * sky * t + n + sun;
      o[1] = 0.3f + 0.5f * static_cast<float>(i) / static_cast<float>(w) + n + sun;
      o[2] = 0.1f + 0.8f * sky + 0.2f * t + n + sun;
    }
  }
  return a;
}

// A read-only memory-mapped file as an Imf::IStream that OpenEXR reads in
// place (isMemoryMapped).
class MappedFile final : public Imf::IStream {
 public:
  explicit MappedFile(const fs::path& path) : Imf::IStream(path.c_str()) {
    const int fd = open(path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) std::abort();
    size_ = static_cast<std::size_t>(st.st_size);
    void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) std::abort();
    data_ = static_cast<char*>(m);
  }
  ~MappedFile() override { munmap(data_, size_); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool isMemoryMapped() const override { return true; }
  char* readMemoryMapped(int n) override {
    if (n < 0 || pos_ + static_cast<std::uint64_t>(n) > size_) throw std::runtime_error("read past the end");
    char* p = data_ + pos_;
    pos_ += static_cast<std::uint64_t>(n);
    return p;
  }
  bool read(char c[], int n) override {
    std::memcpy(c, readMemoryMapped(n), static_cast<std::size_t>(n));
    return pos_ < size_;
  }
  std::uint64_t tellg() override { return pos_; }
  void seekg(std::uint64_t pos) override { pos_ = pos; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t pos_ = 0;
};

void direct_exr(const fs::path& path, bool mapped) {
  std::unique_ptr<MappedFile> map;
  if (mapped) map = std::make_unique<MappedFile>(path);
  const std::unique_ptr<Imf::InputFile> file = mapped ? std::make_unique<Imf::InputFile>(*map, Imf::globalThreadCount())
                                                     : std::make_unique<Imf::InputFile>(path.c_str(), Imf::globalThreadCount());
  Imf::InputFile& in = *file;
  const Imath::Box2i dw = in.header().dataWindow();
  const std::size_t w = static_cast<std::size_t>(dw.max.x - dw.min.x + 1), h = static_cast<std::size_t>(dw.max.y - dw.min.y + 1);
  std::unique_ptr<std::uint16_t[]> px(new std::uint16_t[w * h * 3]);
  Imf::FrameBuffer fb;
  const char* names[] = {"R", "G", "B"};
  for (std::size_t c = 0; c < 3; ++c) {
    fb.insert(names[c], Imf::Slice::Make(Imf::HALF, px.get() + c, dw.min, static_cast<std::int64_t>(w), static_cast<std::int64_t>(h), std::size_t{6}, w * 6));
  }
  in.setFrameBuffer(fb);
  in.readPixels(dw.min.y, dw.max.y);
  g_sink = g_sink + static_cast<unsigned char>(px[w * h]);
}

// OpenCV and OpenImageIO in the system Python: name → best ms per file.
std::map<std::string, std::pair<double, double>> python_times(const std::vector<fs::path>& files, int runs) {
  std::map<std::string, std::pair<double, double>> t;
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return t;
  const fs::path script = fs::temp_directory_path() / "imio_bench_exr_py.py";
  const fs::path out = fs::temp_directory_path() / "imio_bench_exr_py.txt";
  std::ofstream(script) << "import os, sys, time\nos.environ['OPENCV_IO_ENABLE_OPENEXR'] = '1'\nruns = int(sys.argv[1])\n"
                           "def best(f):\n    f(); b = 1e300\n    for _ in range(runs):\n"
                           "        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)\n    return b * 1000\n"
                           "try:\n    import cv2\nexcept ImportError:\n    cv2 = None\n"
                           "try:\n    import OpenImageIO as oiio\nexcept ImportError:\n    oiio = None\n"
                           "for p in sys.argv[2:]:\n"
                           "    c = best(lambda: cv2.imread(p, cv2.IMREAD_UNCHANGED)) if cv2 else -1\n"
                           "    o = best(lambda: oiio.ImageInput.open(p).read_image(oiio.UNKNOWN)) if oiio else -1\n"
                           "    print(os.path.basename(p), c, o)\n";
  std::string cmd = "\"" + py + "\" \"" + script.string() + "\" " + std::to_string(runs);
  for (const fs::path& f : files) cmd += " \"" + f.string() + "\"";
  cmd += " > \"" + out.string() + "\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return t;
  std::ifstream in(out);
  std::string name;
  double c = 0, o = 0;
  while (in >> name >> c >> o) t[name] = {c, o};
  return t;
}

void cell(double v) {
  if (v < 0) {
    std::printf(" %9s", "—");
  } else {
    std::printf(" %9.1f", v);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only") only = argv[i + 1];
  }
  // imio sizes OpenEXR's pool to the machine at its first EXR read; the
  // direct calls get the same pool.
  Imf::setGlobalThreadCount(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const fs::path tmp = fs::temp_directory_path();
  const imio::NDArray image = scene(3000, 4000);
  struct Case {
    std::string name;
    fs::path file;
    bool exr;
  };
  std::vector<Case> cases;
  for (const char* comp : {"piz", "zip", "dwaa"}) {
    const std::string name = std::string("exr_half_") + comp;
    if (name.find(only) == std::string::npos) continue;
    cases.push_back({name, tmp / ("imio_bench_" + name + ".exr"), true});
    imio::imwrite(cases.back().file, image, {{"pixel_type", "half"}, {"compression", comp}});
  }
  if (std::string("radiance_rle").find(only) != std::string::npos) {
    cases.push_back({"radiance_rle", tmp / "imio_bench_radiance_rle.hdr", false});
    imio::imwrite(cases.back().file, image);
  }
  std::vector<fs::path> files;
  for (const Case& c : cases) files.push_back(c.file);
  const auto py = python_times(files, runs);

  std::printf("decode of 4000x3000 RGB (best of %d, ms; OpenEXR's pool: %d threads)\n", runs, Imf::globalThreadCount());
  std::printf("%-16s %9s %9s %9s %9s %9s %9s %9s | %9s %9s %9s %9s\n", "case", "MB", "OpenEXR", "EXR mmap", "imio", "ffmpeg", "OpenCV",
              "OIIO", "imio/lib", "imio/mmap", "imio/cv", "imio/oiio");
  for (const Case& c : cases) {
    std::vector<imio_bench::Method> methods;
    if (c.exr) {
      methods.push_back({"OpenEXR", wall([&] { direct_exr(c.file, false); })});
      methods.push_back({"EXR mmap", wall([&] { direct_exr(c.file, true); })});
    } else {
      methods.push_back({"OpenEXR", [] { return -1.0; }});
      methods.push_back({"EXR mmap", [] { return -1.0; }});
    }
    methods.push_back({"imio", wall([&] {
                         const imio::NDArray b = imio::imread(c.file);
                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                       })});
    if (c.exr) {
      methods.push_back({"ffmpeg", wall([&] {
                           const imio::NDArray b = imio::imread(c.file, {.plugin = "ffmpeg"});
                           g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                         })});
    } else {
      methods.push_back({"ffmpeg", [] { return -1.0; }});  // FFmpeg 5.1 has no Radiance decoder
    }
    const std::vector<double> t = turns_best_ms(runs, methods);
    const auto it = py.find(c.file.filename().string());
    const double cv = it != py.end() ? it->second.first : -1, oi = it != py.end() ? it->second.second : -1;
    std::printf("%-16s %9.1f", c.name.c_str(), static_cast<double>(fs::file_size(c.file)) / 1e6);
    for (const double v : t) cell(v);
    cell(cv);
    cell(oi);
    const double imio = t[2];
    std::printf(" | %9.2f %9.2f %9.2f %9.2f\n", t[0] > 0 ? imio / t[0] : -1.0, t[1] > 0 ? imio / t[1] : -1.0, cv > 0 ? imio / cv : -1.0,
                oi > 0 ? imio / oi : -1.0);
  }
  for (const Case& c : cases) fs::remove(c.file);
  return 0;
}
