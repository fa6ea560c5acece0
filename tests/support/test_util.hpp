// Small helpers shared by the tests: byte/string conversion, whole-file I/O,
// and the message of an expected exception.
#pragma once

#include <imio/ndarray.hpp>

#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include "catch.hpp"
#include "test_paths.hpp"

// IMIO_TEST_ASAN: built with AddressSanitizer, which reserves terabytes of
// shadow memory and reports an oversized allocation instead of failing it.
#if defined(__SANITIZE_ADDRESS__)
#define IMIO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMIO_TEST_ASAN 1
#endif
#endif

namespace imio_test {

/// A "within N seconds" bound for this build of the tests: N in an
/// optimised build (the build imio promises it for), ×10 under
/// AddressSanitizer, ×3 in another unoptimised build. CI's sanitizer leg is
/// a Debug build on a loaded 2-core machine, where a 0.1 s call took 1.5 s;
/// on a host whose page faults cost 10 µs (2026-12-07), a damaged EXR of a
/// hostile width (9 × 7 012 360 pixels) took 0.1 s in Release and 4.1 s
/// alone, 5.4 s under ctest, with AddressSanitizer, whose quarantine poisons
/// OpenEXR's freed line buffers page by page. The bound there only has to
/// catch a hang.
inline double time_bound(double seconds) {
#if defined(IMIO_TEST_ASAN)
  return seconds * 10;
#elif !defined(__OPTIMIZE__)
  return seconds * 3;
#else
  return seconds;
#endif
}

inline bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

inline imio::Bytes to_bytes(std::string_view s) {
  imio::Bytes out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline std::string to_string(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

inline void write_file(const std::filesystem::path& p, std::span<const std::byte> data) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

/// The whole file in one read (empty when it cannot be opened). A
/// character-by-character istreambuf_iterator loop took half the time of
/// some tests in the -O0 sanitizer build.
inline imio::Bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary | std::ios::ate);
  const std::streamoff size = f ? static_cast<std::streamoff>(f.tellg()) : -1;
  if (size <= 0) return {};
  imio::Bytes out(static_cast<std::size_t>(size));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(out.data()), size);
  out.resize(static_cast<std::size_t>(f.gcount()));
  return out;
}

/// Declares `const std::filesystem::path var` = the corpus file `rel`, or
/// ends the test case with a warning when it is not available.
#define IMIO_CORPUS_OR_SKIP(var, rel)                                  \
  const std::filesystem::path var = ::imio_test::corpus_file(rel);     \
  if (var.empty()) {                                                   \
    WARN("skipped: corpus file " << rel << " is not available");      \
    return;                                                            \
  }

/// Declares `const std::filesystem::path var` = the corpus folder `rel`, or
/// ends the test case with a warning when the corpus is not available.
#define IMIO_CORPUS_DIR_OR_SKIP(var, rel)                                      \
  if (::imio_test::corpus_dir().empty()) {                                     \
    WARN("skipped: no corpus (../shared/corpus)");                             \
    return;                                                                    \
  }                                                                            \
  const std::filesystem::path var = ::imio_test::corpus_dir() / (rel)

/// The what() of the exception of type E that `f` throws; a test failure
/// when it throws another type or nothing.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("an exception of another type was thrown: " << e.what());
  }
  FAIL("no exception was thrown");
  return {};
}

}  // namespace imio_test
