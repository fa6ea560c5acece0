// JSON in ImageDescription: tifffile's shaped-series header
// `{"shape": [...], ...}` is parsed on read and written on write with
// Python's json.dumps separators (", " and ": "), so files match tifffile's.
#pragma once

#include <imio/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace imio::tiff {

/// The JSON object in `text` as a Dict, or nullopt when it is not one.
std::optional<Dict> parse_json_object(std::string_view text);

/// `value` as json.dumps renders it (lists and dicts only of JSON types; bytes
/// and `...` are refused with ArgumentError).
std::string dump_json(const Value& value);

}  // namespace imio::tiff
