#include "commands.hpp"

#include <imio/imio.hpp>
#include <imio/metadata_write.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
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

// The source's metadata blocks and whether its read turned the pixels
// upright (the plugin then hides Orientation from exclude_applied=true,
// D17). Metadata that cannot be read is reported, never fatal: the pixels
// are converted anyway.
struct SourceMetadata {
  Metadata entries;
  bool orientation_applied = false;
  std::optional<std::string> error;
};

SourceMetadata source_metadata(ImageFile& reader, const Invocation& inv) {
  SourceMetadata s;
  try {
    try {
      s.entries = reader.metadata({.index = inv.index, .exclude_applied = false, .kwargs = inv.kwargs});
    } catch (const ArgumentError&) {
      // a read kwarg the plugin's metadata does not take: the pixels are as stored
      s.entries = reader.metadata({.index = inv.index, .exclude_applied = false});
      return s;
    }
    if (s.entries.contains("Orientation") && s.entries.contains("exif")) {
      const Metadata shown = reader.metadata({.index = inv.index, .exclude_applied = true, .kwargs = inv.kwargs});
      s.orientation_applied = !shown.contains("Orientation");
    }
  } catch (const Error& e) {
    s.entries = Metadata();
    s.error = e.what();
  }
  return s;
}

// The key a writer's ArgumentError names ("keyword 'xmp': …"), if it is one
// of `carried`.
std::optional<std::string> refused_key(const ArgumentError& e, const std::vector<std::string>& carried) {
  const std::string message = e.what();
  for (const std::string& key : carried) {
    if (message.find("keyword '" + key + "'") != std::string::npos) return key;
  }
  return std::nullopt;
}

// What the source's metadata becomes for a writer: the carried blocks
// as kwargs (after the caller's own --write-kw, which win), and the report.
struct CarryPlan {
  Kwargs kwargs;
  std::vector<std::string> carried;
  Dict not_carried;

  // Drops the block a writer's ArgumentError names, with its reason;
  // false when the error names none of them (the caller rethrows).
  bool drop_refused(const ArgumentError& e) {
    const auto key = refused_key(e, carried);
    if (!key) return false;
    not_carried.set(*key, fmt::format("the writer refused it: {}", e.reason()));
    carried.erase(std::find(carried.begin(), carried.end(), *key));
    kwargs.erase(std::find_if(kwargs.begin(), kwargs.end(), [&](const Kwarg& k) { return k.first == *key; }));
    return true;
  }

  std::optional<Dict> report() const {
    if (carried.empty() && not_carried.empty()) return std::nullopt;
    Value::List carried_list(carried.begin(), carried.end());
    return Dict{{"metadata", Dict{{"carried", Value(std::move(carried_list))}, {"not_carried", not_carried}}}};
  }
};

CarryPlan plan_metadata(ImageFile& reader, const Invocation& inv, const std::string& target_plugin, const Kwargs& write_kwargs) {
  CarryPlan plan;
  plan.kwargs = write_kwargs;
  if (inv.strip_metadata) return plan;
  const SourceMetadata source = source_metadata(reader, inv);
  MetadataCopy copy = copy_metadata(source.entries, target_plugin, {.orientation_applied = source.orientation_applied});
  for (auto& [key, reason] : copy.not_carried) plan.not_carried.set(key, reason);
  if (source.error) plan.not_carried.set("metadata", "could not be read: " + *source.error);
  for (auto& item : copy.kwargs) {
    const std::string& key = item.first;  // not a structured binding: the lambda captures it (clang 14)
    Value& value = item.second;
    const bool given = std::any_of(write_kwargs.begin(), write_kwargs.end(), [&](const Kwarg& k) { return k.first == key; });
    if (given) {
      plan.not_carried.set(key, "replaced by --write-kw");
      continue;
    }
    plan.carried.push_back(key);
    plan.kwargs.emplace_back(key, std::move(value));
  }
  return plan;
}

ImageFile open_output(const Invocation& inv, const std::string& out) {
  const WriteOptions options = write_options(inv);
  return imopen(out, "w", {.plugin = options.plugin, .extension = options.extension, .limits = inv.limits});
}

// Writes `image` to `out` with the source's metadata carried (unless
// --strip-metadata). A block the writer refuses (an EXIF block too large
// for a JPEG segment, …) is dropped and reported; the image is written
// once, whole (each attempt is a new atomic write). Returns the report, or
// none when the source holds no metadata block. `first`: the writer, when
// the caller opened it already.
std::optional<Dict> write_with_metadata(ImageFile& reader, const NDArray& image, const Invocation& inv,
                                        const std::string& out, std::optional<Bytes>* encoded,
                                        std::optional<ImageFile> first = std::nullopt) {
  if (!first) first = open_output(inv, out);
  CarryPlan plan = plan_metadata(reader, inv, first->plugin_name(), write_options(inv).kwargs);
  // A writer whose write throws dies while the exception unwinds: its
  // output is discarded, not committed (ImageFile's destructor).
  const auto attempt = [&] {
    ImageFile writer = first ? std::move(*first) : open_output(inv, out);
    first.reset();
    writer.write(image, {.kwargs = plan.kwargs});
    return writer.close();
  };
  for (;;) {
    try {
      *encoded = attempt();
      break;
    } catch (const ArgumentError& e) {
      if (!plan.drop_refused(e)) throw;
    }
  }
  return plan.report();
}

// The frames of a video or animation, read and written one at a time (memory
// holds one frame, plus what the writer keeps), with the source's
// file-level metadata given to the writer's first write: a block the writer
// refuses there is dropped and the file started again.
std::optional<Dict> stream_with_metadata(ImageFile& reader, ImageFile writer, const Invocation& inv,
                                         const std::string& out, std::optional<std::size_t> n_images, Streams io) {
  CarryPlan plan = plan_metadata(reader, inv, writer.plugin_name(), write_options(inv).kwargs);
  const Kwargs later = write_options(inv).kwargs;
  Progress progress(io.err, io.progress);
  progress.set_total(n_images);
  std::size_t count = 0;
  std::optional<ImageFile> current(std::move(writer));
  for (NDArray& frame : reader.iter({.kwargs = inv.kwargs})) {
    if (count > 0) {
      current->write(std::span<const NDArray>(&frame, 1), {.kwargs = later});
    } else {
      for (;;) {
        try {
          ImageFile w = std::move(*current);
          current.reset();
          w.write(std::span<const NDArray>(&frame, 1), {.kwargs = plan.kwargs});
          current.emplace(std::move(w));
          break;
        } catch (const ArgumentError& e) {
          if (!plan.drop_refused(e)) throw;
          current.emplace(open_output(inv, out));
        }
      }
    }
    progress.frame(++count);
  }
  current->close();
  return plan.report();
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
  ImageFile reader = imopen(input(inv, io), "r", {.plugin = inv.plugin, .extension = inv.extension, .limits = inv.limits});
  if (out == "-") {
    // stdout is written only once the encoding has succeeded: a failed
    // write leaves nothing half-written there. ("<bytes>" writers finish in
    // their write call, so the image is written whole.) The metadata is
    // carried, unreported: stdout holds the image.
    const NDArray image = reader.read({.index = inv.index, .kwargs = inv.kwargs});
    std::optional<Bytes> encoded;
    write_with_metadata(reader, image, inv, "<bytes>", &encoded);
    write_stdout(io.out, encoded);
    return;
  }
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
    std::optional<Bytes> encoded;
    if (const auto report = write_with_metadata(reader, image, inv, out, &encoded)) io.out << to_json(*report) << '\n';
    return;
  }
  // The frames of a video or animation: a writer that appends frames gets
  // them one at a time; another the stack, as imread gives it.
  ImageFile writer = open_output(inv, out);
  std::optional<Dict> report;
  if (!appends_frames(writer)) {
    const NDArray image = reader.read({.index = inv.index, .kwargs = inv.kwargs});
    std::optional<Bytes> encoded;
    report = write_with_metadata(reader, image, inv, out, &encoded, std::move(writer));
  } else {
    report = stream_with_metadata(reader, std::move(writer), inv, out, props->n_images, io);
  }
  if (report) io.out << to_json(*report) << '\n';
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
