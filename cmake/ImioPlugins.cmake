# Plugin options and registration.
#
# Every planned plugin has an option IMIO_WITH_<NAME> (AUTO, ON or OFF).
# AUTO builds the plugin when its dependencies are found; ON makes a missing
# dependency a configure error; OFF leaves the plugin out. A plugin folder
# calls imio_add_plugin() once; imio_finish_plugins() then generates the list
# of built-in plugins (no self-registering statics: linkers drop those from
# static libraries).

# Fallback order of the built-ins (imageio: pillow, pyav, tifffile, rawpy —
# with tifffile before pyav so TIFF data without an extension reach libtiff).
set(IMIO_PLANNED_PLUGINS libpng libjpeg giflib libtiff libraw ffmpeg npy)

# imio_tristate_option(<VAR> "<what>"): the cache option VAR, AUTO (the
# default: when its dependencies are found), ON (required) or OFF. Also used
# by cmake/ImioResources.cmake.
function(imio_tristate_option var what)
  set(${var} AUTO CACHE STRING "${what}: AUTO (when its dependencies are found), ON (required) or OFF")
  set_property(CACHE ${var} PROPERTY STRINGS AUTO ON OFF)
  if(NOT ${var} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "${var} must be AUTO, ON or OFF (got '${${var}}')")
  endif()
endfunction()

foreach(_imio_plugin IN LISTS IMIO_PLANNED_PLUGINS)
  string(TOUPPER "${_imio_plugin}" _imio_upper)
  imio_tristate_option(IMIO_WITH_${_imio_upper} "Build the ${_imio_plugin} plugin")
endforeach()
set_property(GLOBAL PROPERTY IMIO_ENABLED_PLUGINS "")
set_property(GLOBAL PROPERTY IMIO_FIND_DEPENDENCIES "")
set_property(GLOBAL PROPERTY IMIO_PLUGIN_PUBLIC_HEADERS "")

# imio_add_plugin(<name>
#   SOURCES <files>...                 the plugin's sources
#   [DEPENDS <targets>...]             backend targets (linked PRIVATE into imio)
#   [REQUIRES <found-vars>...]         variables that must be true (e.g. PNG_FOUND)
#   [FIND_DEPENDENCY "<args>"...]      find_dependency() calls for static consumers
#   [PUBLIC_HEADERS <files>...])       the plugin's public header(s) for backend-specific
#                                      extras, include/imio/plugins/<name>.hpp (relative to
#                                      the project's include/imio/plugins): installed as
#                                      <imio/plugins/...> only when the plugin is built
function(imio_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;REQUIRES;FIND_DEPENDENCY;PUBLIC_HEADERS" ${ARGN})
  string(TOUPPER "${name}" upper)
  set(missing "")
  foreach(var IN LISTS ARG_REQUIRES)
    if(NOT ${var})
      list(APPEND missing ${var})
    endif()
  endforeach()
  if(missing)
    if(IMIO_WITH_${upper} STREQUAL "ON")
      message(FATAL_ERROR "IMIO_WITH_${upper}=ON but the ${name} plugin's dependencies were not found "
                          "(${missing}). Install them or configure with -DIMIO_WITH_${upper}=OFF.")
    endif()
    message(STATUS "imio: plugin ${name} disabled: dependencies not found (${missing})")
    return()
  endif()

  set(target imio_plugin_${name})
  add_library(${target} OBJECT ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE imio_plugin_api ${ARG_DEPENDS})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  imio_set_warnings(${target})
  target_sources(imio PRIVATE $<TARGET_OBJECTS:${target}>)
  if(ARG_DEPENDS)
    target_link_libraries(imio PRIVATE ${ARG_DEPENDS})
  endif()
  set_property(GLOBAL APPEND PROPERTY IMIO_ENABLED_PLUGINS ${name})
  foreach(dep IN LISTS ARG_FIND_DEPENDENCY)
    set_property(GLOBAL APPEND PROPERTY IMIO_FIND_DEPENDENCIES "${dep}")
  endforeach()
  foreach(header IN LISTS ARG_PUBLIC_HEADERS)
    set(path "${PROJECT_SOURCE_DIR}/include/imio/plugins/${header}")
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "imio_add_plugin(${name}): public header ${path} does not exist")
    endif()
    # Listed as a source so IDEs show it and edits rebuild dependants.
    target_sources(${target} PRIVATE "${path}")
    set_property(GLOBAL APPEND PROPERTY IMIO_PLUGIN_PUBLIC_HEADERS "${path}")
  endforeach()
endfunction()

# Generates the list of built-in plugins compiled into imio.
function(imio_finish_plugins)
  get_property(enabled GLOBAL PROPERTY IMIO_ENABLED_PLUGINS)
  set(decls "")
  set(calls "")
  foreach(name IN LISTS enabled)
    string(APPEND decls "PluginSpec ${name}_plugin_spec();\n")
    string(APPEND calls "  specs.push_back(${name}_plugin_spec());\n")
  endforeach()
  set(IMIO_BUILTIN_DECLARATIONS "${decls}")
  set(IMIO_BUILTIN_CALLS "${calls}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/builtin_plugins.cpp.in
                 ${PROJECT_BINARY_DIR}/generated/builtin_plugins.cpp @ONLY)
  target_sources(imio PRIVATE ${PROJECT_BINARY_DIR}/generated/builtin_plugins.cpp)
  set(IMIO_ENABLED_PLUGINS "${enabled}" PARENT_SCOPE)
endfunction()
