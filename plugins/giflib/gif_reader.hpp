// The read side of the giflib plugin: imread / imiter / improps / immeta.
#pragma once

#include <imio/plugin.hpp>

#include <memory>

namespace imio::giflib {

std::unique_ptr<Plugin> make_reader(Request& request);

}  // namespace imio::giflib
