// Decode anything, re-encode it to every writable format, read it back.
#include <imio/imio.hpp>

#include <cstdint>
#include <span>

#include "fuzz_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  imio_fuzz::quiet();
  const imio::Limits limits = imio_fuzz::tight_limits();
  imio::NDArray image;
  imio_fuzz::attempt("imread", [&] { image = imio::imread(std::as_bytes(std::span(data, size)), {.limits = limits}); });
  if (image.empty() || image.nbytes() > (4u << 20)) return 0;
  for (const char* ext : {".png", ".jpg", ".gif", ".tif", ".webp", ".bmp", ".npy"}) {
    imio_fuzz::attempt("imwrite", [&] {
      const auto bytes = imio::imwrite("<bytes>", image, {.extension = ext, .limits = limits});
      if (bytes) (void)imio::imread(*bytes, {.extension = ext, .limits = limits});
    });
  }
  return 0;
}
