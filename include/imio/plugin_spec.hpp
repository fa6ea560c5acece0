// imio — what a format plugin is: its instances (Plugin, FrameSource) and
// its descriptor (PluginSpec). For plugin authors (<imio/plugin.hpp>
// includes it); docs/writing-plugins.md tells the whole story.
#pragma once

#include <imio/export.hpp>
#include <imio/kwargs.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/properties.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imio {

class Request;

/// Yields the ndimages of a resource one at a time (Plugin::iter).
class IMIO_EXPORT FrameSource {
 public:
  virtual ~FrameSource();
  /// The next ndimage, or nullopt at the end.
  virtual std::optional<NDArray> next() = 0;
};

/// One open resource served by one backend. The core calls one method at a
/// time, never after close(), and only the methods of the handle's mode: a
/// reader's write() or a writer's read() is never called, so a read-only
/// plugin overrides the four read methods and a write-only one the two
/// write methods (the defaults throw IOError). The Request the factory
/// received outlives the plugin.
///
/// `index` reaching a plugin is never negative (the core rejects those).
/// Errors thrown with a reason only get the plugin, operation and resource
/// added by the core.
class IMIO_EXPORT Plugin {
 public:
  virtual ~Plugin();
  /// One ndimage, or all stacked for imio::all; `index` none = the plugin's default.
  virtual NDArray read(const Index& index, const Kwargs& kwargs);
  /// The ndimages in file order.
  virtual std::unique_ptr<FrameSource> iter(const Kwargs& kwargs);
  /// Properties of what read(index, kwargs) would return, without decoding pixels.
  virtual ImageProperties properties(const Index& index, const Kwargs& kwargs);
  /// Format-specific metadata of the image(s) at `index` (none = the
  /// plugin's default). With `exclude_applied`, entries the read applies to
  /// the pixels (e.g. Orientation when the read rotates) are left out
  /// (DECISIONS D17).
  virtual Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs);
  /// Writes one ndimage (a batch axis is the plugin's business).
  virtual void write(const NDArray& image, const Kwargs& kwargs);
  /// Writes a list of ndimages.
  virtual void write(std::span<const NDArray> images, const Kwargs& kwargs);
  /// Flushes and releases the backend. Called once, before the core
  /// completes the write (so errors thrown here abort the write).
  virtual void close() {}
};

/// Where a plugin stands in one extension's candidate list: lower priority
/// is tried first. Built-in plugins declare theirs in plugin.json (imageio's
/// order: 10 for the first plugin imageio names for an extension, 20 for
/// the second, …).
struct ExtensionPriority {
  std::string extension;  ///< lower case, with the dot
  int priority = 100;     ///< lower is tried first; the default, 100, comes after every built-in plugin
};

/// A plugin's descriptor: what it is (name, aliases, extensions, kwargs) and
/// how it opens a resource (sniff, factory).
///
/// Built-in plugins declare the descriptive fields in their folder's
/// plugin.json and set only the behaviour (sniff, factory, backend) in code;
/// plugins registered at run time may do the same with
/// plugin_spec_from_json(), or fill every field in code.
struct PluginSpec {
  /// Canonical name: "libpng", "npy", …
  std::string name;
  /// imageio's names that select it ("pillow", "pyav", …).
  std::vector<std::string> aliases{};
  /// What it serves, in one line ("PNG and APNG through libpng").
  std::string summary{};
  /// The extensions it serves, with its place in each one's candidate list.
  std::vector<ExtensionPriority> extensions{};
  bool can_read = true;    ///< whether the factory accepts read requests
  bool can_write = false;  ///< whether the factory accepts write requests
  /// The extensions it writes (lower case, with the dot). When not empty the
  /// core refuses, before the factory runs, a write whose extension is not
  /// listed, unless the plugin was named (plugin=) and the target has no
  /// extension ("<bytes>" or a stream with no extension=). Empty: the
  /// factory decides (FFmpeg: any extension it has a muxer for).
  std::vector<std::string> write_extensions{};
  /// With write_extensions: a named plugin also writes a target whose
  /// extension is not listed (tifffile writes TIFF to any name it is given).
  bool named_writes_any_extension = false;
  /// The kwargs of each method. KwargReader validates a call's kwargs
  /// against them; empty: the plugin checks its kwargs itself.
  std::vector<MethodSpec> methods{};
  /// Cheap signature test on the first bytes; when set and false, the
  /// plugin is not tried for a read in the fallback phase (no extension
  /// match). Empty: always tried.
  std::function<bool(std::span<const std::byte> first_bytes)> sniff{};
  /// How many first bytes sniff wants.
  std::size_t sniff_bytes = 16;
  /// Opens the request (read or write) or refuses it by throwing
  /// InitializationError with the reason. `kwargs` are imopen's; the
  /// factory rejects unknown ones with ArgumentError (KwargReader with
  /// method "open").
  std::function<std::unique_ptr<Plugin>(Request& request, const Kwargs& kwargs)> factory{};
  /// The backend and its version, e.g. "libpng 1.6.39".
  std::string backend{};

  /// The declaration of `method` in `variant` (an empty variant matches a
  /// method declared without variants), or nullptr.
  const MethodSpec* find_method(std::string_view method, std::string_view variant = {}) const noexcept;
};

/// The descriptive fields of a PluginSpec (name, aliases, summary,
/// extensions, can_read, can_write, write_extensions,
/// named_writes_any_extension, methods) from a plugin descriptor: the
/// JSON document of a built-in plugin's plugin.json (docs/writing-plugins.md
/// lists its keys). Keys for the build (option, fallback_rank, packages)
/// are accepted and ignored.
/// @throws ArgumentError naming the key when the document is not a valid descriptor
IMIO_EXPORT PluginSpec plugin_spec_from_json(std::string_view descriptor);

}  // namespace imio
