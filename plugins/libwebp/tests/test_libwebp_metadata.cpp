// The libwebp plugin's normalised metadata entries (docs/metadata.md):
// exif_tags, icc_description and orientation from the EXIF and ICCP chunks,
// xmp as Pillow gives it, checked against exiftool on WebPs Pillow writes.
#include <imio/imio.hpp>

#include <filesystem>
#include <map>
#include <string>

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

constexpr std::string_view kMakeWebp = R"PY(
import os, sys
from PIL import Image, ImageCms
from PIL.TiffImagePlugin import IFDRational as R
d = sys.argv[1]
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
e = Image.Exif()
e[0x010F] = "Maker"; e[0x0112] = 8
e[0x8769] = {0x829A: R(1, 250), 0x8827: 400}
e[0x8825] = {0x0001: "S", 0x0002: (R(33, 1), R(51, 1), R(54, 100))}
Image.new("RGB", (16, 8), (10, 20, 30)).save(os.path.join(d, "tagged.webp"), exif=e.tobytes(), icc_profile=srgb,
                                            lossless=True)
)PY";

}  // namespace

TEST_CASE("a WebP's EXIF and ICC entries are what exiftool reads", "[metadata][oracle]") {
  if (!imio_test::exiftool_available() || !imio_test::python_has("PIL")) {
    WARN("skipped: needs exiftool (libimage-exiftool-perl) and Pillow for " << imio_test::python());
    return;
  }
  imio_test::TempDir dir;
  std::string log;
  REQUIRE(imio_test::run_python(dir, kMakeWebp, log) == 0);
  const fs::path p = dir / "tagged.webp";
  REQUIRE(std::system(("exiftool -q -q -overwrite_original -XMP-dc:Title='Ein Titel' \"" + p.string() + "\"").c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({p}, "-all:all -XMP -ICC_Profile");
  REQUIRE(oracle.size() == 1);
  const Dict meta = imio::immeta(p);
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  imio_test::compare_exif_tags("tagged.webp", meta.at("exif_tags").ref<Dict>(), oracle[0], tally, excluded);
  const int exif_compared = tally.compared;
  imio_test::compare_photo_entries("tagged.webp", meta, oracle[0], tally);
  for (const auto& m : tally.mismatches) UNSCOPED_INFO(m);
  CHECK(tally.mismatches.empty());
  CHECK(exif_compared == 6);                       // Make, Orientation; ExposureTime, ISO; GPSLatitudeRef, GPSLatitude
  CHECK(tally.compared - exif_compared == 3);      // xmp, icc_profile, icc_description
  CHECK(meta.get<std::int64_t>("orientation") == 8);
  CHECK(meta.get<std::string>("icc_description") == "sRGB built-in");
  CHECK(meta.get<std::int64_t>("Orientation") == 8);  // Pillow's key beside it
  const Dict rotated = imio::immeta(p, {.kwargs = {{"rotate", true}}});
  CHECK_FALSE(rotated.contains("orientation"));  // D17: applied by this read
}
