// imio — the command-line tool over the library (design/CLI.md).
//
// Exit status: 0 success; 1 the library threw (one stderr line
// "imio: <ErrorClass>: <message>"); 2 a bad command line (the problem and a
// hint to --help on stderr).
// stdout carries only the documented output.
#include <imio/error.hpp>
#include <imio/version.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace {

// The contract is one line per error: messages that span lines are joined.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\r') continue;
    out += c == '\n' ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

int fail(std::string_view error_class, std::string_view message) {
  std::cerr << "imio: " << error_class << ": " << one_line(message) << '\n';
  return 1;
}

// One line with the problem and one with the hint: the whole usage would
// bury the message.
int usage_error(std::string_view message) {
  std::cerr << "imio: " << one_line(message) << '\n' << imio::cli::usage_hint() << '\n';
  return 2;
}

void run(const imio::cli::Invocation& inv) {
  using imio::cli::Command;
  const imio::cli::Streams io{std::cin, std::cout, std::cerr, imio::cli::Progress::is_terminal(2)};
  switch (inv.command) {
    case Command::props: return run_props(inv, io);
    case Command::meta: return run_meta(inv, io);
    case Command::convert: return run_convert(inv, io);
    case Command::iter: return run_iter(inv, io);
    case Command::plugins: return run_plugins(io);
    case Command::version: std::cout << "imio " << imio::version_string << '\n'; return;
    case Command::help: std::cout << imio::cli::usage(); return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    run(imio::cli::parse_command_line(args));
    std::cout.flush();
    if (!std::cout) return fail("IOError", "cannot write to stdout");
    return 0;
  } catch (const imio::cli::UsageError& e) {
    return usage_error(e.what());
  } catch (const imio::Error& e) {
    return fail(e.kind(), e.what());
  } catch (const std::exception& e) {
    return fail("Error", e.what());
  }
}
