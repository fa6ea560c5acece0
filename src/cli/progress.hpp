// The progress line of long conversions: "\rframe 120/300" on stderr when
// stderr is a terminal, nothing otherwise (scripts and pipes see no noise).
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace imio::cli {

/// The text that (re)draws the progress line after `frames` frames: a
/// carriage return, "frame N" and "/TOTAL" when the total is known.
std::string progress_line(std::size_t frames, std::optional<std::size_t> total);

/// What erases the progress line: a carriage return, spaces over the
/// longest line drawn, a carriage return.
std::string progress_clear(std::size_t longest);

/// Draws the progress line on `out` when enabled, at most every 100 ms (and
/// always for the first frame); done() erases it.
class Progress {
 public:
  Progress(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  /// Whether a terminal is attached to file descriptor `fd` (isatty).
  static bool is_terminal(int fd);

  void set_total(std::optional<std::size_t> total) { total_ = total; }
  /// `frames` frames are done.
  void frame(std::size_t frames);
  /// Erases the line (also done by the destructor).
  void done();

 private:
  std::ostream& out_;
  bool enabled_;
  std::optional<std::size_t> total_;
  std::size_t longest_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace imio::cli
