// Parsing the `imio` command line into an Invocation.
#include "command_line.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "json_input.hpp"

namespace imio::cli {
namespace {

constexpr std::string_view usage_text =
    "Usage:\n"
    "  imio props   URI [OPTIONS]                 print improps(URI) as one JSON object\n"
    "  imio meta    URI [OPTIONS] [--exclude-applied=true|false]\n"
    "                                             print immeta(URI) as one JSON object\n"
    "  imio convert URI OUT [OPTIONS] [WRITE OPTIONS]\n"
    "                                             imread(URI) then imwrite(OUT); frames of a video or\n"
    "                                             animation are streamed one by one to video and GIF\n"
    "                                             writers; OUT may be \"-\" for stdout; OUT ending in\n"
    "                                             .npy writes a NumPy array\n"
    "  imio iter    URI OUTDIR [OPTIONS] [WRITE OPTIONS]\n"
    "                                             write each image of imiter(URI) as OUTDIR/00000.npy,\n"
    "                                             00001.npy, ... (another format with --write-extension);\n"
    "                                             print the count\n"
    "  imio plugins                               print the registered plugins as a JSON list\n"
    "  imio --version | --help\n"
    "\n"
    "OPTIONS (read side, as in the library):\n"
    "  --index N|all        index; omitted = the plugin's default (not for iter)\n"
    "  --plugin NAME        plugin name or imageio alias\n"
    "  --extension .EXT     treat the resource as having this extension\n"
    "  --kw KEY=VALUE       a plugin kwarg; repeatable. VALUE is parsed as JSON when it\n"
    "                       parses (true, 3, 2.5, [100,200], \"text\"), else taken as a string;\n"
    "                       the VALUE `...` stands for imio::all (Python's Ellipsis)\n"
    "  --max-pixels N       Limits of the call (also for the write side): pixels of one image,\n"
    "  --max-frames N       images in one result or written in one call,\n"
    "  --max-bytes N        bytes of one allocation; omitted = the library's defaults\n"
    "\n"
    "WRITE OPTIONS (convert, iter):\n"
    "  --write-plugin P     the writing plugin\n"
    "  --write-extension .E the format (convert: also for OUT \"-\"; iter: the frames' extension,\n"
    "                       default .npy)\n"
    "  --write-kw K=V       a kwarg of the writer; repeatable, VALUE as for --kw\n"
    "  --strip-metadata     convert: do not carry EXIF, XMP, IPTC and ICC to OUT (by default they\n"
    "                       are carried where OUT's format holds them, and convert prints\n"
    "                       {\"metadata\": {\"carried\": [...], \"not_carried\": {...}}} for a file OUT)\n"
    "\n"
    "Long conversions draw a progress line on stderr when it is a terminal.\n"
    "URI is a path, imageio:NAME, an http(s) URL or archive.zip/member; \"-\" reads stdin.\n"
    "Exit status: 0 success, 1 the library failed (\"imio: <ErrorClass>: <message>\"), 2 bad command line.\n";

// Which commands accept an option (a bit per Command).
constexpr unsigned bit(Command c) { return 1U << static_cast<unsigned>(c); }
constexpr unsigned reading = bit(Command::props) | bit(Command::meta) | bit(Command::convert) | bit(Command::iter);

enum class Opt {
  index, plugin, extension, kw, exclude_applied, write_plugin, write_extension, write_kw, max_pixels, max_frames,
  max_bytes, strip_metadata
};

struct OptionSpec {
  std::string_view name;
  Opt opt;
  unsigned commands;
  bool repeatable;
};

constexpr unsigned writing = bit(Command::convert) | bit(Command::iter);

constexpr std::array<OptionSpec, 12> option_specs{{
    {"--index", Opt::index, reading & ~bit(Command::iter), false},
    {"--plugin", Opt::plugin, reading, false},
    {"--extension", Opt::extension, reading, false},
    {"--kw", Opt::kw, reading, true},
    {"--exclude-applied", Opt::exclude_applied, bit(Command::meta), false},
    {"--write-plugin", Opt::write_plugin, writing, false},
    {"--write-extension", Opt::write_extension, writing, false},
    {"--write-kw", Opt::write_kw, writing, true},
    {"--max-pixels", Opt::max_pixels, reading, false},
    {"--max-frames", Opt::max_frames, reading, false},
    {"--max-bytes", Opt::max_bytes, reading, false},
    {"--strip-metadata", Opt::strip_metadata, bit(Command::convert), false},
}};

struct CommandSpec {
  std::string_view name;
  Command command;
  std::array<std::string_view, 2> positionals;  // names, for messages; empty = none
};

constexpr std::array<CommandSpec, 5> command_specs{{
    {"props", Command::props, {"URI", ""}},
    {"meta", Command::meta, {"URI", ""}},
    {"convert", Command::convert, {"URI", "OUT"}},
    {"iter", Command::iter, {"URI", "OUTDIR"}},
    {"plugins", Command::plugins, {"", ""}},
}};

const CommandSpec& find_command(std::string_view name) {
  for (const auto& spec : command_specs) {
    if (spec.name == name) return spec;
  }
  throw UsageError(fmt::format("unknown command '{}'", name));
}

const OptionSpec& find_option(std::string_view name, const CommandSpec& command) {
  for (const auto& spec : option_specs) {
    if (spec.name != name) continue;
    if ((spec.commands & bit(command.command)) == 0) {
      throw UsageError(fmt::format("option {} does not apply to 'imio {}'", name, command.name));
    }
    return spec;
  }
  throw UsageError(fmt::format("unknown option '{}'", name));
}

Index parse_index(std::string_view text) {
  if (text == "all" || text == "...") return Index(all);
  std::int64_t k = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), k);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(fmt::format("bad value for --index: '{}' (expected an integer or 'all')", text));
  }
  return Index(k);
}

std::pair<std::string, Value> parse_kwarg(std::string_view option, std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw UsageError(fmt::format("bad value for {}: '{}' (expected KEY=VALUE)", option, text));
  }
  return {std::string(text.substr(0, eq)), parse_kwarg_value(text.substr(eq + 1))};
}

std::uint64_t parse_limit(std::string_view option, std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0) {
    throw UsageError(fmt::format("bad value for {}: '{}' (expected a positive integer)", option, text));
  }
  return n;
}

std::string parse_extension(std::string_view option, std::string_view text) {
  if (text.size() < 2 || text[0] != '.') {
    throw UsageError(fmt::format("bad value for {}: '{}' (expected an extension with its dot, such as .png)", option, text));
  }
  return std::string(text);
}

bool parse_bool(std::string_view option, std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw UsageError(fmt::format("bad value for {}: '{}' (expected true or false)", option, text));
}

void apply(Invocation& inv, Opt opt, std::string_view option, std::string_view value) {
  switch (opt) {
    case Opt::index: inv.index = parse_index(value); break;
    case Opt::plugin: inv.plugin = value; break;
    case Opt::extension: inv.extension = value; break;
    case Opt::kw: inv.kwargs.push_back(parse_kwarg(option, value)); break;
    case Opt::exclude_applied: inv.exclude_applied = parse_bool(option, value); break;
    case Opt::write_plugin: inv.write_plugin = value; break;
    case Opt::write_extension: inv.write_extension = parse_extension(option, value); break;
    case Opt::write_kw: inv.write_kwargs.push_back(parse_kwarg(option, value)); break;
    case Opt::max_pixels: inv.limits.max_pixels = parse_limit(option, value); break;
    case Opt::max_frames: inv.limits.max_frames = parse_limit(option, value); break;
    case Opt::max_bytes: inv.limits.max_bytes = parse_limit(option, value); break;
    case Opt::strip_metadata: inv.strip_metadata = parse_bool(option, value); break;
  }
}

bool is_option(std::string_view arg) { return arg.size() > 1 && arg[0] == '-'; }

void check_positionals(const Invocation& inv, const CommandSpec& command) {
  std::size_t wanted = 0;
  for (const auto name : command.positionals) {
    if (name.empty()) break;
    if (inv.positionals.size() <= wanted) {
      throw UsageError(fmt::format("'imio {}' needs {}", command.name, name));
    }
    ++wanted;
  }
  if (inv.positionals.size() > wanted) {
    throw UsageError(fmt::format("unexpected argument '{}' for 'imio {}'", inv.positionals[wanted], command.name));
  }
}

}  // namespace

std::string_view usage() { return usage_text; }

std::string_view usage_hint() { return "run 'imio --help' for usage"; }

Invocation parse_command_line(std::span<const std::string_view> args) {
  Invocation inv;
  if (args.empty()) throw UsageError("no command given");
  if (args[0] == "--help" || args[0] == "-h") return inv;
  if (args[0] == "--version") {
    if (args.size() > 1) throw UsageError(fmt::format("unexpected argument '{}' after --version", args[1]));
    inv.command = Command::version;
    return inv;
  }
  const CommandSpec& command = find_command(args[0]);
  inv.command = command.command;

  std::vector<Opt> seen;
  bool options_ended = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (options_ended || !is_option(arg)) {
      inv.positionals.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      inv.command = Command::help;
      return inv;
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const OptionSpec& spec = find_option(name, command);
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (spec.opt == Opt::strip_metadata) {
      value = "true";  // a flag: --strip-metadata alone, or =true / =false
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError(fmt::format("option {} needs a value", name));
    }
    if (!spec.repeatable) {
      for (const Opt o : seen) {
        if (o == spec.opt) throw UsageError(fmt::format("option {} given twice", name));
      }
      seen.push_back(spec.opt);
    }
    apply(inv, spec.opt, name, value);
  }
  check_positionals(inv, command);
  // stdout has no name to take the format from
  if (inv.command == Command::convert && inv.positionals[1] == "-" && inv.write_extension.empty() &&
      inv.write_plugin.empty()) {
    throw UsageError("'imio convert URI -' needs --write-extension or --write-plugin to choose the format");
  }
  return inv;
}

}  // namespace imio::cli
