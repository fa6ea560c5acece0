// imio's extension → plugin priority table (imageio's, mapped to imio's
// plugins by DECISIONS D1/D6/D23), and what each planned plugin is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imio::detail {

/// The planned plugins by name, in extension-table order for `extension`
/// (lower case, with the dot); empty when the table has no entry.
const std::vector<std::string>& table_plugins_for(std::string_view extension);
/// Every extension the table lists for `plugin`, in table order.
std::vector<std::string> table_extensions_of(std::string_view plugin);

/// A plugin imio plans to ship: its CMake option and its imageio alias.
struct PlannedPlugin {
  std::string_view name;
  std::string_view cmake_option;
  std::string_view alias;  ///< empty when it has none
};
const std::vector<PlannedPlugin>& planned_plugins();
/// The planned plugin named `name` (canonical name), or nullptr.
const PlannedPlugin* find_planned(std::string_view name);

}  // namespace imio::detail
