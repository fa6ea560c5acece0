// The core's EXIF reader and orientation transforms.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "test_paths.hpp"

namespace {

// Builds a TIFF-structured EXIF block with one IFD0 in either byte order.
class ExifBuilder {
 public:
  explicit ExifBuilder(bool little) : little_(little) {}
  ExifBuilder& ascii(std::uint16_t tag, const std::string& s) {
    std::vector<std::uint8_t> d(s.begin(), s.end());
    d.push_back(0);
    return add(tag, 2, static_cast<std::uint32_t>(d.size()), d);
  }
  ExifBuilder& shorts(std::uint16_t tag, std::vector<std::uint16_t> v) {
    std::vector<std::uint8_t> d;
    for (auto x : v) put(d, x, 2);
    return add(tag, 3, static_cast<std::uint32_t>(v.size()), d);
  }
  ExifBuilder& longs(std::uint16_t tag, std::uint32_t v) {
    std::vector<std::uint8_t> d;
    put(d, v, 4);
    return add(tag, 4, 1, d);
  }
  ExifBuilder& rational(std::uint16_t tag, std::uint32_t num, std::uint32_t den) {
    std::vector<std::uint8_t> d;
    put(d, num, 4);
    put(d, den, 4);
    return add(tag, 5, 1, d);
  }
  ExifBuilder& undefined(std::uint16_t tag, std::vector<std::uint8_t> d) {
    const auto n = static_cast<std::uint32_t>(d.size());
    return add(tag, 7, n, std::move(d));
  }
  // An entry with arbitrary type, count and value field (for hostile input).
  ExifBuilder& raw(std::uint16_t tag, std::uint16_t type, std::uint32_t count, std::uint32_t value) {
    entries_.push_back({tag, type, count, {}, value, true});
    return *this;
  }
  imio::Bytes build(bool with_prefix = false) const {
    std::vector<std::uint8_t> out;
    if (with_prefix) out = {'E', 'x', 'i', 'f', 0, 0};
    out.push_back(little_ ? 'I' : 'M');
    out.push_back(little_ ? 'I' : 'M');
    put(out, 42, 2);
    put(out, 8, 4);
    put(out, static_cast<std::uint32_t>(entries_.size()), 2);
    std::size_t data_at = 8 + 2 + 12 * entries_.size() + 4;
    std::vector<std::uint8_t> data;
    for (const auto& e : entries_) {
      put(out, e.tag, 2);
      put(out, e.type, 2);
      put(out, e.count, 4);
      if (e.raw) {
        put(out, e.value, 4);
      } else if (e.data.size() <= 4) {
        auto d = e.data;
        d.resize(4, 0);
        out.insert(out.end(), d.begin(), d.end());
      } else {
        put(out, static_cast<std::uint32_t>(data_at + data.size()), 4);
        data.insert(data.end(), e.data.begin(), e.data.end());
      }
    }
    put(out, 0, 4);
    out.insert(out.end(), data.begin(), data.end());
    imio::Bytes b(out.size());
    std::memcpy(b.data(), out.data(), out.size());
    return b;
  }

 private:
  struct Entry {
    std::uint16_t tag, type;
    std::uint32_t count;
    std::vector<std::uint8_t> data;
    std::uint32_t value;
    bool raw;
  };
  ExifBuilder& add(std::uint16_t tag, std::uint16_t type, std::uint32_t count, std::vector<std::uint8_t> d) {
    entries_.push_back({tag, type, count, std::move(d), 0, false});
    return *this;
  }
  void put(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) const {
    for (int i = 0; i < bytes; ++i) {
      const int shift = 8 * (little_ ? i : bytes - 1 - i);
      out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFF));
    }
  }
  bool little_;
  std::vector<Entry> entries_;
};

ExifBuilder camera_exif(bool little) {
  ExifBuilder b(little);
  b.ascii(0x010F, "Canon")
      .ascii(0x0110, "Canon PowerShot A3200 IS")
      .shorts(0x0112, {6})
      .rational(0x011A, 180, 1)
      .shorts(0x0128, {2})
      .ascii(0x0132, "2014:08:02 16:37:17")
      .shorts(0x0212, {2, 1})
      .shorts(0x0213, {2})
      .raw(0x1234, 3, 1, 7)  // no known name: dropped
      .longs(0x8769, 240);
  return b;
}

}  // namespace

TEST_CASE("EXIF IFD0 tags come out named and typed as imageio gives them", "[exif]") {
  for (const bool little : {true, false}) {
    for (const bool prefix : {false, true}) {
      const auto blob = camera_exif(little).build(prefix);
      const imio::Metadata m = imio::read_exif(blob);
      CHECK(imio::to_json(m) ==
            R"({"Make": "Canon", "Model": "Canon PowerShot A3200 IS", "Orientation": 6, "XResolution": 180.0, )"
            R"("ResolutionUnit": 2, "DateTime": "2014:08:02 16:37:17", "YCbCrSubSampling": [2, 1], )"
            R"("YCbCrPositioning": 2, "ExifOffset": 240})");
      CHECK(imio::exif_orientation(blob) == 6);
    }
  }
}

TEST_CASE("EXIF values: bytes, zero denominators, Latin-1 text", "[exif]") {
  ExifBuilder b(true);
  b.undefined(0x9286, {1, 2, 3, 4, 5, 6}).rational(0x011B, 1, 0).ascii(0x010E, "caf\xe9");
  const auto m = imio::read_exif(b.build());
  CHECK(m.get<imio::Bytes>("UserComment").size() == 6);
  CHECK(std::isnan(m.get<double>("YResolution")));
  CHECK(m.get<std::string>("ImageDescription") == "caf\xc3\xa9");
}

TEST_CASE("hostile EXIF blocks give what can be read, never a crash", "[exif]") {
  CHECK(imio::read_exif({}).empty());
  const imio::Bytes junk(100, std::byte{0x4D});
  CHECK(imio::read_exif(junk).empty());
  CHECK(imio::exif_orientation(junk) == 0);

  ExifBuilder b(true);
  b.raw(0x010F, 2, 0xFFFFFFFF, 8)      // count far past the end
      .raw(0x0110, 2, 100, 0xFFFFFFF0)  // offset past the end
      .raw(0x011A, 5, 0x40000000, 12)   // count × size overflows 32 bits
      .raw(0x0131, 99, 1, 0)            // unknown type
      .raw(0x0112, 3, 1, 9)             // orientation out of range
      .shorts(0x0128, {3});
  const auto blob = b.build();
  const auto m = imio::read_exif(blob);
  CHECK(imio::to_json(m) == R"({"Orientation": 9, "ResolutionUnit": 3})");
  CHECK(imio::exif_orientation(blob) == 0);

  // IFD0 offset past the end; an entry count larger than the block
  imio::Bytes bad = camera_exif(true).build();
  bad[4] = std::byte{0xFF};
  CHECK(imio::read_exif(bad).empty());
  imio::Bytes many = camera_exif(true).build();
  many[8] = std::byte{0xFF};
  many[9] = std::byte{0xFF};
  CHECK_NOTHROW(imio::read_exif(many));
  // every truncation of a valid block
  const auto good = camera_exif(false).build(true);
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_NOTHROW(imio::read_exif(std::span<const std::byte>(good).first(n)));
  }
}

TEST_CASE("EXIF written by Pillow reads back as Pillow reads it", "[exif]") {
  const std::string python = IMIO_TEST_PYTHON;
  if (python.empty() || std::system((python + " -c 'import PIL' 2>/dev/null").c_str()) != 0) {
    WARN("Pillow is not installed: skipping the comparison with an independent EXIF reader");
    return;
  }
  imio_test::TempDir dir;
  const auto script = dir / "exif.py";
  std::ofstream(script) << R"(import json, sys
from PIL import Image, ExifTags
e = Image.Exif()
e[271] = "Nikon"; e[272] = "D750"; e[274] = 8; e[305] = "imio test"; e[306] = "2020:01:02 03:04:05"
e[282] = 300.0; e[283] = 300.0; e[296] = 2; e[531] = 1
open(sys.argv[1], "wb").write(e.tobytes())
back = Image.Exif(); back.load(open(sys.argv[1], "rb").read())
out = {ExifTags.TAGS[k]: (float(v) if k in (282, 283) else v) for k, v in sorted(back.items())}
open(sys.argv[2], "w").write(json.dumps(out))
)";
  const auto blob_path = dir / "exif.bin";
  const auto json_path = dir / "exif.json";
  const std::string cmd = python + " " + script.string() + " " + blob_path.string() + " " + json_path.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream blob_file(blob_path, std::ios::binary);
  const std::string blob((std::istreambuf_iterator<char>(blob_file)), {});
  std::ifstream json_file(json_path);
  const std::string expected((std::istreambuf_iterator<char>(json_file)), {});
  CHECK(imio::to_json(imio::read_exif(std::as_bytes(std::span(blob.data(), blob.size())))) == expected);
}

namespace {

// A (2,3) ramp with values 10*y + x, and a pixel reader.
imio::NDArray ramp() {
  imio::NDArray a({2, 3}, imio::DType::uint8);
  for (std::uint8_t y = 0; y < 2; ++y) {
    for (std::uint8_t x = 0; x < 3; ++x) a.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(10 * y + x);
  }
  return a;
}

std::vector<int> flat(const imio::NDArray& a) {
  std::vector<int> v;
  for (auto x : a.values<std::uint8_t>()) v.push_back(x);
  return v;
}

}  // namespace

TEST_CASE("orientation transforms follow spec §5.1.7", "[orientation]") {
  //   in:  0  1  2
  //       10 11 12
  const std::vector<std::pair<int, std::vector<int>>> expected{
      {1, {0, 1, 2, 10, 11, 12}},  {2, {2, 1, 0, 12, 11, 10}}, {3, {12, 11, 10, 2, 1, 0}},
      {4, {10, 11, 12, 0, 1, 2}},  {5, {0, 10, 1, 11, 2, 12}}, {6, {10, 0, 11, 1, 12, 2}},
      {7, {12, 2, 11, 1, 10, 0}},  {8, {2, 12, 1, 11, 0, 10}}, {0, {0, 1, 2, 10, 11, 12}},
      {9, {0, 1, 2, 10, 11, 12}},
  };
  for (const auto& [o, values] : expected) {
    const auto out = imio::apply_orientation(ramp(), o);
    INFO("orientation " << o);
    CHECK(out.shape() == (o >= 5 && o <= 8 ? imio::Shape{3, 2} : imio::Shape{2, 3}));
    CHECK(out.shape() == imio::oriented_shape({2, 3}, o));
    CHECK(flat(out) == values);
  }
}

TEST_CASE("orientation moves whole pixels and leaves batch axes alone", "[orientation]") {
  imio::NDArray rgb({2, 3, 3}, imio::DType::uint16);
  for (std::uint16_t y = 0; y < 2; ++y)
    for (std::uint16_t x = 0; x < 3; ++x)
      for (std::uint16_t c = 0; c < 3; ++c) rgb.at<std::uint16_t>(y, x, c) = static_cast<std::uint16_t>(100 * y + 10 * x + c);
  const auto r = imio::apply_orientation(rgb.copy(), 6);
  CHECK(r.shape() == imio::Shape{3, 2, 3});
  CHECK(r.at<std::uint16_t>(0, 0, 2) == 102);  // from (1, 0)
  CHECK(r.at<std::uint16_t>(2, 1, 1) == 21);   // from (0, 2)
  imio::NDArray batch({2, 2, 3}, imio::DType::uint8);
  batch.at<std::uint8_t>(1, 0, 2) = 7;
  const auto b = imio::apply_orientation(std::move(batch), 8, 1);
  CHECK(b.shape() == imio::Shape{2, 3, 2});
  CHECK(b.at<std::uint8_t>(1, 0, 0) == 7);
  CHECK_THROWS_AS(imio::apply_orientation(imio::NDArray({4}, imio::DType::uint8), 6), imio::ArgumentError);
}
