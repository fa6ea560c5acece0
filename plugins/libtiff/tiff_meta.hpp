// Metadata as tifffile reports it (spec §5.3.5): file-level flavour flags
// with shaped/ImageJ entries, and page-level tags under tifffile's names
// plus derived entries.
#pragma once

#include <imio/plugin.hpp>

#include "tiff_ifd.hpp"
#include "tiff_pages.hpp"

namespace imio::tiff {

/// File-level metadata (immeta with index all or none, no page).
Metadata file_metadata(const Structure& st, const std::vector<Page>& pages, const std::vector<Series>& series);

/// The page's tags by name plus tifffile's derived entries.
Metadata page_metadata(ByteSource& source, const Structure& st, const Page& page);

/// The page's resolution (X, Y) when ResolutionUnit and both resolutions are
/// present and valid (improps' `spacing`).
std::optional<std::vector<double>> page_resolution(const Structure& st, const Page& page);

}  // namespace imio::tiff
