// The write side of the libtiff plugin (spec §5.3.4).
#pragma once

#include <imio/plugin.hpp>

#include <memory>

namespace imio::tiff {

/// Opens a write request (constructor kwargs: bigtiff, byteorder, imagej,
/// shaped, append=false, ome=false). Refuses targets whose extension is not
/// a TIFF one unless the plugin was named (D7).
std::unique_ptr<Plugin> open_writer(Request& request, const Kwargs& kwargs);

}  // namespace imio::tiff
