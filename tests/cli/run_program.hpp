// Running a program with its stdin from a file, capturing stdout, stderr and
// the exit status.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace imio_test {

struct ProgramResult {
  /// The exit status, or -signal when the program was killed.
  int status = -1;
  std::string out;
  std::string err;
};

/// Runs `exe` with `args`, stdin read from `input`.
ProgramResult run_program(const std::string& exe, const std::vector<std::string>& args,
                          const std::filesystem::path& input = "/dev/null");

/// Runs the `imio` program under test.
inline ProgramResult run_imio(const std::vector<std::string>& args, const std::filesystem::path& input = "/dev/null") {
  return run_program(IMIO_CLI_PATH, args, input);
}

/// The whole file, bytes as chars.
std::string read_text(const std::filesystem::path& path);

}  // namespace imio_test
