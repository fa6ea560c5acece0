// The libjpeg plugin's `crop` (a region through jpeg_crop_scanline and
// jpeg_skip_scanlines): every cropped read equals the same box of the whole
// decode — imio's own and Pillow's Image.crop — for unaligned boxes, gray,
// 4:2:0 / 4:2:2 / 4:4:4, progressive data, `scale`, `mode` and `rotate`;
// improps and imread_into agree; bad boxes are ArgumentErrors.
#include <imio/imio.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "crop_box.hpp"
#include "jpeg_test_images.hpp"
#include "pillow_crops.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio::Value;
using imio_test::Box;
using imio_test::box_value;
using imio_test::boxes;
using imio_test::check_crops;
using imio_test::box_text;
using imio_test::contains;
using imio_test::cut;
using imio_test::exif_orientation;
using imio_test::message_of;
using imio_test::jpeg;
using imio_test::same_pixels;
using imio_test::texture;

// SOI followed by a marker: the corpus files worth a JPEG decode.
bool starts_as_jpeg(const Bytes& data) {
  return data.size() >= 3 && data[0] == std::byte{0xFF} && data[1] == std::byte{0xD8} && data[2] == std::byte{0xFF};
}

struct Sample {
  std::string name;
  Bytes data;
};

// 203 × 117: no side is a multiple of an iMCU (8 or 16).
std::vector<Sample> samples() {
  std::vector<Sample> out;
  const NDArray rgb = texture(117, 203, 3, 1);
  for (const char* sub : {"4:4:4", "4:2:2", "4:2:0"}) {
    out.push_back({std::string("RGB ") + sub, imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"subsampling", sub}, {"quality", 90}}}).value()});
  }
  out.push_back({"RGB 4:2:0 progressive",
                 imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"progressive", true}}}).value()});
  out.push_back({"RGB 4:4:4 progressive",
                 imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"progressive", true}, {"subsampling", "4:4:4"}}}).value()});
  out.push_back({"gray", imio::imwrite("<bytes>", texture(117, 203, 1, 2), {.extension = ".jpg"}).value()});
  out.push_back({"gray progressive",
                 imio::imwrite("<bytes>", texture(117, 203, 1, 3), {.extension = ".jpg", .kwargs = {{"progressive", true}}}).value()});
  return out;
}

// The pixels of the image scaled by 1/n that cover a box of the full-size one.
std::function<Box(const Box&)> covering(std::size_t n) {
  return [n](const Box& b) { return Box{b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n}; };
}

fs::path corpus(const std::string& sub) {
  const fs::path root = imio_test::corpus_dir();
  return root.empty() ? fs::path() : root / sub;
}

}  // namespace

TEST_CASE("libjpeg: a crop equals the same box of the whole decode, and improps gives its shape", "[libjpeg][crop]") {
  for (const Sample& s : samples()) {
    for (const char* mode : {"", "L", "RGB", "RGBA"}) {
      imio::Kwargs base;
      if (*mode != '\0') base.emplace_back("mode", mode);
      const NDArray whole = imio::imread(s.data, jpeg(base));
      const std::size_t h = whole.shape()[0], w = whole.shape()[1];
      check_crops(
          whole, boxes(w, h, 7, 25), base, s.name + " mode " + mode,
          [&](const imio::Kwargs& kw) { return imio::imread(s.data, jpeg(kw)); },
          [&](const imio::Kwargs& kw) { return imio::improps(s.data, jpeg(kw)).shape; });
    }
  }
}

TEST_CASE("libjpeg: crop with scale returns the scaled image's pixels that cover the box", "[libjpeg][crop]") {
  for (const Sample& s : samples()) {
    const NDArray full = imio::imread(s.data, jpeg());
    const std::size_t h = full.shape()[0], w = full.shape()[1];
    for (const auto& [scale, n] : std::vector<std::pair<Value, std::size_t>>{{0.5, 2}, {0.25, 4}, {"1/8", 8}}) {
      const NDArray whole = imio::imread(s.data, jpeg({{"scale", scale}}));
      check_crops(
          whole, boxes(w, h, 11, 15), {{"scale", scale}}, s.name + " scale 1/" + std::to_string(n),
          [&](const imio::Kwargs& kw) { return imio::imread(s.data, jpeg(kw)); },
          [&](const imio::Kwargs& kw) { return imio::improps(s.data, jpeg(kw)).shape; }, covering(n));
    }
  }
}

TEST_CASE("libjpeg: with rotate, the box is in the upright image's pixels", "[libjpeg][crop]") {
  const NDArray rgb = texture(117, 203, 3, 4);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    const Bytes file =
        imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"exif", exif_orientation(orientation)}}}).value();
    for (const auto& [scale, n] : std::vector<std::pair<Value, std::size_t>>{{1, 1}, {0.25, 4}}) {
      const NDArray upright_full = imio::imread(file, jpeg({{"rotate", true}}));
      const NDArray upright = imio::imread(file, jpeg({{"rotate", true}, {"scale", scale}}));
      const std::size_t h = upright_full.shape()[0], w = upright_full.shape()[1];
      check_crops(
          upright, boxes(w, h, 13, 10), {{"rotate", true}, {"scale", scale}},
          "orientation " + std::to_string(orientation) + " scale 1/" + std::to_string(n),
          [&](const imio::Kwargs& kw) { return imio::imread(file, jpeg(kw)); },
          [&](const imio::Kwargs& kw) { return imio::improps(file, jpeg(kw)).shape; }, covering(n));
      // Without rotate the box is in the stored image's pixels.
      const NDArray stored = imio::imread(file, jpeg());
      const Box b{3, 5, 40, 17};
      CHECK(same_pixels(imio::imread(file, jpeg({{"crop", box_value(b)}})), cut(stored, b)));
    }
  }
}

TEST_CASE("libjpeg: crop of the EXIF orientation examples with rotate", "[libjpeg][crop][corpus]") {
  const fs::path dir = corpus("jpeg/exif-orientation-examples");
  if (dir.empty() || !fs::exists(dir)) {
    WARN("corpus folder absent: test skipped");
    return;
  }
  const Box b{301, 117, 901, 530};
  for (int k = 1; k <= 8; ++k) {
    const fs::path p = dir / ("Portrait_" + std::to_string(k) + ".jpg");
    INFO(p.string());
    const NDArray upright = imio::imread(p, jpeg({{"rotate", true}}));
    CHECK(same_pixels(imio::imread(p, jpeg({{"rotate", true}, {"crop", box_value(b)}})), cut(upright, b)));
  }
}

TEST_CASE("libjpeg: a crop equals Pillow's Image.crop of the same box", "[libjpeg][crop][pillow]") {
  if (!imio_test::python_has("PIL.Image")) {
    WARN("Pillow not available: Pillow comparison skipped");
    return;
  }
  imio_test::TempDir dir;
  const std::vector<Box> list = boxes(203, 117, 5, 6);
  const std::vector<Sample> all = samples();
  std::vector<std::string> names;
  std::vector<Bytes> files;
  for (const auto& one : all) {
    names.push_back(one.name);
    files.push_back(one.data);
  }
  imio_test::check_pillow_crops(dir, names, files, list, [](const Bytes& file, const Box& b) {
    return imio::imread(file, jpeg({{"crop", box_value(b)}}));
  });
}

TEST_CASE("libjpeg: imread_into takes the cropped shape", "[libjpeg][crop]") {
  const Bytes file = imio::imwrite("<bytes>", texture(117, 203, 3, 6), {.extension = ".jpg"}).value();
  const Box b{33, 20, 150, 101};
  const imio::Kwargs kw{{"crop", box_value(b)}};
  const imio::ImageProperties props = imio::improps(file, jpeg(kw));
  REQUIRE(props.shape == Shape{81, 117, 3});
  NDArray out(props.shape, props.dtype);
  const std::byte* before = out.bytes();
  imio::imread_into(file, out, jpeg(kw));
  CHECK(out.bytes() == before);
  CHECK(same_pixels(out, cut(imio::imread(file, jpeg()), b)));
  NDArray wrong(Shape{117, 203, 3}, DType::uint8);
  CHECK_THROWS_AS(imio::imread_into(file, wrong, jpeg(kw)), imio::ArgumentError);
  // The batch form and imiter crop alike.
  CHECK(imio::improps(file, {.index = imio::all, .plugin = "libjpeg", .kwargs = kw}).shape == Shape{1, 81, 117, 3});
  CHECK(imio::imread(file, {.index = imio::all, .plugin = "libjpeg", .kwargs = kw}).shape() == Shape{1, 81, 117, 3});
  for (const NDArray& frame : imio::imiter(file, {.plugin = "libjpeg", .kwargs = kw})) CHECK(same_pixels(frame, out));
}

TEST_CASE("libjpeg: a box outside the image, empty, negative or not four integers is an ArgumentError", "[libjpeg][crop]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "region-check.jpg";
  imio::imwrite(path, texture(117, 203, 3, 8));
  const std::vector<Value> bad{Value{0, 0, 204, 10},  Value{0, 0, 10, 118}, Value{10, 10, 10, 20}, Value{10, 20, 20, 20},
                               Value{30, 0, 20, 10},  Value{-1, 0, 10, 10}, Value{0, 0, 10},      Value{0, 0, 10, 10, 1},
                               Value{0, 0, 1.5, 10},  Value{"0", 0, 10, 10}, Value{true, 0, 10, 10}, Value("0,0,10,10"),
                               Value(12)};
  for (const Value& v : bad) {
    INFO("crop=" << v.repr());
    for (const char* method : {"read", "properties"}) {
      INFO(method);
      const std::string message = message_of<imio::ArgumentError>([&] {
        if (std::string(method) == "read") {
          imio::imread(path, jpeg({{"crop", v}}));
        } else {
          imio::improps(path, jpeg({{"crop", v}}));
        }
      });
      CHECK(contains(message, "libjpeg"));
      CHECK(contains(message, "region-check.jpg"));
      CHECK(contains(message, "crop"));
    }
  }
  // With rotate the bounds are the upright image's: 117 wide, 203 high for Orientation 6.
  const Bytes turned =
      imio::imwrite("<bytes>", texture(117, 203, 3, 9), {.extension = ".jpg", .kwargs = {{"exif", exif_orientation(6)}}}).value();
  CHECK(imio::imread(turned, jpeg({{"rotate", true}, {"crop", Value{0, 0, 117, 203}}})).shape() == Shape{203, 117, 3});
  CHECK_THROWS_AS(imio::imread(turned, jpeg({{"rotate", true}, {"crop", Value{0, 0, 203, 117}}})), imio::ArgumentError);
  // None is the whole image.
  CHECK(imio::imread(turned, jpeg({{"crop", Value()}})).shape() == Shape{117, 203, 3});
}

TEST_CASE("libjpeg: a strict cropped read of a truncated file is a DecodeError, as improps", "[libjpeg][crop]") {
  const Bytes whole = imio::imwrite("<bytes>", texture(256, 256, 3, 10), {.extension = ".jpg"}).value();
  const Bytes cut_file(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() * 3 / 4));
  const imio::Kwargs top{{"crop", Value{0, 0, 64, 16}}};
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut_file, jpeg(top)); }), "EOI"));
  CHECK_THROWS_AS(imio::improps(cut_file, jpeg(top)), imio::DecodeError);
  // strict=false: the rows above the cut decode.
  const NDArray a = imio::imread(cut_file, jpeg({{"crop", Value{0, 0, 64, 16}}, {"strict", false}}));
  CHECK(same_pixels(a, cut(imio::imread(whole, jpeg()), {0, 0, 64, 16})));
}

TEST_CASE("libjpeg: a crop of a file with restart markers equals the whole decode", "[libjpeg][crop]") {
  // 517 rows: far enough down for the decoder to start at a restart marker.
  const NDArray rgb = texture(517, 203, 3, 12);
  const NDArray gray = texture(517, 203, 1, 13);
  struct Case {
    const char* name;
    const NDArray* image;
    imio::Kwargs kwargs;
  };
  const std::vector<Case> cases{
      {"4:2:0, a marker every MCU row", &rgb, {{"restart_marker_rows", 1}}},
      {"4:2:0, every 3 MCU rows", &rgb, {{"restart_marker_rows", 3}}},
      {"4:2:0, every 7 MCUs", &rgb, {{"restart_marker_blocks", 7}}},
      {"4:4:4, every MCU row", &rgb, {{"restart_marker_rows", 1}, {"subsampling", "4:4:4"}}},
      {"4:2:2, every 2 MCU rows", &rgb, {{"restart_marker_rows", 2}, {"subsampling", "4:2:2"}}},
      {"gray, every 26 MCUs", &gray, {{"restart_marker_blocks", 26}}},
      {"gray, every MCU", &gray, {{"restart_marker_blocks", 1}}},
  };
  for (const Case& c : cases) {
    const Bytes file = imio::imwrite("<bytes>", *c.image, {.extension = ".jpg", .kwargs = c.kwargs}).value();
    for (const auto& [scale, n] : std::vector<std::pair<Value, std::size_t>>{{1, 1}, {0.5, 2}, {0.25, 4}, {0.125, 8}}) {
      for (const char* mode : {"", "L"}) {
        imio::Kwargs base{{"scale", scale}};
        if (*mode != '\0') base.emplace_back("mode", mode);
        const NDArray whole = imio::imread(file, jpeg(base));
        std::vector<Box> list = boxes(203, 517, 17, 12);
        for (const Box& b : std::vector<Box>{{0, 300, 203, 517}, {50, 511, 51, 512}, {0, 256, 16, 272}, {33, 130, 170, 131}}) {
          list.push_back(b);
        }
        for (const Box& b : list) {
          INFO(c.name << " scale 1/" << n << " mode " << mode << " crop " << box_text(b));
          const Box covering{b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n};
          imio::Kwargs kw = base;
          kw.emplace_back("crop", box_value(b));
          REQUIRE(same_pixels(imio::imread(file, jpeg(kw)), cut(whole, covering)));
        }
      }
    }
  }
}

TEST_CASE("libjpeg: with restart markers, damaged data well above the box are never decoded", "[libjpeg][crop]") {
  const NDArray rgb = texture(517, 203, 3, 14);
  const Bytes good = imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"restart_marker_rows", 1}}}).value();
  // The third restart interval (MCU rows 2, image rows 32…47 at 4:2:0) lies
  // between the second and third RST markers; fill it with ones (no valid
  // Huffman code is all ones, T.81 §C).
  std::vector<std::size_t> after_rst;
  for (std::size_t i = 0; i + 1 < good.size(); ++i) {
    const auto m = std::to_integer<unsigned>(good[i + 1]);
    if (good[i] == std::byte{0xFF} && m >= 0xD0 && m <= 0xD7) after_rst.push_back(i + 2);
  }
  REQUIRE(after_rst.size() == 32);  // 33 MCU rows of 16
  Bytes bad = good;
  for (std::size_t i = after_rst[1]; i + 2 < after_rst[2]; ++i) bad[i] = std::byte{0xFE};
  CHECK_THROWS_AS(imio::imread(bad, jpeg()), imio::DecodeError);
  const Box below{10, 300, 190, 400};  // the decoder starts at MCU row 16 (rows 256…)
  CHECK(same_pixels(imio::imread(bad, jpeg({{"crop", box_value(below)}})), cut(imio::imread(good, jpeg()), below)));
  // Entered at interval 3, just below the damage: the first marker the
  // decoder meets is RST3, not RST0, and a strict read takes it as the first.
  const Box near{10, 90, 190, 140};
  CHECK(same_pixels(imio::imread(bad, jpeg({{"crop", box_value(near)}})), cut(imio::imread(good, jpeg()), near)));
  // A box whose rows need the damaged interval still sees the damage.
  CHECK_THROWS_AS(imio::imread(bad, jpeg({{"crop", Value{10, 40, 190, 60}}})), imio::DecodeError);
}

TEST_CASE("libjpeg: with a restart marker damaged above the box, a crop equals the whole decode's", "[libjpeg][crop]") {
  // RST2 lost: libjpeg's whole decode resynchronises by its own rules
  // (jdmarker.c), so the entry is made only after markers that are all in
  // order; with strict=false the crop is the same box of the whole decode.
  const NDArray rgb = texture(517, 203, 3, 15);
  const Bytes good = imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = {{"restart_marker_rows", 1}}}).value();
  Bytes bad = good;
  std::size_t seen = 0;
  for (std::size_t i = 0; i + 1 < bad.size(); ++i) {
    const auto m = std::to_integer<unsigned>(bad[i + 1]);
    if (bad[i] == std::byte{0xFF} && m >= 0xD0 && m <= 0xD7 && seen++ == 2) {
      bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(i), bad.begin() + static_cast<std::ptrdiff_t>(i + 2));
      break;
    }
  }
  REQUIRE(seen == 3);
  const imio::Kwargs lenient{{"strict", false}};
  const NDArray whole = imio::imread(bad, jpeg(lenient));
  CHECK_FALSE(same_pixels(whole, imio::imread(good, jpeg())));  // the damage shows in the whole decode
  for (const Box& b : std::vector<Box>{{10, 300, 190, 400}, {0, 100, 203, 140}, {50, 480, 60, 517}}) {
    INFO("crop " << box_text(b));
    imio::Kwargs kw = lenient;
    kw.emplace_back("crop", box_value(b));
    CHECK(same_pixels(imio::imread(bad, jpeg(kw)), cut(whole, b)));
    // Strict: the lost marker is libjpeg's error, as in the whole decode.
    CHECK_THROWS_AS(imio::imread(bad, jpeg({{"crop", box_value(b)}})), imio::DecodeError);
  }
}

TEST_CASE("libjpeg: a large crop decoded as two halves by two threads equals the whole decode's box", "[libjpeg][crop]") {
  // 1200 × 1600: boxes of 512 K full-size pixels and more are split (the
  // halves from the entropy index, from column bands, from restart entries
  // or the file's start), smaller ones not; each result equals the whole
  // decode's box (maxworkers=1, one thread, is what the other tests read).
  const NDArray rgb = texture(1200, 1600, 3, 21);
  struct Variant {
    const char* name;
    imio::Kwargs write;
  };
  const std::vector<Variant> variants{{"no restart markers", {}},
                                      {"a restart marker every MCU row", {{"restart_marker_rows", 1}}},
                                      {"a restart marker every 3 MCU rows", {{"restart_marker_rows", 3}}},
                                      {"column bands of 20 MCUs", {{"restart_marker_blocks", 20}}},
                                      {"progressive", {{"progressive", true}}},
                                      {"Orientation 6", {{"exif", exif_orientation(6)}}}};
  const std::vector<Box> list{{100, 50, 1500, 1150}, {0, 0, 900, 700}, {700, 500, 1600, 1200}, {200, 301, 1400, 1000},
                              {0, 0, 1600, 1200},    {650, 450, 950, 750}};
  for (const Variant& v : variants) {
    imio::Kwargs write = v.write;
    write.emplace_back("quality", 90);
    const Bytes file = imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = write}).value();
    const bool turned = std::string(v.name) == "Orientation 6";
    const imio::Kwargs base = turned ? imio::Kwargs{{"rotate", true}} : imio::Kwargs{};
    for (const std::size_t n : {1, 2}) {
      imio::Kwargs whole_kw = base;
      if (n > 1) whole_kw.emplace_back("scale", 0.5);
      const NDArray whole = imio::imread(file, jpeg(whole_kw));
      const std::size_t w = whole.shape()[1] * n, h = whole.shape()[0] * n;
      for (const Box& listed : list) {
        const Box b{std::min(listed.left, w - 1), std::min(listed.top, h - 1), std::min(listed.right, w),
                    std::min(listed.bottom, h)};
        const Box covering{b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n};
        INFO(v.name << ", scale 1/" << n << ", crop " << box_text(b));
        imio::Kwargs kw = whole_kw;
        kw.emplace_back("crop", box_value(b));
        kw.emplace_back("maxworkers", 2);
        CHECK(same_pixels(imio::imread(file, jpeg(kw)), cut(whole, covering)));
        // Into a row-padded view of a larger canvas: the halves write the
        // caller's rows.
        const std::size_t rows = covering.bottom - covering.top, cols = covering.right - covering.left;
        NDArray canvas(Shape{rows, cols + 7, 3}, DType::uint8);
        const imio::StridedArrayView view(canvas.bytes(), Shape{rows, cols, 3}, DType::uint8,
                                          {static_cast<std::ptrdiff_t>((cols + 7) * 3), 3, 1});
        imio::imread_into(file, view, jpeg(kw));
        CHECK(same_pixels(cut(canvas, {0, 0, cols, rows}), cut(whole, covering)));
      }
    }
  }
}

TEST_CASE("libjpeg: damaged files crop the same on two threads as on one", "[libjpeg][crop]") {
  // Bytes flipped in the scan of files whose crops split into halves (column
  // bands of restart intervals, restart entries, the entropy index): each
  // crop on two threads gives the pixels or the error it gives on one, an
  // error met by the helper thread included (a bad Huffman code in the last
  // kilobytes of a band, where libjpeg-turbo leaves its fast decoder).
  const NDArray rgb = texture(1200, 1600, 3, 22);
  const std::vector<imio::Kwargs> writes{{{"quality", 90}},
                                         {{"quality", 90}, {"restart_marker_rows", 1}},
                                         {{"quality", 90}, {"restart_marker_blocks", 20}}};
  const Box b{100, 300, 1500, 1150};
  std::mt19937 rng(5);
  std::size_t errors = 0, compared = 0;
  for (const imio::Kwargs& write : writes) {
    const Bytes good = imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = write}).value();
    for (int round = 0; round < 12; ++round) {
      Bytes file = good;
      // 1–4 bytes in the last 60 % of the file (the box's lower half and below).
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        const std::size_t at = file.size() * 4 / 10 + rng() % (file.size() * 6 / 10 - 2);
        file[at] = std::byte{static_cast<unsigned char>(rng() & 0xFF)};
      }
      for (const bool strict : {true, false}) {
        INFO("write " << write.size() << " round " << round << (strict ? " strict" : " lenient"));
        std::optional<NDArray> want;
        try {
          want = imio::imread(file, jpeg({{"crop", box_value(b)}, {"strict", strict}, {"maxworkers", 1}}));
        } catch (const imio::DecodeError&) {
          ++errors;
        }
        const imio::Kwargs two{{"crop", box_value(b)}, {"strict", strict}, {"maxworkers", 2}};
        if (want) {
          CHECK(same_pixels(imio::imread(file, jpeg(two)), *want));
        } else {
          CHECK_THROWS_AS(imio::imread(file, jpeg(two)), imio::DecodeError);
        }
        ++compared;
      }
    }
  }
  CHECK(compared == 72);
  CHECK(errors > 0);

  // 64 one bits (stuffed 0xFF bytes: no code of the file's tables) 1.5 KB
  // before the end of a file with a restart marker every MCU row: the
  // lower half's thread decodes the last rows with libjpeg-turbo's careful
  // decoder, which reports the bad code (an error when strict).
  Bytes file = imio::imwrite("<bytes>", rgb, {.extension = ".jpg", .kwargs = writes[1]}).value();
  std::size_t at = file.size() - 1536;
  while (file[at - 1] == std::byte{0xFF}) ++at;
  std::size_t next_ff = at;
  while (file[next_ff] != std::byte{0xFF}) ++next_ff;
  REQUIRE(next_ff - at >= 16);  // the bits replaced lie inside one interval
  for (std::size_t i = 0; i < 8; ++i) {
    file[at + 2 * i] = std::byte{0xFF};
    file[at + 2 * i + 1] = std::byte{0x00};
  }
  const Box to_bottom{100, 300, 1500, 1200};
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"crop", box_value(to_bottom)}, {"maxworkers", 1}})), imio::DecodeError);
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"crop", box_value(to_bottom)}, {"maxworkers", 2}})), imio::DecodeError);
  CHECK(same_pixels(imio::imread(file, jpeg({{"crop", box_value(to_bottom)}, {"strict", false}, {"maxworkers", 2}})),
                    imio::imread(file, jpeg({{"crop", box_value(to_bottom)}, {"strict", false}, {"maxworkers", 1}}))));
}

TEST_CASE("libjpeg: crops of every decodable corpus JPEG equal its whole decode", "[libjpeg][crop][corpus]") {
  // Real files and libjpeg-turbo's seeds: restart intervals of every size,
  // arithmetic coding, 4:1:1, 4:4:0 and odd sampling factors, CMYK,
  // progressive and multi-scan files.
  const fs::path dir = corpus("jpeg");
  if (dir.empty() || !fs::exists(dir)) {
    WARN("corpus folder absent: test skipped");
    return;
  }
  std::size_t compared = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const Bytes data = imio_test::read_file(e.path());
    if (!starts_as_jpeg(data)) continue;
    NDArray whole;
    try {
      const imio::ImageProperties props = imio::improps(data, jpeg());
      if (props.shape[0] * props.shape[1] > 30'000'000) continue;
      whole = imio::imread(data, jpeg());
    } catch (const imio::Error&) {
      continue;  // 12-bit, lossless, damaged: test_libjpeg covers them
    }
    const std::size_t h = whole.shape()[0], w = whole.shape()[1];
    const std::vector<Box> list{{w / 5, h * 3 / 5, std::max(w * 4 / 5, w / 5 + 1), std::max(h * 4 / 5, h * 3 / 5 + 1)},
                                {1 % w, h / 2, w, h},
                                {0, h - 1, w, h}};
    for (const Box& b : list) {
      if (b.left >= b.right || b.top >= b.bottom) continue;
      INFO(e.path().string() << " crop " << box_text(b));
      CHECK(same_pixels(imio::imread(data, jpeg({{"crop", box_value(b)}})), cut(whole, b)));
      for (const std::size_t n : {2, 4, 8}) {
        INFO("scale 1/" << n);
        const Value scale = 1.0 / static_cast<double>(n);
        const NDArray scaled = imio::imread(data, jpeg({{"scale", scale}}));
        const Box covering{b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n};
        CHECK(same_pixels(imio::imread(data, jpeg({{"crop", box_value(b)}, {"scale", scale}})), cut(scaled, covering)));
      }
    }
    ++compared;
  }
  CHECK(compared > 50);
}

TEST_CASE("libjpeg: crops of damaged files and fuzzing reproducers end in an imio error or pixels", "[libjpeg][crop][corpus]") {
  // Damaged headers and entropy data through the cropped paths (the
  // restart entry patches the frame height and walks the RST markers):
  // strict and not, never a crash or a foreign exception.
  const fs::path dir = corpus("corrupt");
  if (dir.empty() || !fs::exists(dir)) {
    WARN("corpus folder absent: test skipped");
    return;
  }
  std::size_t tried = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const Bytes data = imio_test::read_file(e.path());
    if (!starts_as_jpeg(data)) continue;
    INFO(e.path().string());
    for (const bool strict : {true, false}) {
      try {
        const imio::ImageProperties props = imio::improps(data, jpeg({{"strict", false}}));
        const std::size_t h = props.shape[0], w = props.shape[1];
        if (h < 2 || w < 2 || h * w > 30'000'000) continue;
        for (const Box& b : std::vector<Box>{{w / 4, h / 2, w / 2 + 1, h * 3 / 4 + 1}, {0, h - 1, w, h}}) {
          try {
            (void)imio::imread(data, jpeg({{"crop", box_value(b)}, {"strict", strict}, {"scale", 0.5}}));
            (void)imio::imread(data, jpeg({{"crop", box_value(b)}, {"strict", strict}}));
          } catch (const imio::Error&) {
          }
        }
      } catch (const imio::Error&) {
      }
    }
    ++tried;
  }
  CHECK(tried >= 30);
}
