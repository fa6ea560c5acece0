#include "still_formats.hpp"

namespace imio::ffmpeg {

bool list_has(std::string_view list, std::string_view word) noexcept {
  while (!list.empty()) {
    const auto space = list.find(' ');
    if (list.substr(0, space) == word) return true;
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return false;
}

const StillFormat* still_format_of_codec(std::string_view codec) noexcept {
  for (const StillFormat& f : kStillFormats) {
    if (list_has(f.codecs, codec)) return &f;
  }
  return nullptr;
}

const StillFormat* still_format_of_extension(std::string_view extension) noexcept {
  for (const StillFormat& f : kStillFormats) {
    if (list_has(f.extensions, extension)) return &f;
  }
  return nullptr;
}

}  // namespace imio::ffmpeg
