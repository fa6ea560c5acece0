// One fuzz target per plugin, or per hand-written parser reached through a
// plugin's metadata-only calls; built once per target with
//   IMIO_FUZZ_PLUGIN  the plugin named ("" = chosen by signature)
//   IMIO_FUZZ_CALLS   which calls (imio_fuzz::Calls bits)
//   IMIO_FUZZ_MODE    optional: the reads' `mode` kwarg
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_exercise.hpp"

namespace {

imio::Kwargs read_kwargs() {
#ifdef IMIO_FUZZ_MODE
  return {{"mode", IMIO_FUZZ_MODE}};
#else
  return {};
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  imio_fuzz::quiet();
  static const imio::Kwargs kwargs = read_kwargs();
  imio_fuzz::exercise(std::as_bytes(std::span(data, size)), IMIO_FUZZ_PLUGIN, IMIO_FUZZ_CALLS, kwargs);
  return 0;
}
