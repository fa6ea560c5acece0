// The ffmpeg plugin: video as imageio's pyav plugin reads it (spec §5.2),
// checked against the corpus, against PyAV itself (when the system Python
// has it) and, for written files, against ffprobe; still images (BMP, …)
// with Pillow's semantics (D23), written files read by Pillow.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::Kwargs;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::contains;
using imio_test::corpus_file;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::TempDir;
using imio_test::write_file;

NDArray frame_of(const NDArray& batch, std::size_t i) {
  Shape s(batch.shape().begin() + 1, batch.shape().end());
  NDArray out(s, batch.dtype());
  std::memcpy(out.bytes(), batch.bytes() + i * out.nbytes(), out.nbytes());
  return out;
}

// Moving gradients: every frame differs, so a wrong frame index shows.
NDArray test_frames(std::size_t n, std::size_t h, std::size_t w) {
  NDArray a({n, h, w, 3}, DType::uint8);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t f = 0; f < n; ++f)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        std::uint8_t* q = p + ((f * h + y) * w + x) * 3;
        q[0] = static_cast<std::uint8_t>(x * 4 + f * 9);
        q[1] = static_cast<std::uint8_t>(y * 5);
        q[2] = static_cast<std::uint8_t>(128 + f * 20);
      }
  return a;
}

double mean_abs_diff(const NDArray& a, const NDArray& b) {
  REQUIRE(a.shape() == b.shape());
  double s = 0;
  const auto* p = a.data<std::uint8_t>();
  const auto* q = b.data<std::uint8_t>();
  const std::size_t n = a.size();  // once: NDArray::size multiplies the shape, slow in sanitizer builds at -O0
  for (std::size_t i = 0; i < n; ++i) s += std::abs(int(p[i]) - int(q[i]));
  return s / static_cast<double>(n);
}

// ffprobe's count of decoded frames, or -1 when ffprobe is missing.
long ffprobe_frames(const fs::path& file) {
  if (std::system("ffprobe -version >/dev/null 2>&1") != 0) return -1;
  TempDir tmp;
  const std::string cmd = "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"" +
                          file.string() + "\" > \"" + (tmp / "n.txt").string() + "\"";
  if (std::system(cmd.c_str()) != 0) return -2;
  return std::stol(imio_test::to_string(read_file(tmp / "n.txt")));
}

bool pyav_available() { return imio_test::python_has("av") && imio_test::python_has("numpy"); }

}  // namespace

TEST_CASE("ffmpeg: the plugin is registered with imageio's names", "[ffmpeg]") {
  bool found = false;
  for (const auto& p : imio::plugins()) {
    if (p.name != "ffmpeg") continue;
    found = true;
    CHECK(p.can_read);
    CHECK(p.can_write);
    CHECK(std::find(p.aliases.begin(), p.aliases.end(), "pyav") != p.aliases.end());
    CHECK(contains(p.backend, "libavformat"));
  }
  CHECK(found);
}

TEST_CASE("ffmpeg: reference results of spec §5.2.2 on realshort.mp4", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  const NDArray all = imio::imread(path);
  CHECK(all.shape() == Shape{36, 240, 320, 3});
  CHECK(imio::imread(path, {.index = 35}).shape() == Shape{240, 320, 3});
  CHECK(contains(message_of<imio::IndexError>([&] { imio::imread(path, {.index = 36}); }), "36"));
  CHECK_THROWS_AS(imio::imread(path, {.index = 36}), imio::IndexError);
  auto read0 = [&](Value fmt) { return imio::imread(path, {.index = 0, .kwargs = {{"format", fmt}}}); };
  CHECK(read0("gray").shape() == Shape{240, 320});
  CHECK(read0("rgba").shape() == Shape{240, 320, 4});
  const NDArray rgb48 = read0("rgb48le");
  CHECK(rgb48.shape() == Shape{240, 320, 3});
  CHECK(rgb48.dtype() == DType::uint16);
  CHECK(read0("yuv444p").shape() == Shape{3, 240, 320});
  // D20: big-endian formats come back native-endian: equal values.
  const NDArray rgb48be = read0("rgb48be");
  CHECK(rgb48be == rgb48);
  // yuv420p cannot be a strided array (the spec's OSError).
  try {
    read0(Value());
    FAIL("format=None on yuv420p must fail");
  } catch (const imio::IOError& e) {
    CHECK(contains(e.what(), "yuv420p"));
    CHECK(contains(e.what(), "strided"));
  }
  CHECK_THROWS_AS(read0("no_such_format"), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"thread_type", "BOTH"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"bogus", 1}}}), imio::ArgumentError);
  // improps equals imread (D11) without decoding.
  const auto props = imio::improps(path);
  CHECK(props.shape == all.shape());
  CHECK(props.n_images == std::optional<std::size_t>(36));
  CHECK(props.is_batch);
  CHECK(imio::improps(path, {.index = 3, .kwargs = {{"format", "rgb48le"}}}).dtype == DType::uint16);
  CHECK_THROWS_AS(imio::improps(path, {.kwargs = {{"format", "nv12"}}}), imio::IOError);
}

TEST_CASE("ffmpeg: read(index=k) is the k-th frame of iter, on fresh and reused handles", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  std::vector<NDArray> frames;
  for (NDArray& f : imio::imiter(path)) frames.push_back(std::move(f));
  REQUIRE(frames.size() == 36);
  const NDArray all = imio::imread(path, {.index = imio::all});
  for (std::size_t i = 0; i < frames.size(); ++i) CHECK(frame_of(all, i) == frames[i]);
  auto file = imio::imopen(path, "r");
  for (int k : {30, 31, 32, 5, 0, 35, 17, 1}) {
    INFO("index " << k);
    CHECK(file.read({.index = k}) == frames[static_cast<std::size_t>(k)]);
    CHECK(imio::imread(path, {.index = k}) == frames[static_cast<std::size_t>(k)]);
    // Variable-frame-rate strategy: decode forward, restart when going back.
    CHECK(file.read({.index = k, .kwargs = {{"constant_framerate", false}}}) == frames[static_cast<std::size_t>(k)]);
  }
  // ALL rewinds: the whole video even after reads on the handle.
  CHECK(file.read({.index = imio::all}) == all);
}

TEST_CASE("ffmpeg: frame k of a long stream after a seek (cockatoo.mp4)", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/cockatoo.mp4");
  // Frames 140 and 279 lie after keyframes that are recovery points: a
  // freshly opened decoder gives other pixels than PyAV's flushed one.
  std::vector<NDArray> wanted(280);
  std::size_t i = 0;
  for (NDArray& f : imio::imiter(path)) {
    if (i == 76 || i == 140 || i == 158 || i == 279) wanted[i] = std::move(f);
    ++i;
  }
  REQUIRE(i == 280);
  auto file = imio::imopen(path, "r");
  for (int k : {140, 279, 76, 158}) {
    INFO("index " << k);
    CHECK(file.read({.index = k}) == wanted[static_cast<std::size_t>(k)]);
  }
  const auto m = imio::immeta(path);
  CHECK(m.get<std::string>("video_format") == "yuv444p");
  CHECK(m.get<std::string>("codec") == "h264");
  CHECK(m.get<std::string>("profile") == "High 4:4:4 Predictive");
  CHECK(m.get<double>("fps") == 20.0);
  CHECK(m.get<double>("duration") == 14.0);
  CHECK(m.get<std::string>("major_brand") == "isom");
  CHECK(m.get<std::string>("handler_name") == "VideoHandler");
  const auto m4 = imio::immeta(path, {.index = 4});
  CHECK(m4.get<bool>("key_frame") == false);
  CHECK(std::abs(m4.get<double>("time") - 0.2) < 1e-9);
  CHECK(m4.get<std::string>("frame_type") == "P");
  const auto m0 = imio::immeta(path, {.index = 0});
  CHECK(m0.get<std::string>("frame_type") == "I");
  CHECK(m0.contains("SEI_UNREGISTERED"));
  CHECK(imio::imread(path, {.index = 5, .kwargs = {{"format", Value()}}}).shape() == Shape{3, 720, 1280});
}

TEST_CASE("ffmpeg: frames are PyAV's, bit for bit", "[ffmpeg][oracle]") {
  if (!pyav_available()) {
    WARN("skipped: the system Python has no PyAV (python3-av)");
    return;
  }
  for (const char* rel : {"standard/realshort.mp4", "synthetic/video_odd_size.mp4", "synthetic/video_ffv1_rgb.mkv",
                          "synthetic/video_vp9.webm", "synthetic/video_mjpeg.avi"}) {
    const fs::path path = corpus_file(rel);
    if (path.empty()) continue;
    INFO(rel);
    TempDir tmp;
    const std::string script =
        "import sys, av, numpy as np\n"
        "c = av.open(r'" + path.string() + "')\n"
        "a = np.stack([f.to_ndarray(format='rgb24') for f in c.decode(video=0)])\n"
        "np.save(sys.argv[1] + '/pyav.npy', a)\n";
    std::string log;
    REQUIRE(imio_test::run_python(tmp, script, log) == 0);
    const NDArray want = imio::imread(tmp / "pyav.npy");
    CHECK(imio::imread(path) == want);
  }
}

TEST_CASE("ffmpeg: improps counts frames the container does not state (D11)", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "synthetic/video_h264.mkv");
  const NDArray all = imio::imread(path);
  const auto props = imio::improps(path);
  CHECK(props.shape == all.shape());
  CHECK(props.n_images == std::optional<std::size_t>(all.shape()[0]));
  CHECK_FALSE(imio::immeta(path).contains("duration"));  // Matroska states none for the stream
}

TEST_CASE("ffmpeg: the corpus videos give the frame counts and sizes of SOURCES.md", "[ffmpeg]") {
  struct Case {
    const char* rel;
    std::size_t frames, h, w;
  };
  const Case cases[] = {
      {"video/imageio/test.webm", 94, 480, 640},      {"video/lychee/train.mov", 22, 1080, 1440},
      // SOURCES.md says 24; FFmpeg 5.1 (ffprobe -count_frames, PyAV) decodes 5 of its 25 packets.
      {"video/file-type/fixture.mov", 5, 156, 268},  {"video/file-type/fixture.flv", 25, 156, 268},
      {"video/file-type/fixture.3gp", 166, 288, 352}, {"video/file-type/fixture2.3gp", 97, 144, 176},
      {"video/file-type/fixture.mpg", 19, 120, 160},  {"video/file-type/fixture-mjpeg.mov", 15, 480, 640},
      {"video/file-type/fixture-null.webm", 36, 1080, 1920}, {"video/small/webm.webm", 1, 8, 8},
      {"video/file-type/fixture.mkv", 1, 356, 640},   {"video/file-type/fixture.ps.mpg", 1, 356, 640},
  };
  for (const Case& c : cases) {
    const fs::path path = corpus_file(c.rel);
    if (path.empty()) continue;
    INFO(c.rel);
    std::size_t n = 0;
    for (NDArray& f : imio::imiter(path)) {
      CHECK(f.shape() == Shape{c.h, c.w, 3});
      ++n;
    }
    CHECK(n == c.frames);
    CHECK(imio::improps(path, {.index = 0}).shape == Shape{c.h, c.w, 3});
  }
}

TEST_CASE("ffmpeg: damaged and stub videos fail with imio errors", "[ffmpeg]") {
  std::atomic<int> warnings{0};
  auto previous = imio::set_warning_handler([&](std::string_view source, std::string_view) {
    if (source == "ffmpeg") ++warnings;
  });
  for (const char* rel : {"video/file-type/fixture.ogv", "video/file-type/fixture.3g2", "video/file-type/fixture.mj2",
                          "video/file-type/fixture-dash.mp4", "video/file-type/fixture-isom.mp4",
                          "video/file-type/fixture-moov.mov", "video/small/AudioVideoInterleave.avi",
                          "video/small/FlashVideo.flv", "video/small/Mpeg4.mp4", "video/small/mp4-with-audio.mp4",
                          "video/exiftool/Matroska.mkv", "video/exiftool/QuickTime.mov", "video/exiftool/RIFF.avi",
                          "video/exiftool/Pentax.avi", "synthetic/video_truncated_nomoov.mp4"}) {
    const fs::path path = corpus_file(rel);
    if (path.empty()) continue;
    INFO(rel);
    CHECK_THROWS_AS(imio::imread(path), imio::Error);
    CHECK_THROWS_AS(imio::improps(path), imio::Error);
  }
  // No video stream: a refusal like any other (D5), so NoPluginError.
  if (const fs::path audio = corpus_file("video/small/mp4-with-audio.mp4"); !audio.empty()) {
    CHECK_THROWS_AS(imio::imread(audio), imio::NoPluginError);
    CHECK(contains(message_of<imio::NoPluginError>([&] { imio::imread(audio); }), "no video stream"));
  }
  // Garbage named .mp4 (D4).
  CHECK_THROWS_AS(imio::imread(imio_test::to_bytes("this is not a video at all, just text"), {.extension = ".mp4"}),
                  imio::NoPluginError);
  // FFmpeg's reason is quoted without its context address ("[png @ 0x55…]"
  // becomes "[png]"): the same input gives the same message in every run.
  {
    const std::string why = message_of<imio::NoPluginError>(
        [&] { imio::imread(imio_test::to_bytes("this is not a PNG, but text"), {.plugin = "pyav", .extension = ".png"}); });
    CHECK(contains(why, "[png]"));
    CHECK_FALSE(contains(why, "@ 0x"));
  }
  // A file cut in its media data (moov first): the frames before the cut.
  // The sixth packet is cut short (FFmpeg flags it corrupt): it is dropped,
  // not decoded into a frame whose missing part the decoder invents.
  if (const fs::path cut = corpus_file("synthetic/video_truncated.mp4"); !cut.empty()) {
    CHECK(imio::imread(cut).shape() == Shape{5, 48, 64, 3});  // D12: what decoded
    CHECK(imio::improps(cut).shape == Shape{5, 48, 64, 3});
    CHECK_THROWS_AS(imio::imread(cut, {.index = 5}), imio::IndexError);
  }
  if (const fs::path cut = corpus_file("video/file-type/fixture2.mkv"); !cut.empty()) {
    std::size_t n = 0;
    for (NDArray& f : imio::imiter(cut)) n += f.empty() ? 0 : 1;
    CHECK(n >= 37);
  }
  imio::set_warning_handler(previous);
}

TEST_CASE("ffmpeg: corrupt data in memory never crashes", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "synthetic/video_mpeg4.mp4");
  Bytes data = read_file(path);
  imio::set_warning_handler({});
  // Flip bytes across the file and truncate at several points.
  for (std::size_t step : {97u, 1013u}) {
    Bytes bad = data;
    for (std::size_t i = 200; i < bad.size(); i += step) bad[i] = static_cast<std::byte>(static_cast<unsigned>(bad[i]) ^ 0x5a);
    try {
      for (NDArray& f : imio::imiter(bad, {.extension = ".mp4"})) CHECK(f.shape().size() == 3);
    } catch (const imio::Error&) {
    }
  }
  for (std::size_t cut : {16u, 100u, 1000u, 3000u}) {
    if (cut >= data.size()) continue;
    Bytes bad(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(cut));
    try {
      (void)imio::imread(bad, {.extension = ".mp4"});
    } catch (const imio::Error&) {
    }
  }
}

TEST_CASE("ffmpeg: filters (spec §5.2.7)", "[ffmpeg]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/realshort.mp4");
  const Value scale = Value::List{Value("scale"), Value("w=160:h=120")};
  CHECK(imio::imread(path, {.kwargs = {{"filter_sequence", Value::List{scale}}}}).shape() == Shape{36, 120, 160, 3});
  const Value step = Value::List{Value("framestep"), Value("5")};
  CHECK(imio::imread(path, {.kwargs = {{"filter_sequence", Value::List{step}}}}).shape()[0] == 8);
  // The same through a filter graph with a mapping of options.
  imio::Dict nodes;
  nodes.set("s", Value::List{Value("scale"), Value(imio::Dict{{"w", "80"}, {"h", "60"}})});
  const Value graph = Value::List{Value(nodes), Value::List{Value::List{"video_in", "s", 0, 0}, Value::List{"s", "video_out", 0, 0}}};
  CHECK(imio::imread(path, {.index = 5, .kwargs = {{"filter_graph", graph}}}).shape() == Shape{60, 80, 3});
  std::size_t n = 0;
  for (NDArray& f : imio::imiter(path, {.kwargs = {{"filter_sequence", Value::List{step}}}})) n += f.shape()[0] == 240;
  CHECK(n == 8);
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"filter_sequence", Value::List{Value::List{"no_such_filter", ""}}}}}),
                  imio::ArgumentError);
}

TEST_CASE("ffmpeg: written videos read back, checked by ffprobe and PyAV", "[ffmpeg][write]") {
  TempDir tmp;
  const NDArray frames = test_frames(10, 48, 64);
  for (const char* ext : {".mp4", ".mkv", ".webm", ".avi", ".mov"}) {
    INFO(ext);
    const fs::path out = tmp / (std::string("v") + ext);
    imio::imwrite(out, frames, {.kwargs = {{"fps", 10}}});
    const NDArray back = imio::imread(out);
    REQUIRE(back.shape() == frames.shape());
    CHECK(mean_abs_diff(back, frames) < 12);  // lossy codecs
    const long probe = ffprobe_frames(out);
    if (probe >= 0) CHECK(probe == 10);
    CHECK(imio::improps(out).n_images == std::optional<std::size_t>(10));
  }
  // D21: the default codecs per container.
  CHECK(imio::immeta(tmp / "v.webm").get<std::string>("codec") == "vp9");
  CHECK(imio::immeta(tmp / "v.avi").get<std::string>("codec") == "mpeg4");
  // gif through FFmpeg when asked for by name.
  imio::imwrite(tmp / "v.gif", frames, {.plugin = "ffmpeg"});
  CHECK(imio::imread(tmp / "v.gif", {.plugin = "pyav"}).shape() == frames.shape());
  if (pyav_available()) {
    const std::string script =
        "import sys, av\n"
        "for ext in ('mp4', 'mkv', 'webm', 'avi'):\n"
        "    c = av.open(sys.argv[1] + '/v.' + ext)\n"
        "    n = sum(1 for _ in c.decode(video=0))\n"
        "    s = c.streams.video[0]\n"
        "    assert n == 10 and s.width == 64 and s.height == 48, (ext, n)\n";
    std::string log;
    CHECK(imio_test::run_python(tmp, script, log) == 0);
    INFO(log);
  }
}

TEST_CASE("ffmpeg: write options and errors (spec §5.2.5, D19)", "[ffmpeg][write]") {
  TempDir tmp;
  const NDArray frames = test_frames(6, 32, 32);
  // fps as a fraction: metadata gives it back; duration = frames / fps.
  imio::imwrite(tmp / "f.mp4", frames, {.kwargs = {{"fps", 3.5}, {"codec", "mpeg4"}}});
  const auto m = imio::immeta(tmp / "f.mp4");
  CHECK(std::abs(m.get<double>("fps") - 3.5) < 1e-9);
  CHECK(m.get<std::string>("codec") == "mpeg4");
  // out_pixel_format and codec options.
  imio::imwrite(tmp / "g.mkv", frames, {.kwargs = {{"codec", "libx264"}, {"out_pixel_format", "yuv444p"}, {"crf", 0}}});
  CHECK(imio::immeta(tmp / "g.mkv").get<std::string>("video_format") == "yuv444p");
  CHECK(mean_abs_diff(imio::imread(tmp / "g.mkv"), frames) < 2.5);  // lossless but for the colour conversion
  // D19: the dtype must match in_pixel_format.
  NDArray wide({2, 16, 16, 3}, DType::uint16);
  CHECK_THROWS_AS(imio::imwrite(tmp / "bad.mp4", wide), imio::ArgumentError);
  CHECK_FALSE(fs::exists(tmp / "bad.mp4"));
  NDArray wide_ok({2, 16, 16, 3}, DType::uint16);
  imio::imwrite(tmp / "w.mkv", wide_ok, {.kwargs = {{"in_pixel_format", "rgb48le"}, {"codec", "ffv1"}}});
  CHECK(imio::improps(tmp / "w.mkv").n_images == std::optional<std::size_t>(2));
  // A single frame needs is_batch=false.
  const NDArray one = frame_of(frames, 0);
  CHECK_THROWS_AS(imio::imwrite(tmp / "one.mp4", one), imio::ArgumentError);
  imio::imwrite(tmp / "one.mp4", one, {.kwargs = {{"is_batch", false}}});
  CHECK(imio::imread(tmp / "one.mp4").shape() == Shape{1, 32, 32, 3});
  // A list must hold frames of one shape.
  std::vector<NDArray> list;
  list.push_back(frame_of(frames, 0));
  list.push_back(NDArray({16, 16, 3}, DType::uint8));
  CHECK(contains(message_of<imio::ArgumentError>([&] { imio::imwrite(tmp / "l.mp4", list); }), "same shape"));
  CHECK_THROWS_AS(imio::imwrite(tmp / "c.mp4", frames, {.kwargs = {{"codec", "no-such-codec"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(tmp / "c.mp4", frames, {.kwargs = {{"fps", -1}}}), imio::ArgumentError);
  // Encoder errors carry FFmpeg's reason; the target is not created.
  CHECK_THROWS_AS(imio::imwrite(tmp / "bad.mp4", frames, {.kwargs = {{"codec", "mpeg4"}, {"out_pixel_format", "pal8"}}}),
                  imio::EncodeError);
  CHECK_FALSE(fs::exists(tmp / "bad.mp4"));
  // D22: extension= decides the container.
  imio::imwrite(tmp / "vid.part", frames, {.extension = ".mkv"});
  CHECK(imio::improps(tmp / "vid.part", {.extension = ".mkv"}).n_images == std::optional<std::size_t>(6));
}

TEST_CASE("ffmpeg: several writes on one handle append; <bytes> is finalized in the call", "[ffmpeg][write]") {
  TempDir tmp;
  const NDArray frames = test_frames(3, 16, 16);
  {
    auto file = imio::imopen(tmp / "a.mkv", "w");
    for (std::size_t i = 0; i < 3; ++i) file.write(frame_of(frames, i), {{"is_batch", false}});
    file.close();
  }
  CHECK(imio::imread(tmp / "a.mkv").shape() == Shape{3, 16, 16, 3});
  const auto bytes = imio::imwrite("<bytes>", frames, {.extension = ".mp4"});
  REQUIRE(bytes.has_value());
  CHECK(imio::imread(*bytes, {.extension = ".mp4"}).shape() == Shape{3, 16, 16, 3});
  CHECK_THROWS_AS(imio::imwrite("<bytes>", frames), imio::Error);  // no extension, no container
}

TEST_CASE("ffmpeg: BMP with Pillow's semantics (D23)", "[ffmpeg][bmp]") {
  IMIO_CORPUS_OR_SKIP(pal8, "synthetic/bmp_pal8.bmp");
  CHECK(imio::imread(pal8).shape() == Shape{9, 11, 3});
  CHECK(imio::imread(pal8, {.index = imio::all}).shape() == Shape{1, 9, 11, 3});
  CHECK(imio::imread(pal8, {.kwargs = {{"mode", "P"}}}).shape() == Shape{9, 11});
  CHECK(imio::imread(pal8, {.kwargs = {{"mode", "RGBA"}}}).shape() == Shape{9, 11, 4});
  CHECK_THROWS_AS(imio::imread(pal8, {.index = 1}), imio::IndexError);
  const auto meta = imio::immeta(pal8);
  CHECK(meta.get<std::string>("mode") == "P");
  CHECK(meta.get<std::int64_t>("compression") == 0);
  IMIO_CORPUS_OR_SKIP(one, "synthetic/bmp_1bit.bmp");
  CHECK(imio::imread(one).dtype() == DType::bool_);
  IMIO_CORPUS_OR_SKIP(cut, "synthetic/bmp_truncated.bmp");
  // improps finds the missing rows from the header and the file size, as imread does (D11).
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::improps(cut); }), "truncated"));
  CHECK_THROWS_AS(imio::imread(cut), imio::DecodeError);
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut); }), "truncated"));
}

TEST_CASE("ffmpeg: still images written are read by Pillow", "[ffmpeg][bmp][write]") {
  TempDir tmp;
  NDArray rgb({5, 7, 3}, DType::uint8);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 7);
  NDArray gray({5, 7}, DType::uint8);
  for (std::size_t i = 0; i < gray.size(); ++i) gray.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 3);
  NDArray rgba({5, 7, 4}, DType::uint8);
  for (std::size_t i = 0; i < rgba.size(); ++i) rgba.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(255 - i);
  imio::imwrite(tmp / "rgb.bmp", rgb);
  imio::imwrite(tmp / "gray.bmp", gray);
  // FFmpeg's 32-bit BMP is BI_RGB, whose fourth byte Pillow (and imio) read
  // as padding: the alpha would be lost, so the write is refused (issue #18).
  const std::string why = message_of<imio::ArgumentError>([&] { imio::imwrite(tmp / "rgba.bmp", rgba); });
  CHECK(contains(why, "alpha channel would be lost"));
  CHECK(contains(why, ".tga"));
  CHECK_FALSE(fs::exists(tmp / "rgba.bmp"));
  imio::imwrite(tmp / "rgb.ppm", rgb);
  imio::imwrite(tmp / "rgb.tga", rgb);
  CHECK(imio::imread(tmp / "rgb.bmp") == rgb);
  CHECK(imio::imread(tmp / "gray.bmp") == gray);
  CHECK(imio::imread(tmp / "rgb.ppm") == rgb);
  CHECK(imio::imread(tmp / "rgb.tga") == rgb);
  // D8: several images to one BMP are refused before the file is touched.
  NDArray two({2, 5, 7, 3}, DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(tmp / "two.bmp", two, {.kwargs = {{"is_batch", true}}}), imio::ArgumentError);
  CHECK_FALSE(fs::exists(tmp / "two.bmp"));
  if (imio_test::python_has("PIL.Image") && imio_test::python_has("numpy")) {
    imio::imwrite(tmp / "rgb.npy", rgb);
    imio::imwrite(tmp / "gray.npy", gray);
    const std::string script =
        "import sys, numpy as np\n"
        "from PIL import Image\n"
        "d = sys.argv[1]\n"
        "for name, mode in (('rgb', 'RGB'), ('gray', 'L')):\n"
        "    im = Image.open(d + '/' + name + '.bmp')\n"
        "    assert im.mode == mode, (name, im.mode)\n"
        "    want = np.load(d + '/' + name + '.npy')\n"
        "    assert (np.asarray(im) == want).all(), name\n"
        "assert (np.asarray(Image.open(d + '/rgb.ppm')) == np.load(d + '/rgb.npy')).all()\n"
        "assert (np.asarray(Image.open(d + '/rgb.tga')) == np.load(d + '/rgb.npy')).all()\n";
    std::string log;
    const int status = imio_test::run_python(tmp, script, log);
    INFO(log);
    CHECK(status == 0);
  }
}
