// Helpers of the libtiff tests: reproducible sample arrays of every dtype,
// and the TIFFs of corpus folders listed for a Python oracle.
#pragma once

#include <imio/ndarray.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

/// Ends the test case with a warning when tifffile (the independent reader
/// and writer of these tests) is not importable.
#define REQUIRE_TIFFFILE()                           \
  if (!::imio_test::tifffile_available()) {          \
    WARN("python3-tifffile absent: skipped");        \
    return;                                          \
  }

namespace imio_test {

/// Whether python3 imports tifffile and numpy (cached by python_has).
inline bool tifffile_available() { return python_has("tifffile, numpy"); }

/// Random bytes of `dtype` (bool 0/1, floats finite, so equality is exact).
inline imio::NDArray sample(const imio::Shape& shape, imio::DType dtype, std::uint32_t seed = 3) {
  using imio::DType;
  imio::NDArray a(shape, dtype);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>(rng() & 0xFF);
  if (dtype == DType::bool_) {
    for (std::size_t i = 0; i < a.size(); ++i) a.bytes()[i] = static_cast<std::byte>(rng() & 1);
  }
  if (dtype == DType::float16 || dtype == DType::float32 || dtype == DType::float64) {
    // Finite values only, so equality is bitwise and NaN payloads do not matter.
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double v = static_cast<double>(rng() % 2001) / 8.0 - 125.0;
      if (dtype == DType::float16) a.data<imio::float16>()[i] = imio::float16::from_float(static_cast<float>(v));
      if (dtype == DType::float32) a.data<float>()[i] = static_cast<float>(v);
      if (dtype == DType::float64) a.data<double>()[i] = v;
    }
  }
  return a;
}

/// The TIFFs below the corpus folders, sorted, also written one path a line
/// to <dir>/list.txt so a script can refer to file i as i.npy.
inline std::vector<std::filesystem::path> list_corpus_tiffs(std::initializer_list<const char*> folders,
                                                            const TempDir& dir) {
  std::vector<std::filesystem::path> files;
  for (const char* folder : folders) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(corpus_dir() / folder)) {
      const auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".tif" || ext == ".tiff")) files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::string list;
  for (const auto& f : files) list += f.string() + "\n";
  write_file(dir / "list.txt", to_bytes(list));
  return files;
}

}  // namespace imio_test
