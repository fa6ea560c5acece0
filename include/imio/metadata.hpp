// imio — Metadata: what immeta() returns.
#pragma once

#include <imio/export.hpp>
#include <imio/value.hpp>

#include <string>

namespace imio {

/// Format-specific metadata: an insertion-ordered map from string keys to
/// Values (with nested lists and maps). Keys follow imageio's plugin for the
/// format ("fps", "duration", "loop", "Make", "Orientation", "icc_profile", …).
/// `get<T>(key)` throws ArgumentError on a missing key or type mismatch;
/// `find<T>(key)` returns nullopt for a missing key.
using Metadata = Dict;

/// Renders a Value as JSON, in the encoding of the `imio meta` command
/// (design/CLI.md): none → null; doubles as numbers, non-finite ones as
/// {"float": "nan"|"inf"|"-inf"}; bytes of at most 64 → {"bytes_hex", "len"},
/// longer → {"bytes_len", "sha256", "head_hex"}; lists → arrays; maps →
/// objects in insertion order; imio::all → "...".
IMIO_EXPORT std::string to_json(const Value& value);
/// Renders metadata as one JSON object (see to_json(const Value&)).
IMIO_EXPORT std::string to_json(const Metadata& metadata);

}  // namespace imio
