// The giflib plugin: GIF frames as imageio (Pillow 9.4) shows them, checked
// against the corpus and, when the system Python has Pillow, against Pillow
// itself; written animations read back by imio and by Pillow.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "python_oracle.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::corpus_file;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

using imio_test::python;
using imio_test::run_python;
bool pillow_available() { return imio_test::python_has("PIL.Image"); }

NDArray frame_of(const NDArray& batch, std::size_t i) {
  Shape s(batch.shape().begin() + 1, batch.shape().end());
  NDArray out(s, batch.dtype());
  std::memcpy(out.bytes(), batch.bytes() + i * out.nbytes(), out.nbytes());
  return out;
}

// An RGB animation with few colours (so it is written without loss).
NDArray few_colour_frames(std::size_t n, std::size_t h, std::size_t w) {
  NDArray a({n, h, w, 3}, DType::uint8);
  auto* p = a.data<std::uint8_t>();
  for (std::size_t f = 0; f < n; ++f)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x) {
        std::uint8_t* px = p + ((f * h + y) * w + x) * 3;
        px[0] = static_cast<std::uint8_t>(((x + f) % 4) * 60);
        px[1] = static_cast<std::uint8_t>((y % 5) * 50);
        px[2] = static_cast<std::uint8_t>(f * 30);
      }
  return a;
}

Bytes gif_bytes(const NDArray& frames, imio::Kwargs kwargs = {}) {
  auto out = imio::imwrite("<bytes>", frames, {.extension = ".gif", .kwargs = std::move(kwargs)});
  REQUIRE(out.has_value());
  return *out;
}

}  // namespace

// ---------------------------------------------------------------- reading

TEST_CASE("giflib: a GIF without index reads all frames, an integer one frame", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/newtonscradle.gif");
  const NDArray all = imio::imread(path);
  CHECK(all.shape() == Shape{36, 150, 200, 3});
  CHECK(imio::imread(path, {.index = imio::all}) == all);
  const NDArray five = imio::imread(path, {.index = 5});
  CHECK(five.shape() == Shape{150, 200, 3});
  CHECK(five == frame_of(all, 5));
  const std::string msg = message_of<imio::IndexError>([&] { imio::imread(path, {.index = 36}); });
  CHECK(contains(msg, "36"));
  CHECK(contains(msg, "holds 36 frames"));
}

TEST_CASE("giflib: a one-frame GIF still reads as a batch of one", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/imageio_issue245.gif");
  CHECK(imio::imread(path).shape() == Shape{1, 24, 30, 3});
  CHECK(imio::improps(path).n_images == std::optional<std::size_t>(1));
  CHECK_THROWS_AS(imio::imread(path, {.index = 1}), imio::IndexError);
}

TEST_CASE("giflib: every frame has the requested layout (D15)", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/newtonscradle.gif");
  CHECK(imio::imread(path, {.kwargs = {{"mode", "P"}}}).shape() == Shape{36, 150, 200});
  CHECK(imio::imread(path, {.kwargs = {{"mode", "L"}}}).shape() == Shape{36, 150, 200});
  CHECK(imio::imread(path, {.kwargs = {{"mode", "RGBA"}}}).shape() == Shape{36, 150, 200, 4});
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"mode", "CMYK"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(path, {.kwargs = {{"colour", "RGB"}}}), imio::ArgumentError);
  // A file whose first frame turns RGBA in Pillow is RGB here, RGBA on request.
  IMIO_CORPUS_OR_SKIP(first_transparent, "synthetic/gif_anim_first_transparent.gif");
  CHECK(imio::imread(first_transparent).shape() == Shape{3, 12, 16, 3});
  const NDArray rgba = imio::imread(first_transparent, {.kwargs = {{"mode", "RGBA"}}});
  CHECK(rgba.shape() == Shape{3, 12, 16, 4});
}

TEST_CASE("giflib: a gray-ramp palette reads as 2-D gray, as in imageio", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "synthetic/gif_gray_ramp_palette.gif");
  CHECK(imio::imread(path).shape() == Shape{1, 12, 16});
  CHECK(imio::improps(path).shape == Shape{1, 12, 16});
  CHECK(imio::immeta(path).get<std::string>("mode") == "L");
  CHECK(imio::imread(path, {.kwargs = {{"mode", "RGB"}}}).shape() == Shape{1, 12, 16, 3});
}

TEST_CASE("giflib: improps equals imread's shape and dtype for every mode (D11)", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "synthetic/gif_anim_dispose.gif");
  for (const char* mode : {"", "RGB", "RGBA", "L", "P"}) {
    imio::Kwargs kw;
    if (*mode) kw.emplace_back("mode", mode);
    for (const imio::Index index : {imio::Index{}, imio::Index{imio::all}, imio::Index{2}}) {
      INFO("mode '" << mode << "' index " << index.repr());
      const NDArray a = imio::imread(path, {.index = index, .kwargs = kw});
      const imio::ImageProperties p = imio::improps(path, {.index = index, .kwargs = kw});
      CHECK(p.shape == a.shape());
      CHECK(p.dtype == a.dtype());
    }
  }
  CHECK_THROWS_AS(imio::improps(path, {.index = 5}), imio::IndexError);
}

TEST_CASE("giflib: imiter yields the same frames as imread", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/newtonscradle.gif");
  const NDArray all = imio::imread(path);
  std::size_t i = 0;
  for (const NDArray& f : imio::imiter(path)) {
    REQUIRE(i < 36);
    CHECK(f == frame_of(all, i));
    ++i;
  }
  CHECK(i == 36);
}

TEST_CASE("giflib: immeta gives Pillow's keys for frame 0 and for frame k", "[giflib]") {
  IMIO_CORPUS_OR_SKIP(path, "standard/newtonscradle.gif");
  const imio::Metadata m = imio::immeta(path);
  CHECK(m.get<Bytes>("version") == to_bytes("GIF89a"));
  CHECK(m.get<std::int64_t>("background") == 0);
  CHECK(m.get<std::int64_t>("loop") == 0);
  CHECK(m.get<std::int64_t>("duration") == 50);
  CHECK(m.get<std::string>("mode") == "P");
  CHECK(m.get<Bytes>("comment").size() == 87);
  CHECK(m.at("shape") == imio::Value{200, 150});
  CHECK_FALSE(m.contains("palette"));
  const imio::Metadata full = imio::immeta(path, {.exclude_applied = false});
  CHECK(full.at("palette").ref<imio::Value::List>().size() == 102);
  const imio::Metadata k = imio::immeta(path, {.index = 3});
  CHECK(k.get<std::int64_t>("duration") == 20);  // Pillow 9.4 shows frame 3 at 20 ms
  CHECK(k.get<std::string>("mode") == "RGB");
  CHECK_THROWS_AS(imio::immeta(path, {.index = 36}), imio::IndexError);

  IMIO_CORPUS_OR_SKIP(no_loop, "synthetic/gif_interlaced.gif");
  CHECK_FALSE(imio::immeta(no_loop).contains("loop"));
  IMIO_CORPUS_OR_SKIP(transparent, "synthetic/gif_static_transparent.gif");
  CHECK(imio::immeta(transparent).get<std::int64_t>("transparency") == 7);
}

TEST_CASE("giflib: frames match Pillow's compositing bit for bit", "[giflib][pillow]") {
  if (!pillow_available()) {
    WARN("skipped: " << (python().empty() ? std::string("no python3") : python()) << " has no Pillow");
    return;
  }
  const fs::path corpus = imio_test::corpus_dir();
  if (corpus.empty()) {
    WARN("skipped: the corpus is not available");
    return;
  }
  const std::vector<std::string> files = {"synthetic/gif_anim_dispose.gif", "synthetic/gif_anim_first_transparent.gif",
                                          "synthetic/gif_local_palettes.gif", "synthetic/gif_small_first_frame.gif",
                                          "synthetic/gif_interlaced.gif",      "gif/libvips/dispose-previous.gif",
                                          "gif/libvips/dispose-background.gif", "gif/libvips/cogs.gif",
                                          "gif/giflib/pic/welcome2.gif",       "gif/image-gif/moon_impact.gif"};
  imio_test::TempDir dir;
  // imageio's pillow plugin reads GIFs with RGB_AFTER_DIFFERENT_PALETTE_ONLY.
  std::string script =
      "import sys, os\nfrom PIL import Image, ImageSequence, GifImagePlugin\nd = sys.argv[1]\n"
      "GifImagePlugin.LOADING_STRATEGY = GifImagePlugin.LoadingStrategy.RGB_AFTER_DIFFERENT_PALETTE_ONLY\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    script += "im = Image.open(r'" + (corpus / files[i]).string() + "')\n";
    script += "for k, f in enumerate(ImageSequence.Iterator(im)):\n";
    script += "    open(os.path.join(d, 'f" + std::to_string(i) + "_%d_RGB' % k), 'wb').write(f.convert('RGB').tobytes())\n";
    script += "    open(os.path.join(d, 'f" + std::to_string(i) + "_%d_RGBA' % k), 'wb').write(f.convert('RGBA').tobytes())\n";
  }
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (const char* mode : {"RGB", "RGBA"}) {
      INFO(files[i] << " mode " << mode);
      const NDArray all = imio::imread(corpus / files[i], {.kwargs = {{"mode", mode}}});
      for (std::size_t k = 0; k < all.shape()[0]; ++k) {
        INFO("frame " << k);
        const Bytes ref = read_file(dir / ("f" + std::to_string(i) + "_" + std::to_string(k) + "_" + mode));
        const NDArray f = frame_of(all, k);
        REQUIRE(ref.size() == f.nbytes());
        CHECK(std::memcmp(ref.data(), f.bytes(), ref.size()) == 0);
      }
    }
  }
}

TEST_CASE("giflib: giflib's reference pictures decode to their .rgb check files", "[giflib]") {
  const fs::path dir = corpus_file("gif/giflib");
  if (dir.empty()) {
    WARN("skipped: corpus gif/giflib is not available");
    return;
  }
  // fire.gif and welcome2.gif are animations: their .rgb draws all frames without disposal.
  for (const char* name : {"gifgrid", "porsche", "solid2", "treescap", "treescap-interlaced", "x-trans"}) {
    INFO(name);
    const NDArray a = imio::imread(dir / "pic" / (std::string(name) + ".gif"), {.index = 0});
    const Bytes ref = read_file(dir / "tests" / (std::string(name) + ".rgb"));
    REQUIRE(ref.size() == a.nbytes());
    CHECK(std::memcmp(ref.data(), a.bytes(), ref.size()) == 0);
  }
}

// ---------------------------------------------------------------- bad input

TEST_CASE("giflib: truncated and damaged files raise imio errors", "[giflib]") {
  // Header and logical screen only, announcing a global colour table that is missing.
  const Bytes header_only = {std::byte{'G'}, std::byte{'I'}, std::byte{'F'}, std::byte{'8'}, std::byte{'9'},
                             std::byte{'a'}, std::byte{16},  std::byte{0},   std::byte{12},  std::byte{0},
                             std::byte{0xA2}, std::byte{4},  std::byte{0}};
  CHECK_THROWS_AS(imio::imread(header_only), imio::DecodeError);
  CHECK_THROWS_AS(imio::improps(header_only), imio::DecodeError);
  CHECK_THROWS_AS(imio::immeta(header_only), imio::DecodeError);

  const Bytes good = gif_bytes(few_colour_frames(3, 8, 10), {{"duration", 100}});
  // Cut inside the last frame's image data: the frames before it still decode.
  Bytes cut(good.begin(), good.end() - 12);
  CHECK(imio::imread(cut, {.index = 0}).shape() == Shape{8, 10, 3});
  CHECK_THROWS_AS(imio::imread(cut), imio::DecodeError);
  std::size_t yielded = 0;
  CHECK_THROWS_AS(
      [&] {
        for (const NDArray& f : imio::imiter(cut)) {
          (void)f;
          ++yielded;
        }
      }(),
      imio::DecodeError);
  CHECK(yielded == 2);

  // Garbage LZW data after a valid descriptor.
  Bytes garbage = good;
  for (std::size_t i = garbage.size() / 2; i < garbage.size() - 1; ++i) garbage[i] = std::byte{0xFF};
  CHECK_THROWS_AS(imio::imread(garbage), imio::DecodeError);

  // Every prefix fails cleanly or reads (never crashes or hangs).
  for (std::size_t n = 0; n < good.size(); n += 7) {
    Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      (void)imio::imread(prefix);
    } catch (const imio::Error&) {
    }
  }
}

TEST_CASE("giflib: hostile sizes are refused before allocating", "[giflib]") {
  Bytes gif = gif_bytes(few_colour_frames(1, 4, 4));
  // Logical screen 65535 x 65535: over the default max_pixels.
  gif[6] = gif[7] = gif[8] = gif[9] = std::byte{0xFF};
  CHECK_THROWS_AS(imio::imread(gif), imio::LimitError);
  // A zero-height screen has nothing to draw on.
  gif[6] = std::byte{4};
  gif[7] = std::byte{0};
  gif[8] = gif[9] = std::byte{0};
  CHECK_THROWS_AS(imio::imread(gif), imio::DecodeError);
}

TEST_CASE("giflib: a frame outside the canvas is clipped to it", "[giflib]") {
  const NDArray two = few_colour_frames(2, 4, 4);
  Bytes gif = gif_bytes(two, {{"duration", 10}});
  // Move the second image descriptor to (2, 2): half of it falls off the 4 x 4 screen.
  std::size_t last = 0;
  for (std::size_t i = 13; i + 9 < gif.size(); ++i) {
    if (gif[i] == std::byte{0x2C} && gif[i + 1] == std::byte{0} && gif[i + 5] == std::byte{4}) last = i;
  }
  REQUIRE(last > 0);
  gif[last + 1] = std::byte{2};
  gif[last + 3] = std::byte{2};
  const NDArray a = imio::imread(gif);
  REQUIRE(a.shape() == Shape{2, 4, 4, 3});
  const auto* p = a.data<std::uint8_t>() + 4 * 4 * 3;
  const auto* src = two.data<std::uint8_t>() + 4 * 4 * 3;
  CHECK(std::memcmp(p + (2 * 4 + 2) * 3, src, 3) == 0);     // frame pixel (0,0) lands at (2,2)
  CHECK(std::memcmp(p, two.data<std::uint8_t>(), 3) == 0);  // (0,0) keeps frame 0
}

TEST_CASE("giflib: the image-gif and libvips reproducers end promptly", "[giflib]") {
  const fs::path dir = imio_test::corpus_dir();
  if (dir.empty()) {
    WARN("skipped: the corpus is not available");
    return;
  }
  for (const char* rel : {"corrupt/image-gif/crashtest/issue-117-out-of-range.gif", "corrupt/image-gif/crashtest/issue-96-small-codesize.gif",
                          "corrupt/image-gif/crashtest/issue-96-small-codesize-2.gif", "corrupt/image-gif/stall/issue-101-infinite-empty-loop.gif",
                          "corrupt/libvips/truncated.gif", "gif/libvips/invalid_multiframe.gif"}) {
    INFO(rel);
    if (!fs::exists(dir / rel)) continue;
    const std::string msg = message_of<imio::Error>([&] { imio::imread(dir / rel); });
    CHECK(contains(msg, "giflib"));
  }
  for (const char* rel : {"corrupt/image-gif/regression/issue-208-block-type.gif",
                          "corrupt/image-gif/regression/issue-209-extension-block-type.gif"}) {
    INFO(rel);
    if (fs::exists(dir / rel)) CHECK(imio::imread(dir / rel).ndim() == 4);
  }
}

// ---------------------------------------------------------------- writing

TEST_CASE("giflib: written animations read back with their frames, durations and loop", "[giflib]") {
  const NDArray frames = few_colour_frames(4, 9, 11);
  const Bytes gif = gif_bytes(frames, {{"duration", imio::Value{100, 200, 300, 400}}, {"loop", 0}});
  CHECK(std::memcmp(gif.data(), "GIF89a", 6) == 0);
  CHECK(imio::imread(gif) == frames);
  CHECK(imio::immeta(gif).get<std::int64_t>("loop") == 0);
  CHECK(imio::immeta(gif, {.index = 2}).get<std::int64_t>("duration") == 300);
}

TEST_CASE("giflib: without extensions the file is GIF87a and has no loop", "[giflib]") {
  const Bytes gif = gif_bytes(few_colour_frames(2, 5, 5));
  CHECK(std::memcmp(gif.data(), "GIF87a", 6) == 0);
  CHECK_FALSE(imio::immeta(gif).contains("loop"));
  CHECK(imio::improps(gif).n_images == std::optional<std::size_t>(2));
}

TEST_CASE("giflib: identical consecutive frames are all kept (D16)", "[giflib]") {
  NDArray same({3, 6, 6, 3}, DType::uint8);
  for (auto& v : same.values<std::uint8_t>()) v = 77;
  const Bytes gif = gif_bytes(same, {{"duration", 50}});
  CHECK(imio::imread(gif).shape() == Shape{3, 6, 6, 3});
}

TEST_CASE("giflib: gray, RGBA and list inputs are written", "[giflib]") {
  NDArray gray({10, 12}, DType::uint8);
  for (std::size_t i = 0; i < gray.size(); ++i) gray.values<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 37) % 200);
  const NDArray g = imio::imread(gif_bytes(gray), {.index = 0, .kwargs = {{"mode", "L"}}});
  CHECK(g == gray);

  NDArray rgba({6, 8, 4}, DType::uint8);
  auto* p = rgba.data<std::uint8_t>();
  for (std::size_t i = 0; i < 48; ++i) {
    p[4 * i] = static_cast<std::uint8_t>(i % 3 * 100);
    p[4 * i + 1] = 10;
    p[4 * i + 2] = 20;
    p[4 * i + 3] = i % 2 ? 255 : 0;
  }
  const Bytes gif = gif_bytes(rgba);
  const NDArray back = imio::imread(gif, {.index = 0, .kwargs = {{"mode", "RGBA"}}});
  for (std::size_t i = 0; i < 48; ++i) {
    INFO("pixel " << i);
    CHECK(back.data<std::uint8_t>()[4 * i + 3] == (i % 2 ? 255 : 0));
    if (i % 2) CHECK(back.data<std::uint8_t>()[4 * i] == p[4 * i]);
  }
  CHECK(imio::immeta(gif).contains("transparency"));

  std::vector<NDArray> list;
  list.push_back(frame_of(few_colour_frames(2, 4, 4), 0));
  list.push_back(frame_of(few_colour_frames(2, 4, 4), 1));
  const auto out = imio::imwrite("<bytes>", std::span<const NDArray>(list), {.extension = ".gif"});
  REQUIRE(out.has_value());
  CHECK(imio::imread(*out).shape() == Shape{2, 4, 4, 3});
}

TEST_CASE("giflib: many colours are quantized to the palette size", "[giflib]") {
  NDArray img({64, 64, 3}, DType::uint8);
  std::mt19937 rng(5);
  auto* p = img.data<std::uint8_t>();
  for (std::size_t y = 0; y < 64; ++y)
    for (std::size_t x = 0; x < 64; ++x) {
      p[(y * 64 + x) * 3] = static_cast<std::uint8_t>(x * 4);
      p[(y * 64 + x) * 3 + 1] = static_cast<std::uint8_t>(y * 4);
      p[(y * 64 + x) * 3 + 2] = static_cast<std::uint8_t>(rng() % 256);
    }
  for (const bool dither : {false, true}) {
    for (const int size : {256, 16}) {
      INFO("dither " << dither << " palettesize " << size);
      const Bytes gif = gif_bytes(img, {{"palettesize", size}, {"dither", dither}});
      const NDArray back = imio::imread(gif, {.index = 0});
      std::set<std::uint32_t> colours;
      double err = 0;
      for (std::size_t i = 0; i < 64 * 64; ++i) {
        const auto* b = back.data<std::uint8_t>() + 3 * i;
        colours.insert(std::uint32_t{b[0]} << 16 | std::uint32_t{b[1]} << 8 | b[2]);
        for (int c = 0; c < 3; ++c) err += std::abs(int{b[c]} - int{p[3 * i + c]});
      }
      CHECK(colours.size() <= static_cast<std::size_t>(size));
      CHECK(err / (64 * 64 * 3) < (size == 256 ? 40.0 : 60.0));
    }
  }
}

TEST_CASE("giflib: bad write arguments are refused before the target is touched", "[giflib]") {
  imio_test::TempDir dir;
  const fs::path target = dir / "out.gif";
  write_file(target, to_bytes("previous"));
  const NDArray frames = few_colour_frames(2, 4, 4);
  CHECK_THROWS_AS(imio::imwrite(target, frames, {.kwargs = {{"quality", 5}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, frames, {.kwargs = {{"duration", imio::Value{1, 2, 3}}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, frames, {.kwargs = {{"palettesize", 1000}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, frames, {.kwargs = {{"loop", -1}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, NDArray({4, 4}, DType::float32)), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite(target, NDArray({4, 4, 1}, DType::uint8)), imio::ArgumentError);
  CHECK(to_string(read_file(target)) == "previous");
}

TEST_CASE("giflib: Pillow reads written animations with their frames, durations and loop", "[giflib][pillow]") {
  if (!pillow_available()) {
    WARN("skipped: " << (python().empty() ? std::string("no python3") : python()) << " has no Pillow");
    return;
  }
  imio_test::TempDir dir;
  const NDArray frames = few_colour_frames(5, 7, 9);
  imio::imwrite(dir / "anim.gif", frames, {.kwargs = {{"duration", imio::Value{40, 50, 60, 70, 80}}, {"loop", 3}, {"comment", "imio"}}});
  const std::string script =
      "import sys, os\nfrom PIL import Image, ImageSequence\nd = sys.argv[1]\n"
      "im = Image.open(os.path.join(d, 'anim.gif'))\n"
      "print('loop', im.info.get('loop'), 'comment', im.info.get('comment'))\n"
      "for k, f in enumerate(ImageSequence.Iterator(im)):\n"
      "    print('frame', k, f.info.get('duration'))\n"
      "    open(os.path.join(d, 'p%d' % k), 'wb').write(f.convert('RGB').tobytes())\n";
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  INFO(log);
  CHECK(contains(log, "loop 3 comment b'imio'"));
  for (int k = 0; k < 5; ++k) {
    CHECK(contains(log, "frame " + std::to_string(k) + " " + std::to_string(40 + 10 * k)));
    const Bytes ref = read_file(dir / ("p" + std::to_string(k)));
    const NDArray f = frame_of(frames, static_cast<std::size_t>(k));
    REQUIRE(ref.size() == f.nbytes());
    CHECK(std::memcmp(ref.data(), f.bytes(), ref.size()) == 0);
  }
  CHECK_FALSE(contains(log, "frame 5"));
}

TEST_CASE("giflib: frames written one call at a time make the file one call makes", "[giflib]") {
  // Each frame is compressed when written (the handle keeps no pixels); the
  // options of later calls still reach every frame, except the palette ones.
  NDArray batch({4, 10, 12, 3}, DType::uint8);
  for (std::size_t i = 0; i < batch.nbytes(); ++i) batch.bytes()[i] = static_cast<std::byte>((i * 7) % 200);
  const Bytes whole = imio::imwrite("<bytes>", batch, {.extension = ".gif", .kwargs = {{"duration", 50}, {"loop", 0}}}).value();
  imio::ImageFile out = imio::imopen("<bytes>", "w", {.extension = ".gif"});
  const std::size_t frame_bytes = batch.nbytes() / 4;
  for (std::size_t k = 0; k < 4; ++k) {
    NDArray frame({10, 12, 3}, DType::uint8);
    std::copy_n(batch.bytes() + k * frame_bytes, frame_bytes, frame.bytes());
    imio::Kwargs kw{{"duration", 50}};
    if (k == 3) kw.emplace_back("loop", 0);  // a later call's option reaches the whole file
    out.write(std::span<const NDArray>(&frame, 1), {.kwargs = kw});
  }
  CHECK(out.close().value() == whole);
  // palettesize after frames were written cannot reach them: refused.
  imio::ImageFile again = imio::imopen("<bytes>", "w", {.extension = ".gif"});
  again.write(batch);
  CHECK_THROWS_AS(again.write(batch, {.kwargs = {{"palettesize", 16}}}), imio::ArgumentError);
  CHECK_THROWS_AS(again.write(batch, {.kwargs = {{"dither", true}}}), imio::ArgumentError);
  again.write(batch, {.kwargs = {{"palettesize", 256}}});  // the same value is fine
  CHECK(imio::improps(again.close().value()).n_images == 8);
}
