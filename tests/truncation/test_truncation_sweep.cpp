// The truncation sweep (issue #17 item 4): small files of every format, cut
// at about 20 offsets (inside the signature, the header, the first
// directory, the pixel data, the trailer). For each cut file imread and
// improps must agree: both raise an imio error, or imread returns exactly
// the shape and dtype improps describes. What imread returns is never
// empty and never invented: an array of the full file's shape holds the
// full file's pixels, fewer frames are the full file's first frames. (The
// full files' pixels are checked against second readers by the corpus
// tests; here imio's own full decode is the reference for the cut ones.)
//
// Files come from ../shared/corpus (skipped when absent) or are made here
// (npy, WebP, JPEG 2000). A format whose plugin is not built is skipped.
#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;

namespace {

// A call slower than this is a hang (the sanitizer build is ~10x slower
// than Release, where every call here takes well under a second).
constexpr auto kHang = std::chrono::seconds(20);

std::string shape_text(const Shape& s) {
  std::ostringstream out;
  out << '(';
  for (std::size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << ')';
  return out.str();
}

/// About 20 offsets: the first bytes (signatures, headers, first
/// directories), tenths of the file, and its last bytes.
std::vector<std::size_t> cut_points(std::size_t size) {
  std::set<std::size_t> cuts;
  for (const std::size_t k : {1, 2, 4, 8, 12, 16, 24, 30, 45, 60, 105, 200}) {
    if (k < size) cuts.insert(k);
  }
  for (std::size_t tenth = 1; tenth < 10; ++tenth) cuts.insert(size * tenth / 10);
  if (size > 2) cuts.insert(size - 2);
  if (size > 1) cuts.insert(size - 1);
  cuts.erase(0);
  return {cuts.begin(), cuts.end()};
}

/// What a call gave: a result or the message of an imio error.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::string error;
  std::chrono::steady_clock::duration took{};
};

template <class T, class F>
Outcome<T> attempt(F&& f) {
  Outcome<T> out;
  const auto start = std::chrono::steady_clock::now();
  try {
    out.value = f();
  } catch (const imio::Error& e) {
    out.error = e.what();
  }
  // Anything else (std::bad_alloc, std::out_of_range, …) escapes and fails the test case.
  out.took = std::chrono::steady_clock::now() - start;
  return out;
}

bool same_bytes(const NDArray& a, const NDArray& b, std::size_t nbytes) {
  return a.nbytes() >= nbytes && b.nbytes() >= nbytes && std::memcmp(a.bytes(), b.bytes(), nbytes) == 0;
}

/// Whether `cut` (the read of a cut file) holds only pixels the full file
/// has: the same array, its first frames, or its first frame alone.
std::string invented_pixels(const NDArray& cut, const NDArray& full) {
  const Shape& c = cut.shape();
  const Shape& f = full.shape();
  if (cut.dtype() != full.dtype()) return "another dtype than the full file's";
  if (c == f) return same_bytes(cut, full, full.nbytes()) ? "" : "the full file's shape with other pixels (padded?)";
  const bool fewer_frames = c.size() == f.size() && !c.empty() && c[0] < f[0] && std::equal(c.begin() + 1, c.end(), f.begin() + 1);
  const bool first_frame = c.size() + 1 == f.size() && std::equal(c.begin(), c.end(), f.begin() + 1);
  if (fewer_frames || first_frame) {
    return same_bytes(cut, full, cut.nbytes()) ? "" : "frames that differ from the full file's (padded?)";
  }
  return "a shape the full file does not have";
}

struct Sample {
  std::string name;  ///< for messages
  Bytes data;
  std::string extension;  ///< the file name's extension
};

/// Cuts `sample` at about 20 offsets and checks every cut file.
void sweep(const Sample& sample, const imio_test::TempDir& tmp) {
  INFO("file " << sample.name << " (" << sample.data.size() << " bytes)");
  const fs::path whole = tmp / ("whole" + sample.extension);
  imio_test::write_file(whole, sample.data);
  const NDArray full = imio::imread(whole);
  REQUIRE(full.size() > 0);
  const fs::path path = tmp / ("cut" + sample.extension);
  for (const std::size_t cut : cut_points(sample.data.size())) {
    INFO("cut to " << cut << " bytes");
    imio_test::write_file(path, std::span<const std::byte>(sample.data.data(), cut));
    const auto read = attempt<NDArray>([&] { return imio::imread(path); });
    const auto props = attempt<imio::ImageProperties>([&] { return imio::improps(path); });
    CHECK(read.took < kHang);
    CHECK(props.took < kHang);
    INFO("imread: " << (read.value ? shape_text(read.value->shape()) + " " + std::string(name(read.value->dtype()))
                                   : "error: " + read.error));
    INFO("improps: " << (props.value ? shape_text(props.value->shape) + " " + std::string(name(props.value->dtype))
                                     : "error: " + props.error));
    if (!read.value || !props.value) {
      CHECK(read.value.has_value() == props.value.has_value());  // both raise, or neither
      continue;
    }
    const NDArray& got = *read.value;
    CHECK(got.shape() == props.value->shape);
    CHECK(got.dtype() == props.value->dtype);
    CHECK(got.size() > 0);  // the file claims pixels: never an empty array
    CHECK(invented_pixels(got, full) == "");
  }
}

/// The corpus files at `rels` (those present) as samples; a warning names the absent ones.
std::vector<Sample> corpus_samples(std::initializer_list<const char*> rels) {
  std::vector<Sample> out;
  if (imio_test::corpus_dir().empty()) {
    WARN("skipped: ../shared/corpus is not available");
    return out;
  }
  for (const char* rel : rels) {
    const fs::path p = imio_test::corpus_file(rel);
    if (p.empty()) {
      WARN("skipped: corpus file " << rel << " is not available");
      continue;
    }
    out.push_back({rel, imio_test::read_file(p), p.extension().string()});
  }
  return out;
}

bool have(std::string_view plugin) {
  if (imio::has_plugin(plugin)) return true;
  WARN("skipped: the " << plugin << " plugin is not built");
  return false;
}

void sweep_corpus(std::string_view plugin, std::initializer_list<const char*> rels) {
  if (!have(plugin)) return;
  imio_test::TempDir tmp;
  for (const Sample& s : corpus_samples(rels)) sweep(s, tmp);
}

NDArray ramp(const Shape& shape, DType dtype) {
  NDArray a(shape, dtype);
  std::byte* p = a.bytes();
  for (std::size_t i = 0; i < a.nbytes(); ++i) p[i] = static_cast<std::byte>((i * 37 + 11) & 0x7F);
  return a;
}

}  // namespace

TEST_CASE("truncated PNG files raise or read what improps describes") {
  sweep_corpus("libpng", {"pngsuite/basn2c08.png", "pngsuite/basi0g16.png", "pngsuite/basn3p04.png",
                          "pngsuite/basn6a16.png", "synthetic/png_apng.png"});
}

TEST_CASE("truncated JPEG files raise or read what improps describes") {
  sweep_corpus("libjpeg", {"synthetic/jpeg_444.jpg", "synthetic/jpeg_progressive.jpg", "synthetic/jpeg_restart.jpg",
                           "synthetic/jpeg_gray.jpg", "synthetic/jpeg_exif_orient6.jpg"});
}

TEST_CASE("truncated GIF files raise or read what improps describes") {
  sweep_corpus("giflib", {"standard/imageio_issue245.gif", "synthetic/gif_anim_dispose.gif",
                          "synthetic/gif_interlaced.gif", "synthetic/gif_lzw_256.gif"});
}

TEST_CASE("truncated TIFF files raise or read what improps describes") {
  sweep_corpus("libtiff", {"standard/multipage_rgb.tif", "standard/multipage.tif", "synthetic/tiff_lzw.tif",
                           "synthetic/tiff_tiled.tif", "synthetic/tiff_planar.tif", "synthetic/tiff_bigtiff.tif",
                           "synthetic/tiff_imagej.tif", "synthetic/tiff_jpeg.tif"});
}

TEST_CASE("truncated BMP files (FFmpeg) raise or read what improps describes") {
  sweep_corpus("ffmpeg", {"synthetic/bmp_rgb24.bmp", "synthetic/bmp_pal8.bmp", "synthetic/bmp_rgba32.bmp"});
}

TEST_CASE("truncated WebP files (FFmpeg) raise or read what improps describes") {
  if (!have("ffmpeg")) return;
  std::optional<Bytes> webp;
  try {
    webp = imio::imwrite("<bytes>", ramp({24, 32, 3}, DType::uint8), {.plugin = "ffmpeg", .extension = ".webp"});
  } catch (const imio::Error& e) {
    WARN("skipped: this FFmpeg cannot write WebP: " << e.what());
    return;
  }
  REQUIRE(webp);
  imio_test::TempDir tmp;
  sweep({"made.webp", *webp, ".webp"}, tmp);
}

TEST_CASE("truncated videos raise or read what improps describes") {
  sweep_corpus("ffmpeg", {"synthetic/video_h264_444.mp4", "synthetic/video_vp9.webm", "synthetic/video_ffv1_rgb.mkv",
                          "synthetic/video_mjpeg.avi"});
}

TEST_CASE("truncated npy files raise or read what improps describes") {
  if (!have("npy")) return;
  imio_test::TempDir tmp;
  for (const auto& [shape, dtype] : std::vector<std::pair<Shape, DType>>{
           {{16, 20, 3}, DType::uint8}, {{7, 9}, DType::float64}, {{2, 5, 6}, DType::int16}, {{40}, DType::bool_}}) {
    const auto bytes = imio::imwrite("<bytes>", ramp(shape, dtype), {.extension = ".npy"});
    REQUIRE(bytes);
    sweep({"made " + shape_text(shape) + " " + std::string(name(dtype)) + ".npy", *bytes, ".npy"}, tmp);
  }
}

TEST_CASE("truncated JPEG 2000 files (OpenJPEG) raise or read what improps describes") {
  if (!have("openjpeg")) return;
  imio_test::TempDir tmp;
  for (const char* ext : {".jp2", ".j2k"}) {
    const auto bytes = imio::imwrite("<bytes>", ramp({40, 48, 3}, DType::uint8), {.extension = ext, .kwargs = {{"tile_size", imio::Value{32, 32}}}});
    REQUIRE(bytes);
    sweep({std::string("made") + ext, *bytes, ext}, tmp);
  }
}

TEST_CASE("truncated camera RAW files raise or read what improps describes") {
  sweep_corpus("libraw", {"raw/rawpy/RAW_KODAK_DC50.KDC"});
}
