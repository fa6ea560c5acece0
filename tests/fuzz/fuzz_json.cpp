// The JSON module: from_json never fails other than with ArgumentError, and
// what it reads, to_json writes back to the same value.
#include <imio/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  imio_fuzz::attempt("from_json", [&] {
    const imio::Value v = imio::from_json(text);
    // NaN never equals itself: compare the texts, which hold the same bits.
    const std::string once = imio::to_json(v);
    if (imio::to_json(imio::from_json(once)) != once) std::abort();
    (void)imio::try_from_json(text);
  });
  return 0;
}
