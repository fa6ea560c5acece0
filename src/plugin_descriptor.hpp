// Plugin descriptors: a plugin folder's plugin.json (docs/writing-plugins.md)
// read into a PluginSpec, and the checks every spec's declarations pass.
#pragma once

#include <imio/plugin_spec.hpp>

#include <string>
#include <string_view>

namespace imio::detail {

/// A parsed descriptor: the spec's descriptive fields, and the two ways of
/// building the plugin that the "rebuild with" hint names: the CMake option
/// (IMIO_WITH_<X>) and the vcpkg feature (packages.vcpkg_feature; empty when
/// the plugin is always part of the port).
struct Descriptor {
  PluginSpec spec;
  std::string option;
  std::string vcpkg_feature;
};

/// Reads a descriptor. ArgumentError naming the plugin (when known), the
/// key and the problem.
Descriptor parse_descriptor(std::string_view json);

/// Checks and normalises a spec's declarations: a name, extensions and
/// write extensions with a leading dot (lowered), each declared kwarg with
/// known types and a default and choices of those types, no method declared
/// twice. ArgumentError naming the plugin and the problem.
void check_declarations(PluginSpec& spec);

}  // namespace imio::detail
