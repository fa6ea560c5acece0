// Writing metadata: write_exif_tags and write_iptc_tags against their
// readers, the writers' exif/xmp/iptc/icc_profile kwargs, and exiftool
// (Debian's libimage-exiftool-perl) reading every file imio writes.
#include <imio/imio.hpp>
#include <imio/metadata_write.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>
#include <set>
#include <string>
#include <vector>

#include "catch.hpp"
#include "exiftool_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

using imio::Bytes;
using imio::Dict;
using imio::Value;
namespace fs = std::filesystem;

namespace {

Bytes b(std::string_view s) { return imio_test::to_bytes(s); }

// A minimal ICC profile (ICC.1:2010 §7.2): the 128-byte header and an empty tag table.
Bytes icc_profile() {
  Bytes p(132);
  p[3] = std::byte{132};  // size, big-endian
  std::memcpy(p.data() + 36, "acsp", 4);
  return p;
}

// A photo's EXIF in read_exif_tags's form (tags in ascending number, as the
// reader gives them): every IFD, every kind of value.
Dict camera_tags() {
  return Dict{
      {"IFD0", Dict{{"Make", "Canon"}, {"Model", "EOS 5D  "}, {"Orientation", 6}, {"XResolution", 72.0},
                    {"YResolution", 72.0}, {"ResolutionUnit", 2}, {"Software", "imio ünïcode"},
                    {"ModifyDate", "2024:01:02 03:04:05"}, {"0xabcd", 7}}},
      {"ExifIFD", Dict{{"ExposureTime", 1.0 / 125}, {"FNumber", 5.6}, {"ISO", 400},
                       {"ExifVersion", b("0232")}, {"DateTimeOriginal", "2024:01:02 03:04:05"},
                       {"ShutterSpeedValue", 6.965784}, {"ExposureCompensation", -2.0 / 3},
                       {"FocalLength", 50.0}, {"MakerNote", b(std::string_view("\x01\x02\x03\x04\x05\x06\x07", 7))},
                       {"UserComment", b(std::string_view("ASCII\0\0\0hello", 13))},
                       {"ExifImageWidth", 70000}, {"LensInfo", Value{24.0, 70.0, 2.8, 2.8}}}},
      {"GPS", Dict{{"GPSVersionID", b(std::string_view("\x02\x03\x00\x00", 4))}, {"GPSLatitudeRef", "N"},
                   {"GPSLatitude", Value{47.0, 30.0, 12.5}}, {"GPSAltitudeRef", b(std::string_view("\x00", 1))},
                   {"GPSAltitude", 123.25}, {"GPSTimeStamp", Value{10.0, 20.0, 30.0}},
                   {"GPSDateStamp", "2024:01:02"}}},
      {"InteropIFD", Dict{{"InteropIndex", "R98"}, {"InteropVersion", b("0100")}}},
      {"IFD1", Dict{{"Compression", 6}, {"XResolution", 72.0}, {"YResolution", 72.0}, {"ResolutionUnit", 2}}},
  };
}

// The tags of exiftool's JSON object in the EXIF groups, or another set.
Dict groups_of(const Dict& exiftool, const std::set<std::string>& groups, const std::set<std::string>& skip = {}) {
  Dict out;
  for (const auto& [key, value] : exiftool) {
    const auto colon = key.find(':');
    if (colon == std::string::npos) continue;
    const std::string group = key.substr(0, colon);
    const bool wanted = groups.count(group) > 0 || (groups.count("ICC*") > 0 && group.rfind("ICC", 0) == 0) ||
                        (groups.count("XMP*") > 0 && group.rfind("XMP-", 0) == 0);
    if (wanted && skip.count(key.substr(colon + 1)) == 0) out.set(key, value);
  }
  return out;
}

const std::set<std::string> kExifGroups{"IFD0", "ExifIFD", "GPS", "InteropIFD", "IFD1"};

// The differences between two of exiftool's objects, one line each.
std::vector<std::string> differences(const Dict& a, const Dict& b) {
  std::vector<std::string> out;
  for (const auto& [key, value] : a) {
    const Value* other = b.lookup(key);
    if (other == nullptr) out.push_back("only in the first: " + key);
    else if (!(*other == value)) out.push_back(key + ": " + imio::to_json(value).substr(0, 100) + " vs " + imio::to_json(*other).substr(0, 100));
  }
  for (const auto& [key, value] : b) {
    if (!a.contains(key)) out.push_back("only in the second: " + key);
  }
  return out;
}

imio::NDArray small_image() {
  imio::NDArray a(imio::Shape{16, 24, 3}, imio::DType::uint8);
  auto* p = reinterpret_cast<std::uint8_t*>(a.bytes());
  for (std::size_t i = 0; i < a.nbytes(); ++i) p[i] = static_cast<std::uint8_t>(i * 7);
  return a;
}

// Every IFD's tags in name order, as JSON (NaN compares equal there).
std::string canonical(const Dict& tags) {
  std::string out;
  for (const auto& [ifd, value] : tags) {
    std::map<std::string, std::string> sorted;
    for (const auto& [name, v] : value.ref<Dict>()) sorted[name] = imio::to_json(v);
    out += ifd + ":";
    for (const auto& [name, json] : sorted) out += name + "=" + json + ";";
    out += "\n";
  }
  return out;
}

bool have(const char* plugin) { return imio::has_plugin(plugin); }

// exiftool's warnings about a file ("ExifTool:Warning"), or empty.
std::string exiftool_warning(const Dict& j) {
  const Value* w = j.lookup("ExifTool:Warning");
  return w == nullptr ? std::string() : imio::to_json(*w);
}

}  // namespace

TEST_CASE("read_exif_tags(write_exif_tags(x)) == x in both byte orders", "[exif][write]") {
  const Dict tags = camera_tags();
  for (const auto order : {std::endian::little, std::endian::big}) {
    const Bytes block = imio::write_exif_tags(tags, order);
    CHECK(std::to_integer<char>(block[0]) == (order == std::endian::little ? 'I' : 'M'));
    const Dict back = imio::read_exif_tags(block);
    CHECK(back == tags);
    // with the JPEG APP1 prefix too
    Bytes app1 = b(std::string_view("Exif\0\0", 6));
    app1.insert(app1.end(), block.begin(), block.end());
    CHECK(imio::read_exif_tags(app1) == tags);
  }
}

TEST_CASE("rationals come back as the same double", "[exif][write]") {
  std::vector<double> values{0.0, 1.0 / 3, 1.0 / 250, 2.8, 5.6, 0.1, 1e-7, 4294967295.0, 123456.789, 1.0 / 8000};
  for (const double v : values) {
    CAPTURE(v);
    const Dict tags{{"IFD0", Dict{}}, {"ExifIFD", Dict{{"ExposureTime", v}}}};
    const Dict back = imio::read_exif_tags(imio::write_exif_tags(tags));
    const double got = back.at("ExifIFD").ref<Dict>().get<double>("ExposureTime");
    if (v >= 1.0 / 4294967295.0) CHECK(got == v);
    else CHECK(std::fabs(got - v) < 1e-9);
  }
  // NaN (a zero denominator read) is written as 0/0
  const Dict nan{{"IFD0", Dict{{"XResolution", std::nan("")}}}};
  CHECK(std::isnan(imio::read_exif_tags(imio::write_exif_tags(nan)).at("IFD0").ref<Dict>().get<double>("XResolution")));
}

TEST_CASE("the IFD1 thumbnail is written when given as ThumbnailImage", "[exif][write]") {
  const Bytes thumb = b("\xFF\xD8 not really a JPEG \xFF\xD9");
  const Dict tags{{"IFD0", Dict{{"Make", "X"}}},
                  {"IFD1", Dict{{"Compression", 6}, {"ThumbnailOffset", 999}, {"ThumbnailImage", thumb}}}};
  const Bytes block = imio::write_exif_tags(tags);
  const Dict back = imio::read_exif_tags(block);
  const Dict& ifd1 = back.at("IFD1").ref<Dict>();
  const auto offset = static_cast<std::size_t>(ifd1.get<std::int64_t>("ThumbnailOffset"));
  REQUIRE(ifd1.get<std::int64_t>("ThumbnailLength") == static_cast<std::int64_t>(thumb.size()));
  REQUIRE(offset + thumb.size() <= block.size());
  CHECK(Bytes(block.begin() + static_cast<std::ptrdiff_t>(offset),
              block.begin() + static_cast<std::ptrdiff_t>(offset + thumb.size())) == thumb);
  // without the data, the offset and length are structure and are dropped
  const Dict no_data{{"IFD0", Dict{}}, {"IFD1", Dict{{"Compression", 6}, {"ThumbnailOffset", 9}, {"ThumbnailLength", 3}}}};
  CHECK(imio::read_exif_tags(imio::write_exif_tags(no_data)).at("IFD1") == Value(Dict{{"Compression", 6}}));
}

TEST_CASE("bad EXIF dicts are ArgumentErrors naming the IFD and the tag", "[exif][write]") {
  const auto refuses = [](const Dict& tags, const std::string& part) {
    const std::string m = imio_test::message_of<imio::ArgumentError>([&] { imio::write_exif_tags(tags); });
    CHECK_THAT(m, Catch::Matchers::Contains(part));
  };
  refuses(Dict{{"IFD9", Dict{}}}, "'IFD9' is not an IFD name");
  refuses(Dict{{"IFD0", 3}}, "EXIF IFD0: expects a dict");
  refuses(Dict{{"IFD0", Dict{{"Maker", "x"}}}}, "EXIF IFD0 tag 'Maker': unknown tag name");
  refuses(Dict{{"IFD0", Dict{{"Make", 3}}}}, "EXIF IFD0 tag 'Make': expects a str");
  refuses(Dict{{"IFD0", Dict{{"Orientation", "up"}}}}, "EXIF IFD0 tag 'Orientation': expects numbers, got str");
  refuses(Dict{{"IFD0", Dict{{"Orientation", -1}}}}, "does not fit a LONG");
  refuses(Dict{{"IFD0", Dict{{"Orientation", 1.5}}}}, "takes int values");
  refuses(Dict{{"ExifIFD", Dict{{"ExposureTime", -1.0}}}}, "a RATIONAL is unsigned");
  refuses(Dict{{"ExifIFD", Dict{{"ExposureTime", 1e12}}}}, "beyond the 32-bit numerator");
  refuses(Dict{{"ExifIFD", Dict{{"ExposureTime", Value::List{}}}}}, "an empty list");
  refuses(Dict{{"IFD0", Dict{{"Make", std::string("a\0b", 3)}}}}, "holding a NUL");
  refuses(Dict{{"IFD0", Dict{{"ExifOffset", 26}}}}, "EXIF IFD0 tag 'ExifOffset': unknown tag name");
  refuses(Dict{{"IFD0", Dict{{"0x8769", 26}}}}, "an IFD pointer is structure");
  refuses(Dict{{"GPS", Dict{{"Make", "x"}}}}, "EXIF GPS tag 'Make': unknown GPS tag name");
  refuses(Dict{{"IFD0", Dict{{"0xabcd", Value(Dict{})}}}}, "expects numbers, got dict");
  refuses(Dict{{"IFD0", Dict{{"ImageWidth", 1}, {"0x0100", 2}}}}, "tag 0x0100 is given twice");
}

TEST_CASE("read_iptc_tags(write_iptc_tags(x)) == x", "[iptc][write]") {
  const Dict iptc{{"CodedCharacterSet", "\x1b%G"},
                  {"ApplicationRecordVersion", 4},
                  {"ObjectName", "Título"},
                  {"Keywords", Value{"one", "two", "three"}},
                  {"By-line", "Photographer"},
                  {"Caption-Abstract", std::string(40000, 'c')},  // an extended dataset (IIM §1.5.4)
                  {"2:200", 3},
                  {"2:240", "numbered"}};
  const Bytes iim = imio::write_iptc_tags(iptc);
  Dict expected = iptc;
  expected.set("ObjectPreviewFileFormat", 3);  // 2:200 has a name: it reads back under it
  expected.erase("2:200");
  Dict reordered;
  for (const char* k : {"CodedCharacterSet", "ApplicationRecordVersion", "ObjectName", "Keywords", "By-line",
                        "Caption-Abstract", "ObjectPreviewFileFormat", "2:240"}) {
    reordered.set(k, expected.at(k));
  }
  CHECK(imio::read_iptc_tags(iim) == reordered);
  // the 8BIM resource holds it and photoshop_resource finds it again
  CHECK(imio::photoshop_resource(imio::photoshop_resource_block(0x0404, iim), 0x0404) == iim);
}

TEST_CASE("bad IPTC dicts are ArgumentErrors naming the dataset", "[iptc][write]") {
  const auto refuses = [](const Dict& d, const std::string& part) {
    const std::string m = imio_test::message_of<imio::ArgumentError>([&] { imio::write_iptc_tags(d); });
    CHECK_THAT(m, Catch::Matchers::Contains(part));
  };
  refuses(Dict{{"Keyword", "x"}}, "IPTC dataset 'Keyword': unknown name");
  refuses(Dict{{"Keywords", 3}}, "IPTC dataset 'Keywords': expects a str");
  refuses(Dict{{"ApplicationRecordVersion", "4"}}, "expects an int");
  refuses(Dict{{"ObjectPreviewData", "text"}}, "expects bytes");
  refuses(Dict{{"300:1", "x"}}, "record 1…255");
  refuses(Dict{{"Keywords", Value::List{}}}, "an empty list");
}

TEST_CASE("set_exif_orientation changes the value in place or rebuilds the block", "[exif][write]") {
  const Bytes block = imio::write_exif_tags(camera_tags());
  const Bytes turned = imio::set_exif_orientation(block, 1);
  REQUIRE(turned.size() == block.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < block.size(); ++i) differing += block[i] != turned[i];
  CHECK(differing == 1);
  CHECK(imio::exif_orientation(turned) == 1);
  // no Orientation: the block is rebuilt with it
  const Bytes plain = imio::write_exif_tags(Dict{{"IFD0", Dict{{"Make", "X"}}}}, std::endian::big);
  CHECK(imio::exif_orientation(imio::set_exif_orientation(plain, 8)) == 8);
  CHECK(imio::exif_orientation(imio::set_exif_orientation({}, 3)) == 3);
  CHECK_THROWS_AS(imio::set_exif_orientation(block, 9), imio::ArgumentError);
}

TEST_CASE("the writers take exif as a dict, xmp, iptc and icc_profile", "[write][plugins]") {
  const Dict tags = camera_tags();
  const std::string xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
                          "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:format=\"image/x\"/>"
                          "</rdf:RDF></x:xmpmeta>";
  const Dict iptc{{"ObjectName", "name"}, {"Keywords", Value{"a", "b"}}};
  const Bytes icc = icc_profile();
  imio_test::TempDir tmp;
  struct Case {
    const char* plugin;
    const char* ext;
    bool iptc, exif;
  };
  for (const Case& c : {Case{"libjpeg", ".jpg", true, true}, Case{"libpng", ".png", true, true},
                        Case{"libtiff", ".tif", true, true}, Case{"libwebp", ".webp", false, true}}) {
    if (!have(c.plugin)) continue;
    CAPTURE(c.plugin);
    imio::Kwargs kw{{"xmp", xmp}, {"icc_profile", icc}};
    if (c.exif) kw.emplace_back("exif", tags);
    if (c.iptc) kw.emplace_back("iptc", iptc);
    const fs::path p = tmp / (std::string("out") + c.ext);
    imio::imwrite(p, small_image(), {.kwargs = kw});
    const Dict m = imio::immeta(p);
    if (c.exif && m.contains("exif")) CHECK(imio::read_exif_tags(m.get<Bytes>("exif")) == tags);
    if (c.iptc && m.contains("iptc")) CHECK(imio::read_iptc_tags(m.get<Bytes>("iptc")) == iptc);
  }
}

TEST_CASE("HEIF and JPEG XL writers take exif as a dict through the same helper", "[write][plugins]") {
  const Dict tags = camera_tags();
  for (const auto& format : {std::pair{"libheif", ".heic"}, std::pair{"libjxl", ".jxl"}}) {
    const char* plugin = format.first;
    const char* ext = format.second;  // not structured bindings: a lambda captures it (clang 14)
    if (!have(plugin)) continue;
    CAPTURE(plugin);
    std::optional<Bytes> encoded;
    try {
      encoded = imio::imwrite("<bytes>", small_image(), {.extension = ext, .kwargs = {{"exif", tags}, {"xmp", "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>"}}});
    } catch (const imio::EncodeError& e) {
      WARN("skipped: " << e.what());  // a libheif without an HEVC encoder
      continue;
    }
    const Dict m = imio::immeta(imio::ImageResource(*encoded), {.extension = ext, .exclude_applied = false});
    REQUIRE(m.contains("exif"));
    CHECK(imio::read_exif_tags(m.get<Bytes>("exif")) == tags);
    // the EXIF's Orientation (6) is the format's own too (one orientation rule)
    CHECK(m.get<std::int64_t>("Orientation") == 6);
    CHECK_THAT(imio_test::message_of<imio::ArgumentError>([&] {
                 imio::imwrite("<bytes>", small_image(), {.extension = ext, .kwargs = {{"exif", Dict{{"IFD0", Dict{{"Make", 1}}}}}}});
               }),
               Catch::Matchers::Contains("keyword 'exif': EXIF IFD0 tag 'Make'"));
  }
}

TEST_CASE("metadata kwargs that make no block are ArgumentErrors naming the key", "[write][plugins]") {
  if (!have("libjpeg")) return;
  const auto refuses = [](const imio::Kwargs& kw, const std::string& part) {
    const std::string m = imio_test::message_of<imio::ArgumentError>(
        [&] { imio::imwrite("<bytes>", small_image(), {.extension = ".jpg", .kwargs = kw}); });
    CHECK_THAT(m, Catch::Matchers::Contains(part));
  };
  refuses({{"exif", Dict{{"IFD0", Dict{{"Make", 3}}}}}}, "keyword 'exif': EXIF IFD0 tag 'Make': expects a str");
  refuses({{"exif", b("not a tiff block")}}, "keyword 'exif': is not an EXIF block");
  refuses({{"exif", Dict{{"IFD0", Dict{{"MakerNote", Bytes(70000)}}}}}}, "a JPEG APP1 segment holds 65527");
  refuses({{"xmp", 3}}, "keyword 'xmp'");
  refuses({{"iptc", Dict{{"Keyword", "x"}}}}, "keyword 'iptc': IPTC dataset 'Keyword': unknown name");
  refuses({{"iptc", Dict{{"Caption-Abstract", std::string(70000, 'c')}}}}, "a JPEG APP13 segment holds");
  refuses({{"orientation", 9}}, "orientation");
  if (have("libwebp")) {  // no place for IPTC in WebP: not a kwarg of its writer
    const std::string m = imio_test::message_of<imio::ArgumentError>([&] {
      imio::imwrite("<bytes>", small_image(), {.extension = ".webp", .kwargs = {{"iptc", b("\x1c\x02\x05\x00\x01x")}}});
    });
    CHECK_THAT(m, Catch::Matchers::Contains("iptc"));
  }
}

TEST_CASE("an orientation kwarg is written into the EXIF, one rule for every writer", "[write][plugins]") {
  // each extension with the plugin whose writer takes the kwarg: without it another plugin (FFmpeg)
  // may serve the extension and rightly refuse an orientation
  const std::pair<const char*, const char*> writers[] = {{".jpg", "libjpeg"}, {".png", "libpng"}, {".webp", "libwebp"}};
  for (const auto& writer : writers) {
    const char* ext = writer.first;  // not a structured binding: clang 14 cannot capture those in a lambda
    if (!have(writer.second)) continue;
    CAPTURE(ext);
    const auto encoded = [&](const imio::Kwargs& kw) {
      return imio::imwrite("<bytes>", small_image(), {.extension = ext, .kwargs = kw});
    };
    // alone: a block holding only it
    Dict m = imio::immeta(imio::ImageResource(*encoded({{"orientation", 6}})), {.extension = ext});
    REQUIRE(m.contains("exif"));
    CHECK(imio::exif_orientation(m.get<Bytes>("exif")) == 6);
    // with an EXIF block saying otherwise: the kwarg wins
    m = imio::immeta(imio::ImageResource(*encoded({{"orientation", 3}, {"exif", camera_tags()}})), {.extension = ext});
    CHECK(imio::exif_orientation(m.get<Bytes>("exif")) == 3);
    // without the kwarg, the EXIF's own stays
    m = imio::immeta(imio::ImageResource(*encoded({{"exif", camera_tags()}})), {.extension = ext});
    CHECK(imio::exif_orientation(m.get<Bytes>("exif")) == 6);
  }
}

TEST_CASE("exiftool reads the EXIF imio writes as it reads the corpus JPEG it came from", "[write][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  if (!have("libjpeg")) return;
  const fs::path root = imio_test::corpus_dir() / "jpeg" / "exiftool";
  if (!fs::is_directory(root)) {
    WARN("skipped: no corpus at " << root);
    return;
  }
  imio_test::TempDir tmp;
  std::vector<fs::path> sources, written;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() != ".jpg") continue;
    Dict meta;
    try {
      meta = imio::immeta(entry.path());
    } catch (const imio::Error&) {
      continue;
    }
    const Value* exif = meta.lookup("exif");
    if (exif == nullptr || !exif->is<Bytes>()) continue;
    Dict tags;
    try {
      tags = imio::read_exif_tags(exif->ref<Bytes>());
    } catch (const imio::DecodeError&) {
      continue;
    }
    // the thumbnail, as bytes (its offset is relative to the TIFF header)
    if (const Value* ifd1 = tags.lookup("IFD1")) {
      Dict d = ifd1->ref<Dict>();
      const auto off = d.find<std::int64_t>("ThumbnailOffset"), len = d.find<std::int64_t>("ThumbnailLength");
      const Bytes& raw = exif->ref<Bytes>();
      const std::size_t base = raw.size() >= 6 && std::memcmp(raw.data(), "Exif\0\0", 6) == 0 ? 6 : 0;
      if (off && len && base + static_cast<std::size_t>(*off + *len) <= raw.size()) {
        const auto from = raw.begin() + static_cast<std::ptrdiff_t>(base + static_cast<std::size_t>(*off));
        d.set("ThumbnailImage", Bytes(from, from + static_cast<std::ptrdiff_t>(*len)));
        tags.set("IFD1", std::move(d));
      }
    }
    const fs::path out = tmp / entry.path().filename();
    try {
      imio::imwrite(out, small_image(), {.kwargs = {{"exif", tags}}});
    } catch (const imio::ArgumentError& e) {
      FAIL_CHECK(entry.path().filename().string() << ": " << e.what());
      continue;
    }
    // imio reads back what it wrote
    Dict again = imio::read_exif_tags(imio::immeta(out).get<Bytes>("exif"));
    for (auto* t : {&tags, &again}) {
      if (const Value* ifd1 = t->lookup("IFD1")) {
        Dict d = ifd1->ref<Dict>();
        d.erase("ThumbnailOffset");
        d.erase("ThumbnailLength");
        d.erase("ThumbnailImage");
        t->set("IFD1", std::move(d));
      }
    }
    // a file's IFD out of tag order (InfiRay.jpg's) is written sorted (TIFF 6.0 §2)
    CHECK(canonical(again) == canonical(tags));
    sources.push_back(entry.path());
    written.push_back(out);
  }
  REQUIRE(sources.size() >= 20);
  std::vector<fs::path> all = sources;
  all.insert(all.end(), written.begin(), written.end());
  const std::vector<Dict> j = imio_test::exiftool_json(all);
  REQUIRE(j.size() == all.size());
  std::size_t compared = 0;
  std::vector<std::string> mismatches;
  // ThumbnailOffset is a file offset; exiftool finds the maker notes by
  // their own offsets, which a rebuilt block moves (it says so, below).
  const std::set<std::string> skip{"ThumbnailOffset"};
  for (std::size_t i = 0; i < sources.size(); ++i) {
    // a thumbnail cut by the end of the block was not given (nor written)
    std::set<std::string> skip_here = skip;
    if (!j[sources.size() + i].contains("IFD1:ThumbnailLength")) skip_here.insert("ThumbnailLength");
    const Dict a = groups_of(j[i], kExifGroups, skip_here), c = groups_of(j[sources.size() + i], kExifGroups, skip_here);
    compared += a.size();
    for (const std::string& d : differences(a, c)) mismatches.push_back(sources[i].filename().string() + " " + d);
    const std::string warning = exiftool_warning(j[sources.size() + i]);
    // a rebuilt block moves the maker notes, whose own offsets some
    // vendors count from the TIFF header: exiftool notices
    if (!warning.empty() && !imio_test::contains(warning, "maker notes") && !imio_test::contains(warning, "MakerNote") &&
        !imio_test::contains(warning, "decision data")) {
      mismatches.push_back(sources[i].filename().string() + " exiftool warns: " + warning);
    }
  }
  std::printf("EXIF rewritten from the parsed form: %zu files, %zu exiftool tags compared, %zu differences\n",
              sources.size(), compared, mismatches.size());
  for (const auto& m : mismatches) UNSCOPED_INFO(m);
  CHECK(mismatches.empty());
  CHECK(compared > 500);
}

TEST_CASE("exiftool reads the EXIF, XMP, IPTC and ICC imio writes in JPEG, PNG, TIFF, WebP, HEIF, AVIF and JPEG XL", "[write][oracle]") {
  REQUIRE_EXIFTOOL();
  IMIO_CORPUS_OR_SKIP(source, "jpeg/exiftool/ExifTool.jpg");
  if (!have("libjpeg")) return;
  const Dict meta = imio::immeta(source);
  REQUIRE(meta.contains("xmp"));
  REQUIRE(meta.contains("iptc"));
  REQUIRE(meta.contains("icc_profile"));
  const Dict iptc = imio::read_iptc_tags(meta.get<Bytes>("iptc"));
  imio_test::TempDir tmp;
  struct Case {
    const char* plugin;
    const char* ext;
    bool iptc, icc;
  };
  std::vector<fs::path> files{source};
  // (libjxl and libheif take only ICC profiles they can parse: this one's
  // ICC is checked in the other formats)
  for (const Case& c : {Case{"libjpeg", ".jpg", true, true}, Case{"libpng", ".png", true, true},
                        Case{"libtiff", ".tif", true, true}, Case{"libwebp", ".webp", false, true},
                        Case{"libheif", ".heic", false, false}, Case{"libheif", ".avif", false, false},
                        Case{"libjxl", ".jxl", false, false}}) {
    if (!have(c.plugin)) continue;
    imio::Kwargs kw{{"xmp", meta.at("xmp")}, {"exif", imio::read_exif_tags(meta.get<Bytes>("exif"))}};
    if (c.icc) kw.emplace_back("icc_profile", meta.at("icc_profile"));
    if (c.iptc) kw.emplace_back("iptc", iptc);  // the parsed form, rebuilt
    const fs::path out = tmp / (std::string("out") + c.ext);
    try {
      imio::imwrite(out, small_image(), {.kwargs = kw});
    } catch (const imio::EncodeError& e) {
      WARN("skipped " << c.ext << ": " << e.what());  // a libheif without that encoder
      continue;
    }
    files.push_back(out);
  }
  const std::vector<Dict> j = imio_test::exiftool_json(files);
  const Dict xmp = groups_of(j[0], {"XMP*"}), icc = groups_of(j[0], {"ICC*"}), iptc_j = groups_of(j[0], {"IPTC"});
  const Dict exif = groups_of(j[0], kExifGroups, {"ThumbnailOffset", "ThumbnailLength", "ThumbnailImage"});
  REQUIRE(xmp.size() > 5);
  REQUIRE(icc.size() > 10);
  REQUIRE(iptc_j.size() > 3);
  for (std::size_t i = 1; i < files.size(); ++i) {
    CAPTURE(files[i].filename().string());
    CHECK(differences(xmp, groups_of(j[i], {"XMP*"})).empty());
    const std::string ext = files[i].extension().string();
    if (ext != ".heic" && ext != ".avif" && ext != ".jxl") CHECK(differences(icc, groups_of(j[i], {"ICC*"})).empty());
    if (ext == ".jpg" || ext == ".png" || ext == ".tif") {
      CHECK(differences(iptc_j, groups_of(j[i], {"IPTC"})).empty());
    }
    {
      // IFD1 is dropped: its thumbnail was not given as ThumbnailImage. A
      // TIFF's IFD0 is the page's: it holds the EXIF's Make, Model, Artist,
      // Copyright and Orientation only (beside the page's own tags)
      const bool tiff = files[i].extension() == ".tif";
      const auto wanted = [&](const std::string& k) {
        if (k.rfind("IFD1:", 0) == 0) return false;
        if (!tiff || k.rfind("IFD0:", 0) != 0) return true;
        for (const char* t : {"IFD0:Make", "IFD0:Model", "IFD0:Artist", "IFD0:Copyright", "IFD0:Orientation"}) {
          if (k == t) return true;
        }
        return false;
      };
      Dict theirs, mine;
      for (const auto& [k, v] : groups_of(j[i], kExifGroups)) {
        if (wanted(k) && (!tiff || k.rfind("IFD0:", 0) != 0 || exif.contains(k))) theirs.set(k, v);
      }
      for (const auto& [k, v] : exif) {
        if (wanted(k)) mine.set(k, v);
      }
      const auto d = differences(mine, theirs);
      for (const auto& line : d) UNSCOPED_INFO(line);
      CHECK(d.empty());
    }
    INFO(exiftool_warning(j[i]));
    CHECK(exiftool_warning(j[i]).empty());
  }
}

TEST_CASE("an XMP packet larger than a JPEG segment becomes extended XMP", "[write][plugins]") {
  if (!have("libjpeg")) return;
  // The GUID is the packet's MD5 (RFC 1321 test suite, A.5)
  const auto guid = [](std::string_view packet) {
    const auto segments = imio::xmp_jpeg_segments(b(packet));
    const std::string standard = imio_test::to_string(segments.front());
    const auto at = standard.find("HasExtendedXMP=\"");
    return standard.substr(at + 16, 32);
  };
  CHECK(guid(std::string(70000, 'a')).size() == 32);
  std::string big = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
                    "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:description>"
                    "<rdf:Alt><rdf:li xml:lang=\"x-default\">";
  for (int i = 0; i < 25000; ++i) big += "word" + std::to_string(i % 10) + " ";
  big += "</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>";
  REQUIRE(big.size() > 2 * 65458);
  const auto segments = imio::xmp_jpeg_segments(b(big));
  CHECK(segments.size() == 1 + (big.size() + 65457) / 65458);
  for (const Bytes& s : segments) CHECK(s.size() <= 65533);
  imio_test::TempDir tmp;
  const fs::path p = tmp / "big.jpg";
  imio::imwrite(p, small_image(), {.kwargs = {{"xmp", big}}});
  const Dict m = imio::immeta(p);
  CHECK(m.get<Bytes>("xmp_extended") == b(big));
  CHECK(imio_test::contains(imio_test::to_string(m.get<Bytes>("xmp")), "HasExtendedXMP"));
  if (!imio_test::exiftool_available()) return;
  // exiftool joins the extension (and checks nothing is missing)
  const Dict j = imio_test::exiftool_json({p}).front();
  CHECK_FALSE(j.contains("ExifTool:Warning"));
  const Value* description = j.lookup("XMP-dc:Description");
  REQUIRE(description != nullptr);
  CHECK(description->get<std::string>().size() > 100000);
  CHECK(j.get<std::string>("XMP-xmpNote:HasExtendedXMP") == guid(big));
}

TEST_CASE("the extended XMP GUID is the MD5 of the packet", "[write]") {
  // the digest Python's hashlib gives: hashlib.md5(b"a" * 70000).hexdigest().upper()
  const auto segments = imio::xmp_jpeg_segments(b(std::string(70000, 'a')));
  CHECK(imio_test::contains(imio_test::to_string(segments.front()), "HasExtendedXMP=\"0B21388E04A856F824A29C58D71C8D40\""));
  // each extension segment: the GUID, the full length, its offset
  const Bytes& second = segments.at(2);
  CHECK(imio_test::to_string(std::span(second).subspan(35, 32)) == "0B21388E04A856F824A29C58D71C8D40");
  CHECK(std::to_integer<int>(second[35 + 32 + 1]) == 0x01);  // 70000 = 0x00011170
  CHECK(std::to_integer<int>(second[35 + 32 + 6]) == 0xFF);  // offset 65458 = 0x0000FFB2
  CHECK(std::to_integer<int>(second[35 + 32 + 7]) == 0xB2);
}

TEST_CASE("every EXIF block of the corpus that reads is rebuilt from its parsed form", "[write][corpus]") {
  const fs::path root = imio_test::corpus_dir();
  if (!fs::is_directory(root)) {
    WARN("skipped: no corpus at " << root);
    return;
  }
  std::size_t parsed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || entry.file_size() > 20'000'000) continue;
    if (ext != ".jpg" && ext != ".JPG" && ext != ".jpeg" && ext != ".png" && ext != ".webp") continue;
    Dict meta, tags;
    try {
      meta = imio::immeta(entry.path());
      const Value* exif = meta.lookup("exif");
      if (exif == nullptr || !exif->is<Bytes>()) continue;
      tags = imio::read_exif_tags(exif->ref<Bytes>());
    } catch (const imio::Error&) {
      continue;  // damaged files: the readers' tests
    }
    ++parsed;
    CAPTURE(entry.path().string());
    for (const auto order : {std::endian::little, std::endian::big}) {
      Dict again = imio::read_exif_tags(imio::write_exif_tags(tags, order));
      for (auto* t : {&tags, &again}) {
        if (const Value* ifd1 = t->lookup("IFD1")) {
          Dict d = ifd1->ref<Dict>();
          d.erase("ThumbnailOffset");
          d.erase("ThumbnailLength");
          t->set("IFD1", std::move(d));
        }
      }
      CHECK(canonical(again) == canonical(tags));
    }
  }
  std::printf("EXIF blocks of the corpus rebuilt from their parsed form: %zu\n", parsed);
  if (have("libjpeg")) CHECK(parsed >= 60);  // the corpus's EXIF lives mostly in JPEGs
}

TEST_CASE("copy_metadata rebuilds EXIF from a TIFF page's parsed form, without the page's storage tags", "[write][copy]") {
  if (!have("libtiff") || !have("libjpeg")) return;
  imio_test::TempDir dir;
  const fs::path tif = dir / "camera.tif";
  imio::imwrite(tif, small_image(), {.kwargs = {{"exif", camera_tags()}}});
  const Dict source = imio::immeta(tif, {.plugin = "libtiff"});
  REQUIRE_FALSE(source.contains("exif"));  // a TIFF gives the parsed form only
  REQUIRE(source.contains("exif_tags"));

  const imio::MetadataCopy copy = imio::copy_metadata(source, "libjpeg");
  REQUIRE(std::find(copy.carried.begin(), copy.carried.end(), "exif") != copy.carried.end());
  const Value* exif = nullptr;
  for (const auto& [key, value] : copy.kwargs) {
    if (key == "exif") exif = &value;
  }
  REQUIRE(exif != nullptr);
  const Dict tags = imio::read_exif_tags(exif->ref<Bytes>());
  const Dict& ifd0 = tags.at("IFD0").ref<Dict>();
  CHECK(ifd0.get<std::string>("Make") == "Canon");
  CHECK(ifd0.get<std::int64_t>("Orientation") == 6);
  for (const char* storage : {"ImageWidth", "ImageHeight", "BitsPerSample", "Compression", "StripOffsets",
                              "StripByteCounts", "RowsPerStrip", "SamplesPerPixel", "PhotometricInterpretation"}) {
    CAPTURE(storage);
    CHECK_FALSE(ifd0.contains(storage));
  }
  CHECK_FALSE(tags.contains("IFD1"));
  const Dict want = imio::read_exif_tags(imio::write_exif_tags(camera_tags()));  // as a JPEG's would read
  for (const char* ifd : {"ExifIFD", "GPS", "InteropIFD"}) {
    CAPTURE(ifd);
    CHECK(canonical(Dict{{ifd, tags.at(ifd)}}) == canonical(Dict{{ifd, want.at(ifd)}}));
  }
  // upright pixels: the carried Orientation is reset
  const imio::MetadataCopy upright = imio::copy_metadata(source, "libjpeg", {.orientation_applied = true});
  for (const auto& [key, value] : upright.kwargs) {
    if (key == "exif") CHECK(imio::exif_orientation(value.ref<Bytes>()) == 1);
  }
  // and the JPEG written with it reads back with the same tags
  const auto jpeg = imio::imwrite("<bytes>", small_image(), {.extension = ".jpg", .kwargs = copy.kwargs});
  const Dict back = imio::immeta(imio::ImageResource(*jpeg), {.extension = ".jpg"});
  CHECK(back.at("exif_tags").ref<Dict>().at("IFD0").ref<Dict>().get<std::string>("Make") == "Canon");
}
