// imio — errors that name the plugin, the operation and the resource, for
// code the core does not call itself: a plugin's extras reached through
// ImageFile::plugin_as<T>() (the core wraps every Plugin method already).
#pragma once

#include <imio/error.hpp>

#include <exception>
#include <new>
#include <string>
#include <string_view>

namespace imio {

/// Runs `f` and returns its result. Whatever it throws leaves as an
/// imio::Error naming `plugin`, `operation` and `resource`: an imio::Error
/// gets that context added, std::bad_alloc becomes LimitError("out of
/// memory"), another std::exception an Error with its what().
template <class F>
decltype(auto) with_error_context(std::string_view plugin, std::string_view operation, std::string_view resource, F&& f) {
  try {
    return f();
  } catch (Error& e) {
    e.add_context(plugin, operation, resource);
    throw;
  } catch (const std::bad_alloc&) {
    throw LimitError("out of memory", std::string(plugin), std::string(operation), std::string(resource));
  } catch (const std::exception& e) {
    throw Error(e.what(), std::string(plugin), std::string(operation), std::string(resource));
  }
}

}  // namespace imio
