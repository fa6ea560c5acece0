// The core's EXIF reader: advisory, so it never throws on bad data.
#include <imio/exif.hpp>

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
  return 0;
}
