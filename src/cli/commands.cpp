#include "commands.hpp"

#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <filesystem>
#include <ostream>
#include <system_error>

#include <fmt/format.h>

#include "json_output.hpp"

namespace imio::cli {
namespace {

// "-" is the encoded data on stdin; anything else is what the library accepts as a string.
ImageResource input(const Invocation& inv, Streams io) {
  const std::string& uri = inv.positionals.at(0);
  if (uri == "-") return ImageResource(io.in);
  return ImageResource(uri);
}

ReadOptions read_options(const Invocation& inv) {
  return {.index = inv.index, .plugin = inv.plugin, .extension = inv.extension, .kwargs = inv.kwargs};
}

// The frames of `iter` go to OUTDIR, created when missing.
void make_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IOError(fmt::format("cannot create the folder '{}': {}", dir.string(), ec.message()));
  if (!std::filesystem::is_directory(dir, ec)) {
    throw IOError(fmt::format("cannot write frames to '{}': not a folder", dir.string()));
  }
}

}  // namespace

void run_props(const Invocation& inv, Streams io) {
  io.out << props_json(improps(input(inv, io), read_options(inv))) << '\n';
}

void run_meta(const Invocation& inv, Streams io) {
  const MetaOptions options{.index = inv.index,
                            .plugin = inv.plugin,
                            .extension = inv.extension,
                            .exclude_applied = inv.exclude_applied,
                            .kwargs = inv.kwargs};
  io.out << to_json(immeta(input(inv, io), options)) << '\n';
}

void run_convert(const Invocation& inv, Streams io) {
  const std::string& out = inv.positionals.at(1);
  const NDArray image = imread(input(inv, io), read_options(inv));
  const WriteOptions options{.plugin = inv.write_plugin, .extension = inv.write_extension, .kwargs = inv.write_kwargs};
  // stdout is written only once the encoding has succeeded: a failed
  // write leaves nothing half-written there.
  const auto encoded = imwrite(out == "-" ? std::string("<bytes>") : out, image, options);
  if (encoded) {
    io.out.write(reinterpret_cast<const char*>(encoded->data()), static_cast<std::streamsize>(encoded->size()));
  }
}

void run_iter(const Invocation& inv, Streams io) {
  const std::filesystem::path dir = inv.positionals.at(1);
  const IterOptions options{.plugin = inv.plugin, .extension = inv.extension, .kwargs = inv.kwargs};
  FrameRange frames = imiter(input(inv, io), options);
  auto it = frames.begin();  // opens the resource: a missing input creates no folder
  make_folder(dir);
  std::size_t count = 0;
  for (; it != frames.end(); ++it) {
    imwrite(dir / fmt::format("{:05d}.npy", count), *it);
    ++count;
  }
  io.out << count << '\n';
}

void run_plugins(Streams io) { io.out << plugins_json(plugins()) << '\n'; }

}  // namespace imio::cli
