# Plugin options and registration.
#
# A plugin is a folder plugins/<name>/ with a descriptor, plugin.json (its
# name, aliases, extensions and priorities, CMake option, backend packages,
# fallback rank and the kwargs of each method; docs/writing-plugins.md), and
# a CMakeLists.txt that calls imio_add_plugin() once. The folders found
# define the options and, in fallback-rank order, IMIO_PLANNED_PLUGINS.
# Every option IMIO_WITH_<X> is AUTO, ON or OFF: AUTO builds the plugin when
# its dependencies are found; ON makes a missing dependency a configure
# error; OFF leaves the plugin out. imio_finish_plugins() then generates the
# table of plugin folders the core reads (no self-registering statics:
# linkers drop those from static libraries): each folder's descriptor, and
# for the built ones the function giving their code.

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

# imio_discover_plugins(): reads plugins/*/plugin.json. Sets, in the caller's
# scope, IMIO_PLANNED_PLUGINS (the folders by fallback rank, then name) and
# for each plugin IMIO_PLUGIN_<name>_OPTION and IMIO_PLUGIN_<name>_DESCRIPTOR
# (the file); defines each plugin's option.
function(imio_discover_plugins)
  file(GLOB descriptors CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/plugins/*/plugin.json")
  set(ranked "")
  foreach(file IN LISTS descriptors)
    set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
    get_filename_component(folder "${file}" DIRECTORY)
    get_filename_component(folder "${folder}" NAME)
    file(READ "${file}" json)
    foreach(key name option fallback_rank summary)
      string(JSON value ERROR_VARIABLE error GET "${json}" ${key})
      if(error)
        message(FATAL_ERROR "${file}: ${error}")
      endif()
      set(${key} "${value}")
    endforeach()
    if(NOT name STREQUAL folder)
      message(FATAL_ERROR "${file}: the plugin's name '${name}' must be its folder's name '${folder}'")
    endif()
    string(TOUPPER "IMIO_WITH_${name}" expected_option)
    if(NOT option STREQUAL expected_option)
      message(FATAL_ERROR "${file}: option '${option}' must be '${expected_option}'")
    endif()
    if(NOT fallback_rank MATCHES "^[0-9]+$" OR fallback_rank GREATER 9999)
      message(FATAL_ERROR "${file}: fallback_rank must be an integer from 0 to 9999")
    endif()
    if(json MATCHES "\\)imio_descriptor\"")
      message(FATAL_ERROR "${file}: must not contain the text )imio_descriptor\"")
    endif()
    imio_tristate_option(${option} "Build the ${name} plugin (${summary})")
    # The ways to get the plugin's backend, for the "not found" messages.
    string(JSON feature ERROR_VARIABLE error GET "${json}" packages vcpkg_feature)
    if(error)
      set(feature "")
    endif()
    string(JSON debian ERROR_VARIABLE error GET "${json}" packages debian)
    set(debian_list "")
    if(NOT error)
      string(JSON count LENGTH "${debian}")
      if(count GREATER 0)
        math(EXPR last "${count} - 1")
        foreach(i RANGE ${last})
          string(JSON package GET "${debian}" ${i})
          list(APPEND debian_list ${package})
        endforeach()
      endif()
    endif()
    set(IMIO_PLUGIN_${name}_VCPKG_FEATURE "${feature}" PARENT_SCOPE)
    set(IMIO_PLUGIN_${name}_DEBIAN "${debian_list}" PARENT_SCOPE)
    set(IMIO_PLUGIN_${name}_OPTION "${option}" PARENT_SCOPE)
    set(IMIO_PLUGIN_${name}_DESCRIPTOR "${file}" PARENT_SCOPE)
    string(LENGTH "${fallback_rank}" digits)
    math(EXPR pad "4 - ${digits}")
    string(REPEAT "0" ${pad} zeros)
    list(APPEND ranked "${zeros}${fallback_rank}:${name}")
  endforeach()
  list(SORT ranked)
  set(planned "")
  foreach(entry IN LISTS ranked)
    string(REGEX REPLACE "^[0-9]+:" "" name "${entry}")
    list(APPEND planned ${name})
  endforeach()
  set(IMIO_PLANNED_PLUGINS "${planned}" PARENT_SCOPE)
endfunction()

imio_discover_plugins()
set_property(GLOBAL PROPERTY IMIO_ENABLED_PLUGINS "")
set_property(GLOBAL PROPERTY IMIO_FIND_DEPENDENCIES "")
set_property(GLOBAL PROPERTY IMIO_PLUGIN_PUBLIC_HEADERS "")
set_property(GLOBAL PROPERTY IMIO_PLUGIN_INCLUDE_DIRS "")
set_property(GLOBAL PROPERTY IMIO_PLUGIN_MODULE_TARGETS "")

# imio_find_pkg_config(<prefix> <modules>...): a backend found through
# pkg-config, as the imported target PkgConfig::<prefix> (GLOBAL: imio links
# it from the top-level directory); sets <prefix>_FOUND. Hand the same
# <prefix> <modules> to imio_add_plugin(... PKG_CONFIG ...). An imported
# target rather than the modules' library paths: a static imio's exported
# link interface then names PkgConfig::<prefix>, which its imioConfig.cmake
# recreates on the consumer's machine, instead of this machine's paths.
macro(imio_find_pkg_config prefix)
  find_package(PkgConfig QUIET)
  set(${prefix}_FOUND FALSE)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${ARGN})
  endif()
endmacro()

# imio_add_plugin(<name>
#   SOURCES <files>...                 the plugin's sources
#   [DEPENDS <targets>...]             backend targets (linked into imio, link-only)
#   [REQUIRES <found-vars>...]         variables that must be true (e.g. PNG_FOUND)
#   [FIND_DEPENDENCY "<args>"...]      find_dependency() calls for static consumers
#   [PKG_CONFIG <prefix> <modules>...] backends found by imio_find_pkg_config(<prefix> ...):
#                                      links PkgConfig::<prefix>; a static imio's
#                                      imioConfig.cmake recreates that target and its
#                                      imio.pc requires the modules
#   [PUBLIC_HEADERS <files>...]        the plugin's public header(s) for backend-specific
#                                      extras, in its folder's include/imio/plugins/ (named
#                                      relative to it): <imio/plugins/<name>.hpp> for the
#                                      build tree, installed only when the plugin is built
#   [HANDLE_SOURCES <files>...])       with PUBLIC_HEADERS: the source defining the handle
#                                      class's key function (its destructor), so its vtable
#                                      and typeinfo live in libimio also when the plugin is a
#                                      module (plugin_as<T>() links against libimio only)
#
# With IMIO_PLUGIN_MODULES=ON the plugin's objects (but HANDLE_SOURCES) and
# its backends go into the loadable module imio_<name> (target
# imio_module_<name>), linked against the shared libimio, put in the plugin
# folder beside libimio (IMIO_PLUGIN_MODULE_SUBDIR, as installed) and loaded
# by the registry on first need; otherwise into libimio itself.
function(imio_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;REQUIRES;FIND_DEPENDENCY;PKG_CONFIG;PUBLIC_HEADERS;HANDLE_SOURCES" ${ARGN})
  if(ARG_PKG_CONFIG)
    list(POP_FRONT ARG_PKG_CONFIG pc_prefix)
    list(APPEND ARG_REQUIRES ${pc_prefix}_FOUND)
    if(${pc_prefix}_FOUND)
      list(APPEND ARG_DEPENDS PkgConfig::${pc_prefix})
    endif()
  endif()
  string(TOUPPER "${name}" upper)
  set(missing "")
  foreach(var IN LISTS ARG_REQUIRES)
    if(NOT ${var})
      list(APPEND missing ${var})
    endif()
  endforeach()
  if(missing)
    if(IMIO_WITH_${upper} STREQUAL "ON")
      # Say how to get the backend on each way of installing imio.
      set(ways "")
      if(IMIO_PLUGIN_${name}_VCPKG_FEATURE)
        string(APPEND ways " With vcpkg: the feature imio[${IMIO_PLUGIN_${name}_VCPKG_FEATURE}].")
      endif()
      if(IMIO_PLUGIN_${name}_DEBIAN)
        list(JOIN IMIO_PLUGIN_${name}_DEBIAN " " packages)
        string(APPEND ways " On Debian/Ubuntu: apt-get install ${packages}.")
      endif()
      message(FATAL_ERROR "IMIO_WITH_${upper}=ON but the ${name} plugin's dependencies were not found "
                          "(${missing}).${ways} Or configure with -DIMIO_WITH_${upper}=OFF.")
    endif()
    message(STATUS "imio: plugin ${name} disabled: dependencies not found (${missing})")
    return()
  endif()

  set(target imio_plugin_${name})
  if(IMIO_PLUGIN_MODULES)
    add_library(${target} OBJECT ${ARG_SOURCES})
    list(TRANSFORM ARG_HANDLE_SOURCES PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
    target_sources(imio PRIVATE ${ARG_HANDLE_SOURCES})
    # They include the plugin's public header; the rest of the core does not
    # see plugin folders (below).
    set_property(SOURCE ${ARG_HANDLE_SOURCES} TARGET_DIRECTORY imio APPEND
                 PROPERTY INCLUDE_DIRECTORIES "${CMAKE_CURRENT_SOURCE_DIR}/include")
  else()
    add_library(${target} OBJECT ${ARG_SOURCES} ${ARG_HANDLE_SOURCES})
  endif()
  target_link_libraries(${target} PRIVATE imio_plugin_api ${ARG_DEPENDS})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  imio_set_warnings(${target})
  imio_reuse_precompiled_headers(${target})
  if(IMIO_PLUGIN_MODULES)
    imio_add_plugin_module(${name} "${ARG_DEPENDS}")
  else()
    # The plugin's objects go into libimio and its backends into libimio's
    # link, but not the backends' include directories and definitions into
    # the core's compile lines: linked as an object library, the plugin
    # passes its PRIVATE backends on as link-only items. Otherwise turning a
    # plugin on recompiled every core source (the port replay's static
    # "all" set: 46 of them). BUILD_INTERFACE: the object library is not
    # exported; a static imio's consumers get the backends themselves.
    target_link_libraries(imio PRIVATE $<BUILD_INTERFACE:${target}>)
    foreach(dep IN LISTS ARG_DEPENDS)
      target_link_libraries(imio PRIVATE $<INSTALL_INTERFACE:${dep}>)
    endforeach()
  endif()
  set_property(GLOBAL APPEND PROPERTY IMIO_ENABLED_PLUGINS ${name})
  foreach(dep IN LISTS ARG_FIND_DEPENDENCY)
    set_property(GLOBAL APPEND PROPERTY IMIO_FIND_DEPENDENCIES "${dep}")
  endforeach()
  if(ARG_PKG_CONFIG)
    list(JOIN ARG_PKG_CONFIG " " modules)
    set_property(GLOBAL APPEND PROPERTY IMIO_PKG_CONFIG_DEPENDENCIES "${pc_prefix} ${modules}")
    set_property(GLOBAL APPEND PROPERTY IMIO_PKGCONFIG_REQUIRES_PRIVATE ${ARG_PKG_CONFIG})
  endif()
  foreach(header IN LISTS ARG_PUBLIC_HEADERS)
    set(path "${CMAKE_CURRENT_SOURCE_DIR}/include/imio/plugins/${header}")
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "imio_add_plugin(${name}): public header ${path} does not exist")
    endif()
    # Listed as a source so IDEs show it and edits rebuild dependants.
    target_sources(${target} PRIVATE "${path}")
    set_property(GLOBAL APPEND PROPERTY IMIO_PLUGIN_PUBLIC_HEADERS "${path}")
  endforeach()
  if(ARG_PUBLIC_HEADERS)
    # INTERFACE, not PUBLIC: what links imio in the build tree (tests, the
    # CLI, examples, embedding projects) finds <imio/plugins/NAME.hpp>, while
    # the core's own compile lines stay the same whichever plugins are on, so
    # turning a plugin on or off rebuilds that plugin, not the whole core.
    target_include_directories(imio INTERFACE $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    set_property(GLOBAL APPEND PROPERTY IMIO_PLUGIN_INCLUDE_DIRS "${CMAKE_CURRENT_SOURCE_DIR}/include")
  endif()
endfunction()

# imio_add_plugin_module(<name> <depends>): the loadable module imio_<name>
# of a plugin (IMIO_PLUGIN_MODULES=ON): its objects, its backends, and an
# entry point the registry finds with dlsym: extern "C"
# imio_<name>_plugin_spec(PluginSpec*), which hands over the plugin's code
# (sniff, factory, backend), and imio_<name>_plugin_version(), the imio
# version the module was built for.
function(imio_add_plugin_module name depends)
  set(module imio_module_${name})
  set(entry "${PROJECT_BINARY_DIR}/generated/module_${name}.cpp")
  file(CONFIGURE OUTPUT "${entry}" CONTENT [=[
// Generated by CMake (cmake/ImioPlugins.cmake): the entry points of the
// @name@ plugin's module, found by the registry with dlsym. Do not edit.
#include <imio/plugin.hpp>
#include <imio/version.hpp>

namespace imio::builtin {
PluginSpec @name@_plugin_spec();
}  // namespace imio::builtin

extern "C" {
__attribute__((visibility("default"))) const char* imio_@name@_plugin_version();
__attribute__((visibility("default"))) void imio_@name@_plugin_spec(imio::PluginSpec* spec);
}

const char* imio_@name@_plugin_version() { return imio::version_string; }

void imio_@name@_plugin_spec(imio::PluginSpec* spec) { *spec = imio::builtin::@name@_plugin_spec(); }
]=] @ONLY)
  add_library(${module} MODULE $<TARGET_OBJECTS:imio_plugin_${name}> "${entry}")
  target_link_libraries(${module} PRIVATE imio imio_plugin_api ${depends})
  set_target_properties(${module} PROPERTIES
    PREFIX ""
    OUTPUT_NAME imio_${name}
    LIBRARY_OUTPUT_DIRECTORY "$<TARGET_FILE_DIR:imio>/${IMIO_PLUGIN_MODULE_SUBDIR}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(NOT APPLE)
    # Every symbol the plugin uses comes from its backends or from what
    # libimio exports: a missing one is a link error here, not a dlopen error.
    target_link_options(${module} PRIVATE LINKER:--no-undefined)
  endif()
  imio_set_warnings(${module})
  set_property(GLOBAL APPEND PROPERTY IMIO_PLUGIN_MODULE_TARGETS ${module})
endfunction()

# Generates the table of plugin folders compiled into imio: every folder's
# descriptor, with its code for the plugins this build includes.
function(imio_finish_plugins)
  get_property(enabled GLOBAL PROPERTY IMIO_ENABLED_PLUGINS)
  set(IMIO_BUILTIN_DECLARATIONS "")
  set(IMIO_BUILTIN_TABLE "")
  foreach(name IN LISTS IMIO_PLANNED_PLUGINS)
    file(READ "${IMIO_PLUGIN_${name}_DESCRIPTOR}" json)
    if(name IN_LIST enabled AND IMIO_PLUGIN_MODULES)
      set(code "nullptr, &load_plugin_module")
    elseif(name IN_LIST enabled)
      string(APPEND IMIO_BUILTIN_DECLARATIONS "PluginSpec ${name}_plugin_spec();\n")
      set(code "&builtin::${name}_plugin_spec, nullptr")
    else()
      set(code "nullptr, nullptr")
    endif()
    string(APPEND IMIO_BUILTIN_TABLE "      {R\"imio_descriptor(${json})imio_descriptor\", ${code}},\n")
  endforeach()
  file(READ "${PROJECT_SOURCE_DIR}/cmake/builtin_plugins.cpp.in" template)
  string(CONFIGURE "${template}" generated @ONLY)
  # Written only when it changes: a re-configure rebuilds nothing.
  set(out "${PROJECT_BINARY_DIR}/generated/builtin_plugins.cpp")
  set(previous "")
  if(EXISTS "${out}")
    file(READ "${out}" previous)
  endif()
  if(NOT previous STREQUAL generated)
    file(WRITE "${out}" "${generated}")
  endif()
  target_sources(imio PRIVATE "${out}")
  set(IMIO_ENABLED_PLUGINS "${enabled}" PARENT_SCOPE)
endfunction()
