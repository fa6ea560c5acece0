// The libtiff writer's `exif` kwarg (docs/metadata.md, "EXIF in TIFF"):
// every IFD0 tag of the EXIF that does not describe the pixels' storage,
// and the Exif, GPS and interoperability IFDs, in classic TIFF and BigTIFF,
// both byte orders — checked with exiftool reading the written files, and
// with tifffile.
#include <imio/imio.hpp>
#include <imio/metadata_write.hpp>
#include <imio/plugin.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
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

Bytes b(std::string_view s) { return imio_test::to_bytes(s); }

imio::NDArray small_image() {
  imio::NDArray a(imio::Shape{8, 12, 3}, imio::DType::uint8);
  auto* p = reinterpret_cast<std::uint8_t*>(a.bytes());
  for (std::size_t i = 0; i < a.nbytes(); ++i) p[i] = static_cast<std::uint8_t>(i * 5);
  return a;
}

// A photo's EXIF in read_exif_tags's form: IFD0 tags libtiff knows
// (ImageDescription, Software, ModifyDate, resolution) and ones it does not
// (Rating, XPTitle, an unnamed 0xabcd), and the other IFDs.
Dict camera_tags() {
  return Dict{
      {"IFD0", Dict{{"ImageDescription", "a harbour at dawn"}, {"Make", "Canon"}, {"Model", "EOS 5D"},
                    {"Orientation", 6}, {"XResolution", 300.0}, {"YResolution", 300.0}, {"ResolutionUnit", 2},
                    {"Software", "imio test"}, {"ModifyDate", "2024:01:02 03:04:05"}, {"Artist", "A. Person"},
                    {"YCbCrPositioning", 2}, {"Rating", 4}, {"Copyright", "(c) 2024"},
                    {"XPTitle", b(std::string_view("t\0i\0\0\0", 6))}, {"0xabcd", 7}}},
      {"ExifIFD", Dict{{"ExposureTime", 1.0 / 125}, {"FNumber", 5.6}, {"ISO", 400}, {"ExifVersion", b("0232")},
                       {"DateTimeOriginal", "2024:01:02 03:04:05"}, {"ExposureCompensation", -2.0 / 3},
                       {"FocalLength", 50.0}, {"UserComment", b(std::string_view("ASCII\0\0\0hello", 13))},
                       {"ExifImageWidth", 70000}, {"LensInfo", Value{24.0, 70.0, 2.8, 2.8}}}},
      {"GPS", Dict{{"GPSVersionID", b(std::string_view("\x02\x03\x00\x00", 4))}, {"GPSLatitudeRef", "N"},
                   {"GPSLatitude", Value{47.0, 30.0, 12.5}}, {"GPSAltitude", 123.25},
                   {"GPSTimeStamp", Value{10.0, 20.0, 30.0}}, {"GPSDateStamp", "2024:01:02"}}},
      {"InteropIFD", Dict{{"InteropIndex", "R98"}, {"InteropVersion", b("0100")}}},
  };
}

// The IFD0 tags the TIFF writer never takes from the EXIF: they describe the
// pixels' storage (docs/metadata.md).
const std::set<std::string> kStorage{"ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
                                     "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel",
                                     "RowsPerStrip", "StripByteCounts", "PlanarConfiguration", "Predictor",
                                     "TileWidth", "TileLength", "TileOffsets", "TileByteCounts", "ExtraSamples",
                                     "SampleFormat", "SubfileType", "OldSubfileType", "FillOrder",
                                     "ThumbnailOffset", "ThumbnailLength", "JPEGTables", "ColorMap"};

Dict without_storage(Dict tags) {
  tags.erase("IFD1");
  if (const Value* ifd0 = tags.lookup("IFD0")) {
    Dict d = ifd0->ref<Dict>();
    for (const std::string& k : kStorage) d.erase(k);
    tags.set("IFD0", std::move(d));
  }
  return tags;
}

struct Variant {
  const char* name;
  imio::Kwargs kwargs;
};

const std::vector<Variant> kVariants{{"classic-le", {}},
                                     {"classic-be", {{"byteorder", ">"}}},
                                     {"bigtiff-le", {{"bigtiff", true}}},
                                     {"bigtiff-be", {{"bigtiff", true}, {"byteorder", ">"}}}};

// imwrite through imopen: bigtiff and byteorder are kwargs of the file, not of write.
void write_tiff(const fs::path& path, const imio::Kwargs& open, const Value& exif) {
  imio::ImageFile f = imio::imopen(path, "w", {.plugin = "libtiff", .kwargs = open});
  f.write(small_image(), {.kwargs = {{"exif", exif}}});
  f.close();
}

// exiftool 12.57 reads BigTIFF with a reader of its own (BigTIFF.pm): it
// names the Exif IFD after its pointer ("ExifOffset") and reads the GPS and
// interoperability IFDs with the EXIF table (GPSLatitudeRef comes out as
// InteropIndex), and prints BYTE values as numbers, which its XP* tags then
// decode as UTF-16. What it reads right is compared: IFD0 but XP*, the Exif
// IFD under its name; tifffile and imio's reader check the rest.
void as_exiftool_reads_bigtiff(Dict& given, Dict& exiftool) {
  given.erase("GPS");
  given.erase("InteropIFD");
  if (const Value* ifd0 = given.lookup("IFD0")) {
    Dict d;
    for (const auto& [k, v] : ifd0->ref<Dict>()) {
      if (k.rfind("XP", 0) != 0) d.set(k, v);
    }
    given.set("IFD0", std::move(d));
  }
  Dict renamed;
  for (const auto& [k, v] : exiftool) {
    if (k.rfind("ExifOffset:", 0) == 0) renamed.set("ExifIFD:" + k.substr(11), v);
    else renamed.set(k, v);
  }
  exiftool = std::move(renamed);
}

// Every tag given is what imio reads back from the file.
void check_read_back(const fs::path& file, const Dict& given) {
  const Dict meta = imio::immeta(file, {.plugin = "libtiff"});
  const Dict& back = meta.at("exif_tags").ref<Dict>();
  for (const auto& [ifd, tags] : given) {
    CAPTURE(file.filename().string(), ifd);
    REQUIRE(back.contains(ifd));
    for (const auto& [name, value] : tags.ref<Dict>()) {
      CAPTURE(name);
      const Value* mine = back.at(ifd).ref<Dict>().lookup(name);
      REQUIRE(mine != nullptr);
      CHECK(imio::to_json(*mine) == imio::to_json(value));
    }
  }
}

}  // namespace

TEST_CASE("every IFD0 tag and the Exif, GPS and interoperability IFDs of `exif` are what exiftool reads in the TIFF", "[metadata][write][oracle]") {
  if (!imio_test::exiftool_available()) {
    WARN("skipped: exiftool is not installed (libimage-exiftool-perl)");
    return;
  }
  imio_test::TempDir tmp;
  const Dict given = camera_tags();
  std::vector<fs::path> files;
  for (const Variant& v : kVariants) {
    const fs::path out = tmp / (std::string(v.name) + ".tif");
    write_tiff(out, v.kwargs, given);
    files.push_back(out);
    CHECK(imio::imread(out) == small_image());
    check_read_back(out, given);
  }
  const std::vector<Dict> j = imio_test::exiftool_json(files);
  REQUIRE(j.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  std::size_t expected = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    CAPTURE(files[i].filename().string());
    Dict mine = given, theirs = j[i];
    if (i >= 2) as_exiftool_reads_bigtiff(mine, theirs);
    for (const auto& [ifd, tags] : mine) expected += tags.ref<Dict>().size() - (ifd == "IFD0");  // exiftool -j prints no 0xabcd
    imio_test::compare_exif_tags(files[i].filename().string(), mine, theirs, tally, excluded);
    if (const Value* w = j[i].lookup("ExifTool:Warning")) UNSCOPED_INFO(imio::to_json(*w));
    CHECK(j[i].contains("ExifTool:Warning") == false);
  }
  std::printf("TIFF EXIF written (classic and BigTIFF, both byte orders): %d tags compared with exiftool, %d equal, %d not printed by exiftool\n",
              tally.compared, tally.equal, tally.imio_only);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  CHECK(tally.imio_only == 4);
  CHECK(static_cast<std::size_t>(tally.compared) == expected);
}

TEST_CASE("a kwarg wins over the EXIF's IFD0; the EXIF's wins over the writer's defaults", "[metadata][write]") {
  imio_test::TempDir tmp;
  const fs::path plain = tmp / "plain.tif", kwargs = tmp / "kwargs.tif";
  imio::imwrite(plain, small_image(), {.plugin = "libtiff", .kwargs = {{"exif", camera_tags()}}});
  imio::imwrite(kwargs, small_image(),
                {.plugin = "libtiff",
                 .kwargs = {{"exif", camera_tags()}, {"description", "mine"}, {"software", "me"},
                            {"datetime", "2030:01:01 00:00:00"}, {"resolution", Value{10.0, 20.0}},
                            {"resolutionunit", 3}, {"orientation", 3}}});
  const auto ifd0 = [](const fs::path& f) {
    return imio::immeta(f, {.plugin = "libtiff"}).at("exif_tags").ref<Dict>().at("IFD0").ref<Dict>();
  };
  const Dict a = ifd0(plain), k = ifd0(kwargs);
  CHECK(a.get<std::string>("ImageDescription") == "a harbour at dawn");
  CHECK(a.get<std::string>("Software") == "imio test");
  CHECK(a.get<std::string>("ModifyDate") == "2024:01:02 03:04:05");
  CHECK(a.get<double>("XResolution") == 300.0);
  CHECK(a.get<std::int64_t>("ResolutionUnit") == 2);
  CHECK(a.get<std::int64_t>("Orientation") == 6);
  CHECK(k.get<std::string>("ImageDescription") == "mine");
  CHECK(k.get<std::string>("Software") == "me");
  CHECK(k.get<std::string>("ModifyDate") == "2030:01:01 00:00:00");
  CHECK(k.get<double>("XResolution") == 10.0);
  CHECK(k.get<double>("YResolution") == 20.0);
  CHECK(k.get<std::int64_t>("ResolutionUnit") == 3);
  CHECK(k.get<std::int64_t>("Orientation") == 3);
  CHECK(k.get<std::string>("Make") == "Canon");  // no kwarg for it: the EXIF's
}

TEST_CASE("the EXIF's storage tags never replace the page's", "[metadata][write]") {
  imio_test::TempDir tmp;
  const fs::path out = tmp / "lying.tif";
  Dict tags{{"IFD0", Dict{{"ImageWidth", 999}, {"ImageHeight", 999}, {"Compression", 7}, {"BitsPerSample", 16},
                          {"StripOffsets", 12345}, {"Make", "X"}}}};
  imio::imwrite(out, small_image(), {.plugin = "libtiff", .kwargs = {{"exif", tags}, {"compression", "zlib"}}});
  CHECK(imio::imread(out) == small_image());
  const Dict ifd0 = imio::immeta(out, {.plugin = "libtiff"}).at("exif_tags").ref<Dict>().at("IFD0").ref<Dict>();
  CHECK(ifd0.get<std::int64_t>("ImageWidth") == 12);
  CHECK(ifd0.get<std::int64_t>("Compression") == 8);
  CHECK(ifd0.get<std::string>("Make") == "X");
}

TEST_CASE("tifffile reads the EXIF and GPS IFDs imio writes, in classic TIFF and BigTIFF", "[metadata][write][oracle]") {
  if (!imio_test::python_has("tifffile")) {
    WARN("skipped: needs tifffile for " << imio_test::python());
    return;
  }
  imio_test::TempDir tmp;
  for (const Variant& v : kVariants) {
    write_tiff(tmp / (std::string(v.name) + ".tif"), v.kwargs, camera_tags());
  }
  std::string out;
  const int status = imio_test::run_python(tmp, R"PY(
import sys, os, tifffile
for name in ("classic-le", "classic-be", "bigtiff-le", "bigtiff-be"):
    with tifffile.TiffFile(os.path.join(sys.argv[1], name + ".tif")) as t:
        p = t.pages[0]
        e, g = p.tags["ExifTag"].value, p.tags["GPSTag"].value
        print(name, t.is_bigtiff, p.tags["Make"].value, p.tags["Rating"].value if "Rating" in p.tags else p.tags[18246].value,
              e["ISOSpeedRatings"], e["ExifImageWidth"] if "ExifImageWidth" in e else e["PixelXDimension"],
              g["GPSLatitudeRef"], g["GPSDateStamp"], (p.asarray() == tifffile.imread(os.path.join(sys.argv[1], "classic-le.tif"))).all())
)PY", out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out == "classic-le False Canon 4 400 70000 N 2024:01:02 True\n"
               "classic-be False Canon 4 400 70000 N 2024:01:02 True\n"
               "bigtiff-le True Canon 4 400 70000 N 2024:01:02 True\n"
               "bigtiff-be True Canon 4 400 70000 N 2024:01:02 True\n");
}

TEST_CASE("the corpus JPEGs' EXIF written into TIFF is read by exiftool as given", "[metadata][write][oracle][corpus]") {
  if (!imio_test::exiftool_available() || !imio::has_plugin("libjpeg")) return;
  const fs::path root = imio_test::corpus_dir() / "jpeg" / "exiftool";
  if (!fs::is_directory(root)) {
    WARN("skipped: no corpus at " << root);
    return;
  }
  imio_test::TempDir tmp;
  std::vector<fs::path> sources, written;
  std::vector<Dict> given;
  std::size_t k = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() != ".jpg") continue;
    Dict tags;
    try {
      const Dict meta = imio::immeta(entry.path(), {.plugin = "libjpeg"});
      const Value* exif = meta.lookup("exif");
      if (exif == nullptr || !exif->is<Bytes>()) continue;
      tags = imio::read_exif_tags(exif->ref<Bytes>());
    } catch (const imio::Error&) {
      continue;
    }
    const Variant& v = kVariants[k++ % kVariants.size()];
    const fs::path out = tmp / (entry.path().stem().string() + "-" + v.name + ".tif");
    try {
      write_tiff(out, v.kwargs, tags);
    } catch (const imio::Error& e) {
      FAIL_CHECK(entry.path().filename().string() << ": " << e.what());
      continue;
    }
    check_read_back(out, without_storage(tags));
    if (imio::immeta(out, {.plugin = "libtiff"}).get<bool>("is_bigtiff")) continue;  // exiftool: see above
    sources.push_back(entry.path());
    written.push_back(out);
    given.push_back(without_storage(tags));
  }
  REQUIRE(written.size() >= 15);
  const std::vector<Dict> j = imio_test::exiftool_json(written);
  REQUIRE(j.size() == written.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  std::vector<std::string> warnings;
  for (std::size_t i = 0; i < written.size(); ++i) {
    imio_test::compare_exif_tags(written[i].filename().string(), given[i], j[i], tally, excluded);
    if (const Value* w = j[i].lookup("ExifTool:Warning")) {
      const std::string s = imio::to_json(*w);
      // a moved MakerNote whose offsets count from the original file
      if (!imio_test::contains(s, "maker notes") && !imio_test::contains(s, "MakerNote") && !imio_test::contains(s, "decision data")) {
        warnings.push_back(written[i].filename().string() + ": " + s);
      }
    }
  }
  std::printf("corpus EXIF written into classic TIFF: %zu files, %d tags compared with exiftool, %d equal, %d not printed by exiftool\n",
              written.size(), tally.compared, tally.equal, tally.imio_only);
  for (const auto& [why, n] : excluded) {
    if (why.rfind("imio has no", 0) != 0) std::printf("  not compared: %s ×%d\n", why.c_str(), n);
  }
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  for (const auto& w : warnings) UNSCOPED_INFO(w);
  CHECK(tally.mismatches.empty());
  CHECK(warnings.empty());
  CHECK(tally.compared > 600);
}
