// File descriptor 2 redirected into a file, for the tests that check a
// backend prints nothing (libraries write to fd 2 directly, past std::cerr).
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "test_util.hpp"

namespace imio_test {

/// fd 2 goes to `path` from construction until text() or destruction.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& path) : path_(path) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// Ends the capture and returns what was written to fd 2.
  std::string text() {
    restore();
    return to_string(read_file(path_));
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::filesystem::path path_;
  int saved_ = -1;
};

/// What `f()` writes to fd 2 (rethrowing what it throws, fd 2 restored).
template <class F>
std::string stderr_of(const std::filesystem::path& path, F&& f) {
  StderrCapture capture(path);
  f();
  return capture.text();
}

}  // namespace imio_test
