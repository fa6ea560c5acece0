// The TIFFs of corpus folders, for tests that hand them to a Python oracle:
// sorted, and written one path a line to <dir>/list.txt so a script can
// refer to file i as i.npy.
#pragma once

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "test_paths.hpp"
#include "test_util.hpp"

namespace imio_test {

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
