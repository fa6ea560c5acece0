// The JSON documents the CLI prints (design/CLI.md, "Output"), rendered by
// the library's to_json so every command shares one value encoding.
#pragma once

#include <imio/plugin.hpp>
#include <imio/properties.hpp>

#include <string>
#include <vector>

namespace imio::cli {

/// {"shape": [...], "dtype": "uint8", "n_images": null|N, "is_batch": false,
/// "spacing": null|[...]}: exactly these keys, in this order.
std::string props_json(const ImageProperties& props);

/// [{"name", "aliases", "summary", "extensions", "read", "write",
/// "write_extensions", "backend", "methods": [{"method", "variant", "when",
/// "kwargs": [{"name", "type", "default", "min", "max", "choices", "doc"}]}]}, ...]
std::string plugins_json(const std::vector<PluginInfo>& infos);

}  // namespace imio::cli
