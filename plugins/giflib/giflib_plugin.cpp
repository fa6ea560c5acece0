// The giflib plugin: GIF87a/GIF89a read and written through giflib,
// mirroring imageio's pillow plugin for GIF (spec §5.1, DECISIONS D9, D15, D16).
#include <imio/plugin.hpp>

#include <fmt/format.h>
#include <gif_lib.h>

#include "gif_blocks.hpp"
#include "gif_reader.hpp"
#include "gif_writer.hpp"

namespace imio {
namespace giflib {
namespace {

std::unique_ptr<Plugin> open_gif(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, "giflib", "open").finish();
  if (request.mode() == IoMode::write) return make_writer(request);  // the extension: plugin.json
  if (!has_gif_signature(request.first_bytes(6))) throw InitializationError("not a GIF file (it does not start with GIF87a or GIF89a)");
  return make_reader(request);
}

}  // namespace
}  // namespace giflib

namespace builtin {

PluginSpec giflib_plugin_spec() {
  PluginSpec spec;
  // What giflib is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = giflib::has_gif_signature;
  spec.sniff_bytes = 6;
  spec.factory = giflib::open_gif;
  spec.backend = fmt::format("giflib {}.{}.{}", GIFLIB_MAJOR, GIFLIB_MINOR, GIFLIB_RELEASE);
  return spec;
}

}  // namespace builtin
}  // namespace imio
