// Python (with numpy, Pillow, tifffile, PyAV from Debian's python3-* packages)
// as an independent reader/writer for the tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "test_paths.hpp"
#include "test_util.hpp"

namespace imio_test {

/// The interpreter CMake found (IMIO_TEST_PYTHON), or empty.
inline std::string python() { return IMIO_TEST_PYTHON; }

/// Whether the interpreter can import `module` (cached).
inline bool python_has(const std::string& module) {
  static std::mutex mutex;
  static std::map<std::string, bool> known;
  std::lock_guard lock(mutex);
  auto it = known.find(module);
  if (it != known.end()) return it->second;
  const bool ok = !python().empty() &&
                  std::system(("\"" + python() + "\" -c \"import " + module + "\" >/dev/null 2>&1").c_str()) == 0;
  return known[module] = ok;
}

/// Runs `script` with `dir` as its argument; returns the exit status and
/// leaves the script's stdout and stderr in `log`.
inline int run_python(const TempDir& dir, std::string_view script, std::string& log) {
  const std::filesystem::path script_path = dir / "script.py";
  const std::filesystem::path log_path = dir / "python.log";
  write_file(script_path, to_bytes(script));
  const std::string cmd = "\"" + python() + "\" \"" + script_path.string() + "\" \"" + dir.path().string() + "\" > \"" +
                          log_path.string() + "\" 2>&1";
  const int status = std::system(cmd.c_str());
  log = to_string(read_file(log_path));
  return status;
}

}  // namespace imio_test
