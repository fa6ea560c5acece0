// The core's EXIF reader (advisory, so it never throws on bad data), and
// the full readers of EXIF, IPTC and ICC blocks (DecodeError on bad data,
// nothing else).
#include <imio/exif.hpp>
#include <imio/icc.hpp>
#include <imio/iptc.hpp>
#include <imio/photo_metadata.hpp>

#include <cstdint>
#include <cstdlib>
#include <span>

#include "fuzz_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  imio_fuzz::attempt("read_exif", [&] {
    (void)imio::read_exif(bytes);
    const int o = imio::exif_orientation(bytes);
    if (o < 0 || o > 8) std::abort();
  });
  imio_fuzz::attempt("read_exif_tags", [&] { (void)imio::read_exif_tags(bytes); });
  imio_fuzz::attempt("read_iptc_tags", [&] { (void)imio::read_iptc_tags(bytes); });
  imio_fuzz::attempt("photoshop_resource", [&] { (void)imio::photoshop_resource(bytes, 0x0404); });
  imio_fuzz::attempt("icc_profile_description", [&] { (void)imio::icc_profile_description(bytes); });
  imio_fuzz::attempt("add_photo_metadata", [&] {
    imio::Metadata m;
    m.set("exif", imio::Bytes(bytes.begin(), bytes.end()));
    imio::add_photo_metadata(m, static_cast<int>(size % 10));
    if (const imio::Value* o = m.lookup("orientation"); o != nullptr && (o->get<std::int64_t>() < 1 || o->get<std::int64_t>() > 8)) {
      std::abort();
    }
  });
  return 0;
}
