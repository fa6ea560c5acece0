#include "commands.hpp"

#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <ostream>
#include <system_error>

#include <fmt/format.h>

#include "json_output.hpp"
#include "progress.hpp"

namespace imio::cli {
namespace {

// "-" is the encoded data on stdin; anything else is what the library accepts as a string.
ImageResource input(const Invocation& inv, Streams io) {
  const std::string& uri = inv.positionals.at(0);
  if (uri == "-") return ImageResource(io.in);
  return ImageResource(uri);
}

ReadOptions read_options(const Invocation& inv) {
  return {.index = inv.index, .plugin = inv.plugin, .extension = inv.extension, .kwargs = inv.kwargs,
          .limits = inv.limits};
}

WriteOptions write_options(const Invocation& inv) {
  return {.plugin = inv.write_plugin, .extension = inv.write_extension, .kwargs = inv.write_kwargs,
          .limits = inv.limits};
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

// Writers whose several write calls make one animation (giflib buffers the
// frames it is given, FFmpeg's muxers append them): a batch may reach them a
// frame at a time. Other writers take a batch as one array (npy) or one
// ndimage (libtiff), so they get it whole, as imwrite would.
bool appends_frames(const ImageFile& writer) {
  const std::string& name = writer.plugin_name();
  return name == "giflib" || name == "ffmpeg";
}

// Per-frame lists (duration=[…]) describe every frame of one write call.
bool has_list_kwarg(const Kwargs& kwargs) {
  for (const auto& [key, value] : kwargs) {
    if (value.is<Value::List>()) return true;
  }
  return false;
}

void write_stdout(std::ostream& out, const std::optional<Bytes>& encoded) {
  if (encoded) out.write(reinterpret_cast<const char*>(encoded->data()), static_cast<std::streamsize>(encoded->size()));
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
                            .kwargs = inv.kwargs,
                            .limits = inv.limits};
  io.out << to_json(immeta(input(inv, io), options)) << '\n';
}

void run_convert(const Invocation& inv, Streams io) {
  const std::string& out = inv.positionals.at(1);
  const WriteOptions options = write_options(inv);
  if (out == "-") {
    // stdout is written only once the encoding has succeeded: a failed
    // write leaves nothing half-written there. ("<bytes>" writers finish in
    // their write call, so the image is written whole.)
    write_stdout(io.out, imwrite("<bytes>", imread(input(inv, io), read_options(inv)), options));
    return;
  }
  ImageFile reader = imopen(input(inv, io), "r", {.plugin = inv.plugin, .extension = inv.extension, .limits = inv.limits});
  // improps tells whether imread would give a batch of frames (D11).
  std::optional<ImageProperties> props;
  if (inv.index.is_none() && !has_list_kwarg(inv.write_kwargs)) {
    try {
      props = reader.properties({.kwargs = inv.kwargs});
    } catch (const ArgumentError&) {
      // a kwarg only read takes (FFmpeg's filters, threads): not streamed
    }
  }
  if (!props || !props->is_batch) {
    // One image (or an explicit index): imread then imwrite, as ever.
    const NDArray image = reader.read({.index = inv.index, .kwargs = inv.kwargs});
    imwrite(out, image, options);
    return;
  }
  // The frames of a video or animation: read and written one at a time, so
  // memory holds one frame (plus what the writer keeps), not the whole stack.
  ImageFile writer = imopen(out, "w", {.plugin = options.plugin, .extension = options.extension, .limits = inv.limits});
  if (!appends_frames(writer)) {
    writer.write(reader.read({.index = inv.index, .kwargs = inv.kwargs}), {.kwargs = options.kwargs});
    writer.close();
    return;
  }
  Progress progress(io.err, io.progress);
  progress.set_total(props->n_images);
  std::size_t count = 0;
  for (NDArray& frame : reader.iter({.kwargs = inv.kwargs})) {
    writer.write(std::span<const NDArray>(&frame, 1), {.kwargs = options.kwargs});
    progress.frame(++count);
  }
  writer.close();
}

void run_iter(const Invocation& inv, Streams io) {
  const std::filesystem::path dir = inv.positionals.at(1);
  const IterOptions options{.plugin = inv.plugin, .extension = inv.extension, .kwargs = inv.kwargs, .limits = inv.limits};
  WriteOptions write = write_options(inv);
  const std::string extension = write.extension.empty() ? std::string(".npy") : write.extension;
  FrameRange frames = imiter(input(inv, io), options);
  auto it = frames.begin();  // opens the resource: a missing input creates no folder
  make_folder(dir);
  Progress progress(io.err, io.progress);
  std::size_t count = 0;
  for (; it != frames.end(); ++it) {
    imwrite(dir / fmt::format("{:05d}{}", count, extension), *it, write);
    progress.frame(++count);
  }
  progress.done();
  io.out << count << '\n';
}

void run_plugins(Streams io) { io.out << plugins_json(plugins()) << '\n'; }

}  // namespace imio::cli
