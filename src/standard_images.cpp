#include "standard_images.hpp"

#include <imio/error.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "uri.hpp"

namespace imio::detail {
namespace {

constexpr std::array<std::string_view, 25> kNames{
    "astronaut.png",   "bacterial_colony.tif", "bricks.jpg",    "calcium_imaging.tif", "camera.png",
    "checkerboard.png", "chelsea.bsdf",        "chelsea.png",   "chelsea.zip",         "clock.png",
    "cockatoo.mp4",    "cockatoo_yuv420.mp4",  "coffee.png",    "coins.png",           "horse.png",
    "hubble_deep_field.png", "immunohistochemistry.png", "meadow_cube.jpg", "moon.png", "newtonscradle.gif",
    "page.png",        "stent.npz",            "text.png",      "wikkie.png",          "wood.jpg",
};

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

bool env_true(const char* name) {
  const char* v = env(name);
  if (v == nullptr) return false;
  const std::string s = to_lower(v);
  return s == "1" || s == "true" || s == "yes";
}

}  // namespace

bool is_standard_image(std::string_view name) { return std::find(kNames.begin(), kNames.end(), name) != kNames.end(); }

std::vector<std::filesystem::path> standard_image_folders() {
  std::vector<std::filesystem::path> out;
  if (const char* dir = env("IMIO_STANDARD_IMAGES")) out.emplace_back(dir);
  const char* home = env("HOME");
  if (const char* base = env("IMAGEIO_USERDIR")) {
    out.push_back(std::filesystem::path(base) / ".imageio" / "images");
  } else if (home != nullptr) {
    out.push_back(std::filesystem::path(home) / ".imageio" / "images");
  }
  if (const char* cache = env("XDG_CACHE_HOME")) {
    out.push_back(std::filesystem::path(cache) / "imio" / "images");
  } else if (home != nullptr) {
    out.push_back(std::filesystem::path(home) / ".cache" / "imio" / "images");
  }
  return out;
}

std::filesystem::path find_standard_image(const std::string& name) {
  if (!is_standard_image(name)) {
    throw ArgumentError(fmt::format("'{}' is not a standard image; imageio's standard images are: {}", name,
                                    fmt::join(kNames, ", ")));
  }
  std::vector<std::string> looked;
  for (const auto& folder : standard_image_folders()) {
    std::error_code ec;
    const auto candidate = folder / name;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    looked.push_back(folder.string());
  }
  // Downloads from imageio's image repository need HTTP support, which this
  // build does not have; say so instead of failing obscurely.
  const std::string why = env_true("IMIO_NO_INTERNET") || env_true("IMAGEIO_NO_INTERNET")
                              ? "downloads are disabled by IMIO_NO_INTERNET/IMAGEIO_NO_INTERNET"
                              : "this imio cannot download it (built without HTTP support)";
  throw FileNotFoundError(fmt::format(
      "standard image '{}' is not available locally (looked in: {}) and {}; put the file in one of these "
      "folders or point IMIO_STANDARD_IMAGES at a folder holding it",
      name, looked.empty() ? std::string("no folder: HOME is not set") : fmt::format("{}", fmt::join(looked, ", ")), why));
}

}  // namespace imio::detail
