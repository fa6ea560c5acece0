// The libtiff plugin: TIFF and BigTIFF as imageio's tifffile plugin reads
// and writes them (spec §5.3, DECISIONS D1, D7, D9, D11).
#include <imio/plugin.hpp>

#include "tiff_decode.hpp"
#include "tiff_ifd.hpp"
#include "tiff_pillow.hpp"
#include "tiff_reader.hpp"
#include "tiff_writer.hpp"

namespace imio {
namespace tiff {
namespace {

std::unique_ptr<Plugin> open_tiff(Request& request, const Kwargs& kwargs) {
  if (request.mode() == IoMode::write) return open_writer(request, kwargs);
  KwargReader(kwargs, "libtiff", "open", "read").finish();
  if (!has_tiff_header(request.first_bytes(4))) {
    throw InitializationError("not a TIFF file (it does not start with II*\\0, MM\\0*, or a BigTIFF header)");
  }
  // The signature is TIFF's: from here damage is a DecodeError (D4).
  // Named as imageio's `pillow`: one page at a time in Pillow's modes.
  if (request.requested_plugin() == "pillow") return open_pillow_reader(request);
  return open_reader(request);
}

}  // namespace
}  // namespace tiff

namespace builtin {

PluginSpec libtiff_plugin_spec() {
  PluginSpec spec;
  // What libtiff is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = tiff::has_tiff_header;
  spec.sniff_bytes = 4;
  spec.factory = tiff::open_tiff;
  spec.backend = tiff::libtiff_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
