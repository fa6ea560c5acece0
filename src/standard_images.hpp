// imageio's standard images (`imageio:NAME`, spec §2.8, DECISIONS.md).
#pragma once

#include <imio/resource.hpp>
#include <imio/standard_images.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace imio::detail {

/// True for the 25 names imageio knows (lower case).
bool is_standard_image(std::string_view name);
/// The folders searched, in order: $IMIO_STANDARD_IMAGES,
/// $IMAGEIO_USERDIR (else $HOME)/.imageio/images, imio's cache folder
/// ($XDG_CACHE_HOME, else ~/.cache)/imio/images.
std::vector<std::filesystem::path> standard_image_folders();
/// imio's own cache folder, where downloads go: ($XDG_CACHE_HOME, else
/// ~/.cache)/imio/images; empty when neither variable is set.
std::filesystem::path imio_cache_folder();
/// The download address: $IMIO_STANDARD_IMAGES_URL (else imageio's image
/// repository) + name.
std::string standard_image_url(const std::string& name);
/// The local file of a standard image (`name` lower case), downloaded into
/// imio's cache folder when no folder holds it, HTTP is built in and
/// neither IMIO_NO_INTERNET nor IMAGEIO_NO_INTERNET is set. `progress`
/// (else the process-wide handler) follows the download. ArgumentError for
/// an unknown name; FileNotFoundError when it is missing and cannot be
/// downloaded; IOError when the download fails.
std::filesystem::path find_standard_image(const std::string& name, const DownloadProgress* progress = nullptr);

}  // namespace imio::detail
