// bench_openjpeg: imio's JPEG 2000 decoding against OpenJPEG used directly,
// OpenCV (cv2.imread of the system Python's python3-opencv, itself over
// OpenJPEG) and Pillow (the system Python's python3-pil), each timed in its
// own process in the same run when present.
//
//   bench_openjpeg [--runs N] [--only NAME]     (NAME: a part of a case name)
//
// Cases, generated here: a 12-megapixel (4000 x 3000) photo-like RGB image
// written by imio losslessly (5/3, one layer) and lossy (9/7, rate 20), and
// both decoded with reduce=2 (a 1000 x 750 image). Best of N runs after a
// warm-up; imio and OpenJPEG (with one thread per core, and with one
// thread) take turns in every run; OpenCV and Pillow run after them in
// their own processes (both decode on one thread).
//
// The direct decode is what an OpenJPEG user writes to get an array: the
// file read into memory, a memory stream (opj_stream_create and its
// callbacks), opj_read_header, opj_decode and opj_end_decompress with the
// same threads as imio (one per core: opj_codec_set_threads), and the
// int32 planes interleaved into an 8-bit (H, W, 3) buffer. imio does the
// same work plus its header walk and Limits checks.
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <openjpeg.h>


#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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

// Gradients, a fine texture and noise (as the libwebp and libheif benchmarks' photo).
imio::NDArray photo(std::size_t h, std::size_t w, std::uint32_t seed) {
  imio::NDArray a({h, w, 3}, imio::DType::uint8);
  std::uint32_t x = seed;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const std::size_t o = (y * w + i) * 3;
      const std::size_t t = ((i / 3) ^ (y / 5)) % 24;
      a.data<std::uint8_t>()[o] = static_cast<std::uint8_t>((i * 200 / w + t + (x >> 27)) & 0xff);
      a.data<std::uint8_t>()[o + 1] = static_cast<std::uint8_t>((y * 200 / h + t + (x >> 28)) & 0xff);
      a.data<std::uint8_t>()[o + 2] = static_cast<std::uint8_t>(((i + y) * 100 / (w + h) + 2 * t + (x >> 27)) & 0xff);
    }
  }
  return a;
}

// ---------------------------------------------------------------- OpenJPEG directly

struct Mem {
  const std::uint8_t* data;
  std::size_t size, pos;
};

OPJ_SIZE_T mem_read(void* buf, OPJ_SIZE_T n, void* user) {
  auto* m = static_cast<Mem*>(user);
  if (m->pos >= m->size) return static_cast<OPJ_SIZE_T>(-1);
  const std::size_t k = std::min<std::size_t>(n, m->size - m->pos);
  std::memcpy(buf, m->data + m->pos, k);
  m->pos += k;
  return k;
}
OPJ_OFF_T mem_skip(OPJ_OFF_T n, void* user) {
  auto* m = static_cast<Mem*>(user);
  const OPJ_OFF_T room = static_cast<OPJ_OFF_T>(m->size - m->pos);
  const OPJ_OFF_T k = std::min(n, room);
  m->pos = static_cast<std::size_t>(static_cast<OPJ_OFF_T>(m->pos) + k);
  return k;
}
OPJ_BOOL mem_seek(OPJ_OFF_T pos, void* user) {
  auto* m = static_cast<Mem*>(user);
  if (pos < 0 || static_cast<std::size_t>(pos) > m->size) return OPJ_FALSE;
  m->pos = static_cast<std::size_t>(pos);
  return OPJ_TRUE;
}
void quiet(const char*, void*) {}

// The file into memory, decoded (reduced by `reduce`), interleaved to uint8.
bool decode_direct(const fs::path& p, int reduce, int threads) {
  const std::vector<std::uint8_t> file = read_all(p);
  Mem m{file.data(), file.size(), 0};
  opj_codec_t* codec = opj_create_decompress(p.extension() == ".j2k" ? OPJ_CODEC_J2K : OPJ_CODEC_JP2);
  opj_set_error_handler(codec, quiet, nullptr);
  opj_set_warning_handler(codec, quiet, nullptr);
  opj_set_info_handler(codec, quiet, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  params.cp_reduce = static_cast<OPJ_UINT32>(reduce);
  opj_setup_decoder(codec, &params);
  opj_codec_set_threads(codec, threads > 0 ? threads : opj_get_num_cpus());
  opj_stream_t* s = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  opj_stream_set_read_function(s, mem_read);
  opj_stream_set_skip_function(s, mem_skip);
  opj_stream_set_seek_function(s, mem_seek);
  opj_stream_set_user_data(s, &m, nullptr);
  opj_stream_set_user_data_length(s, file.size());
  opj_image_t* img = nullptr;
  bool ok = opj_read_header(s, codec, &img) && opj_decode(codec, s, img) && opj_end_decompress(codec, s);
  if (ok && img->numcomps == 3) {
    const std::size_t w = img->comps[0].w, h = img->comps[0].h;
    std::vector<std::uint8_t> out(w * h * 3);
    for (std::size_t c = 0; c < 3; ++c) {
      const OPJ_INT32* d = img->comps[c].data;
      for (std::size_t i = 0; i < w * h; ++i) out[i * 3 + c] = static_cast<std::uint8_t>(std::clamp(d[i], 0, 255));
    }
    g_sink = g_sink + out[out.size() / 2];
  } else {
    ok = false;
  }
  opj_image_destroy(img);
  opj_stream_destroy(s);
  opj_destroy_codec(codec);
  return ok;
}

// ---------------------------------------------------------------- Pillow

// Pillow's (`lib` "pil") or OpenCV's Python binding's ("cv2") decode of
// `file`, reduced by `reduce` (Pillow's reduce; cv2.IMREAD_REDUCED_COLOR_2/4/8,
// which OpenCV implements for JPEG 2000 as a full decode and a resize), in
// ms, best of `runs` after a warm-up; -1 when unavailable.
double python_decode(const char* lib, const fs::path& file, int reduce, int runs) {
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty()) return -1;
  const fs::path script = fs::temp_directory_path() / "imio_bench_openjpeg.py";
  const fs::path out = fs::temp_directory_path() / "imio_bench_openjpeg.txt";
  std::ofstream(script) << "import sys, time\nimport numpy as np\n"
                           "lib, p, r, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
                           "if lib == 'pil':\n    from PIL import Image\n"
                           "    def dec():\n        im = Image.open(p)\n        im.reduce = r\n        return np.asarray(im)\n"
                           "else:\n    import cv2\n"
                           "    flag = {0: cv2.IMREAD_UNCHANGED, 1: cv2.IMREAD_REDUCED_COLOR_2, 2: cv2.IMREAD_REDUCED_COLOR_4}[r]\n"
                           "    def dec():\n        return cv2.imread(p, flag)\n"
                           "a = dec(); assert a is not None and a.size > 0\nb = 1e300\nfor _ in range(runs):\n"
                           "    t = time.perf_counter(); dec(); b = min(b, time.perf_counter() - t)\nprint(b * 1000)\n";
  const std::string cmd = "\"" + py + "\" \"" + script.string() + "\" " + lib + " \"" + file.string() + "\" " + std::to_string(reduce) + " " +
                          std::to_string(runs) + " > \"" + out.string() + "\" 2>/dev/null";
  double t = -1;
  if (std::system(cmd.c_str()) == 0) std::ifstream(out) >> t;
  fs::remove(script);
  fs::remove(out);
  return t;
}

void row(const char* name, const std::vector<double>& t) {
  std::printf("%-18s", name);
  for (const double v : t) {
    if (v < 0) std::printf(" %10s", "—");
    else std::printf(" %10.1f", v);
  }
  std::printf("  |");
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] < 0) std::printf(" %7s", "—");
    else std::printf(" %7.2f", t[i] / t[0]);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string only;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--only") only = argv[i + 1];
  }
  const fs::path tmp = fs::temp_directory_path();
  const imio::NDArray still = photo(3000, 4000, 12345);
  const fs::path lossless = tmp / "imio_bench_openjpeg_lossless.jp2";
  const fs::path lossy = tmp / "imio_bench_openjpeg_lossy.jp2";
  imio::imwrite(lossless, still);
  imio::imwrite(lossy, still, {.kwargs = {{"rate", 20}, {"irreversible", true}}});
  std::printf("%s 12 MP (4000 x 3000 RGB): lossless %zu bytes, lossy (rate 20, 9/7) %zu bytes; %d threads\n",
              opj_version(), static_cast<std::size_t>(fs::file_size(lossless)), static_cast<std::size_t>(fs::file_size(lossy)), opj_get_num_cpus());

  struct Case {
    const char* name;
    fs::path file;
    int reduce;
  };
  const Case cases[] = {{"lossless", lossless, 0}, {"lossy_rate20", lossy, 0}, {"lossless_reduce2", lossless, 2}, {"lossy_reduce2", lossy, 2}};
  std::printf("\ndecode (best of %d, ms; ratios to the first column; -1t: one thread)\n%-18s %10s %10s %10s %10s %10s %10s  | %7s %7s %7s %7s %7s\n",
              runs, "case", "openjpeg", "imio", "opj-1t", "imio-1t", "OpenCV", "Pillow", "imio", "opj-1t", "imio-1t", "OpenCV", "Pillow");
  for (const Case& c : cases) {
    if (std::string(c.name).find(only) == std::string::npos) continue;
    std::vector<imio_bench::Method> methods;
    methods.push_back({"openjpeg", wall([&] { decode_direct(c.file, c.reduce, 0); })});
    methods.push_back({"imio", wall([&] {
                         const imio::NDArray b = imio::imread(c.file, {.kwargs = {{"reduce", c.reduce}}});
                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                       })});
    methods.push_back({"opj-1t", wall([&] { decode_direct(c.file, c.reduce, 1); })});
    methods.push_back({"imio-1t", wall([&] {
                         const imio::NDArray b = imio::imread(c.file, {.kwargs = {{"reduce", c.reduce}, {"threads", 1}}});
                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                       })});
    std::vector<double> t = turns_best_ms(runs, methods);
    t.push_back(python_decode("cv2", c.file, c.reduce, runs));
    t.push_back(python_decode("pil", c.file, c.reduce, runs));
    row(c.name, t);
  }
  fs::remove(lossless);
  fs::remove(lossy);
  return 0;
}
