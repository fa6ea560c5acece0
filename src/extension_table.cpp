#include "extension_table.hpp"

#include <algorithm>
#include <map>

namespace imio::detail {
namespace {

using Table = std::map<std::string, std::vector<std::string>, std::less<>>;

const Table& table() {
  static const Table t{
#include "extension_table.inc"
  };
  return t;
}

}  // namespace

const std::vector<std::string>& table_plugins_for(std::string_view extension) {
  static const std::vector<std::string> none;
  const auto it = table().find(extension);
  return it == table().end() ? none : it->second;
}

std::vector<std::string> table_extensions_of(std::string_view plugin) {
  std::vector<std::string> out;
  for (const auto& [ext, names] : table()) {
    if (std::find(names.begin(), names.end(), plugin) != names.end()) out.push_back(ext);
  }
  return out;
}

const std::vector<PlannedPlugin>& planned_plugins() {
  static const std::vector<PlannedPlugin> p{
      {"libpng", "IMIO_WITH_LIBPNG", "pillow"}, {"libjpeg", "IMIO_WITH_LIBJPEG", "pillow"},
      {"giflib", "IMIO_WITH_GIFLIB", "pillow"}, {"libtiff", "IMIO_WITH_LIBTIFF", "tifffile"},
      {"libraw", "IMIO_WITH_LIBRAW", "rawpy"},  {"ffmpeg", "IMIO_WITH_FFMPEG", "pyav"},
      {"npy", "IMIO_WITH_NPY", ""},
  };
  return p;
}

const PlannedPlugin* find_planned(std::string_view name) {
  for (const auto& p : planned_plugins()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace imio::detail
