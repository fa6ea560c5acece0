// imio — the plugin registry: which plugins this process has, and adding
// one at run time.
#pragma once

#include <imio/export.hpp>
#include <imio/kwargs.hpp>
#include <imio/plugin_spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace imio {

/// A registered plugin, as plugins() lists it.
struct PluginInfo {
  std::string name;                     ///< canonical name ("libpng")
  std::vector<std::string> aliases;     ///< imageio names that select it ("pillow", …)
  std::vector<std::string> extensions;  ///< extensions it serves, lower case with the dot
  bool can_read = false;                ///< it reads
  bool can_write = false;               ///< it writes
  std::string backend;                  ///< backend and version ("libpng 1.6.39"); may be empty
  std::string summary{};                ///< what it serves, in one line
  /// Its place in each extension's candidate list (the order of `extensions`).
  std::vector<ExtensionPriority> priorities{};
  /// The extensions it writes; empty when the plugin decides (see PluginSpec).
  std::vector<std::string> write_extensions{};
  /// The kwargs of each method; empty when the plugin declares none.
  std::vector<MethodSpec> methods{};
};

/// Adds a plugin at run time, after the built-ins in the fallback order.
/// ArgumentError when the name or an alias is already a plugin name, the
/// spec has no factory, or an extension or kwarg declaration is malformed.
/// Thread-safe.
IMIO_EXPORT void register_plugin(PluginSpec spec);
/// The registered plugins in fallback (registration) order. Thread-safe.
IMIO_EXPORT std::vector<PluginInfo> plugins();
/// Whether a plugin named `name` (canonical name, not an alias) is
/// registered: a plugin that leans on another one (libraw's JPEG previews
/// on libjpeg) asks before it calls. Thread-safe.
IMIO_EXPORT bool has_plugin(std::string_view name);

}  // namespace imio
