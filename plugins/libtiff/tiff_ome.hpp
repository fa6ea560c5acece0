// OME-TIFF series (OME data model 2016-06, "TiffData"): the first page's
// OME-XML says which pages form each image and in which dimension order.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tiff_pages.hpp"

namespace imio::tiff {

/// Whether a first page's description is OME-XML, by tifffile's test (it
/// ends with "OME>").
bool is_ome_description(std::string_view description) noexcept;

/// tifffile's OME series (`TiffFile._series_ome`) for the pages of this one
/// file: one series per Image whose planes this file holds, shaped by its
/// Pixels' DimensionOrder and sizes (samples per pixel folded out of C,
/// modulo annotations applied, length-1 axes other than Y and X dropped).
/// `file_name` (may be empty) identifies this file among TiffData UUIDs.
/// nullopt when the XML yields no series for this file — not XML, a
/// BinaryOnly file, planes in other files or missing, a Pixels element
/// tifffile cannot read — and the caller groups the pages generically.
std::optional<std::vector<Series>> ome_series(const std::vector<Page>& pages, std::string_view xml,
                                              std::string_view file_name);

}  // namespace imio::tiff
