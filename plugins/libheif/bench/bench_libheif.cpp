// bench_libheif: imio's HEIC and AVIF decoding and encoding against libheif
// used directly, and imio's FFmpeg path (plugin="ffmpeg": FFmpeg 5.1 reads
// an AVIF as a one-frame AV1 video through its mov demuxer; it has no HEIC).
//
//   bench_libheif [--runs N] [--only NAME]     (NAME: a part of a case name)
//
// Cases, generated here: a 12-megapixel (4000 x 3000) photo-like RGB image
// written by imio at the encoders' default quality (8-bit HEIC by x265,
// 8-bit AVIF by aom), and a 10-bit HEIC of the same picture. Best of N runs
// after a warm-up; the methods take turns in every run.
//
// The direct libheif decode reads the file into memory, opens a context
// (heif_context_read_from_memory_without_copy), decodes the primary image
// to interleaved RGB (heif_decode_image) and keeps libheif's image: what a
// libheif user gets, as imread returns a fresh array. The direct encode
// uses the same encoder and settings as imio (default quality, 4:2:0).
#include <imio/imio.hpp>

#include "bench_timing.hpp"

#include <libheif/heif.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

// Gradients, a fine texture and noise, as the libwebp benchmark's photo.
imio::NDArray photo(std::size_t h, std::size_t w, std::uint32_t seed, bool wide) {
  imio::NDArray a({h, w, 3}, wide ? imio::DType::uint16 : imio::DType::uint8);
  std::uint32_t x = seed;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t i = 0; i < w; ++i) {
      x = x * 1664525u + 1013904223u;
      const std::size_t o = (y * w + i) * 3;
      const std::size_t t = ((i / 3) ^ (y / 5)) % 24;
      const std::uint32_t v[3] = {static_cast<std::uint32_t>((i * 200 / w + t + (x >> 27)) & 0xff),
                                  static_cast<std::uint32_t>((y * 200 / h + t + (x >> 28)) & 0xff),
                                  static_cast<std::uint32_t>(((i + y) * 100 / (w + h) + 2 * t + (x >> 27)) & 0xff)};
      for (int c = 0; c < 3; ++c) {
        if (wide) a.data<std::uint16_t>()[o + c] = static_cast<std::uint16_t>(v[c] << 2);  // 10-bit values
        else a.data<std::uint8_t>()[o + c] = static_cast<std::uint8_t>(v[c]);
      }
    }
  }
  return a;
}

void fail(const heif_error& e, const char* what) {
  if (e.code != heif_error_Ok) {
    std::fprintf(stderr, "%s: %s\n", what, e.message);
    std::exit(1);
  }
}

// libheif directly: the file into memory, the primary image decoded to interleaved RGB.
void decode_direct(const fs::path& p, bool wide, const char* decoder = nullptr) {
  const std::vector<std::uint8_t> data = read_all(p);
  heif_context* ctx = heif_context_alloc();
  fail(heif_context_read_from_memory_without_copy(ctx, data.data(), data.size(), nullptr), "read");
  heif_image_handle* h = nullptr;
  fail(heif_context_get_primary_image_handle(ctx, &h), "primary");
  heif_image* img = nullptr;
  heif_decoding_options* o = heif_decoding_options_alloc();
  o->decoder_id = decoder;
  fail(heif_decode_image(h, &img, heif_colorspace_RGB, wide ? heif_chroma_interleaved_RRGGBB_LE : heif_chroma_interleaved_RGB, o), "decode");
  heif_decoding_options_free(o);
  int stride = 0;
  const std::uint8_t* px = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
  g_sink = g_sink + px[std::size_t(stride) * 1000];
  heif_image_release(img);
  heif_image_handle_release(h);
  heif_context_free(ctx);
}

// libheif directly: the image in, the file's bytes out (to memory).
std::size_t encode_direct(const imio::NDArray& a, heif_compression_format format) {
  const int w = static_cast<int>(a.shape()[1]), h = static_cast<int>(a.shape()[0]);
  heif_context* ctx = heif_context_alloc();
  heif_encoder* enc = nullptr;
  fail(heif_context_get_encoder_for_format(ctx, format, &enc), "encoder");
  fail(heif_encoder_set_parameter_string(enc, "chroma", "420"), "chroma");
  heif_image* img = nullptr;
  fail(heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img), "create");
  fail(heif_image_add_plane(img, heif_channel_interleaved, w, h, 8), "plane");
  int stride = 0;
  std::uint8_t* dst = heif_image_get_plane(img, heif_channel_interleaved, &stride);
  for (int y = 0; y < h; ++y) std::memcpy(dst + std::size_t(y) * std::size_t(stride), a.bytes() + std::size_t(y) * std::size_t(w) * 3, std::size_t(w) * 3);
  heif_encoding_options* opt = heif_encoding_options_alloc();
  fail(heif_context_encode_image(ctx, img, enc, opt, nullptr), "encode");
  std::size_t size = 0;
  heif_writer writer{};
  writer.writer_api_version = 1;
  writer.write = [](heif_context*, const void*, size_t n, void* user) {
    *static_cast<std::size_t*>(user) += n;
    return heif_error{heif_error_Ok, heif_suberror_Unspecified, "Success"};
  };
  fail(heif_context_write(ctx, &writer, &size), "write");
  heif_encoding_options_free(opt);
  heif_image_release(img);
  heif_encoder_release(enc);
  heif_context_free(ctx);
  return size;
}

void row(const char* name, const std::vector<double>& t) {
  std::printf("%-16s", name);
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
  heif_init(nullptr);
  const fs::path tmp = fs::temp_directory_path();
  struct Case {
    std::string name;
    bool avif, wide;
    fs::path file;
  };
  std::vector<Case> cases;
  for (const Case& c : {Case{"heic_12mp", false, false, {}}, Case{"avif_12mp", true, false, {}}, Case{"heic_12mp_10bit", false, true, {}}}) {
    if (c.name.find(only) != std::string::npos) cases.push_back(c);
  }
  const imio::NDArray still = photo(3000, 4000, 12345, false);
  const imio::NDArray still10 = photo(3000, 4000, 12345, true);
  for (Case& c : cases) {
    c.file = tmp / ("imio_bench_" + c.name + (c.avif ? ".avif" : ".heic"));
    imio::imwrite(c.file, c.wide ? still10 : still);
    std::printf("%s: %zu bytes\n", c.name.c_str(), static_cast<std::size_t>(fs::file_size(c.file)));
  }

  // AVIF: the default decoder of libheif and of imio is dav1d (imio keeps
  // it quiet); libaom with av1_decoder="aom". Both pairs are timed:
  // libheif (default) / imio (default), and libaom alone.
  std::printf("\ndecode (best of %d, ms; ratios to the first column)\n%-16s %10s %10s %10s %10s %10s  | %7s %7s %7s %7s\n", runs, "case",
              "libheif", "lib-aom", "imio", "imio-aom", "ffmpeg", "lib-aom", "imio", "i-aom", "ffmpeg");
  for (const Case& c : cases) {
    std::vector<imio_bench::Method> methods;
    methods.push_back({"libheif", wall([&] { decode_direct(c.file, c.wide); })});
    if (c.avif) methods.push_back({"lib-aom", wall([&] { decode_direct(c.file, c.wide, "aom"); })});
    else methods.push_back({"lib-aom", [] { return -1.0; }});
    methods.push_back({"imio", wall([&] {
                         const imio::NDArray b = imio::imread(c.file);
                         g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                       })});
    if (c.avif) {
      methods.push_back({"imio-aom", wall([&] {
                           const imio::NDArray b = imio::imread(c.file, {.kwargs = {{"av1_decoder", "aom"}}});
                           g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                         })});
    } else {
      methods.push_back({"imio-aom", [] { return -1.0; }});
    }
    if (c.avif) {
      methods.push_back({"ffmpeg", wall([&] {
                           const imio::NDArray b = imio::imread(c.file, {.plugin = "ffmpeg"});
                           g_sink = g_sink + static_cast<unsigned char>(b.bytes()[b.nbytes() / 2]);
                         })});
    } else {
      methods.push_back({"ffmpeg", [] { return -1.0; }});
    }
    row(c.name.c_str(), turns_best_ms(runs, methods));
  }

  std::printf("\nencode at the default quality (best of %d, ms; ratios to the first column)\n%-16s %10s %10s  | %7s\n", runs, "case",
              "libheif", "imio", "imio");
  for (const Case& c : cases) {
    if (c.wide) continue;
    std::size_t lib_size = 0, imio_size = 0;
    std::vector<imio_bench::Method> methods;
    methods.push_back({"libheif", wall([&] { lib_size = encode_direct(still, c.avif ? heif_compression_AV1 : heif_compression_HEVC); })});
    methods.push_back({"imio", wall([&] { imio_size = imio::imwrite("<bytes>", still, {.extension = c.avif ? ".avif" : ".heic"})->size(); })});
    row(c.name.c_str(), turns_best_ms(runs, methods));
    std::printf("%-16s bytes: libheif %zu, imio %zu\n", "", lib_size, imio_size);
  }
  for (const Case& c : cases) fs::remove(c.file);
  heif_deinit();
  return 0;
}
