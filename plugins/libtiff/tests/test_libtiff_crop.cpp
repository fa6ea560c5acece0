// The libtiff plugin's `crop`: a region of every page, equal to tifffile's
// whole read sliced, on striped and tiled files, compressed or not, one or
// several samples (contiguous and planar), several pages; only the strips
// and tiles the region touches are read (counted through a stream) and
// decoded (a damaged tile elsewhere does not matter).
#include <imio/imio.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <istream>
#include <random>
#include <streambuf>
#include <string>
#include <vector>

#include "catch.hpp"
#include "crop_box.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"
#include "tiff_test_util.hpp"

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
using imio_test::box_text;
using imio_test::contains;
using imio_test::cut;
using imio_test::message_of;

imio::ReadOptions tiff(imio::Kwargs kwargs = {}, imio::Index index = {}) {
  return {.index = index, .plugin = "libtiff", .kwargs = std::move(kwargs)};
}

// A seekable stream over memory that counts the bytes it delivers.
class CountingBuffer final : public std::streambuf {
 public:
  explicit CountingBuffer(const Bytes& data) : data_(reinterpret_cast<const char*>(data.data())), size_(data.size()) {}
  std::size_t delivered = 0;

 protected:
  int_type underflow() override { return pos_ < size_ ? traits_type::to_int_type(data_[pos_]) : traits_type::eof(); }
  int_type uflow() override {
    if (pos_ >= size_) return traits_type::eof();
    ++delivered;
    return traits_type::to_int_type(data_[pos_++]);
  }
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const std::size_t k = std::min(static_cast<std::size_t>(n), size_ - std::min(pos_, size_));
    if (k > 0) std::memcpy(s, data_ + pos_, k);
    pos_ += k;
    delivered += k;
    return static_cast<std::streamsize>(k);
  }
  std::streamsize showmanyc() override { return static_cast<std::streamsize>(size_ - std::min(pos_, size_)); }
  pos_type seekoff(off_type off, std::ios::seekdir dir, std::ios::openmode) override {
    const off_type base = dir == std::ios::beg ? 0 : dir == std::ios::cur ? static_cast<off_type>(pos_) : static_cast<off_type>(size_);
    if (base + off < 0) return pos_type(off_type(-1));
    pos_ = static_cast<std::size_t>(base + off);
    return pos_type(static_cast<off_type>(pos_));
  }
  pos_type seekpos(pos_type p, std::ios::openmode m) override { return seekoff(off_type(p), std::ios::beg, m); }

 private:
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace

TEST_CASE("libtiff: a crop equals tifffile's whole read sliced, striped and tiled, compressed or not", "[libtiff][crop]") {
  REQUIRE_TIFFFILE();
  imio_test::TempDir dir;
  std::string log;
  // Written and read by tifffile: imio neither writes nor judges the data.
  const int rc = imio_test::run_python(dir, R"(
import sys, os, numpy, tifffile
d = sys.argv[1]
rng = numpy.random.default_rng(5)
def save(name, a, **kw):
    tifffile.imwrite(os.path.join(d, name + '.tif'), a, **kw)
    numpy.save(os.path.join(d, name + '.npy'), tifffile.imread(os.path.join(d, name + '.tif')))
u8 = lambda *s: rng.integers(0, 256, s, dtype='uint8')
u16 = lambda *s: rng.integers(0, 65536, s, dtype='uint16')
save('strips_raw_gray16', u16(61, 83), rowsperstrip=5)
save('strips_raw_gray16_be', u16(61, 83), rowsperstrip=4, byteorder='>')
save('strips_zlib_rgb', u8(61, 83, 3), rowsperstrip=7, compression='zlib', photometric='rgb')
save('strips_raw_planar', u8(3, 40, 50), rowsperstrip=6, photometric='rgb', planarconfig='separate')
save('strips_zlib_stack', rng.random((5, 33, 45)).astype('float32'), rowsperstrip=8, compression='zlib')
save('tiles_raw_rgb', u8(70, 90, 3), tile=(16, 32), photometric='rgb')
save('tiles_zlib_gray16', u16(70, 90), tile=(16, 16), compression='zlib')
save('tiles_zlib_planar', u16(3, 70, 90), tile=(32, 16), compression='zlib', photometric='rgb', planarconfig='separate')
save('tiles_raw_stack_rgba', u8(3, 50, 60, 4), tile=(16, 16), photometric='rgb', extrasamples=[2])
save('tiles_raw_bool', rng.integers(0, 2, (45, 70)).astype(bool), tile=(16, 32))
save('strips_raw_bool', rng.integers(0, 2, (45, 70)).astype(bool), rowsperstrip=4)
)", log);
  INFO(log);
  REQUIRE(rc == 0);
  struct File {
    const char* name;
    std::size_t y_axis;  // where the rows are in tifffile's array
  };
  const File files[] = {{"strips_raw_gray16", 0}, {"strips_raw_gray16_be", 0}, {"strips_zlib_rgb", 0},
                        {"strips_raw_planar", 1}, {"strips_zlib_stack", 1},    {"tiles_raw_rgb", 0},
                        {"tiles_zlib_gray16", 0}, {"tiles_zlib_planar", 1},    {"tiles_raw_stack_rgba", 1},
                        {"tiles_raw_bool", 0}, {"strips_raw_bool", 0}};
  for (const File& f : files) {
    const fs::path path = dir / (std::string(f.name) + ".tif");
    const NDArray whole = imio::imread(dir / (std::string(f.name) + ".npy"));
    REQUIRE(imio::imread(path, tiff()) == whole);
    const std::size_t h = whole.shape()[f.y_axis], w = whole.shape()[f.y_axis + 1];
    for (const Box& b : boxes(w, h, 3, 12)) {
      INFO(f.name << " crop " << box_text(b));
      const imio::Kwargs kw{{"crop", box_value(b)}};
      const NDArray got = imio::imread(path, tiff(kw));
      REQUIRE(got == cut(whole, b, f.y_axis));
      CHECK(imio::improps(path, tiff(kw)).shape == got.shape());
      // One thread and several give the same pixels.
      CHECK(imio::imread(path, tiff({{"crop", box_value(b)}, {"maxworkers", 1}})) == got);
    }
  }
  // A page of a stack, and every page stacked with index=all and page=all.
  const fs::path stack = dir / "strips_zlib_stack.tif";
  const NDArray pages = imio::imread(dir / "strips_zlib_stack.npy");
  const Box b{4, 9, 30, 20};
  const NDArray page2 = imio::imread(stack, tiff({{"page", 2}}));
  CHECK(imio::imread(stack, tiff({{"page", 2}, {"crop", box_value(b)}})) == cut(page2, b, 0));
  CHECK(imio::imread(stack, tiff({{"page", imio::all}, {"crop", box_value(b)}}, imio::all)) == cut(pages, b, 1));
}

TEST_CASE("libtiff: a crop reads only the tiles and strips it touches", "[libtiff][crop]") {
  imio_test::TempDir dir;
  const NDArray a = imio_test::sample({512, 512}, DType::uint16);
  for (const char* layout : {"tiles", "strips"}) {
    for (const char* compression : {"none", "zlib"}) {
      INFO(layout << " " << compression);
      imio::Kwargs kw{{"compression", compression}};
      if (std::string(layout) == "tiles") {
        kw.emplace_back("tile", Value::List{64, 64});
      } else {
        kw.emplace_back("rowsperstrip", 16);
      }
      const Bytes file = imio::imwrite("<bytes>", a, {.extension = ".tif", .kwargs = kw}).value();
      CountingBuffer whole_buf(file);
      std::istream whole_in(&whole_buf);
      CHECK(imio::imread(whole_in, tiff()) == a);
      // 1/16 of the image, not aligned to the blocks: 3 × 3 tiles of 64 (9/64
      // of them) or 9 strips of 16 rows (9/32 of the rows).
      const Box b{200, 100, 328, 228};
      CountingBuffer part_buf(file);
      std::istream part_in(&part_buf);
      CHECK(imio::imread(part_in, tiff({{"crop", box_value(b)}})) == cut(a, b, 0));
      INFO("whole read: " << whole_buf.delivered << " bytes, crop: " << part_buf.delivered << " bytes of " << file.size());
      CHECK(whole_buf.delivered >= file.size() * 9 / 10);
      const std::size_t limit = std::string(layout) == "tiles" ? file.size() * 12 / 64 : file.size() * 12 / 32;
      CHECK(part_buf.delivered < limit);
    }
  }
}

TEST_CASE("libtiff: a damaged tile outside the crop does not matter", "[libtiff][crop]") {
  const NDArray a = imio_test::sample({128, 128, 3}, DType::uint8);
  Bytes file = imio::imwrite("<bytes>", a, {.extension = ".tif", .kwargs = {{"compression", "zlib"}, {"tile", Value::List{32, 32}}}}).value();
  // The tile data follow the header; find the last tile's bytes through tifffile's
  // view of the file: simpler, damage the deflate stream of the last tile, whose
  // offset is the largest TileOffsets entry (imio writes tiles in order).
  imio::Metadata meta = imio::immeta(file, {.index = 0, .plugin = "libtiff", .kwargs = {{"page", 0}}});
  std::vector<std::int64_t> offsets, counts;
  for (const Value& v : meta.get<Value::List>("TileOffsets")) offsets.push_back(v.get<std::int64_t>());
  for (const Value& v : meta.get<Value::List>("TileByteCounts")) counts.push_back(v.get<std::int64_t>());
  REQUIRE(offsets.size() == 16);
  const auto last = static_cast<std::size_t>(offsets.back());
  for (std::size_t i = 0; i < static_cast<std::size_t>(counts.back()); ++i) file[last + i] = std::byte{0xA5};
  CHECK_THROWS_AS(imio::imread(file, tiff()), imio::DecodeError);  // tile 15: rows 96…127, columns 96…127
  const Box b{0, 0, 96, 128};
  CHECK(imio::imread(file, tiff({{"crop", box_value(b)}})) == cut(a, b, 0));
  CHECK_THROWS_AS(imio::imread(file, tiff({{"crop", Value{95, 95, 97, 97}}})), imio::DecodeError);
}

TEST_CASE("libtiff: a box outside the page, empty, negative or not four integers is an ArgumentError", "[libtiff][crop]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "region-check.tif";
  imio::imwrite(path, imio_test::sample({40, 60}, DType::uint8));
  const std::vector<Value> bad{Value{0, 0, 61, 10}, Value{0, 0, 10, 41}, Value{10, 10, 10, 20}, Value{30, 0, 20, 10},
                               Value{-1, 0, 10, 10}, Value{0, 0, 10},    Value{0, 0, 1.5, 10},  Value{"0", 0, 10, 10},
                               Value("0,0,10,10")};
  for (const Value& v : bad) {
    INFO("crop=" << v.repr());
    for (const bool props : {false, true}) {
      const std::string message = message_of<imio::ArgumentError>([&] {
        if (props) {
          imio::improps(path, tiff({{"crop", v}}));
        } else {
          imio::imread(path, tiff({{"crop", v}}));
        }
      });
      CHECK(contains(message, "libtiff"));
      CHECK(contains(message, "region-check.tif"));
      CHECK(contains(message, "crop"));
    }
  }
  CHECK(imio::imread(path, tiff({{"crop", Value()}})).shape() == Shape{40, 60});
}

TEST_CASE("libtiff: imread_into takes the cropped shape", "[libtiff][crop]") {
  const NDArray a = imio_test::sample({3, 70, 90}, DType::uint16);
  const Bytes file = imio::imwrite("<bytes>", a, {.extension = ".tif", .kwargs = {{"tile", Value::List{16, 16}}, {"compression", "zlib"}}}).value();
  const Box b{10, 20, 75, 51};
  const imio::Kwargs kw{{"crop", box_value(b)}};
  const imio::ImageProperties props = imio::improps(file, tiff(kw));
  REQUIRE(props.shape == Shape{3, 31, 65});
  NDArray out(props.shape, props.dtype);
  const std::byte* before = out.bytes();
  imio::imread_into(file, out, tiff(kw));
  CHECK(out.bytes() == before);
  CHECK(out == cut(a, b, 1));
}
