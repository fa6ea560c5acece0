// The read side of the libtiff plugin: index/page selection (spec §5.3.3,
// §5.3.6 with D11) over the parsed series.
#pragma once

#include <imio/plugin.hpp>

#include <memory>

namespace imio::tiff {

/// Opens a TIFF for reading; the header must already have been recognised.
std::unique_ptr<Plugin> open_reader(Request& request);

}  // namespace imio::tiff
