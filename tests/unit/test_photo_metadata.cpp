// add_photo_metadata: the normalised entries from the raw blocks a plugin
// found, and the orientation rule (docs/metadata.md).
#include <imio/metadata_write.hpp>
#include <imio/plugin.hpp>

#include <string>

#include "catch.hpp"
#include "test_util.hpp"

using imio::Bytes;
using imio::Dict;
using imio::Value;

namespace {

// II, 42, IFD0 at 8 with Orientation (SHORT) = `orientation`.
Bytes exif_with_orientation(int orientation) {
  Bytes b = imio_test::to_bytes(std::string_view("II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x00\0\0\0\0\0\0\0", 26));
  b[18] = static_cast<std::byte>(orientation);
  return b;
}

// The smallest well-formed ICC profile: its header and no tags.
Bytes empty_profile() {
  Bytes icc(132);
  icc[3] = std::byte{132};
  icc[36] = std::byte{'a'};
  icc[37] = std::byte{'c'};
  icc[38] = std::byte{'s'};
  icc[39] = std::byte{'p'};
  return icc;
}

}  // namespace

TEST_CASE("add_photo_metadata parses the blocks it finds under exif, iptc and icc_profile", "[photo_metadata]") {
  Dict m;
  m.set("exif", exif_with_orientation(6));
  m.set("iptc", imio_test::to_bytes(std::string_view("\x1c\x02\x5a\x00\x03" "Bex", 8)));  // 2:90 City
  m.set("icc_profile", empty_profile());
  m.set("xmp", imio_test::to_bytes("<x:xmpmeta/>"));
  imio::add_photo_metadata(m);
  CHECK(m.at("exif_tags").ref<Dict>().at("IFD0").ref<Dict>().get<std::int64_t>("Orientation") == 6);
  CHECK(m.at("iptc_tags").ref<Dict>().get<std::string>("City") == "Bex");
  CHECK(m.get<std::string>("icc_description").empty());
  CHECK(m.get<std::int64_t>("orientation") == 6);
  CHECK(m.get<Bytes>("xmp") == imio_test::to_bytes("<x:xmpmeta/>"));  // kept, not parsed
}

TEST_CASE("the format's own orientation wins over EXIF; none without either", "[photo_metadata]") {
  Dict exif_only;
  exif_only.set("exif", exif_with_orientation(3));
  imio::add_photo_metadata(exif_only);
  CHECK(exif_only.get<std::int64_t>("orientation") == 3);

  Dict both;
  both.set("exif", exif_with_orientation(3));
  imio::add_photo_metadata(both, 8);
  CHECK(both.get<std::int64_t>("orientation") == 8);

  Dict format_only;
  imio::add_photo_metadata(format_only, 1);
  CHECK(format_only.get<std::int64_t>("orientation") == 1);

  Dict nothing;
  imio::add_photo_metadata(nothing);
  CHECK(nothing.empty());

  Dict invalid;  // an EXIF Orientation of 9 and a format value of 0 say nothing
  invalid.set("exif", exif_with_orientation(9));
  imio::add_photo_metadata(invalid, 0);
  CHECK_FALSE(invalid.contains("orientation"));
  CHECK(invalid.contains("exif_tags"));
}

TEST_CASE("add_photo_metadata never replaces a key the plugin set, and ignores blocks that are not bytes", "[photo_metadata]") {
  Dict m;
  m.set("orientation", Value());        // tifffile's None
  m.set("exif", exif_with_orientation(6));
  m.set("icc_profile", Value());        // Pillow's None for a profile that does not inflate
  m.set("iptc", std::string("text"));
  imio::add_photo_metadata(m, 5);
  CHECK(m.at("orientation").is_none());
  CHECK(m.contains("exif_tags"));
  CHECK_FALSE(m.contains("icc_description"));
  CHECK_FALSE(m.contains("iptc_tags"));
}

TEST_CASE("a damaged block makes add_photo_metadata a DecodeError naming it", "[photo_metadata]") {
  Dict loop;
  loop.set("exif", imio_test::to_bytes(std::string_view("II*\0\x08\0\0\0\x01\0\x69\x87\x04\0\x01\0\0\0\x08\0\0\0\0\0\0\0", 26)));
  CHECK_THAT(imio_test::message_of<imio::DecodeError>([&] { imio::add_photo_metadata(loop); }),
             Catch::Matchers::Contains("EXIF block (26 bytes, little-endian)"));
  Dict icc;
  icc.set("icc_profile", imio_test::to_bytes("not a profile"));
  CHECK_THAT(imio_test::message_of<imio::DecodeError>([&] { imio::add_photo_metadata(icc); }),
             Catch::Matchers::Contains("ICC profile (13 bytes)"));
}

TEST_CASE("read_raw_profile decodes ImageMagick's raw profile text", "[photo_metadata][raw_profile]") {
  const auto b = [](std::string_view s) { return imio_test::to_bytes(s); };
  CHECK(imio::read_raw_profile("Raw profile type exif", "\nexif\n       4\n4d4d002a\n") == b(std::string_view("MM\0*", 4)));
  // lines of hex, upper case, digits beyond the count ignored
  CHECK(imio::read_raw_profile("k", "\niptc\n       3\n1C02\n19FFEE\n") == b("\x1c\x02\x19"));
  const auto refused = [](std::string_view text, const std::string& part) {
    try {
      imio::read_raw_profile("Raw profile type iptc", text);
      FAIL("no DecodeError for " << text);
    } catch (const imio::DecodeError& e) {
      CHECK(imio_test::contains(e.what(), "PNG text chunk 'Raw profile type iptc'"));
      CHECK(imio_test::contains(e.what(), part));
    }
  };
  refused("\niptc\nxyz\n", "no byte count");
  refused("\niptc\n       3\n1c0g19\n", "is not a hex digit");
  refused("\niptc\n       4\n1c0219\n", "declares 4 bytes and holds 3");
  refused("\niptc\n99999999999999999999\n00\n", "more bytes than");  // nothing of that size is allocated
}

TEST_CASE("iim_of_raw_profile finds the IIM block among Photoshop resources, or takes the datasets as they are", "[photo_metadata][raw_profile]") {
  const Bytes iim = imio_test::to_bytes(std::string_view("\x1c\x02\x19\x00\x01x", 6));
  CHECK(imio::iim_of_raw_profile(iim) == iim);
  const Bytes resources = imio::photoshop_resource_block(0x0404, iim);
  CHECK(imio::iim_of_raw_profile(resources) == iim);
  Bytes app13 = imio_test::to_bytes(std::string_view("Photoshop 3.0\0", 14));
  app13.insert(app13.end(), resources.begin(), resources.end());
  CHECK(imio::iim_of_raw_profile(app13) == iim);
  CHECK_FALSE(imio::iim_of_raw_profile(imio::photoshop_resource_block(0x0405, iim)).has_value());
}
