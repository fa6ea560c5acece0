// The commands of `imio`: each runs the library and prints only the
// documented output. Library errors propagate as imio::Error.
#pragma once

#include "command_line.hpp"

#include <iosfwd>

namespace imio::cli {

/// Where a command reads "-" from and prints to, and where a progress line
/// goes (`err`, drawn only when `progress` is set: stderr is a terminal).
struct Streams {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool progress = false;
};

void run_props(const Invocation& inv, Streams io);
void run_meta(const Invocation& inv, Streams io);
void run_convert(const Invocation& inv, Streams io);
void run_iter(const Invocation& inv, Streams io);
void run_plugins(Streams io);

}  // namespace imio::cli
