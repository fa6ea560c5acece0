// The core's EXIF reader (advisory, so it never throws on bad data), and
// the full readers of EXIF, IPTC and ICC blocks (DecodeError on bad data,
// nothing else).
#include <imio/exif.hpp>
#include <imio/icc.hpp>
#include <imio/iptc.hpp>
#include <imio/json.hpp>
#include <imio/metadata_write.hpp>
#include <imio/photo_metadata.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
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
  // What the readers give, the writers take (or refuse with an
  // ArgumentError), and a block imio wrote reads back: a DecodeError there
  // is a bug, not bad input.
  imio_fuzz::attempt("write_exif_tags", [&] {
    const imio::Bytes block = imio::write_exif_tags(imio::read_exif_tags(bytes));
    try {
      (void)imio::read_exif_tags(block);
    } catch (const imio::DecodeError&) {
      std::abort();
    }
  });
  imio_fuzz::attempt("write_iptc_tags", [&] {
    const imio::Metadata datasets = imio::read_iptc_tags(bytes);
    try {
      // records come back in ascending order: compared by name
      const auto by_name = [](const imio::Metadata& m) {
        std::map<std::string, std::string> out;
        for (const auto& [key, value] : m) out[key] = imio::to_json(value);
        return out;
      };
      if (by_name(imio::read_iptc_tags(imio::write_iptc_tags(datasets))) != by_name(datasets)) std::abort();
    } catch (const imio::DecodeError&) {
      std::abort();
    }
  });
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
