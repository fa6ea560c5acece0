// The openjpeg plugin's normalised metadata entries (docs/metadata.md): the
// EXIF ("JpgTiffExif->JP2") and IPTC uuid boxes as exif, exif_tags, iptc and
// iptc_tags, the XMP box, checked against exiftool, which writes them.
#include <imio/imio.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "catch.hpp"
#include "exiftool_compare.hpp"
#include "exiftool_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio::Dict;

TEST_CASE("a JP2's EXIF, IPTC and XMP boxes are what exiftool reads", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL();
  imio_test::TempDir dir;
  const fs::path p = dir / "tagged.jp2";
  imio::NDArray image({8, 12, 3}, imio::DType::uint8);
  for (std::size_t i = 0; i < image.nbytes(); ++i) image.bytes()[i] = static_cast<std::byte>(i * 5);
  imio::imwrite(p, image);
  const imio::NDArray pixels = imio::imread(p);
  REQUIRE(std::system(("exiftool -q -q -overwrite_original -IFD0:Make=Maker -IFD0:Orientation#=3 -ExifIFD:ISO=800 "
                       "-GPS:GPSLatitude=12.5 -GPS:GPSLatitudeRef=N -IPTC:City=Zurich -IPTC:Keywords+=a -IPTC:Keywords+=b "
                       "-XMP-dc:Title=Titel \"" + p.string() + "\"").c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({p}, "-all:all -XMP -IPTC");
  REQUIRE(oracle.size() == 1);
  const Dict meta = imio::immeta(p);
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  imio_test::compare_exif_tags("tagged.jp2", meta.at("exif_tags").ref<Dict>(), oracle[0], tally, excluded);
  const int exif_compared = tally.compared;
  imio_test::compare_photo_entries("tagged.jp2", meta, oracle[0], tally);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  CHECK(exif_compared >= 8);  // Make, Orientation and exiftool's resolution tags; ISO, ExifVersion; GPS
  // xmp, iptc; City, Keywords, ApplicationRecordVersion
  CHECK(tally.compared - exif_compared == 2 + 3);
  CHECK(meta.get<std::int64_t>("orientation") == 3);
  CHECK(meta.at("iptc_tags").ref<Dict>().at("Keywords") == imio::Value{"a", "b"});
  CHECK(imio::imread(p) == pixels);
}
