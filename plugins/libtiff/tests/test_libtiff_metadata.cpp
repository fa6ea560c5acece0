// The libtiff plugin's normalised metadata entries (docs/metadata.md): the
// file's own IFD0, Exif, GPS and interoperability IFDs as exif_tags, XMP
// (tag 700), IPTC (33723) and ICC (34675), checked against exiftool on
// TIFFs made at test time and on the corpus, beside tifffile's keys; and
// what hostile IFDs and blocks do to immeta and imread.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "exiftool_compare.hpp"
#include "exiftool_oracle.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::Dict;
using imio::Value;

Dict meta_of(const fs::path& file, imio::Index index = {}) {
  return imio::immeta(file, {.index = index, .plugin = "libtiff"});
}

// A Pillow RGB TIFF with lcms's sRGB profile (tag 34675); exiftool then
// writes IFD0, Exif, GPS and interoperability tags, XMP (700) and IPTC
// (33723) into it, keeping its byte order.
constexpr std::string_view kMakeTiff = R"PY(
import os, sys
from PIL import Image, ImageCms
d = sys.argv[1]
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
Image.new("RGB", (16, 8), (10, 20, 30)).save(os.path.join(d, "tagged.tif"), icc_profile=srgb)
)PY";

// A little-endian classic TIFF built field by field: blobs first, IFD0 last.
class TiffBuilder {
 public:
  TiffBuilder() : data_(imio_test::to_bytes(std::string_view("II*\0\0\0\0\0", 8))) {}

  /// Where the next blob will start.
  std::uint32_t next() const { return static_cast<std::uint32_t>(data_.size() + (data_.size() & 1)); }
  std::uint32_t add(const Bytes& blob) {
    if (data_.size() & 1) data_.push_back(std::byte{0});
    const auto at = static_cast<std::uint32_t>(data_.size());
    data_.insert(data_.end(), blob.begin(), blob.end());
    return at;
  }
  void entry(std::uint16_t tag, std::uint16_t type, std::uint32_t count, std::uint32_t value) {
    entries_.push_back({tag, type, count, value});
  }
  /// A 1×1 8-bit gray image of value 77, plus the entries added.
  Bytes finish() {
    const std::uint32_t pixel = add(Bytes{std::byte{77}});
    entry(256, 3, 1, 1);
    entry(257, 3, 1, 1);
    entry(258, 3, 1, 8);
    entry(259, 3, 1, 1);
    entry(262, 3, 1, 1);
    entry(273, 4, 1, pixel);
    entry(277, 3, 1, 1);
    entry(278, 3, 1, 1);
    entry(279, 4, 1, 1);
    std::sort(entries_.begin(), entries_.end());
    const std::uint32_t at = add(ifd(entries_, 0));
    for (int i = 0; i < 4; ++i) data_[4 + static_cast<std::size_t>(i)] = static_cast<std::byte>((at >> (8 * i)) & 0xFF);
    return data_;
  }

  /// An IFD's bytes: entries (tag, type, count, value or offset), then the next offset.
  static Bytes ifd(const std::vector<std::array<std::uint32_t, 4>>& entries, std::uint32_t next) {
    Bytes out;
    const auto put = [&](std::uint32_t v, int n) {
      for (int i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
    };
    put(static_cast<std::uint32_t>(entries.size()), 2);
    for (const auto& e : entries) {
      put(e[0], 2);
      put(e[1], 2);
      put(e[2], 4);
      put(e[3], 4);
    }
    put(next, 4);
    return out;
  }

 private:
  Bytes data_;
  std::vector<std::array<std::uint32_t, 4>> entries_;
};

}  // namespace

TEST_CASE("a TIFF's EXIF, GPS, XMP, IPTC and ICC entries are what exiftool reads", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL_AND_PILLOW();
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeTiff, log) == 0);
  const fs::path tagged = dir / "tagged.tif";
  const std::string write =
      "exiftool -q -q -overwrite_original -IFD0:Make=Maker -IFD0:Model='Model X' -IFD0:Orientation#=6 "
      "-ExifIFD:ISO=200 -ExifIFD:ExposureTime=0.0166666667 -ExifIFD:FNumber=2.8 "
      "-ExifIFD:DateTimeOriginal='2020:01:02 03:04:05' -InteropIFD:InteropIndex=R98 "
      "-GPS:GPSLatitude=47.3675 -GPS:GPSLatitudeRef=N -GPS:GPSLongitude=8.5419 -GPS:GPSLongitudeRef=E "
      "-XMP-dc:Title='Ein Titel' -IPTC:Keywords+=alpha -IPTC:Keywords+=beta -IPTC:City=Zurich \"" +
      tagged.string() + "\"";
  REQUIRE(std::system(write.c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({tagged}, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == 1);
  const Dict file_level = meta_of(tagged);
  const Dict page = meta_of(tagged, 0);
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  imio_test::compare_exif_tags("tagged.tif", page.at("exif_tags").ref<Dict>(), oracle[0], tally, excluded);
  const int exif_compared = tally.compared;
  imio_test::compare_photo_entries("tagged.tif", page, oracle[0], tally);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  for (const auto& [why, n] : excluded) UNSCOPED_INFO("excluded " << n << ": " << why);
  CHECK(tally.mismatches.empty());
  const Dict& tags = page.at("exif_tags").ref<Dict>();
  for (const char* group : {"IFD0", "ExifIFD", "GPS", "InteropIFD"}) CHECK(tags.contains(group));
  CHECK(exif_compared >= 20);  // IFD0's image tags as well as the ones written
  // xmp, iptc, icc_profile, icc_description; Keywords, City, ApplicationRecordVersion
  CHECK(tally.compared - exif_compared == 4 + 3);
  std::printf("TIFF EXIF/XMP/IPTC/ICC vs exiftool: %d compared, %d equal, %zu mismatches\n", tally.compared,
              tally.equal, tally.mismatches.size());
  // the entries spelled out
  CHECK(tags.at("ExifIFD").ref<Dict>().get<std::int64_t>("ISO") == 200);
  CHECK(tags.at("GPS").ref<Dict>().get<std::string>("GPSLatitudeRef") == "N");
  CHECK(page.get<std::string>("icc_description") == "sRGB built-in");
  CHECK(page.at("iptc_tags").ref<Dict>().at("Keywords") == Value{"alpha", "beta"});
  CHECK(imio_test::contains(imio_test::to_string(page.get<Bytes>("xmp")), "Ein Titel"));
  // tifffile's keys stay as tifffile gives them: orientation None on a page
  CHECK(page.at("orientation").is_none());
  CHECK(page.get<std::int64_t>("Orientation") == 6);
  CHECK(page.contains("ExifTag"));
  CHECK(page.contains("InterColorProfile"));
  // the file level (no index) has the first page's entries, and orientation
  CHECK(file_level.at("exif_tags") == page.at("exif_tags"));
  CHECK(file_level.get<std::int64_t>("orientation") == 6);
  CHECK(file_level.contains("is_shaped"));
  // Pillow's semantics (plugin="pillow") describe the page, with the same entries
  const Dict pillow = imio::immeta(tagged, {.plugin = "pillow"});
  CHECK(pillow.at("exif_tags") == page.at("exif_tags"));
  CHECK(pillow.get<std::string>("icc_description") == "sRGB built-in");
}

TEST_CASE("hostile TIFF metadata makes immeta a DecodeError naming it; imread keeps the pixels", "[metadata]") {
  imio_test::TempDir dir;
  const auto check = [&](const Bytes& tiff, const std::string& what) {
    const fs::path p = dir / "hostile.tif";
    imio_test::write_file(p, tiff);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p); });
    const std::string page_message = imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p, 0); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
    CHECK_THAT(message, Catch::Matchers::Contains(what));
    CHECK(page_message == message);
    const imio::NDArray pixels = imio::imread(p);
    REQUIRE(pixels.shape() == imio::Shape{1, 1});
    CHECK(std::to_integer<int>(pixels.bytes()[0]) == 77);
    CHECK(imio::improps(p).shape == imio::Shape{1, 1});
  };
  SECTION("the Exif IFD pointer points back at IFD0") {
    TiffBuilder t;
    const std::uint32_t ifd0 = 10;  // written last: after the 8-byte header, the pixel and a pad byte
    t.entry(34665, 4, 1, ifd0);
    check(t.finish(), "TIFF Exif IFD (tag 34665) at offset " + std::to_string(ifd0) + ": it is an IFD already read (a pointer loop)");
  }
  SECTION("the interoperability IFD pointer points back at the Exif IFD") {
    TiffBuilder t;
    const std::uint32_t exif = t.next();
    t.add(TiffBuilder::ifd({{0x8827, 3, 1, 100}, {0xA005, 4, 1, exif}}, 0));
    t.entry(34665, 4, 1, exif);
    check(t.finish(), "interoperability IFD (tag 0xA005) at offset " + std::to_string(exif) + ": it is an IFD already read");
  }
  SECTION("an Exif IFD entry of a billion rationals") {
    TiffBuilder t;
    const std::uint32_t exif = t.add(TiffBuilder::ifd({{0x829A, 5, 1000000000, 8}}, 0));
    t.entry(34665, 4, 1, exif);
    check(t.finish(), "the value of tag 0x829a lies past the end of the file");
  }
  SECTION("an Exif IFD whose 3000 entries all point at the same 100 kB (a 136 kB file)") {
    TiffBuilder t;
    const std::uint32_t blob = t.add(Bytes(100000));
    std::vector<std::array<std::uint32_t, 4>> entries;
    for (std::uint32_t i = 0; i < 3000; ++i) entries.push_back({0x9000 + i, 7, 100000, blob});
    const std::uint32_t exif = t.add(TiffBuilder::ifd(entries, 0));
    t.entry(34665, 4, 1, exif);
    check(t.finish(), "the values of the EXIF IFDs add up to more than");
  }
  SECTION("a GPS IFD past the end of the file") {
    TiffBuilder t;
    t.entry(34853, 4, 1, 0x7FFFFFF0u);
    check(t.finish(), "TIFF GPS IFD (tag 34853) at offset 2147483632: it lies past the end of the file");
  }
  SECTION("an ICC profile whose tag table lies") {
    TiffBuilder t;
    Bytes icc(200);
    icc[3] = std::byte{200};
    icc[129] = std::byte{0x0F};  // 0x000F4240 = 1000000 tags
    icc[130] = std::byte{0x42};
    icc[131] = std::byte{0x40};
    t.entry(34675, 7, 200, t.add(icc));
    check(t.finish(), "ICC profile (200 bytes): declares 1000000 tags");
  }
  SECTION("an IPTC dataset running past its block") {
    TiffBuilder t;
    t.entry(33723, 7, 8, t.add(imio_test::to_bytes(std::string_view("\x1c\x02\x19\x7f\xff" "abc", 8))));
    check(t.finish(), "IPTC block (8 bytes): dataset 2:25 at offset 5 declares 32767 bytes, past the end");
  }
}

TEST_CASE("an IFD0 whose entries all point at the same bytes is refused promptly, not read 3000 times", "[metadata]") {
  imio_test::TempDir dir;
  TiffBuilder t;
  const std::uint32_t blob = t.add(Bytes(100000));
  for (std::uint32_t i = 0; i < 3000; ++i) t.entry(static_cast<std::uint16_t>(0x9000 + i), 7, 100000, blob);
  const fs::path p = dir / "shared.tif";
  imio_test::write_file(p, t.finish());
  const auto start = std::chrono::steady_clock::now();
  for (const auto& message : {imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(p); }),
                              imio_test::message_of<imio::DecodeError>([&] { (void)imio::improps(p); }),
                              imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p); })}) {
    CHECK_THAT(message, Catch::Matchers::Contains("add up to more than four times the file"));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
}

TEST_CASE("a plain TIFF has exif_tags for IFD0 only and none of the other entries", "[metadata]") {
  imio_test::TempDir dir;
  TiffBuilder t;
  imio_test::write_file(dir / "plain.tif", t.finish());
  const Dict meta = meta_of(dir / "plain.tif", 0);
  const Dict& tags = meta.at("exif_tags").ref<Dict>();
  CHECK(tags.size() == 1);
  CHECK(tags.at("IFD0").ref<Dict>().get<std::int64_t>("ImageWidth") == 1);
  for (const char* key : {"xmp", "iptc", "iptc_tags", "icc_profile", "icc_description"}) CHECK_FALSE(meta.contains(key));
  CHECK(meta.at("orientation").is_none());
  CHECK_FALSE(meta_of(dir / "plain.tif").contains("orientation"));  // no Orientation tag: unknown
}

TEST_CASE("the corpus TIFFs' EXIF, XMP, IPTC and ICC entries are what exiftool reads", "[metadata][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  IMIO_CORPUS_DIR_OR_SKIP(root, "tiff");
  std::vector<fs::path> files;
  std::vector<Dict> metas;
  std::vector<std::string> refused;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".tif" && ext != ".tiff")) continue;
    Dict meta;
    try {
      meta = meta_of(entry.path());
    } catch (const imio::DecodeError& e) {
      const std::string what = e.what();
      if (imio_test::contains(what, "EXIF") || imio_test::contains(what, "IPTC") || imio_test::contains(what, "ICC") ||
          imio_test::contains(what, "IFD (tag")) {
        refused.push_back(fs::relative(entry.path(), root).string() + ": " + what);
      }
      continue;
    } catch (const imio::Error&) {
      continue;
    }
    const Value* tags = meta.lookup("exif_tags");
    const bool rich = (tags != nullptr && tags->ref<Dict>().size() > 1) || meta.contains("xmp") ||
                      meta.contains("iptc") || meta.contains("icc_profile");
    if (!rich) continue;
    files.push_back(entry.path());
    metas.push_back(std::move(meta));
  }
  REQUIRE(files.size() >= 5);
  const auto oracle = imio_test::exiftool_json(files, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = fs::relative(files[i], root).string();
    imio_test::compare_exif_tags(name, metas[i].at("exif_tags").ref<Dict>(), oracle[i], tally, excluded);
    imio_test::compare_photo_entries(name, metas[i], oracle[i], tally);
  }
  std::printf("corpus TIFF EXIF/XMP/IPTC/ICC vs exiftool: %zu files, %d compared, %d equal, %zu mismatches, "
              "%zu refused\n",
              files.size(), tally.compared, tally.equal, tally.mismatches.size(), refused.size());
  for (const auto& m : tally.mismatches) std::printf("  mismatch: %s\n", m.c_str());
  for (const auto& r : refused) std::printf("  refused: %s\n", r.c_str());
  CHECK(tally.compared >= 100);
  CHECK(tally.mismatches.empty());
}
