// Tests that need particular plugins end with a warning, not a failure, in a
// build without them (a configuration with IMIO_WITH_X=OFF, or the tree test
// that removes a plugin folder).
#pragma once

#include <imio/registry.hpp>

#include <initializer_list>

#include "catch.hpp"

namespace imio_test {

/// Whether every plugin of `plugins` is built; warns naming the first one
/// that is not.
inline bool plugins_built(std::initializer_list<const char*> plugins) {
  for (const char* p : plugins) {
    if (!imio::has_plugin(p)) {
      WARN("skipped: the " << p << " plugin is not built");
      return false;
    }
  }
  return true;
}

}  // namespace imio_test
