// read_exif_tags: every IFD of an EXIF block, checked against handmade
// blocks, against exiftool on JPEGs Pillow writes and on the corpus JPEGs,
// and against hostile blocks.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "exiftool_compare.hpp"
#include "exiftool_oracle.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

using imio::Bytes;
using imio::Dict;
using imio::Value;

namespace {

// A TIFF-structured block written field by field at fixed offsets.
class RawBlock {
 public:
  RawBlock(bool little, std::size_t size) : little_(little), data_(size) {
    data_[0] = data_[1] = static_cast<std::byte>(little ? 'I' : 'M');
    put(2, 42, 2);
    put(4, 8, 4);  // IFD0 at 8
  }
  void put(std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      const int shift = 8 * (little_ ? i : bytes - 1 - i);
      data_[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> shift) & 0xFF);
    }
  }
  // The IFD at `at`: its count and where its entries start.
  void ifd(std::size_t at, std::uint16_t count) { put(at, count, 2); }
  void entry(std::size_t ifd_at, int index, std::uint16_t tag, std::uint16_t type, std::uint32_t count,
             std::uint32_t value) {
    const std::size_t e = ifd_at + 2 + 12 * static_cast<std::size_t>(index);
    put(e, tag, 2);
    put(e + 2, type, 2);
    put(e + 4, count, 4);
    const std::size_t unit = type == 3 ? 2 : type == 1 || type == 2 || type == 7 ? 1 : 4;
    // values of up to 4 bytes are left-justified in the field (TIFF 6.0 §2)
    if (type == 3 && count == 1) put(e + 8, value, 2);
    else if (unit * count <= 4 && unit == 1) put(e + 8, value, 1);
    else put(e + 8, value, 4);
  }
  void next(std::size_t ifd_at, std::uint16_t count, std::uint32_t next) { put(ifd_at + 2 + 12 * count, next, 4); }
  void text(std::size_t at, std::string_view s) { std::memcpy(data_.data() + at, s.data(), s.size()); }
  Bytes bytes(bool prefix = false) const {
    Bytes out;
    if (prefix) out = imio_test::to_bytes(std::string_view("Exif\0\0", 6));
    out.insert(out.end(), data_.begin(), data_.end());
    return out;
  }

 private:
  bool little_;
  Bytes data_;
};

// IFD0 (Make, ExifOffset, GPSInfo, an unknown tag) → ExifIFD (ExposureTime,
// ExposureCompensation, InteropOffset) → InteropIFD; GPS; IFD1.
RawBlock camera_block(bool little) {
  RawBlock b(little, 400);
  b.ifd(8, 4);                            // IFD0: 8…62
  b.entry(8, 0, 0x010F, 2, 6, 200);       // Make → "Canon\0" at 200
  b.entry(8, 1, 0x8769, 4, 1, 64);        // ExifOffset
  b.entry(8, 2, 0x8825, 4, 1, 128);       // GPSInfo
  b.entry(8, 3, 0xABCD, 3, 1, 7);         // not a tag anyone names
  b.next(8, 4, 160);                      // IFD1
  b.text(200, std::string_view("Canon\0", 6));
  b.ifd(64, 3);                           // ExifIFD: 64…106
  b.entry(64, 0, 0x829A, 5, 1, 210);      // ExposureTime 1/125
  b.put(210, 1, 4);
  b.put(214, 125, 4);
  b.entry(64, 1, 0x9204, 10, 1, 218);     // ExposureCompensation -2/3
  b.put(218, static_cast<std::uint32_t>(-2), 4);
  b.put(222, 3, 4);
  b.entry(64, 2, 0xA005, 4, 1, 108);      // InteropOffset
  b.next(64, 3, 0);
  b.ifd(108, 1);                          // InteropIFD: 108…126
  b.entry(108, 0, 0x0001, 2, 4, 0);       // InteropIndex "R98\0" in the entry
  b.text(108 + 2 + 8, std::string_view("R98\0", 4));
  b.ifd(128, 2);                          // GPS: 128…158
  b.entry(128, 0, 0x0002, 5, 3, 240);     // GPSLatitude 47/1 30/1 125/10
  for (int i = 0; i < 3; ++i) {
    const std::uint32_t num[] = {47, 30, 125}, den[] = {1, 1, 10};
    b.put(240 + 8 * static_cast<std::size_t>(i), num[i], 4);
    b.put(244 + 8 * static_cast<std::size_t>(i), den[i], 4);
  }
  b.entry(128, 1, 0x0000, 1, 4, 0);       // GPSVersionID 2 3 0 0, in the entry
  b.text(128 + 2 + 12 + 8, std::string_view("\x02\x03\x00\x00", 4));
  b.ifd(160, 1);                          // IFD1: 160…178
  b.entry(160, 0, 0x0103, 3, 1, 6);       // Compression 6 (JPEG thumbnail)
  b.next(160, 1, 0);
  return b;
}

template <class F>
std::string decode_error_of(F&& f) {
  try {
    f();
  } catch (const imio::DecodeError& e) {
    return e.what();
  }
  return "(no DecodeError)";
}

// The APP1 "Exif\0\0" segment of a JPEG file (prefix kept), or empty.
Bytes jpeg_exif(const Bytes& file) {
  std::size_t pos = 2;
  while (pos + 4 <= file.size() && std::to_integer<int>(file[pos]) == 0xFF) {
    const int marker = std::to_integer<int>(file[pos + 1]);
    if (marker == 0xDA || marker == 0xD9) break;
    const std::size_t length =
        (std::to_integer<std::size_t>(file[pos + 2]) << 8) | std::to_integer<std::size_t>(file[pos + 3]);
    if (length < 2 || pos + 2 + length > file.size()) break;
    const std::byte* p = file.data() + pos + 4;
    if (marker == 0xE1 && length - 2 >= 6 && std::memcmp(p, "Exif\0\0", 6) == 0) return Bytes(p, p + length - 2);
    pos += 2 + length;
  }
  return {};
}

}  // namespace

TEST_CASE("every IFD of an EXIF block is read, named as exiftool's groups", "[exif]") {
  for (const bool little : {true, false}) {
    for (const bool prefix : {false, true}) {
      CAPTURE(little, prefix);
      const Dict tags = imio::read_exif_tags(camera_block(little).bytes(prefix));
      std::vector<std::string> groups;
      for (const auto& [group, ifd] : tags) groups.push_back(group);
      CHECK(groups == std::vector<std::string>{"IFD0", "ExifIFD", "GPS", "InteropIFD", "IFD1"});
      const Dict& ifd0 = tags.at("IFD0").ref<Dict>();
      CHECK(ifd0.get<std::string>("Make") == "Canon");
      CHECK(ifd0.get<std::int64_t>("0xabcd") == 7);
      CHECK_FALSE(ifd0.contains("ExifOffset"));  // pointers are structure
      CHECK_FALSE(ifd0.contains("GPSInfo"));
      const Dict& exif = tags.at("ExifIFD").ref<Dict>();
      CHECK(exif.get<double>("ExposureTime") == 1.0 / 125);
      CHECK(exif.get<double>("ExposureCompensation") == -2.0 / 3);
      CHECK(tags.at("InteropIFD").ref<Dict>().get<std::string>("InteropIndex") == "R98");
      const Dict& gps = tags.at("GPS").ref<Dict>();
      CHECK(gps.at("GPSLatitude") == Value{47.0, 30.0, 12.5});
      CHECK(gps.get<Bytes>("GPSVersionID") == imio_test::to_bytes(std::string_view("\x02\x03\x00\x00", 4)));
      CHECK(tags.at("IFD1").ref<Dict>().get<std::int64_t>("Compression") == 6);
    }
  }
}

TEST_CASE("hostile EXIF blocks are a DecodeError naming the block and the reason, within 1 s", "[exif]") {
  using clock = std::chrono::steady_clock;
  const auto refuses = [](const Bytes& block, const std::string& reason) {
    const auto start = clock::now();
    const std::string message = decode_error_of([&] { imio::read_exif_tags(block); });
    CHECK(clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
    CHECK_THAT(message, Catch::Matchers::Contains("EXIF block (") && Catch::Matchers::Contains(reason));
  };
  SECTION("an IFD pointer back to IFD0 (a loop)") {
    RawBlock b = camera_block(true);
    b.entry(8, 1, 0x8769, 4, 1, 8);
    refuses(b.bytes(), "the IFD pointers loop");
  }
  SECTION("IFD1 is IFD0 again") {
    RawBlock b = camera_block(false);
    b.next(8, 4, 8);
    refuses(b.bytes(true), "IFD1 at offset 8 is an IFD read before");
  }
  SECTION("the Exif IFD pointing at itself as its interoperability IFD") {
    RawBlock b = camera_block(true);
    b.entry(64, 2, 0xA005, 4, 1, 64);
    refuses(b.bytes(), "InteropIFD at offset 64 is an IFD read before");
  }
  SECTION("an IFD past the end") {
    RawBlock b = camera_block(true);
    b.entry(8, 2, 0x8825, 4, 1, 0xFFFFFFF0u);
    refuses(b.bytes(), "GPS at offset 4294967280 is past the end");
  }
  SECTION("a value past the end") {
    RawBlock b = camera_block(false);
    b.entry(8, 0, 0x010F, 2, 6, 398);
    refuses(b.bytes(), "IFD0 tag 0x010f has 6 values of 1 bytes at offset 398, past the end");
  }
  SECTION("a count whose size wraps 32 bits") {
    RawBlock b = camera_block(true);
    b.entry(64, 0, 0x829A, 5, 0x20000001u, 8);  // 8 × 0x20000001 = 8 (mod 2^32)
    refuses(b.bytes(), "ExifIFD tag 0x829a has 536870913 values of 8 bytes");
  }
  SECTION("an IFD declaring 60000 entries") {
    RawBlock b(true, 64 * 1024);
    b.ifd(8, 60000);
    refuses(b.bytes(), "IFD0 declares 60000 entries (imio reads at most 1024 per IFD)");
  }
  SECTION("entries that all read the same large value") {
    RawBlock b(true, 64 * 1024);
    b.ifd(8, 1000);
    for (int i = 0; i < 1000; ++i) b.entry(8, i, static_cast<std::uint16_t>(0x1000 + i), 3, 16000, 20000);
    refuses(b.bytes(), "add up to more than 4 times its size");
  }
  SECTION("no TIFF header") {
    refuses(imio_test::to_bytes("Exif\0\0XX*\0\0\0\0\0"), "no TIFF header");
    refuses(Bytes{}, "no TIFF header");
  }
}

TEST_CASE("every truncation of an EXIF block is read or refused, never a crash", "[exif]") {
  const Bytes good = camera_block(true).bytes(true);
  int refused = 0;
  for (std::size_t n = 0; n < good.size(); ++n) {
    try {
      imio::read_exif_tags(std::span<const std::byte>(good).first(n));
    } catch (const imio::DecodeError&) {
      ++refused;
    }
  }
  CHECK(refused > 0);  // values near the end are cut by most truncations
}

TEST_CASE("EXIF that Pillow writes reads as exiftool reads it", "[exif][oracle]") {
  REQUIRE_EXIFTOOL();
  if (!imio_test::python_has("PIL")) {
    WARN("skipped: Pillow is not installed for " << imio_test::python());
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  const int status = imio_test::run_python(dir, R"PY(
import sys, os
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R
for order in "<>":
    e = Image.Exif()
    e.endian = order
    e[0x010F] = "NIKON CORPORATION"; e[0x0110] = "NIKON D750"; e[0x0112] = 6
    e[0x011A] = R(300, 1); e[0x011B] = R(300, 1); e[0x0128] = 2; e[0x0131] = "imio test 1.0"
    e[0x0132] = "2020:01:02 03:04:05"; e[0x013B] = "A. Photographer"; e[0x8298] = "(c) 2020"
    e[0x0213] = 1; e[0x010E] = "a lake at dawn"
    e[0x8769] = {0x829A: R(1, 125), 0x829D: R(28, 10), 0x8822: 3, 0x8827: 400, 0x9000: b"0232",
                 0x9003: "2020:01:02 03:04:05", 0x9004: "2020:01:02 03:04:06", 0x9201: R(6965784, 1000000),
                 0x9202: R(297, 100), 0x9204: R(-2, 3), 0x9205: R(3, 1), 0x9207: 5, 0x9209: 16,
                 0x920A: R(500, 10), 0x9101: b"\x01\x02\x03\x00", 0xA001: 1, 0xA002: 6016, 0xA003: 4016,
                 0xA300: b"\x03", 0xA301: b"\x01", 0xA402: 0, 0xA403: 0, 0xA405: 75, 0xA406: 0,
                 0xA431: "3012345", 0xA432: (R(24, 1), R(120, 1), R(4, 1), R(4, 1)), 0xA434: "24-120mm f/4",
                 0x9286: b"ASCII\0\0\0a comment", 0xA420: "0123456789abcdef0123456789abcdef",
                 0xA005: {0x0001: "R98", 0x0002: b"0100"}}
    e[0x8825] = {0x0000: b"\x02\x03\x00\x00", 0x0001: "N", 0x0002: (R(47, 1), R(30, 1), R(1250, 100)),
                 0x0003: "E", 0x0004: (R(8, 1), R(32, 1), R(4321, 100)), 0x0005: b"\x00",
                 0x0006: R(4321, 10), 0x0007: (R(10, 1), R(20, 1), R(30, 1)), 0x0012: "WGS-84",
                 0x001D: "2020:01:02", 0x0010: "T", 0x0011: R(12345, 100)}
    Image.new("RGB", (16, 8), (200, 100, 50)).save(os.path.join(sys.argv[1], "le.jpg" if order == "<" else "be.jpg"),
                                                  exif=e.tobytes())
)PY", log);
  INFO(log);
  REQUIRE(status == 0);
  const std::vector<std::filesystem::path> files = {dir / "le.jpg", dir / "be.jpg"};
  const auto oracle = imio_test::exiftool_json(files);
  REQUIRE(oracle.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Bytes exif = jpeg_exif(imio_test::read_file(files[i]));
    REQUIRE(!exif.empty());
    const Dict parsed = imio::read_exif_tags(exif);
    CHECK(parsed.size() == 4);  // IFD0, ExifIFD, GPS, InteropIFD
    imio_test::compare_exif_tags(files[i].filename().string(), parsed, oracle[i], tally, excluded);
  }
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  // 12 IFD0 + 29 ExifIFD + 2 InteropIFD + 12 GPS tags, in both files
  CHECK(tally.compared == 2 * 55);
  CHECK(tally.imio_only == 0);
  CHECK(tally.exiftool_only == 0);
  std::printf("Pillow-written EXIF vs exiftool: %d tags compared, %d equal, %zu mismatches, %d imio-only\n",
              tally.compared, tally.equal, tally.mismatches.size(), tally.imio_only);
}

TEST_CASE("the corpus JPEGs' EXIF reads as exiftool reads it", "[exif][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  const std::filesystem::path root = imio_test::corpus_dir() / "jpeg";
  if (!std::filesystem::exists(root)) {
    WARN("skipped: no corpus at " << root);
    return;
  }
  std::vector<std::filesystem::path> files;
  std::vector<Bytes> blocks;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".jpg" && ext != ".jpeg" && ext != ".JPG")) continue;
    Bytes exif = jpeg_exif(imio_test::read_file(entry.path()));
    if (exif.empty()) continue;
    files.push_back(entry.path());
    blocks.push_back(std::move(exif));
  }
  REQUIRE(files.size() >= 40);
  const auto oracle = imio_test::exiftool_json(files);
  REQUIRE(oracle.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  std::vector<std::string> refused;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = std::filesystem::relative(files[i], root).string();
    Dict parsed;
    try {
      parsed = imio::read_exif_tags(blocks[i]);
    } catch (const imio::DecodeError& e) {
      refused.push_back(name + ": " + e.what());
      continue;
    }
    imio_test::compare_exif_tags(name, parsed, oracle[i], tally, excluded);
  }
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  for (const auto& r : refused) UNSCOPED_INFO("refused " << r);
  std::printf("corpus EXIF vs exiftool: %zu files, %zu refused, %d tags compared, %d equal, %zu mismatches, "
              "%d imio-only, %d exiftool-only\n",
              files.size(), refused.size(), tally.compared, tally.equal, tally.mismatches.size(), tally.imio_only,
              tally.exiftool_only);
  for (const auto& [why, n] : excluded) std::printf("  not compared: %s (%d)\n", why.c_str(), n);
  for (const auto& m : tally.mismatches) std::printf("  mismatch: %s\n", m.c_str());
  for (const auto& r : refused) std::printf("  refused: %s\n", r.c_str());
  CHECK(tally.mismatches.empty());
  CHECK(refused.empty());
  CHECK(tally.compared > 1000);
}
