// The libjpeg plugin's normalised metadata entries (docs/metadata.md):
// exif_tags, xmp, xmp_extended, iptc, iptc_tags and icc_description,
// checked against exiftool on JPEGs made at test time and on the corpus,
// and what damaged metadata does to immeta and imread.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

Dict meta_of(const fs::path& file) { return imio::immeta(file, {.plugin = "libjpeg"}); }

// The byte offset of each APP1 extended-XMP payload (after its 35-byte
// namespace) in a JPEG file.
std::vector<std::size_t> extension_payloads(const Bytes& file) {
  std::vector<std::size_t> out;
  std::size_t pos = 2;
  while (pos + 4 <= file.size() && std::to_integer<int>(file[pos]) == 0xFF) {
    const int marker = std::to_integer<int>(file[pos + 1]);
    if (marker == 0xDA) break;
    const std::size_t length = (std::to_integer<std::size_t>(file[pos + 2]) << 8) | std::to_integer<std::size_t>(file[pos + 3]);
    if (marker == 0xE1 && std::memcmp(file.data() + pos + 4, "http://ns.adobe.com/xmp/extension/", 34) == 0) {
      out.push_back(pos + 4 + 35);
    }
    pos += 2 + length;
  }
  return out;
}

void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (24 - 8 * i)) & 0xFF);
}

// A JPEG with the segment `payload` of `marker` inserted after SOI.
Bytes with_segment(const Bytes& jpeg, int marker, const Bytes& payload) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  out.push_back(std::byte{0xFF});
  out.push_back(static_cast<std::byte>(marker));
  const std::size_t length = payload.size() + 2;
  out.push_back(static_cast<std::byte>(length >> 8));
  out.push_back(static_cast<std::byte>(length & 0xFF));
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

constexpr std::string_view kMakeJpegs = R"PY(
import os, struct, sys
from PIL import Image, ImageCms
from PIL.TiffImagePlugin import IFDRational as R
d = sys.argv[1]
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # lcms writes ICC v4: 'desc' is mluc
e = Image.Exif()
e[0x010F] = "Maker"; e[0x0110] = "Model X"; e[0x0112] = 1
e[0x8769] = {0x829A: R(1, 60), 0x8827: 200}
img = Image.new("RGB", (16, 8), (10, 20, 30))
img.save(os.path.join(d, "tagged.jpg"), icc_profile=srgb, exif=e.tobytes())
img.save(os.path.join(d, "big_xmp.jpg"))
# an ICC v2 profile whose 'desc' is a textDescriptionType (ICC.1:2001-04 6.5.17)
text = b"imio test profile v2\0"
desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 4 + b"\0" * 4 + b"\0" * 3 + b"\0" * 67
desc += b"\0" * (-len(desc) % 4)
header = bytearray(128)
size = 128 + 4 + 12 + len(desc)
struct.pack_into(">I4sI4s4s4s", header, 0, size, b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
header[36:40] = b"acsp"
struct.pack_into(">iii", header, 68, 63190, 65536, 54061)  # D50
v2 = bytes(header) + struct.pack(">I", 1) + b"desc" + struct.pack(">II", 144, len(desc)) + desc
img.save(os.path.join(d, "icc_v2.jpg"), icc_profile=v2)
open(os.path.join(d, "big.txt"), "w").write("imio-" * 30000)
)PY";

}  // namespace

TEST_CASE("XMP, IPTC and ICC entries are what exiftool reads", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL_AND_PILLOW();
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeJpegs, log) == 0);
  const fs::path tagged = dir / "tagged.jpg", v2 = dir / "icc_v2.jpg";
  const std::string write = "exiftool -q -overwrite_original -charset iptc=utf8 -IPTC:CodedCharacterSet=UTF8 "
                            "-XMP-dc:Title='Ein Titel é' -XMP-dc:Subject+=one -XMP-dc:Subject+=two "
                            "-IPTC:Keywords+=alpha -IPTC:Keywords+=beta -IPTC:Keywords+=gamma -IPTC:By-line='Ann Example' "
                            "-IPTC:Caption-Abstract='A caption, é' -IPTC:City=Zürich -IPTC:ObjectName=Lake "
                            "-IPTC:DateCreated=2020:01:02 -IPTC:Urgency=3 \"" + tagged.string() + "\" 2>&1";
  REQUIRE(std::system(write.c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({tagged, v2}, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == 2);
  imio_test::OracleTally tally;
  const Dict meta = meta_of(tagged);
  imio_test::compare_photo_entries("tagged.jpg", meta, oracle[0], tally);
  imio_test::compare_photo_entries("icc_v2.jpg", meta_of(v2), oracle[1], tally);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  // xmp, iptc, icc_profile, icc_description in tagged.jpg, plus its 10 IPTC
  // datasets (CodedCharacterSet and ApplicationRecordVersion included);
  // icc_profile and icc_description in icc_v2.jpg
  CHECK(tally.compared == 4 + 10 + 2);
  CHECK(tally.exiftool_only == 0);
  std::printf("exiftool-written XMP/IPTC/ICC vs exiftool: %d compared, %d equal, %zu mismatches\n", tally.compared,
              tally.equal, tally.mismatches.size());
  // the typed values, spelled out
  const Dict& iptc = meta.at("iptc_tags").ref<Dict>();
  CHECK(iptc.at("Keywords") == Value{"alpha", "beta", "gamma"});
  CHECK(iptc.get<std::string>("City") == "Zürich");
  CHECK(iptc.get<std::int64_t>("ApplicationRecordVersion") == 4);
  CHECK(meta_of(v2).get<std::string>("icc_description") == "imio test profile v2");
  CHECK(meta.get<std::string>("icc_description") == "sRGB built-in");
  // the EXIF entry beside them, and Pillow's keys untouched
  CHECK(meta.at("exif_tags").ref<Dict>().at("ExifIFD").ref<Dict>().get<std::int64_t>("ISO") == 200);
  CHECK(meta.get<std::string>("Make") == "Maker");
  CHECK(meta.contains("exif"));
  CHECK(meta.get<std::int64_t>("orientation") == 1);  // IFD0's Orientation (add_photo_metadata)
  CHECK_FALSE(meta_of(v2).contains("orientation"));   // no EXIF: unknown
}

TEST_CASE("extended XMP is reassembled as exiftool wrote it, and refused when its sizes lie", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL_AND_PILLOW();
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeJpegs, log) == 0);
  const fs::path big = dir / "big_xmp.jpg";
  // exiftool moves a property too large for one APP1 segment into extended XMP
  const std::string write = "exiftool -q -overwrite_original \"-XMP-dc:Description<=" + (dir / "big.txt").string() +
                            "\" \"" + big.string() + "\"";
  REQUIRE(std::system(write.c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({big}, "-all:all -XMP");
  REQUIRE(oracle.size() == 1);
  const Dict meta = meta_of(big);
  CHECK(imio_test::same_as_exiftool(meta.at("xmp"), oracle[0].at("XMP:XMP")));  // the standard packet
  const std::string guid = oracle[0].get<std::string>("XMP-xmpNote:HasExtendedXMP");
  const std::string extension = imio_test::to_string(meta.get<Bytes>("xmp_extended"));
  CHECK(extension.find(oracle[0].get<std::string>("XMP-dc:Description")) != std::string::npos);
  // XMP Part 3 §1.1.3.1: the GUID is the MD5 digest of the extended packet
  imio_test::write_file(dir / "extension.xml", imio_test::to_bytes(extension));
  std::string md5_log;
  REQUIRE(imio_test::run_python(dir, R"PY(
import hashlib, os, sys
print(hashlib.md5(open(os.path.join(sys.argv[1], "extension.xml"), "rb").read()).hexdigest().upper())
)PY", md5_log) == 0);
  CHECK(md5_log.substr(0, 32) == guid);

  const Bytes file = imio_test::read_file(big);
  const auto payloads = extension_payloads(file);
  REQUIRE(payloads.size() >= 2);  // 150,000 bytes: three chunks
  const imio::NDArray pixels = imio::imread(big);
  const auto refused = [&](Bytes damaged, const std::string& reason) {
    const fs::path p = dir / "damaged.jpg";
    imio_test::write_file(p, damaged);
    const std::string message = imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p); });
    CHECK_THAT(message, Catch::Matchers::Contains("extended XMP " + guid) && Catch::Matchers::Contains(reason));
    CHECK(imio::imread(p) == pixels);  // the pixels are not lost
  };
  SECTION("chunks that disagree on the full length") {
    Bytes d = file;
    put_be32(d, payloads[1] + 32, 1000000);
    refused(d, "disagree on the full length");
  }
  SECTION("a chunk at the wrong offset") {
    Bytes d = file;
    put_be32(d, payloads[1] + 36, 5);
    refused(d, "a gap or an overlap");
  }
  SECTION("a full length larger than the chunks") {
    Bytes d = file;
    for (const std::size_t at : payloads) put_be32(d, at + 32, 0xFFFFFFF0u);
    refused(d, "of the 4294967280 bytes it declares");
  }
}

TEST_CASE("damaged EXIF, IPTC or ICC make immeta a DecodeError naming the block; imread keeps the pixels", "[metadata]") {
  imio_test::TempDir dir;
  const fs::path clean = dir / "clean.jpg";
  imio::NDArray image({8, 16, 3}, imio::DType::uint8);
  imio::imwrite(clean, image);
  const Bytes jpeg = imio_test::read_file(clean);
  const imio::NDArray pixels = imio::imread(clean);
  const auto check = [&](const Bytes& damaged, const std::string& block) {
    const fs::path p = dir / "damaged.jpg";
    imio_test::write_file(p, damaged);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
    CHECK_THAT(message, Catch::Matchers::Contains(block));
    CHECK(imio::imread(p) == pixels);
  };
  SECTION("an EXIF IFD pointing at itself") {
    // "Exif\0\0", II, 42, IFD0 at 8: one entry ExifOffset → 8
    check(with_segment(jpeg, 0xE1, imio_test::to_bytes(std::string_view(
                                          "Exif\0\0II*\0\x08\0\0\0\x01\0\x69\x87\x04\0\x01\0\0\0\x08\0\0\0\0\0\0\0", 32))),
          "EXIF block (26 bytes, little-endian): ExifIFD at offset 8 is an IFD read before");
  }
  SECTION("an IPTC dataset longer than its block") {
    check(with_segment(jpeg, 0xED, imio_test::to_bytes(std::string_view(
                                          "Photoshop 3.0\0" "8BIM\x04\x04\0\0\0\0\0\x08" "\x1c\x02\x19\x7f\xff" "abc", 34))),
          "IPTC block (8 bytes): dataset 2:25 at offset 5 declares 32767 bytes, past the end");
  }
  SECTION("an ICC profile declaring a million tags") {
    Bytes icc(200);
    put_be32(icc, 0, 200);
    put_be32(icc, 128, 1000000);
    Bytes payload = imio_test::to_bytes(std::string_view("ICC_PROFILE\0\x01\x01", 14));
    payload.insert(payload.end(), icc.begin(), icc.end());
    check(with_segment(jpeg, 0xE2, payload), "ICC profile (200 bytes): declares 1000000 tags");
  }
}

TEST_CASE("the corpus JPEGs' XMP, IPTC and ICC entries are what exiftool reads", "[metadata][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  const fs::path root = imio_test::corpus_dir() / "jpeg";
  if (imio_test::corpus_dir().empty()) {
    WARN("skipped: no corpus");
    return;
  }
  std::vector<fs::path> files;
  std::vector<Dict> metas;
  std::vector<std::string> refused;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".jpg" && ext != ".jpeg")) continue;
    Dict meta;
    try {
      meta = meta_of(entry.path());
    } catch (const imio::DecodeError& e) {
      const std::string what = e.what();
      // damaged image data (corrupt seeds) are another test's business; a metadata block's refusal is this one's
      if (what.find("EXIF") != std::string::npos || what.find("XMP") != std::string::npos ||
          what.find("IPTC") != std::string::npos || what.find("ICC") != std::string::npos ||
          what.find("Photoshop") != std::string::npos) {
        refused.push_back(fs::relative(entry.path(), root).string() + ": " + what);
      }
      continue;
    } catch (const imio::Error&) {
      continue;
    }
    if (!meta.contains("xmp") && !meta.contains("iptc_tags") && !meta.contains("icc_description")) continue;
    files.push_back(entry.path());
    metas.push_back(std::move(meta));
  }
  REQUIRE(files.size() >= 10);
  const auto oracle = imio_test::exiftool_json(files, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == files.size());
  imio_test::OracleTally tally;
  for (std::size_t i = 0; i < files.size(); ++i) {
    imio_test::compare_photo_entries(fs::relative(files[i], root).string(), metas[i], oracle[i], tally);
  }
  // extended XMP: the MD5 of imio's reassembled packet is the GUID exiftool
  // reads from HasExtendedXMP (XMP Part 3 §1.1.3.1)
  imio_test::TempDir dir;
  std::vector<std::string> guids;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Value* extension = metas[i].lookup("xmp_extended");
    if (extension == nullptr) continue;
    imio_test::write_file(dir / ("ext" + std::to_string(guids.size())), extension->ref<Bytes>());
    guids.push_back(oracle[i].get<std::string>("XMP-xmpNote:HasExtendedXMP"));
  }
  CHECK(guids.size() >= 1);  // exiftool's ExtendedXMP.jpg
  if (!guids.empty() && imio_test::python_has("hashlib")) {
    std::string md5s;
    REQUIRE(imio_test::run_python(dir, "import hashlib, os, sys\nfor i in range(" + std::to_string(guids.size()) +
                                           "):\n    print(hashlib.md5(open(os.path.join(sys.argv[1], 'ext%d' % i), 'rb')"
                                           ".read()).hexdigest().upper())\n",
                                  md5s) == 0);
    std::string expected;
    for (const auto& g : guids) expected += g + "\n";
    CHECK(md5s == expected);
  }
  std::printf("corpus XMP/IPTC/ICC vs exiftool: %zu files, %d compared, %d equal, %zu mismatches, %zu refused, "
              "%zu extended XMP packets checked by MD5\n",
              files.size(), tally.compared, tally.equal, tally.mismatches.size(), refused.size(), guids.size());
  for (const auto& m : tally.mismatches) std::printf("  mismatch: %s\n", m.c_str());
  for (const auto& r : refused) std::printf("  refused: %s\n", r.c_str());
  CHECK(tally.mismatches.empty());
  CHECK(refused.empty());
}

// Equality where a NaN equals a NaN: EXIF's 0/0 rationals read as NaN, so
// two immeta calls on one file are not operator== equal.
bool same_value(const Value& a, const Value& b);

bool same_dict(const Dict& a, const Dict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& item : a) {
    const Value* other = b.lookup(item.first);
    if (other == nullptr || !same_value(item.second, *other)) return false;
  }
  return true;
}

bool same_value(const Value& a, const Value& b) {
  if (a.is<double>() && b.is<double>() && std::isnan(a.get<double>())) return std::isnan(b.get<double>());
  if (a.is<Value::List>() && b.is<Value::List>()) {
    const auto& x = a.get<Value::List>();
    const auto& y = b.get<Value::List>();
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), same_value);
  }
  if (a.is<Dict>() && b.is<Dict>()) return same_dict(a.get<Dict>(), b.get<Dict>());
  return a == b;
}

// The reader describes the header's metadata (Pillow's info, the EXIF copy,
// the ICC profile, XMP and Photoshop blocks) only when metadata is asked,
// not when the file is opened (issue #26 item 5): asked after reads,
// properties and a rotated read on the same ImageFile, and asked twice, it
// equals immeta on a fresh open; reads after it are unchanged.
TEST_CASE("metadata described on demand equals a first immeta, after reads and twice", "[metadata]") {
  imio_test::TempDir dir;
  const fs::path made = dir / "made.jpg";
  imio::NDArray img(imio::Shape{24, 40, 3}, imio::DType::uint8);
  imio::imwrite(made, img,
                {.kwargs = {{"orientation", 6}, {"comment", "described later"}, {"dpi", Value{300, 150}},
                            {"xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"}}});
  std::vector<fs::path> files{made};
  const fs::path exiftool = imio_test::corpus_dir().empty() ? fs::path() : imio_test::corpus_dir() / "jpeg" / "exiftool";
  if (!exiftool.empty() && fs::exists(exiftool)) {
    for (const auto& e : fs::directory_iterator(exiftool)) {
      if (e.path().extension() == ".jpg") files.push_back(e.path());
    }
  } else {
    WARN("corpus/jpeg/exiftool absent: only the JPEG made here is checked");
  }
  std::size_t checked = 0;
  for (const fs::path& file : files) {
    INFO(file.string());
    Dict first;
    imio::NDArray pixels;
    try {
      first = meta_of(file);
      pixels = imio::imread(file, {.plugin = "libjpeg"});
    } catch (const imio::Error&) {
      continue;  // damaged metadata or pixels: other tests' concern
    }
    imio::ImageFile f = imio::imopen(file, "r", {.plugin = "libjpeg"});
    const imio::NDArray a = f.read();
    f.properties();
    f.read({{"rotate", true}});
    CHECK(same_dict(f.metadata(), first));
    CHECK(same_dict(f.metadata(), first));
    CHECK(same_dict(f.metadata({.exclude_applied = true, .kwargs = {{"rotate", true}}}),
                    imio::immeta(file, {.plugin = "libjpeg", .kwargs = {{"rotate", true}}})));
    const imio::NDArray b = f.read();
    REQUIRE(a.nbytes() == pixels.nbytes());
    CHECK(std::memcmp(a.bytes(), pixels.bytes(), a.nbytes()) == 0);
    CHECK(std::memcmp(b.bytes(), pixels.bytes(), b.nbytes()) == 0);
    ++checked;
  }
  CHECK(checked >= 1);
  const Dict made_meta = meta_of(made);
  CHECK(made_meta.contains("comment"));
  CHECK(made_meta.contains("exif"));
  CHECK(made_meta.contains("xmp"));
  CHECK(made_meta.lookup("dpi") != nullptr);
}
