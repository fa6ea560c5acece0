// The `imio` command line, parsed (design/CLI.md is the contract).
#pragma once

#include <imio/options.hpp>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imio::cli {

enum class Command { props, meta, convert, iter, plugins, version, help };

/// One invocation: the command, its positional arguments and its options.
struct Invocation {
  Command command = Command::help;
  /// URI, then OUT (convert) or OUTDIR (iter).
  std::vector<std::string> positionals{};

  // read side (--index, --plugin, --extension, --kw)
  Index index{};
  std::string plugin{};
  std::string extension{};
  Kwargs kwargs{};

  // the call's Limits (--max-pixels, --max-frames, --max-bytes); 0 = the default
  Limits limits{};

  // meta
  bool exclude_applied = true;

  // the write side of convert and iter (--write-plugin, --write-extension, --write-kw)
  std::string write_plugin{};
  std::string write_extension{};
  Kwargs write_kwargs{};
  /// convert: drop the source's EXIF, XMP, IPTC and ICC (--strip-metadata).
  bool strip_metadata = false;
};

/// A bad command line: exit status 2, the message and a hint to --help on stderr.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses the arguments after the program name. Both `--opt value` and
/// `--opt=value` are accepted; `--` ends the options.
/// @throws UsageError
Invocation parse_command_line(std::span<const std::string_view> args);

/// The synopsis printed by --help.
std::string_view usage();

/// The line after a UsageError's message on stderr.
std::string_view usage_hint();

}  // namespace imio::cli
