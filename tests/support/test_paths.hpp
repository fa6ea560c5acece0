// Where the tests find their data, and temporary folders that clean up.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace imio_test {

/// ../shared/corpus beside the checkout (set by CMake), or empty when absent.
inline std::filesystem::path corpus_dir() {
  const std::filesystem::path p = IMIO_TEST_CORPUS;
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) ? p : std::filesystem::path();
}

/// The corpus file at `rel` (below corpus_dir()), or empty when the corpus
/// or the file is absent.
inline std::filesystem::path corpus_file(const std::string& rel) {
  const std::filesystem::path dir = corpus_dir();
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(dir / rel, ec)) return {};
  return dir / rel;
}

/// A fresh folder under the system's temporary folder, removed with its contents at scope end.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("imio-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace imio_test
