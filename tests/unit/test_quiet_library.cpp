// <imio/quiet_library.hpp>: the guards that leave a library alone. The
// silencing itself is tested where a backend prints: the libjxl and dicom
// plugins' damage tests require an empty stderr, and fail with the
// libraries' messages when IMIO_LIBJXL_DEBUG / IMIO_GDCM_DEBUG keep them.
#include <imio/quiet_library.hpp>

#include <cstdlib>

#include "catch.hpp"

TEST_CASE("silence_library_output leaves alone what it must not patch", "[quiet_library]") {
  // no such symbol in the process
  CHECK_FALSE(imio::silence_library_output("imio_no_such_symbol_anywhere", "lib", nullptr));
  CHECK_FALSE(imio::silence_library_output(nullptr, "lib", nullptr));
  // fprintf lives in libc.so.6: a library of another name is never patched
  CHECK_FALSE(imio::silence_library_output("fprintf", "libjxl", nullptr));
  CHECK_FALSE(imio::silence_library_output("malloc", "libgdcmjpeg8", nullptr));
  // the keep variable wins before anything is looked up
  ::setenv("IMIO_TEST_KEEP_OUTPUT", "1", 1);
  CHECK_FALSE(imio::silence_library_output("fprintf", "libjxl", "IMIO_TEST_KEEP_OUTPUT"));
  ::unsetenv("IMIO_TEST_KEEP_OUTPUT");
}
