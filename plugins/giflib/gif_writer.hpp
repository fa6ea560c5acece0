// The write side of the giflib plugin.
#pragma once

#include <imio/plugin.hpp>

#include <memory>

namespace imio::giflib {

std::unique_ptr<Plugin> make_writer(Request& request);

}  // namespace imio::giflib
