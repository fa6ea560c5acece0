// imio — JSON in and out of Value: one small, strict codec for the CLI, the
// plugins (tifffile's shaped-series descriptions) and plugin descriptors.
#pragma once

#include <imio/export.hpp>
#include <imio/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imio {

/// How to_json renders what plain JSON cannot hold.
enum class JsonStyle : std::uint8_t {
  /// imio's encoding, the one `imio meta` prints: non-finite floats →
  /// {"float": "nan"|"inf"|"-inf"}; bytes of at most 64 → {"bytes_hex", "len"},
  /// longer → {"bytes_len", "sha256", "head_hex"}; imio::all → "...".
  tagged,
  /// Plain JSON only (RFC 8259): bytes, imio::all and non-finite floats are
  /// an ArgumentError. For text another JSON reader must read back as the
  /// same values (what Python's json.dumps would write).
  strict,
};

/// Renders a Value as JSON with Python's json.dumps separators (", " and
/// ": "): none → null; ints as integers; floats in their shortest
/// round-trip form, always with a '.' or an exponent (1.0, not 1); strings
/// escaped (UTF-8 passes through); lists → arrays; maps → objects in
/// insertion order. ArgumentError in `strict` style for a value plain JSON
/// cannot hold.
IMIO_EXPORT std::string to_json(const Value& value, JsonStyle style = JsonStyle::tagged);
/// Renders a map as one JSON object (see to_json(const Value&, JsonStyle)).
IMIO_EXPORT std::string to_json(const Dict& dict, JsonStyle style = JsonStyle::tagged);

/// Parses one JSON document (RFC 8259, plus Python's NaN, Infinity and
/// -Infinity, which json.dumps writes) into a Value: objects → Dict in
/// document order (a repeated key keeps its first position and its last
/// value, as Python's json does), integers that fit int64 → int, other
/// numbers → float, strings must be valid escapes (a lone UTF-16 surrogate
/// is refused). Documents nested deeper than 256 levels are refused.
/// Never reads past `text`; linear in its size.
/// @throws ArgumentError naming the byte offset and what was expected there
IMIO_EXPORT Value from_json(std::string_view text);
/// from_json(text), or nullopt when `text` is not exactly one JSON document.
IMIO_EXPORT std::optional<Value> try_from_json(std::string_view text);

}  // namespace imio
