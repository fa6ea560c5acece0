// The ffmpeg plugin's read path beyond test_ffmpeg.cpp: imread(all) sized
// by the frames decoded whatever the container announces (D12) — exact,
// missing, too low and too high counts — the corpus videos against the
// frame counts and sizes of video/SOURCES.md, decoded layouts with a
// padding byte (format=None), and the threading kwargs of imiter.
#include <imio/imio.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "catch.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::contains;
using imio_test::corpus_file;
using imio_test::message_of;

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
      {"synthetic/video_truncated.mp4", nullptr, nullptr, 5},    // cut file: fewer frames than stated, the cut packet dropped
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

TEST_CASE("ffmpeg read: imread(all) gives the same pixels with conversion workers as on one thread", "[ffmpeg]") {
  // realshort.mp4 is 320x240, large enough for read-all to convert frames
  // on worker threads (when the machine has more than one core);
  // thread_count=1 converts every frame on the calling thread.
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  const NDArray one_thread = imio::imread(path, {.kwargs = {{"thread_count", 1}}});
  CHECK(imio::imread(path) == one_thread);
  CHECK(iterated(path) == one_thread);
  // The regrowing buffer (fps=60 doubles the frames the packets announce)
  // waits for conversions in flight before it moves them.
  const imio::Kwargs faster = {{"filter_sequence", sequence("fps", "fps=60")}};
  imio::Kwargs faster_one = faster;
  faster_one.emplace_back("thread_count", 1);
  CHECK(imio::imread(path, {.kwargs = faster}) == imio::imread(path, {.kwargs = faster_one}));
}

TEST_CASE("ffmpeg read: max_bytes bounds read-all, single frames and imiter's recycled frames", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");  // 36 frames of 320x240 RGB
  const std::uint64_t frame = 240 * 320 * 3;
  const imio::Limits one_frame{.max_bytes = frame}, short_of_one{.max_bytes = frame - 1};
  CHECK(contains(message_of<imio::LimitError>([&] { imio::imread(path, {.limits = one_frame}); }), "max_bytes"));
  CHECK(imio::imread(path, {.limits = {.max_bytes = 36 * frame}}).shape()[0] == 36);
  CHECK(imio::imread(path, {.index = 3, .limits = one_frame}).nbytes() == frame);
  CHECK_THROWS_AS(imio::imread(path, {.index = 3, .limits = short_of_one}), imio::LimitError);
  std::size_t n = 0;
  for (const NDArray& f : imio::imiter(path, {.limits = one_frame})) n += f.nbytes() == frame ? 1 : 0;
  CHECK(n == 36);
  CHECK_THROWS_AS(imio::imiter(path, {.limits = short_of_one}).begin(), imio::LimitError);
}

// AddressSanitizer reserves terabytes of shadow memory: an address-space
// limit cannot be tested under it (IMIO_TEST_ASAN, test_util.hpp).
#ifndef IMIO_TEST_ASAN
namespace {

// The virtual memory this process has mapped, from /proc/self/status.
std::uint64_t mapped_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  std::uint64_t kib = 0;
  while (in >> key) {
    if (key == "VmSize:") {
      in >> kib;
      return kib * 1024;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

TEST_CASE("ffmpeg read: a header claiming far more frames than the address space allows still reads", "[ffmpeg]") {
  // An AVI whose headers (avih dwTotalFrames, strh dwLength) claim a
  // million frames, with 5 in the file: read-all reserves (never touches)
  // memory for the claimed count, up to max_bytes. With the address space
  // limited to 1 GiB more than is mapped, as a strictly overcommitting
  // system may be, that reservation fails and read-all must start smaller.
  const imio_test::TempDir dir;
  const fs::path file = dir / "claims.avi";
  NDArray frames({5, 240, 320, 3}, DType::uint8);
  for (std::size_t i = 0; i < frames.size(); ++i) frames.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 7 / 5);
  imio::imwrite(file, frames, {.kwargs = {{"codec", "mjpeg"}, {"fps", 10}}});
  imio::Bytes avi = imio_test::read_file(file);
  const std::string text = imio_test::to_string(avi);
  const std::size_t avih = text.find("avih"), strh = text.find("strh");
  REQUIRE(avih != std::string::npos);
  REQUIRE(strh != std::string::npos);
  // Little-endian 32-bit fields: avih +8+16 dwTotalFrames, strh +8+32 dwLength.
  for (const std::size_t at : {avih + 8 + 16, strh + 8 + 32}) {
    for (int b = 0; b < 4; ++b) avi[at + b] = static_cast<std::byte>((1000000u >> (8 * b)) & 0xff);
  }
  imio_test::write_file(file, avi);
  // D11: improps counts the frames that decode (issue #19), not the header's claim.
  REQUIRE(imio::improps(file).n_images == 5u);

  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_AS, &saved) == 0);
  struct rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(mapped_bytes() + (std::uint64_t{1} << 30));
  if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < tight.rlim_cur) tight.rlim_cur = saved.rlim_cur;
  REQUIRE(setrlimit(RLIMIT_AS, &tight) == 0);
  NDArray got;
  std::string failure;
  try {
    got = imio::imread(file);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  setrlimit(RLIMIT_AS, &saved);
  INFO(failure);
  REQUIRE(failure.empty());
  CHECK(got.shape() == Shape{5, 240, 320, 3});
  CHECK(got == imio::imread(file, {.limits = {.max_bytes = 5 * 240 * 320 * 3}}));
}
#endif

#ifdef __linux__
namespace {

// The VmFlags and AnonHugePages of the mapping holding `p` (/proc/self/smaps).
struct Mapping {
  std::string flags;
  std::uint64_t huge_kib = 0;
};

Mapping mapping_of(const void* p) {
  std::ifstream in("/proc/self/smaps");
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  Mapping m;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find('-') < line.find(' ')) {
      if (inside) break;
      inside = addr >= lo && addr < hi;
    } else if (inside && line.starts_with("VmFlags:")) {
      m.flags = line.substr(8) + " ";
    } else if (inside && line.starts_with("AnonHugePages:")) {
      m.huge_kib = std::stoull(line.substr(14));
    }
  }
  return m;
}

}  // namespace

TEST_CASE("ffmpeg read: imread(all) fills its frame stack in 4 KiB pages, not transparent huge pages", "[ffmpeg]") {
  // docs/performance.md "Video": on a VM reporting free memory to its host,
  // fresh huge pages cost several times their 4 KiB pages.
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");  // 36 frames of 320x240: an 8.3 MB stack
  {
    // A large array's block, freed and kept for the next large array
    // (NDArray), may hold huge pages: the stack must not take it.
    NDArray warm = NDArray::uninitialized({36 * 240 * 320 * 3}, imio::DType::uint8);
    std::memset(warm.bytes(), 1, warm.nbytes());
  }
  const NDArray all = imio::imread(path);
  REQUIRE(all.shape() == Shape{36, 240, 320, 3});
  const Mapping m = mapping_of(all.bytes() + all.nbytes() / 2);
  REQUIRE(!m.flags.empty());
  CHECK(contains(m.flags, " nh "));  // VM_NOHUGEPAGE
  CHECK(!contains(m.flags, " hg "));
  CHECK(m.huge_kib == 0);
  CHECK(all == iterated(path));  // the pages mapped ahead of each frame hold that frame
}
#endif
