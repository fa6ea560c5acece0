// imio — imageio's standard images ("imageio:chelsea.png"): where they are,
// and the progress of their downloads.
#pragma once

#include <imio/export.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace imio {

/// Progress of a download: the bytes received so far and the expected total
/// (0 while unknown). It may throw to cancel the download: the exception
/// propagates and nothing is left in the cache.
using DownloadProgress = std::function<void(std::uint64_t received, std::uint64_t total)>;

/// Installs the process-wide progress callback of the standard-image
/// downloads that reading `"imageio:NAME"` starts (none by default: imio
/// never prints). Returns the previous one. Thread-safe.
IMIO_EXPORT DownloadProgress set_download_progress_handler(DownloadProgress handler);

/// The local file of imageio's standard image `name` (`"chelsea.png"`,
/// case-insensitive), downloaded first into imio's cache folder when no
/// folder holds it (see docs/resources.md: IMIO_STANDARD_IMAGES_URL,
/// IMIO_NO_INTERNET). `progress`, else the process-wide handler, follows
/// the download. ArgumentError for an unknown name; FileNotFoundError when
/// the file is missing and downloads are disabled or not built in; IOError
/// when the download fails.
IMIO_EXPORT std::filesystem::path standard_image_path(std::string_view name, const DownloadProgress& progress = {});

}  // namespace imio
