// The libjpeg plugin's `crop` of files whose restart intervals split each
// MCU row into column bands (jpeg_restart_columns.hpp): the result equals the
// same box of imio's whole decode and of Pillow's, for gray, 4:4:4, 4:2:2
// and 4:2:0, partial last MCU columns and rows, boxes on every edge, inside
// one interval and of one pixel, every scale and orientation; the intervals
// beside the box are never decoded (damage there is not seen); damaged
// markers and cut files take the whole-row path or end in an imio error.
#include <imio/imio.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "catch.hpp"
#include "crop_box.hpp"
#include "jpeg_test_images.hpp"
#include "pillow_crops.hpp"
#include "python_oracle.hpp"
#include "stderr_capture.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

using imio::Bytes;
using imio::NDArray;
using imio::Value;
using imio_test::Box;
using imio_test::box_text;
using imio_test::box_value;
using imio_test::boxes;
using imio_test::check_crops;
using imio_test::contains;
using imio_test::cut;
using imio_test::message_of;
using imio_test::jpeg;
using imio_test::same_pixels;
using imio_test::texture;

Box covering(const Box& b, std::size_t n) {
  return {b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n};
}

// 301 rows × 250 columns: at 4:2:0 a row of 16 MCUs (the last 10 pixels
// wide) and 19 MCU rows (the last 13 high); 32 MCUs of 8 for gray and 4:4:4.
constexpr std::size_t kH = 301, kW = 250;

struct Case {
  std::string name;
  Bytes file;
  std::size_t mcu_w = 0, mcu_h = 0;  // in pixels
  std::size_t blocks = 0;            // MCUs per restart interval
};

Case make(const std::string& name, const NDArray& image, const char* subsampling, int blocks) {
  imio::Kwargs kw{{"restart_marker_blocks", blocks}, {"quality", 90}};
  std::size_t mcu_w = 8, mcu_h = 8;
  if (subsampling != nullptr) {
    kw.emplace_back("subsampling", subsampling);
    if (std::string(subsampling) != "4:4:4") mcu_w = 16;
    if (std::string(subsampling) == "4:2:0") mcu_h = 16;
  }
  return {name, imio::imwrite("<bytes>", image, {.extension = ".jpg", .kwargs = kw}).value(), mcu_w, mcu_h,
          static_cast<std::size_t>(blocks)};
}

// Files whose interval divides the row into two or more bands (the column
// entry), and, for the same checks, files where it does not (3, 5, 6 MCUs)
// or is the whole row (the whole-row entry).
std::vector<Case> cases() {
  const NDArray rgb = texture(kH, kW, 3, 21);
  const NDArray gray = texture(kH, kW, 1, 22);
  const NDArray wide = texture(kH, 256, 3, 23);  // 16 whole MCUs across
  return {
      make("4:2:0, every MCU", rgb, "4:2:0", 1),
      make("4:2:0, every 2 MCUs", rgb, "4:2:0", 2),
      make("4:2:0, every 4 MCUs", rgb, "4:2:0", 4),
      make("4:2:0, every 8 MCUs", rgb, "4:2:0", 8),
      make("4:2:0, every 3 MCUs (does not divide the row)", rgb, "4:2:0", 3),
      make("4:2:0, every 5 MCUs (does not divide the row)", rgb, "4:2:0", 5),
      make("4:2:0, every 16 MCUs (one per row)", rgb, "4:2:0", 16),
      make("4:2:0 256 wide, every 4 MCUs", wide, "4:2:0", 4),
      make("4:2:2, every 4 MCUs", rgb, "4:2:2", 4),
      make("4:4:4, every 8 MCUs", rgb, "4:4:4", 8),
      make("4:4:4, every 16 MCUs", rgb, "4:4:4", 16),
      make("gray, every 4 MCUs", gray, nullptr, 4),
      make("gray, every 8 MCUs", gray, nullptr, 8),
      make("gray, every 6 MCUs (does not divide the row)", gray, nullptr, 6),
  };
}

// Boxes on each edge, inside one interval of 64 pixels (4:2:0 every 4 MCUs,
// gray every 8), across interval boundaries, single pixels and single rows
// and columns, plus boxes() of the image.
std::vector<Box> box_list(std::size_t w, std::size_t h, unsigned seed) {
  std::vector<Box> list = boxes(w, h, seed, 10);
  const std::vector<Box> more{{0, 100, 30, 140},    {w - 30, 100, w, 140}, {100, 0, 140, 20},   {100, h - 11, 140, h},
                              {70, 150, 120, 170},  {64, 160, 65, 161},    {63, 160, 64, 161},  {w - 1, h - 1, w, h},
                              {0, 0, 1, 1},         {w - 1, 0, w, 1},      {0, h - 1, 1, h},    {120, 200, 140, 210},
                              {130, 40, 131, 250},  {17, 250, 18, 251},    {200, 3, w - 1, 298}, {90, 120, 160, 180},
                              {0, 200, w, 201},     {33, 0, 34, h}};
  for (const Box& b : more) {
    if (b.right <= w && b.bottom <= h) list.push_back(b);
  }
  return list;
}

// The offsets just after each RST marker of a file's only scan.
std::vector<std::size_t> after_restarts(const Bytes& f) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i + 1 < f.size(); ++i) {
    const auto m = std::to_integer<unsigned>(f[i + 1]);
    if (f[i] == std::byte{0xFF} && m >= 0xD0 && m <= 0xD7) out.push_back(i + 2);
  }
  return out;
}

// Fills restart interval g ≥ 1 (between the g-th marker and the next, or
// EOI) with FF 00 pairs, keeping the markers: the decoder reads all 1-bits,
// and no Huffman code is all 1-bits (T.81 §C), so a decoder that reads it
// fails (a last odd FF is a fill byte before the marker, §B.1.1.2).
void damage_interval(Bytes& f, const std::vector<std::size_t>& after, std::size_t g) {
  REQUIRE(g >= 1);
  REQUIRE(g <= after.size());
  const std::size_t end = g < after.size() ? after[g] - 2 : f.size() - 2;
  for (std::size_t i = after[g - 1]; i < end; ++i) f[i] = (i - after[g - 1]) % 2 == 0 ? std::byte{0xFF} : std::byte{0x00};
}

}  // namespace

TEST_CASE("libjpeg: a crop of a file with restart intervals shorter than a row equals the whole decode",
          "[libjpeg][crop][restart]") {
  for (const Case& c : cases()) {
    const NDArray full = imio::imread(c.file, jpeg());
    const std::size_t h = full.shape()[0], w = full.shape()[1];
    for (const auto& [scale, n] : std::vector<std::pair<Value, std::size_t>>{{1, 1}, {0.5, 2}, {0.25, 4}, {"1/8", 8}}) {
      for (const char* mode : {"", "L"}) {
        imio::Kwargs base{{"scale", scale}};
        if (*mode != '\0') base.emplace_back("mode", mode);
        const NDArray whole = imio::imread(c.file, jpeg(base));
        check_crops(
            whole, box_list(w, h, 31), base, c.name + " scale 1/" + std::to_string(n) + " mode " + mode,
            [&](const imio::Kwargs& kw) { return imio::imread(c.file, jpeg(kw)); },
            [&](const imio::Kwargs& kw) { return imio::improps(c.file, jpeg(kw)).shape; },
            [denom = std::size_t{n}](const Box& b) { return covering(b, denom); });
      }
    }
  }
}

TEST_CASE("libjpeg: with rotate, a column-band crop is in the upright image's pixels", "[libjpeg][crop][restart]") {
  const NDArray rgb = texture(kH, kW, 3, 24);
  for (const char* subsampling : {"4:2:0", "4:2:2"}) {
    for (int orientation = 1; orientation <= 8; ++orientation) {
      const Bytes file = imio::imwrite("<bytes>", rgb,
                                       {.extension = ".jpg",
                                        .kwargs = {{"exif", imio_test::exif_orientation(orientation)},
                                                   {"restart_marker_blocks", 4},
                                                   {"subsampling", subsampling}}})
                             .value();
      for (const auto& [scale, n] : std::vector<std::pair<Value, std::size_t>>{{1, 1}, {0.5, 2}, {0.125, 8}}) {
        const NDArray upright = imio::imread(file, jpeg({{"rotate", true}, {"scale", scale}}));
        const imio::Shape s = imio::improps(file, jpeg({{"rotate", true}})).shape;
        check_crops(
            upright, box_list(s[1], s[0], 33), {{"rotate", true}, {"scale", scale}},
            std::string(subsampling) + " orientation " + std::to_string(orientation) + " scale 1/" + std::to_string(n),
            [&](const imio::Kwargs& kw) { return imio::imread(file, jpeg(kw)); },
            [&](const imio::Kwargs& kw) { return imio::improps(file, jpeg(kw)).shape; },
            [denom = std::size_t{n}](const Box& b) { return covering(b, denom); });
      }
    }
  }
}

TEST_CASE("libjpeg: a column-band crop equals Pillow's Image.crop of the same box", "[libjpeg][crop][restart][pillow]") {
  if (!imio_test::python_has("PIL.Image")) {
    WARN("Pillow not available: Pillow comparison skipped");
    return;
  }
  imio_test::TempDir dir;
  const std::vector<Case> all = cases();
  const std::vector<Box> list = box_list(kW, kH, 35);  // the 256-wide file: boxes inside its first 250 columns
  std::vector<std::string> names;
  std::vector<Bytes> files;
  for (const auto& one : all) {
    names.push_back(one.name);
    files.push_back(one.file);
  }
  imio_test::check_pillow_crops(dir, names, files, list, [](const Bytes& file, const Box& b) {
    return imio::imread(file, jpeg({{"crop", box_value(b)}}));
  });
}

TEST_CASE("libjpeg: the restart intervals beside a column-band crop are never decoded", "[libjpeg][crop][restart]") {
  // Every restart interval of the bands the box does not need (its own with
  // one MCU column on each side) is damaged, in every MCU row but the first:
  // the whole decode fails and the box still decodes right, so they were
  // not read.
  for (const Case& c : cases()) {
    const std::size_t per_row = (kW + c.mcu_w - 1) / c.mcu_w, rows = (kH + c.mcu_h - 1) / c.mcu_h;
    if (per_row % c.blocks != 0 || per_row / c.blocks < 2) continue;
    INFO(c.name);
    const std::size_t across = per_row / c.blocks;
    const Box box = across >= 4 ? Box{90, 120, 160, 180} : Box{10, 120, 100, 180};
    const std::size_t band_w = c.blocks * c.mcu_w;
    const std::size_t first = (box.left >= c.mcu_w ? box.left - c.mcu_w : 0) / band_w;
    const std::size_t last = std::min(kW - 1, box.right - 1 + c.mcu_w) / band_w;
    REQUIRE((first > 0 || last + 1 < across));
    const std::vector<std::size_t> after = after_restarts(c.file);
    REQUIRE(after.size() + 1 == rows * across);
    Bytes bad = c.file;
    for (std::size_t r = 1; r < rows; ++r) {
      for (std::size_t band = 0; band < across; ++band) {
        if (band < first || band > last) damage_interval(bad, after, r * across + band);
      }
    }
    CHECK_THROWS_AS(imio::imread(bad, jpeg()), imio::DecodeError);
    const NDArray good = imio::imread(c.file, jpeg());
    CHECK(same_pixels(imio::imread(bad, jpeg({{"crop", box_value(box)}})), cut(good, box)));
    const NDArray good_quarter = imio::imread(c.file, jpeg({{"scale", 0.25}}));
    CHECK(same_pixels(imio::imread(bad, jpeg({{"crop", box_value(box)}, {"scale", 0.25}})),
                      cut(good_quarter, covering(box, 4))));
    // A box that needs a damaged band sees the damage.
    const Box outside = first > 0 ? Box{5, 120, 40, 180} : Box{kW - 40, 120, kW - 5, 180};
    const std::string message =
        message_of<imio::DecodeError>([&] { imio::imread(bad, jpeg({{"crop", box_value(outside)}})); });
    CHECK(contains(message, "corrupt JPEG data"));
  }
}

TEST_CASE("libjpeg: files whose restart interval does not split the row decode whole rows of the box",
          "[libjpeg][crop][restart]") {
  // The interval that holds the first MCU of a row inside the box damaged:
  // with no column bands to leave out, the box's rows are decoded at full
  // width and the damage is seen.
  const Box box{90, 120, 160, 180};
  for (const Case& c : cases()) {
    const std::size_t per_row = (kW + c.mcu_w - 1) / c.mcu_w;
    if (per_row % c.blocks == 0 && per_row / c.blocks >= 2) continue;
    INFO(c.name);
    const std::vector<std::size_t> after = after_restarts(c.file);
    const std::size_t row = 150 / c.mcu_h;
    Bytes bad = c.file;
    damage_interval(bad, after, row * per_row / c.blocks);
    CHECK_THROWS_AS(imio::imread(bad, jpeg({{"crop", box_value(box)}})), imio::DecodeError);
    CHECK(same_pixels(imio::imread(c.file, jpeg({{"crop", box_value(box)}})), cut(imio::imread(c.file, jpeg()), box)));
  }
}

TEST_CASE("libjpeg: damaged restart markers and cut files take the whole-row path or end in an imio error",
          "[libjpeg][crop][restart]") {
  imio_test::TempDir dir;
  imio_test::StderrCapture quiet(dir / "stderr.txt");
  // 4:2:0 every 4 MCUs: four bands of 64 pixels, 19 MCU rows, 75 markers.
  const Case c = make("4:2:0, every 4 MCUs", texture(kH, kW, 3, 25), "4:2:0", 4);
  const std::vector<std::size_t> after = after_restarts(c.file);
  REQUIRE(after.size() == 75);
  const NDArray good = imio::imread(c.file, jpeg());
  const Box box{90, 200, 160, 250};  // MCU rows 12…15, bands 1 and 2
  const imio::Kwargs crop{{"crop", box_value(box)}};
  const imio::Kwargs lenient{{"crop", box_value(box)}, {"strict", false}};

  // A marker with the wrong number in MCU row 0: the column bands are not
  // trusted; the whole-row entry starts below it and never sees it.
  Bytes renumbered = c.file;
  renumbered[after[2] - 1] = std::byte{0xD5};  // RST2 → RST5
  CHECK_THROWS_AS(imio::imread(renumbered, jpeg()), imio::DecodeError);
  CHECK(same_pixels(imio::imread(renumbered, jpeg(crop)), cut(good, box)));

  // The same in the box's rows, left of the box: the whole-row path decodes
  // that row and libjpeg's resynchronisation is a strict error.
  Bytes renumbered_near = c.file;
  renumbered_near[after[52] - 1] = std::byte{0xD0};  // RST4 → RST0, before band 1 of MCU row 13
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(renumbered_near, jpeg(crop)); }), "corrupt JPEG data"));
  CHECK(imio::imread(renumbered_near, jpeg(lenient)).shape() == imio::Shape{50, 70, 3});

  // A marker lost in the box's rows (its bytes made data): the intervals no
  // longer line up with the bands.
  Bytes lost = c.file;
  lost[after[52] - 2] = std::byte{0x00};
  lost[after[52] - 1] = std::byte{0x00};
  CHECK_THROWS_AS(imio::imread(lost, jpeg(crop)), imio::DecodeError);
  CHECK(imio::imread(lost, jpeg(lenient)).shape() == imio::Shape{50, 70, 3});

  // A COM segment inside the scan's data (another marker than RSTn).
  Bytes commented(c.file.begin(), c.file.begin() + static_cast<std::ptrdiff_t>(after[40]));
  const unsigned char com[] = {0xFF, 0xFE, 0x00, 0x04, 'h', 'i'};
  for (const unsigned char b : com) commented.push_back(std::byte{b});
  commented.insert(commented.end(), c.file.begin() + static_cast<std::ptrdiff_t>(after[40]), c.file.end());
  CHECK_THROWS_AS(imio::imread(commented, jpeg(crop)), imio::DecodeError);
  try {
    CHECK(imio::imread(commented, jpeg(lenient)).shape() == imio::Shape{50, 70, 3});
  } catch (const imio::Error&) {
  }

  // A file cut at the start of MCU row 16: strict reads refuse it (no EOI);
  // lenient ones decode a box well above the cut as the whole file does.
  const Bytes cut_file(c.file.begin(), c.file.begin() + static_cast<std::ptrdiff_t>(after[64]));
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(cut_file, jpeg(crop)); }), "EOI"));
  const Box above_cut{90, 180, 160, 230};
  CHECK(same_pixels(imio::imread(cut_file, jpeg({{"crop", box_value(above_cut)}, {"strict", false}})), cut(good, above_cut)));
  for (std::size_t end = after[60]; end < c.file.size(); end += 97) {
    const Bytes shorter(c.file.begin(), c.file.begin() + static_cast<std::ptrdiff_t>(end));
    INFO("cut at " << end);
    try {
      CHECK(imio::imread(shorter, jpeg({{"crop", Value{100, 250, 140, 301}}, {"strict", false}})).shape() ==
            imio::Shape{51, 40, 3});
    } catch (const imio::Error&) {
    }
  }
  CHECK(quiet.text().empty());
}

TEST_CASE("libjpeg: a box in the first iMCU column alone equals the whole decode", "[libjpeg][crop]") {
  // libjpeg-turbo 2.1.5 decoded columns cropped to the first iMCU column
  // alone differently at column 0 (fancy 4:2:0 upsampling, this 256-pixel
  // -wide image: blue off by 2 in some rows), with and without restart
  // markers; imio asks for two iMCU columns there.
  const NDArray wide = texture(kH, 256, 3, 23);
  for (const int blocks : {0, 4}) {
    imio::Kwargs kw{{"quality", 90}, {"subsampling", "4:2:0"}};
    if (blocks != 0) kw.emplace_back("restart_marker_blocks", blocks);
    const Bytes file = imio::imwrite("<bytes>", wide, {.extension = ".jpg", .kwargs = kw}).value();
    const NDArray whole = imio::imread(file, jpeg());
    for (const Box& b : std::vector<Box>{{0, 300, 1, 301}, {0, 299, 1, 300}, {0, 250, 1, 301}, {0, 250, 15, 301}, {3, 100, 16, 200}}) {
      INFO("restart_marker_blocks " << blocks << " crop " << box_text(b));
      CHECK(same_pixels(imio::imread(file, jpeg({{"crop", box_value(b)}})), cut(whole, b)));
    }
  }
}

TEST_CASE("libjpeg: imread_into and imiter take a column-band crop", "[libjpeg][crop][restart]") {
  const Case c = make("4:2:0, every 4 MCUs", texture(kH, kW, 3, 26), "4:2:0", 4);
  const Box b{70, 130, 190, 211};
  const imio::Kwargs kw{{"crop", box_value(b)}};
  const imio::ImageProperties props = imio::improps(c.file, jpeg(kw));
  REQUIRE(props.shape == imio::Shape{81, 120, 3});
  NDArray out(props.shape, props.dtype);
  const std::byte* before = out.bytes();
  imio::imread_into(c.file, out, jpeg(kw));
  CHECK(out.bytes() == before);
  CHECK(same_pixels(out, cut(imio::imread(c.file, jpeg()), b)));
  for (const NDArray& frame : imio::imiter(c.file, {.plugin = "libjpeg", .kwargs = kw})) CHECK(same_pixels(frame, out));
}
