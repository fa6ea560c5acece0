// Crops through a reader's entropy index (jpeg_entropy_index.hpp, compiled
// in with the Huffman walker): the index alone makes a valid, much smaller
// JPEG whose pixels inside the box equal the whole decode's, walking the
// scan no further than the box; and through the plugin, every crop of an
// imopen handle after its first equals the same box of the whole decode for
// gray, 4:4:4, 4:2:2, 4:2:0, CMYK, partial MCUs, optimised Huffman tables,
// every scale and the corpus; damaged and cut files give what a reader
// without the index gives; a walk split among threads notes what one
// thread notes; a band that cannot be cut (a DC difference without a code)
// is read without the index.
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
using imio::PixelBox;
using imio::libjpeg::HuffmanTable;
using imio::libjpeg::ScanReader;
using imio::libjpeg::StuffedWriter;
using imio::libjpeg::UnstuffedScan;
using imio::libjpeg::WalkThreads;

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

// A band's stream decoded whole by the plugin.
NDArray decode_stream(const imio::libjpeg::ColumnEntry& band) {
  const auto* first = reinterpret_cast<const std::byte*>(band.stream.data());
  return imio::imread(Bytes(first, first + band.stream.size()), jpeg());
}

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
  // Quality 100: long codes, large extra bits, and blocks whose last
  // coefficient is the 63rd (no EOB), so that a two-code step meets a
  // block's end after its first code. Quality 5: runs, ZRL, early EOBs.
  out.push_back({"RGB 4:4:4 quality 100", encode(rgb, {{"subsampling", "4:4:4"}, {"quality", 100}})});
  out.push_back({"RGB 4:2:0 quality 5", encode(rgb, {{"quality", 5}})});
  out.push_back({"gray", encode(texture(301, 650, 1, 8), {})});
  out.push_back({"CMYK", encode(texture(301, 650, 4, 9), {{"mode", "CMYK"}})});
  return out;
}

// Box `b` of `file` with `workers` threads equals that box of its whole
// decode: as a single crop, and twice on a handle (its second crop goes
// through the entropy index).
void check_crops(const Bytes& file, const NDArray& whole, const Box& b, int workers) {
  INFO(workers << " workers, crop " << box_text(b));
  const imio::Kwargs kw{{"crop", box_value(b)}, {"maxworkers", workers}};
  CHECK(same_pixels(imio::imread(file, jpeg(kw)), cut(whole, b)));
  imio::ImageFile f = imio::imopen(file, "r", {.plugin = "libjpeg"});
  CHECK(same_pixels(f.read({.kwargs = kw}), cut(whole, b)));
  CHECK(same_pixels(f.read({.kwargs = kw}), cut(whole, b)));
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
  const NDArray band = decode_stream(*e);
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
  const NDArray tail = decode_stream(*corner);
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
  std::size_t indexed = 0;
  for (const Sample& s : samples()) {
    // The plugin indexes scans of 16 KiB and more (the quality 5 sample's
    // walk is checked against pixels by the split-walk test instead).
    if (s.file.size() < 16 * 1024) continue;
    ++indexed;
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
  CHECK(indexed >= 7);
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
      // The first crop takes the index (its top is a third down the image),
      // the others walk on in steps (bottom-right, then boxes above).
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

TEST_CASE("libjpeg index: the scan's data without stuffed zeros, read past their end", "[libjpeg][crop][index]") {
  // SOI, then data 12 FF(00) 34, then EOI: 24 bits of data.
  const unsigned char raw[] = {0xFF, 0xD8, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9};
  const Bytes file(reinterpret_cast<const std::byte*>(raw), reinterpret_cast<const std::byte*>(raw) + sizeof raw);
  const UnstuffedScan scan(file, 2);
  CHECK(scan.bits() == 24);
  ScanReader r(scan, 0);
  r.ensure(24);
  CHECK(r.take(24) == 0x12FF34u);
  CHECK(r.position() == 24);
  CHECK_FALSE(r.overrun());
  r.ensure(1);
  CHECK(r.take(1) == 0u);  // the padding reads 0
  CHECK(r.overrun());
  ScanReader from_bit(scan, 4);
  from_bit.ensure(12);
  CHECK(from_bit.take(12) == 0x2FFu);
  CHECK(from_bit.position() == 16);
  // Cut after a 0xFF: the data end before it; no data at all: 0 bits.
  const Bytes cut_ff(file.begin(), file.begin() + 4);
  CHECK(UnstuffedScan(cut_ff, 2).bits() == 8);
  CHECK(UnstuffedScan(file, file.size()).bits() == 0);
}

TEST_CASE("libjpeg index: the scan's copy is a byte-by-byte unstuffing of the data", "[libjpeg][crop][index]") {
  // The copy is made sixteen bytes at a time: 0xFF bytes at every place in
  // and across those groups, dense (one byte in eight) and sparse, then
  // each way the data can end (T.81 §B.1.1.5: a marker, fill bytes before
  // one, a file cut after a 0xFF or inside the data).
  std::uint32_t seed = 99;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  // The oracle: every 0xFF 0x00 made one 0xFF, up to the first other 0xFF pair.
  const auto unstuff = [](const Bytes& file, std::size_t start, bool* eoi) {
    std::vector<unsigned char> out;
    *eoi = false;
    for (std::size_t i = start; i < file.size(); ++i) {
      const auto b = std::to_integer<unsigned char>(file[i]);
      if (b != 0xFF) {
        out.push_back(b);
        continue;
      }
      if (i + 1 < file.size() && std::to_integer<unsigned char>(file[i + 1]) == 0x00) {
        out.push_back(0xFF);
        ++i;
        continue;
      }
      *eoi = i + 1 < file.size() && std::to_integer<unsigned char>(file[i + 1]) == 0xD9;
      break;
    }
    return out;
  };
  const std::vector<std::vector<unsigned char>> endings{{0xFF, 0xD9}, {0xFF, 0xFF, 0xD9}, {0xFF, 0xC4, 0x00}, {0xFF}, {}};
  std::size_t checked = 0;
  for (const unsigned every : {8u, 250u}) {
    for (std::size_t length = 0; length < 90; ++length) {
      for (const std::vector<unsigned char>& ending : endings) {
        Bytes file{std::byte{0xFF}, std::byte{0xD8}};  // SOI; the data start at 2
        for (std::size_t i = 0; i < length; ++i) {
          const bool ff = next() % every == 0;
          file.push_back(std::byte{static_cast<unsigned char>(ff ? 0xFF : next() % 0xFF)});
          if (ff) file.push_back(std::byte{0x00});
        }
        for (const unsigned char b : ending) file.push_back(std::byte{b});
        INFO("one 0xFF in " << every << ", " << length << " data bytes, " << ending.size() << " bytes after");
        bool eoi = false;
        const std::vector<unsigned char> want = unstuff(file, 2, &eoi);
        const UnstuffedScan scan(file, 2);
        REQUIRE(scan.bits() == want.size() * 8);
        CHECK(scan.ends_at_eoi() == eoi);
        CHECK(std::vector<unsigned char>(scan.data(), scan.data() + want.size()) == want);
        CHECK(std::all_of(scan.data() + want.size(), scan.data() + want.size() + UnstuffedScan::kPadding,
                          [](unsigned char b) { return b == 0; }));
        ++checked;
      }
    }
  }
  CHECK(checked == 2 * 90 * 5);
}

TEST_CASE("libjpeg index: a copy of coded bits writes what they write one by one", "[libjpeg][crop][index]") {
  // StuffedWriter::copy takes 48 bits a step: copies from every bit of a
  // byte, after every number of bits pending, of lengths around the step,
  // over data dense in 0xFF bytes (each is stuffed when written).
  std::uint32_t seed = 7;
  const auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  Bytes file{std::byte{0xFF}, std::byte{0xD8}};
  for (int i = 0; i < 400; ++i) {
    const bool ff = next() % 3 == 0;
    file.push_back(std::byte{static_cast<unsigned char>(ff ? 0xFF : next() % 0xFF)});
    if (ff) file.push_back(std::byte{0x00});
  }
  const UnstuffedScan scan(file, 2);
  REQUIRE(scan.bits() == 400 * 8);
  std::size_t stuffed = 0;
  for (unsigned from = 0; from < 8; ++from) {
    for (unsigned pending = 0; pending < 8; ++pending) {
      for (const std::uint64_t n : {0u, 1u, 31u, 47u, 48u, 49u, 96u, 100u, 1000u, 3000u}) {
        INFO("from bit " << from << ", " << pending << " bits pending, " << n << " bits");
        std::vector<unsigned char> copied, one_by_one;
        StuffedWriter a(copied), b(one_by_one);
        a.put(0x55, pending);
        b.put(0x55, pending);
        ScanReader ra(scan, from), rb(scan, from);
        a.copy(ra, n);
        for (std::uint64_t i = 0; i < n; ++i) {
          rb.ensure(1);
          b.put(rb.take(1), 1);
        }
        CHECK(ra.position() == rb.position());
        a.end_segment(0xD9);
        b.end_segment(0xD9);
        CHECK(copied == one_by_one);
        stuffed += static_cast<std::size_t>(std::count(copied.begin(), copied.end(), 0xFF));
      }
    }
  }
  CHECK(stuffed > 1000);  // the 0xFF bytes were there to stuff
}

TEST_CASE("libjpeg index: a thread's next scan copy reuses the memory of its last one", "[libjpeg][crop][index]") {
  const Bytes large = encode(texture(640, 480, 3, 11), {{"quality", 95}});
  const Bytes small = encode(texture(64, 48, 3, 12), {});
  const Header lh(large), sh(small);
  const unsigned char* released = nullptr;
  {
    const UnstuffedScan first(large, lh.scan_start);
    released = first.data();
  }
  {
    const UnstuffedScan again(small, sh.scan_start);  // fits: the same memory
    CHECK(again.data() == released);
    const UnstuffedScan meanwhile(small, sh.scan_start);  // the spare is taken: memory of its own
    CHECK(meanwhile.data() != released);
  }
  // Each copy holds what a fresh one holds (nothing stale from the last).
  const UnstuffedScan reused(small, sh.scan_start);
  const std::vector<unsigned char> bytes(reused.data(), reused.data() + reused.bits() / 8 + UnstuffedScan::kPadding);
  std::vector<unsigned char> fresh_bytes;
  {
    const UnstuffedScan hold(large, lh.scan_start);  // takes the large spare, so the next copy is fresh
    const UnstuffedScan fresh(small, sh.scan_start);
    CHECK(fresh.bits() == reused.bits());
    fresh_bytes.assign(fresh.data(), fresh.data() + fresh.bits() / 8 + UnstuffedScan::kPadding);
  }
  CHECK(bytes == fresh_bytes);
}

TEST_CASE("libjpeg index: each AC step is what decoding code by code takes", "[libjpeg][crop][index]") {
  // The oracle: ScanReader::decode (canonical codes, T.81 §C.2, and the
  // long-code search) reading every 12-bit window followed by random bits.
  std::uint32_t seed = 12345;
  const auto random_bits = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed;
  };
  std::size_t pairs = 0, singles = 0, long_codes = 0;
  for (const Sample& s : samples()) {
    const Header h(s.file);
    for (int i = 0; i < h.info.comps_in_scan; ++i) {
      const JHUFF_TBL* table = h.info.ac_huff_tbl_ptrs[h.info.cur_comp_info[i]->ac_tbl_no];
      REQUIRE(table != nullptr);
      HuffmanTable ac;
      REQUIRE(ac.build(*table));
      ac.build_ac_steps();
      for (unsigned window = 0; window < (1u << HuffmanTable::kLookahead); ++window) {
        INFO(s.name << ", component " << i << ", window " << window);
        std::vector<unsigned char> bytes;
        StuffedWriter out(bytes);
        out.put(window, HuffmanTable::kLookahead);
        out.put(random_bits(), 32);
        out.put(random_bits(), 32);
        out.end_segment(0xD9);
        const Bytes data(reinterpret_cast<const std::byte*>(bytes.data()),
                         reinterpret_cast<const std::byte*>(bytes.data()) + bytes.size());
        const UnstuffedScan scan(data, 0);
        ScanReader reader(scan, 0);
        const auto code = [&reader, &ac](unsigned& advance) {
          const int rs = reader.decode(ac);
          if (rs < 0) return false;
          const auto size = static_cast<unsigned>(rs & 15), run = static_cast<unsigned>(rs >> 4);
          reader.ensure(size);
          reader.skip(size);
          advance = size != 0 ? run + 1 : run == 15 ? 16 : 64;
          return true;
        };
        const HuffmanTable::AcStep step = ac.ac_steps[window];
        unsigned first_advance = 0;
        const bool known = code(first_advance);
        const std::uint64_t first_bits = reader.position();
        if (step.bits == 0) {  // a code the window does not hold whole (or none)
          ++long_codes;
          CHECK(ac.fast[window].length == 0);
          CHECK((!known || first_bits > HuffmanTable::kLookahead));
          continue;
        }
        REQUIRE(known);
        unsigned second_advance = 0;
        const bool second = code(second_advance);
        const std::uint64_t both_bits = reader.position();
        if (step.first_advance == 0) {
          ++singles;
          CHECK(step.bits == first_bits);
          CHECK(step.advance == first_advance);
          // No second code in the window: the first ends the block, fills
          // the window, or the second (with its extra bits) reaches past it.
          CHECK((first_advance == 64 || !second || both_bits > HuffmanTable::kLookahead));
        } else {
          ++pairs;
          REQUIRE(second);
          CHECK(step.first_bits == first_bits);
          CHECK(step.first_advance == first_advance);
          CHECK(first_advance < 64);
          CHECK(step.bits == both_bits);
          CHECK(both_bits <= HuffmanTable::kLookahead);
          CHECK(step.advance == first_advance + second_advance);
        }
      }
    }
  }
  CHECK(pairs > 10000);
  CHECK(singles > 1000);
  CHECK(long_codes > 10);
}

TEST_CASE("libjpeg index: a walk split among threads notes what one thread notes", "[libjpeg][crop][index]") {
  std::vector<Sample> list = samples();
  list.push_back({"RGB 4:2:0 1200x1600", encode(texture(1200, 1600, 3, 9), {{"quality", 95}})});
  std::uint64_t from_parts = 0;
  for (const Sample& s : list) {
    const Header h(s.file);
    const NDArray whole = imio::imread(s.file, jpeg());
    const std::size_t width = h.info.image_width, height = h.info.image_height;
    const std::vector<Box> boxes = imio_test::boxes(width, height, 13, 12);
    for (const unsigned workers : {2u, 3u, 8u}) {
      INFO(s.name << ", " << workers << " threads");
      std::optional<imio::libjpeg::EntropyIndex> one = index_of(h, s.file);
      std::optional<imio::libjpeg::EntropyIndex> many = index_of(h, s.file);
      REQUIRE(one.has_value());
      REQUIRE(many.has_value());
      // Parts of 256 bits: every walk of more than 512 bits is split.
      const WalkThreads split{.workers = workers, .part_bits = 256};
      // A box at the bottom-right first (the whole scan in parts), then the
      // others (walked no further, or on from the last box).
      std::vector<Box> order{{width - 1, height - 1, width, height}};
      order.insert(order.end(), boxes.begin(), boxes.end());
      for (std::size_t i = 0; i < order.size(); ++i) {
        const Box& b = order[i];
        INFO("crop " << box_text(b));
        if (i == 1) {  // a fresh pair for the other boxes: walks that start anywhere
          one = index_of(h, s.file);
          many = index_of(h, s.file);
        }
        const PixelBox box{b.left, b.top, b.right, b.bottom};
        const std::optional<imio::libjpeg::ColumnEntry> want = one->columns(box);
        const std::optional<imio::libjpeg::ColumnEntry> got = many->columns(box, split);
        REQUIRE(want.has_value() == got.has_value());
        if (!want) continue;
        if (workers == 2) {  // the one-thread walk's stream against libjpeg's whole decode
          const NDArray band = decode_stream(*want);
          CHECK(same_pixels(cut(band, {b.left - want->left, b.top - want->top, b.right - want->left, b.bottom - want->top}),
                            cut(whole, b)));
        }
        CHECK(got->left == want->left);
        CHECK(got->top == want->top);
        CHECK(got->stream == want->stream);
      }
      from_parts += many->mcus_from_chunks();
    }
  }
  // The parts fell in step and were taken (not walked again by this thread).
  CHECK(from_parts > 10000);
}

TEST_CASE("libjpeg index: split walks of damaged and cut scans stop where one thread stops", "[libjpeg][crop][index]") {
  const NDArray img = texture(480, 640, 3, 5);
  const Bytes good = encode(img, {{"quality", 90}});
  const Header header(good);
  const std::size_t data = good.size() - header.scan_start;
  Bytes damaged = good;  // garbage without 0xFF over 64 bytes at 60 % of the scan
  for (std::size_t i = 0; i < 64; ++i) damaged[header.scan_start + data * 6 / 10 + i] = std::byte{static_cast<unsigned char>(0x35 + i)};
  Bytes marker = good;  // a marker inside the data at 40 %
  marker[header.scan_start + data * 4 / 10] = std::byte{0xFF};
  marker[header.scan_start + data * 4 / 10 + 1] = std::byte{0xC4};
  const Bytes cut_file(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(header.scan_start + data * 7 / 10));
  const std::vector<Box> list{{500, 400, 640, 480}, {10, 10, 100, 60}, {300, 200, 420, 300}, {600, 100, 640, 110}};
  for (const Bytes* file : std::vector<const Bytes*>{&damaged, &marker, &cut_file}) {
    const Header h(*file);
    for (const Box& b : list) {
      INFO((file == &damaged ? "damaged" : file == &marker ? "marker" : "cut") << " crop " << box_text(b));
      std::optional<imio::libjpeg::EntropyIndex> one = index_of(h, *file);
      std::optional<imio::libjpeg::EntropyIndex> many = index_of(h, *file);
      REQUIRE(one.has_value());
      REQUIRE(many.has_value());
      const PixelBox box{b.left, b.top, b.right, b.bottom};
      const std::optional<imio::libjpeg::ColumnEntry> want = one->columns(box);
      const std::optional<imio::libjpeg::ColumnEntry> got = many->columns(box, {.workers = 2, .part_bits = 256});
      REQUIRE(want.has_value() == got.has_value());
      if (want) CHECK(got->stream == want->stream);
      CHECK(many->rows_walked() >= one->rows_walked());
    }
  }
}

TEST_CASE("libjpeg: maxworkers splits a crop's walk and changes no pixel", "[libjpeg][crop][index]") {
  // 1600 × 2000 of noise at q95: about 3 MB of data, parts of 128 KiB and more.
  const NDArray img = texture(1600, 2000, 3, 11);
  const Bytes file = encode(img, {{"quality", 95}});
  const NDArray whole = imio::imread(file, jpeg());
  const std::vector<Box> list{{1700, 1400, 2000, 1600}, {800, 700, 1100, 900}, {0, 1000, 300, 1200}};
  for (const int workers : {0, 1, 3}) {  // 0: one per core
    for (const Box& b : list) check_crops(file, whole, b, workers);
  }
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"crop", Value{0, 0, 8, 8}}, {"maxworkers", -1}})), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(file, jpeg({{"maxworkers", "two"}})), imio::ArgumentError);
}

TEST_CASE("libjpeg index: a band no row of which can start with a coded DC difference is read from the file's start",
          "[libjpeg][crop][index]") {
  // Gray columns of levels 0, 1, …, 255 (one level per 8 × 8 block, 2048
  // pixels wide), the same in every row, at quality 100 (DC quantiser 1)
  // with optimised tables: the scan's DC differences are 8 inside a row
  // (category 4) and -2040 at a row's start (category 11), and the DC table
  // codes no other category (T.81 §K.2). A band's row then starts with a
  // difference of 8 × (its first column - the band's last), categories 5-10
  // for the boxes below from every column the cut may start at: no band can
  // be cut, and each half of a large crop is left to libjpeg reading the
  // file from its start (JpegReader::decode_band), a small crop on a handle
  // to libjpeg's own crop.
  NDArray img({2048, 2048}, imio::DType::uint8);
  auto* p = img.data<std::uint8_t>();
  for (std::size_t y = 0; y < 2048; ++y)
    for (std::size_t x = 0; x < 2048; ++x) p[y * 2048 + x] = static_cast<std::uint8_t>(x / 8);
  const Bytes file = encode(img, {{"quality", 100}, {"optimize", true}});
  // Uniform blocks with a DC quantiser of 1 decode exactly: the reference
  // for the crops is the image itself as much as libjpeg's whole decode.
  const NDArray whole = imio::imread(file, jpeg());
  REQUIRE(same_pixels(whole, img));

  // The box is split at its middle row into halves (kSplitBandPixels: its
  // 744 × 748 pixels are enough); neither half's band can be cut, nor the
  // small box's.
  const Box box{256, 1300, 1000, 2048};
  const Box small{300, 1800, 400, 1900};
  const std::uint64_t middle = box.top + (box.bottom - box.top) / 2;
  const Header h(file);
  std::optional<imio::libjpeg::EntropyIndex> index = index_of(h, file);
  REQUIRE(index.has_value());
  for (const PixelBox half : {PixelBox{box.left, middle, box.right, box.bottom},
                              PixelBox{box.left, box.top, box.right, middle}}) {
    const std::optional<imio::libjpeg::EntropyIndex::Band> band = index->band(half);
    REQUIRE(band.has_value());
    CHECK_FALSE(index->cut(*band).has_value());
  }
  CHECK_FALSE(index->columns({small.left, small.top, small.right, small.bottom}).has_value());

  for (const Box& b : {box, small}) {
    for (const int workers : {1, 2}) check_crops(file, whole, b, workers);
  }
}
