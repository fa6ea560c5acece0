// The libpng plugin's normalised metadata entries (docs/metadata.md):
// exif_tags from eXIf (and from the "Raw profile type" text chunks
// ImageMagick and exiftool write), xmp from iTXt, iptc, icc_description and
// orientation, checked against exiftool on PNGs made at test time and on
// the corpus; and what damaged blocks do to immeta and imread.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

Dict meta_of(const fs::path& file, imio::Kwargs kwargs = {}) {
  return imio::immeta(file, {.plugin = "libpng", .kwargs = std::move(kwargs)});
}

// A Pillow PNG with eXIf (IFD0, Exif, GPS, Interop), iCCP (lcms's sRGB,
// ICC v4) and the XMP iTXt; exiftool then adds IPTC, which it stores as a
// "Raw profile type iptc" zTXt chunk. raw_exif.png holds its EXIF only as
// ImageMagick's "Raw profile type exif" tEXt hex dump.
constexpr std::string_view kMakePngs = R"PY(
import os, sys
from PIL import Image, ImageCms, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational as R
d = sys.argv[1]
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
e = Image.Exif()
e[0x010F] = "Maker"; e[0x0110] = "Model X"; e[0x0112] = 6; e[0x0131] = "imio test"
e[0x8769] = {0x829A: R(1, 60), 0x829D: R(28, 10), 0x8827: 200, 0x9003: "2020:01:02 03:04:05",
             0xA005: {0x0001: "R98"}}
e[0x8825] = {0x0000: b"\x02\x03\x00\x00", 0x0001: "N", 0x0002: (R(47, 1), R(22, 1), R(3, 10)), 0x0003: "E",
             0x0004: (R(8, 1), R(32, 1), R(1, 2))}
xmp = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:format>image/png</dc:format></rdf:Description>'
       '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
info = PngImagePlugin.PngInfo()
info.add_itxt("XML:com.adobe.xmp", xmp)
img = Image.new("RGB", (16, 8), (10, 20, 30))
img.save(os.path.join(d, "tagged.png"), exif=e.tobytes(), icc_profile=srgb, pnginfo=info)
block = e.tobytes()
hexed = block.hex()
text = "\nexif\n%8d\n" % len(block) + "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72)) + "\n"
raw = PngImagePlugin.PngInfo()
raw.add_text("Raw profile type exif", text)
img.save(os.path.join(d, "raw_exif.png"), pnginfo=raw)
def profile(name, data):
    h = data.hex()
    return "\n%s\n%8d\n" % (name, len(data)) + "\n".join(h[i:i + 72] for i in range(0, len(h), 72)) + "\n"
more = PngImagePlugin.PngInfo()
more.add_text("Raw profile type xmp", profile("xmp", xmp.encode()), zip=True)
more.add_text("Raw profile type icc", profile("icc", srgb), zip=True)
img.save(os.path.join(d, "raw_xmp_icc.png"), pnginfo=more)
)PY";

// PNG chunks by hand, for the hostile cases (no Python needed).
std::uint32_t crc32(std::span<const std::byte> data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const std::byte b : data) {
    c ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

void put_be32(Bytes& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

Bytes chunk(std::string_view type, const Bytes& data) {
  Bytes out;
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  Bytes body = imio_test::to_bytes(type);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  put_be32(out, crc32(body));
  return out;
}

// A PNG with `chunks` inserted after IHDR (8-byte signature, 25-byte IHDR).
Bytes with_chunks(const Bytes& png, const Bytes& chunks) {
  constexpr std::ptrdiff_t kAfterIhdr = 33;
  Bytes out(png.size() + chunks.size());  // copies into place: g++ 12 misreads inserts here (-Warray-bounds)
  const auto at = std::copy(png.begin(), png.begin() + kAfterIhdr, out.begin());
  std::copy(png.begin() + kAfterIhdr, png.end(), std::copy(chunks.begin(), chunks.end(), at));
  return out;
}

// A zlib stream of stored (uncompressed) deflate blocks (RFC 1950, RFC 1951 §3.2.4).
Bytes zlib_stored(const Bytes& data) {
  Bytes out{std::byte{0x78}, std::byte{0x01}};
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, data.size() - pos);
    out.push_back(std::byte{pos + n == data.size() ? std::byte{1} : std::byte{0}});
    out.push_back(static_cast<std::byte>(n & 0xFF));
    out.push_back(static_cast<std::byte>(n >> 8));
    out.push_back(static_cast<std::byte>(~n & 0xFF));
    out.push_back(static_cast<std::byte>((~n >> 8) & 0xFF));
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(pos), data.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < data.size());
  std::uint32_t a = 1, b = 0;
  for (const std::byte x : data) {
    a = (a + std::to_integer<std::uint32_t>(x)) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(out, (b << 16) | a);
  return out;
}

Bytes bytes_of(std::string_view s) { return imio_test::to_bytes(s); }

std::string fmt_hex(unsigned char c) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {kDigits[c >> 4], kDigits[c & 15]};
}

}  // namespace

TEST_CASE("a PNG's eXIf, XMP, IPTC and ICC entries are what exiftool reads", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL_AND_PILLOW();
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakePngs, log) == 0);
  const fs::path tagged = dir / "tagged.png", raw = dir / "raw_exif.png";
  const std::string write = "exiftool -q -q -overwrite_original -IPTC:Keywords+=alpha -IPTC:Keywords+=beta "
                            "-IPTC:City=Zurich -IPTC:By-line='Ann Example' \"" + tagged.string() + "\"";
  REQUIRE(std::system(write.c_str()) == 0);
  const fs::path more = dir / "raw_xmp_icc.png";
  const auto oracle = imio_test::exiftool_json({tagged, raw, more}, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == 3);
  const Dict meta = meta_of(tagged);
  const Dict raw_meta = meta_of(raw);
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  imio_test::compare_exif_tags("tagged.png", meta.at("exif_tags").ref<Dict>(), oracle[0], tally, excluded);
  imio_test::compare_exif_tags("raw_exif.png", raw_meta.at("exif_tags").ref<Dict>(), oracle[1], tally, excluded);
  const int exif_compared = tally.compared;
  imio_test::compare_photo_entries("tagged.png", meta, oracle[0], tally);
  const Dict more_meta = meta_of(more);
  imio_test::compare_photo_entries("raw_xmp_icc.png", more_meta, oracle[2], tally);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  // IFD0 4 tags + ResolutionUnit-free Pillow block: Make, Model, Orientation,
  // Software; ExifIFD 4; GPS 5; InteropIFD 1 — in each of the two files
  CHECK(exif_compared == 2 * 14);
  // xmp, iptc, icc_profile, icc_description; Keywords, City, By-line,
  // ApplicationRecordVersion; xmp, icc_profile, icc_description from raw profile texts
  CHECK(tally.compared - exif_compared == 4 + 4 + 3);
  CHECK(tally.exiftool_only == 0);
  std::printf("PNG EXIF/XMP/IPTC/ICC vs exiftool: %d compared, %d equal, %zu mismatches\n", tally.compared, tally.equal,
              tally.mismatches.size());
  // the entries spelled out
  CHECK(meta.get<std::int64_t>("orientation") == 6);
  CHECK(raw_meta.get<std::int64_t>("orientation") == 6);
  CHECK(meta.get<std::string>("icc_description") == "sRGB built-in");
  CHECK(meta.at("iptc_tags").ref<Dict>().at("Keywords") == Value{"alpha", "beta"});
  CHECK(imio_test::contains(imio_test::to_string(meta.get<Bytes>("xmp")), "<dc:format>image/png</dc:format>"));
  CHECK(raw_meta.get<Bytes>("exif").size() > 100);  // the raw profile's block, beside Pillow's text key
  CHECK(raw_meta.contains("Raw profile type exif"));
  CHECK(more_meta.get<std::string>("icc_description") == "sRGB built-in");
  CHECK(imio_test::contains(imio_test::to_string(more_meta.get<Bytes>("xmp")), "<dc:format>image/png</dc:format>"));
  // Pillow's keys stay
  CHECK(meta.get<std::string>("Make") == "Maker");
  CHECK(meta.contains("XML:com.adobe.xmp"));
  CHECK(meta.contains("Raw profile type iptc"));
  // D17: orientation goes with Orientation when the read applies it
  const Dict rotated = imio::immeta(tagged, {.plugin = "libpng", .exclude_applied = true, .kwargs = {{"rotate", true}}});
  CHECK_FALSE(rotated.contains("orientation"));
  CHECK_FALSE(rotated.contains("Orientation"));
}

TEST_CASE("damaged PNG metadata makes immeta a DecodeError naming the block; imread keeps the pixels", "[metadata]") {
  imio_test::TempDir dir;
  const fs::path clean = dir / "clean.png";
  imio::NDArray image({8, 16, 3}, imio::DType::uint8);
  imio::imwrite(clean, image);
  const Bytes png = imio_test::read_file(clean);
  const imio::NDArray pixels = imio::imread(clean);
  const auto check = [&](const Bytes& chunks, const std::string& block) {
    const fs::path p = dir / "damaged.png";
    imio_test::write_file(p, with_chunks(png, chunks));
    const auto start = std::chrono::steady_clock::now();
    const std::string message = imio_test::message_of<imio::DecodeError>([&] { (void)meta_of(p); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
    CHECK_THAT(message, Catch::Matchers::Contains(block));
    CHECK(imio::imread(p) == pixels);
    CHECK(imio::improps(p).shape == pixels.shape());
  };
  SECTION("an eXIf whose Exif IFD pointer loops back to IFD0") {
    // II, 42, IFD0 at 8: one entry ExifOffset (LONG) → 8
    check(chunk("eXIf", bytes_of(std::string_view("II*\0\x08\0\0\0\x01\0\x69\x87\x04\0\x01\0\0\0\x08\0\0\0\0\0\0\0", 26))),
          "EXIF block (26 bytes, little-endian): ExifIFD at offset 8 is an IFD read before");
  }
  SECTION("an eXIf entry with a count of four billion rationals") {
    check(chunk("eXIf", bytes_of(std::string_view("MM\0*\0\0\0\x08\0\x01\x82\x9a\0\x05\xff\xff\xff\xff\0\0\0\x1a\0\0\0\0", 26))),
          "EXIF block (26 bytes, big-endian)");
  }
  SECTION("an eXIf IFD declaring 60000 entries") {
    check(chunk("eXIf", bytes_of(std::string_view("II*\0\x08\0\0\0\x60\xea\0\0\0\0", 14))), "EXIF block (14 bytes");
  }
  SECTION("an iCCP profile whose tag table lies") {
    Bytes icc(200);
    icc[3] = std::byte{200};               // size
    icc[128 + 1] = std::byte{0x0F};        // 0x000F4240 = 1000000 tags
    icc[128 + 2] = std::byte{0x42};
    icc[128 + 3] = std::byte{0x40};
    Bytes body = bytes_of(std::string_view("lying\0\0", 7));
    const Bytes z = zlib_stored(icc);
    body.insert(body.end(), z.begin(), z.end());
    check(chunk("iCCP", body), "ICC profile (200 bytes): declares 1000000 tags");
  }
  SECTION("a raw profile text chunk declaring more bytes than it holds") {
    check(chunk("tEXt", bytes_of(std::string_view("Raw profile type exif\0\nexif\n  999999\n4d4d002a\n", 46))),
          "PNG text chunk 'Raw profile type exif'");
  }
  SECTION("a raw IPTC profile whose dataset runs past its end") {
    check(chunk("tEXt", bytes_of(std::string_view("Raw profile type iptc\0\niptc\n       5\n1c02197fff\n", 48))),
          "IPTC block (5 bytes)");
  }
}

TEST_CASE("an eXIf chunk after the image data still gives exif_tags, without Pillow's exif key", "[metadata]") {
  imio_test::TempDir dir;
  const fs::path clean = dir / "clean.png";
  imio::imwrite(clean, imio::NDArray({4, 4, 3}, imio::DType::uint8));
  Bytes png = imio_test::read_file(clean);
  // IFD0 with Orientation (SHORT) = 8, inserted before IEND (the last 12 bytes)
  const Bytes exif = chunk("eXIf", bytes_of(std::string_view("II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x08\0\0\0\0\0\0\0", 26)));
  png.insert(png.end() - 12, exif.begin(), exif.end());
  imio_test::write_file(dir / "late.png", png);
  const Dict meta = meta_of(dir / "late.png");
  CHECK_FALSE(meta.contains("exif"));
  CHECK(meta.at("exif_tags").ref<Dict>().at("IFD0").ref<Dict>().get<std::int64_t>("Orientation") == 8);
  CHECK(meta.get<std::int64_t>("orientation") == 8);
}

TEST_CASE("an ImageMagick 'Raw profile type APP1' text holding XMP gives xmp", "[metadata]") {
  imio_test::TempDir dir;
  const fs::path clean = dir / "clean.png";
  imio::imwrite(clean, imio::NDArray({4, 4, 3}, imio::DType::uint8));
  const std::string payload = std::string("http://ns.adobe.com/xap/1.0/", 28) + '\0' + "<x:xmpmeta/>";
  std::string hex;
  for (const char c : payload) hex += fmt_hex(static_cast<unsigned char>(c));
  const std::string text = "\nAPP1\n" + std::string(8 - std::to_string(payload.size()).size(), ' ') +
                           std::to_string(payload.size()) + "\n" + hex + "\n";
  Bytes body = bytes_of(std::string_view("Raw profile type APP1\0", 22));
  const Bytes t = bytes_of(text);
  body.insert(body.end(), t.begin(), t.end());
  imio_test::write_file(dir / "app1.png", with_chunks(imio_test::read_file(clean), chunk("tEXt", body)));
  const Dict meta = meta_of(dir / "app1.png");
  CHECK(imio_test::to_string(meta.get<Bytes>("xmp")) == "<x:xmpmeta/>");
  CHECK_FALSE(meta.contains("exif"));
}

TEST_CASE("a PNG without metadata blocks has none of the entries", "[metadata]") {
  imio_test::TempDir dir;
  imio::imwrite(dir / "plain.png", imio::NDArray({4, 4}, imio::DType::uint8));
  const Dict meta = meta_of(dir / "plain.png");
  for (const char* key : {"exif_tags", "xmp", "iptc", "iptc_tags", "icc_description", "orientation"}) {
    CHECK_FALSE(meta.contains(key));
  }
}

TEST_CASE("the corpus PNGs' EXIF, XMP and ICC entries are what exiftool reads", "[metadata][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  IMIO_CORPUS_DIR_OR_SKIP(root, "png");
  std::vector<fs::path> files;
  std::vector<Dict> metas;
  std::vector<std::string> refused;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".png") continue;
    Dict meta;
    try {
      meta = meta_of(entry.path());
    } catch (const imio::DecodeError& e) {
      const std::string what = e.what();
      if (imio_test::contains(what, "EXIF") || imio_test::contains(what, "IPTC") || imio_test::contains(what, "ICC") ||
          imio_test::contains(what, "text chunk")) {
        refused.push_back(fs::relative(entry.path(), root).string() + ": " + what);
      }
      continue;
    } catch (const imio::Error&) {
      continue;
    }
    if (!meta.contains("exif_tags") && !meta.contains("xmp") && !meta.contains("icc_description")) continue;
    files.push_back(entry.path());
    metas.push_back(std::move(meta));
  }
  REQUIRE(files.size() >= 5);
  const auto oracle = imio_test::exiftool_json(files, "-all:all -XMP -IPTC -ICC_Profile");
  REQUIRE(oracle.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  int with_exif = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = fs::relative(files[i], root).string();
    if (const Value* tags = metas[i].lookup("exif_tags")) {
      ++with_exif;
      imio_test::compare_exif_tags(name, tags->ref<Dict>(), oracle[i], tally, excluded);
    }
    imio_test::compare_photo_entries(name, metas[i], oracle[i], tally);
  }
  std::printf("corpus PNG EXIF/XMP/IPTC/ICC vs exiftool: %zu files (%d with EXIF), %d compared, %d equal, "
              "%zu mismatches, %zu refused\n",
              files.size(), with_exif, tally.compared, tally.equal, tally.mismatches.size(), refused.size());
  for (const auto& m : tally.mismatches) std::printf("  mismatch: %s\n", m.c_str());
  for (const auto& r : refused) std::printf("  refused: %s\n", r.c_str());
  CHECK(with_exif >= 2);
  CHECK(tally.compared >= 20);
  CHECK(tally.mismatches.empty());
}
