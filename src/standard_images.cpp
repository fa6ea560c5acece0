#include "standard_images.hpp"

#include <imio/error.hpp>

#include <imio/options.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "http.hpp"
#include "uri.hpp"

namespace imio {
namespace detail {
namespace {

constexpr std::array<std::string_view, 25> kNames{
    "astronaut.png",   "bacterial_colony.tif", "bricks.jpg",    "calcium_imaging.tif", "camera.png",
    "checkerboard.png", "chelsea.bsdf",        "chelsea.png",   "chelsea.zip",         "clock.png",
    "cockatoo.mp4",    "cockatoo_yuv420.mp4",  "coffee.png",    "coins.png",           "horse.png",
    "hubble_deep_field.png", "immunohistochemistry.png", "meadow_cube.jpg", "moon.png", "newtonscradle.gif",
    "page.png",        "stent.npz",            "text.png",      "wikkie.png",          "wood.jpg",
};

// imageio's public image repository (spec §2.8); IMIO_STANDARD_IMAGES_URL overrides it.
constexpr const char* kDefaultBaseUrl = "https://github.com/imageio/imageio-binaries/raw/master/images/";

std::mutex& progress_mutex() {
  static std::mutex m;
  return m;
}

DownloadProgress& progress_slot() {
  static DownloadProgress handler;
  return handler;
}

DownloadProgress download_progress_handler() {
  std::lock_guard lock(progress_mutex());
  return progress_slot();
}

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
  if (auto cache = imio_cache_folder(); !cache.empty()) out.push_back(std::move(cache));
  return out;
}

std::filesystem::path imio_cache_folder() {
  if (const char* cache = env("XDG_CACHE_HOME")) return std::filesystem::path(cache) / "imio" / "images";
  if (const char* home = env("HOME")) return std::filesystem::path(home) / ".cache" / "imio" / "images";
  return {};
}

std::string standard_image_url(const std::string& name) {
  std::string base = env("IMIO_STANDARD_IMAGES_URL") != nullptr ? env("IMIO_STANDARD_IMAGES_URL") : kDefaultBaseUrl;
  if (base.back() != '/') base += '/';
  return base + name;
}

std::filesystem::path find_standard_image(const std::string& name, const DownloadProgress* progress) {
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
  const std::string where =
      looked.empty() ? std::string("no folder: HOME is not set") : fmt::format("{}", fmt::join(looked, ", "));
  const std::string how = fmt::format(
      "put the file in one of these folders or point IMIO_STANDARD_IMAGES at a folder holding it (it is {})",
      standard_image_url(name));
  const bool disabled = env_true("IMIO_NO_INTERNET") || env_true("IMAGEIO_NO_INTERNET");
  const std::filesystem::path cache = imio_cache_folder();
  if (disabled || !http_supported() || cache.empty()) {
    const std::string why = disabled ? "downloads are disabled by IMIO_NO_INTERNET/IMAGEIO_NO_INTERNET"
                            : cache.empty() ? "imio has no cache folder to download it into (HOME is not set)"
                                            : "this imio cannot download it (built without HTTP support)";
    throw FileNotFoundError(
        fmt::format("standard image '{}' is not available locally (looked in: {}) and {}; {}", name, where, why, how));
  }
  const std::string url = standard_image_url(name);
  const std::filesystem::path dest = cache / name;
  const DownloadProgress handler = progress != nullptr && *progress ? *progress : download_progress_handler();
  try {
    http_download(url, dest, default_limits().max_bytes, handler);
  } catch (const IOError& e) {
    throw IOError(fmt::format("standard image '{}' is not available locally (looked in: {}) and downloading it from "
                              "{} failed: {} (no internet? {}; IMIO_NO_INTERNET=1 disables downloads)",
                              name, where, url, e.reason(), how));
  }
  return dest;
}

}  // namespace detail

DownloadProgress set_download_progress_handler(DownloadProgress handler) {
  std::lock_guard lock(detail::progress_mutex());
  std::swap(detail::progress_slot(), handler);
  return handler;
}

std::filesystem::path standard_image_path(std::string_view name, const DownloadProgress& progress) {
  return detail::find_standard_image(detail::to_lower(name), &progress);
}

}  // namespace imio
