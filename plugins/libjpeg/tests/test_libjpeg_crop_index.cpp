// Crops through a reader's entropy index (jpeg_entropy_index.hpp, compiled
// in with the Huffman walker): the index alone makes a valid, much smaller
// JPEG whose pixels inside the box equal the whole decode's, walking the
// scan no further than the box; and through the plugin, every crop of an
// imopen handle after its first equals the same box of the whole decode for
// gray, 4:4:4, 4:2:2, 4:2:0, CMYK, partial MCUs, optimised Huffman tables,
// every scale and the corpus; damaged and cut files give what a reader
// without the index gives.
#include <imio/imio.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "catch.hpp"
#include "crop_box.hpp"
#include "jpeg_entropy_index.hpp"
#include "jpeg_test_images.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::NDArray;
using imio::Value;
using imio_test::Box;
using imio_test::box_text;
using imio_test::box_value;
using imio_test::cut;
using imio_test::jpeg;
using imio_test::same_pixels;
using imio_test::texture;

Bytes encode(const NDArray& img, imio::Kwargs kwargs) {
  return imio::imwrite("<bytes>", img, {.extension = ".jpg", .kwargs = std::move(kwargs)}).value();
}

// A header read by libjpeg itself (the files are valid: its default error
// handler never fires), as the plugin hands it to the index.
struct Header {
  jpeg_decompress_struct info{};
  jpeg_error_mgr err{};
  std::size_t scan_start = 0;
  explicit Header(const Bytes& file) {
    info.err = jpeg_std_error(&err);
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(file.data()), static_cast<unsigned long>(file.size()));
    jpeg_read_header(&info, TRUE);
    scan_start = static_cast<std::size_t>(info.src->next_input_byte - reinterpret_cast<const unsigned char*>(file.data()));
  }
  ~Header() { jpeg_destroy_decompress(&info); }
  Header(const Header&) = delete;
  Header& operator=(const Header&) = delete;
};

std::optional<imio::libjpeg::EntropyIndex> index_of(const Header& h, const Bytes& file) {
  return imio::libjpeg::EntropyIndex::create(h.info, file, h.scan_start);
}

struct Sample {
  std::string name;
  Bytes file;
};

// 301 × 650: partial MCUs on the right and at the bottom at every sampling,
// and rows wide enough that most boxes' bands are a part of them.
std::vector<Sample> samples() {
  const NDArray rgb = texture(301, 650, 3, 7);
  std::vector<Sample> out;
  for (const char* sub : {"4:4:4", "4:2:2", "4:2:0"}) {
    out.push_back({std::string("RGB ") + sub, encode(rgb, {{"subsampling", sub}, {"quality", 90}})});
  }
  out.push_back({"RGB 4:2:0 optimised tables", encode(rgb, {{"optimize", true}})});
  out.push_back({"gray", encode(texture(301, 650, 1, 8), {})});
  out.push_back({"CMYK", encode(texture(301, 650, 4, 9), {{"mode", "CMYK"}})});
  return out;
}

}  // namespace

TEST_CASE("libjpeg index: a box's stream is a smaller JPEG with the box's pixels, walked no further than the box",
          "[libjpeg][crop][index]") {
  const NDArray img = texture(1200, 1600, 3, 3);
  const Bytes file = encode(img, {{"quality", 90}});
  const NDArray whole = imio::imread(file, jpeg());
  const Header h(file);
  std::optional<imio::libjpeg::EntropyIndex> index = index_of(h, file);
  REQUIRE(index.has_value());
  CHECK(index->rows_walked() == 0);

  // 4:2:0: MCUs of 16 × 16; 75 MCU rows.
  const Box box{700, 300, 900, 420};
  const std::optional<imio::libjpeg::ColumnEntry> e = index->columns({box.left, box.top, box.right, box.bottom});
  REQUIRE(e.has_value());
  // The walk stops at the band's last row: two iMCU rows below the box.
  CHECK(index->rows_walked() == (420 - 1 + 32) / 16 + 1);
  // One MCU column and two iMCU rows of margin: columns 672–928 (whole
  // MCUs, not out to the entries every 8 MCUs around them), rows 256–464.
  CHECK(e->left == 672);
  CHECK(e->top == 256);
  CHECK(e->stream.size() < file.size() / 10);
  const NDArray band = imio::imread(Bytes(reinterpret_cast<const std::byte*>(e->stream.data()),
                                          reinterpret_cast<const std::byte*>(e->stream.data()) + e->stream.size()),
                                    jpeg());
  REQUIRE(band.shape()[0] == 464 - 256);
  REQUIRE(band.shape()[1] == 928 - 672);
  CHECK(same_pixels(cut(band, {box.left - e->left, box.top - e->top, box.right - e->left, box.bottom - e->top}),
                    cut(whole, box)));

  // A box higher up walks nothing more; one at the bottom-right walks to the end.
  REQUIRE(index->columns({0, 0, 10, 10}).has_value());
  CHECK(index->rows_walked() == 29);
  const std::optional<imio::libjpeg::ColumnEntry> corner = index->columns({1590, 1190, 1600, 1200});
  REQUIRE(corner.has_value());
  CHECK(index->rows_walked() == 75);
  const NDArray tail = imio::imread(Bytes(reinterpret_cast<const std::byte*>(corner->stream.data()),
                                          reinterpret_cast<const std::byte*>(corner->stream.data()) + corner->stream.size()),
                                    jpeg());
  CHECK(same_pixels(cut(tail, {1590 - corner->left, 1190 - corner->top, 1600 - corner->left, 1200 - corner->top}),
                    cut(whole, {1590, 1190, 1600, 1200})));
  // The whole image, or a band of most of the MCUs libjpeg would decode,
  // is no box for the index.
  CHECK_FALSE(index->columns({0, 0, 1600, 1200}).has_value());
  CHECK_FALSE(index->columns({100, 0, 1500, 20}).has_value());
}

TEST_CASE("libjpeg index: only baseline scans without restart markers are indexed", "[libjpeg][crop][index]") {
  const NDArray img = texture(64, 64, 3, 4);
  const Bytes baseline = encode(img, {});
  const Bytes progressive = encode(img, {{"progressive", true}});
  const Bytes restarts = encode(img, {{"restart_marker_blocks", 2}});
  CHECK(index_of(Header(baseline), baseline).has_value());
  CHECK_FALSE(index_of(Header(progressive), progressive).has_value());
  CHECK_FALSE(index_of(Header(restarts), restarts).has_value());
  // A DC table with a symbol above 15 (found by fuzz_jpeg_crops): libjpeg
  // rejects it only when decoding starts, the index at once; a crop on a
  // handle is then libjpeg's error.
  Bytes bad_table = baseline;
  std::size_t dht = 2;
  while (dht + 21 < bad_table.size() &&
         !(bad_table[dht] == std::byte{0xFF} && bad_table[dht + 1] == std::byte{0xC4} && bad_table[dht + 4] == std::byte{0x00})) {
    ++dht;
  }
  REQUIRE(dht + 21 < bad_table.size());
  bad_table[dht + 21] = std::byte{20};  // the first value after Tc/Th and the 16 counts
  CHECK_FALSE(index_of(Header(bad_table), bad_table).has_value());
  imio::ImageFile f = imio::imopen(bad_table, "r", {.plugin = "libjpeg"});
  for (int i = 0; i < 2; ++i) CHECK_THROWS_AS(f.read({.kwargs = {{"crop", Value{10, 10, 20, 20}}}}), imio::DecodeError);
}

TEST_CASE("libjpeg index: every crop of an open handle equals the same box of the whole decode",
          "[libjpeg][crop][index]") {
  for (const Sample& s : samples()) {
    const NDArray whole = imio::imread(s.file, jpeg());
    const std::size_t h = whole.shape()[0], w = whole.shape()[1];
    const std::vector<Box> list = imio_test::boxes(w, h, 11, 40);
    imio::ImageFile f = imio::imopen(s.file, "r", {.plugin = "libjpeg"});
    for (const Box& b : list) {
      INFO(s.name << " crop " << box_text(b));
      REQUIRE(same_pixels(f.read({.kwargs = {{"crop", box_value(b)}}}), cut(whole, b)));
    }
    for (const std::size_t n : {2, 4, 8}) {
      const Value scale = 1.0 / static_cast<double>(n);
      const NDArray scaled = imio::imread(s.file, jpeg({{"scale", scale}}));
      for (std::size_t i = 0; i < list.size(); i += 3) {
        const Box& b = list[i];
        INFO(s.name << " scale 1/" << n << " crop " << box_text(b));
        const Box covering{b.left / n, b.top / n, (b.right + n - 1) / n, (b.bottom + n - 1) / n};
        REQUIRE(same_pixels(f.read({.kwargs = {{"crop", box_value(b)}, {"scale", scale}}}), cut(scaled, covering)));
      }
    }
  }
}

TEST_CASE("libjpeg index: damaged and cut files crop as a reader without the index does", "[libjpeg][crop][index]") {
  const NDArray img = texture(480, 640, 3, 5);
  const Bytes good = encode(img, {{"quality", 90}});
  const Header header(good);
  // Garbage without 0xFF over 64 bytes in the middle of the scan, and the
  // file cut at 70 % of its scan.
  Bytes damaged = good;
  const std::size_t middle = header.scan_start + (good.size() - header.scan_start) / 2;
  for (std::size_t i = 0; i < 64; ++i) damaged[middle + i] = std::byte{static_cast<unsigned char>(0x35 + i)};
  const Bytes cut_file(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(header.scan_start + (good.size() - header.scan_start) * 7 / 10));
  const std::vector<Box> list{{10, 10, 100, 60}, {300, 200, 420, 300}, {500, 400, 640, 480}, {0, 0, 640, 40}, {600, 100, 640, 110}};
  for (const Bytes* file : std::vector<const Bytes*>{&damaged, &cut_file}) {
    INFO((file == &damaged ? "damaged" : "cut"));
    imio::ImageFile f = imio::imopen(*file, "r", {.plugin = "libjpeg"});
    for (int pass = 0; pass < 2; ++pass) {
      for (const Box& b : list) {
        INFO("crop " << box_text(b) << " pass " << pass);
        const imio::Kwargs kw{{"crop", box_value(b)}, {"strict", false}};
        // A new reader each time: libjpeg's own path, the reference.
        std::optional<NDArray> want;
        std::string want_error;
        try {
          want = imio::imread(*file, jpeg(kw));
        } catch (const imio::Error& e) {
          want_error = e.what();
        }
        if (want) {
          CHECK(same_pixels(f.read({.kwargs = kw}), *want));
        } else {
          CHECK_THROWS_AS(f.read({.kwargs = kw}), imio::Error);
        }
        // Strict: a box that decodes without complaint from a new reader
        // does so on the handle, else both are errors.
        const imio::Kwargs strict{{"crop", box_value(b)}};
        bool fresh_ok = true;
        try {
          (void)imio::imread(*file, jpeg(strict));
        } catch (const imio::DecodeError&) {
          fresh_ok = false;
        }
        if (fresh_ok) {
          CHECK_NOTHROW(f.read({.kwargs = strict}));
        } else {
          CHECK_THROWS_AS(f.read({.kwargs = strict}), imio::DecodeError);
        }
      }
    }
  }
}

TEST_CASE("libjpeg index: crops of every decodable corpus JPEG on one handle equal its whole decode",
          "[libjpeg][crop][index][corpus]") {
  const fs::path root = imio_test::corpus_dir();
  if (root.empty() || !fs::exists(root / "jpeg")) {
    WARN("corpus folder absent: test skipped");
    return;
  }
  std::size_t compared = 0;
  for (const fs::path& dir : {root / "jpeg", root / "standard"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const Bytes data = imio_test::read_file(e.path());
      if (data.size() < 3 || data[0] != std::byte{0xFF} || data[1] != std::byte{0xD8} || data[2] != std::byte{0xFF}) continue;
      NDArray whole;
      try {
        const imio::ImageProperties props = imio::improps(data, jpeg());
        if (props.shape[0] * props.shape[1] > 4'000'000) continue;  // the large photos add time, not cases
        whole = imio::imread(data, jpeg());
      } catch (const imio::Error&) {
        continue;  // 12-bit, lossless, damaged: test_libjpeg covers them
      }
      const std::size_t h = whole.shape()[0], w = whole.shape()[1];
      imio::ImageFile f = imio::imopen(data, "r", {.plugin = "libjpeg"});
      // The first crop takes libjpeg's path; the others the index, walked
      // in steps (middle, bottom-right, then boxes above).
      const std::vector<Box> list{{w / 3, h / 3, w / 2 + 1, h / 2 + 1}, {w / 2, h / 2, w, h}, {w - 1, h - 1, w, h},
                                  {0, 0, w, 1}, {w / 5, h / 8, w / 5 + 1, h * 7 / 8 + 1}, {0, h / 4, w, std::min(h, h / 4 + 17)}};
      for (const Box& b : list) {
        INFO(e.path().string() << " crop " << box_text(b));
        CHECK(same_pixels(f.read({.kwargs = {{"crop", box_value(b)}}}), cut(whole, b)));
      }
      ++compared;
    }
  }
  CHECK(compared > 50);
}
