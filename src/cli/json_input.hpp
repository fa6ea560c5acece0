// Reading the VALUE of `--kw KEY=VALUE` (design/CLI.md).
#pragma once

#include <imio/value.hpp>

#include <string_view>

namespace imio::cli {

/// A kwarg VALUE as CLI.md defines it: `...` → imio::all, JSON when it
/// parses (imio::try_from_json), else the text itself as a string.
Value parse_kwarg_value(std::string_view text);

}  // namespace imio::cli
