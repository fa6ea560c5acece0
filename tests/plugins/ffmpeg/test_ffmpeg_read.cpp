// The ffmpeg plugin's read path beyond test_ffmpeg.cpp: imread(all) sized
// by the frames decoded whatever the container announces (D12) — exact,
// missing, too low and too high counts — the corpus videos against the
// frame counts and sizes of video/SOURCES.md, decoded layouts with a
// padding byte (format=None), and the threading kwargs of imiter.
#include <imio/imio.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::corpus_file;

// imiter's frames stacked: what imread(all) must equal (spec §5.2.2, D12).
NDArray iterated(const fs::path& path, const imio::Kwargs& kwargs = {}) {
  std::vector<NDArray> frames;
  for (NDArray& f : imio::imiter(path, {.kwargs = kwargs})) frames.push_back(std::move(f));
  REQUIRE(!frames.empty());
  return NDArray::stack(frames);
}

// [[filter, args]]: built step by step, since a braced list holding one
// List is a copy of it for clang and a nested list for gcc.
Value sequence(const char* filter, const char* args) {
  Value::List seq;
  seq.emplace_back(Value::List{Value(filter), Value(args)});
  return Value(std::move(seq));
}

}  // namespace

TEST_CASE("ffmpeg read: imread(all) equals the stacked imiter frames whatever the container announces", "[ffmpeg]") {
  struct Case {
    const char* rel;
    const char* filter;  // nullptr: none
    const char* args;
    std::size_t frames;
  };
  const Case cases[] = {
      {"standard/realshort.mp4", nullptr, nullptr, 36},          // mp4 states its count: exact reservation
      {"synthetic/video_h264.mkv", nullptr, nullptr, 0},         // Matroska states none: counted by demuxing
      {"synthetic/video_truncated.mp4", nullptr, nullptr, 6},    // cut file: fewer frames than stated
      {"standard/realshort.mp4", "framestep", "5", 8},           // far fewer than the packets: right-sized copy
      {"standard/realshort.mp4", "fps", "fps=60", 0},            // more than the packets: the buffer regrows
      {"video/file-type/fixture2.mkv", nullptr, nullptr, 37},    // truncated Matroska
  };
  for (const Case& c : cases) {
    const fs::path path = corpus_file(c.rel);
    if (path.empty()) {
      WARN("skipped: corpus file " << c.rel << " is not available");
      continue;
    }
    INFO(c.rel << " " << (c.filter != nullptr ? c.filter : ""));
    imio::Kwargs kw;
    if (c.filter != nullptr) kw.emplace_back("filter_sequence", sequence(c.filter, c.args));
    const NDArray all = imio::imread(path, {.kwargs = kw});
    const NDArray expected = iterated(path, kw);
    CHECK(all.shape() == expected.shape());
    CHECK(all == expected);
    if (c.frames != 0) CHECK(all.shape()[0] == c.frames);
  }
  // fps=60 on a 30 fps clip: twice the frames the packets announce.
  if (const fs::path p = corpus_file("standard/realshort.mp4"); !p.empty()) {
    const std::size_t packets = imio::improps(p).shape[0];
    CHECK(imio::imread(p, {.kwargs = {{"filter_sequence", sequence("fps", "fps=60")}}}).shape()[0] > packets);
  }
}

TEST_CASE("ffmpeg read: imread(all) on a reused handle starts at frame 0", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  const NDArray fresh = imio::imread(path);
  auto file = imio::imopen(path, "r");
  const NDArray f7 = file.read({.index = 7});
  CHECK(f7.shape() == Shape{240, 320, 3});
  CHECK(file.read() == fresh);
  CHECK(file.read() == fresh);  // twice: the decoder is rewound, not reused at its end
  CHECK(file.read({.index = 7}) == f7);
}

TEST_CASE("ffmpeg read: the corpus videos give the frame counts and sizes of SOURCES.md (all reads)", "[ffmpeg]") {
  // Complements test_ffmpeg.cpp's imiter check: the one-frame fixtures it
  // does not list, fixture2.mkv's 37 readable frames, and imread(all) and
  // improps for every playable file of video/SOURCES.md's "Stream facts".
  struct Case {
    const char* rel;
    std::size_t frames, h, w;
  };
  const Case cases[] = {
      {"video/imageio/test.webm", 94, 480, 640},
      {"video/lychee/train.mov", 22, 1080, 1440},
      // SOURCES.md's table says 24; FFmpeg 5.1 decodes 5 of its 25 packets
      // (ffprobe -count_frames: nb_read_frames=5, as PyAV).
      {"video/file-type/fixture.mov", 5, 156, 268},
      {"video/file-type/fixture.flv", 25, 156, 268},
      {"video/file-type/fixture.mkv", 1, 356, 640},
      {"video/file-type/fixture.webm", 1, 356, 640},
      {"video/file-type/fixture.avi", 1, 356, 640},
      {"video/file-type/fixture.m4v", 1, 356, 640},
      {"video/file-type/fixture-2.m4v", 1, 356, 640},
      {"video/file-type/fixture-imovie.mp4", 1, 356, 640},
      {"video/file-type/fixture.3gp", 166, 288, 352},
      {"video/file-type/fixture2.3gp", 97, 144, 176},
      {"video/file-type/fixture.mpg", 19, 120, 160},
      {"video/file-type/fixture.ps.mpg", 1, 356, 640},
      {"video/file-type/fixture-mjpeg.mov", 15, 480, 640},
      {"video/file-type/fixture-null.webm", 36, 1080, 1920},
      {"video/file-type/fixture2.mkv", 37, 404, 720},
      {"video/small/webm.webm", 1, 8, 8},
  };
  for (const Case& c : cases) {
    const fs::path path = corpus_file(c.rel);
    if (path.empty()) {
      WARN("skipped: corpus file " << c.rel << " is not available");
      continue;
    }
    INFO(c.rel);
    const NDArray all = imio::imread(path);
    CHECK(all.shape() == Shape{c.frames, c.h, c.w, 3});
    std::size_t n = 0;
    for (NDArray& f : imio::imiter(path)) n += f.shape() == Shape{c.h, c.w, 3} ? 1 : 0;
    CHECK(n == c.frames);
    CHECK(imio::improps(path, {.index = 0}).shape == Shape{c.h, c.w, 3});
    CHECK(imio::imread(path, {.index = static_cast<std::int64_t>(c.frames) - 1}).shape() == Shape{c.h, c.w, 3});
  }
}

TEST_CASE("ffmpeg read: format=None on a padded packed format (FFV1 RGB decodes to bgr0)", "[ffmpeg]") {
  // bgr0 stores B,G,R and a padding byte per pixel. imio returns the three
  // components, (H,W,3) in B,G,R order: exactly format="bgr24", and
  // rgb24 with the channels reversed. (imageio 2.37 views the 4-byte
  // pixels with a 3-byte step instead, mixing the padding into the values:
  // the synthetic golden's imread(index=0, format=None), see the README.)
  IMIO_CORPUS_OR_SKIP(path, "synthetic/video_ffv1_rgb.mkv");
  CHECK(imio::immeta(path).get<std::string>("video_format") == "bgr0");
  const NDArray native = imio::imread(path, {.index = 0, .kwargs = {{"format", Value()}}});
  REQUIRE(native.shape() == Shape{24, 32, 3});
  CHECK(native.dtype() == DType::uint8);
  CHECK(native == imio::imread(path, {.index = 0, .kwargs = {{"format", "bgr24"}}}));
  const NDArray rgb = imio::imread(path, {.index = 0});
  const auto* p = native.data<std::uint8_t>();
  const auto* q = rgb.data<std::uint8_t>();
  bool reversed = true;
  for (std::size_t i = 0; i < rgb.size(); i += 3) reversed = reversed && p[i] == q[i + 2] && p[i + 1] == q[i + 1] && p[i + 2] == q[i];
  CHECK(reversed);
  CHECK(imio::improps(path, {.index = 0, .kwargs = {{"format", Value()}}}).shape == native.shape());
  CHECK(imio::imread(path, {.kwargs = {{"format", Value()}}}).shape() == Shape{5, 24, 32, 3});
}

TEST_CASE("ffmpeg read: imiter honours thread_count and thread_type", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  const NDArray reference = imio::imread(path);
  for (const char* type : {"SLICE", "FRAME"}) {
    INFO(type);
    CHECK(iterated(path, {{"thread_type", type}, {"thread_count", 2}}) == reference);
  }
  CHECK(iterated(path, {{"thread_count", 1}}) == reference);
  CHECK_THROWS_AS(imio::imiter(path, {.kwargs = {{"thread_count", -1}}}).begin(), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imiter(path, {.kwargs = {{"thread_type", "AUTO"}}}).begin(), imio::ArgumentError);
}
