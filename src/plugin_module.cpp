// Loading a plugin module (IMIO_PLUGIN_MODULES builds): dlopen of
// imio_<name> and its entry points (cmake/ImioPlugins.cmake,
// imio_add_plugin_module). Only the plugins a call needs are loaded, so a
// process that reads one PNG maps libpng, not FFmpeg's or LibRaw's stack.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include <imio/error.hpp>
#include <imio/version.hpp>

#include "registry.hpp"

namespace imio::detail {
namespace {

namespace fs = std::filesystem;

// An object of libimio, for dladdr to name the file it lies in.
const char anchor = 0;

// The plugin folder beside libimio ("<libdir>/imio/plugins" installed,
// "<build>/src/imio/plugins" in the build tree): found from libimio's own
// path, so an installed tree can be moved.
fs::path default_folder() {
  Dl_info info{};
  if (dladdr(&anchor, &info) == 0 || info.dli_fname == nullptr) return fs::path(IMIO_PLUGIN_MODULE_SUBDIR);
  return fs::path(info.dli_fname).parent_path() / IMIO_PLUGIN_MODULE_SUBDIR;
}

// The module's file: the first of IMIO_PLUGIN_PATH's folders (separated by
// ':') that holds it, else the default folder.
fs::path module_path(const std::string& name) {
  const std::string file = "imio_" + name + IMIO_PLUGIN_MODULE_SUFFIX;
  if (const char* env = std::getenv("IMIO_PLUGIN_PATH"); env != nullptr) {
    std::string_view folders(env);
    while (!folders.empty()) {
      const auto colon = folders.find(':');
      const std::string_view folder = folders.substr(0, colon);
      folders = colon == std::string_view::npos ? std::string_view() : folders.substr(colon + 1);
      if (folder.empty()) continue;
      fs::path candidate = fs::path(folder) / file;
      std::error_code ec;
      if (fs::exists(candidate, ec)) return candidate;
    }
  }
  return default_folder() / file;
}

std::string loader_error() {
  const char* reason = dlerror();
  return reason != nullptr ? std::string(reason) : std::string("unknown dynamic loader error");
}

// A symbol of the module as a function pointer (POSIX guarantees the
// conversion from dlsym's void*).
template <class Function>
Function* entry_point(void* handle, const std::string& symbol) {
  return reinterpret_cast<Function*>(dlsym(handle, symbol.c_str()));
}

}  // namespace

PluginSpec load_plugin_module(const std::string& name) {
  const std::string path = module_path(name).string();
  const auto fail = [&](std::string reason) {
    throw IOError(fmt::format("{} (a plugin module of imio {}; IMIO_PLUGIN_PATH may name folders that hold a "
                              "working one)",
                              std::move(reason), version_string),
                  name, "load", path);
  };
  // RTLD_LOCAL: the backends' symbols stay the module's own. The handle is
  // never closed: plugin objects and their vtables live in the module.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) fail(loader_error());
  const auto version = entry_point<const char*()>(handle, "imio_" + name + "_plugin_version");
  if (version == nullptr) fail(fmt::format("it has no entry point imio_{}_plugin_version: {}", name, loader_error()));
  if (std::string_view(version()) != version_string) {
    fail(fmt::format("it was built for imio {}, this is imio {}", version(), version_string));
  }
  const auto spec = entry_point<void(PluginSpec*)>(handle, "imio_" + name + "_plugin_spec");
  if (spec == nullptr) fail(fmt::format("it has no entry point imio_{}_plugin_spec: {}", name, loader_error()));
  PluginSpec code;
  spec(&code);
  return code;
}

}  // namespace imio::detail
