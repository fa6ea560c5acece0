// The giflib plugin's normalised metadata entry (docs/metadata.md): `xmp`
// from the "XMP DataXMP" application extension (XMP Part 3 §1.1.2),
// checked against exiftool and against extensions made by hand.
#include <imio/imio.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "catch.hpp"
#include "exiftool_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::Dict;

imio::NDArray gray_image() {
  imio::NDArray a({6, 5}, imio::DType::uint8);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>(i * 9);
  return a;
}

// A GIF with an "XMP DataXMP" extension holding `packet` unsplit and, when
// `trailer`, the magic trailer; put before the first image descriptor
// (after the header and global colour table).
Bytes with_xmp(const Bytes& gif, std::string_view packet, bool trailer) {
  std::size_t at = 13;
  const int flags = std::to_integer<int>(gif[10]);
  if (flags & 0x80) at += 3u << ((flags & 7) + 1);
  Bytes ext{std::byte{0x21}, std::byte{0xFF}, std::byte{11}};
  const Bytes id = imio_test::to_bytes("XMP DataXMP");
  ext.insert(ext.end(), id.begin(), id.end());
  const Bytes p = imio_test::to_bytes(packet);
  ext.insert(ext.end(), p.begin(), p.end());
  if (trailer) {
    ext.push_back(std::byte{0x01});
    for (int v = 0xFF; v >= 0; --v) ext.push_back(static_cast<std::byte>(v));
  }
  ext.push_back(std::byte{0});
  Bytes out(gif.begin(), gif.begin() + static_cast<std::ptrdiff_t>(at));
  out.insert(out.end(), ext.begin(), ext.end());
  out.insert(out.end(), gif.begin() + static_cast<std::ptrdiff_t>(at), gif.end());
  return out;
}

}  // namespace

TEST_CASE("a GIF's XMP application extension is the packet exiftool reads", "[metadata][oracle]") {
  REQUIRE_EXIFTOOL();
  imio_test::TempDir dir;
  const fs::path p = dir / "xmp.gif";
  imio::imwrite(p, gray_image());
  const imio::NDArray pixels = imio::imread(p);
  REQUIRE(std::system(("exiftool -q -q -overwrite_original -XMP-dc:Title='Ein Titel' -XMP-dc:Subject+=one \"" +
                       p.string() + "\"").c_str()) == 0);
  const auto oracle = imio_test::exiftool_json({p}, "-XMP");
  REQUIRE(oracle.size() == 1);
  const Dict meta = imio::immeta(p);
  CHECK(imio_test::same_as_exiftool(meta.at("xmp"), oracle[0].at("XMP:XMP")));
  CHECK(imio_test::contains(imio_test::to_string(meta.get<Bytes>("xmp")), "Ein Titel"));
  CHECK(imio::imread(p) == pixels);
  for (const char* key : {"exif_tags", "iptc_tags", "icc_description", "orientation"}) CHECK_FALSE(meta.contains(key));
}

TEST_CASE("the XMP extension's magic trailer is removed; without one the data are kept whole", "[metadata]") {
  imio_test::TempDir dir;
  const Bytes gif = *imio::imwrite("<bytes>", gray_image(), {.extension = ".gif"});
  // longer than one 255-byte sub-block: the packet's own bytes act as lengths
  const std::string packet = "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>" +
                             std::string(400, ' ') + "</x:xmpmeta><?xpacket end='w'?>";
  const Bytes with = with_xmp(gif, packet, true);
  CHECK(imio_test::to_string(imio::immeta(with).get<Bytes>("xmp")) == packet);
  CHECK(imio::imread(with) == imio::imread(gif));
  CHECK(imio::immeta(gif).contains("xmp") == false);
  // a short packet without the trailer: its bytes read as sub-blocks, kept as they are
  const Bytes bare = with_xmp(gif, std::string_view("\x03<x/", 4), false);
  CHECK(imio_test::to_string(imio::immeta(bare).get<Bytes>("xmp")) == "\x03<x/");
}
