// imio — Metadata: what immeta() returns.
#pragma once

#include <imio/json.hpp>
#include <imio/value.hpp>

namespace imio {

/// Format-specific metadata: an insertion-ordered map from string keys to
/// Values (with nested lists and maps). Keys follow imageio's plugin for the
/// format ("fps", "duration", "loop", "Make", "Orientation", "icc_profile", …).
/// `get<T>(key)` throws ArgumentError on a missing key or type mismatch;
/// `find<T>(key)` returns nullopt for a missing key. to_json(metadata)
/// (<imio/json.hpp>) renders it as the `imio meta` command prints it.
using Metadata = Dict;

}  // namespace imio
