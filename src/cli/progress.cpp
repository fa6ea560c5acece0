#include "progress.hpp"

#include <unistd.h>

#include <ostream>

namespace imio::cli {

std::string progress_line(std::size_t frames, std::optional<std::size_t> total) {
  std::string line = "\rframe " + std::to_string(frames);
  if (total) line += "/" + std::to_string(*total);
  return line;
}

std::string progress_clear(std::size_t longest) {
  if (longest == 0) return {};
  return "\r" + std::string(longest, ' ') + "\r";
}

bool Progress::is_terminal(int fd) { return ::isatty(fd) == 1; }

Progress::~Progress() { done(); }

void Progress::frame(std::size_t frames) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (longest_ != 0 && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const std::string line = progress_line(frames, total_);
  if (line.size() - 1 > longest_) longest_ = line.size() - 1;  // the \r takes no column
  out_ << line << std::flush;
}

void Progress::done() {
  if (!enabled_ || longest_ == 0) return;
  out_ << progress_clear(longest_) << std::flush;
  longest_ = 0;
}

}  // namespace imio::cli
