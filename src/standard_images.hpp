// imageio's standard images (`imageio:NAME`, spec §2.8, DECISIONS.md).
#pragma once

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
/// The local file of a standard image (`name` lower case). ArgumentError for
/// an unknown name; FileNotFoundError when no folder holds it.
std::filesystem::path find_standard_image(const std::string& name);

}  // namespace imio::detail
