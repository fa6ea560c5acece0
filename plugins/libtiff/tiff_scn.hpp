// Leica SCN slides: the first page's XML (`<scn>…</scn>`) names, for each
// image of a collection, the pages holding each resolution, channel and
// focal plane.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tiff_pages.hpp"

namespace imio::tiff {

/// Whether a first page's description is Leica SCN XML, by tifffile's test
/// (its last 10 characters, stripped, end with "</scn>").
bool is_scn_description(std::string_view description) noexcept;

/// tifffile's SCN series (`TiffFile._series_scn`): one series per `image`
/// of each `collection`, named by the image's `name` (`Unknown` without
/// one), shaped (channels, focal planes, page) with length-1 axes dropped;
/// its resolutions (`r` 1, 2, …) are its levels. nullopt, with a warning,
/// when the XML gives no series imio can read from these pages (not XML, a
/// missing or malformed attribute, a page index past the file, a missing
/// plane, planes of different geometry, a Z-stack); the caller then groups
/// the pages generically.
std::optional<std::vector<Series>> scn_series(const std::vector<Page>& pages, std::string_view xml);

}  // namespace imio::tiff
