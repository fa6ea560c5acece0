// Reading JSON text into imio::Value: the VALUE of `--kw KEY=VALUE`.
#pragma once

#include <imio/value.hpp>

#include <optional>
#include <string_view>

namespace imio::cli {

/// The JSON document `text` as a Value (objects → Dict in document order,
/// later duplicate keys win as in Python's json; integers that fit int64 →
/// int, other numbers → float; Python's NaN, Infinity and -Infinity are
/// accepted), or nullopt when `text` is not one complete JSON value.
std::optional<Value> parse_json(std::string_view text);

/// A kwarg VALUE as CLI.md defines it: `...` → imio::all, JSON when it
/// parses, else the text itself as a string.
Value parse_kwarg_value(std::string_view text);

}  // namespace imio::cli
