// `imio convert` carries a photo's metadata (EXIF, XMP, IPTC, ICC) to the
// target format where it has a place, reports what it could not carry on
// stdout as JSON, and drops everything with --strip-metadata.
#include <imio/imio.hpp>
#include <imio/exif.hpp>
#include <imio/metadata_write.hpp>
#include <imio/registry.hpp>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "command_line.hpp"
#include "exiftool_oracle.hpp"
#include "plugins_built.hpp"
#include "run_program.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio::Bytes;
using imio::Dict;
using imio::Value;
using imio_test::contains;
using imio_test::ProgramResult;
using imio_test::run_imio;
using imio_test::TempDir;

namespace {

imio::NDArray photo(std::size_t h, std::size_t w) {
  imio::NDArray a(imio::Shape{h, w, 3}, imio::DType::uint8);
  auto* p = reinterpret_cast<std::uint8_t*>(a.bytes());
  for (std::size_t i = 0; i < a.nbytes(); ++i) p[i] = static_cast<std::uint8_t>((i / 3) % 251);
  return a;
}

// A small ICC v2 profile (ICC.1:2001-04): the header and one 'desc' tag
// (textDescriptionType, §6.5.17).
Bytes icc_profile() {
  Bytes p(244);
  const auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (24 - 8 * i));
  };
  const auto text = [&](std::size_t at, std::string_view s) { std::memcpy(p.data() + at, s.data(), s.size()); };
  put32(0, 244);
  put32(8, 0x02100000);
  text(12, "mntrRGB XYZ ");
  text(36, "acsp");
  put32(128, 1);                                  // one tag
  text(132, "desc");
  put32(136, 144);
  put32(140, 100);
  text(144, "desc");
  put32(152, 10);                                 // ASCII count, NUL included
  text(156, "imio test");
  return p;
}

const std::string kXmp =
    "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "
    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" "
    "xmp:Rating=\"4\" xmp:CreatorTool=\"imio\"/></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>";

// A JPEG with EXIF (Orientation 6, a GPS IFD), XMP, IPTC and an ICC profile.
void write_tagged_jpeg(const fs::path& p) {
  const Dict exif{{"IFD0", Dict{{"Make", "imio"}, {"Model", "test"}, {"Orientation", 6}}},
                  {"ExifIFD", Dict{{"ExposureTime", 0.004}, {"ISO", 200}, {"DateTimeOriginal", "2024:05:06 07:08:09"}}},
                  {"GPS", Dict{{"GPSLatitudeRef", "S"}, {"GPSLatitude", Value{33.0, 51.0, 54.5}}}}};
  imio::imwrite(p, photo(24, 32),
                {.kwargs = {{"exif", exif},
                            {"xmp", kXmp},
                            {"iptc", Dict{{"Keywords", Value{"a", "b"}}, {"City", "Paris"}}},
                            {"icc_profile", icc_profile()}}});
}

void check_ok(const ProgramResult& r) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

Dict report(const ProgramResult& r) {
  INFO("stdout: " << r.out);
  const Value v = imio::from_json(r.out);
  REQUIRE(v.is<Dict>());
  return v.ref<Dict>().get<Dict>("metadata");
}

std::vector<std::string> carried(const Dict& report) {
  std::vector<std::string> out;
  for (const Value& v : report.get<Value::List>("carried")) out.push_back(v.get<std::string>());
  return out;
}

// exiftool's tags of the EXIF groups, the XMP and ICC groups.
Dict metadata_groups(const Dict& j) {
  Dict out;
  for (const auto& [key, value] : j) {
    const std::string group = key.substr(0, key.find(':'));
    const bool exif = group == "IFD0" || group == "ExifIFD" || group == "GPS" || group == "InteropIFD" || group == "IFD1";
    if (key == "IFD1:ThumbnailOffset") continue;  // a file offset
    if (exif || group == "IPTC" || group.rfind("XMP", 0) == 0 || group.rfind("ICC", 0) == 0) out.set(key, value);
  }
  return out;
}

}  // namespace

TEST_CASE("imio convert in.jpg out.png then out.png out.jpg keeps EXIF, XMP, IPTC and ICC byte for byte", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg", "libpng"})) return;
  TempDir tmp;
  const fs::path in = tmp / "in.jpg", png = tmp / "out.png", out = tmp / "out.jpg";
  write_tagged_jpeg(in);
  const ProgramResult first = run_imio({"convert", in.string(), png.string()});
  check_ok(first);
  const Dict r1 = report(first);
  CHECK(carried(r1) == std::vector<std::string>{"exif", "xmp", "iptc", "icc_profile"});
  CHECK(r1.get<Dict>("not_carried").empty());
  const ProgramResult second = run_imio({"convert", png.string(), out.string()});
  check_ok(second);
  CHECK(carried(report(second)) == std::vector<std::string>{"exif", "xmp", "iptc", "icc_profile"});

  const Dict a = imio::immeta(in), b = imio::immeta(png), c = imio::immeta(out);
  for (const char* key : {"exif", "icc_profile", "iptc"}) {
    CAPTURE(key);
    CHECK(c.get<Bytes>(key) == a.get<Bytes>(key));
  }
  CHECK(imio::read_exif_tags(b.get<Bytes>("exif")) == imio::read_exif_tags(a.get<Bytes>("exif")));
  CHECK(b.get<Bytes>("icc_profile") == a.get<Bytes>("icc_profile"));
  CHECK(c.get<Bytes>("xmp") == imio_test::to_bytes(kXmp));
  CHECK(c.get<Bytes>("xmp") == a.get<Bytes>("xmp"));
  // the pixels were not turned: the Orientation stays
  CHECK(imio::exif_orientation(c.get<Bytes>("exif")) == 6);

  if (!imio_test::exiftool_available()) {
    WARN("skipped the exiftool comparison: exiftool is not installed");
    return;
  }
  const std::vector<Dict> j = imio_test::exiftool_json({in, png, out});
  const Dict first_tags = metadata_groups(j[0]), last_tags = metadata_groups(j[2]);
  CHECK(first_tags.size() > 12);
  CHECK(first_tags == last_tags);
  CHECK(first_tags.lookup("XMP-xmp:Rating") != nullptr);
  CHECK(first_tags.lookup("GPS:GPSLatitude") != nullptr);
  CHECK(first_tags.lookup("IPTC:City") != nullptr);
  for (const Dict& file : j) CHECK_FALSE(file.contains("ExifTool:Warning"));
}

TEST_CASE("imio convert of exiftool's test image keeps what exiftool shows", "[metadata][corpus]") {
  if (!imio_test::plugins_built({"libjpeg", "libpng"}) || !imio_test::exiftool_available()) return;
  IMIO_CORPUS_OR_SKIP(in, "jpeg/exiftool/ExifTool.jpg");
  TempDir tmp;
  const fs::path png = tmp / "out.png", out = tmp / "out.jpg";
  check_ok(run_imio({"convert", in.string(), png.string()}));
  check_ok(run_imio({"convert", png.string(), out.string()}));
  const std::vector<Dict> j = imio_test::exiftool_json({in, out});
  const Dict first = metadata_groups(j[0]), last = metadata_groups(j[1]);
  CHECK(first.size() > 50);
  CHECK(first == last);
  // its EXIF and ICC come back byte for byte (its XMP is UTF-16: PNG's iTXt holds it as UTF-8)
  CHECK(imio::immeta(out).get<Bytes>("exif") == imio::immeta(in).get<Bytes>("exif"));
  CHECK(imio::immeta(out).get<Bytes>("icc_profile") == imio::immeta(in).get<Bytes>("icc_profile"));
}

TEST_CASE("imio convert --strip-metadata carries nothing and prints nothing", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg", "libpng"})) return;
  TempDir tmp;
  write_tagged_jpeg(tmp / "in.jpg");
  const ProgramResult r = run_imio({"convert", (tmp / "in.jpg").string(), (tmp / "out.png").string(), "--strip-metadata"});
  check_ok(r);
  CHECK(r.out.empty());
  const Dict m = imio::immeta(tmp / "out.png");
  for (const char* key : {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp", "Raw profile type iptc"}) {
    CAPTURE(key);
    CHECK_FALSE(m.contains(key));
  }
  // and the same bytes as a plain imwrite(imread)
  imio::imwrite(tmp / "ref.png", imio::imread(tmp / "in.jpg"));
  CHECK(imio_test::read_file(tmp / "out.png") == imio_test::read_file(tmp / "ref.png"));
}

TEST_CASE("imio convert resets the EXIF Orientation when the read turned the pixels", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg", "libpng"})) return;
  TempDir tmp;
  write_tagged_jpeg(tmp / "in.jpg");
  check_ok(run_imio({"convert", (tmp / "in.jpg").string(), (tmp / "up.png").string(), "--kw", "rotate=true"}));
  const Dict m = imio::immeta(tmp / "up.png");
  CHECK(imio::exif_orientation(m.get<Bytes>("exif")) == 1);
  CHECK(imio::improps(tmp / "up.png").shape == imio::Shape{32, 24, 3});
  // everything else in the block is as it was
  Dict before = imio::read_exif_tags(imio::immeta(tmp / "in.jpg").get<Bytes>("exif"));
  Dict after = imio::read_exif_tags(m.get<Bytes>("exif"));
  Dict ifd0 = before.get<Dict>("IFD0");
  ifd0.set("Orientation", 1);
  before.set("IFD0", ifd0);
  CHECK(after == before);
}

TEST_CASE("imio convert reports what the target cannot hold, and writes the image anyway", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg", "libpng"})) return;
  TempDir tmp;
  write_tagged_jpeg(tmp / "in.jpg");
  if (imio::has_plugin("npy")) {
    const ProgramResult r = run_imio({"convert", (tmp / "in.jpg").string(), (tmp / "out.npy").string()});
    check_ok(r);
    const Dict rep = report(r);
    CHECK(carried(rep).empty());
    for (const char* key : {"exif", "xmp", "iptc", "icc_profile"}) CHECK(rep.get<Dict>("not_carried").contains(key));
  }
  // an EXIF block larger than a JPEG segment: refused by the JPEG writer, dropped, reported
  const Dict big{{"IFD0", Dict{{"Make", "imio"}}}, {"ExifIFD", Dict{{"MakerNote", Bytes(70000, std::byte{7})}}}};
  imio::imwrite(tmp / "big.png", photo(8, 8), {.kwargs = {{"exif", big}, {"xmp", kXmp}}});
  const ProgramResult r = run_imio({"convert", (tmp / "big.png").string(), (tmp / "big.jpg").string()});
  check_ok(r);
  const Dict rep = report(r);
  CHECK(carried(rep) == std::vector<std::string>{"xmp"});
  CHECK(contains(rep.get<Dict>("not_carried").get<std::string>("exif"), "65527"));
  const Dict m = imio::immeta(tmp / "big.jpg");
  CHECK_FALSE(m.contains("exif"));
  CHECK(m.get<Bytes>("xmp") == imio_test::to_bytes(kXmp));
  // no temporary file is left beside it
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) files += e.path().filename().string().rfind("big", 0) == 0;
  CHECK(files == 2);
  // the caller's own --write-kw wins over what is carried
  const ProgramResult own = run_imio({"convert", (tmp / "in.jpg").string(), (tmp / "own.jpg").string(), "--write-kw",
                                      "xmp=<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>"});
  check_ok(own);
  CHECK(report(own).get<Dict>("not_carried").get<std::string>("xmp") == "replaced by --write-kw");
  CHECK(imio::immeta(tmp / "own.jpg").get<Bytes>("xmp") == imio_test::to_bytes("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>"));
}

TEST_CASE("--strip-metadata is a flag of convert only", "[metadata]") {
  const auto parse = [](std::vector<std::string_view> args) { return imio::cli::parse_command_line(args); };
  CHECK_FALSE(parse({"convert", "a.jpg", "b.png"}).strip_metadata);
  CHECK(parse({"convert", "a.jpg", "b.png", "--strip-metadata"}).strip_metadata);
  CHECK(parse({"convert", "--strip-metadata", "a.jpg", "b.png"}).positionals.size() == 2);
  CHECK_FALSE(parse({"convert", "a.jpg", "b.png", "--strip-metadata=false"}).strip_metadata);
  CHECK_THROWS_AS(parse({"props", "a.jpg", "--strip-metadata"}), imio::cli::UsageError);
  CHECK_THROWS_AS(parse({"convert", "a.jpg", "b.png", "--strip-metadata=maybe"}), imio::cli::UsageError);
  CHECK_THROWS_AS(parse({"convert", "a.jpg", "b.png", "--strip-metadata", "--strip-metadata"}), imio::cli::UsageError);
}

TEST_CASE("imio convert in.jpg out.jpg carries extended XMP byte for byte", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg"})) return;
  TempDir tmp;
  // 100 000 bytes of XMP: imio writes a standard packet naming the extension
  std::string big = kXmp;
  big.insert(big.find("</rdf:RDF>"), "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:source=\"" +
                                          std::string(100000, 'x') + "\"/>");
  const fs::path in = tmp / "in.jpg", out = tmp / "out.jpg", png = tmp / "out.png";
  imio::imwrite(in, photo(16, 16), {.kwargs = {{"xmp", big}}});
  const Dict a = imio::immeta(in);
  REQUIRE(a.contains("xmp_extended"));
  const ProgramResult r = run_imio({"convert", in.string(), out.string()});
  check_ok(r);
  CHECK(carried(report(r)) == std::vector<std::string>{"xmp", "xmp_extended"});
  const Dict c = imio::immeta(out);
  CHECK(c.get<Bytes>("xmp") == a.get<Bytes>("xmp"));
  CHECK(c.get<Bytes>("xmp_extended") == a.get<Bytes>("xmp_extended"));
  CHECK(c.get<Bytes>("xmp_extended") == imio_test::to_bytes(big));
  if (imio_test::plugins_built({"libpng"})) {
    // PNG's iTXt has no place for an extension: the standard packet goes, the extension is reported
    const ProgramResult p = run_imio({"convert", in.string(), png.string()});
    check_ok(p);
    const Dict rep = report(p);
    CHECK(carried(rep) == std::vector<std::string>{"xmp"});
    CHECK(contains(rep.get<Dict>("not_carried").get<std::string>("xmp_extended"), "no `xmp_extended` kwarg"));
  }
}

TEST_CASE("imio convert carries a corpus JPEG's extended XMP as exiftool reads it", "[metadata][corpus]") {
  if (!imio_test::plugins_built({"libjpeg"}) || !imio_test::exiftool_available()) return;
  IMIO_CORPUS_OR_SKIP(in, "jpeg/exiftool/ExtendedXMP.jpg");
  const Dict a = imio::immeta(in);
  if (!a.contains("xmp_extended")) {
    WARN("skipped: " << in << " holds no extended XMP that imio reassembles");
    return;
  }
  TempDir tmp;
  const fs::path out = tmp / "out.jpg";
  const ProgramResult r = run_imio({"convert", in.string(), out.string()});
  check_ok(r);
  const Dict c = imio::immeta(out);
  CHECK(c.get<Bytes>("xmp") == a.get<Bytes>("xmp"));
  CHECK(c.get<Bytes>("xmp_extended") == a.get<Bytes>("xmp_extended"));
  const std::vector<Dict> j = imio_test::exiftool_json({in, out});
  const Dict first = metadata_groups(j[0]), last = metadata_groups(j[1]);
  std::size_t xmp = 0;
  for (const auto& [key, value] : first) xmp += key.rfind("XMP", 0) == 0;
  CHECK(xmp > 0);
  CHECK(first == last);
  CHECK_FALSE(j[1].contains("ExifTool:Warning"));
}

TEST_CASE("the JPEG writer's xmp_extended needs a standard packet that names it", "[metadata]") {
  if (!imio_test::plugins_built({"libjpeg"})) return;
  const auto fails = [](const imio::Kwargs& kw, const std::string& part) {
    try {
      imio::imwrite("<bytes>", photo(8, 8), {.extension = ".jpg", .kwargs = kw});
      FAIL("no ArgumentError");
    } catch (const imio::ArgumentError& e) {
      CHECK(contains(e.what(), "xmp_extended"));
      CHECK(contains(e.what(), part));
    }
  };
  fails({{"xmp_extended", kXmp}}, "needs `xmp`");
  fails({{"xmp", kXmp}, {"xmp_extended", kXmp}}, "names no extension");
}

TEST_CASE("imio convert of an animation carries the file's metadata where the target holds it, and reports the rest", "[metadata]") {
  if (!imio_test::plugins_built({"libpng"})) return;
  TempDir tmp;
  imio::NDArray frames(imio::Shape{3, 8, 8, 3}, imio::DType::uint8);
  auto* p = reinterpret_cast<std::uint8_t*>(frames.bytes());
  for (std::size_t i = 0; i < frames.nbytes(); ++i) p[i] = static_cast<std::uint8_t>(i * 3);
  const Dict exif{{"IFD0", Dict{{"Make", "imio"}}}, {"ExifIFD", Dict{{"ISO", 100}}}};
  const fs::path in = tmp / "anim.png";
  imio::imwrite(in, frames, {.kwargs = {{"exif", exif}, {"xmp", kXmp}, {"icc_profile", icc_profile()}}});
  REQUIRE(imio::improps(in).is_batch);
  const Dict source = imio::immeta(in);
  {
    // APNG → APNG: the stack, written at once, with the blocks byte for byte
    const ProgramResult r = run_imio({"convert", in.string(), (tmp / "out.png").string()});
    check_ok(r);
    CHECK(carried(report(r)) == std::vector<std::string>{"exif", "xmp", "icc_profile"});
    CHECK(imio::imread(tmp / "out.png") == frames);
    const Dict m = imio::immeta(tmp / "out.png");
    for (const char* key : {"exif", "xmp", "icc_profile"}) {
      CAPTURE(key);
      CHECK(m.at(key) == source.at(key));
    }
  }
  if (imio_test::plugins_built({"libtiff"})) {
    // → a multi-page TIFF: the EXIF's tags on the first page
    const ProgramResult r = run_imio({"convert", in.string(), (tmp / "out.tif").string()});
    check_ok(r);
    CHECK(carried(report(r)) == std::vector<std::string>{"exif", "xmp", "icc_profile"});
    const Dict m = imio::immeta(tmp / "out.tif", {.plugin = "libtiff"});
    const Dict& tags = m.at("exif_tags").ref<Dict>();
    CHECK(tags.at("IFD0").ref<Dict>().get<std::string>("Make") == "imio");
    CHECK(tags.at("ExifIFD").ref<Dict>().get<std::int64_t>("ISO") == 100);
    CHECK(m.get<Bytes>("xmp") == imio_test::to_bytes(kXmp));
  }
  if (imio_test::plugins_built({"giflib"})) {
    // → GIF, frame by frame: nothing GIF's writer takes, all reported, every frame written
    const ProgramResult r = run_imio({"convert", in.string(), (tmp / "out.gif").string()});
    check_ok(r);
    const Dict rep = report(r);
    CHECK(carried(rep).empty());
    for (const char* key : {"exif", "xmp", "icc_profile"}) {
      CAPTURE(key);
      CHECK(contains(rep.get<Dict>("not_carried").get<std::string>(key), "giflib's writer does not take it"));
    }
    CHECK(imio::improps(tmp / "out.gif").n_images == std::optional<std::size_t>(3));
  }
}
