// Runs a plugin call and makes whatever it throws an imio::Error that names
// the plugin, the operation and the resource (STYLE: errors).
#pragma once

#include <imio/error.hpp>

#include <exception>
#include <new>
#include <string>
#include <string_view>

namespace imio::detail {

template <class F>
decltype(auto) guarded(std::string_view plugin, std::string_view operation, std::string_view resource, F&& f) {
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

}  // namespace imio::detail
